"""Tests for victimneeds.stats: reference values from statsmodels, scipy, published tables or by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy import stats as sps
from scipy.stats import mstats
from statsmodels.stats import rates as sm_rates
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from victimneeds import stats as vs

Z95 = 1.959963984540054


# --------------------------------------------------------------------------------------------------
# Wilson / proportion
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("x,n", [(0, 10), (10, 10), (3, 10), (1, 1), (0, 1), (57, 200), (999, 1000)])
@pytest.mark.parametrize("confidence", [0.95, 0.9, 0.998])
def test_wilson_matches_statsmodels(x, n, confidence):
    p, lo, hi = vs.wilson(x, n, confidence)
    ref_lo, ref_hi = proportion_confint(x, n, alpha=1 - confidence, method="wilson")
    assert p == pytest.approx(x / n)
    assert lo == pytest.approx(ref_lo, abs=1e-12)
    assert hi == pytest.approx(ref_hi, abs=1e-12)


def test_wilson_vectorised_and_edges():
    p, lo, hi = vs.wilson([0, 5, 0], [5, 5, 0])
    assert lo[0] == 0 and hi[1] == 1
    assert np.isnan(p[2]) and np.isnan(lo[2]) and np.isnan(hi[2])
    with pytest.raises(ValueError):
        vs.wilson(6, 5)


def test_wilson_hand_value():
    # x = 3, n = 10 by hand: centre = (0.3 + z^2/20) / (1 + z^2/10), half = z sqrt(0.021 + z^2/400) / (1 + z^2/10)
    denom = 1 + Z95**2 / 10
    centre = (0.3 + Z95**2 / 20) / denom
    half = Z95 * math.sqrt(0.3 * 0.7 / 10 + Z95**2 / 400) / denom
    _, lo, hi = vs.wilson(3, 10)
    assert lo == pytest.approx(centre - half) and hi == pytest.approx(centre + half)
    assert lo == pytest.approx(0.1078, abs=1e-4) and hi == pytest.approx(0.6032, abs=1e-4)


def test_proportion_tidy_output_does_not_mutate():
    t = pd.DataFrame({"district": ["A", "B", "C"], "x": [30, 0, 0], "n": [100, 20, 0]})
    before = t.copy()
    out = vs.proportion(t, "x", "n", multiplier=100)
    pd.testing.assert_frame_equal(t, before)
    assert list(out.columns) == [
        "district",
        "x",
        "n",
        "value",
        "lowercl",
        "uppercl",
        "confidence",
        "statistic",
        "method",
    ]
    ref_lo, ref_hi = proportion_confint(30, 100, method="wilson")
    assert out.loc[0, "lowercl"] == pytest.approx(100 * ref_lo)
    assert out.loc[0, "uppercl"] == pytest.approx(100 * ref_hi)
    assert out.loc[0, "statistic"] == "percentage" and out.loc[0, "method"] == "Wilson"
    assert out.loc[0, "confidence"] == "95%"
    assert np.isnan(out.loc[2, "value"])  # zero denominator: kept, not computed


def test_proportion_several_levels_and_errors():
    t = pd.DataFrame({"x": [3], "n": [10]})
    out = vs.proportion(t, "x", "n", confidence=[0.95, 0.998])
    assert {"lower95_0cl", "upper95_0cl", "lower99_8cl", "upper99_8cl"} <= set(out.columns)
    assert out.loc[0, "confidence"] == "95%, 99.8%"
    assert out.loc[0, "lower99_8cl"] < out.loc[0, "lower95_0cl"]
    with pytest.raises(ValueError, match="cannot exceed"):
        vs.proportion(pd.DataFrame({"x": [3, 11], "n": [10, 10]}), "x", "n")
    with pytest.raises(KeyError, match="no column 'victims'"):
        vs.proportion(t, "x", "victims")
    with pytest.raises(ValueError, match="not numbers"):
        vs.proportion(pd.DataFrame({"x": ["three"], "n": [10]}), "x", "n")
    with pytest.raises(ValueError, match="negative"):
        vs.proportion(pd.DataFrame({"x": [-1], "n": [10]}), "x", "n")


# --------------------------------------------------------------------------------------------------
# Counts and rates
# --------------------------------------------------------------------------------------------------


def test_exact_poisson_published_value_for_10_events():
    # PHE technical guide, confidence intervals for counts: 10 events, 95% CI 4.7954 to 18.3904.
    lo, hi = vs.count_interval(10)
    assert lo == pytest.approx(4.7954, abs=1e-4)
    assert hi == pytest.approx(18.3904, abs=1e-4)


@pytest.mark.parametrize("x", [0, 1, 2, 7, 50, 389, 1234])
@pytest.mark.parametrize("confidence", [0.95, 0.998])
def test_exact_poisson_matches_chi2_hand_computation(x, confidence):
    a = 1 - confidence
    lo, hi = vs.count_interval(x, confidence)
    ref_lo = 0.0 if x == 0 else sps.chi2.ppf(a / 2, 2 * x) / 2
    assert lo == pytest.approx(ref_lo)
    assert hi == pytest.approx(sps.chi2.ppf(1 - a / 2, 2 * x + 2) / 2)


def test_exact_poisson_zero_is_minus_log():
    # For x = 0 the exact upper limit solves exp(-mu) = alpha / 2, so mu = -log(0.025) = 3.6889.
    _, hi = vs.count_interval(0)
    assert hi == pytest.approx(-math.log(0.025))


def test_byar_hand_computation_for_10():
    # Byar: lower = 10 (1 - 1/90 - z/(3 sqrt 10))^3, upper = 11 (1 - 1/99 + z/(3 sqrt 11))^3
    lo, hi = vs.count_interval(10, method="byar")
    assert lo == pytest.approx(10 * (1 - 1 / 90 - Z95 / (3 * math.sqrt(10))) ** 3)
    assert hi == pytest.approx(11 * (1 - 1 / 99 + Z95 / (3 * math.sqrt(11))) ** 3)
    assert lo == pytest.approx(4.787, abs=1e-3) and hi == pytest.approx(18.391, abs=1e-3)
    # close to the exact interval (4.7954, 18.3904)
    assert abs(lo - 4.7954) < 0.01 and abs(hi - 18.3904) < 0.01


def test_count_interval_bad_method():
    with pytest.raises(ValueError, match="exact"):
        vs.count_interval(3, method="wald")  # type: ignore[arg-type]


def test_rate_per_1000():
    t = pd.DataFrame({"district": ["A", "B"], "crimes": [10, 0], "population": [2000, 500]})
    out = vs.rate(t, "crimes", "population")
    assert out.loc[0, "value"] == pytest.approx(5.0)
    assert out.loc[0, "lowercl"] == pytest.approx(4.7954 / 2, abs=1e-4)
    assert out.loc[0, "uppercl"] == pytest.approx(18.3904 / 2, abs=1e-4)
    assert out.loc[1, "value"] == 0 and out.loc[1, "lowercl"] == 0
    assert out.loc[0, "statistic"] == "rate per 1,000"
    assert "Exact" in out.loc[0, "method"]
    byar = vs.rate(t, "crimes", "population", method="byar", multiplier=100)
    assert "Byar" in byar.loc[0, "method"] and byar.loc[0, "value"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="positive population"):
        vs.rate(pd.DataFrame({"x": [3], "n": [0]}), "x", "n")


# --------------------------------------------------------------------------------------------------
# Directly standardised rates
# --------------------------------------------------------------------------------------------------


def _dsr_table():
    return pd.DataFrame(
        {
            "district": ["A", "A", "B", "B"],
            "band": ["young", "old", "young", "old"],
            "victims": [30, 10, 3, 2],
            "pop": [1000, 2000, 500, 500],
        }
    )


def test_dsr_hand_computation_dobson():
    out = vs.dsr(
        _dsr_table(),
        "victims",
        "pop",
        pd.Series({"young": 1.0, "old": 1.0}),
        group_by="district",
        strata="band",
        multiplier=1000,
    )
    a = out.set_index("district").loc["A"]
    # weights 1/2 each: DSR = (30/1000 + 10/2000) / 2 = 0.0175
    dsr = 0.0175
    var = 0.25 * 30 / 1000**2 + 0.25 * 10 / 2000**2
    o = 40
    lo_o, hi_o = sps.chi2.ppf(0.025, 2 * o) / 2, sps.chi2.ppf(0.975, 2 * o + 2) / 2
    assert a["value"] == pytest.approx(1000 * dsr)
    assert a["lowercl"] == pytest.approx(1000 * (dsr + math.sqrt(var / o) * (lo_o - o)))
    assert a["uppercl"] == pytest.approx(1000 * (dsr + math.sqrt(var / o) * (hi_o - o)))
    assert a["total_count"] == 40 and a["total_pop"] == 3000
    assert a["note"] == ""
    b = out.set_index("district").loc["B"]
    assert np.isnan(b["value"]) and np.isnan(b["lowercl"]) and "fewer than 10" in b["note"]
    assert out["statistic"].iloc[0] == "dsr per 1,000" and "Dobson" in out["method"].iloc[0]


def test_dsr_standard_population_forms_agree():
    t = _dsr_table()
    s = vs.dsr(t, "victims", "pop", pd.Series({"young": 3.0, "old": 1.0}), "district", strata="band")
    seq = vs.dsr(t, "victims", "pop", [3.0, 1.0], "district")
    col = vs.dsr(t.assign(w=[3.0, 1.0, 3.0, 1.0]), "victims", "pop", "w", "district")
    for other in (seq, col):
        np.testing.assert_allclose(s["value"], other["value"])
        np.testing.assert_allclose(s["uppercl"], other["uppercl"])


def test_dsr_equal_rates_give_that_rate_and_esp_sums():
    t = pd.DataFrame({"age_band": list(vs.ESP2013_AGE_BANDS.index), "x": [20] * 8, "n": [10000] * 8})
    out = vs.dsr(t, "x", "n", vs.ESP2013_AGE_BANDS, strata="age_band")
    assert out.loc[0, "value"] == pytest.approx(200.0)  # 20 per 10,000 = 200 per 100,000
    assert out.loc[0, "lowercl"] < 200 < out.loc[0, "uppercl"]
    assert vs.ESP2013.sum() == 100000 and vs.ESP2013_AGE_BANDS.sum() == 100000


def test_dsr_errors():
    t = _dsr_table()
    with pytest.raises(ValueError, match="no standard population"):
        vs.dsr(t, "victims", "pop", pd.Series({"young": 1.0}), "district", strata="band")
    with pytest.raises(ValueError, match="strata="):
        vs.dsr(t, "victims", "pop", pd.Series({"young": 1.0}), "district")
    with pytest.raises(ValueError, match="one row per stratum"):
        vs.dsr(t, "victims", "pop", [1.0, 2.0, 3.0], "district")


# --------------------------------------------------------------------------------------------------
# Indirect standardisation
# --------------------------------------------------------------------------------------------------


def test_expected_counts_and_ratio_by_hand():
    t = pd.DataFrame(
        {
            "district": ["A", "A", "B", "B"],
            "band": ["young", "old"] * 2,
            "victims": [30, 10, 10, 30],
            "pop": [1000, 1000, 1000, 3000],
        }
    )
    e = vs.expected_counts(t, "victims", "pop", by="district", strata="band")
    # reference rates: young 40/2000 = 0.02, old 40/4000 = 0.01
    assert e["expected"].tolist() == pytest.approx([1000 * 0.02 + 1000 * 0.01, 1000 * 0.02 + 3000 * 0.01])
    assert e["observed"].tolist() == [40, 40]
    r = vs.standardised_ratio(e, "observed", "expected", multiplier=100)
    assert r.loc[0, "value"] == pytest.approx(100 * 40 / 30)
    assert r.loc[0, "lowercl"] == pytest.approx(100 * sps.chi2.ppf(0.025, 80) / 2 / 30)
    supplied = vs.expected_counts(
        t, "victims", "pop", by="district", strata="band", reference=pd.Series({"young": 0.01, "old": 0.01})
    )
    assert supplied["expected"].tolist() == pytest.approx([20.0, 40.0])
    with pytest.raises(ValueError, match="no reference rate"):
        vs.expected_counts(t, "victims", "pop", by="district", strata="band", reference=pd.Series({"young": 0.1}))


def test_standardised_ratio_published_count_interval():
    out = vs.standardised_ratio(pd.DataFrame({"o": [10], "e": [10.0]}), "o", "e")
    assert out.loc[0, "lowercl"] == pytest.approx(0.47954, abs=1e-5)
    assert out.loc[0, "uppercl"] == pytest.approx(1.83904, abs=1e-5)


# --------------------------------------------------------------------------------------------------
# Funnel plots
# --------------------------------------------------------------------------------------------------


def test_funnel_exact_binomial_hand_computation():
    # Binomial(10, 0.5): P(X<=1) = 11/1024, P(X<=2) = 56/1024, P(X<=7) = 968/1024, P(X<=8) = 1013/1024.
    # 97.5%: r = 8, alpha = (1013/1024 - 0.975) / (45/1024) = 14.6/45; limit = (8 - alpha) / 10
    # 2.5%:  r = 2, alpha = (56/1024 - 0.025) / (45/1024) = 30.4/45;   limit = (2 - alpha) / 10
    lim = vs.funnel_limits(0.5, [10], levels=[0.95])
    assert lim.loc[0, "upper"] == pytest.approx((8 - 14.6 / 45) / 10)
    assert lim.loc[0, "lower"] == pytest.approx((2 - 30.4 / 45) / 10)


def test_funnel_exact_poisson_hand_computation():
    # Poisson(2) (ratio, expected 2, target 1): P(X<=4) = 7e^-2, P(X<=5) = 7.2667e^-2 at 95% upper? use scipy pmf sums
    e = math.exp(-2)
    cdf = np.cumsum([e * 2**k / math.factorial(k) for k in range(12)])
    r = int(np.argmax(cdf >= 0.975))
    alpha = (cdf[r] - 0.975) / (cdf[r] - cdf[r - 1])
    lim = vs.funnel_limits(1.0, [2.0], kind="ratio", levels=[0.95])
    assert r == 5
    assert lim.loc[0, "upper"] == pytest.approx((r - alpha) / 2)
    assert lim.loc[0, "lower"] == 0  # P(X = 0) = e^-2 > 0.025


def test_funnel_normal_with_overdispersion_by_hand():
    # target 0.2, n = 100: s = sqrt(0.2 * 0.8 / 100) = 0.04
    mult = vs.funnel_limits(0.2, [100], levels=[0.95], overdispersion=4.0)
    assert mult.loc[0, "lower"] == pytest.approx(0.2 - Z95 * 2 * 0.04)
    assert mult.loc[0, "upper"] == pytest.approx(0.2 + Z95 * 2 * 0.04)
    add = vs.Overdispersion("additive", phi=3.0, tau2=0.01, n_units=10, winsor=0.1, p_value=0.0)
    lim = vs.funnel_limits(0.2, [100], levels=[0.95], overdispersion=add)
    # tau2 estimated from 10 units: Student t with 8 degrees of freedom
    assert lim.loc[0, "upper"] == pytest.approx(0.2 + sps.t.ppf(0.975, 8) * math.sqrt(0.0016 + 0.01))
    assert lim.loc[0, "lower"] == 0  # clipped at zero
    # tau2 kept on its own scale when the limits are in percentages
    pct = vs.funnel_limits(20, [100], levels=[0.95], overdispersion=add, multiplier=100)
    assert pct.loc[0, "upper"] == pytest.approx(100 * lim.loc[0, "upper"])


@pytest.mark.parametrize("kind,target,mult", [("proportion", 0.3, 1), ("ratio", 1.0, 1), ("rate", 45.0, 1000)])
def test_funnel_limits_contain_target_and_narrow(kind, target, mult):
    n = np.array([20, 50, 100, 500, 2000, 10000]) if kind != "rate" else np.array([1e3, 1e4, 1e5])
    lim = vs.funnel_limits(target, n, kind=kind, multiplier=mult)
    assert (lim["lower"] <= target).all() and (lim["upper"] >= target).all()
    for _, g in lim.groupby("level"):
        assert (np.diff(g["upper"] - g["lower"]) <= 1e-12).all()
    w95 = lim[lim["level"] == 0.95].set_index("denominator")
    w998 = lim[lim["level"] == 0.998].set_index("denominator")
    assert ((w998["upper"] - w998["lower"]) > (w95["upper"] - w95["lower"])).all()
    assert set(lim.columns) == {"denominator", "level", "lower", "upper", "target", "kind", "method"}


def test_funnel_limits_widen_with_overdispersion():
    n = np.array([50, 200, 1000])
    base = vs.funnel_limits(0.3, n)
    wide = vs.funnel_limits(0.3, n, overdispersion=vs.Overdispersion("additive", 2.0, 0.002, 20, 0.1, 0.0))
    assert ((wide["upper"] - wide["lower"]) > (base["upper"] - base["lower"])).all()


def test_winsorising_matches_scipy():
    z = np.array(
        [-5.0, -1.2, -0.3, 0.1, 0.2, 0.4, 0.9, 1.1, 1.5, 2.0, 2.2, 9.0, -0.7, 0.0, 0.5, 3.3, -2.5, 1.9, 0.8, -0.1]
    )
    ref = np.asarray(mstats.winsorize(z, limits=(0.1, 0.1)))
    od = vs.estimate_overdispersion(z, np.ones_like(z), winsor=0.1)
    # the consistency factor E[W^2] of a standard normal winsorised at 10% a tail, by numerical integration
    q = sps.norm.isf(0.1)
    c = integrate.quad(lambda t: t**2 * sps.norm.pdf(t), -q, q)[0] + 2 * 0.1 * q**2
    assert od.phi == pytest.approx(np.mean(ref**2) / c)


def test_winsorised_phi_is_one_for_units_in_control():
    # uncorrected, the mean of squared winsorised z-scores is about 0.68 for in-control units, which made
    # limits too narrow and flagged over-dispersed units too often
    z = np.random.default_rng(4).normal(size=20000)
    assert vs.estimate_overdispersion(z, np.ones_like(z)).phi == pytest.approx(1.0, abs=0.03)


def test_estimated_overdispersion_uses_student_t_quantiles():
    # Higgins, Thompson & Spiegelhalter (2009): with tau2 estimated from I units, t with I - 2 df
    od = vs.Overdispersion("additive", 2.0, 0.002, 20, 0.1, 0.0)
    lim = vs.funnel_limits(0.3, [100], levels=[0.998], overdispersion=od)
    half = sps.t.ppf(0.999, 18) * np.sqrt(0.3 * 0.7 / 100 + 0.002)
    assert lim["upper"].iloc[0] == pytest.approx(0.3 + half)
    mult = vs.Overdispersion("multiplicative", 2.0, 0.0, 20, 0.1, 0.0)
    lim = vs.funnel_limits(0.3, [100], levels=[0.95], overdispersion=mult)
    assert lim["upper"].iloc[0] == pytest.approx(0.3 + sps.t.ppf(0.975, 19) * np.sqrt(2 * 0.3 * 0.7 / 100))
    # a phi given as a number has no units behind it: the normal quantile
    lim = vs.funnel_limits(0.3, [100], levels=[0.95], overdispersion=2.0)
    assert lim["upper"].iloc[0] == pytest.approx(0.3 + sps.norm.ppf(0.975) * np.sqrt(2 * 0.3 * 0.7 / 100))


def test_dersimonian_laird_by_hand():
    # z = -2..2, s = 0.1: phi = 2, I = 5, w = 100: tau2 = (10 - 4) / (500 - 100) = 0.015
    od = vs.estimate_overdispersion([-2.0, -1.0, 0.0, 1.0, 2.0], [0.1] * 5, winsor=0)
    assert od.phi == pytest.approx(2.0)
    assert od.tau2 == pytest.approx(0.015)
    assert od.p_value == pytest.approx(sps.chi2.sf(10, 4))
    under = vs.estimate_overdispersion([-0.5, 0.5, 0.1], [0.1] * 3, winsor=0)
    assert under.tau2 == 0 and not under.adjusts


def _units(seed=1, k=30):
    rng = np.random.default_rng(seed)
    n = rng.integers(100, 1000, size=k)
    p = np.clip(rng.normal(0.3, 0.06, size=k), 0.05, 0.9)  # over-dispersed around 0.3
    x = rng.binomial(n, p)
    return pd.DataFrame({"unit": [f"U{i}" for i in range(k)], "x": x, "n": n})


def test_funnel_flags_planted_outlier_and_overdispersion():
    t = _units()
    t.loc[len(t)] = ["OUT", 450, 600]  # 75% against about 30%
    plain = vs.funnel_flags(t, "x", "n")
    assert plain.set_index("unit").loc["OUT", "flag"] == "above 99.8%"
    for how in ("additive", "multiplicative"):
        od = vs.funnel_flags(t, "x", "n", overdispersion=how)
        assert od.set_index("unit").loc["OUT", "flag"] == "above 99.8%"
        assert od.attrs["overdispersion"].method == how and od.attrs["overdispersion"].adjusts
        assert (od["flag"] != "within 95%").sum() < (plain["flag"] != "within 95%").sum()
        assert ((od["upper_95"] - od["lower_95"]) > (plain["upper_95"] - plain["lower_95"])).all()
        assert "z_adjusted" in od.columns
    assert plain["target"].iloc[0] == pytest.approx(t["x"].sum() / t["n"].sum())
    assert {"lower_95", "upper_95", "lower_99_8", "upper_99_8", "z", "flag", "method"} <= set(plain.columns)


def test_funnel_flags_categories_and_no_denominator():
    t = pd.DataFrame({"unit": list("ABCDE"), "x": [50, 38, 10, 58, 0], "n": [100, 100, 100, 100, 0]})
    out = vs.funnel_flags(t, "x", "n", target=0.5).set_index("unit")
    # Binomial(100, .5): 38 is below the 95% limit (0.3968) but above the 99.8% limit; 10 is far below;
    # 58 is inside the 95% upper limit (0.5932).
    assert out.loc["A", "flag"] == "within 95%"
    assert out.loc["B", "flag"] == "below 95%"
    assert out.loc["C", "flag"] == "below 99.8%"
    assert out.loc["D", "flag"] == "within 95%"
    assert out.loc["E", "flag"] == "not assessed: no denominator"
    assert out.loc["A", "z"] == 0 and out.loc["C", "z"] == pytest.approx((0.1 - 0.5) / 0.05)


def test_funnel_flags_rate_and_ratio():
    t = pd.DataFrame({"d": ["A", "B", "C"], "crimes": [100, 130, 300], "pop": [10000, 10000, 10000]})
    out = vs.funnel_flags(t, "crimes", "pop", target=12.0, kind="rate", multiplier=1000).set_index("d")
    assert out.loc["A", "value"] == pytest.approx(10.0)
    assert out.loc["C", "flag"] == "above 99.8%"
    r = vs.funnel_flags(pd.DataFrame({"o": [10, 30], "e": [10.0, 10.0]}), "o", "e", target=1.0, kind="ratio")
    assert r["flag"].tolist() == ["within 95%", "above 99.8%"]


def test_funnel_errors():
    with pytest.raises(ValueError, match="strictly between"):
        vs.funnel_limits(1.2, [10])
    with pytest.raises(ValueError, match="whole numbers"):
        vs.funnel_limits(0.2, [10.5])
    with pytest.raises(ValueError, match="kind"):
        vs.funnel_limits(0.2, [10], kind="odds")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("x1,x2,t1,t2", [(10, 3, 1, 1), (40, 25, 2.0, 1.0), (0, 7, 1, 1), (120, 100, 1, 1.1)])
def test_compare_counts_matches_statsmodels_and_scipy(x1, x2, t1, t2):
    out = vs.compare_counts(x1, x2, t1, t2)
    ref = sm_rates.test_poisson_2indep(x1, t1, x2, t2, method="exact-cond")
    assert out.loc[0, "p_value"] == pytest.approx(ref.pvalue)
    assert out.loc[0, "value"] == pytest.approx((x1 / t1) / (x2 / t2))
    ci = sps.binomtest(x1, x1 + x2).proportion_ci(confidence_level=0.95, method="exact")
    k = t2 / t1
    assert out.loc[0, "lowercl"] == pytest.approx(ci.low / (1 - ci.low) * k)
    assert out.loc[0, "uppercl"] == pytest.approx(ci.high / (1 - ci.high) * k)
    assert out.loc[0, "lowercl"] <= out.loc[0, "value"] <= out.loc[0, "uppercl"]


def test_compare_counts_vectorised():
    out = vs.compare_counts([10, 0], [3, 0])
    assert len(out) == 2 and np.isnan(out.loc[1, "value"]) and np.isnan(out.loc[1, "p_value"])
    assert out.loc[0, "statistic"].startswith("rate ratio")


@pytest.mark.parametrize("x1,n1,x2,n2", [(5, 20, 9, 25), (0, 15, 4, 30), (30, 30, 12, 40), (56, 70, 48, 80)])
def test_compare_proportions_matches_statsmodels(x1, n1, x2, n2):
    out = vs.compare_proportions(x1, n1, x2, n2)
    lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    assert out.loc[0, "value"] == pytest.approx(x1 / n1 - x2 / n2)
    assert out.loc[0, "lowercl"] == pytest.approx(lo, abs=1e-10)
    assert out.loc[0, "uppercl"] == pytest.approx(hi, abs=1e-10)
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
    chi = sps.chi2_contingency(table, correction=False)
    assert out.loc[0, "p_value"] == pytest.approx(chi.pvalue)
    fisher = vs.compare_proportions(x1, n1, x2, n2, test="fisher")
    assert fisher.loc[0, "p_value"] == pytest.approx(sps.fisher_exact(table).pvalue)


def test_compare_proportions_newcombe_published_example():
    # Newcombe (1998), Table II example (a): 56/70 vs 48/80, difference 0.2, 95% CI method 10: 0.0524 to 0.3339
    out = vs.compare_proportions(56, 70, 48, 80)
    assert out.loc[0, "lowercl"] == pytest.approx(0.0524, abs=1e-4)
    assert out.loc[0, "uppercl"] == pytest.approx(0.3339, abs=1e-4)


# --------------------------------------------------------------------------------------------------
# Property tests
# --------------------------------------------------------------------------------------------------


@st.composite
def _x_n(draw):
    n = draw(st.integers(1, 5000))
    return draw(st.integers(0, n)), n


@settings(max_examples=150, deadline=None)
@given(_x_n())
def test_wilson_properties(xn):
    x, n = xn
    p, lo, hi = vs.wilson(x, n)
    _, lo2, hi2 = vs.wilson(x, n, 0.998)
    assert 0 <= lo <= p <= hi <= 1
    assert lo2 <= lo + 1e-12 and hi2 >= hi - 1e-12
    assert hi2 - lo2 > hi - lo


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 100000), st.sampled_from(["exact", "byar"]))
def test_count_interval_properties(x, method):
    lo, hi = vs.count_interval(x, 0.95, method)
    lo2, hi2 = vs.count_interval(x, 0.998, method)
    assert 0 <= lo <= x <= hi
    assert lo2 <= lo and hi2 > hi


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(1, 5000)), min_size=1, max_size=6))
def test_dsr_properties(rows):
    t = pd.DataFrame(rows, columns=["x", "n"]).assign(w=1.0)
    out = vs.dsr(t, "x", "n", "w", confidence=[0.95, 0.998])
    value, lo, hi, lo2, hi2 = out.loc[0, ["value", "lower95_0cl", "upper95_0cl", "lower99_8cl", "upper99_8cl"]]
    if t["x"].sum() < 10:
        assert np.isnan(value)
    else:
        assert 0 <= lo <= value <= hi
        assert lo2 <= lo and hi2 > hi


def test_dsr_lower_limit_truncated_at_zero():
    # One stratum of 1 person with 1 event dominates the variance: Dobson's lower limit would be negative.
    t = pd.DataFrame({"x": [1, 9], "n": [1, 14], "w": [1.0, 1.0]})
    out = vs.dsr(t, "x", "n", "w", multiplier=1)
    value = (1 / 1 + 9 / 14) / 2
    var = (1 / 1 + 9 / 14**2) / 4
    raw_lower = value + math.sqrt(var / 10) * (sps.chi2.ppf(0.025, 20) / 2 - 10)
    assert raw_lower < 0 and out.loc[0, "lowercl"] == 0
    assert out.loc[0, "value"] == pytest.approx(value)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.01, 0.99), st.lists(st.integers(1, 3000), min_size=1, max_size=5))
def test_funnel_limits_properties(target, ns):
    # The interpolated exact limits bracket the target once n p (1 - p) is at least about 2; below that the
    # discrete distribution is too coarse (documented in funnel_limits).
    ns = [n for n in ns if n * target * (1 - target) >= 2] or [int(np.ceil(2 / (target * (1 - target))))]
    lim = vs.funnel_limits(target, ns)
    assert (lim["lower"] <= target + 1e-12).all() and (lim["upper"] >= target - 1e-12).all()
    assert (lim["lower"] >= 0).all() and (lim["upper"] <= 1).all()
    w = lim.assign(width=lim["upper"] - lim["lower"]).pivot_table(index="denominator", columns="level", values="width")
    assert (w[0.998] >= w[0.95] - 1e-12).all()
