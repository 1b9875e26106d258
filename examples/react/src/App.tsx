import { useMemo, useState, type FormEvent } from "react";
import { useAuth } from "react-oidc-context";
import { apiClient, type PredictRequest } from "./api.ts";
import type { Config, Model } from "./config.ts";

// SignedIn adds the sign-in to the predictor. API Gateway's Cognito
// authorizer takes the ID token where a method names no OAuth scopes (this
// API's); a method with scopes would take the access token instead.
export function SignedIn({ config }: { config: Config }) {
  const auth = useAuth();
  if (auth.isLoading) {
    return <p>Signing in…</p>;
  }
  return (
    <>
      <header>
        {auth.isAuthenticated ? (
          <p id="account">
            Signed in as {auth.user?.profile.email} <button onClick={() => void auth.removeUser()}>Sign out</button>
          </p>
        ) : (
          <button id="sign-in" onClick={() => void auth.signinRedirect()}>
            Sign in
          </button>
        )}
        {auth.error && <p role="alert">Sign-in failed: {auth.error.message}</p>}
      </header>
      <Predictor config={config} token={auth.user?.id_token} />
    </>
  );
}

// Predictor is a form of the model's features, and what the API answers.
export function Predictor({ config, token }: { config: Config; token?: string }) {
  const api = useMemo(() => apiClient(config.apiUrl), [config.apiUrl]);
  const { model } = config;
  const [row, setRow] = useState<Record<string, string>>(() => example(model, 0));
  const [answer, setAnswer] = useState("");
  const [error, setError] = useState("");

  async function predict(e: FormEvent) {
    e.preventDefault();
    setAnswer("");
    setError("");
    const body = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === "" ? null : Number(v)])) as PredictRequest;
    try {
      const { data, error, response } = await api.POST("/predict", {
        body,
        headers: token ? { Authorization: `Bearer ${token}` } : {},
      });
      if (response.status === 401) {
        setError("Sign in to predict: the API answered 401 (authentication, not CORS).");
      } else if (error) {
        setError(`${response.status}: ${error.error.message}`);
      } else if (data && model.target in data) {
        setAnswer(String((data as Record<string, unknown>)[model.target]));
      }
    } catch (err) {
      // A TypeError with no status: the network, or a CORS refusal (the
      // browser's console says which).
      setError(`The API could not be read: ${err}`);
    }
  }

  return (
    <main>
      <h1>{model.title}</h1>
      <form id="predict" onSubmit={predict}>
        {model.features.map((f) => (
          <label key={f.name}>
            {f.description || f.name} ({f.unit})
            <input
              name={f.name}
              inputMode="decimal"
              value={row[f.name] ?? ""}
              onChange={(e) => setRow({ ...row, [f.name]: e.target.value })}
            />
          </label>
        ))}
        <button type="submit">Predict</button>
      </form>
      <p>
        {model.target}: <output id="predicted">{answer}</output>
      </p>
      {error && (
        <p id="error" role="alert">
          {error}
        </p>
      )}
    </main>
  );
}

// example is one of the model's examples as the form's values.
function example(model: Model, i: number): Record<string, string> {
  const values = model.examples?.[i]?.values ?? [];
  return Object.fromEntries(model.features.map((f, j) => [f.name, j < values.length ? String(values[j]) : ""]));
}
