// Package workflows lints the GitHub Actions workflows with actionlint and checks
// the rules that keep them safe to copy (tokens, branches, credentials), so a
// broken workflow fails here rather than on GitHub after the merge.
package workflows

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

func workflows(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../.github/workflows/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows found (%v)", err)
	}
	return files
}

func TestActionlint(t *testing.T) {
	var out bytes.Buffer
	linter, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := linter.LintFiles(workflows(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Errorf("actionlint found %d problems:\n%s", len(errs), out.String())
	}
}

// Every action is pinned by commit, so a moved tag cannot change what runs.
var pinned = regexp.MustCompile(`^[\w.-]+/[\w./-]+@[0-9a-f]{40}$`)

func TestActionsArePinnedBySHA(t *testing.T) {
	for file, w := range parsed(t) {
		for id, j := range w.Jobs {
			refs := []string{}
			if j.WorkflowCall != nil {
				refs = append(refs, j.WorkflowCall.Uses.Value)
			}
			for _, s := range j.Steps {
				refs = append(refs, uses(s))
			}
			for _, ref := range refs {
				if ref == "" || strings.HasPrefix(ref, "./") {
					continue // a run step, or a workflow of this repository
				}
				if !pinned.MatchString(ref) {
					t.Errorf("%s: job %s: %s is not pinned to a commit SHA", file, id, ref)
				}
			}
		}
	}
}

// parsed is every workflow's syntax tree, by file name.
func parsed(t *testing.T) map[string]*actionlint.Workflow {
	t.Helper()
	out := map[string]*actionlint.Workflow{}
	for _, f := range workflows(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		w, errs := actionlint.Parse(b)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", f, errs[0])
		}
		out[filepath.Base(f)] = w
	}
	return out
}

// uses is the action a step runs (owner/name@ref), "" for a run step.
func uses(s *actionlint.Step) string {
	if a, ok := s.Exec.(*actionlint.ExecAction); ok {
		return a.Uses.Value
	}
	return ""
}

// runs tells whether step s runs the action name (owner/name), whatever its ref.
func runs(s *actionlint.Step, name string) bool { return strings.HasPrefix(uses(s), name+"@") }

func run(s *actionlint.Step) string {
	if r, ok := s.Exec.(*actionlint.ExecRun); ok && r.Run != nil {
		return r.Run.Value
	}
	return ""
}

func triggeredBy(w *actionlint.Workflow, events ...string) bool {
	for _, e := range w.On {
		if slices.Contains(events, e.EventName()) {
			return true
		}
	}
	return false
}

// actions/checkout stores the job's token in .git/config by default, where
// every later step (the code being tested included) can read it.
func TestCheckoutKeepsNoCredentials(t *testing.T) {
	for file, w := range parsed(t) {
		for id, j := range w.Jobs {
			for _, s := range j.Steps {
				if !runs(s, "actions/checkout") {
					continue
				}
				in := s.Exec.(*actionlint.ExecAction).Inputs["persist-credentials"]
				if in == nil || in.Value.Value != "false" {
					t.Errorf("%s: job %s checks out with persist-credentials not false", file, id)
				}
			}
		}
	}
}

// A pull request's code (make, npm ci, go run) runs with a token that can
// write nothing: a job that may write (other than request an OIDC token for
// the read-only diff role) checks out no code and calls no workflow.
func TestPullRequestCodeHoldsNoWriteToken(t *testing.T) {
	for file, w := range parsed(t) {
		if !triggeredBy(w, "pull_request", "pull_request_target") {
			continue
		}
		if triggeredBy(w, "pull_request_target") {
			t.Errorf("%s: pull_request_target runs with a write token and the base's secrets", file)
		}
		for id, j := range w.Jobs {
			perms := j.Permissions
			if perms == nil {
				perms = w.Permissions
			}
			if perms == nil || perms.All != nil {
				t.Errorf("%s: job %s does not list its token's permissions scope by scope", file, id)
				continue
			}
			var writes []string
			for name, scope := range perms.Scopes {
				if scope.Value.Value == "write" && name != "id-token" {
					writes = append(writes, name)
				}
			}
			if len(writes) == 0 {
				continue
			}
			if j.WorkflowCall != nil {
				t.Errorf("%s: job %s may write %v and calls a workflow", file, id, writes)
			}
			for _, s := range j.Steps {
				if runs(s, "actions/checkout") || strings.Contains(run(s), "make") || strings.Contains(run(s), "npm") || strings.Contains(run(s), "go ") {
					t.Errorf("%s: job %s may write %v and runs the pull request's code (%s)", file, id, writes, s.Pos)
				}
			}
		}
	}
}

// A manual run on another branch must deploy nothing: every job of a
// workflow_dispatch workflow checks that it runs on the default branch.
func TestManualDeploysOnlyFromTheDefaultBranch(t *testing.T) {
	const want = "github.ref == format('refs/heads/{0}', github.event.repository.default_branch)"
	for file, w := range parsed(t) {
		if !triggeredBy(w, "workflow_dispatch") {
			continue
		}
		for id, j := range w.Jobs {
			if j.If == nil || !strings.Contains(j.If.Value, want) {
				t.Errorf("%s: job %s can run on any branch a manual run names; want if: %s", file, id, want)
			}
		}
	}
}

