package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
)

// certificate is d's ACM certificate, which the config checked is in the
// region its user needs (us-east-1 for CloudFront, the API's own region).
func certificate(stack awscdk.Stack, id string, d *config.Domain) awscertificatemanager.ICertificate {
	return awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String(id+"Certificate"), jsii.String(d.CertificateArn))
}

// pointDNS points d's name at target: A and AAAA alias records in its hosted
// zone or, when cdk.json names none (DNS elsewhere), an output saying what to
// point a CNAME at.
func pointDNS(stack awscdk.Stack, id string, d *config.Domain, target awsroute53.IAliasRecordTarget, cname *string) {
	if d.HostedZoneID == "" {
		awscdk.NewCfnOutput(stack, jsii.String(id+"DnsTarget"), &awscdk.CfnOutputProps{
			Value:       cname,
			Description: jsii.String("Point " + d.Name + " here: a CNAME, or an alias record in Route 53"),
		})
		return
	}
	zone := awsroute53.HostedZone_FromHostedZoneAttributes(stack, jsii.String(id+"Zone"), &awsroute53.HostedZoneAttributes{
		HostedZoneId: jsii.String(d.HostedZoneID),
		ZoneName:     jsii.String(d.HostedZoneName),
	})
	alias := awsroute53.RecordTarget_FromAlias(target)
	awsroute53.NewARecord(stack, jsii.String(id+"A"), &awsroute53.ARecordProps{Zone: zone, RecordName: jsii.String(d.Name + "."), Target: alias})
	awsroute53.NewAaaaRecord(stack, jsii.String(id+"AAAA"), &awsroute53.AaaaRecordProps{Zone: zone, RecordName: jsii.String(d.Name + "."), Target: alias})
}
