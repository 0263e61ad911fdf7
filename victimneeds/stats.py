"""Statistics for victims' needs assessments: proportions, rates, standardisation, funnels and comparisons.

Tidy in, tidy out, in the manner of PHE's ``PHEindicatormethods``: each table function takes a DataFrame
and column names and returns a *new* frame with the input columns followed by

``value``        the estimate (proportion, rate, standardised rate or ratio, times ``multiplier``);
``lowercl``, ``uppercl``  the confidence limits (with several confidence levels: ``lower95_0cl``,
                 ``upper95_0cl``, ``lower99_8cl``, ``upper99_8cl``, ...);
``confidence``   the confidence level(s) as text, e.g. ``"95%"``;
``statistic``    what ``value`` is, e.g. ``"rate per 1,000"``;
``method``       how the interval was made, e.g. ``"Exact (Garwood 1936)"``.

Array-level functions (:func:`wilson`, :func:`count_interval`) return plain numpy arrays for use inside
other modules.

Summary of methods
------------------
* proportions: Wilson score interval (:func:`wilson`, :func:`proportion`);
* counts and crude rates: exact Poisson in chi-square form, or Byar's approximation
  (:func:`count_interval`, :func:`rate`);
* directly standardised rates: Dobson et al. (1991), not computed when fewer than 10 events (:func:`dsr`);
* indirectly standardised ratios: observed / expected with an exact Poisson interval
  (:func:`expected_counts`, :func:`standardised_ratio`);
* funnel plots: exact binomial / Poisson limits with Spiegelhalter's interpolation, and the
  over-dispersed (multiplicative or additive random-effects) versions (:func:`funnel_limits`,
  :func:`funnel_flags`, :func:`estimate_overdispersion`);
* comparisons: two Poisson counts by the conditional binomial exact test (:func:`compare_counts`), two
  proportions by Newcombe's hybrid score interval (:func:`compare_proportions`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as _st

__all__ = [
    "ESP2013",
    "ESP2013_AGE_BANDS",
    "Overdispersion",
    "compare_counts",
    "compare_proportions",
    "count_interval",
    "dsr",
    "estimate_overdispersion",
    "expected_counts",
    "funnel_flags",
    "funnel_limits",
    "proportion",
    "rate",
    "standardised_ratio",
    "survival_band",
    "wilson",
]

#: European Standard Population 2013 (Eurostat 2013), 19 five-year age bands, summing to 100,000.
ESP2013: pd.Series = pd.Series(
    [5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000, 7000, 6500, 6000, 5500, 5000, 4000, 2500, 1500, 1000],
    index=[f"{a}-{a + 4}" for a in range(0, 90, 5)] + ["90+"],
    name="standard_population",
    dtype=float,
)

#: ESP2013 regrouped to the victimneeds :data:`~victimneeds.datamodel.AGE_BANDS`. The 15-19 band is split
#: evenly by single year (one fifth to 0-15, four fifths to 16-24); the other bands nest exactly.
ESP2013_AGE_BANDS: pd.Series = pd.Series(
    [17100, 10400, 12500, 14000, 14000, 12500, 10500, 9000],
    index=["0-15", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"],
    name="standard_population",
    dtype=float,
)

PoissonMethod = Literal["exact", "byar"]
FunnelKind = Literal["proportion", "ratio", "rate"]

_METHOD_NAMES = {
    "exact": "Exact (Garwood 1936)",
    "byar": "Byar's approximation (Breslow & Day 1987)",
}


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def _confidence(confidence: float) -> float:
    """Confidence as a fraction; accepts 0.95 or 95."""
    c = float(confidence)
    if 1 < c < 100:
        c = c / 100
    if not 0 < c < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95) or a percentage (e.g. 95); got {confidence}")
    return c


def _levels(confidence: float | Sequence[float]) -> list[float]:
    if isinstance(confidence, Iterable) and not isinstance(confidence, str):
        levels = [_confidence(c) for c in confidence]
        if not levels:
            raise ValueError("give at least one confidence level")
        return levels
    return [_confidence(confidence)]  # type: ignore[arg-type]


def _z(confidence: float) -> float:
    return float(_st.norm.ppf(0.5 + _confidence(confidence) / 2))


def _pct(level: float) -> str:
    """0.95 -> '95%', 0.998 -> '99.8%'."""
    return f"{round(level * 100, 6):g}%"


def _cl_names(level: float, several: bool) -> tuple[str, str]:
    if not several:
        return "lowercl", "uppercl"
    tag = f"{level * 100:.1f}".replace(".", "_")
    return f"lower{tag}cl", f"upper{tag}cl"


def _level_tag(level: float) -> str:
    """0.95 -> '95', 0.998 -> '99_8' (for column names)."""
    return f"{round(level * 100, 6):g}".replace(".", "_")


def _rows(mask: np.ndarray, index: pd.Index, k: int = 5) -> str:
    labels = list(index[np.asarray(mask, dtype=bool)][:k])
    return ", ".join(str(x) for x in labels)


def _column(data: pd.DataFrame, col: str, what: str, func: str) -> np.ndarray:
    """A numeric, non-negative column as float (NaN kept); raises a readable error otherwise."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{func}: expected a pandas DataFrame, got {type(data).__name__}")
    if col not in data.columns:
        raise KeyError(f"{func}: the table has no column {col!r} (the {what}); its columns are {list(data.columns)}")
    raw = data[col]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        ex = raw[bad].astype(str).head(3).tolist()
        raise ValueError(
            f"{func}: column {col!r} (the {what}) has {int(bad.sum())} values that are not numbers, e.g. {ex} "
            f"at rows {_rows(bad.to_numpy(), data.index)}"
        )
    arr = values.to_numpy(dtype=float, na_value=np.nan)
    neg = arr < 0
    if neg.any():
        raise ValueError(
            f"{func}: column {col!r} (the {what}) has {int(neg.sum())} negative values at rows "
            f"{_rows(neg, data.index)}; counts and populations cannot be negative"
        )
    return arr


def _maybe_int(values: pd.Series) -> pd.Series:
    """Whole-number floats back to int64 (sums of counts), otherwise unchanged."""
    v = values.to_numpy(dtype=float)
    if np.all(np.isfinite(v)) and np.allclose(v, np.round(v)):
        return values.round().astype("int64")
    return values


def _append(
    out: pd.DataFrame,
    value: np.ndarray,
    limits: dict[float, tuple[np.ndarray, np.ndarray]],
    statistic: str | np.ndarray,
    method: str | np.ndarray,
) -> pd.DataFrame:
    several = len(limits) > 1
    out["value"] = value
    for level, (lo, hi) in limits.items():
        lo_name, hi_name = _cl_names(level, several)
        out[lo_name] = lo
        out[hi_name] = hi
    out["confidence"] = ", ".join(_pct(level) for level in limits)
    out["statistic"] = statistic
    out["method"] = method
    return out


