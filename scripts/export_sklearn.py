#!/usr/bin/env python3
"""Export a fitted scikit-learn or XGBoost model to the model.json the predict function serves.

Supported, each bare or after a StandardScaler in a Pipeline:
  classification: LogisticRegression, DecisionTreeClassifier, RandomForestClassifier,
    ExtraTreesClassifier, GradientBoostingClassifier, HistGradientBoostingClassifier,
    XGBClassifier (binary:logistic, multi:softprob, multi:softmax; gbtree)
  regression: LinearRegression, Ridge, Lasso, DecisionTreeRegressor, RandomForestRegressor,
    ExtraTreesRegressor, GradientBoostingRegressor, HistGradientBoostingRegressor,
    XGBRegressor (reg:squarederror; gbtree)
Anything else (other transformers, categorical splits, dart or gblinear boosters,
several outputs, a custom init estimator) is refused with a message naming it.
The Go function computes what the library computes, bit for bit where it can
(internal/model says how, and its parity tests show how close).

From the command line:

    python3 scripts/export_sklearn.py --model fitted.joblib --data train.csv \\
        [--features a,b,c] [--meta meta.json] [--out functions/predict/model.json]

Loading a joblib (pickle) file runs code from it: load only files you made.

From Python:

    from export_sklearn import export
    export(model, ["a", "b", "c"], "functions/predict/model.json", meta={"target": "cultivar"}, X=X_train, y=y_train)

The training data (X, or --data: a CSV with a header naming every feature;
its target column, if any, is read as y) gives each feature a valid range, its
span plus half again each side, so that no row the model was trained on is
refused; and it gives examples (per class, the typical row the model gets
right; for a regression low, median and high rows). A feature's range may
instead come from meta; without either the export refuses, naming the
feature. meta (all optional):
    name, title, description            how the API and the site name the model
    target                              what a prediction is called (default "class" or "value")
    target_description, target_unit     a regression's number: what it is, its unit
    classes                             the class names, for a model fitted on integer labels
                                        (XGBoost requires them); in the order of classes_
    features: {name: {description, unit, min_exclusive, max}}
    examples: [{"label": ..., "values": [...]}]   (a classifier's labels are classes)
    metrics: {cv_folds, cv_accuracy, training_accuracy, cv_r2, cv_rmse, training_r2,
              training_rmse, training_samples}
"""

import argparse
import base64
import csv
import hashlib
import json
import math
import re
import sys

NAME = re.compile(r"^[A-Za-z0-9_]+$")
CLASSIFIERS = ["LogisticRegression", "DecisionTreeClassifier", "RandomForestClassifier", "ExtraTreesClassifier",
               "GradientBoostingClassifier", "HistGradientBoostingClassifier", "XGBClassifier"]
REGRESSORS = ["LinearRegression", "Ridge", "Lasso", "DecisionTreeRegressor", "RandomForestRegressor",
              "ExtraTreesRegressor", "GradientBoostingRegressor", "HistGradientBoostingRegressor", "XGBRegressor"]
SUPPORTED = ("one of " + ", ".join(CLASSIFIERS + REGRESSORS) +
             ", bare or after a StandardScaler in a Pipeline")
META_KEYS = {"name", "title", "description", "target", "target_description", "target_unit", "classes",
             "features", "examples", "metrics"}
METRICS = {"cv_folds", "cv_accuracy", "training_accuracy", "cv_r2", "cv_rmse", "training_r2", "training_rmse",
           "training_samples"}
XGB_OBJECTIVES = {"binary:logistic": "classification", "multi:softprob": "classification",
                  "multi:softmax": "classification", "reg:squarederror": "regression"}


def export(model, feature_names, path, meta=None, X=None, y=None):
    """Write model.json for model to path and return the document."""
    doc = document(model, list(feature_names), meta or {}, X, y)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    return doc


