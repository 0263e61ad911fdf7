"""Issue 15's acceptance test, on an area the code was not tuned to: every planted effect is found with an interval
covering the truth, and with nothing planted nothing is found.

The area is made by victimneeds.testbed (its own mechanism, force and provider layouts) on the real Leicestershire
geography and read through the extract path (area TOML). Planted: police referral OR 0.5 for Asian victims among
those with a need who consented; a four-month fall in needs-assessment completion (85% to 60%); Victims' Code right
6 falling from 70% to 50% in the last year; satisfaction with the whole experience OR 0.4 for Asian respondents
(75% against about 55%); enhanced support raising coping and recovery from 60% to 80% (OR 2.67); high-risk victims
contacted sooner. Each analysis is the one the pack runs; findings are those its family rules report.

Run: python bench/planted_effects.py [--crimes 60000] [--seeds 29] [--build]   (--build also builds the pack and
lists its Gaps found; several seeds print a summary: effects recovered and findings with nothing planted)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SALT = "bench-planted-salt-0123456789"


def analyse(config: Path) -> tuple[list[tuple[str, str, str, bool]], list[str]]:
    """(effect, estimate, truth, recovered) rows and every finding the family rules report."""
    import victimneeds as vn
    from victimneeds import monitoring, referrals

    data = vn.load(str(config))
    rows, findings = [], []
    model = referrals.referral_model(data.crimes, data.referrals)
    t = model.table
    asian = t[(t["covariate"] == "victim_ethnicity") & (t["level"] == "Asian")].iloc[0]
    rows.append(("Referral OR, Asian (need and consent)", f"{asian['odds_ratio']:.2f} [{asian['lower']:.2f}, "
                 f"{asian['upper']:.2f}]", "0.50", bool(asian["lower"] <= 0.5 <= asian["upper"])))
    stages = monitoring.shifts(monitoring.pathway_charts(data.crimes, data.referrals))
    findings += stages.loc[stages["finding"], "sentence"].tolist()
    fall = stages[stages["finding"] & (stages["measure"] == "Needs assessment done")]
    rows.append(("Needs assessment fall to 60% (4 months)",
                 f"{fall.iloc[0]['rate']:.1f}% [{fall.iloc[0]['lowercl']:.1f}, {fall.iloc[0]['uppercl']:.1f}] "
                 f"{fall.iloc[0]['start']}..{fall.iloc[0]['end']}" if len(fall) else "not found", "60%",
                 bool(len(fall) and fall.iloc[0]["lowercl"] <= 60 <= fall.iloc[0]["uppercl"])))
    survey = monitoring.shifts(monitoring.survey_charts(data.survey))
    findings += survey.loc[survey["finding"], "sentence"].tolist()
    right = survey[survey["finding"] & survey["measure"].str.startswith("Code right 6")]
    rows.append(("Code right 6 falls to 50% in the last year",
                 f"{right.iloc[0]['rate']:.1f}% [{right.iloc[0]['lowercl']:.1f}, {right.iloc[0]['uppercl']:.1f}]"
                 if len(right) else "not found", "50%",
                 bool(len(right) and right.iloc[0]["lowercl"] <= 50 <= right.iloc[0]["uppercl"])))
    measures = {f"Satisfied: {s.replace('_', ' ')}": f"satisfied_{s}" for s in vn.datamodel.SATISFACTION_STAGES}
    who = monitoring.breakdown(data.survey, measures, weights="weight")
    findings += who.findings()
    o = who.odds_ratios
    sat = o[(o["outcome"] == "Satisfied: whole experience") & (o["level"] == "Asian")].iloc[0]
    rows.append(("Satisfaction OR, Asian", f"{sat['odds_ratio']:.2f} [{sat['lower']:.2f}, {sat['upper']:.2f}]",
                 "0.40", bool(sat["lower"] <= 0.4 <= sat["upper"] and sat["finding_family"])))
    refs = data.referrals
    closed = refs[pd.array(refs["support_accepted"], dtype="boolean").fillna(False) & refs["closed_date"].notna()]
    gains = monitoring.breakdown(closed, {"Better able to cope and recover": "outcome_cope_recover",
                                          "Feels safer": "outcome_feel_safer"},
                                 by=["support_level", "victim_sex", "victim_age_band", "victim_ethnicity",
                                     "victim_disability", "district_code", "crime_group", "risk_level"])
    findings += gains.findings()
    g = gains.odds_ratios
    enh = g[(g["outcome"] == "Better able to cope and recover") & (g["level"] == "Enhanced")].iloc[0]
    rows.append(("Coping OR, enhanced vs basic support", f"{enh['odds_ratio']:.2f} [{enh['lower']:.2f}, "
                 f"{enh['upper']:.2f}]", "2.67", bool(enh["lower"] <= 2.667 <= enh["upper"])))
    times = referrals.contact_times(refs[refs["risk_level"].notna()], by="risk_level").table.set_index("risk_level")
    high, std = times.loc["High"], times.loc["Standard"]
    rows.append(("Contact within 2 working days, High vs Standard risk",
                 f"{high['within_2_days']:.0f}% [{high['within_2_days_lower']:.0f}, {high['within_2_days_upper']:.0f}]"
                 f" vs {std['within_2_days']:.0f}%", "High sooner",
                 bool(high["within_2_days_lower"] > std["within_2_days_upper"])))
    return rows, findings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--crimes", type=int, default=60_000)
    parser.add_argument("--build", action="store_true")
    parser.add_argument("--seeds", default="29", help="comma-separated generator seeds")
    args = parser.parse_args()
    from victimneeds.io import load_area

    os.environ["VICTIMNEEDS_SALT"] = SALT
    areas = load_area(Path(__file__).resolve().parents[1] / "data" / "areas" / "leicestershire.toml").areas
    planted = dict(ethnicity_or=0.5, assessment_fall=(24, 28, 0.60), right_decline=(6, 0.70, 0.50),
                   satisfaction_or=0.4, support_effect=(0.6, 0.8), contact_by_risk={"H": 0.8, "M": 0.5, "S": 0.3})
    runs = []
    for seed in [int(x) for x in args.seeds.split(",")]:
        with tempfile.TemporaryDirectory() as d:
            for label, effects in (("planted", planted), ("nothing planted", {})):
                runs.append(_run(Path(d) / label.replace(" ", "_"), label, effects, seed, areas, args))
    print("\nseed  data             effects recovered   findings not planted")
    for seed, label, ok, extra in runs:
        print(f"{seed:<5} {label:<16} {ok:<19} {len(extra)}" + "".join(f"\n      - {e[:150]}" for e in extra))


#: Words that mark a finding as one of the planted effects (the test bed plants nothing else).
PLANTED_MARKS = ("Needs assessment done", "Code right 6", "Asian (victim ethnicity)", "Enhanced (support level)")


def _run(folder: Path, label: str, effects: dict, seed: int, areas, args) -> tuple[int, str, str, list[str]]:
    from victimneeds import testbed

    t0 = time.perf_counter()
    truth = testbed.make_extracts(folder, areas, crimes=args.crimes, months=36, survey=4000, seed=seed,
                                  data_dir=SHARED, **effects)
    rows, findings = analyse(folder / "area.toml")
    print(f"\n== seed {seed}, {label}: {truth.crimes:,} crimes, {truth.referrals:,} referrals, {truth.survey:,} "
          f"survey responses ({time.perf_counter() - t0:.0f} s)")
    if effects:
        print(f"{'effect':<55} {'estimate [95% interval]':<40} {'truth':<12} recovered")
        for name, estimate, true, ok in rows:
            print(f"{name:<55} {estimate:<40} {true:<12} {'yes' if ok else 'NO'}")
    print(f"findings reported by the family rules: {len(findings)}")
    for f in findings:
        print("  -", f)
    extra = [f for f in findings if not (effects and any(m in f for m in PLANTED_MARKS))]
    if args.build:
        from victimneeds.build import build

        built = build(folder / "area.toml", folder / "pack", progress=False, jobs=2)
        gaps = sorted((folder / "pack" / "findings").glob("*.txt"))
        print(f"pack built in {built.seconds:.0f} s; skipped {len(built.skipped)}; Gaps found lines:")
        for g in gaps:
            for line in g.read_text(encoding="utf-8").splitlines():
                print(f"  [{g.stem}] {line}")
    ok = f"{sum(r[3] for r in rows)}/{len(rows)}" if effects else ""
    return seed, label, ok, extra

if __name__ == "__main__":
    main()
