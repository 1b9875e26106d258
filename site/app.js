// The page's DOM wiring. The logic lives in lib.js; this file only moves values
// between the form, fetch and the result and diagnostics panels.
import {
  PRESETS, TIMEOUT_MS, ConfigError, buildPredictBody, classifyFailure, describeHttpError,
  endpoint, parseAnswer, parseConfig,
} from "./lib.js";

const $ = (id) => document.getElementById(id);
const form = $("predict-form");
const violations = [];
let apiUrl = null;

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

function showPrediction({ species, bars, version }) {
  $("species").textContent = species;
  $("flower").dataset.species = species;
  const list = $("bars");
  list.replaceChildren(...bars.map(({ species: name, p }) => {
    const li = document.createElement("li");
    li.dataset.species = name;
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
  const built = buildPredictBody(values);
  if (built.error) {
    showDiagnosis({ kind: "input", title: "Check the form", detail: built.error });
    $(built.field).focus();
    return;
  }
  const button = $("predict");
  button.disabled = true;
  button.textContent = "Predicting…";
  try {
    const answer = await call(endpoint(apiUrl, "predict"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: built.body,
    });
    if (answer.failure) {
      showDiagnosis(answer.failure);
      return;
    }
    const parsed = parseAnswer(answer.status, answer.text);
    if (parsed.error) {
      showDiagnosis(describeHttpError(parsed.error));
      return;
    }
    showPrediction(parsed.prediction);
  } finally {
    button.disabled = false;
    button.textContent = "Predict";
  }
}

// loadModel puts GET /model's valid ranges on the inputs; the form works without it.
async function loadModel() {
  const answer = await call(endpoint(apiUrl, "model"));
  if (answer.failure) {
    showDiagnosis(answer.failure);
    return;
  }
  if (answer.status !== 200) {
    showDiagnosis(describeHttpError(parseAnswer(answer.status, answer.text).error));
    return;
  }
  for (const f of JSON.parse(answer.text).features ?? []) {
    const input = $(f.name);
    if (input) {
      input.max = String(f.max);
      input.title = `${f.description}: more than ${f.min_exclusive} and at most ${f.max} ${f.unit}`;
    }
  }
}

async function start() {
  $("page-origin").textContent = location.origin;
  for (const button of document.querySelectorAll("[data-preset]")) {
    button.addEventListener("click", () => {
      for (const [name, value] of Object.entries(PRESETS[button.dataset.preset])) {
        $(name).value = String(value);
      }
      $("predict").focus();
    });
  }
  form.addEventListener("submit", predict);
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    ({ apiUrl } = parseConfig(response.status, await response.text()));
  } catch (error) {
    const detail = error instanceof ConfigError ? error.message : `config.json could not be loaded: ${error}`;
    showDiagnosis({ kind: "config", title: "The page is not configured", detail });
    return;
  }
  $("api-url").textContent = apiUrl;
  document.body.dataset.ready = "true";
  await loadModel();
}

start();