def document(model, features, meta, X=None, y=None):
    import numpy as np
    import sklearn

    unknown = set(meta) - META_KEYS
    if unknown:
        raise ValueError(f"meta: unknown keys {sorted(unknown)}; known are {sorted(META_KEYS)}")
    scaler, est = split(model)
    family = type(est).__name__
    if family not in CLASSIFIERS + REGRESSORS:
        raise ValueError(f"supported: {SUPPORTED}; got {family}")
    task = "classification" if family in CLASSIFIERS else "regression"
    n = fitted_features(model, scaler, est)
    if len(features) != n:
        raise ValueError(f"{len(features)} feature names for a model fitted on {n} features")
    fitted_names = getattr(model, "feature_names_in_", None)
    if fitted_names is not None and list(fitted_names) != features:
        raise ValueError(f"feature names {features} differ from the ones the model was fitted with: {list(fitted_names)}")
    for name in features:
        if not NAME.match(name) or name == "instances":
            raise ValueError(f"feature name {name!r}: the API takes letters, digits and _ (not 'instances'); rename it")
    if X is not None:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != n:
            raise ValueError(f"X has shape {X.shape}, want (rows, {n})")

    classes = None
    if task == "classification":
        classes = [str(c) for c in est.classes_]
        if "classes" in meta:
            if len(meta["classes"]) != len(classes):
                raise ValueError(f"meta: classes names {len(meta['classes'])} classes, the model has {len(classes)}")
            classes = [str(c) for c in meta["classes"]]
    kind, params, missing = parameters(est, task, classes, n)
    if X is not None and np.isnan(X).any() and not missing:
        raise ValueError(f"X has missing values (NaN), which {family} does not take")

    target = meta.get("target", "class" if task == "classification" else "value")
    doc = {
        "name": meta.get("name", f"{target}-{family.lower()}"),
        "title": meta.get("title", f"{target[:1].upper()}{target[1:]} predictor"),
        "description": meta.get("description", ""),
        "version": "",
        "kind": kind,
        "family": family,
        "algorithm": algorithm(est, scaler),
        "task": task,
        "source": {"tool": tool(est)},
        "target": target,
        "features": feature_ranges(features, meta.get("features", {}), X),
    }
    if task == "regression":
        for key in ("target_description", "target_unit"):
            if meta.get(key):
                doc[key] = meta[key]
    elif "target_description" in meta or "target_unit" in meta:
        raise ValueError("meta: target_description and target_unit describe a regression's number; this model classifies")
    if classes is not None:
        doc["classes"] = classes
    examples = meta.get("examples")
    if examples is None and X is not None:
        examples = derive_examples(model, task, classes, X, y)
    if examples:
        doc["examples"] = check_examples(examples, task, classes, n)
    if scaler is not None:
        doc["scaler"] = {
            "mean": scaler.mean_.tolist() if scaler.with_mean else [0.0] * n,
            "scale": scaler.scale_.tolist() if scaler.with_std else [1.0] * n,
        }
    doc["params"] = params
    metrics = meta.get("metrics", {})
    if set(metrics) - METRICS:
        raise ValueError(f"meta: metrics {sorted(set(metrics) - METRICS)} are not known; known are {sorted(METRICS)}")
    doc["metrics"] = metrics
    # The version is a hash of everything else, as cmd/train makes it.
    doc["version"] = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:12]
    return doc


