// Package bootstrap makes CDK's bootstrap template one environment's own.
// CDK's template gives the deploy role CloudFormation on every stack of the
// account and the execution role AdministratorAccess, so with environments
// sharing an account, any environment's deploy could change another's. The
// template Template returns lets the deploy role change only the
// environment's stacks (and no stack refactoring, which this app never
// does), and creates the execution role's policy: the services this app
// deploys, on the environment's resources where their names are known
// (Policy), and the environment's own permissions boundary, which every
// role it creates and its execution role carry (BoundaryPolicy). The rest
// of the template is CDK's, so `cdk bootstrap` keeps creating what the CLI
// expects.
package bootstrap

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
)

// Variant names the template's provenance: the CLI refuses to replace a
// bootstrap stack of another variant (CDK's own, say) without --force.
const Variant = "iris-cors-cdk: deploy role limited to one environment's stacks, least-privilege execution policy"

// ToolkitStack is the CloudFormation stack of the environment's bootstrap:
// one per qualifier, beside CDK's own CDKToolkit.
func ToolkitStack(env config.Environment) string { return "CDKToolkit-" + env.Qualifier }

// PolicyName is the managed policy of the environment's execution role; IAM
// names are global, so it carries the region.
func PolicyName(env config.Environment) string {
	return "cdk-" + env.Qualifier + "-cfn-exec-policy-" + env.Region
}

// Boundary is the permissions boundary of the roles an environment creates
// and of its execution role: BoundaryPolicy, which the template creates
// (Template) under this name in place of CDK's example boundary; CDK's
// PermissionsBoundary_FromName takes it as it is, the stack's qualifier for
// the placeholder. CDK's template puts the account and region in the name
// as well, which a stack synthesized without an account cannot name; a
// qualifier is one environment's, in one region.
const Boundary = "cdk-${Qualifier}-permissions-boundary"

// cdkBoundary is the name CDK's template gives its example boundary.
const cdkBoundary = "cdk-${Qualifier}-permissions-boundary-${AWS::AccountId}-${AWS::Region}"

// BoundaryName is Boundary as the CLI is told it
// (--custom-permissions-boundary).
func BoundaryName(env config.Environment) string {
	return strings.ReplaceAll(Boundary, "${Qualifier}", env.Qualifier)
}

// Partition is the AWS partition of a region.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// PolicyARN is PolicyName's ARN in account: the CLI hands it to the template
// (--cloudformation-execution-policies), which creates the policy before the
// role that uses it.
func PolicyARN(env config.Environment, account string) string {
	return fmt.Sprintf("arn:%s:iam::%s:policy/%s", Partition(env.Region), account, PolicyName(env))
}

type (
	object    = map[string]any
	statement = map[string]any
)

// Template returns cdkTemplate (what `cdk bootstrap --show-template` prints,
// YAML or JSON) made env's, as JSON. It fails, naming what it missed, when
// CDK's template no longer has the parts it changes: a newer CLI then needs
// this package looked at, not a bootstrap that silently keeps CDK's grants.
func Template(cdkTemplate []byte, env config.Environment) ([]byte, error) {
	var t object
	if err := yaml.Unmarshal(cdkTemplate, &t); err != nil {
		return nil, fmt.Errorf("CDK's bootstrap template: %w", err)
	}
	params, _ := t["Parameters"].(object)
	resources, _ := t["Resources"].(object)
	variant, _ := params["BootstrapVariant"].(object)
	execRole, _ := resources["CloudFormationExecutionRole"].(object)
	boundary, _ := resources["CdkBoostrapPermissionsBoundaryPolicy"].(object)
	boundaryProps, _ := boundary["Properties"].(object)
	switch {
	case variant == nil:
		return nil, errors.New("CDK's bootstrap template has no BootstrapVariant parameter: see internal/bootstrap")
	case execRole == nil:
		return nil, errors.New("CDK's bootstrap template has no CloudFormationExecutionRole: see internal/bootstrap")
	case !reflect.DeepEqual(boundaryProps["ManagedPolicyName"], sub(cdkBoundary)):
		return nil, fmt.Errorf("CDK's bootstrap template names its example boundary %v, not %s: see internal/bootstrap", boundaryProps["ManagedPolicyName"], cdkBoundary)
	}
	// The environment's own boundary (BoundaryPolicy) in place of CDK's
	// example, under the name the Stage and the CLI give it.
	boundaryProps["ManagedPolicyName"] = sub(Boundary)
	boundaryProps["Description"] = "What any role of environment " + env.Name + " can ever do: nothing of another environment's"
	boundaryProps["PolicyDocument"] = object{"Version": "2012-10-17", "Statement": BoundaryPolicy(env)}
	variant["Default"] = Variant
	// The template always creates the boundary itself (the CLI's
	// --example-permissions-boundary would create CDK's, outside the
	// stack): the execution role depends on it, and the Stage names it.
	delete(boundary, "Condition")
	delete(params, "UseExamplePermissionsBoundary")
	if conditions, ok := t["Conditions"].(object); ok {
		delete(conditions, "ShouldCreatePermissionsBoundary")
	}
	resources["CloudFormationExecutionPolicy"] = object{
		"Type": "AWS::IAM::ManagedPolicy",
		"Properties": object{
			"ManagedPolicyName": sub("cdk-${Qualifier}-cfn-exec-policy-${AWS::Region}"),
			"Description":       "What CloudFormation may do for environment " + env.Name + ": the services its stacks use, on its resources where their names are known",
			"PolicyDocument":    object{"Version": "2012-10-17", "Statement": Policy(env)},
		},
	}
	// The role names its policy and boundary by the ARNs the CLI passes,
	// which CloudFormation cannot see are these resources'.
	execRole["DependsOn"] = []any{"CloudFormationExecutionPolicy", "CdkBoostrapPermissionsBoundaryPolicy"}
	if err := limitDeployRole(resources, env); err != nil {
		return nil, err
	}
	return json.MarshalIndent(t, "", "  ")
}

