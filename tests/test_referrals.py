"""Tests for victimneeds.referrals: hand-counted funnels, standardised ratios checked against scipy, a GLM
checked against statsmodels' individual-level Logit, Kaplan-Meier by hand, and the planted effects of the
example area found by the method meant to find each."""

from __future__ import annotations

import types
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sst
from statsmodels.stats.proportion import proportion_confint

from victimneeds import referrals as R
from victimneeds.datasets import EXAMPLE_EFFECTS, load_example

# --------------------------------------------------------------------------------------------------
# Tiny hand-made tables
# --------------------------------------------------------------------------------------------------


def tiny_crimes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "crime_id": [f"C{i}" for i in range(1, 11)],
            "district_code": ["A"] * 5 + ["B"] * 4 + [None],
            "crime_group": ["Violence"] * 10,
            "victim_sex": ["Female", "Male"] * 5,
            "victim_age_band": ["25-34"] * 10,
            "victim_ethnicity": ["White"] * 10,
            "victim_identified": [True] * 9 + [False],
            "needs_assessment_done": [True, True, True, True, False, True, True, True, False, None],
            "need_identified": [True, True, False, False, None, True, False, False, None, None],
            "is_repeat_victim": [False, False, True, False, False, False, False, False, False, None],
        }
    )


def tiny_referrals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "crime_id": ["C1", "C2", "C6", None, None],
            "source": ["Police", "Police", "Police", "Self", "Partner"],
            "district_code": ["A", "A", "B", "A", "B"],
            "crime_group": ["Violence"] * 5,
            "victim_sex": ["Female", "Male", "Male", "Female", "Female"],
            "victim_age_band": ["25-34"] * 5,
            "victim_ethnicity": ["White"] * 5,
            "contact_attempted": [True, True, True, True, False],
            "contact_made": [True, True, False, True, False],
            "need_identified": [True, False, None, True, None],
            "support_accepted": [True, False, None, True, None],
            "support_level": ["Enhanced", "Basic", None, "Basic", None],
            "onward_referral": ["Counselling", "None", None, "None", None],
            "closed_date": pd.to_datetime(["2024-06-01", "2024-04-10", None, None, None]),
            "outcome_cope_recover": [True, None, None, None, None],
        }
    )


@pytest.fixture(scope="module")
def example():
    return load_example()


