// The page's DOM wiring. The logic lives in lib.js; this file only moves values
// between the form, fetch and the result and diagnostics panels.
import {
  TIMEOUT_MS, ConfigError, buildPredictBody, classifyFailure, describeHttpError,
  endpoint, fieldValue, parseAnswer, parseConfig, picture, presets, rangeText,
} from "./lib.js";
import {
  authorization, authorizeURL, expired, logoutURL, parseCallback, pkce, readTokens, redirectUri, tokenRequest,
} from "./signin.js";

const $ = (id) => document.getElementById(id);
const form = $("predict-form");
const violations = [];
let apiUrl = null;
let model = null;
let signIn = null; // where to sign in, when the API requires it
let session = null; // the signed-in user's token: in memory only (signin.js says why)
const PENDING = "signin-pending"; // sessionStorage: the PKCE verifier and state, during the redirect

// CSP blocks raise this event on the document; fetch itself only says TypeError.
document.addEventListener("securitypolicyviolation", (e) => {
  violations.push({ blockedURI: e.blockedURI, effectiveDirective: e.effectiveDirective, violatedDirective: e.violatedDirective });
});

function showDiagnosis({ kind, title, detail }) {
  $("diag-title").textContent = title;
  $("diag-detail").textContent = detail;
  $("diag-kind").textContent = kind;
  $("diagnostics").dataset.kind = kind;
  $("diagnostics").hidden = false;
}

function clearDiagnosis() {
  $("diagnostics").hidden = true;
  delete $("diagnostics").dataset.kind;
}

// call fetches url and turns every failure into a diagnosis.
async function call(url, init = {}) {
  const seen = violations.length;
  let response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    // The violation event may be dispatched just after fetch rejects.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const violation = violations.slice(seen).find((v) => (v.effectiveDirective || v.violatedDirective).startsWith("connect-src")) ?? null;
    let reachable = false;
    if (!violation && error?.name === "TypeError") {
      // An opaque no-cors request succeeds whenever the server answers at all,
      // which tells a CORS refusal from a dead network.
      reachable = await fetch(url, { mode: "no-cors", signal: AbortSignal.timeout(TIMEOUT_MS) }).then(() => true, () => false);
    }
    return { failure: classifyFailure({ error, violation, reachable, pageOrigin: location.origin, url }) };
  }
  return { status: response.status, text: await response.text() };
}

function showPrediction({ predicted, bars, version }) {
  $("predicted").textContent = predicted;
  $("flower").dataset.class = predicted;
  const list = $("bars");
  list.hidden = bars.length === 0; // a regression's number has no bars
  list.replaceChildren(...bars.map(({ name, p }) => {
    const li = document.createElement("li");
    li.dataset.class = name;
    const label = document.createElement("span");
    label.className = "bar-label";
    label.textContent = name;
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.setAttribute("role", "meter");
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.setAttribute("aria-valuenow", (p * 100).toFixed(1));
    bar.setAttribute("aria-label", `${name} probability`);
    // CSSOM, not a style attribute, so the strict CSP allows it.
    bar.style.setProperty("--p", String(p));
    const value = document.createElement("span");
    value.className = "bar-value";
    value.textContent = `${(p * 100).toFixed(1)} %`;
    li.append(label, bar, value);
    return li;
  }));
  $("model-version").textContent = version;
  $("result-empty").hidden = true;
  $("result-body").hidden = false;
}

async function predict(event) {
  event.preventDefault();
  clearDiagnosis();
  if (!apiUrl) {
    showDiagnosis({ kind: "config", title: "No API configured", detail: "config.json did not load; see the message above." });
    return;
  }
  const values = Object.fromEntries(new FormData(form));
  const built = buildPredictBody(values, model);
  if (built.error) {
    showDiagnosis({ kind: "input", title: "Check the form", detail: built.error });
    $(built.field).focus();
    return;
  }
  const button = $("predict");
  button.disabled = true;
  button.textContent = "Predicting…";
  try {
    const headers = { "Content-Type": "application/json" };
    if (signIn && !expired(session)) {
      headers.Authorization = authorization(session);
    }
    const answer = await call(endpoint(apiUrl, "predict"), { method: "POST", headers, body: built.body });
    if (answer.failure) {
      showDiagnosis(answer.failure);
      return;
    }
    const parsed = parseAnswer(answer.status, answer.text, model);
    if (parsed.error) {
      showDiagnosis(describeHttpError(parsed.error, { signedIn: session !== null }));
      if (parsed.error.status === 401) {
        session = null;
        showAccount();
      }
      return;
    }
    showPrediction(parsed.prediction);
  } finally {
    button.disabled = false;
    button.textContent = "Predict";
  }
}

