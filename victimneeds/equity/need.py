"""Need: the need index by district or small area, and its sensitivity to the weights.

Part of :mod:`victimneeds.equity`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from victimneeds.datamodel import AGE_BANDS, SEXES, AreaData
from victimneeds.periods import complete_years
from victimneeds.plotting import PALETTE, legend_below, page_size

#: Default need-index weights (sum to 1) when no demand estimates are given. Recorded victims carry half
#: the weight because they are the people services support; deprivation (population weighted by IMD score)
#: 0.3 because victimisation, repeat victimisation and unmet need concentrate in deprived places; residents
#: 0.2 so that every district's population earns a share of the minimum standard. They are policy choices,
#: not estimates: :func:`need_sensitivity` shows what other choices would change.
DEFAULT_WEIGHTS: dict[str, float] = {"recorded_victims": 0.5, "deprivation": 0.3, "population": 0.2}

#: Default weights when a demand table (estimated victims, including those who never report) is given:
#: recorded and estimated victims share the victims' half between them.
DEFAULT_WEIGHTS_WITH_DEMAND: dict[str, float] = {
    "recorded_victims": 0.25,
    "estimated_victims": 0.25,
    "deprivation": 0.3,
    "population": 0.2,
}

#: Alternative weight sets for the sensitivity table.
ALTERNATIVE_WEIGHTS: dict[str, dict[str, float]] = {
    "victims only": {"recorded_victims": 1.0},
    "population only": {"population": 1.0},
    "equal thirds": {"recorded_victims": 1 / 3, "deprivation": 1 / 3, "population": 1 / 3},
    "victims-led": {"recorded_victims": 0.7, "deprivation": 0.2, "population": 0.1},
    "deprivation-led": {"recorded_victims": 0.3, "deprivation": 0.5, "population": 0.2},
}

_COMPONENTS = ("recorded_victims", "estimated_victims", "deprivation", "population")
_COMPONENT_WORDS = {
    "recorded_victims": "recorded victims",
    "estimated_victims": "estimated victims (demand table)",
    "deprivation": "deprivation-weighted residents (residents x IMD score)",
    "population": "residents",
}
_LEVELS = {
    "district": ["district_code", "district_name"],
    "area": ["area_code", "area_name", "district_code", "district_name"],
}


class AllocationError(ValueError):
    """The allocation's constraints cannot all hold (e.g. the floors add up to more than the budget)."""


def _money(x: float) -> str:
    return f"£{x:,.0f}"


def _plain_areas(data: AreaData) -> pd.DataFrame:
    return pd.DataFrame(data.areas.drop(columns="geometry", errors="ignore"))


def _keys(level: str) -> list[str]:
    if level not in _LEVELS:
        raise ValueError(f"level must be 'district' or 'area', not {level!r}")
    return _LEVELS[level]


# --------------------------------------------------------------------------------------------------
# Need
# --------------------------------------------------------------------------------------------------


