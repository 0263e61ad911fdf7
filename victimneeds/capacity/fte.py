"""Caseworker capacity: full-time equivalent staff per lot and role, and the MARAC benchmark.

Part of :mod:`victimneeds.capacity`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from victimneeds.capacity.rules import (
    _need,
    _rule,
    _rules_from,
)
from victimneeds.capacity.volumes import LotVolumes

# --------------------------------------------------------------------------------------------------
# FTE
# --------------------------------------------------------------------------------------------------


def fte(
    volumes: LotVolumes | pd.DataFrame,
    hours_per_case: Mapping[str, float] | None = None,
    caseload: Mapping[str, float] | None = None,
    productive_hours: float | None = None,
    marac_share: float | None = None,
    rules: pd.DataFrame | Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Full-time equivalent (FTE) staff per lot and district from expected referrals, with ranges.

    Each lot uses one rule: a **caseload** (referrals a year per FTE, e.g. SafeLives' 100 for an IDVA) or
    **hours per case** divided by the productive hours of one FTE a year. The defaults come from
    :func:`planning_rules`; ``caseload`` and ``hours_per_case`` override them per lot (a lot given in
    ``caseload`` uses the caseload rule). With ``marac_share`` (the share of IDVA referrals heard at MARAC, e.g.
    the share assessed as high risk) the IDVA lot also gets MARAC administrators at 1 FTE per 400 cases.

    Parameters
    ----------
    volumes : a :class:`LotVolumes` or its ``table``.
    hours_per_case : lot -> caseworker hours per referral.
    caseload : lot -> referrals a year per FTE.
    productive_hours : productive hours a year per FTE (default from the rules, 1,550).
    marac_share : share of IDVA referrals that are MARAC cases.
    rules : planning rules (:func:`planning_rules`), or the area's local figures (``AreaData.parameters``);
        default the shipped rules.

    Returns
    -------
    ``scenario, lot, role, district_code, financial_year, referrals, fte, fte_lower_80, fte_upper_80,
    fte_lower_95, fte_upper_95, rule, basis, source``. FTE ranges are the volume ranges through the rule.

    References
    ----------
    SafeLives IDVA and MARAC planning rules (see ``capacity_planning.csv``).

    Examples
    --------
    >>> v = pd.DataFrame({"scenario": "baseline", "lot": ["IDVA", "ISVA"], "district_code": "All",
    ...                   "financial_year": "2025/26", "referrals": [450.0, 120.0], "lower_80": [400.0, 100.0],
    ...                   "upper_80": [500.0, 140.0], "lower_95": [380.0, 90.0], "upper_95": [520.0, 150.0]})
    >>> f = fte(v, hours_per_case={"ISVA": 31})
    >>> f[["lot", "fte", "fte_lower_95"]].round(2).values.tolist()
    [['IDVA', 4.5, 3.8], ['ISVA', 2.4, 1.8]]
    """
    t = volumes.table if isinstance(volumes, LotVolumes) else volumes
    _need(t, ["lot", "district_code", "financial_year", "referrals"], "volumes", "fte")
    rules = _rules_from(rules)
    hours_per_case, caseload = dict(hours_per_case or {}), dict(caseload or {})
    ph_rule = _rule(rules, "productive_hours_per_fte_year")
    ph = float(productive_hours if productive_hours is not None else ph_rule["value"])
    if ph <= 0:
        raise ValueError("fte: productive_hours must be positive")
    ph_text = "given" if productive_hours is not None else f"{ph_rule['basis']}: {ph_rule['source']}"
    limits = [c for c in ("referrals", "lower_80", "upper_80", "lower_95", "upper_95") if c in t]
    rows = []
    for lot, part in t.groupby("lot", sort=False):
        if lot in hours_per_case:
            divisor, rule, basis, source = (
                ph / hours_per_case[lot],
                (f"{hours_per_case[lot]:g} hours per case / {ph:,.0f} productive hours"),
                "given",
                ph_text,
            )
        elif lot in caseload:
            divisor, rule, basis, source = caseload[lot], f"{caseload[lot]:g} referrals a year per FTE", "given", ""
        else:
            cl = _rule(rules, "referrals_per_fte_year", lot)
            hp = _rule(rules, "hours_per_case", lot)
            if cl is not None:
                divisor, rule, basis, source = (
                    cl["value"],
                    f"{cl['value']:g} referrals a year per FTE",
                    cl["basis"],
                    cl["source"],
                )
            elif hp is not None:
                divisor = ph / hp["value"]
                rule = f"{hp['value']:g} hours per case / {ph:,.0f} productive hours"
                basis, source = hp["basis"], f"{hp['source']}; productive hours: {ph_text}"
            else:
                raise ValueError(f"fte: no planning rule for lot {lot!r}; give it in `hours_per_case` or `caseload`")
        role = _role(rules, lot)
        block = part.copy()
        block["role"] = role
        for c in limits:
            block["fte" if c == "referrals" else f"fte_{c}"] = block[c] / divisor
        block["rule"], block["basis"], block["source"] = rule, basis, source
        rows.append(block)
        if lot == "IDVA" and marac_share is not None:
            adm = _rule(rules, "marac_cases_per_admin_fte", "IDVA")
            m = part.copy()
            m["role"] = "MARAC administrator"
            for c in limits:
                m["fte" if c == "referrals" else f"fte_{c}"] = m[c] * marac_share / adm["value"]
            m["rule"] = f"{marac_share:.0%} of referrals heard at MARAC; {adm['value']:g} MARAC cases per FTE"
            m["basis"], m["source"] = adm["basis"], adm["source"]
            rows.append(m)
    out = pd.concat(rows, ignore_index=True)
    cols = ["scenario", "lot", "role", "district_code", "financial_year", "referrals", "fte"]
    cols += [f"fte_{c}" for c in limits if c != "referrals"] + ["rule", "basis", "source"]
    if "scenario" not in out:
        out["scenario"] = "baseline"
    return out[cols].reset_index(drop=True)


def _role(rules: pd.DataFrame, lot: str) -> str:
    r = rules[(rules["lot"] == lot) & rules["parameter"].isin(["referrals_per_fte_year", "hours_per_case"])]
    return str(r["role"].iloc[0]) if len(r) else "Caseworker"