// limitDeployRole points the deploy role's CloudFormation statements at env's
// stacks and drops stack refactoring.
func limitDeployRole(resources object, env config.Environment) error {
	role, _ := resources["DeploymentActionRole"].(object)
	props, _ := role["Properties"].(object)
	policies, _ := props["Policies"].([]any)
	if len(policies) != 1 {
		return errors.New("CDK's bootstrap template: the deploy role (DeploymentActionRole) has no single inline policy: see internal/bootstrap")
	}
	doc, _ := policies[0].(object)["PolicyDocument"].(object)
	statements, _ := doc["Statement"].([]any)
	var kept []any
	found := map[string]bool{}
	for _, s := range statements {
		st, _ := s.(statement)
		sid, _ := st["Sid"].(string)
		found[sid] = true
		switch sid {
		case "Refactor":
			continue
		case "DeployPermissions":
			st["Resource"] = stackARNs(env)
		case "CliPermissions":
			// sts:GetCallerIdentity has no resource; the stack actions get
			// the environment's stacks.
			var stackActions []any
			for _, a := range actions(st) {
				if strings.HasPrefix(a, "cloudformation:") {
					stackActions = append(stackActions, a)
				}
			}
			st["Action"] = stackActions
			st["Resource"] = stackARNs(env)
			kept = append(kept, statement{"Sid": "CliIdentity", "Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"})
		}
		kept = append(kept, st)
	}
	for _, sid := range []string{"DeployPermissions", "CliPermissions", "Refactor"} {
		if !found[sid] {
			return fmt.Errorf("CDK's bootstrap template: the deploy role has no %s statement: see internal/bootstrap", sid)
		}
	}
	if err := noStackWildcard(kept); err != nil {
		return err
	}
	doc["Statement"] = kept
	return nil
}

// noStackWildcard fails when a statement still allows a CloudFormation action
// on every stack: one CDK added since.
func noStackWildcard(statements []any) error {
	for _, s := range statements {
		st := s.(statement)
		if st["Resource"] != "*" {
			continue
		}
		for _, a := range actions(st) {
			if strings.HasPrefix(a, "cloudformation:") {
				return fmt.Errorf("CDK's bootstrap template: the deploy role's statement %v allows %s on every stack: see internal/bootstrap", st["Sid"], a)
			}
		}
	}
	return nil
}

// actions are a statement's actions, written as one or a list.
func actions(st statement) []string {
	switch a := st["Action"].(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			if x, ok := x.(string); ok {
				out = append(out, x)
			}
		}
		return out
	}
	return nil
}

// stackARNs are env's CloudFormation stacks, whatever ID CloudFormation gave
// them.
func stackARNs(env config.Environment) []any {
	var arns []any
	for _, name := range env.StackNames() {
		arns = append(arns, sub("arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/"+name+"/*"))
	}
	return arns
}

func sub(s string) object { return object{"Fn::Sub": s} }

// resourceNames are the ARNs of env's resources of one kind, whose names
// CloudFormation makes from the stack's name (lower case for buckets): the
// pattern is format with each stack name in it.
func resourceNames(env config.Environment, format string, lower bool) []any {
	var arns []any
	for _, name := range env.StackNames() {
		if lower {
			name = strings.ToLower(name)
		}
		arns = append(arns, sub(fmt.Sprintf(format, name)))
	}
	return arns
}

