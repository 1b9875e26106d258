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
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.dummy import DummyRegressor
from sklearn.impute import SimpleImputer
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor, GradientBoostingClassifier,
                              GradientBoostingRegressor, HistGradientBoostingClassifier,
                              HistGradientBoostingRegressor, RandomForestClassifier, RandomForestRegressor)
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import (MaxAbsScaler, MinMaxScaler, OneHotEncoder, OrdinalEncoder, PolynomialFeatures,
                                   RobustScaler, StandardScaler)
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


def numeric_ops(doc):
    """Each column's scaler arithmetic, for a model of numbers only: [(a, b, mul)]."""
    cols = doc.get("prepare", {}).get("columns")
    if cols is None:
        return None
    out = []
    for c in cols:
        (kind, (a, b)), = c.get("ops", [{"sub_div": [0.0, 1.0]}])[0].items()
        out.append((a, b, kind == "mul_add"))
    return out


def model_input(doc, X):
    ops = numeric_ops(doc)
    if ops is None:
        return X
    return np.column_stack([X[:, j] * a + b if mul else (X[:, j] - a) / b for j, (a, b, mul) in enumerate(ops)])


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
    ops = numeric_ops(doc)
    rows = []
    for i in [n for n in order if feature[n] >= 0 and reach.get(n)][:100]:
        base, j = X[reach[i][0]].copy(), feature[i]
        at = threshold[i]
        if ops is not None:
            a, b, mul = ops[j]
            at = (at - b) / a if mul else a + at * b
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
    write_expected(name, model, doc, np.vstack([ds.data, extra]), {
        "dataset": dataset, "bound": bound, "extra": [[None if np.isnan(v) else float(v) for v in r] for r in extra]})


def write_expected(name, model, doc, rows, fields):
    """<name>.expected.json: fields, and the library's outputs and labels for rows."""
    outputs = model.predict_proba(rows) if doc["task"] == "classification" else model.predict(rows).reshape(-1, 1)
    predicted = model.predict(rows)
    if doc["task"] == "classification":
        classes = list(model.classes_)
        labels = [doc["classes"][classes.index(p)] for p in predicted]
    else:
        labels = [float(p) for p in predicted]
    with open(os.path.join(out, name + ".expected.json"), "w") as f:
        json.dump({**fields, "outputs": np.asarray(outputs, dtype=np.float64).tolist(), "labels": labels}, f)


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

# Pipelines on tables as data scientists have them: text categories, numbers
# used as labels, blanks, rare categories. The tables are seeded: the same
# rows on every machine.
def titanic(n=800, seed=0):
    rng = np.random.default_rng(seed)
    pclass = rng.choice([1, 2, 3], n, p=[0.25, 0.2, 0.55])
    sex = rng.choice(["male", "female"], n, p=[0.64, 0.36])
    age = np.round(rng.normal(30, 14, n).clip(0.5, 80), 1)
    age[rng.random(n) < 0.2] = np.nan
    fare = np.round(rng.lognormal(3 - 0.5 * (pclass - 1), 0.8), 2)
    sibsp = rng.choice([0, 1, 2, 3, 4], n, p=[0.68, 0.23, 0.05, 0.02, 0.02]).astype(float)
    embarked = rng.choice(["S", "C", "Q"], n, p=[0.72, 0.19, 0.09]).astype(object)
    embarked[rng.random(n) < 0.02] = np.nan
    deck = rng.choice(list("ABCDEFGT"), n, p=[0.08, 0.2, 0.25, 0.15, 0.15, 0.1, 0.06, 0.01]).astype(object)
    deck[rng.random(n) < 0.6] = np.nan
    logit = (2.4 * (sex == "female") - 0.9 * (pclass - 2) - 0.02 * np.nan_to_num(age, nan=30) + 0.3 * (embarked == "C")
             - 0.2 * sibsp + 0.4 * np.isin(deck, ["B", "D", "E"]) + 0.3 * rng.normal(size=n) - 0.4)
    survived = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = pd.DataFrame({"pclass": pclass, "sex": sex, "age": age, "fare": fare, "sibsp": sibsp, "embarked": embarked, "deck": deck})
    return X, pd.Series(np.where(survived == 1, "yes", "no"), name="survived")


