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
import hashlib
import json
import math
import re
import sys

import sklearn_prepare

NAME = re.compile(r"^[A-Za-z0-9_]+$")
CLASSIFIERS = ["LogisticRegression", "DecisionTreeClassifier", "RandomForestClassifier", "ExtraTreesClassifier",
               "GradientBoostingClassifier", "HistGradientBoostingClassifier", "XGBClassifier"]
REGRESSORS = ["LinearRegression", "Ridge", "Lasso", "DecisionTreeRegressor", "RandomForestRegressor",
              "ExtraTreesRegressor", "GradientBoostingRegressor", "HistGradientBoostingRegressor", "XGBRegressor"]
SUPPORTED = ("one of " + ", ".join(CLASSIFIERS + REGRESSORS) +
             ", bare or as the last step of a Pipeline (python3 scripts/export_sklearn.py --help lists the steps)")
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

    unknown = set(meta) - META_KEYS
    if unknown:
        raise ValueError(f"meta: unknown keys {sorted(unknown)}; known are {sorted(META_KEYS)}")
    steps, est = split(model)
    family = type(est).__name__
    if family not in CLASSIFIERS + REGRESSORS:
        raise ValueError(f"supported: {SUPPORTED}; got {family}")
    task = "classification" if family in CLASSIFIERS else "regression"
    fitted_names = getattr(model, "feature_names_in_", None)
    if fitted_names is not None and list(fitted_names) != features:
        raise ValueError(f"feature names {features} differ from the ones the model was fitted with: {list(fitted_names)}")
    n_in = getattr(model, "n_features_in_", None) if steps else getattr(est, "n_features_in_", None)
    if n_in is None or getattr(est, "n_features_in_", None) is None:
        raise ValueError("the model is not fitted: call fit(X, y) before exporting")
    if len(features) != n_in:
        raise ValueError(f"{len(features)} feature names for a model fitted on {n_in} features")
    X = frame(X, features)

    classes = None
    if task == "classification":
        classes = [str(c) for c in est.classes_]
        if "classes" in meta:
            if len(meta["classes"]) != len(classes):
                raise ValueError(f"meta: classes names {len(meta['classes'])} classes, the model has {len(classes)}")
            classes = [str(c) for c in meta["classes"]]
    kind, params, routes, native = parameters(est, task, classes)
    types, columns = sklearn_prepare.prepare(steps, features, routes, native)
    width = len(columns) if columns is not None else len(features)
    if est.n_features_in_ != width:
        raise ValueError(f"the steps make {width} columns, the estimator was fitted on {est.n_features_in_}")
    used = [f for f in features if f in types]
    api = api_names(used)
    if X is not None:
        for f in used:
            if types[f]["missing"] == "refused" and X[f].isna().any():
                raise ValueError(f"{f} has missing values in the data, which this {family} pipeline does not take: "
                                 "put a SimpleImputer in front of it, or use a model that takes them (HistGradientBoosting, XGBoost)")

    target = meta.get("target") or (api_name(y.name) if getattr(y, "name", None) else None) or (
        "class" if task == "classification" else "value")
    doc = {
        "name": meta.get("name", f"{target}-{family.lower()}"),
        "title": meta.get("title", f"{target[:1].upper()}{target[1:]} predictor"),
        "description": meta.get("description", ""),
        "version": "",
        "kind": kind,
        "family": family,
        "algorithm": algorithm(est, steps),
        "task": task,
        "source": {"tool": tool(est)},
        "target": target,
        "features": feature_docs(used, api, types, meta.get("features", {}), X),
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
        examples = derive_examples(model, task, classes, X, y, used, types)
    if examples:
        doc["examples"] = check_examples(examples, task, classes, len(used))
    if columns is not None:
        for c in columns:
            c["feature"] = api[c["feature"]]
        doc["prepare"] = {"columns": columns}
        row = X.iloc[:1] if X is not None else probe_frame(features, types)
        if family.startswith("XGB") and sklearn_prepare.is_sparse(steps, row):
            # Zeros are absent entries of a sparse matrix, which XGBoost
            # reads as missing: the function does too.
            doc["prepare"]["sparse"] = True
    doc["params"] = params
    metrics = meta.get("metrics", {})
    if set(metrics) - METRICS:
        raise ValueError(f"meta: metrics {sorted(set(metrics) - METRICS)} are not known; known are {sorted(METRICS)}")
    doc["metrics"] = metrics
    # The version is a hash of everything else, as cmd/train makes it.
    doc["version"] = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:12]
    return doc


