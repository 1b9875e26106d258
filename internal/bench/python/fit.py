"""Fits the pipeline both sides of make bench serve: StandardScaler and a
multinomial LogisticRegression on data/iris.csv. Writes <out>/model.joblib
(for the Python function) and <out>/model.json (exported for the Go one).

    python3 fit.py <repo root> <out dir>
"""
import csv
import os
import sys

import joblib
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

root, out = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(root, "scripts"))
from export_sklearn import export  # noqa: E402

with open(os.path.join(root, "data", "iris.csv"), newline="") as f:
    rows = list(csv.reader(f))
names, data = rows[0][:-1], rows[1:]
X, y = [[float(v) for v in r[:-1]] for r in data], [r[-1] for r in data]
pipeline = Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression(max_iter=5000))]).fit(X, y)
joblib.dump(pipeline, os.path.join(out, "model.joblib"))
export(pipeline, names, os.path.join(out, "model.json"), meta={
    "target": "species", "name": "iris-sklearn", "title": "Iris species predictor",
    "features": {n: {"unit": "cm", "min_exclusive": 0, "max": 30} for n in names},
})
