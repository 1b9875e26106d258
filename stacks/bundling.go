package stacks

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

// goBundler builds a Go function with the local toolchain, so synth needs no
// Docker. CDK falls back to the Docker image only when TryBundle returns false,
// which it does when no `go` is on PATH.
type goBundler struct {
	root string // the module root: go build needs go.mod
	pkg  string // the function's package, relative to root
}

func (b *goBundler) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	if _, err := exec.LookPath("go"); err != nil {
		return jsii.Bool(false)
	}
	build := project.Build{Root: b.root, Package: "./" + b.pkg, Out: filepath.Join(*outputDir, "bootstrap")}
	if err := build.Run(context.Background()); err != nil {
		// Falling back to Docker would hide a compile error behind "docker: not found".
		panic(fmt.Sprintf("bundling %s: %v", b.pkg, err))
	}
	return jsii.Bool(true)
}

// goFunctionCode is the asset of a provided.al2023 arm64 function built from pkg.
// The hash is taken of the built binary, not of the source tree (which holds
// node_modules and cdk.out).
func goFunctionCode(root, pkg string) awslambda.Code {
	return awslambda.Code_FromAsset(jsii.String(root), &awss3assets.AssetOptions{
		AssetHashType: awscdk.AssetHashType_OUTPUT,
		Bundling: &awscdk.BundlingOptions{
			Image:   awscdk.DockerImage_FromRegistry(jsii.String("public.ecr.aws/docker/library/golang:1.26")),
			Command: jsii.Strings("bash", "-c", project.DockerScript("./"+pkg)),
			Local:   &goBundler{root: root, pkg: pkg},
		},
	})
}
