"""Area profile: who lives in the area, how deprived it is, what crime is recorded, and how good the data are.

The tables behind notebook 00. Each function takes an :class:`~victimneeds.datamodel.AreaData` and returns a
tidy DataFrame; none changes its input.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from victimneeds import stats
from victimneeds.datamodel import AreaData
from victimneeds.periods import complete_years, financial_year

AREA_TOTAL = "Area total"


def _require(data: AreaData, table: str) -> pd.DataFrame:
    value = getattr(data, table)
    if value is None:
        raise ValueError(f"{data.name} has no {table} table, which this part of the profile needs.")
    return value


def population_by_district(data: AreaData) -> pd.DataFrame:
    """Residents by district: total, share female, share aged 0-15 and 65+, small areas, share most deprived.

    "Most deprived" means living in a small area in IMD deciles 1-2 (the most deprived 20% nationally).
    An "Area total" row closes the table.
    """
    areas = pd.DataFrame(data.areas.drop(columns="geometry", errors="ignore"))
    keys = ["district_code", "district_name"]
    base = areas.groupby(keys, observed=True).agg(
        small_areas=("area_code", "size"), residents=("population", "sum")
    )
    deprived = areas.assign(_d=areas["population"].where(areas["imd_decile"] <= 2, 0)).groupby(keys)["_d"].sum()
    out = base.assign(most_deprived=deprived)
    if data.population is not None:
        pop = data.population.merge(areas[["area_code", *keys]], on="area_code", how="left")
        female = pop[pop["sex"] == "Female"].groupby(keys)["population"].sum()
        child = pop[pop["age_band"] == "0-15"].groupby(keys)["population"].sum()
        older = pop[pop["age_band"].isin(["65-74", "75+"])].groupby(keys)["population"].sum()
        out = out.assign(female=female, aged_0_15=child, aged_65_plus=older)
    total = out.sum(numeric_only=True).to_frame().T
    total.index = pd.MultiIndex.from_tuples([("", AREA_TOTAL)], names=keys)
    out = pd.concat([out, total])
    shares = {"most_deprived": "pct_most_deprived", "female": "pct_female", "aged_0_15": "pct_aged_0_15",
              "aged_65_plus": "pct_aged_65_plus"}
    for col, pct in shares.items():
        if col in out:
            out[pct] = (100 * out[col] / out["residents"]).round(1)
    out = out.drop(columns=[c for c in shares if c in out]).reset_index()
    for col in ("small_areas", "residents"):
        out[col] = out[col].astype("int64")
    return out


def population_by_age_sex(data: AreaData) -> pd.DataFrame:
    """Residents of the whole area by sex and age band (long form)."""
    pop = _require(data, "population")
    return pop.groupby(["sex", "age_band"], observed=False, as_index=False)["population"].sum()


def deprivation_profile(data: AreaData) -> pd.DataFrame:
    """Residents by IMD decile (1 = most deprived 10% of England) and district, as counts and % of district."""
    areas = pd.DataFrame(data.areas.drop(columns="geometry", errors="ignore"))
    table = areas.pivot_table(index="imd_decile", columns="district_name", values="population", aggfunc="sum",
                              fill_value=0)
    table = table.reindex(range(1, 11), fill_value=0)
    table.index.name = "imd_decile"
    return table.reset_index()


#: Crime groups that exist only where a flag marks them (police.uk types alone cannot tell them apart).
FLAGGED_GROUPS: dict[str, str] = {
    "Domestic abuse": "is_domestic_abuse",
    "Sexual violence": "is_sexual_offence",
    "Hate crime": "is_hate",
}


def unidentifiable_groups(crimes: pd.DataFrame) -> list[str]:
    """Crime groups that the data cannot identify, because the flag that marks them is absent or all missing.

    Public police.uk data carry no domestic-abuse, sexual-offence or hate flag, so those crimes sit inside
    "Violence" and "Other"; a table showing zero domestic abuse would mislead, so such groups are left out.

    Examples
    --------
    >>> c = pd.DataFrame({"is_domestic_abuse": pd.array([True, None], dtype="boolean"),
    ...                   "is_hate": pd.array([None, None], dtype="boolean")})
    >>> unidentifiable_groups(c)
    ['Sexual violence', 'Hate crime']
    """
    def flagged(flag: str) -> bool:
        return flag in crimes.columns and bool(crimes[flag].notna().any())

    def present(group: str) -> bool:  # a loader may have marked the group some other way
        return "crime_group" in crimes.columns and bool((crimes["crime_group"] == group).any())

    return [group for group, flag in FLAGGED_GROUPS.items() if not flagged(flag) and not present(group)]


def not_available_sentence(groups: list[str], what: str = "") -> str:
    """The sentence a section writes for crime groups its data cannot identify ('' when there are none).

    Examples
    --------
    >>> not_available_sentence(["Domestic abuse", "Hate crime"], "recorded ")[:52]
    'Not available: recorded Domestic abuse, Hate crime. '
    """
    if not groups:
        return ""
    return (f"Not available: {what}{', '.join(groups)}. These crime data (police.uk) carry no domestic-abuse or "
            "sexual-offence flag, so those crimes are counted inside Violence and Other; supply a force extract "
            "with the flags to count them.")


def crimes_by_year(data: AreaData) -> pd.DataFrame:
    """Recorded crimes and incidents by financial year and crime group, complete years only (wide).

    Partial years at the start or end of the series are left out (and said so in the notebook), so years
    compare like with like. Groups the data cannot identify (see :func:`unidentifiable_groups`) are left out.
    """
    crimes = _require(data, "crimes")
    fy = financial_year(crimes["month"])
    years = complete_years(crimes["month"])
    table = (crimes.assign(financial_year=fy)[fy.isin(years)]
             .pivot_table(index="crime_group", columns="financial_year", values="crime_id", aggfunc="count",
                          observed=False, fill_value=0))
    table.columns.name = None
    table = table.drop(index=unidentifiable_groups(crimes), errors="ignore")
    return table.reset_index()


def latest_year(data: AreaData) -> tuple[pd.Period, pd.Period]:
    """The last 12 months of the crime series (first and last month)."""
    crimes = _require(data, "crimes")
    last = crimes["month"].max()
    return last - 11, last


def crime_rates(data: AreaData, by: str = "district", crime_group: str | None = None) -> pd.DataFrame:
    """Recorded crimes in the last 12 months and the rate per 1,000 residents, with exact Poisson intervals.

    Parameters
    ----------
    by : ``"district"`` or ``"area"`` (small area).
    crime_group : one crime group, or None for all crime (ASB excluded, as it is not crime).

    Crimes with no small area (not located) cannot be placed and are left out of the district rates; the
    count of them is reported by :func:`data_quality`.
    """
    crimes = _require(data, "crimes")
    first, last = latest_year(data)
    sel = crimes[(crimes["month"] >= first) & (crimes["month"] <= last)]
    if crime_group is None:
        sel = sel[sel["crime_group"] != "Anti-social behaviour"]
    else:
        sel = sel[sel["crime_group"] == crime_group]
    areas = pd.DataFrame(data.areas.drop(columns="geometry", errors="ignore"))
    if by == "district":
        keys = ["district_code", "district_name"]
        denom = areas.groupby(keys, as_index=False)["population"].sum()
        counts = (sel[["area_code"]].merge(areas[["area_code", *keys]], on="area_code", how="inner")
                  .groupby(keys).size().rename("crimes").reset_index())
    elif by == "area":
        keys = ["area_code"]
        denom = areas[["area_code", "population"]]
        counts = sel.groupby("area_code").size().rename("crimes").reset_index()
    else:
        raise ValueError(f"by must be 'district' or 'area', not {by!r}")
    table = denom.merge(counts, on=keys, how="left").fillna({"crimes": 0})
    table["crimes"] = table["crimes"].astype("int64")
    return stats.rate(table, x="crimes", denominator="population", multiplier=1000)


def monthly_counts(data: AreaData, by: str | Sequence[str] = "crime_group") -> pd.DataFrame:
    """Recorded crimes and incidents per month, by ``by`` (long form, months with none filled with 0).

    Every month of the data period appears for every combination of the ``by`` values seen (a month with no
    crimes in a small district is a 0, not a gap: forecasts and trends would otherwise read it as missing and
    over-state small series).

    Examples
    --------
    >>> import victimneeds as vn
    >>> data = vn.load("example")
    >>> t = monthly_counts(data, by=["district_code", "crime_group"])
    >>> len(t) == 72 * t["district_code"].nunique() * t["crime_group"].nunique()
    True
    """
    crimes = _require(data, "crimes")
    keys = [by] if isinstance(by, str) else list(by)
    counts = crimes.groupby(["month", *keys], observed=True).size().rename("count")
    months = pd.period_range(data.period[0], data.period[1], freq="M") if data.period else None
    levels = [months if months is not None else counts.index.get_level_values(0).unique()]
    for key in keys:
        column = crimes[key]
        values = column.cat.categories if isinstance(column.dtype, pd.CategoricalDtype) else column.dropna().unique()
        levels.append(pd.Index(values, name=key))
    grid = pd.MultiIndex.from_product(levels, names=["month", *keys])
    full = counts.reindex(grid, fill_value=0).rename("count").reset_index()
    for key in keys:
        if isinstance(crimes[key].dtype, pd.CategoricalDtype):
            full[key] = pd.Categorical(full[key], categories=crimes[key].cat.categories)
    return full


def data_quality(data: AreaData) -> pd.DataFrame:
    """One row per table and key column: rows, missing values and their share.

    Loader reports held in ``data.quality`` (rows read, kept and dropped, and why) are shown as they are by
    the notebook; this table adds the completeness of the columns analyses rely on.
    """
    key_columns = {
        "areas": ["area_code", "district_code", "population", "imd_decile", "geometry"],
        "crimes": ["month", "area_code", "crime_type", "victim_identified", "victim_sex", "victim_age_band",
                   "victim_ethnicity", "needs_assessment_done", "outcome"],
        "referrals": ["referral_date", "district_code", "victim_ethnicity", "need_identified",
                      "first_contact_date", "support_level"],
        "services": ["annual_funding", "districts_served", "capacity_fte"],
        "survey": ["response_date", "satisfied_whole_experience", "weight"],
    }
    rows = []
    for name, columns in key_columns.items():
        table = getattr(data, name)
        if table is None:
            rows.append({"table": name, "column": "(table not supplied)", "rows": 0, "missing": 0,
                         "pct_missing": np.nan})
            continue
        for col in columns:
            if col not in table.columns:
                continue
            missing = int(table[col].isna().sum())
            rows.append({"table": name, "column": col, "rows": len(table), "missing": missing,
                         "pct_missing": round(100 * missing / len(table), 1) if len(table) else np.nan})
    return pd.DataFrame(rows).astype({"rows": "int64", "missing": "int64"})
