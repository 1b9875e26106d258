package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func parse(t *testing.T, doc string) ([]Environment, error) {
	t.Helper()
	var raw any
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		t.Fatal(err)
	}
	return Parse(raw)
}

func TestValidConfig(t *testing.T) {
	envs, err := parse(t, `{
		"prod": {"region": "eu-west-1", "production": true},
		"dev": {"region": "us-east-1", "allowedOrigins": ["HTTP://LocalHost:8080"], "logLevel": "debug"}
	}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) != 2 || envs[0].Name != "dev" || envs[1].Name != "prod" {
		t.Fatalf("environments = %+v, want dev then prod", envs)
	}
	dev := envs[0]
	if got := dev.AllowedOrigins; len(got) != 1 || got[0] != "http://localhost:8080" {
		t.Errorf("allowedOrigins = %v, want the canonical http://localhost:8080", got)
	}
	if dev.Qualifier != "dev" || envs[1].Qualifier != "prod" {
		t.Errorf("qualifiers %q, %q: want each environment's name", dev.Qualifier, envs[1].Qualifier)
	}
	if dev.ThrottleRate != 50 || dev.LogRetentionDays != 30 || dev.CorsMaxAgeSeconds != 600 || dev.LogLevel != "debug" {
		t.Errorf("defaults not applied: %+v", dev)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"missing region", `{"dev": {}}`, `environments.dev.region: missing`},
		{"bad region", `{"dev": {"region": "Ireland"}}`, `environments.dev.region: "Ireland" is not an AWS region`},
		{"origin with a path", `{"dev": {"region": "eu-west-1", "allowedOrigins": ["https://example.com/app"]}}`, `environments.dev.allowedOrigins[0]: "https://example.com/app": an origin has no path`},
		{"origin with a trailing slash", `{"dev": {"region": "eu-west-1", "allowedOrigins": ["https://example.com/"]}}`, `allowedOrigins[0]: "https://example.com/"`},
		{"malformed origin", `{"dev": {"region": "eu-west-1", "allowedOrigins": ["example.com"]}}`, `environments.dev.allowedOrigins[0]: "example.com": scheme must be http or https`},
		{"duplicate origin", `{"dev": {"region": "eu-west-1", "allowedOrigins": ["https://a.example", "https://A.example:443"]}}`, `allowedOrigins[1]: "https://A.example:443" is listed twice`},
		{"wildcard origin", `{"dev": {"region": "eu-west-1", "allowedOrigins": ["*"]}}`, `environments.dev.allowedOrigins[0]: "*" cannot be combined`},
		{"unknown key", `{"dev": {"region": "eu-west-1", "allowedOrigin": []}}`, `environments.dev: unknown field "allowedOrigin"`},
		{"wrong type", `{"dev": {"region": 5}}`, `environments.dev:`},
		{"bad account", `{"dev": {"region": "eu-west-1", "account": "12"}}`, `environments.dev.account: "12"`},
		{"bad retention", `{"dev": {"region": "eu-west-1", "logRetentionDays": 10}}`, `environments.dev.logRetentionDays: 10`},
		{"bad log level", `{"dev": {"region": "eu-west-1", "logLevel": "loud"}}`, `environments.dev.logLevel: "loud"`},
		{"bad throttle", `{"dev": {"region": "eu-west-1", "throttleRateLimit": -1}}`, `throttleRateLimit (-1)`},
		{"bad max age", `{"dev": {"region": "eu-west-1", "corsMaxAgeSeconds": 86400}}`, `environments.dev.corsMaxAgeSeconds: 86400`},
		{"bad name", `{"Dev Env": {"region": "eu-west-1"}}`, `environments.Dev Env: the name must be`},
		{"no environments", `{}`, `environments: none defined`},
		{"not an object", `[]`, `environments: must be an object`},
		{"unknown traffic shift", `{"dev": {"region": "eu-west-1", "trafficShift": "Canary50Percent"}}`, `environments.dev.trafficShift: "Canary50Percent" is not one of`},
		{"bad latency bound", `{"dev": {"region": "eu-west-1", "alarms": {"p99LatencyMs": 60000}}}`, `environments.dev.alarms.p99LatencyMs: 60000`},
		{"a 5XX alarm anyone can trip", `{"dev": {"region": "eu-west-1", "alarms": {"api5xxPercent": 5}}}`, `environments.dev.alarms: throttles and api5xxPercent are no longer alarms: any caller can move them`},
		{"a throttle alarm anyone can trip", `{"dev": {"region": "eu-west-1", "alarms": {"throttles": 10}}}`, `environments.dev.alarms: throttles and api5xxPercent are no longer alarms`},
		{"no errors allowed", `{"dev": {"region": "eu-west-1", "alarms": {"functionErrors": 0}}}`, `environments.dev.alarms.functionErrors: 0`},
		{"bad email", `{"dev": {"region": "eu-west-1", "alarmEmail": "ops"}}`, `environments.dev.alarmEmail: "ops"`},
		{"unknown alarm", `{"dev": {"region": "eu-west-1", "alarms": {"latency": 5}}}`, `unknown field "latency"`},
		{"unknown auth", `{"dev": {"region": "eu-west-1", "auth": "oauth"}}`, `environments.dev.auth: "oauth" is not known`},
		{"auth from plain http", `{"dev": {"region": "eu-west-1", "auth": "cognito", "allowedOrigins": ["http://intranet.example"]}}`, `environments.dev.allowedOrigins[0]: "http://intranet.example": with auth "cognito"`},
		{"bad qualifier", `{"dev": {"region": "eu-west-1", "qualifier": "Dev_1"}}`, `environments.dev.qualifier: "Dev_1": want 1 to 10 lower-case`},
		{"long qualifier", `{"dev": {"region": "eu-west-1", "qualifier": "abcdefghijk"}}`, `environments.dev.qualifier: "abcdefghijk"`},
		{"CDK's qualifier", `{"dev": {"region": "eu-west-1", "qualifier": "hnb659fds"}}`, `environments.dev.qualifier: "hnb659fds" is CDK's default`},
		{"shared qualifier", `{"dev": {"region": "eu-west-1"}, "prod": {"region": "eu-west-1", "qualifier": "dev"}}`, `environments.prod.qualifier: "dev" is also environments.dev's`},
		{"derived qualifiers meet", `{"eu-dev": {"region": "eu-west-1"}, "eudev": {"region": "eu-west-1"}}`, `environments.eudev.qualifier: "eudev" is also environments.eu-dev's`},
		{"a name reaches into another's", `{"dev": {"region": "eu-west-1"}, "dev-api2": {"region": "eu-west-1"}}`, `environments.dev-api2: the name begins with dev-api`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.doc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// A qualifier from a long name with dashes keeps its first 10 letters and
// digits, which CDK's bootstrap accepts.
func TestDerivedQualifier(t *testing.T) {
	envs, err := parse(t, `{"eu-west-staging": {"region": "eu-west-1"}}`)
	if err != nil {
		t.Fatal(err)
	}
	if q := envs[0].Qualifier; q != "euweststag" {
		t.Errorf("qualifier %q, want euwestst", q)
	}
}

// A production environment rolls out as a canary and has a dashboard; the
// others shift all at once, without one; a partial alarms object keeps the
// other thresholds' defaults.
func TestRolloutDefaults(t *testing.T) {
	envs, err := parse(t, `{"dev": {"region": "eu-west-1", "alarms": {"p99LatencyMs": 1000}},
		"prod": {"region": "eu-west-1", "production": true, "alarmEmail": "ops@example.com"}}`)
	if err != nil {
		t.Fatal(err)
	}
	dev, prod := envs[0], envs[1]
	if dev.TrafficShift != "AllAtOnce" || dev.WantsDashboard() || prod.TrafficShift != "Canary10Percent5Minutes" || !prod.WantsDashboard() {
		t.Errorf("dev %s dashboard %v, prod %s dashboard %v", dev.TrafficShift, dev.WantsDashboard(), prod.TrafficShift, prod.WantsDashboard())
	}
	if want := (Alarms{FunctionErrors: 5, P99LatencyMs: 1000}); dev.Alarms != want {
		t.Errorf("dev alarms %+v, want %+v", dev.Alarms, want)
	}
}

func TestMissingContext(t *testing.T) {
	if _, err := Parse(nil); err == nil || !strings.Contains(err.Error(), `"environments" is missing`) {
		t.Errorf("error = %v", err)
	}
}

func TestSelect(t *testing.T) {
	envs, _ := parse(t, `{"dev": {"region": "eu-west-1"}, "prod": {"region": "eu-west-1"}}`)
	got, err := Select(envs, []string{"prod"})
	if err != nil || len(got) != 1 || got[0].Name != "prod" {
		t.Errorf("Select(prod) = %v, %v", got, err)
	}
	if all, _ := Select(envs, nil); len(all) != 2 {
		t.Errorf("Select() = %d environments, want all 2", len(all))
	}
	_, err = Select(envs, []string{"staging"})
	if err == nil || !strings.Contains(err.Error(), `unknown environment "staging"; cdk.json defines dev, prod`) {
		t.Errorf("error = %v", err)
	}
}

func TestDomainsAndConcurrency(t *testing.T) {
	envs, err := parse(t, `{"prod": {"region": "eu-west-1", "reservedConcurrency": 20,
		"siteDomain": {"name": "iris.example.com", "certificateArn": "arn:aws:acm:us-east-1:111122223333:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789abc", "hostedZoneId": "Z0123456789ABC", "hostedZoneName": "example.com"},
		"apiDomain": {"name": "api.iris.example.com", "certificateArn": "arn:aws:acm:eu-west-1:111122223333:certificate/1f1e2d3c-aaaa-bbbb-cccc-123456789abc"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	e := envs[0]
	if *e.ReservedConcurrency != 20 || e.SiteDomain.HostedZoneName != "example.com" || e.APIDomain.Name != "api.iris.example.com" || e.APIDomain.HostedZoneID != "" {
		t.Errorf("parsed %+v", e)
	}
	if envs, _ := parse(t, `{"dev": {"region": "eu-west-1"}}`); envs[0].ReservedConcurrency != nil || envs[0].SiteDomain != nil {
		t.Errorf("defaults: %+v, want no reservation and no domains", envs[0])
	}

	const site = `"name": "iris.example.com", "certificateArn": "arn:aws:acm:us-east-1:111122223333:certificate/abc"`
	for _, tc := range []struct{ name, env, want string }{
		{"zero concurrency", `"reservedConcurrency": 0`, `environments.prod.reservedConcurrency: 0: reserve at least 1`},
		{"negative concurrency", `"reservedConcurrency": -5`, `environments.prod.reservedConcurrency: -5`},
		{"site certificate elsewhere", `"siteDomain": {"name": "iris.example.com", "certificateArn": "arn:aws:acm:eu-west-1:111122223333:certificate/abc"}`, `environments.prod.siteDomain.certificateArn: the certificate is in eu-west-1; CloudFront takes certificates from us-east-1`},
		{"api certificate elsewhere", `"apiDomain": {"name": "api.example.com", "certificateArn": "arn:aws:acm:us-east-1:111122223333:certificate/abc"}`, `environments.prod.apiDomain.certificateArn: the certificate is in us-east-1; a regional API domain takes its certificate from its own region, eu-west-1`},
		{"not a certificate", `"siteDomain": {"name": "iris.example.com", "certificateArn": "arn:aws:iam::111122223333:role/x"}`, `environments.prod.siteDomain.certificateArn: "arn:aws:iam::111122223333:role/x" is not an ACM certificate ARN`},
		{"bad name", `"siteDomain": {"name": "https://iris.example.com", "certificateArn": "arn:aws:acm:us-east-1:111122223333:certificate/abc"}`, `environments.prod.siteDomain.name: "https://iris.example.com" is not a lower-case DNS name`},
		{"zone id without name", `"siteDomain": {` + site + `, "hostedZoneId": "Z0123"}`, `environments.prod.siteDomain: hostedZoneId and hostedZoneName go together`},
		{"bad zone id", `"siteDomain": {` + site + `, "hostedZoneId": "zone", "hostedZoneName": "example.com"}`, `environments.prod.siteDomain.hostedZoneId: "zone"`},
		{"zone not a parent", `"siteDomain": {` + site + `, "hostedZoneId": "Z0123", "hostedZoneName": "other.com"}`, `environments.prod.siteDomain.hostedZoneName: "other.com" is not "iris.example.com" or a parent of it`},
		{"unknown domain key", `"siteDomain": {` + site + `, "zone": "x"}`, `environments.prod: unknown field "zone"`},
		{"one name for both", `"siteDomain": {` + site + `}, "apiDomain": {"name": "iris.example.com", "certificateArn": "arn:aws:acm:eu-west-1:111122223333:certificate/abc"}`, `environments.prod: siteDomain and apiDomain are both "iris.example.com"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, `{"prod": {"region": "eu-west-1", `+tc.env+`}}`)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// Production sharing an account with another environment is named where
// both accounts are known: cdk.json's, or the CLI's credentials'.
func TestSharedAccounts(t *testing.T) {
	envs, err := parse(t, `{"dev": {"region": "eu-west-1"}, "staging": {"region": "eu-west-1", "account": "444455556666"},
		"prod": {"region": "eu-west-1", "production": true}, "prod2": {"region": "us-east-1", "production": true, "account": "444455556666"}}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		credentials string
		want        map[string][]string
	}{
		{"", map[string][]string{"prod2": {"staging"}}},
		{"111122223333", map[string][]string{"prod": {"dev"}, "prod2": {"staging"}}},
		{"444455556666", map[string][]string{"prod": {"dev", "staging"}, "prod2": {"dev", "staging"}}},
	} {
		if got := SharedAccounts(envs, tc.credentials); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("credentials %q: %v, want %v", tc.credentials, got, tc.want)
		}
	}
}
