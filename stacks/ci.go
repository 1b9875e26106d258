package stacks

import (
	"fmt"
	"os"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// GitHubOIDCProps configures the roles GitHub Actions assume.
type GitHubOIDCProps struct {
	awscdk.StackProps
	// Repository is "owner/name": only its workflows may assume the roles.
	Repository string
}

// GitHubOIDCStack lets the workflows of one repository deploy without
// long-lived keys: an OIDC identity provider for GitHub, a deploy role for
// jobs running in a GitHub environment (dev, prod) and a read-only diff role
// for pull requests. Both may only assume the CDK bootstrap roles, which do the
// actual work with the permissions `cdk bootstrap` gave them.
type GitHubOIDCStack struct {
	awscdk.Stack
	DeployRole awsiam.Role
	DiffRole   awsiam.Role
}

var repositoryName = regexp.MustCompile(`^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$`)

// ValidRepository checks an owner/name repository for the trust policies.
func ValidRepository(repo string) error {
	if !repositoryName.MatchString(repo) {
		return fmt.Errorf("ciRepository %q: want owner/name, e.g. my-org/iris-cors-cdk", repo)
	}
	return nil
}

const githubIssuer = "token.actions.githubusercontent.com"

func NewGitHubOIDCStack(scope constructs.Construct, id string, props *GitHubOIDCProps) *GitHubOIDCStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	// The L1 resource: the L2 OpenIdConnectProvider deploys a Lambda-backed
	// custom resource for what CloudFormation now does natively.
	provider := awsiam.NewCfnOIDCProvider(stack, jsii.String("GitHub"), &awsiam.CfnOIDCProviderProps{
		Url:          jsii.String("https://" + githubIssuer),
		ClientIdList: jsii.Strings("sts.amazonaws.com"),
	})
	bootstrapRoles := func(kinds ...string) *[]*string {
		var arns []*string
		for _, k := range kinds {
			arns = append(arns, awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-"+k+"-role-${AWS::AccountId}-*"), nil))
		}
		return &arns
	}
	role := func(id, subject, description string, kinds ...string) awsiam.Role {
		r := awsiam.NewRole(stack, jsii.String(id), &awsiam.RoleProps{
			Description: jsii.String(description),
			AssumedBy: awsiam.NewWebIdentityPrincipal(provider.AttrArn(), &map[string]any{
				"StringEquals": map[string]any{githubIssuer + ":aud": "sts.amazonaws.com"},
				"StringLike":   map[string]any{githubIssuer + ":sub": "repo:" + props.Repository + ":" + subject},
			}),
			MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
		})
		r.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("sts:AssumeRole"),
			Resources: bootstrapRoles(kinds...),
		}))
		cdknag.NagSuppressions_AddResourceSuppressions(r, &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("The CDK bootstrap roles are named cdk-hnb659fds-<kind>-role-<account>-<region>; the wildcard covers the regions of this account only."),
		}}, jsii.Bool(true))
		return r
	}
	deploy := role("DeployRole", "environment:*", "GitHub Actions deploy jobs (in a GitHub environment) of "+props.Repository,
		"deploy", "file-publishing", "image-publishing", "lookup")
	diff := role("DiffRole", "pull_request", "GitHub Actions pull request jobs of "+props.Repository+": cdk diff only", "lookup")
	awscdk.NewCfnOutput(stack, jsii.String("DeployRoleArn"), &awscdk.CfnOutputProps{Value: deploy.RoleArn(), Description: jsii.String("Set as AWS_DEPLOY_ROLE_ARN in the dev and prod GitHub environments")})
	awscdk.NewCfnOutput(stack, jsii.String("DiffRoleArn"), &awscdk.CfnOutputProps{Value: diff.RoleArn(), Description: jsii.String("Set as the repository variable AWS_DIFF_ROLE_ARN")})
	awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return &GitHubOIDCStack{Stack: stack, DeployRole: deploy, DiffRole: diff}
}

// NewCI builds the "ci" Stage with the GitHub OIDC roles, deployed once per
// account with `make ci-roles REPO=owner/name`.
func NewCI(scope constructs.Construct, repository, region string) *GitHubOIDCStack {
	stage := awscdk.NewStage(scope, jsii.String("ci"), &awscdk.StageProps{
		Env: &awscdk.Environment{Account: optional(os.Getenv("CDK_DEFAULT_ACCOUNT")), Region: jsii.String(region)},
	})
	return NewGitHubOIDCStack(stage, "GitHubOidc", &GitHubOIDCProps{
		StackProps: awscdk.StackProps{Description: jsii.String("OIDC roles for the GitHub Actions of " + repository)},
		Repository: repository,
	})
}
