"""Gaps found: the referral findings the evidence pack and the service specification reuse.

Part of :mod:`victimneeds.referrals`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as _st

from victimneeds import compare, labels, stats

#: Columns that both the crimes and the referrals table carry, by which the pathway can be split.
from victimneeds.referrals.models import OddsRatios
from victimneeds.referrals.ratios import ReferralRatios
from victimneeds.referrals.timeliness import ContactTimes

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
    its family at false discovery rate ``fdr`` (:data:`victimneeds.compare.GAPS_FDR`, 1% a family, so that few
    lines of the whole pack's "Gaps found" are chance):

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
    * slow first contact (``times``): each service's share first contacted within ``code_days`` working days
      against ``code_target`` % (default: the share for all referrals together), by a z-test on the share's
      Kaplan-Meier standard error, the family being every service; reported when also at least
      ``min_points`` percentage points below the target.

    Parameters
    ----------
    ratios : districts' observed / expected police referrals (:func:`referral_ratios`).
    model : adjusted odds ratios (:func:`referral_model`).
    times : first-contact times (:func:`contact_times`).
    level : each comparison's own p-value must be below 0.05 (``"95%"``) or 0.002 (``"99.8%"``).
    code_days, code_target : see ``times`` above.
    names : district code -> name, used to name districts in the model's findings.
    fdr : the false discovery rate for Benjamini-Hochberg across each family (1% by default).
    min_points : the smallest difference (percentage points) worth reporting, in the share declining and in
        the share first contacted on time.

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
    q = compare.GAPS_FDR if fdr is None else fdr
    alpha = 0.05 if level == "95%" else compare.GAPS_ALPHA

    def rule(pvalues: np.ndarray) -> np.ndarray:
        return compare.gaps_rule(pvalues, q, alpha)

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
            tt = times.table
            # each service's Kaplan-Meier share against the target: a z-test on the share's standard error
            # (from its 95% limits), the family being every service; the same rule as the other families,
            # and at least min_points percentage points slower
            se = (tt[f"{col}_upper"] - tt[f"{col}_lower"]).to_numpy(dtype=float) / (2 * _st.norm.ppf(0.975))
            with np.errstate(divide="ignore", invalid="ignore"):
                zc = (tt[col].to_numpy(dtype=float) - target) / se
            pc = np.where(np.isfinite(zc), 2 * _st.norm.sf(np.abs(zc)), np.nan)
            slow = tt[rule(pc) & (target - tt[col].to_numpy(dtype=float) >= min_points)]
            for r in slow.to_dict("records"):
                who = ", ".join(str(r[c]) for c in times.by) or "All referrals"
                rows.append(
                    {
                        "gap": "Slow first contact",
                        "who": who,
                        "evidence": f"{r[col]:.0f}% first contacted within {code_days} working days "
                        f"(against {target:.0f}%); median {r['median_days']:.0f} working days; significant after "
                        f"Benjamini-Hochberg across {len(tt)} services",
                        "measure": r[col],
                        "lower": r[f"{col}_lower"],
                        "upper": r[f"{col}_upper"],
                        "source": "Kaplan-Meier, referral to first contact",
                    }
                )
    return pd.DataFrame(rows, columns=["gap", "who", "evidence", "measure", "lower", "upper", "source"])
