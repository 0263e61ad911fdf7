"""Today's funding by district and the distance from each district's fair share, under each split rule.

Part of :mod:`victimneeds.equity`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from victimneeds.datamodel import AreaData
from victimneeds.equity.need import (
    NeedIndex,
    _money,
    _plain_areas,
    need_index,
    recorded_victims,
)

# --------------------------------------------------------------------------------------------------
# Current allocation and fair shares
# --------------------------------------------------------------------------------------------------


def _served(services: pd.DataFrame, districts: set[str], column: str) -> list[list[str]]:
    lists = []
    for i, (name, value) in enumerate(zip(services["service_name"], services[column], strict=True)):
        codes = [c.strip() for c in str(value if isinstance(value, str) else "").split(";") if c.strip()]
        if not codes:
            raise ValueError(
                f"services table, row {i + 1} ({name!r}): column {column!r} is empty; expected "
                f"district codes separated by ';'"
            )
        bad = [c for c in codes if c not in districts]
        if bad:
            raise ValueError(
                f"services table, row {i + 1} ({name!r}): column {column!r} names district codes "
                f"not in the areas table: {bad}; expected some of {sorted(districts)}"
            )
        lists.append(list(dict.fromkeys(codes)))
    return lists


def current_allocation(
    data: AreaData,
    rule: str = "population",
    need: NeedIndex | None = None,
    demand: pd.DataFrame | None = None,
    demand_column: str = "estimated_victims",
    by_service: bool = False,
) -> pd.DataFrame:
    """Today's funding per district, splitting contracts that serve several districts by a stated rule.

    Each service's ``annual_funding`` is shared between the districts in its ``districts_served`` list in
    proportion to:

    - ``"population"``: the districts' residents;
    - ``"caseload"``: the service's referrals from each district in the last 12 months of the referrals table
      (or, with no referrals table or none for the service, the districts' recorded victims);
    - ``"need"``: the districts' need shares (``need``, default :func:`need_index` of ``data``).

    Parameters
    ----------
    data : the area (``services`` and ``areas`` needed; ``crimes`` for per-victim figures).
    rule : the apportioning rule.
    need : a need index to use with ``rule="need"``.
    demand : optional estimated victims per district, for funding per estimated victim.
    demand_column : column of ``demand`` with estimated victims.
    by_service : return the long table, one row per service and district served.

    Returns
    -------
    DataFrame, one row per district: ``funding``, ``funding_share``, ``population``, ``recorded_victims``,
    ``funding_per_head``, ``funding_per_victim`` (and ``funding_per_estimated_victim``), ``method``.

    Examples
    --------
    >>> import victimneeds as vn
    >>> area = vn.datasets.load_example()
    >>> cur = current_allocation(area)
    >>> bool(round(cur["funding"].sum()) == round(area.services["annual_funding"].sum()))
    True
    """
    if data.services is None:
        raise ValueError(f"{data.name} has no services table, so current funding cannot be split by district.")
    if rule not in ("population", "caseload", "need"):
        raise ValueError(f"rule must be 'population', 'caseload' or 'need', not {rule!r}")
    services = data.services
    for col in ("service_name", "districts_served", "annual_funding"):
        if col not in services.columns:
            raise ValueError(f"the services table has no column {col!r}")
    bad = services["annual_funding"].isna() | (services["annual_funding"] < 0)
    if bad.any():
        raise ValueError(
            f"services table: column 'annual_funding' must be a non-negative amount; rows "
            f"{(np.flatnonzero(bad.to_numpy()) + 1).tolist()[:5]} are missing or negative"
        )
    districts = data.districts
    codes = set(districts["district_code"])
    served = _served(services, codes, "districts_served")
    areas = _plain_areas(data)
    pop = areas.groupby("district_code")["population"].sum()
    victims = None
    if data.crimes is not None:
        victims = recorded_victims(data).set_index("district_code")["recorded_victims"]
    if rule == "need":
        need = need if need is not None else need_index(data, demand=demand)
        basis = need.table.set_index("district_code")["need_share"]
        basis_words = "need shares"
    elif rule == "population":
        basis = pop
        basis_words = "residents"
    else:
        basis = None
        basis_words = "referrals to the service in the last 12 months"
    rows = []
    for (_, svc), dlist in zip(services.iterrows(), served, strict=True):
        if len(dlist) == 1:
            weights, how = pd.Series(1.0, index=dlist), "serves one district"
        elif rule == "caseload":
            weights = None
            if data.referrals is not None:
                ref = data.referrals
                last = ref["referral_date"].max()
                recent = ref[
                    (ref["service"] == svc["service_name"]) & (ref["referral_date"] > last - pd.DateOffset(months=12))
                ]
                counts = recent.groupby("district_code").size().reindex(dlist).fillna(0)
                if counts.sum() > 0:
                    weights, how = counts, "referrals in the last 12 months"
            if weights is None:
                if victims is None:
                    raise ValueError("rule='caseload' needs a referrals or crimes table")
                weights, how = victims.reindex(dlist).fillna(0), "recorded victims (no referrals for the service)"
        else:
            weights, how = basis.reindex(dlist).fillna(0), basis_words
        weights = weights.astype(float)
        if weights.sum() <= 0:
            weights = pd.Series(1.0, index=dlist)
            how = "equal split (no basis)"
        part = weights / weights.sum()
        for code in dlist:
            rows.append(
                {
                    "service_name": svc["service_name"],
                    "district_code": code,
                    "funding": float(svc["annual_funding"]) * float(part[code]),
                    "split_share": float(part[code]),
                    "method": f"{len(dlist)} districts served; split by {how}"
                    if len(dlist) > 1
                    else "serves one district",
                }
            )
    long = pd.DataFrame(rows)
    if by_service:
        return long.merge(districts, on="district_code", how="left")
    out = districts.set_index("district_code")
    out["funding"] = long.groupby("district_code")["funding"].sum().reindex(out.index).fillna(0.0)
    out["funding_share"] = out["funding"] / out["funding"].sum()
    out["population"] = pop
    out["funding_per_head"] = out["funding"] / out["population"]
    if victims is not None:
        out["recorded_victims"] = victims
        out["funding_per_victim"] = out["funding"] / out["recorded_victims"].where(out["recorded_victims"] > 0)
    if demand is not None:
        est = demand.groupby("district_code")[demand_column].sum()
        out["estimated_victims"] = est
        out["funding_per_estimated_victim"] = out["funding"] / out["estimated_victims"].where(
            out["estimated_victims"] > 0
        )
    out["split_rule"] = rule
    out["method"] = f"multi-district services split by {rule} ({basis_words}); annual funding in GBP"
    return out.reset_index()


def fair_shares(
    current: pd.DataFrame, need: NeedIndex | pd.DataFrame, budget: float | None = None, threshold: float = 0.8
) -> pd.DataFrame:
    """Need-based target per district and each district's distance from it (money and per cent).

    The target share is the district's need share; the target is that share of ``budget`` (default: today's
    total funding). ``distance`` is funding minus target (negative: below target); ``pct_of_target`` is
    funding as a percentage of target; ``below_threshold`` flags districts below ``threshold`` (80%) of
    their fair share.

    References
    ----------
    NHS England (2019). Technical guide to allocation formulae and pace of change (distance from target).

    Examples
    --------
    >>> cur = pd.DataFrame({"district_code": ["A", "B"], "district_name": ["A", "B"], "funding": [70.0, 30.0]})
    >>> need = pd.DataFrame({"district_code": ["A", "B"], "need_share": [0.5, 0.5]})
    >>> fair_shares(cur, need)[["target", "distance", "pct_of_target"]].values.tolist()
    [[50.0, 20.0, 140.0], [50.0, -20.0, 60.0]]
    """
    table = need.table if isinstance(need, NeedIndex) else need
    merged = current.merge(table[["district_code", "need_share"]], on="district_code", how="outer", indicator=True)
    lost = merged[merged["_merge"] != "both"]
    if len(lost):
        raise ValueError(
            f"the current funding and need tables cover different districts: {sorted(lost['district_code'].tolist())}"
        )
    total = float(current["funding"].sum()) if budget is None else float(budget)
    share = merged["need_share"] / merged["need_share"].sum()
    out = merged.drop(columns="_merge")
    out["target_share"] = share
    out["target"] = total * share
    out["distance"] = out["funding"] - out["target"]
    out["pct_of_target"] = 100 * out["funding"] / out["target"].where(out["target"] > 0)
    out["below_threshold"] = out["pct_of_target"] < 100 * threshold
    out["method"] = f"target = need share x {_money(total)}; flagged below {threshold:.0%} of target"
    return out


def fair_share_findings(fair: pd.DataFrame) -> list[str]:
    """Plain-words findings on funding against fair shares, each naming the split rule(s) it rests on.

    ``fair`` is either

    - a :func:`split_sensitivity` table (the form the evidence pack uses): one sentence per district that is
      below the band, and one per district above it, **under every split rule the data support**
      (``verdict`` ``"below"`` or ``"above"``). Each sentence gives the district's percentage of its fair
      share under each rule and names any rule that was not available and why. A district whose verdict
      depends on the split rule gets no finding: the split of shared contracts is an assumption, not a
      measurement, so a shortfall that one defensible split removes is not a gap. Or
    - a :func:`fair_shares` table (one split rule): one sentence per district below the threshold, naming
      the rule from the ``split_rule`` column (which :func:`current_allocation` adds), or saying it was not
      stated. Such a finding holds under that rule only.

    Examples
    --------
    >>> fair = pd.DataFrame({"district_name": ["City", "Vale"], "funding": [40_000.0, 60_000.0],
    ...                      "target": [65_000.0, 35_000.0], "pct_of_target": [61.5, 171.4],
    ...                      "below_threshold": [True, False], "split_rule": "population"})
    >>> text = fair_share_findings(fair)
    >>> len(text), text[0][:73]
    (1, 'Funding does not follow need (City), shared contracts split by residents:')
    >>> text[0][73:]
    ' GBP 40,000 against a need-based fair share of GBP 65,000 (62% of target, GBP 25,000 short).'
    """
    if "verdict" in fair.columns:
        return _robust_findings(fair)
    below = fair[fair["below_threshold"].fillna(False).astype(bool)]
    texts = []
    for r in below.itertuples():
        rule = getattr(r, "split_rule", None)
        how = (
            f"shared contracts split by {_RULE_WORDS.get(rule, rule)}"
            if isinstance(rule, str)
            else ("split rule for shared contracts not stated")
        )
        texts.append(
            f"Funding does not follow need ({r.district_name}), {how}: GBP {r.funding:,.0f} against a need-based "
            f"fair share of GBP {r.target:,.0f} ({r.pct_of_target:.0f}% of target, GBP {r.target - r.funding:,.0f} "
            f"short)."
        )
    return texts


#: The rules :func:`current_allocation` can split a shared contract by, in the order tables show them.
SPLIT_RULES: tuple[str, ...] = ("population", "caseload", "need")
_RULE_WORDS = {"population": "residents", "caseload": "caseload", "need": "need shares"}
_RULE_DETAIL = {
    "population": "residents",
    "caseload": "each service's referrals in the last 12 months",
    "need": "need shares",
}


def _split_unavailable(data: AreaData, rule: str) -> str:
    """Why ``rule`` cannot split this area's shared contracts ('' when it can)."""
    if rule != "caseload":
        return ""
    if data.referrals is None:
        return "no referrals table"
    ref = data.referrals
    missing = [c for c in ("service", "district_code", "referral_date") if c not in ref.columns]
    if missing:
        return f"the referrals table has no column(s) {missing}"
    services = data.services
    served = _served(services, set(data.districts["district_code"]), "districts_served")
    last = ref["referral_date"].max()
    recent = ref[ref["referral_date"] > last - pd.DateOffset(months=12)]
    counts = recent.groupby(["service", "district_code"]).size()
    without = []
    for name, dlist in zip(services["service_name"], served, strict=True):
        if len(dlist) > 1:
            n = sum(int(counts.get((name, c), 0)) for c in dlist)
            if n == 0:
                without.append(str(name))
    if without:
        return f"no referrals in the last 12 months for shared service(s) {', '.join(without)}"
    return ""


