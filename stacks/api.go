package stacks

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53targets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/apierror"
	"github.com/iris-cors/iris-cors-cdk/internal/config"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/internal/site"
)

// ApiStackProps configures the predictor API of one environment.
type ApiStackProps struct {
	awscdk.StackProps
	Config config.Environment // not Env: that would shadow StackProps.Env
	Cors   *CorsPolicy
	Site   *SiteStack   // the API allows the site's origin and deploys the site's content
	Root   string       // the module root (project.Root), where functions/ and site/ are
	Model  *model.Model // what the function serves: the gateway's schema and the site's form follow it
}

// ApiStack is the predict function behind a RestApi with CORS, plus the site
// content and the config.json that tells the page where the API is.
type ApiStack struct {
	awscdk.Stack
	Api      awsapigateway.RestApi
	Function awslambda.Function
	Rollout  *Rollout
	SignIn   *SignIn // nil for an open API
	URL      *string
	// SiteContentRole copies the site into its bucket.
	SiteContentRole awsiam.Role
	// Document is GET /openapi.json, open behind sign-in too.
	Document awsapigateway.Method
}

func NewApiStack(scope constructs.Construct, id string, props *ApiStackProps) *ApiStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	env, policy, siteOrigin := props.Config, props.Cors, props.Site.Origin
	served := props.Model

	fn := newPredictFunction(stack, props)
	alias := newAlias(stack, fn)
	// With sign-in, every method requires a signed-in user's token unless
	// it says otherwise: a route added later is closed, not open. (CDK's
	// preflights say otherwise: a browser sends them without credentials.)
	var signIn *SignIn
	var methods *awsapigateway.MethodOptions
	if env.Auth == config.AuthCognito {
		signIn = newSignIn(stack, env, policy.Origins(siteOrigin))
		methods = &awsapigateway.MethodOptions{Authorizer: signIn.Authorizer, AuthorizationType: awsapigateway.AuthorizationType_COGNITO}
	}

	accessLogs := newLogGroup(stack, "AccessLogs", env)
	api := awsapigateway.NewRestApi(stack, jsii.String("Api"), &awsapigateway.RestApiProps{
		RestApiName:                 jsii.String(props.Model.Name + "-" + env.Name),
		Description:                 jsii.String(served.Title + " with CORS for the demo site"),
		EndpointTypes:               &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		DefaultCorsPreflightOptions: policy.Preflight(siteOrigin),
		DefaultMethodOptions:        methods,
		// Stage logging needs API Gateway's CloudWatch role, which is one
		// per account and region: AccountStack sets it, not each environment.
		CloudWatchRole: jsii.Bool(false),
		Deploy:         jsii.Bool(true),
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            jsii.String(env.Name),
			ThrottlingRateLimit:  jsii.Number(env.ThrottleRate),
			ThrottlingBurstLimit: jsii.Number(env.ThrottleBurst),
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(accessLogs),
			AccessLogFormat:      awsapigateway.AccessLogFormat_JsonWithStandardFields(standardAccessLogFields),
			LoggingLevel:         awsapigateway.MethodLoggingLevel_ERROR,
			DataTraceEnabled:     jsii.Bool(false), // would log request bodies
			MetricsEnabled:       jsii.Bool(true),
			TracingEnabled:       jsii.Bool(true),
		},
	})
	// TLS 1.2 or newer: the legacy TLS_1_0 policy would still let a client
	// negotiate TLS 1.0. (The enhanced SecurityPolicy_* policies also need an
	// endpoint access mode; TLS_1_2 does not.)
	api.Node().DefaultChild().(awsapigateway.CfnRestApi).SetSecurityPolicy(jsii.String("TLS_1_2"))

	// CDK already hashes the methods (OPTIONS included) into the Deployment's
	// logical ID; the fingerprint makes the dependency on CORS explicit and
	// covers settings that only the function or gateway responses see.
	api.LatestDeployment().AddToLogicalId(jsii.String(policy.Fingerprint()))

	// The URL the site calls: the API's custom domain when it has one (TLS
	// 1.2 or newer there too), else the stage's execute-api URL.
	url := api.Url()
	if d := env.APIDomain; d != nil {
		domain := awsapigateway.NewDomainName(stack, jsii.String("Domain"), &awsapigateway.DomainNameProps{
			DomainName:     jsii.String(d.Name),
			Certificate:    certificate(stack, "Api", d),
			EndpointType:   awsapigateway.EndpointType_REGIONAL,
			SecurityPolicy: awsapigateway.SecurityPolicy_TLS_1_2,
			Mapping:        api,
		})
		pointDNS(stack, "Api", d, awsroute53targets.NewApiGatewayDomain(domain), domain.DomainNameAliasDomainName())
		url = jsii.String("https://" + d.Name + "/")
	}

	addGatewayResponses(api, policy, siteOrigin, served)

	// Through the alias, never $LATEST: the version CodeDeploy moved it to.
	integration := awsapigateway.NewLambdaIntegration(alias, &awsapigateway.LambdaIntegrationOptions{Proxy: jsii.Bool(true)})
	validator := api.AddRequestValidator(jsii.String("BodyValidator"), &awsapigateway.RequestValidatorOptions{
		RequestValidatorName:      jsii.String("predict-body"),
		ValidateRequestBody:       jsii.Bool(true),
		ValidateRequestParameters: jsii.Bool(true), // none are required today; cheap to keep on
	})
	requestModel := api.AddModel(jsii.String("PredictRequest"), &awsapigateway.ModelOptions{
		ModelName:   jsii.String("PredictRequest"),
		ContentType: jsii.String("application/json"),
		Description: jsii.String(fmt.Sprintf("One row of the model's features, or {instances: [1..%d rows]}", model.MaxBatch)),
		Schema:      PredictRequestSchema(served),
	})
	api.Root().AddResource(jsii.String("predict"), nil).AddMethod(jsii.String("POST"), integration, &awsapigateway.MethodOptions{
		RequestValidator: validator,
		RequestModels:    &map[string]awsapigateway.IModel{"application/json": requestModel},
	})
	api.Root().AddResource(jsii.String("model"), nil).AddMethod(jsii.String("GET"), integration, nil)
	// The API's description is public, as the page is: a type generator
	// reads it without a token (and learns there where to sign in).
	document := api.Root().AddResource(jsii.String("openapi.json"), nil).AddMethod(jsii.String("GET"), integration, openMethod(signIn))

	if signIn != nil {
		// The document declares the sign-in, discovered at the issuer.
		fn.AddEnvironment(jsii.String("SIGN_IN_ISSUER"), signIn.Issuer, nil)
	}
	rollout := newRollout(stack, env, served.Title, props.Root, fn, alias)
	if props.Config.WantsDashboard() {
		newDashboard(stack, env, served, fn, alias, api)
	}
	siteRole := deploySiteContent(stack, env, props.Site, siteContent(props.Root, served, url, signIn))

	awscdk.NewCfnOutput(stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{
		Value:       url,
		Description: jsii.String("Base URL of the predictor API (POST predict, GET model)"),
	})
	if signIn != nil {
		// For the deploy job's signed-out check and for inviting users.
		awscdk.NewCfnOutput(stack, jsii.String("SignInUrl"), &awscdk.CfnOutputProps{
			Value: signIn.URL, Description: jsii.String("The sign-in (Cognito's hosted domain) the site sends users to"),
		})
		awscdk.NewCfnOutput(stack, jsii.String("UserPoolId"), &awscdk.CfnOutputProps{
			Value: signIn.Pool.UserPoolId(), Description: jsii.String("The user pool: invite users with aws cognito-idp admin-create-user"),
		})
		// What a front end of one's own configures its OpenID client with
		// (the same the site's config.json carries).
		awscdk.NewCfnOutput(stack, jsii.String("SignInIssuer"), &awscdk.CfnOutputProps{
			Value: signIn.Issuer, Description: jsii.String("The OpenID issuer (an OpenID client's authority): its discovery document is at <issuer>/.well-known/openid-configuration"),
		})
		awscdk.NewCfnOutput(stack, jsii.String("SignInClientId"), &awscdk.CfnOutputProps{
			Value: signIn.Client.UserPoolClientId(), Description: jsii.String("The app client (public, authorization code flow with PKCE) a front end signs in with"),
		})
		awscdk.NewCfnOutput(stack, jsii.String("SignInCallbacks"), &awscdk.CfnOutputProps{
			Value:       awscdk.Fn_Join(jsii.String(" "), &signIn.Callbacks),
			Description: jsii.String("Where Cognito sends a user back after sign-in or sign-out: the site and each allowedOrigins entry of cdk.json, with a trailing slash (add a front end's origin there)"),
		})
	}
	return &ApiStack{Stack: stack, Api: api, Function: fn, Rollout: rollout, SignIn: signIn, URL: url, SiteContentRole: siteRole, Document: document}
}

