// Package config reads and checks the deployment environments declared in
// cdk.json's "environments" context, so a mistake fails synth with a message
// naming the key and value instead of surfacing as a broken deployment.
package config

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/iris-cors/iris-cors-cdk/internal/cors"
)

// Environment is one deployment target: a CDK Stage holding a SiteStack and an
// ApiStack.
type Environment struct {
	Name string `json:"-"`
	// Account defaults to CDK_DEFAULT_ACCOUNT; synth needs none.
	Account string `json:"account,omitempty"`
	Region  string `json:"region"`
	// Qualifier names the environment's own CDK bootstrap (`make bootstrap`):
	// its deploy, publishing and execution roles and asset bucket, so no
	// other environment's deploy can use them. It defaults to the name
	// without dashes, cut to 10 characters.
	Qualifier string `json:"qualifier,omitempty"`
	// Production turns on the guards (no http://, localhost or * origins) and
	// keeps the site bucket when the stack is destroyed.
	Production bool `json:"production,omitempty"`
	// AllowedOrigins are origins allowed besides the environment's own site,
	// e.g. http://localhost:8080 for a developer's browser.
	AllowedOrigins []string `json:"allowedOrigins,omitempty"`
	// Throttling of the API stage: steady requests per second and burst.
	ThrottleRate  float64 `json:"throttleRateLimit"`
	ThrottleBurst int     `json:"throttleBurstLimit"`
	// LogRetentionDays must be a value CloudWatch Logs accepts.
	LogRetentionDays int    `json:"logRetentionDays"`
	LogLevel         string `json:"logLevel,omitempty"`
	// CorsMaxAgeSeconds is how long browsers may cache a preflight answer.
	CorsMaxAgeSeconds int `json:"corsMaxAgeSeconds"`
	// ReservedConcurrency reserves, and caps, the function's concurrent
	// executions; nil reserves none (docs/configuration.md: new accounts cannot).
	ReservedConcurrency *int `json:"reservedConcurrency,omitempty"`
	// SiteDomain and APIDomain serve the site and the API on custom domains.
	SiteDomain *Domain `json:"siteDomain,omitempty"`
	APIDomain  *Domain `json:"apiDomain,omitempty"`
	// TrafficShift is how CodeDeploy moves the API's traffic to a new
	// version of the function: one of CodeDeploy's predefined Lambda
	// configurations (TrafficShifts). Production defaults to a canary, the
	// others to all at once.
	TrafficShift string `json:"trafficShift,omitempty"`
	// Alarms roll a deployment back, and notify AlarmEmail when set.
	Alarms     Alarms `json:"alarms"`
	AlarmEmail string `json:"alarmEmail,omitempty"`
	// Auth is who may call the API: "" (anyone, throttled) or "cognito"
	// (signed-in users of the environment's Cognito user pool; the page
	// signs in). A value, not a switch: other kinds may follow.
	Auth string `json:"auth,omitempty"`
	// Dashboard builds the environment's CloudWatch dashboard; production
	// has one unless it says false, the others only when they say true.
	Dashboard *bool `json:"dashboard,omitempty"`
}

// Alarms are the thresholds of the alarms that roll a deployment back, on
// the new version itself. The defaults are far above what a demo's traffic
// reaches.
type Alarms struct {
	FunctionErrors int `json:"functionErrors"` // errors of the function in a minute
	P99LatencyMs   int `json:"p99LatencyMs"`   // the function's p99 duration, three minutes running
	// Throttles and API5XXPercent were alarms on what any caller can move
	// (a burst, a body over Lambda's limit): refused, with the reason, so a
	// cdk.json that still sets them learns why they are gone.
	Throttles     *int     `json:"throttles,omitempty"`
	API5XXPercent *float64 `json:"api5xxPercent,omitempty"`
}

// TrafficShifts are CodeDeploy's predefined Lambda deployment
// configurations, without their CodeDeployDefault.Lambda prefix.
var TrafficShifts = []string{
	"AllAtOnce", "Canary10Percent5Minutes", "Canary10Percent10Minutes", "Canary10Percent15Minutes", "Canary10Percent30Minutes",
	"Linear10PercentEvery1Minute", "Linear10PercentEvery2Minutes", "Linear10PercentEvery3Minutes", "Linear10PercentEvery10Minutes",
}

// AuthCognito is Auth for a Cognito user pool.
const AuthCognito = "cognito"

// WantsDashboard says whether the environment gets a dashboard.
func (e Environment) WantsDashboard() bool {
	if e.Dashboard != nil {
		return *e.Dashboard
	}
	return e.Production
}