// npm's install scripts and anything fetched run before the job holds AWS
// credentials: a compromised dependency finds none to steal.
func TestNothingIsInstalledWithAWSCredentials(t *testing.T) {
	installs := regexp.MustCompile(`\bnpm\b|\bnpx\b|\bgo (get|install|mod download)\b|\bmake deps\b|\bapt-get\b|\bpip\b`)
	for file, w := range parsed(t) {
		for id, j := range w.Jobs {
			creds := slices.IndexFunc(j.Steps, func(s *actionlint.Step) bool { return runs(s, "aws-actions/configure-aws-credentials") })
			if creds < 0 {
				continue
			}
			if !slices.ContainsFunc(j.Steps[:creds], func(s *actionlint.Step) bool { return strings.Contains(run(s), "make deps") }) {
				t.Errorf("%s: job %s gets AWS credentials before `make deps` installed and built everything", file, id)
			}
			for _, s := range j.Steps[creds+1:] {
				if m := installs.FindString(run(s)); m != "" {
					t.Errorf("%s: job %s runs %q after getting AWS credentials (%s)", file, id, m, s.Pos)
				}
			}
		}
	}
}

// The deploy roles trust exactly this workflow file (stacks.DeployWorkflow,
// asserted in test/stacks_test.go): it must exist, take the AWS role from its
// GitHub environment, and run in the environment named by its input.
func TestDeployWorkflowIsTheOneTheRolesTrust(t *testing.T) {
	w, ok := parsed(t)["deploy-env.yml"]
	if !ok {
		t.Fatal("deploy-env.yml is missing: the deploy roles trust .github/workflows/deploy-env.yml")
	}
	for id, j := range w.Jobs {
		if !slices.ContainsFunc(j.Steps, func(s *actionlint.Step) bool { return runs(s, "aws-actions/configure-aws-credentials") }) {
			continue
		}
		if j.Environment == nil || j.Environment.Name == nil || j.Environment.Name.Value != "${{ inputs.environment }}" {
			t.Errorf("job %s gets AWS credentials outside the GitHub environment it deploys", id)
		}
	}
}

// The jobs that hold AWS credentials deploy and diff through the Makefile's
// targets, which test/deploy runs against a local AWS API: a broken deploy
// path then fails make test before it fails a deploy job. Calling the CDK
// CLI directly would skip what the test checks.
func TestCredentialedJobsUseTheTestedCommands(t *testing.T) {
	direct := regexp.MustCompile(`\b(npx\s+)?cdk\s+(deploy|diff|bootstrap|synth|destroy)\b`)
	found := map[string]bool{}
	for file, w := range parsed(t) {
		for id, j := range w.Jobs {
			creds := slices.IndexFunc(j.Steps, func(s *actionlint.Step) bool { return runs(s, "aws-actions/configure-aws-credentials") })
			if creds < 0 {
				continue
			}
			for _, s := range j.Steps[creds+1:] {
				if m := direct.FindString(run(s)); m != "" {
					t.Errorf("%s: job %s runs %q directly (%s); use the make target test/deploy exercises", file, id, m, s.Pos)
				}
				for _, target := range []string{"make deploy", "make diff"} {
					found[target] = found[target] || strings.Contains(run(s), target)
				}
			}
		}
	}
	for _, target := range []string{"make deploy", "make diff"} {
		if !found[target] {
			t.Errorf("no job with AWS credentials runs %s", target)
		}
	}
}

// The deploy roles trust deploy-env.yml's job (job_workflow_ref names the
// called file, not its caller), so any workflow on the default branch that
// calls it would get a role: only deploy.yml may, and deploy.yml runs only
// on a push to the default branch or a manual run; deploy-env.yml itself
// runs only when called.
func TestOnlyTheDeployWorkflowCallsTheDeployJob(t *testing.T) {
	const called = "./.github/workflows/deploy-env.yml"
	for file, w := range parsed(t) {
		for id, j := range w.Jobs {
			if j.WorkflowCall != nil && j.WorkflowCall.Uses != nil && strings.Contains(j.WorkflowCall.Uses.Value, "deploy-env.yml") {
				if file != "deploy.yml" || j.WorkflowCall.Uses.Value != called {
					t.Errorf("%s: job %s calls %s; only deploy.yml may (the deploy roles trust its job)", file, id, j.WorkflowCall.Uses.Value)
				}
			}
		}
	}
	w := parsed(t)
	var events []string
	for _, e := range w["deploy.yml"].On {
		events = append(events, e.EventName())
		if push, ok := e.(*actionlint.WebhookEvent); ok && push.EventName() == "push" {
			if push.Branches.IsEmpty() || len(push.Branches.Values) != 1 || push.Branches.Values[0].Value != "main" || !push.Tags.IsEmpty() {
				t.Errorf("deploy.yml runs on pushes other than to main (%s)", push.Pos)
			}
		}
	}
	if slices.Sort(events); !slices.Equal(events, []string{"push", "workflow_dispatch"}) {
		t.Errorf("deploy.yml runs on %v, want push (to main) and workflow_dispatch only", events)
	}
	for _, e := range w["deploy-env.yml"].On {
		if e.EventName() != "workflow_call" {
			t.Errorf("deploy-env.yml runs on %s, want workflow_call only", e.EventName())
		}
	}
}

// docs/deploying.md has AWS_REGION set in each GitHub environment: a job outside
// one that read it would get an empty region.
func TestRegionVariableOnlyInEnvironments(t *testing.T) {
	for file, w := range parsed(t) {
		for id, j := range w.Jobs {
			if j.Environment != nil {
				continue
			}
			for _, s := range j.Steps {
				if a, ok := s.Exec.(*actionlint.ExecAction); ok {
					for name, in := range a.Inputs {
						if strings.Contains(in.Value.Value, "vars.AWS_REGION") {
							t.Errorf("%s: job %s reads vars.AWS_REGION (input %s) outside a GitHub environment, where docs/deploying.md sets it", file, id, name)
						}
					}
				}
				if strings.Contains(run(s), "vars.AWS_REGION") {
					t.Errorf("%s: job %s reads vars.AWS_REGION outside a GitHub environment", file, id)
				}
			}
		}
	}
}
