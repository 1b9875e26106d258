"""Fits every family the project serves on datasets scikit-learn ships (no
downloads), exports each with scripts/export_sklearn.py and writes what the Go
parity test compares, into <output dir>:

  <dataset>.rows.json    the dataset's rows: {"rows": [[...]]}
  <case>.model.json      the exported model
  <case>.expected.json   {"dataset", "extra": rows added for this case (null
                         for a missing value), "outputs": the library's
                         predict_proba or predict for the dataset's rows then
                         the extra ones, "labels": its predict, "bound"}
  refused.json           the export's message for each model it must refuse

The extra rows sit on the splits of the first tree: for each split, a row
that reaches it with the split's feature at the threshold and one float64
step either side (in the model's input space, through the scaler); and, for
the models that take missing values, rows with a value missing at those
splits. Run with OMP_NUM_THREADS=1: HistGradientBoosting fits 60 times slower
here with two OpenMP threads, and one thread makes the fits repeatable.

    OMP_NUM_THREADS=1 python3 parity.py <repo root> <output dir>
"""
import base64
import csv
import json
import os
import subprocess
import sys

import joblib
import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor, GradientBoostingClassifier,
                              GradientBoostingRegressor, HistGradientBoostingClassifier,
                              HistGradientBoostingRegressor, RandomForestClassifier, RandomForestRegressor)
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from xgboost import XGBClassifier, XGBRegressor

root, out = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(root, "scripts"))
from export_sklearn import export  # noqa: E402

SKLEARN, XGBOOST = 1e-9, 1e-6  # the bounds: absolute for probabilities, relative for values


def names(ds):
    return ["".join(c if c.isalnum() else "_" for c in n).strip("_").replace("__", "_") for n in ds.feature_names]


datasets = {"iris": load_iris(), "wine": load_wine(), "cancer": load_breast_cancer(), "diabetes": load_diabetes()}
for name, ds in datasets.items():
    with open(os.path.join(out, name + ".rows.json"), "w") as f:
        json.dump({"rows": ds.data.tolist()}, f)


def with_missing(X, fraction=0.1, seed=0):
    """X with a fraction of its values missing, so a model learns where they go."""
    rng = np.random.default_rng(seed)
    X = X.copy()
    X[rng.random(X.shape) < fraction] = np.nan
    return X


def first_trees(doc, count=3):
    """The first trees of an exported model, decoded: (feature, threshold,
    left, right) over their nodes, and each tree's root."""
    nodes = doc["params"]["nodes"]
    col = lambda key, dt: np.frombuffer(base64.b64decode(nodes[key]), dtype=dt)
    roots = list(col("roots", "<i4")[:count + 1])
    end = roots.pop() if len(roots) > count else len(col("feature", "<i4"))
    return col("feature", "<i4")[:end], col("threshold", "<f8")[:end], col("left", "<i4")[:end], col("right", "<i4")[:end], roots


def model_input(doc, X):
    s = doc.get("scaler")
    return X if s is None else (X - np.array(s["mean"])) / np.array(s["scale"])


def extra_rows(doc, X):
    """Rows on the first trees' splits, and with missing values where the model takes them."""
    feature, threshold, left, right, roots = first_trees(doc)
    xgb = doc["kind"] == "xgboost/1"
    Z = model_input(doc, X)
    reach = {r: list(range(len(X))) for r in roots}  # node -> rows of X that reach it
    order = list(roots)
    for i in order:
        if feature[i] < 0 or not reach.get(i):
            continue
        z = Z[reach[i], feature[i]]
        if doc["kind"] == "sklearn-trees/1":
            goes_left = z.astype(np.float32).astype(np.float64) <= threshold[i]
        elif xgb:
            goes_left = z.astype(np.float32) < np.float32(threshold[i])
        else:
            goes_left = z <= threshold[i]
        rows = np.array(reach[i])
        reach[left[i]], reach[right[i]] = list(rows[goes_left]), list(rows[~goes_left])
        order += [left[i], right[i]]
    s = doc.get("scaler")
    rows = []
    for i in [n for n in order if feature[n] >= 0 and reach.get(n)][:100]:
        base, j = X[reach[i][0]].copy(), feature[i]
        at = threshold[i] if s is None else s["mean"][j] + threshold[i] * s["scale"][j]
        for v in (np.nextafter(at, -np.inf), at, np.nextafter(at, np.inf)):
            row = base.copy()
            row[j] = v
            rows.append(row)
        if doc["kind"] != "sklearn-trees/1":
            row = base.copy()
            row[j] = np.nan
            rows.append(row)
    if doc["kind"] != "sklearn-trees/1":
        rows.append(np.full(X.shape[1], np.nan))
        for k in range(min(20, len(X))):
            row = X[k].copy()
            row[k % X.shape[1]] = np.nan
            rows.append(row)
    return np.array(rows).reshape(-1, X.shape[1])


