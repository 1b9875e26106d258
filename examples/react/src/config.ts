// The config.json the site reads (make local serves it; the deployment
// writes it beside the page): where the API is, the model it serves, and,
// when the API requires it, where to sign in.
import type { components } from "./schema";

export type Model = components["schemas"]["Model"];

export type Config = {
  apiUrl: string;
  model: Model;
  signIn?: {
    url: string; // Cognito's hosted domain (make local: its issuer's origin)
    clientId: string; // the app client: public, authorization code flow with PKCE
    issuer: string; // the OpenID issuer: an OpenID client's authority
  };
};

export async function loadConfig(): Promise<Config> {
  const res = await fetch("config.json", { cache: "no-store" });
  if (!res.ok) {
    throw new Error(`config.json: ${res.status}. Copy make local's: curl -s http://localhost:8080/config.json > public/config.json`);
  }
  return res.json();
}