def frame(X, features):
    """X as a DataFrame with the features' names (None stays None)."""
    import pandas as pd

    if X is None:
        return None
    if isinstance(X, pd.DataFrame):
        missing = [f for f in features if f not in X.columns]
        if missing:
            raise ValueError(f"X has no column for the features {missing}")
        return X[features]
    import numpy as np
    X = np.asarray(X, dtype=object)
    if X.ndim != 2 or X.shape[1] != len(features):
        raise ValueError(f"X has shape {X.shape}, want (rows, {len(features)})")
    out = pd.DataFrame(X, columns=features)
    for f in features:
        try:
            out[f] = pd.to_numeric(out[f])
        except (ValueError, TypeError):
            out[f] = out[f].where(out[f].notna(), np.nan)
    return out


def probe_frame(features, types):
    """One row the steps take, for a model exported without data."""
    import pandas as pd

    row = {}
    for f in features:
        t = types.get(f, {"type": "number"})
        row[f] = [t["categories"][0] if t["type"] == "category" else 0.0]
    return pd.DataFrame(row)


def api_name(name):
    """A column's name as an API field: letters, digits and _."""
    out = re.sub(r"[^A-Za-z0-9_]+", "_", str(name)).strip("_") or "feature"
    return out if out != "instances" else "instances_"


def api_names(features):
    """Each feature's API name, told apart where two map to one."""
    out, taken = {}, set()
    for f in features:
        name, k = api_name(f), 2
        while name in taken:
            name, k = f"{api_name(f)}_{k}", k + 1
        out[f] = name
        taken.add(name)
    return out


def split(model):
    """The pipeline's preparation steps and its estimator."""
    from sklearn.pipeline import Pipeline

    if not isinstance(model, Pipeline):
        return [], model
    steps = [s for _, s in model.steps]
    return [s for s in steps[:-1] if s is not None], steps[-1]


def tool(est):
    import sklearn

    if type(est).__name__.startswith("XGB"):
        import xgboost
        return f"xgboost {xgboost.__version__} (scikit-learn {sklearn.__version__})"
    return f"scikit-learn {sklearn.__version__}"


def algorithm(est, steps):
    keys = ["n_estimators", "max_iter", "max_depth", "learning_rate", "max_leaf_nodes", "min_samples_leaf",
            "C", "alpha", "solver", "loss", "objective", "criterion"]
    p = est.get_params()
    shown = ", ".join(f"{k}={p[k]!r}" for k in keys if k in p and p[k] is not None)
    on = " after " + ", ".join(step_names(steps)) if steps else ""
    return f"{type(est).__name__}({shown}){on}"


def step_names(steps):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    out = []
    for s in steps:
        if isinstance(s, Pipeline):
            out += step_names([t for _, t in s.steps])
        elif isinstance(s, ColumnTransformer):
            out.append("ColumnTransformer(" + "; ".join(
                f"{label}: " + (", ".join(step_names([t])) if not isinstance(t, str) else t)
                for label, t, cols in s.transformers_ if not (isinstance(t, str) and t == "drop")) + ")")
        elif not isinstance(s, str):
            out.append(type(s).__name__)
    return out


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