def houses(n=600, seed=1):
    rng = np.random.default_rng(seed)
    hoods = ["NAmes", "CollgCr", "OldTown", "Edwards", "Somerst", "Gilbert", "Sawyer", "NridgHt", "Mitchel", "Blueste"]
    hood = rng.choice(hoods, n, p=[0.2, 0.15, 0.12, 0.1, 0.1, 0.08, 0.08, 0.08, 0.08, 0.01])
    quality = rng.choice(["Po", "Fa", "TA", "Gd", "Ex"], n, p=[0.05, 0.15, 0.45, 0.25, 0.1])
    area = np.round(rng.normal(1500, 450, n).clip(400, 4000))
    frontage = np.round(rng.normal(70, 20, n).clip(20, 200))
    frontage[rng.random(n) < 0.15] = np.nan
    year = rng.integers(1880, 2011, n).astype(float)
    central_air = rng.choice(["Y", "N"], n, p=[0.9, 0.1])
    q = {"Po": 0, "Fa": 1, "TA": 2, "Gd": 3, "Ex": 4}
    price = (30000 + 90 * area + 15000 * np.array([q[v] for v in quality]) + 300 * (year - 1880)
             + 20000 * (hood == "NridgHt") - 15000 * (hood == "OldTown") + 8000 * (central_air == "Y")
             + 100 * np.nan_to_num(frontage, nan=70) + rng.normal(0, 15000, n))
    X = pd.DataFrame({"neighbourhood": hood, "overall_quality": quality, "living_area": area, "lot_frontage": frontage,
                      "year_built": year, "central_air": central_air})
    return X, pd.Series(np.round(price), name="sale_price")


def penguins(n=500, seed=2):
    """Three species from an island (text), a sex with blanks and four
    measurements, one with blanks: a classifier of three classes."""
    rng = np.random.default_rng(seed)
    species = rng.choice(["Adelie", "Chinstrap", "Gentoo"], n, p=[0.45, 0.2, 0.35])
    island = np.where(species == "Gentoo", "Biscoe", np.where(species == "Chinstrap", "Dream",
                      rng.choice(["Biscoe", "Dream", "Torgersen"], n)))
    base = {"Adelie": (38.8, 18.3, 190, 3700), "Chinstrap": (48.8, 18.4, 196, 3730), "Gentoo": (47.5, 15.0, 217, 5080)}
    m = np.array([base[s] for s in species])
    X = pd.DataFrame({
        "island": island,
        "bill_length_mm": np.round(m[:, 0] + rng.normal(0, 2.8, n), 1),
        "bill_depth_mm": np.round(m[:, 1] + rng.normal(0, 1.1, n), 1),
        "flipper_length_mm": np.round(m[:, 2] + rng.normal(0, 6.5, n)),
        "body_mass_g": np.round(m[:, 3] + rng.normal(0, 420, n), -1),
        "sex": rng.choice(["male", "female"], n).astype(object),
    })
    X.loc[rng.random(n) < 0.05, "sex"] = np.nan
    X.loc[rng.random(n) < 0.05, "body_mass_g"] = np.nan
    return X, pd.Series(species, name="species")


EDUCATION = ["Preschool", "1st-4th", "5th-6th", "7th-8th", "9th", "10th", "11th", "12th", "HS-grad", "Some-college",
             "Assoc-voc", "Assoc-acdm", "Bachelors", "Masters", "Prof-school", "Doctorate"]


