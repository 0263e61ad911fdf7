"""One comparison engine for referrals, victim voice and outcomes: rates by group, odds ratios, trends, control charts.

Every section of the assessment asks the same questions of a yes/no outcome (referred, satisfied, contacted
within two days, a positive justice outcome): how does the rate differ between groups of victims, does the
difference survive adjustment for the other characteristics, is it changing over time, and has it shifted
recently? This module answers them once, so that :mod:`victimneeds.referrals`, :mod:`victimneeds.voice` and
:mod:`victimneeds.outcomes` do not keep three copies:

* :func:`compare` - for each breakdown (sex, age band, ethnicity, disability, district, crime group, risk
  level, support level: whichever columns exist), rates with Wilson intervals, unadjusted and mutually
  adjusted odds ratios (logistic regression; Firth's penalised likelihood where a group separates), a trend
  over time, and Benjamini-Hochberg q-values across the family of comparisons (:class:`Comparison`);
* :func:`odds_ratios` - the odds-ratio table on its own (used by :func:`victimneeds.referrals.referral_model`);
* :func:`firth_logit` - Firth's bias-reduced logistic regression with profile penalised-likelihood intervals;
* :func:`binomial_trend` - a binomial GLM of counts on time, with over-dispersion estimated from Pearson's
  chi-square (floored at 1);
* :func:`control_chart` - a p-chart with 3-sigma (or 99.8%) limits, Laney's p' allowance for over-dispersion
  and sustained-shift rules, returning findings in words (:class:`ControlChart`);
* :func:`benjamini_hochberg` and :func:`gaps_rule` - the rule that decides which of a family of comparisons
  is reported as a gap.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import statsmodels.api as sm
from matplotlib.axes import Axes
from scipy import optimize as _opt
from scipy import stats as _st
from scipy.special import expit

from victimneeds import stats
from victimneeds.plotting import MARKERS, PALETTE, legend_below, page_size, thin_ticks

__all__ = [
    "BREAKDOWNS",
    "Comparison",
    "ControlChart",
    "FirthFit",
    "benjamini_hochberg",
    "binomial_trend",
    "compare",
    "control_chart",
    "firth_logit",
    "gaps_rule",
    "odds_ratios",
]

#: Breakdowns looked for by :func:`compare` when ``by`` is not given, in the order shown.
BREAKDOWNS: tuple[str, ...] = (
    "victim_sex",
    "victim_age_band",
    "victim_ethnicity",
    "victim_disability",
    "district_code",
    "crime_group",
    "risk_level",
    "support_level",
)

NOT_RECORDED = "Not recorded"


# --------------------------------------------------------------------------------------------------
# Multiple comparisons
# --------------------------------------------------------------------------------------------------


def benjamini_hochberg(pvalues: np.typing.ArrayLike) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) for a family of tests; NaN p-values stay NaN.

    The q-value of the test ranked i (of m, smallest p first) is min over j >= i of p_(j) m / j, capped at 1.
    Rejecting every test with q <= ``fdr`` controls the false discovery rate at ``fdr`` for independent or
    positively dependent tests. Missing p-values are not counted in m.

    References
    ----------
    Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate: a practical and powerful approach to
    multiple testing. Journal of the Royal Statistical Society B 57:289-300.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.5]).round(3).tolist()
    [0.04, 0.053, 0.053, 0.5]
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    pv = p[ok]
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    res = np.empty(m)
    res[order] = q
    out[ok] = res
    return out


def gaps_rule(pvalues: np.typing.ArrayLike, fdr: float = 0.05) -> np.ndarray:
    """Which comparisons in a family to report as findings: Benjamini-Hochberg at false discovery rate ``fdr``.

    The rule the assessment uses for "Gaps found": a family is every comparison made for one question (all
    districts' referral ratios; all groups' adjusted odds ratios of being referred). A comparison is a finding
    only when its p-value comes from a model that allows for what the raw ratio ignores (an adjusted
    logistic regression, or a funnel z-score with over-dispersion allowed for) **and** it survives the
    Benjamini-Hochberg step-up procedure across the family at ``fdr``. With 20 districts and no real
    difference, a 95% funnel flags one by chance; this rule flags none 95% of the time.

    Parameters
    ----------
    pvalues : two-sided p-values, one per comparison in the family (NaN = not tested, never flagged).
    fdr : the false discovery rate to control (0.05 by default).

    Returns
    -------
    Boolean array, True where the comparison is a finding.

    References
    ----------
    Benjamini Y, Hochberg Y (1995). Journal of the Royal Statistical Society B 57:289-300.

    Examples
    --------
    >>> gaps_rule([0.001, 0.02, 0.03, 0.5]).tolist()
    [True, True, True, False]
    >>> gaps_rule([0.001, 0.02, 0.03, 0.5], fdr=0.01).tolist()
    [True, False, False, False]
    """
    if not 0 < fdr < 1:
        raise ValueError(f"gaps_rule: fdr must be between 0 and 1, not {fdr}")
    q = benjamini_hochberg(pvalues)
    return np.where(np.isfinite(q), q <= fdr, False)


# --------------------------------------------------------------------------------------------------
# Firth's penalised logistic regression
# --------------------------------------------------------------------------------------------------


@dataclass
class FirthFit:
    """Result of :func:`firth_logit`.

    Attributes
    ----------
    params : coefficients (log odds ratios), indexed by the design's column names.
    bse : standard errors from the inverse Fisher information at the estimate.
    lower, upper : profile penalised-likelihood limits (Heinze & Schemper 2002) at ``confidence``.
    pvalues : penalised likelihood-ratio test of each coefficient being 0.
    loglik : the maximised penalised log-likelihood.
    converged, iterations : how the Newton iterations ended.
    """

    params: pd.Series
    bse: pd.Series
    lower: pd.Series
    upper: pd.Series
    pvalues: pd.Series
    loglik: float
    converged: bool
    iterations: int
    confidence: float = 0.95


def _pen_loglik(X: np.ndarray, y: np.ndarray, n: np.ndarray, beta: np.ndarray) -> float:
    eta = X @ beta
    ll = float(np.sum(y * eta - n * np.logaddexp(0.0, eta)))
    p = expit(eta)
    w = n * p * (1 - p)
    sign, logdet = np.linalg.slogdet(X.T @ (X * w[:, None]))
    return ll + 0.5 * logdet if sign > 0 else -np.inf


def _firth_newton(
    X: np.ndarray,
    y: np.ndarray,
    n: np.ndarray,
    beta: np.ndarray,
    free: np.ndarray,
    maxiter: int = 100,
    tol: float = 1e-8,
) -> tuple[np.ndarray, float, bool, int]:
    """Maximise the penalised log-likelihood over the ``free`` coefficients (the others held where they are)."""
    beta = beta.astype(float).copy()
    current = _pen_loglik(X, y, n, beta)
    for it in range(1, maxiter + 1):
        p = expit(X @ beta)
        w = n * p * (1 - p)
        info = X.T @ (X * w[:, None])
        inv = np.linalg.pinv(info)
        h = w * np.einsum("ij,jk,ik->i", X, inv, X)
        score = X.T @ (y - n * p + h * (0.5 - p))
        step = np.zeros_like(beta)
        step[free] = np.linalg.lstsq(info[np.ix_(free, free)], score[free], rcond=None)[0]
        big = np.max(np.abs(step)) if step.size else 0.0
        if big > 5:  # cap the step, as logistf does
            step *= 5 / big
        for _ in range(30):
            trial = beta + step
            value = _pen_loglik(X, y, n, trial)
            if value >= current - 1e-12:
                break
            step /= 2
        beta, gain, current = trial, value - current, value
        if np.max(np.abs(step)) < tol or (abs(gain) < tol * 1e-2 and np.max(np.abs(step)) < 1e-6):
            return beta, current, True, it
    return beta, current, False, maxiter


def firth_logit(
    exog: pd.DataFrame | np.ndarray,
    events: np.typing.ArrayLike,
    trials: np.typing.ArrayLike | None = None,
    confidence: float = 0.95,
    profile: bool | Sequence[int] = True,
    maxiter: int = 100,
) -> FirthFit:
    """Firth's bias-reduced logistic regression for binary or grouped binomial data.

    Maximises the penalised log-likelihood l(b) + 1/2 log det I(b), whose score is
    X'(y - n p + h (1/2 - p)) with h the diagonal of the hat matrix W^1/2 X (X'WX)^-1 X' W^1/2,
    W = diag(n p (1 - p)). Newton steps use the Fisher information, capped at 5 and halved until the penalised
    likelihood rises. Unlike maximum likelihood, the estimates stay finite when a group has all or none of
    the outcome (separation). Intervals are profile penalised-likelihood intervals and p-values penalised
    likelihood-ratio tests, both recommended over Wald's under separation. For a 2x2 table Firth's odds ratio
    equals adding 1/2 to each cell.

    Parameters
    ----------
    exog : design matrix with an intercept column (a DataFrame keeps the column names).
    events : number of events per row (0/1 for individual data).
    trials : number of trials per row (default 1).
    confidence : level of the profile intervals.
    profile : True for profile intervals and tests of every coefficient, False for none (Wald limits are
        given instead), or a list of column positions to profile.
    maxiter : Newton iterations allowed.

    Returns
    -------
    FirthFit

    References
    ----------
    Firth D (1993). Bias reduction of maximum likelihood estimates. Biometrika 80:27-38. Heinze G, Schemper M
    (2002). A solution to the problem of separation in logistic regression. Statistics in Medicine
    21:2409-2419.

    Examples
    --------
    >>> X = pd.DataFrame({"const": [1.0, 1.0], "group": [0.0, 1.0]})
    >>> fit = firth_logit(X, [0, 6], [10, 10])  # a zero cell: 0/10 against 6/10
    >>> round(float(np.exp(fit.params["group"])), 4)  # (6.5 / 4.5) / (0.5 / 10.5)
    30.3333
    """
    names = list(exog.columns) if isinstance(exog, pd.DataFrame) else [f"x{i}" for i in range(np.shape(exog)[1])]
    X = np.asarray(exog, dtype=float)
    y = np.asarray(events, dtype=float)
    n = np.ones_like(y) if trials is None else np.asarray(trials, dtype=float)
    if X.ndim != 2 or len(X) != len(y) or len(n) != len(y):
        raise ValueError("firth_logit: exog must have one row per element of events and trials")
    if np.any(y < 0) or np.any(y > n):
        raise ValueError("firth_logit: need 0 <= events <= trials on every row")
    k = X.shape[1]
    everything = np.ones(k, dtype=bool)
    beta, top, converged, iters = _firth_newton(X, y, n, np.zeros(k), everything, maxiter)
    p = expit(X @ beta)
    info = X.T @ (X * (n * p * (1 - p))[:, None])
    se = np.sqrt(np.clip(np.diag(np.linalg.pinv(info)), 0, None))
    level = stats._confidence(confidence)
    z = _st.norm.ppf(0.5 + level / 2)
    lower, upper = beta - z * se, beta + z * se
    pvalues = 2 * _st.norm.sf(np.abs(beta / np.where(se > 0, se, np.nan)))
    chosen = range(k) if profile is True else ([] if profile is False else list(profile))
    cut = _st.chi2.ppf(level, 1) / 2

    def constrained(j: int, value: float, start: np.ndarray) -> tuple[float, np.ndarray]:
        b = start.copy()
        b[j] = value
        free = everything.copy()
        free[j] = False
        b, ll, _, _ = _firth_newton(X, y, n, b, free, maxiter)
        return ll, b

    for j in chosen:
        ll0, _ = constrained(j, 0.0, beta)
        pvalues[j] = float(_st.chi2.sf(max(2 * (top - ll0), 0.0), 1))
        for side in (-1, 1):
            step = max(se[j], 0.1)
            inner, start = beta[j], beta
            outer = beta[j] + side * step
            found = False
            for _ in range(40):
                ll, b = constrained(j, outer, start)
                if top - ll > cut:
                    found = True
                    break
                inner, start = outer, b
                step *= 2
                outer = beta[j] + side * step
            if not found:
                (lower if side < 0 else upper)[j] = -np.inf if side < 0 else np.inf
                continue
            warm = start

            def gap(v: float, jj: int = j, w: np.ndarray = warm) -> float:
                return top - constrained(jj, v, w)[0] - cut

            root = np.nan
            # From the last point inside the cut, else from the estimate itself (where the gap is -cut); a
            # constrained fit that does not converge can leave no sign change, and then the Wald limit is used.
            for near in (inner, beta[j]):
                a, b = sorted((near, outer))
                try:
                    if np.sign(gap(a)) != np.sign(gap(b)):
                        root = _opt.brentq(gap, a, b, xtol=1e-7)
                        break
                except (ValueError, FloatingPointError, np.linalg.LinAlgError):
                    continue
            if not np.isfinite(root):
                root = beta[j] + side * _st.norm.ppf(0.5 + level / 2) * se[j]
            (lower if side < 0 else upper)[j] = root
    index = pd.Index(names)
    return FirthFit(
        params=pd.Series(beta, index=index),
        bse=pd.Series(se, index=index),
        lower=pd.Series(lower, index=index),
        upper=pd.Series(upper, index=index),
        pvalues=pd.Series(pvalues, index=index),
        loglik=top,
        converged=converged,
        iterations=iters,
        confidence=level,
    )


# --------------------------------------------------------------------------------------------------
# Odds ratios by factor (unadjusted and mutually adjusted)
# --------------------------------------------------------------------------------------------------


def _labels(values: pd.Series) -> np.ndarray:
    """Labels as strings, missing values shown as "Not recorded" (never dropped)."""
    out = values.astype(object).where(values.notna(), NOT_RECORDED)
    return out.astype(str).to_numpy(dtype=object)


def _separated(events: np.ndarray, trials: np.ndarray, exog: pd.DataFrame) -> list[str]:
    """Design columns (0/1 indicators) whose rows have all or none of the outcome: quasi-complete separation."""
    out = []
    for col in exog.columns:
        if col == "const":
            continue
        on = exog[col].to_numpy() != 0
        x, m = events[on].sum(), trials[on].sum()
        if m > 0 and (x == 0 or x == m):
            out.append(col)
    return out


def _fit_logit(
    exog: pd.DataFrame,
    events: np.ndarray,
    trials: np.ndarray,
    confidence: float,
    weights: np.ndarray | None = None,
    profile_columns: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, object, str]:
    """Logistic regression on grouped counts: statsmodels GLM, or Firth where a level separates.

    Returns a frame indexed by design column with ``coef, lower, upper, p_value`` and the fitted object and
    the method in words.
    """
    level = stats._confidence(confidence)
    separated = _separated(events, trials, exog) if weights is None else []
    res = None
    if not separated:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                if weights is None:
                    endog = np.column_stack([events, trials - events]).astype(float)
                    res = sm.GLM(endog, exog, family=sm.families.Binomial()).fit()
                else:
                    res = sm.GLM(
                        events / trials, exog, family=sm.families.Binomial(), var_weights=weights / weights.mean()
                    ).fit(cov_type="HC0")
            except Exception:  # noqa: BLE001 - statsmodels raises several kinds on separation
                res = None
        if res is not None:
            bse = np.asarray(res.bse, dtype=float)
            coef = np.asarray(res.params, dtype=float)
            finite = np.all(np.isfinite(bse)) and np.all(np.isfinite(coef))
            if not (finite and bse.max() < 50 and np.abs(coef).max() < 15):
                res = None
    if res is not None:
        ci = np.asarray(res.conf_int(1 - level))
        out = pd.DataFrame(
            {"coef": np.asarray(res.params), "lower": ci[:, 0], "upper": ci[:, 1], "p_value": np.asarray(res.pvalues)},
            index=exog.columns,
        )
        method = "logistic regression (binomial GLM, logit link), Wald interval"
        if weights is not None:
            method += ", robust (sandwich) standard errors for survey weights"
        return out, res, method
    weight_note = ""
    if weights is not None:
        # Firth's penalty has no survey-weighted form here: fit the unweighted rows and say so.
        separated = _separated(events, trials, exog)
        weight_note = "; survey weights not used in this model because a group separates"
    # Profile intervals for the separated columns, where Wald's fail; Wald intervals from the penalised fit for
    # the rest (profiling every column of a large design takes minutes).
    cols = (separated or list(exog.columns)) if profile_columns is None else list(profile_columns)
    positions = [exog.columns.get_loc(c) for c in cols]
    fit = firth_logit(exog, events, trials, level, profile=positions)
    out = pd.DataFrame(
        {"coef": fit.params, "lower": fit.lower, "upper": fit.upper, "p_value": fit.pvalues}, index=exog.columns
    )
    why = f" ({', '.join(separated)} separates)" if separated else " (maximum likelihood did not converge)"
    method = (
        "Firth's penalised logistic regression" + why + ", profile penalised-likelihood interval and "
        "likelihood-ratio test (Heinze & Schemper 2002) for the separated levels, Wald for the others"
        + weight_note
    )
    return out, fit, method


def _woolf(a: float, b: float, c: float, d: float, z: float) -> tuple[float, float, float]:
    """Odds ratio (a/b)/(c/d) with Woolf's interval; a zero cell adds 1/2 to every cell (Haldane-Anscombe)."""
    if min(a, b, c, d) == 0:
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    log_or = np.log(a / b) - np.log(c / d)
    se = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return float(np.exp(log_or)), float(np.exp(log_or - z * se)), float(np.exp(log_or + z * se))