def parameters(est, task, classes):
    """The model's kind, its params, whether it takes missing values, and
    the columns it splits on as categories itself, with their values."""
    family = type(est).__name__
    if family == "LogisticRegression":
        return "logistic/1", logistic(est, classes), False, {}
    if family in ("LinearRegression", "Ridge", "Lasso"):
        if est.coef_.ndim != 1:
            raise ValueError(f"{family} with {est.coef_.shape[0]} outputs: one output is supported")
        return "linear/1", {"weights": est.coef_.tolist(), "bias": float(est.intercept_)}, False, {}
    if family.startswith("HistGradientBoosting"):
        params, native = hist_gradient_boosting(est)
        return "sklearn-hist-gradient-boosting/1", params, True, native
    if family.startswith("XGB"):
        return "xgboost/1", xgboost_params(est, task, classes, est.n_features_in_), True, {}
    if family.startswith("GradientBoosting"):
        return "sklearn-trees/1", gradient_boosting(est, task), False, {}
    return "sklearn-trees/1", forest(est, task), False, {}


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
    """HistGradientBoosting's params, and its categorical columns with their
    known values. A categorical split sends a value left where its bit is
    set in the split's bitset (raw values 0..255); a missing value, a
    negative one or one the model never saw goes where missing values go."""
    import numpy as np

    links = {"IdentityLink": "identity", "LogLink": "exp", "LogitLink": "sigmoid", "MultinomialLogit": "softmax"}
    link = type(est._loss.link).__name__
    if link not in links:
        raise ValueError(f"HistGradientBoosting with a {link} loss link: not supported")
    trees, splits, bitsets = [], [], []
    for iteration in est._predictors:
        for predictor in iteration:
            nd = predictor.nodes
            feature = np.where(nd["is_leaf"] == 1, -1, nd["feature_idx"].astype(np.int64))
            trees.append({"feature": feature, "threshold": nd["num_threshold"], "left": nd["left"].astype(np.int64),
                          "right": nd["right"].astype(np.int64), "value": nd["value"],
                          "missing_left": nd["missing_go_to_left"]})
            cat = (nd["is_categorical"] == 1) & (nd["is_leaf"] == 0)
            splits.append(np.where(cat, nd["bitset_idx"].astype(np.int64) + len(bitsets), -1))
            bitsets += [b for b in predictor.raw_left_cat_bitsets]
    params = {"baseline": np.ravel(est._baseline_prediction).tolist(), "link": links[link],
              "nodes": columns(trees, missing=True)}
    native = {}
    cats = getattr(est, "is_categorical_", None)
    if cats is not None and np.any(cats):
        known, f_idx = est._bin_mapper.make_known_categories_bitsets()
        params["categorical"] = {
            "splits": b64(np.concatenate(splits), "<i4"),
            "bitsets": b64(np.array(bitsets, dtype=np.uint32).reshape(-1), "<u4"),
            "columns": [int(k) for k in np.flatnonzero(cats)],
            "known": b64(np.asarray(known, dtype=np.uint32).reshape(-1), "<u4"),
        }
        for k in np.flatnonzero(cats):
            native[int(k)] = [float(v) for v in est._bin_mapper.bin_thresholds_[k]]
    return params, native


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
            raise ValueError("XGBoost with categorical splits (enable_categorical=True): not supported yet; encode the "
                             "categories in the pipeline instead (a ColumnTransformer with a OneHotEncoder or OrdinalEncoder)")
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


def feature_docs(features, api, types, described, X):
    """Each feature as model.json describes it: its API name, description,
    type and what null does; a number's unit and valid range (meta's, else
    the training data's span plus half again each side, never narrower than
    the data: rounding to six digits must not cut off a row); a category's
    values and what an unseen one does."""
    import numpy as np

    unknown = set(described) - set(features) - set(api.values())
    if unknown:
        raise ValueError(f"meta: features {sorted(unknown)} are not among {features}")
    out = []
    for name in features:
        fm = described.get(name, described.get(api[name], {}))
        t = types[name]
        doc = {"name": api[name], "description": fm.get("description", str(name)), "type": t["type"]}
        if t["type"] == "category":
            doc["categories"] = t["categories"]
            doc["missing"], doc["unknown"] = t["missing"], t["unknown"]
            out.append(doc)
            continue
        lo = hi = None
        if X is not None:
            col = np.asarray(X[name], dtype=np.float64)
            if not np.isnan(col).all():
                lo, hi = float(np.nanmin(col)), float(np.nanmax(col))
        if ("min_exclusive" not in fm or "max" not in fm) and lo is None:
            raise ValueError(f"feature {name} has no valid range: pass the training data (X= in export(), --data on the "
                             f"command line), or give features.{name}.min_exclusive and max in meta")
        low = high = None
        if lo is not None:
            span = hi - lo or max(abs(hi), 1.0)
            low, high = round6(lo - span / 2), round6(hi + span / 2)
            low = low if low < lo else lo - span / 2
            high = high if high >= hi else hi + span / 2
        low, high = fm.get("min_exclusive", low), fm.get("max", high)
        if lo is not None and not (low < lo and hi <= high):
            raise ValueError(f"meta: features.{name}: the range ({low}, {high}] leaves out training values in [{lo}, {hi}]")
        doc.update({"unit": fm.get("unit", ""), "min_exclusive": low, "max": high, "missing": t["missing"]})
        out.append(doc)
    return out


def json_value(v):
    """A DataFrame cell as a request sends it."""
    if hasattr(v, "item"):
        v = v.item()
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    return v


