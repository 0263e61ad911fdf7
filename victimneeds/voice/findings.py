"""The victim-voice findings in words, for the evidence pack.

Part of :mod:`victimneeds.voice`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import pandas as pd

from victimneeds.voice.code import (
    CodeCompliance,
)
from victimneeds.voice.coverage import missing_voices
from victimneeds.voice.funnel import DistrictFunnel
from victimneeds.voice.trend import SatisfactionTrend

# --------------------------------------------------------------------------------------------------
# Findings in words
# --------------------------------------------------------------------------------------------------


def findings(
    coverage_table: pd.DataFrame | None = None,
    change: pd.DataFrame | None = None,
    trend: SatisfactionTrend | None = None,
    funnel: DistrictFunnel | None = None,
    compliance: CodeCompliance | None = None,
) -> pd.DataFrame:
    """A short findings table, one sentence per topic, from the results of this module.

    Each row says what was found and what it rests on (``evidence``); any argument left as None is skipped.

    Examples
    --------
    >>> cov = pd.DataFrame({"crime_group": ["A", "B"], "victims": [10, 4], "responses": [60, 0]})
    >>> findings(coverage_table=cov)["finding"].tolist()
    ['No survey responses from victims of: B (4 recorded victims in the survey period).']
    """
    rows: list[dict[str, str]] = []
    if coverage_table is not None:
        by = coverage_table.columns[0]
        missing = missing_voices(coverage_table, by)
        if missing:
            victims = coverage_table.set_index(coverage_table[by].astype(str))["victims"]
            listed = ", ".join(f"{m} ({int(victims[m]):,} recorded victims in the survey period)" for m in missing)
            text = f"No survey responses from victims of: {listed}."
        else:
            text = "Every group with recorded victims has survey responses."
        rows.append({"topic": "Whose voice is missing", "finding": text, "evidence": f"responses by {by}"})
    if change is not None and len(change):
        c = change[change["value"].notna()]
        label = change.columns[0] if change.columns[0] != "stage" else None
        moved = c[c["finding"] != "no evidence of change"]
        first = change.iloc[0]
        span = f"{first['period_1']} to {first['period_2']}"
        if len(moved):
            parts = [
                f"{r[label] if label else 'all'}: {r['finding']} ({r['value']:+.0f} points)"
                for _, r in moved.iterrows()
            ]
            text = f"Change {span}: " + "; ".join(parts) + "; no evidence of change elsewhere."
        else:
            text = f"Change {span}: no evidence of change in any group with enough responses."
        rows.append(
            {"topic": "Change in satisfaction", "finding": text, "evidence": "Newcombe interval for the difference"}
        )
    if trend is not None:
        t = trend.trend[trend.trend["odds_ratio_per_year"].notna()]
        moving = t[t["finding"] != "no evidence of a trend"]
        if len(moving):
            who = [
                " / ".join(str(r[c]) for c in trend.by) if trend.by else "all responses" for _, r in moving.iterrows()
            ]
            text = "; ".join(f"{w}: {f}" for w, f in zip(who, moving["finding"], strict=True)) + "."
        else:
            text = "No evidence of a trend over the quarters surveyed."
        rows.append({"topic": "Trend in satisfaction", "finding": text, "evidence": "binomial GLM on quarter"})
    if funnel is not None:
        f = funnel.table
        out = f[f["finding"].str.contains("than the area average")]
        if len(out):
            text = "; ".join(f"{r[funnel.label]}: {r['finding']}" for _, r in out.iterrows()) + "."
        else:
            text = "No district stands out from the area average (all inside the 95% funnel limits)."
        rows.append({"topic": "Districts", "finding": text, "evidence": "funnel plot, 95% and 99.8% limits"})
    if compliance is not None:
        t = compliance.table[(compliance.table["source"] == "victim survey") & compliance.table["value"].notna()]
        if len(t):
            low = t.nsmallest(3, "value")
            text = (
                "Lowest compliance victims report: "
                + "; ".join(
                    f"right {r['right']} ({r['right_text'].lower()}) {r['value']:.0f}%" for _, r in low.iterrows()
                )
                + "."
            )
            rows.append({"topic": "Victims' Code", "finding": text, "evidence": "victim survey, weighted"})
        if len(compliance.gap):
            g = compliance.gap.iloc[0]
            rows.append(
                {
                    "topic": "Records and victims' view (right 4)",
                    "finding": f"{g['finding'].capitalize()}: records {g['records']:.0f}%, victims "
                    f"{g['survey']:.0f}% ({g['value']:+.0f} points).",
                    "evidence": "case records against the survey",
                }
            )
    return pd.DataFrame(rows, columns=["topic", "finding", "evidence"])
