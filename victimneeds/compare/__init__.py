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

The code lives in one module per part: :mod:`~victimneeds.compare.multiplicity`, :mod:`~victimneeds.compare.firth`,
:mod:`~victimneeds.compare.odds_ratios`, :mod:`~victimneeds.compare.trend`, :mod:`~victimneeds.compare.engine`,
:mod:`~victimneeds.compare.control_charts`; everything public is importable from ``victimneeds.compare``.
"""

from __future__ import annotations

from victimneeds.compare.control_charts import ControlChart, _runs, control_chart  # noqa: F401
from victimneeds.compare.engine import Comparison, compare  # noqa: F401
from victimneeds.compare.firth import FirthFit, _firth_newton, _pen_loglik, firth_logit  # noqa: F401
from victimneeds.compare.multiplicity import (  # noqa: F401
    BREAKDOWNS,
    GAPS_ALPHA,
    GAPS_FDR,
    NOT_RECORDED,
    benjamini_hochberg,
    gaps_rule,
)
from victimneeds.compare.odds_ratios import _fit_logit, _labels, _separated, _woolf, odds_ratios  # noqa: F401
from victimneeds.compare.trend import _periods, _years, binomial_trend  # noqa: F401

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
