package stacks

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

// goBundler builds a Go function with the local toolchain, so synth needs no
// Docker. There is no Docker fallback: this is a Go CDK app, so wherever it
// synthesizes, Go is there (`go run .`), and a fallback image would be one
// more unpinned download.
type goBundler struct {
	root string // the module root: go build needs go.mod
	pkg  string // the function's package, e.g. ./functions/predict
}

func (b *goBundler) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	build := project.Build{Root: b.root, Package: b.pkg, Out: filepath.Join(*outputDir, "bootstrap")}
	if err := build.Run(context.Background()); err != nil {
		// Falling back to Docker would hide a compile error behind "docker: not found".
		panic(fmt.Sprintf("bundling %s: %v", b.pkg, err))
	}
	return jsii.Bool(true)
}

// noImage is the image CDK's bundling options require; local bundling
// always builds (or fails synth), so it is never pulled.
var noImage = awscdk.DockerImage_FromRegistry(jsii.String("local-go-bundling-only"))

// goFunctionCode is the asset of a provided.al2023 arm64 function built from pkg.
// The hash is taken of the built binary, not of the source tree (which holds
// node_modules and cdk.out).
func goFunctionCode(root, pkg string) awslambda.Code {
	return awslambda.Code_FromAsset(jsii.String(root), &awss3assets.AssetOptions{
		AssetHashType: awscdk.AssetHashType_OUTPUT,
		Bundling:      &awscdk.BundlingOptions{Image: noImage, Local: &goBundler{root: root, pkg: pkg}},
	})
}
