"""Directly and indirectly standardised rates.

Part of :mod:`victimneeds.stats`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from victimneeds.stats.helpers import (
    _METHOD_NAMES,
    PoissonMethod,
    _append,
    _column,
    _levels,
    _maybe_int,
    _rows,
)
from victimneeds.stats.rates import count_interval

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
