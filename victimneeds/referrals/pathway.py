"""The victim's path from recorded crime to support: the pathway funnel.

Part of :mod:`victimneeds.referrals`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from victimneeds import stats
from victimneeds.plotting import MARKERS, PALETTE, legend_below, page_size

#: Columns that both the crimes and the referrals table carry, by which the pathway can be split.
from victimneeds.referrals.core import (
    _LABEL,
    _STAGE_SHORT,
    STAGES,
    _as_list,
    _flag,
    _isin,
    _labels,
    _need_columns,
    _police_linked,
    code_denominator,
)

# --------------------------------------------------------------------------------------------------
# 1. The pathway funnel
# --------------------------------------------------------------------------------------------------



def _group_labels(table: pd.DataFrame, by: Sequence[str], names: dict | None) -> pd.Series:
    """Group labels for plots: the ``by`` values joined, codes replaced by ``names`` where given."""
    parts = table[list(by)].astype(str)
    if names:
        parts = parts.apply(lambda col: col.map(lambda v: names.get(v, v)))
    return parts.agg(", ".join, axis=1)


def _by_words(by: Sequence[str], names: dict | None) -> list[str]:
    """Words for the grouping in a title: "district" rather than "district_code" when names are shown."""
    return [b.removesuffix("_code").replace("_", " ") if names else b.replace("_", " ") for b in by]

@dataclass
class Pathway:
    """Victims at each stage of the path, with conversion and Wilson intervals (see :func:`pathway`).

    Attributes
    ----------
    table : one row per group and stage: ``stage_number, stage, segment, count, follows, from_count,
        converted, conversion, conversion_lower, conversion_upper, overall, overall_lower, overall_upper,
        entered_police, entered_self, entered_partner, confidence, method``. Percentages are on 0-100.
    by : the grouping columns (empty for the whole area).
    notes : what was counted and what was set aside, in words.
    """

    table: pd.DataFrame
    by: list[str]
    notes: list[str] = field(default_factory=list)

    def stage_table(self, stage: str) -> pd.DataFrame:
        """One stage, one row per group: victims ``reached`` out of ``at_previous_stage``, with the conversion."""
        if stage not in _LABEL:
            raise KeyError(f"no stage {stage!r}; the stages are {list(_LABEL)}")
        t = self.table[self.table["stage_key"] == stage]
        if t["follows"].isna().all():
            raise ValueError(f"stage {stage!r} starts its segment, so it has no conversion")
        out = t[
            [
                *self.by,
                "converted",
                "from_count",
                "conversion",
                "conversion_lower",
                "conversion_upper",
                "confidence",
                "method",
            ]
        ].rename(columns={"converted": "reached", "from_count": "at_previous_stage"})
        out["reached"] = out["reached"].astype("int64")
        out["at_previous_stage"] = out["at_previous_stage"].astype("int64")
        out.insert(len(self.by), "stage", _LABEL[stage])
        out.insert(len(self.by) + 1, "previous_stage", _LABEL[str(t["follows"].iloc[0])])
        return out.reset_index(drop=True)

    def summary(self) -> str:
        """The whole-area funnel in words (the first group when split)."""
        t = self.table
        if self.by:
            first = t[self.by].iloc[0]
            t = t[(t[self.by] == first).all(axis=1)]
        lines = ["Victim pathway: count, and conversion from the stage before (95% Wilson interval)"]
        for row in t.itertuples(index=False):
            conv = (
                ""
                if pd.isna(row.conversion)
                else (
                    f"  {row.conversion:5.1f}% of '{_LABEL[row.follows]}' ({row.conversion_lower:.1f}-"
                    f"{row.conversion_upper:.1f})"
                )
            )
            lines.append(f"{row.stage_number:>2}. {row.stage:<42} {row.count:>9,}{conv}")
        return "\n".join(lines + [f"Note: {n}" for n in self.notes])

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax: Axes | None = None, stage: str | None = None, names: dict | None = None) -> Axes:
        """A funnel: horizontal bars of the count at each stage, labelled with the conversion.

        With ``by`` and a ``stage`` key (e.g. ``"referred_police"``), dots with 95% intervals of that stage's
        conversion in each group instead, against the whole-table conversion. ``names`` maps group codes to the
        labels shown (e.g. district code -> district name).
        """
        if self.by and stage is not None:
            t = self.table[self.table["stage_key"] == stage].copy()
            t["group"] = _group_labels(t, self.by, names)
            if ax is None:
                _, ax = plt.subplots(figsize=page_size(0.4 * len(t) + 1.8))
            y = np.arange(len(t))[::-1]
            ax.errorbar(
                t["conversion"],
                y,
                xerr=[t["conversion"] - t["conversion_lower"], t["conversion_upper"] - t["conversion"]],
                fmt=MARKERS[0],
                color=PALETTE[0],
                capsize=3,
                label="Conversion and 95% interval",
            )
            pooled = 100 * t["converted"].sum() / t["from_count"].sum()
            ax.axvline(pooled, color=PALETTE[2], linestyle="--", label=f"All groups: {pooled:.1f}%")
            ax.set_yticks(y, t["group"].tolist())
            follows = _LABEL[t["follows"].iloc[0]]
            ax.set_xlabel(f"% of '{follows}' reaching '{_LABEL[stage]}'")
            ax.set_title(f"{_LABEL[stage]}, by {', '.join(_by_words(self.by, names))}")
            legend_below(ax)
            return ax
        t = self.table
        if self.by:
            t = t.groupby(["stage_number", "stage", "segment"], sort=True, observed=True)["count"].sum().reset_index()
            t["conversion"] = np.nan
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(0.36 * len(t) + 1.8))
        y = np.arange(len(t))[::-1]
        colours = [PALETTE[0] if s == "Police" else PALETTE[1] for s in t["segment"]]
        hatches = ["" if s == "Police" else "//" for s in t["segment"]]
        bars = ax.barh(y, t["count"], color=colours, edgecolor="white")
        for bar, hatch in zip(bars, hatches, strict=True):
            bar.set_hatch(hatch)
        top = float(t["count"].max())
        # Each bar says what share of the stage it follows reached it: "of previous" only when that stage is the
        # bar above; otherwise the stage named (police referrals are a share of the assessed, not of those with
        # a need).
        numbers = dict(zip([key for key, _, _, _ in STAGES], range(1, len(STAGES) + 1), strict=True))
        rows = list(t.itertuples(index=False))
        for i, (yi, row) in enumerate(zip(y, rows, strict=True)):
            text = f"{row.count:,.0f}"
            follows = getattr(row, "follows", None)
            if not pd.isna(row.conversion) and isinstance(follows, str):
                above = int(rows[i - 1].stage_number) if i > 0 else None
                where = "previous" if numbers[follows] == above else _STAGE_SHORT[follows]
                text += f" ({row.conversion:.0f}% of {where})"
            ax.text(row.count + top * 0.01, yi, text, va="center", fontsize=8)
        ax.set_yticks(y, t["stage"].tolist())
        ax.set_xlim(0, top * 1.5)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_xlabel("Victims")
        ax.set_title("The victim's path from recorded crime to support")
        from matplotlib.patches import Patch

        ax.grid(axis="y", visible=False)
        legend_below(
            ax,
            handles=[
                Patch(facecolor=PALETTE[0], label="Police records (crimes)"),
                Patch(facecolor=PALETTE[1], edgecolor="white", hatch="//", label="Victim service (all referrals)"),
            ],
        )
        return ax


def _crime_stages(crimes: pd.DataFrame, referrals: pd.DataFrame) -> pd.DataFrame:
    identified = _flag(crimes, "victim_identified")
    assessed = identified & _flag(crimes, "needs_assessment_done")
    return pd.DataFrame(
        {
            "identified": identified,
            "assessed": assessed,
            "need": assessed & _flag(crimes, "need_identified"),
            "referred_police": identified & _police_linked(crimes, referrals),
        },
        index=crimes.index,
    )


def _service_stages(referrals: pd.DataFrame) -> pd.DataFrame:
    accepted = _flag(referrals, "support_accepted")
    delivered = accepted & referrals["support_level"].notna().to_numpy()
    onward = referrals["onward_referral"].astype(object)
    measured = np.zeros(len(referrals), dtype=bool)
    for col in ("outcome_cope_recover", "outcome_feel_safer"):
        if col in referrals.columns:
            measured |= referrals[col].notna().to_numpy()
    return pd.DataFrame(
        {
            "referred": np.ones(len(referrals), dtype=bool),
            "attempted": _flag(referrals, "contact_attempted"),
            "contacted": _flag(referrals, "contact_made"),
            "accepted": accepted,
            "delivered": delivered,
            "enhanced": delivered & (referrals["support_level"].astype(str) == "Enhanced").to_numpy(),
            "onward": (onward.notna() & (onward.astype(str) != "None")).to_numpy(),
            "outcome": referrals["closed_date"].notna().to_numpy() & measured,
        },
        index=referrals.index,
    )


def pathway(
    crimes: pd.DataFrame,
    referrals: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    confidence: float = 0.95,
) -> Pathway:
    """Count victims at each stage of the path from crime to support, with conversion and intervals.

    The police part follows crimes with an identified victim through the officer's needs assessment, a need
    recorded and a police referral (a crime counts as referred when the referrals table holds a police
    referral with its ``crime_id``). The victim-service part starts from every referral (police, self and
    partner) and follows contact attempted, contact made, support accepted, support delivered (basic or
    enhanced), enhanced support, onward referral and closure with an outcome measure. Each stage's
    conversion is the share of victims at the stage it follows (:data:`STAGES`) who reach it; the overall
    conversion is the share of the segment's first stage.

    Parameters
    ----------
    crimes, referrals : the canonical tables.
    by : column(s) present in both tables (:data:`BY_COLUMNS`), or None for the whole area. Missing values
        are shown as "Not recorded", never dropped.
    confidence : level of the Wilson intervals.

    Returns
    -------
    Pathway

    References
    ----------
    Wilson EB (1927). Probable inference, the law of succession, and statistical inference. JASA 22:209-212.

    Examples
    --------
    >>> crimes = pd.DataFrame({"crime_id": ["C1", "C2", "C3", "C4"],
    ...     "victim_identified": [True, True, True, False], "needs_assessment_done": [True, True, False, None],
    ...     "need_identified": [True, False, None, None]})
    >>> refs = pd.DataFrame({"crime_id": ["C1", None], "source": ["Police", "Self"],
    ...     "contact_attempted": [True, True], "contact_made": [True, False], "support_accepted": [True, None],
    ...     "support_level": ["Enhanced", None], "onward_referral": ["None", None],
    ...     "closed_date": [pd.Timestamp("2024-05-01"), None], "outcome_cope_recover": [True, None]})
    >>> p = pathway(crimes, refs)
    >>> p.table[["stage_key", "count", "converted", "from_count"]].head(6)
             stage_key  count  converted  from_count
    0       identified      3        NaN         NaN
    1         assessed      2        2.0         3.0
    2             need      1        1.0         2.0
    3  referred_police      1        1.0         2.0
    4         referred      2        NaN         NaN
    5        attempted      2        2.0         2.0
    """
    by_cols = _as_list(by)
    _need_columns(
        crimes,
        ["crime_id", "victim_identified", "needs_assessment_done", "need_identified", *by_cols],
        "crimes",
        "pathway",
    )
    _need_columns(
        referrals,
        [
            "crime_id",
            "source",
            "contact_attempted",
            "contact_made",
            "support_accepted",
            "support_level",
            "onward_referral",
            "closed_date",
            *by_cols,
        ],
        "referrals",
        "pathway",
    )
    c_flags = _crime_stages(crimes, referrals)
    r_flags = _service_stages(referrals)
    source = referrals["source"].astype(str).to_numpy()
    entered = {f"entered_{s.lower()}": (source == s) for s in ("Police", "Self", "Partner")}

    def grouped(flags: pd.DataFrame, table: pd.DataFrame, extra: dict[str, np.ndarray]) -> pd.DataFrame:
        frame = flags.copy()
        for key, _, _, follows in STAGES:
            if key in frame.columns and follows is not None:
                frame[f"{key}__c"] = frame[key] & frame[follows]
        for name, values in extra.items():
            frame[name] = values
        for col in by_cols:
            frame[col] = _labels(table[col])
        if by_cols:
            return frame.groupby(by_cols, observed=False, sort=True).sum(numeric_only=False).reset_index()
        return frame.sum().to_frame().T

    c_sum = grouped(c_flags, crimes, {})
    r_sum = grouped(r_flags, referrals, entered)
    rows = []
    for number, (key, label, segment, follows) in enumerate(STAGES, start=1):
        src = c_sum if segment == "Police" else r_sum
        first = "identified" if segment == "Police" else "referred"
        part = src[by_cols].copy() if by_cols else pd.DataFrame(index=src.index)
        part["stage_number"] = number
        part["stage_key"] = key
        part["stage"] = label
        part["segment"] = segment
        part["count"] = src[key].astype("int64").to_numpy()
        part["follows"] = follows
        part["from_count"] = src[follows].astype(float).to_numpy() if follows else np.nan
        part["converted"] = src[f"{key}__c"].astype(float).to_numpy() if follows else np.nan
        part["first_count"] = src[first].astype(float).to_numpy()
        for name in entered:
            part[name] = src[name].astype("int64").to_numpy() if key == "referred" else 0
        rows.append(part)
    table = pd.concat(rows, ignore_index=True)
    if by_cols:
        table = table.sort_values([*by_cols, "stage_number"], kind="stable").reset_index(drop=True)
    conv = stats.proportion(table, "converted", "from_count", confidence, multiplier=100)
    over = stats.proportion(table.assign(_n=table["first_count"]), "count", "_n", confidence, multiplier=100)
    table["conversion"] = conv["value"].to_numpy()
    table["conversion_lower"] = conv["lowercl"].to_numpy()
    table["conversion_upper"] = conv["uppercl"].to_numpy()
    table["overall"] = over["value"].to_numpy()
    table["overall_lower"] = over["lowercl"].to_numpy()
    table["overall_upper"] = over["uppercl"].to_numpy()
    table["confidence"] = conv["confidence"].iloc[0] if len(conv) else f"{confidence:.0%}"
    table["method"] = "Wilson score interval (Wilson 1927)"
    table = table.drop(columns="first_count")
    police = source == "Police"
    unlinked = police & ~_isin(referrals["crime_id"], crimes["crime_id"])
    notes = [
        f"{int((~c_flags['identified']).sum()):,} of {len(crimes):,} crimes have no identified victim and "
        "enter no stage.",
        f"{int((~police).sum()):,} self and partner referrals join at 'All referrals'.",
    ]
    if unlinked.any():
        notes.append(
            f"{int(unlinked.sum()):,} police referrals name a crime_id not in the crimes table: they are "
            "counted in the victim-service stages only."
        )
    d = code_denominator(crimes)
    if d.uses_consent:
        notes.append(
            f"{int(d.declined.sum()):,} of {int((d.eligible | d.declined).sum()):,} victims with a need recorded "
            "declined referral: under the Victims' Code they have not been failed (see referral_model and "
            "assessment_accuracy, which measure referral among those who agreed)."
        )
    return Pathway(table=table, by=by_cols, notes=notes)
