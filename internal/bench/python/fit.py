"""Fits the model both sides of make bench serve, and exports it for the Go
function. Writes <out>/model.joblib (for the Python function),
<out>/model.json (exported for the Go one) and <out>/rows.json (rows both
must answer alike).

    python3 fit.py <repo root> <out dir> logistic   # StandardScaler + LogisticRegression on data/iris.csv
    python3 fit.py <repo root> <out dir> forest     # RandomForestClassifier, 100 trees, on breast cancer (30 features)
"""
import csv
import json
import os
import sys

import joblib
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

root, out, which = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, os.path.join(root, "scripts"))
from export_sklearn import export  # noqa: E402

if which == "logistic":
    with open(os.path.join(root, "data", "iris.csv"), newline="") as f:
        table = list(csv.reader(f))
    names, data = table[0][:-1], table[1:]
    X, y = [[float(v) for v in r[:-1]] for r in data], [r[-1] for r in data]
    model = Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression(max_iter=5000))]).fit(X, y)
    meta = {"target": "species", "name": "iris-sklearn", "title": "Iris species predictor",
            "features": {n: {"unit": "cm", "min_exclusive": 0, "max": 30} for n in names}}
else:
    # The same forest as the parity fixture forest-cancer.
    ds = load_breast_cancer()
    names = ["".join(c if c.isalnum() else "_" for c in n).strip("_").replace("__", "_") for n in ds.feature_names]
    X, y = ds.data.tolist(), ds.target
    model = RandomForestClassifier(n_estimators=100, random_state=0).fit(ds.data, y)
    meta = {"target": "diagnosis", "name": "cancer-forest", "title": "Breast cancer diagnosis", "classes": ["malignant", "benign"]}
joblib.dump(model, os.path.join(out, "model.joblib"))
export(model, names, os.path.join(out, "model.json"), meta=meta, X=X, y=y)
with open(os.path.join(out, "rows.json"), "w") as f:
    json.dump([r for i, r in enumerate(X) if i % 3 != 2][:100], f)