// The stacks of an environment's Stage, by construct ID: CloudFormation
// names them <environment>-<ID>, and the resources in them (functions, roles,
// buckets in lower case) by a name that starts with that.
const SiteStackID, APIStackID = "Site", "Api"

// StackNames are the CloudFormation stacks of e's Stage, as CDK names them.
func (e Environment) StackNames() []string {
	return []string{e.Name + "-" + SiteStackID, e.Name + "-" + APIStackID}
}

// Domain is a custom domain name with its ACM certificate and, optionally,
// the Route 53 hosted zone to write its alias records into.
type Domain struct {
	Name           string `json:"name"`
	CertificateArn string `json:"certificateArn"`
	HostedZoneID   string `json:"hostedZoneId,omitempty"`
	HostedZoneName string `json:"hostedZoneName,omitempty"`
}

var (
	hostname       = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	certificateArn = regexp.MustCompile(`^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[A-Za-z0-9-]+$`)
	hostedZoneID   = regexp.MustCompile(`^Z[A-Z0-9]{1,32}$`)
)

// check validates d, found at key, whose certificate must be in region
// (why says why).
func (d *Domain) check(key, region, why string) error {
	switch m := certificateArn.FindStringSubmatch(d.CertificateArn); {
	case !hostname.MatchString(d.Name):
		return fmt.Errorf("%s.name: %q is not a lower-case DNS name like demo.example.com", key, d.Name)
	case m == nil:
		return fmt.Errorf("%s.certificateArn: %q is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)", key, d.CertificateArn)
	case m[1] != region:
		return fmt.Errorf("%s.certificateArn: the certificate is in %s; %s %s", key, m[1], why, region)
	case (d.HostedZoneID == "") != (d.HostedZoneName == ""):
		return fmt.Errorf("%s: hostedZoneId and hostedZoneName go together (the Route 53 zone for the alias records); set both or neither", key)
	case d.HostedZoneID != "" && !hostedZoneID.MatchString(d.HostedZoneID):
		return fmt.Errorf("%s.hostedZoneId: %q is not a Route 53 hosted zone ID like Z0123456789ABC", key, d.HostedZoneID)
	case d.HostedZoneName != "" && d.Name != d.HostedZoneName && !strings.HasSuffix(d.Name, "."+d.HostedZoneName):
		return fmt.Errorf("%s.hostedZoneName: %q is not %q or a parent of it", key, d.HostedZoneName, d.Name)
	}
	return nil
}

