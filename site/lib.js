// Pure logic of the demo page: building requests, reading answers and telling
// apart the ways a call can fail. No DOM here, so `node --test` covers it.

export const TIMEOUT_MS = 10_000;

export class ConfigError extends Error {}

// parseConfig checks config.json's text: {"apiUrl": "https://...", "model":
// {...}, "signIn": {...}}, the model being what GET /model describes (the
// deployment writes both, from the model the function embeds), signIn
// where the page signs in when the API requires it.
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
  return { apiUrl: url.href.endsWith("/") ? url.href : url.href + "/", model: checkModel(doc.model), signIn: checkSignIn(doc.signIn) };
}

// checkSignIn reads where the page signs in, when the API requires it:
// {"url": the sign-in's base URL, "clientId": the site's app client}.
function checkSignIn(s) {
  if (s === undefined || s === null) {
    return null;
  }
  let url;
  try {
    url = new URL(s.url);
  } catch {
    throw new ConfigError(`config.json: signIn.url ${JSON.stringify(s?.url)} is not an absolute URL.`);
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || typeof s.clientId !== "string" || s.clientId === "") {
    throw new ConfigError("config.json: signIn needs an http(s) url and a clientId.");
  }
  return { url: url.href.replace(/\/$/, ""), clientId: s.clientId };
}

// checkModel keeps what the page needs of the model description: a
// classifier's classes, or what a regression's number is and its unit.
function checkModel(m) {
  const regression = m?.task === "regression";
  const ok = m && typeof m.target === "string" && (regression || Array.isArray(m.classes)) && Array.isArray(m.features) &&
    m.features.length > 0 && m.features.every((f) => f && typeof f.name === "string" &&
      (f.type === "category" ? Array.isArray(f.categories) && f.categories.length > 0 : typeof f.max === "number"));
  if (!ok) {
    throw new ConfigError('config.json has no usable "model" (features, classes or a regression\'s target): redeploy, or restart make local.');
  }
  // A model described before features had types is all numbers, each
  // taking null where the model does.
  const features = m.features.map((f) => ({
    name: f.name, description: String(f.description || f.name), unit: String(f.unit ?? ""),
    type: f.type === "category" ? "category" : "number",
    categories: f.type === "category" ? f.categories : [],
    missing: typeof f.missing === "string" ? f.missing !== "refused" : m.missing_values === true,
    min_exclusive: Number(f.min_exclusive ?? 0), max: f.max,
  }));
  return {
    title: String(m.title || m.name || "Predictor"),
    description: String(m.description ?? ""),
    task: regression ? "regression" : "classification",
    target: m.target,
    targetDescription: String(m.target_description || m.target),
    targetUnit: String(m.target_unit ?? ""),
    classes: regression ? [] : m.classes.map(String),
    missingValues: m.missing_values === true,
    features,
    examples: (Array.isArray(m.examples) ? m.examples : []).filter((e) =>
      e && typeof e.label === "string" && Array.isArray(e.values) && e.values.length === features.length),
  };
}

// presets lists the model's typical examples (one per class for a
// classifier; low, median and high for a regression) as field values: a
// number as typed, a category as its option's value, a missing one empty.
export function presets(model) {
  return model.examples.map((e) => ({
    label: e.label,
    values: Object.fromEntries(model.features.map((f, j) => [f.name, fieldValue(f, e.values[j])])),
  }));
}

// fieldValue is a value as the form holds it: a category's option is its
// JSON, so that a number used as a label stays a number.
export function fieldValue(f, v) {
  if (v === null || v === undefined) {
    return "";
  }
  return f.type === "category" ? JSON.stringify(v) : String(v);
}

// picture chooses the result's picture: the flower for Fisher's irises, a
// neutral mark for every other model.
export function picture(model) {
  const iris = ["setosa", "versicolor", "virginica"];
  return model.target === "species" && iris.every((c) => model.classes.includes(c)) ? "flower" : "neutral";
}

// formatValue shows a regression's number with four significant digits and
// its unit.
export function formatValue(v, unit) {
  const text = Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toPrecision(4) : String(Number(v.toPrecision(4)));
  return unit ? `${text} ${unit}` : text;
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
// only that each number field holds a number; the API judges ranges and
// explains. An empty field is a missing value (null) for a feature that
// takes one.
export function buildPredictBody(values, model) {
  const body = {};
  for (const f of model.features) {
    const raw = String(values[f.name] ?? "").trim();
    const n = Number(raw);
    if (raw === "" && f.missing) {
      body[f.name] = null;
      continue;
    }
    if (f.type === "category") {
      if (raw === "") {
        return { error: `${f.description}: choose one.`, field: f.name };
      }
      body[f.name] = JSON.parse(raw); // an option's value, which fieldValue wrote
      continue;
    }
    if (raw === "" || !Number.isFinite(n)) {
      return { error: `${f.description}: enter a number${f.unit ? ` in ${f.unit}` : ""}.`, field: f.name };
    }
    body[f.name] = n;
  }
  return { body: JSON.stringify(body) };
}

// parseAnswer reads an API response: a prediction (under the model's target
// name: a class and its probabilities, or a regression's number), or the
// API's error message.
export function parseAnswer(status, text, model) {
  let doc = null;
  try {
    doc = JSON.parse(text);
  } catch {
    // fall through: a non-JSON error page
  }
  if (status >= 200 && status < 300) {
    const value = doc?.[model.target];
    const version = String(doc?.model_version ?? "");
    if (model.task === "regression" && typeof value === "number" && Number.isFinite(value)) {
      return { prediction: { predicted: formatValue(value, model.targetUnit), value, bars: [], version } };
    }
    if (model.task !== "regression" && typeof value === "string" && doc.probabilities && typeof doc.probabilities === "object") {
      const bars = Object.entries(doc.probabilities)
        .map(([name, p]) => ({ name, p: Number(p) }))
        .sort((a, b) => b.p - a.p);
      return { prediction: { predicted: value, bars, version } };
    }
    return { error: { kind: "http", status, message: "The API answered, but not with a prediction." } };
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
        `internal/site), on the hosts CloudFront's header allows (CorsPolicy.ConnectSrc in stacks/cors.go). See docs/troubleshooting.md.`,
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
// A 401 is the sign-in's: no token, or one that ran out or is not this
// API's. The browser could read it: CORS is fine, and says so.
export function describeHttpError({ status, message, code }, { signedIn = false } = {}) {
  if (status === 401) {
    return {
      kind: "auth",
      title: signedIn ? "Sign in again" : "Sign in needed",
      detail: (signedIn ? "The API did not take your sign-in (it ran out, or is not for this API)" : "The API requires a signed-in user") +
        `: it answered 401${code ? ` (${code})` : ""}. This is not a CORS error: the browser let the page read the answer. Press Sign in.`,
    };
  }
  return {
    kind: "http",
    title: `The API answered ${status}${code ? ` (${code})` : ""}`,
    detail: message,
  };
}
