"""The forecasting methods: seasonal naive, naive, ETS, SARIMAX, Theta, GLM, seasonal level, and their sample paths.

Part of :mod:`victimneeds.forecast`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from victimneeds.forecast.helpers import (
    _SEASON,
    LOCKDOWN_MONTHS,
    fourier_terms,
)

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
    # Months are autocorrelated: the NB Pearson residuals' lag-one correlation (Kendall bias-corrected)
    # is read as a latent AR(1) log-rate deviation u, whose stationary variance
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


def seasonal_profile(counts: np.typing.ArrayLike, months: Sequence[str], min_known: int = 13) -> np.ndarray:
    """Month-of-year seasonal profile of a monthly count series on the log(1 + y) scale.

    Classical decomposition: the deviations of log(1 + y) from its centred 2x12 moving average, averaged by
    calendar month and centred to mean 0. The moving average needs ``min_known`` of its 13 months known (13,
    the default: all of them; missing and lockdown months are NaN). With fewer (the gap-tolerant variant, e.g.
    7) its weights are renormalised over the months known, after the current estimate of the profile has been
    taken off them so that a missing month does not tilt the average towards its season, and the profile and
    the moving average are re-estimated in turn (up to :data:`_PROFILE_PASSES` times). With no gaps the first
    pass is the classical decomposition and later passes leave it unchanged (the 2x12 average of a seasonal
    pattern is 0). Calendar months with no deviation get 0, and so does every month when no moving average can
    be formed.

    The gap-tolerant variant gives a profile where lockdown gaps leave no complete 13-month window (a series of
    two to three years spanning 2020-21); ``method="seasonal_level"`` uses it (:data:`PROFILE_MIN_KNOWN`),
    shrunk by its noise. In the rolling evaluation (``bench/forecast_origins.py``) it improved the default
    combination at force x crime type (0.704 and 0.740 of seasonal naive's MAE against 0.713 and 0.742 with the
    classical profile) but not, unshrunk, at district x crime type (0.818 and 0.817 against 0.814 and 0.813).

    Returns
    -------
    12 values, January to December.

    References
    ----------
    Makridakis S, Wheelwright SC, Hyndman RJ (1998). Forecasting: Methods and Applications, 3rd ed., section 3/4
    (classical decomposition). Cleveland RB, Cleveland WS, McRae JE, Terpenning I (1990). STL: a seasonal-trend
    decomposition procedure based on loess. Journal of Official Statistics 6:3-73 (alternating trend and seasonal
    estimates).

    Examples
    --------
    >>> import pandas as pd
    >>> months = [str(m) for m in pd.period_range("2020-01", periods=36, freq="M")]
    >>> y = np.expm1(5 + 0.2 * np.tile([1.0, -1.0], 18))
    >>> seasonal_profile(y, months).round(3)[:3].tolist()
    [0.2, -0.2, 0.2]
    """
    ly = np.log1p(np.asarray(counts, dtype=float))
    moy = np.array([int(m[5:7]) for m in months])
    n = len(ly)
    kernel = np.r_[0.5, np.ones(_SEASON - 1), 0.5] / _SEASON
    prof = np.zeros(_SEASON)
    known = np.zeros(_SEASON, dtype=bool)
    for _ in range(_PROFILE_PASSES):
        adj = ly - prof[moy - 1]
        dev = np.full(n, np.nan)
        for t in range(6, n - 6):
            w = adj[t - 6 : t + 7]
            ok = np.isfinite(w)
            if np.isfinite(ly[t]) and ok.sum() >= min_known and ok[:6].any() and ok[7:].any():
                dev[t] = ly[t] - (w[ok] @ kernel[ok]) / kernel[ok].sum()
        new = np.zeros(_SEASON)
        for k in range(1, _SEASON + 1):
            d = dev[moy == k]
            d = d[np.isfinite(d)]
            if len(d):
                new[k - 1] = d.mean()
        known = np.array([np.isfinite(dev[moy == k]).any() for k in range(1, _SEASON + 1)])
        if known.any():
            new[known] -= new[known].mean()
        if np.allclose(new, prof, atol=1e-10):
            break
        prof = new
    return prof


#: Passes of the alternating moving-average and profile estimates in :func:`seasonal_profile`.
_PROFILE_PASSES = 5
#: Months of the 13-month moving average that ``method="seasonal_level"`` needs known for its profile (7: the
#: gap-tolerant variant of :func:`seasonal_profile`; 13, the classical decomposition, was the default before).
PROFILE_MIN_KNOWN = 7
#: Whether ``method="seasonal_level"`` shrinks its profile toward flat by its Poisson noise (:func:`_shrink_profile`).
PROFILE_SHRINK = True


def _shrink_profile(profile: np.ndarray, mean_count: float) -> np.ndarray:
    """A seasonal profile (log scale) shrunk toward flat by the Poisson noise of its estimate.

    A calendar month's deviation from the moving average of a Poisson count with mean mu has a variance of about
    1 / mu on the log scale; with one deviation per calendar month (two or three years with lockdown gaps), that
    is the noise of each value of the profile. The profile is multiplied by B = max(0, 1 - (1 / mu) / s2), s2
    the mean square of its non-zero values (James-Stein, positive part), so a small district's noisy profile is
    damped and a force's large counts leave it as it is.

    References
    ----------
    Efron B, Morris C (1975). Data analysis using Stein's estimator and its generalizations. JASA 70:311-319.
    """
    prof = np.asarray(profile, dtype=float)
    signal = float(np.mean(prof[prof != 0] ** 2)) if (prof != 0).any() else 0.0
    if signal <= 0 or not np.isfinite(mean_count) or mean_count <= 0:
        return prof
    return prof * max(0.0, 1 - (1 / mean_count) / signal)


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
    profile (:func:`seasonal_profile`, gap-tolerant, shrunk by its Poisson noise: :func:`_shrink_profile`),
    estimated from ``pool`` (counts and months of the total of series that share a seasonal pattern,
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
    else:
        pv, pm = y, months
    prof = seasonal_profile(pv, pm, PROFILE_MIN_KNOWN)
    if PROFILE_SHRINK:
        prof = _shrink_profile(prof, float(np.nanmean(pv)) if np.isfinite(pv).any() else np.nan)
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
