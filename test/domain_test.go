package test

import (
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
)

// customized is prod with what cdk.json leaves out: custom domains (the
// site's DNS in Route 53, the API's elsewhere), reserved concurrency, an
// alarm email and linear traffic shifting,
// synthesized once for the tests below.
var customized struct {
	sync.Once
	env config.Environment
	out *synthesized
	err error
}

const (
	siteCert = "arn:aws:acm:us-east-1:111122223333:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789abc"
	apiCert  = "arn:aws:acm:eu-west-1:111122223333:certificate/1f1e2d3c-aaaa-bbbb-cccc-123456789abc"
)

func customizedProd(t *testing.T) (config.Environment, *synthesized) {
	t.Helper()
	customized.Do(func() {
		e := envByName(t, "prod")
		reserved := 7
		e.ReservedConcurrency = &reserved
		e.SiteDomain = &config.Domain{Name: "iris.example.com", CertificateArn: siteCert, HostedZoneID: "Z0123456789ABC", HostedZoneName: "example.com"}
		e.APIDomain = &config.Domain{Name: "api.iris.example.com", CertificateArn: apiCert}
		e.AlarmEmail, e.TrafficShift = "ops@example.com", "Linear10PercentEvery2Minutes"
		out, err := synth(filepath.Join(filepath.Dir(withoutCredentials.assembly), "customized"), e)
		customized.env, customized.out, customized.err = e, out[e.Name], err
	})
	if customized.err != nil {
		t.Fatal(customized.err)
	}
	return customized.env, customized.out
}

// The site on its own domain: its certificate with TLS 1.2 or newer (the
// 2021 policy), alias records in its zone, and the API allowing that origin
// only; cdk-nag's CFR4 then needs no suppression, and gets none.
func TestSiteOnACustomDomain(t *testing.T) {
	e, d := customizedProd(t)
	check(t, func() {
		d.site.HasResourceProperties(jsii.String("AWS::CloudFront::Distribution"), obj{"DistributionConfig": like(obj{
			"Aliases": []any{"iris.example.com"},
			"ViewerCertificate": obj{
				"AcmCertificateArn": siteCert, "MinimumProtocolVersion": "TLSv1.2_2021", "SslSupportMethod": "sni-only",
			},
		})})
		for _, kind := range []string{"A", "AAAA"} {
			d.site.HasResourceProperties(jsii.String("AWS::Route53::RecordSet"), obj{
				"Name": "iris.example.com.", "Type": kind, "HostedZoneId": "Z0123456789ABC",
				"AliasTarget": like(obj{"DNSName": obj{"Fn::GetAtt": []any{present, "DomainName"}}}),
			})
		}
		d.api.HasResourceProperties(jsii.String("AWS::ApiGateway::Method"), obj{"HttpMethod": "OPTIONS", "Integration": like(obj{
			"IntegrationResponses": []any{like(obj{"ResponseParameters": like(obj{
				"method.response.header.Access-Control-Allow-Origin": "'https://iris.example.com'",
			})})},
		})})
		d.api.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj{"Environment": obj{"Variables": like(obj{"ALLOWED_ORIGINS": "https://iris.example.com"})}})
	})
	suppressed := func(s *synthesized) []string {
		var ids []string
		for _, r := range *s.site.FindResources(jsii.String("AWS::CloudFront::Distribution"), nil) {
			meta, _ := (*r)["Metadata"].(map[string]any)
			nag, _ := meta["cdk_nag"].(map[string]any)
			rules, _ := nag["rules_to_suppress"].([]any)
			for _, rule := range rules {
				ids = append(ids, rule.(map[string]any)["id"].(string))
			}
		}
		return ids
	}
	if ids := suppressed(d); slices.Contains(ids, "AwsSolutions-CFR4") {
		t.Errorf("CFR4 suppressed on a distribution with its own certificate: %v", ids)
	}
	if ids := suppressed(withoutCredentials.deployed[e.Name]); !slices.Contains(ids, "AwsSolutions-CFR4") {
		t.Errorf("without a custom domain CFR4 must be suppressed with its reason: %v", ids)
	}
	nagClean(t, d.env.Site.Stack)
}

// The API on its own regional domain with TLS 1.2 or newer, mapped to the
// stage; with its DNS outside Route 53 the stack says what to point a CNAME
// at. The site calls it there, and its CSP names that host.
func TestApiOnACustomDomain(t *testing.T) {
	_, d := customizedProd(t)
	check(t, func() {
		d.api.HasResourceProperties(jsii.String("AWS::ApiGateway::DomainName"), obj{
			"DomainName": "api.iris.example.com", "RegionalCertificateArn": apiCert,
			"EndpointConfiguration": obj{"Types": []any{"REGIONAL"}}, "SecurityPolicy": "TLS_1_2",
		})
		d.api.HasResourceProperties(jsii.String("AWS::ApiGateway::BasePathMapping"), obj{
			"DomainName": obj{"Ref": present}, "RestApiId": obj{"Ref": present}, "Stage": obj{"Ref": present},
		})
		d.api.ResourceCountIs(jsii.String("AWS::Route53::RecordSet"), jsii.Number(0))
		d.api.HasOutput(jsii.String("ApiDnsTarget"), obj{"Value": obj{"Fn::GetAtt": []any{present, "RegionalDomainName"}}})
		d.api.HasOutput(jsii.String("ApiUrl"), obj{"Value": "https://api.iris.example.com/"})
		d.site.HasResourceProperties(jsii.String("AWS::CloudFront::ResponseHeadersPolicy"), obj{
			"ResponseHeadersPolicyConfig": like(obj{"SecurityHeadersConfig": like(obj{"ContentSecurityPolicy": like(obj{
				"ContentSecurityPolicy": matches(`; connect-src 'self' https://api\.iris\.example\.com;`),
			})})}),
		})
	})
	nagClean(t, d.env.Api.Stack)
}

// Reserved concurrency is set where cdk.json asks for it and nowhere else:
// AWS keeps 10 executions unreserved, and a new account's whole limit is 10,
// so a default reservation would fail every first deploy there.
func TestReservedConcurrency(t *testing.T) {
	_, d := customizedProd(t)
	check(t, func() {
		d.api.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj{"Handler": "bootstrap", "ReservedConcurrentExecutions": 7})
	})
	eachEnv(t, func(t *testing.T, _ *caller, e config.Environment, d *synthesized) {
		want := any(absent)
		if e.ReservedConcurrency != nil {
			want = *e.ReservedConcurrency
		}
		check(t, func() {
			d.api.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj{"Handler": "bootstrap", "ReservedConcurrentExecutions": want})
		})
	})
}
