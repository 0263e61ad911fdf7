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
