"""Service specification: the volumes, staff, helpline staffing and budget a tender asks providers for.

A needs assessment ends in a service specification. This module turns the demand forecast into one:

* :func:`referral_rates` measures, from the area's ``crimes`` and ``referrals`` tables, how many referrals each
  lot receives per recorded crime (by crime group, and district), with exact Poisson intervals, and the share
  of referred victims who take up support (Wilson intervals);
* :func:`lot_volumes` multiplies a monthly crime forecast (:func:`victimneeds.forecast.forecast`, or a
  :func:`~victimneeds.forecast.scenario`) by those rates to give expected referrals per lot, district and
  financial year with 80% and 95% ranges, carrying both the forecast's and the rate's uncertainty;
* :func:`fte` converts volumes into full-time equivalent (FTE) staff with published planning rules (SafeLives
  for IDVAs and MARAC) or stated assumptions (:func:`planning_rules`), overridable per lot;
  :func:`marac_benchmark` gives the MARAC volumes SafeLives' rules imply for the adult female population;
* :func:`erlang_c` and :func:`erlang_a` give the agents a helpline needs to answer a share of calls within a
  target time (Erlang C: callers wait for ever; Erlang A: callers hang up after an exponential patience), and
  :func:`weekly_staffing` applies them to every hour of the week from a call profile (:func:`call_profile`);
* :func:`cost` prices the staff (salary, employer National Insurance, pension, overheads) plus fixed and
  per-case costs, against the lot's current funding from the ``services`` table;
* :func:`specification` and :func:`sentences` give the table and the plain-words sentences a tender pastes.

Every planning parameter comes from ``victimneeds/reference/capacity_planning.csv``, where each row says whether
it is a published figure (with its source) or an assumption to replace with local figures.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from scipy import stats as _st

from victimneeds import stats
from victimneeds.datamodel import AGE_BANDS, LOTS
from victimneeds.forecast import ForecastResult, ScenarioResult
from victimneeds.periods import financial_year
from victimneeds.reference import table as _reference

__all__ = [
    "DAYS",
    "LotVolumes",
    "Staffing",
    "WeeklyStaffing",
    "call_profile",
    "check_parameters",
    "cost",
    "erlang_a",
    "erlang_a_metrics",
    "erlang_b",
    "erlang_c",
    "erlang_c_metrics",
    "fte",
    "lot_volumes",
    "marac_benchmark",
    "planning_keys",
    "planning_rules",
    "referral_rates",
    "sentences",
    "specification",
    "unit_cost",
    "weekly_staffing",
]

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


# --------------------------------------------------------------------------------------------------
# Referral rates
# --------------------------------------------------------------------------------------------------


def referral_rates(
    crimes: pd.DataFrame,
    referrals: pd.DataFrame,
    services: pd.DataFrame | None = None,
    by: Sequence[str] = ("district_code", "crime_group"),
    months: int = 12,
    service_lots: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Referrals to each lot per recorded crime, and the share who take up support, over the latest months.

    All referrals (police, self and partner) to a lot's services are counted against the recorded crimes of
    the same cell (e.g. district and crime group) in the same months: the rate is the number of referrals a
    lot can expect for each recorded crime, whatever the route in. Cells with no recorded crimes are given the
    area rate of their crime group (``method`` says so).

    Parameters
    ----------
    crimes, referrals : the canonical tables (columns ``month`` and ``referral_date``, ``service`` and ``by``).
    services : the canonical services table, mapping ``service_name`` to ``lot``.
    by : the cells rates are measured in; must include ``crime_group``.
    months : the base period: this many months up to the last month of the crimes table.
    service_lots : service name -> lot, used instead of (or on top of) ``services``.

    Returns
    -------
    One row per lot and cell: ``lot, *by, referrals, crimes, rate, rate_lower, rate_upper, supported,
    take_up, take_up_lower, take_up_upper, base_period, method``. Rates are referrals per recorded crime with
    exact Poisson 95% limits (crimes taken as fixed); take-up is the share of referrals with
    ``support_accepted`` (Wilson 95% interval). ``.attrs["notes"]`` counts referrals left out and why.

    References
    ----------
    Breslow NE, Day NE (1987). Statistical Methods in Cancer Research, vol. II. IARC (exact Poisson limits).
    Wilson EB (1927). Probable inference, the law of succession, and statistical inference. JASA 22:209-212.

    Examples
    --------
    >>> crimes = pd.DataFrame({"crime_group": ["Burglary"] * 4 + ["Violence"] * 2,
    ...                        "month": pd.PeriodIndex(["2024-03"] * 6, freq="M")})
    >>> refs = pd.DataFrame({"service": ["Line", "Line", "Line"], "crime_group": ["Burglary", "Burglary", "Violence"],
    ...                      "referral_date": pd.to_datetime(["2024-03-02"] * 3),
    ...                      "support_accepted": [True, False, True]})
    >>> r = referral_rates(crimes, refs, by=["crime_group"], service_lots={"Line": "Victim advice line"})
    >>> r[["lot", "crime_group", "referrals", "crimes", "rate"]].values.tolist()
    [['Victim advice line', 'Burglary', 2, 4, 0.5], ['Victim advice line', 'Violence', 1, 2, 0.5]]
    """
    by = list(by)
    if "crime_group" not in by:
        raise ValueError("referral_rates: `by` must include 'crime_group' (rates are per crime of a group)")
    _need(crimes, ["month", *by], "crimes", "referral_rates")
    _need(referrals, ["service", "referral_date", *by], "referrals", "referral_rates")
    lot_of: dict[str, str] = {}
    if services is not None:
        _need(services, ["service_name", "lot"], "services", "referral_rates")
        lot_of.update(zip(services["service_name"].astype(str), services["lot"].astype(str), strict=True))
    lot_of.update(service_lots or {})
    if not lot_of:
        raise ValueError("referral_rates: give the services table or `service_lots` to say which lot each service is")
    month = crimes["month"]
    if not isinstance(month.dtype, pd.PeriodDtype):
        month = pd.PeriodIndex(month.astype(str), freq="M").to_series(index=crimes.index)
    last = month.max()
    first = last - (months - 1)
    in_c = (month >= first) & (month <= last)
    c = pd.DataFrame({k: crimes.loc[in_c, k].astype(str) for k in by})
    cnt_c = c.groupby(by).size().rename("crimes")
    rmonth = pd.to_datetime(referrals["referral_date"]).dt.to_period("M")
    in_r = (rmonth >= first) & (rmonth <= last)
    lots = referrals["service"].astype(str).map(lot_of)
    notes = [
        f"{int((~in_r).sum()):,} referrals outside the base period {first} to {last} were not counted.",
    ]
    unassigned = in_r & lots.isna()
    if unassigned.any():
        names = sorted(set(referrals.loc[unassigned, "service"].astype(str)))[:5]
        notes.append(
            f"{int(unassigned.sum()):,} referrals to services not in the services table (e.g. {names}) "
            "were not assigned to a lot."
        )
    keep = in_r & lots.notna()
    r = pd.DataFrame({k: referrals.loc[keep, k].astype(str) for k in by})
    r["lot"] = lots[keep]
    r["supported"] = (
        pd.array(referrals.loc[keep, "support_accepted"], dtype="boolean").fillna(False).to_numpy(dtype=int)
        if "support_accepted" in referrals
        else 0
    )
    agg = r.groupby(["lot", *by]).agg(referrals=("lot", "size"), supported=("supported", "sum")).reset_index()
    # every lot x cell with crimes, so cells with crimes but no referrals have a rate of 0
    cells = cnt_c.reset_index()
    grid = pd.DataFrame({"lot": sorted(agg["lot"].unique())}).merge(cells[by], how="cross")
    out = grid.merge(agg, on=["lot", *by], how="outer").merge(cells, on=by, how="left")
    out[["referrals", "supported"]] = out[["referrals", "supported"]].fillna(0).astype(int)
    out["crimes"] = out["crimes"].fillna(0).astype(int)
    out = out[(out["referrals"] > 0) | (out["crimes"] > 0)]
    # area rate per lot and crime group, the fallback for cells without crimes
    area = out.groupby(["lot", "crime_group"])[["referrals", "crimes"]].sum()
    area_rate = (area["referrals"] / area["crimes"].where(area["crimes"] > 0)).rename("area_rate")
    out = out.merge(area_rate.reset_index(), on=["lot", "crime_group"], how="left")
    lo, hi = stats.count_interval(out["referrals"].to_numpy(), 0.95)
    has = out["crimes"] > 0
    denom = out["crimes"].where(has).astype(float)
    out["rate"] = np.where(has, out["referrals"] / denom, out["area_rate"])
    out["rate_lower"] = np.where(has, lo / denom, out["area_rate"])
    out["rate_upper"] = np.where(has, hi / denom, out["area_rate"])
    tk = stats.wilson(out["supported"].to_numpy(), out["referrals"].to_numpy(), 0.95)
    n = out["referrals"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["take_up"] = np.where(n > 0, out["supported"] / np.maximum(n, 1), np.nan)
    out["take_up_lower"] = np.where(n > 0, tk[1], np.nan)
    out["take_up_upper"] = np.where(n > 0, tk[2], np.nan)
    out["base_period"] = f"{first} to {last}"
    out["method"] = np.where(
        has,
        "referrals / recorded crimes in the base period; exact Poisson 95% limits",
        "no recorded crimes in the cell: area rate of the crime group",
    )
    lots_order = {lot: i for i, lot in enumerate(LOTS)}
    out = out.sort_values(["lot", *by], key=lambda s: s.map(lots_order) if s.name == "lot" else s)
    out = out[
        [
            "lot",
            *by,
            "referrals",
            "crimes",
            "rate",
            "rate_lower",
            "rate_upper",
            "supported",
            "take_up",
            "take_up_lower",
            "take_up_upper",
            "base_period",
            "method",
        ]
    ].reset_index(drop=True)
    out.attrs["notes"] = notes
    return out


# --------------------------------------------------------------------------------------------------
# Volumes
# --------------------------------------------------------------------------------------------------


@dataclass
class LotVolumes:
    """Expected referrals per lot, district and financial year.

    Attributes
    ----------
    table : ``scenario, lot, district_code, financial_year, months, referrals, lower_80, upper_80, lower_95,
        upper_95, supported, method``; ``district_code`` is "All" on the area totals.
    detail : the same per crime group (before summing), with the crimes forecast and the rate used.
    notes : how ranges were made and what was left out.
    """

    table: pd.DataFrame
    detail: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def totals(self, scenario: str = "baseline") -> pd.DataFrame:
        """Area totals per lot and financial year for one scenario."""
        t = self.table
        return t[(t["scenario"] == scenario) & (t["district_code"] == _ALL)].reset_index(drop=True)

    def summary(self) -> str:
        """Text: area totals per lot and financial year with 95% ranges."""
        lines = ["Expected referrals by lot (area total, 95% range)"]
        for r in self.table[self.table["district_code"] == _ALL].itertuples(index=False):
            lines.append(
                f"  {r.scenario} | {r.lot} | {r.financial_year}: {r.referrals:,.0f} "
                f"({r.lower_95:,.0f}-{r.upper_95:,.0f})"
            )
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{self.summary()}</pre>"

    def plot(self, financial_year: str | None = None, scenario: str = "baseline", ax: Axes | None = None) -> Axes:
        """Dot and whisker chart of each lot's expected referrals (area total) with 80% and 95% ranges."""
        import matplotlib.pyplot as plt

        from victimneeds.plotting import PALETTE, legend_below, page_size, plain_log_axis

        t = self.totals(scenario)
        fy = financial_year or t["financial_year"].min()
        t = t[t["financial_year"] == fy].iloc[::-1]
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(0.4 * len(t) + 1.8))
        y = np.arange(len(t))
        ax.hlines(y, t["lower_95"], t["upper_95"], color=PALETTE[0], linewidth=1.5, label="95% range")
        ax.hlines(y, t["lower_80"], t["upper_80"], color=PALETTE[0], linewidth=4, label="80% range")
        ax.plot(t["referrals"], y, "o", color=PALETTE[3], markersize=6, label="Expected")
        ax.set_yticks(y, t["lot"])
        ax.set_xscale("log")
        plain_log_axis(ax, "x")
        ax.set_xlabel("Expected referrals a year (log scale)")
        ax.set_title(f"Expected referrals by lot, {fy}")
        legend_below(ax)
        return ax