// openMethod leaves the API's default authorizer for an open method, as
// CDK's own preflights do (an authorizer of type NONE): nil without one.
func openMethod(signIn *SignIn) *awsapigateway.MethodOptions {
	if signIn == nil {
		return nil
	}
	return &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_NONE, Authorizer: &noAuthorizer{}}
}

// noAuthorizer has pointer receivers: jsii takes a Go value for an
// interface only by its address.
type noAuthorizer struct{}

func (*noAuthorizer) AuthorizerId() *string { return jsii.String("") }
func (*noAuthorizer) AuthorizationType() awsapigateway.AuthorizationType {
	return awsapigateway.AuthorizationType_NONE
}

// newPredictFunction is the function with its role and log group. The role
// may write its own log group and X-Ray traces and nothing else, so no
// managed policy (AWSLambdaBasicExecutionRole would allow every log group).
func newPredictFunction(stack awscdk.Stack, props *ApiStackProps) awslambda.Function {
	fnLogs := newLogGroup(stack, "PredictLogs", props.Config)
	role := awsiam.NewRole(stack, jsii.String("PredictRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("The predict function: writes its own logs and X-Ray traces, nothing else"),
	})
	fnLogs.GrantWrite(role)
	return awslambda.NewFunction(stack, jsii.String(project.FunctionID), &awslambda.FunctionProps{
		Description:  jsii.String(props.Model.Title + " (Go, " + props.Model.Family + ")"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         goFunctionCode(props.Root, project.FunctionPackage),
		// A prediction is ~5 µs and the process stays under 30 MB: the smallest
		// memory size is plenty, and 5 s bounds a stuck invocation far below
		// API Gateway's 29 s.
		MemorySize:    jsii.Number(128),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(5)),
		Role:          role,
		LogGroup:      fnLogs,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		// Unset reserves none: see config.Environment.ReservedConcurrency.
		ReservedConcurrentExecutions: number(props.Config.ReservedConcurrency),
		// The stage traces too: a request is followed from API Gateway
		// into the function.
		Tracing: awslambda.Tracing_ACTIVE,
		Environment: &map[string]*string{
			"ALLOWED_ORIGINS":   props.Cors.AllowedOriginsEnv(props.Site.Origin),
			"LOG_LEVEL":         jsii.String(props.Config.LogLevel),
			"METRICS_NAMESPACE": jsii.String(MetricsNamespace(props.Config)),
		},
	})
}