// buildForm renders the model's features as labelled inputs and its
// examples as presets: the HTML names no feature, so any model gets its form.
function buildForm() {
  document.title = model.title;
  $("title").textContent = model.title;
  $("description").textContent = model.description;
  const name = model.task === "regression" ? model.targetDescription : model.target;
  $("target-name").textContent = name[0].toUpperCase() + name.slice(1) + ":";
  $(picture(model)).removeAttribute("hidden"); // an SVG element: no hidden property
  $("bars").setAttribute("aria-label", `Probability of each ${model.target}`);
  $("fields").replaceChildren(...model.features.flatMap((f) => {
    const label = document.createElement("label");
    label.htmlFor = f.name;
    label.textContent = f.description + " ";
    if (f.unit) {
      const unit = document.createElement("span");
      unit.className = "unit";
      unit.textContent = `(${f.unit})`;
      label.append(unit);
    }
    if (f.type === "category") {
      // A category is chosen from its values; "not known" sends null
      // where the feature takes a missing value.
      const select = document.createElement("select");
      Object.assign(select, { id: f.name, name: f.name, required: !f.missing, title: f.description });
      const options = f.categories.map((c) => new Option(String(c), fieldValue(f, c)));
      select.replaceChildren(new Option(f.missing ? "(not known)" : "(choose)", ""), ...options);
      return [label, select];
    }
    const input = document.createElement("input");
    Object.assign(input, { id: f.name, name: f.name, type: "number", inputMode: "decimal", step: "any", required: !f.missing });
    input.max = String(f.max);
    input.title = `${f.description}: ${rangeText(f)}${f.missing ? "; leave it empty if it is not known" : ""}`;
    return [label, input];
  }));
  const examples = presets(model);
  $("form-help").textContent = examples.length > 0 ? "Enter the values, or start from a typical example:" : "Enter the values:";
  $("presets").replaceChildren(...examples.map(({ label, values }) => {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.preset = label;
    button.textContent = label[0].toUpperCase() + label.slice(1);
    button.addEventListener("click", () => {
      for (const [name, value] of Object.entries(values)) {
        $(name).value = value;
      }
      $("predict").focus();
    });
    return button;
  }));
  $("presets").hidden = examples.length === 0;
}

// showAccount shows who is signed in, or the button to sign in.
function showAccount() {
  $("account").hidden = !signIn;
  const signedIn = session !== null && !expired(session);
  $("account-state").textContent = signedIn ? `Signed in as ${session.email}` : "Not signed in";
  $("sign-in").hidden = signedIn;
  $("sign-out").hidden = !signedIn;
}

// beginSignIn sends the user to the sign-in, keeping the PKCE verifier and
// state for the way back.
async function beginSignIn() {
  const request = await pkce();
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier: request.verifier, state: request.state }));
  location.assign(authorizeURL(signIn, redirectUri(location.origin), request));
}

// finishSignIn exchanges the code the sign-in sent the user back with, once:
// the pending verifier is deleted whatever happens, and the code leaves the
// address bar.
async function finishSignIn() {
  const back = parseCallback(location.href);
  if (!back) {
    return;
  }
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null");
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, "", location.pathname);
  if (back.error || !pending || back.state !== pending.state) {
    const detail = back.error ?? "The sign-in's answer does not belong to a sign-in this tab started (its state differs); sign in again.";
    showDiagnosis({ kind: "auth", title: "Sign-in failed", detail });
    return;
  }
  const { url, init } = tokenRequest(signIn, redirectUri(location.origin), back.code, pending.verifier);
  const answer = await call(url, init);
  if (answer.failure) {
    showDiagnosis(answer.failure);
    return;
  }
  try {
    session = readTokens(answer.status, answer.text);
  } catch (error) {
    showDiagnosis({ kind: "auth", title: "Sign-in failed", detail: error.message });
  }
}

async function start() {
  $("page-origin").textContent = location.origin;
  form.addEventListener("submit", predict);
  $("sign-in").addEventListener("click", beginSignIn);
  $("sign-out").addEventListener("click", () => {
    session = null;
    location.assign(logoutURL(signIn, redirectUri(location.origin)));
  });
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    ({ apiUrl, model, signIn } = parseConfig(response.status, await response.text()));
  } catch (error) {
    const detail = error instanceof ConfigError ? error.message : `config.json could not be loaded: ${error}`;
    $("form-help").textContent = "No model to show.";
    showDiagnosis({ kind: "config", title: "The page is not configured", detail });
    return;
  }
  buildForm();
  $("api-url").textContent = apiUrl;
  if (signIn) {
    await finishSignIn();
    showAccount();
  }
  document.body.dataset.ready = "true";
}

start();
