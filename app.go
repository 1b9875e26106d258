// Command app is the CDK application: it reads the environments from cdk.json's
// context and builds one Stage per environment (`cdk synth '**'` shows them
// all). Select some with `-c env=dev` (comma-separated). With
// `-c ciRepository=owner/name -c ciRepositoryId=<number>` it also builds the
// "ci" Stage: the roles GitHub Actions of that repository assume through
// OIDC, one deploy role for each
// environment, trusted from the default branch (`-c ciBranch=...`, main by
// default) only.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/stacks"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	all, err := config.Parse(app.Node().TryGetContext(jsii.String("environments")))
	var envs []config.Environment
	if err == nil {
		envs, err = config.Select(all, contextList(app, "env"))
	}
	root, rootErr := project.Root()
	if err == nil {
		err = rootErr
	}
	var repo stacks.Repository
	repo.Name, _ = app.Node().TryGetContext(jsii.String("ciRepository")).(string)
	repo.ID, _ = app.Node().TryGetContext(jsii.String("ciRepositoryId")).(string)
	branch, _ := app.Node().TryGetContext(jsii.String("ciBranch")).(string)
	if branch == "" {
		branch = "main"
	}
	if err == nil && repo.Name != "" {
		err = errors.Join(repo.Valid(), stacks.ValidBranch(branch))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cdk.json:", err)
		os.Exit(1)
	}
	// The model the function embeds: the gateway's schema, the site's form
	// and the names follow it.
	served, err := model.Load(filepath.Join(root, project.ModelFile))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	stacks.NewDeployment(app, envs, root, served)
	if repo.Name != "" {
		stacks.NewCI(app, repo, branch, all)
	}
	app.Synth(nil)
}

// contextList reads a comma-separated context value such as -c env=dev,prod.
func contextList(app awscdk.App, key string) []string {
	v, ok := app.Node().TryGetContext(jsii.String(key)).(string)
	if !ok || v == "" {
		return nil
	}
	return strings.Split(v, ",")
}
