"""Forecasting monthly demand with backtested accuracy, coherent totals and scenarios.

:func:`forecast` fits, per series, several families of model to monthly counts, scores each by a
rolling-origin backtest on the mean absolute scaled error (MASE), and forecasts with an equal-weight
combination of seasonal naive, naive, SARIMAX and a seasonal level (``method="combination"``, the default),
the best per series (``method="auto"``) or a named method. :func:`reconcile` makes forecasts at district x
crime group add up to district and area totals, and :func:`scenario` applies what-ifs. Also exposed through
:mod:`victimneeds.demand`.

Candidate methods
-----------------
``snaive``   seasonal naive: the same month a year earlier (earlier years if that month is missing). The
             baseline every other method must beat.
``naive``    the last observed month repeated.
``ets``      exponential smoothing in state-space form (statsmodels ``ETSModel``): additive errors and a
             damped additive trend, fitted to log(count + 1) after removing a seasonal index (classical
             decomposition, when at least 36 months are available) and back-transformed, so intervals are
             skewed and never negative.
``sarimax``  seasonal ARIMA on log(count + 1): ARIMA(1,1,1), with a seasonal (0,1,1) part at lag 12 when at
             least 36 months are available, and a lockdown regressor.
``glm``      negative binomial GLM: log link, linear trend, two Fourier pairs for seasonality (with at
             least 24 months), a lockdown indicator; intervals by simulation: coefficients drawn from an
             AR(1)-robust sandwich covariance, and months' extra-Poisson variation as a latent AR(1)
             log-rate deviation (variance log(1 + alpha), lag-one correlation from the Pearson residuals),
             so persistent high or low runs of months widen yearly totals.
``theta``    the Theta method (statsmodels ``ThetaModel``, theta = 2: simple exponential smoothing plus half
             the slope of a linear trend; Assimakopoulos and Nikolopoulos 2000, Hyndman and Billah 2003) on
             log(count + 1), seasonally adjusted (additive, classical decomposition) when two years are
             available and seasonality tests significant; gaps and lockdown months as for ``ets``. Sample
             paths add simple exponential smoothing's h-step errors to the Theta forecast. Not among the
             default candidates (:data:`METHODS`); name it in ``method``, ``methods`` or ``combination``.
``seasonal_level``  the mean of the last :data:`LEVEL_MONTHS` (6) seasonally adjusted months on the log(count + 1)
             scale plus a seasonal profile (:func:`seasonal_profile`), the series' own or, with ``season_keys``,
             that of the total of the series sharing those keys (e.g. a crime group over all districts);
             lockdown months carry no weight. Paths from a local level (random walk plus noise) model whose
             variances come from the adjusted series' monthly changes. A member of the default combination; not
             among :data:`METHODS`.

Intervals and yearly totals come from :data:`N_PATHS` simulated sample paths per series: ``ets`` and
``sarimax`` from statsmodels' own state-space simulation started at the end of the series (so the h-step
variance growth and the correlation of months within a path are the model's); ``ets`` with Student-t shocks
whose scale is the error variance of the months actually seen on n - p degrees of freedom (p counts the
smoothing parameters, initial states and seasonal index); ``glm`` with one draw of the coefficients per
path and an autocorrelated latent deviation; ``naive`` and ``snaive`` as (seasonal) random walks. A
combination of methods averages their paths rank by rank of the path totals (quantile averaging).
:meth:`ForecastResult.yearly` and :meth:`ForecastResult.financial_years` sum each path's months.

Missing months (months absent from the input, as in the real police.uk files) are kept as gaps, not dropped:
``sarimax`` skips them in the Kalman filter; ``glm`` leaves them out of the likelihood; ``ets`` (which needs
an unbroken series) is fitted to the series with gaps filled by linear interpolation on the log scale (filled
months add no information, only continuity); ``snaive`` looks back whole years until it finds the month.

Lockdown: :data:`LOCKDOWN_MONTHS` are the months in England's three national lockdowns (23 March to June
2020, 5 November to 2 December 2020, 6 January to March 2021) in which recorded crime and ASB moved sharply
(theft and burglary fell, ASB rose with reports of breaches). With ``lockdown=True`` (the default) the
``glm`` and ``sarimax`` models get an indicator for those months (set to 0 in the forecast, i.e. "no
lockdown ahead"), and ``ets`` treats them as missing, so they carry zero weight. The baseline ``snaive`` and
``naive`` are left as they are.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from scipy import stats as _st

__all__ = [
    "LOCKDOWN_MONTHS",
    "AUTO_METHODS",
    "COMBINATION",
    "N_PATHS",
    "METHODS",
    "ForecastResult",
    "ScenarioResult",
    "forecast",
    "fourier_terms",
    "mase",
    "seasonal_profile",
    "LEVEL_MONTHS",
    "RECONCILE_METHODS",
    "aggregate_forecasts",
    "mint_matrix",
    "reconcile",
    "scenario",
    "shrink_covariance",
    "summing_matrix",
]

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
#: Interval calibration needs every series' backtest to have this many origins (with fewer, the held-out
#: windows are few and early, and in the rolling evaluation their errors, from the 2020-21 disruption,
#: widened intervals that already covered their share). Series too short for any backtest (a crime type
#: first recorded late in a district) do not count: they take the factor pooled over the others.
_CALIBRATE_MIN_ORIGINS = 3


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


# --------------------------------------------------------------------------------------------------
# The methods: each takes y (float array, NaN = missing), months ('YYYY-MM' strings), h and levels,
# and returns (mean, {level: (lower, upper)}, fitted): fitted holds the in-sample one-step-ahead
# predictions on the count scale (NaN where the model saw no observation or is still burning in), from
# which reconcile() estimates the forecast-error covariance for MinT.
# --------------------------------------------------------------------------------------------------

Fit = tuple[np.ndarray, dict[float, tuple[np.ndarray, np.ndarray]], np.ndarray, np.ndarray]

#: Number of simulated sample paths per series and method (intervals, yearly totals).
N_PATHS = 1000
_SEED = 20240401


def _from_paths(mean: np.ndarray, paths: np.ndarray, levels: Sequence[float], fitted: np.ndarray) -> Fit:
    """Intervals of each month as quantiles of simulated sample paths (rows = paths, columns = months)."""
    out = {}
    for lv in levels:
        lo, hi = np.quantile(paths, [0.5 - lv / 2, 0.5 + lv / 2], axis=0)
        out[lv] = (lo, hi)
    return mean, out, fitted, paths


def _lagged(y: np.ndarray, lag: int) -> np.ndarray:
    out = np.full(len(y), np.nan)
    if len(y) > lag:
        out[lag:] = y[:-lag]
    return out


def _snaive(y: np.ndarray, months: np.ndarray, h: int, levels: Sequence[float], lockdown: bool) -> Fit:
    n = len(y)
    e = y[_SEASON:] - y[:-_SEASON] if n > _SEASON else np.array([])
    e = e[np.isfinite(e)]
    if len(e) == 0:
        return _naive(y, months, h, levels, lockdown)
    sigma = np.sqrt(np.mean(e**2))
    mean = np.full(h, np.nan)
    ks = np.zeros(h, dtype=int)
    for j in range(1, h + 1):
        k = int(np.ceil(j / _SEASON))
        idx = n - 1 + j - _SEASON * k
        while idx >= 0 and not np.isfinite(y[idx]):
            idx -= _SEASON
            k += 1
        if idx < 0:
            last = np.flatnonzero(np.isfinite(y))[-1]
            idx, k = last, int(np.ceil((n - 1 + j - last) / _SEASON))
        mean[j - 1] = y[idx]
        ks[j - 1] = k
    # a seasonal random walk: the error of month j is the sum of one shock per year looked back, and months a
    # year apart share the earlier years' shocks
    rng = np.random.default_rng(_SEED)
    shocks = np.cumsum(rng.standard_normal((N_PATHS, int(ks.max()), _SEASON)), axis=1)
    pos = (np.arange(h) + n) % _SEASON
    paths = mean + sigma * shocks[:, ks - 1, pos]
    return _from_paths(mean, paths, levels, _lagged(y, _SEASON))


def _naive(y: np.ndarray, months: np.ndarray, h: int, levels: Sequence[float], lockdown: bool) -> Fit:
    obs = np.flatnonzero(np.isfinite(y))
    last = obs[-1]
    d = np.diff(y)
    d = d[np.isfinite(d)]
    sigma = np.sqrt(np.mean(d**2)) if len(d) else 0.0
    gap = len(y) - 1 - last  # months since the last observed count
    rng = np.random.default_rng(_SEED)
    steps = rng.standard_normal((N_PATHS, h))
    steps[:, 0] *= np.sqrt(1 + gap)
    paths = y[last] + sigma * np.cumsum(steps, axis=1)
    return _from_paths(np.full(h, y[last]), paths, levels, _lagged(y, 1))


def _lockdown_flag(months: np.ndarray) -> np.ndarray:
    return np.isin(months, LOCKDOWN_MONTHS).astype(float)


def _without_lockdown(y: np.ndarray, months: np.ndarray, lockdown: bool) -> np.ndarray:
    """A copy of ``y`` with lockdown months set to missing (when asked, and 12 other months remain)."""
    y = y.copy()
    if lockdown:
        flag = _lockdown_flag(months).astype(bool)
        if flag.any() and (~flag & np.isfinite(y)).sum() >= 12:
            y[flag] = np.nan
    return y


def _fill_log(y: np.ndarray) -> np.ndarray:
    """log(y + 1) with interior gaps linearly interpolated and leading/trailing gaps held flat."""
    ly = np.log1p(y)
    ok = np.isfinite(ly)
    x = np.arange(len(ly))
    return np.interp(x, x[ok], ly[ok])


def _ets(y: np.ndarray, months: np.ndarray, h: int, levels: Sequence[float], lockdown: bool) -> Fit:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = _without_lockdown(y, months, lockdown)
    seen = np.isfinite(y)
    ly = _fill_log(y)
    n = len(ly)
    season = np.zeros(n + h)
    n_season = 0
    if n >= 3 * _SEASON:
        # classical decomposition: month-of-year means of the log series around its centred 2x12 moving average
        kernel = np.r_[0.5, np.ones(_SEASON - 1), 0.5] / _SEASON
        ma = np.convolve(ly, kernel, mode="same")
        half = _SEASON // 2
        dev = (ly - ma)[half : n - half]
        pos = (np.arange(n) % _SEASON)[half : n - half]
        idx = np.array([dev[pos == k].mean() for k in range(_SEASON)])
        idx -= idx.mean()
        season = idx[np.arange(n + h) % _SEASON]
        n_season = _SEASON - 1
    model = ETSModel(ly - season[:n], error="add", trend="add", damped_trend=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit(disp=False, maxiter=100)
        mean_log = np.asarray(res.forecast(h)) + season[n:]
        # The error variance from the months actually seen, on n - p degrees of freedom: filled gaps and
        # down-weighted lockdown months are interpolated, so their near-zero errors would shrink res.mse, and
        # the smoothing parameters, initial states and the seasonal index are all estimated from the series.
        resid = np.asarray(res.resid)[seen]
        p = len(res.params) + n_season
        dof = max(len(resid) - p, 2)
        sigma = float(np.sqrt(np.sum(resid**2) / dof))
        # sample paths from statsmodels' own state-space simulation (h-step variance growth and the damped
        # trend's accumulation of errors are in the recursion); Student-t shocks on dof degrees of freedom
        # carry the uncertainty of sigma
        rng = np.random.default_rng(_SEED)
        shocks = sigma * rng.standard_t(dof, size=(h, N_PATHS))
        sim = np.asarray(res.simulate(h, anchor="end", repetitions=N_PATHS, random_errors=shocks))
        fitted = np.expm1(np.asarray(res.fittedvalues) + season[:n] + sigma**2 / 2)
    fitted[~seen] = np.nan  # gaps and down-weighted lockdown months: interpolated, not seen
    log_paths = sim.reshape(h, N_PATHS).T + season[n:]
    mean = np.expm1(mean_log + np.var(log_paths, axis=0) / 2)
    return _from_paths(mean, np.expm1(log_paths), levels, fitted)


def _sarimax(y: np.ndarray, months: np.ndarray, h: int, levels: Sequence[float], lockdown: bool) -> Fit:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    ly = np.log1p(y)
    seasonal = (0, 1, 1, _SEASON) if np.isfinite(y).sum() >= 3 * _SEASON else (0, 0, 0, 0)
    flag = _lockdown_flag(months)
    use_x = lockdown and 0 < flag[np.isfinite(y)].sum() < np.isfinite(y).sum()
    exog = flag[:, None] if use_x else None
    model = SARIMAX(
        ly, exog=exog, order=(1, 1, 1), seasonal_order=seasonal, enforce_stationarity=False, enforce_invertibility=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit(disp=False, maxiter=60, method="lbfgs")
        fc = res.get_forecast(h, exog=np.zeros((h, 1)) if use_x else None)
        mean = np.asarray(fc.predicted_mean)
        var = np.asarray(fc.var_pred_mean)
        fitted = np.expm1(np.asarray(res.fittedvalues) + float(np.asarray(res.params)[-1]) / 2)
        # joint sample paths from statsmodels' simulation smoother, started from the filtered end state (its
        # months' variances match get_forecast's); months of a path share their shocks, as real months do
        sim = res.simulate(
            h,
            anchor="end",
            repetitions=N_PATHS,
            exog=np.zeros((h, 1)) if use_x else None,
            rng=np.random.default_rng(_SEED),
        )
    # the first 1 + 12 D one-step predictions come from the diffuse start, not from the data
    burn = max(int(getattr(res, "loglikelihood_burn", 0)), 1 + (_SEASON if seasonal[1] else 0))
    fitted[:burn] = np.nan
    fitted[~np.isfinite(y)] = np.nan
    var = np.where(np.isfinite(var) & (var > 0), var, np.nanmax(var[np.isfinite(var)], initial=0.0))
    # paths of a non-stationary fit can explode (to inf or NaN); cap them at 150 times the largest month seen
    # (e^5), which leaves the quantiles used for intervals alone unless most paths explode
    cap = float(np.nanmax(ly)) + 5
    with np.errstate(invalid="ignore", over="ignore"):
        log_paths = np.asarray(sim, dtype=float).reshape(h, N_PATHS).T
        log_paths = np.clip(np.nan_to_num(log_paths, nan=cap, posinf=cap, neginf=0.0), None, cap)
    with np.errstate(over="ignore"):  # exploding paths become inf here and are capped by _from_paths' callers
        return _from_paths(np.expm1(mean + var / 2), np.expm1(log_paths), levels, fitted)


def _glm(y: np.ndarray, months: np.ndarray, h: int, levels: Sequence[float], lockdown: bool) -> Fit:
    import statsmodels.api as sm

    n = len(y)
    t = np.arange(n + h) / _SEASON
    moy = np.array([int(m[5:7]) for m in months] + [0] * h)
    # month of year for the forecast months follows on from the last month
    last = int(months[-1][5:7])
    moy[n:] = (last + np.arange(1, h + 1) - 1) % _SEASON + 1
    parts = [np.ones(n + h), t - t[n - 1]]
    if np.isfinite(y).sum() >= 2 * _SEASON:
        parts.append(fourier_terms(moy, 2))
    flag = np.concatenate([_lockdown_flag(months), np.zeros(h)])
    ok = np.isfinite(y)
    if lockdown and 0 < flag[:n][ok].sum() < ok.sum():
        parts.append(flag[:, None])
    x = np.column_stack(parts)
    xf, xn = x[:n][ok], x[n:]
    yf = y[ok]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pois = sm.GLM(yf, xf, family=sm.families.Poisson()).fit()
        mu = pois.fittedvalues
        dof = max(len(yf) - xf.shape[1], 1)
        alpha = max(float(np.sum(((yf - mu) ** 2 - yf) / mu**2) / dof), 1e-6)
        res = sm.GLM(yf, xf, family=sm.families.NegativeBinomial(alpha=alpha)).fit()
    eta = xn @ res.params
    # Months are autocorrelated: the NB Pearson residuals' lag-one correlation (bias-corrected as in
    # victimneeds.demand.trend) is read as a latent AR(1) log-rate deviation u, whose stationary variance
    # log(1 + alpha) carries the NB extra-Poisson variance; residual correlation at lag d is c rho^d with
    # c = alpha mu / (1 + alpha mu) the latent share of each month's variance.
    mu_f = np.asarray(res.fittedvalues)
    pearson = (yf - mu_f) / np.sqrt(mu_f + alpha * mu_f**2)
    tpos = np.flatnonzero(ok)
    nxt = np.isin(tpos + 1, tpos)
    den = float(np.sum(pearson**2))
    r1 = 0.0
    if nxt.any() and den > 0:
        r1 = float(np.sum(pearson[:-1][nxt[:-1]] * pearson[1:][nxt[:-1]]) / den * len(yf) / nxt[:-1].sum())
    r1 = r1 + (1 + 3 * r1 + xf.shape[1] * (1 + r1)) / len(yf)
    share = alpha * mu_f / (1 + alpha * mu_f)
    c = float(np.mean(share))
    rho = float(np.clip(r1 / c, 0.0, 0.95)) if c > 0 else 0.0
    # sandwich covariance of the coefficients with that working correlation (Liang and Zeger 1986)
    a = xf * np.sqrt(mu_f / (1 + alpha * mu_f))[:, None]
    lag = np.abs(tpos[:, None] - tpos[None, :])
    corr = np.where(lag == 0, 1.0, np.sqrt(np.outer(share, share)) * rho ** np.maximum(lag, 1))
    bread = np.linalg.pinv(a.T @ a)
    phi = max(float(np.sum(pearson**2)) / dof, 1.0)
    cov = phi * bread @ (a.T @ corr @ a) @ bread
    cov = (cov + cov.T) / 2
    se = np.sqrt(np.einsum("ij,jk,ik->i", xn, cov, xn))
    rng = np.random.default_rng(_SEED)
    # one draw of the coefficients per path, so a path's months share the error in the fitted trend
    beta = rng.multivariate_normal(np.asarray(res.params), cov, size=N_PATHS, method="eigh")
    s2 = np.log1p(alpha * phi)
    u = np.empty((N_PATHS, h))
    u[:, 0] = rng.normal(0, np.sqrt(s2), N_PATHS)
    for j in range(1, h):
        u[:, j] = rho * u[:, j - 1] + rng.normal(0, np.sqrt(s2 * (1 - rho**2)), N_PATHS)
    paths = rng.poisson(np.exp(beta @ xn.T + u - s2 / 2)).astype(float)
    fitted = np.full(n, np.nan)
    fitted[ok] = mu_f
    return _from_paths(np.exp(eta + se**2 / 2), paths, levels, fitted)


def _theta(y: np.ndarray, months: np.ndarray, h: int, levels: Sequence[float], lockdown: bool) -> Fit:
    """The Theta method (statsmodels ``ThetaModel``, theta = 2) on log(count + 1), with simulated SES paths.

    References
    ----------
    Assimakopoulos V, Nikolopoulos K (2000). The theta model: a decomposition approach to forecasting.
    International Journal of Forecasting 16:521-530. Hyndman RJ, Billah B (2003). Unmasking the Theta method.
    International Journal of Forecasting 19:287-290. Hyndman RJ, Koehler AB, Ord JK, Snyder RD (2008).
    Forecasting with Exponential Smoothing, table 6.1 (h-step variance of simple exponential smoothing).
    """
    from statsmodels.tsa.forecasting.theta import ThetaModel

    y = _without_lockdown(y, months, lockdown)
    seen = np.isfinite(y)
    ly = _fill_log(y)
    n = len(ly)
    # seasonal adjustment (additive on the log scale, classical decomposition) when two years are available
    # and the seasonal autocorrelation test of Assimakopoulos and Nikolopoulos finds seasonality
    seasonal = n >= 2 * _SEASON
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ThetaModel(ly, period=_SEASON, deseasonalize=seasonal, method="additive").fit()
        mean_log = np.asarray(res.forecast(h), dtype=float)
        b0, alpha = float(res.params.iloc[0]), float(res.params.iloc[1])
        sigma2 = float(res.sigma2)
    alpha = min(max(alpha, 1e-6), 1.0)
    # sample paths: the theta forecast plus the h-step errors of simple exponential smoothing in
    # innovations form, e_{n+j} + alpha (e_{n+1} + ... + e_{n+j-1}) (variance sigma^2 (1 + (j - 1) alpha^2))
    rng = np.random.default_rng(_SEED)
    e = np.sqrt(max(sigma2, 0.0)) * rng.standard_normal((N_PATHS, h))
    dev = e + alpha * np.concatenate([np.zeros((N_PATHS, 1)), np.cumsum(e, axis=1)[:, :-1]], axis=1)
    log_paths = mean_log + dev
    # one-step in-sample predictions: SES of the seasonally adjusted series plus the theta line's drift
    season = np.zeros(n)
    comp = np.asarray(getattr(res, "_seasonal", np.empty(0)), dtype=float)
    if comp.size:
        season = comp[np.arange(n) % comp.size]
    adj = ly - season
    level = adj[0]
    fitted_log = np.full(n, np.nan)
    for t in range(1, n):
        fitted_log[t] = level + b0 * (1 / alpha - (1 - alpha) ** t / alpha) + season[t]
        level = alpha * adj[t] + (1 - alpha) * level
    fitted = np.expm1(fitted_log + sigma2 / 2)
    fitted[~seen] = np.nan
    mean = np.expm1(mean_log + np.var(log_paths, axis=0) / 2)
    return _from_paths(mean, np.expm1(log_paths), levels, fitted)


def seasonal_profile(counts: np.typing.ArrayLike, months: Sequence[str]) -> np.ndarray:
    """Month-of-year seasonal profile of a monthly count series on the log(1 + y) scale.

    Classical decomposition: the deviations of log(1 + y) from its centred 2x12 moving average (only where the
    13 months the average needs are all known; missing and lockdown months are NaN), averaged by calendar
    month and centred to mean 0. Calendar months with no deviation get 0, and so does every month when the
    series has no complete 13-month window.

    Returns
    -------
    12 values, January to December.

    References
    ----------
    Makridakis S, Wheelwright SC, Hyndman RJ (1998). Forecasting: Methods and Applications, 3rd ed., section 3/4
    (classical decomposition).

    Examples
    --------
    >>> months = [str(m) for m in pd.period_range("2020-01", periods=36, freq="M")]
    >>> y = np.expm1(5 + 0.2 * np.tile([1.0, -1.0], 18))
    >>> seasonal_profile(y, months).round(3)[:3].tolist()
    [0.2, -0.2, 0.2]
    """
    ly = np.log1p(np.asarray(counts, dtype=float))
    moy = np.array([int(m[5:7]) for m in months])
    n = len(ly)
    kernel = np.r_[0.5, np.ones(_SEASON - 1), 0.5] / _SEASON
    dev = np.full(n, np.nan)
    for t in range(6, n - 6):
        w = ly[t - 6 : t + 7]
        if np.all(np.isfinite(w)):
            dev[t] = ly[t] - w @ kernel
    prof = np.zeros(_SEASON)
    for k in range(1, _SEASON + 1):
        d = dev[moy == k]
        d = d[np.isfinite(d)]
        if len(d):
            prof[k - 1] = d.mean()
    known = np.array([np.isfinite(dev[moy == k]).any() for k in range(1, _SEASON + 1)])
    if known.any():
        prof[known] -= prof[known].mean()
    return prof


#: Months of seasonally adjusted history averaged for the level of ``method="seasonal_level"``.
LEVEL_MONTHS = 6


def _seasonal_level(
    y: np.ndarray,
    months: np.ndarray,
    h: int,
    levels: Sequence[float],
    lockdown: bool,
    pool: tuple[np.ndarray, np.ndarray] | None = None,
) -> Fit:
    """Seasonal level: the mean of the last :data:`LEVEL_MONTHS` seasonally adjusted log months plus a seasonal
    profile, estimated from ``pool`` (counts and months of the total of series that share a seasonal pattern,
    e.g. a crime type over all districts), cut at the series' last month, or from the series itself.

    Sample paths: a random walk plus noise on the adjusted log scale (local level model), whose variances come
    from the lag-0 and lag-1 autocovariances of the adjusted series' monthly changes (var = q + 2r, lag-one
    covariance = -r), with the error of the k-month mean as an estimate of the current level shared by a path.

    References
    ----------
    Harvey AC (1989). Forecasting, Structural Time Series Models and the Kalman Filter, section 2.3 (local level
    model and the moments of its first differences). Athanasopoulos G, Hyndman RJ, Kourentzes N, Petropoulos F
    (2017). Forecasting with temporal hierarchies; Hyndman RJ, Athanasopoulos G (2021). Forecasting: Principles
    and Practice, 3rd ed., section 11 (seasonal profiles of related series).
    """
    y = _without_lockdown(y, months, lockdown)
    n = len(y)
    if pool is not None:
        pv, pm = pool
        keep = pm <= months[-1]
        pv, pm = np.asarray(pv, dtype=float)[keep], np.asarray(pm)[keep]
        pv = _without_lockdown(pv, pm, lockdown)
        prof = seasonal_profile(pv, pm)
    else:
        prof = seasonal_profile(y, months)
    moy = np.array([int(m[5:7]) for m in months])
    adj = np.log1p(y) - prof[moy - 1]
    seen = np.flatnonzero(np.isfinite(adj))
    if len(seen) == 0:
        raise ValueError("no months to forecast from")
    k = LEVEL_MONTHS
    level = float(np.mean(adj[seen[-k:]]))
    k = min(k, len(seen))
    fut = (moy[-1] + np.arange(1, h + 1) - 1) % _SEASON + 1
    mean_log = level + prof[fut - 1]
    # local level model moments from the changes between consecutive seen months
    d = np.diff(adj)
    ok = np.isfinite(d)
    g0 = float(np.mean(d[ok] ** 2)) if ok.sum() >= 2 else 0.0
    both = ok[1:] & ok[:-1]
    g1 = float(np.mean(d[1:][both] * d[:-1][both])) if both.sum() >= 2 else 0.0
    r = min(max(-g1, 0.0), g0 / 2)
    q = max(g0 - 2 * r, 0.0)
    gap = n - 1 - seen[-1]  # months since the last seen month add random-walk steps
    level_var = r / k + q * (k - 1) * (2 * k - 1) / (6 * k)
    rng = np.random.default_rng(_SEED)
    shared = np.sqrt(level_var + q * gap) * rng.standard_normal((N_PATHS, 1))
    walk = np.sqrt(q) * np.cumsum(rng.standard_normal((N_PATHS, h)), axis=1)
    noise = np.sqrt(r) * rng.standard_normal((N_PATHS, h))
    log_paths = mean_log + shared + walk + noise
    fitted_log = np.full(n, np.nan)
    for t in range(1, n):
        prev = adj[:t][np.isfinite(adj[:t])]
        if len(prev):
            fitted_log[t] = prev[-k:].mean() + prof[moy[t] - 1]
    fitted = np.expm1(fitted_log)
    fitted[~np.isfinite(y)] = np.nan
    # the MAE-optimal point forecast on the count scale is the median, expm1(mean_log)
    return _from_paths(np.expm1(mean_log), np.expm1(log_paths), levels, fitted)


_FITTERS = {
    "snaive": _snaive,
    "naive": _naive,
    "ets": _ets,
    "sarimax": _sarimax,
    "glm": _glm,
    "theta": _theta,
    "seasonal_level": _seasonal_level,
}


def _run(
    method: str,
    y: np.ndarray,
    months: np.ndarray,
    h: int,
    levels: Sequence[float],
    lockdown: bool,
    pool: tuple[np.ndarray, np.ndarray] | None = None,
) -> Fit:
    try:
        if method == "seasonal_level":
            mean, ints, fitted, paths = _seasonal_level(y, months, h, levels, lockdown, pool)
        else:
            mean, ints, fitted, paths = _FITTERS[method](y, months, h, levels, lockdown)
        if not np.all(np.isfinite(mean)) or not np.all(np.isfinite(paths)):
            raise FloatingPointError("non-finite forecast")
    except (ValueError, np.linalg.LinAlgError, FloatingPointError, ZeroDivisionError, IndexError):
        nan = np.full(h, np.nan)
        return nan, {lv: (nan, nan) for lv in levels}, np.full(len(y), np.nan), np.full((N_PATHS, h), np.nan)
    mean = np.clip(mean, 0, None)
    ints = {lv: (np.clip(lo, 0, None), np.clip(hi, 0, None)) for lv, (lo, hi) in ints.items()}
    return mean, ints, np.asarray(fitted, dtype=float), np.clip(paths, 0, None)


# --------------------------------------------------------------------------------------------------
# Backtest and one series
# --------------------------------------------------------------------------------------------------


def _origins(n: int, horizon: int, n_origins: int, step: int, min_train: int) -> list[int]:
    full = [n - horizon - step * k for k in range(n_origins)]
    full = [o for o in full if o >= min_train]
    if full:
        return sorted(full)
    short = [o for o in range(n - step, min_train - 1, -step)][:n_origins]
    return sorted(short)


def _series(job: tuple) -> tuple[list[dict], list[dict], str, dict]:
    """Backtest and forecast one series, with BLAS limited to one thread (small fits run ~10x faster)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it the fits are slower but identical
        return _series_inner(job)
    with threadpool_limits(limits=1):
        return _series_inner(job)


