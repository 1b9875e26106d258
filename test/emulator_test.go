package test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/apigw"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
)

// The emulator is never silently less strict than API Gateway: templates
// that CDK synthesizes with a TOKEN authorizer, a Cognito-less REQUEST
// authorizer, IAM authorization and a required API key answer as API
// Gateway does to a request without credentials, and say so when they load.
func TestEmulatorRefusesWhatItCannotCheck(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("Protected"), nil)
	fn := awslambda.NewFunction(stack, jsii.String("Fn"), &awslambda.FunctionProps{
		Runtime: awslambda.Runtime_NODEJS_22_X(), Handler: jsii.String("index.handler"),
		Code: awslambda.Code_FromInline(jsii.String("exports.handler = async () => ({statusCode: 200, body: 'ok'})")),
	})
	api := awsapigateway.NewRestApi(stack, jsii.String("Api"), nil)
	integration := awsapigateway.NewLambdaIntegration(fn, nil)
	token := awsapigateway.NewTokenAuthorizer(stack, jsii.String("Token"), &awsapigateway.TokenAuthorizerProps{Handler: fn})
	request := awsapigateway.NewRequestAuthorizer(stack, jsii.String("Request"), &awsapigateway.RequestAuthorizerProps{
		Handler: fn, IdentitySources: &[]*string{awsapigateway.IdentitySource_Header(jsii.String("X-Token"))},
	})
	api.Root().AddResource(jsii.String("token"), nil).AddMethod(jsii.String("GET"), integration, &awsapigateway.MethodOptions{Authorizer: token})
	api.Root().AddResource(jsii.String("request"), nil).AddMethod(jsii.String("GET"), integration, &awsapigateway.MethodOptions{Authorizer: request})
	api.Root().AddResource(jsii.String("iam"), nil).AddMethod(jsii.String("GET"), integration, &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_IAM})
	api.Root().AddResource(jsii.String("key"), nil).AddMethod(jsii.String("GET"), integration, &awsapigateway.MethodOptions{ApiKeyRequired: jsii.Bool(true)})
	api.Root().AddResource(jsii.String("open"), nil).AddMethod(jsii.String("GET"), integration, nil)
	other := awsapigateway.NewRestApi(stack, jsii.String("Other"), nil)
	other.Root().AddMethod(jsii.String("GET"), awsapigateway.NewMockIntegration(nil), nil)

	doc, err := json.Marshal(*assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := cfn.Parse("Protected.template.json", doc)
	if err != nil {
		t.Fatal(err)
	}
	res := &cfn.Resolver{Templates: []*cfn.Template{tmpl}}
	if _, err := apigw.Load(tmpl, res, apigw.Options{}); err == nil || !strings.Contains(err.Error(), "defines 2 RestApis") {
		t.Fatalf("two RestApis without a choice: %v, want an error asking for one", err)
	}
	var apiID string
	for _, id := range tmpl.OfType("AWS::ApiGateway::RestApi") {
		if strings.HasPrefix(id, "Api") {
			apiID = id
		}
	}
	ran := 0
	fns := map[string]apigw.Invoker{}
	for _, id := range apigw.Functions(tmpl) {
		fns[id] = invokerFunc(func() { ran++ })
	}
	served, err := apigw.Load(tmpl, res, apigw.Options{RestApi: apiID, Functions: fns})
	if err != nil {
		t.Fatal(err)
	}
	if len(served.Refused) != 4 {
		t.Errorf("start-up notes %q, want one per protected method", served.Refused)
	}
	for path, want := range map[string]int{"token": 401, "request": 401, "iam": 403, "key": 403, "open": 200} {
		req := httptest.NewRequest("GET", "/prod/"+path, nil)
		req.Header.Set("Authorization", "Bearer looks-valid")
		req.Header.Set("X-Token", "looks-valid")
		req.Header.Set("X-Api-Key", "looks-valid")
		rec := httptest.NewRecorder()
		served.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("GET /%s: %d %s, want %d", path, rec.Code, rec.Body, want)
		}
	}
	if ran != 1 {
		t.Errorf("the function ran %d times, want once (for /open only)", ran)
	}
}

// invokerFunc answers 200 and counts.
type invokerFunc func()

func (f invokerFunc) Invoke(context.Context, []byte) ([]byte, error) {
	f()
	return []byte(`{"statusCode":200,"body":"ok"}`), nil
}
