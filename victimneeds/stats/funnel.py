"""Funnel-plot limits, with over-dispersion allowed for.

Part of :mod:`victimneeds.stats`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as _st

from victimneeds.stats.helpers import (
    FunnelKind,
    _column,
    _confidence,
    _level_tag,
    _pct,
    _rows,
    _z,
)

# --------------------------------------------------------------------------------------------------
# Funnel plots
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overdispersion:
    """Estimated over-dispersion of a set of units around a target (Spiegelhalter 2005).

    Attributes
    ----------
    method : ``"multiplicative"`` (limits scaled by sqrt(phi)) or ``"additive"`` (random effects, limits
        from sqrt(s^2 + tau2)).
    phi : mean of squared winsorised z-scores.
    tau2 : DerSimonian-Laird between-unit variance, in the units of the indicator (times ``multiplier``).
    n_units : number of units used.
    winsor : fraction winsorised at each end.
    p_value : chi-square test of no over-dispersion (I phi on I - 1 degrees of freedom).
    multiplier : the scale ``tau2`` is on.
    """

    method: Literal["multiplicative", "additive"]
    phi: float
    tau2: float
    n_units: int
    winsor: float
    p_value: float
    multiplier: float = 1.0

    @property
    def adjusts(self) -> bool:
        """True when the limits are widened (phi > 1, or tau2 > 0 for the additive model)."""
        return self.phi > 1 if self.method == "multiplicative" else self.tau2 > 0

    def describe(self) -> str:
        if not self.adjusts:
            return f"no over-dispersion found (phi = {self.phi:.3g})"
        if self.method == "multiplicative":
            return f"multiplicative over-dispersion, phi = {self.phi:.3g}"
        return f"additive random-effects over-dispersion, tau2 = {self.tau2:.3g} (phi = {self.phi:.3g})"


def _winsorise(z: np.ndarray, fraction: float) -> np.ndarray:
    """Replace the floor(fraction * I) smallest and largest values by the next value inwards."""
    z = np.asarray(z, dtype=float)
    k = int(np.floor(fraction * len(z)))
    if k == 0:
        return z.copy()
    order = np.sort(z)
    return np.clip(z, order[k], order[len(z) - 1 - k])


def winsorised_second_moment(fraction: float) -> float:
    """E[W^2] for W a standard normal winsorised at ``fraction`` in each tail.

    With q the upper ``fraction`` point of N(0, 1), E[W^2] = (1 - 2 fraction) - 2 q phi(q) + 2 fraction q^2. Dividing
    the mean of squared winsorised z-scores by it gives phi = 1 when the units are in control, as the
    consistency factor of a winsorised variance does (Dixon & Tukey 1968); without it phi is biased down (0.68
    at 10% winsorising) and over-dispersed units are flagged too often.

    >>> round(winsorised_second_moment(0.1), 4)
    0.6787
    >>> winsorised_second_moment(0.0)
    1.0
    """
    if fraction <= 0:
        return 1.0
    q = float(_st.norm.isf(fraction))
    return float((1 - 2 * fraction) - 2 * q * _st.norm.pdf(q) + 2 * fraction * q**2)


def estimate_overdispersion(
    z: np.typing.ArrayLike,
    s: np.typing.ArrayLike,
    method: Literal["multiplicative", "additive"] = "additive",
    winsor: float = 0.1,
    multiplier: float = 1.0,
) -> Overdispersion:
    """Over-dispersion factor phi and the DerSimonian-Laird tau-squared, after winsorising the z-scores.

    phi = (1/I) sum z_i^2 / c over winsorised z-scores, where c = :func:`winsorised_second_moment` of the share
    actually winsorised makes phi unbiased for in-control units. For the additive model,
    tau2 = max(0, (I phi - (I - 1)) / (sum w_i - sum w_i^2 / sum w_i)), with w_i = 1 / s_i^2.

    Parameters
    ----------
    z : z-scores of the units, (y_i - target) / s_i.
    s : standard errors of the units under the target, s_i.
    method : ``"multiplicative"`` or ``"additive"``.
    winsor : fraction of z-scores shrunk at each end (0.1, as Spiegelhalter recommends).
    multiplier : the scale of ``y`` (recorded so limits can be rescaled).

    References
    ----------
    Spiegelhalter DJ (2005). Handling over-dispersion of performance indicators. Quality and Safety in
    Health Care 14:347-351. DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Controlled
    Clinical Trials 7:177-188. Dixon WJ, Tukey JW (1968). Approximate behavior of the distribution of
    Winsorized t (trimming/Winsorization 2). Technometrics 10:83-98.

    Examples
    --------
    >>> od = estimate_overdispersion([-2.0, -1.0, 0.0, 1.0, 2.0], [0.1] * 5, winsor=0)
    >>> print(od.phi, round(od.tau2, 4))
    2.0 0.015
    """
    z = np.asarray(z, dtype=float)
    s = np.asarray(s, dtype=float)
    keep = np.isfinite(z) & np.isfinite(s) & (s > 0)
    z, s = z[keep], s[keep]
    units = len(z)
    if units < 2:
        raise ValueError(
            "estimate_overdispersion: need at least two units with a denominator to estimate over-dispersion"
        )
    zw = _winsorise(z, winsor)
    phi = float(np.mean(zw**2)) / winsorised_second_moment(np.floor(winsor * units) / units)
    w = 1 / s**2
    tau2 = max(0.0, (units * phi - (units - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    p = float(_st.chi2.sf(units * phi, units - 1))
    if method not in ("multiplicative", "additive"):
        raise ValueError(f"over-dispersion method must be 'multiplicative' or 'additive', got {method!r}")
    return Overdispersion(method, phi, float(tau2), units, winsor, p, float(multiplier))


def _null_se(kind: str, target: float, denominators: np.ndarray, multiplier: float) -> np.ndarray:
    """Standard error of y = x / n * multiplier under the target, in the units of y."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "proportion":
            p0 = target / multiplier
            return np.sqrt(p0 * (1 - p0) / denominators) * multiplier
        return np.sqrt(target * multiplier / denominators)


