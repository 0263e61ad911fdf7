"""Interval calibration of victimneeds.forecast: seeded simulations with known truth.

Each test simulates series from a known data-generating process, forecasts them, and counts how often the
held-out truth falls inside the intervals. The expected coverage is the nominal level, not a number copied
from our own output; thresholds leave room for simulation noise (the counts of series are small for speed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from victimneeds import forecast as F

H = 12


def _ets_truth(rng: np.random.Generator, n: int) -> np.ndarray:
    """ETS(A,Ad,N) on the log scale (alpha 0.3, beta 0.05, phi 0.9, sigma 0.08) plus fixed seasonality,
    with Poisson counts around exp(level)."""
    a, b, phi, sig = 0.3, 0.05, 0.9, 0.08
    level, trend = np.log(150), 0.005
    out = np.empty(n)
    for t in range(n):
        e = rng.normal(0, sig)
        mu = level + phi * trend
        out[t] = mu + e
        level, trend = mu + a * e, phi * trend + b * e
    out += 0.15 * np.sin(2 * np.pi * np.arange(n) / 12)
    return rng.poisson(np.exp(out)).astype(float)


def test_ets_monthly_intervals_near_nominal():
    """The old ETS intervals (normal on log1p with the in-sample MSE) covered 63% / 82% here."""
    rng = np.random.default_rng(1)
    months = pd.period_range("2016-01", periods=48 + H, freq="M").astype(str).to_numpy()
    c80, c95 = [], []
    for _ in range(60):
        y = _ets_truth(rng, 48 + H)
        _, ints, _, _ = F._ets(y[:48], months[:48], H, (0.8, 0.95), False)
        c80.append(np.mean((y[48:] >= ints[0.8][0]) & (y[48:] <= ints[0.8][1])))
        c95.append(np.mean((y[48:] >= ints[0.95][0]) & (y[48:] <= ints[0.95][1])))
    assert np.mean(c80) >= 0.70
    assert np.mean(c95) >= 0.87


def test_ets_error_variance_ignores_filled_lockdown_months():
    """Months set aside (lockdown) are interpolated for ETS; their near-zero errors must not shrink sigma."""
    rng = np.random.default_rng(3)
    months = pd.period_range("2018-01", periods=48, freq="M").astype(str).to_numpy()
    y = rng.poisson(200 * np.exp(rng.normal(0, 0.1, 48))).astype(float)
    _, with_ld, _, _ = F._ets(y, months, 1, (0.8,), True)
    _, without, _, _ = F._ets(y, months, 1, (0.8,), False)
    # dropping 7 of 48 months leaves the error variance about the same, not 15% smaller
    w1 = np.log1p(with_ld[0.8][1]) - np.log1p(with_ld[0.8][0])
    w0 = np.log1p(without[0.8][1]) - np.log1p(without[0.8][0])
    assert w1[0] >= 0.9 * w0[0]


def test_yearly_totals_cover_about_nominal():
    """Independent negative binomial months (mean 50, size 20): the 80% range of a 12-month total from the
    sample paths covers about 80% of true totals; the old sum of monthly limits covered nearly all."""
    rng = np.random.default_rng(5)
    months = pd.period_range("2019-01", periods=36 + H, freq="M")
    size, mu = 20.0, 50.0
    frames, truth = [], {}
    for s in range(120):
        y = rng.negative_binomial(size, size / (size + mu), 36 + H).astype(float)
        frames.append(pd.DataFrame({"s": s, "month": months[:36], "count": y[:36]}))
        truth[s] = y[36:].sum()
    fc = F.forecast(pd.concat(frames), horizon=H, keys=["s"], method="glm", origins=0, lockdown=False)
    yr = fc.yearly()
    assert {"s", "year_ahead", "period", "mean", "lower_80", "upper_80", "lower_95", "upper_95", "method"} <= set(
        yr.columns
    )
    t = yr["s"].map(truth)
    cover80 = ((yr["lower_80"] <= t) & (t <= yr["upper_80"])).mean()
    cover95 = ((yr["lower_95"] <= t) & (t <= yr["upper_95"])).mean()
    assert 0.68 <= cover80 <= 0.9
    assert 0.88 <= cover95 <= 0.99
    # the yearly range is narrower than the sum of monthly limits
    monthly = fc.table.groupby("s")[["lower_80", "upper_80"]].sum()
    assert (yr.set_index("s")["upper_80"] < monthly["upper_80"]).all()


def test_yearly_without_paths_sums_monthly_limits():
    t = pd.DataFrame(
        {
            "month": pd.period_range("2025-01", periods=12, freq="M"),
            "mean": 10.0,
            "lower_80": 8.0,
            "upper_80": 12.0,
            "method": "x",
        }
    )
    yr = F.ForecastResult(t, pd.DataFrame(), pd.DataFrame(), []).yearly()
    assert yr[["mean", "lower_80", "upper_80"]].iloc[0].tolist() == [120.0, 96.0, 144.0]


def test_glm_paths_share_the_coefficient_draw():
    """A path's months share one draw of the trend coefficients: with a steep uncertain trend, path totals
    vary more than independent months would allow."""
    rng = np.random.default_rng(9)
    months = pd.period_range("2020-01", periods=18, freq="M").astype(str).to_numpy()
    y = rng.poisson(100 * np.exp(0.03 * np.arange(18))).astype(float)
    _, _, _, paths = F._glm(y, months, 12, (0.8,), False)
    var_total = paths.sum(axis=1).var()
    assert var_total > 1.2 * paths.var(axis=0).sum()


def _iid_panel(seed: int, n_series: int, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Independent negative binomial months (mean 80, size 30): training and 12 held-out months per series."""
    rng = np.random.default_rng(seed)
    months = pd.period_range("2019-01", periods=n + H, freq="M")
    rows = [
        pd.DataFrame({"s": s, "month": months, "count": rng.negative_binomial(30, 30 / 110, n + H).astype(float)})
        for s in range(n_series)
    ]
    t = pd.concat(rows, ignore_index=True)
    return t[t["month"] <= months[n - 1]], t[t["month"] > months[n - 1]]


