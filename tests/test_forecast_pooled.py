"""The seasonal-level member, pooled seasonal profiles and the calibration of yearly totals on the backtest.

Known answers: a profile recovered from series whose seasonal pattern is planted; interval widths of a local
level model against the formula for its h-step variance; held-out yearly totals covered at about the nominal
rate once calibrated, on simulated series whose sample paths are known to be too wide for totals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from victimneeds import forecast as F

PROFILE = 0.3 * np.sin(2 * np.pi * np.arange(12) / 12)  # January to December, mean 0


def _months(n: int, start: str = "2019-01") -> np.ndarray:
    return np.array([str(m) for m in pd.period_range(start, periods=n, freq="M")])


def test_pooled_profile_recovers_a_planted_seasonal_pattern():
    """Twelve small series (8 a month) share one seasonal pattern: the profile of their total is close to it
    (mean error within about one standard error, 0.1 / sqrt(3) on the log scale), and much closer than one
    small series' own profile."""
    rng = np.random.default_rng(3)
    months = _months(48)
    moy = np.array([int(m[5:7]) for m in months])
    ys = [rng.poisson(8 * np.exp(PROFILE[moy - 1])).astype(float) for _ in range(12)]
    pooled = F.seasonal_profile(np.sum(ys, axis=0), months)
    own = F.seasonal_profile(ys[0], months)
    assert np.mean(np.abs(pooled - PROFILE)) < 0.06
    assert np.mean(np.abs(pooled - PROFILE)) < 0.5 * np.mean(np.abs(own - PROFILE))


def test_seasonal_level_intervals_match_the_local_level_variance():
    """On a local level model (random walk with step variance q plus noise r, log scale), the h-month-ahead
    80% interval has width 2 z sqrt(v_level + q h + r), with v_level = r/k + q (k-1)(2k-1)/(6k) the error of
    the mean of the last k months as the current level (Harvey 1989, section 2.3). Without the random walk
    the width at 12 months would be 35% short."""
    rng = np.random.default_rng(7)
    n, q, r, k = 600, 0.02**2, 0.05**2, F.LEVEL_MONTHS
    ly = 5 + np.cumsum(rng.normal(0, np.sqrt(q), n)) + rng.normal(0, np.sqrt(r), n)
    _, ints, _, _ = F._run("seasonal_level", np.expm1(ly), _months(n, "1970-01"), 12, (0.8,), False)
    width = np.log1p(ints[0.8][1]) - np.log1p(ints[0.8][0])
    h = np.arange(1, 13)
    theory = 2 * 1.2815516 * np.sqrt(r / k + q * (k - 1) * (2 * k - 1) / (6 * k) + q * h + r)
    assert np.all(np.abs(width / theory - 1) < 0.25)


def test_seasonal_level_forecast_is_level_plus_profile(monkeypatch):
    """A series that is exactly a level times a seasonal pattern is forecast exactly (the profile not shrunk by
    the Poisson noise such counts would have)."""
    monkeypatch.setattr(F.methods, "PROFILE_SHRINK", False)
    months = _months(36)
    moy = np.array([int(m[5:7]) for m in months])
    y = np.expm1(4 + PROFILE[moy - 1])
    mean, _, _, _ = F._run("seasonal_level", y, months, 12, (0.8,), False)
    assert np.allclose(np.log1p(mean), 4 + PROFILE, atol=1e-9)


def test_season_keys_pool_only_months_up_to_the_series_own_end():
    """With ``season_keys`` a district's profile is its crime group's total over districts, cut at the
    district's last month: what another district records later cannot change the forecast (no peeking), while
    its earlier months do."""
    rng = np.random.default_rng(1)
    months = pd.period_range("2019-01", periods=40, freq="M")
    moy = months.month.to_numpy()
    a = pd.DataFrame({"district": "A", "group": "X", "month": months[:34]})
    a["count"] = rng.poisson(6 * np.exp(PROFILE[moy[:34] - 1])).astype(float)
    b = pd.DataFrame({"district": "B", "group": "X", "month": months})
    b["count"] = rng.poisson(30 * np.exp(PROFILE[moy - 1])).astype(float)

    def fc_a(other: pd.DataFrame) -> np.ndarray:
        fc = F.forecast(
            pd.concat([a, other]), horizon=12, keys=["district", "group"], method="seasonal_level", origins=0,
            season_keys=["group"],
        )
        return fc.table.loc[fc.table["district"] == "A", "mean"].to_numpy()

    later = b.copy()
    later.loc[later["month"] > months[33], "count"] *= 5
    earlier = b.copy()
    earlier.loc[earlier["month"] <= months[12], "count"] *= 3
    assert np.allclose(fc_a(b), fc_a(later))
    assert not np.allclose(fc_a(b), fc_a(earlier))
    with pytest.raises(ValueError, match="season_keys"):
        F.forecast(a, horizon=3, keys=["district"], season_keys=["group"], origins=0)


def test_default_combination_includes_the_seasonal_level():
    assert F.COMBINATION == ("snaive", "naive", "sarimax", "seasonal_level")