def odds_ratios(
    table: pd.DataFrame,
    outcome: str | np.typing.ArrayLike,
    covariates: Sequence[str],
    reference: dict[str, str] | None = None,
    weights: str | None = None,
    confidence: float = 0.95,
    min_group: int = 50,
    min_events: int = 10,
) -> tuple[pd.DataFrame, object]:
    """Unadjusted and mutually adjusted odds ratios of a yes/no outcome for each level of each factor.

    Each covariate is a factor (missing values form a "Not recorded" level); the reference level is the
    largest group unless ``reference`` names one. The adjusted model is one logistic regression on all the
    covariates, fitted to the counts of each covariate pattern (identical to fitting it to individuals, but
    quicker); where a level has all or none of the outcome (separation) it is Firth's penalised logistic
    regression with profile intervals instead (:func:`firth_logit`), never an odds ratio of 10^9 with an
    interval from 0 to infinity. Unadjusted odds ratios are each level's 2x2 table against the reference with
    Woolf's interval (equal to a one-factor logistic regression); a zero cell adds 1/2 to each cell, which is
    Firth's estimate for that table. With ``weights``, the model is fitted to individuals with the weights and
    robust standard errors, and the unadjusted odds ratios use weighted counts scaled to the Kish effective
    sample size of each level.

    Parameters
    ----------
    table : one row per victim (or response).
    outcome : a boolean column name, or a boolean array of the outcome (missing = no).
    covariates : factor columns.
    reference : covariate -> reference level.
    weights : optional weight column.
    confidence : interval level.
    min_group, min_events : a level with fewer rows, or fewer than ``min_events`` with or without the outcome,
        gets a ``warning``.

    Returns
    -------
    (table, fitted) : one row per non-reference level: ``covariate, level, reference, n, events, rate,
    odds_ratio, lower, upper, p_value, unadjusted_or, unadjusted_lower, unadjusted_upper, warning,
    model`` (the adjusted model's method in words), and the fitted model (statsmodels results or
    :class:`FirthFit`).

    References
    ----------
    McCullagh P, Nelder JA (1989). Generalized Linear Models, 2nd ed. Woolf B (1955). Annals of Human Genetics
    19:251-253. Firth D (1993). Biometrika 80:27-38. Heinze G, Schemper M (2002). Statistics in Medicine
    21:2409-2419.

    Examples
    --------
    >>> t = pd.DataFrame({"sex": ["F"] * 10 + ["M"] * 10, "yes": [True] * 6 + [False] * 4 + [False] * 10})
    >>> tab, _ = odds_ratios(t, "yes", ["sex"], {"sex": "F"}, min_group=1, min_events=0)
    >>> round(float(tab["unadjusted_or"].iloc[0]), 4)  # (0.5/10.5) / (6.5/4.5), not 0
    0.033
    """
    reference = dict(reference or {})
    y_raw = table[outcome] if isinstance(outcome, str) else pd.Series(np.asarray(outcome), index=table.index)
    y = pd.array(y_raw, dtype="boolean").fillna(False).to_numpy(dtype=bool).astype(float)
    used = list(covariates)
    x = pd.DataFrame({c: _labels(table[c]) for c in used})
    w = None
    if weights is not None:
        w = np.asarray(table[weights], dtype=float)
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"odds_ratios: weight column {weights!r} has missing or negative values")
    x["_y"] = y
    x["_n"] = 1.0
    level = stats._confidence(confidence)
    z = _st.norm.ppf(0.5 + level / 2)
    margins = {c: x.groupby(c)[["_y", "_n"]].sum() for c in used}
    if w is not None:
        x["_w"], x["_wy"], x["_w2"] = w, w * y, w * w
        wm = {c: x.groupby(c)[["_w", "_wy", "_w2"]].sum() for c in used}
    refs, design_cols = {}, []
    for c in used:
        sizes = margins[c]["_n"].sort_values(ascending=False, kind="stable")
        ref = str(reference.get(c, sizes.index[0]))
        if ref not in sizes.index:
            raise ValueError(f"odds_ratios: reference level {ref!r} for {c!r} is not in the data; levels are "
                             f"{list(sizes.index)}")
        refs[c] = ref
        design_cols += [(c, lv) for lv in sorted(sizes.index) if lv != ref]
    if w is None:
        pats = x.groupby(used, sort=True)[["_y", "_n"]].sum().reset_index()
        events, trials, wts = pats["_y"].to_numpy(float), pats["_n"].to_numpy(float), None
        src = pats
    else:
        src = x
        events, trials, wts = y, np.ones(len(y)), w
    exog = pd.DataFrame({"const": np.ones(len(src))})
    for c, lv in design_cols:
        exog[f"{c}={lv}"] = (src[c].to_numpy() == lv).astype(float)
    fitted, result, method = _fit_logit(exog, events, trials, confidence, wts)
    rows = []
    for c, lv in design_cols:
        n_level = int(margins[c].loc[lv, "_n"])
        a = int(margins[c].loc[lv, "_y"])
        if w is None:
            r_y, r_n = margins[c].loc[refs[c], "_y"], margins[c].loc[refs[c], "_n"]
            cells = (a, n_level - a, r_y, r_n - r_y)
        else:
            cells = []
            for lv_ in (lv, refs[c]):
                sw, swy, sw2 = wm[c].loc[lv_, ["_w", "_wy", "_w2"]]
                neff = sw * sw / sw2 if sw2 > 0 else 0.0
                share = swy / sw if sw > 0 else 0.0
                cells += [share * neff, (1 - share) * neff]
        uor, ulo, uhi = _woolf(*[float(v) for v in cells], z)
        row = fitted.loc[f"{c}={lv}"]
        warn = ""
        if n_level < min_group or min(a, n_level - a) < min_events:
            warn = f"small group: {n_level} victims, {a} with the outcome; treat with caution"
        rows.append(
            {
                "covariate": c,
                "level": lv,
                "reference": refs[c],
                "n": n_level,
                "events": a,
                "rate": 100 * a / n_level if n_level else np.nan,
                "odds_ratio": float(np.exp(row["coef"])),
                "lower": float(np.exp(row["lower"])),
                "upper": float(np.exp(row["upper"])),
                "p_value": float(row["p_value"]),
                "unadjusted_or": uor,
                "unadjusted_lower": ulo,
                "unadjusted_upper": uhi,
                "warning": warn,
                "model": method,
            }
        )
    columns = ["covariate", "level", "reference", "n", "events", "rate", "odds_ratio", "lower", "upper", "p_value",
               "unadjusted_or", "unadjusted_lower", "unadjusted_upper", "warning", "model"]
    return pd.DataFrame(rows, columns=columns), result


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


