"""Tests for victimneeds.capacity: referral rates, volumes, FTE, Erlang C and A, cost, sentences."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import poisson

from victimneeds import capacity as cap


def erlang_c_independent(calls_per_hour: float, aht: float, n: int, t: float) -> tuple[float, float]:
    """Erlang C from the textbook closed form written with Poisson sums (scipy), independent of the module."""
    a = calls_per_hour / 3600 * aht
    top = poisson.pmf(n, a) * n / (n - a)
    pw = top / (poisson.cdf(n - 1, a) + top)
    return pw, 1 - pw * math.exp(-(n - a) * t / aht)


# --- Erlang C ---------------------------------------------------------------------------------------


def test_erlang_c_call_centre_helper_worked_example():
    # 100 calls in 30 minutes, AHT 180 s, 11 agents: Pw = 68.21%, SL(20 s) = 39.0% (published worked example)
    s = cap.erlang_c_metrics(200, 180, 11, 20)
    assert s.traffic == pytest.approx(10.0)
    assert s.p_wait == pytest.approx(0.6821, abs=5e-5)
    assert s.service_level == pytest.approx(0.390, abs=5e-4)
    # ASA = Pw * AHT / (N - A) = 0.6821 * 180 / 1
    assert s.asa_seconds == pytest.approx(0.6821 * 180, abs=0.01)


def test_erlang_c_minimum_agents_and_one_fewer_misses():
    s = cap.erlang_c(200, 180, 20, 0.8, shrinkage=0.3)
    assert s.agents == 14
    assert s.staff == pytest.approx(14 / 0.7)
    fewer = cap.erlang_c_metrics(200, 180, s.agents - 1, 20)
    assert fewer.service_level < 0.8 <= s.service_level


@settings(max_examples=40, deadline=None)
@given(calls=st.floats(1, 3000), aht=st.floats(30, 900), t=st.floats(0, 60), level=st.floats(0.5, 0.95))
def test_erlang_c_matches_independent_formula_and_is_minimal(calls, aht, t, level):
    s = cap.erlang_c(calls, aht, t, level)
    pw, sl = erlang_c_independent(calls, aht, s.agents, t)
    assert s.p_wait == pytest.approx(pw, rel=1e-7, abs=1e-10)
    assert s.service_level == pytest.approx(sl, rel=1e-7, abs=1e-10)
    assert s.service_level >= level
    if s.agents - 1 > s.traffic:
        assert erlang_c_independent(calls, aht, s.agents - 1, t)[1] < level
    assert 0 < s.occupancy < 1


def test_erlang_b_large_traffic_is_stable():
    b = cap.erlang_b(20_000.0, 20_000)
    assert 0 < b < 0.01 and np.isfinite(b)
    s = cap.erlang_c(360_000, 200, 20, 0.8)  # 20,000 Erlangs
    assert s.agents > 20_000 and s.occupancy < 1


def test_erlang_c_zero_calls_and_bad_inputs():
    assert cap.erlang_c(0, 300, 20, 0.8).agents == 0
    assert cap.erlang_c(0, 300, 20, 0.8, min_agents=2).agents == 2
    with pytest.raises(ValueError, match="service level"):
        cap.erlang_c(100, 300, 20, 80)
    with pytest.raises(ValueError, match="shrinkage"):
        cap.erlang_c(100, 300, 20, 0.8, shrinkage=1.2)


def test_max_occupancy_adds_agents():
    base = cap.erlang_c(3600, 300, 20, 0.8)
    capped = cap.erlang_c(3600, 300, 20, 0.8, max_occupancy=0.8)
    assert capped.occupancy <= 0.8 < base.occupancy and capped.agents > base.agents


# --- Erlang A ---------------------------------------------------------------------------------------


def test_erlang_a_patient_callers_approach_erlang_c():
    c = cap.erlang_c_metrics(200, 180, 12, 20)
    a = cap.erlang_a_metrics(200, 180, 12, patience_seconds=1e9, target_answer_seconds=20)
    assert a.p_wait == pytest.approx(c.p_wait, abs=1e-5)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-5)
    assert a.asa_seconds == pytest.approx(c.asa_seconds, rel=1e-4)
    assert a.p_abandon < 1e-5


def test_erlang_a_single_agent_against_hand_computation():
    # M/M/1+M with lambda = mu = theta = 1/60 s: pi_k proportional to 1 / k! (k >= 0), so pi is Poisson(1).
    # P(wait) = 1 - e^-1; abandonment rate = theta * E[(k-1)+] = theta * (E k - 1 + P(k = 0)) = theta e^-1.
    s = cap.erlang_a_metrics(60, 60, 1, patience_seconds=60, target_answer_seconds=0)
    assert s.p_wait == pytest.approx(1 - math.exp(-1), abs=1e-10)
    assert s.p_abandon == pytest.approx(math.exp(-1), abs=1e-10)
    assert s.service_level == pytest.approx(math.exp(-1), abs=1e-10)  # answered at once: found k = 0
    assert s.occupancy == pytest.approx(1 - math.exp(-1), abs=1e-10)


def test_erlang_a_service_level_matches_product_form():
    # the uniformised answered-within-t probability against the closed form: answered with prob
    # prod r_i/(r_i+theta), then waiting a sum of exponentials with rates r_i + theta (checked by simulation-free
    # numeric integration of the hypoexponential via scipy's expm on the pure-death chain)
    from scipy.linalg import expm

    lam, aht, n, pat, t = 300 / 3600, 240, 20, 90, 30
    s = cap.erlang_a_metrics(300, aht, n, pat, t)
    mu, th = 1 / aht, 1 / pat
    # stationary distribution by direct products
    k = np.arange(0, 400)
    death = np.minimum(k, n) * mu + np.maximum(k - n, 0) * th
    logp = np.concatenate([[0.0], np.cumsum(np.log(lam) - np.log(death[1:]))])
    p = np.exp(logp - logp.max())
    p /= p.sum()
    m = 60
    start = p[n : n + m]
    r = n * mu + np.arange(m) * th
    gen = np.zeros((m + 2, m + 2))  # states 0..m-1 positions, m answered, m+1 abandoned
    for j in range(m):
        gen[j, j] = -(r[j] + th)
        gen[j, j - 1 if j else m] += r[j]
        gen[j, m + 1] += th
    prob = expm(gen * t)
    answered_t = float(start @ prob[:m, m])
    assert s.service_level == pytest.approx(p[:n].sum() + answered_t, abs=1e-8)


def test_erlang_a_needs_no_more_agents_than_erlang_c():
    for calls in (20, 200, 900):
        a = cap.erlang_a(calls, 300, patience_seconds=120)
        c = cap.erlang_c(calls, 300)
        assert a.agents <= c.agents
        assert a.service_level >= 0.8
        assert cap.erlang_a_metrics(calls, 300, a.agents - 1, 120).service_level < 0.8 or a.agents == 1


# --- weekly profile ---------------------------------------------------------------------------------


def test_call_profile_and_weekly_staffing():
    prof = cap.call_profile(2000)
    assert len(prof) == 168 and prof["calls"].sum() == pytest.approx(2000)
    assert prof.loc[prof["day"] == "Sunday", "calls"].sum() == 0
    w = cap.weekly_staffing(prof, aht_seconds=480)
    open_rows = w.table[w.table["open"]]
    assert (open_rows["agents"] >= 1).all() and (open_rows["service_level"] >= 0.8).all()
    assert w.staff_hours == pytest.approx(w.agent_hours / 0.7)
    ax = w.plot()
    assert ax.get_yticklabels()[0].get_text() == "Monday"
    assert len(ax.texts) == int(prof["open"].sum())  # every open hour labelled with its number


# --- referral rates and volumes ---------------------------------------------------------------------


def _tiny():
    months = pd.PeriodIndex(["2024-01"] * 10 + ["2024-02"] * 10, freq="M")
    crimes = pd.DataFrame(
        {
            "month": months,
            "district_code": ["A"] * 5 + ["B"] * 5 + ["A"] * 5 + ["B"] * 5,
            "crime_group": ["Burglary"] * 20,
        }
    )
    refs = pd.DataFrame(
        {
            "service": ["Homes"] * 5 + ["Other service"],
            "referral_date": pd.to_datetime(["2024-01-05"] * 4 + ["2024-02-03", "2024-02-04"]),
            "district_code": ["A", "A", "A", "B", "B", "A"],
            "crime_group": ["Burglary"] * 6,
            "support_accepted": [True, True, False, True, False, True],
        }
    )
    services = pd.DataFrame({"service_name": ["Homes"], "lot": ["Practical support"]})
    return crimes, refs, services


def test_referral_rates_by_hand():
    crimes, refs, services = _tiny()
    r = cap.referral_rates(crimes, refs, services, months=2)
    a = r[r["district_code"] == "A"].iloc[0]
    assert (a["referrals"], a["crimes"], a["rate"]) == (3, 10, 0.3)
    assert a["take_up"] == pytest.approx(2 / 3)
    assert a["take_up_lower"] < a["take_up"] < a["take_up_upper"]
    assert a["rate_lower"] < 0.3 < a["rate_upper"]
    assert any("not assigned to a lot" in n for n in r.attrs["notes"])


def test_lot_volumes_means_add_up_and_ranges_contain_mean():
    crimes, refs, services = _tiny()
    rates = cap.referral_rates(crimes, refs, services, months=2)
    months = pd.period_range("2025-04", periods=12, freq="M")
    fc = pd.DataFrame(
        {
            "district_code": np.repeat(["A", "B"], 12),
            "crime_group": "Burglary",
            "month": list(months) * 2,
            "mean": 10.0,
            "lower_80": 8.0,
            "upper_80": 12.0,
            "lower_95": 6.0,
            "upper_95": 14.0,
        }
    )
    v = cap.lot_volumes(fc, rates)
    t = v.table.set_index("district_code")
    assert t.loc["A", "referrals"] == pytest.approx(120 * 0.3)
    assert t.loc["B", "referrals"] == pytest.approx(120 * 0.2)
    assert t.loc["All", "referrals"] == pytest.approx(60.0)
    assert (v.table["lower_95"] <= v.table["lower_80"]).all()
    assert (v.table["lower_80"] <= v.table["referrals"]).all() and (v.table["referrals"] <= v.table["upper_80"]).all()
    # variance by hand for district A: forecast sd = (168 - 72) / 3.92; rate relative variance 1/3
    sd_fc = (14 * 12 - 6 * 12) / (2 * 1.959964)
    var = (0.3 * sd_fc) ** 2 + 36.0**2 / 3
    assert t.loc["A", "upper_95"] == pytest.approx(36 + 1.959964 * math.sqrt(var), rel=1e-5)


def test_lot_volumes_scenarios_carried_through_and_partial_years_dropped():
    months = pd.period_range("2025-01", periods=15, freq="M")  # Jan-Mar 2025 is a partial 2024/25
    fc = pd.DataFrame({"crime_group": "Burglary", "month": months, "mean": 10.0, "lower_95": 5.0, "upper_95": 15.0})
    rates = pd.DataFrame({"lot": ["ASB"], "crime_group": ["Burglary"], "referrals": [100], "rate": [0.5]})
    v = cap.lot_volumes({"baseline": fc, "double": fc.assign(mean=20.0)}, rates)
    assert set(v.table["financial_year"]) == {"2025/26"}
    got = v.table.set_index("scenario")["referrals"]
    assert got["double"] == pytest.approx(2 * got["baseline"]) and got["baseline"] == pytest.approx(60.0)


def _path_forecast(seed: int = 7):
    """A forecast built by hand: 1,000 paths of 12 months with independent N(100, 10^2) months."""
    from victimneeds.forecast import ForecastResult

    rng = np.random.default_rng(seed)
    paths = 100 + 10 * rng.standard_normal((1000, 12))
    months = pd.period_range("2025-04", periods=12, freq="M")
    table = pd.DataFrame({"crime_group": "Burglary", "month": months, "mean": paths.mean(axis=0), "method": "hand"})
    for lv in (80, 95):
        a = (1 - lv / 100) / 2
        table[f"lower_{lv}"], table[f"upper_{lv}"] = np.quantile(paths, [a, 1 - a], axis=0)
    fc = ForecastResult(
        table=table,
        backtest=pd.DataFrame(),
        history=pd.DataFrame(),
        keys=["crime_group"],
        paths={("Burglary",): paths},
    )
    return fc, paths


def test_lot_volumes_takes_yearly_range_from_path_totals_not_summed_monthly_limits():
    # months independent: the year's total has sd 10 * sqrt(12) ~ 35, while the summed monthly 95% limits
    # span 12 x 39 ~ 470; the old code (summing monthly limits) gave a range ~3.5 times too wide
    fc, paths = _path_forecast()
    rates = pd.DataFrame(
        {
            "lot": ["Practical support"],
            "crime_group": ["Burglary"],
            "referrals": [40_000],
            "rate": [0.25],
            "take_up": [0.5],
        }
    )
    v = cap.lot_volumes(fc, rates, year_ranges="paths")
    r = v.table.iloc[0]
    q_lo, q_hi = np.quantile(paths.sum(axis=1), [0.025, 0.975])
    crimes = paths.mean(axis=0).sum()
    z = 1.959963984540054
    sd = math.sqrt((0.25 * (q_hi - q_lo) / (2 * z)) ** 2 + (0.25 * crimes) ** 2 / 40_000)
    assert r["referrals"] == pytest.approx(0.25 * crimes)
    assert r["upper_95"] == pytest.approx(0.25 * crimes + z * sd, rel=1e-9)
    assert r["lower_95"] == pytest.approx(0.25 * crimes - z * sd, rel=1e-9)
    assert "sample-path totals" in r["method"]
    # the same table without paths falls back to summed monthly limits, and says so
    old = cap.lot_volumes(fc.table, rates).table.iloc[0]
    assert "summed monthly limits" in old["method"]
    assert (old["upper_95"] - old["lower_95"]) > 2.5 * (r["upper_95"] - r["lower_95"])
    # by default (the measured-calibrated choice) the summed monthly limits are used even with paths
    summed = cap.lot_volumes(fc, rates).table.iloc[0]
    assert summed["upper_95"] == pytest.approx(old["upper_95"]) and "summed monthly limits" in summed["method"]


def test_lot_volumes_scenario_ranges_scale_the_paths():
    from victimneeds.forecast import scenario

    fc, paths = _path_forecast()
    rates = pd.DataFrame(
        {"lot": ["Practical support"], "crime_group": ["Burglary"], "referrals": [10**12], "rate": [1.0]}
    )
    s = scenario(fc, uplift={"Burglary": 0.5}, description="up")
    v = cap.lot_volumes({"baseline": fc, "up": s}, rates, year_ranges="paths").table.set_index("scenario")
    q_lo, q_hi = np.quantile(1.5 * paths.sum(axis=1), [0.025, 0.975])
    half = 1.959963984540054 * (q_hi - q_lo) / (2 * 1.959963984540054)
    assert v.loc["up", "upper_95"] == pytest.approx(1.5 * paths.mean(axis=0).sum() + half, rel=1e-6)
    assert "sample-path totals" in v.loc["up", "method"]


# --- FTE and cost -----------------------------------------------------------------------------------


def _volumes():
    return pd.DataFrame(
        {
            "scenario": "baseline",
            "lot": ["IDVA", "Victim advice line"],
            "district_code": "All",
            "financial_year": "2025/26",
            "referrals": [500.0, 3100.0],
            "lower_95": [400.0, 2900.0],
            "upper_95": [600.0, 3300.0],
        }
    )


def test_fte_published_and_assumed_rules():
    f = cap.fte(_volumes(), marac_share=0.4)
    idva = f[(f["lot"] == "IDVA") & (f["role"] == "IDVA")].iloc[0]
    assert idva["fte"] == pytest.approx(5.0) and idva["basis"] == "published"  # SafeLives 100 per FTE
    admin = f[f["role"] == "MARAC administrator"].iloc[0]
    assert admin["fte"] == pytest.approx(500 * 0.4 / 400)
    val = f[f["lot"] == "Victim advice line"].iloc[0]
    assert val["fte"] == pytest.approx(3100 * 1.5 / 1550) and val["basis"] == "assumption"
    over = cap.fte(_volumes(), caseload={"IDVA": 80}, productive_hours=1600)
    assert over.loc[over["lot"] == "IDVA", "fte"].item() == pytest.approx(6.25)
    assert over.loc[over["lot"] == "Victim advice line", "fte"].item() == pytest.approx(3100 * 1.5 / 1600)


def test_planning_rules_cite_every_row_and_isva_is_an_assumption():
    r = cap.planning_rules()
    assert r["source"].str.len().gt(10).all()
    assert set(r["basis"]) == {"published", "assumption"}
    isva = r[(r["lot"] == "ISVA") & (r["parameter"] == "referrals_per_fte_year")].iloc[0]
    assert isva["basis"] == "assumption" and "no national standard" in isva["source"]
    marac = r[r["parameter"] == "national_marac_rate_per_10000_adult_women"].iloc[0]
    assert marac["value"] == 47 and "September 2024" in marac["source"]


def test_cost_by_hand_and_against_funding():
    f = cap.fte(_volumes())
    services = pd.DataFrame(
        {"lot": ["IDVA", "IDVA"], "annual_funding": [100_000.0, 50_000.0], "capacity_fte": [2.0, 1.0]}
    )
    c = cap.cost(
        f,
        services,
        salaries={"IDVA": 30_000},
        fixed_costs={"IDVA": 5_000},
        ni_rate=0.15,
        ni_threshold=5_000,
        pension_rate=0.05,
        overhead_rate=0.1,
    )
    idva = c[c["lot"] == "IDVA"].iloc[0]
    unit = (30_000 + 0.15 * 25_000 + 1_500) * 1.1
    assert idva["contract_value"] == pytest.approx(5 * unit + 5_000)
    assert idva["contract_lower_95"] == pytest.approx(4 * unit + 5_000)
    assert idva["current_funding"] == 150_000 and idva["current_fte"] == 3
    assert idva["funding_gap"] == pytest.approx(5 * unit + 5_000 - 150_000)


def test_marac_benchmark_by_hand():
    pop = pd.DataFrame(
        {
            "area_code": ["a1", "a1", "a2", "a2"],
            "sex": ["Female", "Female", "Female", "Male"],
            "age_band": ["16-24", "0-15", "75+", "25-34"],
            "population": [5_000, 900, 5_000, 7_000],
        }
    )
    areas = pd.DataFrame({"area_code": ["a1", "a2"], "district_code": ["D1", "D2"]})
    m = cap.marac_benchmark(pop, areas).set_index("district_code")
    assert m.loc["All", "adult_women"] == 10_000
    assert m.loc["All", "marac_cases_recommended"] == pytest.approx(40)
    assert m.loc["D1", "marac_cases_national"] == pytest.approx(23.5)


def test_sentences_round_and_say_range():
    spec = pd.DataFrame(
        {
            "lot": ["IDVA"],
            "financial_year": ["2026/27"],
            "referrals": [487.4],
            "referrals_lower_95": [402.2],
            "referrals_upper_95": [571.9],
        }
    )
    assert cap.sentences(spec) == ["Expected referrals to the IDVA service in 2026/27: 487 (95% range 402-572)."]
