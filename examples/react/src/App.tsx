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
    // A category's option holds its value as JSON (a string, or a number
    // used as a label); an empty field is a missing value, null.
    const body = Object.fromEntries(model.features.map((f) => {
      const v = row[f.name] ?? "";
      return [f.name, v === "" ? null : f.type === "category" ? JSON.parse(v) : Number(v)];
    })) as PredictRequest;
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
            {f.description || f.name}{f.unit ? ` (${f.unit})` : ""}
            {f.type === "category" ? (
              <select name={f.name} value={row[f.name] ?? ""} onChange={(e) => setRow({ ...row, [f.name]: e.target.value })}>
                <option value="">{f.missing === "refused" ? "(choose)" : "(not known)"}</option>
                {(f.categories ?? []).map((c) => (
                  <option key={JSON.stringify(c)} value={JSON.stringify(c)}>
                    {String(c)}
                  </option>
                ))}
              </select>
            ) : (
              <input
                name={f.name}
                inputMode="decimal"
                value={row[f.name] ?? ""}
                onChange={(e) => setRow({ ...row, [f.name]: e.target.value })}
              />
            )}
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
  return Object.fromEntries(model.features.map((f, j) => {
    const v = values[j];
    return [f.name, v === undefined || v === null ? "" : f.type === "category" ? JSON.stringify(v) : String(v)];
  }));
}
