"""Proportions with Wilson intervals.

Part of :mod:`victimneeds.stats`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from victimneeds.stats.helpers import (
    _append,
    _column,
    _levels,
    _rows,
    _z,
)

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
