"""Statistics for victims' needs assessments: proportions, rates, standardisation, funnels and comparisons.

Tidy in, tidy out, in the manner of PHE's ``PHEindicatormethods``: each table function takes a DataFrame
and column names and returns a *new* frame with the input columns followed by

``value``        the estimate (proportion, rate, standardised rate or ratio, times ``multiplier``);
``lowercl``, ``uppercl``  the confidence limits (with several confidence levels: ``lower95_0cl``,
                 ``upper95_0cl``, ``lower99_8cl``, ``upper99_8cl``, ...);
``confidence``   the confidence level(s) as text, e.g. ``"95%"``;
``statistic``    what ``value`` is, e.g. ``"rate per 1,000"``;
``method``       how the interval was made, e.g. ``"Exact (Garwood 1936)"``.

Array-level functions (:func:`wilson`, :func:`count_interval`) return plain numpy arrays for use inside
other modules.

Summary of methods
------------------
* proportions: Wilson score interval (:func:`wilson`, :func:`proportion`);
* counts and crude rates: exact Poisson in chi-square form, or Byar's approximation
  (:func:`count_interval`, :func:`rate`);
* directly standardised rates: Dobson et al. (1991), not computed when fewer than 10 events (:func:`dsr`);
* indirectly standardised ratios: observed / expected with an exact Poisson interval
  (:func:`expected_counts`, :func:`standardised_ratio`);
* funnel plots: exact binomial / Poisson limits with Spiegelhalter's interpolation, and the
  over-dispersed (multiplicative or additive random-effects) versions (:func:`funnel_limits`,
  :func:`funnel_flags`, :func:`estimate_overdispersion`);
* comparisons: two Poisson counts by the conditional binomial exact test (:func:`compare_counts`), two
  proportions by Newcombe's hybrid score interval (:func:`compare_proportions`).

The code lives in one module per part: :mod:`~victimneeds.stats.helpers`, :mod:`~victimneeds.stats.proportions`,
:mod:`~victimneeds.stats.rates`, :mod:`~victimneeds.stats.standardisation`, :mod:`~victimneeds.stats.funnel`,
:mod:`~victimneeds.stats.comparisons`; everything public is importable from ``victimneeds.stats``.
"""

from __future__ import annotations

from victimneeds.stats.comparisons import compare_counts, compare_proportions, survival_band  # noqa: F401
from victimneeds.stats.funnel import (  # noqa: F401
    Overdispersion,
    _check_kind,
    _exact_limit,
    _null_se,
    _winsorise,
    estimate_overdispersion,
    funnel_flags,
    funnel_limits,
)
from victimneeds.stats.helpers import (  # noqa: F401
    _METHOD_NAMES,
    ESP2013,
    ESP2013_AGE_BANDS,
    FunnelKind,
    PoissonMethod,
    _append,
    _cl_names,
    _column,
    _confidence,
    _level_tag,
    _levels,
    _maybe_int,
    _pct,
    _rows,
    _z,
)
from victimneeds.stats.proportions import proportion, wilson  # noqa: F401
from victimneeds.stats.rates import count_interval, rate  # noqa: F401
from victimneeds.stats.standardisation import _as_list, dsr, expected_counts, standardised_ratio  # noqa: F401

__all__ = [
    "ESP2013",
    "ESP2013_AGE_BANDS",
    "Overdispersion",
    "compare_counts",
    "compare_proportions",
    "count_interval",
    "dsr",
    "estimate_overdispersion",
    "expected_counts",
    "funnel_flags",
    "funnel_limits",
    "proportion",
    "rate",
    "standardised_ratio",
    "survival_band",
    "wilson",
]
