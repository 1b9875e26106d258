// Package stacks defines the predictor's infrastructure: per environment a
// CDK Stage holding SiteStack (S3 + CloudFront) and ApiStack (Lambda + RestApi),
// the one CORS policy both read, and the synth-time guards that keep them safe.
package stacks

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/iris-cors/iris-cors-cdk/internal/bootstrap"
	"github.com/iris-cors/iris-cors-cdk/internal/config"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
)

// Stage is one environment's deployed copy of the system: the CDK Stage
// of a config.Environment, with its two stacks.
type Stage struct {
	awscdk.Stage
	Site *SiteStack
	Api  *ApiStack
}

// NewStage builds the Stage of env: `cdk deploy 'dev/*'` deploys exactly it.
// root is the module root (project.Root); m is the model the function embeds
// (project.ModelFile), from which the gateway's schema and the site's form come.
func NewStage(scope constructs.Construct, env config.Environment, root string, m *model.Model) *Stage {
	stage := awscdk.NewStage(scope, jsii.String(env.Name), &awscdk.StageProps{
		Env: deployTo(env.Account, env.Region),
		// The boundary `make bootstrap` creates (bootstrap.BoundaryPolicy):
		// the environment's execution role may create roles only with it,
		// and they cannot shed it, create roles without it, or reach
		// another environment's resources.
		PermissionsBoundary: awscdk.PermissionsBoundary_FromName(jsii.String(bootstrap.Boundary)),
	})
	// What the boundary and the execution policy know the environment's
	// resources by where AWS names them by IDs of its own. Dashboards are
	// named (the boundary scopes them by name), and cfn-lint's
	// CloudFormation schema has no tags for them yet.
	awscdk.Tags_Of(stage).Add(jsii.String(bootstrap.TagKey), jsii.String(env.Name),
		&awscdk.TagProps{ExcludeResourceTypes: jsii.Strings("AWS::CloudWatch::Dashboard")})
	policy := NewCorsPolicy(env)
	// Each environment deploys through the roles of its own bootstrap, so
	// one environment's deploy role cannot deploy another.
	synthesizer := func() awscdk.IStackSynthesizer {
		return awscdk.NewDefaultStackSynthesizer(&awscdk.DefaultStackSynthesizerProps{Qualifier: &env.Qualifier})
	}
	site := NewSiteStack(stage, config.SiteStackID, &SiteStackProps{
		StackProps: awscdk.StackProps{Description: jsii.String(m.Title + ": demo site (" + env.Name + ")"), Synthesizer: synthesizer()},
		Config:     env,
		Cors:       policy,
		Title:      m.Title,
	})
	api := NewApiStack(stage, config.APIStackID, &ApiStackProps{
		StackProps: awscdk.StackProps{Description: jsii.String(m.Title + ": API (" + env.Name + ")"), Synthesizer: synthesizer()},
		Config:     env,
		Cors:       policy,
		Site:       site,
		Root:       root,
		Model:      m,
	})

	aspects := awscdk.Aspects_Of(stage)
	aspects.Add(&preflightGuard{}, nil)
	if env.Production {
		aspects.Add(&productionOriginGuard{env: env.Name}, nil)
	}
	aspects.Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	suppressNagFindings(env, site, api)
	return &Stage{Stage: stage, Site: site, Api: api}
}

// Deployment is what the app builds for some environments: their Stages, and
// a Stage per account and region they deploy to, for API Gateway's settings.
type Deployment struct {
	Stages   []*Stage
	Accounts []*AccountStack
}

// NewDeployment builds envs and their accounts' Stages (see NewStage). all
// are every environment of cdk.json: a production environment among envs
// that shares its account with another of them gets a warning at synth.
func NewDeployment(scope constructs.Construct, envs, all []config.Environment, root string, m *model.Model) *Deployment {
	d := &Deployment{}
	for _, a := range Accounts(envs) {
		d.Accounts = append(d.Accounts, NewAccountStage(scope, a))
	}
	shared := config.SharedAccounts(all, os.Getenv("CDK_DEFAULT_ACCOUNT"))
	for _, e := range envs {
		s := NewStage(scope, e, root, m)
		if others := shared[e.Name]; len(others) > 0 {
			awscdk.Annotations_Of(s.Api.Stack).AddWarningV2(jsii.String("iris:SharedAccount"), jsii.String(fmt.Sprintf(
				"production environment %s deploys to the same account as %s: their own bootstraps and permissions boundaries keep them apart, "+
					"but only an account of its own keeps apart what an account shares; see %s (docs/deploying.md, \"Production in an account of its own\")",
				e.Name, strings.Join(others, ", "), config.MultiAccountGuidance)))
		}
		d.Stages = append(d.Stages, s)
	}
	return d
}

// deployTo is where a Stage deploys. The account defaults to that of the
// caller's credentials; synth needs none.
func deployTo(account, region string) *awscdk.Environment {
	if account == "" {
		account = os.Getenv("CDK_DEFAULT_ACCOUNT")
	}
	return &awscdk.Environment{Account: optional(account), Region: jsii.String(region)}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
