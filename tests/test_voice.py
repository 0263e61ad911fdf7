"""Tests for victimneeds.voice: satisfaction, change, trend, funnel, coverage and Victims' Code compliance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

import victimneeds as vn
from victimneeds import datamodel as dm
from victimneeds import voice


def _answers(yes: int, no: int, missing: int = 0) -> pd.array:
    return pd.array([True] * yes + [False] * no + [None] * missing, dtype="boolean")


# --------------------------------------------------------------------------------------------------
# Satisfaction: Wilson intervals and the Kish design effect
# --------------------------------------------------------------------------------------------------


def test_unweighted_interval_equals_statsmodels_wilson():
    s = pd.DataFrame(
        {
            "group": ["A"] * 83 + ["B"] * 120,
            "satisfied_contact": pd.concat(
                [pd.Series(_answers(61, 20, 2)), pd.Series(_answers(50, 70))], ignore_index=True
            ),
        }
    )
    t = voice.satisfaction(s, by="group", stages="contact")
    for group, x, n in (("A", 61, 81), ("B", 50, 120)):
        row = t[t["group"] == group].iloc[0]
        lo, hi = proportion_confint(x, n, alpha=0.05, method="wilson")
        assert row["responses"] == n and row["yes"] == x
        assert row["value"] == pytest.approx(100 * x / n)
        assert row["lowercl"] == pytest.approx(100 * lo, abs=1e-9)
        assert row["uppercl"] == pytest.approx(100 * hi, abs=1e-9)
        assert row["method"] == "Wilson score interval"


@settings(max_examples=60, deadline=None)
@given(x=st.integers(0, 400), extra=st.integers(0, 400), conf=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_matches_statsmodels_property(x, extra, conf):
    n = x + extra
    if n < voice.MIN_RESPONSES:
        n, extra = voice.MIN_RESPONSES + x, voice.MIN_RESPONSES
    s = pd.DataFrame({"satisfied_treatment": _answers(x, n - x)})
    row = voice.satisfaction(s, stages="treatment", confidence=conf).iloc[0]
    lo, hi = proportion_confint(x, n, alpha=1 - conf, method="wilson")
    assert row["lowercl"] == pytest.approx(100 * lo, abs=1e-8)
    assert row["uppercl"] == pytest.approx(100 * hi, abs=1e-8)
    assert row["lowercl"] <= row["value"] <= row["uppercl"]


def test_design_effect_by_hand():
    # weights 1, 1, 2, 4: sum 8, sum of squares 22, so n_eff = 64 / 22 and deff = 4 / (64 / 22) = 1.375
    n_eff, deff = voice.design_effect([1, 1, 2, 4])
    assert n_eff == pytest.approx(64 / 22)
    assert deff == pytest.approx(1.375)
    assert voice.design_effect([3, 3, 3]) == pytest.approx((3.0, 1.0))


def test_weighted_satisfaction_uses_kish_effective_n():
    # 60 responses: 20 with weight 1 (15 satisfied), 40 with weight 3 (20 satisfied), plus 2 missing answers.
    answers = _answers(15, 5).tolist() + _answers(20, 20).tolist() + [None, None]
    w = [1.0] * 20 + [3.0] * 40 + [5.0, 5.0]
    s = pd.DataFrame({"satisfied_whole_experience": pd.array(answers, dtype="boolean"), "weight": w})
    row = voice.satisfaction(s, weights="weight", stages="whole_experience").iloc[0]
    share = (15 * 1 + 20 * 3) / (20 * 1 + 40 * 3)  # 75 / 140
    n_eff = (20 + 120) ** 2 / (20 * 1 + 40 * 9)  # 19600 / 380
    lo, hi = proportion_confint(share * n_eff, n_eff, alpha=0.05, method="wilson")
    assert row["responses"] == 60
    assert row["effective_n"] == pytest.approx(n_eff, abs=0.05)
    assert row["design_effect"] == pytest.approx(60 / n_eff, abs=5e-4)
    assert row["value"] == pytest.approx(100 * share)
    assert row["lowercl"] == pytest.approx(100 * lo, abs=1e-9)
    assert row["uppercl"] == pytest.approx(100 * hi, abs=1e-9)
    assert "Kish" in row["method"]
    # the weighted interval is wider than one that ignores the weighting
    plain = proportion_confint(share * 60, 60, alpha=0.05, method="wilson")
    assert hi - lo > plain[1] - plain[0]


def test_equal_weights_give_the_unweighted_answer():
    s = pd.DataFrame({"satisfied_actions": _answers(40, 30), "weight": 2.5})
    a = voice.satisfaction(s, stages="actions")
    b = voice.satisfaction(s, stages="actions", weights="weight")
    for col in ("value", "lowercl", "uppercl"):
        assert a[col].iloc[0] == pytest.approx(b[col].iloc[0])
    assert b["design_effect"].iloc[0] == pytest.approx(1.0)


# --------------------------------------------------------------------------------------------------
# Small groups are never shown
# --------------------------------------------------------------------------------------------------


def test_small_groups_say_not_enough_responses():
    s = pd.DataFrame(
        {
            "district_code": ["A"] * 80 + ["B"] * 49 + ["C"] * 3,
            "satisfied_contact": _answers(60, 20).tolist() + _answers(40, 9).tolist() + _answers(2, 1).tolist(),
        }
    )
    s["satisfied_contact"] = s["satisfied_contact"].astype("boolean")
    t = voice.satisfaction(s, by="district_code", stages="contact").set_index("district_code")
    assert t.loc["A", "value"] == pytest.approx(75.0)
    for d in ("B", "C"):
        assert np.isnan(t.loc[d, "value"]) and np.isnan(t.loc[d, "lowercl"]) and np.isnan(t.loc[d, "uppercl"])
        assert pd.isna(t.loc[d, "yes"])
        assert t.loc[d, "estimate"] == "not enough responses"
    assert "share" not in t.columns
    # the threshold is configurable
    loose = voice.satisfaction(s, by="district_code", stages="contact", min_responses=10).set_index("district_code")
    assert loose.loc["B", "value"] == pytest.approx(100 * 40 / 49)
    assert np.isnan(loose.loc["C", "value"])


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(0, 90), min_size=1, max_size=6), m=st.integers(1, 60))
def test_no_value_below_threshold_property(sizes, m):
    groups = np.repeat([f"g{i}" for i in range(len(sizes))], sizes)
    answers = pd.array(np.arange(len(groups)) % 3 == 0, dtype="boolean")
    s = pd.DataFrame(
        {"g": pd.Categorical(groups, categories=[f"g{i}" for i in range(len(sizes))]), "satisfied_contact": answers}
    )
    t = voice.satisfaction(s, by="g", stages="contact", min_responses=m)
    small = t["responses"] < m
    assert t.loc[small, ["value", "lowercl", "uppercl"]].isna().all().all()
    assert t.loc[small & (t["responses"] > 0), "yes"].isna().all()
    assert (t.loc[t["responses"] == 0, "yes"] == 0).all()
    assert (t.loc[small, "estimate"] == "not enough responses").all()
    assert t.loc[~small, "value"].notna().all()
    assert list(t["responses"]) == sizes


def test_small_groups_hidden_in_written_table(tmp_path):
    s = pd.DataFrame(
        {
            "crime_group": pd.Categorical(["Burglary"] * 60 + ["Robbery"] * 7, categories=dm.CRIME_GROUPS),
            "satisfied_whole_experience": _answers(45, 15).tolist() + _answers(5, 2).tolist(),
        }
    )
    s["satisfied_whole_experience"] = s["satisfied_whole_experience"].astype("boolean")
    t = voice.satisfaction(s, by="crime_group", stages="whole_experience")
    out = vn.report.Output(tmp_path, source="Source: test.")
    cols = ["crime_group", "responses", "yes", "value", "lowercl", "uppercl", "estimate"]
    safe = out.table(
        t[cols],
        "05_test",
        "test",
        counts=["responses", "yes"],
        linked={"yes": ["value", "lowercl", "uppercl"]},
        index="crime_group",
    )
    robbery = safe[safe["crime_group"] == "Robbery"].iloc[0]
    assert robbery["estimate"] == "not enough responses"
    assert all(pd.isna(robbery[c]) or robbery[c] == "[c]" for c in ("yes", "value", "lowercl", "uppercl"))
    assert "71.4" not in (tmp_path / "tables" / "05_test.csv").read_text()


# --------------------------------------------------------------------------------------------------
# Change, trend and funnel
# --------------------------------------------------------------------------------------------------


def _two_years(x1: int, n1: int, x2: int, n2: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "response_date": pd.to_datetime(["2023-06-01"] * n1 + ["2024-06-01"] * n2),
            "satisfied_whole_experience": pd.array(
                [True] * x1 + [False] * (n1 - x1) + [True] * x2 + [False] * (n2 - x2), dtype="boolean"
            ),
        }
    )


def test_change_matches_newcombe_and_wording():
    c = voice.satisfaction_change(_two_years(60, 100, 75, 100)).iloc[0]
    ref = vn.stats.compare_proportions(75, 100, 60, 100, multiplier=100).iloc[0]
    assert c["value"] == pytest.approx(15.0)
    assert (c["lowercl"], c["uppercl"]) == pytest.approx((ref["lowercl"], ref["uppercl"]))
    assert c["finding"] == "evidence of a rise"
    small_change = voice.satisfaction_change(_two_years(60, 100, 63, 100)).iloc[0]
    assert small_change["finding"] == "no evidence of change"
    fall = voice.satisfaction_change(_two_years(80, 100, 55, 100)).iloc[0]
    assert fall["finding"] == "evidence of a fall"
    thin = voice.satisfaction_change(_two_years(20, 30, 29, 30)).iloc[0]
    assert np.isnan(thin["value"]) and thin["finding"].startswith("not enough responses")


def test_trend_matches_individual_logistic_regression():
    rng = np.random.default_rng(1)
    quarters = pd.period_range("2021Q1", periods=10, freq="Q")
    dates = np.repeat(quarters.start_time + pd.Timedelta(days=20), 60)
    t = np.repeat(np.arange(10) / 4, 60)
    y = rng.random(len(t)) < 1 / (1 + np.exp(-(-0.3 + 0.4 * t)))
    s = pd.DataFrame({"response_date": dates, "satisfied_whole_experience": pd.array(y, dtype="boolean")})
    r = voice.satisfaction_trend(s)
    ref = sm.Logit(y.astype(float), sm.add_constant(t)).fit(disp=0)
    row = r.trend.iloc[0]
    assert row["odds_ratio_per_year"] == pytest.approx(np.exp(ref.params[1]), rel=1e-6)
    assert row["p_value"] == pytest.approx(ref.pvalues[1], rel=1e-4)
    assert row["finding"] in ("evidence of a rising trend", "no evidence of a trend")
    assert len(r.table) == 10 and r.table["fitted"].between(0, 100).all()
    assert "binomial GLM" in r.summary()
    ax = r.plot()
    assert ax.get_ylabel() == "% satisfied"


def test_trend_flat_series_has_no_evidence_of_a_trend():
    dates = np.repeat(pd.period_range("2022Q1", periods=8, freq="Q").start_time, 50)
    s = pd.DataFrame(
        {"response_date": dates, "satisfied_whole_experience": pd.array(np.arange(400) % 3 == 0, dtype="boolean")}
    )
    assert voice.satisfaction_trend(s).trend["finding"].iloc[0] == "no evidence of a trend"


def test_funnel_flags_are_worded_and_small_districts_left_out():
    s = pd.DataFrame(
        {
            "district_code": ["A"] * 100 + ["B"] * 100 + ["C"] * 100 + ["D"] * 10,
            "satisfied_whole_experience": pd.array(
                [True] * 70 + [False] * 30 + [True] * 80 + [False] * 20 + [True] * 95 + [False] * 5 + [True] * 10,
                dtype="boolean",
            ),
        }
    )
    f = voice.district_funnel(s)
    t = f.table.set_index("district_code")
    # target is pooled over the districts shown: (70 + 80 + 95) / 300
    assert t.loc["A", "target"] == pytest.approx(100 * 245 / 300)
    assert t.loc["B", "finding"] == "no evidence of a difference from the area average"
    assert t.loc["C", "finding"].startswith("higher than the area average")
    assert np.isnan(t.loc["D", "value"]) and t.loc["D", "finding"].startswith("not enough responses")
    ax = f.plot()
    assert ax.get_ylabel() == "% satisfied"


# --------------------------------------------------------------------------------------------------
# Coverage: the missing voice
# --------------------------------------------------------------------------------------------------


def test_coverage_by_hand():
    crimes = pd.DataFrame(
        {
            "month": pd.PeriodIndex(["2024-01"] * 7 + ["2023-01"], freq="M"),
            "victim_identified": pd.array([True] * 6 + [False, True], dtype="boolean"),
            "crime_group": ["A", "A", "A", "A", "B", "B", "B", "B"],
        }
    )
    survey = pd.DataFrame({"response_date": pd.to_datetime(["2024-01-20"] * 60), "crime_group": ["A"] * 60})
    t = voice.coverage(survey, crimes).set_index("crime_group")
    assert t.loc["A", "victims"] == 4 and t.loc["B", "victims"] == 2  # unidentified and out-of-window dropped
    assert t.loc["A", "share_of_victims"] == pytest.approx(100 * 4 / 6)
    assert t.loc["A", "responses_per_1000_victims"] == pytest.approx(15000)
    assert voice.missing_voices(t.reset_index()) == ["B"]


def test_example_area_names_the_missing_voice():
    data = vn.load_example()
    t = voice.coverage(data.survey, data.crimes)
    missing = voice.missing_voices(t)
    expected = vn.datasets.EXAMPLE_EFFECTS["missing_voice"]["crime_group"]
    assert expected in missing
    row = t[t["crime_group"] == expected].iloc[0]
    assert row["responses"] == 0 and row["victims"] > 0
    assert row["finding"] == "no responses: this voice is missing"
    sat = voice.satisfaction(data.survey, by="crime_group", weights="weight", stages="whole_experience")
    assert sat.loc[sat["crime_group"] == expected, "estimate"].item() == "not enough responses"


# --------------------------------------------------------------------------------------------------
# Victims' Code compliance
# --------------------------------------------------------------------------------------------------


def test_code_compliance_from_survey_and_records():
    survey = pd.DataFrame({"code_right_4": _answers(30, 30, 5), "code_right_8": _answers(3, 1, 61)})
    crimes = pd.DataFrame(
        {
            "crime_id": [f"c{i}" for i in range(60)],
            "victim_identified": pd.array([True] * 60, dtype="boolean"),
            "need_identified": pd.array([True] * 55 + [False] * 5, dtype="boolean"),
        }
    )
    # 2024-01-05 is a Friday: Monday 8th is 1 working day later, Tuesday 9th 2, Wednesday 10th 3.
    n = 52
    contact = ["2024-01-09"] * 40 + ["2024-01-10"] * 10 + [None] * 2
    referrals = pd.DataFrame(
        {
            "crime_id": [f"c{i}" for i in range(n)],
            "referral_date": pd.to_datetime(["2024-01-05"] * n),
            "first_contact_date": pd.to_datetime(contact),
        }
    )
    c = voice.code_compliance(survey, rights=[4, 8], referrals=referrals, crimes=crimes)
    t = c.table
    s4 = t[(t["right"] == 4) & (t["source"] == "victim survey")].iloc[0]
    assert s4["responses"] == 60 and s4["value"] == pytest.approx(50.0)
    s8 = t[t["right"] == 8].iloc[0]
    assert s8["estimate"] == "not enough responses"
    referred = t[t["measure"] == "victims with an identified need who were referred"].iloc[0]
    assert (referred["responses"], referred["yes"]) == (55, 52)
    lo, hi = proportion_confint(52, 55, method="wilson")
    assert (referred["lowercl"], referred["uppercl"]) == pytest.approx((100 * lo, 100 * hi))
    timely = t[t["measure"].str.startswith("first contact attempt within 2 working days")].iloc[0]
    assert (timely["responses"], timely["yes"]) == (52, 40)
    gap = c.gap.iloc[0]
    assert gap["value"] == pytest.approx(100 * 52 / 55 - 50.0)
    assert gap["finding"] == "records show more compliance than victims report"
    assert "Right  4" in c.summary()
    assert c.plot().get_xlim() == (0, 100)


def test_code_compliance_example_area_weighted():
    data = vn.load_example()
    c = voice.code_compliance(data.survey, weights="weight")
    survey_rows = c.table[c.table["source"] == "victim survey"]
    assert sorted(survey_rows["right"]) == list(range(1, 13))
    assert (survey_rows["lowercl"] <= survey_rows["value"]).all()
    assert c.gap.empty


# --------------------------------------------------------------------------------------------------
# Inputs: readable errors, caller's frame unchanged
# --------------------------------------------------------------------------------------------------


def test_readable_errors():
    s = pd.DataFrame({"satisfied_contact": _answers(50, 10), "weight": [1.0] * 59 + [-1.0]})
    with pytest.raises(KeyError, match="no column"):
        voice.satisfaction(s, by="district_code")
    with pytest.raises(ValueError, match="positive weight"):
        voice.satisfaction(s, weights="weight", stages="contact")
    with pytest.raises(ValueError, match="unknown satisfaction stage"):
        voice.satisfaction(s, stages="speed")
    with pytest.raises(ValueError, match="1 to 12"):
        voice.code_compliance(pd.DataFrame({"code_right_1": _answers(1, 1)}), rights=[13])


def test_inputs_not_changed():
    data = vn.load_example()
    before = data.survey.copy()
    voice.satisfaction(data.survey, by="district_code", weights="weight")
    voice.satisfaction_change(data.survey, weights="weight")
    voice.district_funnel(data.survey, weights="weight")
    pd.testing.assert_frame_equal(data.survey, before)


def test_right4_referral_within_working_days_of_reporting():
    # Crimes reported on Friday 5 January 2024: Monday 8th is 1 working day later, Tuesday 9th 2, Wednesday 10th 3.
    crimes = pd.DataFrame(
        {
            "crime_id": [f"c{i}" for i in range(70)],
            "victim_identified": pd.array([True] * 70, dtype="boolean"),
            "need_identified": pd.array([True] * 70, dtype="boolean"),
            "reported": pd.to_datetime(["2024-01-05"] * 68 + [None, "2024-01-05"]),
        }
    )
    referral_day = ["2024-01-08"] * 30 + ["2024-01-09"] * 20 + ["2024-01-10"] * 15 + ["2024-01-08"] * 5
    referrals = pd.DataFrame(
        {
            "crime_id": [f"c{i}" for i in range(70)],
            "source": ["Police"] * 69 + ["Self"],
            "referral_date": pd.to_datetime(referral_day),
            "first_contact_date": pd.to_datetime(referral_day),
        }
    )
    c = voice.code_compliance(referrals=referrals, crimes=crimes, report_date="reported")
    row = c.table[c.table["measure"] == "referred within 2 working days of reporting"].iloc[0]
    # Police referrals c0-c68; c68 has no report date, so 68 are measured (c69 is a self-referral).
    # Met: c0-c29 (1 working day) + c30-c49 (2) + c65-c67 (1) = 53; c50-c64 took 3 working days.
    assert (row["responses"], row["yes"]) == (68, 53)
    assert "1 referrals without a linked report date" in row["method"]
    assert c.gap.empty


def test_themes_count_by_hand_and_hide_small_counts():
    comments = (
        ["I waited weeks and was never updated"] * 11  # Delay + Kept informed
        + ["The officer was kind and I felt safe"] * 12  # Attitude + Safety
        + ["Nobody ever called back"] * 2  # Kept informed (call* back)
        + ["", None]  # not comments
    )
    s = pd.DataFrame({"comment": comments, "district_code": ["A"] * 27})
    t = voice.themes(s).set_index("theme")
    assert (t["comments"] == 25).all()
    assert t.loc["Kept informed", "mentions"] == 13
    assert t.loc["Kept informed", "value"] == pytest.approx(100 * 13 / 25)
    assert t.loc["Delay", "mentions"] == 11
    assert t.loc["Attitude of staff", "mentions"] == 12 and t.loc["Safety", "mentions"] == 12
    assert pd.isna(t.loc["Outcome and justice", "mentions"])  # 0 < 10: not shown
    assert pd.isna(t.loc["Outcome and justice", "value"])
    # never returns the text itself
    assert not t.astype(str).apply(lambda col: col.str.contains("waited")).any().any()


def test_right4_counts_victims_who_declined_apart():
    """The Code's denominator: victims with a need who agreed to referral; those who declined are not failures."""
    crimes = pd.DataFrame(
        {
            "crime_id": [f"c{i}" for i in range(60)],
            "victim_identified": pd.array([True] * 60, dtype="boolean"),
            "need_identified": pd.array([True] * 50 + [False] * 10, dtype="boolean"),
            # c0-c29 agreed (c0-c26 referred), c30-c44 declined, c45-c49 not asked.
            "consent_to_refer": pd.array([True] * 30 + [False] * 15 + [None] * 5 + [None] * 10, dtype="boolean"),
        }
    )
    referrals = pd.DataFrame(
        {
            "crime_id": [f"c{i}" for i in range(27)],
            "referral_date": pd.to_datetime(["2024-01-05"] * 27),
            "first_contact_date": pd.to_datetime(["2024-01-08"] * 27),
        }
    )
    t = voice.code_compliance(referrals=referrals, crimes=crimes, min_responses=1).table
    met = t[t["measure"].str.contains("agreed to referral and were referred")].iloc[0]
    assert (met["responses"], met["yes"]) == (30, 27)
    lo, hi = proportion_confint(27, 30, method="wilson")
    assert (met["lowercl"], met["uppercl"]) == pytest.approx((100 * lo, 100 * hi))
    declined = t[t["measure"].str.startswith("declined referral")].iloc[0]
    assert (declined["responses"], declined["yes"]) == (45, 15)
    assert "5 victims with a need and no consent recorded" in met["method"]
    # Without the consent column every victim with a need counts, as before, and the method says so.
    old = voice.code_compliance(referrals=referrals, crimes=crimes.drop(columns="consent_to_refer")).table
    row = old[old["measure"] == "victims with an identified need who were referred"].iloc[0]
    assert (row["responses"], row["yes"]) == (50, 27) and "not recorded" in row["method"]