# --------------------------------------------------------------------------------------------------
# The comparison engine
# --------------------------------------------------------------------------------------------------


@dataclass
class Comparison:
    """Result of :func:`compare`.

    Attributes
    ----------
    rates : one row per breakdown and level: ``breakdown, level, n, events, value, lowercl, uppercl``
        (percentages, Wilson), ``confidence, method``.
    odds_ratios : one row per non-reference level: unadjusted and adjusted odds ratios (see
        :func:`odds_ratios`), with ``q_value`` (Benjamini-Hochberg across all the adjusted comparisons) and
        ``finding`` (True where :func:`gaps_rule` reports it).
    trend : odds ratio per year for all rows and for each level (empty when no ``time`` is given), with its
        own ``q_value`` across the levels.
    outcome : what was compared, in words; ``notes`` say what was left out and why.
    """

    rates: pd.DataFrame
    odds_ratios: pd.DataFrame
    trend: pd.DataFrame
    outcome: str
    n: int
    events: int
    notes: list[str] = field(default_factory=list)
    result: object | None = None

    def summary(self) -> str:
        lines = [f"{self.outcome}: {self.events:,} of {self.n:,} ({100 * self.events / max(self.n, 1):.1f}%)"]
        for r in self.odds_ratios.itertuples(index=False):
            star = "  <- finding" if r.finding else ""
            lines.append(
                f"{r.covariate:<18} {r.level:<22} vs {r.reference:<18} adjusted OR {r.odds_ratio:.2f} "
                f"({r.lower:.2f}-{r.upper:.2f}), q={r.q_value:.3f}{star}"
            )
        for r in self.trend.itertuples(index=False):
            if np.isfinite(r.odds_ratio_per_year):
                lines.append(
                    f"Trend {r.breakdown} {r.level}: OR per year {r.odds_ratio_per_year:.2f} "
                    f"({r.lowercl:.2f}-{r.uppercl:.2f})"
                )
        return "\n".join(lines + [f"Note: {n}" for n in self.notes])

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return "<pre>" + self.summary() + "</pre>"

    def plot(self, breakdown: str, ax: Axes | None = None) -> Axes:
        """Rates for one breakdown's levels with 95% intervals, and the overall rate as a line."""
        t = self.rates[self.rates["breakdown"] == breakdown].reset_index(drop=True)
        if not len(t):
            choices = sorted(set(self.rates["breakdown"]))
            raise ValueError(f"Comparison.plot: no breakdown {breakdown!r}; choose from {choices}")
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(0.4 * len(t) + 1.8))
        y = np.arange(len(t))[::-1]
        ax.errorbar(t["value"], y, xerr=[t["value"] - t["lowercl"], t["uppercl"] - t["value"]], fmt=MARKERS[0],
                    color=PALETTE[0], capsize=3, label="Rate (95% interval)")
        ax.axvline(100 * self.events / max(self.n, 1), color=PALETTE[4], linestyle="--", label="All")
        ax.set_yticks(y, t["level"].astype(str).tolist())
        ax.set_xlabel(f"% {self.outcome}")
        ax.set_title(f"{self.outcome} by {breakdown.replace('_', ' ')}")
        legend_below(ax)
        return ax


