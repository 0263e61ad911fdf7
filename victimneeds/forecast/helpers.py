"""Constants (lockdown months, methods) and small helpers shared by the forecasting code.

Part of :mod:`victimneeds.forecast`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import numpy as np

#: Months of England's national COVID-19 lockdowns (first, second and third), as 'YYYY-MM'.
LOCKDOWN_MONTHS: tuple[str, ...] = ("2020-04", "2020-05", "2020-06", "2020-11", "2021-01", "2021-02", "2021-03")

METHODS: tuple[str, ...] = ("snaive", "naive", "ets", "sarimax", "glm")
#: The candidates ``method="auto"`` compares by default.
AUTO_METHODS: tuple[str, ...] = METHODS
#: The methods ``method="combination"`` averages with equal weights (chosen on the rolling-origin evaluation
#: in bench/forecast_origins.py).
COMBINATION: tuple[str, ...] = ("snaive", "naive", "sarimax", "seasonal_level")
_METHOD_NAMES = {
    "snaive": "seasonal naive",
    "naive": "naive (last value)",
    "ets": "ETS (damped trend, log scale, seasonally adjusted)",
    "sarimax": "SARIMAX (log scale, lockdown term)",
    "glm": "negative binomial GLM (trend, Fourier, lockdown)",
    "theta": "Theta (theta = 2, log scale, seasonally adjusted)",
    "seasonal_level": "seasonal level (mean of 6 seasonally adjusted months)",
    "combination": "combination",
}
_SEASON = 12


def fourier_terms(month_of_year: np.typing.ArrayLike, harmonics: int) -> np.ndarray:
    """Fourier seasonal terms: sin and cos of 2 pi k m / 12 for k = 1..harmonics (columns sin1, cos1, ...).

    Examples
    --------
    >>> fourier_terms([3, 6], 1).round(6).tolist()
    [[1.0, 0.0], [0.0, -1.0]]
    """
    m = np.asarray(month_of_year, dtype=float)
    cols = []
    for k in range(1, harmonics + 1):
        cols += [np.sin(2 * np.pi * k * m / _SEASON), np.cos(2 * np.pi * k * m / _SEASON)]
    return np.column_stack(cols) if cols else np.empty((len(m), 0))


def mase(
    actual: np.typing.ArrayLike, predicted: np.typing.ArrayLike, history: np.typing.ArrayLike, season: int = _SEASON
) -> float:
    """Mean absolute scaled error: forecast MAE over the in-sample MAE of the seasonal naive method.

    The scale is the mean of ``|y_t - y_{t-season}|`` over the history (pairs with a missing month are
    skipped); with fewer than 6 seasonal pairs the lag-1 (naive) differences are used instead. Missing actual
    months are not scored.

    References
    ----------
    Hyndman RJ, Koehler AB (2006). Another look at measures of forecast accuracy. International Journal of
    Forecasting 22:679-688.

    Examples
    --------
    >>> hist = np.tile([10.0, 20.0], 12) + np.repeat([0.0, 12.0], 12)
    >>> round(mase([40.0], [34.0], hist), 3)
    0.5
    """
    a, p = np.asarray(actual, dtype=float), np.asarray(predicted, dtype=float)
    scale = _scale(np.asarray(history, dtype=float), season)
    ok = np.isfinite(a)
    if not ok.any() or not np.isfinite(scale) or scale == 0:
        return np.nan
    return float(np.mean(np.abs(a[ok] - p[ok])) / scale)


def _scale(y: np.ndarray, season: int = _SEASON) -> float:
    d = np.abs(y[season:] - y[:-season]) if len(y) > season else np.array([])
    d = d[np.isfinite(d)]
    if len(d) < 6:
        d = np.abs(np.diff(y))
        d = d[np.isfinite(d)]
    return float(np.mean(d)) if len(d) else np.nan
