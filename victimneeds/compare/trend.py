"""Trend over time: odds ratio per year with over-dispersion allowed for.

Part of :mod:`victimneeds.compare`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm

from victimneeds import stats

# --------------------------------------------------------------------------------------------------
# Trend over time
# --------------------------------------------------------------------------------------------------


def binomial_trend(
    events: np.typing.ArrayLike,
    trials: np.typing.ArrayLike,
    years: np.typing.ArrayLike,
    confidence: float = 0.95,
    overdispersion: bool = True,
) -> dict:
    """Linear trend on the log-odds scale in a series of proportions: binomial GLM with Pearson dispersion.

    Fits logit(p_t) = a + b t to counts ``events`` of ``trials`` at times ``years`` (trials may be Kish
    effective sizes, and events the matching effective counts). With ``overdispersion`` the variance is
    scaled by phi = max(1, X2 / (T - 2)), Pearson's chi-square over the residual degrees of freedom
    computed on the grouped counts (quasi-binomial; McCullagh & Nelder 1989, 4.5); monthly counts of
    thousands of crimes vary more than the binomial allows, and without this allowance a flat series shows a
    "significant" trend.

    Parameters
    ----------
    events, trials : counts per period (trials > 0).
    years : time of each period in years.
    confidence : level of the Wald interval.
    overdispersion : allow for over-dispersion (default) or assume binomial variation.

    Returns
    -------
    dict with ``odds_ratio_per_year, lowercl, uppercl, p_value, dispersion, periods, fitted, fitted_lower,
    fitted_upper`` (the last three arrays of fitted proportions) and ``result`` (statsmodels).

    References
    ----------
    McCullagh P, Nelder JA (1989). Generalized Linear Models, 2nd ed. Chapman and Hall, section 4.5.
    Wedderburn RWM (1974). Quasi-likelihood functions. Biometrika 61:439-447.

    Examples
    --------
    >>> r = binomial_trend([50, 50, 50, 50], [100, 100, 100, 100], [0, 1, 2, 3])
    >>> round(r["odds_ratio_per_year"], 6), r["dispersion"]
    (1.0, 1.0)
    """
    x = np.asarray(events, dtype=float)
    n = np.asarray(trials, dtype=float)
    t = np.asarray(years, dtype=float)
    exog = sm.add_constant(t, has_constant="add")
    level = stats._confidence(confidence)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sm.GLM(np.clip(x / n, 0, 1), exog, family=sm.families.Binomial(), var_weights=n)
        res = model.fit()
        mu = np.asarray(res.fittedvalues)
        df = len(x) - 2
        x2 = float(np.sum((x - n * mu) ** 2 / (n * mu * (1 - mu)))) if df > 0 else np.nan
        phi = max(1.0, x2 / df) if overdispersion and df > 0 and np.isfinite(x2) else 1.0
        if phi != 1.0:
            res = model.fit(scale=phi)
    lo, hi = np.asarray(res.conf_int(1 - level))[1]
    pred = res.get_prediction(exog).summary_frame(1 - level)
    return {
        "odds_ratio_per_year": float(np.exp(res.params[1])),
        "lowercl": float(np.exp(lo)),
        "uppercl": float(np.exp(hi)),
        "p_value": float(res.pvalues[1]),
        "dispersion": float(phi),
        "pearson_dispersion": float(x2 / df) if df > 0 else np.nan,
        "periods": len(x),
        "fitted": pred["mean"].to_numpy(),
        "fitted_lower": pred["mean_ci_lower"].to_numpy(),
        "fitted_upper": pred["mean_ci_upper"].to_numpy(),
        "result": res,
    }


def _periods(values: pd.Series, period: str) -> pd.Series:
    if isinstance(values.dtype, pd.PeriodDtype):
        return values.dt.asfreq(period)
    return pd.to_datetime(values).dt.to_period(period)


def _years(periods: pd.Series | pd.Index, period: str) -> np.ndarray:
    first = min(periods)
    per_year = {"M": 12, "Q": 4, "Y": 1, "A": 1}.get(period[0].upper(), 12)
    return np.array([(p - first).n for p in periods], dtype=float) / per_year
