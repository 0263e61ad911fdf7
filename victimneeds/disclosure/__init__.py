"""Statistical disclosure control for tables of counts about victims.

The public functions live in :mod:`.core` (:func:`apply`, :func:`suppress`, :func:`check_safe`,
:func:`recoverable_cells`, :func:`round_counts`); :mod:`.attack` is the attacker's view (integer programmes
bounding each hidden count); :mod:`.policy` holds :class:`DisclosurePolicy`; :mod:`.structure` declares a
published table's structure (counts, blocks, derived columns).
"""

from victimneeds.disclosure import structure
from victimneeds.disclosure.attack import Constraints, intervals, rate
from victimneeds.disclosure.core import (
    DEFAULT_SYMBOL,
    DEFAULT_TOTALS,
    DisclosureReport,
    apply,
    check_safe,
    recoverable_cells,
    round_counts,
    suppress,
)
from victimneeds.disclosure.policy import DisclosurePolicy
from victimneeds.disclosure.structure import DisclosureWarning, TableStructure, declare

__all__ = [
    "DEFAULT_SYMBOL",
    "DEFAULT_TOTALS",
    "Constraints",
    "DisclosurePolicy",
    "DisclosureReport",
    "DisclosureWarning",
    "TableStructure",
    "declare",
    "structure",
    "apply",
    "check_safe",
    "intervals",
    "rate",
    "recoverable_cells",
    "round_counts",
    "suppress",
]