@pytest.fixture(scope="module")
def example_models(example):
    """The example area's referral model on the Victims' Code denominator and over all assessed victims."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "code": R.referral_model(example.crimes, example.referrals),
            "assessed": R.referral_model(example.crimes, example.referrals, denominator="assessed"),
        }


# --------------------------------------------------------------------------------------------------
# 1. Pathway
# --------------------------------------------------------------------------------------------------


def test_pathway_counts_by_hand():
    crimes, refs = tiny_crimes(), tiny_referrals()
    before = crimes.copy()
    p = R.pathway(crimes, refs)
    pd.testing.assert_frame_equal(crimes, before)  # caller's frame unchanged
    got = p.table.set_index("stage_key")
    # Counted on paper: 9 identified victims; 7 assessed (C1-C4, C6-C8); need in C1, C2, C6; referred C1, C2, C6.
    expected = {
        "identified": 9,
        "assessed": 7,
        "need": 3,
        "referred_police": 3,
        "referred": 5,
        "attempted": 4,
        "contacted": 3,
        "accepted": 2,
        "delivered": 2,
        "enhanced": 1,
        "onward": 1,
        "outcome": 1,
    }
    assert got["count"].to_dict() == expected
    assert got.loc["referred", "entered_police"] == 3
    assert got.loc["referred", "entered_self"] == 1 and got.loc["referred", "entered_partner"] == 1
    # Referred by police among assessed: 3 / 7, Wilson interval as statsmodels computes it.
    lo, hi = proportion_confint(3, 7, method="wilson")
    assert got.loc["referred_police", "conversion"] == pytest.approx(100 * 3 / 7)
    assert got.loc["referred_police", "conversion_lower"] == pytest.approx(100 * lo)
    assert got.loc["referred_police", "conversion_upper"] == pytest.approx(100 * hi)
    # Overall: contacted 3 of 5 referrals.
    assert got.loc["contacted", "overall"] == pytest.approx(60.0)
    assert (got["method"] == "Wilson score interval (Wilson 1927)").all()
    assert "1 of 10 crimes have no identified victim" in p.notes[0]


def test_pathway_by_district_keeps_unrecorded():
    p = R.pathway(tiny_crimes(), tiny_referrals(), by="district_code")
    t = p.table
    assert set(t["district_code"]) == {"A", "B", "Not recorded"}
    ident = t[t["stage_key"] == "identified"].set_index("district_code")["count"]
    assert ident.to_dict() == {"A": 5, "B": 4, "Not recorded": 0}
    ref = t[t["stage_key"] == "referred_police"].set_index("district_code")
    assert ref.loc["A", "converted"] == 2 and ref.loc["A", "from_count"] == 4
    assert ref.loc["B", "converted"] == 1 and ref.loc["B", "from_count"] == 3
    # Group totals add up to the whole-area counts.
    whole = R.pathway(tiny_crimes(), tiny_referrals()).table.set_index("stage_key")["count"]
    assert t.groupby("stage_key")["count"].sum().reindex(whole.index).tolist() == whole.tolist()


def test_stage_table():
    pb = R.pathway(tiny_crimes(), tiny_referrals(), by="district_code")
    t = pb.stage_table("referred_police").set_index("district_code")
    assert t.loc["A", "reached"] == 2 and t.loc["A", "at_previous_stage"] == 4
    assert t.loc["A", "previous_stage"] == "Needs assessment done"
    with pytest.raises(ValueError, match="starts its segment"):
        pb.stage_table("identified")


def test_pathway_missing_column_message():
    with pytest.raises(KeyError, match="crimes table has no column"):
        R.pathway(tiny_crimes().drop(columns="needs_assessment_done"), tiny_referrals())


def test_pathway_plot_artists():
    p = R.pathway(tiny_crimes(), tiny_referrals())
    ax = p.plot()
    assert len(ax.patches) == len(R.STAGES)
    assert "Referred by police" in [t.get_text() for t in ax.get_yticklabels()]
    plt.close(ax.figure)
    pb = R.pathway(tiny_crimes(), tiny_referrals(), by="district_code")
    ax = pb.plot(stage="referred_police")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "Not recorded"]
    plt.close(ax.figure)
    ax = pb.plot(stage="referred_police", names={"A": "Ayton", "B": "Beeford"})
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Ayton", "Beeford", "Not recorded"]
    assert ax.get_title().endswith("by district")
    plt.close(ax.figure)


def test_pathway_example_harrowdale_lowest(example):
    p = R.pathway(example.crimes, example.referrals, by="district_code")
    ref = p.table[(p.table["stage_key"] == "referred_police") & (p.table["district_code"] != "Not recorded")]
    worst = ref.sort_values("conversion").iloc[0]
    assert worst["district_code"] == EXAMPLE_EFFECTS["under_referring_district"]["district_code"]
    others = ref[ref["district_code"] != worst["district_code"]]
    assert worst["conversion_upper"] < others["conversion_lower"].min()


# --------------------------------------------------------------------------------------------------
# 2. Standardised referral ratios and the funnel
# --------------------------------------------------------------------------------------------------


def test_standardised_referrals_by_hand():
    t = pd.DataFrame(
        {
            "district": ["A", "A", "B", "B"],
            "group": ["DA", "Other"] * 2,
            "referred": [60, 10, 20, 30],
            "victims": [100, 100, 100, 300],
        }
    )
    out = R.standardised_referrals(t, "referred", "victims", "district", "group").set_index("district")
    # Reference rates: DA 80/200 = 0.4, Other 40/400 = 0.1. Expected A = 100*0.4 + 100*0.1 = 50; B = 40 + 30 = 70.
    assert out.loc["A", "expected"] == pytest.approx(50.0)
    assert out.loc["B", "expected"] == pytest.approx(70.0)
    assert out.loc["A", "ratio"] == pytest.approx(70 / 50)
    # Binomial variance under the area's rates: A = 100*0.4*0.6 + 100*0.1*0.9 = 33, so z = 0.4 / (sqrt(33) / 50).
    assert out.loc["A", "z"] == pytest.approx(0.4 / (np.sqrt(33) / 50))
    assert out.loc["A", "variance_factor"] == pytest.approx(33 / 50)
    # The interval uses the variance at the estimated ratio 1.4: rates 0.56 and 0.14, 24.64 + 12.04 = 36.68.
    half = sst.norm.ppf(0.975) * np.sqrt(36.68) / 50
    assert out.loc["A", "lowercl"] == pytest.approx(1.4 - half)
    assert out.loc["A", "uppercl"] == pytest.approx(1.4 + half)
    # 95% funnel limits at A: 1 +/- 1.96 sqrt(33) / 50, so A (1.4) is above them.
    assert out.loc["A", "upper_95"] == pytest.approx(1 + sst.norm.ppf(0.975) * np.sqrt(33) / 50)
    assert out.loc["A", "flag"] == "above 99.8%"
    assert out.loc["A", "victims"] == 200


def test_standardised_referrals_calibrated_on_binomial_data():
    """No district effect: about 5% of districts outside the 95% limits (Poisson limits gave 0.1%); a planted
    ratio is covered about 95% of the time (Poisson: 99.8%)."""
    rng = np.random.default_rng(5)
    outside = covered = total = 0
    for _ in range(150):
        rows = []
        for d in range(12):
            for g, p in (("DA", 0.75), ("Other", 0.6)):
                n = 300
                p_d = p * (0.85 if d == 0 else 1.0)
                rows.append({"district": f"D{d}", "group": g, "referred": rng.binomial(n, p_d), "victims": n})
        out = R.standardised_referrals(pd.DataFrame(rows), "referred", "victims", "district", "group")
        others = out[out["district"] != "D0"]
        outside += (others["flag"] != "within 95%").sum()
        total += len(others)
        d0 = out[out["district"] == "D0"].iloc[0]
        truth = 0.85 / (1 - 0.15 / 12)  # the area's rates include D0's own shortfall
        covered += d0["lowercl"] <= truth <= d0["uppercl"]
    assert 0.02 <= outside / total <= 0.08, outside / total
    assert covered / 150 >= 0.88, covered


def test_referral_ratios_tiny():
    r = R.referral_ratios(tiny_crimes(), tiny_referrals(), strata=["victim_sex"])
    t = r.table.set_index("district_code")
    # Assessed with a district: A has C1-C4 (F, M, F, M), B has C6-C8 (M, F, M). Referred: C1 (F), C2 (M), C6 (M).
    # Rates: Female 1/3, Male 2/4. Expected A = 2/3 + 2*0.5 = 5/3; B = 1/3 + 2*0.5 = 4/3.
    assert t.loc["A", "observed"] == 2 and t.loc["A", "expected"] == pytest.approx(5 / 3)
    assert t.loc["B", "observed"] == 1 and t.loc["B", "expected"] == pytest.approx(4 / 3)


def test_referral_ratios_find_harrowdale(example):
    names = dict(zip(example.districts["district_code"], example.districts["district_name"], strict=True))
    code = EXAMPLE_EFFECTS["under_referring_district"]["district_code"]
    # The example area plants its referral gap in the officer's decision to refer a consenting victim with a
    # need, so it shows on the Victims' Code denominator ...
    r = R.referral_ratios(example.crimes, example.referrals, names=names)
    row = r.table.set_index("district_code").loc[code]
    assert row["flag"] == "below 99.8%"
    assert row["uppercl"] < 0.9
    assert "Victims' Code denominator" in r.table.attrs["note"]
    low = r.outliers()
    low = low[low["ratio"] < 1]
    assert low["district_code"].tolist() == [code]
    assert low["finding"].iloc[0].startswith("Harrowdale referred")
    # Allowing for over-dispersion, Harrowdale is still the one district below the limits.
    od = R.referral_ratios(example.crimes, example.referrals, overdispersion=True, names=names)
    pd.testing.assert_frame_equal(od.table, r.with_overdispersion("additive").table)
    below = od.table[od.table["flag"].str.startswith("below")]
    assert below["district_code"].tolist() == [code]
    ax = r.plot()
    assert len(ax.collections) == 2  # within and outside the limits
    plt.close(ax.figure)
    # ... and over all assessed victims (the wider denominator, a secondary table).
    wide = R.referral_ratios(example.crimes, example.referrals, names=names, denominator="assessed")
    assert wide.table.set_index("district_code").loc[code, "uppercl"] < 1
    # Declining is the victim's choice, not planted by district: shares alike across districts.
    t = r.table.set_index("district_code").drop("Not recorded", errors="ignore")
    share = t["declined"] / (t["declined"] + t["victims"])
    assert share.max() / share.min() < 1.15


def test_no_effect_flags_at_expected_rate():
    """With no planted effect, units outside 99.8% limits occur no more often than chance allows."""
    rng = np.random.default_rng(12345)
    n_sims, n_units = 200, 10
    rates = np.array([0.5, 0.3, 0.15, 0.05])
    flagged = 0
    for _ in range(n_sims):
        victims = rng.integers(200, 2000, size=(n_units, len(rates)))
        referred = rng.binomial(victims, rates)
        t = pd.DataFrame(
            {
                "unit": np.repeat(np.arange(n_units), len(rates)).astype(str),
                "stratum": np.tile(np.arange(len(rates)), n_units).astype(str),
                "x": referred.ravel(),
                "n": victims.ravel(),
            }
        )
        out = R.standardised_referrals(t, "x", "n", "unit", "stratum")
        flagged += int(out["flag"].str.contains("99.8").sum())
    # Expected share 0.2% of 2,000 units = 4; allow the binomial 99.9th percentile.
    assert flagged <= sst.binom.ppf(0.999, n_sims * n_units, 0.002)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(1, 50)), min_size=4, max_size=12))
def test_standardised_ratio_properties(cells):
    x = [min(a, n) for a, n in cells]
    n = [b for _, b in cells]
    k = len(cells)
    t = pd.DataFrame(
        {"unit": [f"U{i % 2}" for i in range(k)], "stratum": [f"S{i // 2}" for i in range(k)], "x": x, "n": n}
    )
    if sum(x) == 0:
        return
    out = R.standardised_referrals(t, "x", "n", "unit", "stratum")
    # Internal standardisation: expected counts add up to the observed total.
    assert out["expected"].sum() == pytest.approx(out["observed"].sum())
    ok = out["expected"] > 0
    assert (out.loc[ok, "lowercl"] <= out.loc[ok, "ratio"] + 1e-12).all()
    assert (out.loc[ok, "ratio"] <= out.loc[ok, "uppercl"] + 1e-12).all()


# --------------------------------------------------------------------------------------------------
# 3. Binomial GLM
# --------------------------------------------------------------------------------------------------


def _glm_table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 600
    sex = rng.choice(["Female", "Male"], n)
    age = rng.choice(["16-24", "25-34", "65-74"], n, p=[0.3, 0.5, 0.2])
    logit = -0.3 + 0.5 * (sex == "Male") - 0.8 * (age == "65-74")
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {"crime_id": [None] * n, "contact_made": True, "support_accepted": y, "victim_sex": sex, "victim_age_band": age}
    )


def test_glm_matches_individual_logit():
    refs = _glm_table()
    m = R.referral_model(
        None,
        refs,
        "support_accepted",
        covariates=["victim_sex", "victim_age_band"],
        reference={"victim_sex": "Female", "victim_age_band": "25-34"},
    )
    # Independent fit: statsmodels' Logit on the 600 individual rows with hand-made dummies.
    x = pd.DataFrame(
        {
            "const": 1.0,
            "male": (refs["victim_sex"] == "Male").astype(float),
            "a16": (refs["victim_age_band"] == "16-24").astype(float),
            "a65": (refs["victim_age_band"] == "65-74").astype(float),
        }
    )
    fit = sm.Logit(refs["support_accepted"].astype(float), x).fit(disp=0)
    t = m.table.set_index("level")
    assert t.loc["Male", "odds_ratio"] == pytest.approx(np.exp(fit.params["male"]), rel=1e-6)
    assert t.loc["65-74", "odds_ratio"] == pytest.approx(np.exp(fit.params["a65"]), rel=1e-6)
    assert t.loc["65-74", "lower"] == pytest.approx(np.exp(fit.conf_int().loc["a65", 0]), rel=1e-5)
    assert m.n == 600 and m.events == int(refs["support_accepted"].sum())


def test_unadjusted_or_is_cross_product_ratio():
    # 2x2 by hand: Female 30 of 50 accepted, Male 10 of 40. OR = (10/30) / (30/20) = 2/9.
    refs = pd.DataFrame(
        {
            "crime_id": [None] * 90,
            "contact_made": True,
            "support_accepted": [True] * 30 + [False] * 20 + [True] * 10 + [False] * 30,
            "victim_sex": ["Female"] * 50 + ["Male"] * 40,
        }
    )
    m = R.referral_model(None, refs, "support_accepted", covariates=["victim_sex"], min_group=1)
    row = m.table.iloc[0]
    assert row["reference"] == "Female"  # the largest group
    assert row["unadjusted_or"] == pytest.approx(2 / 9)
    se = np.sqrt(1 / 10 + 1 / 30 + 1 / 30 + 1 / 20)
    assert row["unadjusted_lower"] == pytest.approx(2 / 9 * np.exp(-1.959963985 * se))
    # With one covariate the adjusted and unadjusted odds ratios agree.
    assert row["odds_ratio"] == pytest.approx(2 / 9, rel=1e-6)


def test_small_group_warning():
    refs = _glm_table()
    refs.loc[:3, "victim_sex"] = "Unknown"
    with pytest.warns(UserWarning, match="small"):
        m = R.referral_model(None, refs, "support_accepted", covariates=["victim_sex"])
    assert m.table.set_index("level").loc["Unknown", "warning"].startswith("small group")


def test_glm_finds_planted_effects(example_models):
    m, code = example_models["assessed"], example_models["code"]
    # The Code model carries the wider model as its secondary table, and the declined shares.
    pd.testing.assert_frame_equal(code.wider, m.table)
    dec = code.declined.set_index(["covariate", "level"])
    assert 0.05 < dec.loc[("All", "All"), "value"] / 100 < 0.3  # victims with a need who declined referral
    # The effects are planted on the Code's step (the officer's decision for a consenting victim with a need);
    # lost referrals (3% of decisions) pull the observed odds ratios slightly towards 1.
    t = code.table.set_index(["covariate", "level"])
    eff = EXAMPLE_EFFECTS["less_referred_group"]
    for band in eff["values"]:
        row = t.loc[("victim_age_band", band)]
        assert row["upper"] < 1
        assert row["lower"] < eff["odds_ratio"] < row["upper"] or abs(row["odds_ratio"] - eff["odds_ratio"]) < 0.05
    district = t.loc[("district_code", EXAMPLE_EFFECTS["under_referring_district"]["district_code"])]
    assert abs(district["odds_ratio"] - EXAMPLE_EFFECTS["under_referring_district"]["odds_ratio"]) < 0.05
    # Over all assessed victims the same effects are diluted towards 1.
    wide = m.table.set_index(["covariate", "level"])
    harrowdale = ("district_code", EXAMPLE_EFFECTS["under_referring_district"]["district_code"])
    assert t.loc[harrowdale, "odds_ratio"] < wide.loc[harrowdale, "odds_ratio"] < 1
    assert any("victim_disability" in n for n in m.notes)
    ax = m.plot(covariates=["victim_age_band"])
    assert len(ax.get_yticklabels()) == len(t.loc["victim_age_band"])
    plt.close(ax.figure)


# --------------------------------------------------------------------------------------------------
# 4. Timeliness and needs-assessment accuracy
# --------------------------------------------------------------------------------------------------


def test_contact_times_open_case_censored_by_hand():
    # Two referrals on Monday 1 April 2024: one contacted Wednesday (2 working days), one still open with no
    # contact at the extract date of Tuesday 2 April (censored at 1). KM: S(1) = 1, S(2) = 0.
    refs = pd.DataFrame(
        {
            "service": ["A", "A"],
            "referral_date": pd.to_datetime(["2024-04-01"] * 2),
            "first_contact_date": pd.to_datetime(["2024-04-03", None]),
            "closed_date": pd.to_datetime([None, None]),
        }
    )
    ct = R.contact_times(refs, extract_date="2024-04-02", limits=(1, 2))
    row = ct.table.iloc[0]
    assert row["within_1_days"] == 0 and row["within_2_days"] == pytest.approx(100)
    assert row["censored"] == 1


def test_contact_times_finds_slow_service(example):
    ct = R.contact_times(example.referrals)
    t = ct.table.set_index("service")
    slow = EXAMPLE_EFFECTS["slow_first_contact"]["service"]
    assert t.loc[slow, "median_days"] >= 4
    assert (t.drop(index=slow)["median_days"] <= 2).all()
    assert t["within_2_days"].idxmin() == slow
    gaps = R.gaps_found(times=ct)
    assert gaps["who"].tolist() == [slow]
    ax = ct.plot()
    assert len(ax.get_lines()) >= len(t)
    plt.close(ax.figure)


def test_assessment_accuracy_by_hand():
    a = R.assessment_accuracy(tiny_crimes(), tiny_referrals())
    t = a.table.set_index("district_code")
    # A: C1 referred, need confirmed; C2 referred, declined; C3 repeat victim not referred (missed); C4 nothing.
    assert t.loc["A", ["referred_need", "referred_no_need", "missed", "not_referred_no_evidence"]].tolist() == [
        1,
        1,
        1,
        1,
    ]
    # B: C6 referred, never contacted (unknown); C7, C8 no evidence.
    assert t.loc["B", ["referred_unknown", "not_referred_no_evidence"]].tolist() == [1, 2]
    lo, hi = proportion_confint(1, 2, method="wilson")
    assert t.loc["A", "missed_rate"] == pytest.approx(50)
    assert t.loc["A", "missed_lower"] == pytest.approx(100 * lo)
    assert len(a.two_by_two) == 4 * 2


def test_assessment_accuracy_example(example):
    a = R.assessment_accuracy(example.crimes, example.referrals)
    t = a.table[a.table["district_code"] != "Not recorded"].set_index("district_code")
    code = EXAMPLE_EFFECTS["under_referring_district"]["district_code"]
    # Victims with a need who declined are counted apart, not as missed; among those who consented,
    # Harrowdale's officers miss the most (the planted under-referral).
    assert t["declined_referral"].sum() > 0 and t["missed"].sum() > 0
    assert t["missed_rate"].idxmax() == code
    assert (t["declined_referral"] / t["with_need"]).max() / (t["declined_referral"] / t["with_need"]).min() < 1.2


def test_gaps_found_on_example(example, example_models):
    names = dict(zip(example.districts["district_code"], example.districts["district_name"], strict=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        times = R.contact_times(example.referrals)
        gaps = R.gaps_found(
            R.referral_ratios(example.crimes, example.referrals, names=names),
            example_models["code"],
            times,
            names=names,
        )
        wider = R.gaps_found(
            R.referral_ratios(example.crimes, example.referrals, names=names, denominator="assessed"),
            example_models["assessed"],
            names=names,
        )
    older = {"Victim's age band: 65-74", "Victim's age band: 75+"}
    # On the Code denominator the adjusted model finds exactly the planted groups less likely to be referred,
    # and no group "declines" more (declining is not planted by group).
    less_code = gaps[gaps["gap"].str.startswith("Group less likely")]
    assert {"District: Harrowdale", *older} == set(less_code["who"])
    assert not gaps["gap"].str.startswith("Group declines").any()
    assert EXAMPLE_EFFECTS["slow_first_contact"]["service"] in gaps["who"].tolist()
    # Over all assessed victims: the adjusted model finds Harrowdale and older victims less likely to be referred.
    less = wider[wider["gap"].str.startswith("Group less likely")]
    assert {"District: Harrowdale", *older} == set(less["who"])


# --------------------------------------------------------------------------------------------------
# 6. Onward referrals and capacity
# --------------------------------------------------------------------------------------------------


def test_onward_matrix_by_hand():
    refs = tiny_referrals().assign(service=["VAL", "VAL", "VAL", "VAL", "IDVA"])
    m = R.onward_matrix(refs)
    # Contact made: C1 (Counselling), C2 (None), the self-referral (None); all VAL. Two not contacted.
    got = m.set_index(["service", "onward_referral"])
    assert got.loc[("VAL", "Counselling"), "referrals"] == 1 and got.loc[("VAL", "None"), "referrals"] == 2
    assert got.loc[("VAL", "None"), "value"] == pytest.approx(200 / 3)
    assert m.attrs["not_contacted"] == 2


def test_demand_vs_capacity_and_summary_by_hand():
    refs = pd.DataFrame(
        {
            "service": ["A"] * 5 + ["B"],
            "referral_date": pd.to_datetime(
                ["2024-04-01", "2024-04-02", "2024-04-03", "2024-05-01", "2024-06-01", "2024-04-01"]
            ),
        }
    )
    svc = pd.DataFrame({"service_name": ["A", "B"], "capacity_cases": [24.0, 120.0]})
    monthly = R.demand_vs_capacity(refs, svc)
    a = monthly[monthly["service"] == "A"]
    assert a["referrals"].tolist() == [3, 1, 1]
    assert a["demand_ratio"].tolist() == pytest.approx([1.5, 0.5, 0.5])
    summ = R.capacity_summary(monthly).set_index("service")
    assert summ.loc["A", "months_over_capacity"] == 1 and summ.loc["A", "months"] == 3
    lo, hi = proportion_confint(1, 3, method="wilson")
    assert summ.loc["A", "lowercl"] == pytest.approx(100 * lo)
    assert summ.loc["B", "median_demand_ratio"] == pytest.approx(0.1)


def test_capacity_example_isva_most_stretched(example):
    summ = R.capacity_summary(R.demand_vs_capacity(example.referrals, example.services))
    slow = EXAMPLE_EFFECTS["slow_first_contact"]["service"]
    assert summ.set_index("service")["median_demand_ratio"].idxmax() == slow
    onward = R.onward_matrix(example.referrals)
    assert (onward.groupby("service")["value"].sum().round(6) == 100).all()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()), min_size=1, max_size=40))
def test_pathway_properties(rows):
    crimes = pd.DataFrame(
        {
            "crime_id": [f"C{i}" for i in range(len(rows))],
            "victim_identified": [r[0] for r in rows],
            "needs_assessment_done": [r[0] and r[1] for r in rows],
            "need_identified": [r[0] and r[1] and r[2] for r in rows],
        }
    )
    referred = [f"C{i}" for i, r in enumerate(rows) if r[0] and r[1] and r[3]]
    k = len(referred)
    refs = pd.DataFrame(
        {
            "crime_id": referred,
            "source": ["Police"] * k,
            "contact_attempted": [True] * k,
            "contact_made": [i % 2 == 0 for i in range(k)],
            "support_accepted": [i % 4 == 0 for i in range(k)],
            "support_level": ["Basic"] * k,
            "onward_referral": ["None"] * k,
            "closed_date": pd.to_datetime([None] * k),
        }
    )
    t = R.pathway(crimes, refs).table
    ok = t["conversion"].notna()
    assert (t.loc[ok, "conversion_lower"] <= t.loc[ok, "conversion"] + 1e-9).all()
    assert (t.loc[ok, "conversion"] <= t.loc[ok, "conversion_upper"] + 1e-9).all()
    assert ((t.loc[ok, "conversion_lower"] >= 0) & (t.loc[ok, "conversion_upper"] <= 100)).all()
    # Converted never exceeds the stage before, and the police stages never grow.
    assert (t.loc[ok, "converted"] <= t.loc[ok, "from_count"]).all()
    police = t[t["segment"] == "Police"].set_index("stage_key")["count"]
    assert police["identified"] >= police["assessed"] >= police["need"]


# --------------------------------------------------------------------------------------------------
# Onward referrals failing at busy times
# --------------------------------------------------------------------------------------------------


def _onward(months_counts, accepted):
    dates = [f"2024-{m:02d}-10" for m, n in months_counts for _ in range(n)]
    return pd.DataFrame({"referral_date": pd.to_datetime(dates), "onward_referral": ["IDVA"] * len(dates),
                         "onward_accepted": pd.array(accepted, dtype="boolean")})


def test_onward_acceptance_by_hand():
    # months 1-3 have 2, 2 and 6 onward referrals; the 0.5 quantile of (2, 2, 6) is 2, so month 3 is busy.
    refs = _onward([(1, 2), (2, 2), (3, 6)], [True, True, True, False] + [True, False, False, False, True, False])
    t = R.onward_acceptance(refs, busy_quantile=0.5).iloc[0]
    assert (t["busy_months"], t["referrals_busy"], t["accepted_busy"]) == (1, 6, 2)
    assert (t["referrals_other"], t["accepted_other"]) == (4, 3)
    assert t["pct_busy"] == pytest.approx(100 * 2 / 6)
    lo, hi = proportion_confint(2, 6, method="wilson")
    assert (t["pct_busy_lower"], t["pct_busy_upper"]) == (pytest.approx(100 * lo), pytest.approx(100 * hi))
    assert t["difference"] == pytest.approx(100 * (2 / 6 - 3 / 4))


def test_onward_acceptance_finds_the_planted_busy_month_failures(example):
    effect = EXAMPLE_EFFECTS["onward_fails_when_busy"]
    t = R.onward_acceptance(example.referrals)
    assert (t["difference_upper"] < 0).all()
    assert t["pct_busy"].mean() == pytest.approx(100 * effect["accepted_when_busy"], abs=5)
    assert t["pct_other"].mean() == pytest.approx(100 * effect["accepted_otherwise"], abs=5)
    assert t["finding"].str.contains("fail more at busy times").all()


def test_onward_acceptance_no_effect_is_not_flagged():
    rng = np.random.default_rng(1)
    counts = [(m, int(n)) for m, n in zip(range(1, 13), rng.integers(20, 60, 12), strict=True)]
    total = sum(n for _, n in counts)
    refs = _onward(counts, rng.random(total) < 0.8)
    t = R.onward_acceptance(refs).iloc[0]
    assert t["difference_lower"] < 0 < t["difference_upper"]
    assert "no evidence" in t["finding"]


def test_onward_acceptance_needs_the_column():
    refs = _onward([(1, 2)], [True, False]).drop(columns="onward_accepted")
    with pytest.raises(KeyError, match="onward_accepted"):
        R.onward_acceptance(refs)


# --------------------------------------------------------------------------------------------------
# The Victims' Code denominator (need and consent), on a generator of our own
# --------------------------------------------------------------------------------------------------


def _consent_world(rng: np.random.Generator, n: int = 4000, true_or: float = 0.5):
    """Victims with a need and consent; the Black group declines more often and, among those who consent, is
    referred with odds ``true_or`` times the White group's. Police never refer a victim who declined."""
    black = rng.random(n) < 0.3
    male = rng.random(n) < 0.5
    need = rng.random(n) < 0.6
    consent = np.where(need, rng.random(n) > np.where(black, 0.5, 0.15), rng.random(n) > 0.3)
    logit = 1.0 + np.log(true_or) * black - 0.3 * male
    referred = need & consent & (rng.random(n) < 1 / (1 + np.exp(-logit)))
    ids = [f"C{i}" for i in range(n)]
    crimes = pd.DataFrame(
        {
            "crime_id": ids,
            "victim_identified": True,
            "needs_assessment_done": True,
            "need_identified": need,
            "consent_to_refer": consent,
            "victim_ethnicity": np.where(black, "Black", "White"),
            "victim_sex": np.where(male, "Male", "Female"),
        }
    )
    refs = pd.DataFrame({"crime_id": np.array(ids)[referred], "source": "Police"})
    return crimes, refs


