"""Control charts of every stage and survey measure, and their family rule for findings, on data from a small
generator of our own (not victimneeds.datasets): no effect planted gives findings at no more than the nominal
rate; a planted fall is found, with an interval covering the true rate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from victimneeds import compare, monitoring


def _stage(rng: np.random.Generator, months: int = 36, per_month: int = 250, p: float = 0.85,
           fall: tuple[int, int, float] | None = None, dispersion: float = 0.0) -> pd.DataFrame:
    """Victims identified by month; the needs assessment done with probability p (drifting by ``dispersion``)."""
    frames = []
    for m in range(months):
        pm = p if fall is None or not fall[0] <= m < fall[1] else fall[2]
        pm = float(np.clip(pm + rng.normal(0, dispersion), 0.01, 0.99))
        n = rng.poisson(per_month)
        frames.append(pd.DataFrame({"month": pd.Period("2021-04", "M") + m, "victim_identified": True,
                                    "needs_assessment_done": rng.random(n) < pm}))
    crimes = pd.concat(frames, ignore_index=True)
    crimes["need_identified"] = pd.array([pd.NA] * len(crimes), dtype="boolean")
    return crimes


def test_no_effect_gives_findings_at_most_at_the_nominal_rate() -> None:
    rng = np.random.default_rng(20261203)
    runs, flagged = 200, 0
    for _ in range(runs):
        crimes = _stage(rng, dispersion=0.01)
        charts = monitoring.pathway_charts(crimes)
        flagged += bool(monitoring.chart_findings(charts))
    assert flagged / runs <= 0.05, flagged


def test_planted_four_month_fall_is_found_and_its_interval_covers_the_truth() -> None:
    rng = np.random.default_rng(7)
    hits = exact = covered = 0
    for _ in range(40):
        crimes = _stage(rng, fall=(28, 32, 0.60))
        table = monitoring.shifts(monitoring.pathway_charts(crimes))
        found = table[table["finding"]]
        if len(found) and found.iloc[0]["change"] < 0:
            hits += 1
            row = found.iloc[0]
            # the finding is the four planted months themselves, not a longer stretch that contains them
            if (row["start"], row["end"]) == ("2023-08", "2023-11"):
                exact += 1
                covered += row["lowercl"] <= 60 <= row["uppercl"]
    assert hits >= 38 and exact >= 36 and covered >= 0.9 * exact, (hits, exact, covered)


def test_measures_the_data_cannot_support_are_named_not_zero() -> None:
    crimes = _stage(np.random.default_rng(1))
    charts = monitoring.pathway_charts(crimes)
    assert "Need for support found" not in charts.charts
    assert any(n.startswith("Need for support found: not available") for n in charts.notes)
    assert any("no referrals table" in n for n in charts.notes)


def test_survey_code_right_decline_in_the_last_year_is_found() -> None:
    rng = np.random.default_rng(3)
    quarters = pd.period_range("2021Q1", periods=12, freq="Q")
    rows = []
    for i, q in enumerate(quarters):
        p = 0.70 if i < 8 else 0.50
        n = 120
        rows.append(pd.DataFrame({"response_date": q.start_time + pd.to_timedelta(rng.integers(0, 80, n), "D"),
                                  "code_right_6": rng.random(n) < p}))
    survey = pd.concat(rows, ignore_index=True)
    table = monitoring.shifts(monitoring.survey_charts(survey))
    found = table[table["finding"]]
    assert len(found) >= 1 and (found["change"] < 0).all()
    assert found.iloc[0]["lowercl"] <= 50 <= found.iloc[0]["uppercl"] + 5


@pytest.mark.parametrize("effect", [1.0, 0.45])
def test_breakdown_family_flags_only_a_planted_gap(effect: float) -> None:
    rng = np.random.default_rng(11)
    n = 3000
    eth = rng.choice(["White", "Asian", "Black"], size=n, p=[0.7, 0.2, 0.1])
    sex = rng.choice(["Female", "Male"], size=n)
    base = 0.75 / 0.25
    odds = base * np.where(eth == "Asian", effect, 1.0)
    survey = pd.DataFrame({"victim_ethnicity": eth, "victim_sex": sex,
                           "satisfied_whole_experience": rng.random(n) < odds / (1 + odds),
                           "satisfied_contact": rng.random(n) < 0.8})
    b = monitoring.breakdown(survey, {"Satisfied overall": "satisfied_whole_experience",
                                      "Satisfied with contact": "satisfied_contact"},
                             by=["victim_ethnicity", "victim_sex"])
    found = b.odds_ratios[b.odds_ratios["finding_family"]]
    if effect == 1.0:
        assert found.empty
    else:
        assert list(found["level"]) == ["Asian"] and list(found["outcome"]) == ["Satisfied overall"]
        row = found.iloc[0]
        assert row["lower"] <= effect <= row["upper"]


def test_a_shift_picked_by_the_chart_rules_is_tested_as_picked() -> None:
    # In-control charts, no minimum change: the chart rules pick the most extreme periods, so a plain z-test of
    # those periods against the rest "finds" a shift in about one chart in ten; the scan statistic's p-value
    # allows for the picking and keeps findings at no more than the nominal 5%.
    from scipy.stats import norm

    rng = np.random.default_rng(11)
    runs, naive, found = 100, 0, 0
    for _ in range(runs):
        table = monitoring.shifts(monitoring.pathway_charts(_stage(rng, per_month=400)), min_change=0.0)
        if len(table):
            naive += bool((2 * norm.sf(table["z"].abs()) <= 0.05).any())
            found += bool(table["finding"].any())
    assert found / runs <= 0.05, found
    assert naive >= 3 * max(found, 1), (naive, found)


def test_a_family_finding_needs_its_own_p_below_the_998_level() -> None:
    # Asian: a large real difference; Black: 62% against 70% (p about 0.007). Benjamini-Hochberg alone would let
    # the second ride in on the first (q about 0.007); the family rule also asks p < 0.002, as gaps_found does.
    def block(group: str, n: int, yes: int) -> pd.DataFrame:
        return pd.DataFrame({"victim_ethnicity": group, "y": [True] * yes + [False] * (n - yes)})

    table = pd.concat([block("White", 1200, 840), block("Asian", 1000, 400), block("Black", 300, 186)],
                      ignore_index=True)
    odds = monitoring.breakdown(table, {"Out": "y"}, by=["victim_ethnicity"]).odds_ratios.set_index("level")
    assert 0.002 < odds.loc["Black", "p_value"] < 0.05 and odds.loc["Black", "q_family"] <= 0.05
    assert odds.loc["Asian", "finding_family"] and not odds.loc["Black", "finding_family"]


def test_shift_test_floors_laney_sigma_at_one() -> None:
    # A sigma_z below 1 (a few moving ranges by chance) must not make a run look larger than the binomial allows.
    import dataclasses

    rng = np.random.default_rng(3)
    for _ in range(50):
        charts = monitoring.pathway_charts(_stage(rng, per_month=400))
        chart = next(iter(charts.charts.values()))
        if len(chart.findings):
            break
    assert len(chart.findings)
    name = next(iter(charts.charts))
    low = monitoring.shifts(monitoring.Charts({name: dataclasses.replace(chart, sigma_z=0.5)}))
    one = monitoring.shifts(monitoring.Charts({name: dataclasses.replace(chart, sigma_z=1.0)}))
    pd.testing.assert_frame_equal(low, one)


def test_a_late_fall_is_reported_as_a_fall_not_as_an_earlier_rise() -> None:
    # The last 4 of 13 quarters fall from 70% to 50%: the centre line sits between, so the run rule may flag
    # the early quarters as "above". The finding must be the fall itself, once, with its interval covering 50%.
    rng = np.random.default_rng(38)
    shares = np.r_[np.full(9, 0.70), np.full(4, 0.50)]
    rows = [pd.DataFrame({"month": pd.Period("2021-04", "M") + 3 * q + rng.integers(0, 3, 300),
                          "met": rng.random(300) < p}) for q, p in enumerate(shares)]
    chart = compare.control_chart(pd.concat(rows, ignore_index=True), "met", "month", period="Q")
    table = monitoring.shifts(monitoring.Charts({"Right": chart}))
    found = table[table["finding"]]
    assert len(found) == 1
    row = found.iloc[0]
    assert row["change"] < 0 and row["end"] == "2024Q2" and row["lowercl"] <= 50 <= row["uppercl"]