# --------------------------------------------------------------------------------------------------
# Proportions
# --------------------------------------------------------------------------------------------------


def wilson(
    x: np.typing.ArrayLike, n: np.typing.ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wilson score interval for proportions ``x / n``.

    Parameters
    ----------
    x, n : numbers of successes and trials (arrays broadcast together). ``n == 0`` gives NaN.
    confidence : confidence level, 0.95 by default (95 is also accepted).

    Returns
    -------
    (p, lower, upper) : numpy arrays of the proportion and its limits, on the 0-1 scale.

    References
    ----------
    Wilson EB (1927). Probable inference, the law of succession, and statistical inference. JASA 22:209-212.
    Newcombe RG (1998). Two-sided confidence intervals for the single proportion: comparison of seven
    methods. Statistics in Medicine 17:857-872 (method 3).

    Examples
    --------
    >>> p, lo, hi = wilson(3, 10)
    >>> print(round(float(p), 3), round(float(lo), 4), round(float(hi), 4))
    0.3 0.1078 0.6032
    """
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(x < 0) or np.any(n < 0) or np.any(x > n):
        raise ValueError("wilson: need 0 <= x <= n for every proportion")
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, x / n, np.nan)
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        lower = np.where(x == 0, 0.0, np.clip(centre - half, 0, 1))
        upper = np.where(x == n, 1.0, np.clip(centre + half, 0, 1))
    lower = np.where(n > 0, lower, np.nan)
    upper = np.where(n > 0, upper, np.nan)
    return p, lower, upper


def proportion(
    data: pd.DataFrame, x: str, n: str, confidence: float | Sequence[float] = 0.95, multiplier: float = 1
) -> pd.DataFrame:
    """Proportions with Wilson score confidence limits, one per row.

    Parameters
    ----------
    data : table with one row per proportion (aggregate first, e.g. with ``groupby().sum()``).
    x : column of numerators (e.g. victims referred).
    n : column of denominators (e.g. victims with an identified need). Rows with ``n == 0`` get NaN, and so do
        rows whose numerator or denominator is missing (the proportion is not available there).
    confidence : level, or several levels (then the limits are ``lower95_0cl``, ``upper95_0cl``, ...).
    multiplier : 1 for a proportion, 100 for a percentage.

    Returns
    -------
    A copy of ``data`` with ``value, lowercl, uppercl, confidence, statistic, method`` appended.

    References
    ----------
    Wilson EB (1927). JASA 22:209-212. Newcombe RG (1998). Statistics in Medicine 17:857-872.

    Examples
    --------
    >>> t = pd.DataFrame({"district": ["A", "B"], "referred": [30, 0], "victims": [100, 20]})
    >>> proportion(t, "referred", "victims", multiplier=100).round(2)[["district", "value", "lowercl", "uppercl"]]
      district  value  lowercl  uppercl
    0        A   30.0    21.89    39.58
    1        B    0.0     0.00    16.11
    """
    xs = _column(data, x, "numerator", "proportion")
    ns = _column(data, n, "denominator", "proportion")
    over = xs > ns
    if over.any():
        raise ValueError(
            f"proportion: column {x!r} is larger than column {n!r} in {int(over.sum())} rows "
            f"({_rows(over, data.index)}); a numerator cannot exceed its denominator"
        )
    out = data.copy()
    # a missing numerator or denominator makes the proportion unknown: NaN value and limits for that row
    # (filling 0 for both would pass through wilson as n = 0, but 0 for one and a number for the other would not)
    missing = np.isnan(xs) | np.isnan(ns)
    xs_known = np.where(missing, 0.0, xs)
    ns_known = np.where(missing, 0.0, ns)
    limits = {}
    p = np.full(len(out), np.nan)
    for level in _levels(confidence):
        p, lo, hi = wilson(xs_known, ns_known, level)
        limits[level] = (np.where(missing, np.nan, lo) * multiplier, np.where(missing, np.nan, hi) * multiplier)
        p = np.where(missing, np.nan, p)
    stat = "percentage" if multiplier == 100 else f"proportion of {multiplier:g}"
    return _append(out, p * multiplier, limits, stat, "Wilson")


# --------------------------------------------------------------------------------------------------
# Counts and rates
# --------------------------------------------------------------------------------------------------


def count_interval(
    x: np.typing.ArrayLike, confidence: float = 0.95, method: PoissonMethod = "exact"
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence limits for a Poisson count.

    ``exact``: the chi-square form of the exact interval, lower = chi2(alpha/2; 2x) / 2 and
    upper = chi2(1 - alpha/2; 2x + 2) / 2 (lower = 0 when x = 0).
    ``byar``: Byar's approximation, lower = x (1 - 1/(9x) - z/(3 sqrt x))^3 and
    upper = (x + 1) (1 - 1/(9(x + 1)) + z/(3 sqrt(x + 1)))^3.

    Parameters
    ----------
    x : counts (non-negative; need not be whole numbers, e.g. weighted counts).
    confidence : confidence level.
    method : ``"exact"`` or ``"byar"``.

    Returns
    -------
    (lower, upper) : numpy arrays.

    References
    ----------
    Garwood F (1936). Fiducial limits for the Poisson distribution. Biometrika 28:437-442.
    Breslow NE, Day NE (1987). Statistical Methods in Cancer Research, vol. II. IARC, p.69 (Byar's method).

    Examples
    --------
    >>> lo, hi = count_interval(10)
    >>> print(round(float(lo), 4), round(float(hi), 4))
    4.7954 18.3904
    """
    x = np.asarray(x, dtype=float)
    if np.any(x < 0):
        raise ValueError("count_interval: counts cannot be negative")
    conf = _confidence(confidence)
    alpha = 1 - conf
    if method == "exact":
        with np.errstate(invalid="ignore"):
            lower = np.where(x > 0, _st.chi2.ppf(alpha / 2, 2 * np.maximum(x, 1e-300)) / 2, 0.0)
            upper = _st.chi2.ppf(1 - alpha / 2, 2 * x + 2) / 2
    elif method == "byar":
        z = _z(conf)
        with np.errstate(divide="ignore", invalid="ignore"):
            lower = np.where(x > 0, x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3, 0.0)
            upper = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * np.sqrt(x + 1))) ** 3
        lower = np.maximum(lower, 0.0)
    else:
        raise ValueError(f"method must be 'exact' or 'byar', got {method!r}")
    nan = np.isnan(x)
    return np.where(nan, np.nan, lower), np.where(nan, np.nan, upper)