def compare(
    table: pd.DataFrame,
    outcome: str,
    by: Sequence[str] | None = None,
    adjust: Sequence[str] | None = None,
    time: str | None = None,
    weights: str | None = None,
    reference: dict[str, str] | None = None,
    period: str = "Q",
    confidence: float = 0.95,
    fdr: float = 0.05,
    min_group: int = 50,
    min_events: int = 10,
) -> Comparison:
    """Compare a yes/no outcome across groups of victims: rates, unadjusted and adjusted odds ratios, trend.

    Rows whose outcome is missing are counted and left out (in ``notes``). For each breakdown column (by
    default those of :data:`BREAKDOWNS` present in ``table``), the rate in each level with a Wilson interval
    (on Kish's effective sample size when weighted). Odds ratios against the largest level (or
    ``reference``): unadjusted from each level's 2x2 table, adjusted from one logistic regression on all the
    breakdowns and the ``adjust`` columns together (Firth's penalised likelihood where a level separates; see
    :func:`odds_ratios`). The adjusted p-values form one family: ``q_value`` is Benjamini-Hochberg and
    ``finding`` says which comparisons pass :func:`gaps_rule` at ``fdr``. With ``time`` (a date or period
    column), the trend in the log-odds per year over ``period`` (quarters by default), for all rows and for
    each level, with over-dispersion allowed for (:func:`binomial_trend`).

    Parameters
    ----------
    table : one row per victim (or survey response).
    outcome : boolean column (True = the outcome happened, e.g. referred, satisfied).
    by : breakdown columns; default every column of :data:`BREAKDOWNS` in the table.
    adjust : extra columns adjusted for in every model but not reported.
    time : optional date or period column for the trend.
    weights : optional survey weight column.
    reference : breakdown -> reference level.
    period : ``"M"``, ``"Q"`` or ``"Y"`` for the trend.
    confidence : interval level.
    fdr : false discovery rate for the findings.
    min_group, min_events : small-group warnings, as in :func:`odds_ratios`.

    Returns
    -------
    Comparison

    References
    ----------
    Wilson EB (1927). JASA 22:209-212. Firth D (1993). Biometrika 80:27-38. Benjamini Y, Hochberg Y (1995).
    JRSS B 57:289-300. Kish L (1965). Survey Sampling. Wiley.

    Examples
    --------
    >>> t = pd.DataFrame({"victim_sex": ["Female"] * 60 + ["Male"] * 40,
    ...                   "referred": [True] * 30 + [False] * 30 + [True] * 10 + [False] * 30})
    >>> c = compare(t, "referred", min_group=1)
    >>> c.rates[["breakdown", "level", "n", "events", "value"]]
        breakdown   level   n  events  value
    0  victim_sex  Female  60      30   50.0
    1  victim_sex    Male  40      10   25.0
    >>> round(float(c.odds_ratios["odds_ratio"].iloc[0]), 4)  # (10/30) / (30/30)
    0.3333
    """
    func = "compare"
    if outcome not in table.columns:
        raise KeyError(f"{func}: the table has no outcome column {outcome!r}")
    by_cols = [c for c in BREAKDOWNS if c in table.columns and c != outcome] if by is None else list(by)
    adjust_cols = [c for c in (adjust or []) if c not in by_cols]
    missing = [c for c in [*by_cols, *adjust_cols, *([time] if time else []), *([weights] if weights else [])]
               if c not in table.columns]
    if missing:
        raise KeyError(f"{func}: the table has no column(s) {missing}; its columns are {list(table.columns)}")
    if not by_cols:
        raise ValueError(f"{func}: no breakdown columns; give by=[...] (none of {list(BREAKDOWNS)} is in the table)")
    y_all = pd.array(table[outcome], dtype="boolean")
    known = ~np.asarray(y_all.isna(), dtype=bool)
    notes = []
    if (~known).any():
        notes.append(f"{int((~known).sum()):,} rows with no recorded {outcome!r} are left out.")
    data = table[known]
    y = y_all[known].to_numpy(dtype=bool)
    w = None if weights is None else np.asarray(data[weights], dtype=float)
    level = stats._confidence(confidence)
    # Rates by breakdown.
    rate_rows = []
    for b in by_cols:
        lab = pd.Series(_labels(data[b]), index=data.index)
        work = pd.DataFrame({"level": lab, "_y": y.astype(float), "_n": 1.0})
        if w is not None:
            work["_w"], work["_wy"], work["_w2"] = w, w * y, w * w
        g = work.groupby("level", sort=True)
        part = g[["_y", "_n"]].sum().reset_index()
        if w is None:
            ex, en = part["_y"].to_numpy(), part["_n"].to_numpy()
        else:
            s = g[["_w", "_wy", "_w2"]].sum().reset_index()
            en = (s["_w"] ** 2 / s["_w2"]).to_numpy()
            ex = (s["_wy"] / s["_w"]).to_numpy() * en
        p, lo, hi = stats.wilson(np.minimum(ex, en), en, level)
        rate_rows.append(pd.DataFrame({
            "breakdown": b, "level": part["level"], "n": part["_n"].astype("int64"),
            "events": part["_y"].astype("int64"), "value": 100 * p, "lowercl": 100 * lo, "uppercl": 100 * hi,
        }))
    rates = pd.concat(rate_rows, ignore_index=True)
    rates["confidence"] = f"{level:.0%}"
    rates["method"] = "Wilson score interval" + (" on the Kish effective sample size" if w is not None else "")
    # Odds ratios.
    ors, result = odds_ratios(data, pd.Series(y, index=data.index), [*by_cols, *adjust_cols], reference, weights,
                              confidence, min_group, min_events)
    ors = ors[ors["covariate"].isin(by_cols)].reset_index(drop=True)
    ors["q_value"] = benjamini_hochberg(ors["p_value"])
    # A finding needs both the family's test and an interval that excludes no difference (the two can disagree
    # where a penalised fit's profile could not be traced and its Wald interval is used).
    excludes_one = (ors["upper"] < 1) | (ors["lower"] > 1) if len(ors) else np.array([], dtype=bool)
    ors["finding"] = (gaps_rule(ors["p_value"], fdr) & np.asarray(excludes_one, dtype=bool)) if len(ors) else (
        np.array([], dtype=bool))
    if adjust_cols:
        notes.append(f"adjusted odds ratios also allow for {', '.join(adjust_cols)}.")
    # Trend.
    trend_rows = []
    if time is not None:
        per = _periods(data[time], period)
        has = per.notna().to_numpy()
        if (~has).any():
            notes.append(f"{int((~has).sum()):,} rows with no {time!r} are left out of the trend.")
        groups = [("All", "All", has)]
        for b in by_cols:
            lab = _labels(data[b])
            groups += [(b, lv, has & (lab == lv)) for lv in sorted(set(lab))]
        for b, lv, mask in groups:
            work = pd.DataFrame({"period": per[mask].array, "_y": y[mask].astype(float)})
            m = work.groupby("period", sort=True)["_y"].agg(["sum", "size"])
            row = {"breakdown": b, "level": lv, "periods": len(m), "n": int(m["size"].sum()) if len(m) else 0}
            if len(m) < 3 or m["sum"].sum() == 0 or (m["sum"] == m["size"]).all():
                row.update(odds_ratio_per_year=np.nan, lowercl=np.nan, uppercl=np.nan, p_value=np.nan,
                           dispersion=np.nan, note="not fitted: fewer than 3 periods or no variation")
            else:
                fit = binomial_trend(m["sum"], m["size"], _years(m.index, period), confidence)
                row.update({k: fit[k] for k in ("odds_ratio_per_year", "lowercl", "uppercl", "p_value", "dispersion")},
                           note="")
            trend_rows.append(row)
    trend = pd.DataFrame(trend_rows, columns=["breakdown", "level", "periods", "n", "odds_ratio_per_year", "lowercl",
                                              "uppercl", "p_value", "dispersion", "note"])
    if len(trend):
        trend["q_value"] = benjamini_hochberg(trend["p_value"])
        trend["method"] = (f"binomial GLM of {period} counts on time, dispersion from Pearson chi-square floored at 1;"
                           " q-value Benjamini-Hochberg across the levels")
    return Comparison(rates=rates, odds_ratios=ors, trend=trend, outcome=outcome.replace("_", " "), n=int(len(y)),
                      events=int(y.sum()), notes=notes, result=result)


