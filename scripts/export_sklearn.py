#!/usr/bin/env python3
"""Export a fitted scikit-learn or XGBoost model to the model.json the predict function serves.

Estimators, bare or as the last step of a Pipeline:
  classification: LogisticRegression, DecisionTreeClassifier, RandomForestClassifier,
    ExtraTreesClassifier, GradientBoostingClassifier, HistGradientBoostingClassifier
    (numeric and native categorical splits), XGBClassifier (binary:logistic,
    multi:softprob, multi:softmax; gbtree; enable_categorical on a DataFrame's category
    columns, bare)
  regression: LinearRegression, Ridge, Lasso, DecisionTreeRegressor, RandomForestRegressor,
    ExtraTreesRegressor, GradientBoostingRegressor, HistGradientBoostingRegressor,
    XGBRegressor (reg:squarederror; gbtree)
Preparation steps in front of it (exporter/prepare.py), as deep as they nest:
  ColumnTransformer (columns by name, index, mask or slice; remainder drop or
    passthrough), Pipeline, SimpleImputer (mean, median, most_frequent, constant; numbers
    and strings), OneHotEncoder (handle_unknown error, ignore or infrequent_if_exist;
    drop; min_frequency, max_categories; dense or sparse), OrdinalEncoder (unknown_value,
    encoded_missing_value), StandardScaler, MinMaxScaler, RobustScaler, MaxAbsScaler,
    passthrough and drop.
Anything else (another step, an imputer's indicator, XGBoost's own categorical splits
after preparation steps, dart or gblinear boosters, several outputs, a custom init estimator) is refused with a
message naming it. The Go function computes what the library computes, bit for bit
where it can (internal/model says how, and its parity tests show how close); a row
scikit-learn raises for (a category an encoder refuses, a blank no step fills) is a 400
naming the feature.

From the command line:

    python3 scripts/export_sklearn.py --model fitted.joblib --data train.csv \\
        [--target survived] [--features a,b,c] [--meta meta.json] [--out functions/predict/model.json]

Loading a joblib (pickle) file runs code from it: load only files you made.

From Python (X a pandas DataFrame, or an array with the feature names given):

    from export_sklearn import export
    export(model, X.columns, "functions/predict/model.json", meta={"title": "Titanic"}, X=X, y=y)

The training data (X, or --data: a CSV with a header naming every feature, text
and blanks as pandas reads them; its target column, --target or else the one
column that is not a feature, is read as y and names the prediction) gives
each number feature a valid range, its span plus half again each side, so that
no row the model was trained on is refused; and it gives examples (per class,
the typical complete row the model gets right; for a regression low, median
and high rows). A category's values come from the fitted encoders, not the
data. A number's range may instead come from meta; without either the export
refuses, naming the feature. A column name that is no API field (letters,
digits, _) is made one, and the export says so. meta (all optional):
    name, title, description            how the API and the site name the model
    target                              what a prediction is called (default: y's name,
                                        else "class" or "value")
    target_description, target_unit     a regression's number: what it is, its unit
    classes                             the class names, for a model fitted on integer labels
                                        (XGBoost requires them); in the order of classes_
    features: {name: {description, unit, min_exclusive, max}}
    examples: [{"label": ..., "values": [...]}]   (a classifier's labels are classes;
                                        values as a request sends them, null for a blank)
    metrics: {cv_folds, cv_accuracy, training_accuracy, cv_r2, cv_rmse, training_r2,
              training_rmse, training_samples}
"""

import argparse
import hashlib
import json
import sys

from exporter import prepare
from exporter.data import api_name, api_names, check_examples, derive_examples, feature_docs, frame, probe_frame, read_csv
from exporter.families import CLASSIFIERS, REGRESSORS, SUPPORTED, algorithm, parameters, tool

META_KEYS = {"name", "title", "description", "target", "target_description", "target_unit", "classes",
             "features", "examples", "metrics"}
METRICS = {"cv_folds", "cv_accuracy", "training_accuracy", "cv_r2", "cv_rmse", "training_r2", "training_rmse",
           "training_samples"}


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
    kind, params, routes, native = parameters(est, task, classes, X, None if steps else features)
    types, columns = prepare.prepare(steps, features, routes, native)
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
        if family.startswith("XGB") and prepare.is_sparse(steps, row):
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


def split(model):
    """The pipeline's preparation steps and its estimator."""
    from sklearn.pipeline import Pipeline

    if not isinstance(model, Pipeline):
        return [], model
    steps = [s for _, s in model.steps]
    return [s for s in steps[:-1] if s is not None], steps[-1]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
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
