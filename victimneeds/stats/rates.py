"""Counts and rates with exact Poisson (Garwood) and Byar intervals.

Part of :mod:`victimneeds.stats`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

from victimneeds.stats.helpers import (
    _METHOD_NAMES,
    PoissonMethod,
    _append,
    _column,
    _confidence,
    _levels,
    _rows,
    _z,
)

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
