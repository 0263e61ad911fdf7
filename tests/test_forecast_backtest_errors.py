"""Yearly ranges from the covariance of the backtest's h-step errors (victimneeds.forecast).

Known answers: the variance and lag correlations of standardised errors drawn from a Gaussian AR(1); the factor
for a total of months whose errors are independent, perfectly correlated or twice as spread as the paths assume
(hand calculation, sqrt(12) and 2); the Student t inflation for few windows (t table). Held-out coverage on
simulated series when a force has too few series for the conformal factor of totals used before (it needed 20
windows, so a force's 12 series with one backtest window each kept ranges that held every true total).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from victimneeds import forecast as F

H = 12


def _normal_paths(sd: float, months: int, n: int = 4000, seed: int = 0) -> np.ndarray:
    """Independent months, each log(1 + y) normal with mean 5 and standard deviation ``sd``."""
    rng = np.random.default_rng(seed)
    return np.expm1(5 + sd * rng.standard_normal((n, months)))


def test_window_z_is_the_error_in_path_standard_deviations_and_skips_flagged_months():
    """Paths whose log(1 + y) has median 5 and standard deviation 0.1: a month recorded at expm1(5.2) is 2
    standard deviations high; a flagged (lockdown) month and a missing month give no error."""
    paths = _normal_paths(0.1, 3, n=20000)
    z = F._window_z(np.array([np.expm1(5.2), np.expm1(4.9), np.nan]), paths)
    assert abs(z[0] - 2) < 0.05 and abs(z[1] + 1) < 0.05 and np.isnan(z[2])
    z = F._window_z(np.array([np.expm1(5.2), np.expm1(4.9), 100.0]), paths, skip=np.array([True, False, False]))
    assert np.isnan(z[0]) and np.isfinite(z[1:]).all()


def test_error_model_recovers_the_variance_and_lag_correlations_of_ar1_errors():
    """Standardised errors from a stationary Gaussian AR(1) (variance 2.25, lag-one correlation 0.6): the
    pooled variance ratio is 2.25 and the correlation at lag d is 0.6^d, also from windows cut short and with
    gaps (every pair of months seen counts)."""
    rng = np.random.default_rng(2)
    phi, var = 0.6, 2.25
    wins = []
    for i in range(1500):
        e = np.empty(H)
        e[0] = rng.normal(0, np.sqrt(var))
        for t in range(1, H):
            e[t] = phi * e[t - 1] + rng.normal(0, np.sqrt(var * (1 - phi**2)))
        if i % 3 == 0:
            e = e[: 6 + i % 6]  # short windows at the end of a series
        elif i % 3 == 1:
            e[rng.integers(0, H)] = np.nan  # a gap
        wins.append(e)
    model = F._error_model(wins)
    assert model["windows"] == 1500
    assert np.all(np.abs(model["v"] / var - 1) < 0.1)
    assert np.all(np.abs(model["r"][1:4] - phi ** np.arange(1, 4)) < 0.05)
    assert model["r"][0] == 1


def test_error_model_needs_a_few_errors():
    assert F._error_model([]) is None
    assert F._error_model([np.array([0.5, np.nan]), np.array([1.0])]) is None


def test_total_factor_known_answers():
    """Paths with independent months (standard deviation 0.05 each on the log scale): their 12-month total has
    a log standard deviation of about 0.05 / sqrt(12). If the true errors are independent with that spread the
    factor is 1; if they are perfectly correlated it is sqrt(12) = 3.46; if independent and twice as spread, 2.
    With 5 windows the 80% factor grows by t_4(0.9) / z(0.9) = 1.533 / 1.2816 = 1.196 (t table)."""
    paths = _normal_paths(0.05, H)
    pos = np.arange(H)
    many = 10**9
    indep = dict(v=np.ones(H), r=np.r_[1.0, np.zeros(H - 1)], windows=many)
    shared = dict(v=np.ones(H), r=np.ones(H), windows=many)
    wide = dict(v=np.full(H, 4.0), r=np.r_[1.0, np.zeros(H - 1)], windows=many)
    assert abs(F._total_factor(indep, paths, pos, 0.8) - 1) < 0.05
    assert abs(F._total_factor(shared, paths, pos, 0.8) / np.sqrt(12) - 1) < 0.05
    assert abs(F._total_factor(wide, paths, pos, 0.8) - 2) < 0.1
    few = dict(indep, windows=5)
    ratio = F._total_factor(few, paths, pos, 0.8) / F._total_factor(indep, paths, pos, 0.8)
    assert abs(ratio - 1.533 / 1.2816) < 1e-3
    # horizons beyond those estimated take the last variance and correlation (year 2 of a 24-month forecast)
    short = dict(v=np.ones(3), r=np.array([1.0, 1.0, 1.0]), windows=many)
    assert abs(F._total_factor(short, paths, pos + 12, 0.8) / np.sqrt(12) - 1) < 0.05


def _ar1_force(rng: np.random.Generator, n_series: int, n: int) -> pd.DataFrame:
    """Stationary AR(1) log-rates (0.8, innovations 0.06) with Poisson counts around 200."""
    rows = []
    for i in range(n_series):
        u = np.zeros(n)
        u[0] = rng.normal(0, 0.1)
        for t in range(1, n):
            u[t] = 0.8 * u[t - 1] + rng.normal(0, 0.06)
        f = pd.DataFrame({"s": i, "month": pd.period_range("2018-01", periods=n, freq="M")})
        f["count"] = rng.poisson(200 * np.exp(u)).astype(float)
        rows.append(f)
    return pd.concat(rows)


def test_yearly_ranges_calibrated_for_a_force_with_few_series(monkeypatch):
    """Twelve series of 30 months (one backtest window each, 12 in all): the conformal factor of totals used
    before needed 20 windows, so the naive method's random-walk paths set the ranges and the '80%' range held
    every true total. The covariance of the windows' h-step errors brings held-out coverage (6 simulated forces)
    to about 80% and 95%."""
    monkeypatch.setattr(F, "N_PATHS", 300)
    rng = np.random.default_rng(11)
    cover = {False: [], True: []}
    for _ in range(6):
        d = _ar1_force(rng, 12, 30 + H)
        last = d["month"].max()
        train, test = d[d["month"] <= last - H], d[d["month"] > last - H]
        total = test.groupby("s")["count"].sum().rename("total")
        for calibrate in (False, True):
            fc = F.forecast(train, horizon=H, keys=["s"], method="naive", methods=("naive",), calibrate=calibrate)
            yr = fc.yearly().set_index("s").join(total)
            cover[calibrate].append(
                [((yr["total"] >= yr[f"lower_{p}"]) & (yr["total"] <= yr[f"upper_{p}"])).to_numpy() for p in (80, 95)]
            )
    raw = np.mean([c[0] for c in cover[False]])
    c80 = np.mean([c[0] for c in cover[True]])
    c95 = np.mean([c[1] for c in cover[True]])
    assert raw > 0.95
    assert 0.68 <= c80 <= 0.9, c80
    assert 0.88 <= c95 <= 1.0, c95
    assert getattr(fc, "backtest_errors", None) is not None and fc.backtest_errors["windows"] == 12
    assert yr["interval"].str.contains("calibrated on the backtest").all()


def test_scenario_financial_years_keep_the_yearly_calibration():
    """A scenario that changes nothing gives the forecast's own financial-year ranges, calibrated alike."""
    rng = np.random.default_rng(4)
    d = _ar1_force(rng, 3, 40)
    fc = F.forecast(d, horizon=14, keys=["s"], method="naive", methods=("naive",))
    assert fc.backtest_errors is not None
    sc = F.scenario(fc)
    cols = ["mean", "lower_80", "upper_80", "lower_95", "upper_95"]
    a, b = fc.financial_years(), sc.financial_years()
    assert np.allclose(a[cols].to_numpy(), b[cols].to_numpy())
    assert (b["interval"].str.contains("calibrated on the backtest")).all()


