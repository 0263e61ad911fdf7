"""Published reference tables shipped with victimneeds, one CSV each, every row citing its source.

- ``csew_prevalence``: Crime Survey for England and Wales prevalence in the last year, and the share of victims
  who told the police, by crime group, sex and age band (used by :func:`victimneeds.demand.hidden`).
- ``policeuk_outcome_groups``: every data.police.uk outcome category mapped to an ordered outcome group (used by
  :mod:`victimneeds.outcomes`).
"""

from __future__ import annotations

from importlib import resources

import pandas as pd


def available() -> list[str]:
    """Names of the reference tables shipped.

    Examples
    --------
    >>> "csew_prevalence" in available()
    True
    """
    return sorted(p.name.removesuffix(".csv") for p in resources.files(__name__).iterdir() if p.name.endswith(".csv"))


def table(name: str) -> pd.DataFrame:
    """Read the reference table ``name`` (see :func:`available`)."""
    names = available()
    if name not in names:
        raise KeyError(f"there is no reference table called {name!r}; the tables shipped are {names}")
    with resources.files(__name__).joinpath(f"{name}.csv").open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle)
