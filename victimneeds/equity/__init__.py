"""Funding equity: does the money follow need, and what would a fair split be?

The section behind notebook 03. It answers four questions a commissioner is asked:

1. **Where is the need?** :func:`need_index` builds a composite need index per district (or small area)
   from recorded victims (optionally harm-weighted), estimated hidden demand when a demand table is given,
   residents (optionally age/sex-weighted) and deprivation. :func:`need_sensitivity` shows how far the
   shares move under other defensible weights.
2. **Where does the money go today?** :func:`current_allocation` splits each commissioned service's
   funding between the districts it serves (by population, caseload or need) and reports funding per head
   and per recorded victim.
3. **How far is each district from its fair share?** :func:`fair_shares` sets a need-based target share, as
   NHS weighted-capitation allocations do, and gives the distance from target in money and per cent.
   :func:`split_sensitivity` gives it under every rule for splitting shared contracts, and
   :func:`fair_share_findings` reports a district only when it is outside the band under all of them.
4. **What split would be fair and deliverable?** :func:`allocate` gives every district a minimum standard
   (a floor), shares the rest by need and limits the pace of change from the current split, solved exactly
   and rounded to the penny.

Inequality measures (:func:`gini`, :func:`lorenz_curve`, :func:`theil`, :func:`concentration_index` and
:func:`inequality` with bootstrap intervals) say how unequal funding per unit of need is, before and after.

References
----------
NHS England (2019). *Technical guide to allocation formulae and pace of change for 2019/20 to 2023/24
revenue allocations.* (Fair shares, distance from target, pace of change.)
O'Donnell, O., van Doorslaer, E., Wagstaff, A. & Lindelow, M. (2008). *Analyzing Health Equity Using
Household Survey Data*, chapters 6-8. World Bank. (Gini, concentration index by the covariance formula.)
Lerman, R. I. & Yitzhaki, S. (1989). Improving the accuracy of estimates of Gini coefficients. *Journal of
Econometrics* 42(1), 43-47.
Theil, H. (1967). *Economics and Information Theory.* North-Holland; Shorrocks, A. F. (1980). The class of
additively decomposable inequality measures. *Econometrica* 48(3), 613-625.
Sherman, L., Neyroud, P. & Neyroud, E. (2016). The Cambridge Crime Harm Index. *Policing* 10(3), 171-183.

The code lives in one module per part: :mod:`~victimneeds.equity.need`, :mod:`~victimneeds.equity.shares`,
:mod:`~victimneeds.equity.allocation`, :mod:`~victimneeds.equity.inequality`; everything public is importable from
``victimneeds.equity``.
"""

from __future__ import annotations

from victimneeds.equity.allocation import (  # noqa: F401
    Allocation,
    _as_vector,
    _largest_remainder,
    _waterfill,
    allocate,
    funding_per_need,
    glide_path,
)
from victimneeds.equity.inequality import (  # noqa: F401
    MIN_BOOTSTRAP_UNITS,
    ScenarioInequality,
    _acceleration,
    _bootstrap_limits,
    _yw,
    concentration_index,
    gini,
    inequality,
    inequality_by_scenario,
    lorenz_curve,
    plot_lorenz,
    theil,
    theil_decomposition,
)
from victimneeds.equity.need import (  # noqa: F401
    _COMPONENT_WORDS,
    _COMPONENTS,
    _LEVELS,
    ALTERNATIVE_WEIGHTS,
    DEFAULT_WEIGHTS,
    DEFAULT_WEIGHTS_WITH_DEMAND,
    AllocationError,
    NeedIndex,
    _age_sex_weighted_population,
    _check_weights,
    _keys,
    _money,
    _plain_areas,
    need_index,
    need_sensitivity,
    recorded_victims,
)
from victimneeds.equity.shares import (  # noqa: F401
    _RULE_DETAIL,
    _RULE_WORDS,
    SPLIT_RULES,
    _robust_findings,
    _served,
    _split_unavailable,
    current_allocation,
    fair_share_findings,
    fair_shares,
    split_sensitivity,
)

__all__ = [
    "ALTERNATIVE_WEIGHTS",
    "DEFAULT_WEIGHTS",
    "DEFAULT_WEIGHTS_WITH_DEMAND",
    "Allocation",
    "AllocationError",
    "NeedIndex",
    "SPLIT_RULES",
    "allocate",
    "concentration_index",
    "current_allocation",
    "fair_shares",
    "funding_per_need",
    "gini",
    "glide_path",
    "inequality",
    "lorenz_curve",
    "need_index",
    "need_sensitivity",
    "plot_lorenz",
    "recorded_victims",
    "split_sensitivity",
    "theil",
    "theil_decomposition",
]