def test_referral_model_uses_need_and_consent_and_covers_the_planted_or():
    rng = np.random.default_rng(2024)
    reps, covered, wider_covered = 40, 0, 0
    for _ in range(reps):
        crimes, refs = _consent_world(rng)
        m = R.referral_model(crimes, refs, covariates=["victim_ethnicity", "victim_sex"], min_group=1, min_events=1)
        row = m.table.set_index("level").loc["Black"]
        covered += row["lower"] < 0.5 < row["upper"]
        wide = m.wider.set_index("level").loc["Black"]
        wider_covered += wide["lower"] < 0.5 < wide["upper"]
    # 95% intervals: at least the binomial 0.1th percentile of 40 draws at 0.95 must cover.
    assert covered >= sst.binom.ppf(0.001, reps, 0.95)
    # Over all assessed victims the declining (and the victims with no need) pull the odds ratio away from 0.5.
    assert wider_covered <= 2
    crimes, refs = _consent_world(np.random.default_rng(7))
    m = R.referral_model(crimes, refs, covariates=["victim_ethnicity"], min_group=1, min_events=1)
    eligible = crimes["need_identified"] & crimes["consent_to_refer"]
    assert m.n == int(eligible.sum())
    assert "agreed to referral" in m.outcome
    # Declined victims are shown apart, by group, with the counts by hand.
    dec = m.declined.set_index(["covariate", "level"])
    said_no = crimes["need_identified"] & ~crimes["consent_to_refer"]
    black = crimes["victim_ethnicity"] == "Black"
    assert dec.loc[("victim_ethnicity", "Black"), "declined"] == int((said_no & black).sum())
    assert dec.loc[("victim_ethnicity", "Black"), "with_need"] == int((crimes["need_identified"] & black).sum())
    assert dec.loc[("All", "All"), "declined"] == int(said_no.sum())


