"""The preparation steps of a scikit-learn pipeline, as model.json's "prepare".

Every step served works on one column at a time, so the preparation is
flattened into the columns the estimator sees, each a chain of steps over one
input feature. A number's chain becomes the Go side's arithmetic (impute,
then each scaler's, as scikit-learn's transform writes it); a category's is
probed through the fitted steps themselves, for each of its values, a
missing one and one never seen, so the table holds exactly what
scikit-learn computes (and where it raises, the API refuses).
"""

import math
import warnings

SERVED = ("ColumnTransformer (column names or indices, remainder drop or passthrough, nested Pipelines), "
          "SimpleImputer (mean, median, most_frequent, constant), OneHotEncoder, OrdinalEncoder, StandardScaler, "
          "MinMaxScaler, RobustScaler, MaxAbsScaler and passthrough")
SCALERS = ("StandardScaler", "MinMaxScaler", "RobustScaler", "MaxAbsScaler")
ENCODERS = ("OneHotEncoder", "OrdinalEncoder")
UNSEEN_TEXT = "\x00a category never seen"


class Link:
    """One step of a column's chain: the fitted step, which of its input
    columns this is, and which of its outputs."""

    def __init__(self, step, i, n_in, out):
        self.step, self.i, self.n_in, self.out = step, i, n_in, out

    @property
    def name(self):
        return type(self.step).__name__


class Col:
    def __init__(self, feature, chain=()):
        self.feature, self.chain = feature, list(chain)

    def then(self, link):
        return Col(self.feature, self.chain + [link])


def refuse(what, why=""):
    raise ValueError(f"{what}{': ' + why if why else ''}; served are {SERVED}")


def flatten(steps, features):
    """The estimator's columns after steps (fitted), from the input features."""
    cols = [Col(f) for f in features]
    for step in steps:
        cols = through(step, cols, features)
    return cols


def through(step, cols, names):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if step is None or (isinstance(step, str) and step == "passthrough"):
        return cols
    if isinstance(step, str) and step == "drop":
        return []
    if isinstance(step, Pipeline):
        for _, s in step.steps:
            cols = through(s, cols, names)
        return cols
    if isinstance(step, ColumnTransformer):
        return column_transformer(step, cols)
    name = type(step).__name__
    n = len(cols)
    if getattr(step, "n_features_in_", n) != n:
        refuse(f"{name} fitted on {step.n_features_in_} columns, given {n}")
    if name == "SimpleImputer":
        if getattr(step, "add_indicator", False):
            refuse("SimpleImputer(add_indicator=True)", "its indicator columns are not supported")
        mv = step.missing_values
        if not (mv is None or (isinstance(mv, float) and math.isnan(mv))):
            refuse(f"SimpleImputer(missing_values={mv!r})", "only missing_values=np.nan (a blank) is supported")
        stats = step.statistics_
        for k, s in enumerate(stats):
            if isinstance(s, float) and math.isnan(s):
                refuse(f"SimpleImputer on {cols[k].feature}", "it was all blank in training, so the imputer drops it; "
                       "leave the column out")
        return [c.then(Link(step, k, n, k)) for k, c in enumerate(cols)]
    if name in SCALERS:
        if name == "MinMaxScaler" and step.clip:
            refuse("MinMaxScaler(clip=True)")
        return [c.then(Link(step, k, n, k)) for k, c in enumerate(cols)]
    if name == "OrdinalEncoder":
        return [c.then(Link(step, k, n, k)) for k, c in enumerate(cols)]
    if name == "OneHotEncoder":
        outs = step._n_features_outs  # per input column, after drop and infrequent grouping
        out, start = [], 0
        for k, c in enumerate(cols):
            out += [c.then(Link(step, k, n, start + j)) for j in range(outs[k])]
            start += outs[k]
        return out
    refuse(f"a {name} step")


def column_transformer(ct, cols):
    import numpy as np

    names = list(getattr(ct, "feature_names_in_", [c.feature for c in cols]))
    out = []
    for label, trans, spec in ct.transformers_:
        if isinstance(trans, str) and trans == "drop":
            continue
        idx = np.arange(len(cols))
        if isinstance(spec, str):
            spec = [spec]
        if callable(spec):
            refuse(f"ColumnTransformer {label!r} with a callable column selector")
        if isinstance(spec, slice):
            picked = list(idx[spec])
        else:
            spec = list(spec) if not np.isscalar(spec) else [spec]
            if len(spec) and all(isinstance(s, (bool, np.bool_)) for s in spec):
                picked = [i for i, keep in zip(idx, spec) if keep]
            else:
                picked = [names.index(s) if isinstance(s, str) else int(s) for s in spec]
        if not picked:
            continue
        out += through(trans, [cols[i] for i in picked], names)
    return out


