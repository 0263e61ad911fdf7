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