def recorded_victims(
    data: AreaData,
    level: str = "district",
    year: str | None = None,
    harm_weights: Mapping[str, float] | None = None,
    harm_column: str = "crime_group",
) -> pd.DataFrame:
    """Recorded victims per district (or small area) in one complete financial year.

    A recorded victim is a crime with an identified victim (``victim_identified`` true). Where the crimes
    table carries no victim flag at all (public police.uk data), every crime except anti-social behaviour
    counts, and the ``method`` column says so. With ``harm_weights`` (crime group or type -> weight, e.g.
    from the Cambridge Crime Harm Index) each victim counts by the harm of the crime.

    Parameters
    ----------
    data : the area; needs ``crimes`` and ``areas``.
    level : ``"district"`` or ``"area"`` (small area).
    year : financial year label such as ``"2024/25"``; default the last complete one.
    harm_weights : optional weights by ``harm_column`` value; crimes whose value has no weight raise.
    harm_column : ``"crime_group"`` or ``"crime_type"``.

    Returns
    -------
    DataFrame with the level's key columns, ``recorded_victims`` (victims, or harm-weighted victims),
    ``victims_count`` (unweighted), ``financial_year`` and ``method``. Districts with no victims show 0.

    Examples
    --------
    >>> import victimneeds as vn
    >>> area = vn.datasets.load_example()
    >>> v = recorded_victims(area)
    >>> v[["district_name", "financial_year"]].iloc[0].tolist()
    ['Northmoor City', '2024/25']
    """
    if data.crimes is None:
        raise ValueError(f"{data.name} has no crimes table, which the need index needs.")
    keys = _keys(level)
    crimes = data.crimes
    years = complete_years(crimes["month"])
    if not years:
        raise ValueError(f"The crimes table of {data.name} has no complete financial year (April to March).")
    year = year or years[-1]
    if year not in years:
        raise ValueError(f"Financial year {year!r} is not complete in the crimes table; complete years: {years}")
    start = pd.Period(f"{year[:4]}-04", "M")
    months = crimes["month"]
    in_year = crimes[((months >= start) & (months <= start + 11)).to_numpy(dtype=bool)]
    flag = in_year["victim_identified"] if "victim_identified" in in_year else None
    if flag is not None and flag.notna().any():
        chosen = in_year[flag.fillna(False).to_numpy(dtype=bool)]
        method = "crimes with an identified victim"
    else:
        chosen = in_year[in_year["crime_type"].astype(str) != "Anti-social behaviour"]
        method = "crimes excluding ASB (no victim flag in the data: every crime taken to have a victim)"
    if harm_weights is not None:
        values = chosen[harm_column].astype(str)
        missing = sorted(set(values) - set(harm_weights))
        if missing:
            raise ValueError(
                f"harm_weights has no weight for {harm_column} values {missing[:5]}; give one for "
                f"every value present in the crimes table."
            )
        weight = values.map(dict(harm_weights)).astype(float).to_numpy()
        method += f"; weighted by crime harm ({harm_column})"
    else:
        weight = np.ones(len(chosen))
    key = keys[0]
    unlocated = int(chosen[key].isna().sum())
    if unlocated:
        method += f"; {unlocated:,} crimes with no {key} not counted"
    frame = pd.DataFrame({key: chosen[key].to_numpy(), "w": weight})
    agg = frame.groupby(key).agg(recorded_victims=("w", "sum"), victims_count=("w", "size"))
    base = _plain_areas(data)[keys].drop_duplicates(subset=key).set_index(key)
    out = base.join(agg, how="left").fillna({"recorded_victims": 0.0, "victims_count": 0})
    out["victims_count"] = out["victims_count"].astype("int64")
    if harm_weights is None:
        out["recorded_victims"] = out["recorded_victims"].astype("int64")
    return out.reset_index().assign(financial_year=year, method=method)


def _age_sex_weighted_population(data: AreaData, weights: Mapping[Any, float], key: str) -> pd.Series:
    if data.population is None:
        raise ValueError(f"{data.name} has no population by age and sex, so age_sex_weights cannot be used.")
    pop = data.population.merge(_plain_areas(data)[["area_code", "district_code"]], on="area_code", how="left")
    band = pop["age_band"].astype(str)
    sex = pop["sex"].astype(str)
    w = np.full(len(pop), np.nan)
    for k, v in weights.items():
        if isinstance(k, tuple):
            s, a = k
            if s not in SEXES or a not in AGE_BANDS:
                raise ValueError(f"age_sex_weights key {k!r} is not a (sex, age band) pair of {SEXES} x {AGE_BANDS}")
            w[(sex == s).to_numpy() & (band == a).to_numpy()] = v
        elif k in AGE_BANDS:
            w[(band == k).to_numpy() & np.isnan(w)] = v
        else:
            raise ValueError(f"age_sex_weights key {k!r} is neither an age band {AGE_BANDS} nor a (sex, age band) pair")
    if np.isnan(w).any():
        gaps = sorted(set(zip(sex[np.isnan(w)], band[np.isnan(w)], strict=True)))
        raise ValueError(f"age_sex_weights gives no weight for {gaps[:4]}; give every age band (or sex and band).")
    return pd.Series(pop["population"].to_numpy() * w).groupby(pop[key].to_numpy()).sum()


