"""Referral gaps: the victim's path from recorded crime to support, where it leaks and for whom.

Each analysis takes the canonical ``crimes`` and ``referrals`` tables (:mod:`victimneeds.datamodel`) and returns
a small result object in the statsmodels manner (``.table``, ``.summary()``, ``.plot(ax=None)``):

* :func:`pathway` counts victims at each stage of the path (identified victim, needs assessment, need found,
  police referral; then all referrals including self and partner referrals, contact attempted, contacted,
  support accepted and delivered, enhanced support, onward referral, closed with an outcome measure), with
  stage-to-stage and overall conversion and Wilson intervals, overall or by district, crime group, sex, age
  band or ethnicity;
* :func:`referral_ratios` compares each district's police referrals with those expected for its crime mix and
  victims (indirect standardisation), with exact intervals, a funnel plot at 95% and 99.8% (optionally
  allowing for over-dispersion) and plain-words outlier notes;
* :func:`referral_model` fits a binomial GLM of referral (or of support accepted) on victim and crime
  characteristics, giving adjusted and unadjusted odds ratios with intervals and small-group warnings;
* :func:`contact_times` estimates the time from referral to first contact in working days by Kaplan-Meier,
  with open cases censored, and the share within the Victims' Code times;
* :func:`assessment_accuracy` measures the officer's needs assessment against later evidence of need: missed
  victims and unneeded referrals, with the 2x2 table for each district.

Every rate has its numerator, denominator and interval; tables are meant to be published through
:meth:`victimneeds.report.Output.table`, which applies disclosure control.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter
from scipy import stats as _st
from statsmodels.duration.survfunc import SurvfuncRight

from victimneeds import compare, labels, stats
from victimneeds.plotting import MARKERS, PALETTE, label_points, legend_below, page_size, plain_log_axis

__all__ = [
    "BY_COLUMNS",
    "STAGES",
    "AccuracyResult",
    "CodeDenominator",
    "ContactTimes",
    "OddsRatios",
    "Pathway",
    "ReferralRatios",
    "assessment_accuracy",
    "contact_times",
    "capacity_summary",
    "code_denominator",
    "declined_table",
    "demand_vs_capacity",
    "gaps_found",
    "onward_matrix",
    "pathway",
    "referral_model",
    "referral_outcomes",
    "referral_ratios",
    "standardised_referrals",
]

#: Columns that both the crimes and the referrals table carry, by which the pathway can be split.
BY_COLUMNS: tuple[str, ...] = ("district_code", "crime_group", "victim_sex", "victim_age_band", "victim_ethnicity")

NOT_RECORDED = "Not recorded"

#: The stages of the path: (key, label, segment, the stage it follows). Conversion is counted among victims
#: at the earlier stage. Police referrals follow the needs assessment (officers refer whether or not they record
#: a need); self and partner referrals join at "All referrals".
STAGES: tuple[tuple[str, str, str, str | None], ...] = (
    ("identified", "Crime with an identified victim", "Police", None),
    ("assessed", "Needs assessment done", "Police", "identified"),
    ("need", "Need identified by officer", "Police", "assessed"),
    ("referred_police", "Referred by police", "Police", "assessed"),
    ("referred", "All referrals (police, self, partner)", "Victim service", None),
    ("attempted", "Contact attempted", "Victim service", "referred"),
    ("contacted", "Contact made", "Victim service", "attempted"),
    ("accepted", "Support accepted", "Victim service", "contacted"),
    ("delivered", "Support delivered", "Victim service", "accepted"),
    ("enhanced", "Enhanced support delivered", "Victim service", "delivered"),
    ("onward", "Onward referral to a specialist", "Victim service", "contacted"),
    ("outcome", "Closed with an outcome measure", "Victim service", "delivered"),
)
_LABEL = {key: label for key, label, _, _ in STAGES}
#: A stage in a word or two, for "23% of assessed" on the pathway chart.
_STAGE_SHORT = {"identified": "identified", "assessed": "assessed", "need": "with a need",
                "referred_police": "referred by police", "referred": "all referrals", "attempted": "attempted",
                "contacted": "contacted", "accepted": "accepted", "delivered": "supported",
                "enhanced": "enhanced", "onward": "onward", "outcome": "closed"}


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def _need_columns(table: pd.DataFrame, columns: Sequence[str], name: str, func: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KeyError(
            f"{func}: the {name} table has no column(s) {missing}; it needs {list(columns)} "
            f"(see docs/data-model.md for the canonical {name} table)"
        )


def _flag(table: pd.DataFrame, column: str) -> np.ndarray:
    """A boolean column as a numpy array, missing values counting as False."""
    return pd.array(table[column], dtype="boolean").fillna(False).to_numpy(dtype=bool)


def _as_list(cols: str | Sequence[str] | None) -> list[str]:
    if cols is None:
        return []
    return [cols] if isinstance(cols, str) else list(cols)


def _labels(values: pd.Series) -> pd.Series:
    """Group labels with missing values shown as "Not recorded" (never dropped), keeping category order."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = [str(c) for c in values.cat.categories]
        out = values.astype(object).where(values.notna(), NOT_RECORDED).astype(str)
        extra = [NOT_RECORDED] if NOT_RECORDED not in cats else []
        return pd.Series(pd.Categorical(out, categories=cats + extra), index=values.index)
    out = values.astype(object).where(values.notna(), NOT_RECORDED).astype(str)
    return pd.Series(out, index=values.index, dtype=object)


def _police_linked(crimes: pd.DataFrame, referrals: pd.DataFrame) -> np.ndarray:
    """For each crime, whether the referrals table holds a police referral for it (by crime_id)."""
    police = (referrals["source"].astype(str) == "Police").to_numpy() & referrals["crime_id"].notna().to_numpy()
    return _isin(crimes["crime_id"], referrals["crime_id"][police])


def _text(values: pd.Series) -> np.ndarray:
    """A column as a numpy array of Python-free unicode strings (fast to compare and sort)."""
    return np.asarray(values.astype(object).where(values.notna(), "").to_numpy(dtype=object), dtype="U")


