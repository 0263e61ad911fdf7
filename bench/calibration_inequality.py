"""Coverage of inequality()'s 95% intervals for the Gini and Theil indices: method x distribution x n.

Samples of ``n`` units are drawn from populations whose Gini and Theil T indices are known:

* lognormal(0, sigma), sigma 0.5 and 1: Gini ``2 Phi(sigma / sqrt 2) - 1``, Theil ``sigma^2 / 2`` (Cowell 2011,
  Measuring Inequality, ch. 4);
* Singh-Maddala with shapes b = 2.8, c = 1.7 (``F(y) = 1 - (1 + y^b)^-c``, the income distribution of Davidson &
  Flachaire 2007; a Pareto upper tail of index b c = 4.76): Gini and Theil by numerical integration of
  ``scipy.stats.burr12``, the Gini checked against McDonald's (1984) closed form;
* gamma(2) (an exponential, not Pareto, upper tail): Gini ``Gamma(a + 1/2) / (a Gamma(a) sqrt(pi))`` = 0.375,
  Theil ``psi(a + 1) - ln a``;
* the pack's shape: lognormal(0, 0.5) values with need weights uniform on (0.5, 3), drawn independently of the
  values (so the weighted population indices are the lognormal's), and five districts of equal size, resampled
  within districts (``group=``), as ``inequality_by_scenario`` runs it.

For each sample :func:`victimneeds.equity.inequality` is run with each ``interval`` (same seed, so the same
resamples of units): ``percentile``, ``bca``, ``bootstrap-t`` (the bootstrap-t with influence-function standard
errors that ``studentized`` meant before issue 15) and ``studentized`` (now the semiparametric bootstrap-t: the
top round(sqrt n) values of each resample drawn from a Pareto tail fitted by the corrected Hill estimator, and the
t values centred on the semiparametric population's index; Davidson & Flachaire 2007, Cowell & Flachaire 2007).
The table gives the share of 95% intervals that contain the population value, its Monte Carlo standard error,
the mean width, and the seconds the method took over all samples of the cell.

    python bench/calibration_inequality.py                 # 600 samples a cell, 299 resamples, about 5 minutes
    python bench/calibration_inequality.py --reps 100 --n 60 --dist lognormal-1
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import integrate, special, stats

from victimneeds import equity

METHODS = ["percentile", "bca", "bootstrap-t", "studentized"]


def _singh_maddala_truth(b: float, c: float) -> dict[str, float]:
    dist = stats.burr12(c=b, d=c)
    mu = dist.mean()
    g = integrate.quad(lambda x: dist.cdf(x) * dist.sf(x), 0, np.inf, limit=200)[0] / mu
    closed = 1 - special.gamma(c) * special.gamma(2 * c - 1 / b) / (special.gamma(c - 1 / b) * special.gamma(2 * c))
    assert abs(g - closed) < 1e-7, (g, closed)  # McDonald (1984)
    t = integrate.quad(lambda x: x / mu * np.log(x / mu) * dist.pdf(x) if x > 0 else 0.0, 0, np.inf, limit=200)[0]
    return {"Gini": float(g), "Theil": float(t)}


def _lognormal_truth(sigma: float) -> dict[str, float]:
    return {"Gini": float(2 * stats.norm.cdf(sigma / np.sqrt(2)) - 1), "Theil": sigma**2 / 2}


def _gamma_truth(a: float) -> dict[str, float]:
    gini = np.exp(special.gammaln(a + 0.5) - special.gammaln(a) - np.log(a) - 0.5 * np.log(np.pi))
    return {"Gini": float(gini), "Theil": float(special.digamma(a + 1) - np.log(a))}


def _plain(draw: Callable[[np.random.Generator, int], np.ndarray]):
    def make(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, dict]:
        return pd.DataFrame({"y": draw(rng, n)}), {}

    return make


def _pack_like(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, dict]:
    t = pd.DataFrame({"y": rng.lognormal(0, 0.5, n), "w": rng.uniform(0.5, 3, n), "g": np.arange(n) % 5})
    return t, {"weight": "w", "group": "g"}


#: name -> (sample maker, population values)
DISTRIBUTIONS = {
    "lognormal-0.5": (_plain(lambda rng, n: rng.lognormal(0, 0.5, n)), _lognormal_truth(0.5)),
    "lognormal-1": (_plain(lambda rng, n: rng.lognormal(0, 1.0, n)), _lognormal_truth(1.0)),
    "singh-maddala": (
        _plain(lambda rng, n: stats.burr12(c=2.8, d=1.7).rvs(n, random_state=rng)),
        _singh_maddala_truth(2.8, 1.7),
    ),
    "gamma-2": (_plain(lambda rng, n: rng.gamma(2.0, 1.0, n)), _gamma_truth(2.0)),
    "lognormal-0.5 weighted, 5 strata": (_pack_like, _lognormal_truth(0.5)),
}


def run_cell(dist: str, n: int, reps: int, boot: int, seed: int, methods: list[str]) -> list[dict]:
    make, truth = DISTRIBUTIONS[dist]
    rng = np.random.default_rng([seed, n, list(DISTRIBUTIONS).index(dist)])
    hits = {(m, k): 0 for m in methods for k in truth}
    width = {(m, k): 0.0 for m in methods for k in truth}
    took = dict.fromkeys(methods, 0.0)
    for i in range(reps):
        table, kw = make(rng, n)
        for m in methods:
            t0 = time.perf_counter()
            out = equity.inequality(table, "y", n_boot=boot, seed=i, interval=m, **kw).set_index("statistic")
            took[m] += time.perf_counter() - t0
            for k, v in truth.items():
                lo, hi = out.loc[k, "lowercl"], out.loc[k, "uppercl"]
                hits[(m, k)] += bool(lo <= v <= hi)
                width[(m, k)] += (hi - lo) / reps
    rows = []
    for m in methods:
        row = {"distribution": dist, "n": n, "method": m}
        for k in truth:
            c = hits[(m, k)] / reps
            row[f"{k} coverage"] = f"{c:.3f} ({np.sqrt(c * (1 - c) / reps):.3f})"
            row[f"{k} width"] = round(width[(m, k)], 3)
        row["seconds"] = round(took[m], 1)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=600, help="simulated samples a cell")
    parser.add_argument("--n", type=int, nargs="*", default=[30, 60, 150], help="units a sample")
    parser.add_argument("--boot", type=int, default=299, help="bootstrap resamples an interval")
    parser.add_argument("--dist", nargs="*", choices=list(DISTRIBUTIONS), default=list(DISTRIBUTIONS))
    parser.add_argument("--methods", nargs="*", choices=METHODS, default=METHODS)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    start = time.perf_counter()
    rows = [r for d in args.dist for n in args.n for r in run_cell(d, n, args.reps, args.boot, args.seed, args.methods)]
    print(f"Coverage of nominal 95% intervals (Monte Carlo s.e.), mean width; {args.reps} samples a cell, "
          f"{args.boot} resamples, seed {args.seed}; seconds: the method's time over the cell's samples")
    for d in args.dist:
        print(f"  {d}: Gini {DISTRIBUTIONS[d][1]['Gini']:.4f}, Theil {DISTRIBUTIONS[d][1]['Theil']:.4f}")
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"took {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