def _combine(fits: Sequence[Fit], levels: Sequence[float]) -> tuple[np.ndarray, dict, np.ndarray]:
    """Equal-weight combination: the mean of the means; intervals from the rank-averaged sample paths."""
    if len(fits) == 1:
        return fits[0][0], fits[0][1], fits[0][3]
    mean = np.mean([f[0] for f in fits], axis=0)
    paths = _rank_average([f[3] for f in fits])
    ints = {lv: tuple(np.quantile(paths, [0.5 - lv / 2, 0.5 + lv / 2], axis=0)) for lv in levels}
    return mean, ints, paths


def _calibration_scores(
    actual: np.ndarray, ints: dict, paths: np.ndarray, skip: np.ndarray | None = None
) -> dict[float, np.ndarray]:
    """Conformity scores of held-out months: how far each falls from the forecast median, on the log(1 + y)
    scale, as a multiple of the interval's half-width on that side (1 = on the limit; under 1 = inside).
    Months flagged in ``skip`` (lockdown months, which the forecasts assume away) are not scored."""
    ok = np.isfinite(actual) & (True if skip is None else ~skip)
    a = np.log1p(actual[ok])
    med = np.log1p(np.median(paths, axis=0)[ok])
    out = {}
    for lv, (lo, hi) in ints.items():
        up, down = np.log1p(hi[ok]) - med, med - np.log1p(lo[ok])
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(a >= med, (a - med) / up, (med - a) / down)
        r = np.where((a == med), 0.0, r)
        out[lv] = np.where(np.isfinite(r), r, 1e6)
    return out