// addGatewayResponses gives API Gateway's own errors the function's envelope,
// so clients parse one shape, and CORS headers, so a browser shows them. The
// validator's own message ("Invalid request body") names nothing, so its
// response says what a valid body looks like.
func addGatewayResponses(api awsapigateway.RestApi, policy *CorsPolicy, siteOrigin *string, served *model.Model) {
	envelope := func(code, message string) *string { return jsii.String(apierror.Template(code, message)) }
	badBody, _ := json.Marshal(BadRequestBodyMessage(served))
	for _, r := range []struct {
		id       string
		t        awsapigateway.ResponseType
		template *string
	}{
		{"Cors4XX", awsapigateway.ResponseType_DEFAULT_4XX(), envelope(`"$context.error.responseType"`, "$context.error.messageString")},
		{"Cors5XX", awsapigateway.ResponseType_DEFAULT_5XX(), envelope(`"$context.error.responseType"`, "$context.error.messageString")},
		{"CorsBadRequestBody", awsapigateway.ResponseType_BAD_REQUEST_BODY(), envelope(`"invalid_input"`, string(badBody))},
	} {
		api.AddGatewayResponse(jsii.String(r.id), &awsapigateway.GatewayResponseOptions{
			Type:            r.t,
			ResponseHeaders: ptrMap(policy.GatewayResponseHeaders(siteOrigin)),
			Templates:       &map[string]*string{"application/json": r.template},
		})
	}
}

