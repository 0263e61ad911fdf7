"""Expected referrals per lot, district and financial year, from the demand forecast and the referral rates.

Part of :mod:`victimneeds.capacity`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from victimneeds.capacity.rules import (
    _ALL,
    _Z,
    _need,
    _rule,
    _rules_from,
)
from victimneeds.datamodel import AGE_BANDS, LOTS
from victimneeds.forecast import ForecastResult, ScenarioResult
from victimneeds.periods import financial_year

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
        the GLM's summed monthly 80% / 95% limits 81.5-82.9% / 93.3-95.0% of the time, and inside its path-total
        ranges 64.7-68.8% / 83.5-83.7% (the months' errors are more alike than the GLM's paths assume), so the
        summed limits stay the default for the GLM.

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