@dataclass
class NeedIndex:
    """A composite need index: the table, the weights used and how each component was measured.

    ``table`` has, per unit, the raw components, their shares of the area total (``share_<component>``),
    ``need_share`` (the weighted sum of shares: it sums to 1), ``need_index`` (need per resident relative to
    the area, 100 = area average) and ``method``.
    """

    table: pd.DataFrame
    weights: dict[str, float]
    level: str
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        w = ", ".join(f"{_COMPONENT_WORDS[k]} {v:.0%}" for k, v in self.weights.items())
        label = "district_name" if self.level == "district" else "area_code"
        lines = [f"Need index by {self.level} (weights: {w})"]
        for row in self.table.sort_values("need_index", ascending=False).head(10).itertuples():
            lines.append(f"  {getattr(row, label):<24} need share {row.need_share:6.1%}  index {row.need_index:6.1f}")
        return "\n".join(lines + [f"Note: {n}" for n in self.notes])

    def _repr_html_(self) -> str:
        return "<pre>" + self.summary() + "</pre>"

    def plot(self, ax: Axes | None = None) -> Axes:
        """Bar chart of the need index (100 = area average need per resident)."""
        t = self.table.sort_values("need_index")
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(min(0.35 * len(t) + 1.6, 8.0)))
        label = "district_name" if self.level == "district" else "area_code"
        ax.barh(t[label].astype(str), t["need_index"], color=PALETTE[0])
        ax.axvline(100, color="black", linestyle="--", linewidth=1, label="Area average")
        ax.set_xlabel("Need per resident (100 = area average)")
        ax.set_title("Need index")
        legend_below(ax)
        return ax


def _check_weights(weights: Mapping[str, float], columns: Any = None) -> dict[str, float]:
    weights = {k: float(v) for k, v in weights.items() if float(v) != 0.0}
    unknown = sorted(set(weights) - set(_COMPONENTS))
    if unknown:
        raise ValueError(f"need-index weights name unknown components {unknown}; allowed: {list(_COMPONENTS)}")
    if any(v < 0 for v in weights.values()):
        raise ValueError(f"need-index weights must not be negative: {weights}")
    if not np.isclose(sum(weights.values()), 1.0, atol=1e-9):
        raise ValueError(f"need-index weights must add up to 1; these add up to {sum(weights.values()):.4f}")
    if columns is not None:
        absent = [k for k in weights if f"share_{k}" not in columns]
        if absent:
            raise ValueError(f"need-index weights use components with no data here: {absent}")
    return weights


