"""Scenarios: uplifts applied to a forecast, with their ranges.

Part of :mod:`victimneeds.forecast`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from victimneeds.forecast.api import ForecastResult, _block_totals

# --------------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------------


@dataclass
class ScenarioResult:
    """A scenario applied to a forecast: ``table`` has baseline and scenario columns per series and month.

    Made from a :class:`ForecastResult` with sample paths, it keeps them (``paths``, ``calibration``) and the
    change applied to each row of ``table`` (``adjustment``: factor and added cases), so that
    :meth:`financial_years` can take the scenario's yearly ranges from path totals.
    """

    table: pd.DataFrame
    keys: list[str]
    description: str
    paths: dict[tuple, np.ndarray] | None = None
    calibration: dict[float, float] = field(default_factory=dict)
    adjustment: tuple[np.ndarray, np.ndarray] | None = None
    total_calibration: dict[float, float] = field(default_factory=dict)
    backtest_errors: dict | None = None

    def financial_years(self) -> pd.DataFrame:
        """Scenario totals per financial year, as :meth:`ForecastResult.financial_years`.

        With the baseline's sample paths, each path's months are scaled and shifted as the scenario scaled
        and shifted the monthly forecast, and the limits are quantiles of the paths' totals; without them the
        limits are the sums of the monthly limits (``interval`` says which).

        Examples
        --------
        >>> import pandas as pd
        >>> from victimneeds.forecast import forecast
        >>> months = pd.period_range("2021-04", periods=36, freq="M")
        >>> t = pd.DataFrame({"crime_group": "Burglary", "month": months, "count": [100.0] * 36})
        >>> fc = forecast(t, horizon=12, keys=["crime_group"], method="naive", origins=0)
        >>> fy = scenario(fc, uplift={"Burglary": 0.5}).financial_years()
        >>> fy[["financial_year", "mean", "lower_95", "upper_95"]].values.tolist()
        [['2024/25', 1800.0, 1800.0, 1800.0]]
        """
        from victimneeds.periods import financial_year

        t = self.table.drop(columns=["scenario"], errors="ignore").copy()
        paths = self.paths
        if paths and self.adjustment is not None:
            t["_factor"], t["_add"] = self.adjustment
        elif paths:
            paths = None
        return _block_totals(
            t,
            self.keys,
            paths,
            self.calibration,
            financial_year(t["month"]).set_axis(t.index),
            "financial-year",
            self.total_calibration,
            self.backtest_errors,
        )

    def summary(self) -> str:
        tot = (
            self.table.groupby(self.keys, observed=True)[["baseline", "mean"]].sum()
            if self.keys
            else (self.table[["baseline", "mean"]].sum().to_frame().T)
        )
        lines = [f"Scenario: {self.description}"]
        for k, r in tot.iterrows():
            if r["mean"] != r["baseline"]:
                lines.append(f"  {k}: {r['baseline']:,.0f} -> {r['mean']:,.0f} over the horizon")
        return "\n".join(lines)

    def plot(self, key: object | None = None, ax: Axes | None = None) -> Axes:
        """Fan chart of the scenario against the baseline for one series (legend under the chart)."""
        import matplotlib.pyplot as plt

        from victimneeds.plotting import PALETTE, date_axis, legend_below, page_size

        t = self.table
        if self.keys:
            if key is None:
                changed = t[t["mean"] != t["baseline"]]
                key = tuple((changed if not changed.empty else t)[self.keys].iloc[0])
            key = key if isinstance(key, tuple) else (key,)
            t = t[np.logical_and.reduce([t[k] == v for k, v in zip(self.keys, key, strict=True)])]
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(3.6))
        x = t["month"].dt.to_timestamp()
        if "lower_95" in t:
            ax.fill_between(x, t["lower_95"], t["upper_95"], color=PALETTE[3], alpha=0.2, label="Scenario 95% interval")
        if "lower_80" in t:
            ax.fill_between(
                x, t["lower_80"], t["upper_80"], color=PALETTE[3], alpha=0.35, label="Scenario 80% interval"
            )
        ax.plot(x, t["baseline"], color=PALETTE[0], linestyle="--", marker="o", markersize=2.5, label="Baseline")
        ax.plot(x, t["mean"], color=PALETTE[3], marker="s", markersize=2.5, label="Scenario")
        ax.set_ylim(bottom=0)
        ax.set_ylabel("Per month")
        ax.set_title(f"{', '.join(map(str, key)) if self.keys else 'All'}: {self.description}")
        ax.set_xlim(x.min(), x.max())
        date_axis(ax)
        legend_below(ax)
        return ax


def scenario(
    result: ForecastResult | pd.DataFrame,
    uplift: Mapping[str, float] | None = None,
    extra: Mapping[str, float] | None = None,
    start: str | pd.Period | None = None,
    keys: Sequence[str] | None = None,
    description: str | None = None,
) -> ScenarioResult:
    """Apply a what-if to a forecast: a percentage uplift and/or extra cases a year, for chosen series.

    Parameters
    ----------
    result : a :class:`ForecastResult` (or its ``.table``).
    uplift : series label -> proportional change, e.g. ``{"Domestic abuse": 0.15}`` for +15% reporting after
        an awareness campaign. A label matches any key column's value.
    extra : series label -> additional cases a year, spread evenly over months, e.g. 5% of the unreported gap
        from :func:`~victimneeds.demand.hidden` converting to referrals. Extra cases are added to the mean
        and both limits (they are a planning assumption, not an estimate).
    start : first month the scenario applies (default the first forecast month).
    keys : key columns (default the result's).
    description : words for titles; default built from the arguments.

    Returns
    -------
    ScenarioResult; ``table`` has the forecast columns scaled, ``baseline`` (the original mean), ``change``
    and ``scenario``.

    Examples
    --------
    >>> t = pd.DataFrame({"crime_group": ["Domestic abuse", "Burglary"],
    ...                   "month": pd.PeriodIndex(["2025-04"] * 2, freq="M"), "mean": [100.0, 50.0],
    ...                   "method": "x"})
    >>> s = scenario(t, uplift={"Domestic abuse": 0.15}, extra={"Domestic abuse": 120}, keys=["crime_group"])
    >>> s.table[["crime_group", "baseline", "mean"]].round(6).values.tolist()
    [['Domestic abuse', 100.0, 125.0], ['Burglary', 50.0, 50.0]]
    """
    if isinstance(result, ForecastResult):
        table, keys = result.table.copy(), list(keys if keys is not None else result.keys)
    else:
        table, keys = result.copy(), list(keys or [])
    uplift, extra = dict(uplift or {}), dict(extra or {})
    labels = set(uplift) | set(extra)
    known = set().union(*(set(table[k].astype(str)) for k in keys)) if keys else set()
    unknown = sorted(labels - known)
    if unknown:
        raise ValueError(f"scenario: {unknown} are not values of the forecast's key columns {keys}")
    first = table["month"].min() if start is None else pd.Period(str(start), "M")
    on = (table["month"] >= first).to_numpy()
    factor = np.ones(len(table))
    add = np.zeros(len(table))
    for label, u in uplift.items():
        hit = np.logical_or.reduce([table[k].astype(str).to_numpy() == label for k in keys]) & on
        factor = np.where(hit, factor * (1 + u), factor)
    for label, e in extra.items():
        hit = np.logical_or.reduce([table[k].astype(str).to_numpy() == label for k in keys]) & on
        add = np.where(hit, add + e / 12, add)
    table.insert(table.columns.get_loc("mean"), "baseline", table["mean"])
    for col in ["mean", *[c for c in table.columns if c.startswith(("lower_", "upper_"))]]:
        table[col] = table[col] * factor + add
    table["change"] = table["mean"] - table["baseline"]
    if description is None:
        parts = [f"{'+' if u >= 0 else ''}{100 * u:.0f}% {k}" for k, u in uplift.items()]
        parts += [f"+{e:,.0f} a year {k}" for k, e in extra.items()]
        description = "; ".join(parts) + f" from {first}" if parts else "no change"
    table["scenario"] = description
    if isinstance(result, ForecastResult) and result.paths and keys == list(result.keys):
        return ScenarioResult(
            table=table,
            keys=keys,
            description=description,
            paths=result.paths,
            calibration=dict(result.calibration),
            adjustment=(factor, add),
            total_calibration=dict(result.total_calibration),
            backtest_errors=result.backtest_errors,
        )
    return ScenarioResult(table=table, keys=keys, description=description)
