"""Firth's penalised logistic regression, for groups that separate (all or none with the outcome).

Part of :mod:`victimneeds.compare`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize as _opt
from scipy import stats as _st
from scipy.special import expit

from victimneeds import stats

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
    method : for each coefficient, ``"profile"`` (profile limits and penalised LR test) or ``"Wald"`` (limits and
        p-value both from the Wald statistic b / se, used when the profile could not be found or was not asked
        for), so that p < 1 - confidence exactly when the interval excludes 0.
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
    method: pd.Series | None = None


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


def _profile_one(
    j: int,
    beta: np.ndarray,
    top: float,
    se: float,
    cut: float,
    constrained: Callable[[int, float, np.ndarray], tuple[float, np.ndarray]],
) -> tuple[float, float, float] | None:
    """Penalised LR statistic for coefficient ``j`` = 0 and its profile limits, or None if they cannot be found.

    Each side is bracketed by doubling steps from the estimate until the profile drops by more than ``cut``
    (half the chi-square quantile), then the crossing is found by :func:`scipy.optimize.brentq`, warm-started
    from the last constrained fit inside the cut and, failing that, from the estimate. A side that never
    drops (the penalised likelihood flattens out) gives an infinite limit. None when a crossing is bracketed
    but cannot be solved, or the statistic is not finite.
    """
    try:
        ll0, _ = constrained(j, 0.0, beta)
    except (ValueError, FloatingPointError, np.linalg.LinAlgError):
        return None
    lr = max(2 * (top - ll0), 0.0)
    if not np.isfinite(lr):
        return None
    limits = []
    for side in (-1, 1):
        step = max(se, 0.1) if np.isfinite(se) else 0.1
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
            limits.append(-np.inf if side < 0 else np.inf)
            continue
        root = np.nan
        for warm, near in ((start, inner), (beta, inner), (beta, beta[j])):

            def gap(v: float, w: np.ndarray = warm) -> float:
                return top - constrained(j, v, w)[0] - cut

            a, b_ = sorted((near, outer))
            try:
                if np.sign(gap(a)) != np.sign(gap(b_)):
                    root = _opt.brentq(gap, a, b_, xtol=1e-7)
                    break
            except (ValueError, FloatingPointError, np.linalg.LinAlgError):
                continue
        if not np.isfinite(root):
            return None
        limits.append(float(root))
    return lr, limits[0], limits[1]


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

    method = ["Wald"] * k
    alpha = 1 - level
    for j in chosen:
        found = _profile_one(j, beta, top, se[j], cut, constrained)
        if found is not None:
            lr, lo_j, hi_j = found
            p_j = float(_st.chi2.sf(lr, 1))
            # The penalised LR test and the profile interval use the same statistic: p < alpha exactly when 0
            # is outside the interval. A numerical slip that breaks this falls back to Wald for both.
            if (p_j < alpha) == (lo_j <= 0.0 <= hi_j) and not (np.isclose(p_j, alpha, atol=1e-6)):
                found = None
            else:
                pvalues[j], lower[j], upper[j] = p_j, lo_j, hi_j
                method[j] = "profile"
        if found is None:
            # Interval and p-value from the same Wald statistic b / se, so they can never disagree.
            ok = se[j] > 0
            pvalues[j] = 2 * _st.norm.sf(abs(beta[j] / se[j])) if ok else np.nan
            lower[j], upper[j] = (beta[j] - z * se[j], beta[j] + z * se[j]) if ok else (np.nan, np.nan)
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
        method=pd.Series(method, index=index),
    )