def split(model):
    """The pipeline's StandardScaler (or None) and its estimator."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if not isinstance(model, Pipeline):
        return None, model
    steps = [s for _, s in model.steps if s not in (None, "passthrough")]
    if len(steps) == 1:
        return None, steps[0]
    if len(steps) == 2 and type(steps[0]) is StandardScaler:
        return steps[0], steps[1]
    raise ValueError(f"supported: {SUPPORTED}; got a Pipeline of {[type(s).__name__ for s in steps]}")


def fitted_features(model, scaler, est):
    n = getattr(est, "n_features_in_", None)
    if n is None or (scaler is not None and not hasattr(scaler, "scale_") and scaler.with_std):
        raise ValueError("the model is not fitted: call fit(X, y) before exporting")
    return int(n)


def tool(est):
    import sklearn

    if type(est).__name__.startswith("XGB"):
        import xgboost
        return f"xgboost {xgboost.__version__} (scikit-learn {sklearn.__version__})"
    return f"scikit-learn {sklearn.__version__}"


def algorithm(est, scaler):
    keys = ["n_estimators", "max_iter", "max_depth", "learning_rate", "max_leaf_nodes", "min_samples_leaf",
            "C", "alpha", "solver", "loss", "objective", "criterion"]
    p = est.get_params()
    shown = ", ".join(f"{k}={p[k]!r}" for k in keys if k in p and p[k] is not None)
    return f"{type(est).__name__}({shown})" + (" on StandardScaler" if scaler is not None else "")


def b64(values, dtype):
    import numpy as np
    return base64.b64encode(np.ascontiguousarray(values, dtype=dtype).tobytes()).decode("ascii")


def columns(trees, missing=False):
    """Columns of trees, each a dict of numpy arrays over its nodes:
    feature (-1 at a leaf), threshold, left, right (within the tree; -1 at a
    leaf), value (nodes x width), missing_left."""
    import numpy as np

    roots, parts, offset = [], {k: [] for k in ("feature", "threshold", "left", "right", "value", "missing_left")}, 0
    for t in trees:
        count = len(t["feature"])
        idx = np.arange(count)
        leaf = t["feature"] < 0
        for side in ("left", "right"):
            if not (leaf | (t[side] > idx)).all() or not (leaf | (t[side] < count)).all():
                raise ValueError("a tree whose children do not follow their parent: a node layout this exporter does not know")
        roots.append(offset)
        parts["feature"].append(np.where(leaf, -1, t["feature"]))
        parts["threshold"].append(np.where(leaf, 0.0, t["threshold"]))
        for side in ("left", "right"):
            parts[side].append(np.where(leaf, -1, t[side] + offset))
        parts["value"].append(np.asarray(t["value"], dtype=np.float64).reshape(count, -1))
        parts["missing_left"].append(np.asarray(t.get("missing_left", np.zeros(count)), dtype=np.uint8))
        offset += count
    out = {
        "roots": b64(roots, "<i4"),
        "feature": b64(np.concatenate(parts["feature"]), "<i4"),
        "threshold": b64(np.concatenate(parts["threshold"]), "<f8"),
        "left": b64(np.concatenate(parts["left"]), "<i4"),
        "right": b64(np.concatenate(parts["right"]), "<i4"),
    }
    if missing:
        out["missing_left"] = b64(np.concatenate(parts["missing_left"]), "u1")
    out["value"] = b64(np.concatenate(parts["value"]), "<f8")
    return out


def sklearn_tree(tree, value):
    return {"feature": tree.feature, "threshold": tree.threshold, "left": tree.children_left,
            "right": tree.children_right, "value": value}


def parameters(est, task, classes, n):
    """The model's kind, its params and whether it takes missing values."""
    family = type(est).__name__
    if family == "LogisticRegression":
        return "logistic/1", logistic(est, classes), False
    if family in ("LinearRegression", "Ridge", "Lasso"):
        if est.coef_.ndim != 1:
            raise ValueError(f"{family} with {est.coef_.shape[0]} outputs: one output is supported")
        return "linear/1", {"weights": est.coef_.tolist(), "bias": float(est.intercept_)}, False
    if family.startswith("HistGradientBoosting"):
        return "sklearn-hist-gradient-boosting/1", hist_gradient_boosting(est), True
    if family.startswith("XGB"):
        return "xgboost/1", xgboost_params(est, task, classes, n), True
    if family.startswith("GradientBoosting"):
        return "sklearn-trees/1", gradient_boosting(est, task), False
    return "sklearn-trees/1", forest(est, task), False


def logistic(lr, classes):
    coef, intercept = lr.coef_.tolist(), lr.intercept_.tolist()
    if len(classes) == 2:
        return {"weights": [coef[0]], "bias": [intercept[0]]}
    multi = getattr(lr, "multi_class", "auto")
    if multi == "ovr" or (multi in ("auto", "deprecated") and lr.solver == "liblinear"):
        raise ValueError("this LogisticRegression is one-vs-rest (its probabilities are normalized sigmoids), which is "
                         "not supported; fit it with a solver such as lbfgs and multi_class='multinomial'")
    return {"weights": coef, "bias": intercept}


