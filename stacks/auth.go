package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
)

// SignIn is the environment's sign-in (config.AuthCognito): a Cognito user
// pool, the site's app client (the authorization code flow with PKCE, no
// client secret: a page keeps no secret), its hosted domain, and the
// authorizer every method but the preflights requires.
type SignIn struct {
	Pool       awscognito.UserPool
	Client     awscognito.UserPoolClient
	Domain     awscognito.UserPoolDomain
	Authorizer awsapigateway.CognitoUserPoolsAuthorizer
	URL        *string // the domain's base URL: /oauth2/authorize, /oauth2/token, /logout
	// Issuer is the pool's OpenID issuer (an OpenID client's authority):
	// its discovery document is at Issuer + /.well-known/openid-configuration.
	Issuer *string
	// Callbacks are where Cognito may send a user back: the site and each
	// allowed origin, with a trailing slash.
	Callbacks []*string
}

// newSignIn builds env's sign-in. Cognito sends a user back to the page
// that sent them: origins, the site's and each allowed one (config checks
// that Cognito takes them).
func newSignIn(stack awscdk.Stack, env config.Environment, origins []*string) *SignIn {
	// Production users get Cognito's threat protection (compromised
	// credentials, risky sign-ins blocked): the Plus plan, paid per user.
	removal, plan, threats := awscdk.RemovalPolicy_DESTROY, awscognito.FeaturePlan_ESSENTIALS, awscognito.StandardThreatProtectionMode_NO_ENFORCEMENT
	if env.Production {
		removal, plan, threats = awscdk.RemovalPolicy_RETAIN, awscognito.FeaturePlan_PLUS, awscognito.StandardThreatProtectionMode_FULL_FUNCTION
	}
	pool := awscognito.NewUserPool(stack, jsii.String("Users"), &awscognito.UserPoolProps{
		// Users are invited (the console, or admin-create-user), not signing
		// themselves up to a team's API.
		SelfSignUpEnabled: jsii.Bool(false),
		SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
		AutoVerify:        &awscognito.AutoVerifiedAttrs{Email: jsii.Bool(true)},
		AccountRecovery:   awscognito.AccountRecovery_EMAIL_ONLY,
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength: jsii.Number(12), RequireLowercase: jsii.Bool(true), RequireUppercase: jsii.Bool(true),
			RequireDigits: jsii.Bool(true), RequireSymbols: jsii.Bool(true),
		},
		Mfa:                          awscognito.Mfa_REQUIRED,
		MfaSecondFactor:              &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		DeletionProtection:           jsii.Bool(env.Production),
		RemovalPolicy:                removal,
		FeaturePlan:                  plan,
		StandardThreatProtectionMode: threats,
	})
	var callbacks []*string
	for _, o := range origins {
		callbacks = append(callbacks, awscdk.Fn_Join(jsii.String(""), &[]*string{o, jsii.String("/")}))
	}
	client := pool.AddClient(jsii.String("Site"), &awscognito.UserPoolClientOptions{
		GenerateSecret: jsii.Bool(false),
		OAuth: &awscognito.OAuthSettings{
			Flows:        &awscognito.OAuthFlows{AuthorizationCodeGrant: jsii.Bool(true)},
			Scopes:       &[]awscognito.OAuthScope{awscognito.OAuthScope_OPENID(), awscognito.OAuthScope_EMAIL()},
			CallbackUrls: &callbacks,
			LogoutUrls:   &callbacks,
		},
		AuthFlows:                  &awscognito.AuthFlow{},
		PreventUserExistenceErrors: jsii.Bool(true),
		IdTokenValidity:            awscdk.Duration_Hours(jsii.Number(1)),
		AccessTokenValidity:        awscdk.Duration_Hours(jsii.Number(1)),
		RefreshTokenValidity:       awscdk.Duration_Days(jsii.Number(1)),
		EnableTokenRevocation:      jsii.Bool(true),
	})
	// The authorization code flow only: without ExplicitAuthFlows Cognito
	// also takes SRP and custom sign-ins straight from the API (a password
	// guessed without the hosted page, its threat protection or the
	// client's callbacks). Refreshing is what the code flow's tokens need.
	client.Node().DefaultChild().(awscognito.CfnUserPoolClient).SetExplicitAuthFlows(jsii.Strings("ALLOW_REFRESH_TOKEN_AUTH"))
	// A Cognito domain prefix is unique across every account of the region:
	// the environment's name and the first part of the stack's ID (random).
	prefix := awscdk.Fn_Join(jsii.String("-"), &[]*string{jsii.String(env.Name + "-signin"),
		awscdk.Fn_Select(jsii.Number(0), awscdk.Fn_Split(jsii.String("-"), awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_Split(jsii.String("/"), stack.StackId(), nil)), nil))})
	domain := pool.AddDomain(jsii.String("Hosted"), &awscognito.UserPoolDomainOptions{
		CognitoDomain: &awscognito.CognitoDomainOptions{DomainPrefix: prefix},
	})
	authorizer := awsapigateway.NewCognitoUserPoolsAuthorizer(stack, jsii.String("SignedIn"), &awsapigateway.CognitoUserPoolsAuthorizerProps{
		CognitoUserPools: &[]awscognito.IUserPool{pool},
		AuthorizerName:   jsii.String("signed-in"),
	})
	return &SignIn{Pool: pool, Client: client, Domain: domain, Authorizer: authorizer, URL: domain.BaseUrl(nil),
		Issuer: pool.UserPoolProviderUrl(), Callbacks: callbacks}
}
