import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  authorization, authorizeURL, base64url, claims, expired, logoutURL, parseCallback, pkce, readTokens, redirectUri, tokenRequest,
} from "./signin.js";

const signIn = { url: "https://dev-signin-1a2b3c4d.auth.eu-west-1.amazoncognito.com", clientId: "client123" };

test("the PKCE challenge is the verifier's SHA-256, base64url, as RFC 7636 S256 says", async () => {
  const { verifier, challenge, state } = await pkce();
  assert.match(verifier, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(challenge, createHash("sha256").update(verifier).digest("base64url"));
  assert.match(state, /^[A-Za-z0-9_-]{22}$/);
  const again = await pkce();
  assert.notEqual(again.verifier, verifier);
});

test("RFC 7636's own example: verifier to challenge", async () => {
  const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  assert.equal(base64url(digest), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
});

test("the authorize URL asks for a code with PKCE, for the page's own origin", () => {
  const u = new URL(authorizeURL(signIn, redirectUri("https://d111.cloudfront.net"), { challenge: "ch", state: "st" }));
  assert.equal(u.origin + u.pathname, signIn.url + "/oauth2/authorize");
  assert.deepEqual(Object.fromEntries(u.searchParams), {
    response_type: "code", client_id: "client123", redirect_uri: "https://d111.cloudfront.net/", scope: "openid email",
    code_challenge: "ch", code_challenge_method: "S256", state: "st",
  });
  assert.equal(new URL(logoutURL(signIn, "http://localhost:8080/")).searchParams.get("logout_uri"), "http://localhost:8080/");
});

test("the page tells a callback from a refusal and from an ordinary visit", () => {
  assert.deepEqual(parseCallback("http://localhost:8080/?code=abc&state=st"), { code: "abc", state: "st" });
  assert.deepEqual(parseCallback("http://localhost:8080/?error=access_denied&error_description=User+cancelled"), { error: "User cancelled" });
  assert.equal(parseCallback("http://localhost:8080/"), null);
});

test("the code is exchanged with a form POST (no preflight) carrying the verifier", () => {
  const { url, init } = tokenRequest(signIn, "http://localhost:8080/", "abc", "ver");
  assert.equal(url, signIn.url + "/oauth2/token");
  assert.equal(init.method, "POST");
  assert.equal(init.headers["Content-Type"], "application/x-www-form-urlencoded");
  assert.deepEqual(Object.fromEntries(new URLSearchParams(init.body)), {
    grant_type: "authorization_code", client_id: "client123", code: "abc", redirect_uri: "http://localhost:8080/", code_verifier: "ver",
  });
});

const jwt = (payload) => ["e30", Buffer.from(JSON.stringify(payload)).toString("base64url"), "sig"].join(".");

test("the tokens become a session: who, and until when", () => {
  const idToken = jwt({ email: "dev@example.com", exp: 2_000_000_000, "cognito:username": "u" });
  const s = readTokens(200, JSON.stringify({ id_token: idToken, token_type: "Bearer", expires_in: 3600 }));
  assert.deepEqual(s, { idToken, email: "dev@example.com", expiresAt: 2_000_000_000_000 });
  assert.equal(authorization(s), "Bearer " + idToken);
  assert.equal(claims(idToken).email, "dev@example.com");
  assert.equal(expired(s, 2_000_000_000_000 - 120_000), false);
  assert.equal(expired(s, 2_000_000_000_000 - 30_000), true, "a minute early");
  assert.equal(expired(null), true);
});

test("a refused exchange says why", () => {
  assert.throws(() => readTokens(400, JSON.stringify({ error: "invalid_grant", error_description: "code_verifier does not match" })), /refused the code \(400\): code_verifier does not match/);
  assert.throws(() => readTokens(200, "{}"), /refused the code/);
  assert.throws(() => claims("nope"), /not a JWT/);
});
