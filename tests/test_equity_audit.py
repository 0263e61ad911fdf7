"""Audit fixes in victimneeds.equity.inequality (issue 15 item 5): honest bootstrap intervals.

* one unit per group: resampling within groups could not vary anything, and gave zero-width intervals;
* too few units, or a statistic that cannot vary: NaN limits with a note, never a zero-width interval;
* BCa (Efron 1987) in place of the percentile interval, checked against scipy.stats.bootstrap(method="BCa"),
  and a small coverage simulation (the full one is bench/calibration_inequality.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from victimneeds import equity as eq


def _one_unit_per_group(n=12, seed=3):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"y": rng.lognormal(0, 0.5, n), "w": rng.uniform(1, 3, n), "g": [f"D{i}" for i in range(n)],
         "r": rng.permutation(n).astype(float)}
    )


def test_one_unit_per_group_gives_intervals_of_positive_width():
    t = _one_unit_per_group()
    out = eq.inequality(t, "y", "w", rank_by="r", group="g", n_boot=200).set_index("statistic")
    # the old code resampled within groups of one: every resample was the data, every interval zero-width
    for k in ("Gini", "Theil", "Theil between groups", "Concentration index"):
        assert out.loc[k, "uppercl"] - out.loc[k, "lowercl"] > 0.01, k
    # the within-group Theil is 0 by construction with one unit a group: no interval, and a note saying why
    within = out.loc["Theil within groups"]
    assert within["value"] == 0 and np.isnan(within["lowercl"]) and np.isnan(within["uppercl"])
    assert "does not vary" in within["note"]
    assert "across g (12 of 12 groups hold one unit)" in out["method"].iloc[0]


def test_too_few_units_give_no_interval():
    t = _one_unit_per_group(n=5)
    out = eq.inequality(t, "y", "w", group="g", n_boot=200)
    assert out["lowercl"].isna().all() and out["uppercl"].isna().all()
    assert out["note"].str.contains("fewer than 10 units").all()
    assert out["value"].notna().all()


def test_equal_values_give_no_interval_rather_than_a_zero_width_one():
    t = pd.DataFrame({"y": [2.0] * 20})
    out = eq.inequality(t, "y", n_boot=100).set_index("statistic")
    assert out.loc["Gini", "value"] == 0 and np.isnan(out.loc["Gini", "lowercl"])


def test_groups_of_two_or_more_are_resampled_within_groups():
    rng = np.random.default_rng(5)
    t = pd.DataFrame({"y": rng.lognormal(0, 0.6, 30), "g": np.repeat(["a", "b", "c"], 10)})
    out = eq.inequality(t, "y", group="g", n_boot=200).set_index("statistic")
    assert "resamples of units within g" in out["method"].iloc[0]
    assert (out["uppercl"] > out["lowercl"]).all() and out["note"].eq("").all()


def test_bca_limits_match_scipy():
    # same replicates and the same jackknife: our BCa formula must give scipy's interval
    rng = np.random.default_rng(11)
    y = rng.lognormal(0, 1, 40)
    res = sps.bootstrap((y,), eq.gini, vectorized=False, method="BCa", n_resamples=999, rng=rng)
    jack = np.array([eq.gini(np.delete(y, i)) for i in range(len(y))])
    accel = eq._acceleration([jack])
    lo, hi, note = eq._bootstrap_limits(eq.gini(y), res.bootstrap_distribution, accel, 0.95, "bca")
    assert note == ""
    assert lo == pytest.approx(res.confidence_interval.low, rel=1e-9)
    assert hi == pytest.approx(res.confidence_interval.high, rel=1e-9)


def test_weighted_inequality_is_close_to_scipy_paired_bca():
    # paired resampling of unit indices, as scipy does for a statistic of (value, weight) pairs
    rng = np.random.default_rng(2)
    n = 50
    t = pd.DataFrame({"y": rng.lognormal(0, 0.7, n), "w": rng.uniform(0.5, 2.0, n)})
    ours = eq.inequality(t, "y", "w", n_boot=3000, seed=1).set_index("statistic").loc["Gini"]
    res = sps.bootstrap(
        (np.arange(n),), lambda i: eq.gini(t["y"].to_numpy()[i], t["w"].to_numpy()[i]), vectorized=False,
        method="BCa", n_resamples=3000, rng=np.random.default_rng(7),
    )
    # different random resamples: agreement to Monte Carlo error (about 0.005 here)
    assert ours["lowercl"] == pytest.approx(res.confidence_interval.low, abs=0.01)
    assert ours["uppercl"] == pytest.approx(res.confidence_interval.high, abs=0.01)


def test_bca_covers_more_often_than_the_percentile_interval():
    # 60 units drawn from a lognormal(0, 1): Gini = 2 Phi(1 / sqrt 2) - 1, Theil T = sigma^2 / 2 = 0.5
    # (Cowell 2011, Measuring Inequality, ch. 4). The same resamples serve both intervals (same seed).
    truth = {"Gini": 2 * sps.norm.cdf(1 / np.sqrt(2)) - 1, "Theil": 0.5}
    rng = np.random.default_rng(20240)
    reps = 100
    hits = {(k, m): 0 for k in truth for m in ("percentile", "bca")}
    for i in range(reps):
        t = pd.DataFrame({"y": rng.lognormal(0, 1, 60)})
        for m in ("percentile", "bca"):
            out = eq.inequality(t, "y", n_boot=300, seed=i, interval=m).set_index("statistic")
            for k, v in truth.items():
                hits[(k, m)] += out.loc[k, "lowercl"] <= v <= out.loc[k, "uppercl"]
    cover = {k: v / reps for k, v in hits.items()}
    for k in truth:
        assert cover[(k, "bca")] > cover[(k, "percentile")], cover
    assert cover[("Gini", "bca")] >= 0.85, cover
    assert cover[("Theil", "bca")] >= 0.78, cover
