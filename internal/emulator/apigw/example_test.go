package apigw_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/apigw"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
)

// echo is a Lambda function in-process: any apigw.Invoker serves, the
// emulator's own runs a binary under aws-lambda-rie.
type echo struct{}

func (echo) Invoke(_ context.Context, event []byte) ([]byte, error) {
	return []byte(`{"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "hello"}`), nil
}

// An API Gateway RestApi from its CloudFormation template: its resource
// tree and a Lambda proxy integration, answered as API Gateway would,
// including its own 403 for a path it does not have.
func ExampleLoad() {
	tmpl, err := cfn.Parse("api.template.json", []byte(`{"Resources": {
	  "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "hello"}},
	  "Hello": {"Type": "AWS::ApiGateway::Resource", "Properties": {"ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]}, "PathPart": "hello", "RestApiId": {"Ref": "Api"}}},
	  "HelloGet": {"Type": "AWS::ApiGateway::Method", "Properties": {"AuthorizationType": "NONE", "HttpMethod": "GET", "ResourceId": {"Ref": "Hello"}, "RestApiId": {"Ref": "Api"},
	    "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST",
	      "Uri": {"Fn::Join": ["", ["arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/", {"Fn::GetAtt": ["HelloFn", "Arn"]}, "/invocations"]]}}}},
	  "HelloFn": {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "bootstrap", "Runtime": "provided.al2023"}},
	  "Deployment": {"Type": "AWS::ApiGateway::Deployment", "DependsOn": ["HelloGet"], "Properties": {"RestApiId": {"Ref": "Api"}}},
	  "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {"StageName": "dev", "RestApiId": {"Ref": "Api"}, "DeploymentId": {"Ref": "Deployment"}}}}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	res := &cfn.Resolver{Templates: []*cfn.Template{tmpl}, Region: "eu-west-1"}
	api, err := apigw.Load(tmpl, res, apigw.Options{Functions: map[string]apigw.Invoker{"HelloFn": echo{}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(api.Paths())
	for _, path := range []string{"/dev/hello", "/dev/nowhere"} {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Println(path, rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// [GET /hello]
	// /dev/hello 200 hello
	// /dev/nowhere 403 {"message":"Missing Authentication Token"}
}
