package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
)

// Every cdk-nag AwsSolutions finding we accept, with the reason. Anything not
// listed here fails synth.
var (
	publicDemoAPI = []*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-APIG4"), Reason: jsii.String("The predictor is a public, anonymous demo API called from a static site; it holds no user data, and stage throttling bounds abuse.")},
		{Id: jsii.String("AwsSolutions-COG4"), Reason: jsii.String("No user accounts exist to authorize with Cognito: the API is public by design (see APIG4).")},
	}
	// A preflight carries no credentials by the Fetch standard (a browser
	// strips them), so a method that required a token would fail every
	// preflight and the browser would report CORS: the sign-in's OPTIONS
	// methods are open, and only they.
	openPreflight = []*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-APIG4"), Reason: jsii.String("A CORS preflight (OPTIONS) never carries credentials (Fetch standard, CORS-preflight request): requiring a token would refuse every preflight. Every other method requires a signed-in user.")},
		{Id: jsii.String("AwsSolutions-COG4"), Reason: jsii.String("A CORS preflight (OPTIONS) never carries a token, so it cannot use the Cognito authorizer that every other method requires (see APIG4).")},
	}
	// The API's description, which a front end's type generator reads
	// before anyone signs in.
	openDocument = []*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-APIG4"), Reason: jsii.String("GET /openapi.json is the API's public description (no user data), which type generators read without a token; every other method requires a signed-in user.")},
		{Id: jsii.String("AwsSolutions-COG4"), Reason: jsii.String("GET /openapi.json describes the API to clients before they sign in; it names the Cognito issuer that every other method's authorizer requires (see APIG4).")},
	}
	noWAF        = &cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-APIG3"), Reason: jsii.String("WAF is not attached by default (a web ACL costs more than the whole demo); stage throttling limits request rates. Attach one for high-traffic use.")}
	xrayWrites   = &cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-IAM5"), AppliesTo: &[]any{"Resource::*"}, Reason: jsii.String("Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which have no resource-level permissions: AWS documents them on *.")}
	apiLogsRole  = &cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-IAM4"), Reason: jsii.String("AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for API Gateway's account logging role; it only writes logs.")}
	distribution = []*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-CFR1"), Reason: jsii.String("A public demo with no legal reason to restrict countries.")},
		{Id: jsii.String("AwsSolutions-CFR2"), Reason: jsii.String("Static files behind CloudFront caching; WAF costs more than the demo (see APIG3).")},
	}
	// Only without a custom domain: with one, the distribution has its own
	// certificate and TLSv1.2_2021, and CFR4 passes.
	defaultCertificate      = &cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-CFR4"), Reason: jsii.String("No custom domain is configured (siteDomain in cdk.json), so CloudFront serves its *.cloudfront.net certificate, whose TLS policy CloudFront fixes; set siteDomain for TLSv1.2_2021.")}
	bucketDeploymentRuntime = &cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-L1"), Reason: jsii.String("CDK pins the BucketDeployment handler's runtime; it moves with CDK upgrades.")}
)

func suppressNagFindings(env config.Environment, site *SiteStack, api *ApiStack) {
	if api.SignIn == nil {
		suppress(api.Api.Root(), true, publicDemoAPI...)
	} else {
		if !env.Production {
			suppress(api.SignIn.Pool, true, &cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-COG8"),
				Reason: jsii.String("Outside production the user pool is on the Essentials plan: threat protection (the Plus plan) is paid per user, and production has it.")})
		}
		for _, m := range *api.Api.Methods() {
			if *m.HttpMethod() == "OPTIONS" {
				suppress(m, false, openPreflight...)
			}
		}
		suppress(api.Document, false, openDocument...)
	}
	suppress(api.Api.DeploymentStage(), false, noWAF)
	suppress(api.Function.Role(), true, xrayWrites)
	suppress(site.Distribution, true, distribution...)
	if env.SiteDomain == nil {
		suppress(site.Distribution, true, defaultCertificate)
	}
	suppress(api.SiteContentRole, true, siteContentRole(api.Stack, env.Qualifier)...)
	suppress(api.Rollout.Group.Role(), true, codeDeployRole(api.Stack, api.Rollout.Hook)...)
	// BucketDeployment's handler is a singleton child of the stack whose id
	// carries a hash; find it by prefix rather than by a brittle path.
	for _, child := range *api.Node().Children() {
		if strings.HasPrefix(*child.Node().Id(), "Custom::CDKBucketDeployment") {
			suppress(child, true, bucketDeploymentRuntime)
		}
	}
}

