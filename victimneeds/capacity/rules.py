"""Planning rules: the published figures and stated assumptions every capacity step uses, and local overrides.

Part of :mod:`victimneeds.capacity`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

from victimneeds.reference import table as _reference

DAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_Z = {80: float(_st.norm.ppf(0.9)), 95: float(_st.norm.ppf(0.975))}
_ALL = "All"


# --------------------------------------------------------------------------------------------------
# Planning rules
# --------------------------------------------------------------------------------------------------


def planning_keys(rules: pd.DataFrame | None = None) -> list[str]:
    """The key that sets each planning rule from an area's ``[parameters]``, one per row of the rules.

    A key is ``lot.parameter`` (``"ISVA.referrals_per_fte_year"``, ``"All.overhead_rate"``); where a lot has the
    same parameter for two roles (salaries of IDVAs and MARAC administrators) it is ``lot.role.parameter``
    (``"IDVA.MARAC administrator.salary"``). ``lot.role.parameter`` is accepted for every row.

    Examples
    --------
    >>> keys = planning_keys()
    >>> "ISVA.referrals_per_fte_year" in keys, "IDVA.MARAC administrator.salary" in keys
    (True, True)
    """
    t = _reference("capacity_planning") if rules is None else rules
    shared = t.duplicated(["lot", "parameter"], keep=False)
    return [
        f"{lot}.{role}.{par}" if twice else f"{lot}.{par}"
        for lot, role, par, twice in zip(t["lot"], t["role"], t["parameter"], shared, strict=True)
    ]


def _short(source: str) -> str:
    """The publisher part of a source: ``"SafeLives, A place ..."`` -> ``"SafeLives"``."""
    return re.split(r"[:,;]", str(source), maxsplit=1)[0].strip()


def _flatten(mapping: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """Nested tables (TOML's unquoted dotted keys) -> dotted keys: ``{"ISVA": {"referrals_per_fte_year": 70}}`` ->
    ``{"ISVA.referrals_per_fte_year": 70}``; an inline table ``{value = 70, source = "..."}`` is one entry."""
    out: dict[str, object] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and not (set(value) <= {"value", "source"} and "value" in value):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def check_parameters(overrides: Mapping[str, object] | None, rules: pd.DataFrame | None = None) -> dict[str, dict]:
    """Check local planning figures and return them by key: ``{key: {"value": float, "source": str}}``.

    ``overrides`` is what an area's ``[parameters]`` holds besides its run options: ``key = number`` with the
    source in ``sources = {key = "text"}`` (``[parameters.sources]`` in TOML), or ``key = {value = number,
    source = "text"}``. Keys are those of :func:`planning_keys` (lot and role matched without regard to case).
    An already checked dictionary (``AreaData.parameters``) passes through unchanged.

    Raises
    ------
    ValueError
        One message listing every problem, each naming its key: a key that is not a planning rule (with the
        closest keys), a lot parameter that has two roles, a value that is not a number or is negative (or zero
        where it divides, or above 1 for a share), a local figure without a source, a source for a key not set.

    Examples
    --------
    >>> check_parameters({"isva.referrals_per_fte_year": 70, "sources": {"isva.referrals_per_fte_year": "Review"}})
    {'ISVA.referrals_per_fte_year': {'value': 70.0, 'source': 'Review'}}
    """
    if not overrides:
        return {}
    t = _reference("capacity_planning") if rules is None else rules
    keys = planning_keys(t)
    full = {f"{lot}.{role}.{par}".casefold(): i for i, (lot, role, par) in enumerate(
        zip(t["lot"], t["role"], t["parameter"], strict=True))}
    short = {k.casefold(): i for i, k in enumerate(keys)}
    pairs: dict[str, list[str]] = {}
    for k, lot, par in zip(keys, t["lot"], t["parameter"], strict=True):
        pairs.setdefault(f"{lot}.{par}".casefold(), []).append(k)
    given = dict(overrides)
    sources = given.pop("sources", {}) or {}
    problems: list[str] = []
    if not isinstance(sources, Mapping):
        problems.append(f"'sources' must be a table of key = \"where the figure comes from\", not {sources!r}")
        sources = {}
    flat_sources = {k.casefold(): (k, v) for k, v in _flatten(sources).items()}
    out: dict[str, dict] = {}
    used: set[int] = set()
    named_sources: set[str] = set()
    for key, raw in _flatten(given).items():
        low = key.strip().casefold()
        row = full.get(low, short.get(low))
        if row is None:
            if low in pairs and len(pairs[low]) > 1:
                roles = " or ".join(map(repr, pairs[low]))
                problems.append(f"{key!r} has one value for each of two roles: write {roles}")
            else:
                close = difflib.get_close_matches(key, keys, n=3, cutoff=0.6)
                hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
                problems.append(f"{key!r} is not a planning parameter (keys are lot.parameter, e.g. "
                                f"'ISVA.referrals_per_fte_year'; every key is listed in docs/parameters.md){hint}")
            continue
        canonical = keys[row]
        if row in used:
            problems.append(f"{key!r} sets {canonical!r} a second time")
            continue
        used.add(row)
        value, source = (raw.get("value"), raw.get("source")) if isinstance(raw, Mapping) else (raw, None)
        for k in {low, canonical.casefold(), f"{t['lot'].iloc[row]}.{t['role'].iloc[row]}.{t['parameter'].iloc[row]}"
                  .casefold()}:
            if k in flat_sources:
                named_sources.add(k)
                source = source if source is not None else flat_sources[k][1]
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            problems.append(f"{key!r} must be a number ({t['unit'].iloc[row]}), not {value!r}")
            continue
        value = float(value)
        unit = str(t["unit"].iloc[row])
        parameter = str(t["parameter"].iloc[row])
        if not math.isfinite(value) or value < 0:
            problems.append(f"{key!r} must be a number of 0 or more ({unit}), not {value:g}")
            continue
        if value == 0 and parameter in _DIVISORS:
            problems.append(f"{key!r} must be more than 0 ({unit}): staff are worked out by dividing by it")
            continue
        if unit.startswith("share") and value > 1:
            problems.append(f"{key!r} is a share ({unit}) and must be between 0 and 1, not {value:g} "
                            f"(write 15% as 0.15)")
            continue
        if not isinstance(source, str) or not source.strip():
            problems.append(f"{key!r} = {value:g} has no source: a local figure must say where it comes from, e.g. "
                            f"[parameters.sources] \"{canonical}\" = \"Provider caseload review, 2025\"")
            continue
        out[canonical] = {"value": value, "source": source.strip()}
    for low, (key, _) in flat_sources.items():
        if low not in named_sources:
            problems.append(f"sources has {key!r}, but no local figure is set for it")
    if problems:
        raise ValueError(
            f"{len(problems)} local planning parameter{'s' if len(problems) > 1 else ''} cannot be used: "
            + "; ".join(problems) + "."
        )
    return out


#: Parameters that staff numbers are divided by: a local figure of 0 is refused.
_DIVISORS = frozenset({"referrals_per_fte_year", "open_caseload_low", "open_caseload_high",
                       "marac_cases_per_admin_fte", "productive_hours_per_fte_year"})


def planning_rules(overrides: Mapping[str, object] | None = None) -> pd.DataFrame:
    """The planning parameters shipped with victimneeds, each with its basis and source, with local figures applied.

    Columns ``lot, role, parameter, value, unit, basis, source, note``; ``basis`` is ``published`` (a cited
    figure), ``assumption`` (a stated default to replace with local figures) or ``local`` (set by the area).

    Parameters
    ----------
    overrides : local figures, as an area's ``[parameters]`` gives them (``AreaData.parameters``): key (see
        :func:`planning_keys` and ``docs/parameters.md``) -> number, with ``sources`` (key -> text), or key ->
        ``{"value": number, "source": text}``. A row set locally gets basis ``local``, the source given, and a
        note that keeps the default (``"default 100, SafeLives (formerly CAADA); ..."``). Checked by
        :func:`check_parameters`: unknown keys, values that are not numbers or are negative, and local figures
        without a source raise one ``ValueError`` naming each key.

    Examples
    --------
    >>> r = planning_rules()
    >>> r.loc[(r["lot"] == "IDVA") & (r["parameter"] == "referrals_per_fte_year"), "value"].item()
    100.0
    >>> r.loc[(r["lot"] == "ISVA") & (r["parameter"] == "referrals_per_fte_year"), "basis"].item()
    'assumption'
    >>> local = planning_rules({"IDVA.referrals_per_fte_year": {"value": 90, "source": "Provider review, 2025"}})
    >>> row = local[(local["lot"] == "IDVA") & (local["parameter"] == "referrals_per_fte_year")].iloc[0]
    >>> float(row["value"]), row["basis"], row["note"].split(";")[0]
    (90.0, 'local', 'default 100, SafeLives (formerly CAADA)')
    """
    t = _reference("capacity_planning")
    t["value"] = t["value"].astype(float)
    t["note"] = t["note"].fillna("")
    local = check_parameters(overrides, t)
    if local:
        index = {k: i for i, k in enumerate(planning_keys(t))}
        for key, given in local.items():
            i = t.index[index[key]]
            old = t.loc[i]
            default = f"default {old['value']:,g}, {_short(old['source'])}"
            t.loc[i, "note"] = f"{default}; {old['note']}" if old["note"] else default
            t.loc[i, ["value", "basis", "source"]] = [given["value"], "local", given["source"]]
        t["value"] = t["value"].astype(float)
    return t


def _rules_from(rules: pd.DataFrame | Mapping[str, object] | None) -> pd.DataFrame:
    """Planning rules from ``rules``: a table from :func:`planning_rules`, local figures (``AreaData.parameters``),
    or None for the defaults."""
    if rules is None:
        return planning_rules()
    if isinstance(rules, pd.DataFrame):
        return rules
    if isinstance(rules, Mapping):
        return planning_rules(rules)
    raise TypeError(f"rules must be a table from planning_rules() or a mapping of local figures, not {type(rules)}")


def _rule(rules: pd.DataFrame, parameter: str, lot: str = _ALL, role: str | None = None) -> pd.Series | None:
    sel = (rules["parameter"] == parameter) & (rules["lot"] == lot)
    if role is not None:
        sel &= rules["role"] == role
    rows = rules[sel]
    return rows.iloc[0] if len(rows) else None


def _need(table: pd.DataFrame, columns: Sequence[str], name: str, func: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KeyError(f"{func}: the {name} table has no column(s) {missing}; it has {list(table.columns)}")
