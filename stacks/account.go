package stacks

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
)

// Account is an AWS account and region some environments deploy to. Account
// is empty for the account of the caller's credentials (CDK_DEFAULT_ACCOUNT).
type Account struct{ ID, Region string }

// Accounts are the distinct accounts and regions of envs, in order.
func Accounts(envs []config.Environment) []Account {
	var out []Account
	for _, e := range envs {
		if a := (Account{e.Account, e.Region}); !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// StageName is the account's Stage: account-<region>, with the account ID
// in front of the region when cdk.json names one.
func (a Account) StageName() string {
	if a.ID == "" {
		return "account-" + a.Region
	}
	return "account-" + a.ID + "-" + a.Region
}

// AccountStack holds what API Gateway keeps once per account and region: the
// role it writes stage logs with (AWS::ApiGateway::Account). Every environment
// there logs through it, so no environment declares it: two would overwrite
// each other's setting, and destroying one would break the other's logging.
// `make bootstrap` deploys it, with the operator's credentials (no
// environment's deploy role may change what all share).
type AccountStack struct {
	awscdk.Stack
	Account  Account
	Settings awsapigateway.CfnAccount
}

// NewAccountStage builds a's Stage with its AccountStack.
func NewAccountStage(scope constructs.Construct, a Account) *AccountStack {
	stage := awscdk.NewStage(scope, jsii.String(a.StageName()), &awscdk.StageProps{Env: deployTo(a.ID, a.Region)})
	stack := awscdk.NewStack(stage, jsii.String("ApiGatewayLogging"), &awscdk.StackProps{
		Description: jsii.String("API Gateway's CloudWatch Logs role for this account and region, shared by every environment here"),
		Synthesizer: withOwnCredentials(),
	})
	role := awsiam.NewRole(stack, jsii.String("CloudWatchRole"), &awsiam.RoleProps{
		AssumedBy:       awsiam.NewServicePrincipal(jsii.String("apigateway.amazonaws.com"), nil),
		Description:     jsii.String("API Gateway writes the stage logs of this account and region with it"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AmazonAPIGatewayPushToCloudWatchLogs"))},
	})
	// Kept when the stack goes: the account setting would otherwise point at
	// a deleted role, and every stage's logging would fail.
	role.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN)
	settings := awsapigateway.NewCfnAccount(stack, jsii.String("Settings"), &awsapigateway.CfnAccountProps{CloudWatchRoleArn: role.RoleArn()})
	suppress(role, true, apiLogsRole)
	awscdk.Aspects_Of(stage).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return &AccountStack{Stack: stack, Account: a, Settings: settings}
}

// withOwnCredentials synthesizes a stack that the caller deploys with its own
// credentials and that needs no bootstrap: what an administrator deploys once
// for every environment (the account's settings, the CI roles), which no
// environment's bootstrap roles may touch. CDK's legacy synthesizer is the
// one that names no role (the bootstrapless one names the default
// qualifier's); such a stack has no assets and a template under 50 KB,
// which the CLI then hands CloudFormation directly.
func withOwnCredentials() awscdk.IStackSynthesizer {
	return awscdk.NewLegacyStackSynthesizer()
}