def test_calibrated_yearly_totals_cover_at_the_nominal_rate(monkeypatch):
    """Stationary AR(1) log-rates: the naive method's random-walk paths make 12-month totals far too wide
    (about every held-out total inside the '80%' range). The covariance of the backtest windows' h-step errors
    (pooled over series) brings held-out coverage to about 80% and 95%; without it coverage is ~100%."""
    monkeypatch.setattr(F, "N_PATHS", 300)
    rng = np.random.default_rng(1)
    n, k = 48, 60
    rows = []
    for i in range(k):
        u = np.zeros(n)
        u[0] = rng.normal(0, 0.1)
        for t in range(1, n):
            u[t] = 0.8 * u[t - 1] + rng.normal(0, 0.06)
        rows.append(pd.DataFrame({"s": i, "month": pd.period_range("2018-01", periods=n, freq="M")}))
        rows[-1]["count"] = rng.poisson(200 * np.exp(u)).astype(float)
    d = pd.concat(rows)
    last = d["month"].max()
    train, test = d[d["month"] <= last - 12], d[d["month"] > last - 12]
    total = test.groupby("s")["count"].sum().rename("total")
    cover = {}
    for calibrate in (False, True):
        fc = F.forecast(
            train, horizon=12, keys=["s"], method="naive", methods=("naive",), origins=3, calibrate=calibrate
        )
        yr = fc.yearly().set_index("s").join(total)
        cover[calibrate] = [((yr["total"] >= yr[f"lower_{p}"]) & (yr["total"] <= yr[f"upper_{p}"])).mean()
                            for p in (80, 95)]
        if calibrate:
            assert set(fc.total_calibration) == {0.8, 0.95}
            assert all(v < 1 for v in fc.total_calibration.values())
            assert yr["interval"].str.contains("calibrated on the backtest").all()
    assert cover[False][0] > 0.95  # the uncalibrated ranges are far too wide
    assert 0.65 <= cover[True][0] <= 0.92
    assert 0.85 <= cover[True][1] <= 1.0


def test_gap_tolerant_profile_recovered_across_lockdown_gaps():
    """28 months from 2019-08 with England's lockdown months missing (as the forecasts treat them): no 13-month
    window is complete, so the classical decomposition (the default) finds no seasonal pattern at all (every
    month 0). The gap-tolerant variant (7 of 13 months known) recovers the planted profile (amplitude 0.3 on the
    log scale) for the calendar months it can reach, within 0.05 (noise-free series with a gentle trend; the
    months it cannot reach keep their seasonal effect inside the moving average, a small bias)."""
    months = _months(28, "2019-08")
    moy = np.array([int(m[5:7]) for m in months])
    y = np.expm1(6 + 0.004 * np.arange(28) + PROFILE[moy - 1])
    y[np.isin(months, F.LOCKDOWN_MONTHS)] = np.nan
    assert np.all(F.seasonal_profile(y, months) == 0)
    prof = F.seasonal_profile(y, months, min_known=7)
    reached = prof != 0
    assert reached.sum() >= 6
    # the planted profile, centred over the months reached, as the estimate is
    truth = PROFILE[reached] - PROFILE[reached].mean()
    assert np.max(np.abs(prof[reached] - truth)) < 0.05


def test_gap_tolerant_profile_is_the_classical_one_without_gaps():
    """With every month known the alternating passes change nothing: the same profile as the classical
    decomposition (the 2x12 moving average of a seasonal pattern is 0)."""
    rng = np.random.default_rng(5)
    months = _months(40)
    moy = np.array([int(m[5:7]) for m in months])
    y = rng.poisson(50 * np.exp(PROFILE[moy - 1] + 0.01 * np.arange(40))).astype(float)
    assert np.allclose(F.seasonal_profile(y, months, min_known=7), F.seasonal_profile(y, months), atol=1e-12)


def test_profile_shrunk_by_its_poisson_noise():
    """B = max(0, 1 - (1 / mu) / s2): a profile of +-0.2 (s2 = 0.04) from counts averaging 50 (noise 0.02) is
    halved; from 10 (noise 0.1) it is flat; from 10,000 it is nearly untouched; months at 0 (not reached) stay 0
    and do not count in s2."""
    prof = np.r_[np.tile([0.2, -0.2], 5), 0.0, 0.0]
    assert np.allclose(F.methods._shrink_profile(prof, 50.0), prof / 2)
    assert np.all(F.methods._shrink_profile(prof, 10.0) == 0)
    assert np.allclose(F.methods._shrink_profile(prof, 10_000.0), prof * (1 - 1e-4 / 0.04))


def test_seasonal_level_uses_the_shrunk_gap_tolerant_profile():
    """A district-sized series (mean 20 a month) over 2019-08..2021-11 with the lockdown months: its forecast's
    seasonal swing is the gap-tolerant profile shrunk by B = 1 - (1 / mean) / s2, computed by hand here."""
    rng = np.random.default_rng(8)
    months = _months(28, "2019-08")
    moy = np.array([int(m[5:7]) for m in months])
    y = rng.poisson(20 * np.exp(PROFILE[moy - 1])).astype(float)
    mean, _, _, _ = F._run("seasonal_level", y, months, 12, (0.8,), True)
    yl = F._without_lockdown(y, months, True)
    prof = F.seasonal_profile(yl, months, min_known=7)
    b = max(0.0, 1 - (1 / np.nanmean(yl)) / np.mean(prof[prof != 0] ** 2))
    fut = (moy[-1] + np.arange(1, 13) - 1) % 12
    swing = np.log1p(mean) - np.log1p(mean).mean()
    assert np.allclose(swing, b * (prof[fut] - prof[fut].mean()), atol=1e-9)
