"""Fits the supported pipelines on datasets scikit-learn ships, exports each
with scripts/export_sklearn.py, and writes what the Go test compares:
<dir>/<name>.model.json and <name>.expected.json ({"rows", "proba"}), plus
refused.json, the export's messages for pipelines it must refuse.

    python3 sklearn_parity.py <repo root> <output dir>
"""
import json
import os
import subprocess
import sys

import joblib
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.tree import DecisionTreeClassifier

root, out = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(root, "scripts"))
from export_sklearn import export  # noqa: E402


def names(ds):
    return ["".join(c if c.isalnum() else "_" for c in n).strip("_").replace("__", "_") for n in ds.feature_names]


def fit(ds, **lr):
    return Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression(max_iter=5000, **lr))]).fit(ds.data, ds.target)


def expected(name, pipe, ds):
    with open(os.path.join(out, name + ".expected.json"), "w") as f:
        json.dump({"rows": ds.data.tolist(), "proba": pipe.predict_proba(ds.data).tolist(),
                   "classes": [str(c) for c in pipe.classes_]}, f)


# Iris, multinomial, through the command line and a joblib file.
iris = load_iris()
pipe = fit(iris)
joblib.dump(pipe, os.path.join(out, "iris.joblib"))
subprocess.run([sys.executable, os.path.join(root, "scripts", "export_sklearn.py"), "--model", os.path.join(out, "iris.joblib"),
                "--features", ",".join(names(iris)), "--out", os.path.join(out, "iris.model.json")], check=True)
expected("iris", pipe, iris)

# Wine (13 features, 3 cultivars), multinomial, through export() with meta.
wine = load_wine()
pipe = fit(wine, C=0.5)
export(pipe, names(wine), os.path.join(out, "wine.model.json"),
       meta={"target": "cultivar", "title": "Wine cultivar predictor", "features": {"alcohol": {"unit": "%", "min_exclusive": 0, "max": 20}},
             "examples": {"0": wine.data[0].tolist()}})
expected("wine", pipe, wine)

# Breast cancer (30 features), binary.
cancer = load_breast_cancer()
pipe = fit(cancer)
export(pipe, names(cancer), os.path.join(out, "cancer.model.json"), meta={"target": "diagnosis"})
expected("cancer", pipe, cancer)

refused = {}
for label, p in {
    "a tree": make_pipeline(StandardScaler(), DecisionTreeClassifier()).fit(iris.data, iris.target),
    "another scaler": make_pipeline(MinMaxScaler(), LogisticRegression(max_iter=5000)).fit(iris.data, iris.target),
    "one-vs-rest": make_pipeline(StandardScaler(), LogisticRegression(solver="liblinear")).fit(iris.data, iris.target),
    "not fitted": make_pipeline(StandardScaler(), LogisticRegression()),
}.items():
    try:
        export(p, names(iris), os.path.join(out, "refused.model.json"))
        refused[label] = ""
    except ValueError as e:
        refused[label] = str(e)
with open(os.path.join(out, "refused.json"), "w") as f:
    json.dump(refused, f)
