package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
)

// LiveAlias is the alias the API invokes: the version CodeDeploy has moved
// the traffic to.
const LiveAlias = "live"

// Rollout is how a new version of the function reaches the traffic: each
// deploy publishes a version, and CodeDeploy moves the alias the API
// invokes to it (all at once, as a canary or in linear steps, per
// environment), after a smoke test of the version and unless an alarm
// fires, rolling back if either fails.
type Rollout struct {
	Alias  awslambda.Alias
	Group  awscodedeploy.LambdaDeploymentGroup
	Hook   awslambda.Function
	Alarms []awscloudwatch.Alarm
	Topic  awssns.Topic // where the alarms go
}

// newAlias publishes fn's version and the alias on it.
func newAlias(stack awscdk.Stack, fn awslambda.Function) awslambda.Alias {
	return awslambda.NewAlias(stack, jsii.String("Live"), &awslambda.AliasProps{
		AliasName:   jsii.String(LiveAlias),
		Version:     fn.CurrentVersion(),
		Description: jsii.String("The version the API serves; CodeDeploy moves it"),
	})
}

// newRollout adds the deployment group, its smoke test (built from the
// module at root) and its alarms, named for title.
func newRollout(stack awscdk.Stack, env config.Environment, title, root string, fn awslambda.Function, alias awslambda.Alias) *Rollout {
	r := &Rollout{Alias: alias, Hook: newSmokeTest(stack, env, root, fn)}
	r.Alarms = newAlarms(stack, env, title, alias)
	r.Topic = awssns.NewTopic(stack, jsii.String("Alarms"), &awssns.TopicProps{
		DisplayName: jsii.String(title + " (" + env.Name + ") alarms"),
		EnforceSSL:  jsii.Bool(true),
	})
	if env.AlarmEmail != "" {
		r.Topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(env.AlarmEmail), nil))
	}
	var alarms []interfacesawscloudwatch.IAlarmRef
	for _, a := range r.Alarms {
		a.AddAlarmAction(awscloudwatchactions.NewSnsAction(r.Topic))
		alarms = append(alarms, a)
	}
	r.Group = awscodedeploy.NewLambdaDeploymentGroup(stack, jsii.String("Rollout"), &awscodedeploy.LambdaDeploymentGroupProps{
		Alias: alias,
		DeploymentConfig: awscodedeploy.LambdaDeploymentConfig_FromLambdaDeploymentConfigName(stack, jsii.String("TrafficShift"),
			jsii.String("CodeDeployDefault.Lambda"+env.TrafficShift)),
		Alarms:       &alarms,
		AutoRollback: &awscodedeploy.AutoRollbackConfig{FailedDeployment: jsii.Bool(true), StoppedDeployment: jsii.Bool(true), DeploymentInAlarm: jsii.Bool(true)},
		PreHook:      r.Hook,
	})
	return r
}

// newSmokeTest is the BeforeAllowTraffic hook (functions/prehook): it may
// invoke the version being deployed and nothing else; CDK lets it report to
// its own deployment group only.
func newSmokeTest(stack awscdk.Stack, env config.Environment, root string, fn awslambda.Function) awslambda.Function {
	logs := newLogGroup(stack, "SmokeTestLogs", env)
	role := awsiam.NewRole(stack, jsii.String("SmokeTestRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("The smoke test of a new version: invokes that version, reports to its deployment, writes its own logs"),
	})
	logs.GrantWrite(role)
	version := fn.CurrentVersion()
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: &[]*string{version.FunctionArn()},
	}))
	return awslambda.NewFunction(stack, jsii.String("SmokeTest"), &awslambda.FunctionProps{
		Description:  jsii.String("Before traffic moves: the new version answers its model's examples and refuses a bad body"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         goFunctionCode(root, "./functions/prehook"),
		MemorySize:   jsii.Number(128),
		// The version's cold start and a few examples: seconds at most.
		Timeout:       awscdk.Duration_Seconds(jsii.Number(60)),
		Role:          role,
		LogGroup:      logs,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		Environment:   &map[string]*string{"TARGET_VERSION": version.FunctionArn()},
	})
}

// newAlarms are the alarms that stop and roll back a deployment: the new
// version's own errors and p99 duration, through the alias. A quiet period
// is no alarm. Nothing a caller controls moves them: the stage's 5XX rate,
// its latency and the alias's throttles can be driven by anyone who can
// reach the API (a body over Lambda's 6 MB invoke limit, a burst beyond
// the reserved concurrency), so they would let an anonymous caller roll a
// good version back and page its people; the dashboard shows them instead.
func newAlarms(stack awscdk.Stack, env config.Environment, title string, alias awslambda.Alias) []awscloudwatch.Alarm {
	a := env.Alarms
	minute := awscdk.Duration_Minutes(jsii.Number(1))
	alarm := func(id string, metric awscloudwatch.IMetric, threshold float64, periods int, what string) awscloudwatch.Alarm {
		return awscloudwatch.NewAlarm(stack, jsii.String(id), &awscloudwatch.AlarmProps{
			Metric:             metric,
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(periods),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
			AlarmDescription:   jsii.String(fmt.Sprintf("%s (%s): %s; stops and rolls back a deployment in progress", title, env.Name, what)),
		})
	}
	return []awscloudwatch.Alarm{
		alarm("FunctionErrors", alias.MetricErrors(&awscloudwatch.MetricOptions{Period: minute, Statistic: jsii.String("Sum")}),
			float64(a.FunctionErrors), 1, fmt.Sprintf("%d or more function errors in a minute", a.FunctionErrors)),
		alarm("FunctionP99Duration", alias.MetricDuration(&awscloudwatch.MetricOptions{Period: minute, Statistic: jsii.String("p99")}),
			float64(a.P99LatencyMs), 3, fmt.Sprintf("the function's p99 duration %d ms or more, three minutes running", a.P99LatencyMs)),
	}
}