def probe_row(cols_in, step, k, value):
    """A row for step with value in column k and, elsewhere, a value the
    step takes (its first category, its statistic, 0)."""
    import numpy as np

    row = []
    for j in range(cols_in):
        if j == k:
            row.append(value)
        elif hasattr(step, "categories_"):
            row.append(next(c for c in step.categories_[j] if not is_missing(c)))
        elif hasattr(step, "statistics_"):
            row.append(step.statistics_[j])
        else:
            row.append(0.0)
    text = any(isinstance(v, str) for v in row) or any(c.dtype == object for c in getattr(step, "categories_", []))
    return np.array([row], dtype=object if text else np.float64)


def run(chain, value, cache):
    """The value of a category through its chain, as scikit-learn computes
    it; None where a step raises (an unknown category refused, a missing
    value no step takes). cache keeps each step's whole output row for an
    input: a one-hot encoder's columns of one feature share them, so a
    feature of k values costs k + 2 transforms per step, not k times that."""
    v = value
    for link in chain:
        key = (id(link.step), link.i, repr(v))
        if key not in cache:
            cache[key] = transform_one(link, v)
        row = cache[key]
        if row is None:
            return None
        v = row[link.out]
        if hasattr(v, "item"):
            v = v.item()
    return float(v)


def transform_one(link, v):
    """The step's output row for v in its column, or None where it raises."""
    import scipy.sparse

    X = probe_row(link.n_in, link.step, link.i, v)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = link.step.transform(X)
    except ValueError:
        return None
    if scipy.sparse.issparse(out):
        out = out.toarray()
    return out[0]


def is_missing(v):
    return v is None or (isinstance(v, float) and math.isnan(v))


def category_values(name, chains):
    """A category feature's values: its encoders' categories (sorted, as
    they keep them), then what an imputer fills in that they lack; numbers
    as floats."""
    values, fills = [], []
    for chain in chains:
        for link in chain:
            if link.name in ENCODERS:
                values += list(link.step.categories_[link.i])
            elif link.name == "SimpleImputer":
                fills.append(link.step.statistics_[link.i])
    values += fills
    out = []
    for v in values:
        if hasattr(v, "item"):
            v = v.item()
        if is_missing(v):
            continue
        if isinstance(v, bool):
            raise ValueError(f"feature {name}: its categories are booleans ({v!r}), which a request cannot send as a "
                             "category; fit on the column as 0/1 (astype(int)) or as text (astype(str))")
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            v = float(v)
        if v not in out:
            out.append(v)
    kinds = {isinstance(v, str) for v in out}
    if len(kinds) > 1:
        raise ValueError(f"categories {out[:6]} mix strings and numbers")
    return out


def number_column(feature, chain):
    """A number's column: the imputer's statistic, then each scaler as
    scikit-learn computes it."""
    col = {"feature": feature}
    ops = []
    for link in chain:
        s, i, name = link.step, link.i, link.name
        if name == "SimpleImputer":
            if ops:
                refuse(f"{feature}: a SimpleImputer after a scaler", "put the imputer first")
            if "impute" not in col:
                col["impute"] = float(s.statistics_[i])
        elif name == "StandardScaler":
            ops.append({"sub_div": [float(s.mean_[i]) if s.with_mean else 0.0,
                                    float(s.scale_[i]) if s.scale_ is not None else 1.0]})
        elif name == "RobustScaler":
            ops.append({"sub_div": [float(s.center_[i]) if s.with_centering else 0.0,
                                    float(s.scale_[i]) if s.with_scaling else 1.0]})
        elif name == "MaxAbsScaler":
            ops.append({"sub_div": [0.0, float(s.scale_[i])]})
        elif name == "MinMaxScaler":
            ops.append({"mul_add": [float(s.scale_[i]), float(s.min_[i])]})
    if ops:
        col["ops"] = ops
    return col


def unseen(values):
    if values and not isinstance(values[0], str):
        return max(values) + 1e6 + 0.5
    return UNSEEN_TEXT


