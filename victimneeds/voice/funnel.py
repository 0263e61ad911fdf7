"""Districts compared: satisfaction by district against funnel limits.

Part of :mod:`victimneeds.voice`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from victimneeds import stats
from victimneeds.plotting import (
    PALETTE,
    label_points,
    legend_below,
    page_size,
)
from victimneeds.voice.checks import (
    MIN_RESPONSES,
    NOT_ENOUGH,
    STAGE_LABELS,
    _check_columns,
    _shares,
    _stages,
    _weights,
)

# --------------------------------------------------------------------------------------------------
# Funnel of districts
# --------------------------------------------------------------------------------------------------

_FLAG_WORDS = {
    "above 99.8%": "higher than the area average (beyond the 99.8% limit)",
    "above 95%": "possibly higher than the area average (beyond the 95% limit only)",
    "below 95%": "possibly lower than the area average (beyond the 95% limit only)",
    "below 99.8%": "lower than the area average (beyond the 99.8% limit)",
}


@dataclass
class DistrictFunnel:
    """Districts' share satisfied on a funnel plot around the area average.

    Attributes
    ----------
    table : one row per district, from :func:`victimneeds.stats.funnel_flags` plus ``finding`` in words.
    limits : funnel limits over a range of numbers of responses (for the plot).
    stage : the stage shown.
    label : column used to label districts.
    """

    table: pd.DataFrame
    limits: pd.DataFrame
    stage: str
    label: str = "district_code"

    def summary(self) -> str:
        target = self.table["target"].iloc[0]
        lines = [f"Satisfied with {STAGE_LABELS[self.stage].lower()}: area average {target:.1f}%"]
        for _, r in self.table.iterrows():
            shown = (
                f"{r['value']:.1f}% of {r['responses']:.0f}"
                if pd.notna(r["value"])
                else (f"{r['responses']:.0f} responses")
            )
            lines.append(f"  {r[self.label]}: {shown}: {r['finding']}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.table[[self.label, "responses", "value", "finding"]].to_html(index=False)

    def plot(self, ax: Axes | None = None) -> Axes:
        """Districts as points against their number of responses, with 95% and 99.8% funnel limits."""
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(4.0))
        target = self.table["target"].iloc[0]
        for i, (level, part) in enumerate(self.limits.groupby("level")):
            style = "--" if i == 0 else ":"
            ax.plot(
                part["denominator"], part["upper"], color=PALETTE[4], linestyle=style, label=f"{level * 100:g}% limits"
            )
            ax.plot(part["denominator"], part["lower"], color=PALETTE[4], linestyle=style)
        ax.axhline(target, color=PALETTE[2], label=f"Area average: {target:.1f}%")
        shown = self.table[self.table["value"].notna()]
        ax.plot(shown["denominator"], shown["value"], "o", color=PALETTE[0], label="District")
        ax.set_xlabel("Responses (effective number when weighted)")
        ax.set_ylabel("% satisfied")
        ax.set_title(f"Satisfied with {STAGE_LABELS[self.stage].lower()} by district")
        label_points(ax, shown["denominator"], shown["value"], shown[self.label].astype(str))
        legend_below(ax)
        return ax


def district_funnel(
    survey: pd.DataFrame,
    stage: str = "whole_experience",
    district: str = "district_code",
    weights: str | None = None,
    overdispersion: bool | str = False,
    names: pd.DataFrame | None = None,
    min_responses: int = MIN_RESPONSES,
) -> DistrictFunnel:
    """Place each district's share satisfied on a funnel plot around the area average.

    Limits are exact binomial with Spiegelhalter's interpolation at 95% and 99.8% (or over-dispersion
    adjusted). With ``weights`` each district enters with its Kish effective number of responses and
    effective satisfied count, both rounded to whole numbers (the funnel needs whole numbers of cases).
    Flags are worded carefully: a district inside the 95% limits shows "no evidence of a difference from
    the area average".

    Parameters
    ----------
    survey : the survey table.
    stage : the satisfaction stage.
    district : the district column.
    weights : weight column or None.
    overdispersion : passed to :func:`victimneeds.stats.funnel_flags`.
    names : optional table with ``district`` and ``district_name`` (e.g. ``AreaData.districts``); adds names.
    min_responses : districts with fewer responses are listed as "not enough responses" and not plotted.

    Returns
    -------
    :class:`DistrictFunnel`.

    References
    ----------
    Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. Statistics in Medicine
    24:1185-1202. Kish L (1965). Survey Sampling. Wiley.

    Examples
    --------
    >>> s = pd.DataFrame({"district_code": ["A"] * 100 + ["B"] * 100 + ["C"] * 100,
    ...                   "satisfied_whole_experience": [True] * 70 + [False] * 30 + [True] * 72
    ...                   + [False] * 28 + [True] * 95 + [False] * 5})
    >>> f = district_funnel(s).table
    >>> f[["district_code", "value", "flag"]]
      district_code  value         flag
    0             A   70.0    below 95%
    1             B   72.0   within 95%
    2             C   95.0  above 99.8%
    >>> f["finding"].iloc[1]
    'no evidence of a difference from the area average'
    """
    func = "district_funnel"
    _stages(stage)
    col = f"satisfied_{stage}"
    _check_columns(survey, [district, col], "survey", func)
    w = _weights(survey, weights, func)
    t = _shares(survey, {stage: col}, [district], w, "stage")
    small = t[(t["responses"] > 0) & (t["responses"] < min_responses)]
    t = t[t["responses"] >= min_responses].reset_index(drop=True)
    if len(t) < 2:
        raise ValueError(
            f"{func}: fewer than two districts have {min_responses} or more responses; a funnel plot needs at least two"
        )
    t["satisfied_n"] = np.round(np.minimum(t["effective_yes"], t["effective_n"])).astype("int64")
    t["denominator"] = np.round(t["effective_n"]).astype("int64")
    flags = stats.funnel_flags(t, "satisfied_n", "denominator", multiplier=100, overdispersion=overdispersion)
    od = flags.attrs.get("overdispersion")
    flags["finding"] = flags["flag"].map(_FLAG_WORDS).fillna("no evidence of a difference from the area average")
    if weights is not None:
        flags["method"] = flags["method"] + "; Kish effective counts rounded to whole numbers"
    keep = [
        district,
        "stage",
        "responses",
        "yes",
        "denominator",
        "satisfied_n",
        "value",
        "target",
        "z",
        "lower_95",
        "upper_95",
        "lower_99_8",
        "upper_99_8",
        "flag",
        "finding",
        "method",
    ]
    flags = flags[keep]
    if len(small):
        rest = small[[district, "stage", "responses"]].assign(
            flag="not assessed",
            finding=f"{NOT_ENOUGH} (fewer than {min_responses}); not shown",
            method=flags["method"].iloc[0],
        )
        flags = pd.concat([flags, rest], ignore_index=True)
        flags["yes"] = flags["yes"].astype("Int64")
    if names is not None:
        flags = flags.merge(names, left_on=district, right_on=names.columns[0], how="left")
    label = "district_name" if "district_name" in flags.columns else district
    grid = np.unique(np.linspace(max(5, t["denominator"].min() * 0.5), t["denominator"].max() * 1.2, 120).round())
    limits = stats.funnel_limits(float(flags["target"].iloc[0]), grid, multiplier=100, overdispersion=od)
    return DistrictFunnel(table=flags, limits=limits, stage=stage, label=label)
