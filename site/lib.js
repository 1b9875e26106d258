// Pure logic of the demo page: building requests, reading answers and telling
// apart the ways a call can fail. No DOM here, so `node --test` covers it.

export const TIMEOUT_MS = 10_000;

export class ConfigError extends Error {}

// parseConfig checks config.json's text: {"apiUrl": "https://...", "model":
// {...}}, the model being what GET /model describes (the deployment writes
// both, from the model the function embeds).
export function parseConfig(status, text) {
  if (status === 404) {
    throw new ConfigError("config.json is missing: the deployment writes it next to index.html (make local serves one too).");
  }
  if (status !== 200) {
    throw new ConfigError(`config.json could not be loaded (HTTP ${status}).`);
  }
  let doc;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ConfigError("config.json is not valid JSON.");
  }
  if (!doc || typeof doc.apiUrl !== "string") {
    throw new ConfigError('config.json has no "apiUrl" string.');
  }
  let url;
  try {
    url = new URL(doc.apiUrl);
  } catch {
    throw new ConfigError(`config.json: apiUrl ${JSON.stringify(doc.apiUrl)} is not an absolute URL.`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ConfigError(`config.json: apiUrl must be http(s), got ${url.protocol}`);
  }
  return { apiUrl: url.href.endsWith("/") ? url.href : url.href + "/", model: checkModel(doc.model) };
}

// checkModel keeps what the page needs of the model description.
function checkModel(m) {
  const ok = m && typeof m.target === "string" && Array.isArray(m.classes) && Array.isArray(m.features) &&
    m.features.length > 0 && m.features.every((f) => f && typeof f.name === "string" && typeof f.max === "number");
  if (!ok) {
    throw new ConfigError('config.json has no usable "model" (features, classes, target): redeploy, or restart make local.');
  }
  return {
    title: String(m.title || m.name || "Predictor"),
    description: String(m.description ?? ""),
    target: m.target,
    classes: m.classes.map(String),
    features: m.features.map((f) => ({
      name: f.name, description: String(f.description || f.name), unit: String(f.unit ?? ""),
      min_exclusive: Number(f.min_exclusive ?? 0), max: f.max,
    })),
    examples: m.examples && typeof m.examples === "object" ? m.examples : {},
  };
}

// presets lists one typical example per class that has one, as field values.
export function presets(model) {
  return model.classes.filter((c) => Array.isArray(model.examples[c])).map((c) => ({
    label: c,
    values: Object.fromEntries(model.features.map((f, j) => [f.name, model.examples[c][j]])),
  }));
}

// picture chooses the result's picture: the flower for Fisher's irises, a
// neutral mark for every other model.
export function picture(model) {
  const iris = ["setosa", "versicolor", "virginica"];
  return model.target === "species" && iris.every((c) => model.classes.includes(c)) ? "flower" : "neutral";
}

// rangeText says what a feature accepts, as the API's messages do.
export function rangeText(f) {
  return `more than ${f.min_exclusive} and at most ${f.max}${f.unit ? ` ${f.unit}` : ""}`;
}

// endpoint resolves a resource against the API's base URL (which ends with the stage).
export function endpoint(apiUrl, path) {
  return new URL(path, apiUrl).href;
}

// buildPredictBody turns the form's strings into the request body. It checks
// only that each field holds a number; the API judges ranges and explains.
export function buildPredictBody(values, features) {
  const body = {};
  for (const f of features) {
    const raw = String(values[f.name] ?? "").trim();
    const n = Number(raw);
    if (raw === "" || !Number.isFinite(n)) {
      return { error: `${f.description}: enter a number${f.unit ? ` in ${f.unit}` : ""}.`, field: f.name };
    }
    body[f.name] = n;
  }
  return { body: JSON.stringify(body) };
}

// parseAnswer reads an API response: a prediction (the class under the
// model's target name), or the API's error message.
export function parseAnswer(status, text, target) {
  let doc = null;
  try {
    doc = JSON.parse(text);
  } catch {
    // fall through: a non-JSON error page
  }
  if (status >= 200 && status < 300) {
    if (!doc || typeof doc[target] !== "string" || typeof doc.probabilities !== "object") {
      return { error: { kind: "http", status, message: "The API answered, but not with a prediction." } };
    }
    const bars = Object.entries(doc.probabilities)
      .map(([name, p]) => ({ name, p: Number(p) }))
      .sort((a, b) => b.p - a.p);
    return { prediction: { predicted: doc[target], bars, version: String(doc.model_version ?? "") } };
  }
  // Our envelope is {"error":{"code","message"}}; API Gateway's own default is {"message"}.
  const message = doc?.error?.message ?? doc?.message ?? (text.trim().slice(0, 200) || "no message");
  return { error: { kind: "http", status, code: doc?.error?.code ?? "", message: String(message) } };
}

// classifyFailure names what went wrong with a fetch that threw.
//   error      the thrown value
//   violation  a securitypolicyviolation seen for the request, or null
//   reachable  whether a no-cors probe of the API got an answer
export function classifyFailure({ error, violation, reachable, pageOrigin, url }) {
  const api = new URL(url);
  if (violation) {
    const directive = violation.effectiveDirective || violation.violatedDirective || "connect-src";
    return {
      kind: "csp",
      title: "Blocked by the page's Content-Security-Policy",
      detail: `The browser refused to connect to ${violation.blockedURI || api.origin} because the page's ` +
        `Content-Security-Policy directive ${directive} does not list it. The request never left the browser. ` +
        `Fix: check apiUrl in config.json. The page may call only the API deployed with it (the policy in its <meta>, ` +
        `internal/sitepage), on the hosts CloudFront's header allows (CorsPolicy.ConnectSrc in stacks/cors.go). See docs/troubleshooting.md.`,
    };
  }
  if (error?.name === "AbortError" || error?.name === "TimeoutError") {
    return {
      kind: "timeout",
      title: "The API did not answer in time",
      detail: `No answer from ${api.origin} within ${TIMEOUT_MS / 1000} s. It may be starting or overloaded; try again.`,
    };
  }
  if (reachable) {
    return {
      kind: "cors",
      title: "Blocked by CORS",
      detail: `The API at ${api.origin} answered, but not with permission for this page's origin ${pageOrigin}, ` +
        `so the browser withheld the response. Fix: add ${pageOrigin} to environments.<env>.allowedOrigins ` +
        `in cdk.json and deploy (the stage redeploys by itself). See docs/troubleshooting.md.`,
    };
  }
  return {
    kind: "network",
    title: "The API could not be reached",
    detail: `No connection to ${api.origin}: check the network, the apiUrl in config.json, or that the API is running (make local).`,
  };
}

// describeHttpError words an API error answer for the diagnostics panel.
export function describeHttpError({ status, message, code }) {
  return {
    kind: "http",
    title: `The API answered ${status}${code ? ` (${code})` : ""}`,
    detail: message,
  };
}
