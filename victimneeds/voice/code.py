"""Victims' Code compliance: each right met, from the survey and from case records.

Part of :mod:`victimneeds.voice`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from victimneeds import datamodel as dm
from victimneeds import stats
from victimneeds.plotting import (
    CODE_RIGHTS_SHORT,
    PALETTE,
    legend_below,
    page_size,
)
from victimneeds.voice.checks import (
    MIN_RESPONSES,
    _check_columns,
    _intervals,
    _shares,
    _weights,
)

# --------------------------------------------------------------------------------------------------
# Victims' Code compliance
# --------------------------------------------------------------------------------------------------


@dataclass
class CodeCompliance:
    """Share of each Victims' Code right met, from the survey and from case records.

    Attributes
    ----------
    table : one row per right, source and measure: ``right``, ``right_text``, ``source`` ("victim survey" or
        "case records"), ``measure``, ``responses`` (answers or records), ``yes`` (met), ``value``,
        ``lowercl``, ``uppercl`` (percentages), ``estimate``, ``note``, ``method``.
    gap : for rights measured both ways: records minus survey, in percentage points, with Newcombe's
        interval and a worded ``finding``.
    """

    table: pd.DataFrame
    gap: pd.DataFrame

    def summary(self) -> str:
        lines = ["Victims' Code compliance (share of victims for whom the right was met)"]
        for _, r in self.table.iterrows():
            lines.append(f"  Right {r['right']:>2} ({r['source']}, {r['measure']}): {r['estimate']}")
        for _, r in self.gap.iterrows():
            lines.append(f"  Gap, right {r['right']}: {r['finding']}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.table[["right", "right_text", "source", "measure", "responses", "estimate"]].to_html(index=False)

    def plot(self, ax: Axes | None = None) -> Axes:
        """Share met per right with intervals; survey as circles, case records as squares.

        The "declined referral" row is a share declining, not a share met, so it is left off the chart (it is in
        ``table`` and the summary)."""
        shown = self.table["value"].notna() & ~self.table["measure"].str.startswith("declined referral")
        t = self.table[shown].reset_index(drop=True)
        names = [_right_label(r, s, m) for r, s, m in zip(t["right"], t["source"], t["measure"], strict=True)]
        # A row per label, taller where the label runs to more lines, first row at the top.
        heights = np.array([1.0 + 0.45 * n.count("\n") for n in names])
        y = (heights.sum() - (np.cumsum(heights) - heights / 2)).astype(float)
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(0.3 * heights.sum() + 1.8))
        for i, (source, marker) in enumerate((("victim survey", "o"), ("case records", "s"))):
            m = (t["source"] == source).to_numpy()
            if m.any():
                ax.errorbar(
                    t["value"][m],
                    y[m],
                    xerr=[t["value"][m] - t["lowercl"][m], t["uppercl"][m] - t["value"][m]],
                    fmt=marker,
                    color=PALETTE[i],
                    capsize=3,
                    label=source.capitalize(),
                )
        ax.set_yticks(y, names)
        ax.set_xlim(0, 100)
        ax.set_xlabel("% of victims for whom the right was met (95% interval)")
        ax.set_title("Victims' Code compliance by right")
        ax.grid(axis="y", visible=False)
        legend_below(ax)
        return ax


def _right_label(right: object, source: str, measure: str) -> str:
    """'4 Referral to support' for the survey; with the measure (wrapped) for case records."""
    number = int(right)
    text = f"{number} {CODE_RIGHTS_SHORT.get(number, dm.VICTIMS_CODE_RIGHTS.get(number, ''))}"
    if source == "case records":
        text = f"{text} (case records):\n" + textwrap.fill(measure, 44)
    return text


def _working_days(start: pd.Series, end: pd.Series) -> np.ndarray:
    """Working days (Monday to Friday) from ``start`` to ``end``; NaN where either is missing."""
    a, b = pd.to_datetime(start), pd.to_datetime(end)
    ok = (a.notna() & b.notna()).to_numpy()
    out = np.full(len(a), np.nan)
    out[ok] = np.busday_count(a[ok].to_numpy().astype("datetime64[D]"), b[ok].to_numpy().astype("datetime64[D]"))
    return out


def contact_within(referrals: pd.DataFrame, within_days: int = 2) -> pd.Series:
    """For each referral, whether the service's first contact attempt came within ``within_days`` working days.

    Missing (NA) where the window had not closed by the last date in the table (neither met nor failed
    yet). Working days are Monday to Friday (bank holidays not excluded). The series, added to the referrals
    table, is what :func:`victimneeds.compare.control_chart` needs for a monthly chart of Right 4's
    timeliness (``date="referral_date"``).

    Examples
    --------
    >>> r = pd.DataFrame({"referral_date": pd.to_datetime(["2024-01-05", "2024-01-05", "2024-01-12"]),
    ...                   "first_contact_date": pd.to_datetime(["2024-01-09", "2024-01-10", None])})
    >>> contact_within(r).tolist()  # Friday 5th: Tuesday 9th is 2 working days, Wednesday 3; the 12th is open
    [True, False, <NA>]
    """
    _check_columns(referrals, ["referral_date", "first_contact_date"], "referrals", "contact_within")
    start = pd.to_datetime(referrals["referral_date"])
    end = pd.to_datetime(referrals["first_contact_date"])
    latest = pd.concat([start, end]).max()
    s = start.to_numpy().astype("datetime64[D]")
    closed = np.busday_count(s, np.datetime64(latest.date(), "D")) >= within_days
    has = end.notna().to_numpy()
    days = np.full(len(referrals), np.iinfo(np.int64).max)
    days[has] = np.busday_count(s[has], end[has].to_numpy().astype("datetime64[D]"))
    met = pd.array(has & (days <= within_days), dtype="boolean")
    met[~closed] = pd.NA
    return pd.Series(met, index=referrals.index, name=f"contact_within_{within_days}_days")


def _records_rows(
    referrals: pd.DataFrame | None, crimes: pd.DataFrame | None, within_days: int, report_date: str | None
) -> list[dict]:
    """Right 4 measured from case records: referral of victims with a need, and timeliness."""
    rows: list[dict] = []
    if crimes is not None and referrals is not None and report_date is not None:
        _check_columns(crimes, ["crime_id", report_date], "crimes", "code_compliance")
        _check_columns(referrals, ["crime_id", "referral_date"], "referrals", "code_compliance")
        police = referrals
        if "source" in referrals.columns:
            police = referrals[referrals["source"].astype(str) == "Police"]
        linked = police[["crime_id", "referral_date"]].merge(
            crimes[["crime_id", report_date]], on="crime_id", how="inner"
        )
        days = _working_days(linked[report_date], linked["referral_date"])
        known = np.isfinite(days)
        rows.append(
            {
                "right": 4,
                "source": "case records",
                "measure": f"referred within {within_days} working days of reporting",
                "responses": int(known.sum()),
                "yes": int((days[known] <= within_days).sum()),
                "method_note": f"police referrals linked to a crime with a {report_date!r}; "
                f"{len(police) - int(known.sum())} referrals without a linked report date left out; "
                "working days Monday to Friday (bank holidays not excluded)",
            }
        )
    if crimes is not None and referrals is not None:
        _check_columns(crimes, ["crime_id", "victim_identified", "need_identified"], "crimes", "code_compliance")
        _check_columns(referrals, ["crime_id"], "referrals", "code_compliance")
        ident = pd.array(crimes["victim_identified"], dtype="boolean").fillna(False).to_numpy(dtype=bool)
        need = ident & pd.array(crimes["need_identified"], dtype="boolean").fillna(False).to_numpy(dtype=bool)
        consent = (
            pd.array(crimes["consent_to_refer"], dtype="boolean") if "consent_to_refer" in crimes.columns else None
        )
        known = np.zeros(len(crimes), dtype=bool) if consent is None else ~np.asarray(consent.isna(), dtype=bool)
        uses_consent = bool((need & known).any())
        if uses_consent:
            agreed = consent.fillna(False).to_numpy(dtype=bool)
            eligible = crimes.loc[need & known & agreed, "crime_id"]
            declined = need & known & ~agreed
            unknown = int((need & ~known).sum())
            note = (
                "crimes with an identified victim and need whose victim agreed to referral (the Victims' Code "
                "denominator); met = a referral carries its crime_id"
                + (f"; {unknown:,} victims with a need and no consent recorded left out" if unknown else "")
            )
        else:
            eligible = crimes.loc[need, "crime_id"]
            note = (
                "crimes with an identified victim and need; met = a referral carries its crime_id; consent to "
                "referral is not recorded, so victims who declined cannot be set apart (they count as not met)"
            )
        referred = eligible.isin(set(referrals["crime_id"].dropna()))
        rows.append(
            {
                "right": 4,
                "source": "case records",
                "measure": "victims with an identified need who agreed to referral and were referred"
                if uses_consent
                else "victims with an identified need who were referred",
                "responses": int(len(eligible)),
                "yes": int(referred.sum()),
                "method_note": note,
            }
        )
        if uses_consent:
            rows.append(
                {
                    "right": 4,
                    "source": "case records",
                    "measure": "declined referral: share of victims with an identified need who declined "
                    "(not a failure of the right)",
                    "responses": int((need & known).sum()),
                    "yes": int(declined.sum()),
                    "method_note": "victims with an identified need and a recorded answer on consent; a victim "
                    "who declines referral has not been failed (Victims' Code, Right 4)",
                }
            )
    if referrals is not None:
        met = contact_within(referrals, within_days)
        closed = met.notna().to_numpy()
        rows.append(
            {
                "right": 4,
                "source": "case records",
                "measure": f"first contact attempt within {within_days} working days of referral",
                "responses": int(closed.sum()),
                "yes": int(met.fillna(False).to_numpy(dtype=bool).sum()),
                "method_note": f"referrals whose {within_days}-working-day window had closed by the last "
                "date in the table; working days Monday to Friday (bank holidays not "
                "excluded)",
            }
        )
    return rows


def code_compliance(
    survey: pd.DataFrame | None = None,
    rights: Sequence[int] | None = None,
    weights: str | None = None,
    referrals: pd.DataFrame | None = None,
    crimes: pd.DataFrame | None = None,
    within_days: int = 2,
    report_date: str | None = None,
    min_responses: int = MIN_RESPONSES,
    confidence: float = 0.95,
) -> CodeCompliance:
    """Share of victims for whom each Victims' Code right was met, from what victims say and what is recorded.

    From the survey: for each right, the share of applicable answers (``code_right_<n>`` not NA) that say
    the right was met, with Wilson intervals (on Kish's effective sample size when weighted). From case
    records, where given, Right 4 (referral to support services) is measured two ways: the share of
    victims with an identified need **who agreed to referral** whose crime led to a referral (``crimes`` and
    ``referrals``; a victim who declined has not been failed, so those who declined are shown in a row of
    their own, "declined referral", as a share of victims with a need; without ``consent_to_refer`` in the
    crimes table all victims with a need are counted, and the method says so), and the share of referrals
    with a first contact attempt by the service within ``within_days`` working days of
    the referral. The Code (para 4.5) asks that a victim who reports a crime is referred "within 2 working
    days"; when the crimes table carries the day the crime was reported (``report_date``), the share of
    police referrals made within ``within_days`` working days of it is added. (The canonical crimes table
    holds only the month, so this third measure needs a force extract with dates.) The ``gap`` compares
    the first records measure with what victims say about Right 4.

    Parameters
    ----------
    survey : the survey table, or None to use case records only.
    rights : right numbers (1-12) to report; default all twelve.
    weights : survey weight column or None.
    referrals, crimes : case records (optional).
    within_days : working days allowed for the records measures of timeliness (2 in the Code).
    report_date : optional column of ``crimes`` with the date each crime was reported.
    min_responses, confidence : as for :func:`satisfaction`.

    Returns
    -------
    :class:`CodeCompliance`.

    References
    ----------
    Ministry of Justice (2020). Code of Practice for Victims of Crime in England and Wales (in force
    1 April 2021), Right 4, paragraph 4.5. Wilson EB (1927). JASA 22:209-212. Kish L (1965). Survey
    Sampling. Wiley. Newcombe RG (1998). Statistics in Medicine 17:873-890.

    Examples
    --------
    >>> s = pd.DataFrame({"code_right_1": pd.array([True] * 50 + [False] * 10 + [None] * 5, dtype="boolean")})
    >>> c = code_compliance(s, rights=[1])
    >>> c.table[["right", "source", "responses", "yes", "estimate"]]
       right         source  responses  yes          estimate
    0      1  victim survey         60   50  83% (72% to 91%)
    """
    func = "code_compliance"
    chosen = list(dm.VICTIMS_CODE_RIGHTS) if rights is None else [int(r) for r in rights]
    bad = [r for r in chosen if r not in dm.VICTIMS_CODE_RIGHTS]
    if bad:
        raise ValueError(f"{func}: rights must be numbers from 1 to 12 (the Victims' Code); got {bad}")
    if survey is None and referrals is None:
        raise ValueError(f"{func}: give a survey table, case records (referrals), or both")
    parts = []
    if survey is not None:
        cols = {r: f"code_right_{r}" for r in chosen if f"code_right_{r}" in survey.columns}
        if not cols:
            raise KeyError(f"{func}: the survey table has none of the columns {[f'code_right_{r}' for r in chosen]}")
        w = _weights(survey, weights, func)
        t = _shares(survey, cols, [], w, "right")
        t = _intervals(t, weights is not None, min_responses, confidence, "for whom the right was met")
        t.insert(1, "source", "victim survey")
        t.insert(2, "measure", "victim says the right was met (where it applied)")
        parts.append(t)
    records = _records_rows(referrals, crimes, within_days, report_date) if 4 in chosen else []
    if records:
        r = pd.DataFrame(records)
        notes = r.pop("method_note")
        r["effective_n"] = r["responses"].astype(float)
        r["effective_yes"] = r["yes"].astype(float)
        r["share"] = r["yes"] / r["responses"].replace(0, np.nan)
        r["design_effect"] = 1.0
        r = _intervals(r, False, min_responses, confidence, "for whom the right was met")
        r["method"] = r["method"] + "; " + notes
        parts.append(r)
    table = pd.concat(parts, ignore_index=True)
    table["right"] = table["right"].astype("int64")
    table.insert(1, "right_text", table["right"].map(dm.VICTIMS_CODE_RIGHTS))
    table = table.drop(columns=[c for c in ("share",) if c in table.columns])
    gap = pd.DataFrame()
    said = table[(table["source"] == "victim survey") & (table["right"] == 4)]
    rec = table[(table["source"] == "case records") & (table["measure"].str.contains("referred"))]
    if len(said) and len(rec):
        s, c = said.iloc[0], rec.iloc[0]
        if pd.notna(s["value"]) and pd.notna(c["value"]):
            n_s = (
                s["effective_n"]
                if "effective_n" in table.columns and pd.notna(s.get("effective_n"))
                else (s["responses"])
            )
            x_s = s["value"] / 100 * n_s
            comp = stats.compare_proportions(c["yes"], c["responses"], x_s, n_s, confidence, multiplier=100)
            gap = comp[["value", "lowercl", "uppercl", "p_value", "confidence", "method"]].copy()
            gap.insert(0, "right", 4)
            gap.insert(1, "records", c["value"])
            gap.insert(2, "survey", s["value"])
            f = (
                "records show more compliance than victims report"
                if gap["lowercl"].iloc[0] > 0
                else "records show less compliance than victims report"
                if gap["uppercl"].iloc[0] < 0
                else "no evidence of a gap between records and what victims say"
            )
            gap["finding"] = f
            gap["statistic"] = "records minus survey, percentage points"
    return CodeCompliance(table=table, gap=gap)