# --------------------------------------------------------------------------------------------------
# Control charts
# --------------------------------------------------------------------------------------------------


@dataclass
class ControlChart:
    """Result of :func:`control_chart`.

    Attributes
    ----------
    table : one row per period: ``period, n, events, value`` (percentage), ``centre``, ``lower``, ``upper``
        (control limits), ``lower_warning``, ``upper_warning`` (2-sigma or 95%), ``z`` (standardised on the
        p' sigma), ``signal`` (the rules the point triggers, "" for none).
    findings : one row per signal: ``rule, start, end, direction, periods, finding``.
    centre : the centre line (percentage); ``sigma_z`` Laney's between-period factor (1 = binomial).
    """

    table: pd.DataFrame
    findings: pd.DataFrame
    centre: float
    sigma_z: float
    outcome: str
    method: str

    def summary(self) -> str:
        lines = [f"Control chart of {self.outcome}: centre {self.centre:.1f}%, Laney sigma_z {self.sigma_z:.2f}"]
        lines += list(self.findings["finding"]) or ["No signal: the series varies within its limits."]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return "<pre>" + self.summary() + "</pre>"

    def plot(self, ax: Axes | None = None) -> Axes:
        """The p-chart: percentages by period, centre line, control and warning limits, signals marked."""
        t = self.table
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(3.6))
        x = np.arange(len(t))
        ax.plot(x, t["value"], marker=MARKERS[0], color=PALETTE[0], label=f"% {self.outcome}")
        ax.plot(x, t["centre"], color=PALETTE[4], linewidth=1, label="Centre line")
        ax.step(x, t["upper"], where="mid", color=PALETTE[3], linestyle="--", label="Control limits")
        ax.step(x, t["lower"], where="mid", color=PALETTE[3], linestyle="--")
        ax.step(x, t["upper_warning"], where="mid", color=PALETTE[2], linestyle=":", label="Warning limits")
        ax.step(x, t["lower_warning"], where="mid", color=PALETTE[2], linestyle=":")
        hit = (t["signal"] != "").to_numpy()
        if hit.any():
            ax.scatter(x[hit], t.loc[hit, "value"], marker=MARKERS[3], s=70, color=PALETTE[3], zorder=3,
                       label="Signal")
        ax.set_xticks(x, t["period"].astype(str).tolist())
        thin_ticks(ax, "x", max_labels=8)
        ax.set_ylabel("%")
        ax.set_title(f"{self.outcome}: control chart")
        legend_below(ax)
        return ax


