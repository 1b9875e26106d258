import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConfigError, buildPredictBody, classifyFailure, describeHttpError, endpoint, fieldValue, formatValue, parseAnswer, parseConfig, picture, presets, rangeText,
} from "./lib.js";

const api = "https://abc123.execute-api.eu-west-1.amazonaws.com/dev/";
const page = "https://d111.cloudfront.net";

// A model as config.json carries it (the Public part of model.json).
const iris = {
  name: "iris-softmax", title: "Iris species predictor", description: "Measure a flower.", task: "classification", target: "species",
  classes: ["setosa", "versicolor", "virginica"],
  features: ["sepal_length", "sepal_width", "petal_length", "petal_width"].map((name) => (
    { name, description: name.replace("_", " "), unit: "cm", min_exclusive: 0, max: 30 })),
  examples: [{ label: "setosa", values: [5, 3.4, 1.5, 0.2] }, { label: "virginica", values: [6.5, 3, 5.2, 2] }],
  missing_values: false,
};
// A regression that takes missing values (a histogram gradient boosting).
const diabetes = {
  name: "diabetes", title: "Disease progression", task: "regression", target: "progression",
  target_description: "disease progression one year after baseline", target_unit: "points",
  features: [{ name: "bmi", description: "Body mass index", unit: "kg/m²", min_exclusive: 10, max: 60 }, { name: "bp", max: 200 }],
  examples: [{ label: "low", values: [20, 80] }, { label: "high", values: [35, 110] }], missing_values: true,
};
const wine = {
  name: "wine", title: "Wine cultivar", target: "cultivar", classes: ["a", "b", "c"],
  features: [{ name: "alcohol", description: "Alcohol", unit: "%", min_exclusive: 0, max: 20 }, { name: "hue", max: 2 }],
};
const config = (extra) => JSON.stringify({ apiUrl: "http://localhost:3000/dev", model: iris, ...extra });

test("config: a valid apiUrl is normalized to end with a slash, the model kept", () => {
  const got = parseConfig(200, config());
  assert.equal(got.apiUrl, "http://localhost:3000/dev/");
  assert.equal(got.model.target, "species");
  assert.deepEqual(got.model.features.map((f) => f.name), iris.features.map((f) => f.name));
  assert.equal(parseConfig(200, config({ apiUrl: api })).apiUrl, api);
});

test("config: each way it can be broken gets its own message", () => {
  for (const [status, text, want] of [
    [404, "", /missing/],
    [500, "", /HTTP 500/],
    [200, "{", /not valid JSON/],
    [200, "{}", /no "apiUrl"/],
    [200, config({ apiUrl: "/dev/" }), /not an absolute URL/],
    [200, config({ apiUrl: "ftp://x/" }), /must be http/],
    [200, config({ model: undefined }), /no usable "model"/],
    [200, config({ model: { ...iris, features: [] } }), /no usable "model"/],
    [200, config({ model: { ...iris, classes: undefined } }), /no usable "model"/],
  ]) {
    assert.throws(() => parseConfig(status, text), (e) => e instanceof ConfigError && want.test(e.message), `${status} ${text}`);
  }
});

test("endpoint keeps the stage in the path", () => {
  assert.equal(endpoint(api, "predict"), "https://abc123.execute-api.eu-west-1.amazonaws.com/dev/predict");
});

test("model: presets from the examples, a feature without description or unit still labelled", () => {
  const { model } = parseConfig(200, config());
  assert.deepEqual(presets(model).map((p) => p.label), ["setosa", "virginica"]);
  assert.deepEqual(presets(model)[0].values, { sepal_length: "5", sepal_width: "3.4", petal_length: "1.5", petal_width: "0.2" });
  const other = parseConfig(200, config({ model: wine })).model;
  assert.deepEqual(presets(other), []);
  assert.equal(other.features[1].description, "hue");
  assert.equal(rangeText(other.features[0]), "more than 0 and at most 20 %");
  assert.equal(rangeText(other.features[1]), "more than 0 and at most 2");
});

test("model: the iris flower for Fisher's irises only", () => {
  assert.equal(picture(parseConfig(200, config()).model), "flower");
  assert.equal(picture(parseConfig(200, config({ model: wine })).model), "neutral");
});

