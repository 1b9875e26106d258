package stacks

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/jsii-runtime-go"
)

// The production origin guard fails synth on a property it cannot read,
// instead of skipping it (it did): what it cannot read it cannot clear.
func TestTheProductionGuardFailsClosed(t *testing.T) {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Guarded"), nil)
	api := awsapigateway.NewCfnRestApi(stack, jsii.String("Api"), &awsapigateway.CfnRestApiProps{Name: jsii.String("api")})
	response := awsapigateway.NewCfnGatewayResponse(stack, jsii.String("Cors4XX"), &awsapigateway.CfnGatewayResponseProps{
		ResponseType: jsii.String("DEFAULT_4XX"), RestApiId: api.Ref(),
	})
	guard := &productionOriginGuard{env: "prod"}
	guard.check(response, "gateway response DEFAULT_4XX", func() {}) // no JSON
	guard.check(response, "gateway response DEFAULT_4XX", map[string]string{"gatewayresponse.header.Access-Control-Allow-Origin": "'https://shop.example'"})
	annotations := assertions.Annotations_FromStack(stack)
	errors := annotations.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("fails closed")))
	if len(*errors) != 1 {
		t.Errorf("%d errors saying the guard fails closed, want 1 (for the property it cannot read only)", len(*errors))
	}
}
