"""Time erlang_a's bracketing search against the old search that added one agent at a time.

The old approach is copied here: the stationary distribution built by a Python loop over states, and a linear
search from one agent up. Both answers are printed, with the time of each and the ratio. The old search takes
about 1.5 minutes on the 3,000 calls an hour case, so run it on its own:

    python bench/erlang_a_speed.py            # 3,000 calls an hour, 3 minutes' handling, 10 hours' patience
    python bench/erlang_a_speed.py --quick    # a smaller case (600 calls an hour), a few seconds
"""

from __future__ import annotations

import argparse
import math
import time
from contextlib import contextmanager

import numpy as np

from victimneeds import capacity


def old_erlang_a_states(lam: float, mu: float, theta: float, n: int, tol: float = 1e-14) -> np.ndarray:
    """The old stationary distribution: one Python step per state (copied from capacity.py before the fix)."""
    logp = [0.0]
    k = 0
    while True:
        k += 1
        death = min(k, n) * mu + max(k - n, 0) * theta
        if death <= 0:
            raise ValueError("erlang_a: with no agents, callers must have finite patience")
        logp.append(logp[-1] + math.log(lam) - math.log(death))
        if k > n and death > lam and logp[-1] - max(logp) < math.log(tol):
            break
        if k > 10_000_000:
            raise ValueError("erlang_a: the queue does not settle; give callers finite patience")
    lp = np.array(logp)
    p = np.exp(lp - lp.max())
    return p / p.sum()


@contextmanager
def old_states():
    new = capacity._erlang_a_states
    capacity._erlang_a_states = old_erlang_a_states
    try:
        yield
    finally:
        capacity._erlang_a_states = new


def old_erlang_a(calls, aht, patience, target=20.0, level=0.8, shrinkage=0.3, min_agents=0):
    """The old search: one agent at a time from max(min_agents, 1), with the old state loop."""
    n = max(int(min_agents), 1)
    with old_states():
        while True:
            s = capacity.erlang_a_metrics(calls, aht, n, patience, target, shrinkage)
            if s.service_level >= level:
                return s
            n += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller case (600 calls an hour)")
    args = parser.parse_args()
    calls, aht, patience = (600.0, 180.0, 36_000.0) if args.quick else (3000.0, 180.0, 36_000.0)
    print(f"erlang_a: {calls:,.0f} calls an hour, {aht:.0f} s handling, {patience:,.0f} s patience, 80% in 20 s")
    t0 = time.perf_counter()
    new = capacity.erlang_a(calls, aht, patience)
    t_new = time.perf_counter() - t0
    t0 = time.perf_counter()
    old = old_erlang_a(calls, aht, patience)
    t_old = time.perf_counter() - t0
    print(f"new bracketing search: {new.agents} agents, service level {new.service_level:.6f}, {t_new:.3f} s")
    print(f"old linear search:     {old.agents} agents, service level {old.service_level:.6f}, {t_old:.3f} s")
    print(f"same answer: {new.agents == old.agents}; old / new time: {t_old / t_new:.0f}x")


if __name__ == "__main__":
    main()