def test_satisfaction_trend_allows_for_quarters_that_vary():
    """Flat but over-dispersed quarterly satisfaction: the trend is flagged no more often than 5% (with chance)."""
    from scipy import stats as sst

    rng = np.random.default_rng(9)
    sims, flagged = 100, 0
    quarters = pd.date_range("2021-01-15", periods=12, freq="3MS")
    for _ in range(sims):
        share = 1 / (1 + np.exp(-(1.0 + rng.normal(0, 0.3, 12))))
        answers = np.concatenate([rng.random(300) < p for p in share])
        s = pd.DataFrame({"response_date": np.repeat(quarters, 300), "satisfied_whole_experience": answers})
        row = voice.satisfaction_trend(s).trend.iloc[0]
        flagged += row["finding"] != "no evidence of a trend"
    assert flagged <= sst.binom.ppf(0.999, sims, 0.05)
    assert row["dispersion"] >= 1


def test_right4_timeliness_control_chart_flags_a_four_month_fall():
    """Referrals contacted within 2 working days: 85% a month, 60% for four months; the p-chart flags them."""
    from victimneeds import compare

    rng = np.random.default_rng(21)
    days = pd.bdate_range("2023-01-02", "2024-12-31")
    ref = pd.Series(rng.choice(days, 6000)).sort_values(ignore_index=True)
    fall = (ref >= "2024-01-01") & (ref < "2024-05-01")
    quick = rng.random(len(ref)) < np.where(fall, 0.60, 0.85)
    wait = np.where(quick, rng.integers(0, 3, len(ref)), rng.integers(3, 10, len(ref)))
    contact = [d + pd.offsets.BDay(int(w)) for d, w in zip(ref, wait, strict=True)]
    refs = pd.DataFrame({"referral_date": ref, "first_contact_date": contact})
    refs["met"] = voice.contact_within(refs, 2)
    assert refs["met"].isna().sum() <= 5  # only the last days' windows are still open
    chart = compare.control_chart(refs, "met", "referral_date")
    flagged = chart.table.loc[chart.table["signal"] != "", "period"].astype(str).tolist()
    assert {"2024-01", "2024-02", "2024-03", "2024-04"} <= set(flagged)
    below = chart.findings[chart.findings["direction"] == "below"]
    assert set(below["start"]) <= {"2024-01", "2024-02", "2024-03", "2024-04"}


