"""Comparisons of two proportions or two rates, with intervals and tests.

Part of :mod:`victimneeds.stats`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as _st

from victimneeds.stats.helpers import (
    _confidence,
    _pct,
    _z,
)
from victimneeds.stats.proportions import wilson

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