def _check_kind(kind: str, target: float, multiplier: float) -> None:
    if kind not in ("proportion", "ratio", "rate"):
        raise ValueError(f"kind must be 'proportion', 'ratio' or 'rate', got {kind!r}")
    if kind == "proportion" and not 0 < target / multiplier < 1:
        raise ValueError(
            f"a funnel target for a proportion must lie strictly between 0 and {multiplier:g}; got {target}"
        )
    if kind != "proportion" and not target > 0:
        raise ValueError(f"a funnel target for a {kind} must be positive; got {target}")


def _exact_limit(kind: str, target: float, n: np.ndarray, prob: float, multiplier: float) -> np.ndarray:
    """Spiegelhalter's interpolated exact quantile of y = X / n * multiplier."""
    if kind == "proportion":
        dist = _st.binom(n, target / multiplier)
    else:
        dist = _st.poisson(n * target / multiplier)
    r = dist.ppf(prob)
    f_r, f_r1 = dist.cdf(r), dist.cdf(r - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(f_r > f_r1, (f_r - prob) / (f_r - f_r1), 0.0)
        y = (r - alpha) / n * multiplier
    if kind == "proportion":
        y = np.clip(y, 0, multiplier)
    return np.maximum(y, 0.0)


def _overdispersed_quantile(level: float, od: Overdispersion) -> float:
    """The two-sided quantile for limits widened by an estimated over-dispersion.

    phi (or tau2) is estimated from the same I units, so the standardised distance of a unit is closer to
    Student's t than to the normal: t with I - 1 degrees of freedom for the multiplicative model (z / sqrt(phi),
    phi a mean of I squared z-scores) and I - 2 for the additive one, as in the random-effects prediction
    interval of Higgins, Thompson & Spiegelhalter (2009). Without this the 99.8% limits of 20 units with
    over-dispersed data flagged 0.35% of in-control units (bench/calibration.py). A phi given as a number
    (``n_units`` 0) keeps the normal quantile.
    """
    df = od.n_units - (1 if od.method == "multiplicative" else 2)
    if od.n_units <= 0 or df < 1:
        return _z(level)
    return float(_st.t.ppf((1 + level) / 2, df))


def funnel_limits(
    target: float,
    denominators: np.typing.ArrayLike,
    kind: FunnelKind = "proportion",
    levels: Sequence[float] = (0.95, 0.998),
    overdispersion: Overdispersion | float | None = None,
    multiplier: float = 1,
) -> pd.DataFrame:
    """Funnel-plot control limits around a target, for a range of denominators.

    Without over-dispersion the limits are exact, with Spiegelhalter's interpolation between the discrete
    quantiles: the binomial for proportions (denominator = number of cases), and the Poisson for ratios
    (denominator = expected count, target usually 1) and rates (denominator = population). With
    over-dispersion they use the normal approximation (no continuity correction):
    target +/- q sqrt(phi) s(n) (multiplicative) or target +/- q sqrt(s(n)^2 + tau2) (additive), where
    s(n) is the standard error under the target and q the Student t quantile with I - 1 (multiplicative) or
    I - 2 (additive) degrees of freedom when phi was estimated from I units (the normal quantile otherwise).

    The interpolation spreads the probability of each count r over (r - 1, r], so exact limits sit about
    half a case below a symmetric interval, and at very small denominators (n p (1 - p) below about 2, or
    an expected count below about 2) the discrete distribution is too coarse for the limits to bracket
    the target; use funnels for units of reasonable size.

    Parameters
    ----------
    target : the target or average, in the units of the indicator (e.g. 0.2, or 20 with multiplier=100).
    denominators : the denominators at which to compute limits (e.g. ``np.arange(1, 501)`` for a smooth
        curve, or the units' own denominators).
    kind : ``"proportion"``, ``"ratio"`` or ``"rate"``.
    levels : control-limit levels, 95% and 99.8% by default.
    overdispersion : None, an :class:`Overdispersion` from :func:`estimate_overdispersion` (or
        :func:`funnel_flags`), or a number taken as a multiplicative phi.
    multiplier : scale of the indicator (100 for percentages, 1000 for rates per 1,000).

    Returns
    -------
    Tidy frame, one row per denominator and level: ``denominator, level, lower, upper, target, kind,
    method``.

    References
    ----------
    Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. Statistics in Medicine
    24:1185-1202. Spiegelhalter DJ (2005). Handling over-dispersion of performance indicators. Quality and
    Safety in Health Care 14:347-351. Higgins JPT, Thompson SG, Spiegelhalter DJ (2009). A re-evaluation of
    random-effects meta-analysis. JRSS A 172:137-159.

    Examples
    --------
    >>> funnel_limits(0.5, [100], levels=[0.95]).round(4)[["denominator", "level", "lower", "upper"]]
       denominator  level   lower   upper
    0          100   0.95  0.3968  0.5932
    """
    _check_kind(kind, target, multiplier)
    n = np.asarray(denominators, dtype=float).ravel()
    if np.any(~np.isfinite(n)) or np.any(n <= 0):
        raise ValueError("funnel_limits: denominators must be positive numbers")
    if kind == "proportion" and not np.allclose(n, np.round(n)):
        raise ValueError("funnel_limits: denominators of proportions must be whole numbers (numbers of cases)")
    if isinstance(overdispersion, int | float) and not isinstance(overdispersion, bool):
        overdispersion = Overdispersion("multiplicative", float(overdispersion), 0.0, 0, 0.0, np.nan, float(multiplier))
    frames = []
    for level in levels:
        level = _confidence(level)
        if overdispersion is None or not overdispersion.adjusts:
            lower = _exact_limit(kind, target, n, (1 - level) / 2, multiplier)
            upper = _exact_limit(kind, target, n, (1 + level) / 2, multiplier)
            dist = "binomial" if kind == "proportion" else "Poisson"
            method = f"exact {dist} with interpolation (Spiegelhalter 2005)"
            if overdispersion is not None:
                method += f"; {overdispersion.describe()}"
        else:
            z = _overdispersed_quantile(level, overdispersion)
            s = _null_se(kind, target, n, multiplier)
            if overdispersion.method == "multiplicative":
                half = z * np.sqrt(overdispersion.phi) * s
            else:
                tau2 = overdispersion.tau2 * (multiplier / overdispersion.multiplier) ** 2
                half = z * np.sqrt(s**2 + tau2)
            lower, upper = np.maximum(target - half, 0.0), target + half
            if kind == "proportion":
                upper = np.minimum(upper, multiplier)
            method = f"normal approximation, {overdispersion.describe()} (Spiegelhalter 2005)"
        frames.append(pd.DataFrame({"denominator": n, "level": level, "lower": lower, "upper": upper}))
    out = pd.concat(frames, ignore_index=True)
    if np.allclose(out["denominator"], np.round(out["denominator"])):
        out["denominator"] = out["denominator"].round().astype("int64")
    out["target"] = float(target)
    out["kind"] = kind
    out["method"] = method
    return out


def funnel_flags(
    data: pd.DataFrame,
    x: str,
    n: str,
    target: float | None = None,
    kind: FunnelKind = "proportion",
    overdispersion: bool | str = False,
    levels: Sequence[float] = (0.95, 0.998),
    multiplier: float = 1,
    winsor: float = 0.1,
) -> pd.DataFrame:
    """Place each unit on the funnel: its value, z-score, limits at its denominator and a flag.

    Parameters
    ----------
    data : one row per unit (district, service, ...).
    x : numerator column (cases, observed count, events).
    n : denominator column (cases, expected count, population).
    target : the target in the units of the indicator; default the pooled value, sum(x) / sum(n) x
        multiplier (for ratios against expected counts from the same data this is 1).
    kind : ``"proportion"``, ``"ratio"`` or ``"rate"``.
    overdispersion : False (exact limits), ``"multiplicative"``, or ``"additive"`` (True means additive):
        estimated from the units by :func:`estimate_overdispersion` with ``winsor``; when no
        over-dispersion is found the exact limits are used and ``method`` says so.
    levels : control-limit levels, 95% and 99.8% by default.
    multiplier : scale of the indicator (100 for percentages, 1000 for rates per 1,000).
    winsor : fraction of z-scores winsorised at each end when estimating over-dispersion.

    Returns
    -------
    A copy of ``data`` with ``value``, ``target``, ``z`` (unadjusted z-score), ``z_adjusted`` (for
    over-dispersion), ``lower_95, upper_95, lower_99_8, upper_99_8`` (the limits at the unit's denominator),
    ``flag`` (``"above 99.8%"``, ``"above 95%"``, ``"within 95%"``, ``"below 95%"``, ``"below 99.8%"``, or
    ``"not assessed: no denominator"``), ``kind``, ``method``, ``phi`` and ``tau2``. The estimate is also in
    ``.attrs["overdispersion"]``.

    References
    ----------
    Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. Statistics in Medicine
    24:1185-1202. Spiegelhalter DJ (2005). Handling over-dispersion of performance indicators. Quality and
    Safety in Health Care 14:347-351.

    Examples
    --------
    >>> t = pd.DataFrame({"unit": list("ABCD"), "referred": [50, 48, 52, 90], "victims": [100] * 4})
    >>> funnel_flags(t, "referred", "victims", target=0.5)[["unit", "value", "flag"]]
      unit  value         flag
    0    A   0.50   within 95%
    1    B   0.48   within 95%
    2    C   0.52   within 95%
    3    D   0.90  above 99.8%
    """
    xs = _column(data, x, "numerator", "funnel_flags")
    ns = _column(data, n, "denominator", "funnel_flags")
    if kind == "proportion" and (xs > ns).any():
        bad = xs > ns
        raise ValueError(f"funnel_flags: column {x!r} exceeds column {n!r} in rows {_rows(bad, data.index)}")
    usable = np.isfinite(xs) & np.isfinite(ns) & (ns > 0)
    if target is None:
        target = float(xs[usable].sum() / ns[usable].sum() * multiplier)
    _check_kind(kind, target, multiplier)
    levels = [_confidence(level) for level in levels]
    out = data.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(usable, xs / ns * multiplier, np.nan)
        s = _null_se(kind, target, np.where(usable, ns, np.nan), multiplier)
        z = (y - target) / s
    od: Overdispersion | None = None
    if overdispersion:
        how = "additive" if overdispersion is True else str(overdispersion)
        od = estimate_overdispersion(z[usable], s[usable], how, winsor, multiplier)  # type: ignore[arg-type]
    out["value"] = y
    out["target"] = target
    out["z"] = z
    if od is not None and od.adjusts:
        z_adj = z / np.sqrt(od.phi) if od.method == "multiplicative" else (y - target) / np.sqrt(s**2 + od.tau2)
        out["z_adjusted"] = z_adj
    flag = np.where(usable, "within", "not assessed: no denominator").astype(object)
    first = _pct(min(levels))
    for level in sorted(levels):
        lim = funnel_limits(target, np.where(usable, ns, 1.0), kind, [level], od, multiplier)
        lo, hi = lim["lower"].to_numpy(), lim["upper"].to_numpy()
        tag = _level_tag(level)
        out[f"lower_{tag}"] = np.where(usable, lo, np.nan)
        out[f"upper_{tag}"] = np.where(usable, hi, np.nan)
        with np.errstate(invalid="ignore"):
            flag = np.where(usable & (y > hi), f"above {_pct(level)}", flag)
            flag = np.where(usable & (y < lo), f"below {_pct(level)}", flag)
        method = lim["method"].iloc[0]
    flag = np.where(flag == "within", f"within {first}", flag)
    out["flag"] = flag
    out["kind"] = kind
    out["method"] = method
    out["phi"] = od.phi if od is not None else np.nan
    out["tau2"] = od.tau2 if od is not None else np.nan
    out.attrs["overdispersion"] = od
    return out
