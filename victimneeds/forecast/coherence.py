"""Coherent forecasts across a hierarchy (districts adding up to the area): MinT reconciliation.

Part of :mod:`victimneeds.forecast`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

from victimneeds.forecast.api import ForecastResult, forecast

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