def _isin(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """``values.isin(pool)`` for id columns, vectorised (missing ids never match)."""
    return np.isin(_text(values), _text(pool)) & values.notna().to_numpy()


def _keys(frame: pd.DataFrame, cols: list[str], default: str) -> np.ndarray:
    """One label per row joining the ``cols`` labels with ", " (``default`` when there are no columns)."""
    if not cols:
        return np.full(len(frame), default, dtype="U")
    out = _text(_labels(frame[cols[0]]))
    for c in cols[1:]:
        out = np.char.add(np.char.add(out, ", "), _text(_labels(frame[c])))
    return out


def _fmt_pct(value: float, lo: float, hi: float) -> str:
    return f"{value:.1f}% (95% CI {lo:.1f}% to {hi:.1f}%)"


@dataclass
class CodeDenominator:
    """Who the Victims' Code says should be referred, crime by crime (see :func:`code_denominator`).

    Attributes
    ----------
    assessed : identified victim and needs assessment done (the old, wider denominator).
    need : assessed and the officer recorded a need for support.
    eligible : the Code's denominator: need recorded and the victim agreed to referral (or ``assessed`` when
        consent or need is not recorded at all: see ``uses_consent``).
    declined : need recorded and the victim declined referral (never counted as a failure).
    consent_unknown : need recorded, consent not recorded (left out of both).
    uses_consent : whether ``consent_to_refer`` was usable; ``note`` says what was done, in words.
    """

    assessed: np.ndarray
    need: np.ndarray
    eligible: np.ndarray
    declined: np.ndarray
    consent_unknown: np.ndarray
    uses_consent: bool
    note: str


def code_denominator(crimes: pd.DataFrame) -> CodeDenominator:
    """The Victims' Code denominator for referral (Right 4): victims who need support and agree to referral.

    The Code (Right 4) gives a victim the right to be referred to support services, tailored to need, with
    their agreement. A victim who declines referral has not been failed: referral measures count victims
    with an identified need (``need_identified``) who consented (``consent_to_refer``); those who declined
    are counted apart, and their share is itself a finding about how support is offered. When the crimes
    table has no ``consent_to_refer`` column, or it is empty for every victim with a need, the wider
    denominator (all assessed victims) is used and ``note`` says so.

    Examples
    --------
    >>> c = pd.DataFrame({"victim_identified": [True] * 4, "needs_assessment_done": [True] * 4,
    ...     "need_identified": [True, True, True, False], "consent_to_refer": [True, False, None, None]})
    >>> d = code_denominator(c)
    >>> d.eligible.tolist(), d.declined.tolist(), d.consent_unknown.tolist()
    ([True, False, False, False], [False, True, False, False], [False, False, True, False])
    """
    assessed = _flag(crimes, "victim_identified") & _flag(crimes, "needs_assessment_done")
    nothing = np.zeros(len(crimes), dtype=bool)
    if "need_identified" not in crimes.columns:
        return CodeDenominator(
            assessed, nothing, assessed, nothing, nothing, False,
            "the crimes table has no need_identified column, so the Victims' Code denominator (victims with a "
            "need who agreed to referral) cannot be formed: all assessed victims are used.",
        )
    need = assessed & _flag(crimes, "need_identified")
    consent = (
        pd.array(crimes["consent_to_refer"], dtype="boolean") if "consent_to_refer" in crimes.columns else None
    )
    if consent is None or not (need & ~np.asarray(consent.isna(), dtype=bool)).any():
        why = (
            "no consent_to_refer column"
            if consent is None
            else "consent_to_refer is empty for every victim with a need"
        )
        return CodeDenominator(
            assessed, need, assessed, nothing, nothing, False,
            f"the crimes table has {why}, so victims who declined referral cannot be set apart: referral is "
            "measured among all assessed victims (not the Victims' Code denominator).",
        )
    known = ~np.asarray(consent.isna(), dtype=bool)
    agreed = consent.fillna(False).to_numpy(dtype=bool)
    eligible = need & known & agreed
    declined = need & known & ~agreed
    unknown = need & ~known
    note = (
        f"Victims' Code denominator: {int(eligible.sum()):,} victims with a need who agreed to referral; "
        f"{int(declined.sum()):,} who declined are shown apart (not failures)"
        + (f"; {int(unknown.sum()):,} with no consent recorded are left out" if unknown.any() else "")
        + f"; {int((assessed & ~need).sum()):,} assessed victims with no need recorded are not in the denominator."
    )
    return CodeDenominator(assessed, need, eligible, declined, unknown, True, note)


def referral_outcomes(
    crimes: pd.DataFrame, referrals: pd.DataFrame, denominator: Literal["code", "assessed"] = "code"
) -> pd.DataFrame:
    """One row per victim the Victims' Code says should be referred, with whether police referred them.

    The victims are those of :func:`code_denominator` (need recorded and agreement to referral; all assessed
    victims with ``denominator="assessed"`` or when consent is not recorded), with a boolean ``referred``
    column (a police referral carries the crime's ``crime_id``). This is the table to give
    :func:`victimneeds.compare.compare` (rates, adjusted odds ratios and trend by any breakdown) and
    :func:`victimneeds.compare.control_chart` (``date="month"``). ``attrs["note"]`` says which denominator
    was used.

    Examples
    --------
    >>> c = pd.DataFrame({"crime_id": ["C1", "C2", "C3"], "victim_identified": [True] * 3,
    ...     "needs_assessment_done": [True] * 3, "need_identified": [True] * 3,
    ...     "consent_to_refer": [True, True, False]})
    >>> referral_outcomes(c, pd.DataFrame({"crime_id": ["C1"], "source": ["Police"]}))[["crime_id", "referred"]]
      crime_id  referred
    0       C1      True
    1       C2     False
    """
    if denominator not in ("code", "assessed"):
        raise ValueError(f"referral_outcomes: denominator must be 'code' or 'assessed', not {denominator!r}")
    _need_columns(crimes, ["crime_id", "victim_identified", "needs_assessment_done"], "crimes", "referral_outcomes")
    _need_columns(referrals, ["crime_id", "source"], "referrals", "referral_outcomes")
    d = code_denominator(crimes)
    keep = d.eligible if denominator == "code" else d.assessed
    out = crimes[keep].assign(referred=_police_linked(crimes, referrals)[keep])
    out.attrs["note"] = d.note if denominator == "code" else "all assessed victims (the wider denominator)"
    return out


def declined_table(
    crimes: pd.DataFrame, by: Sequence[str] = (), confidence: float = 0.95, denominator: CodeDenominator | None = None
) -> pd.DataFrame:
    """Victims with a need who declined referral, overall and by group, with Wilson intervals.

    Declining is the victim's choice, not a failure of Right 4, but a group that declines more often says
    something about how support is offered to it. The share is declined / (declined + agreed) among victims
    with an identified need and a recorded answer.

    Returns
    -------
    One row for all victims (``covariate`` "All") and one per level of each ``by`` column:
    ``covariate, level, with_need, declined, value, lowercl, uppercl, confidence, statistic, method``.

    Examples
    --------
    >>> c = pd.DataFrame({"victim_identified": [True] * 4, "needs_assessment_done": [True] * 4,
    ...     "need_identified": [True] * 4, "consent_to_refer": [True, False, True, True],
    ...     "victim_sex": ["Female", "Female", "Male", "Male"]})
    >>> declined_table(c, ["victim_sex"])[["covariate", "level", "with_need", "declined", "value"]]
        covariate   level  with_need  declined  value
    0         All     All          4         1   25.0
    1  victim_sex  Female          2         1   50.0
    2  victim_sex    Male          2         0    0.0
    """
    d = code_denominator(crimes) if denominator is None else denominator
    answered = d.eligible | d.declined
    rows = [{"covariate": "All", "level": "All", "with_need": int(answered.sum()), "declined": int(d.declined.sum())}]
    said_no = d.declined[answered]
    for col in by:
        lab = _text(_labels(crimes[col][answered]))
        levels, inverse = np.unique(lab, return_inverse=True)
        sizes = np.bincount(inverse, minlength=len(levels))
        no = np.bincount(inverse, weights=said_no, minlength=len(levels))
        rows += [{"covariate": col, "level": str(lv), "with_need": int(k), "declined": int(x)}
                 for lv, k, x in zip(levels, sizes, no, strict=True)]
    out = stats.proportion(pd.DataFrame(rows), "declined", "with_need", confidence, multiplier=100)
    out["method"] = "Wilson score interval; victims with an identified need and a recorded answer on consent"
    return out


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


# --------------------------------------------------------------------------------------------------
# 2. Observed vs expected referrals (indirect standardisation) and the funnel plot
# --------------------------------------------------------------------------------------------------


@dataclass
class ReferralRatios:
    """Observed and expected police referrals by unit, with ratios, funnel limits and flags.

    Attributes
    ----------
    table : one row per unit: the ``by`` column, ``victims``, ``observed``, ``expected``, ``ratio``,
        ``lowercl``, ``uppercl`` (exact Poisson), ``z``, funnel limits at the unit's expected count, ``flag``
        and ``method``.
    overdispersion : the :class:`victimneeds.stats.Overdispersion` estimate, or None.
    strata : the columns standardised for.
    """

    table: pd.DataFrame
    by: str
    strata: list[str]
    overdispersion: stats.Overdispersion | None = None
    names: dict[str, str] = field(default_factory=dict)
    counts: pd.DataFrame | None = None

    def with_overdispersion(self, method: Literal["additive", "multiplicative"] = "additive") -> ReferralRatios:
        """The same comparison with funnel limits widened for over-dispersion (Spiegelhalter 2005)."""
        if self.counts is None:
            raise ValueError("this result holds no counts by stratum to recompute from")
        table = standardised_referrals(self.counts, "referred", "victims", self.by, self.strata, method)
        if "declined" in self.table.columns:
            table.insert(2, "declined", self.table["declined"].to_numpy())
        if "note" in self.table.attrs:
            table.attrs["note"] = self.table.attrs["note"]
        return ReferralRatios(
            table=table,
            by=self.by,
            strata=self.strata,
            overdispersion=table.attrs.get("overdispersion"),
            names=self.names,
            counts=self.counts,
        )

    def outliers(self, level: Literal["95%", "99.8%"] = "99.8%") -> pd.DataFrame:
        """The units outside the funnel at ``level``, described in plain words."""
        t = self.table
        flags = (
            ("above 99.8%", "below 99.8%")
            if level == "99.8%"
            else ("above 95%", "below 95%", "above 99.8%", "below 99.8%")
        )
        t = t[t["flag"].isin(flags)]
        rows = []
        for r in t.itertuples(index=False):
            unit = getattr(r, self.by)
            name = self.names.get(str(unit), str(unit))
            direction = "fewer" if r.ratio < 1 else "more"
            words = (
                f"{name} referred {r.observed:,} victims against {r.expected:,.0f} expected for its crime mix and "
                f"victims: {abs(1 - r.ratio) * 100:.0f}% {direction} than expected (ratio {r.ratio:.2f}, 95% CI "
                f"{r.lowercl:.2f} to {r.uppercl:.2f}), "
                f"{r.flag.replace('above', 'above the').replace('below', 'below the')} funnel limit."
            )
            rows.append(
                {
                    self.by: unit,
                    "name": name,
                    "observed": r.observed,
                    "expected": round(r.expected, 1),
                    "ratio": r.ratio,
                    "flag": r.flag,
                    "finding": words,
                }
            )
        return pd.DataFrame(rows, columns=[self.by, "name", "observed", "expected", "ratio", "flag", "finding"])

    def summary(self) -> str:
        lines = [f"Police referrals, observed vs expected, standardised for {', '.join(self.strata)}"]
        for r in self.table.itertuples(index=False):
            unit = getattr(r, self.by)
            lines.append(
                f"{self.names.get(str(unit), str(unit)):<24} O={r.observed:>7,} E={r.expected:>9,.1f} "
                f"ratio={r.ratio:.2f} ({r.lowercl:.2f}-{r.uppercl:.2f})  {r.flag}"
            )
        if self.overdispersion is not None:
            lines.append(f"Over-dispersion: {self.overdispersion.describe()}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax: Axes | None = None) -> Axes:
        """Funnel plot: ratio against expected referrals, with 95% and 99.8% limits around 1."""
        t = self.table
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(4.2))
        top = max(float(t["expected"].max()) * 1.1, 10.0)
        grid = np.linspace(max(1.0, float(t["expected"].min()) * 0.5), top, 200)
        factor = float(t.attrs.get("variance_factor", np.nanmean(t.get("variance_factor", pd.Series([1.0])))))
        od = self.overdispersion if self.overdispersion is not None and self.overdispersion.adjusts else None
        tau2 = od.tau2 if od is not None and od.method == "additive" else 0.0
        phi = od.phi if od is not None and od.method == "multiplicative" else 1.0
        rows = []
        for level in (0.95, 0.998):
            half = stats._z(level) * np.sqrt(phi * factor / grid + tau2)
            rows.append(pd.DataFrame({"level": level, "denominator": grid, "lower": np.maximum(1 - half, 0),
                                      "upper": 1 + half}))
        lim = pd.concat(rows, ignore_index=True)
        for level, style in ((0.95, "--"), (0.998, ":")):
            part = lim[lim["level"] == level]
            ax.plot(
                part["denominator"],
                part["lower"],
                color=PALETTE[4],
                linestyle=style,
                label=f"{level:.1%} limits".replace(".0%", "%"),
            )
            ax.plot(part["denominator"], part["upper"], color=PALETTE[4], linestyle=style)
        ax.axhline(1.0, color=PALETTE[2], linewidth=1, label="As expected (ratio 1)")
        outside = t["flag"].str.contains("99.8")
        ax.scatter(
            t.loc[~outside, "expected"],
            t.loc[~outside, "ratio"],
            color=PALETTE[0],
            marker=MARKERS[0],
            zorder=3,
            label="Within 99.8% limits",
        )
        ax.scatter(
            t.loc[outside, "expected"],
            t.loc[outside, "ratio"],
            color=PALETTE[3],
            marker=MARKERS[3],
            s=60,
            zorder=3,
            label="Outside 99.8% limits",
        )
        ax.set_xlabel("Expected police referrals (from the area's rates for the same crime group and victims)")
        ax.set_ylabel("Observed / expected referrals")
        ax.set_title("Are districts referring as many victims as expected?")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        label_points(ax, t["expected"], t["ratio"], [self.names.get(str(u), str(u)) for u in t[self.by]])
        legend_below(ax)
        return ax


def standardised_referrals(
    table: pd.DataFrame,
    x: str,
    n: str,
    by: str,
    strata: str | Sequence[str],
    overdispersion: bool | str = False,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Observed vs expected counts by unit from a table of counts by unit and stratum, placed on a funnel.

    Expected counts use the whole table's rate in each stratum (indirect standardisation,
    :func:`victimneeds.stats.expected_counts`). A referral is a yes/no outcome of each eligible victim, so the
    observed count's variance under the area's rates is binomial, sum n p (1 - p) over strata (Poisson's sum n p
    overstates it badly when most victims are referred). The ratio's interval is normal on the binomial
    variance at the estimated ratio; the funnel limits around 1 are 1 +/- z s with s = sqrt(variance) /
    expected, widened for over-dispersion (Spiegelhalter 2005: multiplicative phi, or additive tau2 from
    :func:`victimneeds.stats.estimate_overdispersion`).

    Parameters
    ----------
    table : one row per unit and stratum with a count ``x`` (e.g. victims referred) and a denominator ``n``
        (victims eligible).
    by : the unit column (e.g. ``district_code``).
    strata : the columns standardised for (e.g. crime group, sex, age band).
    overdispersion : False, ``"multiplicative"`` or ``"additive"`` (True).
    confidence : level of the interval for the ratio.

    Returns
    -------
    One row per unit: ``by, victims, observed, expected, ratio, lowercl, uppercl, z`` (and ``z_adjusted`` when
    over-dispersion widens the limits), ``lower_95, upper_95, lower_99_8, upper_99_8, flag, variance_factor``
    (the binomial variance over the expected count: 1 - p on average), ``method``.

    References
    ----------
    Breslow NE, Day NE (1987). Statistical Methods in Cancer Research, vol. II. IARC. Spiegelhalter DJ (2005).
    Funnel plots for comparing institutional performance. Statistics in Medicine 24:1185-1202.

    Examples
    --------
    >>> t = pd.DataFrame({"district": ["A", "A", "B", "B"], "group": ["DA", "Other"] * 2,
    ...                   "referred": [60, 10, 20, 30], "victims": [100, 100, 100, 300]})
    >>> standardised_referrals(t, "referred", "victims", "district", "group")[
    ...     ["district", "observed", "expected", "ratio"]].round(3)
      district  observed  expected  ratio
    0        A        70      50.0  1.400
    1        B        50      70.0  0.714
    """
    exp = stats.expected_counts(table, x, n, by=by, strata=strata)
    exp = exp.rename(columns={"population": "victims"})
    strata = [strata] if isinstance(strata, str) else list(strata)
    # A referral is a yes/no outcome of each eligible victim: under the area's rates the observed count has the
    # binomial variance sum n p (1 - p), not the Poisson sum n p. With most eligible victims referred (p near
    # 0.7 and above) Poisson limits are far too wide: districts were almost never flagged, and a 95% interval
    # held the true ratio 99.8% of the time (bench/calibration.py).
    pooled = table.groupby(strata, observed=True)[[x, n]].sum()
    rate = (pooled[x] / pooled[n]).rename("_p")
    work = table.merge(rate, left_on=strata, right_index=True, how="left")
    work["_v"] = work[n] * work["_p"] * (1 - work["_p"])
    variance = work.groupby(by, observed=True)["_v"].sum()
    out = exp[[by, "victims", "observed", "expected"]].copy()
    expected = out["expected"].to_numpy(dtype=float)
    observed = out["observed"].to_numpy(dtype=float)
    null_var = out[by].map(variance).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / expected, np.nan)
        s_null = np.where(expected > 0, np.sqrt(null_var) / expected, np.nan)
        z = (ratio - 1) / s_null
    # The interval of the ratio uses the variance at the estimated ratio (each stratum's rate times the ratio).
    alt = work.assign(_r=work[by].map(dict(zip(out[by], ratio, strict=True))))
    p_alt = np.clip(alt["_p"] * alt["_r"], 0, 1)
    alt_var = (alt[n] * p_alt * (1 - p_alt)).groupby(alt[by], observed=True).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        s_alt = np.where(expected > 0, np.sqrt(out[by].map(alt_var).to_numpy(dtype=float)) / expected, np.nan)
    zc = stats._z(confidence)
    out["ratio"] = ratio
    out["lowercl"] = np.maximum(ratio - zc * s_alt, 0)
    out["uppercl"] = ratio + zc * s_alt
    out["z"] = z
    method = "no over-dispersion allowed for"
    od = None
    se = s_null
    if overdispersion:
        kind = "additive" if overdispersion is True else str(overdispersion)
        ok = np.isfinite(z) & np.isfinite(s_null) & (s_null > 0)
        od = stats.estimate_overdispersion(z[ok], s_null[ok], method=kind)
        if od.adjusts:
            se = s_null * np.sqrt(od.phi) if kind == "multiplicative" else np.sqrt(s_null**2 + od.tau2)
            out["z_adjusted"] = (ratio - 1) / se
        method = od.describe()
    flag = np.full(len(out), "within 95%", dtype=object)
    for level, word in ((0.95, "95%"), (0.998, "99.8%")):
        half = stats._z(level) * se
        tag = "99_8" if level == 0.998 else "95"
        out[f"lower_{tag}"] = np.maximum(1 - half, 0)
        out[f"upper_{tag}"] = 1 + half
        flag = np.where(ratio > 1 + half, f"above {word}", np.where(ratio < 1 - half, f"below {word}", flag))
    flag = np.where(np.isfinite(ratio), flag, "not assessed: no expected referrals")
    out["flag"] = flag
    out["variance_factor"] = np.where(expected > 0, null_var / expected, np.nan)
    out["method"] = (
        f"{exp['method'].iloc[0]}; binomial variance of the observed count under the area's rates, sum n p (1 - p); "
        f"{int(round(100 * confidence))}% normal interval of the ratio at its estimate; funnel limits 1 +/- z s "
        f"({method})"
    )
    out.attrs["overdispersion"] = od
    out.attrs["variance_factor"] = float(np.nansum(null_var) / np.nansum(expected)) if np.nansum(expected) else 1.0
    return out


def referral_ratios(
    crimes: pd.DataFrame,
    referrals: pd.DataFrame,
    by: str = "district_code",
    strata: Sequence[str] = ("crime_group", "victim_sex", "victim_age_band"),
    overdispersion: bool | str = False,
    names: dict[str, str] | None = None,
    denominator: Literal["code", "assessed"] = "code",
) -> ReferralRatios:
    """Are districts (or teams) referring as many victims as expected for their crimes and victims?

    Victims eligible are those the Victims' Code says should be referred (:func:`code_denominator`): an
    identified victim, a need recorded by the officer and agreement to referral (all assessed victims when
    consent or need is not recorded; ``table.attrs["note"]`` says which). Victims who declined are not
    failures: they are counted in the ``declined`` column, not in the ratio. Referred are those with a police
    referral in the referrals table. Each unit's expected referrals apply the area's referral rate in each
    stratum (crime group and victim mix) to the unit's eligible victims.

    Parameters
    ----------
    crimes, referrals : the canonical tables.
    by : the unit column in ``crimes`` (``district_code`` by default, or a team column if supplied).
    strata : columns of ``crimes`` to standardise for; missing values form their own "Not recorded" stratum.
    overdispersion : False (exact Poisson funnel), ``"multiplicative"`` or ``"additive"`` (True).
    names : unit code -> name, for plain-words tables (e.g. from ``AreaData.districts``).
    denominator : ``"code"`` (victims with a need who agreed to referral) or ``"assessed"`` (all assessed
        victims, the wider denominator of earlier packs).

    Returns
    -------
    ReferralRatios

    References
    ----------
    Breslow NE, Day NE (1987). Statistical Methods in Cancer Research, vol. II. IARC. Spiegelhalter DJ (2005).
    Funnel plots for comparing institutional performance. Statistics in Medicine 24:1185-1202; Handling
    over-dispersion of performance indicators. Quality and Safety in Health Care 14:347-351.

    Examples
    --------
    >>> crimes = pd.DataFrame({"crime_id": [f"C{i}" for i in range(8)], "district_code": ["A"] * 4 + ["B"] * 4,
    ...     "crime_group": ["DA", "DA", "Other", "Other"] * 2, "victim_identified": [True] * 8,
    ...     "needs_assessment_done": [True] * 8})
    >>> refs = pd.DataFrame({"crime_id": ["C0", "C1", "C2", "C4"], "source": ["Police"] * 4})
    >>> r = referral_ratios(crimes, refs, strata=["crime_group"])
    >>> r.table[["district_code", "observed", "expected"]]
      district_code  observed  expected
    0             A         3       2.0
    1             B         1       2.0
    """
    strata = list(strata)
    _need_columns(
        crimes, ["crime_id", "victim_identified", "needs_assessment_done", by, *strata], "crimes", "referral_ratios"
    )
    _need_columns(referrals, ["crime_id", "source"], "referrals", "referral_ratios")
    if denominator not in ("code", "assessed"):
        raise ValueError(f"referral_ratios: denominator must be 'code' or 'assessed', not {denominator!r}")
    d = code_denominator(crimes)
    eligible = d.eligible if denominator == "code" else d.assessed
    work = pd.DataFrame({col: _labels(crimes[col]).astype(str) for col in [by, *strata]})
    work["referred"] = _police_linked(crimes, referrals).astype(int)
    work["victims"] = 1
    located = crimes[by].notna().to_numpy()
    counts = (
        work[eligible & located].groupby([by, *strata], observed=True, sort=True)[["referred", "victims"]].sum()
    ).reset_index()
    table = standardised_referrals(counts, "referred", "victims", by, strata, overdispersion)
    declined = work.loc[d.declined & located, by].value_counts()
    table.insert(2, "declined", table[by].map(declined).fillna(0).astype("int64").to_numpy())
    notes = [d.note if denominator == "code" else "all assessed victims (the wider denominator: declining counts "
             "as not referred)."]
    dropped = int((eligible & ~located).sum())
    if dropped:
        notes.append(f"{dropped:,} eligible victims have no {by} and are left out of the comparison.")
    table.attrs["note"] = " ".join(notes)
    return ReferralRatios(
        table=table,
        by=by,
        strata=strata,
        overdispersion=table.attrs.get("overdispersion"),
        names=dict(names or {}),
        counts=counts,
    )


# --------------------------------------------------------------------------------------------------
# 3. Who is less likely to be referred or supported? Binomial GLM
# --------------------------------------------------------------------------------------------------

#: Covariates of the referral model, in the order shown.
MODEL_COVARIATES: tuple[str, ...] = (
    "crime_group",
    "district_code",
    "victim_sex",
    "victim_age_band",
    "victim_ethnicity",
    "victim_disability",
    "is_repeat_victim",
)


@dataclass
class OddsRatios:
    """Adjusted and unadjusted odds ratios from a binomial GLM (see :func:`referral_model`).

    Attributes
    ----------
    table : one row per covariate level: ``covariate, level, reference, n, events, rate, odds_ratio,
        lower, upper, p_value, unadjusted_or, unadjusted_lower, unadjusted_upper, warning, method``.
    outcome : what was modelled, in words.
    n : rows (victims) in the model; ``events`` how many had the outcome.
    notes : covariates left out and why, sparse groups, the denominator used.
    result : the adjusted model (statsmodels GLM results, or :class:`victimneeds.compare.FirthFit`).
    declined : for a referral model with consent recorded, victims with a need who declined referral, overall
        and by covariate, with Wilson intervals (:func:`declined_table`); None otherwise.
    wider : for a referral model on the Victims' Code denominator, the same table fitted over all assessed
        victims (declining counted as not referred), for comparison with earlier packs; None otherwise.
    """

    table: pd.DataFrame
    outcome: str
    n: int
    events: int
    notes: list[str] = field(default_factory=list)
    result: object | None = None
    declined: pd.DataFrame | None = None
    wider: pd.DataFrame | None = None

    def summary(self) -> str:
        lines = [
            f"Binomial GLM of {self.outcome}: {self.n:,} victims, {self.events:,} with the outcome",
            "covariate / level (vs reference): adjusted OR (95% CI); unadjusted OR",
        ]
        for r in self.table.itertuples(index=False):
            warn = f"  [{r.warning}]" if r.warning else ""
            lines.append(
                f"{r.covariate:<18} {r.level:<22} vs {r.reference:<18} {r.odds_ratio:6.2f} "
                f"({r.lower:.2f}-{r.upper:.2f}); {r.unadjusted_or:.2f}{warn}"
            )
        if self.declined is not None and len(self.declined):
            r = self.declined.iloc[0]
            lines.append(
                f"Declined referral (not a failure): {r['declined']:,} of {r['with_need']:,} victims with a need "
                f"({_fmt_pct(r['value'], r['lowercl'], r['uppercl'])})"
            )
        return "\n".join(lines + [f"Note: {n}" for n in self.notes])

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax: Axes | None = None, covariates: Sequence[str] | None = None,
             names: dict | None = None) -> Axes:
        """Forest plot: adjusted (circles) and unadjusted (squares) odds ratios with 95% intervals, log scale.

        ``names`` maps level codes to the labels shown (e.g. district code -> district name).
        """
        names = {str(k): str(v) for k, v in (names or {}).items()}
        t = self.table if covariates is None else self.table[self.table["covariate"].isin(covariates)]
        t = t[np.isfinite(t["odds_ratio"])].reset_index(drop=True)
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(0.3 * len(t) + 1.8))
        y = np.arange(len(t))[::-1].astype(float)
        ax.errorbar(
            t["odds_ratio"],
            y + 0.15,
            xerr=[t["odds_ratio"] - t["lower"], t["upper"] - t["odds_ratio"]],
            fmt=MARKERS[0],
            color=PALETTE[0],
            capsize=2,
            markersize=4,
            label="Adjusted OR (95% CI)",
        )
        ax.errorbar(
            t["unadjusted_or"],
            y - 0.15,
            xerr=[t["unadjusted_or"] - t["unadjusted_lower"], t["unadjusted_upper"] - t["unadjusted_or"]],
            fmt=MARKERS[1],
            color=PALETTE[3],
            capsize=2,
            markersize=4,
            label="Unadjusted OR (95% CI)",
        )
        ax.axvline(1.0, color=PALETTE[4], linestyle="--", linewidth=1)
        ax.set_xscale("log")
        ax.set_yticks(
            y,
            [f"{labels.variable_label(c)}: {labels.level_label(lv, c, names)} (vs {labels.level_label(rf, c, names)})"
             for c, lv, rf in zip(t["covariate"], t["level"], t["reference"], strict=True)],
            fontsize=8,
        )
        plain_log_axis(ax, "x")
        ax.set_xlabel("Odds ratio, 95% interval (log scale; below 1 = less likely)")
        ax.set_title(f"Odds of {self.outcome.split(' (')[0]}, by group")
        ax.grid(axis="y", visible=False)
        legend_below(ax)
        return ax


def _model_frame(
    crimes: pd.DataFrame | None, referrals: pd.DataFrame, outcome: str, denominator: str = "code"
) -> tuple[pd.DataFrame, np.ndarray, str, list[str]]:
    notes: list[str] = []
    if outcome == "referred":
        if crimes is None:
            raise ValueError(
                "referral_model(outcome='referred') needs the crimes table: referral is modelled among "
                "victims with an identified need who agreed to referral (the Victims' Code denominator)"
            )
        d = code_denominator(crimes)
        if denominator == "code" and d.uses_consent:
            keep = d.eligible
            label = "police referral (among victims with a need who agreed to referral)"
            notes.append(d.note)
        else:
            keep = d.assessed
            label = "police referral (among assessed victims)"
            if denominator == "code":
                notes.append(d.note)
            notes.append(
                f"{int((~keep).sum()):,} crimes without an identified victim or a needs assessment are not in "
                "the model."
            )
        frame = crimes[keep]
        y = _police_linked(crimes, referrals)[keep]
        return frame, y, label, notes
    if outcome == "support_accepted":
        keep = _flag(referrals, "contact_made")
        frame = referrals[keep]
        if crimes is not None and "is_repeat_victim" not in frame.columns and "is_repeat_victim" in crimes.columns:
            rep = crimes.set_index(crimes["crime_id"].astype(str))["is_repeat_victim"]
            rep = rep[~rep.index.duplicated()]
            frame = frame.assign(is_repeat_victim=frame["crime_id"].astype(str).map(rep).to_numpy())
        y = _flag(frame, "support_accepted")
        notes.append(f"{int((~keep).sum()):,} referrals without contact made are not in the model.")
        return frame, y, "support accepted (among victims contacted)", notes
    raise ValueError(f"referral_model: outcome must be 'referred' or 'support_accepted', not {outcome!r}")


def referral_model(
    crimes: pd.DataFrame | None,
    referrals: pd.DataFrame,
    outcome: Literal["referred", "support_accepted"] = "referred",
    covariates: Sequence[str] = MODEL_COVARIATES,
    reference: dict[str, str] | None = None,
    min_group: int = 50,
    min_events: int = 10,
    confidence: float = 0.95,
    denominator: Literal["code", "assessed"] = "code",
) -> OddsRatios:
    """Binomial GLM (logistic regression) of referral, or of support accepted, on victim and crime characteristics.

    ``outcome="referred"`` models a police referral among the victims the Victims' Code says should be
    referred (Right 4): an identified victim, a need recorded by the officer and agreement to referral
    (:func:`code_denominator`). Victims who declined are not failures: they are left out of the model and
    counted in ``declined`` (share declining by each covariate), and the same model over all assessed
    victims (the wider, older denominator, which mixes declining with not being referred) is in ``wider``.
    ``denominator="assessed"`` fits that wider model as the main one. When the crimes table has no usable
    ``consent_to_refer``, the wider denominator is used and the notes say so. ``"support_accepted"`` models
    acceptance among referrals where contact was made (repeat victimisation is taken from the crimes table
    through ``crime_id`` when given).

    Each covariate is a factor; missing values form a "Not recorded" level; the reference level is the
    largest group unless ``reference`` names one. The model is fitted to the counts of each covariate pattern
    (identical to fitting it to the individual victims, but quicker) by :func:`victimneeds.compare.odds_ratios`:
    maximum likelihood, or Firth's penalised likelihood with profile intervals where a level has all or none
    of the outcome (separation), so that no odds ratio of 10^9 with an interval of 0 to infinity is reported.
    Unadjusted odds ratios come from each covariate's own 2x2 tables with Woolf's logit interval, which equals
    a one-factor logistic regression (a zero cell adds 1/2 to each cell, Firth's estimate for the table).

    Parameters
    ----------
    crimes, referrals : the canonical tables (``crimes`` may be None for ``"support_accepted"``).
    outcome : ``"referred"`` or ``"support_accepted"``.
    covariates : factor columns; those absent from the table are left out with a note.
    reference : covariate -> reference level.
    min_group, min_events : a level with fewer victims, or fewer than ``min_events`` with or without the
        outcome, is flagged in ``warning`` (its odds ratio is imprecise) and a Python warning is raised.
    confidence : level of the intervals.
    denominator : ``"code"`` (victims with a need who agreed to referral) or ``"assessed"`` (all assessed
        victims); only used for ``outcome="referred"``.

    Returns
    -------
    OddsRatios

    References
    ----------
    Ministry of Justice (2020). Code of Practice for Victims of Crime in England and Wales, Right 4.
    McCullagh P, Nelder JA (1989). Generalized Linear Models, 2nd edition. Chapman and Hall. Woolf B (1955). On
    estimating the relation between blood group and disease. Annals of Human Genetics 19:251-253. Firth D
    (1993). Biometrika 80:27-38. Heinze G, Schemper M (2002). Statistics in Medicine 21:2409-2419.

    Examples
    --------
    >>> refs = pd.DataFrame({"contact_made": [True] * 8, "crime_id": [None] * 8,
    ...     "support_accepted": [True, True, True, False, True, False, False, False],
    ...     "victim_sex": ["Female"] * 4 + ["Male"] * 4})
    >>> m = referral_model(None, refs, "support_accepted", covariates=["victim_sex"], reference={
    ...     "victim_sex": "Female"}, min_group=1, min_events=1)
    >>> round(float(m.table["odds_ratio"].iloc[0]), 4)  # (1/3) / (3/1)
    0.1111
    """
    if denominator not in ("code", "assessed"):
        raise ValueError(f"referral_model: denominator must be 'code' or 'assessed', not {denominator!r}")
    frame, y, label, notes = _model_frame(crimes, referrals, outcome, denominator)
    used = [c for c in covariates if c in frame.columns]
    for c in covariates:
        if c not in frame.columns:
            notes.append(f"'{c}' is not in the table for this model and is left out.")
    if not used:
        raise ValueError(f"referral_model: none of the covariates {list(covariates)} is in the table")
    if len(frame) == 0:
        raise ValueError(f"referral_model: no victims to model for outcome {outcome!r}")
    table, res = compare.odds_ratios(
        frame, pd.Series(y, index=frame.index), used, reference, None, confidence, min_group, min_events
    )
    method = table.pop("model")
    table["confidence"] = f"{confidence:.0%}"
    table["method"] = (
        (method.iloc[0] if len(method) else "logistic regression")
        + ", adjusted for all covariates shown; unadjusted: Woolf logit interval"
    )
    if len(method) and method.iloc[0].startswith("Firth"):
        notes.append(f"the model used {method.iloc[0]}.")
    small = table[table["warning"] != ""]
    if len(small):
        groups = ", ".join(small["covariate"] + "=" + small["level"])
        msg = f"referral_model: {len(small)} group(s) are small ({groups}); their odds ratios are imprecise"
        notes.append(msg)
        warnings.warn(msg, stacklevel=2)
    declined, wider = None, None
    if outcome == "referred" and crimes is not None:
        d = code_denominator(crimes)
        if d.uses_consent and denominator == "code":
            declined = declined_table(crimes, [c for c in used if c in crimes.columns], confidence, d)
            if denominator == "code":
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    wider = referral_model(
                        crimes, referrals, outcome, covariates, reference, min_group, min_events, confidence,
                        "assessed",
                    ).table
    return OddsRatios(
        table=table, outcome=label, n=len(y), events=int(np.sum(y)), notes=notes, result=res,
        declined=declined, wider=wider,
    )


# --------------------------------------------------------------------------------------------------
# 4. Timeliness: referral to first contact (Kaplan-Meier)
# --------------------------------------------------------------------------------------------------


@dataclass
class ContactTimes:
    """Working days from referral to first contact attempt, by group (see :func:`contact_times`).

    Attributes
    ----------
    table : one row per group: ``referrals, contacted, censored, median_days, median_lower, median_upper,
        within_<d>_days`` with ``_lower``/``_upper`` (percentages), ``method``.
    curves : the Kaplan-Meier curves, one row per group and time: ``days, share_contacted``.
    """

    table: pd.DataFrame
    curves: pd.DataFrame
    by: list[str]
    limits: tuple[int, ...]
    overall: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        lines = ["Working days from referral to first contact attempt (Kaplan-Meier, open cases censored)"]
        for r in self.table.to_dict("records"):
            name = ", ".join(str(r[c]) for c in self.by) or "All referrals"
            within = "; ".join(f"{r[f'within_{d}_days']:.0f}% within {d}" for d in self.limits)
            lines.append(f"{name:<32} n={r['referrals']:>7,} median {r['median_days']:.0f} days; {within}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax: Axes | None = None, max_days: int = 20) -> Axes:
        """Step curves of the share contacted by each working day, with the Victims' Code times marked."""
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(4.2))
        groups = self.curves.groupby("group", sort=False)
        for i, (name, g) in enumerate(groups):
            g = g[g["days"] <= max_days]
            ax.step(
                np.r_[0, g["days"]],
                np.r_[0, g["share_contacted"]],
                where="post",
                color=PALETTE[i % 6],
                linestyle=["-", "--", "-.", ":"][i % 4],
                label=str(name),
            )
        for d in self.limits:
            ax.axvline(d, color=PALETTE[4], linewidth=0.8, linestyle=":")
            ax.text(d, 101, f"{d} days", ha="center", fontsize=8)
        ax.set_xlim(0, max_days)
        ax.set_ylim(0, 105)
        ax.set_xlabel("Working days since referral")
        ax.set_ylabel("% with a first contact attempt")
        ax.set_title("How quickly do services first contact victims?")
        legend_below(ax, fontsize=8)
        return ax


def _km_share(sf: SurvfuncRight, t: float, confidence: float) -> tuple[float, float, float]:
    """1 - S(t) with a log(-log) interval (:func:`victimneeds.stats.survival_band`), in percent."""
    times = np.asarray(sf.surv_times)
    idx = np.searchsorted(times, t, side="right") - 1
    if idx < 0:
        return 0.0, 0.0, 0.0
    s = float(sf.surv_prob[idx])
    lo_s, hi_s = stats.survival_band([s], [float(sf.surv_prob_se[idx])], confidence)
    return 100 * (1 - s), 100 * (1 - float(hi_s[0])), 100 * (1 - float(lo_s[0]))


def contact_times(
    referrals: pd.DataFrame,
    by: str | Sequence[str] | None = "service",
    extract_date: str | pd.Timestamp | None = None,
    limits: Sequence[int] = (2, 5),
    confidence: float = 0.95,
) -> ContactTimes:
    """Time from referral to first contact attempt in working days, by Kaplan-Meier, with open cases censored.

    Working days are counted Monday to Friday (:func:`numpy.busday_count`, no bank holidays). A referral with
    no first contact is censored at its closure date, or at the extract date while the case is open; so a
    referral made last week counts for the days it has been open, not as a failure. The Victims' Code (Right
    4) expects referral within 2 working days, and within 5 for some victims; the share contacted within each
    of ``limits`` is 1 - S(t), with a log(-log) interval from Greenwood's variance.

    Parameters
    ----------
    referrals : the canonical referrals table.
    by : column(s) to compare (``service`` by default, or ``district_code``), or None.
    extract_date : when the data were extracted; default the latest date in the table.
    limits : working days at which to report the share contacted.
    confidence : level of the intervals.

    Returns
    -------
    ContactTimes

    References
    ----------
    Kaplan EL, Meier P (1958). Nonparametric estimation from incomplete observations. JASA 53:457-481.
    Kalbfleisch JD, Prentice RL (2002). The Statistical Analysis of Failure Time Data, 2nd ed. Wiley.

    Examples
    --------
    Referred on Monday 1 April 2024: contacted the same day, Tuesday, Thursday and Friday; one case closed on
    Wednesday without contact (censored at 2 working days). Kaplan-Meier: S(0) = 4/5, S(1) = 3/5, S(3) = 3/10,
    so 40% are contacted within 2 working days and the median is 3.

    >>> refs = pd.DataFrame({"service": ["A"] * 5,
    ...     "referral_date": pd.to_datetime(["2024-04-01"] * 5),
    ...     "first_contact_date": pd.to_datetime(["2024-04-01", "2024-04-02", "2024-04-04", "2024-04-05", None]),
    ...     "closed_date": pd.to_datetime([None, None, None, None, "2024-04-03"])})
    >>> ct = contact_times(refs, extract_date="2024-05-01")
    >>> ct.table[["service", "referrals", "contacted", "censored", "median_days", "within_2_days"]].round(1)
      service  referrals  contacted  censored  median_days  within_2_days
    0       A          5          4         1          3.0           40.0
    """
    by_cols = _as_list(by)
    _need_columns(
        referrals, ["referral_date", "first_contact_date", "closed_date", *by_cols], "referrals", "contact_times"
    )
    start = pd.to_datetime(referrals["referral_date"]).to_numpy().astype("datetime64[D]")
    contact = pd.to_datetime(referrals["first_contact_date"])
    closed = pd.to_datetime(referrals["closed_date"])
    if extract_date is None:
        extract = max(
            pd.to_datetime(referrals[c]).max() for c in ("referral_date", "first_contact_date", "closed_date")
        )
    else:
        extract = pd.Timestamp(extract_date)
    end = contact.fillna(closed).fillna(extract).to_numpy().astype("datetime64[D]")
    bad = end < start
    if bad.any():
        raise ValueError(
            f"contact_times: {int(bad.sum())} referrals have a first contact or closure before the "
            f"referral date (rows {list(referrals.index[bad][:5])}); check the dates"
        )
    days = np.busday_count(start, end).astype(float)
    event = contact.notna().to_numpy()
    groups = {c: _text(_labels(referrals[c])) for c in by_cols}
    keys = _keys(referrals, by_cols, "All referrals")
    rows, curves = [], []
    for key in np.unique(keys):
        mask = keys == key
        sf = SurvfuncRight(days[mask], event[mask].astype(int))
        med = float(sf.quantile(0.5)) if event[mask].any() else np.nan
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                med_lo, med_hi = (float(v) for v in sf.quantile_ci(0.5, alpha=1 - confidence))
            except (ValueError, ZeroDivisionError, IndexError):
                med_lo, med_hi = np.nan, np.nan
        row = {c: groups[c][mask][0] for c in by_cols}
        row.update(
            {
                "referrals": int(mask.sum()),
                "contacted": int(event[mask].sum()),
                "censored": int((~event[mask]).sum()),
                "median_days": med,
                "median_lower": med_lo,
                "median_upper": med_hi,
            }
        )
        for d in limits:
            v, lo, hi = _km_share(sf, d, confidence)
            row.update({f"within_{d}_days": v, f"within_{d}_days_lower": lo, f"within_{d}_days_upper": hi})
        rows.append(row)
        curves.append(
            pd.DataFrame(
                {
                    "group": key,
                    "days": np.asarray(sf.surv_times),
                    "share_contacted": 100 * (1 - np.asarray(sf.surv_prob)),
                }
            )
        )
    sf_all = SurvfuncRight(days, event.astype(int))
    overall = {"referrals": float(len(days))}
    for d in limits:
        v, lo, hi = _km_share(sf_all, d, confidence)
        overall.update({f"within_{d}_days": v, f"within_{d}_days_lower": lo, f"within_{d}_days_upper": hi})
    table = pd.DataFrame(rows)
    table["confidence"] = f"{confidence:.0%}"
    table["method"] = (
        "Kaplan-Meier (statsmodels SurvfuncRight), working days Mon-Fri; censored at closure or "
        f"extract date {extract:%d %B %Y}; log(-log) Greenwood intervals"
    )
    return ContactTimes(
        table=table,
        curves=pd.concat(curves, ignore_index=True),
        by=by_cols,
        limits=tuple(int(d) for d in limits),
        overall=overall,
    )


# --------------------------------------------------------------------------------------------------
# 5. Needs-assessment accuracy: missed victims and unneeded referrals
# --------------------------------------------------------------------------------------------------


@dataclass
class AccuracyResult:
    """How well the officer's needs assessment matched later evidence of need (see :func:`assessment_accuracy`).

    Attributes
    ----------
    table : one row per group: the 2x2 counts ``referred_need``, ``referred_no_need``, ``missed``,
        ``not_referred_no_evidence``, ``referred_unknown`` (no contact, so need not known),
        ``declined_referral`` (evidence of need, not referred, the victim declined: not a failure), and the
        rates ``missed_rate``, ``unneeded_rate`` and ``declined_rate`` (percentages) with Wilson limits.
    two_by_two : long form of the 2x2 table, one row per group, referred (yes/no) and need (yes/no).
    """

    table: pd.DataFrame
    two_by_two: pd.DataFrame
    by: list[str]

    def summary(self) -> str:
        lines = ["Needs assessment accuracy: missed victims (need shown, not referred) and unneeded referrals"]
        for r in self.table.to_dict("records"):
            name = ", ".join(str(r[c]) for c in self.by) or "All assessed victims"
            lines.append(
                f"{name:<24} missed {_fmt_pct(r['missed_rate'], r['missed_lower'], r['missed_upper'])}; "
                f"unneeded {_fmt_pct(r['unneeded_rate'], r['unneeded_lower'], r['unneeded_upper'])}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax: Axes | None = None, names: dict | None = None) -> Axes:
        """Missed and unneeded rates by group, dots with 95% intervals; ``names`` maps codes to labels."""
        t = self.table.reset_index(drop=True)
        labels = _group_labels(t, self.by, names) if self.by else pd.Series(["All"])
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(0.45 * len(t) + 1.8))
        y = np.arange(len(t))[::-1].astype(float)
        for i, (col, label) in enumerate(
            (("missed", "Missed: need shown, not referred"), ("unneeded", "Unneeded: referred, no need or declined"))
        ):
            v = t[f"{col}_rate"]
            ax.errorbar(
                v,
                y + (0.15 if i == 0 else -0.15),
                xerr=[v - t[f"{col}_lower"], t[f"{col}_upper"] - v],
                fmt=MARKERS[i],
                color=PALETTE[i * 3],
                capsize=3,
                label=label,
            )
        ax.set_yticks(y, labels.tolist())
        ax.set_xlabel("% (95% interval)")
        ax.set_title("How often does the officer's needs assessment get it wrong?")
        legend_below(ax)
        return ax


def assessment_accuracy(
    crimes: pd.DataFrame,
    referrals: pd.DataFrame,
    by: str | Sequence[str] | None = "district_code",
    confidence: float = 0.95,
) -> AccuracyResult:
    """Missed victims and unneeded referrals: the officer's needs assessment against later evidence of need.

    Among crimes with an identified victim and a needs assessment:

    * a **missed victim** was not referred by police although there is evidence of need: the officer recorded a
      need but no referral followed, or the victim is a repeat victim (victimised again within 12 months),
      and the victim did not decline referral;
    * a victim who **declined referral** (``consent_to_refer`` false) has not been failed under the Victims'
      Code (Right 4): such victims are counted in ``declined_referral``, never as missed, and
      ``declined_rate`` is their share of the victims with evidence of need who were not referred;
    * an **unneeded referral** was referred, contacted, and the service found no need or the victim declined
      support. Referred victims never contacted have an unknown need and are counted apart.

    The missed rate is missed / (missed + referred with need confirmed); the unneeded rate is unneeded / referred
    victims contacted. Both have Wilson intervals. This is the 2x2 table of the assessment's decision
    (referred or not) against the evidence of need, for each group.

    Parameters
    ----------
    crimes, referrals : the canonical tables (referrals need ``crime_id``, ``source``, ``contact_made``,
        ``need_identified`` and ``support_accepted``).
    by : grouping column(s) of ``crimes``, e.g. ``district_code`` or ``crime_group``; None for the whole area.
    confidence : level of the intervals.

    Returns
    -------
    AccuracyResult

    References
    ----------
    Wilson EB (1927). JASA 22:209-212. Altman DG, Bland JM (1994). Diagnostic tests 1: sensitivity and
    specificity. BMJ 308:1552.

    Examples
    --------
    >>> crimes = pd.DataFrame({"crime_id": ["C1", "C2", "C3", "C4"], "district_code": ["A"] * 4,
    ...     "victim_identified": [True] * 4, "needs_assessment_done": [True] * 4,
    ...     "need_identified": [True, True, True, False], "is_repeat_victim": [False, False, False, False]})
    >>> refs = pd.DataFrame({"crime_id": ["C1", "C2"], "source": ["Police"] * 2, "contact_made": [True, True],
    ...     "need_identified": [True, False], "support_accepted": [True, False]})
    >>> a = assessment_accuracy(crimes, refs)
    >>> a.table[["referred_need", "referred_no_need", "missed", "not_referred_no_evidence"]]
       referred_need  referred_no_need  missed  not_referred_no_evidence
    0              1                 1       1                         1
    """
    by_cols = _as_list(by)
    _need_columns(
        crimes,
        ["crime_id", "victim_identified", "needs_assessment_done", "need_identified", *by_cols],
        "crimes",
        "assessment_accuracy",
    )
    _need_columns(
        referrals,
        ["crime_id", "source", "contact_made", "need_identified", "support_accepted"],
        "referrals",
        "assessment_accuracy",
    )
    keep = _flag(crimes, "victim_identified") & _flag(crimes, "needs_assessment_done")
    c = crimes[keep]
    is_police = (referrals["source"].astype(str) == "Police").to_numpy() & referrals["crime_id"].notna().to_numpy()
    police = referrals[is_police]
    pos = pd.Index(_text(police["crime_id"]).astype(object)).get_indexer(_text(c["crime_id"]).astype(object))
    referred = pos >= 0
    made = np.zeros(len(c), dtype=bool)
    need_found = np.zeros(len(c), dtype=bool)
    made[referred] = _flag(police, "contact_made")[pos[referred]]
    need_found[referred] = (_flag(police, "need_identified") & _flag(police, "support_accepted"))[pos[referred]]
    evidence = _flag(c, "need_identified")
    if "is_repeat_victim" in c.columns:
        evidence = evidence | _flag(c, "is_repeat_victim")
    # A victim who declined referral has not been failed (Victims' Code, Right 4): never "missed".
    said_no = np.zeros(len(c), dtype=bool)
    if "consent_to_refer" in c.columns:
        consent = pd.array(c["consent_to_refer"], dtype="boolean")
        said_no = ~np.asarray(consent.isna(), dtype=bool) & ~consent.fillna(True).to_numpy(dtype=bool)
    declined = ~referred & evidence & said_no
    work = pd.DataFrame({col: _labels(c[col]).astype(str).to_numpy() for col in by_cols})
    work["referred_need"] = referred & made & need_found
    work["referred_no_need"] = referred & made & ~need_found
    work["referred_unknown"] = referred & ~made
    work["missed"] = ~referred & evidence & ~declined
    work["declined_referral"] = declined
    work["not_referred_no_evidence"] = ~referred & ~evidence
    counts = ["referred_need", "referred_no_need", "referred_unknown", "missed", "declined_referral",
              "not_referred_no_evidence"]
    if by_cols:
        table = work.groupby(by_cols, sort=True)[counts].sum().reset_index()
    else:
        table = work[counts].sum().to_frame().T.reset_index(drop=True)
    table[counts] = table[counts].astype("int64")
    table["with_need"] = table["missed"] + table["referred_need"]
    table["referred_contacted"] = table["referred_need"] + table["referred_no_need"]
    table["need_not_referred"] = table["missed"] + table["declined_referral"]
    for name, x, n in (
        ("missed", "missed", "with_need"),
        ("unneeded", "referred_no_need", "referred_contacted"),
        ("declined", "declined_referral", "need_not_referred"),
    ):
        p = stats.proportion(table, x, n, confidence, multiplier=100)
        table[f"{name}_rate"] = p["value"].to_numpy()
        table[f"{name}_lower"] = p["lowercl"].to_numpy()
        table[f"{name}_upper"] = p["uppercl"].to_numpy()
    table["confidence"] = f"{confidence:.0%}"
    table["method"] = (
        "evidence of need: officer recorded a need or repeat victim (not referred), service found a "
        "need and support accepted (referred); victims who declined referral are counted apart, never as "
        "missed (Victims' Code, Right 4); Wilson intervals"
    )
    long = table.melt(
        id_vars=by_cols,
        value_vars=["referred_need", "referred_no_need", "missed", "not_referred_no_evidence"],
        var_name="cell",
        value_name="victims",
    )
    long["referred"] = np.where(long["cell"].str.startswith("referred"), "Referred", "Not referred")
    long["need"] = np.where(long["cell"].isin(["referred_need", "missed"]), "Need shown", "No need shown")
    long = long[[*by_cols, "referred", "need", "victims"]].sort_values([*by_cols, "referred", "need"])
    return AccuracyResult(table=table, two_by_two=long.reset_index(drop=True), by=by_cols)


# --------------------------------------------------------------------------------------------------
# 6. Onward referrals and capacity
# --------------------------------------------------------------------------------------------------


def onward_acceptance(
    referrals: pd.DataFrame,
    busy_quantile: float = 0.75,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Do onward referrals to specialist services fail at busy times?

    For each specialist service (``onward_referral``), the share of onward referrals it accepted
    (``onward_accepted``) in its **busy months** (months whose onward referrals to it are above its
    ``busy_quantile`` of months) and in its other months, each with a Wilson interval, and the difference
    (busy minus other, percentage points) with Newcombe's interval and a two-sided test.

    Parameters
    ----------
    referrals : canonical referrals with ``referral_date``, ``onward_referral`` and ``onward_accepted``.
    busy_quantile : months above this quantile of a service's monthly onward referrals count as busy.
    confidence : level of the intervals.

    Returns
    -------
    One row per specialist service: ``onward_referral, busy_months, referrals_busy, accepted_busy, pct_busy,
    pct_busy_lower, pct_busy_upper, referrals_other, accepted_other, pct_other, pct_other_lower,
    pct_other_upper, difference, difference_lower, difference_upper, p_value, finding, method``. Onward
    referrals with no recorded acceptance are left out (their number is in ``.attrs["no_answer"]``).

    References
    ----------
    Wilson EB (1927). JASA 22:209-212. Newcombe RG (1998). Statistics in Medicine 17:873-890.

    Examples
    --------
    >>> refs = pd.DataFrame({
    ...     "referral_date": pd.to_datetime(["2024-01-05"] * 4 + ["2024-02-05"] * 8 + ["2024-03-05"] * 4),
    ...     "onward_referral": ["ISVA"] * 16,
    ...     "onward_accepted": [True] * 4 + [True] * 4 + [False] * 4 + [True, True, True, False]})
    >>> t = onward_acceptance(refs, busy_quantile=0.5)
    >>> t[["busy_months", "referrals_busy", "accepted_busy", "referrals_other", "accepted_other"]].to_dict("records")
    [{'busy_months': 1, 'referrals_busy': 8, 'accepted_busy': 4, 'referrals_other': 8, 'accepted_other': 7}]
    """
    _need_columns(referrals, ["referral_date", "onward_referral", "onward_accepted"], "referrals",
                  "onward_acceptance")
    target = referrals["onward_referral"].astype("string")
    made = (target.notna() & (target != "None")).to_numpy(dtype=bool)
    answered = made & referrals["onward_accepted"].notna().to_numpy()
    work = pd.DataFrame({
        "onward_referral": target[made].astype(str),
        "month": pd.to_datetime(referrals["referral_date"][made]).dt.to_period("M"),
        "accepted": pd.array(referrals["onward_accepted"][made], dtype="boolean"),
    })
    monthly = work.groupby(["onward_referral", "month"]).size().rename("volume").reset_index()
    cut = monthly.groupby("onward_referral")["volume"].quantile(busy_quantile).rename("cut")
    monthly = monthly.join(cut, on="onward_referral")
    monthly["busy"] = monthly["volume"] > monthly["cut"]
    work = work.merge(monthly[["onward_referral", "month", "busy"]], on=["onward_referral", "month"], how="left")
    work = work[work["accepted"].notna()]
    rows = []
    for name, part in work.groupby("onward_referral", sort=True):
        busy, other = part[part["busy"]], part[~part["busy"]]
        rows.append({
            "onward_referral": name,
            "busy_months": int(monthly.loc[(monthly["onward_referral"] == name) & monthly["busy"], "month"].nunique()),
            "referrals_busy": len(busy), "accepted_busy": int(busy["accepted"].sum()),
            "referrals_other": len(other), "accepted_other": int(other["accepted"].sum()),
        })
    table = pd.DataFrame(rows, columns=["onward_referral", "busy_months", "referrals_busy", "accepted_busy",
                                        "referrals_other", "accepted_other"])
    for which in ("busy", "other"):
        p, lo, hi = stats.wilson(table[f"accepted_{which}"], table[f"referrals_{which}"], confidence)
        table[f"pct_{which}"], table[f"pct_{which}_lower"], table[f"pct_{which}_upper"] = 100 * p, 100 * lo, 100 * hi
    ok = (table["referrals_busy"] > 0) & (table["referrals_other"] > 0)
    table["difference"] = table["difference_lower"] = table["difference_upper"] = table["p_value"] = np.nan
    if ok.any():
        diff = stats.compare_proportions(table.loc[ok, "accepted_busy"], table.loc[ok, "referrals_busy"],
                                         table.loc[ok, "accepted_other"], table.loc[ok, "referrals_other"],
                                         confidence=confidence, multiplier=100)
        table.loc[ok, ["difference", "difference_lower", "difference_upper", "p_value"]] = diff[
            ["value", "lowercl", "uppercl", "p_value"]].to_numpy()
    level = f"{100 * confidence:g}%"
    table["finding"] = [
        (f"{r.onward_referral}: accepted {r.pct_busy:.0f}% of onward referrals in its busy months against "
         f"{r.pct_other:.0f}% otherwise ({r.difference:+.0f} points, {level} interval {r.difference_lower:+.0f} to "
         f"{r.difference_upper:+.0f}): onward referrals fail more at busy times")
        if r.difference_upper < 0 else
        (f"{r.onward_referral}: no evidence that acceptance falls in busy months "
         f"({r.pct_busy:.0f}% against {r.pct_other:.0f}%)" if not np.isnan(r.difference) else
         f"{r.onward_referral}: too few months to compare")
        for r in table.itertuples()
    ]
    table["method"] = (f"Wilson intervals; busy months above the {busy_quantile:g} quantile of the service's "
                       "monthly onward referrals; difference with Newcombe's hybrid score interval and chi-square test")
    table.attrs["no_answer"] = int((made & ~answered).sum())
    return table


def onward_matrix(referrals: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Onward referrals from each service to each specialist service: a tidy from-to table.

    Counts referrals where contact was made, by the service that took the referral (``service``) and the
    onward referral recorded (``onward_referral``; "None" when there was none), with each count as a
    percentage of the from-service's contacted victims (Wilson interval). Referrals without contact have no
    onward referral recorded and are left out (their number is in ``.attrs["not_contacted"]``).

    Parameters
    ----------
    referrals : the canonical referrals table.
    confidence : level of the intervals.

    Returns
    -------
    One row per from-service and onward target with at least one referral: ``service, onward_referral,
    referrals, contacted, value, lowercl, uppercl, confidence, statistic, method``.

    References
    ----------
    Wilson EB (1927). JASA 22:209-212.

    Examples
    --------
    >>> refs = pd.DataFrame({"service": ["VAL", "VAL", "VAL", "IDVA"], "contact_made": [True, True, False, True],
    ...     "onward_referral": ["ISVA", "None", None, "Counselling"]})
    >>> onward_matrix(refs)[["service", "onward_referral", "referrals", "contacted", "value"]]
      service onward_referral  referrals  contacted  value
    0    IDVA     Counselling          1          1  100.0
    1     VAL            ISVA          1          2   50.0
    2     VAL            None          1          2   50.0
    """
    _need_columns(referrals, ["service", "contact_made", "onward_referral"], "referrals", "onward_matrix")
    made = _flag(referrals, "contact_made")
    work = pd.DataFrame(
        {
            "service": _text(_labels(referrals["service"]))[made],
            "onward_referral": _text(_labels(referrals["onward_referral"]))[made],
        }
    )
    counts = work.groupby(["service", "onward_referral"]).size().rename("referrals").reset_index()
    counts["contacted"] = counts.groupby("service")["referrals"].transform("sum")
    out = stats.proportion(counts, "referrals", "contacted", confidence, multiplier=100)
    out.attrs["not_contacted"] = int((~made).sum())
    return out


def demand_vs_capacity(
    referrals: pd.DataFrame,
    services: pd.DataFrame,
    date: str = "referral_date",
) -> pd.DataFrame:
    """Monthly referrals to each service against its commissioned capacity.

    A service's monthly capacity is its ``capacity_cases`` (cases a year, from the services table) divided by
    12. Each month's referrals are compared with it; ``demand_ratio`` above 1 means more referrals arrived than
    the service was commissioned to take. Months are those of ``date``; services in the referrals table but not
    in the services table get no capacity (NaN) and are said so in ``note``.

    Parameters
    ----------
    referrals, services : the canonical tables.
    date : the date column that places a referral in a month.

    Returns
    -------
    One row per service and month: ``service, month, referrals, capacity_per_month, demand_ratio, note,
    method``.

    Examples
    --------
    >>> refs = pd.DataFrame({"service": ["A", "A", "A", "B"],
    ...     "referral_date": pd.to_datetime(["2024-04-02", "2024-04-20", "2024-05-01", "2024-04-03"])})
    >>> svc = pd.DataFrame({"service_name": ["A"], "capacity_cases": [24.0]})
    >>> demand_vs_capacity(refs, svc)[["service", "month", "referrals", "capacity_per_month", "demand_ratio"]]
      service    month  referrals  capacity_per_month  demand_ratio
    0       A  2024-04          2                 2.0           1.0
    1       A  2024-05          1                 2.0           0.5
    2       B  2024-04          1                 NaN           NaN
    """
    _need_columns(referrals, ["service", date], "referrals", "demand_vs_capacity")
    _need_columns(services, ["service_name", "capacity_cases"], "services", "demand_vs_capacity")
    work = pd.DataFrame(
        {
            "service": _text(_labels(referrals["service"])).astype(object),
            "month": pd.to_datetime(referrals[date]).dt.to_period("M"),
        }
    )
    missing_dates = int(work["month"].isna().sum())
    counts = work.dropna(subset=["month"]).groupby(["service", "month"]).size().rename("referrals").reset_index()
    cap = services.set_index(services["service_name"].astype(str))["capacity_cases"].astype(float) / 12
    counts["capacity_per_month"] = counts["service"].map(cap).astype(float)
    counts["demand_ratio"] = counts["referrals"] / counts["capacity_per_month"]
    counts["note"] = np.where(counts["capacity_per_month"].isna(), "no capacity in the services table", "")
    counts["method"] = "referrals in the month / (capacity_cases / 12)"
    if missing_dates:
        counts.attrs["note"] = f"{missing_dates:,} referrals have no {date} and are not counted."
    return counts


def capacity_summary(monthly: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """One row per service from :func:`demand_vs_capacity`: typical monthly demand against capacity.

    Returns ``service, months, referrals, median_per_month, capacity_per_month, median_demand_ratio,
    months_over_capacity`` and the share of months over capacity (``value``, Wilson limits).

    Examples
    --------
    >>> m = pd.DataFrame({"service": ["A"] * 3, "month": pd.period_range("2024-04", periods=3, freq="M"),
    ...     "referrals": [3, 1, 2], "capacity_per_month": [2.0] * 3})
    >>> capacity_summary(m)[["service", "months", "median_per_month", "months_over_capacity"]]
      service  months  median_per_month  months_over_capacity
    0       A       3               2.0                     1
    """
    _need_columns(monthly, ["service", "month", "referrals", "capacity_per_month"], "monthly", "capacity_summary")
    work = monthly.assign(_over=(monthly["referrals"] > monthly["capacity_per_month"]).astype(int))
    out = (
        work.groupby("service", sort=True)
        .agg(
            months=("month", "nunique"),
            referrals=("referrals", "sum"),
            median_per_month=("referrals", "median"),
            capacity_per_month=("capacity_per_month", "first"),
            months_over_capacity=("_over", "sum"),
        )
        .reset_index()
    )
    out["median_demand_ratio"] = out["median_per_month"] / out["capacity_per_month"]
    out = stats.proportion(out, "months_over_capacity", "months", confidence, multiplier=100)
    return out


# --------------------------------------------------------------------------------------------------
# Gaps found: the summary the service specification reuses
# --------------------------------------------------------------------------------------------------


def gaps_found(
    ratios: ReferralRatios | None = None,
    model: OddsRatios | None = None,
    times: ContactTimes | None = None,
    level: Literal["95%", "99.8%"] = "99.8%",
    code_days: int = 2,
    code_target: float | None = None,
    names: dict[str, str] | None = None,
    fdr: float | None = None,
    min_points: float = 5.0,
) -> pd.DataFrame:
    """A short table of the gaps the analyses found, in plain words, for the service specification.

    The rule (:func:`victimneeds.compare.gaps_rule`): a gap is never flagged from a raw indirectly
    standardised ratio alone. Each question is a family of comparisons, and a comparison is reported only
    when its p-value comes from a model that allows for what the raw ratio ignores, is below 1 - ``level``
    (0.002 for 99.8%: the comparison alone is clear) **and** survives the Benjamini-Hochberg procedure across
    its family at false discovery rate ``fdr`` (0.05: few of the gaps reported are chance):

    * districts: the two-sided p-value of each district's funnel z-score **with over-dispersion allowed for**
      (additive random effects, Spiegelhalter 2005; taken from ``ratios`` when it was fitted that way,
      otherwise recomputed), the family being all districts; only districts below 1 are gaps;
    * groups less likely to be referred or supported: the adjusted odds ratio's p-value from the logistic
      regression (Firth's where a group separates), the family being every level of every covariate except
      crime group and levels with a small-group warning; only odds ratios below 1 are gaps;
    * groups who decline referral more often (from ``model.declined``, when consent is recorded): each
      level's share declining against all other victims with a need (chi-square test), the family being
      every level except crime groups; reported, when also at least ``min_points`` percentage points above
      the rest, as a finding about how support is offered, not as a failure of Right 4;
    * slow first contact (``times``): services whose share first contacted within ``code_days`` working days
      has an upper 95% limit below ``code_target`` % (default: the share for all referrals together).

    Parameters
    ----------
    ratios : districts' observed / expected police referrals (:func:`referral_ratios`).
    model : adjusted odds ratios (:func:`referral_model`).
    times : first-contact times (:func:`contact_times`).
    level : each comparison's own p-value must be below 0.05 (``"95%"``) or 0.002 (``"99.8%"``).
    code_days, code_target : see ``times`` above.
    names : district code -> name, used to name districts in the model's findings.
    fdr : the false discovery rate for Benjamini-Hochberg across each family (0.05 by default).
    min_points : the smallest difference in the share declining (percentage points) worth reporting.

    Returns
    -------
    One row per gap: ``gap, who, evidence, measure, lower, upper, source``.

    References
    ----------
    Benjamini Y, Hochberg Y (1995). JRSS B 57:289-300. Spiegelhalter DJ (2005). Handling over-dispersion of
    performance indicators. Quality and Safety in Health Care 14:347-351.

    Examples
    --------
    >>> gaps_found().columns.tolist()
    ['gap', 'who', 'evidence', 'measure', 'lower', 'upper', 'source']
    """
    q = 0.05 if fdr is None else fdr
    alpha = 0.05 if level == "95%" else 0.002

    def rule(pvalues: np.ndarray) -> np.ndarray:
        return compare.gaps_rule(pvalues, q) & (np.nan_to_num(pvalues, nan=1.0) < alpha)

    rows = []
    if ratios is not None:
        t = ratios.table
        if "z_adjusted" not in t.columns and ratios.counts is not None and len(t) >= 3:
            t = ratios.with_overdispersion("additive").table
        z = t["z_adjusted"] if "z_adjusted" in t.columns else t["z"]
        p = 2 * _st.norm.sf(np.abs(z.to_numpy(dtype=float)))
        found = rule(p) & (t["ratio"].to_numpy() < 1)
        how = "allowing for over-dispersion" if "z_adjusted" in t.columns else "no over-dispersion estimate"
        for r, pv in zip(t[found].itertuples(index=False), p[found], strict=True):
            unit = getattr(r, ratios.by)
            name = ratios.names.get(str(unit), str(unit))
            rows.append(
                {
                    "gap": "Under-referring district",
                    "who": name,
                    "evidence": f"{name} referred {r.observed:,} victims against {r.expected:,.0f} expected for "
                    f"its crime mix and victims ({abs(1 - r.ratio) * 100:.0f}% fewer, ratio {r.ratio:.2f}, 95% CI "
                    f"{r.lowercl:.2f} to {r.uppercl:.2f}); p = {pv:.2g} {how}, significant after "
                    f"Benjamini-Hochberg across {len(t)} districts (false discovery rate {q:g})",
                    "measure": r.ratio,
                    "lower": r.lowercl,
                    "upper": r.uppercl,
                    "source": "observed / expected police referrals",
                }
            )
    if model is not None:
        t = model.table
        fam = t[(t["warning"] == "") & (t["covariate"] != "crime_group")]
        found = rule(fam["p_value"].to_numpy(dtype=float)) & (fam["odds_ratio"].to_numpy() < 1)
        for r in fam[found].itertuples(index=False):
            lv = (names or {}).get(r.level, r.level) if r.covariate == "district_code" else r.level
            ref = (names or {}).get(r.reference, r.reference) if r.covariate == "district_code" else r.reference
            rows.append(
                {
                    "gap": f"Group less likely: {model.outcome}",
                    "who": f"{labels.variable_label(r.covariate)}: {lv}",
                    "evidence": f"odds {r.odds_ratio:.2f} times those of {ref} (95% CI {r.lower:.2f} to "
                    f"{r.upper:.2f}), after allowing for the other characteristics; significant after "
                    f"Benjamini-Hochberg across {len(fam)} groups (false discovery rate {q:g})",
                    "measure": r.odds_ratio,
                    "lower": r.lower,
                    "upper": r.upper,
                    "source": "logistic regression, adjusted odds ratio",
                }
            )
        dec = model.declined
        if dec is not None and len(dec) > 1:
            total = dec.iloc[0]
            lv = dec.iloc[1:]
            lv = lv[(lv["with_need"] > 0) & (lv["with_need"] < total["with_need"]) & (lv["covariate"] != "crime_group")]
            if len(lv):
                diff = stats.compare_proportions(
                    lv["declined"], lv["with_need"], total["declined"] - lv["declined"],
                    total["with_need"] - lv["with_need"], multiplier=100,
                )
                found = rule(diff["p_value"].to_numpy(dtype=float)) & (
                    diff["value"].to_numpy() >= min_points
                )
                for r, d in zip(lv[found].itertuples(index=False), diff[found].itertuples(index=False), strict=True):
                    who = (names or {}).get(r.level, r.level) if r.covariate == "district_code" else r.level
                    rows.append(
                        {
                            "gap": "Group declines referral more often (a finding about how support is offered, "
                            "not a Victims' Code failure)",
                            "who": f"{labels.variable_label(r.covariate)}: {who}",
                            "evidence": f"{r.value:.0f}% of {r.with_need:,} victims with a need declined referral "
                            f"against {total['value']:.0f}% of all ({d.value:+.0f} points against the rest, 95% CI "
                            f"{d.lowercl:+.0f} to {d.uppercl:+.0f}); significant after Benjamini-Hochberg across "
                            f"{len(lv)} groups",
                            "measure": r.value,
                            "lower": r.lowercl,
                            "upper": r.uppercl,
                            "source": "victims with a need who declined referral (Wilson interval)",
                        }
                    )
    if times is not None:
        col = f"within_{code_days}_days"
        if col in times.table.columns:
            target = times.overall.get(col, np.nan) if code_target is None else code_target
            slow = times.table[times.table[f"{col}_upper"] < target]
            for r in slow.to_dict("records"):
                who = ", ".join(str(r[c]) for c in times.by) or "All referrals"
                rows.append(
                    {
                        "gap": "Slow first contact",
                        "who": who,
                        "evidence": f"{r[col]:.0f}% first contacted within {code_days} working days "
                        f"(against {target:.0f}%); median {r['median_days']:.0f} working days",
                        "measure": r[col],
                        "lower": r[f"{col}_lower"],
                        "upper": r[f"{col}_upper"],
                        "source": "Kaplan-Meier, referral to first contact",
                    }
                )
    return pd.DataFrame(rows, columns=["gap", "who", "evidence", "measure", "lower", "upper", "source"])