def one_output(est):
    if getattr(est, "n_outputs_", 1) != 1:
        raise ValueError(f"{type(est).__name__} with {est.n_outputs_} outputs: one output is supported")


def forest(est, task):
    """DecisionTree, RandomForest, ExtraTrees: combine "mean"."""
    import numpy as np

    one_output(est)
    trees = getattr(est, "estimators_", [est])
    out = []
    for t in trees:
        tree = t.tree_
        if tree.value.ndim != 3 or tree.value.shape[1] != 1:
            raise ValueError(f"a tree's values have shape {tree.value.shape}: a node layout this exporter does not know")
        if task == "classification":
            if tree.value.shape[2] != len(est.classes_):
                raise ValueError(f"a tree has {tree.value.shape[2]} classes, the model {len(est.classes_)}")
            # What predict_proba computes of a leaf, with the same numpy
            # operations: its class weights over their sum.
            proba = tree.value[:, 0, :].copy()
            normalizer = proba.sum(axis=1)[:, np.newaxis]
            normalizer[normalizer == 0.0] = 1.0
            proba /= normalizer
            value = proba
        else:
            value = tree.value[:, 0, 0]
        out.append(sklearn_tree(tree, value))
    return {"combine": "mean", "nodes": columns(out)}


def gradient_boosting(est, task):
    """GradientBoosting: combine "boost" from the init estimator's raw values."""
    import numpy as np

    init = est.init_
    if not (isinstance(init, str) and init == "zero") and type(init).__name__ not in ("DummyClassifier", "DummyRegressor"):
        raise ValueError(f"GradientBoosting with init={type(init).__name__}: only the default (a Dummy estimator) or 'zero' is supported")
    raw = est._raw_predict_init(np.zeros((1, est.n_features_in_)))[0]
    loss = type(est._loss).__name__
    links = {"BinomialDeviance": "sigmoid", "MultinomialDeviance": "logsumexp", "ExponentialLoss": "exponential",
             "LeastSquaresError": "identity", "LeastAbsoluteError": "identity", "HuberLossFunction": "identity",
             "QuantileLossFunction": "identity"}
    if loss not in links:
        raise ValueError(f"GradientBoosting with loss {loss}: a loss this exporter does not know")
    stages, k = est.estimators_.shape
    if k != len(raw):
        raise ValueError(f"{k} trees per stage for {len(raw)} raw values")
    trees = [sklearn_tree(t.tree_, t.tree_.value[:, 0, 0]) for stage in est.estimators_ for t in stage]
    return {"combine": "boost", "learning_rate": float(est.learning_rate), "init": raw.tolist(),
            "link": links[loss], "nodes": columns(trees)}


def hist_gradient_boosting(est):
    import numpy as np

    cats = getattr(est, "is_categorical_", None)
    if cats is not None and np.any(cats):
        raise ValueError("HistGradientBoosting with categorical features: categorical splits are not supported")
    links = {"IdentityLink": "identity", "LogLink": "exp", "LogitLink": "sigmoid", "MultinomialLogit": "softmax"}
    link = type(est._loss.link).__name__
    if link not in links:
        raise ValueError(f"HistGradientBoosting with a {link} loss link: not supported")
    trees = []
    for iteration in est._predictors:
        for predictor in iteration:
            nd = predictor.nodes
            if nd["is_categorical"].any():
                raise ValueError("HistGradientBoosting with a categorical split: not supported")
            feature = np.where(nd["is_leaf"] == 1, -1, nd["feature_idx"].astype(np.int64))
            trees.append({"feature": feature, "threshold": nd["num_threshold"], "left": nd["left"].astype(np.int64),
                          "right": nd["right"].astype(np.int64), "value": nd["value"],
                          "missing_left": nd["missing_go_to_left"]})
    return {"baseline": np.ravel(est._baseline_prediction).tolist(), "link": links[link],
            "nodes": columns(trees, missing=True)}