#: Backtest windows of at least this many months (all of them recorded) give a conformity score for totals.
_TOTAL_MIN_MONTHS = 6


def _total_scores(actual_total: float, path_totals: np.ndarray, levels: Sequence[float]) -> dict[float, float]:
    """Conformity score of a held-out total of months: its distance from the median of the sample paths'
    totals on the log(1 + total) scale, in units of the paths' interval half-width on that side (as
    :func:`_calibration_scores` does for single months)."""
    tot = np.log1p(path_totals)
    a = float(np.log1p(actual_total))
    med = float(np.median(tot))
    out = {}
    for lv in levels:
        lo, hi = np.quantile(tot, [0.5 - lv / 2, 0.5 + lv / 2])
        half = (hi - med) if a >= med else (med - lo)
        out[lv] = abs(a - med) / half if half > 0 else (0.0 if a == med else 1e6)
    return out


def _conformal_factor(scores: np.ndarray, level: float, lo: float = 0.25, hi: float = 4.0) -> float | None:
    """The split-conformal quantile ``ceil((n + 1) p) / n`` of n pooled conformity scores (None under 20)."""
    scores = np.asarray(scores, dtype=float)
    if len(scores) < 20:
        return None
    q = min(np.ceil((len(scores) + 1) * level) / len(scores), 1.0)
    return float(np.clip(np.quantile(scores, q, method="higher"), lo, hi))


def _series_inner(job: tuple) -> tuple[list[dict], list[dict], str, dict]:
    (key, y, months, horizon, levels, methods, method, bt_h, n_origins, step, min_train, combine, lockdown, members) = (
        job[:14]
    )
    pool = job[14] if len(job) > 14 else None
    scores = []
    chosen: list[str]
    cand = list(methods)
    if method == "combination":
        cand += [m for m in members if m not in cand]
    elif method != "auto" and method not in cand and n_origins:
        cand.append(method)
    origins = (
        _origins(len(y), bt_h, n_origins, step, min_train) if (method in ("auto", "combination") or n_origins) else []
    )
    origins = [o for o in origins if np.isfinite(y[:o]).sum() >= 6 and np.isfinite(y[o : o + bt_h]).any()]
    runs = {
        (m, o): _run(m, y[:o], months[:o], len(y[o : o + bt_h]), levels, lockdown, pool) for o in origins for m in cand
    }

    def score(name: str, get) -> dict:
        mases, maes, rmses, c80, c95, scored = [], [], [], [], [], 0
        for o in origins:
            test = y[o : o + bt_h]
            mean, ints = get(o)[:2]
            ok = np.isfinite(test) & np.isfinite(mean)
            if not ok.any():
                continue
            err = test[ok] - mean[ok]
            sc = _scale(y[:o])
            mases.append(np.mean(np.abs(err)) / sc if sc > 0 else np.nan)
            maes.append(np.mean(np.abs(err)))
            rmses.append(np.sqrt(np.mean(err**2)))
            for lv, store in ((0.8, c80), (0.95, c95)):
                if lv in ints:
                    lo, hi = ints[lv]
                    store.append(np.mean((test[ok] >= lo[ok]) & (test[ok] <= hi[ok])))
            scored += int(ok.sum())
        return dict(
            key=key,
            method=name,
            origins=len(mases),
            months_scored=scored,
            mase=float(np.mean(mases)) if mases else np.nan,
            mae=float(np.mean(maes)) if maes else np.nan,
            rmse=float(np.mean(rmses)) if rmses else np.nan,
            coverage_80=float(np.mean(c80)) if c80 else np.nan,
            coverage_95=float(np.mean(c95)) if c95 else np.nan,
        )

    def combined(names: Sequence[str], o: int) -> tuple[np.ndarray, dict, np.ndarray]:
        fits = [runs[(m, o)] for m in names if np.all(np.isfinite(runs[(m, o)][0]))]
        if not fits:
            nan = np.full(len(y[o : o + bt_h]), np.nan)
            return nan, {lv: (nan, nan) for lv in levels}, np.full((N_PATHS, len(nan)), np.nan)
        return _combine(fits, levels)

    scores = [score(m, lambda o, m=m: runs[(m, o)]) for m in cand]
    if method == "auto":
        ranked = sorted((s for s in scores if np.isfinite(s["mase"])), key=lambda s: s["mase"])
        chosen = [s["method"] for s in ranked[:combine]] or ["snaive"]
    elif method == "combination":
        chosen = list(members)
        scores.append(score("combination", lambda o: combined(members, o)))
    else:
        chosen = [method]
    # conformity scores of the forecaster actually used, at every backtest origin (pooled over series later)
    calib: dict[float, list[np.ndarray]] = {lv: [] for lv in levels}
    totals: dict[float, list[float]] = {lv: [] for lv in levels}
    for o in origins:
        _, ints, paths = combined(chosen, o)
        if np.all(np.isfinite(paths)):
            test = y[o : o + bt_h]
            skip = _lockdown_flag(months[o : o + bt_h]).astype(bool) if lockdown else None
            for lv, r in _calibration_scores(test, ints, paths, skip).items():
                calib[lv].append(r)
            # the window's total (12 months, or at least _TOTAL_MIN_MONTHS at the end of a short series)
            if len(test) >= _TOTAL_MIN_MONTHS and np.all(np.isfinite(test)):
                for lv, r in _total_scores(test.sum(), paths[:, : len(test)].sum(axis=1), levels).items():
                    totals[lv].append(r)
    fits = [_run(m, y, months, horizon, levels, lockdown, pool) for m in chosen]
    fits = [f for f in fits if np.all(np.isfinite(f[0]))] or [_run("naive", y, months, horizon, levels, lockdown)]
    mean, ints, paths = _combine(fits, levels)
    label = _METHOD_NAMES[chosen[0]] if len(chosen) == 1 else "mean of " + ", ".join(_METHOD_NAMES[c] for c in chosen)
    if method in ("auto", "combination"):
        label = f"{method}: {label}"
    last = pd.Period(months[-1], "M")
    future = [str(last + j) for j in range(1, horizon + 1)]
    median = np.median(paths, axis=0)
    rows = []
    for j in range(horizon):
        row = dict(key=key, month=future[j], mean=float(mean[j]))
        for lv in levels:
            tag = f"{round(lv * 100, 6):g}".replace(".", "_")
            row[f"lower_{tag}"], row[f"upper_{tag}"] = float(ints[lv][0][j]), float(ints[lv][1][j])
        row["method"] = label
        row["_median"] = float(median[j])
        rows.append(row)
    # one-step in-sample errors of the forecast actually used (for a combination, of the mean prediction)
    fitted = np.mean([f[2] for f in fits], axis=0)
    resid = dict(
        key=key,
        month=months,
        fitted=fitted,
        residual=y - fitted,
        paths=paths.astype(np.float32),
        calibration={lv: np.concatenate(v) if v else np.array([]) for lv, v in calib.items()},
        calibration_origins=len(origins),
        total_calibration={lv: np.asarray(v, dtype=float) for lv, v in totals.items()},
    )
    return rows, scores, label, resid