def case(name, model, dataset, meta=None, X=None, y=None, bound=SKLEARN, export_with=None):
    """Fit is done: export the model, then write the library's outputs."""
    ds = datasets[dataset]
    X = ds.data if X is None else X
    y = ds.target if y is None else y
    path = os.path.join(out, name + ".model.json")
    if export_with is None:
        export(model, names(ds), path, meta=meta, X=X, y=y)
    else:
        export_with(path)
    with open(path) as f:
        doc = json.load(f)
    extra = extra_rows(doc, ds.data) if "nodes" in doc["params"] else np.empty((0, ds.data.shape[1]))
    rows = np.vstack([ds.data, extra])
    task = doc["task"]
    outputs = model.predict_proba(rows) if task == "classification" else model.predict(rows).reshape(-1, 1)
    predicted = model.predict(rows)
    if task == "classification":
        classes = list(model.classes_)
        labels = [doc["classes"][classes.index(p)] for p in predicted]
    else:
        labels = [float(p) for p in predicted]
    with open(os.path.join(out, name + ".expected.json"), "w") as f:
        json.dump({"dataset": dataset, "bound": bound,
                   "extra": [[None if np.isnan(v) else float(v) for v in r] for r in extra],
                   "outputs": np.asarray(outputs, dtype=np.float64).tolist(), "labels": labels}, f)


def scaled(est):
    return Pipeline([("scale", StandardScaler()), ("model", est)])


iris, wine, cancer, diabetes = (datasets[k] for k in ("iris", "wine", "cancer", "diabetes"))
regression = {"target": "progression", "target_description": "Disease progression one year after baseline",
              "target_unit": "points"}

