"""Tests for victimneeds.outcomes: outcome groups, attrition and time to outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from victimneeds import outcomes
from victimneeds.outcomes import OUTCOME_GROUPS, attrition, outcome_group, outcome_map, time_to_outcome


def test_reference_table_is_complete_and_sourced():
    m = outcome_map()
    assert m["category"].is_unique
    assert set(m["outcome_group"]) <= set(OUTCOME_GROUPS)
    assert m["source"].str.len().gt(10).all()
    # the published list (data.police.uk/api/outcome-categories) and historic wording
    for name in (
        "Offender given a penalty notice",
        "Offender given penalty notice",
        "No further action",
        "Awaiting court result",
        "Status update unavailable",
        "Defendant sent to Crown Court",
    ):
        assert name in set(m["category"])


def test_unknown_category_error_names_it():
    s = pd.Series(["Local resolution", "Offender deported to Mars", "Offender deported to Mars"])
    with pytest.raises(ValueError, match=r"'Offender deported to Mars' \(2 rows\)"):
        outcome_group(s)


def test_groups_on_hand_examples():
    s = pd.Series(["Offender sent to prison", "Under investigation", " Local resolution ", None])
    got = outcome_group(s).astype(object).tolist()
    assert got[:3] == [
        "Charged/summonsed or court outcome",
        "Under investigation / awaiting outcome",
        "Out-of-court disposal",
    ]
    assert pd.isna(got[3])


def test_example_categories_all_mapped():
    from victimneeds.datasets import load_example

    crimes = load_example().crimes
    assert outcome_group(crimes["outcome"]).notna().sum() == crimes["outcome"].notna().sum()


@pytest.mark.realdata
def test_mapping_covers_every_real_category(shared_data, io_cache):
    from victimneeds.io import read_policeuk

    got = read_policeuk(
        shared_data / "policeuk" / "leicestershire", force="leicestershire", cache_dir=io_cache
    )
    crimes = got[0] if isinstance(got, tuple) else got.crimes
    categories = pd.Series(crimes["outcome"].dropna().unique())
    assert len(categories) >= 20
    assert outcome_group(categories).notna().all()


def _crimes(rows):
    months, groups, outs = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "month": pd.PeriodIndex(months, freq="M"),
            "crime_group": list(groups),
            "district_code": ["D1"] * len(rows),
            "outcome": list(outs),
        }
    )


def test_attrition_wilson_agreement():
    # 3 of 10 charged: Wilson 95% interval 10.78% to 60.32% (Newcombe 1998, table I style; by hand)
    rows = [("2021-05", "Violence", "Offender fined")] * 3 + [
        ("2021-05", "Violence", "Unable to prosecute suspect")
    ] * 7
    a = attrition(_crimes(rows), by=("crime_group",), period="year")
    row = a.table[a.table["outcome_group"] == "Charged/summonsed or court outcome"].iloc[0]
    assert (row["crimes"], row["total"], row["period"]) == (3, 10, "2021/22")
    assert row["value"] == pytest.approx(30.0)
    assert row["lowercl"] == pytest.approx(10.78, abs=0.01)
    assert row["uppercl"] == pytest.approx(60.32, abs=0.01)
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(3, 10, method="wilson")
    assert row["lowercl"] == pytest.approx(100 * lo) and row["uppercl"] == pytest.approx(100 * hi)


def test_attrition_maturing_flag_and_no_mutation():
    rows = (
        [("2021-01", "Violence", "Offender fined")] * 10
        + [("2021-02", "Violence", "Under investigation")] * 4
        + [("2021-02", "Violence", "Offender fined")] * 6
    )
    crimes = _crimes(rows)
    before = crimes.copy()
    a = attrition(crimes, by=("crime_group", "district"), period="month")
    pd.testing.assert_frame_equal(crimes, before)
    assert a.maturing_months == ["2021-02"]
    feb = a.table[a.table["period"] == "2021-02"]
    assert feb["maturing"].all() and feb["pct_open"].iloc[0] == pytest.approx(40.0)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Offender fined",
                "Local resolution",
                "Under investigation",
                "Investigation complete; no suspect identified",
            ]
        ),
        min_size=1,
        max_size=40,
    )
)
def test_attrition_shares_sum_to_100_and_contain_estimate(outs):
    a = attrition(_crimes([("2022-01", "Burglary", o) for o in outs]), by=("crime_group",), period="all")
    t = a.table
    assert t["value"].sum() == pytest.approx(100.0)
    assert (t["lowercl"] <= t["value"] + 1e-9).all() and (t["value"] <= t["uppercl"] + 1e-9).all()


def test_kaplan_meier_hand_computed():
    # times 1, 2, 2, 3(censored), 4, 5(censored): S(1)=5/6, S(2)=5/6*2/4... computed by hand:
    # at t=1: 6 at risk, 1 event -> 5/6; t=2: 5 at risk, 2 events -> 5/6*3/5 = 1/2;
    # t=4: 2 at risk (3 censored), 1 event -> 1/4.
    months = ["2024-01"] * 6
    out_months = ["2024-02", "2024-03", "2024-03", "2024-04", "2024-05", "2024-06"]
    outs = [
        "Offender fined",
        "Local resolution",
        "Local resolution",
        "Under investigation",
        "Offender fined",
        "Awaiting court outcome",
    ]
    crimes = pd.DataFrame(
        {
            "crime_id": list("abcdef"),
            "crime_group": ["Violence"] * 6,
            "month": pd.PeriodIndex(months, freq="M"),
            "outcome": outs,
            "outcome_month": pd.PeriodIndex(out_months, freq="M"),
        }
    )
    # extract month 2024-04: open case d censored at 3; awaiting-court f censored at 3 as well (not final)
    r = time_to_outcome(crimes, extract_month="2024-04")
    curve = r.curves[(r.curves["crime_group"] == "Violence")].set_index("months")["pct_waiting"]
    # event times 1, 2 and (e) 4 > extract: e's outcome month 2024-05 is after the extract -> still counted
    assert curve.loc[1.0] == pytest.approx(100 * 5 / 6)
    assert curve.loc[2.0] == pytest.approx(50.0)
    import statsmodels.api as sm

    sf = sm.SurvfuncRight([1, 2, 2, 3, 4, 3], [1, 1, 1, 0, 1, 0])
    assert np.allclose(curve.loc[list(sf.surv_times)].to_numpy(), 100 * np.asarray(sf.surv_prob))
    row = r.table[r.table["crime_group"] == "Violence"].iloc[0]
    assert (row["events"], row["censored"]) == (4, 2)


def test_street_files_only_current_status():
    crimes = pd.DataFrame(
        {
            "crime_id": list("abcd"),
            "crime_group": ["Burglary"] * 4,
            "month": pd.PeriodIndex(["2022-01", "2022-01", "2022-03", "2022-03"], freq="M"),
            "outcome": ["Offender fined", "Offender fined", "Under investigation", "Local resolution"],
            "outcome_month": pd.Series([pd.NA] * 4, dtype="period[M]"),
        }
    )
    r = time_to_outcome(crimes)
    assert r.kind == "current status"
    assert "Street files give only" in r.summary()
    c = r.curves[r.curves["crime_group"] == "Burglary"].set_index("months")
    assert c.loc[0, "pct_waiting"] == pytest.approx(50.0) and c.loc[2, "pct_waiting"] == 0.0


def test_plots_have_labels():
    import matplotlib.pyplot as plt

    rows = [
        (m, g, o)
        for m in ("2021-01", "2021-02", "2021-03", "2021-04")
        for g in ("Violence", "Burglary")
        for o in ("Offender fined", "Unable to prosecute suspect", "Local resolution")
    ]
    a = attrition(_crimes(rows), period="all")
    ax = a.plot()
    assert ax.get_xlabel() == "Percentage of crimes" and len(ax.get_legend().get_texts()) == 3
    plt.close("all")
    assert outcomes.POSITIVE_GROUPS[0] in OUTCOME_GROUPS


def test_time_to_first_and_final_outcome_from_outcomes_files():
    # Worked by hand. Crimes a, b, d in 2024-01 and c in 2024-02; extract 2024-08.
    # a: charged 2024-03 (first outcome, 2 months), fined 2024-06 (final, 5 months)
    # b: no suspect identified 2024-04 (first and final, 3 months)
    # c: nothing yet (censored at 6 months for both)
    # d: charged 2024-05 (first, 4 months); awaiting court at the extract (final censored at 7 months)
    crimes = pd.DataFrame({
        "crime_id": list("abcd"), "crime_group": ["Violence"] * 4,
        "month": pd.PeriodIndex(["2024-01", "2024-01", "2024-02", "2024-01"], freq="M"),
        "outcome": ["Offender fined", "Investigation complete; no suspect identified", "Under investigation",
                    "Awaiting court outcome"],
    })
    files = pd.DataFrame({
        "crime_id": ["a", "a", "a", "b", "d"],
        "month": pd.PeriodIndex(["2024-02", "2024-03", "2024-06", "2024-04", "2024-05"], freq="M"),
        "outcome": ["Under investigation", "Suspect charged", "Offender fined",
                    "Investigation complete; no suspect identified", "Suspect charged"],
    })
    r = time_to_outcome(crimes, outcomes=files, extract_month="2024-08")
    assert r.kind == "kaplan-meier"
    rows = r.table[r.table["crime_group"] == "Violence"].set_index("measure")
    assert (rows.loc["first", "events"], rows.loc["first", "censored"]) == (3, 1)
    assert (rows.loc["final", "events"], rows.loc["final", "censored"]) == (2, 2)
    curves = r.curves[r.curves["crime_group"] == "Violence"]
    first = curves[curves["measure"] == "first"].set_index("months")["pct_waiting"]
    final = curves[curves["measure"] == "final"].set_index("months")["pct_waiting"]
    # first: S(2) = 3/4, S(3) = 1/2, S(4) = 1/4; final: S(3) = 3/4, S(5) = 1/2
    assert first.loc[2.0] == pytest.approx(75.0) and first.loc[3.0] == pytest.approx(50.0)
    assert first.loc[4.0] == pytest.approx(25.0)
    assert final.loc[3.0] == pytest.approx(75.0) and final.loc[5.0] == pytest.approx(50.0)
    import statsmodels.api as sm

    sf = sm.SurvfuncRight([5, 3, 6, 7], [1, 1, 0, 0])
    assert np.allclose(final.loc[list(sf.surv_times)].to_numpy(), 100 * np.asarray(sf.surv_prob))


# --------------------------------------------------------------------------------------------------
# The median's interval and the positive-outcome trend (issue 15)
# --------------------------------------------------------------------------------------------------


def test_median_interval_is_ordered_and_matches_statsmodels():
    """Brookmeyer-Crowley interval read from the log-log band: lower <= median <= upper, as statsmodels gives."""
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    n = 300
    wait = rng.geometric(0.18, n)
    closed = wait <= 17
    start = pd.Period("2023-01", "M")
    t = pd.DataFrame(
        {
            "crime_id": [f"c{i}" for i in range(n)],
            "crime_group": "Violence",
            "month": pd.PeriodIndex([start] * n, freq="M"),
            "outcome": np.where(closed, "Offender fined", "Under investigation"),
            "outcome_month": pd.PeriodIndex([start + int(w) for w in np.minimum(wait, 17)], freq="M"),
        }
    )
    row = time_to_outcome(t, extract_month="2024-06").table.iloc[0]
    sf = sm.SurvfuncRight(np.where(closed, wait, 17).astype(float), closed.astype(int))
    lo, hi = sf.quantile_ci(0.5, method="cloglog")
    assert row["lowercl"] <= row["median_months"] <= row["uppercl"]
    assert (row["lowercl"], row["uppercl"]) == (lo, hi)
    assert lo < hi


def _monthly(rng: np.random.Generator, months: int, size: int, logit: np.ndarray, spread: float) -> pd.DataFrame:
    """Crimes by month with a positive outcome; the monthly rate wanders (over-dispersion) by ``spread``."""
    rate = 1 / (1 + np.exp(-(logit + rng.normal(0, spread, months))))
    n = rng.poisson(size, months)
    x = rng.binomial(n, rate)
    month = pd.period_range("2021-04", periods=months, freq="M")
    per_month = [np.r_[np.ones(k, bool), np.zeros(m - k, bool)] for k, m in zip(x, n, strict=True)]
    return pd.DataFrame(
        {"month": np.repeat(month, n), "positive": np.concatenate(per_month), "crime_group": "Hate crime"}
    )


def test_trend_flags_at_the_nominal_rate_when_nothing_changes():
    """No trend planted: the 95% interval excludes 1 in no more than 5% of series (allowing chance)."""
    from scipy import stats as sst

    rng = np.random.default_rng(15)
    sims, flagged, flat = 200, 0, np.full(36, -2.0)
    for i in range(sims):
        data = _monthly(rng, 36, 600, flat, spread=0.15 if i % 2 else 0.0)
        trend, _ = outcomes._trend(data, set(), 0.95)
        row = trend.set_index("crime_group").loc["Hate crime"]
        flagged += not (row["lowercl"] < 1 < row["uppercl"])
    assert flagged <= sst.binom.ppf(0.999, sims, 0.05)


def test_trend_recovers_a_planted_trend_with_coverage():
    from scipy import stats as sst

    rng = np.random.default_rng(16)
    sims, covered, true_or = 100, 0, 0.8
    logit = -1.5 + np.log(true_or) * np.arange(36) / 12
    for _ in range(sims):
        trend, fitted = outcomes._trend(_monthly(rng, 36, 600, logit, spread=0.1), set(), 0.95)
        row = trend.set_index("crime_group").loc["Hate crime"]
        covered += row["lowercl"] < true_or < row["uppercl"]
    assert covered >= sst.binom.ppf(0.001, sims, 0.95)
    assert row["dispersion"] >= 1 and len(fitted) == 2 * 36
