"""The victim-voice findings in words, for the evidence pack.

Part of :mod:`victimneeds.voice`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _st

from victimneeds import compare
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
    A difference is stated as found only under the assessment's family rule (:func:`victimneeds.compare.gaps_rule`):
    changes and trends when their own p-value is below 0.002 and they survive Benjamini-Hochberg across the groups
    compared (false discovery rate 1%), districts when outside the 99.8% funnel limits, and Victims' Code rights
    when a right is met less often than the others by at least 5 points under the same rule across the rights.

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
        pc = c["p_value"].to_numpy(dtype=float) if "p_value" in c.columns else None
        family = compare.gaps_rule(pc, fdr=compare.GAPS_FDR, alpha=compare.GAPS_ALPHA) if pc is not None else True
        moved = c[(c["finding"] != "no evidence of change") & family]
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
            {
                "topic": "Change in satisfaction",
                "finding": text,
                "evidence": f"Newcombe interval for the difference; p < 0.002 and Benjamini-Hochberg across "
                f"{len(c)} groups",
            }
        )
    if trend is not None:
        t = trend.trend[trend.trend["odds_ratio_per_year"].notna()]
        family = compare.gaps_rule(t["p_value"].to_numpy(dtype=float), fdr=compare.GAPS_FDR, alpha=compare.GAPS_ALPHA)
        moving = t[(t["finding"] != "no evidence of a trend") & family]
        if len(moving):
            who = [
                " / ".join(str(r[c]) for c in trend.by) if trend.by else "all responses" for _, r in moving.iterrows()
            ]
            text = "; ".join(f"{w}: {f}" for w, f in zip(who, moving["finding"], strict=True)) + "."
        else:
            text = "No evidence of a trend over the quarters surveyed."
        rows.append(
            {
                "topic": "Trend in satisfaction",
                "finding": text,
                "evidence": f"binomial GLM on quarter; p < 0.002 and Benjamini-Hochberg across {len(t)} groups",
            }
        )
    if funnel is not None:
        f = funnel.table
        out = f[f["finding"].str.contains("than the area average") & f["flag"].astype(str).str.endswith("99.8%")]
        if len(out):
            text = "; ".join(f"{r[funnel.label]}: {r['finding']}" for _, r in out.iterrows()) + "."
        else:
            text = "No district stands out from the area average (all inside the 99.8% funnel limits)."
        rows.append({"topic": "Districts", "finding": text, "evidence": "funnel plot, 95% and 99.8% limits"})
    if compliance is not None:
        t = compliance.table[(compliance.table["source"] == "victim survey") & compliance.table["value"].notna()]
        if len(t) >= 2:
            low = _rights_below_the_rest(t)
            if len(low):
                text = "Rights victims report as met less often than the others: " + "; ".join(
                    f"right {r['right']} ({r['right_text'].lower()}) {r['value']:.0f}% (95% interval "
                    f"{r['lowercl']:.0f}% to {r['uppercl']:.0f}%) against {r['others']:.0f}% for the other rights"
                    for _, r in low.iterrows()
                ) + "."
            else:
                text = (
                    f"No right is reported as met less often than the others beyond chance (rights from "
                    f"{t['value'].min():.0f}% to {t['value'].max():.0f}%)."
                )
            rows.append(
                {
                    "topic": "Victims' Code",
                    "finding": text,
                    "evidence": f"victim survey, weighted; each right against the mean of the others, "
                    f"p < 0.002 and Benjamini-Hochberg across {len(t)} rights, at least 5 points lower",
                }
            )
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


def _rights_below_the_rest(table: pd.DataFrame, min_points: float = 5.0) -> pd.DataFrame:
    """Rights met less often than the mean of the other rights, under the family rule.

    Each right's share (on Kish's effective sample size) against the unweighted mean of the other rights'
    shares, by a z-test that treats the rights as independent (answers from the same victims are positively
    correlated, so this overstates the variance of the difference and errs towards not reporting).
    """
    p = table["value"].to_numpy(dtype=float) / 100
    n = table["effective_n"].to_numpy(dtype=float)
    var = p * (1 - p) / n
    m = len(p)
    others = (p.sum() - p) / (m - 1)
    var_others = (var.sum() - var) / (m - 1) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (p - others) / np.sqrt(var + var_others)
    pv = np.where(np.isfinite(z), 2 * _st.norm.sf(np.abs(z)), np.nan)
    keep = compare.gaps_rule(pv, fdr=compare.GAPS_FDR, alpha=compare.GAPS_ALPHA) & ((others - p) * 100 >= min_points)
    return table[keep].assign(others=others[keep] * 100).sort_values("value")
