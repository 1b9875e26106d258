"""The estimators the exporter serves, each as model.json's kind and params:
what the Go side's families (internal/model) compute, read from the fitted
estimator's own attributes."""

import base64
import json
import math


CLASSIFIERS = ["LogisticRegression", "DecisionTreeClassifier", "RandomForestClassifier", "ExtraTreesClassifier",
               "GradientBoostingClassifier", "HistGradientBoostingClassifier", "XGBClassifier"]
REGRESSORS = ["LinearRegression", "Ridge", "Lasso", "DecisionTreeRegressor", "RandomForestRegressor",
              "ExtraTreesRegressor", "GradientBoostingRegressor", "HistGradientBoostingRegressor", "XGBRegressor"]
SUPPORTED = ("one of " + ", ".join(CLASSIFIERS + REGRESSORS) +
             ", bare or as the last step of a Pipeline (python3 scripts/export_sklearn.py --help lists the steps)")
XGB_OBJECTIVES = {"binary:logistic": "classification", "multi:softprob": "classification",
                  "multi:softmax": "classification", "reg:squarederror": "regression"}


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


def parameters(est, task, classes, X=None, features=None):
    """The model's kind, its params, whether it takes missing values, and
    the columns it splits on as categories itself: their values, the codes
    it saw for them and what an unseen one becomes."""
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
        return "xgboost/1", xgboost_params(est, task, classes, est.n_features_in_), True, xgboost_categories(est, X, features)
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
            # The trees split on the raw category: one they never saw goes
            # where a missing one does (-1 reads as missing).
            values = [float(v) for v in est._bin_mapper.bin_thresholds_[k]]
            native[int(k)] = {"values": values, "codes": values, "unknown": -1.0}
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
    trees, splits, sets = [], [], []
    for t in gb["model"]["trees"]:
        left = np.asarray(t["left_children"])
        leaf = left == -1
        categorical = np.asarray(t["split_type"]) == 1
        cond = np.asarray(t["split_conditions"], dtype=np.float32).astype(np.float64)
        # A categorical split's condition is NaN: its set decides (CatSets
        # on the Go side), the threshold is not read.
        threshold = np.where(categorical, 0.0, cond)
        trees.append({"feature": np.where(leaf, -1, t["split_indices"]), "threshold": threshold, "left": left,
                      "right": np.asarray(t["right_children"]), "value": threshold,
                      "missing_left": np.asarray(t["default_left"], dtype=np.uint8)})
        split = np.full(len(left), -1)
        for k, node in enumerate(t.get("categories_nodes", [])):
            at, size = t["categories_segments"][k], t["categories_sizes"][k]
            split[node] = len(sets)
            sets.append([int(c) for c in t["categories"][at:at + size]])
        if (split[categorical] < 0).any():
            raise ValueError("an XGBoost categorical split without its categories: a model layout this exporter does not know")
        splits.append(split)
    base = float(np.float32(float(param["base_score"])))
    out = {"objective": objective, "base_score": base, "groups": [int(g) for g in gb["model"]["tree_info"]],
           "nodes": columns(trees, missing=True)}
    if sets:
        out["categorical"] = {"splits": b64(np.concatenate(splits), "<i4"), "sets": sets}
    return out


def xgboost_categories(est, X, features):
    """The columns XGBoost reads as categories (enable_categorical), each
    with its categories' names, which XGBoost 1.7 does not keep: pandas'
    categories of the training data, whose codes it split on."""
    types = est.get_booster().feature_types or []
    cats = [k for k, t in enumerate(types) if t == "c"]
    if not cats:
        return {}
    if features is None:
        raise ValueError("XGBoost's own categorical splits (enable_categorical=True) after preparation steps: not supported; "
                         "encode the categories in the pipeline (OneHotEncoder, OrdinalEncoder), or give XGBoost the DataFrame itself")
    if X is None or any(not hasattr(X[features[k]], "cat") for k in cats):
        raise ValueError("XGBoost with categorical features (enable_categorical=True): pass the training data as a "
                         "DataFrame whose category columns have pandas' category dtype (export(..., X=X)): XGBoost keeps "
                         "the categories' codes, not their names")
    out = {}
    for k in cats:
        names = [v.item() if hasattr(v, "item") else v for v in X[features[k]].cat.categories]
        out[k] = {"values": names, "codes": [float(c) for c in range(len(names))], "unknown": "NaN"}
    return out