def _forecasts(forecast: object) -> dict[str, tuple[pd.DataFrame, pd.DataFrame | None]]:
    """Name -> (monthly forecast table, financial-year totals from sample paths or None without paths)."""
    if isinstance(forecast, Mapping):
        out: dict[str, tuple[pd.DataFrame, pd.DataFrame | None]] = {}
        for name, f in forecast.items():
            out.update({str(name): next(iter(_forecasts(f).values()))})
        return out
    if isinstance(forecast, ScenarioResult):
        return {forecast.description: (forecast.table, _path_years(forecast))}
    if isinstance(forecast, ForecastResult):
        return {"baseline": (forecast.table, _path_years(forecast))}
    if isinstance(forecast, pd.DataFrame):
        return {"baseline": (forecast, None)}
    raise TypeError("lot_volumes: `forecast` must be a ForecastResult, ScenarioResult, DataFrame or a dict of them")


def _path_years(result: ForecastResult | ScenarioResult) -> pd.DataFrame | None:
    """Financial-year totals whose limits are quantiles of sample-path totals; None when there are no paths."""
    if not result.paths:
        return None
    fy = result.financial_years()
    fy = fy[fy["interval"].str.startswith("quantiles")]
    return fy if len(fy) else None


def lot_volumes(
    forecast: ForecastResult | ScenarioResult | pd.DataFrame | Mapping[str, object],
    referral_rates: pd.DataFrame,
    lots: Sequence[str] | None = None,
    complete_years: bool = True,
    year_ranges: str = "monthly_sum",
) -> LotVolumes:
    """Expected referrals per lot, district and financial year: the crime forecast times the referral rates.

    For each forecast series (district and crime group) and month, expected referrals to a lot are the
    forecast crimes times the lot's referrals per crime for that cell. Months are summed to financial years
    (April to March). The range of a year's crimes is that of :meth:`ForecastResult.financial_years`: the
    quantiles of the simulated sample paths' yearly totals, which keep the correlation of months' errors.
    Only a forecast without sample paths (a table, or a result built by hand) has its monthly limits summed
    (months' errors taken as perfectly correlated, which is wide); ``method`` says which was used. The year's
    variance of referrals is then ``rate^2 var(crimes) + crimes^2 var(rate)``, with ``var(crimes)`` read
    from the year's 95% range (``((upper - lower) / 3.92)^2``) and the rate's relative variance
    ``1 / referrals`` (Poisson); sums over
    crime groups and districts add variances of independent forecasts, while a rate shared by several cells
    (an area rate) counts its error once for all of them. Ranges are normal, cut at zero.

    Parameters
    ----------
    forecast : a :class:`~victimneeds.forecast.ForecastResult` (keys must include ``crime_group``, and
        ``district_code`` for district volumes), a :class:`~victimneeds.forecast.ScenarioResult`, its table, or
        a dict name -> any of these to carry several scenarios through (the name labels them).
    referral_rates : from :func:`referral_rates`; by crime group, or district and crime group.
    lots : lots to keep (default all in the rates).
    complete_years : keep only financial years the forecast covers in full (12 months).
    year_ranges : ``"monthly_sum"`` (default): sum the monthly limits; ``"paths"``: a year's crimes range from
        the sample paths' totals when the forecast has paths. Measured in the rolling evaluation of
        ``bench/forecast_origins.py`` at district x crime type (2 forces, 4 origins), 12-month totals fell inside
        the GLM's summed monthly 80% / 95% limits 78-81% / 92-94% of the time, but inside its path-total ranges
        only 25-37% / 36-54% (the months' errors are more alike than the models' paths assume), so the summed
        limits stay the default until the paths carry that correlation.

    Returns
    -------
    :class:`LotVolumes`.

    References
    ----------
    Hyndman RJ, Athanasopoulos G (2021). Forecasting: Principles and Practice, 3rd ed., OTexts, s. 5.5 and
    ch. 11 (prediction intervals of sums). Goodman LA (1960). On the exact variance of products. JASA
    55:708-713 (variance of a product of independent estimates, first-order terms).

    Examples
    --------
    >>> fc = pd.DataFrame({"crime_group": "Burglary", "month": pd.period_range("2025-04", periods=12, freq="M"),
    ...                    "mean": 100.0, "lower_80": 90.0, "upper_80": 110.0, "lower_95": 80.0, "upper_95": 120.0})
    >>> rates = pd.DataFrame({"lot": ["Practical support"], "crime_group": ["Burglary"], "referrals": [400],
    ...                       "rate": [0.25], "take_up": [0.5]})
    >>> v = lot_volumes(fc, rates)
    >>> v.table[["lot", "financial_year", "referrals", "supported"]].values.tolist()
    [['Practical support', '2025/26', 300.0, 150.0]]
    """
    _need(referral_rates, ["lot", "crime_group", "rate", "referrals"], "referral rates", "lot_volumes")
    rate_keys = [k for k in ("district_code", "crime_group") if k in referral_rates.columns]
    rates = referral_rates.copy()
    if lots is not None:
        unknown = sorted(set(lots) - set(rates["lot"]))
        if unknown:
            raise ValueError(
                f"lot_volumes: no referral rates for lot(s) {unknown}; the rates cover {sorted(set(rates['lot']))}"
            )
        rates = rates[rates["lot"].isin(lots)]
    if "take_up" not in rates:
        rates["take_up"] = np.nan
    rates["rate_id"] = np.arange(len(rates))
    n = rates["referrals"].astype(float).to_numpy()
    rates["rel_var"] = np.where(n > 0, 1 / np.maximum(n, 1), 0.0)
    frames = []
    notes: list[str] = []
    if year_ranges not in ("paths", "monthly_sum"):
        raise ValueError(f"lot_volumes: year_ranges must be 'paths' or 'monthly_sum', not {year_ranges!r}")
    for name, (table, path_years) in _forecasts(forecast).items():
        _need(table, ["crime_group", "month", "mean", "lower_95", "upper_95"], "forecast", "lot_volumes")
        t = table.copy()
        if "district_code" not in t:
            t["district_code"] = _ALL
        t["crime_group"] = t["crime_group"].astype(str)
        t["district_code"] = t["district_code"].astype(str)
        t["financial_year"] = financial_year(t["month"]).to_numpy()
        limits = [c for c in ("lower_80", "upper_80", "lower_95", "upper_95") if c in t]
        cell = ["district_code", "crime_group", "financial_year"]
        y = t.groupby(cell)[["mean", *limits]].sum()
        y["months"] = t.groupby(cell).size()
        y = y.reset_index().rename(columns={"mean": "crimes"})
        y["from_paths"] = False
        if path_years is not None and year_ranges == "paths":
            p = path_years.copy()
            if "district_code" not in p:
                p["district_code"] = _ALL
            p["crime_group"] = p["crime_group"].astype(str)
            p["district_code"] = p["district_code"].astype(str)
            p = p.set_index(cell)
            idx = pd.MultiIndex.from_frame(y[cell])
            hit = idx.isin(p.index)
            for c in ("lower_95", "upper_95"):
                y.loc[hit, c] = p[c].reindex(idx[hit]).to_numpy()
            y.loc[hit, "from_paths"] = True
        # the yearly crimes' variance from the 95% range of the year's total: of the sample paths' totals
        # when the forecast has them, else of the summed monthly limits (months taken as perfectly correlated)
        y["var_crimes"] = ((y["upper_95"] - y["lower_95"]) / (2 * _Z[95])) ** 2
        r = rates.copy()
        r["crime_group"] = r["crime_group"].astype(str)
        if "district_code" in rate_keys:
            r["district_code"] = r["district_code"].astype(str)
        cols = ["lot", *rate_keys, "rate", "take_up", "rate_id", "rel_var"]
        d = y.merge(r[cols], on=rate_keys, how="inner")
        d["scenario"] = name
        frames.append(d)
        unmatched = y.merge(r[rate_keys].drop_duplicates(), on=rate_keys, how="left", indicator=True)
        miss = unmatched[unmatched["_merge"] == "left_only"]
        if len(miss):
            notes.append(
                f"{name}: {len(miss.drop_duplicates(rate_keys))} forecast series have no referral rate "
                "(no referrals or crimes of that kind in the base period) and add nothing."
            )
    d = pd.concat(frames, ignore_index=True)
    if complete_years:
        short = d["months"] < 12
        if short.any():
            notes.append(
                "Financial years the forecast covers only in part were left out: "
                + ", ".join(sorted(set(d.loc[short, "financial_year"])))
                + "."
            )
        d = d[~short]
    d["referrals"] = d["crimes"] * d["rate"]
    d["var_fc"] = d["rate"] ** 2 * d["var_crimes"]
    d["supported"] = d["referrals"] * d["take_up"]
    detail = d[
        [
            "scenario",
            "lot",
            "district_code",
            "crime_group",
            "financial_year",
            "months",
            "crimes",
            "rate",
            "referrals",
            "supported",
        ]
    ].reset_index(drop=True)
    parts = []
    by_district = bool((d["district_code"] != _ALL).any())
    for level in (["district_code"], []) if by_district else ([],):
        keys = ["scenario", "lot", "financial_year", *level]
        # a rate's error is shared by every cell it is applied to: add it once per rate
        shared = d.groupby([*keys, "rate_id"]).agg(ref=("referrals", "sum"), rel=("rel_var", "first"))
        shared["var_rate"] = shared["ref"] ** 2 * shared["rel"]
        g = d.groupby(keys).agg(
            months=("months", "min"),
            referrals=("referrals", "sum"),
            supported=("supported", "sum"),
            var_fc=("var_fc", "sum"),
            paths_all=("from_paths", "all"),
            paths_any=("from_paths", "any"),
        )
        g["var_rate"] = shared.groupby(keys)["var_rate"].sum()
        g = g.reset_index()
        if not level:
            g["district_code"] = _ALL
        parts.append(g)
    out = pd.concat(parts, ignore_index=True)
    sd = np.sqrt(out["var_fc"] + out["var_rate"])
    for lv in (80, 95):
        out[f"lower_{lv}"] = np.clip(out["referrals"] - _Z[lv] * sd, 0, None)
        out[f"upper_{lv}"] = out["referrals"] + _Z[lv] * sd
    base = "crime forecast x referrals per crime; normal range from the rate's Poisson error and the forecast's "
    out["method"] = np.select(
        [out["paths_all"], out["paths_any"]],
        [
            base + "yearly range from sample-path totals",
            base + "yearly range from sample-path totals where available, else summed monthly limits",
        ],
        base + "summed monthly limits (no sample paths; months taken as perfectly correlated, wide)",
    )
    order = {lot: i for i, lot in enumerate(LOTS)}
    out["_o"] = out["lot"].map(order)
    out["_d"] = out["district_code"] == _ALL
    out["_s"] = out["scenario"].map({name: i for i, name in enumerate(dict.fromkeys(d["scenario"]))})
    out = out.sort_values(["_s", "_o", "financial_year", "_d", "district_code"], kind="stable")
    out = out[
        [
            "scenario",
            "lot",
            "district_code",
            "financial_year",
            "months",
            "referrals",
            "lower_80",
            "upper_80",
            "lower_95",
            "upper_95",
            "supported",
            "method",
        ]
    ].reset_index(drop=True)
    used = set(d["from_paths"])
    how = (
        "the range of the year's total crimes from the forecast's simulated sample paths"
        if used == {True}
        else "the forecast's monthly limits summed over the year (no sample paths; months taken as perfectly "
        "correlated, which is wide)"
        if used == {False}
        else "the range of the year's total crimes from sample paths where the forecast has them, else its "
        "monthly limits summed"
    )
    notes.append(
        f"Ranges combine {how} with the rate's Poisson error; districts and crime groups are summed as independent."
    )
    return LotVolumes(table=out, detail=detail, notes=notes)


