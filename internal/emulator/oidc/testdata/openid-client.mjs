// Signs in with openid-client (Node's certified OpenID client) against the
// issuer at argv[2], as clients_test.go asks: discovery, the code flow with
// PKCE, state and nonce (the browser's redirect followed by hand), userInfo
// and a refresh. Prints the ID token's claims and the userInfo as JSON.
import * as client from "openid-client";

const [issuer, clientId, redirect] = process.argv.slice(2);
const config = await client.discovery(new URL(issuer), clientId, undefined, client.None(), {
  execute: [client.allowInsecureRequests], // the local issuer is plain http
});
const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const url = client.buildAuthorizationUrl(config, {
  redirect_uri: redirect, scope: "openid email", state, nonce,
  code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
});
const back = (await fetch(url, { redirect: "manual" })).headers.get("location");
const tokens = await client.authorizationCodeGrant(config, new URL(back), {
  pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce,
});
const userInfo = await client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
process.stdout.write(JSON.stringify({ claims: tokens.claims(), userInfo, refreshed: typeof refreshed.access_token === "string" }));
