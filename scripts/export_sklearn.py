#!/usr/bin/env python3
"""Export a fitted scikit-learn pipeline to the model.json the predict function serves.

Supported: Pipeline([StandardScaler(), LogisticRegression()]), binary or
multinomial (the same model family cmd/train fits, so the Go function computes
the same probabilities as predict_proba). Anything else is refused, saying so.

From the command line:

    python3 scripts/export_sklearn.py --model fitted.joblib --features a,b,c \
        --out functions/predict/model/model.json [--meta meta.json]

From Python:

    from export_sklearn import export
    export(pipeline, ["a", "b", "c"], "model.json", meta={"target": "cultivar"})

meta (all optional) is what cmd/train's meta file holds, plus two keys:
    name, title, description       how the API and the site name the model
    target                         what a prediction's class is called ("class")
    features: {name: {description, unit, min_exclusive, max}}
    examples: {class: [one value per feature]}   the site's presets
    metrics: {...}                 e.g. {"cv_accuracy": 0.97, "cv_folds": 5}
A feature without a range gets the scaler's mean +- 6 standard deviations.
"""

import argparse
import hashlib
import json
import re
import sys

SUPPORTED = "Pipeline([StandardScaler(), LogisticRegression()]), binary or multinomial"
NAME = re.compile(r"^[A-Za-z0-9_]+$")


def export(pipeline, feature_names, path, meta=None):
    """Write model.json for pipeline to path and return the document."""
    doc = document(pipeline, list(feature_names), meta or {})
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    return doc


def document(pipeline, features, meta):
    import sklearn
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    steps = getattr(pipeline, "steps", None) if isinstance(pipeline, Pipeline) else None
    if steps is None or len(steps) != 2 or not isinstance(steps[0][1], StandardScaler) or not isinstance(steps[1][1], LogisticRegression):
        got = [type(s[1]).__name__ for s in steps] if steps else type(pipeline).__name__
        raise ValueError(f"supported: {SUPPORTED}; got {got}")
    scaler, lr = steps[0][1], steps[1][1]
    if not hasattr(lr, "coef_") or not hasattr(scaler, "n_features_in_"):
        raise ValueError("the pipeline is not fitted: call fit(X, y) before exporting")
    n = scaler.n_features_in_
    if len(features) != n:
        raise ValueError(f"{len(features)} feature names for a pipeline fitted on {n} features")
    fitted_names = getattr(pipeline, "feature_names_in_", None)
    if fitted_names is not None and list(fitted_names) != features:
        raise ValueError(f"feature names {features} differ from the ones the pipeline was fitted with: {list(fitted_names)}")
    for name in features:
        if not NAME.match(name) or name == "instances":
            raise ValueError(f"feature name {name!r}: the API takes letters, digits and _ (not 'instances'); rename it")

    classes = [str(c) for c in lr.classes_]
    coef, intercept = lr.coef_.tolist(), lr.intercept_.tolist()
    if len(classes) == 2:
        # One logit for the second class; a zero row for the first gives the
        # same probabilities through the softmax the function computes.
        weights, bias, kind = [[0.0] * n, coef[0]], [0.0, intercept[0]], "binary"
    else:
        multi = getattr(lr, "multi_class", "auto")
        if multi == "ovr" or (multi in ("auto", "deprecated") and lr.solver == "liblinear"):
            raise ValueError(f"supported: {SUPPORTED}; this LogisticRegression is one-vs-rest "
                             "(its probabilities are normalized sigmoids); fit it with a solver such as lbfgs "
                             "and multi_class='multinomial'")
        weights, bias, kind = coef, intercept, "multinomial"

    mean = scaler.mean_.tolist() if scaler.with_mean else [0.0] * n
    scale = scaler.scale_.tolist() if scaler.with_std else [1.0] * n
    described = meta.get("features", {})
    unknown = set(described) - set(features)
    if unknown:
        raise ValueError(f"meta: features {sorted(unknown)} are not among {features}")
    feats = []
    for j, name in enumerate(features):
        fm = described.get(name, {})
        spread = 6 * (scale[j] if scaler.with_std else 1.0)
        feats.append({
            "name": name,
            "description": fm.get("description", name),
            "unit": fm.get("unit", ""),
            "min_exclusive": fm.get("min_exclusive", round6(mean[j] - spread)),
            "max": fm.get("max", round6(mean[j] + spread)),
        })
    examples = meta.get("examples", {})
    for c, row in examples.items():
        if c not in classes or len(row) != n:
            raise ValueError(f"meta: examples.{c}: want one of {classes} with {n} values")

    target = meta.get("target", "class")
    doc = {
        "name": meta.get("name", f"{target}-sklearn"),
        "title": meta.get("title", f"{target.capitalize()} predictor"),
        "description": meta.get("description", ""),
        "version": "",
        "algorithm": f"scikit-learn {kind} LogisticRegression (C={lr.C}, solver={lr.solver}) on StandardScaler",
        "source": {"tool": f"scikit-learn {sklearn.__version__}"},
        "target": target,
        "features": feats,
        "classes": classes,
        "examples": examples,
        "mean": mean,
        "scale": scale,
        "weights": weights,
        "bias": bias,
        "metrics": meta.get("metrics", {}),
    }
    # The version is a hash of everything else, as cmd/train makes it.
    doc["version"] = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:12]
    return doc


def round6(x):
    return float(f"{x:.6g}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="the fitted pipeline, saved with joblib.dump")
    p.add_argument("--features", required=True, help="the feature names, comma-separated, in the pipeline's column order")
    p.add_argument("--out", default="functions/predict/model/model.json", help="where to write model.json (default: what the function embeds)")
    p.add_argument("--meta", help="a JSON file: name, title, description, target, features, examples, metrics")
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
        doc = export(joblib.load(args.model), [s.strip() for s in args.features.split(",")], args.out, meta)
    except ValueError as e:
        print(f"export_sklearn: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: {len(doc['features'])} features, classes {doc['classes']}, version {doc['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
