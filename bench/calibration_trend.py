"""False alarms and coverage of demand.trend's rate ratio per year under autocorrelated months (issue 15).

Monthly counts are Poisson with log mean ``log(level) + b * years + 0.2 sin(2 pi month / 12) + u_t``, where
``u`` is a stationary AR(1) series on the log scale with coefficient ``rho`` and innovation s.d. 0.1 (monthly
crime counts: a high month tends to follow a high month). This generator is written here, not taken from
:mod:`victimneeds.datasets`. For each series length and ``rho`` the bench prints:

* the false-alarm rate: the share of series with no trend (``b = 0``) whose 95% interval excludes 1;
* the coverage of a planted trend of +5% a year (``b = log 1.05``) by the 95% interval, and the power (the
  share of those intervals that exclude 1).

    python bench/calibration_trend.py                 # 400 series per cell, 36 and 60 months, about 1 minute
    python bench/calibration_trend.py --reps 200 --months 48
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from victimneeds import demand


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400, help="series per cell")
    parser.add_argument("--months", type=int, nargs="*", default=[36, 60])
    parser.add_argument("--level", type=float, default=300.0, help="mean count a month")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    print(f"demand.trend, Poisson counts about {args.level:g} a month, log-scale AR(1) noise (innovation s.d. 0.1), "
          f"{args.reps} series per cell, nominal 95%")
    print(f"{'months':>6}  {'rho':>4}  {'false alarm (MC se)':>20}  {'coverage of +5%/yr':>19}  {'power':>6}  "
          f"{'median width':>12}  {'median rho-hat':>14}")
    for months in args.months:
        index = pd.period_range("2018-01", periods=months, freq="M")
        for k, rho in enumerate((0.0, 0.3, 0.6)):
            rng = np.random.default_rng([args.seed, months, k])
            res = {}
            for rr in (1.0, 1.05):
                frame = pd.concat(
                    [pd.DataFrame({"s": s, "month": index, "count": series(rng, months, args.level, rr, rho)})
                     for s in range(args.reps)]
                )
                res[rr] = demand.trend(frame, keys=["s"], lockdown=False)
            null, alt = res[1.0], res[1.05]
            fa = float(((null["lowercl"] > 1) | (null["uppercl"] < 1)).mean())
            cov = float(((alt["lowercl"] <= 1.05) & (alt["uppercl"] >= 1.05)).mean())
            power = float(((alt["lowercl"] > 1) | (alt["uppercl"] < 1)).mean())
            width = float((alt["uppercl"] - alt["lowercl"]).median())
            se = np.sqrt(fa * (1 - fa) / args.reps)
            print(f"{months:>6}  {rho:>4.1f}  {100 * fa:>13.1f}% ({100 * se:.1f})  {100 * cov:>18.1f}%  "
                  f"{100 * power:>5.1f}%  {width:>12.3f}  {null['autocorrelation'].median():>14.2f}", flush=True)
    print(f"took {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