def adult(n=1200, seed=3):
    """An adult-income-like table: an ordered education, "?" for an
    unknown occupation (a category of its own, as the data has it), 40
    countries mostly rare, a capital gain mostly 0."""
    rng = np.random.default_rng(seed)
    countries = ["United-States"] + [f"Country-{i}" for i in range(39)]
    weights = np.array([60.0] + [1.0] * 39)
    X = pd.DataFrame({
        "age": rng.integers(17, 90, n).astype(float),
        "workclass": rng.choice(["Private", "Self-emp", "Gov", "?"], n, p=[0.7, 0.12, 0.13, 0.05]),
        "education": rng.choice(EDUCATION, n),
        "occupation": rng.choice(["Tech", "Craft", "Sales", "Exec", "Service", "?"], n),
        "native_country": rng.choice(countries, n, p=weights / weights.sum()),
        "hours_per_week": np.round(rng.normal(40, 12, n).clip(1, 99)),
        "capital_gain": np.where(rng.random(n) < 0.9, 0.0, np.round(rng.lognormal(8, 1, n))),
    })
    score = (0.05 * (X["age"] - 40) + 0.3 * np.array([EDUCATION.index(e) for e in X["education"]]) - 3
             + 0.04 * (X["hours_per_week"] - 40) + 2 * (X["occupation"] == "Exec") + 1.5 * (X["capital_gain"] > 5000))
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-score)), ">50K", "<=50K")
    return X, pd.Series(y, name="income")


tables = {"titanic": titanic(), "houses": houses(), "penguins": penguins(), "adult": adult()}
# Rows beyond the table's: a blank in each column, a category never seen, a
# rare one; each row is answered as scikit-learn answers it, or, where
# scikit-learn raises, refused naming the feature.
edges = {
    "titanic": [{"sex": None}, {"age": None}, {"embarked": None}, {"deck": None}, {"pclass": None}, {"fare": None},
                {"sex": "unknown"}, {"embarked": "X"}, {"deck": "T"}, {"deck": "Z"}, {"pclass": 4.0},
                {"age": None, "embarked": None, "deck": None, "sex": None, "fare": None, "sibsp": None, "pclass": None}],
    "penguins": [{"island": None}, {"island": "Anvers"}, {"sex": None}, {"sex": "unknown"}, {"body_mass_g": None},
                 {"bill_length_mm": None}],
    "adult": [{"native_country": "Country-7"}, {"native_country": "Atlantis"}, {"education": "Kindergarten"},
              {"occupation": "?"}, {"occupation": "Astronaut"}, {"workclass": None}, {"capital_gain": None}],
    "houses": [{"neighbourhood": "Blueste"}, {"neighbourhood": "Nowhere"}, {"lot_frontage": None}, {"overall_quality": "Superb"},
               {"overall_quality": None}, {"central_air": None}, {"central_air": "maybe"}, {"year_built": None}],
}
for name, (X, y) in tables.items():
    with open(os.path.join(out, name + ".rows.json"), "w") as f:
        json.dump({"rows": [{k: (None if pd.isna(v) else (v if isinstance(v, str) else float(v))) for k, v in r.items()}
                            for r in X.to_dict("records")]}, f)


def table_case(name, model, table, bound=SKLEARN, cli=False):
    """A pipeline on a table: export it with the training data (through the
    command line where cli: a joblib file and the table as a CSV, its target
    the one column that is not a feature), then write what it predicts for
    the table's rows and the edge rows. XGBoost takes its classes as
    integers: their names come from meta."""
    X, y = tables[table]
    meta = None
    if bound == XGBOOST and y.dtype == object:
        names = sorted(set(y))
        y, meta = pd.Series([names.index(v) for v in y], name=y.name), {"classes": names}
    model.fit(X, y)
    path = os.path.join(out, name + ".model.json")
    if cli:
        fitted, data = os.path.join(out, name + ".joblib"), os.path.join(out, name + ".csv")
        joblib.dump(model, fitted)
        pd.concat([X, y], axis=1).to_csv(data, index=False)
        subprocess.run([sys.executable, os.path.join(root, "scripts", "export_sklearn.py"), "--model", fitted, "--data", data,
                        "--out", path], check=True)
        os.remove(fitted)
        os.remove(data)
        with open(path) as f:
            doc = json.load(f)
    else:
        doc = export(model, list(X.columns), path, meta=meta, X=X, y=y)
    rows = [dict(r) for r in X.to_dict("records")]
    extra, refused = [], []
    base = X.iloc[0].to_dict()
    for e in edges[table]:
        row = {k: (np.nan if e.get(k, v) is None else e.get(k, v)) for k, v in base.items()}
        frame = pd.DataFrame([row], columns=X.columns).astype(X.dtypes.to_dict(), errors="ignore")
        try:
            model.predict(frame)
        except ValueError:
            used = [f["name"] for f in doc["features"]]
            refused.append({"row": {k: json_cell(v) for k, v in row.items() if k in used}, "features": sorted(set(e) & set(used))})
            continue
        extra.append(row)
    frame = pd.concat([X, pd.DataFrame(extra, columns=X.columns).astype(X.dtypes.to_dict(), errors="ignore")], ignore_index=True)
    write_expected(name, model, doc, frame, {
        "dataset": table, "bound": bound, "extra": [{k: json_cell(v) for k, v in r.items()} for r in extra], "refused": refused})