# Logistic regression: Iris through the command line (a joblib file and the
# training data as a CSV), wine and breast cancer through export().
pipe = scaled(LogisticRegression(max_iter=5000)).fit(iris.data, iris.target)
joblib.dump(pipe, os.path.join(out, "iris.joblib"))
with open(os.path.join(out, "iris.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(names(iris) + ["class"])
    w.writerows([list(r) + [t] for r, t in zip(iris.data.tolist(), iris.target)])
case("logistic-iris", pipe, "iris", export_with=lambda path: subprocess.run(
    [sys.executable, os.path.join(root, "scripts", "export_sklearn.py"), "--model", os.path.join(out, "iris.joblib"),
     "--features", ",".join(names(iris)), "--data", os.path.join(out, "iris.csv"), "--out", path], check=True))
os.remove(os.path.join(out, "iris.joblib"))
os.remove(os.path.join(out, "iris.csv"))
case("logistic-wine", scaled(LogisticRegression(max_iter=5000, C=0.5)).fit(wine.data, wine.target), "wine",
     meta={"target": "cultivar", "title": "Wine cultivar predictor", "features": {"alcohol": {"unit": "%", "min_exclusive": 0, "max": 20}}})
case("logistic-cancer", scaled(LogisticRegression(max_iter=5000)).fit(cancer.data, cancer.target), "cancer",
     meta={"target": "diagnosis", "classes": ["malignant", "benign"]})

# Trees and forests (the float32 rule), bare and after a scaler.
case("tree-wine", DecisionTreeClassifier(random_state=0).fit(wine.data, wine.target), "wine")
case("tree-diabetes", DecisionTreeRegressor(max_depth=8, random_state=0).fit(diabetes.data, diabetes.target), "diabetes", meta=regression)
case("forest-iris", scaled(RandomForestClassifier(n_estimators=30, random_state=0)).fit(iris.data, iris.target), "iris")
# 100 trees on 30 features: make bench's random forest.
case("forest-cancer", RandomForestClassifier(n_estimators=100, random_state=0).fit(cancer.data, cancer.target), "cancer")
case("extra-wine", scaled(ExtraTreesClassifier(n_estimators=30, random_state=0)).fit(wine.data, wine.target), "wine")
# Grown to full depth: about 50,000 nodes, the largest fixture.
case("forest-diabetes", RandomForestRegressor(n_estimators=100, random_state=0).fit(diabetes.data, diabetes.target), "diabetes", meta=regression)
case("extra-diabetes", ExtraTreesRegressor(n_estimators=10, max_depth=8, random_state=0).fit(diabetes.data, diabetes.target), "diabetes", meta=regression)

# Gradient boosting: multinomial, binary, AdaBoost's exponential loss, regressions.
case("gb-iris", GradientBoostingClassifier(n_estimators=50, random_state=0).fit(iris.data, iris.target), "iris")
case("gb-cancer", GradientBoostingClassifier(n_estimators=100, random_state=0).fit(cancer.data, cancer.target), "cancer")
case("gb-cancer-exponential", GradientBoostingClassifier(n_estimators=50, loss="exponential", random_state=0).fit(cancer.data, cancer.target), "cancer")
case("gb-diabetes", GradientBoostingRegressor(n_estimators=100, random_state=0).fit(diabetes.data, diabetes.target), "diabetes", meta=regression)
case("gb-diabetes-huber", scaled(GradientBoostingRegressor(n_estimators=50, loss="huber", random_state=0)).fit(diabetes.data, diabetes.target), "diabetes", meta=regression)

# Histogram gradient boosting (float64, missing values).
# 300 trees on 30 features: make bench's histogram gradient boosting.
case("hgb-cancer", HistGradientBoostingClassifier(max_iter=300, early_stopping=False, random_state=0).fit(cancer.data, cancer.target), "cancer")
holes = with_missing(cancer.data)
case("hgb-cancer-missing", HistGradientBoostingClassifier(max_iter=100, early_stopping=False, random_state=0).fit(holes, cancer.target), "cancer", X=holes)
case("hgb-iris", HistGradientBoostingClassifier(max_iter=50, early_stopping=False, random_state=0).fit(iris.data, iris.target), "iris")
case("hgb-diabetes", HistGradientBoostingRegressor(max_iter=100, early_stopping=False, random_state=0).fit(diabetes.data, diabetes.target), "diabetes", meta=regression)
case("hgb-diabetes-poisson", scaled(HistGradientBoostingRegressor(loss="poisson", max_iter=100, early_stopping=False, random_state=0)).fit(diabetes.data, diabetes.target), "diabetes", meta=regression)

# XGBoost (float32): binary with missing values learned, softprob, softmax after a scaler, regression.
xgb = dict(n_jobs=1, random_state=0, max_depth=4)
holes = with_missing(cancer.data, seed=1)
case("xgb-cancer", XGBClassifier(n_estimators=50, objective="binary:logistic", **xgb).fit(holes, cancer.target), "cancer",
     X=holes, meta={"target": "diagnosis", "classes": ["malignant", "benign"]}, bound=XGBOOST)
case("xgb-iris", XGBClassifier(n_estimators=30, objective="multi:softprob", **xgb).fit(iris.data, iris.target), "iris",
     meta={"target": "species", "classes": list(iris.target_names)}, bound=XGBOOST)
case("xgb-wine", scaled(XGBClassifier(n_estimators=30, objective="multi:softmax", **xgb)).fit(wine.data, wine.target), "wine",
     meta={"target": "cultivar", "classes": ["barolo", "grignolino", "barbera"]}, bound=XGBOOST)
case("xgb-diabetes", XGBRegressor(n_estimators=100, **xgb).fit(diabetes.data, diabetes.target), "diabetes", meta=regression, bound=XGBOOST)

# Linear regressions.
case("linear-diabetes", LinearRegression().fit(diabetes.data, diabetes.target), "diabetes", meta=regression)
case("ridge-diabetes", scaled(Ridge(alpha=1.0)).fit(diabetes.data, diabetes.target), "diabetes", meta=regression)
case("lasso-diabetes", Lasso(alpha=0.1).fit(diabetes.data, diabetes.target), "diabetes", meta=regression)

# What the export must refuse, each with a message naming what is wrong.
two_outputs = np.column_stack([diabetes.target, diabetes.target])
refused = {}
for label, (model, ds, kwargs) in {
    "another scaler": (make_pipeline(MinMaxScaler(), LogisticRegression(max_iter=5000)).fit(iris.data, iris.target), iris, {}),
    "another family": (SVC().fit(iris.data, iris.target), iris, {}),
    "one-vs-rest": (make_pipeline(StandardScaler(), LogisticRegression(solver="liblinear")).fit(iris.data, iris.target), iris, {}),
    "not fitted": (make_pipeline(StandardScaler(), LogisticRegression()), iris, {}),
    "two outputs": (RandomForestRegressor(n_estimators=2).fit(diabetes.data, two_outputs), diabetes, {}),
    "a custom init": (GradientBoostingRegressor(n_estimators=2, init=LinearRegression()).fit(diabetes.data, diabetes.target), diabetes, {}),
    "a dart booster": (XGBRegressor(n_estimators=2, booster="dart", n_jobs=1).fit(diabetes.data, diabetes.target), diabetes, {}),
    "a gblinear booster": (XGBRegressor(n_estimators=2, booster="gblinear", n_jobs=1).fit(diabetes.data, diabetes.target), diabetes, {}),
    "another objective": (XGBRegressor(n_estimators=2, objective="reg:absoluteerror", n_jobs=1).fit(diabetes.data, diabetes.target), diabetes, {}),
    "missing=0": (XGBRegressor(n_estimators=2, missing=0.0, n_jobs=1).fit(diabetes.data, diabetes.target), diabetes, {}),
    "categorical features": (HistGradientBoostingRegressor(max_iter=2, categorical_features=[1]).fit(diabetes.data > 0, diabetes.target), diabetes, {}),
    "no data and no ranges": (DecisionTreeRegressor(max_depth=2).fit(diabetes.data, diabetes.target), diabetes, {"X": None}),
    "missing values for a model without them": (DecisionTreeRegressor(max_depth=2).fit(diabetes.data, diabetes.target), diabetes, {"X": with_missing(diabetes.data)}),
}.items():
    X = kwargs.get("X", ds.data)
    try:
        export(model, names(ds), os.path.join(out, "refused.model.json"), X=X)
        refused[label] = ""
    except ValueError as e:
        refused[label] = str(e)
if os.path.exists(os.path.join(out, "refused.model.json")):
    os.remove(os.path.join(out, "refused.model.json"))
with open(os.path.join(out, "refused.json"), "w") as f:
    json.dump(refused, f, indent=1, sort_keys=True)
