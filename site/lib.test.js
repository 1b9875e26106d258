import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConfigError, PRESETS, buildPredictBody, classifyFailure, describeHttpError, endpoint, parseAnswer, parseConfig,
} from "./lib.js";

const api = "https://abc123.execute-api.eu-west-1.amazonaws.com/dev/";
const page = "https://d111.cloudfront.net";

test("config: a valid apiUrl is normalized to end with a slash", () => {
  assert.deepEqual(parseConfig(200, '{"apiUrl":"http://localhost:3000/dev"}'), { apiUrl: "http://localhost:3000/dev/" });
  assert.deepEqual(parseConfig(200, JSON.stringify({ apiUrl: api })), { apiUrl: api });
});

test("config: each way it can be broken gets its own message", () => {
  for (const [status, text, want] of [
    [404, "", /missing/],
    [500, "", /HTTP 500/],
    [200, "{", /not valid JSON/],
    [200, "{}", /no "apiUrl"/],
    [200, '{"apiUrl":"/dev/"}', /not an absolute URL/],
    [200, '{"apiUrl":"ftp://x/"}', /must be http/],
  ]) {
    assert.throws(() => parseConfig(status, text), (e) => e instanceof ConfigError && want.test(e.message), `${status} ${text}`);
  }
});

test("endpoint keeps the stage in the path", () => {
  assert.equal(endpoint(api, "predict"), "https://abc123.execute-api.eu-west-1.amazonaws.com/dev/predict");
});

test("request body: numbers from form strings, every field required", () => {
  assert.deepEqual(JSON.parse(buildPredictBody({ sepal_length: "5.1", sepal_width: " 3.5", petal_length: "1.4", petal_width: "0.2" }).body),
    PRESETS.setosa);
  const missing = buildPredictBody({ sepal_length: "5.1", sepal_width: "", petal_length: "1.4", petal_width: "0.2" });
  assert.equal(missing.field, "sepal_width");
  assert.match(missing.error, /Sepal width: enter a number in cm/);
  assert.equal(buildPredictBody({ ...PRESETS.setosa, petal_width: "abc" }).field, "petal_width");
});

test("request body: out-of-range numbers are sent, so the API explains them", () => {
  assert.equal(JSON.parse(buildPredictBody({ ...PRESETS.setosa, petal_width: "-1" }).body).petal_width, -1);
});

test("answer: a prediction with bars sorted by probability", () => {
  const got = parseAnswer(200, JSON.stringify({
    species: "virginica", probabilities: { setosa: 0.01, versicolor: 0.2, virginica: 0.79 }, model_version: "abc",
  }));
  assert.equal(got.prediction.species, "virginica");
  assert.deepEqual(got.prediction.bars.map((b) => b.species), ["virginica", "versicolor", "setosa"]);
  assert.equal(got.prediction.version, "abc");
});

test("answer: the API's error envelope, API Gateway's own shape, and non-JSON", () => {
  assert.deepEqual(parseAnswer(400, '{"error":{"code":"invalid_input","message":"petal_width: must be a number between 0 and 30"}}').error,
    { kind: "http", status: 400, code: "invalid_input", message: "petal_width: must be a number between 0 and 30" });
  assert.equal(parseAnswer(403, '{"message":"Missing Authentication Token"}').error.message, "Missing Authentication Token");
  assert.equal(parseAnswer(502, "<html>Bad gateway</html>").error.message, "<html>Bad gateway</html>");
  assert.equal(parseAnswer(200, "{}").error.kind, "http");
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