test("request body: numbers from form strings, every field required", () => {
  const { model } = parseConfig(200, config());
  const setosa = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
  assert.deepEqual(JSON.parse(buildPredictBody({ sepal_length: "5.1", sepal_width: " 3.5", petal_length: "1.4", petal_width: "0.2" }, model).body), setosa);
  const missing = buildPredictBody({ ...setosa, sepal_width: "" }, model);
  assert.equal(missing.field, "sepal_width");
  assert.match(missing.error, /sepal width: enter a number in cm/);
  assert.equal(buildPredictBody({ ...setosa, petal_width: "abc" }, model).field, "petal_width");
  assert.match(buildPredictBody({}, parseConfig(200, config({ model: wine })).model).error, /^Alcohol: enter a number in %/);
});

test("request body: an empty field is null for a model that takes missing values", () => {
  const { model } = parseConfig(200, config({ model: diabetes }));
  assert.deepEqual(JSON.parse(buildPredictBody({ bmi: "", bp: "90" }, model).body), { bmi: null, bp: 90 });
  assert.equal(buildPredictBody({ bmi: "abc", bp: "90" }, model).field, "bmi");
});

test("request body: out-of-range numbers are sent, so the API explains them", () => {
  const { model } = parseConfig(200, config());
  assert.equal(JSON.parse(buildPredictBody({ sepal_length: 5, sepal_width: 3, petal_length: 1, petal_width: "-1" }, model).body).petal_width, -1);
});

test("answer: a prediction under the model's target name, bars sorted by probability", () => {
  const { model } = parseConfig(200, config());
  const got = parseAnswer(200, JSON.stringify({
    species: "virginica", probabilities: { setosa: 0.01, versicolor: 0.2, virginica: 0.79 }, model_version: "abc",
  }), model);
  assert.equal(got.prediction.predicted, "virginica");
  assert.deepEqual(got.prediction.bars.map((b) => b.name), ["virginica", "versicolor", "setosa"]);
  assert.equal(got.prediction.version, "abc");
  const other = parseConfig(200, config({ model: wine })).model;
  assert.equal(parseAnswer(200, JSON.stringify({ cultivar: "b", probabilities: {} }), other).prediction.predicted, "b");
  assert.equal(parseAnswer(200, JSON.stringify({ species: "b", probabilities: {} }), other).error.kind, "http");
});

test("answer: a regression's number with its unit, no bars", () => {
  const { model } = parseConfig(200, config({ model: diabetes }));
  assert.equal(model.targetDescription, "disease progression one year after baseline");
  const got = parseAnswer(200, '{"progression":151.2843,"model_version":"v1"}', model).prediction;
  assert.deepEqual(got, { predicted: "151.3 points", value: 151.2843, bars: [], version: "v1" });
  assert.equal(parseAnswer(200, '{"progression":"high"}', model).error.kind, "http");
  assert.equal(parseAnswer(200, '{"progression":null}', model).error.kind, "http");
  assert.deepEqual(presets(model).map((p) => p.label), ["low", "high"]);
  assert.equal(formatValue(0.000123456, ""), "0.0001235");
  assert.equal(formatValue(1234567, "$"), "1.235e+6 $");
  assert.equal(formatValue(-2, ""), "-2");
});

test("answer: the API's error envelope, API Gateway's own shape, and non-JSON", () => {
  const { model } = parseConfig(200, config());
  assert.deepEqual(parseAnswer(400, '{"error":{"code":"invalid_input","message":"petal_width: must be a number between 0 and 30"}}', model).error,
    { kind: "http", status: 400, code: "invalid_input", message: "petal_width: must be a number between 0 and 30" });
  assert.equal(parseAnswer(403, '{"message":"Missing Authentication Token"}', model).error.message, "Missing Authentication Token");
  assert.equal(parseAnswer(502, "<html>Bad gateway</html>", model).error.message, "<html>Bad gateway</html>");
  assert.equal(parseAnswer(200, "{}", model).error.kind, "http");
});

test("failure: a CSP violation is reported as CSP, naming the directive and URL", () => {
  const got = classifyFailure({
    error: new TypeError("Failed to fetch"),
    violation: { blockedURI: `${api}predict`, effectiveDirective: "connect-src" },
    reachable: false, pageOrigin: page, url: `${api}predict`,
  });
  assert.equal(got.kind, "csp");
  assert.match(got.detail, /connect-src/);
  assert.match(got.detail, /abc123\.execute-api/);
});