def test_referral_model_without_consent_falls_back_and_says_so():
    crimes, refs = _consent_world(np.random.default_rng(3), n=600)
    m = R.referral_model(crimes.drop(columns="consent_to_refer"), refs, covariates=["victim_sex"], min_group=1)
    assert m.n == 600 and m.declined is None and m.wider is None
    assert any("no consent_to_refer column" in n for n in m.notes)
    empty = crimes.assign(consent_to_refer=pd.array([None] * 600, dtype="boolean"))
    m2 = R.referral_model(empty, refs, covariates=["victim_sex"], min_group=1)
    assert m2.n == 600 and any("empty for every victim" in n for n in m2.notes)


def test_assessment_accuracy_counts_declined_apart_by_hand():
    crimes = tiny_crimes().assign(consent_to_refer=[True, True, False, True, None, True, True, True, None, None])
    a = R.assessment_accuracy(crimes, tiny_referrals())
    t = a.table.set_index("district_code")
    # C3 (repeat victim, not referred) declined referral: no longer missed, counted apart.
    assert t.loc["A", "missed"] == 0 and t.loc["A", "declined_referral"] == 1
    assert t.loc["A", "missed_rate"] == 0 and t.loc["A", "declined_rate"] == 100


def test_referral_ratios_leave_declined_victims_out():
    crimes = tiny_crimes().assign(
        need_identified=True, consent_to_refer=[True, True, False, False, None, True, True, False, None, None]
    )
    r = R.referral_ratios(crimes, tiny_referrals(), strata=["victim_sex"])
    t = r.table.set_index("district_code")
    # Eligible: A has C1, C2 (both referred); B has C6 (referred), C7. Declined: A C3, C4; B C8.
    assert t.loc["A", "victims"] == 2 and t.loc["A", "declined"] == 2
    assert t.loc["B", "victims"] == 2 and t.loc["B", "declined"] == 1
    assert t["observed"].tolist() == [2, 1]


