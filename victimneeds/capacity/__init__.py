"""Service specification: the volumes, staff, helpline staffing and budget a tender asks providers for.

A needs assessment ends in a service specification. This module turns the demand forecast into one:

* :func:`referral_rates` measures, from the area's ``crimes`` and ``referrals`` tables, how many referrals each
  lot receives per recorded crime (by crime group, and district), with exact Poisson intervals, and the share
  of referred victims who take up support (Wilson intervals);
* :func:`lot_volumes` multiplies a monthly crime forecast (:func:`victimneeds.forecast.forecast`, or a
  :func:`~victimneeds.forecast.scenario`) by those rates to give expected referrals per lot, district and
  financial year with 80% and 95% ranges, carrying both the forecast's and the rate's uncertainty;
* :func:`fte` converts volumes into full-time equivalent (FTE) staff with published planning rules (SafeLives
  for IDVAs and MARAC) or stated assumptions (:func:`planning_rules`), overridable per lot;
  :func:`marac_benchmark` gives the MARAC volumes SafeLives' rules imply for the adult female population;
* :func:`erlang_c` and :func:`erlang_a` give the agents a helpline needs to answer a share of calls within a
  target time (Erlang C: callers wait for ever; Erlang A: callers hang up after an exponential patience), and
  :func:`weekly_staffing` applies them to every hour of the week from a call profile (:func:`call_profile`);
* :func:`cost` prices the staff (salary, employer National Insurance, pension, overheads) plus fixed and
  per-case costs, against the lot's current funding from the ``services`` table;
* :func:`specification` and :func:`sentences` give the table and the plain-words sentences a tender pastes.

Every planning parameter comes from ``victimneeds/reference/capacity_planning.csv``, where each row says whether
it is a published figure (with its source) or an assumption to replace with local figures.

The code lives in one module per part: :mod:`~victimneeds.capacity.rules`, :mod:`~victimneeds.capacity.rates`,
:mod:`~victimneeds.capacity.volumes`, :mod:`~victimneeds.capacity.fte`, :mod:`~victimneeds.capacity.helpline`,
:mod:`~victimneeds.capacity.week`, :mod:`~victimneeds.capacity.cost`, :mod:`~victimneeds.capacity.specification`;
everything public is importable from ``victimneeds.capacity``.
"""

from __future__ import annotations

from victimneeds.capacity.cost import cost, unit_cost  # noqa: F401
from victimneeds.capacity.fte import _role, fte  # noqa: F401
from victimneeds.capacity.helpline import (  # noqa: F401
    Staffing,
    _answered_within,
    _check,
    _erlang_a_states,
    _erlang_c_prob,
    _number,
    erlang_a,
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
)
from victimneeds.capacity.rates import referral_rates  # noqa: F401
from victimneeds.capacity.rules import (  # noqa: F401
    _ALL,
    _DIVISORS,
    _Z,
    DAYS,
    _flatten,
    _need,
    _rule,
    _rules_from,
    _short,
    check_parameters,
    planning_keys,
    planning_rules,
)
from victimneeds.capacity.specification import _fmt, _money, sentences, specification  # noqa: F401
from victimneeds.capacity.volumes import LotVolumes, _forecasts, _path_years, lot_volumes, marac_benchmark  # noqa: F401
from victimneeds.capacity.week import (  # noqa: F401
    DEFAULT_DAY_SHARES,
    DEFAULT_OPEN_HOURS,
    WeeklyStaffing,
    call_profile,
    weekly_staffing,
)

__all__ = [
    "DAYS",
    "LotVolumes",
    "Staffing",
    "WeeklyStaffing",
    "call_profile",
    "check_parameters",
    "cost",
    "erlang_a",
    "erlang_a_metrics",
    "erlang_b",
    "erlang_c",
    "erlang_c_metrics",
    "fte",
    "lot_volumes",
    "marac_benchmark",
    "planning_keys",
    "planning_rules",
    "referral_rates",
    "sentences",
    "specification",
    "unit_cost",
    "weekly_staffing",
]
