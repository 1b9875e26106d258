package stacks

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
)

// GitHubOIDCProps configures the roles GitHub Actions assume.
type GitHubOIDCProps struct {
	awscdk.StackProps
	// Repository is the one whose workflows may assume the roles.
	Repository Repository
	// Branch is the default branch: only its deploy workflow deploys.
	Branch string
	// Environments get a deploy role each; the diff role reads their stacks.
	Environments []config.Environment
}

// GitHubOIDCStack lets the workflows of one repository deploy without
// long-lived keys: an OIDC identity provider for GitHub, one deploy role per
// environment and a diff role for pull requests.
//
// A deploy role is trusted only by the deploy workflow (DeployWorkflow) of the
// default branch running in the GitHub environment of the same name, so no
// branch, other workflow or other environment can deploy it, whoever pushes
// it; it may only assume that environment's own CDK bootstrap roles (its
// qualifier), which do the work with the permissions `make bootstrap` gave
// them: CloudFormation on that environment's stacks only, through an
// execution role with the project's policy. The diff role runs code
// from pull requests, so it gets no bootstrap role (the lookup role reads the
// whole account): it may read the environments' stack templates, nothing else.
type GitHubOIDCStack struct {
	awscdk.Stack
	DeployRoles map[string]awsiam.Role // by environment name
	DiffRole    awsiam.Role
}

// DeployWorkflow is the reusable workflow whose job deploys an environment;
// the deploy roles trust its runs on the default branch only.
const DeployWorkflow = ".github/workflows/deploy-env.yml"

// Repository is a GitHub repository as the trust policies name it: by
// owner/name, as GitHub writes it in sub and job_workflow_ref, and by the
// number GitHub gave it, which stays with it: a renamed or deleted
// repository's name can be taken by someone else, its ID cannot.
type Repository struct {
	Name string // owner/name
	ID   string // repository_id: gh api repos/<owner>/<name> --jq .id
}

var (
	repositoryName = regexp.MustCompile(`^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$`)
	repositoryID   = regexp.MustCompile(`^[1-9][0-9]{0,19}$`)
	branchName     = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)
)

// Valid checks the repository for the trust policies.
func (r Repository) Valid() error {
	if !repositoryName.MatchString(r.Name) {
		return fmt.Errorf("ciRepository %q: want owner/name, e.g. my-org/iris-cors-cdk", r.Name)
	}
	if !repositoryID.MatchString(r.ID) {
		return fmt.Errorf("ciRepositoryId %q: want the repository's number (gh api repos/%s --jq .id)", r.ID, r.Name)
	}
	return nil
}

// ValidBranch checks the default branch the deploy roles trust.
func ValidBranch(branch string) error {
	if !branchName.MatchString(branch) || strings.Contains(branch, "..") {
		return fmt.Errorf("ciBranch %q: want a branch name such as main", branch)
	}
	return nil
}

// cdk-nag writes ${AWS::X} as <AWS::X> in the resources of its findings.
var nagPseudoParams = strings.NewReplacer("${AWS::Partition}", "<AWS::Partition>", "${AWS::AccountId}", "<AWS::AccountId>")

const githubIssuer = "token.actions.githubusercontent.com"