def _widen(paths: np.ndarray, factor: float) -> np.ndarray:
    """Scale sample paths' spread around each month's median by ``factor`` on the log(1 + y) scale."""
    if factor == 1.0:
        return paths
    med = np.log1p(np.median(paths, axis=0))
    return np.expm1(med + factor * (np.log1p(paths) - med))


def _calibrate(table: pd.DataFrame, scores: Sequence[dict], levels: Sequence[float]) -> dict[float, float]:
    """Split-conformal calibration of the interval limits in ``table`` (in place), pooled over series.

    ``scores`` hold, per series and level, the conformity scores of the backtest's held-out months
    (:func:`_calibration_scores`: distance from the forecast median on the log(1 + y) scale in units of the
    interval's half-width on that side). The factor for level p is the ``ceil((n + 1) p) / n`` empirical
    quantile of the n pooled scores, so that the widened interval would have held a share p of them; it is
    applied to both half-widths of every series' interval at that level. Needs at least 20 scores per level;
    factors are kept within [0.25, 4].

    References
    ----------
    Vovk V, Gammerman A, Shafer G (2005). Algorithmic Learning in a Random World. Springer. Lei J, G'Sell M,
    Rinaldo A, Tibshirani RJ, Wasserman L (2018). Distribution-free predictive inference for regression.
    JASA 113:1094-1111 (split conformal).
    """
    out: dict[float, float] = {}
    med = np.log1p(table["_median"].to_numpy(dtype=float))
    for lv in levels:
        r = np.concatenate([s.get(lv, np.array([])) for s in scores]) if scores else np.array([])
        if len(r) < 20:
            continue
        q = min(np.ceil((len(r) + 1) * lv) / len(r), 1.0)
        c = float(np.clip(np.quantile(r, q, method="higher"), 0.25, 4.0))
        out[lv] = c
        tag = f"{round(lv * 100, 6):g}".replace(".", "_")
        lo, hi = (
            np.log1p(table[f"lower_{tag}"].to_numpy(dtype=float)),
            np.log1p(table[f"upper_{tag}"].to_numpy(dtype=float)),
        )
        table[f"lower_{tag}"] = np.clip(np.expm1(med - c * (med - lo)), 0, None)
        table[f"upper_{tag}"] = np.expm1(med + c * (hi - med))
    # keep wider levels' intervals around narrower ones
    tags = [f"{round(lv * 100, 6):g}".replace(".", "_") for lv in sorted(levels)]
    for a, b in zip(tags, tags[1:], strict=False):
        table[f"lower_{b}"] = np.minimum(table[f"lower_{b}"], table[f"lower_{a}"])
        table[f"upper_{b}"] = np.maximum(table[f"upper_{b}"], table[f"upper_{a}"])
    return out


def _rank_average(paths: Sequence[np.ndarray]) -> np.ndarray:
    """Combine several methods' sample paths by averaging them rank by rank of their total over the horizon.

    Each method's paths are sorted by their total and the k-th paths are averaged, so the combined
    distribution of the total is the average of the methods' quantiles (quantile averaging, which is sharper
    than the mixture of the methods' distributions, whose spread is set by the widest method).

    References
    ----------
    Lichtendahl KC, Grushka-Cockayne Y, Winkler RL (2013). Is it better to average probabilities or
    quantiles? Management Science 59:1594-1611.
    """
    if len(paths) == 1:
        return paths[0]
    return np.mean([p[np.argsort(p.sum(axis=1), kind="stable")] for p in paths], axis=0)


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def _block_totals(
    t: pd.DataFrame,
    keys: Sequence[str],
    paths: Mapping[tuple, np.ndarray] | None,
    calibration: Mapping[float, float],
    block: pd.Series,
    what: str,
    total_calibration: Mapping[float, float] | None = None,
) -> pd.DataFrame:
    """Totals of a forecast table per series and block of months, limits from the sample paths when given.

    ``t`` is a forecast table (keys, ``month``, ``mean``, limits, ``method``); optional columns ``_factor``
    and ``_add`` (a scenario) scale and shift each month of every path after calibration, as the scenario
    did to the monthly table. With ``total_calibration`` (level -> factor), a level's limits come from the
    uncalibrated paths' totals, their spread around the median total scaled by the factor on the log(1 + total)
    scale (the conformal calibration of totals, :func:`forecast`); other levels use ``calibration``.
    """
    total_calibration = dict(total_calibration or {})
    keys = list(keys)
    name = str(block.name)
    t[name] = block.to_numpy()
    # each series' paths start at its own first forecast month
    start = t.groupby(keys, observed=True)["month"].transform("min") if keys else t["month"].min()
    t["_pos"] = (t["month"] - start).map(lambda d: d.n).astype(int)
    cols = ["mean"] + [c for c in t.columns if c.startswith(("lower_", "upper_"))]
    grouped = t.groupby([*keys, name], observed=True, sort=True)
    out = grouped[cols].sum().reset_index()
    span = grouped["month"].agg(["min", "max", "size"])
    out["months"] = span["size"].to_numpy()
    out["period"] = [f"{a} to {b}" for a, b in zip(span["min"], span["max"], strict=True)]
    out["method"] = grouped["method"].first().to_numpy()
    out["interval"] = "sum of monthly limits (errors taken as perfectly correlated; conservative)"
    if not paths:
        return out
    limit_cols = [c for c in cols if c != "mean"]
    for i, (gkey, part) in enumerate(grouped):
        gkey = gkey if isinstance(gkey, tuple) else (gkey,)
        p = paths.get(tuple(gkey[: len(keys)]))
        if p is None or p.shape[1] <= part["_pos"].max():
            continue
        sel = np.asarray(p, dtype=float)[:, part["_pos"].to_numpy()]
        factor = part["_factor"].to_numpy(dtype=float) if "_factor" in part else 1.0
        add = part["_add"].to_numpy(dtype=float) if "_add" in part else 0.0
        for c in limit_cols:
            side, tag = c.split("_", 1)
            lv = float(tag.replace("_", ".")) / 100
            q = 0.5 - lv / 2 if side == "lower" else 0.5 + lv / 2
            if lv in total_calibration:
                totals = np.log1p(np.clip((sel * factor + add).sum(axis=1), 0, None))
                med = float(np.median(totals))
                out.loc[i, c] = float(np.expm1(med + total_calibration[lv] * (np.quantile(totals, q) - med)))
            else:
                totals = (_widen(sel, calibration.get(lv, 1.0)) * factor + add).sum(axis=1)
                out.loc[i, c] = float(np.quantile(totals, q))
        out.loc[i, "interval"] = f"quantiles of {len(sel)} simulated {what} totals" + (
            " (totals calibrated on the backtest)" if total_calibration else " (calibrated)" if calibration else ""
        )
    return out