def marac_benchmark(
    population: pd.DataFrame, areas: pd.DataFrame | None = None, by: str = "district_code",
    rules: pd.DataFrame | Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Expected MARAC (high-risk domestic abuse) cases from the adult female population, by SafeLives' rules.

    Cases = adult women (16+) x 40 per 10,000 (SafeLives' planning volume) and x 47 per 10,000 (the national
    rate, 12 months to September 2024), with the MARAC administrator FTE at 1 per 400 cases.

    Parameters
    ----------
    population : the canonical population table (``area_code, sex, age_band, population``).
    areas : the areas table, to place small areas in ``by``; if None the total is given.
    by : the areas column to group by.
    rules : planning rules (:func:`planning_rules`), or the area's local figures (``AreaData.parameters``);
        default the shipped rules.

    Returns
    -------
    One row per district and a total ("All"): ``adult_women, marac_cases_recommended, marac_cases_national,
    admin_fte, source``.

    References
    ----------
    SafeLives, MARAC guidance and national MARAC dataset (see ``capacity_planning.csv``).

    Examples
    --------
    >>> pop = pd.DataFrame({"area_code": ["A", "A", "A"], "sex": ["Female", "Female", "Male"],
    ...                     "age_band": ["0-15", "25-34", "25-34"], "population": [500, 10_000, 9_000]})
    >>> marac_benchmark(pop)[["adult_women", "marac_cases_recommended", "admin_fte"]].values.tolist()
    [[10000.0, 40.0, 0.1]]
    """
    _need(population, ["area_code", "sex", "age_band", "population"], "population", "marac_benchmark")
    rules = _rules_from(rules)
    per = _rule(rules, "marac_cases_per_10000_adult_women", "IDVA")
    nat = _rule(rules, "national_marac_rate_per_10000_adult_women", "IDVA")
    admin = _rule(rules, "marac_cases_per_admin_fte", "IDVA")
    adult = [b for b in AGE_BANDS if b != "0-15"]
    women = population[(population["sex"].astype(str) == "Female") & population["age_band"].astype(str).isin(adult)]
    if areas is not None:
        _need(areas, ["area_code", by], "areas", "marac_benchmark")
        women = women.merge(pd.DataFrame(areas)[["area_code", by]], on="area_code", how="left")
        g = women.groupby(by)["population"].sum().astype(float).rename("adult_women").reset_index()
        g = pd.concat([g, pd.DataFrame({by: [_ALL], "adult_women": [g["adult_women"].sum()]})], ignore_index=True)
    else:
        g = pd.DataFrame({"adult_women": [float(women["population"].sum())]})
    g["marac_cases_recommended"] = g["adult_women"] * per["value"] / 10_000
    g["marac_cases_national"] = g["adult_women"] * nat["value"] / 10_000
    g["admin_fte"] = g["marac_cases_recommended"] / admin["value"]
    g["source"] = f"{per['source']}; {nat['source']}; {admin['source']}"
    return g


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


# --------------------------------------------------------------------------------------------------
# Helpline staffing: Erlang B, C and A
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Staffing:
    """Helpline staffing for one interval.

    Attributes
    ----------
    agents : agents answering calls (the minimum meeting the targets, or the number given).
    staff : agents / (1 - shrinkage): staff to schedule, allowing for breaks, training and absence.
    traffic : offered load in Erlangs (calls per second x handling time in seconds).
    occupancy : share of agents' time spent handling calls.
    p_wait : probability a caller waits (is not answered at once).
    service_level : share of callers answered within the target time (Erlang A: of all callers, so callers who
        hang up count as not answered).
    asa_seconds : average speed of answer: mean wait of answered callers (0 for those answered at once).
    p_abandon : share of callers who hang up before answer (0 in Erlang C).
    model : "Erlang C" or "Erlang A".
    """

    agents: int
    staff: float
    traffic: float
    occupancy: float
    p_wait: float
    service_level: float
    asa_seconds: float
    p_abandon: float
    model: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _number(func: str, name: str, value: object, positive: bool = False, share: str | None = None) -> float:
    """``value`` as a float, or a ValueError naming the argument if it is missing, infinite, negative or out of range.

    ``positive``: zero is not allowed either. ``share``: ``"[0, 1)"``, ``"(0, 1)"``, ``"(0, 1]"`` or ``"[0, 1]"``.
    """
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{func}: {name} must be a number, not {value!r}") from None
    if math.isnan(v):
        raise ValueError(f"{func}: {name} is missing (NaN); give a number")
    if math.isinf(v):
        raise ValueError(f"{func}: {name} must be a finite number, not {v}")
    if v < 0:
        raise ValueError(f"{func}: {name} must not be negative, not {v:g}")
    if positive and v == 0:
        raise ValueError(f"{func}: {name} must be positive, not 0")
    if share is not None:
        low_open, high_open = share[0] == "(", share[-1] == ")"
        if (v == 0 and low_open) or v > 1 or (v == 1 and high_open):
            raise ValueError(f"{func}: {name} must be a share in {share} (e.g. 0.8), not {v:g}")
    return v


def erlang_b(traffic: float, servers: int) -> float:
    """Erlang B blocking probability by the stable recurrence ``B(n) = A B(n-1) / (n + A B(n-1))``.

    References
    ----------
    Erlang AK (1917). Solution of some problems in the theory of probabilities of significance in automatic
    telephone exchanges. Elektroteknikeren 13:5-13. The recurrence: e.g. Jagerman DL (1974). Some properties of
    the Erlang loss function. Bell System Technical Journal 53:525-551.

    Examples
    --------
    >>> round(erlang_b(1.0, 1), 6)
    0.5
    >>> 0 < erlang_b(5000.0, 5000) < 1
    True
    """
    traffic = _number("erlang_b", "traffic", traffic)
    servers = _number("erlang_b", "servers", servers)
    b = 1.0
    for n in range(1, int(servers) + 1):
        b = traffic * b / (n + traffic * b)
    return b


def _erlang_c_prob(traffic: float, agents: int) -> float:
    if agents <= traffic:
        return 1.0
    b = erlang_b(traffic, agents)
    return agents * b / (agents - traffic * (1 - b))


def erlang_c_metrics(
    calls_per_hour: float,
    aht_seconds: float,
    agents: int,
    target_answer_seconds: float = 20.0,
    shrinkage: float = 0.0,
    interval_seconds: float = 3600.0,
) -> Staffing:
    """Erlang C performance of a given number of agents (M/M/N queue, callers never hang up).

    ``P(wait) = N B / (N - A (1 - B))`` with ``B`` the Erlang B probability; service level
    ``1 - P(wait) exp(-(N - A) t / AHT)``; average speed of answer ``P(wait) AHT / (N - A)``. With ``N <= A``
    the queue grows without limit: service level 0, waiting probability 1, infinite ASA.

    Examples
    --------
    The Call Centre Helper worked example (100 calls in 30 minutes, 180 s handling, 11 agents, 20 s target):

    >>> s = erlang_c_metrics(200, 180, 11, 20)
    >>> round(s.p_wait, 4), round(s.service_level, 3)
    (0.6821, 0.39)
    """
    f = "erlang_c_metrics"
    calls_per_hour = _number(f, "calls_per_hour", calls_per_hour)
    aht_seconds = _number(f, "aht_seconds", aht_seconds, positive=True)
    _number(f, "agents", agents)
    target_answer_seconds = _number(f, "target_answer_seconds", target_answer_seconds)
    shrinkage = _number(f, "shrinkage", shrinkage, share="[0, 1)")
    interval_seconds = _number(f, "interval_seconds", interval_seconds, positive=True)
    lam = calls_per_hour / interval_seconds
    a = lam * aht_seconds
    n = int(agents)
    if a == 0:
        return Staffing(n, n / (1 - shrinkage), 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, "Erlang C")
    if n <= a:
        return Staffing(n, n / (1 - shrinkage), a, 1.0, 1.0, 0.0, math.inf, 0.0, "Erlang C")
    pw = _erlang_c_prob(a, n)
    sl = 1 - pw * math.exp(-(n - a) * target_answer_seconds / aht_seconds)
    asa = pw * aht_seconds / (n - a)
    return Staffing(n, n / (1 - shrinkage), a, a / n, pw, sl, asa, 0.0, "Erlang C")


def _check(
    calls: float, aht: float, target: float, level: float, shrinkage: float, func: str = "erlang_c", **more: float
) -> None:
    """Check the common inputs of erlang_c and erlang_a; ``more``: further non-negative numbers by name."""
    _number(func, "calls_per_hour", calls)
    _number(func, "aht_seconds", aht, positive=True)
    _number(func, "target_answer_seconds", target)
    _number(func, "service_level", level)
    _number(func, "shrinkage", shrinkage)
    for name, value in more.items():
        _number(func, name, value, positive=name in ("interval_seconds", "patience_seconds"))
    if not 0 < level < 1:
        raise ValueError(f"the service level target must be a share between 0 and 1 (e.g. 0.8), not {level}")
    if not 0 <= shrinkage < 1:
        raise ValueError(f"shrinkage must be a share from 0 to below 1 (e.g. 0.3), not {shrinkage}")


def erlang_c(
    calls_per_hour: float,
    aht_seconds: float,
    target_answer_seconds: float = 20.0,
    service_level: float = 0.8,
    shrinkage: float = 0.3,
    max_occupancy: float | None = None,
    interval_seconds: float = 3600.0,
    min_agents: int = 0,
) -> Staffing:
    """The fewest agents meeting a service-level target, by Erlang C (M/M/N queue).

    Agents are added from just above the offered load until the share answered within
    ``target_answer_seconds`` reaches ``service_level`` (and occupancy is at most ``max_occupancy``, if given).
    Service level rises with every agent added, so the first number found is the minimum: one fewer misses.

    Parameters
    ----------
    calls_per_hour : calls offered in the interval (per ``interval_seconds``, an hour by default).
    aht_seconds : average handling time (talk plus wrap-up), seconds.
    target_answer_seconds, service_level : e.g. 80% of calls answered within 20 seconds.
    shrinkage : share of paid time not available for calls (breaks, training, leave, sickness).
    max_occupancy : upper limit on agent occupancy (e.g. 0.85), to avoid burn-out at high volumes.
    interval_seconds : length of the interval ``calls_per_hour`` refers to.
    min_agents : agents to keep while the line is open, even with no calls.

    Returns
    -------
    :class:`Staffing`.

    References
    ----------
    Erlang AK (1917), Elektroteknikeren 13:5-13. Gans N, Koole G, Mandelbaum A (2003). Telephone call centers:
    tutorial, review, and research prospects. Manufacturing & Service Operations Management 5:79-141.

    Examples
    --------
    The Call Centre Helper worked example: 100 calls in 30 minutes, 3 minutes' handling, 80% in 20 seconds
    needs 14 agents (13 give 79.6%); with 30% shrinkage, 20 staff scheduled:

    >>> s = erlang_c(200, 180, 20, 0.8)
    >>> s.agents, round(s.service_level, 3), round(s.staff, 1)
    (14, 0.888, 20.0)
    """
    _check(
        calls_per_hour,
        aht_seconds,
        target_answer_seconds,
        service_level,
        shrinkage,
        "erlang_c",
        interval_seconds=interval_seconds,
        min_agents=min_agents,
    )
    if max_occupancy is not None:
        _number("erlang_c", "max_occupancy", max_occupancy, share="(0, 1]")
    a = calls_per_hour / interval_seconds * aht_seconds
    n = max(int(math.floor(a)) + 1 if a > 0 else 0, int(min_agents))
    while True:
        s = erlang_c_metrics(calls_per_hour, aht_seconds, n, target_answer_seconds, shrinkage, interval_seconds)
        ok = s.service_level >= service_level and (max_occupancy is None or s.occupancy <= max_occupancy)
        if ok:
            return s
        n += 1


def _erlang_a_states(lam: float, mu: float, theta: float, n: int, tol: float = 1e-14) -> np.ndarray:
    """Stationary distribution of the M/M/N+M birth-death chain, truncated when the tail is negligible.

    ``log p_k = sum_{i <= k} log(lambda / d_i)`` with death rates ``d_i = min(i, N) mu + max(i - N, 0) theta``,
    computed with numpy in blocks (a running sum, as a loop would) and cut at the first ``k > N`` whose death rate
    exceeds ``lambda`` and whose term is below ``tol`` times the largest so far: after it the terms fall
    geometrically.
    """
    if n == 0 and theta <= 0:
        raise ValueError("erlang_a: with no agents, callers must have finite patience")
    log_lam = math.log(lam)
    limit = 10_000_000
    size = max(2 * n + 1024, 4096)
    while True:
        k = np.arange(1, size + 1, dtype=float)
        death = np.minimum(k, n) * mu + np.maximum(k - n, 0) * theta
        logp = np.concatenate([[0.0], np.cumsum(log_lam - np.log(death))])
        top = np.maximum.accumulate(logp)
        stop = (k > n) & (death > lam) & (logp[1:] - top[1:] < math.log(tol))
        hit = np.flatnonzero(stop)
        if hit.size:
            lp = logp[: hit[0] + 2]
            break
        if size >= limit:
            raise ValueError("erlang_a: the queue does not settle; give callers finite patience")
        size = min(4 * size, limit)
    p = np.exp(lp - lp.max())
    return p / p.sum()


def erlang_a_metrics(
    calls_per_hour: float,
    aht_seconds: float,
    agents: int,
    patience_seconds: float,
    target_answer_seconds: float = 20.0,
    shrinkage: float = 0.0,
    interval_seconds: float = 3600.0,
) -> Staffing:
    """Erlang A performance of a given number of agents (M/M/N+M: callers hang up after exponential patience).

    The number of callers in the system is a birth-death chain (arrivals ``lambda``; departures
    ``min(k, N) mu + max(k - N, 0) theta`` with ``theta = 1 / patience``), solved for its stationary
    distribution and truncated where the tail is below 1e-14. By PASTA an arriving caller sees that
    distribution: the probability of waiting is ``P(k >= N)``; of abandoning, the rate of abandonments over the
    arrival rate. A caller who finds ``j`` callers queued ahead is answered once ``j + 1`` places ahead clear, at
    rates ``N mu + i theta``, provided its own patience lasts: the probability of being answered within ``t`` is
    computed for all ``j`` at once by uniformisation of that pure-death chain with the caller's own
    abandonment as a second exit.

    References
    ----------
    Palm C (1943). Intensitatsschwankungen im Fernsprechverkehr. Ericsson Technics 44:1-189. Garnett O,
    Mandelbaum A, Reiman M (2002). Designing a call center with impatient customers. Manufacturing & Service
    Operations Management 4:208-227. Grassmann WK (1977). Transient solutions in Markovian queueing systems.
    Computers & Operations Research 4:47-53 (uniformisation).

    Examples
    --------
    >>> s = erlang_a_metrics(200, 180, 11, patience_seconds=120)
    >>> s.p_abandon > 0, s.service_level > erlang_c_metrics(200, 180, 11).service_level
    (True, True)
    """
    f = "erlang_a_metrics"
    if isinstance(patience_seconds, int | float) and math.isinf(patience_seconds):
        raise ValueError(f"{f}: patience_seconds must be finite (use erlang_c for callers who never hang up)")
    if isinstance(patience_seconds, int | float) and patience_seconds <= 0:
        raise ValueError(f"{f}: patience_seconds must be positive (use erlang_c for callers who never hang up)")
    calls_per_hour = _number(f, "calls_per_hour", calls_per_hour)
    aht_seconds = _number(f, "aht_seconds", aht_seconds, positive=True)
    _number(f, "agents", agents)
    patience_seconds = _number(f, "patience_seconds", patience_seconds, positive=True)
    target_answer_seconds = _number(f, "target_answer_seconds", target_answer_seconds)
    shrinkage = _number(f, "shrinkage", shrinkage, share="[0, 1)")
    interval_seconds = _number(f, "interval_seconds", interval_seconds, positive=True)
    lam = calls_per_hour / interval_seconds
    mu, theta, n = 1 / aht_seconds, 1 / patience_seconds, int(agents)
    a = lam * aht_seconds
    if lam == 0:
        return Staffing(n, n / (1 - shrinkage), 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, "Erlang A")
    p = _erlang_a_states(lam, mu, theta, n)
    k = np.arange(len(p))
    q = np.clip(k - n, 0, None)
    p_wait = float(p[k >= n].sum())
    p_abandon = float((p * q).sum() * theta / lam)
    busy = float((p * np.minimum(k, n)).sum())
    occupancy = busy / n if n else 0.0
    # queued arrivals: position j = callers ahead (0..J); answered-within-t by uniformisation
    start = p[n:].copy() if len(p) > n else np.zeros(1)
    t = float(target_answer_seconds)
    answered_t = _answered_within(start, n * mu, theta, t)
    sl = float(p[:n].sum()) + answered_t
    # a queued caller starting j places back is answered with probability prod_i r_i / (r_i + theta), and then
    # waited a sum of exponentials with rates r_i + theta (r_i = N mu + i theta, i = 0..j)
    j = np.arange(len(start))
    move = n * mu + j * theta
    reach = np.cumprod(move / (move + theta))
    wait_if_answered = np.cumsum(1 / (move + theta))
    answered = float(p[:n].sum() + (start * reach).sum())
    asa = float((start * reach * wait_if_answered).sum() / answered) if answered > 0 else math.inf
    return Staffing(n, n / (1 - shrinkage), a, occupancy, p_wait, sl, asa, p_abandon, "Erlang A")


def _answered_within(start: np.ndarray, n_mu: float, theta: float, t: float) -> float:
    """Probability (weighted by ``start``) that a queued caller is answered within ``t`` before hanging up."""
    m = len(start)
    if start.sum() == 0:
        return 0.0
    j = np.arange(m)
    move = n_mu + j * theta  # rate of moving one place forward (answered from position 0)
    total = move + theta
    big = float(total.max())
    x = big * t
    if x == 0:
        return 0.0
    # uniformisation: probability mass on positions; absorbed mass into "answered" accumulates
    state = start.astype(float).copy()
    answered_by_step = []
    steps = int(x + 10 * math.sqrt(x) + 30)
    stay = 1 - total / big
    fwd = move / big
    answered = 0.0
    for _ in range(steps):
        new = state * stay
        new[:-1] += state[1:] * fwd[1:]
        answered += state[0] * fwd[0]
        state = new
        answered_by_step.append(answered)
    w = _st.poisson.pmf(np.arange(1, steps + 1), x)
    return float(np.dot(w, answered_by_step) + (1 - _st.poisson.cdf(steps, x)) * answered)


def erlang_a(
    calls_per_hour: float,
    aht_seconds: float,
    patience_seconds: float,
    target_answer_seconds: float = 20.0,
    service_level: float = 0.8,
    shrinkage: float = 0.3,
    max_abandon: float | None = None,
    interval_seconds: float = 3600.0,
    min_agents: int = 0,
) -> Staffing:
    """The fewest agents meeting a service-level target when callers hang up (Erlang A, M/M/N+M).

    Service level counts callers answered within the target among all callers (those who hang up count as
    not answered). ``max_abandon`` adds a limit on the share who hang up.

    The search brackets the answer, starting near the offered load and doubling its steps, then bisects: the
    service level rises and the abandonment share falls as agents are added (the queue is stochastically shorter
    with more agents), so the answer is the same as adding agents one at a time from ``min_agents``, in about
    twice log2(answer) evaluations instead of the answer itself. No answer is below ``service_level x A``
    (A the offered load in Erlangs), since answered callers cannot exceed ``N / A`` of all callers.

    References
    ----------
    Palm C (1943), Ericsson Technics 44:1-189. Garnett O, Mandelbaum A, Reiman M (2002). Manufacturing &
    Service Operations Management 4:208-227.

    Examples
    --------
    >>> s = erlang_a(200, 180, patience_seconds=180, target_answer_seconds=20, service_level=0.8)
    >>> s.agents <= erlang_c(200, 180, 20, 0.8).agents
    True
    """
    _check(
        calls_per_hour,
        aht_seconds,
        target_answer_seconds,
        service_level,
        shrinkage,
        "erlang_a",
        patience_seconds=patience_seconds,
        interval_seconds=interval_seconds,
        min_agents=min_agents,
    )
    if max_abandon is not None:
        _number("erlang_a", "max_abandon", max_abandon, share="(0, 1]")
    n = int(min_agents)
    if calls_per_hour == 0:
        return erlang_a_metrics(0, aht_seconds, n, patience_seconds, target_answer_seconds, shrinkage, interval_seconds)
    a = calls_per_hour / interval_seconds * aht_seconds
    seen: dict[int, Staffing] = {}

    def meets(agents: int) -> bool:
        if agents not in seen:
            seen[agents] = erlang_a_metrics(
                calls_per_hour,
                aht_seconds,
                agents,
                patience_seconds,
                target_answer_seconds,
                shrinkage,
                interval_seconds,
            )
        s = seen[agents]
        return s.service_level >= service_level and (max_abandon is None or s.p_abandon <= max_abandon)

    # Lower bound: answered calls per second cannot exceed N / AHT, so the share answered (within the target or
    # not) is at most N / A; so N >= service_level x A, and 1 - p_abandon <= N / A gives N >= (1 - max_abandon) A.
    low = max(n, 1, math.floor(service_level * a) - 1)
    if max_abandon is not None:
        low = max(low, math.floor((1 - max_abandon) * a) - 1)
    # The service level rises and the abandonment share falls as agents are added, so the targets are met from
    # some N on: bracket it from a first guess near the offered load (where evaluations are cheap), then bisect.
    guess = max(low, math.ceil(a))
    if meets(guess):
        ok, step = guess, 1
        while True:
            if ok == low:
                fail = low - 1  # below the bound (or below min_agents): never meets the targets
                break
            down = max(ok - step, low)
            if not meets(down):
                fail = down
                break
            ok, step = down, 2 * step
    else:
        fail, step = guess, 1
        cap = max(low, math.ceil(10 * a) + 1000)
        while not meets(fail + step):
            if fail + step > cap:
                raise ValueError(f"erlang_a: the targets are not met even with {fail + step:,} agents")
            fail, step = fail + step, 2 * step
        ok = fail + step
    while ok - fail > 1:
        mid = (ok + fail) // 2
        if meets(mid):
            ok = mid
        else:
            fail = mid
    return seen[ok]


# --------------------------------------------------------------------------------------------------
# The week
# --------------------------------------------------------------------------------------------------

#: Default opening hours of a victim helpline: (first hour, last hour + 1) per day. An assumption.
DEFAULT_OPEN_HOURS: dict[str, tuple[int, int]] = {
    "Monday": (8, 20),
    "Tuesday": (8, 20),
    "Wednesday": (8, 20),
    "Thursday": (8, 20),
    "Friday": (8, 20),
    "Saturday": (9, 17),
    "Sunday": (0, 0),
}
#: Default share of a week's calls per day (assumption: weekday-heavy, Monday highest).
DEFAULT_DAY_SHARES: dict[str, float] = {
    "Monday": 0.23,
    "Tuesday": 0.20,
    "Wednesday": 0.19,
    "Thursday": 0.18,
    "Friday": 0.15,
    "Saturday": 0.05,
    "Sunday": 0.0,
}


def call_profile(
    calls_per_week: float,
    open_hours: Mapping[str, tuple[int, int]] | None = None,
    day_shares: Mapping[str, float] | None = None,
    hour_weights: Mapping[int, float] | None = None,
) -> pd.DataFrame:
    """Calls per hour of the week from a weekly total, opening hours and a day and hour pattern.

    The defaults are assumptions for a victim helpline: open 8:00-20:00 on weekdays and 9:00-17:00 on
    Saturdays; more calls early in the week; within a day, calls rise to a late-morning peak and ease in the
    evening (``hour_weights`` default ``1 + 0.6 exp(-((h - 11) / 2.5)^2) + 0.3 exp(-((h - 15) / 2)^2)``). Use
    telephony data when the provider has it: pass its own day shares and hour weights.

    Returns
    -------
    168 rows: ``day, hour, open, calls`` (calls in that hour), ``basis``.

    Examples
    --------
    >>> p = call_profile(1000)
    >>> round(float(p["calls"].sum()), 6), int(p["open"].sum())
    (1000.0, 68)
    """
    open_hours = dict(DEFAULT_OPEN_HOURS if open_hours is None else open_hours)
    shares = dict(DEFAULT_DAY_SHARES if day_shares is None else day_shares)
    rows = []
    for day in DAYS:
        first, last = open_hours.get(day, (0, 0))
        hours = list(range(first, last))
        if hour_weights is None:
            w = np.array(
                [1 + 0.6 * math.exp(-(((h - 11) / 2.5) ** 2)) + 0.3 * math.exp(-(((h - 15) / 2) ** 2)) for h in hours]
            )
        else:
            w = np.array([float(hour_weights.get(h, 0.0)) for h in hours])
        w = w / w.sum() if len(w) and w.sum() > 0 else w
        share = shares.get(day, 0.0) if hours else 0.0
        for h in range(24):
            is_open = first <= h < last
            calls = float(share * w[h - first] * calls_per_week) if is_open and len(w) else 0.0
            rows.append((day, h, is_open, calls))
    t = pd.DataFrame(rows, columns=["day", "hour", "open", "calls"])
    total_share = sum(shares.get(d, 0.0) for d in DAYS if open_hours.get(d, (0, 0))[1] > open_hours.get(d, (0, 0))[0])
    if total_share > 0:
        t["calls"] *= 1 / total_share
    t["basis"] = "given" if (day_shares is not None and hour_weights is not None) else "assumed profile"
    return t


@dataclass
class WeeklyStaffing:
    """Agents needed in every hour of the week.

    Attributes
    ----------
    table : ``day, hour, open, calls, agents, staff, occupancy, p_wait, service_level, asa_seconds, p_abandon``.
    model : "Erlang C" or "Erlang A".
    parameters : the targets and assumptions used.
    """

    table: pd.DataFrame
    model: str
    parameters: dict[str, object]

    @property
    def agent_hours(self) -> float:
        """Agent hours on the phones in a week."""
        return float(self.table["agents"].sum())

    @property
    def staff_hours(self) -> float:
        """Paid staff hours a week (agents / (1 - shrinkage))."""
        return float(self.table["staff"].sum())

    def fte(self, contracted_hours: float = 37.0) -> float:
        """Call handler FTE: paid staff hours a week over the contracted hours of one FTE."""
        return self.staff_hours / contracted_hours

    def summary(self) -> str:
        t = self.table[self.table["open"]]
        calls = t["calls"].sum()
        sl = (t["service_level"] * t["calls"]).sum() / calls if calls else float("nan")
        p = self.parameters
        return "\n".join(
            [
                f"Helpline staffing ({self.model})",
                f"Calls a week: {calls:,.0f}; open hours: {len(t)}; handling time {p['aht_seconds']:.0f} s; "
                f"target {100 * p['service_level']:.0f}% within {p['target_answer_seconds']:.0f} s; shrinkage "
                f"{100 * p['shrinkage']:.0f}%",
                f"Agent hours a week: {self.agent_hours:,.0f}; staff hours: {self.staff_hours:,.0f} "
                f"({self.fte():,.1f} FTE at 37 hours)",
                f"Peak agents in an hour: {int(t['agents'].max())}; call-weighted service level {100 * sl:.1f}%",
            ]
        )

    def _repr_html_(self) -> str:
        return f"<pre>{self.summary()}</pre>"

    def plot(self, ax: Axes | None = None, value: str = "agents") -> Axes:
        """Heatmap of agents (or another column) by day and hour, each open cell labelled with its number."""
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        from victimneeds.plotting import page_size

        grid = self.table.pivot(index="day", columns="hour", values=value).reindex(list(DAYS))
        open_grid = self.table.pivot(index="day", columns="hour", values="open").reindex(list(DAYS))
        hours = [h for h in grid.columns if open_grid[h].any()]
        grid, open_grid = grid[hours], open_grid[hours]
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(3.6))
        data = np.where(open_grid.to_numpy(dtype=bool), grid.to_numpy(dtype=float), np.nan)
        im = ax.imshow(data, cmap="viridis", aspect="auto")
        top = np.nanmax(data) if np.isfinite(data).any() else 1
        for i in range(data.shape[0]):
            for j in range(data.shape[1]):
                if np.isfinite(data[i, j]):
                    ax.text(
                        j,
                        i,
                        f"{data[i, j]:.0f}",
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="white" if data[i, j] < 0.6 * top else "black",
                    )
        ax.set_xticks(range(len(hours)), [f"{h:02d}" for h in hours])
        ax.set_yticks(range(len(DAYS)), list(DAYS))
        ax.set_xlabel("Hour starting")
        ax.set_title(f"Helpline agents needed by hour of the week ({self.model})")
        bar = ax.figure.colorbar(im, ax=ax, label="Agents on the phones" if value == "agents" else value,
                                 orientation="horizontal", pad=0.2, shrink=0.6, aspect=30)
        bar.locator = MaxNLocator(integer=True)  # agents come whole: no 1.2 or 1.4 on the scale
        bar.update_ticks()
        ax.grid(False)
        return ax


def weekly_staffing(
    profile: pd.DataFrame,
    aht_seconds: float = 600.0,
    target_answer_seconds: float = 20.0,
    service_level: float = 0.8,
    shrinkage: float = 0.3,
    patience_seconds: float | None = None,
    min_agents: int = 1,
    calls: str = "calls",
) -> WeeklyStaffing:
    """Agents needed in every hour of the week, by Erlang C (or Erlang A with ``patience_seconds``).

    Parameters
    ----------
    profile : calls per hour of the week (from :func:`call_profile`), columns ``day, hour, open`` and ``calls``.
    aht_seconds : average handling time; default 600 s (an assumption: victim calls are long).
    target_answer_seconds, service_level, shrinkage : as in :func:`erlang_c`.
    patience_seconds : mean time callers wait before hanging up; given, Erlang A is used.
    min_agents : agents on the line in every open hour, however few the calls.

    Examples
    --------
    >>> w = weekly_staffing(call_profile(700), aht_seconds=300)
    >>> int(w.table.loc[~w.table["open"], "agents"].sum()), int(w.table["agents"].min())
    (0, 0)
    """
    _need(profile, ["day", "hour", "open", calls], "call profile", "weekly_staffing")
    rows = []
    for r in profile.itertuples(index=False):
        c = float(getattr(r, calls))
        if not r.open:
            s = Staffing(0, 0.0, 0.0, 0.0, 0.0, float("nan"), 0.0, 0.0, "closed")
        elif patience_seconds is None:
            s = erlang_c(c, aht_seconds, target_answer_seconds, service_level, shrinkage, min_agents=min_agents)
        else:
            s = erlang_a(
                c, aht_seconds, patience_seconds, target_answer_seconds, service_level, shrinkage, min_agents=min_agents
            )
        rows.append(
            {
                "day": r.day,
                "hour": r.hour,
                "open": bool(r.open),
                "calls": c,
                **{k: v for k, v in s.to_dict().items() if k not in ("model", "traffic")},
            }
        )
    t = pd.DataFrame(rows)
    model = "Erlang C" if patience_seconds is None else "Erlang A"
    params = dict(
        aht_seconds=aht_seconds,
        target_answer_seconds=target_answer_seconds,
        service_level=service_level,
        shrinkage=shrinkage,
        patience_seconds=patience_seconds,
        min_agents=min_agents,
    )
    return WeeklyStaffing(table=t, model=model, parameters=params)


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


# --------------------------------------------------------------------------------------------------
# The specification
# --------------------------------------------------------------------------------------------------


def specification(
    volumes: LotVolumes,
    fte_table: pd.DataFrame,
    costs: pd.DataFrame,
    financial_year: str | None = None,
    scenario: str = "baseline",
) -> pd.DataFrame:
    """One row per lot for a tender: referrals, FTE, contract value with 95% ranges, and current funding.

    Examples
    --------
    >>> v = LotVolumes(pd.DataFrame({"scenario": "baseline", "lot": ["ISVA"], "district_code": "All",
    ...     "financial_year": "2025/26", "months": 12, "referrals": [120.0], "lower_80": [110.0], "upper_80": [130.0],
    ...     "lower_95": [100.0], "upper_95": [140.0], "supported": [70.0], "method": "m"}), pd.DataFrame())
    >>> f = fte(v)
    >>> c = cost(f, salaries={"ISVA": 30_000})
    >>> specification(v, f, c)[["lot", "referrals", "fte"]].values.tolist()
    [['ISVA', 120.0, 2.0]]
    """
    vt = volumes.totals(scenario)
    fy = financial_year or vt["financial_year"].min()
    v = vt[vt["financial_year"] == fy]
    f = fte_table[
        (fte_table["district_code"] == _ALL) & (fte_table["financial_year"] == fy) & (fte_table["scenario"] == scenario)
    ]
    fsum = f.groupby("lot")[["fte", "fte_lower_95", "fte_upper_95"]].sum()
    c = costs[(costs["financial_year"] == fy) & (costs["scenario"] == scenario)].set_index("lot")
    out = (
        v[["lot", "financial_year", "referrals", "lower_95", "upper_95", "supported"]]
        .rename(columns={"lower_95": "referrals_lower_95", "upper_95": "referrals_upper_95"})
        .copy()
    )
    out["caseworker_fte"] = out["lot"].map(fsum["fte"])
    out["fte"] = out["lot"].map(c["fte"])
    out["fte_lower_95"] = out["lot"].map(fsum["fte_lower_95"]) + (out["fte"] - out["caseworker_fte"])
    out["fte_upper_95"] = out["lot"].map(fsum["fte_upper_95"]) + (out["fte"] - out["caseworker_fte"])
    for col in (
        "contract_value",
        "contract_lower_95",
        "contract_upper_95",
        "current_funding",
        "current_fte",
        "funding_gap",
    ):
        out[col] = out["lot"].map(c[col]) if col in c else np.nan
    out["rule"] = out["lot"].map(f.drop_duplicates("lot").set_index("lot")["rule"])
    out["basis"] = out["lot"].map(f.drop_duplicates("lot").set_index("lot")["basis"])
    return out.drop(columns=["caseworker_fte"]).reset_index(drop=True)


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "not known"
    step = 10 if x >= 1_000 else 1
    return f"{int(round(x / step) * step):,}"


def _money(x: float) -> str:
    if not np.isfinite(x):
        return "not known"
    return f"GBP {x / 1_000_000:,.2f}m" if abs(x) >= 1_000_000 else f"GBP {round(x / 1_000):,.0f}k"


def sentences(spec: pd.DataFrame) -> list[str]:
    """Plain-words sentences for the specification, one per lot, generated from the numbers.

    Referrals of 1,000 or more are rounded to the nearest 10; money to the nearest thousand pounds.

    Examples
    --------
    >>> spec = pd.DataFrame({"lot": ["ISVA"], "financial_year": ["2026/27"], "referrals": [1243.0],
    ...                      "referrals_lower_95": [1088.0], "referrals_upper_95": [1401.0], "fte": [20.7],
    ...                      "fte_lower_95": [18.1], "fte_upper_95": [23.4], "contract_value": [812_000.0],
    ...                      "current_funding": [78_000.0]})
    >>> print(sentences(spec)[0])  # doctest: +NORMALIZE_WHITESPACE
    Expected referrals to the ISVA service in 2026/27: 1,240 (95% range 1,090-1,400), needing 20.7 FTE
    (18.1-23.4) at a contract value of about GBP 812k a year, against GBP 78k funded now.
    """
    out = []
    for r in spec.to_dict("records"):
        text = (
            f"Expected referrals to the {r['lot']} service in {r['financial_year']}: {_fmt(r['referrals'])} "
            f"(95% range {_fmt(r['referrals_lower_95'])}-{_fmt(r['referrals_upper_95'])})"
        )
        if "fte" in r and np.isfinite(r["fte"]):
            text += f", needing {r['fte']:.1f} FTE ({r['fte_lower_95']:.1f}-{r['fte_upper_95']:.1f})"
        if "contract_value" in r and np.isfinite(r.get("contract_value", np.nan)):
            text += f" at a contract value of about {_money(r['contract_value'])} a year"
            cur = r.get("current_funding", np.nan)
            if cur is not None and np.isfinite(cur):
                text += f", against {_money(cur)} funded now"
        out.append(text + ".")
    return out