var (
	envName   = regexp.MustCompile(`^[a-z][a-z0-9-]{0,20}$`)
	regionRe  = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$`)
	accountRe = regexp.MustCompile(`^\d{12}$`)
	// CDK allows 10 letters, digits, _ and -; the asset bucket's name needs
	// lower case, and the roles' names leave no room for more.
	qualifierRe = regexp.MustCompile(`^[a-z0-9]{1,10}$`)
	// The retention periods CloudWatch Logs accepts.
	retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
	logLevels     = []string{"debug", "info", "warn", "error"}
)

// Load reads the environments of a cdk.json, for the tools that run outside
// the CDK app.
func Load(cdkJSON string) ([]Environment, error) {
	raw, err := os.ReadFile(cdkJSON)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", cdkJSON, err)
	}
	return Parse(doc.Context["environments"])
}

// Parse reads the "environments" context value (as CDK hands it over: decoded
// JSON) and returns the environments sorted by name.
func Parse(raw any) ([]Environment, error) {
	if raw == nil {
		return nil, fmt.Errorf(`cdk.json: context key "environments" is missing; it maps environment names to {"region": ...}`)
	}
	doc, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("environments: %w", err)
	}
	var byName map[string]json.RawMessage
	if err := json.Unmarshal(doc, &byName); err != nil {
		return nil, fmt.Errorf(`environments: must be an object mapping names to settings, got %s`, doc)
	}
	if len(byName) == 0 {
		return nil, fmt.Errorf("environments: none defined")
	}
	var envs []Environment
	for name, body := range byName {
		e := Environment{Name: name, ThrottleRate: 50, ThrottleBurst: 100, LogRetentionDays: 30, LogLevel: "info", CorsMaxAgeSeconds: 600,
			Alarms: Alarms{FunctionErrors: 5, P99LatencyMs: 3000}}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("environments.%s: %v", name, strings.TrimPrefix(err.Error(), "json: "))
		}
		if err := e.check(); err != nil {
			return nil, err
		}
		envs = append(envs, e)
	}
	slices.SortFunc(envs, func(a, b Environment) int { return strings.Compare(a.Name, b.Name) })
	return envs, apart(envs)
}

// DefaultQualifier is CDK's own: every CDK app of an account shares it.
const DefaultQualifier = "hnb659fds"

// apart checks that no two environments share their bootstrap, or the names
// their resources start with: the execution policies scope by those.
func apart(envs []Environment) error {
	for i, a := range envs {
		for _, b := range envs[i+1:] {
			if a.Qualifier == b.Qualifier {
				return fmt.Errorf("environments.%s.qualifier: %q is also environments.%s's; each environment needs its own bootstrap, set a different qualifier", b.Name, b.Qualifier, a.Name)
			}
		}
		for _, b := range envs {
			for _, stack := range a.StackNames() {
				if prefix := strings.ToLower(stack); a.Name != b.Name && strings.HasPrefix(b.Name, prefix) {
					return fmt.Errorf("environments.%s: the name begins with %s, the start of environments.%s's resource names, so its execution policy would reach them; rename one", b.Name, prefix, a.Name)
				}
			}
		}
	}
	return nil
}

func (e *Environment) check() error {
	key := "environments." + e.Name
	if e.Qualifier == "" {
		e.Qualifier = strings.ReplaceAll(e.Name, "-", "")
		e.Qualifier = e.Qualifier[:min(len(e.Qualifier), 10)]
	}
	switch {
	case !envName.MatchString(e.Name):
		return fmt.Errorf("%s: the name must be lower-case letters, digits and dashes (it becomes the stage name and part of stack names)", key)
	case e.Region == "":
		return fmt.Errorf("%s.region: missing; set the AWS region to deploy to, e.g. \"eu-west-1\"", key)
	case !regionRe.MatchString(e.Region):
		return fmt.Errorf("%s.region: %q is not an AWS region name like \"eu-west-1\"", key, e.Region)
	case e.Account != "" && !accountRe.MatchString(e.Account):
		return fmt.Errorf("%s.account: %q is not a 12-digit AWS account id", key, e.Account)
	case !qualifierRe.MatchString(e.Qualifier):
		return fmt.Errorf("%s.qualifier: %q: want 1 to 10 lower-case letters and digits (it names the environment's CDK bootstrap)", key, e.Qualifier)
	case e.Qualifier == DefaultQualifier:
		return fmt.Errorf("%s.qualifier: %q is CDK's default, whose roles every CDK app of the account may use; choose the environment's own", key, e.Qualifier)
	case e.ThrottleRate <= 0 || e.ThrottleBurst < 1:
		return fmt.Errorf("%s: throttleRateLimit (%v) and throttleBurstLimit (%d) must be positive", key, e.ThrottleRate, e.ThrottleBurst)
	case !slices.Contains(retentionDays, e.LogRetentionDays):
		return fmt.Errorf("%s.logRetentionDays: %d is not a CloudWatch Logs retention; use one of %v", key, e.LogRetentionDays, retentionDays)
	case !slices.Contains(logLevels, e.LogLevel):
		return fmt.Errorf("%s.logLevel: %q is not one of %v", key, e.LogLevel, logLevels)
	case e.CorsMaxAgeSeconds < 0 || e.CorsMaxAgeSeconds > 7200:
		return fmt.Errorf("%s.corsMaxAgeSeconds: %d is outside 0..7200 (browsers cap it at 7200 anyway)", key, e.CorsMaxAgeSeconds)
	case e.ReservedConcurrency != nil && *e.ReservedConcurrency < 1:
		return fmt.Errorf("%s.reservedConcurrency: %d: reserve at least 1 (0 would stop the function); leave the key out to reserve none", key, *e.ReservedConcurrency)
	case e.SiteDomain != nil && e.APIDomain != nil && e.SiteDomain.Name == e.APIDomain.Name:
		return fmt.Errorf("%s: siteDomain and apiDomain are both %q; give the API a name of its own, e.g. api.%s", key, e.SiteDomain.Name, e.SiteDomain.Name)
	}
	if err := e.checkRollout(key); err != nil {
		return err
	}
	if err := e.checkAuth(key); err != nil {
		return err
	}
	if e.SiteDomain != nil {
		if err := e.SiteDomain.check(key+".siteDomain", "us-east-1", "CloudFront takes certificates from"); err != nil {
			return err
		}
	}
	if e.APIDomain != nil {
		if err := e.APIDomain.check(key+".apiDomain", e.Region, "a regional API domain takes its certificate from its own region,"); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for i, o := range e.AllowedOrigins {
		c, err := cors.ParseOrigin(o)
		if err != nil {
			return fmt.Errorf("%s.allowedOrigins[%d]: %q: %w", key, i, o, err)
		}
		if c == cors.Any {
			return fmt.Errorf("%s.allowedOrigins[%d]: \"*\" cannot be combined with the site's own origin (API Gateway's CORS answers either one origin list or *); list the origins", key, i)
		}
		if seen[c] {
			return fmt.Errorf("%s.allowedOrigins[%d]: %q is listed twice", key, i, o)
		}
		seen[c] = true
		e.AllowedOrigins[i] = c
	}
	return nil
}

var email = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[a-z]{2,}$`)