def split_sensitivity(
    data: AreaData,
    need: NeedIndex | pd.DataFrame | None = None,
    demand: pd.DataFrame | None = None,
    rules: tuple[str, ...] | list[str] = SPLIT_RULES,
    budget: float | None = None,
    band: tuple[float, float] = (0.8, 1.25),
) -> pd.DataFrame:
    """Each district's funding as a share of its fair share under every rule for splitting shared contracts.

    Today's funding of a contract that serves several districts is split by a rule, not measured
    (:func:`current_allocation`), and the distance from fair share can hang on that rule: a district that looks
    under-funded when area-wide contracts are split by residents can be at its fair share when they are split
    by caseload. This table shows the distance under each rule side by side, and a ``verdict`` that holds
    whichever rule is right:

    - ``"below"``: below ``band[0]`` (80%) of the fair share under **every** rule the data support;
    - ``"above"``: above ``band[1]`` (125%) under every rule the data support;
    - ``"within"``: inside the band under every rule;
    - ``"depends on the split"``: outside the band under some rules and not others.

    This is the rule for funding findings in "Gaps found" (:func:`fair_share_findings`): a shortfall is reported
    only when it holds under all rules, the intersection-union principle (Berger 1982). The rule is
    conservative: a finding cannot be produced by choosing the split that makes a district look worst, and
    adding rules can only remove findings. (There is no sampling error to control here: the rules are
    competing assumptions, and a finding must survive all of them.)

    A rule the data cannot support is **not available**: its columns are NaN (never zero), it plays no part in
    the verdict and ``not_available`` says why. ``caseload`` needs a referrals table with referrals in the
    last 12 months for every service that serves more than one district (:func:`current_allocation` would
    otherwise fall back to recorded victims, which is a different rule); ``population`` and ``need`` are
    always available.

    Parameters
    ----------
    data : the area (``services`` and ``areas``; ``referrals`` for the caseload rule).
    need : the need index fair shares are measured against (default :func:`need_index` of ``data`` and
        ``demand``); a DataFrame with ``district_code`` and ``need_share`` also works.
    demand : estimated victims per district, passed to :func:`need_index` and :func:`current_allocation`.
    rules : the split rules to compare (some of ``"population"``, ``"caseload"``, ``"need"``).
    budget : the total the fair shares divide (default today's total funding, the same under every rule).
    band : (low, high) fractions of the fair share; outside it under every rule is a finding.

    Returns
    -------
    DataFrame, one row per district: ``district_code``, ``district_name``, ``target`` (fair share, GBP),
    ``funding_<rule>`` and ``pct_<rule>`` (funding as % of target) for each rule, ``lowest_pct``,
    ``highest_pct`` (over the available rules), ``rules_used``, ``not_available`` (rule: reason; '' when
    none), ``verdict`` and ``method``.

    References
    ----------
    Berger, R. L. (1982). Multiparameter hypothesis testing and acceptance sampling. *Technometrics* 24(4),
    295-300. (Intersection-union: a claim that must hold under every condition is asserted only when it
    holds under each.)
    NHS England (2019). Technical guide to allocation formulae and pace of change (distance from target).

    Examples
    --------
    >>> import victimneeds as vn
    >>> s = split_sensitivity(vn.datasets.load_example())
    >>> [c for c in s.columns if c.startswith("pct_")]
    ['pct_population', 'pct_caseload', 'pct_need']
    >>> sorted(set(s["verdict"]) - {"below", "above", "within", "depends on the split"})
    []
    """
    if data.services is None:
        raise ValueError(f"{data.name} has no services table, so current funding cannot be split by district.")
    rules = list(dict.fromkeys(rules))
    bad = [r for r in rules if r not in SPLIT_RULES]
    if bad or not rules:
        raise ValueError(f"rules must be some of {list(SPLIT_RULES)}, not {list(rules)}")
    lo, hi = (float(b) for b in band)
    if not 0 < lo <= 1 <= hi:
        raise ValueError(f"band must be (low, high) fractions with 0 < low <= 1 <= high, not {band}")
    if need is None:
        need = need_index(data, demand=demand)
    if not isinstance(need, NeedIndex):
        for col in ("district_code", "need_share"):
            if col not in need.columns:
                raise ValueError(f"the need table has no column {col!r}")
        need = NeedIndex(need.copy(), {}, "district")
    out = data.districts[["district_code", "district_name"]].copy().reset_index(drop=True)
    unavailable: dict[str, str] = {}
    used: list[str] = []
    for rule in rules:
        why = _split_unavailable(data, rule)
        if why:
            unavailable[rule] = why
            out[f"funding_{rule}"] = np.nan
            out[f"pct_{rule}"] = np.nan
            continue
        fair = fair_shares(current_allocation(data, rule=rule, need=need, demand=demand), need, budget=budget)
        fair = fair.set_index("district_code").reindex(out["district_code"])
        out["target"] = fair["target"].to_numpy()
        out[f"funding_{rule}"] = fair["funding"].to_numpy()
        out[f"pct_{rule}"] = fair["pct_of_target"].to_numpy()
        used.append(rule)
    if not used:
        raise ValueError(
            f"none of the split rules {rules} can be used: " + "; ".join(f"{r}: {w}" for r, w in unavailable.items())
        )
    cols = ["district_code", "district_name", "target"] + [f"{k}_{r}" for r in rules for k in ("funding", "pct")]
    out = out[cols]
    pct = out[[f"pct_{r}" for r in used]]
    out["lowest_pct"] = pct.min(axis=1)
    out["highest_pct"] = pct.max(axis=1)
    below = (pct < 100 * lo).all(axis=1)
    above = (pct > 100 * hi).all(axis=1)
    inside = pct.ge(100 * lo).all(axis=1) & pct.le(100 * hi).all(axis=1)
    out["verdict"] = np.select([below, above, inside], ["below", "above", "within"], "depends on the split")
    out["rules_used"] = ", ".join(used)
    out["not_available"] = "; ".join(f"{r}: {w}" for r, w in unavailable.items())
    out["band_low_pct"] = 100 * lo
    out["band_high_pct"] = 100 * hi
    words = ", ".join(f"{r} ({_RULE_DETAIL[r]})" for r in used)
    na = "; not available: " + "; ".join(f"{r} ({w})" for r, w in unavailable.items()) if unavailable else ""
    out["method"] = (
        f"funding as % of need-based fair share with shared contracts split by each of: {words}{na}; verdict "
        f"'below'/'above' only when outside {100 * lo:.0f}%-{100 * hi:.0f}% of target under every rule used"
    )
    return out


