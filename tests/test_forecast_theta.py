"""Tests for the Theta method in victimneeds.forecast (method="theta")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from statsmodels.tsa.forecasting.theta import ThetaModel

from victimneeds import forecast as F


def _series(n: int = 40, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = np.round(200 * np.exp(0.25 * np.sin(2 * np.pi * t / 12) + 0.004 * t + rng.normal(0, 0.05, n)))
    months = pd.period_range("2018-01", periods=n, freq="M").astype(str).to_numpy()
    return y.astype(float), months


def test_theta_centre_is_statsmodels_theta_on_the_log_scale_and_spread_is_ses():
    y, months = _series()
    h = 12
    mean, ints, fitted, paths = F._theta(y, months, h, (0.8, 0.95), lockdown=False)
    res = ThetaModel(np.log1p(y), period=12, deseasonalize=True, method="additive").fit()
    centre = np.asarray(res.forecast(h))
    # the paths' median is the Theta forecast (statsmodels, theta = 2) back-transformed
    assert np.median(np.log1p(paths), axis=0) == pytest.approx(centre, abs=0.01)
    # 95% limits: SES h-step variance sigma^2 (1 + (h - 1) alpha^2) (Hyndman et al. 2008, table 6.1)
    alpha, sigma = float(res.params.iloc[1]), float(np.sqrt(res.sigma2))
    sd = sigma * np.sqrt(1 + np.arange(h) * alpha**2)
    z = norm.ppf(0.975)
    assert np.log1p(ints[0.95][1]) == pytest.approx(centre + z * sd, abs=0.15 * z * sd.max())
    assert np.log1p(ints[0.95][0]) == pytest.approx(centre - z * sd, abs=0.15 * z * sd.max())
    assert (ints[0.95][0] <= ints[0.8][0]).all() and (ints[0.8][1] <= ints[0.95][1]).all()
    # one-step in-sample predictions are close to the data (the series is smooth)
    assert np.nanmean(np.abs(fitted - y) / y) < 0.1


def test_theta_through_forecast_with_gaps_and_lockdown():
    y, months = _series(36)
    t = pd.DataFrame({"month": pd.PeriodIndex(months, freq="M"), "count": y}).drop(index=[5, 6, 20])
    fc = F.forecast(t, horizon=14, method="theta", origins=0)
    assert len(fc.table) == 14 and (fc.table["lower_95"] >= 0).all()
    assert (fc.table["lower_95"] <= fc.table["mean"]).all() and (fc.table["mean"] <= fc.table["upper_95"]).all()
    assert fc.paths[()].shape == (F.N_PATHS, 14)
    assert fc.table["method"].iloc[0].startswith("Theta")
