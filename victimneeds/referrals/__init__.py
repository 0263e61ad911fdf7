"""Referral gaps: the victim's path from recorded crime to support, where it leaks and for whom.

Each analysis takes the canonical ``crimes`` and ``referrals`` tables (:mod:`victimneeds.datamodel`) and returns
a small result object in the statsmodels manner (``.table``, ``.summary()``, ``.plot(ax=None)``):

* :func:`pathway` counts victims at each stage of the path (identified victim, needs assessment, need found,
  police referral; then all referrals including self and partner referrals, contact attempted, contacted,
  support accepted and delivered, enhanced support, onward referral, closed with an outcome measure), with
  stage-to-stage and overall conversion and Wilson intervals, overall or by district, crime group, sex, age
  band or ethnicity;
* :func:`referral_ratios` compares each district's police referrals with those expected for its crime mix and
  victims (indirect standardisation), with exact intervals, a funnel plot at 95% and 99.8% (optionally
  allowing for over-dispersion) and plain-words outlier notes;
* :func:`referral_model` fits a binomial GLM of referral (or of support accepted) on victim and crime
  characteristics, giving adjusted and unadjusted odds ratios with intervals and small-group warnings;
* :func:`contact_times` estimates the time from referral to first contact in working days by Kaplan-Meier,
  with open cases censored, and the share within the Victims' Code times;
* :func:`assessment_accuracy` measures the officer's needs assessment against later evidence of need: missed
  victims and unneeded referrals, with the 2x2 table for each district.

Every rate has its numerator, denominator and interval; tables are meant to be published through
:meth:`victimneeds.report.Output.table`, which applies disclosure control.

The analyses live in one module each: :mod:`~victimneeds.referrals.core` (the stages and the Victims' Code
denominator), :mod:`~victimneeds.referrals.pathway`, :mod:`~victimneeds.referrals.ratios`,
:mod:`~victimneeds.referrals.models`, :mod:`~victimneeds.referrals.timeliness`,
:mod:`~victimneeds.referrals.accuracy`, :mod:`~victimneeds.referrals.onward` and
:mod:`~victimneeds.referrals.gaps`; everything public is importable from ``victimneeds.referrals``.
"""

from __future__ import annotations

from victimneeds.referrals.accuracy import (  # noqa: F401
    AccuracyResult,
    assessment_accuracy,
)
from victimneeds.referrals.core import (  # noqa: F401
    BY_COLUMNS,
    NOT_RECORDED,
    STAGES,
    CodeDenominator,
    code_denominator,
    declined_table,
    referral_outcomes,
)
from victimneeds.referrals.gaps import (  # noqa: F401
    gaps_found,
)
from victimneeds.referrals.models import (  # noqa: F401
    MODEL_COVARIATES,
    OddsRatios,
    referral_model,
)
from victimneeds.referrals.onward import (  # noqa: F401
    capacity_summary,
    demand_vs_capacity,
    onward_acceptance,
    onward_matrix,
)
from victimneeds.referrals.pathway import (  # noqa: F401
    Pathway,
    pathway,
)
from victimneeds.referrals.ratios import (  # noqa: F401
    ReferralRatios,
    referral_ratios,
    standardised_referrals,
)
from victimneeds.referrals.timeliness import (  # noqa: F401
    ContactTimes,
    contact_times,
)

__all__ = [
    "BY_COLUMNS",
    "NOT_RECORDED",
    "STAGES",
    "CodeDenominator",
    "code_denominator",
    "referral_outcomes",
    "declined_table",
    "Pathway",
    "pathway",
    "ReferralRatios",
    "standardised_referrals",
    "referral_ratios",
    "MODEL_COVARIATES",
    "OddsRatios",
    "referral_model",
    "ContactTimes",
    "contact_times",
    "AccuracyResult",
    "assessment_accuracy",
    "onward_acceptance",
    "onward_matrix",
    "demand_vs_capacity",
    "capacity_summary",
    "gaps_found",
]
