"""Shared pieces of the referral analyses: the stages, small helpers and the Victims' Code denominator.

Part of :mod:`victimneeds.referrals`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from victimneeds import stats

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
