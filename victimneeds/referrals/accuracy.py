"""Needs-assessment accuracy: victims with a need who were missed, and referrals with no need.

Part of :mod:`victimneeds.referrals`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from victimneeds import stats
from victimneeds.plotting import MARKERS, PALETTE, legend_below, page_size

#: Columns that both the crimes and the referrals table carry, by which the pathway can be split.
from victimneeds.referrals.core import (
    _as_list,
    _flag,
    _fmt_pct,
    _labels,
    _need_columns,
    _text,
)
from victimneeds.referrals.pathway import _group_labels

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
