// Sign-in for the page: OpenID Connect's authorization code flow with PKCE
// against Cognito's hosted domain (or make local's issuer, on the same
// paths), in plain JS under the page's strict CSP. No DOM and no storage
// here, so `node --test` covers it; app.js keeps the state:
//   - the PKCE verifier and state, in sessionStorage, only from the redirect
//     to the sign-in until the code comes back (a redirect leaves the page,
//     so memory cannot carry them), then deleted;
//   - the ID token, in memory only: nothing for a script to find after the
//     tab closes, and never a cookie, so the API sees no credentials and
//     CORS stays without them (the token travels in the Authorization
//     header). A reload signs in again, which the sign-in's own session
//     makes a quick round trip.

// base64url is RFC 4648's URL-safe Base64, without padding.
export function base64url(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

// pkce makes a verifier (32 random bytes: 43 characters) and its S256
// challenge (RFC 7636), and a state that ties the answer to this request.
export async function pkce(webCrypto = globalThis.crypto) {
  const verifier = base64url(webCrypto.getRandomValues(new Uint8Array(32)));
  const digest = new Uint8Array(await webCrypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  return { verifier, challenge: base64url(digest), state: base64url(webCrypto.getRandomValues(new Uint8Array(16))) };
}

// redirectUri is where the sign-in sends the user back: the page's own
// origin, one of the callback URLs the app client names.
export function redirectUri(pageOrigin) {
  return pageOrigin + "/";
}

// authorizeURL is the sign-in's page for this flow.
export function authorizeURL(signIn, redirect, { challenge, state }) {
  const q = new URLSearchParams({
    response_type: "code", client_id: signIn.clientId, redirect_uri: redirect, scope: "openid email",
    code_challenge: challenge, code_challenge_method: "S256", state,
  });
  return `${signIn.url}/oauth2/authorize?${q}`;
}

// logoutURL ends the sign-in's session and comes back to the page.
export function logoutURL(signIn, redirect) {
  return `${signIn.url}/logout?${new URLSearchParams({ client_id: signIn.clientId, logout_uri: redirect })}`;
}

// parseCallback reads the page's URL after the sign-in sent the user back:
// {code, state}, {error} for a refusal, or null for an ordinary visit.
export function parseCallback(href) {
  const q = new URL(href).searchParams;
  if (q.has("error")) {
    return { error: q.get("error_description") || q.get("error") };
  }
  return q.has("code") ? { code: q.get("code"), state: q.get("state") ?? "" } : null;
}

// tokenRequest is the exchange of a code for the tokens: a form POST (a
// simple request: no preflight), proving the verifier.
export function tokenRequest(signIn, redirect, code, verifier) {
  return {
    url: `${signIn.url}/oauth2/token`,
    init: {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", client_id: signIn.clientId, code, redirect_uri: redirect, code_verifier: verifier }).toString(),
    },
  };
}

// claims are a JWT's payload. The page only reads them (who, until when):
// the API verifies the signature.
export function claims(jwt) {
  const part = String(jwt).split(".")[1];
  if (!part) throw new Error("not a JWT");
  const b64 = part.replaceAll("-", "+").replaceAll("_", "/");
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))));
}

// readTokens reads the token endpoint's answer into a session: the ID
// token to send, who it is, and when it runs out (ms since the epoch).
export function readTokens(status, text) {
  let doc = null;
  try {
    doc = JSON.parse(text);
  } catch {
    // an error page
  }
  if (status !== 200 || typeof doc?.id_token !== "string") {
    throw new Error(`the sign-in refused the code (${status}): ${doc?.error_description || doc?.error || text.slice(0, 200)}`);
  }
  const c = claims(doc.id_token);
  return { idToken: doc.id_token, email: String(c.email ?? c["cognito:username"] ?? "you"), expiresAt: Number(c.exp) * 1000 };
}

// expired says whether a session can no longer be sent (a minute early:
// the API must not get a token that runs out on the way).
export function expired(session, now = Date.now()) {
  return !session || now >= session.expiresAt - 60_000;
}

// authorization is the header the API's authorizer reads.
export function authorization(session) {
  return `Bearer ${session.idToken}`;
}
