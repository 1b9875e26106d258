"""The usual alternative, for make bench: a Python Lambda function serving the
same fitted scikit-learn model (joblib) with the same contract as the Go
function, so the two can be measured side by side under aws-lambda-rie.

The Lambda runtime interface client (awslambdaric) cannot be installed here
(no PyPI), so the runtime API loop below is the minimum that the protocol
needs: get the next event, post the answer. Production Python functions get
that loop from the managed runtime; its cost is not what is compared.

Environment: MODEL_JOBLIB (the model), MODEL_JSON (model.json exported from
it: names, ranges, target, classes, version), ALLOWED_ORIGINS.
"""
import json
import os
import urllib.request

import joblib
import numpy as np

PIPELINE = joblib.load(os.environ["MODEL_JOBLIB"])
with open(os.environ["MODEL_JSON"], encoding="utf-8") as f:
    MODEL = json.load(f)
FEATURES = MODEL["features"]
NAMES = [f["name"] for f in FEATURES]
CLASSES = MODEL["classes"]  # the exported names, in the order of classes_
ORIGINS = set(filter(None, os.environ.get("ALLOWED_ORIGINS", "").split(",")))
MAX_BATCH = 100


class BadInput(Exception):
    pass


def row(obj, prefix=""):
    if not isinstance(obj, dict):
        raise BadInput(f"{prefix}must be an object with {', '.join(NAMES)}")
    unknown = sorted(set(obj) - set(NAMES))
    if unknown:
        raise BadInput(f"{prefix}unknown field {unknown[0][:40]!r}; the fields are {', '.join(NAMES)}")
    x = []
    for f in FEATURES:
        v = obj.get(f["name"])
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not f["min_exclusive"] < v <= f["max"]:
            raise BadInput(f"{prefix}{f['name']}: must be a number more than {f['min_exclusive']} and at most {f['max']}")
        x.append(float(v))
    return x


def predict(event):
    try:
        doc = json.loads(event.get("body") or "")
    except ValueError:
        raise BadInput("request body is not valid JSON")
    batch = isinstance(doc, dict) and "instances" in doc
    items = doc["instances"] if batch else [doc]
    if batch and (not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH):
        raise BadInput(f"instances: must hold 1 to {MAX_BATCH} rows")
    X = np.array([row(o, f"instances[{i}]." if batch else "") for i, o in enumerate(items)])
    proba = PIPELINE.predict_proba(X)
    preds = [{MODEL["target"]: CLASSES[int(np.argmax(p))], "probabilities": dict(zip(CLASSES, map(float, p)))} for p in proba]
    out = {"predictions": preds} if batch else preds[0]
    out["model_version"] = MODEL["version"]
    return out


def handle(event):
    headers = {"Content-Type": "application/json; charset=utf-8", "Vary": "Origin"}
    origin = {k.lower(): v for k, v in (event.get("headers") or {}).items()}.get("origin", "")
    if origin in ORIGINS:
        headers["Access-Control-Allow-Origin"] = origin
    try:
        status, body = 200, predict(event)
    except BadInput as e:
        status, body = 400, {"error": {"code": "invalid_input", "message": str(e)}}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def main():
    api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
    while True:
        with urllib.request.urlopen(api + "next") as r:
            request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
            event = json.load(r)
        answer = json.dumps(handle(event)).encode()
        urllib.request.urlopen(urllib.request.Request(api + request_id + "/response", data=answer, method="POST")).close()


if __name__ == "__main__":
    main()