# --------------------------------------------------------------------------------------------------
# Separation: Firth's penalised likelihood instead of an odds ratio of 10^9
# --------------------------------------------------------------------------------------------------


def test_separated_group_gets_firth_odds_ratio():
    # Female 30 of 50 accepted, Male 0 of 20: the Male odds ratio is 0 by maximum likelihood.
    refs = pd.DataFrame(
        {
            "crime_id": [None] * 70,
            "contact_made": True,
            "support_accepted": [True] * 30 + [False] * 20 + [False] * 20,
            "victim_sex": ["Female"] * 50 + ["Male"] * 20,
        }
    )
    m = R.referral_model(None, refs, "support_accepted", covariates=["victim_sex"], min_group=1, min_events=0)
    row = m.table.iloc[0]
    # One factor: Firth's estimate adds 1/2 to each cell (hand calculation).
    hand = (0.5 / 20.5) / (30.5 / 20.5)
    assert row["odds_ratio"] == pytest.approx(hand, rel=1e-6)
    assert row["unadjusted_or"] == pytest.approx(hand, rel=1e-9)
    assert 0 < row["lower"] < row["odds_ratio"] < row["upper"] < 1
    assert "Firth" in row["method"]


def test_separation_in_an_adjusted_model_stays_finite():
    rng = np.random.default_rng(11)
    n = 400
    sex = rng.choice(["Female", "Male"], n)
    band = rng.choice(["25-34", "65-74", "75+"], n)
    p = np.where(band == "75+", 0.0, 0.6 - 0.2 * (sex == "Male"))
    refs = pd.DataFrame(
        {
            "crime_id": [None] * n,
            "contact_made": True,
            "support_accepted": rng.random(n) < p,
            "victim_sex": sex,
            "victim_age_band": band,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = R.referral_model(None, refs, "support_accepted", covariates=["victim_sex", "victim_age_band"])
    t = m.table.set_index("level")
    assert np.isfinite(t.loc["75+", ["odds_ratio", "lower", "upper"]].astype(float)).all()
    assert t.loc["75+", "upper"] < 0.2 and t.loc["75+", "lower"] > 0
    assert t.loc["Male", "lower"] < 0.8 / 0.6 * 0.4 / 0.2 and t.loc["Male", "upper"] < 1


# --------------------------------------------------------------------------------------------------
# Gaps found: no planted effect, no gaps
# --------------------------------------------------------------------------------------------------


def test_gaps_found_flags_no_district_when_none_is_different():
    """Districts with over-dispersed but equal referral rates: raw 99.8% funnels flag many, the rule none."""
    rng = np.random.default_rng(5)
    raw_flags, rule_flags, sims = 0, 0, 30
    for _ in range(sims):
        units = 12
        victims = rng.integers(2000, 6000, units)
        rate = 1 / (1 + np.exp(-(-0.5 + rng.normal(0, 0.15, units))))  # over-dispersed, no real outlier
        counts = pd.DataFrame(
            {"unit": [f"U{i:02d}" for i in range(units)], "stratum": "all", "referred": rng.binomial(victims, rate),
             "victims": victims}
        )
        table = R.standardised_referrals(counts, "referred", "victims", "unit", "stratum")
        ratios = R.ReferralRatios(table=table, by="unit", strata=["stratum"], counts=counts)
        raw_flags += int((table["flag"] == "below 99.8%").sum())
        rule_flags += len(R.gaps_found(ratios))
    assert raw_flags > 20
    assert rule_flags <= 2


def test_referral_outcomes_feed_the_comparison_engine():
    from victimneeds import compare

    crimes, refs = _consent_world(np.random.default_rng(31), n=6000)
    frame = R.referral_outcomes(crimes, refs)
    assert len(frame) == int((crimes["need_identified"] & crimes["consent_to_refer"]).sum())
    c = compare.compare(frame, "referred", by=["victim_ethnicity", "victim_sex"])
    m = R.referral_model(crimes, refs, covariates=["victim_ethnicity", "victim_sex"])
    assert c.odds_ratios.set_index("level").loc["Black", "odds_ratio"] == pytest.approx(
        m.table.set_index("level").loc["Black", "odds_ratio"], rel=1e-9
    )
    assert len(R.referral_outcomes(crimes, refs, denominator="assessed")) == len(crimes)
    note = R.pathway(crimes, _pathway_refs(refs)).notes[-1]
    assert "declined referral" in note


def _pathway_refs(refs: pd.DataFrame) -> pd.DataFrame:
    return refs.assign(contact_attempted=True, contact_made=True, support_accepted=True, support_level="Basic",
                       onward_referral="None", closed_date=pd.NaT)


def test_slow_first_contact_uses_the_family_rule():
    # A large service two points below the overall share has an upper 95% limit below it (the old rule flagged
    # it); a difference that small is not a gap. A service 20 points below with a clear p-value is.
    table = pd.DataFrame(
        {
            "service": ["Hub", "Small", "Slow"],
            "within_2_days": [65.0, 70.0, 47.0],
            "within_2_days_lower": [64.0, 60.0, 42.0],
            "within_2_days_upper": [66.0, 79.0, 52.0],
            "median_days": [1.0, 1.0, 3.0],
        }
    )
    times = types.SimpleNamespace(table=table, overall={"within_2_days": 67.0}, by=["service"])
    gaps = R.gaps_found(times=times)
    assert gaps["who"].tolist() == ["Slow"]
    assert "Benjamini-Hochberg across 3 services" in gaps["evidence"].iloc[0]


def test_onward_acceptance_follows_the_family_rule():
    # Busy months (3 x 40 referrals) accept 75%, others (9 x 20) 85%: the 95% interval of the difference excludes
    # 0 (the old rule's finding) but p is above 0.002, so it is not a line of "Gaps found".
    dates, accepted = [], []
    for m in range(12):
        n, yes = (40, 30) if m < 3 else (20, 17)
        dates += [pd.Timestamp(2024, m + 1, 5)] * n
        accepted += [True] * yes + [False] * (n - yes)
    refs = pd.DataFrame({"referral_date": dates, "onward_referral": "ISVA", "onward_accepted": accepted})
    t = R.onward_acceptance(refs).iloc[0]
    assert t["difference_upper"] < 0 and 0.002 < t["p_value"] < 0.05
    assert "fail more" not in t["finding"] and "not beyond chance" in t["finding"]