def xgboost_params(est, task, classes, n):
    import numpy as np

    if not (isinstance(est.missing, float) and math.isnan(est.missing)):
        raise ValueError(f"{type(est).__name__} with missing={est.missing!r}: XGBoost would treat that value as missing; "
                         "only missing=nan (the default, JSON null here) is supported")
    booster = est.get_booster()
    kind = json.loads(booster.save_config())["learner"]["gradient_booster"]["name"]
    if kind != "gbtree":
        raise ValueError(f"an XGBoost {kind} booster: only gbtree is supported")
    try:
        # As the scikit-learn wrapper predicts: up to the best iteration of
        # early stopping, when there was one.
        booster = booster[: est.best_iteration + 1]
    except AttributeError:
        pass
    learner = json.loads(booster.save_raw("json"))["learner"]
    gb, objective = learner["gradient_booster"], learner["objective"]["name"]
    if XGB_OBJECTIVES.get(objective) != task:
        raise ValueError(f"XGBoost objective {objective}: supported are {sorted(XGB_OBJECTIVES)}")
    param = learner["learner_model_param"]
    if int(param.get("num_target", "1")) != 1:
        raise ValueError("XGBoost with several targets: one output is supported")
    if int(param["num_feature"]) != n:
        raise ValueError(f"the booster has {param['num_feature']} features, the model {n}")
    trees = []
    for t in gb["model"]["trees"]:
        if any(int(s) != 0 for s in t["split_type"]):
            raise ValueError("XGBoost with categorical splits: not supported")
        left = np.asarray(t["left_children"])
        leaf = left == -1
        cond = np.asarray(t["split_conditions"], dtype=np.float32).astype(np.float64)
        trees.append({"feature": np.where(leaf, -1, t["split_indices"]), "threshold": cond, "left": left,
                      "right": np.asarray(t["right_children"]), "value": cond,
                      "missing_left": np.asarray(t["default_left"], dtype=np.uint8)})
    base = float(np.float32(float(param["base_score"])))
    return {"objective": objective, "base_score": base, "groups": [int(g) for g in gb["model"]["tree_info"]],
            "nodes": columns(trees, missing=True)}


def round6(x):
    return float(f"{x:.6g}")


def feature_ranges(features, described, X):
    """Each feature's description, unit and valid range: meta's, else the
    training data's span plus half again each side, never narrower than the
    data (rounding to six digits must not cut off a row)."""
    import numpy as np

    unknown = set(described) - set(features)
    if unknown:
        raise ValueError(f"meta: features {sorted(unknown)} are not among {features}")
    out = []
    for j, name in enumerate(features):
        fm = described.get(name, {})
        lo = hi = None
        if X is not None and not np.isnan(X[:, j]).all():
            lo, hi = float(np.nanmin(X[:, j])), float(np.nanmax(X[:, j]))
        if ("min_exclusive" not in fm or "max" not in fm) and lo is None:
            raise ValueError(f"feature {name} has no valid range: pass the training data (X= in export(), --data on the "
                             f"command line), or give features.{name}.min_exclusive and max in meta")
        if lo is not None:
            span = hi - lo or max(abs(hi), 1.0)
            low, high = round6(lo - span / 2), round6(hi + span / 2)
            low = low if low < lo else lo - span / 2
            high = high if high >= hi else hi + span / 2
        low, high = fm.get("min_exclusive", low), fm.get("max", high)
        if lo is not None and not (low < lo and hi <= high):
            raise ValueError(f"meta: features.{name}: the range ({low}, {high}] leaves out training values in [{lo}, {hi}]")
        out.append({"name": name, "description": fm.get("description", name), "unit": fm.get("unit", ""),
                    "min_exclusive": low, "max": high})
    return out