func suppress(c constructs.IConstruct, children bool, s ...*cdknag.NagPackSuppression) {
	cdknag.NagSuppressions_AddResourceSuppressions(c, &s, jsii.Bool(children))
}

// codeDeployRole are the findings on the deployment group's service role:
// AWS's policy for CodeDeploy on Lambda, and invoking the smoke test.
func codeDeployRole(stack awscdk.Stack, hook awslambda.Function) []*cdknag.NagPackSuppression {
	hookARN := *stack.GetLogicalId(hook.Node().DefaultChild().(awscdk.CfnElement))
	return []*cdknag.NagPackSuppression{
		{
			Id:        jsii.String("AwsSolutions-IAM4"),
			AppliesTo: &[]any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited"},
			Reason:    jsii.String("CDK's LambdaDeploymentGroup gives CodeDeploy AWS's limited policy for Lambda: it moves and reads aliases, reads alarms, and invokes only functions named CodeDeployHook_* (the smoke test is granted by its ARN instead)."),
		},
		{
			Id:        jsii.String("AwsSolutions-IAM5"),
			AppliesTo: &[]any{"Resource::<" + hookARN + ".Arn>:*"},
			Reason:    jsii.String("CodeDeploy invokes the smoke test function; CDK grants any qualifier (version, alias) of that one function."),
		},
	}
}

// siteContentRole are the findings on the role we give CDK's BucketDeployment
// handler (api.go). They name the stack's own asset bucket exactly: with the
// caller's account known (the CLI sets CDK_DEFAULT_ACCOUNT when it has
// credentials) its ARN holds the twelve digits, without it the token.
func siteContentRole(stack awscdk.Stack, qualifier string) []*cdknag.NagPackSuppression {
	return []*cdknag.NagPackSuppression{
		{
			Id: jsii.String("AwsSolutions-IAM5"),
			AppliesTo: &[]any{
				"Action::s3:Abort*", "Action::s3:DeleteObject*", "Action::s3:GetBucket*", "Action::s3:GetObject*", "Action::s3:List*",
				&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<Content[0-9A-F]+\.Arn>\/\*$/`)},
				"Resource::" + assetBucketARN(stack, qualifier) + "/*",
			},
			Reason: jsii.String("CDK's BucketDeployment copies the site into its bucket from the CDK asset bucket: object-level s3 actions on the objects of those two buckets, whose keys are unknown at synth."),
		},
		{
			Id:        jsii.String("AwsSolutions-IAM5"),
			AppliesTo: &[]any{"Resource::*"},
			Reason:    jsii.String("CDK's BucketDeployment allows cloudfront:CreateInvalidation and GetInvalidation on *; an explicit Deny on every other distribution (NotResource) in the same policy leaves it this site's distribution only."),
		},
	}
}

// assetBucketARN is the ARN of the asset bucket of the bootstrap named
// qualifier that stack publishes to, as cdk-nag writes it in a finding: a
// value known at synth as it is, a pseudo-parameter as <AWS::Name>.
func assetBucketARN(stack awscdk.Stack, qualifier string) string {
	known := func(v *string, pseudo string) string {
		if *awscdk.Token_IsUnresolved(v) {
			return "<AWS::" + pseudo + ">"
		}
		return *v
	}
	return fmt.Sprintf("arn:%s:s3:::cdk-%s-assets-%s-%s", known(stack.Partition(), "Partition"),
		qualifier, known(stack.Account(), "AccountId"), known(stack.Region(), "Region"))
}