def _robust_findings(sens: pd.DataFrame) -> list[str]:
    texts = []
    rules = [c[4:] for c in sens.columns if c.startswith("pct_") and c not in ("pct_of_target",)]
    for r in sens.itertuples(index=False):
        if r.verdict not in ("below", "above"):
            continue
        used = [k for k in rules if pd.notna(getattr(r, f"pct_{k}"))]
        each = ", ".join(f"by {_RULE_WORDS.get(k, k)} {getattr(r, f'pct_{k}'):.0f}%" for k in used)
        funds = [getattr(r, f"funding_{k}") for k in used]
        na = f" Not available: {r.not_available}." if isinstance(r.not_available, str) and r.not_available else ""
        if r.verdict == "below":
            short = sorted(r.target - f for f in funds)
            gap = f"GBP {short[0]:,.0f}" if len(short) == 1 else f"GBP {short[0]:,.0f} to GBP {short[-1]:,.0f}"
            texts.append(
                f"Funding does not follow need ({r.district_name}): below {r.band_low_pct:.0f}% of its need-based "
                f"fair share of GBP {r.target:,.0f} under every split of shared contracts the data support ({each} "
                f"of target; {gap} short).{na}"
            )
        else:
            texts.append(
                f"Funding above need ({r.district_name}): above {r.band_high_pct:.0f}% of its need-based fair "
                f"share of GBP {r.target:,.0f} under every split of shared contracts the data support ({each} of "
                f"target).{na}"
            )
    return texts