def derive_examples(model, task, classes, X, y):
    """Typical rows of the training data (complete ones): per class the row
    nearest the class's mean that the model puts in it; for a regression the
    rows nearest the 10th, 50th and 90th percentile of the target."""
    import numpy as np

    rows = X[~np.isnan(X).any(axis=1)]
    if len(rows) == 0:
        return []
    predicted = model.predict(rows)
    if task == "regression":
        target = np.asarray(y, dtype=np.float64)[~np.isnan(X).any(axis=1)] if y is not None else predicted
        out = []
        for label, q in (("low", 10), ("median", 50), ("high", 90)):
            i = int(np.argmin(np.abs(target - np.percentile(target, q))))
            out.append({"label": label, "values": rows[i].tolist()})
        return out
    est_classes = list(getattr(model, "classes_", []))
    labels = np.asarray(y)[~np.isnan(X).any(axis=1)] if y is not None else predicted
    scale = rows.std(axis=0)
    scale[scale == 0] = 1
    out = []
    for k, c in enumerate(est_classes):
        mine = rows[(labels == c) & (predicted == c)]
        if len(mine):
            d = (((mine - mine.mean(axis=0)) / scale) ** 2).sum(axis=1)
            out.append({"label": classes[k], "values": mine[int(np.argmin(d))].tolist()})
    return out


def check_examples(examples, task, classes, n):
    if isinstance(examples, dict):  # {class: values}, as earlier versions wrote them
        examples = [{"label": k, "values": v} for k, v in examples.items()]
    for e in examples:
        if set(e) != {"label", "values"} or len(e["values"]) != n:
            raise ValueError(f"meta: examples: want {{\"label\", \"values\"}} with {n} values, got {e}")
        if task == "classification" and str(e["label"]) not in classes:
            raise ValueError(f"meta: example {e['label']!r}: a classifier's examples are labelled with a class, one of {classes}")
    return [{"label": str(e["label"]), "values": [float(v) for v in e["values"]]} for e in examples]


def read_csv(path, features, target):
    """The feature columns of a CSV (empty cells are missing values) and
    its target column, if it has one."""
    import numpy as np

    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    missing = [c for c in features if c not in header]
    if missing:
        raise ValueError(f"{path}: no column for the features {missing}; the columns are {header}")
    cols = [header.index(c) for c in features]
    try:
        X = np.array([[float(r[c]) if r[c].strip() else np.nan for c in cols] for r in body])
    except ValueError as e:
        raise ValueError(f"{path}: {e}")
    y = None
    if target in header:
        t = header.index(target)
        y = np.array([r[t] for r in body])
        try:
            y = y.astype(np.float64)
        except ValueError:
            pass
    return X, y


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="Loading a joblib (pickle) file runs code from it: load only files you made.")
    p.add_argument("--model", required=True, help="the fitted model or pipeline, saved with joblib.dump (only load files you made)")
    p.add_argument("--data", help="the training data: a CSV whose header names every feature (and the target, for examples)")
    p.add_argument("--features", help="the feature names, comma-separated, in the model's column order (default: the names it was fitted with)")
    p.add_argument("--out", default="functions/predict/model.json", help="where to write model.json (default: what the function embeds)")
    p.add_argument("--meta", help="a JSON file: name, title, description, target, classes, features, examples, metrics")
    args = p.parse_args(argv)
    try:
        import joblib
        import sklearn  # noqa: F401
    except ImportError as e:
        print(f"export_sklearn: {e} for {sys.executable}. Debian's python3-sklearn installs scikit-learn for "
              "/usr/bin/python3: run the script with that interpreter (or install scikit-learn for this one).", file=sys.stderr)
        return 2
    meta = {}
    if args.meta:
        with open(args.meta, encoding="utf-8") as f:
            meta = json.load(f)
    try:
        model = joblib.load(args.model)
        features = [s.strip() for s in args.features.split(",")] if args.features else None
        if features is None:
            names = getattr(model, "feature_names_in_", None)
            if names is None:
                raise ValueError("the model does not know its feature names: pass --features a,b,c")
            features = list(names)
        X = y = None
        if args.data:
            X, y = read_csv(args.data, features, meta.get("target"))
        doc = export(model, features, args.out, meta, X=X, y=y)
    except ValueError as e:
        print(f"export_sklearn: {e}", file=sys.stderr)
        return 1
    what = f"classes {doc['classes']}" if doc["task"] == "classification" else f"a regression of {doc['target']}"
    print(f"wrote {args.out}: {doc['family']} ({doc['kind']}), {len(doc['features'])} features, {what}, version {doc['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
