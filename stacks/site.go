package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53targets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
	"github.com/iris-cors/iris-cors-cdk/internal/site"
)

// SiteStackProps configures the demo site of one environment.
type SiteStackProps struct {
	awscdk.StackProps
	Config config.Environment // not Env: that would shadow StackProps.Env
	Cors   *CorsPolicy        // the CSP lets the page connect to the API hosts it names
	Title  string             // what the site serves, the model's title
}

// SiteStack is a private S3 bucket served by CloudFront through Origin Access
// Control, with security headers and a Content-Security-Policy.
type SiteStack struct {
	awscdk.Stack
	Bucket       awss3.Bucket
	Distribution awscloudfront.Distribution
	// Origin is the origin the API must allow: https:// and the site's
	// custom domain, or else the distribution's domain (a token).
	Origin *string
}

// ContentSecurityPolicy allows the page exactly its own files and the API:
// no inline script or style, no eval, no framing.
func ContentSecurityPolicy(connectSrc string) string {
	return fmt.Sprintf("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src %s; frame-ancestors 'none'; base-uri 'self'; form-action 'self'", connectSrc)
}

func NewSiteStack(scope constructs.Construct, id string, props *SiteStackProps) *SiteStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	removal, autoDelete := awscdk.RemovalPolicy_DESTROY, true
	if props.Config.Production {
		removal, autoDelete = awscdk.RemovalPolicy_RETAIN, false
	}

	// One bucket receives the site bucket's access logs and CloudFront's
	// standard logs; CloudFront's legacy log delivery needs ACLs on it.
	logs := awss3.NewBucket(stack, jsii.String("Logs"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_PREFERRED,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Expiration: awscdk.Duration_Days(jsii.Number(props.Config.LogRetentionDays)),
		}},
		RemovalPolicy:     removal,
		AutoDeleteObjects: jsii.Bool(autoDelete),
	})
	bucket := awss3.NewBucket(stack, jsii.String("Content"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:             jsii.Bool(true),
		ServerAccessLogsBucket: logs,
		ServerAccessLogsPrefix: jsii.String("s3/"),
		RemovalPolicy:          removal,
		AutoDeleteObjects:      jsii.Bool(autoDelete),
	})

	headers := awscloudfront.NewResponseHeadersPolicy(stack, jsii.String("SecurityHeaders"), &awscloudfront.ResponseHeadersPolicyProps{
		Comment: jsii.String(comment(props.Title + " demo site: CSP allowing only the site and its API, HSTS, no framing")),
		SecurityHeadersBehavior: &awscloudfront.ResponseSecurityHeadersBehavior{
			ContentSecurityPolicy: &awscloudfront.ResponseHeadersContentSecurityPolicy{
				ContentSecurityPolicy: jsii.String(ContentSecurityPolicy(props.Cors.ConnectSrc())),
				Override:              jsii.Bool(true),
			},
			StrictTransportSecurity: &awscloudfront.ResponseHeadersStrictTransportSecurity{
				AccessControlMaxAge: awscdk.Duration_Days(jsii.Number(730)),
				IncludeSubdomains:   jsii.Bool(true),
				Override:            jsii.Bool(true),
			},
			ContentTypeOptions: &awscloudfront.ResponseHeadersContentTypeOptions{Override: jsii.Bool(true)},
			FrameOptions: &awscloudfront.ResponseHeadersFrameOptions{
				FrameOption: awscloudfront.HeadersFrameOption_DENY,
				Override:    jsii.Bool(true),
			},
			ReferrerPolicy: &awscloudfront.ResponseHeadersReferrerPolicy{
				ReferrerPolicy: awscloudfront.HeadersReferrerPolicy_STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
				Override:       jsii.Bool(true),
			},
		},
		CustomHeadersBehavior: &awscloudfront.ResponseCustomHeadersBehavior{
			CustomHeaders: &[]*awscloudfront.ResponseCustomHeader{{
				Header:   jsii.String("Permissions-Policy"),
				Value:    jsii.String("camera=(), microphone=(), geolocation=()"),
				Override: jsii.Bool(true),
			}},
		},
	})

	distProps := &awscloudfront.DistributionProps{
		Comment:           jsii.String(comment(fmt.Sprintf("%s demo site (%s)", props.Title, props.Config.Name))),
		DefaultRootObject: jsii.String(site.Name), // the page the API stack deploys with its CSP
		HttpVersion:       awscloudfront.HttpVersion_HTTP2_AND_3,
		PriceClass:        awscloudfront.PriceClass_PRICE_CLASS_100,
		EnableLogging:     jsii.Bool(true),
		LogBucket:         logs,
		LogFilePrefix:     jsii.String("cloudfront/"),
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin:                awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(bucket, nil),
			ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
			CachePolicy:           awscloudfront.CachePolicy_CACHING_OPTIMIZED(),
			ResponseHeadersPolicy: headers,
			Compress:              jsii.Bool(true),
		},
	}
	// A custom domain brings its own certificate, so the TLS policy is ours to
	// choose: TLS 1.2 or newer, with the 2021 ciphers. (Without one, the
	// *.cloudfront.net certificate fixes the policy; see nag.go.)
	domain := props.Config.SiteDomain
	if domain != nil {
		distProps.DomainNames = jsii.Strings(domain.Name)
		distProps.Certificate = certificate(stack, "Site", domain)
		distProps.MinimumProtocolVersion = awscloudfront.SecurityPolicyProtocol_TLS_V1_2_2021
		distProps.SslSupportMethod = awscloudfront.SSLMethod_SNI
	}
	dist := awscloudfront.NewDistribution(stack, jsii.String("Distribution"), distProps)

	// The site's origin, which the API allows: its custom domain if it has
	// one (the distribution's own name then gets no CORS).
	origin := awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("https://"), dist.DistributionDomainName()})
	if domain != nil {
		origin = jsii.String("https://" + domain.Name)
		pointDNS(stack, "Site", domain, awsroute53targets.NewCloudFrontTarget(dist), dist.DistributionDomainName())
	}
	awscdk.NewCfnOutput(stack, jsii.String("SiteUrl"), &awscdk.CfnOutputProps{
		Value:       origin,
		Description: jsii.String("The demo site; the API allows this origin"),
	})
	return &SiteStack{Stack: stack, Bucket: bucket, Distribution: dist, Origin: origin}
}

// comment is s as CloudFront takes a comment: at most 128 characters.
func comment(s string) string {
	if r := []rune(s); len(r) > 128 {
		return string(r[:125]) + "..."
	}
	return s
}