def _runs(side: np.ndarray, length: int) -> list[tuple[int, int, int]]:
    """Maximal runs of at least ``length`` equal non-zero values of ``side``: (start, end, sign)."""
    out, i = [], 0
    while i < len(side):
        j = i
        while j + 1 < len(side) and side[j + 1] == side[i]:
            j += 1
        if side[i] != 0 and j - i + 1 >= length:
            out.append((i, j, int(side[i])))
        i = j + 1
    return out


def control_chart(
    table: pd.DataFrame,
    outcome: str,
    date: str,
    period: str = "M",
    limits: Literal["3sigma", "99.8%"] = "3sigma",
    laney: bool = True,
    run_length: int = 8,
    baseline: int | None = None,
    screen: bool = False,
) -> ControlChart:
    """A p-chart of a yes/no outcome by month or quarter, with Laney's p' limits and sustained-shift rules.

    Each period's percentage is plotted around the centre line p (all periods pooled, or the first
    ``baseline`` periods) with limits p +/- k sigma_i sigma_z, sigma_i = sqrt(p (1 - p) / n_i), k = 3
    (``"3sigma"``) or 3.09 (``"99.8%"``). Laney's sigma_z is the average moving range of the standardised
    values z_i = (p_i - p) / sigma_i divided by 1.128; with large monthly counts the true rate drifts more
    than the binomial allows and plain p-chart limits flag most months. Here sigma_z is floored at 1, so the
    limits are never narrower than the binomial ones (``laney=False`` gives the plain p-chart). With
    ``screen=True`` moving ranges above 3.267 times their mean (the upper range limit) are set aside first, so
    that the jumps into and out of a real shift do not widen the limits that should catch it; this catches
    shifts sooner but raises false alarms in a stable series (about 12% of 24-month charts against 8%
    without, in our simulations), so it is off by default.

    Signals (on z / sigma_z):

    * ``beyond limits``: a point outside the control limits;
    * ``run``: ``run_length`` (8) or more consecutive points on the same side of the centre line;
    * ``2 of 3``: two of three consecutive points beyond the 2-sigma (95% for ``"99.8%"``) warning limit on the
      same side.

    Parameters
    ----------
    table : one row per victim or case, with a boolean ``outcome`` (missing rows left out) and a ``date``.
    outcome, date : column names (``date`` may be dates or pandas periods).
    period : ``"M"`` (months) or ``"Q"`` (quarters).
    limits : ``"3sigma"`` or ``"99.8%"``.
    laney : allow for over-dispersion with Laney's p' (default True).
    run_length : points in a run that signals a sustained shift.
    baseline : number of first periods that set the centre line and sigma_z (None: all).
    screen : set aside moving ranges above the upper range limit before estimating sigma_z.

    Returns
    -------
    ControlChart

    References
    ----------
    Laney DB (2002). Improved control charts for attributes. Quality Engineering 14:531-537. Wheeler DJ (2010).
    Understanding Statistical Process Control, 3rd ed. SPC Press (upper range limit). Montgomery DC
    (2009). Introduction to Statistical Quality Control, 6th ed. Wiley, ch. 5 and 7 (Western Electric rules).
    NHS England (2019). Making Data Count.

    Examples
    --------
    >>> t = pd.DataFrame({"date": np.repeat(pd.period_range("2024-01", periods=12, freq="M"), 100),
    ...                   "met": np.tile([True] * 80 + [False] * 20, 12)})
    >>> c = control_chart(t, "met", "date")
    >>> round(c.centre, 1), len(c.findings)
    (80.0, 0)
    """
    for col in (outcome, date):
        if col not in table.columns:
            raise KeyError(f"control_chart: the table has no column {col!r}")
    if limits not in ("3sigma", "99.8%"):
        raise ValueError(f"control_chart: limits must be '3sigma' or '99.8%', not {limits!r}")
    y = pd.array(table[outcome], dtype="boolean")
    per = _periods(table[date], period)
    ok = ~np.asarray(y.isna(), dtype=bool) & per.notna().to_numpy()
    work = pd.DataFrame({"period": per[ok].array, "_y": y[ok].to_numpy(dtype=bool).astype(float)})
    g = work.groupby("period", sort=True)["_y"].agg(["sum", "size"])
    if len(g) < 2:
        raise ValueError("control_chart: need at least two periods with data")
    x, n = g["sum"].to_numpy(float), g["size"].to_numpy(float)
    base = slice(0, baseline) if baseline else slice(None)
    pbar = x[base].sum() / n[base].sum()
    if pbar in (0.0, 1.0):
        raise ValueError(f"control_chart: every {outcome!r} is the same in the baseline; nothing to chart")
    sig = np.sqrt(pbar * (1 - pbar) / n)
    z = (x / n - pbar) / sig
    mr = np.abs(np.diff(z[base]))
    if screen and len(mr) >= 3:  # set aside moving ranges above the upper range limit (3.267 x the mean)
        mr = mr[mr <= 3.267 * mr.mean()]
    sigma_z = float(np.mean(mr) / 1.128) if len(mr) else 1.0
    used = max(1.0, sigma_z) if laney else 1.0
    k = 3.0 if limits == "3sigma" else float(_st.norm.ppf(0.999))
    kw = 2.0 if limits == "3sigma" else float(_st.norm.ppf(0.975))
    zz = z / used
    out = pd.DataFrame({"period": g.index, "n": n.astype("int64"), "events": x.astype("int64"), "value": 100 * x / n})
    out["centre"] = 100 * pbar
    for name, mult in (("lower", -k), ("upper", k), ("lower_warning", -kw), ("upper_warning", kw)):
        out[name] = 100 * np.clip(pbar + mult * sig * used, 0, 1)
    out["z"] = zz
    signals: list[list[str]] = [[] for _ in range(len(out))]
    rows = []
    labels = out["period"].astype(str).to_numpy()
    what = outcome.replace("_", " ")

    def add(rule: str, i: int, j: int, sign: int, words: str) -> None:
        for m in range(i, j + 1):
            if rule not in signals[m]:
                signals[m].append(rule)
        rows.append({"rule": rule, "start": labels[i], "end": labels[j], "direction": "above" if sign > 0 else "below",
                     "periods": j - i + 1, "finding": words})

    for i in np.flatnonzero(np.abs(zz) > k):
        s = int(np.sign(zz[i]))
        add("beyond limits", i, i, s, f"{labels[i]}: {out['value'].iloc[i]:.1f}% {what}, "
            f"{'above' if s > 0 else 'below'} the control limits around {100 * pbar:.1f}% (a special cause)")
    for i, j, s in _runs(np.sign(zz).astype(int), run_length):
        add("run", i, j, s, f"{labels[i]} to {labels[j]}: {j - i + 1} periods in a row {'above' if s > 0 else 'below'} "
            f"the centre line ({100 * x[i:j + 1].sum() / n[i:j + 1].sum():.1f}% against {100 * pbar:.1f}%): "
            "a sustained shift")
    beyond = np.where(zz > kw, 1, np.where(zz < -kw, -1, 0))
    hits = []  # the points beyond the warning limit in each window of three that has two of them
    for s in (1, -1):
        for i in range(len(zz) - 2):
            inside = [i + k for k in range(3) if beyond[i + k] == s]
            if len(inside) >= 2:
                hits.append((inside[0], inside[-1], s))
    merged: list[list[int]] = []
    for i, j, s in sorted(hits):
        if merged and merged[-1][2] == s and i <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], j)
        else:
            merged.append([i, j, s])
    for i, j, s in merged:
        add("2 of 3", i, j, s, f"{labels[i]} to {labels[j]}: two of three periods beyond the warning limit "
            f"{'above' if s > 0 else 'below'} the centre line: an early sign of a shift")
    out["signal"] = [", ".join(s) for s in signals]
    findings = pd.DataFrame(rows, columns=["rule", "start", "end", "direction", "periods", "finding"])
    method = (f"p-chart, limits {'3 sigma' if limits == '3sigma' else '99.8%'}"
              + (f", Laney p' (sigma_z {sigma_z:.2f}, floored at 1)" if laney else "")
              + f"; rules: beyond limits, {run_length} in a row on one side, 2 of 3 beyond the warning limit")
    return ControlChart(table=out, findings=findings, centre=float(100 * pbar), sigma_z=sigma_z, outcome=what,
                        method=method)