def test_conformal_calibration_brings_naive_intervals_to_nominal():
    """On independent months a random walk's intervals are far too wide (about 95% inside the 80% range);
    calibrating on the backtest, pooled over series, narrows them to about the nominal share."""
    train, test = _iid_panel(11, 40, 48)
    cover = {}
    for cal in (False, True):
        fc = F.forecast(
            train, horizon=H, keys=["s"], method="naive", methods=("naive",), origins=3, calibrate=cal, lockdown=False
        )
        m = fc.table.merge(test, on=["s", "month"])
        cover[cal] = (
            ((m["count"] >= m["lower_80"]) & (m["count"] <= m["upper_80"])).mean(),
            ((m["count"] >= m["lower_95"]) & (m["count"] <= m["upper_95"])).mean(),
        )
        if cal:
            assert fc.calibration[0.8] < 1 and any("calibrated" in n for n in fc.notes)
            yr = fc.yearly()
            assert (yr["interval"].str.contains("calibrated")).all()
    assert cover[False][0] > 0.9
    assert 0.72 <= cover[True][0] <= 0.88
    assert 0.9 <= cover[True][1] <= 0.99


def test_calibration_not_blocked_by_a_series_too_short_for_a_backtest():
    """A series first recorded late (10 months, no backtest origin) takes the factor pooled over the series
    that have a backtest; before, it switched calibration off for every series."""
    train, _ = _iid_panel(13, 4, 48)
    months = pd.period_range("2021-03", periods=10, freq="M")  # ends with the others (2022-12)
    short = pd.DataFrame({"s": 99, "month": months, "count": np.arange(10, 20, dtype=float)})
    kw = dict(horizon=H, keys=["s"], method="naive", methods=("naive",), origins=3, lockdown=False)
    alone = F.forecast(train, **kw)
    both = F.forecast(pd.concat([train, short], ignore_index=True), **kw)
    assert alone.calibration and both.calibration == alone.calibration
    raw = F.forecast(pd.concat([train, short], ignore_index=True), calibrate=False, **kw)
    got = both.table[both.table["s"] == 99]
    before = raw.table[raw.table["s"] == 99]
    # the short series' intervals changed by the pooled factor (narrower: naive is too wide on iid months)
    assert alone.calibration[0.8] < 1
    assert ((got["upper_80"] - got["lower_80"]).to_numpy() < (before["upper_80"] - before["lower_80"]).to_numpy()).all()


