"""Tests for the semiparametric (Pareto-tail) bootstrap-t intervals of equity.inequality (issue 15).

Each component is checked against an independent calculation (scipy's Pareto maximum likelihood fit, a large
quantile-grid sample, the scalar index functions), and a small seeded coverage check shows the intervals now
cover where the plain bootstrap-t did not. The full calibration table is bench/calibration_inequality.py.
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from victimneeds import equity as eq

# the module, not ``eq.inequality``: when pytest imports this module first for its doctests (--import-mode=importlib),
# the package attribute ``victimneeds.equity.inequality`` is the module rather than the function
ineq = importlib.import_module("victimneeds.equity.inequality")


def test_tail_index_is_the_corrected_pareto_maximum_likelihood_estimate():
    """Hill's estimate is scipy's Pareto MLE of the exceedance ratios y / y0; ours multiplies it by (k - 1) / k."""
    rng = np.random.default_rng(7)
    y = rng.lognormal(0, 1, 64)
    y0, alpha, top = ineq._pareto_tail(y)
    k = 8  # round(sqrt(64))
    ys = np.sort(y)
    assert top.sum() == k and set(y[top]) == set(ys[-k:]) and y0 == ys[-k - 1]
    b, _, _ = stats.pareto.fit(ys[-k:] / y0, floc=0, fscale=1)
    assert alpha == pytest.approx(b * (k - 1) / k, rel=1e-6)
    # weights: integer weights act as repeated exceedances in the (weighted) Hill estimate
    w = np.ones(64)
    w[top] = np.arange(1, k + 1)
    _, alpha_w, _ = ineq._pareto_tail(y, w)
    repeated = np.repeat(y[top], w[top].astype(int)) / y0
    b_w, _, _ = stats.pareto.fit(repeated, floc=0, fscale=1)
    assert alpha_w == pytest.approx(b_w * (k - 1) / k, rel=1e-6)
    # top values all at the threshold: an infinite index (the tail is a point mass); a zero threshold: none
    assert ineq._pareto_tail([1.0] * 12)[1] == np.inf
    assert np.isnan(ineq._pareto_tail([0.0] * 10 + [1.0, 2.0], k=3)[1])


@pytest.mark.parametrize("alpha", [2.0, 3.5, np.inf])
def test_semiparametric_population_indices_match_a_fine_quantile_grid(alpha):
    """Closed-form Gini and Theil of 'empirical below, Pareto above' against the same mixture written out as a
    large sample (each lower unit repeated M w_i times, the tail as M sum_top(w) Pareto quantiles)."""
    rng = np.random.default_rng(2)
    y, w = rng.lognormal(0, 0.7, 30), rng.integers(1, 4, 30).astype(float)
    y0, _, top = ineq._pareto_tail(y, w, k=5)
    g, t = ineq._tail_population(y, w, top, y0, alpha)
    m = 4000
    lower = np.repeat(y[~top], (m * w[~top]).astype(int))
    cells = int(m * w[top].sum())
    p = (np.arange(cells) + 0.5) / cells
    tail = y0 * (1 - p) ** (-1 / alpha) if np.isfinite(alpha) else np.full(cells, y0)
    big = np.concatenate([lower, tail])
    # the grid truncates the Pareto tail beyond its last cell, which matters most at alpha = 2 (the gap halves as
    # M quadruples: 7e-4, 3.6e-4, 1.8e-4 for the Gini at M = 1000, 4000, 16000), least for the point mass
    gini_tol, theil_tol = (1e-3, 6e-3) if alpha == 2.0 else (1e-4, 3e-4)
    assert g == pytest.approx(eq.gini(big), abs=gini_tol)
    assert t == pytest.approx(eq.theil(big), abs=theil_tol)
    # a pure Pareto population (no lower part carries weight): Gini 1 / (2 alpha - 1), Theil
    # 1 / (alpha - 1) - ln(alpha / (alpha - 1)) (Cowell 2011, ch. 4)
    if np.isfinite(alpha):
        w0 = np.r_[np.zeros(25), np.ones(5)]
        y1 = np.r_[np.linspace(0.5, 1.0, 25), np.linspace(2, 3, 5)]
        g1, t1 = ineq._tail_population(y1, w0, w0 > 0, 1.0, alpha)
        assert g1 == pytest.approx(1 / (2 * alpha - 1))
        assert t1 == pytest.approx(1 / (alpha - 1) - math.log(alpha / (alpha - 1)))


def test_vectorised_resample_indices_equal_the_scalar_functions():
    rng = np.random.default_rng(4)
    y, w = rng.lognormal(0, 0.9, (6, 40)), rng.uniform(0.5, 3, (6, 40))
    y[0, :3] = 0.0  # zeros are allowed
    strata = np.tile(np.arange(40) % 4, (6, 1))
    rows = ineq._rows_gini_theil(y, w, strata)
    for i in range(6):
        assert rows["Gini"][i] == pytest.approx(eq.gini(y[i], w[i]), abs=1e-10)
        assert rows["Theil"][i] == pytest.approx(eq.theil(y[i], w[i]), abs=1e-10)
        se_g = ineq._influence_se(ineq._influence_gini(y[i], w[i]), w[i], strata[i])
        se_t = ineq._influence_se(ineq._influence_theil(y[i], w[i]), w[i], strata[i])
        assert rows["Gini se"][i] == pytest.approx(se_g, rel=1e-9)
        assert rows["Theil se"][i] == pytest.approx(se_t, rel=1e-9)


def test_semiparametric_intervals_cover_lognormal_samples_of_thirty():
    """Lognormal(0, 1) samples of 30 units (Gini erf(1/2), Theil 1/2; Cowell 2011, ch. 4), 200 samples.

    On these samples the plain bootstrap-t (the pack's interval before issue 15) covered the Gini 168 and the
    Theil 153 times (84% and 76.5%); bench/calibration_inequality.py puts the semiparametric bootstrap-t at
    93-95% in this cell (400 samples). The bar, 180 of 200 (90%), is 2.5 binomial standard deviations (1.7
    points at 94%) below that, and above what the plain bootstrap-t reaches here.
    """
    truth = {"Gini": math.erf(0.5), "Theil": 0.5}
    rng = np.random.default_rng(15)
    hits = {(k, m): 0 for k in truth for m in ("bootstrap-t", "studentized")}
    for i in range(200):
        t = pd.DataFrame({"y": rng.lognormal(0, 1, 30)})
        for m in ("bootstrap-t", "studentized"):
            out = ineq.inequality(t, "y", n_boot=199, seed=i, interval=m).set_index("statistic")
            for k, v in truth.items():
                hits[(k, m)] += out.loc[k, "lowercl"] <= v <= out.loc[k, "uppercl"]
    assert hits[("Gini", "studentized")] >= 180 and hits[("Theil", "studentized")] >= 180, hits
    assert hits[("Gini", "bootstrap-t")] < 180 and hits[("Theil", "bootstrap-t")] < 180, hits
    # not by giving up: an interval that always covered would be too wide
    assert hits[("Gini", "studentized")] < 200 and hits[("Theil", "studentized")] < 200, hits


def test_weights_strata_and_the_fallback_without_a_tail():
    rng = np.random.default_rng(9)
    n = 90
    t = pd.DataFrame({"y": rng.lognormal(0, 0.5, n), "w": rng.uniform(0.5, 3, n), "g": np.arange(n) % 6,
                      "r": rng.normal(size=n)})
    out = ineq.inequality(t, "y", "w", rank_by="r", group="g", n_boot=200, interval="studentized")
    bca = ineq.inequality(t, "y", "w", rank_by="r", group="g", n_boot=200, interval="bca")
    assert out[["lowercl", "uppercl"]].notna().all().all()
    assert (out["lowercl"] <= out["value"] + 1e-4).all() and (out["value"] <= out["uppercl"] + 1e-4).all()
    assert "units within g" in out["method"].iloc[0] and "Pareto tail" in out["method"].iloc[0]
    # the other statistics keep their BCa intervals from the same resamples
    others = ~out["statistic"].isin(["Gini", "Theil"])
    pd.testing.assert_frame_equal(out.loc[others, ["lowercl", "uppercl"]], bca.loc[others, ["lowercl", "uppercl"]])
    # most units at zero: the tail's threshold is zero, so no Pareto tail, and the method says so
    z = pd.DataFrame({"y": np.r_[np.zeros(20), rng.lognormal(0, 1, 3)]})
    zo = ineq.inequality(z, "y", n_boot=100, interval="studentized")
    assert "no Pareto tail" in zo["method"].iloc[0]
    with pytest.raises(ValueError, match="'bootstrap-t'"):
        ineq.inequality(t, "y", interval="normal")
