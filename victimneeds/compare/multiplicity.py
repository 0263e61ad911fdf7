"""Multiple comparisons: the Benjamini-Hochberg rule that decides which comparisons are findings.

Part of :mod:`victimneeds.compare`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import numpy as np

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


#: The false discovery rate each family of "Gaps found" is held to. The pack has about five families (referral
#: groups and districts, pathway shifts, survey shifts, survey breakdowns, outcome breakdowns); at 1% each, the
#: chance that any line of the pack's "Gaps found" is chance stays near 5% (Bonferroni across the families,
#: Benjamini-Hochberg within each). At 5% a family, 2 of 10 independent test-bed areas with nothing planted
#: showed one chance line (bench/planted_effects.py).
GAPS_FDR = 0.01
#: The level each comparison's own p-value must be below for "Gaps found" (the 99.8% level of funnel plots).
GAPS_ALPHA = 0.002


def gaps_rule(pvalues: np.typing.ArrayLike, fdr: float = 0.05, alpha: float | None = None) -> np.ndarray:
    """Which comparisons in a family to report as findings: Benjamini-Hochberg at false discovery rate ``fdr``.

    The rule the assessment uses for "Gaps found": a family is every comparison made for one question (all
    districts' referral ratios; all groups' adjusted odds ratios of being referred). A comparison is a finding
    only when its p-value comes from a model that allows for what the raw ratio ignores (an adjusted
    logistic regression, or a funnel z-score with over-dispersion allowed for) **and** it survives the
    Benjamini-Hochberg step-up procedure across the family at ``fdr``. With 20 districts and no real
    difference, a 95% funnel flags one by chance; this rule flags none 95% of the time. With ``alpha`` (the
    pack uses 0.002, the 99.8% level) a comparison must also have its own p-value below ``alpha``: a false
    discovery rate lets a few chance differences through beside real ones, and a commissioner reads every line
    of "Gaps found" as real.

    Parameters
    ----------
    pvalues : two-sided p-values, one per comparison in the family (NaN = not tested, never flagged).
    fdr : the false discovery rate to control (0.05 by default).
    alpha : if given, each comparison's own p-value must also be below it.

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
    >>> gaps_rule([0.001, 0.02, 0.03, 0.5], alpha=0.002).tolist()
    [True, False, False, False]
    """
    if not 0 < fdr < 1:
        raise ValueError(f"gaps_rule: fdr must be between 0 and 1, not {fdr}")
    q = benjamini_hochberg(pvalues)
    found = np.where(np.isfinite(q), q <= fdr, False)
    if alpha is not None:
        found &= np.nan_to_num(np.asarray(pvalues, dtype=float), nan=1.0) < alpha
    return found
