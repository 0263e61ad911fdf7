"""Tests for forecast reconciliation (bottom-up, MinT with shrinkage, WLS, OLS) in victimneeds.forecast.

Expected values are worked by hand: for a total T with two parts a and b, S = [[1, 1], [1, 0], [0, 1]],
S'S = [[2, 1], [1, 2]] and (S'S)^-1 = [[2, -1], [-1, 2]] / 3, so OLS gives the bottom forecasts
(T + 2a - b) / 3 and (T - a + 2b) / 3.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from victimneeds import forecast as F

S2 = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
MONTH = pd.PeriodIndex(["2025-01"], freq="M")


def _ols_by_hand(total: float, a: float, b: float) -> tuple[float, float, float]:
    ra = (total + 2 * a - b) / 3
    rb = (total - a + 2 * b) / 3
    return ra + rb, ra, rb


def _toy(total: float, a: float, b: float, resid: dict[str, list[float]] | None = None):
    """A bottom result with districts A and B and a base forecast of their total, one month ahead."""
    months = pd.period_range("2024-01", periods=4, freq="M")
    t = pd.DataFrame(
        {
            "district": ["A", "B"],
            "month": MONTH.repeat(2),
            "mean": [a, b],
            "lower_80": [0.5 * a, 0.5 * b],
            "upper_80": [1.5 * a, 1.5 * b],
            "method": "base",
        }
    )
    tt = pd.DataFrame(
        {"month": MONTH, "mean": [total], "lower_80": [0.5 * total], "upper_80": [1.5 * total], "method": "base"}
    )
    rb = rt = None
    if resid is not None:
        rb = pd.DataFrame(
            {
                "district": ["A"] * 4 + ["B"] * 4,
                "month": months.append(months),
                "residual": resid["A"] + resid["B"],
            }
        )
        rt = pd.DataFrame({"month": months, "residual": resid["total"]})
    bottom = F.ForecastResult(t, pd.DataFrame(), pd.DataFrame(), ["district"], residuals=rb)
    top = F.ForecastResult(tt, pd.DataFrame(), pd.DataFrame(), [], residuals=rt)
    return bottom, top


# orthogonal errors of equal size (columns of a Hadamard matrix): the shrinkage covariance is exactly I
HADAMARD = {"total": [1.0, 1.0, 1.0, 1.0], "A": [1.0, -1.0, 1.0, -1.0], "B": [1.0, 1.0, -1.0, -1.0]}


def test_mint_matrix_identity_equals_ols_by_hand():
    yhat = np.array([50.0, 20.0, 24.0])
    got = S2 @ F.mint_matrix(S2, np.eye(3)) @ yhat
    assert got == pytest.approx(_ols_by_hand(50.0, 20.0, 24.0), abs=1e-12)
    # and the textbook projection S (S'S)^-1 S', with the inverse written out by hand
    inv = np.array([[2.0, -1.0], [-1.0, 2.0]]) / 3
    assert got == pytest.approx(S2 @ inv @ S2.T @ yhat, abs=1e-12)


def test_mint_shrink_with_identity_covariance_is_ols():
    bottom, top = _toy(50.0, 20.0, 24.0, HADAMARD)
    W, lam = F.shrink_covariance(np.column_stack([HADAMARD["total"], HADAMARD["A"], HADAMARD["B"]]))
    assert W == pytest.approx(np.eye(3), abs=1e-12)
    rec = F.reconcile(bottom, method="mint_shrink", base=[top], confidence_levels=[80]).set_index("district")
    total, a, b = _ols_by_hand(50.0, 20.0, 24.0)
    assert rec.loc["A", "mean"] == pytest.approx(a, abs=1e-9)
    assert rec.loc["B", "mean"] == pytest.approx(b, abs=1e-9)
    assert rec.loc["All", "mean"] == pytest.approx(total, abs=1e-9)
    ols = F.reconcile(bottom, method="ols", base=[top], confidence_levels=[80]).set_index("district")
    assert ols["mean"].to_numpy() == pytest.approx(rec["mean"].to_numpy(), abs=1e-9)
    assert rec.loc["All", "base_mean"] == 50.0
    assert "MinT" in rec.loc["A", "method"] and rec.loc["A", "method"].startswith("base")


def test_wls_weights_by_error_variance():
    # errors of the total are 10 times the size of the parts': WLS leans on the parts (W = diag(100, 1, 1))
    resid = {"total": [10.0, -10.0, 10.0, -10.0], "A": [1.0, 1.0, -1.0, -1.0], "B": [1.0, -1.0, -1.0, 1.0]}
    bottom, top = _toy(50.0, 20.0, 24.0, resid)
    rec = F.reconcile(bottom, method="wls", base=[top], confidence_levels=[80]).set_index("district")
    W = np.diag([100.0, 1.0, 1.0])
    Wi = np.linalg.inv(W)
    expect = S2 @ np.linalg.inv(S2.T @ Wi @ S2) @ S2.T @ Wi @ np.array([50.0, 20.0, 24.0])
    assert rec.loc[["All", "A", "B"], "mean"].to_numpy() == pytest.approx(expect, abs=1e-9)
    # by hand: minimise (50 - ra - rb)^2 / 100 + (20 - ra)^2 + (24 - rb)^2; by symmetry each part moves by d
    # with d (1 + 2 / 100) = 6 / 100, d = 6 / 102, so the total (44 + 12 / 102) takes most of the gap of 6
    assert rec.loc["A", "mean"] == pytest.approx(20.0 + 6 / 102)
    assert rec.loc["All", "mean"] == pytest.approx(44.0 + 12 / 102)


def test_nonnegative_and_reaggregated():
    # OLS would give part B (0 - 10 + 0) / 3 < 0: it is set to 0 and the total re-summed
    bottom, top = _toy(0.0, 10.0, 0.0)
    rec = F.reconcile(bottom, method="ols", base=[top], confidence_levels=[80]).set_index("district")
    assert rec.loc["B", "mean"] == 0.0
    assert rec.loc["A", "mean"] == pytest.approx(20 / 3)
    assert rec.loc["All", "mean"] == pytest.approx(20 / 3)
    assert (rec[["mean", "lower_80", "upper_80"]] >= 0).all().all()
    # the total's base mean was 0: its interval is shifted by the reconciled mean
    assert rec.loc["All", "lower_80"] == pytest.approx(20 / 3)


def test_intervals_scale_with_mean():
    bottom, top = _toy(50.0, 20.0, 24.0)
    rec = F.reconcile(bottom, method="ols", base=[top], confidence_levels=[80]).set_index("district")
    ratio = rec["mean"] / rec["base_mean"]
    assert rec.loc["A", "lower_80"] == pytest.approx(10.0 * ratio["A"])
    assert rec.loc["All", "upper_80"] == pytest.approx(75.0 * ratio["All"])


def test_shrinkage_lambda_by_hand():
    e = np.array([[1.0, 2.0, 0.0], [-2.0, -1.0, 1.0], [0.5, 1.0, -1.0], [1.5, 0.0, 2.0], [-1.0, -2.0, 0.5]])
    n, p = e.shape
    # Schafer & Strimmer (2005) with uncentred moments, written out with loops
    sd = np.sqrt((e**2).mean(axis=0))
    xs = e / sd
    num = den = 0.0
    for i in range(p):
        for j in range(p):
            if i == j:
                continue
            w = xs[:, i] * xs[:, j]
            r = w.mean()
            num += ((w - r) ** 2).sum() / (n * (n - 1))
            den += r**2
    lam = min(max(num / den, 0.0), 1.0)
    R = (xs.T @ xs) / n
    expect = ((1 - lam) * R + lam * np.eye(p)) * np.outer(sd, sd)
    W, got = F.shrink_covariance(e)
    assert got == pytest.approx(lam)
    assert W == pytest.approx(expect)


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(
        float,
        st.tuples(st.integers(3, 15), st.integers(2, 6)),
        elements=st.one_of(st.floats(-50, 50), st.just(np.nan)),
    )
)
def test_shrink_covariance_properties(e):
    W, lam = F.shrink_covariance(e)
    assert 0.0 <= lam <= 1.0
    assert np.allclose(W, W.T)
    assert np.linalg.eigvalsh(W).min() > 0
    assert np.isfinite(W).all()


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(float, 3, elements=st.floats(0, 1000)),
    hnp.arrays(float, (6, 4), elements=st.floats(-5, 5)),
)
def test_coherent_base_is_unchanged(b, e):
    # hierarchy total -> two districts -> three bottom series (district A has two parts)
    S = np.array([[1, 1, 1], [1, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=float)
    A = np.eye(6)[:, :4] @ e.T  # random, positive definite W
    W = A @ A.T + np.eye(6)
    y = S @ b
    assert S @ F.mint_matrix(S, W) @ y == pytest.approx(y, abs=1e-6 * (1 + y.max()))


def _monthly(keys_values: list[tuple[str, str]], n: int = 40, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    months = pd.period_range("2020-01", periods=n, freq="M")
    rows = []
    for i, (d, g) in enumerate(keys_values):
        lam = (10 + 5 * i) * (1 + 0.3 * np.sin(2 * np.pi * np.arange(n) / 12))
        rows.append(pd.DataFrame({"district": d, "group": g, "month": months, "count": rng.poisson(lam)}))
    return pd.concat(rows, ignore_index=True)


SERIES = [("A", "x"), ("A", "y"), ("B", "x"), ("B", "y"), ("C", "x")]


@pytest.fixture(scope="module")
def fitted():
    counts = _monthly(SERIES)
    return F.forecast(counts, horizon=6, keys=["district", "group"], methods=("snaive", "naive", "glm"))


def test_forecast_stores_one_step_residuals(fitted):
    counts = _monthly(SERIES)
    fc = F.forecast(counts, horizon=3, keys=["district", "group"], method="snaive", origins=0)
    r = fc.residuals.query("district == 'A' and group == 'x'").reset_index(drop=True)
    y = counts.query("district == 'A' and group == 'x'")["count"].to_numpy(dtype=float)
    assert r["residual"].iloc[:12].isna().all()
    assert r["residual"].iloc[12:].to_numpy() == pytest.approx(y[12:] - y[:-12])
    assert fc.settings["method"] == "snaive" and fc.settings["horizon"] == 3
    assert set(fitted.residuals.columns) == {"district", "group", "month", "fitted", "residual"}


@pytest.mark.parametrize("method", ["mint_shrink", "wls", "ols"])
def test_reconciled_forecasts_add_up(fitted, method):
    rec = F.reconcile(fitted, [(), ("district",)], method=method)
    assert (rec[["mean", "lower_80", "upper_80", "lower_95", "upper_95"]] >= 0).all().all()
    bottom = rec[rec["level"] == "bottom"]
    dist = rec[rec["level"] == "district"].set_index(["district", "month"])["mean"]
    total = rec[rec["level"] == "total"].set_index("month")["mean"]
    sums = bottom.groupby(["district", "month"])["mean"].sum()
    assert np.abs(sums - dist.reindex(sums.index)).max() < 1e-9
    assert np.abs(bottom.groupby("month")["mean"].sum() - total).max() < 1e-9
    assert np.abs(dist.groupby("month").sum() - total).max() < 1e-9
    assert len(rec) == (5 + 3 + 1) * 6
    if method == "mint_shrink":
        lam = rec.attrs["reconciliation"]["shrinkage_lambda"]
        assert 0 <= lam <= 1 and f"lambda {lam:.2f}" in bottom["method"].iloc[0]


def test_grouped_structure_adds_up(fitted):
    rec = F.reconcile(fitted, [(), ("district",), ("group",)], method="mint_shrink")
    bottom = rec[rec["level"] == "bottom"]
    grp = rec[rec["level"] == "group"].set_index(["group", "month"])["mean"]
    sums = bottom.groupby(["group", "month"])["mean"].sum()
    assert np.abs(sums - grp.reindex(sums.index)).max() < 1e-9


def test_mint_on_coherent_base_returns_it(fitted):
    # base forecasts of the aggregates made by summing the bottom forecasts are already coherent
    t = fitted.table
    agg = t.groupby("month", as_index=False)[["mean", "lower_80", "upper_80", "lower_95", "upper_95"]].sum()
    agg["method"] = "sum"
    e = fitted.residuals.groupby("month", as_index=False)["residual"].sum(min_count=1)
    top = F.ForecastResult(agg, pd.DataFrame(), pd.DataFrame(), [], residuals=e)
    rec = F.reconcile(fitted, [()], method="mint_shrink", base=[top])
    assert rec["mean"].to_numpy() == pytest.approx(rec["base_mean"].to_numpy(), rel=1e-9, abs=1e-9)


def test_bottom_up_default_unchanged(fitted):
    rec = F.reconcile(fitted, [(), ("district",)])
    assert "base_mean" not in rec.columns
    b = rec[rec["level"] == "bottom"]
    assert b["mean"].to_numpy() == pytest.approx(fitted.table["mean"].to_numpy())


def test_reconcile_errors():
    bottom, top = _toy(50.0, 20.0, 24.0)
    with pytest.raises(ValueError, match="method must be one of"):
        F.reconcile(bottom, method="topdown")
    with pytest.raises(ValueError, match="in-sample errors"):
        F.reconcile(bottom, method="mint_shrink", base=[top], confidence_levels=[80])
    with pytest.raises(ValueError, match="needs base forecasts"):
        F.reconcile(bottom, method="ols", confidence_levels=[80])
    with pytest.raises(ValueError, match="not forecast keys"):
        F.reconcile(bottom, [("region",)], method="ols", base=[top], confidence_levels=[80])
