package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
)

type deployments struct {
	got *codedeploy.PutLifecycleEventHookExecutionStatusInput
	err error
}

func (d *deployments) PutLifecycleEventHookExecutionStatus(_ context.Context, in *codedeploy.PutLifecycleEventHookExecutionStatusInput, _ ...func(*codedeploy.Options)) (*codedeploy.PutLifecycleEventHookExecutionStatusOutput, error) {
	d.got = in
	return &codedeploy.PutLifecycleEventHookExecutionStatusOutput{}, d.err
}

// The hook tells CodeDeploy the smoke test's verdict for the execution it
// was given: Failed for a version that cannot answer, which stops the
// deployment. A report that does not reach CodeDeploy is the hook's error.
func TestTheHookReportsTheVerdict(t *testing.T) {
	d := &deployments{}
	h := &hook{deploy: d, log: slog.New(slog.NewJSONHandler(io.Discard, nil)), target: "arn:aws:lambda:eu-west-1:1:function:f:7",
		invoke: func(context.Context, []byte) ([]byte, error) { return nil, errors.New("Unhandled: panic") }}
	if err := h.handle(context.Background(), event{DeploymentID: "d-1", LifecycleEventHookExecutionID: "x-1"}); err != nil {
		t.Fatal(err)
	}
	if d.got == nil || *d.got.DeploymentId != "d-1" || *d.got.LifecycleEventHookExecutionId != "x-1" || d.got.Status != cdtypes.LifecycleEventStatusFailed {
		t.Errorf("reported %+v, want Failed for d-1/x-1", d.got)
	}
	d.err = errors.New("AccessDenied")
	if err := h.handle(context.Background(), event{DeploymentID: "d-1", LifecycleEventHookExecutionID: "x-1"}); err == nil {
		t.Error("a report CodeDeploy refused is no error")
	}
}