def rate(
    data: pd.DataFrame,
    x: str,
    denominator: str,
    multiplier: float = 1000,
    confidence: float | Sequence[float] = 0.95,
    method: PoissonMethod = "exact",
) -> pd.DataFrame:
    """Crude rates (e.g. crimes per 1,000 residents) with Poisson confidence limits.

    Parameters
    ----------
    data : one row per rate.
    x : column of counts (events).
    denominator : column of population (or person-time). A zero denominator gives NaN when the count is
        also zero, and an error otherwise.
    multiplier : rate per this many (1,000 by default).
    confidence : level or levels.
    method : ``"exact"`` (Garwood 1936) or ``"byar"`` (Breslow & Day 1987).

    Returns
    -------
    A copy of ``data`` with ``value, lowercl, uppercl, confidence, statistic, method`` appended.

    References
    ----------
    Garwood F (1936). Biometrika 28:437-442. Breslow NE, Day NE (1987). Statistical Methods in Cancer
    Research, vol. II. IARC.

    Examples
    --------
    >>> t = pd.DataFrame({"district": ["A"], "crimes": [10], "population": [2000]})
    >>> rate(t, "crimes", "population").round(4)[["value", "lowercl", "uppercl", "statistic"]]
       value  lowercl  uppercl       statistic
    0    5.0   2.3977   9.1952  rate per 1,000
    """
    xs = _column(data, x, "count", "rate")
    ns = _column(data, denominator, "denominator", "rate")
    bad = (ns == 0) & (xs > 0)
    if bad.any():
        raise ValueError(
            f"rate: column {denominator!r} is zero where column {x!r} is not, in rows {_rows(bad, data.index)}; "
            "a rate needs a positive population"
        )
    out = data.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(ns > 0, multiplier / ns, np.nan)
    limits = {}
    for level in _levels(confidence):
        lo, hi = count_interval(xs, level, method)
        limits[level] = (lo * scale, hi * scale)
    return _append(out, xs * scale, limits, f"rate per {multiplier:,g}", _METHOD_NAMES[method])


# --------------------------------------------------------------------------------------------------
# Standardisation
# --------------------------------------------------------------------------------------------------


def _as_list(cols: str | Sequence[str] | None) -> list[str]:
    if cols is None:
        return []
    return [cols] if isinstance(cols, str) else list(cols)