// siteContent is the site for this API (internal/site: its published
// files, its pages with a policy naming this API, its config.json).
func siteContent(root string, m *model.Model, apiURL *string, signIn *SignIn) site.Content {
	content := site.Content{Dir: filepath.Join(root, "site"), APIURL: *apiURL, Model: m}
	if signIn != nil {
		content.SignIn = &site.SignIn{URL: *signIn.URL, ClientID: signIn.Client.UserPoolClientId(), Issuer: signIn.Issuer}
	}
	return content
}

// deploySiteContent deploys content into the bucket of env's site, and
// invalidates its distribution. It returns the role that does it.
func deploySiteContent(stack awscdk.Stack, env config.Environment, to *SiteStack, content site.Content) awsiam.Role {
	sources, err := siteSources(content)
	if err != nil {
		panic(err)
	}
	// The handler's role and log group are ours, not the construct's: its
	// own role carries AWSLambdaBasicExecutionRole (every log group of the
	// account), its own log group outlives even a dev environment.
	logs := newLogGroup(stack, "SiteContentLogs", env)
	role := awsiam.NewRole(stack, jsii.String("SiteContentRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Copies the site into its bucket: its own logs, the site's and the CDK asset bucket's objects, this distribution's invalidations"),
	})
	logs.GrantWrite(role)
	awss3deployment.NewBucketDeployment(stack, jsii.String("SiteContent"), &awss3deployment.BucketDeploymentProps{
		Sources:           &sources,
		DestinationBucket: to.Bucket,
		Distribution:      to.Distribution,
		DistributionPaths: jsii.Strings("/*"),
		MemoryLimit:       jsii.Number(256),
		Role:              role,
		LogGroup:          logs,
	})
	// The construct allows its handler cloudfront:*Invalidation on every
	// distribution; this deny leaves it this site's distribution only.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Effect:       awsiam.Effect_DENY,
		Actions:      jsii.Strings("cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"),
		NotResources: &[]*string{to.Distribution.DistributionArn()},
	}))
	return role
}

// siteSources are c as a BucketDeployment takes it: its published files
// but the pages as they are (an asset of site/ that excludes everything
// else), each page with its policy, and config.json, whose values may be
// tokens the deployment resolves.
func siteSources(c site.Content) ([]awss3deployment.ISource, error) {
	pages, err := c.Pages()
	if err != nil {
		return nil, err
	}
	exclude, err := site.Unpublished(c.Dir)
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		exclude = append(exclude, p.Name)
	}
	// The asset's patterns are globs: a name's own [, *, ? and \ are
	// escaped to mean themselves.
	for i, e := range exclude {
		exclude[i] = globEscaper.Replace(e)
	}
	var config map[string]any
	raw, err := json.Marshal(c.Config())
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &config); err != nil {
		return nil, err
	}
	sources := []awss3deployment.ISource{
		awss3deployment.Source_Asset(jsii.String(c.Dir), &awss3assets.AssetOptions{Exclude: jsii.Strings(exclude...)}),
		awss3deployment.Source_JsonData(jsii.String(site.ConfigFile), config, nil),
	}
	for _, p := range pages {
		sources = append(sources, awss3deployment.Source_Data(jsii.String(p.Name), jsii.String(p.Content), nil))
	}
	return sources, nil
}