@dataclass
class ForecastResult:
    """Forecasts with their backtest.

    Attributes
    ----------
    table : keys, ``month`` (Period), ``mean``, ``lower_80, upper_80, lower_95, upper_95`` and ``method``.
    backtest : per series and candidate method: ``origins, months_scored, mase, mae, rmse, coverage_80,
        coverage_95`` and ``chosen`` (True for the method(s) used).
    history : the input series as used (keys, ``month``, ``count``; missing months as NaN).
    keys : the key columns.
    notes : what was done with missing and lockdown months.
    residuals : in-sample one-step-ahead errors of the forecast used for each series (keys, ``month``,
        ``fitted``, ``residual`` = count - fitted; NaN where the model saw no count or was starting up), or
        None when not available (e.g. a result built by hand). :func:`reconcile` uses them for MinT.
    settings : the :func:`forecast` arguments that produced the result, so that aggregate levels can be
        forecast the same way.
    paths : simulated sample paths of each series' forecast (key tuple, ``()`` for one series -> array of
        :data:`N_PATHS` paths x horizon months, counts), from which the monthly intervals come and
        :meth:`yearly` takes the distribution of totals; None for a result built by hand. Stored as the
        models gave them (before calibration).
    calibration : interval level -> the factor applied to the half-widths of that level's intervals on the
        log(1 + y) scale (:func:`forecast` with ``calibrate``); empty when not calibrated.
    total_calibration : interval level -> the factor applied to the spread of the paths' totals (log scale)
        in :meth:`yearly` and :meth:`financial_years`: the split-conformal quantile of the backtest windows'
        totals (:func:`forecast` with ``calibrate``); empty when not calibrated.
    """

    table: pd.DataFrame
    backtest: pd.DataFrame
    history: pd.DataFrame
    keys: list[str]
    levels: tuple[float, ...] = (0.8, 0.95)
    notes: list[str] = field(default_factory=list)
    residuals: pd.DataFrame | None = None
    settings: dict = field(default_factory=dict)
    paths: dict[tuple, np.ndarray] | None = None
    calibration: dict[float, float] = field(default_factory=dict)
    total_calibration: dict[float, float] = field(default_factory=dict)

    def summary(self) -> str:
        """Text summary: methods chosen and backtest accuracy."""
        lines = [
            "Forecast",
            "=" * 8,
            f"Series: {self.table.groupby(self.keys, observed=True).ngroups if self.keys else 1}; "
            f"horizon {self.table['month'].nunique()} months "
            f"({self.table['month'].min()} to {self.table['month'].max()})",
        ]
        if not self.backtest.empty:
            acc = self.backtest.groupby("method")[["mase", "coverage_80", "coverage_95"]].mean()
            lines.append("Backtest (mean over series): method, MASE, 80% and 95% interval coverage")
            for m, r in acc.iterrows():
                lines.append(
                    f"  {m:<8} MASE {r['mase']:.2f}  cover80 {100 * r['coverage_80']:.0f}%  "
                    f"cover95 {100 * r['coverage_95']:.0f}%"
                )
        used = self.table.drop_duplicates([*self.keys, "method"])["method"].value_counts()
        lines.append("Methods used: " + "; ".join(f"{m} ({n})" for m, n in used.items()))
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{self.summary()}</pre>"

    def yearly(self) -> pd.DataFrame:
        """Forecast totals per 12-month block ahead (year 1, year 2), with intervals for the totals.

        The interval of a total is taken from the simulated sample paths (:attr:`paths`): each path's months
        are added up and the quantiles of those totals are the limits, so the correlation of months' errors
        (a high month tends to follow a high month, and a trend's error is shared by all months) is kept,
        neither assumed perfect nor ignored. Interval limits of months are not additive: adding them, as
        this method did before, gave "80%" ranges that held 99-100% of simulated yearly totals.

        Without paths (a result built by hand) the limits are the sums of the monthly limits, which assumes
        perfectly correlated errors and is conservative (wide); ``interval`` says which was used.

        Returns
        -------
        One row per series and block: keys, ``year_ahead``, ``mean``, ``lower_80, upper_80, lower_95,
        upper_95`` (the levels forecast), ``months``, ``period``, ``method`` and ``interval``.
        """
        t = self.table.copy()
        # each series' blocks start at its own first forecast month (a series whose counts end early, e.g. a
        # rare crime type with no recent rows, starts its forecast early; a block from the earliest month of
        # all series would split its year in two)
        first = t.groupby(self.keys, observed=True)["month"].transform("min") if self.keys else t["month"].min()
        block = ((t["month"] - first).map(lambda d: d.n) // 12 + 1).astype(int).rename("year_ahead")
        return self._totals(t, block, "yearly")

    def financial_years(self) -> pd.DataFrame:
        """Forecast totals per financial year (April to March), with intervals from the sample paths.

        As :meth:`yearly`, with blocks that are financial years; years the forecast covers only in part have
        ``months`` under 12. Meant for annual planning figures (e.g. lot volumes) in place of sums of monthly
        limits.

        Examples
        --------
        >>> months = pd.period_range("2021-04", periods=36, freq="M")
        >>> t = pd.DataFrame({"month": months, "count": [100.0] * 36})
        >>> fy = forecast(t, horizon=14, method="naive", origins=0).financial_years()
        >>> fy[["financial_year", "months", "mean"]].values.tolist()
        [['2024/25', 12, 1200.0], ['2025/26', 2, 200.0]]
        """
        from victimneeds.periods import financial_year

        t = self.table.copy()
        return self._totals(t, financial_year(t["month"]).set_axis(t.index), "financial-year")

    def _totals(self, t: pd.DataFrame, block: pd.Series, what: str) -> pd.DataFrame:
        return _block_totals(t, self.keys, self.paths, self.calibration, block, what, self.total_calibration)

    def plot(self, key: object | None = None, ax: Axes | None = None, title: str | None = None,
             history_months: int | None = 36) -> Axes:
        """Fan chart for one series: recent history, forecast mean, 80% and 95% intervals.

        ``history_months`` of recorded history are shown before the forecast (all of it with None), so the
        forecast takes a fair share of the width; the legend sits under the chart.
        """
        import matplotlib.pyplot as plt

        from victimneeds.plotting import PALETTE, date_axis, legend_below, page_size

        t, hist = self.table, self.history
        if self.keys:
            if key is None:
                key = tuple(t[self.keys].iloc[0])
            key = key if isinstance(key, tuple) else (key,)
            sel_t = np.logical_and.reduce([t[k] == v for k, v in zip(self.keys, key, strict=True)])
            sel_h = np.logical_and.reduce([hist[k] == v for k, v in zip(self.keys, key, strict=True)])
            t, hist = t[sel_t], hist[sel_h]
            name = ", ".join(map(str, key))
        else:
            name = "All"
        if t.empty:
            raise ValueError(f"No forecast for series {key!r}.")
        if history_months is not None and len(hist):
            hist = hist[hist["month"] > hist["month"].max() - history_months]
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(3.6))
        xh = hist["month"].dt.to_timestamp()
        xf = t["month"].dt.to_timestamp()
        ax.plot(xh, hist["count"], color=PALETTE[4], marker="o", markersize=2.5, label="Recorded")
        for lv, alpha in ((95, 0.18), (80, 0.35)):
            if f"lower_{lv}" in t:
                ax.fill_between(
                    xf, t[f"lower_{lv}"], t[f"upper_{lv}"], color=PALETTE[0], alpha=alpha, label=f"{lv}% interval"
                )
        ax.plot(xf, t["mean"], color=PALETTE[0], linestyle="--", label="Forecast")
        ax.set_ylim(bottom=0)
        ax.set_ylabel("Per month")
        ax.set_title(title or f"{name}: forecast ({t['method'].iloc[0]})")
        ax.set_xlim(min(xh.min(), xf.min()) if len(xh) else xf.min(), xf.max())
        date_axis(ax)
        legend_below(ax)
        return ax


def forecast(
    counts: pd.DataFrame,
    horizon: int = 24,
    keys: Sequence[str] = (),
    month: str = "month",
    value: str = "count",
    method: str = "combination",
    levels: Sequence[float] = (80, 95),
    methods: Sequence[str] | None = None,
    backtest_horizon: int = 12,
    origins: int = 3,
    step: int = 6,
    min_train: int = 15,
    combine: int = 2,
    lockdown: bool = True,
    n_jobs: int = 1,
    combination: Sequence[str] = COMBINATION,
    calibrate: bool = True,
    season_keys: Sequence[str] | None = None,
) -> ForecastResult:
    """Forecast monthly counts per series, with a rolling-origin backtest of every candidate method.

    Parameters
    ----------
    counts : long table, one row per series and month.
    horizon : months ahead to forecast.
    keys : columns naming the series (e.g. ``["district_code", "crime_group"]``); empty for one series.
    month : month column (Period, or text 'YYYY-MM'). Months missing between a series' first and last month
        are kept as gaps (see the module notes for how each method treats them).
    value : count column.
    method : ``"combination"`` (default: the equal-weight mean of the methods in ``combination``, the same
        for every series), ``"auto"`` (per series, the method with the lowest backtest MASE, or the mean of
        the best ``combine``), or one of ``snaive, naive, ets, sarimax, glm, theta, seasonal_level``. The
        default was chosen on a rolling-origin evaluation over two forces (``bench/forecast_origins.py`` and
        ``bench/forecast_pooled.py``, 4 origins, horizons 1-12): the combination of seasonal naive, naive,
        SARIMAX and the seasonal level had a geometric-mean MAE of 0.71-0.74 of seasonal naive's at force x
        crime type and 0.81 at district x crime type, against 0.73-0.74 and 0.83-0.84 without the seasonal
        level and 0.80 for ``"auto"``, whose per-series pick from three short backtest windows is noisy.
        Weights or members chosen from the backtest pooled over a force's series did no better than equal
        weights (see the bench).
    levels : interval levels in percent (or fractions).
    methods : the candidates ``"auto"`` chooses among (all are backtested and reported in ``backtest``).
        Default (None): :data:`AUTO_METHODS` for ``"auto"`` and a named method; for ``"combination"``, only
        its members (the other candidates' backtests would not change the forecast, only take time); give
        ``methods`` to have more methods backtested alongside.
    backtest_horizon, origins, step, min_train : the rolling-origin backtest: up to ``origins`` forecast
        origins, ``step`` months apart, each forecasting ``backtest_horizon`` months, with at least
        ``min_train`` months before each origin (shorter series get shorter test windows). ``origins=0``
        skips the backtest when ``method`` is not "auto".
    combine : with ``"auto"``, average this many best methods (1 = pick the best; 2 by default, as
        combinations are more robust than any single pick).
    lockdown : treat the 2020-21 lockdown months as described in the module notes.
    n_jobs : processes to use across series (-1 = all cores).
    combination : the methods ``method="combination"`` averages (:data:`COMBINATION` by default); its
        intervals come from the members' sample paths averaged rank by rank (quantile averaging).
    season_keys : for ``seasonal_level``, the key columns whose series share one seasonal profile: the profile
        is that of the total of the series agreeing on them (e.g. ``["crime_group"]`` with keys
        ``["district_code", "crime_group"]``: a crime group's profile from all districts together, far less
        noisy than one district's). None (default): every series uses its own profile.
    calibrate : when the backtest ran with its full ``origins`` (at least 3) for every series long enough
        to have a backtest, widen or narrow each level's intervals (of all series) by a split-conformal factor
        pooled over the series (the share of backtest months, lockdown months excepted, that intervals of
        that width would have held; see ``ForecastResult.calibration`` and ``notes``). Backtest windows that
        are few, or fall in 2020-21, are not used. Separately, yearly and financial-year ranges are calibrated
        from the totals of the backtest windows (every window of at least 6 recorded months, pooled over series,
        at least 20): the spread of the sample paths' totals on the log scale is scaled by the split-conformal
        factor (``ForecastResult.total_calibration``), because months' errors are more alike than the models'
        paths assume at some levels and less at others. Checked on held-out origins in
        ``bench/forecast_pooled.py`` (factors from windows known before each origin): at district x crime type
        the 80% yearly ranges of the default held 80% and 89% of true totals (Leicestershire, Avon and
        Somerset), against 96% and 95% uncalibrated; at force x crime type (14 series, too few windows to
        calibrate within the shorter training spans of the evaluation) they held 84-100%.

    Returns
    -------
    ForecastResult with ``.table`` (means and limits are never negative), ``.backtest``, ``.summary()``,
    ``.plot()`` and ``.yearly()``.

    References
    ----------
    Tashman LJ (2000). Out-of-sample tests of forecasting accuracy: an analysis and review. International
    Journal of Forecasting 16:437-450. Hyndman RJ, Koehler AB (2006). International Journal of Forecasting
    22:679-688. Hyndman RJ, Koehler AB, Ord JK, Snyder RD (2008). Forecasting with Exponential Smoothing:
    the State Space Approach. Springer. Gardner ES, McKenzie E (1985). Forecasting trends in time series.
    Management Science 31:1237-1246 (damped trend). Box GEP, Jenkins GM (1976). Time Series Analysis.
    Hilbe JM (2011). Negative Binomial Regression, 2nd ed. Cambridge University Press.

    Examples
    --------
    A series that repeats the same 12 months every year is forecast exactly by the seasonal naive method:

    >>> months = pd.period_range("2020-01", periods=36, freq="M")
    >>> pattern = [50, 52, 60, 58, 66, 70, 75, 72, 64, 60, 55, 80]
    >>> t = pd.DataFrame({"month": months, "count": pattern * 3})
    >>> fc = forecast(t, horizon=12, method="snaive")
    >>> fc.table["mean"].tolist() == [float(v) for v in pattern]
    True
    """
    keys = list(keys)
    missing = [c for c in [*keys, month, value] if c not in counts.columns]
    if missing:
        raise KeyError(f"forecast: the counts table has no column(s) {missing}; it has {list(counts.columns)}")
    if method not in ("auto", "combination") and method not in _FITTERS:
        raise ValueError(f"forecast: method must be 'combination', 'auto' or one of {list(_FITTERS)}, not {method!r}")
    bad = [m for m in combination if m not in _FITTERS]
    if bad or not combination:
        raise ValueError(f"forecast: combination must name methods from {list(_FITTERS)}, not {list(combination)}")
    if methods is None:
        methods = tuple(combination) if method == "combination" else AUTO_METHODS
    bad = [m for m in methods if m not in _FITTERS]
    if bad:
        raise ValueError(f"forecast: unknown candidate methods {bad}; choose from {list(_FITTERS)}")
    lv = tuple(sorted(float(v) / 100 if float(v) > 1 else float(v) for v in levels))
    if horizon < 1:
        raise ValueError("forecast: horizon must be at least 1 month")
    data = pd.DataFrame({c: counts[c] for c in [*keys, month]})
    m = counts[month]
    data[month] = m if isinstance(m.dtype, pd.PeriodDtype) else pd.PeriodIndex(m.astype(str), freq="M")
    y = pd.to_numeric(counts[value], errors="coerce")
    bad_rows = (y.isna() & counts[value].notna()) | (y < 0)
    if bad_rows.any():
        raise ValueError(
            f"forecast: column {value!r} has {int(bad_rows.sum())} values that are not counts "
            f"(negative or not numbers), e.g. rows {list(counts.index[bad_rows][:5])}"
        )
    data["count"] = y.to_numpy(dtype=float)
    dups = data.duplicated([*keys, month])
    if dups.any():
        raise ValueError(
            f"forecast: {int(dups.sum())} rows repeat a series and month (e.g. rows "
            f"{list(counts.index[dups][:5])}); give one row per series and month"
        )
    groups = data.groupby(keys, observed=True, sort=True) if keys else [((), data)]
    pools: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
    if season_keys is not None:
        season_keys = list(season_keys)
        bad = [k for k in season_keys if k not in keys]
        if bad:
            raise ValueError(f"forecast: season_keys {bad} are not among the keys {keys}")
        for skey, part in data.groupby(season_keys, observed=True, sort=True) if season_keys else [((), data)]:
            tot = part.groupby(month)["count"].sum(min_count=1).sort_index()
            full = pd.period_range(tot.index.min(), tot.index.max(), freq="M")
            tot = tot.reindex(full)
            pools[skey if isinstance(skey, tuple) else (skey,)] = (tot.to_numpy(float), full.astype(str).to_numpy())
    jobs, hist, notes = [], [], []
    gaps = 0
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        s = part.set_index(month)["count"].sort_index()
        s = s.dropna()
        if s.empty:
            notes.append(f"series {key} has no counts and is not forecast")
            continue
        full = pd.period_range(s.index.min(), s.index.max(), freq="M")
        s = s.reindex(full)
        gaps += int(s.isna().sum())
        months_s = full.astype(str).to_numpy()
        h = pd.DataFrame({month: full, "count": s.to_numpy()})
        for k, v in zip(keys, key, strict=True):
            h[k] = v
        hist.append(h)
        jobs.append(
            (
                key,
                s.to_numpy(dtype=float),
                months_s,
                horizon,
                lv,
                tuple(methods),
                method,
                backtest_horizon,
                origins,
                step,
                min_train,
                combine,
                lockdown,
                tuple(combination),
                pools.get(tuple(v for k, v in zip(keys, key, strict=True) if k in season_keys))
                if season_keys is not None
                else None,
            )
        )
    if not jobs:
        raise ValueError("forecast: no series with counts to forecast")
    if gaps:
        notes.append(f"{gaps} missing months inside the series kept as gaps (not dropped, not set to zero)")
    if lockdown:
        notes.append(
            "lockdown months " + ", ".join(LOCKDOWN_MONTHS) + ": indicator in glm and sarimax (assumed "
            "absent ahead), zero weight in ets; the snaive and naive baselines are unadjusted"
        )
    workers = (os.cpu_count() or 1) if n_jobs == -1 else max(int(n_jobs), 1)
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            results = list(pool.map(_series, jobs))
    else:
        results = [_series(j) for j in jobs]
    rows, scores, labels, resids, paths = [], [], {}, [], {}
    for (r, s, label, e), job in zip(results, jobs, strict=True):
        rows += r
        scores += s
        labels[job[0]] = label
        paths[job[0]] = e["paths"]
        resids.append(
            pd.DataFrame(
                {
                    "key": [e["key"]] * len(e["month"]),
                    "month": e["month"],
                    "fitted": e["fitted"],
                    "residual": e["residual"],
                }
            )
        )
    table = pd.DataFrame(rows)
    tested = [r[3]["calibration_origins"] for r in results if r[3]["calibration_origins"] > 0]
    enough = bool(tested) and min(tested) >= _CALIBRATE_MIN_ORIGINS
    cal = _calibrate(table, [r[3]["calibration"] for r in results], lv) if calibrate and enough else {}
    table = table.drop(columns="_median")
    tcal: dict[float, float] = {}
    if calibrate:
        for level in lv:
            pooled = np.concatenate([np.atleast_1d(r[3]["total_calibration"][level]) for r in results])
            f = _conformal_factor(pooled, level, 0.25, 10.0)
            if f is not None:
                tcal[level] = f
    if tcal:
        notes.append(
            "yearly ranges calibrated on the backtest's totals (conformal, pooled over series): spread of the "
            "path totals on the log scale " + ", ".join(f"{round(100 * k):g}% x{v:.2f}" for k, v in tcal.items())
        )
    if cal:
        notes.append(
            "intervals calibrated on the backtest (conformal, pooled over series): half-widths on the log scale "
            + ", ".join(f"{round(100 * k):g}% x{v:.2f}" for k, v in cal.items())
        )
    residuals = pd.concat(resids, ignore_index=True)
    bt = pd.DataFrame(scores)

    def expand(frame: pd.DataFrame) -> pd.DataFrame:
        kv = pd.DataFrame(frame.pop("key").tolist(), columns=keys, index=frame.index) if keys else None
        return pd.concat([kv, frame], axis=1) if kv is not None else frame

    table = expand(table)
    table["month"] = pd.PeriodIndex(table["month"], freq="M")
    residuals = expand(residuals)
    residuals["month"] = pd.PeriodIndex(residuals["month"], freq="M")
    if not bt.empty:
        bt = expand(bt)
        bt["chosen"] = [
            _METHOD_NAMES[mm] in labels[tuple(r)] if keys else _METHOD_NAMES[mm] in labels[()]
            for mm, r in zip(
                bt["method"], bt[keys].itertuples(index=False, name=None) if keys else [()] * len(bt), strict=True
            )
        ]
    history = pd.concat(hist, ignore_index=True)[[*keys, month, "count"]].rename(columns={month: "month"})
    settings = dict(
        horizon=horizon,
        method=method,
        levels=tuple(round(100 * v, 6) for v in lv),
        methods=tuple(methods),
        backtest_horizon=backtest_horizon,
        origins=origins,
        step=step,
        min_train=min_train,
        combine=combine,
        lockdown=lockdown,
        n_jobs=n_jobs,
        combination=tuple(combination),
        calibrate=calibrate,
        season_keys=None if season_keys is None else tuple(season_keys),
    )
    return ForecastResult(
        table=table,
        backtest=bt,
        history=history,
        keys=keys,
        levels=lv,
        notes=notes,
        residuals=residuals,
        settings=settings,
        paths=paths,
        calibration=cal,
        total_calibration=tcal,
    )


