"""Rolling-origin backtests and the forecast of one series.

Part of :mod:`victimneeds.forecast`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from victimneeds.forecast.helpers import (
    _METHOD_NAMES,
    _scale,
)
from victimneeds.forecast.methods import (
    N_PATHS,
    Fit,
    _lockdown_flag,
    _run,
)

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


#: Standardised errors beyond this many path standard deviations count as this many when the error covariance
#: of a forecast is estimated (one wild window, e.g. the first lockdown, would otherwise set the yearly ranges).
_Z_CLIP = 5.0
#: A horizon's error variance, or a lag's correlation, needs at least this many standardised errors; otherwise the
#: last one estimated carries on.
_Z_MIN = 5
_SD_Q = (0.15865525393145707, 0.8413447460685429)  # the normal distribution's quantiles at -1 and +1


def _window_z(
    actual: np.ndarray, paths: np.ndarray, skip: np.ndarray | None = None, level: float | None = None
) -> np.ndarray:
    """Standardised errors of a backtest window: each held-out month's distance from the median of the sample
    paths on the log(1 + y) scale, in units of the paths' standard deviation there.

    With ``level`` None the standard deviation is half the distance between the paths' 15.9% and 84.1%
    quantiles (that of a normal distribution). With a ``level`` (e.g. 0.95) it is read from that interval on the
    error's side: the distance from the median to the limit, over the normal quantile (1.96), so that paths
    skewed on the log scale (small counts near zero) are measured by the interval they give. NaN for a month
    that is missing, flagged in ``skip`` (lockdown months, which the forecasts assume away) or whose paths do
    not vary.
    """
    from scipy.stats import norm

    lp = np.log1p(np.asarray(paths, dtype=float))
    med = np.median(lp, axis=0)
    a = np.log1p(np.asarray(actual, dtype=float))
    if level is None:
        lo, hi = np.quantile(lp, _SD_Q, axis=0)
        sd = (hi - lo) / 2
    else:
        lo, hi = np.quantile(lp, [0.5 - level / 2, 0.5 + level / 2], axis=0)
        sd = np.where(a >= med, hi - med, med - lo) / norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (a - med) / sd
    z = np.where(np.isfinite(z) & (sd > 0), z, np.nan)
    if skip is not None:
        z = np.where(skip, np.nan, z)
    return z


def _error_model(windows: Sequence[np.ndarray], clip: float = _Z_CLIP, min_n: int = _Z_MIN) -> dict | None:
    """Covariance of the standardised h-step errors (:func:`_window_z`), pooled over backtest windows.

    Windows may be short (the end of a series) and have gaps; every month seen counts. The variance ratio
    ``v[h]`` (actual error variance over the paths' variance at horizon h + 1) is the mean of the squared
    standardised errors at that horizon, and the correlation ``r[d]`` of errors d months apart is pooled over
    all pairs of months d apart (errors are taken about the median, so a shared bias counts as correlation, as
    it does for a total). Horizons or lags with fewer than ``min_n`` values take the last one estimated.

    ``up[h]`` and ``down[h]`` are twice the semivariances, the squared errors above (below) the median summed
    over the horizon's n errors, over n / 2: equal to ``v[h]`` when errors are symmetric, larger on the side that
    is missed more often or further.

    Returns
    -------
    ``dict(v=..., r=..., up=..., down=..., windows=...)`` (``r[0] = 1``; ``windows`` = windows with at least one
    error), or None when no horizon has ``min_n`` errors.
    """
    width = max((len(w) for w in windows), default=0)
    if width == 0:
        return None
    z = np.full((len(windows), width), np.nan)
    for i, w in enumerate(windows):
        z[i, : len(w)] = w
    z = np.clip(z, -clip, clip)
    seen = np.isfinite(z)
    counts = seen.sum(axis=0)
    if not (counts >= min_n).any():
        return None
    enough = counts >= min_n

    def ratio(sq: np.ndarray) -> np.ndarray:
        out = np.full(width, np.nan)
        out[enough] = sq[enough] / counts[enough]
        return pd.Series(out).ffill().bfill().to_numpy()

    v = ratio(np.where(seen, z**2, 0.0).sum(axis=0))
    # twice the semivariances: errors above (below) the median count on their side only, so that a side that
    # is missed more often, or further, gets the wider half
    up = ratio(2 * np.where(seen & (z > 0), z**2, 0.0).sum(axis=0))
    down = ratio(2 * np.where(seen & (z < 0), z**2, 0.0).sum(axis=0))
    r = np.ones(width)
    for d in range(1, width):
        a, b = z[:, :-d], z[:, d:]
        ok = np.isfinite(a) & np.isfinite(b)
        den = np.sqrt(np.sum(a[ok] ** 2) * np.sum(b[ok] ** 2))
        r[d] = float(np.clip(np.sum(a[ok] * b[ok]) / den, -1, 1)) if ok.sum() >= min_n and den > 0 else r[d - 1]
    return dict(v=v, r=r, up=up, down=down, windows=int(seen.any(axis=1).sum()))


def _t_allowance(level: float, windows: int) -> float:
    """``t_{k-1} / z`` at a two-sided level: how much wider a normal interval gets when its variance comes from
    k windows (1 with fewer than 2)."""
    from scipy.stats import norm, t

    q = 0.5 + level / 2
    return float(t.ppf(q, windows - 1) / norm.ppf(q)) if windows >= 2 else 1.0


def _month_factor(model: dict, h: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Factors for the lower and upper half-widths of monthly intervals at horizons ``h`` (0 = first month
    ahead): the square roots of the backtest's variance ratios below and above the median there, errors measured
    by that level's interval (``model["levels"][level]``, the :func:`_error_model` of :func:`_window_z` with
    ``level``; else the model's own ``down`` and ``up``; horizons beyond those estimated take the last), times
    the Student t allowance for a variance from half the windows (a side's errors), kept within [0.25, 4]."""
    own = model.get("levels", {}).get(level, model)
    idx = np.minimum(np.asarray(h, dtype=int), len(own["v"]) - 1)
    # each side's ratio rests on about half the windows' errors
    t = _t_allowance(level, max(model["windows"] // 2, 2))
    return tuple(np.clip(np.sqrt(own[side][idx]) * t, 0.25, 4.0) for side in ("down", "up"))


def _total_factor(model: dict, paths: np.ndarray, pos: np.ndarray, level: float) -> float:
    """Factor for the spread of a block's path totals (log scale) from the backtest's error covariance.

    ``paths`` (paths x months of the block) are one series' uncalibrated sample paths; ``pos`` the months'
    horizons (0 = first month ahead). With m the paths' median and s their standard deviation per month (log
    scale), the log of the total moves by about w . e with weights w = m / sum(m) and e the months' log errors
    (first-order expansion), so its variance is w' D C D w with D = diag(s) and C the standardised errors'
    covariance, ``C[i, j] = sqrt(v[i] v[j]) r[|i - j|]`` (horizons and lags beyond those estimated take the
    last). The factor is that standard deviation over the paths' own (of the log totals), times
    ``t_{k-1} / z`` at the level (k windows), which allows for the uncertainty of a variance estimated from few
    windows.

    References
    ----------
    Hyndman RJ, Athanasopoulos G (2021). Forecasting: Principles and Practice, 3rd ed., section 5.5 (prediction
    intervals from forecast-error variances). Lee YS, Scholtes S (2014). Empirical prediction intervals revisited.
    International Journal of Forecasting 30:217-234 (intervals from the empirical h-step errors of past forecasts).
    """
    lp = np.log1p(np.asarray(paths, dtype=float))
    med = np.median(lp, axis=0)
    lo, hi = np.quantile(lp, _SD_Q, axis=0)
    s = (hi - lo) / 2
    tot = np.log1p(np.asarray(paths, dtype=float).sum(axis=1))
    tlo, thi = np.quantile(tot, _SD_Q)
    st = (thi - tlo) / 2
    if st <= 0:
        return 1.0
    v, r = model["v"], model["r"]
    idx = np.minimum(np.asarray(pos, dtype=int), len(v) - 1)
    lag = np.minimum(np.abs(np.subtract.outer(np.asarray(pos), np.asarray(pos))), len(r) - 1)
    cov = np.sqrt(np.outer(v[idx], v[idx])) * r[lag]
    m = np.expm1(med)
    w = m / m.sum() if m.sum() > 0 else np.full(len(m), 1 / len(m))
    ws = w * s
    sd = float(np.sqrt(max(ws @ cov @ ws, 0.0)))
    return sd / st * _t_allowance(level, model["windows"])


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
    # standardised errors of the forecaster actually used, every month of every backtest window (short windows
    # at the end of a series too), pooled over series later into the covariance of the h-step errors that
    # calibrates monthly intervals and the ranges of totals
    window_z: list[dict] = []
    for o in origins:
        paths = combined(chosen, o)[2]
        if np.all(np.isfinite(paths)):
            test = y[o : o + bt_h]
            skip = _lockdown_flag(months[o : o + bt_h]).astype(bool) if lockdown else None
            part = paths[:, : len(test)]
            window_z.append(
                {None: _window_z(test, part, skip), **{lv: _window_z(test, part, skip, lv) for lv in levels}}
            )
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
        row["_h"] = j
        rows.append(row)
    # one-step in-sample errors of the forecast actually used (for a combination, of the mean prediction)
    fitted = np.mean([f[2] for f in fits], axis=0)
    resid = dict(
        key=key,
        month=months,
        fitted=fitted,
        residual=y - fitted,
        paths=paths.astype(np.float32),
        window_z=window_z,
    )
    return rows, scores, label, resid


def _widen(paths: np.ndarray, factor: float) -> np.ndarray:
    """Scale sample paths' spread around each month's median by ``factor`` on the log(1 + y) scale."""
    if factor == 1.0:
        return paths
    med = np.log1p(np.median(paths, axis=0))
    return np.expm1(med + factor * (np.log1p(paths) - med))


def _calibrate(table: pd.DataFrame, model: dict, levels: Sequence[float]) -> dict[float, float]:
    """Calibrate the monthly interval limits in ``table`` (in place) by horizon, from the backtest's errors.

    ``model`` is the covariance of the standardised h-step errors pooled over series (:func:`_error_model`).
    At horizon h (column ``_h``, 0 = first month ahead) the lower and upper half-widths of every series'
    interval, on the log(1 + y) scale around the paths' median (``_median``), are scaled by
    :func:`_month_factor`: the ratio of the errors' standard deviation on that side to the paths' own at that
    horizon, with the Student t allowance for few windows.

    Returns
    -------
    Level -> the mean factor over the first 12 horizons and both sides (for notes).

    References
    ----------
    Lee YS, Scholtes S (2014). Empirical prediction intervals revisited. International Journal of Forecasting
    30:217-234. Hyndman RJ, Athanasopoulos G (2021). Forecasting: Principles and Practice, 3rd ed., section 5.5.
    """
    out: dict[float, float] = {}
    med = np.log1p(table["_median"].to_numpy(dtype=float))
    h = table["_h"].to_numpy(dtype=int)
    for lv in levels:
        c_lo, c_hi = _month_factor(model, h, lv)
        out[lv] = float(np.mean(_month_factor(model, np.arange(12), lv)))
        tag = f"{round(lv * 100, 6):g}".replace(".", "_")
        lo, hi = (
            np.log1p(table[f"lower_{tag}"].to_numpy(dtype=float)),
            np.log1p(table[f"upper_{tag}"].to_numpy(dtype=float)),
        )
        table[f"lower_{tag}"] = np.clip(np.expm1(med - c_lo * (med - lo)), 0, None)
        table[f"upper_{tag}"] = np.expm1(med + c_hi * (hi - med))
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