func NewGitHubOIDCStack(scope constructs.Construct, id string, props *GitHubOIDCProps) *GitHubOIDCStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	// The L1 resource: the L2 OpenIdConnectProvider deploys a Lambda-backed
	// custom resource for what CloudFormation now does natively.
	provider := awsiam.NewCfnOIDCProvider(stack, jsii.String("GitHub"), &awsiam.CfnOIDCProviderProps{
		Url:          jsii.String("https://" + githubIssuer),
		ClientIdList: jsii.Strings("sts.amazonaws.com"),
	})
	// Every claim is compared with StringEquals: a missing claim fails the
	// condition, and no wildcard lets a new environment or branch in. AWS STS
	// checks GitHub's job_workflow_ref and ref claims since January 2026, and
	// repository_id, which pins the repository whatever its name becomes.
	role := func(id, description string, claims map[string]string) awsiam.Role {
		equals := map[string]any{githubIssuer + ":aud": "sts.amazonaws.com", githubIssuer + ":repository_id": props.Repository.ID}
		for k, v := range claims {
			equals[githubIssuer+":"+k] = v
		}
		return awsiam.NewRole(stack, jsii.String(id), &awsiam.RoleProps{
			Description:        jsii.String(description),
			AssumedBy:          awsiam.NewWebIdentityPrincipal(provider.AttrArn(), &map[string]any{"StringEquals": equals}),
			MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
		})
	}
	repo, ref := props.Repository.Name, "refs/heads/"+props.Branch
	out := &GitHubOIDCStack{Stack: stack, DeployRoles: map[string]awsiam.Role{}}
	var stackARNs []*string
	var stackFindings []any // how cdk-nag names each ARN in a finding
	for _, env := range props.Environments {
		account := "${AWS::AccountId}"
		if env.Account != "" {
			account = env.Account
		}
		deploy := role("Deploy"+idPart(env.Name), fmt.Sprintf("GitHub Actions: %s deploys %s from %s", DeployWorkflow, env.Name, ref), map[string]string{
			"sub":              "repo:" + repo + ":environment:" + env.Name,
			"job_workflow_ref": repo + "/" + DeployWorkflow + "@" + ref,
			"ref":              ref,
		})
		// The environment's own bootstrap roles (its qualifier): deploying
		// and publishing assets. Not the lookup role, which reads the whole
		// account and which this app never uses.
		var bootstrap []*string
		for _, kind := range []string{"deploy", "file-publishing"} {
			bootstrap = append(bootstrap, awscdk.Fn_Sub(jsii.String(fmt.Sprintf("arn:${AWS::Partition}:iam::%s:role/cdk-%s-%s-role-%s-%s", account, env.Qualifier, kind, account, env.Region)), nil))
		}
		deploy.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Actions: jsii.Strings("sts:AssumeRole"), Resources: &bootstrap}))
		out.DeployRoles[env.Name] = deploy
		awscdk.NewCfnOutput(stack, jsii.String("DeployRoleArn"+idPart(env.Name)), &awscdk.CfnOutputProps{
			Value:       deploy.RoleArn(),
			Description: jsii.String("Set as AWS_DEPLOY_ROLE_ARN in the GitHub environment " + env.Name),
		})
		for _, name := range env.StackNames() {
			arn := fmt.Sprintf("arn:${AWS::Partition}:cloudformation:%s:%s:stack/%s/*", env.Region, account, name)
			stackARNs = append(stackARNs, awscdk.Fn_Sub(&arn, nil))
			stackFindings = append(stackFindings, "Resource::"+nagPseudoParams.Replace(arn))
		}
	}

	// `cdk diff --method=template` reads a deployed template with these two
	// calls, using the job's own credentials when it cannot assume a role.
	out.DiffRole = role("DiffRole", "GitHub Actions pull request jobs of "+repo+": read the environments' templates for cdk diff", map[string]string{
		"sub": "repo:" + repo + ":pull_request",
	})
	out.DiffRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("cloudformation:DescribeStacks", "cloudformation:GetTemplate"),
		Resources: &stackARNs,
	}))
	suppress(out.DiffRole, true, &cdknag.NagPackSuppression{
		Id:        jsii.String("AwsSolutions-IAM5"),
		AppliesTo: &stackFindings,
		Reason:    jsii.String("A stack's ARN ends in the ID CloudFormation gave it at creation: each * stands for that ID of one named stack, nothing else."),
	})
	awscdk.NewCfnOutput(stack, jsii.String("DiffRoleArn"), &awscdk.CfnOutputProps{Value: out.DiffRole.RoleArn(), Description: jsii.String("Set as the repository variable AWS_DIFF_ROLE_ARN")})
	awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return out
}

// NewCI builds the "ci" Stage with the GitHub OIDC roles, deployed once per
// account with `make ci-roles REPO=owner/name REPO_ID=<number>`.
func NewCI(scope constructs.Construct, repository Repository, branch string, envs []config.Environment) *GitHubOIDCStack {
	stage := awscdk.NewStage(scope, jsii.String("ci"), &awscdk.StageProps{Env: deployTo("", envs[0].Region)})
	return NewGitHubOIDCStack(stage, "GitHubOidc", &GitHubOIDCProps{
		StackProps:   awscdk.StackProps{Description: jsii.String("OIDC roles for the GitHub Actions of " + repository.Name), Synthesizer: withOwnCredentials()},
		Repository:   repository,
		Branch:       branch,
		Environments: envs,
	})
}

// idPart turns an environment name (lower case, digits, dashes) into a
// part of a logical ID: "eu-prod" -> "EuProd".
func idPart(env string) string {
	var b strings.Builder
	for _, part := range strings.Split(env, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
