"""The training data: read from a CSV or a DataFrame, and what the export
takes from it (each feature's description, range and type as model.json
says them, the API's field names, typical rows for examples)."""

import math
import re


def round6(x):
    return float(f"{x:.6g}")


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