def dsr(
    data: pd.DataFrame,
    x: str,
    n: str,
    standard_population: str | pd.Series | Sequence[float],
    group_by: str | Sequence[str] | None = None,
    multiplier: float = 100000,
    confidence: float | Sequence[float] = 0.95,
    method: PoissonMethod = "exact",
    strata: str | None = None,
    min_count: int = 10,
    missing: Literal["propagate", "exclude"] = "propagate",
) -> pd.DataFrame:
    """Directly standardised rates with Dobson confidence limits, one row per group.

    DSR = sum(w_i x_i / n_i) / sum(w_i), where w_i is the standard population of stratum i. Its limits
    are DSR + sqrt(var(DSR) / O) (O_lim - O), with O the total count, O_lim the Poisson limits of O and
    var(DSR) = sum(w_i^2 x_i / n_i^2) / sum(w_i)^2 (Dobson et al. 1991). Groups with fewer than
    ``min_count`` (10) events are kept, with NaN value and limits and a ``note`` saying why. The lower
    limit is truncated at 0: Dobson's approximation can fall below zero when a few strata with very small
    populations carry most of the variance.

    A stratum whose count or population is missing (NaN) is never read as zero. By default
    (``missing="propagate"``) its group's rate, limits, total count and total population are NaN, with a
    ``note``; with ``missing="exclude"`` the stratum is left out of its group (its count, population and
    standard weight), the rate is standardised over the strata that remain, and the note says how many were
    left out. ``strata_missing`` counts them either way.

    Parameters
    ----------
    data : long table, one row per group and stratum (e.g. district x age band).
    x : column of counts per stratum.
    n : column of population per stratum. A zero population is allowed only with a zero count (it adds
        nothing to the rate).
    standard_population : the standard weights, as (a) a column name in ``data``; (b) a Series indexed by
        the values of the ``strata`` column (e.g. :data:`ESP2013_AGE_BANDS` with ``strata="age_band"``);
        or (c) a sequence applied in row order within every group.
    group_by : column(s) defining the groups (None: the whole table is one group).
    multiplier : rate per this many (100,000 by default).
    confidence, method : level(s), and ``"exact"`` or ``"byar"`` limits for the total count.
    strata : the stratum column, needed when ``standard_population`` is a Series.
    min_count : smallest total count for which a DSR is computed.
    missing : ``"propagate"`` (a group with a missing count or population in any stratum gets no rate) or
        ``"exclude"`` (those strata are left out of their group and counted in ``strata_missing``).

    Returns
    -------
    One row per group: the group columns, ``total_count``, ``total_pop``, ``strata_missing``, ``value,
    lowercl, uppercl, confidence, statistic, method`` and ``note``.

    References
    ----------
    Dobson AJ, Kuulasmaa K, Eberle E, Scherer J (1991). Confidence intervals for weighted sums of Poisson
    parameters. Statistics in Medicine 10:457-462.
    Eurostat (2013). Revision of the European Standard Population.

    Examples
    --------
    >>> t = pd.DataFrame({"district": ["A", "A", "B", "B"], "band": ["young", "old"] * 2,
    ...                   "victims": [30, 10, 3, 2], "pop": [1000, 2000, 500, 500]})
    >>> std = pd.Series({"young": 50000.0, "old": 50000.0})
    >>> r = dsr(t, "victims", "pop", std, group_by="district", strata="band", multiplier=1000)
    >>> r[["district", "total_count", "value", "note"]].round(2)  # doctest: +NORMALIZE_WHITESPACE
      district  total_count  value                                  note
    0        A           40   17.5
    1        B            5    NaN  not calculated: fewer than 10 events
    """
    if missing not in ("propagate", "exclude"):
        raise ValueError(f"dsr: missing must be 'propagate' or 'exclude', got {missing!r}")
    groups = _as_list(group_by)
    xs = _column(data, x, "count", "dsr")
    ns = _column(data, n, "population", "dsr")
    bad = (ns == 0) & (xs > 0)
    if bad.any():
        raise ValueError(f"dsr: column {n!r} is zero where column {x!r} is not, in rows {_rows(bad, data.index)}")
    for g in groups:
        if g not in data.columns:
            raise KeyError(f"dsr: the table has no group column {g!r}; its columns are {list(data.columns)}")
    work = pd.DataFrame({"_x": xs, "_n": ns}, index=data.index)
    for g in groups:
        work[g] = data[g].to_numpy()
    key = groups if groups else (lambda _: 0)
    if isinstance(standard_population, str):
        work["_w"] = _column(data, standard_population, "standard population", "dsr")
    elif isinstance(standard_population, pd.Series):
        if strata is None or strata not in data.columns:
            raise ValueError(
                "dsr: a standard population given as a Series needs strata= naming the stratum column "
                "whose values match its index (e.g. strata='age_band')"
            )
        w = data[strata].map(standard_population)
        miss = w.isna().to_numpy()
        if miss.any():
            ex = sorted(set(data.loc[miss, strata].astype(str)))[:5]
            raise ValueError(
                f"dsr: {int(miss.sum())} rows have a {strata!r} value with no standard population, "
                f"e.g. {ex}; the standard population covers {list(standard_population.index)}"
            )
        work["_w"] = w.to_numpy(dtype=float)
    else:
        std = np.asarray(standard_population, dtype=float)
        sizes = work.groupby(key, sort=False).size()
        if (sizes != len(std)).any():
            raise ValueError(
                f"dsr: the standard population has {len(std)} values but the groups have "
                f"{sorted(set(sizes.tolist()))} rows; each group needs one row per stratum"
            )
        order = work.groupby(key, sort=False).cumcount().to_numpy()
        work["_w"] = std[order]
    if (work["_w"] < 0).any():
        raise ValueError("dsr: the standard population cannot be negative")
    no_weight = work["_w"].isna().to_numpy()
    if no_weight.any():
        raise ValueError(
            f"dsr: the standard population is missing in {int(no_weight.sum())} rows ({_rows(no_weight, data.index)})"
        )
    # a stratum with a missing count or population is unknown, never zero: flag it, and in "exclude" mode drop
    # its count, population and weight from the group; in "propagate" mode its group gets no rate
    gap = (work["_x"].isna() | work["_n"].isna()).to_numpy()
    work["_gap"] = gap.astype("int64")
    if missing == "exclude":
        work.loc[gap, ["_x", "_n", "_w"]] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        work["_r"] = np.where(work["_n"] > 0, work["_x"] / work["_n"], 0.0)
        work["_v"] = np.where(work["_n"] > 0, work["_x"] / work["_n"] ** 2, 0.0)
    work["_wr"] = work["_w"] * work["_r"]
    work["_w2v"] = work["_w"] ** 2 * work["_v"]
    agg = work.groupby(key, sort=True, dropna=False)[["_x", "_n", "_w", "_wr", "_w2v", "_gap"]].sum()
    if groups:
        out = agg.reset_index()
    else:
        out = agg.reset_index(drop=True)
    out = out.rename(columns={"_x": "total_count", "_n": "total_pop", "_gap": "strata_missing"})
    n_gap = out["strata_missing"].to_numpy()
    unknown = (n_gap > 0) if missing == "propagate" else np.zeros(len(out), dtype=bool)
    for c in ("total_count", "total_pop"):
        out[c] = _maybe_int(out[c].where(~unknown))
    total = out["total_count"].to_numpy(dtype=float)
    sw = out["_w"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = out["_wr"].to_numpy(dtype=float) / sw
        var = out["_w2v"].to_numpy(dtype=float) / sw**2
    ok = ~unknown & (total >= min_count) & (sw > 0)
    limits = {}
    for level in _levels(confidence):
        lo_o, hi_o = count_interval(total, level, method)
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.sqrt(var / total)
        limits[level] = (
            np.where(ok, np.maximum(value + k * (lo_o - total), 0.0), np.nan) * multiplier,
            np.where(ok, value + k * (hi_o - total), np.nan) * multiplier,
        )
    out = out.drop(columns=["_w", "_wr", "_w2v"])
    out = _append(
        out,
        np.where(ok, value, np.nan) * multiplier,
        limits,
        f"dsr per {multiplier:,g}",
        f"Dobson, {_METHOD_NAMES[method]}",
    )
    notes = []
    for k, unk, good, w in zip(n_gap, unknown, ok, sw, strict=True):
        if unk:
            notes.append(f"not calculated: count or population missing in {k} strata")
            continue
        note = "" if good else (
            f"not calculated: fewer than {min_count} events" if w > 0 else "not calculated: no stratum left"
        )
        if k > 0:
            left = f"{k} strata with a missing count or population left out"
            note = f"{note}; {left}" if note else left
        notes.append(note)
    out["note"] = notes
    return out


def expected_counts(
    data: pd.DataFrame,
    x: str,
    n: str,
    by: str | Sequence[str],
    strata: str | Sequence[str],
    reference: pd.Series | None = None,
) -> pd.DataFrame:
    """Observed and expected counts for indirect standardisation.

    The expected count of a group is sum over strata of (its population x the reference rate of the
    stratum). Reference rates are, by default, those of the whole table (sum of ``x`` / sum of ``n`` per
    stratum, i.e. the force-area average); or give them as ``reference``, a Series of rates per person
    indexed by stratum (for example national rates).

    Parameters
    ----------
    data : long table, one row per group and stratum.
    x, n : count and population columns.
    by : column(s) defining the groups to compare (e.g. ``district_code``).
    strata : column(s) to standardise for (e.g. ``["sex", "age_band"]``).
    reference : optional reference rates per person, indexed by the stratum values.

    Returns
    -------
    One row per group: the ``by`` columns, ``observed``, ``expected``, ``population`` and ``method``.

    References
    ----------
    Breslow NE, Day NE (1987). Statistical Methods in Cancer Research, vol. II, ch. 2. IARC.

    Examples
    --------
    >>> t = pd.DataFrame({"district": ["A", "A", "B", "B"], "band": ["young", "old"] * 2,
    ...                   "victims": [30, 10, 10, 30], "pop": [1000, 1000, 1000, 3000]})
    >>> expected_counts(t, "victims", "pop", by="district", strata="band")[["district", "observed", "expected"]]
      district  observed  expected
    0        A        40      30.0
    1        B        40      50.0
    """
    by_cols, strata_cols = _as_list(by), _as_list(strata)
    for c in by_cols + strata_cols:
        if c not in data.columns:
            raise KeyError(f"expected_counts: the table has no column {c!r}; its columns are {list(data.columns)}")
    work = data[by_cols + strata_cols].copy()
    work["_x"] = _column(data, x, "count", "expected_counts")
    work["_n"] = _column(data, n, "population", "expected_counts")
    if reference is None:
        ref = work.groupby(strata_cols, observed=True)[["_x", "_n"]].sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            ref_rate = ref["_x"] / ref["_n"]
        how = "indirect standardisation: reference rates from the whole table"
    else:
        ref_rate = pd.Series(reference, dtype=float)
        how = "indirect standardisation: reference rates supplied"
    key = pd.MultiIndex.from_frame(work[strata_cols]) if len(strata_cols) > 1 else pd.Index(work[strata_cols[0]])
    rates = ref_rate.reindex(key).to_numpy(dtype=float)
    miss = np.isnan(rates) & (work["_n"].to_numpy() > 0)
    if miss.any():
        ex = sorted({str(k) for k in key[miss]})[:5]
        raise ValueError(f"expected_counts: no reference rate for {int(miss.sum())} rows, strata e.g. {ex}")
    work["_e"] = np.nan_to_num(rates) * work["_n"].to_numpy()
    out = work.groupby(by_cols, observed=True, sort=True)[["_x", "_e", "_n"]].sum().reset_index()
    out = out.rename(columns={"_x": "observed", "_e": "expected", "_n": "population"})
    for c in ("observed", "population"):
        out[c] = _maybe_int(out[c])
    out["method"] = how
    return out


def standardised_ratio(
    data: pd.DataFrame,
    observed: str,
    expected: str,
    confidence: float | Sequence[float] = 0.95,
    method: PoissonMethod = "exact",
    multiplier: float = 1,
) -> pd.DataFrame:
    """Indirectly standardised ratios (observed / expected) with Poisson limits for the observed count.

    Parameters
    ----------
    data : one row per unit, with observed and expected counts (see :func:`expected_counts`).
    observed, expected : column names.
    confidence, method : level(s); ``"exact"`` or ``"byar"`` limits for the observed count.
    multiplier : 1 for a ratio, 100 for the usual "SMR x 100".

    Returns
    -------
    A copy of ``data`` with ``value, lowercl, uppercl, confidence, statistic, method`` appended.

    References
    ----------
    Breslow NE, Day NE (1987). Statistical Methods in Cancer Research, vol. II. IARC.

    Examples
    --------
    >>> t = pd.DataFrame({"district": ["A"], "observed": [10], "expected": [8.0]})
    >>> standardised_ratio(t, "observed", "expected").round(4)[["value", "lowercl", "uppercl"]]
       value  lowercl  uppercl
    0   1.25   0.5994   2.2988
    """
    o = _column(data, observed, "observed count", "standardised_ratio")
    e = _column(data, expected, "expected count", "standardised_ratio")
    bad = (e == 0) & (o > 0)
    if bad.any():
        raise ValueError(f"standardised_ratio: expected count is zero in rows {_rows(bad, data.index)}")
    out = data.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(e > 0, multiplier / e, np.nan)
    limits = {}
    for level in _levels(confidence):
        lo, hi = count_interval(o, level, method)
        limits[level] = (lo * scale, hi * scale)
    stat = "indirectly standardised ratio" + ("" if multiplier == 1 else f" x {multiplier:g}")
    return _append(out, o * scale, limits, stat, _METHOD_NAMES[method])


# --------------------------------------------------------------------------------------------------
# Funnel plots
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overdispersion:
    """Estimated over-dispersion of a set of units around a target (Spiegelhalter 2005).

    Attributes
    ----------
    method : ``"multiplicative"`` (limits scaled by sqrt(phi)) or ``"additive"`` (random effects, limits
        from sqrt(s^2 + tau2)).
    phi : mean of squared winsorised z-scores.
    tau2 : DerSimonian-Laird between-unit variance, in the units of the indicator (times ``multiplier``).
    n_units : number of units used.
    winsor : fraction winsorised at each end.
    p_value : chi-square test of no over-dispersion (I phi on I - 1 degrees of freedom).
    multiplier : the scale ``tau2`` is on.
    """

    method: Literal["multiplicative", "additive"]
    phi: float
    tau2: float
    n_units: int
    winsor: float
    p_value: float
    multiplier: float = 1.0

    @property
    def adjusts(self) -> bool:
        """True when the limits are widened (phi > 1, or tau2 > 0 for the additive model)."""
        return self.phi > 1 if self.method == "multiplicative" else self.tau2 > 0

    def describe(self) -> str:
        if not self.adjusts:
            return f"no over-dispersion found (phi = {self.phi:.3g})"
        if self.method == "multiplicative":
            return f"multiplicative over-dispersion, phi = {self.phi:.3g}"
        return f"additive random-effects over-dispersion, tau2 = {self.tau2:.3g} (phi = {self.phi:.3g})"


def _winsorise(z: np.ndarray, fraction: float) -> np.ndarray:
    """Replace the floor(fraction * I) smallest and largest values by the next value inwards."""
    z = np.asarray(z, dtype=float)
    k = int(np.floor(fraction * len(z)))
    if k == 0:
        return z.copy()
    order = np.sort(z)
    return np.clip(z, order[k], order[len(z) - 1 - k])


def estimate_overdispersion(
    z: np.typing.ArrayLike,
    s: np.typing.ArrayLike,
    method: Literal["multiplicative", "additive"] = "additive",
    winsor: float = 0.1,
    multiplier: float = 1.0,
) -> Overdispersion:
    """Over-dispersion factor phi and the DerSimonian-Laird tau-squared, after winsorising the z-scores.

    phi = (1/I) sum z_i^2 over winsorised z-scores. For the additive model,
    tau2 = max(0, (I phi - (I - 1)) / (sum w_i - sum w_i^2 / sum w_i)), with w_i = 1 / s_i^2.

    Parameters
    ----------
    z : z-scores of the units, (y_i - target) / s_i.
    s : standard errors of the units under the target, s_i.
    method : ``"multiplicative"`` or ``"additive"``.
    winsor : fraction of z-scores shrunk at each end (0.1, as Spiegelhalter recommends).
    multiplier : the scale of ``y`` (recorded so limits can be rescaled).

    References
    ----------
    Spiegelhalter DJ (2005). Handling over-dispersion of performance indicators. Quality and Safety in
    Health Care 14:347-351. DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Controlled
    Clinical Trials 7:177-188.

    Examples
    --------
    >>> od = estimate_overdispersion([-2.0, -1.0, 0.0, 1.0, 2.0], [0.1] * 5, winsor=0)
    >>> print(od.phi, round(od.tau2, 4))
    2.0 0.015
    """
    z = np.asarray(z, dtype=float)
    s = np.asarray(s, dtype=float)
    keep = np.isfinite(z) & np.isfinite(s) & (s > 0)
    z, s = z[keep], s[keep]
    units = len(z)
    if units < 2:
        raise ValueError(
            "estimate_overdispersion: need at least two units with a denominator to estimate over-dispersion"
        )
    zw = _winsorise(z, winsor)
    phi = float(np.mean(zw**2))
    w = 1 / s**2
    tau2 = max(0.0, (units * phi - (units - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    p = float(_st.chi2.sf(units * phi, units - 1))
    if method not in ("multiplicative", "additive"):
        raise ValueError(f"over-dispersion method must be 'multiplicative' or 'additive', got {method!r}")
    return Overdispersion(method, phi, float(tau2), units, winsor, p, float(multiplier))


def _null_se(kind: str, target: float, denominators: np.ndarray, multiplier: float) -> np.ndarray:
    """Standard error of y = x / n * multiplier under the target, in the units of y."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "proportion":
            p0 = target / multiplier
            return np.sqrt(p0 * (1 - p0) / denominators) * multiplier
        return np.sqrt(target * multiplier / denominators)


def _check_kind(kind: str, target: float, multiplier: float) -> None:
    if kind not in ("proportion", "ratio", "rate"):
        raise ValueError(f"kind must be 'proportion', 'ratio' or 'rate', got {kind!r}")
    if kind == "proportion" and not 0 < target / multiplier < 1:
        raise ValueError(
            f"a funnel target for a proportion must lie strictly between 0 and {multiplier:g}; got {target}"
        )
    if kind != "proportion" and not target > 0:
        raise ValueError(f"a funnel target for a {kind} must be positive; got {target}")


def _exact_limit(kind: str, target: float, n: np.ndarray, prob: float, multiplier: float) -> np.ndarray:
    """Spiegelhalter's interpolated exact quantile of y = X / n * multiplier."""
    if kind == "proportion":
        dist = _st.binom(n, target / multiplier)
    else:
        dist = _st.poisson(n * target / multiplier)
    r = dist.ppf(prob)
    f_r, f_r1 = dist.cdf(r), dist.cdf(r - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(f_r > f_r1, (f_r - prob) / (f_r - f_r1), 0.0)
        y = (r - alpha) / n * multiplier
    if kind == "proportion":
        y = np.clip(y, 0, multiplier)
    return np.maximum(y, 0.0)


def funnel_limits(
    target: float,
    denominators: np.typing.ArrayLike,
    kind: FunnelKind = "proportion",
    levels: Sequence[float] = (0.95, 0.998),
    overdispersion: Overdispersion | float | None = None,
    multiplier: float = 1,
) -> pd.DataFrame:
    """Funnel-plot control limits around a target, for a range of denominators.

    Without over-dispersion the limits are exact, with Spiegelhalter's interpolation between the discrete
    quantiles: the binomial for proportions (denominator = number of cases), and the Poisson for ratios
    (denominator = expected count, target usually 1) and rates (denominator = population). With
    over-dispersion they use the normal approximation (no continuity correction):
    target +/- z sqrt(phi) s(n) (multiplicative) or target +/- z sqrt(s(n)^2 + tau2) (additive), where
    s(n) is the standard error under the target.

    The interpolation spreads the probability of each count r over (r - 1, r], so exact limits sit about
    half a case below a symmetric interval, and at very small denominators (n p (1 - p) below about 2, or
    an expected count below about 2) the discrete distribution is too coarse for the limits to bracket
    the target; use funnels for units of reasonable size.

    Parameters
    ----------
    target : the target or average, in the units of the indicator (e.g. 0.2, or 20 with multiplier=100).
    denominators : the denominators at which to compute limits (e.g. ``np.arange(1, 501)`` for a smooth
        curve, or the units' own denominators).
    kind : ``"proportion"``, ``"ratio"`` or ``"rate"``.
    levels : control-limit levels, 95% and 99.8% by default.
    overdispersion : None, an :class:`Overdispersion` from :func:`estimate_overdispersion` (or
        :func:`funnel_flags`), or a number taken as a multiplicative phi.
    multiplier : scale of the indicator (100 for percentages, 1000 for rates per 1,000).

    Returns
    -------
    Tidy frame, one row per denominator and level: ``denominator, level, lower, upper, target, kind,
    method``.

    References
    ----------
    Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. Statistics in Medicine
    24:1185-1202. Spiegelhalter DJ (2005). Handling over-dispersion of performance indicators. Quality and
    Safety in Health Care 14:347-351.

    Examples
    --------
    >>> funnel_limits(0.5, [100], levels=[0.95]).round(4)[["denominator", "level", "lower", "upper"]]
       denominator  level   lower   upper
    0          100   0.95  0.3968  0.5932
    """
    _check_kind(kind, target, multiplier)
    n = np.asarray(denominators, dtype=float).ravel()
    if np.any(~np.isfinite(n)) or np.any(n <= 0):
        raise ValueError("funnel_limits: denominators must be positive numbers")
    if kind == "proportion" and not np.allclose(n, np.round(n)):
        raise ValueError("funnel_limits: denominators of proportions must be whole numbers (numbers of cases)")
    if isinstance(overdispersion, int | float) and not isinstance(overdispersion, bool):
        overdispersion = Overdispersion("multiplicative", float(overdispersion), 0.0, 0, 0.0, np.nan, float(multiplier))
    frames = []
    for level in levels:
        level = _confidence(level)
        if overdispersion is None or not overdispersion.adjusts:
            lower = _exact_limit(kind, target, n, (1 - level) / 2, multiplier)
            upper = _exact_limit(kind, target, n, (1 + level) / 2, multiplier)
            dist = "binomial" if kind == "proportion" else "Poisson"
            method = f"exact {dist} with interpolation (Spiegelhalter 2005)"
            if overdispersion is not None:
                method += f"; {overdispersion.describe()}"
        else:
            z = _z(level)
            s = _null_se(kind, target, n, multiplier)
            if overdispersion.method == "multiplicative":
                half = z * np.sqrt(overdispersion.phi) * s
            else:
                tau2 = overdispersion.tau2 * (multiplier / overdispersion.multiplier) ** 2
                half = z * np.sqrt(s**2 + tau2)
            lower, upper = np.maximum(target - half, 0.0), target + half
            if kind == "proportion":
                upper = np.minimum(upper, multiplier)
            method = f"normal approximation, {overdispersion.describe()} (Spiegelhalter 2005)"
        frames.append(pd.DataFrame({"denominator": n, "level": level, "lower": lower, "upper": upper}))
    out = pd.concat(frames, ignore_index=True)
    if np.allclose(out["denominator"], np.round(out["denominator"])):
        out["denominator"] = out["denominator"].round().astype("int64")
    out["target"] = float(target)
    out["kind"] = kind
    out["method"] = method
    return out


def funnel_flags(
    data: pd.DataFrame,
    x: str,
    n: str,
    target: float | None = None,
    kind: FunnelKind = "proportion",
    overdispersion: bool | str = False,
    levels: Sequence[float] = (0.95, 0.998),
    multiplier: float = 1,
    winsor: float = 0.1,
) -> pd.DataFrame:
    """Place each unit on the funnel: its value, z-score, limits at its denominator and a flag.

    Parameters
    ----------
    data : one row per unit (district, service, ...).
    x : numerator column (cases, observed count, events).
    n : denominator column (cases, expected count, population).
    target : the target in the units of the indicator; default the pooled value, sum(x) / sum(n) x
        multiplier (for ratios against expected counts from the same data this is 1).
    kind : ``"proportion"``, ``"ratio"`` or ``"rate"``.
    overdispersion : False (exact limits), ``"multiplicative"``, or ``"additive"`` (True means additive):
        estimated from the units by :func:`estimate_overdispersion` with ``winsor``; when no
        over-dispersion is found the exact limits are used and ``method`` says so.
    levels : control-limit levels, 95% and 99.8% by default.
    multiplier : scale of the indicator (100 for percentages, 1000 for rates per 1,000).
    winsor : fraction of z-scores winsorised at each end when estimating over-dispersion.

    Returns
    -------
    A copy of ``data`` with ``value``, ``target``, ``z`` (unadjusted z-score), ``z_adjusted`` (for
    over-dispersion), ``lower_95, upper_95, lower_99_8, upper_99_8`` (the limits at the unit's denominator),
    ``flag`` (``"above 99.8%"``, ``"above 95%"``, ``"within 95%"``, ``"below 95%"``, ``"below 99.8%"``, or
    ``"not assessed: no denominator"``), ``kind``, ``method``, ``phi`` and ``tau2``. The estimate is also in
    ``.attrs["overdispersion"]``.

    References
    ----------
    Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. Statistics in Medicine
    24:1185-1202. Spiegelhalter DJ (2005). Handling over-dispersion of performance indicators. Quality and
    Safety in Health Care 14:347-351.

    Examples
    --------
    >>> t = pd.DataFrame({"unit": list("ABCD"), "referred": [50, 48, 52, 90], "victims": [100] * 4})
    >>> funnel_flags(t, "referred", "victims", target=0.5)[["unit", "value", "flag"]]
      unit  value         flag
    0    A   0.50   within 95%
    1    B   0.48   within 95%
    2    C   0.52   within 95%
    3    D   0.90  above 99.8%
    """
    xs = _column(data, x, "numerator", "funnel_flags")
    ns = _column(data, n, "denominator", "funnel_flags")
    if kind == "proportion" and (xs > ns).any():
        bad = xs > ns
        raise ValueError(f"funnel_flags: column {x!r} exceeds column {n!r} in rows {_rows(bad, data.index)}")
    usable = np.isfinite(xs) & np.isfinite(ns) & (ns > 0)
    if target is None:
        target = float(xs[usable].sum() / ns[usable].sum() * multiplier)
    _check_kind(kind, target, multiplier)
    levels = [_confidence(level) for level in levels]
    out = data.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(usable, xs / ns * multiplier, np.nan)
        s = _null_se(kind, target, np.where(usable, ns, np.nan), multiplier)
        z = (y - target) / s
    od: Overdispersion | None = None
    if overdispersion:
        how = "additive" if overdispersion is True else str(overdispersion)
        od = estimate_overdispersion(z[usable], s[usable], how, winsor, multiplier)  # type: ignore[arg-type]
    out["value"] = y
    out["target"] = target
    out["z"] = z
    if od is not None and od.adjusts:
        z_adj = z / np.sqrt(od.phi) if od.method == "multiplicative" else (y - target) / np.sqrt(s**2 + od.tau2)
        out["z_adjusted"] = z_adj
    flag = np.where(usable, "within", "not assessed: no denominator").astype(object)
    first = _pct(min(levels))
    for level in sorted(levels):
        lim = funnel_limits(target, np.where(usable, ns, 1.0), kind, [level], od, multiplier)
        lo, hi = lim["lower"].to_numpy(), lim["upper"].to_numpy()
        tag = _level_tag(level)
        out[f"lower_{tag}"] = np.where(usable, lo, np.nan)
        out[f"upper_{tag}"] = np.where(usable, hi, np.nan)
        with np.errstate(invalid="ignore"):
            flag = np.where(usable & (y > hi), f"above {_pct(level)}", flag)
            flag = np.where(usable & (y < lo), f"below {_pct(level)}", flag)
        method = lim["method"].iloc[0]
    flag = np.where(flag == "within", f"within {first}", flag)
    out["flag"] = flag
    out["kind"] = kind
    out["method"] = method
    out["phi"] = od.phi if od is not None else np.nan
    out["tau2"] = od.tau2 if od is not None else np.nan
    out.attrs["overdispersion"] = od
    return out


# --------------------------------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------------------------------


def compare_counts(
    x1: np.typing.ArrayLike,
    x2: np.typing.ArrayLike,
    t1: np.typing.ArrayLike = 1,
    t2: np.typing.ArrayLike = 1,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Compare two Poisson counts (e.g. this year against last year): rate ratio, exact interval and test.

    Conditional on the total N = x1 + x2, x1 is binomial with p = t1 R / (t1 R + t2), where R is the
    ratio of the rates x1/t1 to x2/t2. The test of R = 1 is the two-sided exact binomial test of
    p = t1 / (t1 + t2); the interval for R comes from the Clopper-Pearson interval for p,
    R = p / (1 - p) x t2 / t1.

    Parameters
    ----------
    x1, x2 : counts in the two periods or places (arrays broadcast together).
    t1, t2 : their exposures (population, person-years or period lengths); 1 by default.
    confidence : level of the interval.

    Returns
    -------
    One row per comparison: ``x1, t1, x2, t2, value`` (rate ratio), ``lowercl, uppercl, p_value,
    confidence, statistic, method``.

    References
    ----------
    Breslow NE, Day NE (1987). Statistical Methods in Cancer Research, vol. II, section 2.8. IARC.
    Clopper CJ, Pearson ES (1934). Biometrika 26:404-413.

    Examples
    --------
    >>> compare_counts(10, 3).round(4)[["value", "lowercl", "uppercl", "p_value"]]
        value  lowercl  uppercl  p_value
    0  3.3333   0.8583  18.8487   0.0923
    """
    x1a, x2a, t1a, t2a = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype=float)) for v in (x1, x2, t1, t2)))
    if np.any(x1a < 0) or np.any(x2a < 0) or np.any(t1a <= 0) or np.any(t2a <= 0):
        raise ValueError("compare_counts: counts must be non-negative and exposures positive")
    if not (np.allclose(x1a, np.round(x1a)) and np.allclose(x2a, np.round(x2a))):
        raise ValueError("compare_counts: the exact test needs whole-number counts")
    conf = _confidence(confidence)
    a = 1 - conf
    total = x1a + x2a
    with np.errstate(divide="ignore", invalid="ignore"):
        p_lo = np.where(x1a > 0, _st.beta.ppf(a / 2, x1a, x2a + 1), 0.0)
        p_hi = np.where(x2a > 0, _st.beta.ppf(1 - a / 2, x1a + 1, x2a), 1.0)
        k = t2a / t1a
        value = (x1a / t1a) / (x2a / t2a)
        lower = p_lo / (1 - p_lo) * k
        upper = np.where(p_hi < 1, p_hi / (1 - p_hi) * k, np.inf)
    pvals = np.array(
        [
            _st.binomtest(int(round(a1)), int(round(n)), t1 / (t1 + t2)).pvalue if n > 0 else np.nan
            for a1, n, t1, t2 in zip(x1a, total, t1a, t2a, strict=True)
        ]
    )
    none = total == 0
    return pd.DataFrame(
        {
            "x1": x1a,
            "t1": t1a,
            "x2": x2a,
            "t2": t2a,
            "value": np.where(none, np.nan, value),
            "lowercl": np.where(none, np.nan, lower),
            "uppercl": np.where(none, np.nan, upper),
            "p_value": pvals,
            "confidence": _pct(conf),
            "statistic": "rate ratio (1 vs 2)",
            "method": "conditional binomial exact test, Clopper-Pearson interval",
        }
    )


def compare_proportions(
    x1: np.typing.ArrayLike,
    n1: np.typing.ArrayLike,
    x2: np.typing.ArrayLike,
    n2: np.typing.ArrayLike,
    confidence: float = 0.95,
    test: Literal["chi2", "fisher"] = "chi2",
    multiplier: float = 1,
) -> pd.DataFrame:
    """Difference of two proportions with Newcombe's hybrid score interval and a two-sided test.

    The interval (Newcombe 1998, method 10) combines the Wilson intervals (l1, u1) and (l2, u2):
    d - sqrt((p1 - l1)^2 + (u2 - p2)^2) to d + sqrt((u1 - p1)^2 + (p2 - l2)^2), with d = p1 - p2.

    Parameters
    ----------
    x1, n1, x2, n2 : successes and trials in the two groups (arrays broadcast together).
    confidence : level of the interval.
    test : ``"chi2"`` (Pearson's chi-square without continuity correction, i.e. the pooled z-test) or
        ``"fisher"`` (Fisher's exact test, for small counts).
    multiplier : 1 for a difference of proportions, 100 for percentage points.

    Returns
    -------
    One row per comparison: ``x1, n1, x2, n2, p1, p2, value`` (p1 - p2), ``lowercl, uppercl, p_value,
    confidence, statistic, method``.

    References
    ----------
    Newcombe RG (1998). Interval estimation for the difference between independent proportions:
    comparison of eleven methods. Statistics in Medicine 17:873-890.

    Examples
    --------
    >>> compare_proportions(5, 20, 9, 25).round(4)[["value", "lowercl", "uppercl", "p_value"]]
       value  lowercl  uppercl  p_value
    0  -0.11  -0.3488   0.1595   0.4283
    """
    x1a, n1a, x2a, n2a = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype=float)) for v in (x1, n1, x2, n2)))
    if np.any(x1a > n1a) or np.any(x2a > n2a) or np.any(x1a < 0) or np.any(x2a < 0):
        raise ValueError("compare_proportions: need 0 <= x <= n in both groups")
    conf = _confidence(confidence)
    p1, l1, u1 = wilson(x1a, n1a, conf)
    p2, l2, u2 = wilson(x2a, n2a, conf)
    d = p1 - p2
    lower = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    pvals = []
    for a, b, c, e in zip(x1a, n1a, x2a, n2a, strict=True):
        if b == 0 or e == 0:
            pvals.append(np.nan)
            continue
        table = np.array([[a, b - a], [c, e - c]])
        if test == "fisher":
            pvals.append(_st.fisher_exact(np.round(table).astype(int)).pvalue)
        elif test == "chi2":
            pooled = (a + c) / (b + e)
            if pooled in (0, 1):
                pvals.append(1.0)
                continue
            zstat = (a / b - c / e) / np.sqrt(pooled * (1 - pooled) * (1 / b + 1 / e))
            pvals.append(2 * _st.norm.sf(abs(zstat)))
        else:
            raise ValueError(f"test must be 'chi2' or 'fisher', got {test!r}")
    test_name = "Fisher's exact test" if test == "fisher" else "Pearson chi-square test (no continuity correction)"
    return pd.DataFrame(
        {
            "x1": x1a,
            "n1": n1a,
            "x2": x2a,
            "n2": n2a,
            "p1": p1 * multiplier,
            "p2": p2 * multiplier,
            "value": d * multiplier,
            "lowercl": lower * multiplier,
            "uppercl": upper * multiplier,
            "p_value": pvals,
            "confidence": _pct(conf),
            "statistic": "difference in proportions (1 - 2)" + ("" if multiplier == 1 else f" x {multiplier:g}"),
            "method": f"Newcombe hybrid score interval; {test_name}",
        }
    )


def survival_band(
    surv_prob: np.typing.ArrayLike, surv_prob_se: np.typing.ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise log(-log) confidence band for a Kaplan-Meier survival curve.

    With theta = se / (S |log S|), the band is S ** exp(z theta) to S ** exp(-z theta), which stays inside
    (0, 1). Where S is 0 or 1, or its standard error is 0 or missing, the band is the point itself.

    Parameters
    ----------
    surv_prob, surv_prob_se : the curve and its (Greenwood) standard errors, e.g. statsmodels'
        ``SurvfuncRight.surv_prob`` and ``.surv_prob_se``.
    confidence : level of the band.

    Returns
    -------
    (lower, upper) arrays of survival probabilities.

    References
    ----------
    Kalbfleisch JD, Prentice RL (2002). The Statistical Analysis of Failure Time Data, 2nd ed. Wiley.

    Examples
    --------
    >>> lower, upper = survival_band([1.0, 0.5, 0.0], [0.0, 0.1, 0.0])
    >>> np.round(lower, 4).tolist(), np.round(upper, 4).tolist()
    ([1.0, 0.2952, 0.0], [1.0, 0.6745, 0.0])
    """
    s = np.asarray(surv_prob, dtype=float)
    se = np.asarray(surv_prob_se, dtype=float)
    z = _z(confidence)
    inside = (s > 0) & (s < 1) & np.isfinite(se) & (se > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(inside, se / (s * np.abs(np.log(s))), 0.0)
        lower = np.where(inside, s ** np.exp(z * theta), s)
        upper = np.where(inside, s ** np.exp(-z * theta), s)
    return lower, upper
