"""A proposed allocation with a minimum standard and a pace limit, and the glide path to fair shares.

Part of :mod:`victimneeds.equity`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from victimneeds.datamodel import AreaData
from victimneeds.equity.need import (
    _LEVELS,
    AllocationError,
    NeedIndex,
    _money,
    _plain_areas,
)
from victimneeds.plotting import MARKERS, PALETTE, legend_below, page_size

# --------------------------------------------------------------------------------------------------
# Allocation
# --------------------------------------------------------------------------------------------------


def _as_vector(value: Any, index: pd.Index, what: str) -> np.ndarray:
    if value is None:
        return np.zeros(len(index))
    if np.isscalar(value):
        return np.full(len(index), float(value))
    s = pd.Series(value, dtype=float)
    missing = [c for c in index if c not in s.index]
    if missing:
        raise ValueError(f"{what} has no value for districts {missing[:5]}")
    return s.reindex(index).to_numpy(dtype=float)


def _waterfill(budget: float, need: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, float]:
    """x_i = clip(lam * need_i, lo_i, hi_i) with sum(x) = budget, lam found exactly from the breakpoints.

    The total is piecewise linear in lam between consecutive breakpoints lo_i/need_i and hi_i/need_i, so
    the slope on a segment is exactly (total(b) - total(a)) / (b - a); beyond the last finite breakpoint
    only districts with no upper limit still grow.
    """
    pos = need > 0
    if not pos.any():
        return lo.copy(), 0.0
    fixed = np.where(pos, 0.0, lo)  # districts with no need get their lower limit

    def total(lam: float) -> float:
        return float(np.sum(np.where(pos, np.clip(lam * need, lo, hi), fixed)))

    cand = np.concatenate([lo[pos] / need[pos], hi[pos] / need[pos]])
    breaks = np.unique(cand[np.isfinite(cand)])
    sums = np.array([total(b) for b in breaks])
    j = int(np.searchsorted(sums, budget, side="left"))
    if j == 0:
        lam = float(breaks[0])
    elif j < len(breaks):
        a, b = breaks[j - 1], breaks[j]
        lam = float(a + (budget - sums[j - 1]) * (b - a) / (sums[j] - sums[j - 1]))
    else:
        slope = float(need[pos & ~np.isfinite(hi)].sum())
        if slope <= 0:
            raise AllocationError("the upper limits leave no room to spend the whole budget")
        lam = float(breaks[-1] + (budget - sums[-1]) / slope)
    x = np.where(pos, np.clip(lam * need, lo, hi), fixed)
    return x, lam


def _largest_remainder(x_pence: np.ndarray, total: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    base = np.floor(x_pence + 1e-7)
    base = np.clip(base, lo, hi)
    rem = x_pence - base
    short = int(total - base.sum())
    order = np.lexsort((np.arange(len(rem)), -rem))  # largest remainder first; ties in table order
    out = base.astype(np.int64)
    step = 1 if short > 0 else -1
    for i in order if short > 0 else order[::-1]:
        if short == 0:
            break
        if lo[i] <= out[i] + step <= hi[i]:
            out[i] += step
            short -= step
    if short != 0:
        raise AllocationError("the allocation could not be rounded to whole pence within its limits")
    return out


@dataclass
class Allocation:
    """A proposed allocation: per-district table, the budget and which constraints bind."""

    table: pd.DataFrame
    budget: float
    max_change: float | None
    level: float = 0.0  # the water level lambda: money per unit of need share for unconstrained districts

    def summary(self) -> str:
        t = self.table
        name = "district_name" if "district_name" in t else "district_code"
        pace = f", pace limit {self.max_change:.0%} a year" if self.max_change is not None else ""
        lines = [f"Proposed allocation of {_money(self.budget)}{pace}"]
        for r in t.itertuples():
            lines.append(
                f"  {str(getattr(r, name)):<20} {_money(r.allocation):>12}  "
                f"{r.pct_of_target:6.1f}% of target  [{r.binding}]"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return "<pre>" + self.summary() + "</pre>"

    def plot(self, ax: Axes | None = None) -> Axes:
        """Current, proposed and target funding per district (bars, with the target as a marker)."""
        t = self.table
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(0.55 * len(t) + 1.8))
        labels = (t["district_name"] if "district_name" in t else t["district_code"]).astype(str)
        y = np.arange(len(t))
        if "current" in t and t["current"].notna().all():
            ax.barh(y + 0.2, t["current"] / 1000, height=0.4, color=PALETTE[1], hatch="//", label="Current")
        ax.barh(y - 0.2, t["allocation"] / 1000, height=0.4, color=PALETTE[0], label="Proposed")
        ax.scatter(t["target"] / 1000, y, marker=MARKERS[1], color="black", zorder=3, label="Need-based target")
        ax.set_yticks(y, labels)
        ax.set_xlabel("GBP thousands a year")
        ax.set_title("Current, proposed and target funding")
        legend_below(ax)
        return ax


def allocate(
    budget: float,
    need: NeedIndex | pd.DataFrame,
    floor: float | Mapping[str, float] | pd.Series = 0.0,
    current: pd.DataFrame | None = None,
    max_change: float | None = None,
    floor_per_head: float | None = None,
    key: str = "district_code",
    need_column: str = "need_share",
    population_column: str = "population",
    funding_column: str = "funding",
) -> Allocation:
    """Split ``budget`` between districts: a minimum standard for all, the rest by need, at a limited pace.

    Each district ``i`` receives ``x_i = clip(lam * s_i, L_i, U_i)`` where ``s_i`` is its need share and the
    single ``lam`` makes the allocations add up to the budget. The lower limit ``L_i`` is the larger of the
    floor (a fixed amount, or ``floor_per_head`` x residents, whichever is larger) and, with a pace limit,
    ``(1 - max_change) x current``; the upper limit ``U_i`` is ``(1 + max_change) x current`` (no limit
    without ``current``). So a district whose need-based amount is below the minimum standard gets the
    minimum standard, and every other district gets the same money per unit of need.

    This is the exact solution of the convex problem *minimise sum (x_i - t_i)^2 / t_i subject to
    sum x_i = B and L_i <= x_i <= U_i*, the allocation closest to the need-based targets ``t_i = B s_i`` in
    chi-square distance: its Karush-Kuhn-Tucker conditions give ``x_i / s_i = lam`` for districts strictly
    inside their limits and ``x_i`` at a limit otherwise, i.e. the clip above. ``sum_i clip(lam s_i, L_i,
    U_i)`` is continuous, non-decreasing and piecewise linear in ``lam`` with breakpoints ``L_i/s_i`` and
    ``U_i/s_i``, so ``lam`` is found exactly by locating the budget between two breakpoints and solving a
    linear equation (water-filling). The solution is unique when all ``s_i > 0``; districts with zero need
    get their lower limit.

    Limits are first taken to whole pence (floors and pace minimums rounded up, pace maximums rounded down,
    current funding to the nearest penny; amounts within a millionth of a penny of a whole penny count as that
    penny). Money is then rounded to whole pence by the largest-remainder method: every district gets its amount
    rounded down to the penny, and the pence left over go one each to the districts with the largest
    remainders (ties: table order), never past a district's limits. The total is exactly the budget.

    Parameters
    ----------
    budget : the total to allocate, in GBP (rounded to the penny).
    need : a :class:`NeedIndex` or a table with ``key`` and ``need_column`` (and ``population_column`` for
        ``floor_per_head``).
    floor : minimum per district: one amount for all, or district code -> amount.
    current : today's funding per district (``key`` and ``funding_column``), needed for ``max_change``.
    max_change : largest change from ``current`` as a fraction (0.1 = no district moves more than 10%).
    floor_per_head : minimum per resident; the floor is the larger of the two minimums.

    Returns
    -------
    Allocation, whose ``table`` has ``need_share``, ``target``, ``floor``, ``current``, ``lower_limit``,
    ``upper_limit``, ``allocation`` (GBP, whole pence), ``allocation_pence`` (integer), ``change``,
    ``change_pct``, ``pct_of_target``, ``binding`` (which constraint binds) and ``method``.

    Raises
    ------
    AllocationError
        When the limits cannot all hold: floors adding up to more than the budget, a floor above what the
        pace limit allows, or a pace limit that cannot spend (or cannot keep within) the budget.

    References
    ----------
    NHS England (2019). Technical guide to allocation formulae and pace of change.
    Boyd, S. & Vandenberghe, L. (2004). *Convex Optimization*, section 5.5 (KKT conditions; water-filling).

    Examples
    --------
    >>> need = pd.DataFrame({"district_code": ["A", "B", "C"], "need_share": [0.6, 0.3, 0.1]})
    >>> a = allocate(1000, need, floor=200)
    >>> a.table["allocation"].tolist()
    [533.33, 266.67, 200.0]
    >>> a.table["binding"].tolist()
    ['need', 'need', 'floor']
    """
    table = need.table if isinstance(need, NeedIndex) else need
    for col in (key, need_column):
        if col not in table.columns:
            raise ValueError(f"the need table has no column {col!r} (columns: {list(table.columns)})")
    if table[key].duplicated().any():
        twice = table[key][table[key].duplicated()].tolist()
        raise ValueError(f"the need table lists districts more than once: {twice}")
    s = table[need_column].to_numpy(dtype=float)
    if np.any(~np.isfinite(s)) or np.any(s < 0) or s.sum() <= 0:
        raise ValueError("need shares must be non-negative numbers, not all zero")
    s = s / s.sum()
    index = pd.Index(table[key])
    budget_p = int(round(float(budget) * 100))
    if budget_p < 0:
        raise AllocationError(f"the budget must not be negative (got {_money(budget)})")
    fl = _as_vector(floor, index, "floor")
    if floor_per_head is not None:
        if population_column not in table.columns:
            raise ValueError(f"floor_per_head needs a {population_column!r} column in the need table")
        fl = np.maximum(fl, float(floor_per_head) * table[population_column].to_numpy(dtype=float))
    if np.any(fl < 0):
        raise ValueError("floors must not be negative")
    lo = fl.copy()
    hi = np.full(len(s), np.inf)
    cur = np.full(len(s), np.nan)
    if current is not None:
        cur = np.round(_as_vector(current.set_index(key)[funding_column], index, "current funding"), 2)
    if max_change is not None:
        if current is None:
            raise ValueError("max_change (a pace-of-change limit) needs the current funding per district")
        if not 0 <= max_change:
            raise ValueError("max_change must be a fraction of at least 0, e.g. 0.1 for 10% a year")
        lo = np.maximum(lo, cur * (1 - max_change))
        hi = cur * (1 + max_change)
    names = table["district_name"].astype(str).to_numpy() if "district_name" in table else index.astype(str)
    # whole pence: lower limits rounded up, upper limits rounded down
    lo_p = np.ceil(np.round(lo * 100, 6))
    hi_p = np.where(np.isfinite(hi), np.floor(np.round(hi * 100, 6)), np.inf)
    clash = lo_p > hi_p
    if clash.any():
        i = int(np.flatnonzero(clash)[0])
        raise AllocationError(
            f"{names[i]}: its floor of {_money(fl[i])} is more than the pace limit allows it to receive "
            f"({_money(hi[i])}, i.e. current {_money(cur[i])} + {max_change:.0%}). Lower the floor or relax the "
            f"pace limit."
        )
    if lo_p.sum() > budget_p:
        raise AllocationError(
            f"The floors{' and pace limits' if max_change is not None else ''} need at least "
            f"{_money(lo_p.sum() / 100)} but the budget is {_money(budget_p / 100)}: raise the budget, lower the "
            f"floor or relax the pace limit."
        )
    if hi_p.sum() < budget_p:
        raise AllocationError(
            f"With a pace limit of {max_change:.0%} the districts can receive at most {_money(hi_p.sum() / 100)} "
            f"in total, less than the budget of {_money(budget_p / 100)}: relax the pace limit or lower the budget."
        )
    x, lam = _waterfill(float(budget_p), s, lo_p, hi_p)
    pence = _largest_remainder(x, budget_p, lo_p, hi_p)
    alloc = pence / 100
    out = table[[c for c in (key, "district_name", population_column) if c in table]].copy()
    out["need_share"] = s
    out["target"] = budget_p / 100 * s
    out["floor"] = fl
    out["current"] = cur
    out["lower_limit"] = lo_p / 100
    out["upper_limit"] = np.where(np.isfinite(hi_p), hi_p / 100, np.nan)
    out["allocation"] = alloc
    out["allocation_pence"] = pence
    out["change"] = alloc - cur
    out["change_pct"] = 100 * (alloc - cur) / np.where(cur > 0, cur, np.nan)
    out["pct_of_target"] = 100 * alloc / np.where(out["target"] > 0, out["target"], np.nan)
    at_lo = np.abs(x - lo_p) < 0.5
    at_hi = np.abs(x - hi_p) < 0.5
    floor_wins = np.ceil(np.round(fl * 100, 6)) >= lo_p
    binding = np.where(
        at_lo & floor_wins & (fl > 0),
        "floor",
        np.where(
            at_lo & (max_change is not None) & ~(floor_wins & (fl > 0)),
            "pace (largest cut)",
            np.where(at_hi, "pace (largest rise)", "need"),
        ),
    )
    out["binding"] = binding
    rule = "floor, then by need"
    if max_change is not None:
        rule += f", pace limit {max_change:.0%} of current (rounded to the penny)"
    out["method"] = f"exact water-filling allocation ({rule}); largest-remainder rounding to whole pence"
    return Allocation(out.reset_index(drop=True), budget_p / 100, max_change, level=lam / 100)


def glide_path(
    budget: float,
    need: NeedIndex | pd.DataFrame,
    current: pd.DataFrame,
    max_change: float,
    years: int = 5,
    floor: float | Mapping[str, float] | pd.Series = 0.0,
    floor_per_head: float | None = None,
    key: str = "district_code",
    funding_column: str = "funding",
) -> pd.DataFrame:
    """Allocations year by year under a pace limit: how many years until every district reaches its target.

    Year 1 moves from ``current`` by at most ``max_change``; each later year moves from the year before,
    with the same budget. Returns one row per district and year with ``allocation`` and ``pct_of_target``.

    Examples
    --------
    >>> need = pd.DataFrame({"district_code": ["A", "B"], "need_share": [0.5, 0.5]})
    >>> cur = pd.DataFrame({"district_code": ["A", "B"], "funding": [70.0, 30.0]})
    >>> g = glide_path(100, need, cur, max_change=0.2, years=3)
    >>> g[g.district_code == "B"]["allocation"].tolist()
    [36.0, 43.2, 50.0]
    """
    rows = []
    now = current[[key, funding_column]].rename(columns={funding_column: "funding"})
    for year in range(1, years + 1):
        step = allocate(
            budget, need, floor=floor, current=now, max_change=max_change, floor_per_head=floor_per_head, key=key
        )
        rows.append(step.table.assign(year=year))
        now = step.table[[key, "allocation"]].rename(columns={"allocation": "funding"})
    out = pd.concat(rows, ignore_index=True)
    return out


def funding_per_need(
    data: AreaData,
    funding: pd.DataFrame,
    need: NeedIndex,
    funding_column: str = "funding",
) -> pd.DataFrame:
    """Funding per need-weighted resident, the quantity whose inequality the equity measures report.

    A need-weighted resident is the unit's need share times all residents of the area (NHS "weighted
    population"): if money followed need exactly, funding per need-weighted resident would be the same
    everywhere. ``funding`` is per district; for a small-area ``need`` each district's money is spread over
    its small areas by residents (services are commissioned by district, so this shows how uneven funding per
    unit of need is inside districts when a district's money reaches its residents evenly).

    Returns the unit's codes, ``funding``, ``weighted_population``, ``funding_per_weighted_head``,
    ``imd_score`` (mean, population-weighted, for districts), ``deprivation_order`` (minus the IMD score, so
    ranking ascending puts the most deprived first) and ``method``.

    Examples
    --------
    >>> import victimneeds as vn
    >>> area = vn.datasets.load_example()
    >>> t = funding_per_need(area, vn.equity.current_allocation(area), vn.equity.need_index(area))
    >>> round(float(t["weighted_population"].sum() / area.areas["population"].sum()), 6)
    1.0
    """
    areas = _plain_areas(data)
    total_pop = float(areas["population"].sum())
    t = need.table.copy()
    fund = funding.set_index("district_code")[funding_column]
    missing = sorted(set(t["district_code"]) - set(fund.index))
    if missing:
        raise ValueError(f"the funding table has no row for districts {missing}")
    imd = areas.assign(_x=areas["population"] * areas["imd_score"])
    if need.level == "district":
        t["funding"] = t["district_code"].map(fund).to_numpy(dtype=float)
        g = imd.groupby("district_code")
        t["imd_score"] = t["district_code"].map(g["_x"].sum() / g["population"].sum()).to_numpy(dtype=float)
        how = "district funding"
    else:
        dpop = areas.groupby("district_code")["population"].sum()
        t = t.merge(areas[["area_code", "imd_score"]], on="area_code", how="left")
        t["funding"] = (t["district_code"].map(fund) * t["population"] / t["district_code"].map(dpop)).to_numpy(
            dtype=float
        )
        how = "district funding spread over its small areas by residents"
    t["weighted_population"] = t["need_share"] * total_pop
    t["funding_per_weighted_head"] = t["funding"] / t["weighted_population"].where(t["weighted_population"] > 0)
    t["deprivation_order"] = -t["imd_score"]
    t["method"] = f"{how} / (need share x {total_pop:,.0f} residents)"
    keep = [c for c in _LEVELS[need.level]] + [
        "population",
        "need_share",
        "weighted_population",
        "funding",
        "funding_per_weighted_head",
        "imd_score",
        "deprivation_order",
        "method",
    ]
    return t[keep]
