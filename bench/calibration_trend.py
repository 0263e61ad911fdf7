"""False alarms and coverage of demand.trend's rate ratio per year under autocorrelated months (issue 15).

Monthly counts are Poisson with log mean ``log(level) + b * years + 0.2 sin(2 pi month / 12) + u_t``, where
``u`` is a stationary AR(1) series on the log scale with coefficient ``rho`` and innovation s.d. 0.1 (monthly
crime counts: a high month tends to follow a high month). This generator is written here, not taken from
:mod:`victimneeds.datasets`. For each series length and ``rho`` the bench prints:

* the false-alarm rate: the share of series with no trend (``b = 0``) whose 95% interval excludes 1;
* the coverage of a planted trend of +5% a year (``b = log 1.05``) by the 95% interval, and the power (the
  share of those intervals that exclude 1).

Each cell is measured for the current :func:`victimneeds.demand.trend` and, on the same series, for the
previous estimator (``previous``: quasi-Poisson GLM, ARMA(1, 1) working-correlation sandwich from the lag-one
and lag-two residual autocorrelations, t on Santer et al.'s effective months), kept here for the comparison.

    python bench/calibration_trend.py                          # 400 series per cell, 36/48/60 months, ~4 minutes
    python bench/calibration_trend.py --reps 200 --months 48 --level 30
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from victimneeds import demand
from victimneeds.forecast import fourier_terms


def series(rng: np.random.Generator, months: int, level: float, rate_ratio: float, rho: float) -> np.ndarray:
    """One series of monthly Poisson counts with a trend, a yearly cycle and log-scale AR(1) noise."""
    t = np.arange(months)
    e = rng.normal(0, 0.1, months)
    u = np.empty(months)
    u[0] = e[0] / np.sqrt(1 - rho**2)
    for i in range(1, months):
        u[i] = rho * u[i - 1] + e[i]
    mu = level * rate_ratio ** (t / 12) * np.exp(0.2 * np.sin(2 * np.pi * t / 12) + u)
    return rng.poisson(mu)


def previous(y: np.ndarray) -> tuple[float, float, float]:
    """The previous demand.trend interval (log rate ratio, lower, upper) for one complete monthly series."""
    import statsmodels.api as sm
    from scipy import stats

    n = len(y)
    t = np.arange(n)
    x = np.column_stack([np.ones(n), t / 12, fourier_terms(t % 12 + 1, 2)])
    fit = sm.GLM(y, x, family=sm.families.Poisson()).fit(scale="X2")
    mu, k = np.asarray(fit.fittedvalues), x.shape[1]
    r = (y - mu) / np.sqrt(mu)
    den = float(np.sum(r**2))

    def corrected(lag: int) -> float:
        raw = float(np.sum(r[:-lag] * r[lag:]) / den * n / (n - lag))
        return float(np.clip(raw + (1 + 3 * raw + k * (1 + raw)) / n, 0.0, 0.95))

    rho = corrected(1)
    phi = float(np.clip(corrected(2) / rho, rho, 0.95)) if rho > 0 else 0.0
    lag = np.abs(t[:, None] - t[None, :])
    corr = np.where(lag == 0, 1.0, rho * phi ** np.maximum(lag - 1, 0))
    a = x * np.sqrt(mu)[:, None]
    bread = np.linalg.pinv(a.T @ a)
    se = float(np.sqrt((fit.scale * bread @ (a.T @ corr @ a) @ bread)[1, 1]))
    q = float(stats.t.ppf(0.975, max(n * (1 - phi) / (1 + phi) - k, 2.0)))
    b = float(fit.params[1])
    return b, b - q * se, b + q * se


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400, help="series per cell")
    parser.add_argument("--months", type=int, nargs="*", default=[36, 48, 60])
    parser.add_argument("--level", type=float, default=300.0, help="mean count a month")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    print(f"demand.trend, Poisson counts about {args.level:g} a month, log-scale AR(1) noise (innovation s.d. 0.1), "
          f"{args.reps} series per cell, nominal 95%")
    print(f"{'months':>6}  {'rho':>4}  {'method':>8}  {'false alarm (MC se)':>20}  {'coverage of +5%/yr':>19}  "
          f"{'power':>6}  {'median width':>12}  {'median rho-hat':>14}")
    for months in args.months:
        index = pd.period_range("2018-01", periods=months, freq="M")
        for k, rho in enumerate((0.0, 0.3, 0.6)):
            rng = np.random.default_rng([args.seed, months, k])
            res, old = {}, {}
            for rr in (1.0, 1.05):
                ys = [series(rng, months, args.level, rr, rho) for _ in range(args.reps)]
                frame = pd.concat([pd.DataFrame({"s": s, "month": index, "count": y}) for s, y in enumerate(ys)])
                res[rr] = demand.trend(frame, keys=["s"], lockdown=False)
                b = np.array([previous(y.astype(float)) for y in ys])
                old[rr] = pd.DataFrame({"lowercl": np.exp(b[:, 1]), "uppercl": np.exp(b[:, 2]),
                                        "autocorrelation": res[rr]["autocorrelation"].to_numpy() * np.nan})
            for name, r in (("previous", old), ("current", res)):
                null, alt = r[1.0], r[1.05]
                fa = float(((null["lowercl"] > 1) | (null["uppercl"] < 1)).mean())
                cov = float(((alt["lowercl"] <= 1.05) & (alt["uppercl"] >= 1.05)).mean())
                power = float(((alt["lowercl"] > 1) | (alt["uppercl"] < 1)).mean())
                width = float((alt["uppercl"] - alt["lowercl"]).median())
                se = np.sqrt(fa * (1 - fa) / args.reps)
                print(f"{months:>6}  {rho:>4.1f}  {name:>8}  {100 * fa:>13.1f}% ({100 * se:.1f})  {100 * cov:>18.1f}%  "
                      f"{100 * power:>5.1f}%  {width:>12.3f}  {null['autocorrelation'].median():>14.2f}", flush=True)
    print(f"took {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