# --------------------------------------------------------------------------------------------------
# Coherence
# --------------------------------------------------------------------------------------------------


RECONCILE_METHODS: tuple[str, ...] = ("bottom_up", "mint_shrink", "wls", "ols")
_RECONCILE_NAMES = {
    "mint_shrink": "MinT (shrinkage covariance)",
    "wls": "WLS (error variances)",
    "ols": "OLS",
}


def summing_matrix(
    bottom: pd.DataFrame, keys: Sequence[str], levels: Sequence[Sequence[str]] = ((),)
) -> tuple[np.ndarray, pd.DataFrame]:
    """The summing matrix S of a hierarchy (or grouped structure): all series = S x bottom series.

    Parameters
    ----------
    bottom : one row per bottom-level series, with the ``keys`` columns (other columns are ignored and
        repeated rows collapse to one series).
    keys : the key columns of the bottom level.
    levels : the aggregate levels, each the key columns it keeps (``()`` is the grand total).

    Returns
    -------
    S : array of shape (aggregate series + bottom series, bottom series): the aggregates first, level by
        level in the order given, then the identity block of the bottom series.
    series : one row per row of S: the key columns (``"All"`` where a level sums over a key) and ``level``
        ("bottom", "total", or the kept keys joined by "+").

    Examples
    --------
    >>> b = pd.DataFrame({"district": ["A", "A", "B"], "group": ["x", "y", "x"]})
    >>> S, series = summing_matrix(b, ["district", "group"], [(), ("district",)])
    >>> S.astype(int).tolist()
    [[1, 1, 1], [1, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]
    >>> series["level"].tolist()
    ['total', 'district', 'district', 'bottom', 'bottom', 'bottom']
    """
    keys = list(keys)
    b = bottom[keys].drop_duplicates().reset_index(drop=True)
    blocks, labels = [], []
    for keep in levels:
        keep = list(keep)
        unknown = [k for k in keep if k not in keys]
        if unknown:
            raise ValueError(f"reconcile: level {keep} names columns {unknown} that are not forecast keys {keys}")
        if keep:
            code, uniq = pd.MultiIndex.from_frame(b[keep]).factorize(sort=True)
            lab = pd.DataFrame(list(uniq), columns=keep)
        else:
            code, lab = np.zeros(len(b), dtype=int), pd.DataFrame(index=[0])
        block = np.zeros((len(lab), len(b)))
        block[code, np.arange(len(b))] = 1.0
        for k in keys:
            if k not in keep:
                lab[k] = "All"
        lab["level"] = "+".join(keep) if keep else "total"
        blocks.append(block)
        labels.append(lab[[*keys, "level"]])
    blocks.append(np.eye(len(b)))
    labels.append(b.assign(level="bottom"))
    series = pd.concat(labels, ignore_index=True)
    for k in keys:
        series[k] = series[k].astype(object)
    return np.vstack(blocks), series