def derive_examples(model, task, classes, X, y, used, types):
    """Typical rows of the training data (complete ones): per class the row
    nearest the class's mean (its numbers standardized; a category counts
    when it differs from the class's most common one) that the model puts
    in it; for a regression the rows nearest the 10th, 50th and 90th
    percentile of the target."""
    import numpy as np
    import warnings

    complete = ~X[used].isna().any(axis=1).to_numpy()
    rows = X[complete]
    if len(rows) == 0:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        predicted = np.asarray(model.predict(rows if getattr(model, "feature_names_in_", None) is not None else rows.to_numpy()))
    values = lambda i: [json_value(rows.iloc[i][f]) for f in used]
    if task == "regression":
        target = np.asarray(y, dtype=np.float64)[complete] if y is not None else predicted.astype(np.float64)
        out = []
        for label, q in (("low", 10), ("median", 50), ("high", 90)):
            i = int(np.argmin(np.abs(target - np.percentile(target, q))))
            out.append({"label": label, "values": values(i)})
        return out
    numbers = [f for f in used if types[f]["type"] == "number"]
    cats = [f for f in used if types[f]["type"] == "category"]
    num = rows[numbers].to_numpy(dtype=np.float64) if numbers else np.zeros((len(rows), 0))
    scale = num.std(axis=0) if len(numbers) else num
    if len(numbers):
        scale[scale == 0] = 1
    labels = np.asarray(y)[complete] if y is not None else predicted
    out = []
    for k, c in enumerate(getattr(model, "classes_", [])):
        mine = np.flatnonzero((labels == c) & (predicted == c))
        if not len(mine):
            continue
        d = (((num[mine] - num[mine].mean(axis=0)) / scale) ** 2).sum(axis=1) if len(numbers) else np.zeros(len(mine))
        for f in cats:
            col = rows[f].to_numpy()[mine]
            d = d + (col != rows[f].iloc[mine].mode().iloc[0])
        out.append({"label": classes[k], "values": values(int(mine[int(np.argmin(d))]))})
    return out


def check_examples(examples, task, classes, n):
    if isinstance(examples, dict):  # {class: values}, as earlier versions wrote them
        examples = [{"label": k, "values": v} for k, v in examples.items()]
    for e in examples:
        if set(e) != {"label", "values"} or len(e["values"]) != n:
            raise ValueError(f"meta: examples: want {{\"label\", \"values\"}} with {n} values, got {e}")
        if task == "classification" and str(e["label"]) not in classes:
            raise ValueError(f"meta: example {e['label']!r}: a classifier's examples are labelled with a class, one of {classes}")
    return [{"label": str(e["label"]), "values": [json_value(v) for v in e["values"]]} for e in examples]


def read_csv(path, features, target):
    """The feature columns of a CSV, text and numbers (a blank is a missing
    value), and its target column: target, or else the one column that is
    not a feature, if there is one."""
    import pandas as pd

    try:
        data = pd.read_csv(path, keep_default_na=False, na_values=[""], skipinitialspace=True)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: {e}")
    missing = [c for c in features if c not in data.columns]
    if missing:
        raise ValueError(f"{path}: no column for the features {missing}; the columns are {list(data.columns)}")
    rest = [c for c in data.columns if c not in features]
    if target is None and len(rest) == 1:
        target = rest[0]
    y = data[target] if target in data.columns else None
    return data[features], y


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="Loading a joblib (pickle) file runs code from it: load only files you made.")
    p.add_argument("--model", required=True, help="the fitted model or pipeline, saved with joblib.dump (only load files you made)")
    p.add_argument("--data", help="the training data: a CSV whose header names every feature (and the target, for examples)")
    p.add_argument("--features", help="the feature names, comma-separated, in the model's column order (default: the names it was fitted with)")
    p.add_argument("--out", default="functions/predict/model.json", help="where to write model.json (default: what the function embeds)")
    p.add_argument("--target", help="the CSV's target column (default: its one column that is not a feature)")
    p.add_argument("--meta", help="a JSON file: name, title, description, target, classes, features, examples, metrics")
    args = p.parse_args(argv)
    try:
        import joblib
        import pandas  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as e:
        print(f"export_sklearn: {e} for {sys.executable}. Debian's python3-sklearn and python3-pandas install them for "
              "/usr/bin/python3: run the script with that interpreter (or install them for this one).", file=sys.stderr)
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
            X, y = read_csv(args.data, features, args.target)
        doc = export(model, features, args.out, meta, X=X, y=y)
    except ValueError as e:
        print(f"export_sklearn: {e}", file=sys.stderr)
        return 1
    what = f"classes {doc['classes']}" if doc["task"] == "classification" else f"a regression of {doc['target']}"
    for f in doc["features"]:
        if f["description"] != f["name"] and f["description"] in features:
            print(f"column {f['description']!r} is the API field {f['name']!r}")
    print(f"wrote {args.out}: {doc['family']} ({doc['kind']}), {len(doc['features'])} features, {what}, version {doc['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
