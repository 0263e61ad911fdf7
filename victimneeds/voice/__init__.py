"""Victim voice: satisfaction and Victims' Code compliance, with intervals, trends and coverage.

What victims say about the service they got, for whom that evidence is thin, and whether it is changing.

* :func:`satisfaction` - share satisfied at each stage (contact, actions, kept informed, treatment, whole
  experience) by any grouping, with Wilson intervals; when survey weights are given, the interval uses
  Kish's effective sample size. Groups with fewer than ``min_responses`` answers get "not enough
  responses" instead of a number.
* :func:`satisfaction_change` - this period against the last (Newcombe interval and a test), worded as
  "evidence of a rise / fall" or "no evidence of change".
* :func:`satisfaction_trend` - quarterly trend from a binomial GLM (:class:`SatisfactionTrend`).
* :func:`district_funnel` - districts on a funnel plot around the area average (:class:`DistrictFunnel`).
* :func:`coverage` - survey responses against recorded victims, naming the groups whose voice is missing.
* :func:`code_compliance` - share of each Victims' Code right met, from the survey and, where given, from
  case records (:class:`CodeCompliance`, with the gap between the two).
* :func:`themes` - keyword-theme counts from free-text comments (aggregates only).
* :func:`findings` - a short findings table in words.

Survey columns (see :data:`victimneeds.datamodel.SURVEY`): ``satisfied_<stage>`` for each stage in
:data:`~victimneeds.datamodel.SATISFACTION_STAGES`, ``code_right_1`` to ``code_right_12`` (NA where the
right did not apply), ``weight`` and ``response_date``.

The code lives in one module per part: :mod:`~victimneeds.voice.checks`, :mod:`~victimneeds.voice.satisfaction`,
:mod:`~victimneeds.voice.trend`, :mod:`~victimneeds.voice.funnel`, :mod:`~victimneeds.voice.coverage`,
:mod:`~victimneeds.voice.code`, :mod:`~victimneeds.voice.findings`, :mod:`~victimneeds.voice.themes`; everything
public is importable from ``victimneeds.voice``.
"""

from __future__ import annotations

from victimneeds.voice.checks import (  # noqa: F401
    _KISH,
    MIN_RESPONSES,
    NOT_ENOUGH,
    STAGE_LABELS,
    _as_list,
    _check_columns,
    _intervals,
    _shares,
    _stages,
    _weights,
    design_effect,
    weighted_share,
)
from victimneeds.voice.code import (  # noqa: F401
    CodeCompliance,
    _records_rows,
    _right_label,
    _working_days,
    code_compliance,
    contact_within,
)
from victimneeds.voice.coverage import coverage, missing_voices  # noqa: F401
from victimneeds.voice.findings import findings  # noqa: F401
from victimneeds.voice.funnel import _FLAG_WORDS, DistrictFunnel, district_funnel  # noqa: F401
from victimneeds.voice.satisfaction import _period_labels, _quarter, period_label, satisfaction, satisfaction_change  # noqa: F401
from victimneeds.voice.themes import DEFAULT_THEMES, _pattern, themes  # noqa: F401
from victimneeds.voice.trend import SatisfactionTrend, satisfaction_trend  # noqa: F401

__all__ = [
    "MIN_RESPONSES",
    "STAGE_LABELS",
    "DEFAULT_THEMES",
    "CodeCompliance",
    "DistrictFunnel",
    "SatisfactionTrend",
    "code_compliance",
    "contact_within",
    "coverage",
    "design_effect",
    "district_funnel",
    "findings",
    "missing_voices",
    "satisfaction",
    "satisfaction_change",
    "satisfaction_trend",
    "themes",
    "weighted_share",
]