test("failure: TypeError with the API reachable is CORS, naming the page origin and the config key", () => {
  const got = classifyFailure({ error: new TypeError("Failed to fetch"), violation: null, reachable: true, pageOrigin: "http://127.0.0.1:8081", url: `${api}predict` });
  assert.equal(got.kind, "cors");
  assert.match(got.detail, /http:\/\/127\.0\.0\.1:8081/);
  assert.match(got.detail, /allowedOrigins/);
});

test("failure: TypeError with the API unreachable is the network", () => {
  const got = classifyFailure({ error: new TypeError("Failed to fetch"), violation: null, reachable: false, pageOrigin: page, url: `${api}predict` });
  assert.equal(got.kind, "network");
});

test("failure: an abort after the time limit is a timeout", () => {
  const error = new DOMException("signal timed out", "TimeoutError");
  assert.equal(classifyFailure({ error, violation: null, reachable: false, pageOrigin: page, url: api }).kind, "timeout");
});

test("failure: an HTTP error shows status, code and the API's message", () => {
  const got = describeHttpError({ status: 400, code: "invalid_input", message: "petal_width: must be a number between 0 and 30" });
  assert.equal(got.kind, "http");
  assert.equal(got.title, "The API answered 400 (invalid_input)");
  assert.equal(got.detail, "petal_width: must be a number between 0 and 30");
});

test("config.json may say where to sign in; a bad sign-in is a config error", () => {
  const signIn = { url: "https://dev-signin-1.auth.eu-west-1.amazoncognito.com/", clientId: "abc" };
  assert.deepEqual(parseConfig(200, config({ signIn })).signIn, { url: "https://dev-signin-1.auth.eu-west-1.amazoncognito.com", clientId: "abc" });
  assert.equal(parseConfig(200, config()).signIn, null);
  assert.throws(() => parseConfig(200, config({ signIn: { url: "nope", clientId: "abc" } })), /signIn.url/);
  assert.throws(() => parseConfig(200, config({ signIn: { url: "https://x.example" } })), /clientId/);
});

test("a 401 is the sign-in's, worded as such, and not CORS", () => {
  const out = describeHttpError({ status: 401, code: "UNAUTHORIZED", message: "Unauthorized" });
  assert.equal(out.kind, "auth");
  assert.equal(out.title, "Sign in needed");
  assert.match(out.detail, /not a CORS error/);
  assert.equal(describeHttpError({ status: 401, code: "UNAUTHORIZED", message: "Unauthorized" }, { signedIn: true }).title, "Sign in again");
  assert.equal(describeHttpError({ status: 400, code: "invalid_input", message: "bad" }).kind, "http");
});

// A pipeline's model: a category is chosen from its values (a number used as
// a label stays a number), a blank is null only where the feature takes one.
test("model: categories and per-feature missing values", () => {
  const titanic = {
    name: "t", target: "survived", classes: ["no", "yes"], missing_values: true,
    features: [
      { name: "sex", type: "category", categories: ["female", "male"], missing: "refused", unknown: "refused" },
      { name: "pclass", type: "category", categories: [1, 2, 3], missing: "imputed", unknown: "ignored" },
      { name: "age", type: "number", min_exclusive: 0, max: 100, missing: "imputed" },
      { name: "fare", type: "number", min_exclusive: 0, max: 600, missing: "refused" },
    ],
    examples: [{ label: "yes", values: ["female", 1, null, 80] }],
  };
  const { model } = parseConfig(200, config({ model: titanic }));
  assert.deepEqual(presets(model)[0].values, { sex: '"female"', pclass: "1", age: "", fare: "80" });
  assert.equal(fieldValue(model.features[1], 2), "2");
  assert.deepEqual(JSON.parse(buildPredictBody({ sex: '"male"', pclass: "3", age: "", fare: "7.25" }, model).body),
    { sex: "male", pclass: 3, age: null, fare: 7.25 });
  assert.equal(buildPredictBody({ sex: "", pclass: "3", age: "", fare: "7.25" }, model).field, "sex");
  assert.equal(buildPredictBody({ sex: '"male"', pclass: "3", age: "", fare: "" }, model).field, "fare");
  assert.throws(() => parseConfig(200, config({ model: { ...titanic, features: [{ name: "sex", type: "category", categories: [] }] } })), ConfigError);
});
