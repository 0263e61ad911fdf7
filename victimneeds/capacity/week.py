"""Helpline staffing over every hour of the week, from a call profile.

Part of :mod:`victimneeds.capacity`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from victimneeds.capacity.helpline import (
    Staffing,
    erlang_a,
    erlang_c,
)
from victimneeds.capacity.rules import (
    DAYS,
    _need,
)

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