def need_index(
    data: AreaData,
    demand: pd.DataFrame | None = None,
    weights: Mapping[str, float] | None = None,
    level: str = "district",
    year: str | None = None,
    harm_weights: Mapping[str, float] | None = None,
    age_sex_weights: Mapping[Any, float] | None = None,
    demand_column: str = "estimated_victims",
) -> NeedIndex:
    """A composite need index per district (or small area), in the manner of NHS weighted capitation.

    Each component is turned into a share of the area total; the need share is the weighted sum of shares,
    so need shares sum to 1 and can be used directly as target funding shares. The need index is the need
    share over the population share, times 100: a district with index 130 has 30% more need per resident
    than the area as a whole.

    Components (weights must be non-negative and sum to 1):

    - ``recorded_victims``: victims recorded in the last complete financial year (see
      :func:`recorded_victims`), optionally harm-weighted with ``harm_weights``;
    - ``estimated_victims``: from ``demand`` (one row per district or small area with ``demand_column``),
      the estimate of all victims including those who never report (hidden demand);
    - ``deprivation``: residents times their small area's IMD score, summed (deprivation-weighted residents);
    - ``population``: residents, or residents weighted by age and sex with ``age_sex_weights`` (age band,
      or (sex, age band) -> relative weight, e.g. victimisation rates by age).

    Defaults are :data:`DEFAULT_WEIGHTS`, or :data:`DEFAULT_WEIGHTS_WITH_DEMAND` when ``demand`` is given.

    Parameters
    ----------
    data : the area (``areas`` and ``crimes`` needed; ``population`` for ``age_sex_weights``).
    demand : optional estimated victims per unit (columns: the level's code and ``demand_column``).
    weights : component -> weight.
    level : ``"district"`` or ``"area"``.
    year : financial year of recorded victims; default the last complete one.
    harm_weights : crime group -> harm weight (see :func:`recorded_victims`).
    age_sex_weights : weights for the population component.
    demand_column : the column of ``demand`` holding estimated victims.

    Returns
    -------
    NeedIndex

    References
    ----------
    NHS England (2019). Technical guide to allocation formulae and pace of change.
    Sherman, L., Neyroud, P. & Neyroud, E. (2016). The Cambridge Crime Harm Index. Policing 10(3), 171-183.

    Examples
    --------
    >>> import victimneeds as vn
    >>> area = vn.datasets.load_example()
    >>> need = need_index(area)
    >>> round(float(need.table["need_share"].sum()), 6)
    1.0
    >>> need.table.sort_values("need_index").iloc[-1]["district_name"]
    'Northmoor City'
    """
    keys = _keys(level)
    key = keys[0]
    if weights is None:
        weights = DEFAULT_WEIGHTS_WITH_DEMAND if demand is not None else DEFAULT_WEIGHTS
    weights = _check_weights(weights)
    if "estimated_victims" in weights and demand is None:
        raise ValueError("weights include 'estimated_victims' but no demand table was given.")
    areas = _plain_areas(data)
    table = recorded_victims(data, level=level, year=year, harm_weights=harm_weights)
    methods = [f"recorded victims {table['financial_year'].iloc[0]}: {table['method'].iloc[0]}"]
    table = table.drop(columns=["method", "financial_year"]).set_index(key)
    table["population"] = areas.groupby(key)["population"].sum()
    imd = areas["imd_score"]
    missing_imd = int(imd.isna().sum())
    dep = (areas["population"] * imd.fillna(imd.mean())).groupby(areas[key]).sum()
    table["deprivation"] = dep
    if missing_imd:
        methods.append(f"{missing_imd} small areas with no IMD score given the area mean score")
    if age_sex_weights is not None:
        table["population_weighted"] = _age_sex_weighted_population(data, age_sex_weights, key)
        methods.append("residents weighted by age and sex")
    if demand is not None:
        for col in (key, demand_column):
            if col not in demand.columns:
                raise ValueError(f"the demand table has no column {col!r} (columns: {list(demand.columns)})")
        d = demand.groupby(key)[demand_column].sum()
        extra = sorted(set(d.index) - set(table.index))
        if extra:
            raise ValueError(f"the demand table has {key} values not in the areas table: {extra[:5]}")
        table["estimated_victims"] = d.reindex(table.index).fillna(0.0)
        absent = int(d.reindex(table.index).isna().sum())
        if absent:
            methods.append(f"{absent} units missing from the demand table counted as 0 estimated victims")
    source_col = {
        "recorded_victims": "recorded_victims",
        "estimated_victims": "estimated_victims",
        "deprivation": "deprivation",
        "population": "population_weighted" if age_sex_weights is not None else "population",
    }
    need = np.zeros(len(table))
    for comp in _COMPONENTS:
        if comp not in table and comp != "population":
            continue
        col = source_col[comp]
        total = float(table[col].sum())
        share = table[col] / total if total > 0 else table[col] * 0.0
        table[f"share_{comp}"] = share
        if comp in weights:
            if total <= 0:
                raise ValueError(f"the need-index component {comp!r} is zero everywhere, so it cannot be weighted")
            need = need + weights[comp] * share.to_numpy()
    table["need_share"] = need
    pop_share = table["population"] / table["population"].sum()
    table["need_index"] = np.where(pop_share > 0, 100 * table["need_share"] / pop_share.where(pop_share > 0, 1), np.nan)
    w = ", ".join(f"{k} {v:.2f}" for k, v in weights.items())
    table["method"] = f"weighted sum of shares ({w}); " + "; ".join(methods)
    return NeedIndex(table.reset_index(), dict(weights), level, notes=methods)


def need_sensitivity(
    data: AreaData,
    demand: pd.DataFrame | None = None,
    alternatives: Mapping[str, Mapping[str, float]] | None = None,
    level: str = "district",
    **kwargs: Any,
) -> pd.DataFrame:
    """Need shares under the default weights and alternatives: how robust is each district's share?

    Returns one row per unit with ``need_share`` under each weight set (columns named after the set,
    in per cent), the smallest and largest share and the spread in percentage points.

    Examples
    --------
    >>> import victimneeds as vn
    >>> s = need_sensitivity(vn.datasets.load_example())
    >>> list(s.columns[2:4])
    ['default', 'victims only']
    """
    alternatives = dict(ALTERNATIVE_WEIGHTS if alternatives is None else alternatives)
    base = need_index(data, demand=demand, level=level, **kwargs)
    key = _keys(level)
    names = key[:1] + [key[1]]
    out = base.table[names].copy()
    out["default"] = 100 * base.table["need_share"]
    for name, w in alternatives.items():
        _check_weights(w, base.table.columns)
        out[name] = 100 * sum(float(v) * base.table[f"share_{k}"] for k, v in w.items())
    cols = ["default", *alternatives]
    out["lowest"] = out[cols].min(axis=1)
    out["highest"] = out[cols].max(axis=1)
    out["spread_points"] = out["highest"] - out["lowest"]
    out["method"] = "need share (%) under each weight set; " + "; ".join(
        f"{n}: " + ", ".join(f"{k} {v:.2f}" for k, v in (w or {}).items())
        for n, w in {"default": base.weights, **alternatives}.items()
    )
    return out
