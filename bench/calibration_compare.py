"""Calibration of victimneeds.compare: false alarms with nothing planted, coverage with an effect planted.

Three studies, each on a generator of its own (not victimneeds.datasets):

1. control charts: 24 months of a yes/no outcome at 80% (about 200 a month), binomial or with the monthly rate
   wandering on the logit scale (sd ``--spread``); the share of charts with a signal under each rule, against
   the exact probability for independent normal points (beyond 3 sigma; a run of 8; 2 of 3 beyond 2 sigma);
2. trend: 36 monthly counts with no trend (over-dispersed), share of 95% intervals for the odds ratio per year
   that exclude 1; and with a planted odds ratio per year of 0.8, the share that cover it;
3. comparison engine: victims in three ethnic groups, two sexes and a disability flag; with no effect, the share
   of families in which Benjamini-Hochberg reports any finding; with an odds ratio of 0.5 planted, the coverage
   of the adjusted interval.

Each share is printed with its Monte Carlo standard error.

    python bench/calibration_compare.py               # 1,000 charts, 500 trend series, 300 comparison families
    python bench/calibration_compare.py --reps 200    # quicker
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from victimneeds import compare


def _rows(rng: np.random.Generator, shares: np.ndarray, size: int) -> pd.DataFrame:
    n = rng.poisson(size, len(shares))
    x = rng.binomial(n, shares)
    place = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    months = pd.period_range("2023-01", periods=len(shares), freq="M")
    return pd.DataFrame({"month": np.repeat(months, n), "met": place < np.repeat(x, n)})


def _p_run(points: int, run: int = 8) -> float:
    state = np.zeros(run)
    state[1] = 1.0
    for _ in range(points - 1):
        new = np.zeros(run)
        new[1] = state[1:].sum() * 0.5
        new[2:] = state[1:-1] * 0.5
        state = new
    return float(1 - state.sum())


def _p_two_of_three(points: int) -> float:
    q = stats.norm.sf(2)
    probs = {"u": q, "d": q, "o": 1 - 2 * q}
    state = {(a, b): probs[a] * probs[b] for a in probs for b in probs if not (a == b and a != "o")}
    for _ in range(points - 2):
        new: dict = {}
        for (a, b), p in state.items():
            for c, pc in probs.items():
                if c != "o" and c in (a, b):
                    continue
                new[(b, c)] = new.get((b, c), 0) + p * pc
        state = new
    return float(1 - sum(state.values()))


def share(k: int, n: int) -> str:
    p = k / n
    return f"{p:6.1%} (MC se {np.sqrt(p * (1 - p) / n):.1%})"


def charts(rng: np.random.Generator, reps: int, spread: float) -> None:
    nominal = {"beyond limits": 1 - (1 - 2 * stats.norm.sf(3)) ** 24, "run": _p_run(24),
               "2 of 3": _p_two_of_three(24)}
    for laney in (False, True):
        hits = dict.fromkeys(nominal, 0)
        for _ in range(reps):
            shares = expit(np.log(4) + rng.normal(0, spread, 24)) if spread else np.full(24, 0.8)
            found = compare.control_chart(_rows(rng, shares, 200), "met", "month", laney=laney).findings
            for rule in hits:
                hits[rule] += bool((found["rule"] == rule).any())
        for rule, k in hits.items():
            print(f"  control chart, spread {spread}, laney={laney!s:<5} {rule:<14} {share(k, reps)}"
                  f"  nominal {nominal[rule]:.1%}")


def trends(rng: np.random.Generator, reps: int) -> None:
    years = np.arange(36) / 12
    for true_or in (1.0, 0.8):
        hit = 0
        for _ in range(reps):
            n = rng.poisson(600, 36)
            x = rng.binomial(n, expit(-1.5 + np.log(true_or) * years + rng.normal(0, 0.15, 36)))
            r = compare.binomial_trend(x, n, years)
            hit += (r["lowercl"] < true_or < r["uppercl"]) if true_or != 1 else not (r["lowercl"] < 1 < r["uppercl"])
        what = "flagged (nominal 5%)" if true_or == 1 else "covered (nominal 95%)"
        print(f"  trend, odds ratio per year {true_or}: {what} {share(hit, reps)}")


def comparisons(rng: np.random.Generator, reps: int) -> None:
    for true_or in (1.0, 0.5):
        hit = 0
        for _ in range(reps):
            n = 3000
            eth = rng.choice(["White", "Asian", "Black"], n, p=[0.7, 0.2, 0.1])
            sex = rng.choice(["Female", "Male"], n)
            dis = rng.random(n) < 0.2 + 0.1 * (eth == "Black")
            logit = 0.4 + np.log(true_or) * (eth == "Black") + (0.3 * (sex == "Male") + 0.4 * dis) * (true_or != 1)
            t = pd.DataFrame({"victim_ethnicity": eth, "victim_sex": sex, "victim_disability": dis,
                              "referred": rng.random(n) < expit(logit)})
            c = compare.compare(t, "referred")
            if true_or == 1:
                hit += bool(c.odds_ratios["finding"].any())
            else:
                row = c.odds_ratios.set_index("level").loc["Black"]
                hit += row["lower"] < true_or < row["upper"]
        what = "families with a finding (nominal at most 5%)" if true_or == 1 else "covered (nominal 95%)"
        print(f"  comparison engine, odds ratio {true_or}: {what} {share(hit, reps)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=None, help="repetitions for every study")
    parser.add_argument("--spread", type=float, default=0.2, help="sd of the monthly logit for over-dispersion")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    charts(rng, args.reps or 1000, 0.0)
    charts(rng, args.reps or 1000, args.spread)
    trends(rng, args.reps or 500)
    comparisons(rng, args.reps or 300)
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
