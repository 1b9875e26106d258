package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
	"github.com/iris-cors/iris-cors-cdk/internal/emf"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
)

// MetricsNamespace is where the function puts its own metrics (the
// Embedded Metric Format lines of its log): predictions per class or value
// and rejections per reason, by model version.
func MetricsNamespace(env config.Environment) string { return "Predictor/" + env.Name }

// newDashboard shows what the API and the model are doing: the stage's
// requests, errors and latency, the function's latency, throttles and
// concurrency, and what each model version predicts, so a shift after a
// deploy is seen at a glance.
func newDashboard(stack awscdk.Stack, env config.Environment, m *model.Model, fn awslambda.Function, alias awslambda.Alias, api awsapigateway.RestApi) awscloudwatch.Dashboard {
	five := awscdk.Duration_Minutes(jsii.Number(5))
	stat := func(s string) *awscloudwatch.MetricOptions {
		return &awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String(s)}
	}
	graph := func(title string, metrics ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: &metrics, Width: jsii.Number(12)})
	}
	concurrency := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String("AWS/Lambda"), MetricName: jsii.String("ConcurrentExecutions"),
		DimensionsMap: &map[string]*string{"FunctionName": fn.FunctionName()}, Period: five, Statistic: jsii.String("Maximum"),
	})
	return awscloudwatch.NewDashboard(stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		Widgets: &[]*[]awscloudwatch.IWidget{
			{
				graph("Requests, 4XX and 5XX", api.MetricCount(stat("Sum")), api.MetricClientError(stat("Sum")), api.MetricServerError(stat("Sum"))),
				graph("Latency: stage p50/p99, function p50/p99 (ms)", api.MetricLatency(stat("p50")), api.MetricLatency(stat("p99")),
					alias.MetricDuration(stat("p50")), alias.MetricDuration(stat("p99"))),
			},
			{
				graph("Throttles and concurrency", alias.MetricThrottles(stat("Sum")), concurrency),
				graph(predictionsTitle(m), search(env, m)),
			},
			{
				graph("Rejected requests, by reason and model version", awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
					Expression: jsii.String(fmt.Sprintf(`SEARCH('{%s,%s,%s} MetricName="%s"', 'Sum', 300)`, MetricsNamespace(env), emf.DimVersion, emf.DimReason, emf.Rejections)),
					Period:     five,
				})),
			},
		},
	})
}

func predictionsTitle(m *model.Model) string {
	if m.Task == model.Regression {
		return "Predicted " + m.Target + ", average by model version"
	}
	return "Predictions per class (" + m.Target + ") and model version"
}

// search finds the function's prediction metrics of every model version.
func search(env config.Environment, m *model.Model) awscloudwatch.IMetric {
	expr := fmt.Sprintf(`SEARCH('{%s,%s,%s} MetricName="%s"', 'Sum', 300)`, MetricsNamespace(env), emf.DimVersion, emf.DimClass, emf.Predictions)
	if m.Task == model.Regression {
		expr = fmt.Sprintf(`SEARCH('{%s,%s} MetricName="%s"', 'Average', 300)`, MetricsNamespace(env), emf.DimVersion, emf.Prediction)
	}
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{Expression: jsii.String(expr), Period: awscdk.Duration_Minutes(jsii.Number(5))})
}