def json_cell(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    return v if isinstance(v, str) else float(v)


def ct(*transformers, **kw):
    return ColumnTransformer(list(transformers), **kw)


numbers, texts = ["age", "fare", "sibsp"], ["sex", "embarked", "pclass"]
impute_scale = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
impute_onehot = make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore"))
# One-hot after imputing, with the numbers imputed and scaled: logistic regression.
table_case("titanic-logistic", make_pipeline(ct(("num", impute_scale, numbers), ("cat", impute_onehot, texts)),
                                             LogisticRegression(max_iter=2000)), "titanic", cli=True)
# Blanks as a category of their own, rare decks grouped as infrequent,
# numbers imputed and scaled, the rest passed through: a 100-tree forest
# (make bench's pipeline).
rare = make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                     OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20))
table_case("titanic-forest", make_pipeline(ct(("cat", rare, ["sex", "embarked", "deck"]),
                                              ("num", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), ["age", "fare"]),
                                              remainder="passthrough"),
                                           RandomForestClassifier(n_estimators=100, max_depth=8, random_state=0)), "titanic")
# Native categorical splits on ordinal codes: unknowns encoded -1, blanks NaN.
ordinal = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
table_case("titanic-hgb-native", make_pipeline(ct(("cat", ordinal, ["sex", "embarked", "deck"]), remainder="passthrough"),
                                               HistGradientBoostingClassifier(categorical_features=[0, 1, 2], max_iter=100,
                                                                              early_stopping=False, random_state=0)), "titanic")
# XGBoost after one-hot, dense and sparse (where XGBoost reads a zero as missing).
xgb_onehot = lambda sparse: make_pipeline(
    ct(("cat", OneHotEncoder(handle_unknown="ignore", max_categories=4), ["sex", "embarked", "deck", "pclass"]),
       ("num", "passthrough", ["age", "fare", "sibsp"]), sparse_threshold=1.0 if sparse else 0.0),
    XGBClassifier(n_estimators=50, **xgb))
table_case("titanic-xgb-dense", xgb_onehot(False), "titanic", bound=XGBOOST)
table_case("titanic-xgb-sparse", xgb_onehot(True), "titanic", bound=XGBOOST)
# Three classes: multinomial one-hot logistic regression, native categorical
# splits in a multi-class HistGradientBoosting, XGBoost's softprob after a
# sparse one-hot, GradientBoosting after ordinal codes.
measures = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
table_case("penguins-logistic", make_pipeline(ct(
    ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore", drop="if_binary")), ["island", "sex"]),
    ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), measures)), LogisticRegression(max_iter=2000)), "penguins")
table_case("penguins-hgb-native", make_pipeline(ct(
    ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["island", "sex"]), remainder="passthrough"),
    HistGradientBoostingClassifier(categorical_features=[0, 1], max_iter=30, early_stopping=False, random_state=0)), "penguins")
table_case("penguins-xgb-sparse", make_pipeline(ct(
    ("cat", OneHotEncoder(handle_unknown="ignore"), ["island", "sex"]), ("num", "passthrough", measures), sparse_threshold=1.0),
    XGBClassifier(n_estimators=20, objective="multi:softprob", **xgb)), "penguins", bound=XGBOOST)
table_case("penguins-gb", make_pipeline(ct(
    ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="none"),
                          OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)), ["island", "sex"]),
    ("num", SimpleImputer(strategy="median"), measures)), GradientBoostingClassifier(n_estimators=30, random_state=0)), "penguins")
