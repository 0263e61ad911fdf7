"""Cost: unit staff costs and the contract value per lot against today's funding.

Part of :mod:`victimneeds.capacity`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from victimneeds.capacity.rules import (
    _ALL,
    _need,
    _rule,
    _rules_from,
)

# --------------------------------------------------------------------------------------------------
# Cost
# --------------------------------------------------------------------------------------------------


def unit_cost(
    salary: float,
    ni_rate: float | None = None,
    ni_threshold: float | None = None,
    pension_rate: float | None = None,
    overhead_rate: float | None = None,
    rules: pd.DataFrame | Mapping[str, object] | None = None,
) -> float:
    """Full annual cost of one FTE: salary + employer National Insurance + pension, plus overheads.

    ``(salary + ni_rate * max(salary - ni_threshold, 0) + pension_rate * salary) * (1 + overhead_rate)``;
    defaults from :func:`planning_rules` (employer NI 15% above GBP 5,000 for 2025/26, pension 5% and
    overheads 15% as assumptions), or from ``rules`` (:func:`planning_rules`, or the area's local figures,
    ``AreaData.parameters``).

    Examples
    --------
    >>> unit_cost(30_000, ni_rate=0.15, ni_threshold=5_000, pension_rate=0.05, overhead_rate=0.1)
    38775.0
    """
    rules = _rules_from(rules)

    def par(v: float | None, name: str) -> float:
        return float(v) if v is not None else float(_rule(rules, name)["value"])

    ni, thr = par(ni_rate, "employer_ni_rate"), par(ni_threshold, "employer_ni_threshold")
    pen, ovh = par(pension_rate, "pension_rate"), par(overhead_rate, "overhead_rate")
    return (salary + ni * max(salary - thr, 0.0) + pen * salary) * (1 + ovh)


def cost(
    fte_table: pd.DataFrame,
    services: pd.DataFrame | None = None,
    salaries: Mapping[str, float] | None = None,
    fixed_costs: Mapping[str, float] | None = None,
    cost_per_case: Mapping[str, float] | None = None,
    helpline_fte: float | None = None,
    ni_rate: float | None = None,
    ni_threshold: float | None = None,
    pension_rate: float | None = None,
    overhead_rate: float | None = None,
    rules: pd.DataFrame | Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Contract value per lot and financial year (area totals), with ranges, against current funding.

    Contract value = sum over roles of FTE x unit cost (:func:`unit_cost`) + per-case costs x referrals + fixed
    costs. Ranges carry the FTE ranges (unit costs and fixed costs are taken as known).

    Parameters
    ----------
    fte_table : from :func:`fte` (area rows, ``district_code == "All"``, are used).
    services : the canonical services table: current ``annual_funding`` (and ``capacity_fte``) summed per lot.
    salaries : lot -> full-time salary for the lot's caseworkers (default the rules' assumptions).
    fixed_costs : lot -> fixed costs a year (premises, telephony, case management system); default 0.
    cost_per_case : lot -> non-staff cost per referral (default the rules, e.g. practical support materials).
    helpline_fte : call handler FTE for the victim advice line (from :meth:`WeeklyStaffing.fte`), costed at the
        call handler salary on top of the caseworkers.
    ni_rate, ni_threshold, pension_rate, overhead_rate : as in :func:`unit_cost`.
    rules : planning rules (:func:`planning_rules`), or the area's local figures (``AreaData.parameters``);
        default the shipped rules. Salaries, per-case costs, NI, pension and overheads come from them.

    Returns
    -------
    ``scenario, lot, financial_year, fte, staff_cost, per_case_cost, fixed_cost, contract_value,
    contract_lower_80, contract_upper_80, contract_lower_95, contract_upper_95, current_funding, current_fte,
    funding_gap, basis``. ``funding_gap`` is contract value minus current funding (positive: more is needed).

    Examples
    --------
    >>> f = pd.DataFrame({"scenario": "baseline", "lot": ["ISVA"], "role": ["ISVA"], "district_code": "All",
    ...                   "financial_year": "2025/26", "referrals": [120.0], "fte": [2.0], "fte_lower_95": [1.5],
    ...                   "fte_upper_95": [2.5]})
    >>> c = cost(f, salaries={"ISVA": 30_000}, fixed_costs={"ISVA": 1_000}, ni_rate=0.15, ni_threshold=5_000,
    ...          pension_rate=0.05, overhead_rate=0.1)
    >>> c[["contract_value", "contract_lower_95"]].values.tolist()
    [[78550.0, 59162.5]]
    """
    _need(fte_table, ["lot", "role", "district_code", "financial_year", "fte"], "FTE", "cost")
    rules = _rules_from(rules)
    salaries, fixed_costs = dict(salaries or {}), dict(fixed_costs or {})
    per_case = dict(cost_per_case or {})
    t = fte_table[fte_table["district_code"] == _ALL].copy()
    if "scenario" not in t:
        t["scenario"] = "baseline"
    ranges = [c for c in ("fte_lower_80", "fte_upper_80", "fte_lower_95", "fte_upper_95") if c in t]
    kw = dict(ni_rate=ni_rate, ni_threshold=ni_threshold, pension_rate=pension_rate, overhead_rate=overhead_rate,
              rules=rules)
    basis = []

    def salary_for(lot: str, role: str) -> float:
        if role != "MARAC administrator" and lot in salaries:
            return float(salaries[lot])
        r = _rule(rules, "salary", lot, role)
        if r is None:
            raise ValueError(f"cost: no salary for lot {lot!r}, role {role!r}; give it in `salaries`")
        return float(r["value"])

    t["unit_cost"] = [unit_cost(salary_for(lot, role), **kw) for lot, role in zip(t["lot"], t["role"], strict=True)]
    for c in ["fte", *ranges]:
        t[f"cost_{c}"] = t[c] * t["unit_cost"]
    keys = ["scenario", "lot", "financial_year"]
    g = (
        t.groupby(keys, sort=False)
        .agg(
            fte=("fte", "sum"),
            staff_cost=("cost_fte", "sum"),
            **{f"staff_{c}": (f"cost_{c}", "sum") for c in ranges},
        )
        .reset_index()
    )
    refs = t[t["role"] != "MARAC administrator"].groupby(keys, sort=False)["referrals"].sum()
    g["referrals"] = refs.reindex(pd.MultiIndex.from_frame(g[keys])).to_numpy()
    if helpline_fte:
        hl = unit_cost(salary_for("Victim advice line", "Call handler"), **kw) * helpline_fte
        on = g["lot"] == "Victim advice line"
        g.loc[on, "fte"] += helpline_fte
        for c in ["staff_cost", *[f"staff_{r}" for r in ranges]]:
            g.loc[on, c] += hl
        basis.append(f"victim advice line includes {helpline_fte:.1f} call handler FTE (Erlang staffing)")

    def pc(lot: str) -> float:
        if lot in per_case:
            return float(per_case[lot])
        r = _rule(rules, "cost_per_case", lot)
        return float(r["value"]) if r is not None else 0.0

    g["per_case_cost"] = g["lot"].map(pc) * g["referrals"]
    g["fixed_cost"] = g["lot"].map(lambda lot: float(fixed_costs.get(lot, 0.0)))
    g["contract_value"] = g["staff_cost"] + g["per_case_cost"] + g["fixed_cost"]
    for c in ranges:
        scale = np.where(g["fte"] > 0, 1.0, 0.0)
        g[c.replace("fte_", "contract_")] = (
            g[f"staff_{c}"]
            + g["per_case_cost"] * scale * (g[f"staff_{c}"] / g["staff_cost"].where(g["staff_cost"] > 0, 1))
            + g["fixed_cost"]
        )
    if services is not None:
        _need(services, ["lot", "annual_funding"], "services", "cost")
        s = services.assign(lot=services["lot"].astype(str)).groupby("lot")
        g["current_funding"] = g["lot"].map(s["annual_funding"].sum())
        g["current_fte"] = g["lot"].map(s["capacity_fte"].sum()) if "capacity_fte" in services else np.nan
    else:
        g["current_funding"] = np.nan
        g["current_fte"] = np.nan
    g["funding_gap"] = g["contract_value"] - g["current_funding"]
    basis.append("unit cost = (salary + employer NI + pension) x (1 + overheads); see capacity_planning.csv")
    g["basis"] = "; ".join(basis)
    cols = [
        "scenario",
        "lot",
        "financial_year",
        "referrals",
        "fte",
        "staff_cost",
        "per_case_cost",
        "fixed_cost",
        "contract_value",
        *[c.replace("fte_", "contract_") for c in ranges],
        "current_funding",
        "current_fte",
        "funding_gap",
        "basis",
    ]
    return g[cols]
