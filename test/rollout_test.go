package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
	"github.com/iris-cors/iris-cors-cdk/stacks"
)

// id is the one logical ID of a resource type (with props) in a template.
func id(t *testing.T, tmpl assertions.Template, typ string, props obj) string {
	t.Helper()
	var found map[string]map[string]any
	check(t, func() {
		found = map[string]map[string]any{}
		for k, v := range *tmpl.FindResources(jsii.String(typ), obj{"Properties": like(props)}) {
			found[k] = *v
		}
	})
	if len(found) != 1 {
		t.Fatalf("%d %s resources like %v, want 1", len(found), typ, props)
	}
	for k := range found {
		return k
	}
	return ""
}

// A new version reaches the traffic only through CodeDeploy: the API
// invokes the alias (never $LATEST), CodeDeploy shifts it as the
// environment says, after the smoke test and rolling back on failure or
// alarm, the two alarms named; the smoke test may invoke the new version
// and report to its own deployment group, nothing else.
func TestNewVersionsRollOutThroughCodeDeploy(t *testing.T) {
	run := func(t *testing.T, e config.Environment, d *synthesized) {
		api := d.api
		fn := id(t, api, "AWS::Lambda::Function", obj{"Handler": "bootstrap", "Environment": like(obj{"Variables": like(obj{"ALLOWED_ORIGINS": present})})})
		version := id(t, api, "AWS::Lambda::Version", obj{"FunctionName": obj{"Ref": fn}})
		alias := id(t, api, "AWS::Lambda::Alias", obj{"Name": stacks.LiveAlias, "FunctionName": obj{"Ref": fn}, "FunctionVersion": obj{"Fn::GetAtt": []any{version, "Version"}}})
		hook := id(t, api, "AWS::Lambda::Function", obj{"Environment": obj{"Variables": obj{"TARGET_VERSION": obj{"Ref": version}}}})
		group := id(t, api, "AWS::CodeDeploy::DeploymentGroup", obj{})
		check(t, func() {
			for _, m := range *api.FindResources(jsii.String("AWS::ApiGateway::Method"), obj{"Properties": like(obj{"Integration": like(obj{"Type": "AWS_PROXY"})})}) {
				uri := fmt.Sprint((*m)["Properties"].(map[string]any)["Integration"].(map[string]any)["Uri"])
				if !strings.Contains(uri, "Ref:"+alias) || strings.Contains(uri, fn+" Arn") {
					t.Errorf("a method integrates %s, not the alias %s", uri, alias)
				}
			}
			api.HasResource(jsii.String("AWS::Lambda::Alias"), obj{"UpdatePolicy": obj{"CodeDeployLambdaAliasUpdate": like(obj{
				"DeploymentGroupName": obj{"Ref": group}, "BeforeAllowTrafficHook": obj{"Ref": hook},
			})}})
			alarms := []any{}
			for _, name := range []string{"FunctionErrors", "FunctionP99Duration"} {
				alarms = append(alarms, obj{"Name": obj{"Ref": matches("^" + name)}})
			}
			api.HasResourceProperties(jsii.String("AWS::CodeDeploy::DeploymentGroup"), obj{
				"DeploymentConfigName":      "CodeDeployDefault.Lambda" + e.TrafficShift,
				"AutoRollbackConfiguration": obj{"Enabled": true, "Events": []any{"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST", "DEPLOYMENT_STOP_ON_ALARM"}},
				"AlarmConfiguration":        obj{"Enabled": true, "Alarms": alarms},
			})
			api.HasResourceProperties(jsii.String("AWS::IAM::Policy"), obj{"PolicyDocument": like(obj{"Statement": []any{
				obj{"Effect": "Allow", "Action": []any{"logs:CreateLogStream", "logs:PutLogEvents"}, "Resource": obj{"Fn::GetAtt": []any{matches("^SmokeTestLogs"), "Arn"}}},
				obj{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": obj{"Ref": version}},
				obj{"Effect": "Allow", "Action": "codedeploy:PutLifecycleEventHookExecutionStatus", "Resource": obj{"Fn::Join": []any{"", arrayWith(obj{"Ref": group})}}},
			}}), "Roles": []any{obj{"Ref": matches("^SmokeTestRole")}}})
		})
	}
	eachEnv(t, func(t *testing.T, _ *caller, e config.Environment, d *synthesized) { run(t, e, d) })
	t.Run("customized", func(t *testing.T) {
		e, d := customizedProd(t)
		run(t, e, d)
	})
}

// What rolls a deployment back, or pages anyone, measures the new version
// itself: Lambda's metrics of the function through the alias the API
// invokes. None is the stage's (its 5XX rate, its latency) or the alias's
// throttles: any caller can move those, e.g. with a body between Lambda's
// 6 MB and API Gateway's 10 MB, which API Gateway refuses with 413 before
// the function runs (TestABodyOverLambdasLimitNeverReachesTheFunction,
// internal/emulator/apigw), so no alarm here moves for it.
func TestRollbackAlarmsMeasureTheVersion(t *testing.T) {
	eachEnv(t, func(t *testing.T, _ *caller, e config.Environment, d *synthesized) {
		fn := id(t, d.api, "AWS::Lambda::Function", obj{"Handler": "bootstrap", "Environment": like(obj{"Variables": like(obj{"ALLOWED_ORIGINS": present})})})
		alias := obj{"Name": "Resource", "Value": obj{"Fn::Join": []any{"", []any{obj{"Ref": fn}, ":" + stacks.LiveAlias}}}}
		alarms := *d.api.FindResources(jsii.String("AWS::CloudWatch::Alarm"), nil)
		if len(alarms) == 0 {
			t.Fatal("no alarms")
		}
		for name, a := range alarms {
			p := (*a)["Properties"].(map[string]any)
			dims, _ := json.Marshal(p["Dimensions"])
			want, _ := json.Marshal(alias)
			if p["Namespace"] != "AWS/Lambda" || p["Metrics"] != nil || !strings.Contains(string(dims), string(want)) {
				t.Errorf("alarm %s measures %v %v %s, not the function through its alias: a caller could move it", name, p["Namespace"], p["MetricName"], dims)
			}
			if p["MetricName"] == "Throttles" {
				t.Errorf("alarm %s measures throttles, which a burst of callers causes", name)
			}
		}
	})
}

// The alarms have the environment's thresholds, tell the alarm topic, and
// a quiet minute is no alarm; an alarm email subscribes; the function puts
// its metrics in the environment's namespace, which the dashboard (where
// the environment has one) reads.
func TestAlarmsTopicAndDashboard(t *testing.T) {
	run := func(t *testing.T, e config.Environment, d *synthesized) {
		api := d.api
		topic := id(t, api, "AWS::SNS::Topic", obj{})
		a := e.Alarms
		check(t, func() {
			for metric, threshold := range map[string]float64{"Errors": float64(a.FunctionErrors), "Duration": float64(a.P99LatencyMs)} {
				api.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), obj{
					"MetricName": metric, "Threshold": threshold, "TreatMissingData": "notBreaching", "AlarmActions": []any{obj{"Ref": topic}},
				})
			}
			api.ResourceCountIs(jsii.String("AWS::CloudWatch::Alarm"), jsii.Number(2))
			subscriptions := 0
			if e.AlarmEmail != "" {
				subscriptions = 1
				api.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), obj{"Protocol": "email", "Endpoint": e.AlarmEmail, "TopicArn": obj{"Ref": topic}})
			}
			api.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(subscriptions))
			api.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj{"Environment": obj{"Variables": like(obj{"METRICS_NAMESPACE": stacks.MetricsNamespace(e)})}})
			dashboards := 0
			if e.WantsDashboard() {
				dashboards = 1
				api.HasResourceProperties(jsii.String("AWS::CloudWatch::Dashboard"), obj{"DashboardBody": obj{"Fn::Join": []any{"", arrayWith(
					matches(`SEARCH\('\{` + strings.ReplaceAll(stacks.MetricsNamespace(e), "/", `\/`) + `,ModelVersion,Class\} MetricName=\\"Predictions\\"'`),
				)}}})
			}
			api.ResourceCountIs(jsii.String("AWS::CloudWatch::Dashboard"), jsii.Number(dashboards))
		})
	}
	eachEnv(t, func(t *testing.T, _ *caller, e config.Environment, d *synthesized) { run(t, e, d) })
	t.Run("customized", func(t *testing.T) {
		e, d := customizedProd(t)
		run(t, e, d)
	})
}