def test_month_factor_is_the_root_variance_ratio_by_horizon_and_side():
    """Errors twice as spread as the paths at horizon 1 and as spread at horizon 2: factors 2 and 1; beyond the
    horizons estimated the last carries on; a level's own variances take precedence; kept within [0.25, 4];
    the lower and upper half-widths take their own side's ratio."""
    one = np.array([4.0, 1.0])
    model = dict(v=one, up=one, down=one, r=np.ones(2), windows=10**9)
    lo, hi = F._month_factor(model, np.array([0, 1, 5]), 0.8)
    assert np.allclose(lo, [2.0, 1.0, 1.0], atol=1e-6) and np.allclose(hi, lo)
    model["levels"] = {0.95: dict(v=one, up=np.array([100.0, 1.0]), down=np.array([0.0001, 1.0]))}
    lo, hi = F._month_factor(model, np.array([0, 1]), 0.95)
    assert np.allclose(lo, [0.25, 1.0], atol=1e-6) and np.allclose(hi, [4.0, 1.0], atol=1e-6)


def test_error_model_semivariances_follow_the_side_missed():
    """Errors all above the median (z = 1 every month): the upper ratio is 2 (one side holds all the squared
    error, counted over half the months), the lower 0, the two-sided 1."""
    model = F._error_model([np.ones(H)] * 10)
    assert np.allclose(model["up"], 2) and np.allclose(model["down"], 0) and np.allclose(model["v"], 1)


