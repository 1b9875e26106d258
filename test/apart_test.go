package test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/bootstrap"
	"github.com/iris-cors/iris-cors-cdk/internal/config"
)

// Environments apart: each deploys through the roles and asset bucket of its
// own bootstrap (its qualifier), and every role it creates carries that
// bootstrap's permissions boundary, without which CDK's example boundary
// lets the execution role create no role at all.
func TestEachEnvironmentDeploysThroughItsOwnBootstrap(t *testing.T) {
	if config.DefaultQualifier != *awscdk.DefaultStackSynthesizer_DEFAULT_QUALIFIER() {
		t.Errorf("config.DefaultQualifier %s is not CDK's %s", config.DefaultQualifier, *awscdk.DefaultStackSynthesizer_DEFAULT_QUALIFIER())
	}
	eachEnv(t, func(t *testing.T, c *caller, e config.Environment, d *synthesized) {
		for name, tmpl := range map[string]assertions.Template{"Site": d.site, "Api": d.api} {
			doc := *tmpl.ToJSON()
			version, _ := doc["Parameters"].(map[string]any)["BootstrapVersion"].(map[string]any)
			if want := "/cdk-bootstrap/" + e.Qualifier + "/version"; version["Default"] != want {
				t.Errorf("%s checks the bootstrap version at %v, want %s", name, version["Default"], want)
			}
			for id, r := range doc["Resources"].(map[string]any) {
				r := r.(map[string]any)
				if r["Type"] != "AWS::IAM::Role" {
					continue
				}
				boundary := render(t, r["Properties"].(map[string]any)["PermissionsBoundary"])
				if !strings.HasSuffix(boundary, ":policy/cdk-"+e.Qualifier+"-permissions-boundary") {
					t.Errorf("%s role %s has boundary %s, want the environment's", name, id, boundary)
				}
			}
		}
		fn := d.api.FindResources(jsii.String("AWS::Lambda::Function"), nil)
		for id, r := range *fn {
			// A string with the account known, an Fn::Sub of it without.
			bucket := (*r)["Properties"].(map[string]any)["Code"].(map[string]any)["S3Bucket"]
			if sub, ok := bucket.(map[string]any); ok {
				bucket = sub["Fn::Sub"]
			}
			if name, _ := bucket.(string); !strings.HasPrefix(name, "cdk-"+e.Qualifier+"-assets-") {
				t.Errorf("function %s's code is in %s, not the environment's asset bucket", id, bucket)
			}
		}
	})
}

// What an administrator deploys once for all environments (API Gateway's
// account settings, the CI roles) is deployed with the administrator's own
// credentials: it names no bootstrap, so no environment's roles are needed
// or able to change it.
func TestSharedStacksUseNoBootstrap(t *testing.T) {
	for _, c := range callers {
		for name, tmpl := range map[string]map[string]any{"ci": *c.ciTemplate.ToJSON(), "account": *c.deployed["dev"].accountTemplate.ToJSON()} {
			if params, _ := tmpl["Parameters"].(map[string]any); params["BootstrapVersion"] != nil {
				t.Errorf("%s: the %s stack checks a bootstrap version: it would deploy through an environment's roles", c.name, name)
			}
		}
	}
}

// The execution policy is least privilege by service: every resource type
// the stacks deploy (customized ones with domains included) belongs to a
// service it allows, and it allows no service they do not use.
func TestTheExecutionPolicyCoversWhatTheStacksDeploy(t *testing.T) {
	check := func(t *testing.T, e config.Environment, d *synthesized) {
		used := map[string]bool{}
		for _, tmpl := range []map[string]any{*d.site.ToJSON(), *d.api.ToJSON()} {
			for _, r := range tmpl["Resources"].(map[string]any) {
				used[serviceOf(r.(map[string]any)["Type"].(string))] = true
			}
		}
		if e.SiteDomain != nil || e.APIDomain != nil {
			used["acm"] = true // the certificates the domains name
		}
		allowed := map[string]bool{}
		for _, st := range bootstrap.Policy(e) {
			actions := st.(map[string]any)["Action"]
			list, ok := actions.([]any)
			if !ok {
				list = []any{actions}
			}
			for _, a := range list {
				service, _, _ := strings.Cut(a.(string), ":")
				allowed[service] = true
			}
		}
		for s := range used {
			if !allowed[s] {
				t.Errorf("the stacks deploy %s resources; the execution policy does not allow %s", s, s)
			}
		}
		for s := range allowed {
			if !used[s] {
				t.Errorf("the execution policy allows %s, which the stacks do not use", s)
			}
		}
	}
	eachEnv(t, func(t *testing.T, _ *caller, e config.Environment, d *synthesized) { check(t, e, d) })
	t.Run("customized", func(t *testing.T) {
		e, d := customizedProd(t)
		check(t, e, d)
	})
	for _, name := range []string{"dev", "prod"} {
		t.Run("signed in/"+name, func(t *testing.T) {
			e, d := signedInEnv(t, name)
			check(t, e, d)
		})
	}
}

// serviceOf is the IAM service of a resource type: AWS::S3::Bucket is s3; a
// custom resource is a function CloudFormation invokes.
func serviceOf(resourceType string) string {
	parts := strings.Split(resourceType, "::")
	switch {
	case parts[0] == "Custom" || resourceType == "AWS::CloudFormation::CustomResource":
		return "lambda"
	case parts[1] == "Cognito":
		return "cognito-idp" // user pools; identity pools would be cognito-identity
	}
	return strings.ToLower(parts[1])
}