# An adult-income-like table: an ordered education, rare countries grouped
# as infrequent, "?" a category of its own.
adult_numbers = ["age", "hours_per_week", "capital_gain"]
table_case("adult-logistic", make_pipeline(ct(
    ("edu", make_pipeline(OrdinalEncoder(categories=[EDUCATION]), StandardScaler()), ["education"]),
    ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=8, min_frequency=0.02),
     ["workclass", "occupation", "native_country"]),
    ("num", StandardScaler(), adult_numbers)), LogisticRegression(max_iter=3000)), "adult")
table_case("adult-hgb-native", make_pipeline(ct(
    ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan),
     ["workclass", "education", "occupation", "native_country"]), remainder="passthrough"),
    HistGradientBoostingClassifier(categorical_features=[0, 1, 2, 3], max_iter=40, early_stopping=False, random_state=0)), "adult")
# XGBoost's own categorical splits on pandas' category columns: sets
# (partitions) and one category against the rest (max_cat_to_onehot).
categorical = {"titanic-cat": titanic()}
for col in ("sex", "embarked", "deck"):
    categorical["titanic-cat"][0][col] = categorical["titanic-cat"][0][col].astype("category")
tables["titanic-cat"], edges["titanic-cat"] = categorical["titanic-cat"], edges["titanic"]
with open(os.path.join(out, "titanic-cat.rows.json"), "w") as f:
    json.dump({"rows": [{k: (None if pd.isna(v) else (v if isinstance(v, str) else float(v))) for k, v in r.items()}
                        for r in tables["titanic-cat"][0].to_dict("records")]}, f)
table_case("titanic-xgb-categorical", XGBClassifier(n_estimators=50, tree_method="hist", enable_categorical=True,
                                                    max_cat_to_onehot=1, **xgb), "titanic-cat", bound=XGBOOST)
table_case("titanic-xgb-categorical-onehot", XGBClassifier(n_estimators=50, tree_method="hist", enable_categorical=True,
                                                           max_cat_to_onehot=16, **xgb), "titanic-cat", bound=XGBOOST)
# A regression with every scaler, an ordinal scale, one-hot dropping the
# first category (an unknown neighbourhood is refused) and if_binary.
quality = [["Po", "Fa", "TA", "Gd", "Ex"]]
table_case("houses-ridge", make_pipeline(ct(
    ("area", RobustScaler(), ["living_area"]),
    ("frontage", make_pipeline(SimpleImputer(strategy="median"), MinMaxScaler()), ["lot_frontage"]),
    ("year", MaxAbsScaler(), ["year_built"]),
    ("quality", make_pipeline(OrdinalEncoder(categories=quality), StandardScaler()), ["overall_quality"]),
    ("hood", OneHotEncoder(drop="first"), ["neighbourhood"]),
    ("air", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(drop="if_binary", handle_unknown="ignore")), ["central_air"])),
    Ridge(alpha=1.0)), "houses")
table_case("houses-gb", make_pipeline(ct(
    ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=5), ["neighbourhood", "overall_quality", "central_air"]),
    ("num", SimpleImputer(strategy="constant", fill_value=0.0), ["living_area", "lot_frontage", "year_built"])),
    GradientBoostingRegressor(n_estimators=100, random_state=0)), "houses")
table_case("houses-hgb-native", make_pipeline(ct(
    ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan), ["neighbourhood", "overall_quality"]),
    remainder="drop"), HistGradientBoostingRegressor(categorical_features=[0, 1], max_iter=100, early_stopping=False, random_state=0)), "houses")
# The numeric pipeline the old exporter refused: imputer, scaler, ridge.
holes = with_missing(diabetes.data, seed=2)
case("ridge-diabetes-imputed", make_pipeline(SimpleImputer(), StandardScaler(), Ridge()).fit(holes, diabetes.target), "diabetes",
     X=holes, meta=regression)

