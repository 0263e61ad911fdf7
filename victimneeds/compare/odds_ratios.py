"""Odds ratios by factor, unadjusted and mutually adjusted, with small-group warnings.

Part of :mod:`victimneeds.compare`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats as _st

from victimneeds import stats
from victimneeds.compare.firth import firth_logit
from victimneeds.compare.multiplicity import NOT_RECORDED

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
