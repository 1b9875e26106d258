// Command prehook is the CodeDeploy BeforeAllowTraffic hook of the predict
// function: before any traffic moves to a new version, it runs the smoke
// test (internal/smoke) against that version and tells CodeDeploy whether
// it passed; a failure stops the deployment, which rolls back.
//
// Environment: TARGET_VERSION, the ARN of the version to test (the stack
// sets it to the version it publishes). Its role may invoke only that
// version and report only to its own deployment group.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/iris-cors/iris-cors-cdk/internal/smoke"
)

// event is what CodeDeploy hands a lifecycle hook.
type event struct {
	DeploymentID                  string `json:"DeploymentId"`
	LifecycleEventHookExecutionID string `json:"LifecycleEventHookExecutionId"`
}

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	target := os.Getenv("TARGET_VERSION")
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil || target == "" {
		log.Error("cannot start", "error", err, "TARGET_VERSION", target)
		os.Exit(1)
	}
	h := &hook{invoke: invoker(awslambda.NewFromConfig(cfg), target), deploy: codedeploy.NewFromConfig(cfg), log: log, target: target}
	lambda.Start(h.handle)
}

// hook runs the smoke test and reports it.
type hook struct {
	invoke smoke.Invoke
	deploy interface {
		PutLifecycleEventHookExecutionStatus(context.Context, *codedeploy.PutLifecycleEventHookExecutionStatusInput, ...func(*codedeploy.Options)) (*codedeploy.PutLifecycleEventHookExecutionStatusOutput, error)
	}
	log    *slog.Logger
	target string
}

func (h *hook) handle(ctx context.Context, e event) error {
	status := cdtypes.LifecycleEventStatusSucceeded
	if err := smoke.Check(ctx, h.invoke); err != nil {
		status = cdtypes.LifecycleEventStatusFailed
		h.log.Error("the new version fails the smoke test; the deployment stops and rolls back", "version", h.target, "error", err.Error())
	} else {
		h.log.Info("the new version passes the smoke test", "version", h.target)
	}
	_, err := h.deploy.PutLifecycleEventHookExecutionStatus(ctx, &codedeploy.PutLifecycleEventHookExecutionStatusInput{
		DeploymentId: aws.String(e.DeploymentID), LifecycleEventHookExecutionId: aws.String(e.LifecycleEventHookExecutionID), Status: status,
	})
	if err != nil {
		return fmt.Errorf("report %s to CodeDeploy: %w", status, err)
	}
	return nil
}

// invoker invokes the version at arn synchronously; a function error (it
// crashed, timed out) is an error.
func invoker(c *awslambda.Client, arn string) smoke.Invoke {
	return func(ctx context.Context, payload []byte) ([]byte, error) {
		out, err := c.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String(arn), Payload: payload})
		if err != nil {
			return nil, err
		}
		if out.FunctionError != nil {
			return nil, errors.New(*out.FunctionError + ": " + string(out.Payload))
		}
		return out.Payload, nil
	}
}
