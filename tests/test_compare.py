"""Tests for victimneeds.compare: Benjamini-Hochberg, Firth, the comparison engine, trends and control charts.

Reference values come from hand calculation, statsmodels, or a brute-force optimisation written here; the
simulations use generators of their own (not victimneeds.datasets).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats
from scipy.special import expit
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from victimneeds import compare as C

# --------------------------------------------------------------------------------------------------
# Benjamini-Hochberg and the gaps rule
# --------------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30), st.sampled_from([0.01, 0.05, 0.1]))
def test_bh_matches_statsmodels(p, fdr):
    reject, q, _, _ = multipletests(p, alpha=fdr, method="fdr_bh")
    assert C.benjamini_hochberg(p) == pytest.approx(q)
    assert C.gaps_rule(p, fdr).tolist() == reject.tolist()


def test_bh_leaves_missing_out_of_the_family():
    q = C.benjamini_hochberg([0.01, np.nan, 0.04])
    assert np.isnan(q[1]) and q[0] == pytest.approx(0.02) and q[2] == pytest.approx(0.04)
    assert C.gaps_rule([0.01, np.nan, 0.04]).tolist() == [True, False, True]


def test_gaps_rule_null_family_flags_rarely():
    """All nulls true: BH flags anything in a family no more often than fdr (here 5%), allowing for chance."""
    rng = np.random.default_rng(1)
    sims = 2000
    any_flag = sum(C.gaps_rule(rng.random(20)).any() for _ in range(sims))
    assert any_flag <= stats.binom.ppf(0.999, sims, 0.05)


# --------------------------------------------------------------------------------------------------
# Firth's logistic regression
# --------------------------------------------------------------------------------------------------


def _two_by_two(a, b, c, d):
    """Exposed a events of a+b; unexposed c events of c+d, as grouped rows."""
    x = pd.DataFrame({"const": [1.0, 1.0], "exposed": [1.0, 0.0]})
    return x, np.array([a, c], float), np.array([a + b, c + d], float)


@pytest.mark.parametrize("cells", [(0, 20, 30, 20), (7, 0, 3, 9), (0, 5, 5, 0), (12, 8, 5, 15)])
def test_firth_two_by_two_adds_a_half(cells):
    a, b, c, d = cells
    fit = C.firth_logit(*_two_by_two(*cells), profile=False)
    assert fit.params["exposed"] == pytest.approx(np.log((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5))), abs=1e-7)
    assert fit.converged


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30), st.integers(0, 30))
def test_firth_two_by_two_property(a, b, c, d):
    if a + b == 0 or c + d == 0:
        return
    fit = C.firth_logit(*_two_by_two(a, b, c, d), profile=[1])
    hand = np.log((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5)))
    assert fit.params["exposed"] == pytest.approx(hand, abs=1e-6)
    assert fit.lower["exposed"] < hand < fit.upper["exposed"]
    assert np.isfinite([fit.lower["exposed"], fit.upper["exposed"]]).all()


def test_firth_profile_interval_matches_brute_force():
    """Profile penalised-likelihood limits for a 2x2 table with a zero cell, by a separate 1-D optimisation."""
    x, y, n = _two_by_two(0, 20, 30, 20)
    X = x.to_numpy()

    def pen(beta):
        eta = X @ beta
        p = expit(eta)
        info = X.T @ (X * (n * p * (1 - p))[:, None])
        return np.sum(y * eta - n * np.logaddexp(0, eta)) + 0.5 * np.log(np.linalg.det(info))

    def profile(b1):
        return -optimize.minimize_scalar(lambda b0: -pen(np.array([b0, b1])), bounds=(-20, 20), method="bounded",
                                         options={"xatol": 1e-10}).fun

    fit = C.firth_logit(x, y, n)
    top = pen(fit.params.to_numpy())
    cut = stats.chi2.ppf(0.95, 1) / 2
    b = fit.params["exposed"]
    lo = optimize.brentq(lambda v: top - profile(v) - cut, b - 10, b)
    hi = optimize.brentq(lambda v: top - profile(v) - cut, b, b + 5)
    assert fit.lower["exposed"] == pytest.approx(lo, abs=1e-4)
    assert fit.upper["exposed"] == pytest.approx(hi, abs=1e-4)
    # Penalised likelihood-ratio test of no effect.
    lr = 2 * (top - profile(0.0))
    assert fit.pvalues["exposed"] == pytest.approx(stats.chi2.sf(lr, 1), rel=1e-4)


def test_firth_grouped_equals_individual_and_solves_the_modified_score():
    rng = np.random.default_rng(4)
    n = 300
    g = rng.integers(0, 3, n)
    z = rng.integers(0, 2, n)
    y = (rng.random(n) < expit(-1 + 0.8 * (g == 1) - 3 * (g == 2) + 0.5 * z)).astype(float)
    ind = pd.DataFrame({"const": 1.0, "g1": (g == 1) * 1.0, "g2": (g == 2) * 1.0, "z": z * 1.0})
    fit_ind = C.firth_logit(ind, y, profile=False)
    grouped = ind.assign(y=y).groupby(["g1", "g2", "z"], as_index=False).agg(y=("y", "sum"), n=("y", "size"))
    fit_grp = C.firth_logit(grouped.assign(const=1.0)[["const", "g1", "g2", "z"]], grouped["y"], grouped["n"],
                            profile=False)
    assert fit_grp.params.to_numpy() == pytest.approx(fit_ind.params.to_numpy(), abs=1e-6)
    # Firth's modified score at the estimate, from the individual-level hat matrix (Heinze & Schemper eq. 2).
    X = ind.to_numpy()
    p = expit(X @ fit_ind.params.to_numpy())
    w = p * (1 - p)
    h = np.diag(np.sqrt(w)[:, None] * X @ np.linalg.inv(X.T @ (X * w[:, None])) @ X.T * np.sqrt(w)[None, :])
    assert X.T @ (y - p + h * (0.5 - p)) == pytest.approx(np.zeros(4), abs=1e-6)


def test_firth_close_to_maximum_likelihood_with_plenty_of_data():
    rng = np.random.default_rng(5)
    n = 5000
    x = rng.normal(size=n)
    y = (rng.random(n) < expit(0.3 + 0.7 * x)).astype(float)
    X = sm.add_constant(x)
    ml = sm.Logit(y, X).fit(disp=0)
    fit = C.firth_logit(X, y, profile=False)
    assert fit.params.to_numpy() == pytest.approx(ml.params, abs=0.01)
    assert fit.bse.to_numpy() == pytest.approx(ml.bse, rel=0.01)


def test_firth_p_value_and_interval_agree_when_the_profile_cannot_be_solved(monkeypatch):
    """When the profile limit cannot be solved, the p-value and the interval both come from the Wald statistic.

    The old code kept the penalised LR p-value (about 1e-7 here) beside a Wald interval: the two could disagree.
    """
    import victimneeds.compare.firth as F

    def fail(*args, **kwargs):
        raise ValueError("no root")

    monkeypatch.setattr(F._opt, "brentq", fail)
    fit = C.firth_logit(*_two_by_two(0, 5, 40, 0))
    b, se = fit.params["exposed"], fit.bse["exposed"]
    z = stats.norm.ppf(0.975)
    assert fit.lower["exposed"] == pytest.approx(b - z * se) and fit.upper["exposed"] == pytest.approx(b + z * se)
    assert fit.pvalues["exposed"] == pytest.approx(2 * stats.norm.sf(abs(b / se)), rel=1e-9)
    assert (fit.pvalues["exposed"] < 0.05) == (not fit.lower["exposed"] <= 0 <= fit.upper["exposed"])
    assert fit.method["exposed"] == "Wald"


def test_firth_separated_table_profile_matches_a_grid():
    """Complete separation (0 of 5 against 40 of 40): profile limits and LR p-value against a brute-force grid."""
    x, y, n = _two_by_two(0, 5, 40, 0)
    X = x.to_numpy()

    def pen(beta):
        p = expit(X @ beta)
        info = X.T @ (X * (n * p * (1 - p))[:, None])
        return np.sum(y * (X @ beta) - n * np.logaddexp(0, X @ beta)) + 0.5 * np.linalg.slogdet(info)[1]

    def profile(b1):
        return -optimize.minimize_scalar(lambda b0: -pen(np.array([b0, b1])), bounds=(-40, 40), method="bounded",
                                         options={"xatol": 1e-10}).fun

    fit = C.firth_logit(x, y, n)
    b = fit.params["exposed"]
    # Firth's estimate of a 2x2 table adds 1/2 to each cell: log((0.5 * 0.5) / (5.5 * 40.5)).
    assert b == pytest.approx(np.log(0.25 / (5.5 * 40.5)), abs=1e-6)
    top = pen(fit.params.to_numpy())
    grid = np.arange(b - 10, b + 6, 0.005)
    inside = grid[np.array([top - profile(v) for v in grid]) < stats.chi2.ppf(0.95, 1) / 2]
    assert fit.lower["exposed"] == pytest.approx(inside.min(), abs=0.01)
    assert fit.upper["exposed"] == pytest.approx(inside.max(), abs=0.01)
    assert fit.pvalues["exposed"] == pytest.approx(stats.chi2.sf(2 * (top - profile(0.0)), 1), rel=1e-4)
    assert fit.method["exposed"] == "profile" and fit.upper["exposed"] < 0 and fit.pvalues["exposed"] < 0.05


def test_firth_p_value_below_five_percent_exactly_when_the_interval_excludes_zero():
    rng = np.random.default_rng(11)
    for _ in range(40):
        x = (rng.random(60) < 0.3).astype(float)
        y = (rng.random(60) < expit(-2 + 1.5 * x)).astype(float)
        fit = C.firth_logit(pd.DataFrame({"const": 1.0, "x": x}), y, profile=[1])
        assert (fit.pvalues["x"] < 0.05) == (not fit.lower["x"] <= 0 <= fit.upper["x"])


# --------------------------------------------------------------------------------------------------
# The comparison engine
# --------------------------------------------------------------------------------------------------


def _victims(rng, n=3000, true_or=0.5):
    sex = rng.choice(["Female", "Male"], n, p=[0.6, 0.4])
    eth = rng.choice(["White", "Asian", "Black"], n, p=[0.7, 0.2, 0.1])
    dis = rng.random(n) < 0.2
    logit = 0.4 + np.log(true_or) * (eth == "Black") + 0.3 * (sex == "Male") + 0.4 * dis
    # Disability is also commoner among Black victims: the unadjusted OR is confounded.
    return pd.DataFrame(
        {
            "victim_sex": sex,
            "victim_ethnicity": eth,
            "victim_disability": dis,
            "referred": rng.random(n) < expit(logit),
            "date": pd.Timestamp("2023-04-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D"),
        }
    )


def test_compare_rates_are_wilson_and_or_is_the_cross_product():
    t = pd.DataFrame({"victim_sex": ["Female"] * 50 + ["Male"] * 40 + [None] * 5,
                      "referred": [True] * 30 + [False] * 20 + [True] * 10 + [False] * 30 + [None] * 5})
    c = C.compare(t, "referred", min_group=1)
    r = c.rates.set_index("level")
    lo, hi = proportion_confint(30, 50, method="wilson")
    assert (r.loc["Female", "lowercl"], r.loc["Female", "uppercl"]) == pytest.approx((100 * lo, 100 * hi))
    row = c.odds_ratios.iloc[0]
    assert row["unadjusted_or"] == pytest.approx((10 / 30) / (30 / 20))
    assert row["odds_ratio"] == pytest.approx((10 / 30) / (30 / 20), rel=1e-6)
    assert c.n == 90 and any("5 rows" in n for n in c.notes)


def test_compare_covers_a_planted_odds_ratio():
    rng = np.random.default_rng(6)
    sims, covered = 40, 0
    for _ in range(sims):
        c = C.compare(_victims(rng), "referred", by=["victim_sex", "victim_ethnicity", "victim_disability"])
        row = c.odds_ratios.set_index("level").loc["Black"]
        covered += row["lower"] < 0.5 < row["upper"]
    assert covered >= stats.binom.ppf(0.001, sims, 0.95)
    assert row["finding"] or row["q_value"] > 0.05


def test_compare_no_effect_flags_at_the_nominal_rate():
    """No group differs: comparisons reported as findings in no more than 5% of families (BH at 5%)."""
    rng = np.random.default_rng(7)
    sims, families_flagged = 100, 0
    for _ in range(sims):
        t = _victims(rng, n=1500, true_or=1.0).assign(referred=lambda d: rng.random(len(d)) < 0.6)
        c = C.compare(t, "referred", by=["victim_sex", "victim_ethnicity", "victim_disability"])
        families_flagged += bool(c.odds_ratios["finding"].any())
    assert families_flagged <= stats.binom.ppf(0.999, sims, 0.05)


def test_compare_uses_firth_when_a_group_separates():
    rng = np.random.default_rng(8)
    t = _victims(rng, n=800)
    t.loc[t["victim_ethnicity"] == "Black", "referred"] = False
    c = C.compare(t, "referred", by=["victim_sex", "victim_ethnicity"])
    row = c.odds_ratios.set_index("level").loc["Black"]
    assert np.isfinite(row[["odds_ratio", "lower", "upper"]].astype(float)).all()
    assert 0 < row["lower"] < row["odds_ratio"] < row["upper"] < 0.1
    assert row["model"].startswith("Firth")
    weighted = C.compare(t.assign(w=rng.uniform(0.5, 2, len(t))), "referred", by=["victim_sex", "victim_ethnicity"],
                         weights="w")
    row = weighted.odds_ratios.set_index("level").loc["Black"]
    assert 0 < row["lower"] < row["upper"] < 0.1 and "weights not used" in row["model"]


def test_compare_trend_and_weights():
    rng = np.random.default_rng(9)
    t = _victims(rng, n=4000)
    years = (t["date"] - t["date"].min()).dt.days / 365.25
    t["referred"] = rng.random(len(t)) < expit(0.5 + np.log(0.6) * years)
    c = C.compare(t, "referred", by=["victim_sex"], time="date", period="Q")
    overall = c.trend.set_index(["breakdown", "level"]).loc[("All", "All")]
    assert overall["lowercl"] < 0.6 < overall["uppercl"] and overall["periods"] == 8
    # Equal weights give the unweighted rates (Kish effective n = n).
    w = C.compare(t.assign(w=2.0), "referred", by=["victim_sex"], weights="w")
    pd.testing.assert_series_equal(w.rates["value"], c.rates["value"])
    assert "Kish" in w.rates["method"].iloc[0]
    ax = c.plot("victim_sex")
    assert len(ax.get_yticklabels()) == 2
    plt.close(ax.figure)


def test_compare_errors_in_words():
    with pytest.raises(KeyError, match="no outcome column 'missing'"):
        C.compare(pd.DataFrame({"a": [1]}), "missing")
    with pytest.raises(KeyError, match=r"no column\(s\) \['nope'\]"):
        C.compare(pd.DataFrame({"referred": [True]}), "referred", by=["nope"])


# --------------------------------------------------------------------------------------------------
# Binomial trend
# --------------------------------------------------------------------------------------------------


def test_binomial_trend_dispersion_is_pearson_over_df():
    x, n, t = np.array([30, 45, 38, 60, 41]), np.array([100, 110, 95, 120, 100]), np.arange(5.0)
    r = C.binomial_trend(x, n, t)
    fit = sm.GLM(np.column_stack([x, n - x]), sm.add_constant(t), family=sm.families.Binomial()).fit()
    mu = fit.fittedvalues
    x2 = np.sum((x - n * mu) ** 2 / (n * mu * (1 - mu)))
    assert r["pearson_dispersion"] == pytest.approx(x2 / 3)
    assert r["dispersion"] == pytest.approx(max(1, x2 / 3))
    assert r["odds_ratio_per_year"] == pytest.approx(np.exp(fit.params[1]))
    se = fit.bse[1] * np.sqrt(r["dispersion"])
    assert r["uppercl"] == pytest.approx(np.exp(fit.params[1] + stats.norm.ppf(0.975) * se))


# --------------------------------------------------------------------------------------------------
# Control charts
# --------------------------------------------------------------------------------------------------


def _rows(rng, shares, size):
    n = rng.poisson(size, len(shares))
    months = pd.period_range("2023-01", periods=len(shares), freq="M")
    x = rng.binomial(n, shares)
    place = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)  # each row's place within its month
    return pd.DataFrame({"month": np.repeat(months, n), "met": place < np.repeat(x, n)})


def _p_run(length, points, run):
    """P(a run of >= run equal signs somewhere in `points` fair coin flips), by dynamic programming."""
    state = np.zeros(run)  # probability of current run length 1..run-1 with no run yet (index = length)
    state[1] = 1.0
    for _ in range(points - 1):
        new = np.zeros(run)
        new[1] = state[1:].sum() * 0.5
        new[2:] = state[1:-1] * 0.5
        state = new
    return 1 - state.sum()


def _p_two_of_three(points):
    """P(two of three consecutive beyond 2 sigma on one side), iid normal points, by dynamic programming."""
    q = stats.norm.sf(2)
    probs = {"u": q, "d": q, "o": 1 - 2 * q}
    state = {(a, b): probs[a] * probs[b] for a in probs for b in probs if not (a == b and a != "o")}
    for _ in range(points - 2):
        new: dict = {}
        for (a, b), p in state.items():
            for c, pc in probs.items():
                if c != "o" and (a == c or b == c):
                    continue
                new[(b, c)] = new.get((b, c), 0) + p * pc
        state = new
    return 1 - sum(state.values())


def test_control_chart_in_control_signals_no_more_than_nominal():
    rng = np.random.default_rng(10)
    sims, months = 300, 24
    hits = {"beyond limits": 0, "run": 0, "2 of 3": 0}
    for _ in range(sims):
        c = C.control_chart(_rows(rng, np.full(months, 0.8), 200), "met", "month")
        for rule in hits:
            hits[rule] += bool((c.findings["rule"] == rule).any())
    nominal = {
        "beyond limits": 1 - (1 - 2 * stats.norm.sf(3)) ** months,
        "run": _p_run(8, months, 8),
        "2 of 3": _p_two_of_three(months),
    }
    for rule, p in nominal.items():
        assert hits[rule] <= stats.binom.ppf(0.999, sims, p), (rule, hits[rule], p)


def test_laney_allows_for_overdispersion():
    rng = np.random.default_rng(11)
    sims, plain, laney = 100, 0, 0
    for _ in range(sims):
        shares = expit(1.4 + rng.normal(0, 0.2, 24))  # the monthly rate wanders; no shift
        rows = _rows(rng, shares, 2000)
        plain += bool((C.control_chart(rows, "met", "month", laney=False).findings["rule"] == "beyond limits").any())
        c = C.control_chart(rows, "met", "month")
        laney += bool((c.findings["rule"] == "beyond limits").any())
    assert plain > 50
    assert laney <= stats.binom.ppf(0.999, sims, 1 - (1 - 2 * stats.norm.sf(3)) ** 24)
    assert c.sigma_z > 1


def test_control_chart_finds_a_four_month_fall():
    rng = np.random.default_rng(12)
    shares = np.full(24, 0.85)
    shares[12:16] = 0.60
    rows = _rows(rng, shares, 150)
    c = C.control_chart(rows, "met", "month")
    below = c.findings[(c.findings["rule"] == "beyond limits") & (c.findings["direction"] == "below")]
    assert set(below["start"]) <= {"2024-01", "2024-02", "2024-03", "2024-04"} and len(below) >= 3
    assert (c.table["signal"].iloc[12:16] != "").all()
    # With the first year as the baseline, nothing before the fall is beyond the limits.
    base = C.control_chart(rows, "met", "month", baseline=12)
    beyond = base.findings[base.findings["rule"] == "beyond limits"]
    assert set(beyond["start"]) == {"2024-01", "2024-02", "2024-03", "2024-04"}
    screened = C.control_chart(rows, "met", "month", screen=True)
    below = screened.findings[screened.findings["rule"] == "beyond limits"]
    assert set(below["start"]) == {"2024-01", "2024-02", "2024-03", "2024-04"}
    assert screened.sigma_z < c.sigma_z
    ax = c.plot()
    assert len(ax.collections) == 1  # the signals
    plt.close(ax.figure)


def test_control_chart_rules_by_hand():
    # Twelve months at 50 of 100 then eight at 56 of 100: a run of eight above the centre, none beyond limits.
    x = [50] * 12 + [56] * 8
    months = pd.period_range("2023-01", periods=20, freq="M")
    rows = pd.DataFrame({"month": np.repeat(months, 100),
                         "met": np.concatenate([np.arange(100) < k for k in x])})
    c = C.control_chart(rows, "met", "month", laney=False, baseline=12)
    assert c.centre == pytest.approx(50.0)
    run = c.findings[c.findings["rule"] == "run"]
    assert run[["start", "end", "periods", "direction"]].values.tolist() == [["2024-01", "2024-08", 8, "above"]]
    assert not (c.findings["rule"] == "beyond limits").any()
    # The 99.8% limits are z = 3.09 wide: 0.5 +/- 3.09 * 0.05.
    wide = C.control_chart(rows, "met", "month", limits="99.8%", laney=False, baseline=12)
    assert wide.table["upper"].iloc[0] == pytest.approx(100 * (0.5 + stats.norm.ppf(0.999) * 0.05))