def test_findings_apply_the_family_rule():
    import types

    # Six groups' trends: one with p = 0.03 alone is not a finding across six (Benjamini-Hochberg); p = 0.0001 is.
    trend = pd.DataFrame(
        {
            "crime_group": list("ABCDEF"),
            "odds_ratio_per_year": [0.9, 1.0, 1.0, 1.0, 1.0, 0.7],
            "p_value": [0.03, 0.6, 0.7, 0.8, 0.9, 0.0001],
            "finding": ["evidence of a falling trend"] + ["no evidence of a trend"] * 4
            + ["evidence of a falling trend"],
        }
    )
    f = voice.findings(trend=types.SimpleNamespace(trend=trend, by=["crime_group"])).set_index("topic")
    assert f.loc["Trend in satisfaction", "finding"] == "F: evidence of a falling trend."
    # A district beyond the 95% limit only is not a finding; beyond 99.8% it is.
    table = pd.DataFrame(
        {
            "district_name": ["North", "South", "East"],
            "flag": ["above 95%", "below 99.8%", "within 95%"],
            "finding": ["possibly higher than the area average (beyond the 95% limit only)",
                        "lower than the area average (beyond the 99.8% limit)", "no evidence of a difference"],
        }
    )
    f = voice.findings(funnel=types.SimpleNamespace(table=table, label="district_name")).set_index("topic")
    assert f.loc["Districts", "finding"] == "South: lower than the area average (beyond the 99.8% limit)."
    # Victims' Code rights: twelve rights met 70% of the time, two points apart, are no finding; one at 50% is.
    rights = pd.DataFrame(
        {
            "right": range(1, 13),
            "right_text": [f"Right {k}" for k in range(1, 13)],
            "source": "victim survey",
            "value": [70.0, 68.0, 72.0, 69.0, 71.0, 70.0, 70.0, 68.0, 72.0, 70.0, 69.0, 71.0],
            "lowercl": 66.0,
            "uppercl": 74.0,
            "effective_n": 600.0,
        }
    )
    code = types.SimpleNamespace(table=rights, gap=pd.DataFrame())
    text = voice.findings(compliance=code).set_index("topic").loc["Victims' Code", "finding"]
    assert text.startswith("No right is reported as met less often")
    code.table = rights.assign(value=np.where(rights["right"] == 6, 50.0, rights["value"]))
    text = voice.findings(compliance=code).set_index("topic").loc["Victims' Code", "finding"]
    assert text.startswith("Rights victims report as met less often than the others: right 6 (right 6) 50%")
    assert text.count("right ") == 2  # only right 6 (and its own text)