var globEscaper = strings.NewReplacer(`\`, `\\`, "[", `\[`, "*", `\*`, "?", `\?`)

var standardAccessLogFields = &awsapigateway.JsonWithStandardFieldProps{
	Caller: jsii.Bool(false), HttpMethod: jsii.Bool(true), Ip: jsii.Bool(true), Protocol: jsii.Bool(true),
	RequestTime: jsii.Bool(true), ResourcePath: jsii.Bool(true), ResponseLength: jsii.Bool(true),
	Status: jsii.Bool(true), User: jsii.Bool(false),
}

// PredictRequestSchema is the API Gateway model (JSON Schema draft 4) of the
// POST /predict body: the model's request schema as the gateway checks it,
// types and the batch's size only (model.RequestSchema says why), null
// where the model takes missing values.
func PredictRequestSchema(m *model.Model) *awsapigateway.JsonSchema {
	s := gatewaySchema(m.RequestSchema(false))
	s.Schema = awsapigateway.JsonSchemaVersion_DRAFT4
	return s
}

// gatewaySchema renders a model schema as CDK's JsonSchema: a nullable
// type becomes draft 4's [type, "null"].
func gatewaySchema(s *model.Schema) *awsapigateway.JsonSchema {
	out := &awsapigateway.JsonSchema{Title: optional(s.Title), Description: optional(s.Description), MinItems: number(s.MinItems), MaxItems: number(s.MaxItems)}
	if s.Type != "" {
		t, ok := schemaTypes[s.Type]
		if !ok {
			panic(fmt.Sprintf("gatewaySchema: JSON Schema type %q has no CDK JsonSchemaType", s.Type))
		}
		out.Type = t
		if s.Nullable {
			out.Type = []awsapigateway.JsonSchemaType{t, awsapigateway.JsonSchemaType_NULL}
		}
	}
	if s.Closed {
		out.AdditionalProperties = false
	}
	if len(s.Required) > 0 {
		out.Required = jsii.Strings(s.Required...)
	}
	if s.Items != nil {
		out.Items = gatewaySchema(s.Items)
	}
	if len(s.Properties) > 0 {
		props := map[string]*awsapigateway.JsonSchema{}
		for name, p := range s.Properties {
			props[name] = gatewaySchema(p)
		}
		out.Properties = &props
	}
	for _, a := range s.AnyOf {
		if out.AnyOf == nil {
			out.AnyOf = &[]*awsapigateway.JsonSchema{}
		}
		*out.AnyOf = append(*out.AnyOf, gatewaySchema(a))
	}
	return out
}

// schemaTypes are CDK's names of the JSON Schema types the model's schemas use.
var schemaTypes = map[string]awsapigateway.JsonSchemaType{
	"object": awsapigateway.JsonSchemaType_OBJECT, "array": awsapigateway.JsonSchemaType_ARRAY,
	"number": awsapigateway.JsonSchemaType_NUMBER, "string": awsapigateway.JsonSchemaType_STRING,
	"integer": awsapigateway.JsonSchemaType_INTEGER, "boolean": awsapigateway.JsonSchemaType_BOOLEAN,
}

// number is an optional count as jsii takes it: nil stays unset.
func number(n *int) *float64 {
	if n == nil {
		return nil
	}
	return jsii.Number(*n)
}

// newLogGroup sets the retention in days on the CloudFormation resource (the
// L2 construct takes it only as an enum, and the config speaks in days). A
// production environment keeps its logs when the stack is deleted: they are
// the record of what happened to it.
func newLogGroup(scope constructs.Construct, id string, env config.Environment) awslogs.LogGroup {
	removal := awscdk.RemovalPolicy_DESTROY
	if env.Production {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	lg := awslogs.NewLogGroup(scope, jsii.String(id), &awslogs.LogGroupProps{RemovalPolicy: removal})
	lg.Node().DefaultChild().(awslogs.CfnLogGroup).SetRetentionInDays(jsii.Number(env.LogRetentionDays))
	return lg
}

// BadRequestBodyMessage is what a client reads when the gateway's validator
// rejects a body: the fields, each with its JSON type.
func BadRequestBodyMessage(m *model.Model) string {
	var numbers, texts []string
	for _, f := range m.Features {
		if f.IsCategory() && !f.Categories[0].IsNumber {
			texts = append(texts, f.Name)
		} else {
			numbers = append(numbers, f.Name)
		}
	}
	var fields []string
	if len(numbers) > 0 {
		fields = append(fields, "the numbers "+strings.Join(numbers, ", "))
	}
	if len(texts) > 0 {
		fields = append(fields, "the strings "+strings.Join(texts, ", "))
	}
	return fmt.Sprintf("The request body must be a JSON object with %s, or {\"instances\": [...]} with 1 to %d such objects. GET /model describes the fields.",
		strings.Join(fields, " and "), model.MaxBatch)
}

func ptrMap(m map[string]*string) *map[string]*string { return &m }