def prepare(steps, features, routes, native=None):
    """model.json's features' types and its "prepare", for the fitted steps
    in front of the estimator: (types, prepare or None). types maps each
    feature the steps use to {"type", "categories", "missing", "unknown"};
    a feature the steps drop is not in it. native maps the estimator's
    columns it splits on as categories itself to their values, the codes
    it saw for them and what it reads for one never seen;
    routes says whether it takes missing values (NaN) itself."""
    cols = flatten(steps, features)
    native = native or {}
    by_feature = {}
    for k, c in enumerate(cols):
        by_feature.setdefault(c.feature, []).append((k, c))
    types, out, cache = {}, [], {}
    for name in features:
        mine = by_feature.get(name)
        if not mine:
            continue
        encoded = [any(link.name in ENCODERS for link in c.chain) for _, c in mine]
        nat = [k for k, _ in mine if k in native]
        if any(encoded) and not all(encoded):
            raise ValueError(f"feature {name} is both encoded as a category and used as a number: not supported")
        if not any(encoded) and not nat:
            imputed = all("impute" in number_column(name, c.chain) for _, c in mine)
            types[name] = {"type": "number", "missing": "imputed" if imputed else ("routed" if routes else "refused")}
            continue
        if nat and not any(encoded):
            if any(c.chain for _, c in mine):
                refuse(f"{name}: a step in front of a native categorical split")
            values = native[nat[0]]["values"]
        else:
            values = category_values(name, [c.chain for _, c in mine])
        types[name] = {"type": "category", "categories": values}
    missing_words, unknown_words = {}, {}
    for k, c in enumerate(cols):
        t = types[c.feature]
        if t["type"] == "number":
            out.append(number_column(c.feature, c.chain))
            continue
        values = t["categories"]
        if k in native and not c.chain:
            # Trees that split on the raw category: its code, as the
            # library saw it in training.
            col = {"feature": c.feature, "table": native[k]["codes"], "missing": "NaN", "unknown": native[k]["unknown"]}
            missing_words.setdefault(c.feature, []).append("routed")
            unknown_words.setdefault(c.feature, []).append("routed like a missing value")
        else:
            col = {"feature": c.feature, "table": [run(c.chain, v, cache) for v in values]}
            if any(v is None for v in col["table"]):
                bad = values[col["table"].index(None)]
                raise ValueError(f"feature {c.feature}: its steps refuse its own category {bad!r}")
            if sorted(col["table"]) == [0.0] * (len(values) - 1) + [1.0]:
                # A one-hot column: its category's index, not k numbers.
                col = {"feature": c.feature, "one_hot": col["table"].index(1.0)}
            m, u = run(c.chain, math.nan, cache), run(c.chain, unseen(values), cache)
            if not routes:  # a NaN the estimator cannot take: scikit-learn would raise there
                m = None if m is not None and math.isnan(m) else m
                u = None if u is not None and math.isnan(u) else u
            # model.json writes NaN as the string "NaN" (JSON has no NaN).
            if m is not None:
                col["missing"] = "NaN" if math.isnan(m) else m
            if u is not None:
                col["unknown"] = "NaN" if math.isnan(u) else u
            missing_words.setdefault(c.feature, []).append(
                "refused" if m is None else ("imputed" if any(link.name == "SimpleImputer" for link in c.chain) else "category"))
            unknown_words.setdefault(c.feature, []).append("refused" if u is None else unknown_word(c.chain))
        out.append(col)
    for name, words in missing_words.items():
        types[name]["missing"] = "refused" if "refused" in words else words[0]
    for name, words in unknown_words.items():
        types[name]["unknown"] = "refused" if "refused" in words else words[0]
    if not steps and not native:
        return types, None  # each feature its column, as model.json had it before prepare
    return types, out


def unknown_word(chain):
    for link in chain:
        if link.name == "OneHotEncoder":
            return "infrequent" if link.step.handle_unknown == "infrequent_if_exist" else "ignored"
        if link.name == "OrdinalEncoder":
            return "encoded"
    return "accepted"


def is_sparse(steps, row):
    """Whether the steps' output is a sparse matrix (XGBoost reads its
    absent entries, the zeros, as missing values), seen on one row (a
    DataFrame) the steps take."""
    import scipy.sparse
    from sklearn.pipeline import Pipeline

    if not steps:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scipy.sparse.issparse(Pipeline([(f"s{i}", s) for i, s in enumerate(steps)]).transform(row))
