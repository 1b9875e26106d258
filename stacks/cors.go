package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
)

// CorsPolicy is where CORS is decided: which origins may call the API, with
// which methods and headers, for how long a preflight is cached, and which API
// host the site's Content-Security-Policy lets the page connect to. Every
// consumer (preflight OPTIONS methods, gateway error responses, the function's
// ALLOWED_ORIGINS, the CSP) reads it from here; nothing re-types an origin.
type CorsPolicy struct {
	// Extra are the environment's allowed origins besides its own site.
	Extra []string
	// Methods and Headers are what the site's fetch uses: POST with a JSON body
	// (which makes the request non-simple, hence the preflight) and GET /model.
	Methods []string
	Headers []string
	MaxAge  int // seconds
	Region  string
	// APIHost is the API's custom domain, if it has one.
	APIHost string
	// Production gateway responses name the site's origin only (see
	// GatewayResponseHeaders).
	Production bool
	// SignIn: the page signs in (config.AuthCognito) and sends its token in
	// the Authorization header, never a cookie (credentials stay off), and
	// connects to the sign-in's token endpoint.
	SignIn bool
}

// NewCorsPolicy derives the policy of one environment from its config.
func NewCorsPolicy(env config.Environment) *CorsPolicy {
	p := &CorsPolicy{
		Extra:      env.AllowedOrigins,
		Methods:    []string{"GET", "POST", "OPTIONS"},
		Headers:    []string{"Content-Type"},
		MaxAge:     env.CorsMaxAgeSeconds,
		Region:     env.Region,
		Production: env.Production,
	}
	if env.APIDomain != nil {
		p.APIHost = env.APIDomain.Name
	}
	if env.Auth == config.AuthCognito {
		p.SignIn = true
		p.Headers = append(p.Headers, "Authorization")
	}
	return p
}

// Origins lists every allowed origin, the site's first. siteOrigin is usually a
// token (the CloudFront domain is known only at deploy time), which is why the
// list is []*string and why the site comes first: CDK answers the first origin
// statically and only the others through VTL.
func (p *CorsPolicy) Origins(siteOrigin *string) []*string {
	return append([]*string{siteOrigin}, *jsii.Strings(p.Extra...)...)
}

// Preflight is the RestApi's DefaultCorsPreflightOptions: CDK adds a MOCK
// OPTIONS method answering 204 on every resource.
func (p *CorsPolicy) Preflight(siteOrigin *string) *awsapigateway.CorsOptions {
	origins := p.Origins(siteOrigin)
	return &awsapigateway.CorsOptions{
		AllowOrigins: &origins,
		AllowMethods: jsii.Strings(p.Methods...),
		AllowHeaders: jsii.Strings(p.Headers...),
		MaxAge:       awscdk.Duration_Seconds(jsii.Number(p.MaxAge)),
		StatusCode:   jsii.Number(204),
	}
}

// GatewayResponseHeaders are the headers of the DEFAULT_4XX/5XX gateway
// responses (validator 400s, 403 for unknown paths, 429 throttling, 5xx):
// CORS, so that a browser shows the real status instead of a CORS error,
// and nosniff, as on the function's own answers.
//
// API Gateway can set these only statically or from the request, never
// conditionally. With one allowed origin, and always in production, it is
// the site's origin, statically: a production gateway never echoes an
// Origin (the guard refuses it), so another allowed production origin sees
// a CORS error in place of a gateway error (docs/security.md says so). In other
// environments with several origins, Access-Control-Allow-Origin echoes
// the request's Origin, whatever it is: the gateway's error bodies hold
// nothing private and credentials are never allowed, so letting any page
// read "Missing Authentication Token" exposes nothing. The preflights and
// the function still echo only allowed origins, so no other page can make
// a successful call.
func (p *CorsPolicy) GatewayResponseHeaders(siteOrigin *string) map[string]*string {
	h := map[string]*string{"Vary": jsii.String("'Origin'"), "X-Content-Type-Options": jsii.String("'nosniff'")}
	if len(p.Extra) == 0 || p.Production {
		h["Access-Control-Allow-Origin"] = awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("'"), siteOrigin, jsii.String("'")})
	} else {
		h["Access-Control-Allow-Origin"] = jsii.String(echoOrigin)
	}
	return h
}

// echoOrigin is API Gateway's mapping of a header to the request's Origin.
const echoOrigin = "method.request.header.Origin"

// AllowedOriginsEnv is the function's ALLOWED_ORIGINS variable.
func (p *CorsPolicy) AllowedOriginsEnv(siteOrigin *string) *string {
	origins := p.Origins(siteOrigin)
	return awscdk.Fn_Join(jsii.String(","), &origins)
}

// ConnectSrc is the connect-src of CloudFront's CSP header: the site itself
// (for config.json) and the API's custom domain or, without one, the regional
// API Gateway hosts. The site stack cannot name the exact API host, because
// the API stack depends on the site and not the other way round; the page the
// API stack deploys narrows it to this API (internal/site).
func (p *CorsPolicy) ConnectSrc() string {
	src := fmt.Sprintf("'self' https://*.execute-api.%s.amazonaws.com", p.Region)
	if p.APIHost != "" {
		src = "'self' https://" + p.APIHost
	}
	if p.SignIn {
		// The token endpoint of the region's Cognito domains; the page's own
		// policy names the environment's.
		src += fmt.Sprintf(" https://*.auth.%s.amazoncognito.com", p.Region)
	}
	return src
}

// Fingerprint changes whenever a CORS setting changes; it is mixed into the API
// Deployment's logical ID so `cdk deploy` redeploys the stage (the tutorial's
// "redeploy the API after changing CORS", made automatic).
func (p *CorsPolicy) Fingerprint() string {
	return fmt.Sprintf("cors:%s|%s|%s|%d", strings.Join(p.Extra, ","), strings.Join(p.Methods, ","), strings.Join(p.Headers, ","), p.MaxAge)
}