// Policy is the execution role's policy for env: the services its stacks
// deploy (a test holds them to the resource types of its templates), on env's resources
// where CloudFormation names them from the stack (functions, roles, buckets,
// log groups). CloudFront and API Gateway resources get IDs at creation, so
// their actions cannot name env's; docs/security.md says what that leaves.
func Policy(env config.Environment) []any {
	policy := []any{
		statement{"Sid": "CloudFront", "Effect": "Allow", "Resource": "*", "Action": []any{
			"cloudfront:CreateDistribution", "cloudfront:GetDistribution",
			"cloudfront:GetDistributionConfig", "cloudfront:UpdateDistribution", "cloudfront:DeleteDistribution",
			"cloudfront:TagResource", "cloudfront:UntagResource", "cloudfront:ListTagsForResource",
			"cloudfront:CreateOriginAccessControl", "cloudfront:GetOriginAccessControl", "cloudfront:GetOriginAccessControlConfig",
			"cloudfront:UpdateOriginAccessControl", "cloudfront:DeleteOriginAccessControl",
			"cloudfront:CreateResponseHeadersPolicy", "cloudfront:GetResponseHeadersPolicy", "cloudfront:GetResponseHeadersPolicyConfig",
			"cloudfront:UpdateResponseHeadersPolicy", "cloudfront:DeleteResponseHeadersPolicy",
		}},
		// Not /account: API Gateway's logging role is every environment's
		// (the account stage, deployed by an administrator).
		statement{"Sid": "ApiGateway", "Effect": "Allow",
			"Action": []any{"apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE", "apigateway:UpdateRestApiPolicy"},
			"Resource": []any{
				sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis"), sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/*"),
				sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/domainnames"), sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/domainnames/*"),
				sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/tags/*"),
			}},
		// Custom resources (the site's deployment, dev's bucket emptying)
		// are functions CloudFormation invokes.
		statement{"Sid": "Functions", "Effect": "Allow", "Action": "lambda:*",
			"Resource": resourceNames(env, "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:%s-*", false)},
		statement{"Sid": "Layers", "Effect": "Allow",
			"Action":   []any{"lambda:PublishLayerVersion", "lambda:GetLayerVersion", "lambda:DeleteLayerVersion"},
			"Resource": sub("arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:layer:*")},
		statement{"Sid": "Logs", "Effect": "Allow", "Action": "logs:*",
			"Resource": resourceNames(env, "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:%s-*", false)},
		statement{"Sid": "DescribeLogs", "Effect": "Allow", "Action": "logs:DescribeLogGroups",
			"Resource": sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*")},
		statement{"Sid": "Buckets", "Effect": "Allow", "Action": "s3:*",
			"Resource": resourceNames(env, "arn:${AWS::Partition}:s3:::%s-*", true)},
		// Lambda reads a function's code with the caller's permissions.
		statement{"Sid": "Assets", "Effect": "Allow", "Action": "s3:GetObject", "Resource": sub("${StagingBucket.Arn}/*")},
		// Roles only with the environment's boundary (which denies it
		// otherwise as well), passed to Lambda only, with the one managed
		// policy CDK's bucket-emptying provider attaches.
		statement{"Sid": "CreateBoundedRoles", "Effect": "Allow",
			"Action":    []any{"iam:CreateRole", "iam:PutRolePermissionsBoundary"},
			"Resource":  resourceNames(env, "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/%s-*", false),
			"Condition": object{"StringEquals": object{"iam:PermissionsBoundary": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/" + Boundary)}}},
		statement{"Sid": "Roles", "Effect": "Allow",
			"Action": []any{"iam:GetRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
				"iam:TagRole", "iam:UntagRole", "iam:ListRoleTags", "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy",
				"iam:ListRolePolicies", "iam:ListAttachedRolePolicies"},
			"Resource": resourceNames(env, "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/%s-*", false)},
		// The managed policies CDK's constructs attach: the bucket-emptying
		// provider's, CodeDeploy's.
		statement{"Sid": "ManagedPolicies", "Effect": "Allow",
			"Action":   []any{"iam:AttachRolePolicy", "iam:DetachRolePolicy"},
			"Resource": resourceNames(env, "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/%s-*", false),
			"Condition": object{"ArnEquals": object{"iam:PolicyARN": []any{
				sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
				sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited"),
			}}}},
		statement{"Sid": "PassRoles", "Effect": "Allow", "Action": "iam:PassRole",
			"Resource":  resourceNames(env, "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/%s-*", false),
			"Condition": object{"StringEquals": object{"iam:PassedToService": []any{"lambda.amazonaws.com", "codedeploy.amazonaws.com"}}}},
		// A new version's rollout: CloudFormation asks CodeDeploy to move
		// the alias (the alias's update policy).
		statement{"Sid": "Rollout", "Effect": "Allow", "Action": "codedeploy:*",
			"Resource": append(resourceNames(env, "arn:${AWS::Partition}:codedeploy:${AWS::Region}:${AWS::AccountId}:application:%s-*", false),
				resourceNames(env, "arn:${AWS::Partition}:codedeploy:${AWS::Region}:${AWS::AccountId}:deploymentgroup:%s-*", false)...)},
		statement{"Sid": "RolloutConfigs", "Effect": "Allow", "Action": "codedeploy:GetDeploymentConfig",
			"Resource": sub("arn:${AWS::Partition}:codedeploy:${AWS::Region}:${AWS::AccountId}:deploymentconfig:*")},
		statement{"Sid": "Alarms", "Effect": "Allow",
			"Action":   []any{"cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource"},
			"Resource": resourceNames(env, "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:%s-*", false)},
		statement{"Sid": "DescribeAlarms", "Effect": "Allow", "Action": "cloudwatch:DescribeAlarms",
			"Resource": sub("arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*")},
		statement{"Sid": "Dashboards", "Effect": "Allow",
			"Action":   []any{"cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"},
			"Resource": resourceNames(env, "arn:${AWS::Partition}:cloudwatch::${AWS::AccountId}:dashboard/%s-*", false)},
		statement{"Sid": "AlarmTopic", "Effect": "Allow", "Action": "sns:*",
			"Resource": resourceNames(env, "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:%s-*", false)},
	}
	policy = append(policy, domainStatements(env)...)
	return append(policy, signInStatements(env)...)
}

// signInStatements manage the environment's Cognito user pool, with
// config.AuthCognito. Pools get IDs at creation, so the environment's pool
// is the one its tag (TagKey) names: created with it, changed only with it;
// and the two calls IAM cannot scope to a pool at all.
func signInStatements(env config.Environment) []any {
	if env.Auth != config.AuthCognito {
		return nil
	}
	return []any{
		statement{"Sid": "SignInPools", "Effect": "Allow", "Action": "cognito-idp:*",
			"Resource":  sub("arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/*"),
			"Condition": object{"StringEquals": object{"aws:ResourceTag/" + TagKey: env.Name}}},
		statement{"Sid": "SignInNewPool", "Effect": "Allow", "Resource": "*", "Action": "cognito-idp:CreateUserPool",
			"Condition": object{"StringEquals": object{"aws:RequestTag/" + TagKey: env.Name}}},
		statement{"Sid": "SignInUnscoped", "Effect": "Allow", "Resource": "*",
			"Action": []any{"cognito-idp:DescribeUserPoolDomain", "cognito-idp:ListUserPools"}},
	}
}

// domainStatements let the environment write its custom domains' alias
// records into their hosted zones, and read their certificates: the zones
// and certificates cdk.json names, no other.
func domainStatements(env config.Environment) []any {
	var zones, certificates []string
	for _, d := range []*config.Domain{env.SiteDomain, env.APIDomain} {
		if d == nil {
			continue
		}
		certificates = append(certificates, d.CertificateArn)
		if d.HostedZoneID != "" {
			zones = append(zones, "arn:${AWS::Partition}:route53:::hostedzone/"+d.HostedZoneID)
		}
	}
	var out []any
	if len(certificates) > 0 {
		out = append(out, statement{"Sid": "Certificates", "Effect": "Allow", "Action": "acm:DescribeCertificate", "Resource": distinct(certificates, func(s string) any { return s })})
	}
	if len(zones) > 0 {
		out = append(out,
			statement{"Sid": "AliasRecords", "Effect": "Allow", "Action": []any{"route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets", "route53:GetHostedZone"}, "Resource": distinct(zones, func(s string) any { return sub(s) })},
			statement{"Sid": "RecordChanges", "Effect": "Allow", "Action": "route53:GetChange", "Resource": sub("arn:${AWS::Partition}:route53:::change/*")},
		)
	}
	return out
}

// distinct is each of ss once, in order, as f makes it.
func distinct(ss []string, f func(string) any) []any {
	var out []any
	for i, s := range ss {
		if !slices.Contains(ss[:i], s) {
			out = append(out, f(s))
		}
	}
	return out
}
