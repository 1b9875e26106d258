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
	"cmp"
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
	if err := build(app); err != nil {
		fmt.Fprintln(os.Stderr, err)
		jsii.Close()
		os.Exit(1)
	}
	app.Synth(nil)
}

// build adds to app the Stages of the environments -c env= selects (all by
// default), and the ci Stage when -c ciRepository= is set.
func build(app awscdk.App) error {
	all, err := config.Parse(app.Node().TryGetContext(jsii.String("environments")))
	if err != nil {
		return fmt.Errorf("cdk.json: %w", err)
	}
	envs, err := config.Select(all, contextList(app, "env"))
	if err != nil {
		return fmt.Errorf("cdk.json: %w", err)
	}
	root, err := project.Root()
	if err != nil {
		return err
	}
	repo := stacks.Repository{Name: contextString(app, "ciRepository"), ID: contextString(app, "ciRepositoryId")}
	branch := cmp.Or(contextString(app, "ciBranch"), "main")
	if repo.Name != "" {
		if err := errors.Join(repo.Valid(), stacks.ValidBranch(branch)); err != nil {
			return fmt.Errorf("cdk.json: %w", err)
		}
	}
	// The model the function embeds: the gateway's schema, the site's form
	// and the names follow it.
	served, err := model.Load(filepath.Join(root, project.ModelFile))
	if err != nil {
		return err
	}
	stacks.NewDeployment(app, envs, all, root, served)
	if repo.Name != "" {
		stacks.NewCI(app, repo, branch, all)
	}
	return nil
}

func contextString(app awscdk.App, key string) string {
	v, _ := app.Node().TryGetContext(jsii.String(key)).(string)
	return v
}

// contextList reads a comma-separated context value such as -c env=dev,prod.
func contextList(app awscdk.App, key string) []string {
	if v := contextString(app, key); v != "" {
		return strings.Split(v, ",")
	}
	return nil
}
