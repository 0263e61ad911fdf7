"""Value mappings: local codes and spellings in an extract turned into the data model's allowed values.

Each categorical column is converted in this order, comparing values without regard to case or repeated
spaces:

1. the area configuration's own mapping for the column (``[extracts.<table>.values.<column>]``);
2. the shipped codings for the column (``victimneeds/reference/value_codings.csv``: the ONS 18+1 ethnic groups
   and the police self-defined and 6+1 (IC) ethnicity codes to the five groups, common sex and age codings,
   yes/no flags, DASH risk levels, Home Office offence groups to police.uk crime types, ...); codings marked
   ``default = no`` (numeric codes such as ISO 5218 for sex, whose meaning depends on the source) apply only
   when named in the extract's ``codings`` list;
3. the allowed values themselves.

A value none of these recognise is an error naming the column and rows: it is never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

import numpy as np
import pandas as pd

from victimneeds import reference
from victimneeds.datamodel import AGE_BANDS

__all__ = ["codings", "value_lookup", "convert_category", "convert_flag", "convert_age_band", "normalise_key"]

FLAG = "*flag*"


def normalise_key(value: object) -> str:
    """The form values are compared in: lower case, spaces collapsed, ends stripped."""
    return re.sub(r"\s+", " ", str(value).strip()).casefold()


@lru_cache(maxsize=1)
def codings() -> pd.DataFrame:
    """The shipped value codings (column, coding, value, canonical, default, source)."""
    table = reference.table("value_codings").astype({"value": str})
    table["canonical"] = table["canonical"].fillna("").astype(str)
    return table


def value_lookup(column: str, user: Mapping[str, object] | None = None, named: Iterable[str] = (),
                 flag: bool = False, allowed: Iterable[str] = ()) -> dict[str, str]:
    """normalised value -> canonical value for one column; user mappings win over shipped codings.

    For flags, the canonical values are ``"true"``, ``"false"`` and ``""`` (missing).
    """
    table = codings()
    key = FLAG if flag else column
    rows = table[(table["column"] == key) & ((table["default"] == "yes") | table["coding"].isin(list(named)))]
    out = {normalise_key(a): a for a in allowed}
    out.update({normalise_key(v): c for v, c in zip(rows["value"], rows["canonical"], strict=True)})
    for source, target in (user or {}).items():
        if flag and isinstance(target, bool):
            target = "true" if target else "false"
        out[normalise_key(source)] = "" if target is None else str(target)
    return out


def _apply(values: pd.Series, convert) -> tuple[pd.Series, pd.Series]:
    """Apply ``convert`` (normalised text -> canonical or None for bad) to the distinct values only."""
    present = values.notna()
    codes, uniques = pd.factorize(values[present].astype(str))
    mapped = [convert(normalise_key(u)) for u in uniques]
    canon = np.array([m[0] for m in mapped], dtype=object)
    ok = np.array([m[1] for m in mapped], dtype=bool)
    out = pd.Series(None, index=values.index, dtype=object)
    bad = pd.Series(False, index=values.index)
    if len(codes):
        out.loc[present] = canon[codes]
        bad.loc[present] = ~ok[codes]
    return out.where(out.notna(), None), bad


def convert_category(values: pd.Series, lookup: Mapping[str, str]) -> tuple[pd.Series, pd.Series]:
    """Canonical values (object, None where empty) and a mask of values not recognised.

    A value of the form ``"Group: detail"`` or ``"Group - detail"`` that is not known whole is looked up by
    its group (so ``"Asian or Asian British: Indian"`` finds ``"Asian or Asian British"``).

    Examples
    --------
    >>> lk = value_lookup("victim_ethnicity", allowed=["Asian", "White", "Unknown"])
    >>> out, bad = convert_category(pd.Series(["IC1", "w1", "Asian or Asian British: Indian", "Q", None]), lk)
    >>> out.tolist(), bad.tolist()
    (['White', 'White', 'Asian', None, None], [False, False, False, True, False])
    """
    def convert(key: str) -> tuple[object, bool]:
        if key in lookup:
            target = lookup[key]
            return (target if target != "" else None), True
        for sep in (":", " - "):
            if sep in key:
                head = key.split(sep, 1)[0].strip()
                if head in lookup and lookup[head] != "":
                    return lookup[head], True
        return None, False

    return _apply(values, convert)


def convert_flag(values: pd.Series, lookup: Mapping[str, str]) -> tuple[pd.Series, pd.Series]:
    """A nullable boolean column and a mask of values that are not yes/no answers.

    Examples
    --------
    >>> out, bad = convert_flag(pd.Series(["Y", "no", "Not known", "maybe", None]), value_lookup("x", flag=True))
    >>> out.tolist(), bad.tolist()
    ([True, False, <NA>, <NA>, <NA>], [False, False, False, True, False])
    """
    def convert(key: str) -> tuple[object, bool]:
        if key in lookup:
            target = lookup[key]
            return ({"true": True, "false": False}.get(target.lower()) if target else None), target.lower() in (
                "true", "false", "")
        return None, False

    out, bad = _apply(values, convert)
    return pd.Series(pd.array(out.tolist(), dtype="boolean"), index=values.index), bad


_BAND_RANGES = {b: (int(b.split("-")[0]), int(b.split("-")[1])) for b in AGE_BANDS if "-" in b}
_BAND_RANGES["75+"] = (75, 200)
_UNKNOWN_AGE = {"unknown", "not known", "not stated", "not recorded", "n/k", "nk", "prefer not to say", "refused"}


def _band_for(lo: int, hi: int) -> str | None:
    for band, (a, b) in _BAND_RANGES.items():
        if a <= lo and hi <= b:
            return band
    return None


def convert_age_band(values: pd.Series, lookup: Mapping[str, str]) -> tuple[pd.Series, pd.Series]:
    """Age bands from bands written in many ways, or from ages in whole years.

    A band is accepted when it lies inside one of the data model's bands (``18-24`` is inside ``16-24``;
    ``16 to 24``, ``75 and over``, ``Under 16`` and an age of ``34`` are understood). A band that straddles two
    (``0-17``, ``20-29``) cannot be placed and is an error: map it in the configuration or supply ages.

    Examples
    --------
    >>> out, bad = convert_age_band(pd.Series(["18-24", "75 and over", "34", "Under 16", "20-29", "Not known"]),
    ...                             value_lookup("victim_age_band", allowed=list(AGE_BANDS) + ["Unknown"]))
    >>> out.tolist(), bad.tolist()
    (['16-24', '75+', '25-34', '0-15', None, 'Unknown'], [False, False, False, False, True, False])
    """
    def convert(key: str) -> tuple[object, bool]:
        if key in lookup:
            return (lookup[key] or None), True
        if key in _UNKNOWN_AGE:
            return "Unknown", True
        text = key.replace("years", "").replace("yrs", "").strip()
        m = re.fullmatch(r"(\d{1,3})(?:\.0)?", text)
        if m:
            age = int(m.group(1))
            band = _band_for(age, age) if age <= 120 else None
            return band, band is not None
        m = re.fullmatch(r"(\d{1,3}) ?(?:-|to|–) ?(\d{1,3})", text)
        if m:
            band = _band_for(int(m.group(1)), int(m.group(2)))
            return band, band is not None
        m = re.fullmatch(r"(?:(\d{1,3}) ?(?:\+|and over|plus|or over|or older)|(?:over|older than) (\d{1,3}))", text)
        if m:
            lo = int(m.group(1) or m.group(2)) + (1 if m.group(2) else 0)
            band = _band_for(lo, 200)
            return band, band is not None
        m = re.fullmatch(r"(?:under|younger than|less than) (\d{1,3})", text)
        if m:
            band = _band_for(0, int(m.group(1)) - 1)
            return band, band is not None
        return None, False

    return _apply(values, convert)
