"""victimneeds: Victims' Needs Assessments for Police and Crime Commissioners.

``import victimneeds as vn`` gives the analyses as submodules (``vn.stats``, ``vn.disclosure``,
``vn.datasets``, ``vn.io``, ``vn.plotting``, ``vn.report``) and the canonical data model
(``vn.AreaData``, ``vn.validate``). Submodules load on first use, so ``import victimneeds`` is quick.
"""

from __future__ import annotations

import importlib
from typing import Any

from victimneeds.datamodel import AreaData, validate

__version__ = "0.1.0"

_SUBMODULES = (
    "datamodel",
    "stats",
    "disclosure",
    "datasets",
    "io",
    "geo",
    "plotting",
    "profile",
    "periods",
    "demand",
    "referrals",
    "equity",
    "voice",
    "outcomes",
    "compare",
    "monitoring",
    "capacity",
    "forecast",
    "reference",
    "labels",
    "report",
    "word_report",
    "excel_report",
    "html_report",
    "audit",
    "similar_forces",
    "national",
    "sections",
    "testbed",
    "build",
    "cli",
)
_SHORTCUTS = {
    "save_figure": ("plotting", "save_figure"),
    "load": ("build", "load"),
    "load_example": ("datasets", "load_example"),
}

__all__ = ["AreaData", "validate", "__version__", *_SUBMODULES, *_SHORTCUTS]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"victimneeds.{name}")
    if name in _SHORTCUTS:
        module, attr = _SHORTCUTS[name]
        return getattr(importlib.import_module(f"victimneeds.{module}"), attr)
    raise AttributeError(f"module 'victimneeds' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