def test_window_z_by_level_reads_the_interval_on_the_error_side():
    """Paths whose log(1 + y) is normal (sd 0.1): measured by the 95% interval, an error of +0.196 is 1.96
    standard deviations, as by the 15.9-84.1% range; skewed paths (upper half twice as spread) give an error
    above the median half the standardised size of the same error below it."""
    paths = _normal_paths(0.1, 1, n=40000)
    z = F._window_z(np.array([np.expm1(5.196)]), paths, level=0.95)
    assert abs(z[0] - 1.96) < 0.05
    rng = np.random.default_rng(1)
    e = rng.standard_normal(40000)
    skewed = np.expm1(5 + 0.1 * np.where(e > 0, 2 * e, e))[:, None]
    up = F._window_z(np.array([np.expm1(5.2)]), skewed, level=0.8)
    down = F._window_z(np.array([np.expm1(4.8)]), skewed, level=0.8)
    assert abs(up[0] / down[0] + 0.5) < 0.03


def test_monthly_intervals_calibrated_with_one_backtest_origin():
    """Independent negative binomial months (mean 80, size 30), 30 months each (one backtest window): the naive
    method's random-walk intervals hold nearly every held-out month. Before, monthly intervals were calibrated
    only when every series had 3 backtest origins, so they stayed that wide; the per-horizon factors from the
    one window per series bring coverage to about 80% and 95%."""
    rng = np.random.default_rng(21)
    months = pd.period_range("2019-01", periods=30 + H, freq="M")
    d = pd.concat(
        [
            pd.DataFrame({"s": s, "month": months, "count": rng.negative_binomial(30, 30 / 110, 30 + H).astype(float)})
            for s in range(40)
        ]
    )
    train, test = d[d["month"] <= months[29]], d[d["month"] > months[29]]
    cover = {}
    for cal in (False, True):
        fc = F.forecast(train, horizon=H, keys=["s"], method="naive", methods=("naive",), calibrate=cal, lockdown=False)
        m = fc.table.merge(test, on=["s", "month"])
        cover[cal] = [((m["count"] >= m[f"lower_{p}"]) & (m["count"] <= m[f"upper_{p}"])).mean() for p in (80, 95)]
    assert cover[False][0] > 0.9
    assert 0.72 <= cover[True][0] <= 0.88, cover[True]
    assert 0.9 <= cover[True][1] <= 0.99, cover[True]
