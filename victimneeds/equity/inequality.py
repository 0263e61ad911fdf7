"""Inequality in funding per unit of need: Gini, Theil and concentration indices with intervals, and Lorenz curves.

Part of :mod:`victimneeds.equity`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from scipy import stats as _st

from victimneeds.datamodel import AreaData
from victimneeds.equity.allocation import (
    funding_per_need,
)
from victimneeds.equity.need import (
    NeedIndex,
)
from victimneeds.plotting import LINESTYLES, MARKERS, PALETTE

# --------------------------------------------------------------------------------------------------
# Inequality measures
# --------------------------------------------------------------------------------------------------


def _yw(y: Any, w: Any | None) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    w = np.ones_like(y) if w is None else np.asarray(w, dtype=float)
    if y.shape != w.shape or y.ndim != 1 or len(y) == 0:
        raise ValueError("values and weights must be one-dimensional and of the same, non-zero length")
    if np.any(~np.isfinite(y)) or np.any(~np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("values and weights must be finite, weights non-negative and not all zero")
    if np.any(y < 0):
        raise ValueError("inequality measures need non-negative values (funding cannot be negative)")
    return y, w


def gini(values: Any, weights: Any | None = None) -> float:
    """Weighted Gini coefficient: G = sum_ij w_i w_j |y_i - y_j| / (2 W^2 mu).

    With integer weights it equals the Gini of the data with each value repeated ``w`` times (the
    population Gini, no small-sample correction). Computed in O(n log n) from the weighted Lorenz curve.

    References
    ----------
    Lerman, R. I. & Yitzhaki, S. (1989). Improving the accuracy of estimates of Gini coefficients.
    Journal of Econometrics 42(1), 43-47. O'Donnell et al. (2008), chapter 6.

    Examples
    --------
    >>> gini([1, 2, 3, 4])
    0.25
    """
    y, w = _yw(values, weights)
    order = np.argsort(y, kind="stable")
    y, w = y[order], w[order]
    W = w.sum()
    mu = float(np.sum(w * y) / W)
    if mu == 0:
        return 0.0
    # sum_ij w_i w_j |y_i - y_j| = 2 sum_i w_i y_i (W_before_i - W_after_i)
    cw = np.cumsum(w)
    before = cw - w
    after = W - cw
    total = 2 * np.sum(w * y * (before - after))
    return round(float(total / (2 * W * W * mu)), 12)


def lorenz_curve(values: Any, weights: Any | None = None) -> pd.DataFrame:
    """Points of the (weighted) Lorenz curve: cumulative share of weight vs cumulative share of the total.

    Units are sorted from the lowest value to the highest; the curve starts at (0, 0).

    Examples
    --------
    >>> lorenz_curve([3, 1], [1, 1])[["cum_weight_share", "cum_value_share"]].values.tolist()
    [[0.0, 0.0], [0.5, 0.25], [1.0, 1.0]]
    """
    y, w = _yw(values, weights)
    order = np.argsort(y, kind="stable")
    y, w = y[order], w[order]
    cw = np.concatenate([[0.0], np.cumsum(w) / w.sum()])
    tot = np.sum(w * y)
    cv = np.concatenate([[0.0], np.cumsum(w * y) / tot]) if tot > 0 else cw
    return pd.DataFrame({"cum_weight_share": cw, "cum_value_share": cv})


def plot_lorenz(
    curves: Mapping[str, pd.DataFrame], ax: Axes | None = None, title: str = "Lorenz curve: funding against need"
) -> Axes:
    """Draw Lorenz curves (from :func:`lorenz_curve`) with the line of equality."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 5.0))
    ax.plot([0, 1], [0, 1], color="black", linestyle="--", linewidth=1, label="Equality")
    for i, (name, c) in enumerate(curves.items()):
        ax.plot(
            c["cum_weight_share"],
            c["cum_value_share"],
            color=PALETTE[i % len(PALETTE)],
            linestyle=LINESTYLES[i % len(LINESTYLES)],
            linewidth=1.5,
            marker=MARKERS[i % len(MARKERS)],
            markersize=4,
            markevery=max(1, len(c) // 10),
            label=name,
        )
    ax.set_xlabel("Cumulative share of need (lowest funded first)")
    ax.set_ylabel("Cumulative share of funding")
    ax.set_title(title)
    ax.set_aspect("equal")
    ax.legend(loc="upper left")
    return ax


def theil(values: Any, weights: Any | None = None) -> float:
    """Weighted Theil T index: T = sum_i (w_i y_i / sum w y) ln(y_i / mu).

    Zero when every unit has the same value; ``ln(n)`` at most for n equal-weight units.

    References
    ----------
    Theil, H. (1967). Economics and Information Theory. North-Holland.

    Examples
    --------
    >>> round(theil([1, 3]), 4)
    0.1308
    """
    y, w = _yw(values, weights)
    mu = np.sum(w * y) / w.sum()
    if mu == 0:
        return 0.0
    share = w * y / np.sum(w * y)
    pos = y > 0
    return float(np.sum(share[pos] * np.log(y[pos] / mu)))


def theil_decomposition(values: Any, weights: Any | None, groups: Any) -> dict[str, float]:
    """Theil T split into between-group and within-group parts: T = T_between + T_within.

    ``T_between = sum_g S_g ln(mu_g / mu)`` and ``T_within = sum_g S_g T_g``, where ``S_g`` is group g's
    share of the total and ``T_g`` the Theil index within the group.

    References
    ----------
    Shorrocks, A. F. (1980). The class of additively decomposable inequality measures. Econometrica 48(3).

    Examples
    --------
    >>> d = theil_decomposition([1, 3, 2, 2], None, ["a", "a", "b", "b"])
    >>> round(d["between"], 6), round(d["within"], 4)
    (0.0, 0.0654)
    """
    y, w = _yw(values, weights)
    g = np.asarray(groups)
    if g.shape != y.shape:
        raise ValueError("groups must have one label per value")
    total_yw = np.sum(w * y)
    if total_yw <= 0:
        return {"total": 0.0, "between": 0.0, "within": 0.0}
    mu = total_yw / w.sum()
    _, inv = np.unique(g, return_inverse=True)
    yw_g = np.bincount(inv, weights=w * y)
    w_g = np.bincount(inv, weights=w)
    ok = yw_g > 0
    S = yw_g[ok] / total_yw
    between = float(np.sum(S * np.log((yw_g[ok] / w_g[ok]) / mu)))
    # within: sum_g S_g T_g = sum_i (w_i y_i / total) ln(y_i / mu_g)
    mu_i = (yw_g / np.where(w_g > 0, w_g, 1))[inv]
    pos = y > 0
    within = float(np.sum((w * y)[pos] / total_yw * np.log(y[pos] / mu_i[pos])))
    return {"total": theil(y, w), "between": float(between), "within": float(within)}


def concentration_index(values: Any, rank_by: Any, weights: Any | None = None) -> float:
    """Concentration index of ``values`` against a ranking variable, by the covariance formula.

    ``C = 2 cov_w(y, R) / mu``, where ``R`` is the weighted fractional rank by ``rank_by`` (ascending; ties
    share their mean rank). Ranking by deprivation from most to least deprived (pass minus the IMD score),
    a negative C means funding is concentrated in the more deprived places.

    References
    ----------
    O'Donnell, O., van Doorslaer, E., Wagstaff, A. & Lindelow, M. (2008). Analyzing Health Equity Using
    Household Survey Data, chapter 8, equation 8.7. World Bank.

    Examples
    --------
    >>> concentration_index([1, 2, 3, 4], rank_by=[1, 2, 3, 4])
    0.25
    """
    y, w = _yw(values, weights)
    r = np.asarray(rank_by, dtype=float)
    if r.shape != y.shape:
        raise ValueError("rank_by must have one value per unit")
    order = np.argsort(r, kind="stable")
    W = w.sum()
    cw = np.cumsum(w[order])
    frac = np.empty_like(y)
    frac[order] = (cw - w[order] / 2) / W
    # ties share the weighted mean rank of their group
    _, inv = np.unique(r, return_inverse=True)
    wsum = np.bincount(inv, weights=w)
    fsum = np.bincount(inv, weights=frac * w)
    frac = np.where(wsum[inv] > 0, fsum[inv] / np.where(wsum[inv] > 0, wsum[inv], 1), frac)
    mu = np.sum(w * y) / W
    if mu == 0:
        return 0.0
    rbar = np.sum(w * frac) / W
    cov = np.sum(w * (y - mu) * (frac - rbar)) / W
    return round(float(2 * cov / mu), 12)


#: Fewest units for which :func:`inequality` gives a bootstrap interval; with fewer it reports none (NaN). A
#: judgement: five units have only 126 distinct resamples, and on the example area's five districts the BCa
#: interval for the Gini came out as 0.197 to 0.215 around an estimate of 0.211 (the bootstrap distribution is
#: cut off just above the estimate), which no one should read as a measure of uncertainty.
MIN_BOOTSTRAP_UNITS = 10


def _acceleration(jack: list[np.ndarray]) -> float:
    """BCa acceleration from delete-one jackknife values, one array per resampling stratum.

    ``L_hi = (n_h - 1)(mean_h - theta_(hi))`` estimates the empirical influence of unit i of stratum h, and
    ``a = sum L^3 / n_h^3 / (6 (sum L^2 / n_h^2)^(3/2))``; with one stratum this is Efron's jackknife formula.
    """
    num = den = 0.0
    for values in jack:
        m = len(values)
        if m < 2:
            continue
        lv = (m - 1) * (values.mean() - values)
        num += float(np.sum(lv**3)) / m**3
        den += float(np.sum(lv**2)) / m**2
    return num / (6 * den**1.5) if den > 0 else 0.0


def _bootstrap_limits(
    point: float, reps: np.ndarray, accel: float, confidence: float, interval: str
) -> tuple[float, float, str]:
    """Percentile or BCa limits from bootstrap replicates, or NaN with the reason when they cannot be had.

    BCa: ``z0 = Phi^-1(share of replicates below the estimate, ties counted half)`` and the limits are the
    replicates' quantiles at ``Phi(z0 + (z0 + z_q) / (1 - a (z0 + z_q)))`` for ``z_q = Phi^-1(q)``, q the two
    tail probabilities (Efron 1987), as in ``scipy.stats.bootstrap(method="BCa")``.
    """
    reps = reps[np.isfinite(reps)]
    if len(reps) < 2 or np.ptp(reps) <= 1e-12 * max(1.0, abs(point)):
        return np.nan, np.nan, "no interval: the statistic does not vary across resamples"
    tail = (1 - confidence) / 2
    if interval == "percentile":
        lo, hi = np.quantile(reps, [tail, 1 - tail])
        return float(lo), float(hi), ""
    share = (np.sum(reps < point) + np.sum(reps <= point)) / (2 * len(reps))
    if not 0 < share < 1:
        return np.nan, np.nan, "no interval: the estimate lies outside all its resamples"
    z0 = _st.norm.ppf(share)
    zq = _st.norm.ppf([tail, 1 - tail])
    q = _st.norm.cdf(z0 + (z0 + zq) / (1 - accel * (z0 + zq)))
    lo, hi = np.quantile(reps, q)
    return float(lo), float(hi), ""


def _influence_gini(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Empirical influence of each unit on the weighted Gini (sum of ``w * influence`` is zero).

    ``IF_i = (2 / mu)(y_i F_i + A_i) - 2 (G + 1) - (G + 1)(y_i - mu) / mu``, with ``F_i`` the unit's weighted
    mid-rank share and ``A_i`` the weighted mean of the values above it (half its own), the weighted form of
    Davidson & Flachaire's (2007) influence function.
    """
    order = np.argsort(y, kind="stable")
    ys, ws = y[order], w[order]
    total = ws.sum()
    wy = ws * ys
    mu = wy.sum() / total
    if mu <= 0:
        return np.zeros_like(y)
    f = (np.cumsum(ws) - ws / 2) / total
    above = (wy.sum() - np.cumsum(wy) + wy / 2) / total
    g = gini(ys, ws)
    inf = np.empty_like(ys)
    inf[order] = (2 / mu) * (ys * f + above) - 2 * (g + 1) - (g + 1) * (ys - mu) / mu
    return inf


def _influence_theil(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Empirical influence of each unit on the weighted Theil T index: ``s ln s - T - (T + 1)(s - 1)``, s = y / mu."""
    mu = np.sum(w * y) / w.sum()
    if mu <= 0:
        return np.zeros_like(y)
    s = y / mu
    slog = np.where(s > 0, s * np.log(np.where(s > 0, s, 1.0)), 0.0)
    t = theil(y, w)
    return slog - t - (t + 1) * (s - 1)


def _influence_se(inf: np.ndarray, w: np.ndarray, strata: np.ndarray | None) -> float:
    """Standard error of a weighted statistic from its influence values, units resampled (within strata)."""
    a = w * inf
    total = 0.0
    for part in [a] if strata is None else [a[strata == lab] for lab in pd.unique(strata)]:
        m = len(part)
        if m > 1:
            total += m / (m - 1) * float(np.sum((part - part.mean()) ** 2))
    return float(np.sqrt(total) / w.sum())


def _rows_gini_theil(
    y: np.ndarray, w: np.ndarray, strata: np.ndarray | None = None, se: bool = True
) -> dict[str, np.ndarray]:
    """Weighted Gini and Theil T of each row of ``y`` (with weights ``w``), and their influence-function s.e.

    The vectorised form of :func:`gini`, :func:`theil`, :func:`_influence_gini`, :func:`_influence_theil` and
    :func:`_influence_se` for a matrix of resamples (one resample a row); ``strata`` (same shape, or None) holds
    each unit's resampling stratum. Returns ``Gini``, ``Theil`` and, with ``se``, ``Gini se`` and ``Theil se``.
    """
    order = np.argsort(y, axis=1, kind="stable")
    ys, ws = np.take_along_axis(y, order, 1), np.take_along_axis(w, order, 1)
    wy = ws * ys
    total = ws.sum(1, keepdims=True)
    cw = np.cumsum(ws, 1)
    swy = wy.sum(1, keepdims=True)
    mu = swy / total
    ok = mu > 0
    safe_mu = np.where(ok, mu, 1.0)
    gini_ = np.where(ok, np.sum(wy * (2 * cw - ws - total), 1, keepdims=True) / (total * total * safe_mu), 0.0)
    s = ys / safe_mu
    slog = np.where(s > 0, s * np.log(np.where(s > 0, s, 1.0)), 0.0)
    theil_ = np.where(ok, np.sum(ws * slog, 1, keepdims=True) / total, 0.0)
    out = {"Gini": gini_[:, 0], "Theil": theil_[:, 0]}
    if not se:
        return out
    f = (cw - ws / 2) / total
    above = (swy - np.cumsum(wy, 1) + wy / 2) / total
    inf_g = (2 / safe_mu) * (ys * f + above) - 2 * (gini_ + 1) - (gini_ + 1) * (ys - safe_mu) / safe_mu
    inf_t = slog - theil_ - (theil_ + 1) * (s - 1)
    lab = None if strata is None else np.take_along_axis(strata, order, 1)
    for name, inf in (("Gini", inf_g), ("Theil", inf_t)):
        a = np.where(ok, ws * inf, 0.0)
        parts = [np.ones(a.shape, dtype=bool)] if lab is None else [lab == h for h in pd.unique(lab.ravel())]
        ss = np.zeros(len(a))
        for m in parts:
            count = m.sum(1)
            s1, s2 = np.sum(a * m, 1), np.sum(a * a * m, 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                ss += np.where(count > 1, count / np.maximum(count - 1, 1) * (s2 - s1 * s1 / np.maximum(count, 1)), 0)
        out[f"{name} se"] = np.sqrt(np.maximum(ss, 0.0)) / total[:, 0]
    return out


def _rows_between(y: np.ndarray, w: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Between-group part of the Theil T index for each row (the vectorised ``theil_decomposition`` between part).

    ``groups`` holds integer group codes (0, 1, ...), one per unit, with the shape of ``y``.
    """
    n_rows = y.shape[0]
    n_groups = int(groups.max()) + 1
    flat = (groups + n_groups * np.arange(n_rows)[:, None]).ravel()
    yw_g = np.bincount(flat, weights=(w * y).ravel(), minlength=n_rows * n_groups).reshape(n_rows, n_groups)
    w_g = np.bincount(flat, weights=w.ravel(), minlength=n_rows * n_groups).reshape(n_rows, n_groups)
    total_yw, total_w = yw_g.sum(1, keepdims=True), w_g.sum(1, keepdims=True)
    ok = (yw_g > 0) & (total_yw > 0)
    safe_yw, safe_w = np.where(ok, yw_g, 1.0), np.where(ok, w_g, 1.0)
    safe_total = np.where(total_yw > 0, total_yw, 1.0)
    share = safe_yw / safe_total
    return np.sum(np.where(ok, share * np.log(safe_yw / safe_w * total_w / safe_total), 0.0), 1)


def _pareto_tail(values: Any, weights: Any | None = None, k: int | None = None) -> tuple[float, float, np.ndarray]:
    """Pareto upper tail fitted to the ``k`` largest values: threshold, tail index and which units are in it.

    The threshold ``y0`` is the (k + 1)-th largest value and the tail index is the (weighted) Hill estimate
    with the small-sample correction that makes it unbiased for an exact Pareto tail:
    ``alpha = (k - 1) / (k sum_top w_i ln(y_i / y0) / sum_top w_i)`` (with equal weights ``(k - 1) / sum
    ln(y_i / y0)``; the plain Hill estimate ``k / sum ln(y_i / y0)``, the maximum likelihood estimate of a
    Pareto index, has mean ``alpha k / (k - 1)``). ``k`` defaults to ``round(sqrt(n))``, at least 3. The index
    is infinite when the top values all equal the threshold, and NaN when the threshold is not positive.

    Returns ``(y0, alpha, top)``, ``top`` a boolean mask of the ``k`` units in the tail.

    References
    ----------
    Hill, B. M. (1975). A simple general approach to inference about the tail of a distribution. Annals of
    Statistics 3(5), 1163-1174. Davidson, R. & Flachaire, E. (2007). Asymptotic and bootstrap inference for
    inequality and poverty measures. Journal of Econometrics 141(1), 141-166 (the semiparametric bootstrap).

    Examples
    --------
    >>> y0, alpha, top = _pareto_tail([1.0, 2, 4, 8, 16, 32, 64, 128, 256, 512], k=3)
    >>> y0, round(alpha, 4), int(top.sum())  # 2 / (ln 2 + ln 4 + ln 8) = 1 / (3 ln 2)
    (64.0, 0.4809, 3)
    """
    y, w = _yw(values, weights)
    n = len(y)
    k = max(3, int(round(np.sqrt(n)))) if k is None else int(k)
    if not 2 <= k < n:
        raise ValueError(f"_pareto_tail: k must be at least 2 and below the number of units ({n}), got {k}")
    order = np.argsort(y, kind="stable")
    top = np.zeros(n, dtype=bool)
    top[order[n - k :]] = True
    y0 = float(y[order[n - k - 1]])
    if y0 <= 0:
        return y0, np.nan, top
    wt = w[top] if w[top].sum() > 0 else np.ones(k)
    mean_log = float(np.sum(wt * np.log(y[top] / y0)) / wt.sum())
    alpha = (k - 1) / (k * mean_log) if mean_log > 0 else np.inf
    return y0, float(alpha), top


def _tail_population(y: np.ndarray, w: np.ndarray, top: np.ndarray, y0: float, alpha: float) -> tuple[float, float]:
    """Gini and Theil T of the semiparametric bootstrap's population, in closed form.

    The population puts weight ``w_i / W`` on each value below the tail and spreads the tail's weight
    ``q = sum_top w / W`` as a Pareto(y0, alpha) distribution. With ``F`` its distribution function,
    ``G = int F (1 - F) dy / mu``, which over the Pareto part is ``q y0 / (alpha - 1) - q^2 y0 / (2 alpha - 1)``,
    and ``T = E[Y ln Y] / mu - ln mu`` with ``E[Y ln Y] = y0 alpha / (alpha - 1) (ln y0 + 1 / (alpha - 1))``
    over the Pareto part (a pure Pareto gives ``G = 1 / (2 alpha - 1)`` and ``T = 1 / (alpha - 1) -
    ln(alpha / (alpha - 1))``; Cowell 2011, ch. 4). Needs ``alpha > 1`` (infinite: a point mass at y0).
    """
    total = w.sum()
    lo = ~top
    order = np.argsort(y[lo], kind="stable")
    z, p = y[lo][order], w[lo][order] / total
    q = float(w[top].sum() / total)
    if np.isfinite(alpha):
        tail_mean = y0 * alpha / (alpha - 1)
        tail_gini = q * y0 / (alpha - 1) - q * q * y0 / (2 * alpha - 1)
        tail_ylogy = tail_mean * (np.log(y0) + 1 / (alpha - 1))
    else:
        tail_mean, tail_gini, tail_ylogy = y0, 0.0, y0 * np.log(y0)
    mu = float(np.sum(p * z) + q * tail_mean)
    cum = np.cumsum(p)[:-1]
    g = (float(np.sum(cum * (1 - cum) * np.diff(z))) + tail_gini) / mu
    zlogz = np.where(z > 0, z * np.log(np.where(z > 0, z, 1.0)), 0.0)
    t = (float(np.sum(p * zlogz)) + q * tail_ylogy) / mu - np.log(mu)
    return float(g), float(t)


#: Smallest Pareto tail index the semiparametric bootstrap of :func:`inequality` uses (a smaller Hill estimate is
#: raised to it). Below 2 the Gini and Theil indices of the Pareto population have no finite variance, so a
#: bootstrap-t has nothing to studentize by; and an index near 1 puts the population's Theil index (which grows
#: as 1 / (alpha - 1)) far above every resample's. In a simulation made while choosing it (800 lognormal(0, 1)
#: samples, 299 resamples), a floor of 1.2 broke the Theil interval (61% coverage at n = 30, 79% at n = 60);
#: floors of 1.5 and 2 gave 93-95% for both indices.
TAIL_INDEX_FLOOR = 2.0

#: Statistics given a bootstrap-t interval by ``interval="studentized"`` or ``"bootstrap-t"``, with their influence
#: functions and the range the statistic can take.
_STUDENTIZED = {"Gini": (_influence_gini, 1.0), "Theil": (_influence_theil, np.inf)}


def _studentized_limits(
    point: float,
    se: float,
    reps: np.ndarray,
    rep_se: np.ndarray,
    confidence: float,
    top: float,
    centre: float | None = None,
) -> tuple[float, float, str]:
    """Bootstrap-t limits ``point - t_(1-q) se, point - t_(q) se`` from the replicates' studentized values.

    The replicates are studentized about ``centre``, the statistic's value in the population they were drawn
    from (``point``, the estimate, for the ordinary bootstrap; the semiparametric population's for the
    Pareto-tail bootstrap).
    """
    ok = np.isfinite(reps) & np.isfinite(rep_se) & (rep_se > 0)
    if ok.sum() < 2 or not se > 0:
        return np.nan, np.nan, "no interval: the statistic does not vary across resamples"
    tail = (1 - confidence) / 2
    tt = (reps[ok] - (point if centre is None else centre)) / rep_se[ok]
    q_lo, q_hi = np.quantile(tt, [tail, 1 - tail])
    return float(max(point - q_hi * se, 0.0)), float(min(point - q_lo * se, top)), ""


def inequality(
    table: pd.DataFrame,
    value: str,
    weight: str | None = None,
    rank_by: str | None = None,
    group: str | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 2024,
    label: str = "",
    interval: str = "bca",
) -> pd.DataFrame:
    """Gini, Theil (with between/within parts) and concentration index, each with a bootstrap interval.

    Units (rows of ``table``: areas or districts) are resampled with replacement ``n_boot`` times, each with its
    value, weight, rank and group (paired resampling). When ``group`` is given and every group holds at least
    two units, units are resampled within their groups (a stratified bootstrap: every group stays present);
    when some group holds a single unit (e.g. one district per group) resampling within groups could not vary
    that group, so units are resampled across the whole table and ``method`` says so. The interval is the bias-
    corrected and accelerated (BCa) bootstrap interval (Efron 1987), with the acceleration from the delete-one
    jackknife (within groups when stratified); ``interval="percentile"`` gives the plain percentile interval.
    ``interval="studentized"`` (used by :func:`inequality_by_scenario`) gives the Gini and Theil indices a
    semiparametric bootstrap-t interval instead (Davidson & Flachaire 2007; Cowell & Flachaire 2007):

    1. a Pareto tail is fitted to the ``k = round(sqrt(n))`` largest values (at least 3) above the threshold
       ``y0``, the (k + 1)-th largest, with the tail index from the weighted Hill (1975) estimator times
       ``(k - 1) / k`` (unbiased for an exact Pareto tail) and raised to at least :data:`TAIL_INDEX_FLOOR`
       (``k`` is our choice: in simulation n / 5, n / 4 and 2 sqrt(n) over-covered, 97-99% in some cells, and
       n / 10 and n^0.4 covered less, 89-92% in lognormal(0, 1) samples of 60);
    2. in each resample of units (the same resamples as the other statistics), a unit drawn from the top ``k``
       keeps its weight but takes a fresh value from that Pareto tail, ``y0 U^(-1 / alpha)``;
    3. each resample's index is studentized by its own standard error from the weighted influence function
       (within groups when stratified) about the index of the population the resamples come from (empirical
       below ``y0``, Pareto above; in closed form), not about the sample's estimate;
    4. the limits are ``value - t_(1-q) se, value - t_(q) se``, cut to the index's range.

    The sample rarely holds the far upper tail that drives both indices, and an ordinary resample can never
    hold more of it than the sample did; drawing the top values from a fitted tail puts back the uncertainty
    (and the downward bias) the sample hides. When the threshold is not positive (most units at zero) there is
    no tail to fit and the ordinary bootstrap-t is used; ``method`` says which. ``interval="bootstrap-t"``
    gives the ordinary bootstrap-t (resamples of the sample itself, studentized about the estimate). The other
    statistics keep BCa.

    An interval is reported only when the data can support one: with fewer than :data:`MIN_BOOTSTRAP_UNITS`
    units, or when a statistic does not vary across resamples (the within-group Theil when every group holds
    one unit), the limits are NaN and ``note`` says why, rather than a zero-width interval. With few units the
    intervals are wide and rough: read them as a guide.

    Calibration (``bench/calibration_inequality.py``: samples of 30, 60 and 150 units from lognormal(0, 0.5),
    lognormal(0, 1), Singh-Maddala and gamma(2) populations, and weighted, stratified lognormal(0, 0.5) samples;
    600 samples a cell, 299 resamples, nominal 95%): the semiparametric bootstrap-t covered 93-96% in 26 of the
    30 cells (lognormal(0, 1), n = 60: Gini 94.5%, Theil 93.3%). Below 93%: the Theil index in lognormal(0, 1)
    samples of 30 (91.7%), and in lognormal(0, 0.5) samples of 150 (Gini 91.5%, Theil 90.0%; weighted and
    stratified, Theil 92.8%), where a Pareto tail fitted to a lognormal's top values is heavier than the
    lognormal's and pushes the interval up (the ordinary bootstrap-t gave 92.8% and 91.5% there). The ordinary
    bootstrap-t covered 82-95% (lognormal(0, 1), n = 60: 90.2% and 83.5%), BCa 75-94% and the percentile
    interval 67-92%.

    Parameters
    ----------
    table : one row per unit.
    value : column to measure (e.g. funding per need-weighted head).
    weight : column of weights (e.g. need-weighted residents); default equal weights.
    rank_by : column to rank by for the concentration index (ascending), e.g. minus the IMD score.
    group : column of groups for the Theil decomposition (e.g. district).
    n_boot : bootstrap replicates (0 for none).
    confidence : interval level.
    seed : random seed (results are reproducible).
    label : put in a ``scenario`` column (e.g. "current", "proposed").
    interval : ``"bca"`` (default), ``"studentized"`` (semiparametric bootstrap-t for Gini and Theil, BCa for
        the others), ``"bootstrap-t"`` (ordinary bootstrap-t for Gini and Theil, BCa for the others) or
        ``"percentile"``.

    Returns
    -------
    One row per statistic: ``statistic, value`` and, with ``n_boot > 0``, ``lowercl, uppercl, confidence``
    and ``note``; then ``method`` (and ``scenario`` first when ``label`` is given).

    References
    ----------
    Efron, B. (1987). Better bootstrap confidence intervals. Journal of the American Statistical Association
    82(397), 171-185. Efron, B. & Tibshirani, R. (1993). An Introduction to the Bootstrap, chapters 14 and 22
    (BCa, jackknife acceleration). Davison, A. C. & Hinkley, D. V. (1997). Bootstrap Methods and their
    Application, sections 3.2 and 5.3 (stratified resampling, BCa). O'Donnell et al. (2008). Davidson, R. &
    Flachaire, E. (2007). Asymptotic and bootstrap inference for inequality and poverty measures. Journal of
    Econometrics 141(1), 141-166 (influence functions, bootstrap-t, semiparametric bootstrap with a Pareto
    tail). Cowell, F. A. & Flachaire, E. (2007). Income distribution and inequality measurement: the problem of
    extreme values. Journal of Econometrics 141(2), 1044-1072. Hill, B. M. (1975). A simple general approach to
    inference about the tail of a distribution. Annals of Statistics 3(5), 1163-1174.

    Examples
    --------
    >>> t = pd.DataFrame({"y": [1.0, 2, 3, 4], "w": [1, 1, 1, 1]})
    >>> inequality(t, "y", "w", n_boot=0)[["statistic", "value"]].values.tolist()
    [['Gini', 0.25], ['Theil', 0.1064]]
    """
    for col in (value, weight, rank_by, group):
        if col is not None and col not in table.columns:
            raise ValueError(f"inequality: column {col!r} not in the table (columns: {list(table.columns)})")
    if interval not in ("studentized", "bootstrap-t", "bca", "percentile"):
        raise ValueError(
            f"inequality: interval must be 'studentized', 'bootstrap-t', 'bca' or 'percentile', got {interval!r}"
        )
    y = table[value].to_numpy(dtype=float)
    w = table[weight].to_numpy(dtype=float) if weight else np.ones(len(y))
    r = table[rank_by].to_numpy(dtype=float) if rank_by else None
    g = table[group].to_numpy() if group else None
    keep = np.isfinite(y) & np.isfinite(w)
    dropped = int((~keep).sum())
    y, w = y[keep], w[keep]
    r = r[keep] if r is not None else None
    g = g[keep] if g is not None else None

    def stats_of(idx: np.ndarray) -> dict[str, float]:
        res = {"Gini": gini(y[idx], w[idx]), "Theil": theil(y[idx], w[idx])}
        if g is not None:
            d = theil_decomposition(y[idx], w[idx], g[idx])
            res["Theil between groups"] = d["between"]
            res["Theil within groups"] = d["within"]
        if r is not None:
            res["Concentration index"] = concentration_index(y[idx], r[idx], w[idx])
        return res

    group_codes = None if g is None else pd.factorize(g)[0]

    def rows_of(idx: np.ndarray) -> dict[str, np.ndarray]:
        """Every statistic for each row of unit indices (a resample or a jackknife sample a row)."""
        res = _rows_gini_theil(y[idx], w[idx], se=False)
        if group_codes is not None:
            res["Theil between groups"] = _rows_between(y[idx], w[idx], group_codes[idx])
            res["Theil within groups"] = res["Theil"] - res["Theil between groups"]  # T = between + within
        if r is not None:
            res["Concentration index"] = np.array([concentration_index(y[i], r[i], w[i]) for i in idx])
        return res

    everyone = np.arange(len(y))
    point = stats_of(everyone)
    reps = {k: np.full(n_boot, np.nan) for k in point}
    studentized = {k: f for k, f in _STUDENTIZED.items() if interval in ("studentized", "bootstrap-t") and k in point}
    rep_se = {k: np.full(n_boot, np.nan) for k in studentized}
    centre = dict(point)
    accel = dict.fromkeys(point, 0.0)
    strata_of = None
    how = tail_how = ""
    too_few = len(y) < MIN_BOOTSTRAP_UNITS
    if n_boot > 0 and not too_few:
        rng = np.random.default_rng(seed)
        members = [everyone]
        how = "units"
        if g is not None:
            strata = [np.flatnonzero(g == lab) for lab in pd.unique(g)]
            single = sum(len(m) == 1 for m in strata)
            if single == 0:
                members, how = strata, f"units within {group}"
                strata_of = g
            else:
                how = f"units across {group} ({single} of {len(strata)} groups hold one unit)"
        idx_all = np.empty((n_boot, len(y)), dtype=int)
        for b in range(n_boot):
            idx_all[b] = np.concatenate([rng.choice(m, size=len(m), replace=True) for m in members])
        codes = None if strata_of is None else pd.factorize(strata_of)[0][idx_all]
        reps = rows_of(idx_all)
        if interval == "bootstrap-t":
            rows = _rows_gini_theil(y[idx_all], w[idx_all], codes)
            rep_se = {k: rows[f"{k} se"] for k in ("Gini", "Theil")}
        if interval == "studentized":
            y0, alpha, top = _pareto_tail(y, w)
            values = y[idx_all]
            if y0 > 0:
                alpha = max(alpha, TAIL_INDEX_FLOOR)
                # a separate random stream, so the resamples of the other statistics are those of interval="bca"
                u = np.random.default_rng([seed, 15]).random(idx_all.shape)
                in_tail = top[idx_all]
                values[in_tail] = y0 * (1 - u[in_tail]) ** (-1 / alpha)
                centre["Gini"], centre["Theil"] = _tail_population(y, w, top, y0, alpha)
                tail_how = (
                    f"; semiparametric resamples: the {int(top.sum())} largest values drawn from a Pareto tail above "
                    f"{y0:.4g} (index {alpha:.2f})"
                )
            else:
                tail_how = "; no Pareto tail (the tail threshold is not positive): plain bootstrap-t"
            rows = _rows_gini_theil(values, w[idx_all], codes)
            for k in ("Gini", "Theil"):
                reps[k], rep_se[k] = rows[k], rows[f"{k} se"]
        if interval != "percentile":
            needs = point if interval == "bca" else [k for k in point if k not in studentized]
            jack_all = {k: np.empty(len(y)) for k in point}
            step = max(1, 2_000_000 // len(y))  # delete-one samples, a block of rows at a time
            for start in range(0, len(y), step):
                drop = everyone[start : start + step]
                keep_rows = everyone[None, :] != drop[:, None]
                loo = np.broadcast_to(everyone, keep_rows.shape)[keep_rows].reshape(len(drop), len(y) - 1)
                for k, v in rows_of(loo).items():
                    jack_all[k][drop] = v
            accel = {k: _acceleration([jack_all[k][m] for m in members]) for k in needs}
    out = []
    for k, v in point.items():
        lo = hi = np.nan
        note = ""
        if n_boot > 0:
            if too_few:
                note = f"no interval: fewer than {MIN_BOOTSTRAP_UNITS} units"
            elif k in studentized:
                influence, top_value = studentized[k]
                se = _influence_se(influence(y, w), w, strata_of)
                lo, hi, note = _studentized_limits(v, se, reps[k], rep_se[k], confidence, top_value, centre[k])
            else:
                kind = "percentile" if interval == "percentile" else "bca"
                lo, hi, note = _bootstrap_limits(v, reps[k], accel[k], confidence, kind)
        out.append(
            {
                "statistic": k,
                "value": round(v, 4),
                "lowercl": round(float(lo), 4),
                "uppercl": round(float(hi), 4),
                "note": note,
            }
        )
    frame = pd.DataFrame(out)
    if n_boot == 0:
        frame = frame.drop(columns=["lowercl", "uppercl", "note"])
    else:
        frame.insert(4, "confidence", f"{confidence:.0%}")
    method = f"{value} weighted by {weight or 'equal weights'}; {len(y)} units"
    if n_boot and not too_few:
        name = {
            "studentized": "semiparametric bootstrap-t for Gini and Theil (Pareto upper tail, influence-function "
            "standard errors; Davidson & Flachaire 2007), BCa bootstrap (Efron 1987) for the others",
            "bootstrap-t": "bootstrap-t for Gini and Theil (influence-function standard errors, Davidson & "
            "Flachaire 2007), BCa bootstrap (Efron 1987) for the others",
            "bca": "BCa bootstrap (Efron 1987)",
            "percentile": "percentile bootstrap",
        }[interval]
        method += f"; {name}, {n_boot} resamples of {how}, seed {seed}{tail_how}"
    if dropped:
        method += f"; {dropped} units with no value left out"
    frame["method"] = method
    if label:
        frame.insert(0, "scenario", label)
    return frame


@dataclass
class ScenarioInequality:
    """Inequality of funding per need-weighted resident under several funding scenarios (e.g. before and after).

    Attributes
    ----------
    table : :func:`inequality` for each scenario, stacked (``scenario`` names the row's scenario).
    per_need : scenario -> the :func:`funding_per_need` table it was computed from.
    """

    table: pd.DataFrame
    per_need: dict[str, pd.DataFrame]

    def plot(self, ax: Axes | None = None) -> Axes:
        """Lorenz curves of funding against need, one per scenario, with the line of equality."""
        curves = {
            name: lorenz_curve(t["funding_per_weighted_head"], t["weighted_population"])
            for name, t in self.per_need.items()
        }
        return plot_lorenz(curves, ax=ax)


def inequality_by_scenario(
    data: AreaData,
    scenarios: Mapping[str, pd.DataFrame],
    need: NeedIndex,
    n_boot: int = 1000,
) -> ScenarioInequality:
    """Gini, Theil and concentration index of funding per need-weighted resident for each funding scenario.

    Parameters
    ----------
    data : the area.
    scenarios : name -> funding by district (a ``funding`` column), e.g. the current split and a proposal.
    need : the small-area need index (``need_index(data, level="area")``) that weights residents.
    n_boot : bootstrap resamples for the intervals: semiparametric (Pareto-tail) bootstrap-t for the Gini and
        Theil indices, BCa for the others (small areas resampled within their districts; with one unit per
        district, across districts; see :func:`inequality`).
    """
    per_need = {name: funding_per_need(data, funding, need) for name, funding in scenarios.items()}
    table = pd.concat(
        [
            inequality(
                t,
                "funding_per_weighted_head",
                "weighted_population",
                rank_by="deprivation_order",
                group="district_code",
                n_boot=n_boot,
                label=name,
                interval="studentized",
            )
            for name, t in per_need.items()
        ],
        ignore_index=True,
    )
    return ScenarioInequality(table, per_need)
