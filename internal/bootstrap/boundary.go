package bootstrap

import (
	"fmt"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
)

// TagKey is the tag every resource of an environment carries (its Stage
// tags them), with the environment's name: what the boundary and the
// execution policy scope by where AWS names a resource by an ID of its own
// (CloudFront distributions, API Gateway APIs, Cognito user pools).
const TagKey = "environment"

// BoundaryPolicy is the permissions boundary of every role env creates, and
// of its execution role: the most any of them can ever be allowed, whatever
// inline policy a template gives it. CDK's example boundary allows every
// action and denies only IAM escalation, so where two environments share an
// account a dev template could create a bounded role allowed to assume
// prod's deploy role (which trusts the account) and run it as a custom
// resource. This one allows what CDK's does, but nothing across: no role
// to assume but the environment's own (never a cdk-* bootstrap role), no
// IAM writes outside its roles, and no Lambda, S3, logs, CodeDeploy, SNS or
// alarm action on another environment's resources (by name prefix), nor
// Cognito, CloudFront or API Gateway action on a resource another
// environment's tag marks (by tag: their names are IDs AWS makes). The
// isolation test (test/iam) evaluates it with an IAM policy simulator.
func BoundaryPolicy(env config.Environment) []any {
	roles := resourceNames(env, "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/%s-*", false)
	self := sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/" + Boundary)
	otherTag := object{
		"StringNotEquals": object{"aws:ResourceTag/" + TagKey: env.Name},
		"Null":            object{"aws:ResourceTag/" + TagKey: "false"},
	}
	buckets := append(resourceNames(env, "arn:${AWS::Partition}:s3:::%s-*", true),
		// Lambda reads a function's code, and the site's deployment its
		// files, from the environment's own bootstrap bucket.
		sub("arn:${AWS::Partition}:s3:::cdk-${Qualifier}-assets-${AWS::AccountId}-${AWS::Region}"),
		sub("arn:${AWS::Partition}:s3:::cdk-${Qualifier}-assets-${AWS::AccountId}-${AWS::Region}/*"))
	logGroups := append(resourceNames(env, "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:%s-*", false),
		resourceNames(env, "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/%s-*", false)...)
	return []any{
		// A boundary without an allow denies everything.
		statement{"Sid": "ExplicitAllowAll", "Effect": "Allow", "Action": "*", "Resource": "*"},
		// CDK's example boundary's three statements: roles and users are
		// created only with this boundary, it never changes, and nobody
		// sheds it.
		statement{"Sid": "DenyAccessIfRequiredPermBoundaryIsNotBeingApplied", "Effect": "Deny", "Resource": "*",
			"Action":    []any{"iam:CreateUser", "iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutUserPermissionsBoundary"},
			"Condition": object{"StringNotEquals": object{"iam:PermissionsBoundary": self}}},
		statement{"Sid": "DenyPermBoundaryIAMPolicyAlteration", "Effect": "Deny", "Resource": self,
			"Action": []any{"iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"}},
		statement{"Sid": "DenyRemovalOfPermBoundaryFromAnyUserOrRole", "Effect": "Deny", "Resource": "*",
			"Action": []any{"iam:DeleteUserPermissionsBoundary", "iam:DeleteRolePermissionsBoundary"}},
		// Other environments' roles, and every bootstrap role (prod's
		// deploy role trusts the whole account), are out of reach.
		statement{"Sid": "AssumeOwnRolesOnly", "Effect": "Deny", "NotResource": roles,
			"Action": []any{"sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"}},
		statement{"Sid": "IAMWritesOnOwnRolesOnly", "Effect": "Deny", "NotResource": roles, "Action": iamWrites},
		statement{"Sid": "OwnFunctionsOnly", "Effect": "Deny", "Action": lambdaActions,
			"NotResource": append(resourceNames(env, "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:%s-*", false),
				// Layers get names CloudFormation does not derive from
				// the stack; a function keeps a layer version it uses
				// even when the version is deleted.
				sub("arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:layer:*"))},
		statement{"Sid": "OwnBucketsOnly", "Effect": "Deny", "Action": "s3:*", "NotResource": buckets},
		statement{"Sid": "OwnLogsOnly", "Effect": "Deny", "Action": logsActions, "NotResource": logGroups},
		statement{"Sid": "OwnRolloutOnly", "Effect": "Deny", "Action": rolloutActions,
			"NotResource": append(append(resourceNames(env, "arn:${AWS::Partition}:codedeploy:${AWS::Region}:${AWS::AccountId}:application:%s-*", false),
				resourceNames(env, "arn:${AWS::Partition}:codedeploy:${AWS::Region}:${AWS::AccountId}:deploymentgroup:%s-*", false)...),
				sub("arn:${AWS::Partition}:codedeploy:${AWS::Region}:${AWS::AccountId}:deploymentconfig:*"))},
		// An alarm that fires rolls prod back and pages its people.
		statement{"Sid": "OwnAlarmsOnly", "Effect": "Deny", "Action": alarmActions,
			"NotResource": append(resourceNames(env, "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:%s-*", false),
				resourceNames(env, "arn:${AWS::Partition}:cloudwatch::${AWS::AccountId}:dashboard/%s-*", false)...)},
		statement{"Sid": "OwnTopicsOnly", "Effect": "Deny", "Action": "sns:*",
			"NotResource": resourceNames(env, "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:%s-*", false)},
		statement{"Sid": "NoOtherEnvironmentsUserPools", "Effect": "Deny", "Action": "cognito-idp:*", "Condition": otherTag,
			"Resource": sub("arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/*")},
		statement{"Sid": "NoOtherEnvironmentsDistributions", "Effect": "Deny", "Action": "cloudfront:*", "Condition": otherTag,
			"Resource": sub("arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/*")},
		statement{"Sid": "NoOtherEnvironmentsApis", "Effect": "Deny", "Action": "apigateway:*", "Condition": otherTag,
			"Resource": sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/*")},
	}
}

// iamWrites are IAM's actions that change something: on any role but the
// environment's own, none.
var iamWrites = prefixed("iam:", "Add*", "Attach*", "Change*", "Create*", "Deactivate*", "Delete*", "Detach*", "Enable*",
	"PassRole", "Put*", "Remove*", "Reset*", "Resync*", "Set*", "Tag*", "Untag*", "Update*", "Upload*")

// lambdaActions are Lambda's actions on a function: calling it, reading its
// code and environment, changing it.
var lambdaActions = prefixed("lambda:", "Add*", "Create*", "Delete*", "Get*", "Invoke*", "Publish*", "Put*",
	"Remove*", "Tag*", "Untag*", "Update*")

// logsActions read or write a log group's events or settings; describing
// the account's groups (which CloudFormation does) stays allowed.
var logsActions = prefixed("logs:", "Associate*", "Create*", "Delete*", "Disassociate*", "FilterLogEvents", "Get*",
	"Put*", "StartLiveTail", "StartQuery", "Tag*", "Untag*", "Unmask", "Update*")

// rolloutActions are CodeDeploy's actions on an application or deployment
// group. Those IAM cannot scope to one (PutLifecycleEventHookExecutionStatus,
// which the smoke test reports with; StopDeployment, ContinueDeployment)
// stay out: denied on every resource, they would stop the environment's own
// rollout. They need a deployment's ID, which another environment's roles
// cannot list (ListDeployments is scoped).
var rolloutActions = prefixed("codedeploy:", "Create*", "Delete*", "Get*", "List*", "Register*", "Tag*", "Untag*", "Update*")

var alarmActions = prefixed("cloudwatch:", "DeleteAlarms", "DeleteDashboards", "DisableAlarmActions", "EnableAlarmActions",
	"PutCompositeAlarm", "PutDashboard", "PutMetricAlarm", "SetAlarmState", "TagResource", "UntagResource")

func prefixed(service string, actions ...string) []any {
	out := make([]any, len(actions))
	for i, a := range actions {
		out[i] = fmt.Sprint(service, a)
	}
	return out
}