# What the export must refuse, each with a message naming what is wrong.
two_outputs = np.column_stack([diabetes.target, diabetes.target])
refused = {}
for label, (model, ds, kwargs) in {
    "another step": (make_pipeline(PolynomialFeatures(), LogisticRegression(max_iter=5000)).fit(iris.data, iris.target), iris, {}),
    "another family": (SVC().fit(iris.data, iris.target), iris, {}),
    "one-vs-rest": (make_pipeline(StandardScaler(), LogisticRegression(solver="liblinear")).fit(iris.data, iris.target), iris, {}),
    "not fitted": (make_pipeline(StandardScaler(), LogisticRegression()), iris, {}),
    "two outputs": (RandomForestRegressor(n_estimators=2).fit(diabetes.data, two_outputs), diabetes, {}),
    "a custom init": (GradientBoostingRegressor(n_estimators=2, init=LinearRegression()).fit(diabetes.data, diabetes.target), diabetes, {}),
    "a dart booster": (XGBRegressor(n_estimators=2, booster="dart", n_jobs=1).fit(diabetes.data, diabetes.target), diabetes, {}),
    "a gblinear booster": (XGBRegressor(n_estimators=2, booster="gblinear", n_jobs=1).fit(diabetes.data, diabetes.target), diabetes, {}),
    "another objective": (XGBRegressor(n_estimators=2, objective="reg:absoluteerror", n_jobs=1).fit(diabetes.data, diabetes.target), diabetes, {}),
    "missing=0": (XGBRegressor(n_estimators=2, missing=0.0, n_jobs=1).fit(diabetes.data, diabetes.target), diabetes, {}),
    "XGBoost's categories without their names": (XGBRegressor(n_estimators=2, tree_method="hist", enable_categorical=True, n_jobs=1).fit(
        pd.DataFrame({n: pd.Categorical(diabetes.data[:, j] > 0) for j, n in enumerate(names(diabetes))}), diabetes.target), diabetes, {}),
    "an imputer's indicator": (make_pipeline(SimpleImputer(add_indicator=True), Ridge()).fit(with_missing(diabetes.data), diabetes.target), diabetes, {}),
    "a step nested in a ColumnTransformer": (make_pipeline(ColumnTransformer([("p", make_pipeline(StandardScaler(), PolynomialFeatures()), [0, 1])]),
                                                           Ridge()).fit(diabetes.data, diabetes.target), diabetes, {}),
    "MinMaxScaler(clip=True)": (make_pipeline(MinMaxScaler(clip=True), Ridge()).fit(diabetes.data, diabetes.target), diabetes, {}),
    "an imputer after a scaler": (make_pipeline(StandardScaler(), SimpleImputer(), Ridge()).fit(with_missing(diabetes.data), diabetes.target), diabetes, {}),
    "a column both encoded and a number": (make_pipeline(ColumnTransformer([("a", OneHotEncoder(), [1]), ("b", "passthrough", [1, 2])]),
                                                         Ridge()).fit(diabetes.data, diabetes.target), diabetes, {}),
    "boolean categories": (make_pipeline(ColumnTransformer([("a", OneHotEncoder(), [0])]), Ridge()).fit(
        pd.DataFrame({n: diabetes.data[:, j] > 0 for j, n in enumerate(names(diabetes))}), diabetes.target), diabetes,
        {"X": pd.DataFrame({n: diabetes.data[:, j] > 0 for j, n in enumerate(names(diabetes))})}),
    # The documented path without data: every range from meta. It exports.
    "no data, ranges in meta": (DecisionTreeRegressor(max_depth=2).fit(diabetes.data, diabetes.target), diabetes,
                                {"X": None, "meta": {"features": {n: {"min_exclusive": -1, "max": 1} for n in names(diabetes)}}}),
    "no data and no ranges": (DecisionTreeRegressor(max_depth=2).fit(diabetes.data, diabetes.target), diabetes, {"X": None}),
    "missing values for a model without them": (DecisionTreeRegressor(max_depth=2).fit(diabetes.data, diabetes.target), diabetes, {"X": with_missing(diabetes.data)}),
}.items():
    X = kwargs.get("X", ds.data)
    try:
        export(model, names(ds), os.path.join(out, "refused.model.json"), X=X, meta=kwargs.get("meta"))
        refused[label] = ""
    except ValueError as e:
        refused[label] = str(e)
if os.path.exists(os.path.join(out, "refused.model.json")):
    os.remove(os.path.join(out, "refused.model.json"))
with open(os.path.join(out, "refused.json"), "w") as f:
    json.dump(refused, f, indent=1, sort_keys=True)