def test_combination_is_the_mean_of_its_members():
    train, _ = _iid_panel(12, 2, 36)
    fc = F.forecast(train, horizon=6, keys=["s"], method="combination", combination=("snaive", "naive"))
    means = [
        F.forecast(train, horizon=6, keys=["s"], method=m, origins=0).table["mean"].to_numpy()
        for m in ("snaive", "naive")
    ]
    assert np.allclose(fc.table["mean"].to_numpy(), np.mean(means, axis=0))
    assert "combination" in set(fc.backtest["method"])
    assert fc.table["method"].str.startswith("combination: mean of").all()
    assert fc.backtest.loc[fc.backtest["method"].isin(["snaive", "naive"]), "chosen"].all()


def test_financial_years_use_each_series_own_paths():
    """Series ending in different months: each total comes from that series' paths (a constant series has
    no spread; a year of a noisy random walk has the spread of a sum of cumulated shocks)."""
    rng = np.random.default_rng(2)
    a = pd.DataFrame({"g": "A", "month": pd.period_range("2022-01", periods=36, freq="M"), "count": 50.0})
    b = pd.DataFrame(
        {"g": "B", "month": pd.period_range("2022-03", periods=36, freq="M"), "count": 100 + rng.normal(0, 5, 36)}
    )
    fc = F.forecast(pd.concat([a, b]), horizon=24, keys=["g"], method="naive", origins=0)
    fy = fc.financial_years()
    assert fy["interval"].str.startswith("quantiles").all()
    fa = fy[fy["g"] == "A"]
    assert fa["financial_year"].tolist() == ["2024/25", "2025/26", "2026/27"]
    assert fa["months"].tolist() == [3, 12, 9]
    assert np.allclose(fa["lower_95"], fa["mean"]) and np.allclose(fa["upper_95"], fa["mean"])
    # B: a naive random walk with step sd sigma; months i, j ahead have error covariance sigma^2 min(i, j) >=
    # sigma^2, so a 12-month total has sd >= 12 sigma: its range is over 12 times the one-step range
    fb = fy[(fy["g"] == "B") & (fy["months"] == 12)].iloc[0]
    one = fc.table[fc.table["g"] == "B"].iloc[0]
    assert fb["upper_80"] - fb["lower_80"] > 12 * (one["upper_80"] - one["lower_80"])


def test_glm_intervals_allow_for_autocorrelated_months():
    """Log-rate AR(1) 0.6 deviations (sd 0.1 a month) around trend and season, Poisson counts, 40 months:
    the GLM's paths must carry the persistence. Treating months as independent NB draws gave 87% monthly
    coverage at 95% and 47% yearly coverage at 80% on these series."""
    rng = np.random.default_rng(1)
    n, rho = 40, 0.6
    months = pd.period_range("2019-01", periods=n + H, freq="M").astype(str).to_numpy()
    c95, y80 = [], []
    for _ in range(200):
        e = rng.normal(0, 0.1, n + H)
        u = np.empty(n + H)
        u[0] = e[0] / np.sqrt(1 - rho**2)
        for i in range(1, n + H):
            u[i] = rho * u[i - 1] + e[i]
        t = np.arange(n + H)
        y = rng.poisson(np.exp(np.log(200) + np.log(1.05) * t / 12 + 0.2 * np.sin(2 * np.pi * t / 12) + u))
        _, ints, _, paths = F._glm(y[:n].astype(float), months[:n], H, (0.8, 0.95), False)
        c95.append(np.mean((y[n:] >= ints[0.95][0]) & (y[n:] <= ints[0.95][1])))
        totals = paths.sum(axis=1)
        y80.append(np.quantile(totals, 0.1) <= y[n:].sum() <= np.quantile(totals, 0.9))
    assert np.mean(c95) >= 0.9
    assert 0.7 <= np.mean(y80) <= 0.9


def test_yearly_blocks_start_at_each_series_own_forecast_start():
    """Series ending in different months (a rare crime type with no recent rows): each series' first year
    ahead is its own 12 forecast months, not the 12 months after the earliest forecast month of all series
    (which split the later series' year in two, and made 12-month totals look badly covered)."""
    a = pd.DataFrame({"g": "A", "month": pd.period_range("2022-01", periods=36, freq="M"), "count": 50.0})
    b = pd.DataFrame({"g": "B", "month": pd.period_range("2022-01", periods=33, freq="M"), "count": 10.0})
    fc = F.forecast(pd.concat([a, b]), horizon=12, keys=["g"], method="naive", origins=0)
    yr = fc.yearly()
    assert yr["year_ahead"].tolist() == [1, 1]
    assert yr["months"].tolist() == [12, 12]
    assert yr["mean"].tolist() == [600.0, 120.0]