def shrink_covariance(residuals: np.typing.ArrayLike) -> tuple[np.ndarray, float]:
    """Covariance of forecast errors shrunk towards its diagonal, with the Schafer-Strimmer intensity.

    ``W = D^(1/2) [(1 - lambda) R + lambda I] D^(1/2)``: D holds each series' error variance and R the error
    correlations. Moments are uncentred (base forecast errors are taken to have mean zero, as in
    Wickramasuriya et al. 2019). ``lambda = sum_{i != j} Var(r_ij) / sum_{i != j} r_ij^2`` (Schafer and
    Strimmer 2005, target D), cut to [0, 1]. Missing errors (NaN) are handled pairwise: each variance from
    the months the series has, each correlation from the months both have (pairs sharing fewer than 2 months
    get correlation 0). If the pairwise matrix is not positive definite, lambda is raised just enough to make
    it so. Variances of 0 (a series with no errors, e.g. all counts zero) are floored at 1e-6 of the largest
    variance; a series with no errors at all gets the median variance.

    Parameters
    ----------
    residuals : array (months, series) of one-step forecast errors, NaN where missing.

    Returns
    -------
    (W, lambda)

    References
    ----------
    Schafer J, Strimmer K (2005). A shrinkage approach to large-scale covariance matrix estimation and
    implications for functional genomics. Statistical Applications in Genetics and Molecular Biology 4(1):32.
    Wickramasuriya SL, Athanasopoulos G, Hyndman RJ (2019). Optimal forecast reconciliation for hierarchical
    and grouped time series through trace minimization. JASA 114:804-819.

    Examples
    --------
    Orthogonal errors of equal size give the identity (no correlation to shrink):

    >>> e = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])
    >>> W, lam = shrink_covariance(e)
    >>> W.tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    x = np.asarray(residuals, dtype=float)
    if x.ndim != 2:
        raise ValueError("shrink_covariance: residuals must be a 2-d array (months x series)")
    mask = np.isfinite(x)
    m = mask.astype(float)
    x0 = np.where(mask, x, 0.0)
    n_i = m.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (x0**2).sum(axis=0) / n_i
    have = np.isfinite(var) & (var > 0)
    if not have.any():
        var = np.ones_like(var)
    else:
        var = np.where(np.isfinite(var), var, np.median(var[have]))
        var = np.maximum(var, 1e-6 * var.max())
    sd = np.sqrt(var)
    xs = x0 / sd
    npair = m.T @ m
    ok = npair >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(ok, (xs.T @ xs) / npair, 0.0)
        w2 = (xs**2).T @ (xs**2)
        var_r = np.where(ok, (w2 - npair * r**2) / (npair * (npair - 1)), 0.0)
    off = ~np.eye(x.shape[1], dtype=bool)
    num, den = float(var_r[off].sum()), float((r[off] ** 2).sum())
    lam = 1.0 if den <= 0 else float(np.clip(num / den, 0.0, 1.0))
    r0 = np.where(off, r, 1.0)
    e_min = float(np.linalg.eigvalsh(r0).min()) if x.shape[1] else 1.0
    eps = 1e-6
    if (1 - lam) * e_min + lam < eps:  # eigenvalues of (1 - lam) R0 + lam I are (1 - lam) e + lam
        lam = float((eps - e_min) / (1 - e_min))
    corr = (1 - lam) * r0 + lam * np.eye(x.shape[1])
    return corr * np.outer(sd, sd), lam


def mint_matrix(S: np.typing.ArrayLike, W: np.typing.ArrayLike) -> np.ndarray:
    """The MinT (generalised least squares) reconciliation matrix ``G = (S' W^-1 S)^-1 S' W^-1``.

    Reconciled forecasts of all series are ``S G yhat``; reconciled bottom-level forecasts are ``G yhat``.
    ``W = I`` gives OLS reconciliation (Hyndman et al. 2011); a diagonal W of error variances gives WLS.
    Since ``G S = I``, forecasts that already add up are returned unchanged.

    References
    ----------
    Wickramasuriya SL, Athanasopoulos G, Hyndman RJ (2019). Optimal forecast reconciliation for hierarchical
    and grouped time series through trace minimization. JASA 114:804-819.

    Examples
    --------
    Total 10 and parts 4 and 4 (which add to 8): OLS spreads the gap of 2 over the three series.

    >>> S = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    >>> (S @ mint_matrix(S, np.eye(3)) @ [10.0, 4.0, 4.0]).round(6).tolist()
    [9.333333, 4.666667, 4.666667]
    """
    S, W = np.asarray(S, dtype=float), np.asarray(W, dtype=float)
    winv_s = np.linalg.solve(W, S)
    return np.linalg.solve(S.T @ winv_s, winv_s.T)


def aggregate_forecasts(
    result: ForecastResult, levels: Sequence[Sequence[str]] = ((),), horizon: int | None = None
) -> list[ForecastResult]:
    """Base forecasts of aggregate levels, made from the summed bottom-level history as ``result`` was made.

    Each level's series are the sums of ``result.history`` over the keys it drops (a month counts as a gap
    only if every part lacks it; otherwise missing parts count as zero), forecast by :func:`forecast` with
    ``result.settings`` (the same method, candidates, backtest and lockdown treatment). These are the base
    forecasts :func:`reconcile` needs for MinT, WLS and OLS.

    Parameters
    ----------
    result : a bottom-level :class:`ForecastResult` made by :func:`forecast`.
    levels : the aggregate levels, each the key columns it keeps (``()`` for the area total).
    horizon : months ahead (default: as many months as ``result.table`` has).

    Returns
    -------
    One ForecastResult per level, in the order given.

    Examples
    --------
    >>> months = pd.period_range("2022-01", periods=24, freq="M")
    >>> t = pd.DataFrame({"district": ["A"] * 24 + ["B"] * 24, "month": months.append(months),
    ...                   "count": [5.0] * 24 + [7.0] * 24})
    >>> fc = forecast(t, horizon=2, keys=["district"], method="naive")
    >>> aggregate_forecasts(fc)[0].table["mean"].tolist()
    [12.0, 12.0]
    """
    if not result.settings:
        raise ValueError(
            "aggregate_forecasts: the forecast result has no record of its settings (it was not made by "
            "forecast()); forecast the aggregate levels yourself and pass them to reconcile as `base`"
        )
    if horizon is None:
        horizon = int(result.table["month"].nunique())
    hist = result.history
    out = []
    for keep in levels:
        keep = list(keep)
        unknown = [k for k in keep if k not in result.keys]
        if unknown:
            raise ValueError(f"aggregate_forecasts: level {keep} names columns {unknown} that are not forecast keys")
        grouped = hist.groupby([*keep, "month"], observed=True, sort=True)["count"]
        agg = grouped.sum(min_count=1).reset_index()
        opts = {k: v for k, v in result.settings.items() if k != "horizon"}
        if opts.get("season_keys") is not None:  # a shared seasonal profile among the level's own keys
            opts["season_keys"] = tuple(k for k in opts["season_keys"] if k in keep)
        out.append(forecast(agg, horizon=horizon, keys=keep, month="month", value="count", **opts))
    return out


def _wide(frame: pd.DataFrame, keep: list[str], col: str, months: pd.PeriodIndex) -> pd.DataFrame:
    """One row per series (indexed by the tuple of kept keys, () for a total), one column per month."""
    f = frame.copy()
    f["_id"] = list(f[keep].itertuples(index=False, name=None)) if keep else [()] * len(f)
    w = f.pivot_table(index="_id", columns="month", values=col, aggfunc="first", dropna=False)
    return w.reindex(columns=months)


def reconcile(
    result: ForecastResult,
    levels: Sequence[Sequence[str]] = ((),),
    confidence_levels: Sequence[int] = (80, 95),
    method: str = "bottom_up",
    base: Sequence[ForecastResult] | None = None,
) -> pd.DataFrame:
    """Coherent forecasts: the parts add up to the district and area totals.

    ``method="bottom_up"`` (default) sums the bottom-level forecasts. The means of the aggregates are the sums
    of the bottom-level means. Interval limits do not add; the aggregate's limits come from a normal
    approximation with the bottom-level variances summed (errors taken as independent), each variance read
    from the bottom series' 95% interval, ``((upper - lower) / (2 z))^2``; lower limits are cut at 0.

    ``method="mint_shrink"``, ``"wls"`` or ``"ols"`` reconcile base forecasts made at every level
    (Wickramasuriya et al. 2019): with S the summing matrix (:func:`summing_matrix`) and yhat the base
    forecasts of all series, the reconciled forecasts are ``S G yhat`` with ``G = (S' W^-1 S)^-1 S' W^-1``
    (:func:`mint_matrix`). W is, for ``mint_shrink``, the covariance of the in-sample one-step errors of the
    base forecasts shrunk towards its diagonal (:func:`shrink_covariance`); for ``wls`` its diagonal alone;
    for ``ols`` the identity. The aggregates' base forecasts are ``base`` if given, else made here by
    :func:`aggregate_forecasts` (:func:`forecast` on the summed bottom-level history with the same settings
    as ``result``; months that some parts lack count as zero in the sum unless every part lacks them).

    Non-negative: reconciled bottom-level means below zero are set to zero and every aggregate is then
    re-summed from the bottom level (``S max(G yhat, 0)``), so the result stays coherent; this is a
    departure from the exact MinT solution only where a bottom mean would have been negative.

    Intervals (MinT, WLS, OLS): an approximation. Each series keeps the interval of its own base forecast,
    rescaled by the ratio of its reconciled to its base mean (lower and upper limits multiplied by
    ``reconciled / base``; when the base mean is 0 the interval is shifted by the reconciled mean). This
    keeps each series' relative uncertainty and skew; it does not use the (smaller) variance MinT implies,
    so it tends to be conservative. Interval limits are not meant to add up.

    Parameters
    ----------
    result : a :class:`ForecastResult` at the bottom level (e.g. keys district_code, crime_group).
    levels : the aggregate levels wanted, each a list of key columns to keep (``()`` for the area total).
        Any combination of keys may be given (a grouped structure, e.g. by district and by crime group).
    confidence_levels : interval levels to report.
    method : ``"bottom_up"``, ``"mint_shrink"``, ``"wls"`` or ``"ols"``.
    base : for the reconciling methods, base forecasts of each aggregate level, in the order of
        ``levels`` (each a ForecastResult whose keys are that level's columns); by default made here.
        ``mint_shrink`` and ``wls`` need their ``residuals``.

    Returns
    -------
    The bottom-level table followed by the aggregates, with a ``level`` column ("bottom", "total" or the
    kept keys joined by "+") and aggregated key columns set to "All". For the reconciling methods also
    ``base_mean`` (the forecast before reconciliation), and ``method`` names the base method and the
    reconciliation (with the shrinkage intensity lambda); ``DataFrame.attrs["reconciliation"]`` records the
    method, lambda and the number of months of errors used.

    References
    ----------
    Hyndman RJ, Ahmed RA, Athanasopoulos G, Shang HL (2011). Optimal combination forecasts for hierarchical
    time series. Computational Statistics & Data Analysis 55:2579-2589 (bottom-up as a special case).
    Wickramasuriya SL, Athanasopoulos G, Hyndman RJ (2019). Optimal forecast reconciliation for hierarchical
    and grouped time series through trace minimization. JASA 114:804-819.
    Schafer J, Strimmer K (2005). Statistical Applications in Genetics and Molecular Biology 4(1):32.

    Examples
    --------
    >>> t = pd.DataFrame({"district": ["A", "B"], "month": pd.PeriodIndex(["2025-01"] * 2, freq="M"),
    ...                   "mean": [10.0, 30.0], "lower_95": [6.08, 26.08], "upper_95": [13.92, 33.92],
    ...                   "method": "x"})
    >>> r = ForecastResult(t, pd.DataFrame(), pd.DataFrame(), ["district"])
    >>> rec = reconcile(r, confidence_levels=[95])
    >>> rec.loc[rec["level"] == "total", ["district", "mean"]].values.tolist()
    [['All', 40.0]]

    OLS with a base forecast of 46 for the total: the gap of 6 is shared equally by the three series.

    >>> total = ForecastResult(pd.DataFrame({"month": t["month"][:1], "mean": [46.0], "lower_95": [40.0],
    ...                                      "upper_95": [52.0], "method": "x"}), pd.DataFrame(), pd.DataFrame(), [])
    >>> rec = reconcile(r, confidence_levels=[95], method="ols", base=[total])
    >>> rec[["district", "mean"]].values.tolist()
    [['A', 12.0], ['B', 32.0], ['All', 44.0]]
    """
    if method not in RECONCILE_METHODS:
        raise ValueError(f"reconcile: method must be one of {list(RECONCILE_METHODS)}, not {method!r}")
    if method != "bottom_up":
        return _reconcile_optimal(result, levels, confidence_levels, method, base)
    t = result.table.copy()
    keys = result.keys
    if "lower_95" not in t:
        raise ValueError("reconcile: the forecast needs 95% limits (levels including 95)")
    z95 = _st.norm.ppf(0.975)
    t["_var"] = ((t["upper_95"] - t["lower_95"]) / (2 * z95)) ** 2
    t["level"] = "bottom"
    out = [t]
    for keep in levels:
        keep = list(keep)
        agg = t.groupby([*keep, "month"], observed=True).agg(mean=("mean", "sum"), _var=("_var", "sum")).reset_index()
        for k in keys:
            if k not in keep:
                agg[k] = "All"
        sd = np.sqrt(agg["_var"])
        for lv in confidence_levels:
            z = _st.norm.ppf(0.5 + lv / 200)
            agg[f"lower_{lv}"] = np.clip(agg["mean"] - z * sd, 0, None)
            agg[f"upper_{lv}"] = agg["mean"] + z * sd
        agg["method"] = "bottom-up sum; normal interval, independent errors"
        agg["level"] = "+".join(keep) if keep else "total"
        out.append(agg)
    res = pd.concat(out, ignore_index=True).drop(columns="_var")
    return res[[*keys, "month", "level", *[c for c in res.columns if c not in (*keys, "month", "level")]]]


def _reconcile_optimal(
    result: ForecastResult,
    levels: Sequence[Sequence[str]],
    confidence_levels: Sequence[int],
    method: str,
    base: Sequence[ForecastResult] | None,
) -> pd.DataFrame:
    keys = list(result.keys)
    if not keys:
        raise ValueError("reconcile: the forecast has one series (no key columns), so there is nothing to add up")
    levels = [list(k) for k in levels]
    t = result.table
    months = pd.PeriodIndex(sorted(t["month"].unique()), freq="M")
    bounds = [f"{side}_{lv}" for lv in confidence_levels for side in ("lower", "upper")]
    missing = [c for c in bounds if c not in t.columns]
    if missing:
        raise ValueError(f"reconcile: the forecast has no columns {missing}; forecast with those levels")
    S, series = summing_matrix(t, keys, levels)
    if base is None:
        if not result.settings:
            raise ValueError(
                f"reconcile: method {method!r} needs base forecasts of the aggregate levels; pass them as `base` "
                "(the forecast result has no record of its settings to make them here)"
            )
        base = aggregate_forecasts(result, levels, len(months))
    base = list(base)
    if len(base) != len(levels):
        raise ValueError(f"reconcile: {len(levels)} levels but {len(base)} base forecasts; give one per level")
    parts = [(keep, b) for keep, b in zip(levels, base, strict=True)] + [(keys, result)]
    need_resid = method in ("mint_shrink", "wls")
    ymat, lims, resid, labels = [], {c: [] for c in bounds}, [], []
    for keep, r in parts:
        lab = "+".join(keep) if keep else "total"
        if keep != keys and sorted(r.keys) != sorted(keep):
            raise ValueError(f"reconcile: the base forecast for level {lab!r} has keys {r.keys}, expected {keep}")
        sel = series[series["level"] == ("bottom" if r is result else lab)]
        ids = list(sel[keep].itertuples(index=False, name=None)) if keep else [()] * len(sel)
        w = _wide(r.table, keep, "mean", months)
        absent = [i for i in ids if i not in w.index]
        if absent or w.reindex(ids).isna().to_numpy().any():
            raise ValueError(
                f"reconcile: the base forecast for level {lab!r} lacks series {absent[:5] or ''} or months "
                f"{months.min()} to {months.max()}; it must cover every series and forecast month"
            )
        ymat.append(w.reindex(ids).to_numpy(dtype=float))
        for c in bounds:
            lims[c].append(_wide(r.table, keep, c, months).reindex(ids).to_numpy(dtype=float))
        labels += list(_wide(r.table, keep, "method", months).reindex(ids).iloc[:, 0])
        if need_resid:
            if r.residuals is None:
                raise ValueError(
                    f"reconcile: method {method!r} needs the in-sample errors of the base forecast for level "
                    f"{lab!r} (its `residuals`); use method='ols' or forecast with victimneeds.forecast.forecast"
                )
            e = r.residuals
            rmonths = pd.PeriodIndex(sorted(e["month"].unique()), freq="M")
            resid.append(_wide(e, keep, "residual", rmonths).reindex(ids))
    yhat = np.vstack(ymat)
    lam = np.nan
    n_err = 0
    if method == "ols":
        W = np.eye(len(S))
    else:
        err = pd.concat([d.T for d in resid], axis=1)  # months x series, union of months
        err = err.sort_index().to_numpy(dtype=float)
        n_err = int(np.isfinite(err).any(axis=1).sum())
        W, lam = shrink_covariance(err)
        if method == "wls":
            W, lam = np.diag(np.diag(W)), 1.0
    G = mint_matrix(S, W)
    bottom = np.clip(G @ yhat, 0, None)
    ytil = S @ bottom
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(yhat > 0, ytil / yhat, np.nan)
    name = _RECONCILE_NAMES[method] + (f", lambda {lam:.2f}" if method == "mint_shrink" else "")
    out = series.loc[series.index.repeat(len(months))].reset_index(drop=True)
    out.insert(len(keys), "month", np.tile(months, len(series)))
    out["mean"] = ytil.ravel()
    for c in bounds:
        b = np.vstack(lims[c])
        v = np.where(yhat > 0, b * ratio, b + (ytil - yhat))
        out[c] = np.clip(v, 0, None).ravel()
    out["base_mean"] = yhat.ravel()
    out["method"] = np.repeat([f"{m}; {name} reconciled" for m in labels], len(months))
    n_agg = len(S) - S.shape[1]
    order = np.r_[np.arange(n_agg, len(S)), np.arange(n_agg)]
    out = pd.concat([out.iloc[i * len(months) : (i + 1) * len(months)] for i in order], ignore_index=True)
    out = out[[*keys, "month", "level", "mean", *bounds, "base_mean", "method"]]
    out.attrs["reconciliation"] = dict(method=method, shrinkage_lambda=lam, error_months=n_err, series=len(S))
    return out


# --------------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------------


@dataclass
class ScenarioResult:
    """A scenario applied to a forecast: ``table`` has baseline and scenario columns per series and month.

    Made from a :class:`ForecastResult` with sample paths, it keeps them (``paths``, ``calibration``) and the
    change applied to each row of ``table`` (``adjustment``: factor and added cases), so that
    :meth:`financial_years` can take the scenario's yearly ranges from path totals.
    """

    table: pd.DataFrame
    keys: list[str]
    description: str
    paths: dict[tuple, np.ndarray] | None = None
    calibration: dict[float, float] = field(default_factory=dict)
    adjustment: tuple[np.ndarray, np.ndarray] | None = None
    total_calibration: dict[float, float] = field(default_factory=dict)

    def financial_years(self) -> pd.DataFrame:
        """Scenario totals per financial year, as :meth:`ForecastResult.financial_years`.

        With the baseline's sample paths, each path's months are scaled and shifted as the scenario scaled
        and shifted the monthly forecast, and the limits are quantiles of the paths' totals; without them the
        limits are the sums of the monthly limits (``interval`` says which).

        Examples
        --------
        >>> months = pd.period_range("2021-04", periods=36, freq="M")
        >>> t = pd.DataFrame({"crime_group": "Burglary", "month": months, "count": [100.0] * 36})
        >>> fc = forecast(t, horizon=12, keys=["crime_group"], method="naive", origins=0)
        >>> fy = scenario(fc, uplift={"Burglary": 0.5}).financial_years()
        >>> fy[["financial_year", "mean", "lower_95", "upper_95"]].values.tolist()
        [['2024/25', 1800.0, 1800.0, 1800.0]]
        """
        from victimneeds.periods import financial_year

        t = self.table.drop(columns=["scenario"], errors="ignore").copy()
        paths = self.paths
        if paths and self.adjustment is not None:
            t["_factor"], t["_add"] = self.adjustment
        elif paths:
            paths = None
        return _block_totals(
            t,
            self.keys,
            paths,
            self.calibration,
            financial_year(t["month"]).set_axis(t.index),
            "financial-year",
            self.total_calibration,
        )

    def summary(self) -> str:
        tot = (
            self.table.groupby(self.keys, observed=True)[["baseline", "mean"]].sum()
            if self.keys
            else (self.table[["baseline", "mean"]].sum().to_frame().T)
        )
        lines = [f"Scenario: {self.description}"]
        for k, r in tot.iterrows():
            if r["mean"] != r["baseline"]:
                lines.append(f"  {k}: {r['baseline']:,.0f} -> {r['mean']:,.0f} over the horizon")
        return "\n".join(lines)

    def plot(self, key: object | None = None, ax: Axes | None = None) -> Axes:
        """Fan chart of the scenario against the baseline for one series (legend under the chart)."""
        import matplotlib.pyplot as plt

        from victimneeds.plotting import PALETTE, date_axis, legend_below, page_size

        t = self.table
        if self.keys:
            if key is None:
                changed = t[t["mean"] != t["baseline"]]
                key = tuple((changed if not changed.empty else t)[self.keys].iloc[0])
            key = key if isinstance(key, tuple) else (key,)
            t = t[np.logical_and.reduce([t[k] == v for k, v in zip(self.keys, key, strict=True)])]
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(3.6))
        x = t["month"].dt.to_timestamp()
        if "lower_95" in t:
            ax.fill_between(x, t["lower_95"], t["upper_95"], color=PALETTE[3], alpha=0.2, label="Scenario 95% interval")
        if "lower_80" in t:
            ax.fill_between(
                x, t["lower_80"], t["upper_80"], color=PALETTE[3], alpha=0.35, label="Scenario 80% interval"
            )
        ax.plot(x, t["baseline"], color=PALETTE[0], linestyle="--", marker="o", markersize=2.5, label="Baseline")
        ax.plot(x, t["mean"], color=PALETTE[3], marker="s", markersize=2.5, label="Scenario")
        ax.set_ylim(bottom=0)
        ax.set_ylabel("Per month")
        ax.set_title(f"{', '.join(map(str, key)) if self.keys else 'All'}: {self.description}")
        ax.set_xlim(x.min(), x.max())
        date_axis(ax)
        legend_below(ax)
        return ax


def scenario(
    result: ForecastResult | pd.DataFrame,
    uplift: Mapping[str, float] | None = None,
    extra: Mapping[str, float] | None = None,
    start: str | pd.Period | None = None,
    keys: Sequence[str] | None = None,
    description: str | None = None,
) -> ScenarioResult:
    """Apply a what-if to a forecast: a percentage uplift and/or extra cases a year, for chosen series.

    Parameters
    ----------
    result : a :class:`ForecastResult` (or its ``.table``).
    uplift : series label -> proportional change, e.g. ``{"Domestic abuse": 0.15}`` for +15% reporting after
        an awareness campaign. A label matches any key column's value.
    extra : series label -> additional cases a year, spread evenly over months, e.g. 5% of the unreported gap
        from :func:`~victimneeds.demand.hidden` converting to referrals. Extra cases are added to the mean
        and both limits (they are a planning assumption, not an estimate).
    start : first month the scenario applies (default the first forecast month).
    keys : key columns (default the result's).
    description : words for titles; default built from the arguments.

    Returns
    -------
    ScenarioResult; ``table`` has the forecast columns scaled, ``baseline`` (the original mean), ``change``
    and ``scenario``.

    Examples
    --------
    >>> t = pd.DataFrame({"crime_group": ["Domestic abuse", "Burglary"],
    ...                   "month": pd.PeriodIndex(["2025-04"] * 2, freq="M"), "mean": [100.0, 50.0],
    ...                   "method": "x"})
    >>> s = scenario(t, uplift={"Domestic abuse": 0.15}, extra={"Domestic abuse": 120}, keys=["crime_group"])
    >>> s.table[["crime_group", "baseline", "mean"]].round(6).values.tolist()
    [['Domestic abuse', 100.0, 125.0], ['Burglary', 50.0, 50.0]]
    """
    if isinstance(result, ForecastResult):
        table, keys = result.table.copy(), list(keys if keys is not None else result.keys)
    else:
        table, keys = result.copy(), list(keys or [])
    uplift, extra = dict(uplift or {}), dict(extra or {})
    labels = set(uplift) | set(extra)
    known = set().union(*(set(table[k].astype(str)) for k in keys)) if keys else set()
    unknown = sorted(labels - known)
    if unknown:
        raise ValueError(f"scenario: {unknown} are not values of the forecast's key columns {keys}")
    first = table["month"].min() if start is None else pd.Period(str(start), "M")
    on = (table["month"] >= first).to_numpy()
    factor = np.ones(len(table))
    add = np.zeros(len(table))
    for label, u in uplift.items():
        hit = np.logical_or.reduce([table[k].astype(str).to_numpy() == label for k in keys]) & on
        factor = np.where(hit, factor * (1 + u), factor)
    for label, e in extra.items():
        hit = np.logical_or.reduce([table[k].astype(str).to_numpy() == label for k in keys]) & on
        add = np.where(hit, add + e / 12, add)
    table.insert(table.columns.get_loc("mean"), "baseline", table["mean"])
    for col in ["mean", *[c for c in table.columns if c.startswith(("lower_", "upper_"))]]:
        table[col] = table[col] * factor + add
    table["change"] = table["mean"] - table["baseline"]
    if description is None:
        parts = [f"{'+' if u >= 0 else ''}{100 * u:.0f}% {k}" for k, u in uplift.items()]
        parts += [f"+{e:,.0f} a year {k}" for k, e in extra.items()]
        description = "; ".join(parts) + f" from {first}" if parts else "no change"
    table["scenario"] = description
    if isinstance(result, ForecastResult) and result.paths and keys == list(result.keys):
        return ScenarioResult(
            table=table,
            keys=keys,
            description=description,
            paths=result.paths,
            calibration=dict(result.calibration),
            adjustment=(factor, add),
            total_calibration=dict(result.total_calibration),
        )
    return ScenarioResult(table=table, keys=keys, description=description)