// checkRollout checks how a new version reaches the traffic, defaulting
// the traffic shift.
func (e *Environment) checkRollout(key string) error {
	if e.TrafficShift == "" {
		e.TrafficShift = "AllAtOnce"
		if e.Production {
			e.TrafficShift = "Canary10Percent5Minutes"
		}
	}
	a := e.Alarms
	switch {
	case !slices.Contains(TrafficShifts, e.TrafficShift):
		return fmt.Errorf("%s.trafficShift: %q is not one of CodeDeploy's Lambda configurations %v", key, e.TrafficShift, TrafficShifts)
	case a.FunctionErrors < 1:
		return fmt.Errorf("%s.alarms.functionErrors: %d must be at least 1 a minute", key, a.FunctionErrors)
	case a.Throttles != nil || a.API5XXPercent != nil:
		return fmt.Errorf("%s.alarms: throttles and api5xxPercent are no longer alarms: any caller can move them (a burst, a body over Lambda's 6 MB limit) and would roll a good version back; "+
			"the rollback alarms measure the version itself (functionErrors, p99LatencyMs) and the dashboard shows the rest: remove them", key)
	case a.P99LatencyMs < 1 || a.P99LatencyMs > 29000:
		return fmt.Errorf("%s.alarms.p99LatencyMs: %d is outside 1..29000 (API Gateway gives up at 29 s)", key, a.P99LatencyMs)
	case e.AlarmEmail != "" && !email.MatchString(e.AlarmEmail):
		return fmt.Errorf("%s.alarmEmail: %q is not an email address", key, e.AlarmEmail)
	}
	return nil
}

// checkAuth checks the sign-in: with Cognito, every page allowed to call
// the API is a place Cognito sends a user back to after signing in, and
// Cognito takes only https:// addresses there, and http://localhost.
func (e *Environment) checkAuth(key string) error {
	switch e.Auth {
	case "":
		return nil
	case AuthCognito:
	default:
		return fmt.Errorf("%s.auth: %q is not known; leave it out (an open API) or set %q", key, e.Auth, AuthCognito)
	}
	for i, o := range e.AllowedOrigins {
		if u, err := url.Parse(o); err != nil || u.Scheme != "https" && u.Hostname() != "localhost" {
			return fmt.Errorf("%s.allowedOrigins[%d]: %q: with auth %q every allowed origin is a sign-in callback, which Cognito takes only over https:// or from http://localhost", key, i, o, AuthCognito)
		}
	}
	return nil
}

// Select returns the named environments, or all when names is empty. An unknown
// name is an error listing the known ones.
func Select(envs []Environment, names []string) ([]Environment, error) {
	if len(names) == 0 {
		return envs, nil
	}
	var out []Environment
	for _, n := range names {
		i := slices.IndexFunc(envs, func(e Environment) bool { return e.Name == n })
		if i < 0 {
			known := make([]string, len(envs))
			for j, e := range envs {
				known[j] = e.Name
			}
			return nil, fmt.Errorf("unknown environment %q; cdk.json defines %s", n, strings.Join(known, ", "))
		}
		out = append(out, envs[i])
	}
	return out, nil
}

// MultiAccountGuidance is AWS's advice on keeping production in an account
// of its own, which the shared-account warning points at.
const MultiAccountGuidance = "https://docs.aws.amazon.com/whitepapers/latest/organizing-your-aws-environment/organizing-your-aws-environment.html"

// SharedAccounts names, for each production environment of envs, the
// non-production environments that deploy to the same account, where both
// accounts are known: cdk.json's, else defaultAccount (the CLI's
// credentials, CDK_DEFAULT_ACCOUNT). Each environment's own bootstrap and
// permissions boundary keep them apart there, but only separate accounts
// keep apart what an account shares (its quotas, its API Gateway logging
// role, its administrators, a mistake in a boundary).
func SharedAccounts(envs []Environment, defaultAccount string) map[string][]string {
	account := func(e Environment) string { return cmp.Or(e.Account, defaultAccount) }
	shared := map[string][]string{}
	for _, p := range envs {
		if !p.Production || account(p) == "" {
			continue
		}
		for _, e := range envs {
			if !e.Production && account(e) == account(p) {
				shared[p.Name] = append(shared[p.Name], e.Name)
			}
		}
	}
	return shared
}
