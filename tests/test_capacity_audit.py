"""Audit fixes in victimneeds.capacity (issue 15 item 5): input checks naming the argument, and erlang_a's search.

References: scipy's Poisson distribution (Erlang A with patience equal to the handling time is, for the number of
callers present, an M/M/infinity queue), and a plain one-agent-at-a-time search as the old code did it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import poisson

from victimneeds import capacity as cap

BAD = [math.nan, math.inf, -1.0]


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("position,name", [(0, "calls_per_hour"), (1, "aht_seconds"), (2, "target_answer_seconds")])
def test_erlang_c_bad_numbers_name_the_argument(bad, position, name):
    args = [200.0, 180.0, 20.0]
    args[position] = bad
    with pytest.raises(ValueError, match=name):  # the old code raised ZeroDivisionError for NaN calls
        cap.erlang_c(*args)


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize(
    "name", ["calls_per_hour", "aht_seconds", "agents", "target_answer_seconds", "shrinkage", "interval_seconds"]
)
def test_erlang_c_metrics_bad_numbers_name_the_argument(bad, name):
    kw = dict(calls_per_hour=200.0, aht_seconds=180.0, agents=11, target_answer_seconds=20.0, shrinkage=0.0,
              interval_seconds=3600.0)
    kw[name] = bad
    with pytest.raises(ValueError, match=name):
        cap.erlang_c_metrics(**kw)


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("name", ["calls_per_hour", "aht_seconds", "patience_seconds", "target_answer_seconds",
                                  "service_level", "shrinkage", "interval_seconds", "min_agents"])
def test_erlang_a_bad_numbers_name_the_argument(bad, name):
    kw = dict(calls_per_hour=200.0, aht_seconds=180.0, patience_seconds=120.0, target_answer_seconds=20.0,
              service_level=0.8, shrinkage=0.3, interval_seconds=3600.0, min_agents=0)
    kw[name] = bad
    with pytest.raises(ValueError, match=name):
        cap.erlang_a(**kw)


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("name", ["calls_per_hour", "aht_seconds", "agents", "patience_seconds"])
def test_erlang_a_metrics_bad_numbers_name_the_argument(bad, name):
    kw = dict(calls_per_hour=200.0, aht_seconds=180.0, agents=11, patience_seconds=120.0)
    kw[name] = bad
    with pytest.raises(ValueError, match=name):
        cap.erlang_a_metrics(**kw)


def test_limits_and_erlang_b_are_checked():
    with pytest.raises(ValueError, match="max_occupancy"):
        cap.erlang_c(200, 180, max_occupancy=math.nan)
    with pytest.raises(ValueError, match="max_abandon"):
        cap.erlang_a(200, 180, 120, max_abandon=math.inf)
    with pytest.raises(ValueError, match="traffic"):
        cap.erlang_b(math.nan, 3)
    with pytest.raises(ValueError, match="servers"):
        cap.erlang_b(2.0, -1)


def _linear(calls, aht, patience, t, level, max_abandon=None, min_agents=0):
    """The old search: add agents one at a time from max(min_agents, 1) until the targets are met."""
    n = max(min_agents, 1)
    while True:
        s = cap.erlang_a_metrics(calls, aht, n, patience, t, 0.3)
        if s.service_level >= level and (max_abandon is None or s.p_abandon <= max_abandon):
            return s
        n += 1


@pytest.mark.parametrize(
    "calls,aht,patience,t,level,max_abandon,min_agents",
    [
        (5, 300, 60, 20, 0.8, None, 0),
        (30, 600, 30, 0, 0.5, None, 0),
        (120, 180, 900, 20, 0.95, None, 0),
        (120, 180, 60, 60, 0.8, 0.02, 0),
        (400, 300, 180, 20, 0.8, None, 3),
        (400, 120, 30, 20, 0.5, 0.05, 0),
        (10, 600, 600, 20, 0.8, None, 6),  # min_agents above the answer
    ],
)
def test_erlang_a_bracketing_search_equals_linear_search(calls, aht, patience, t, level, max_abandon, min_agents):
    got = cap.erlang_a(calls, aht, patience, t, level, max_abandon=max_abandon, min_agents=min_agents)
    ref = _linear(calls, aht, patience, t, level, max_abandon, min_agents)
    assert got.agents == ref.agents
    assert got.service_level == ref.service_level and got.p_abandon == ref.p_abandon


@pytest.mark.parametrize("calls,aht,level", [(60, 300, 0.8), (900, 240, 0.9), (3000, 180, 0.8), (3000, 180, 0.5)])
def test_erlang_a_patience_equal_to_handling_time_matches_poisson(calls, aht, level):
    # With patience = AHT every caller present leaves at rate mu, served or not: the number present is
    # Poisson(A) (M/M/infinity). With a zero target, service level = P(answered at once) = P(K < N), and
    # p_abandon = theta E[(K - N)+] / lambda = E[(K - N)+] / A.
    a = calls / 3600 * aht
    want = int(next(n for n in range(1, 10_000) if poisson.cdf(n - 1, a) >= level))
    s = cap.erlang_a(calls, aht, patience_seconds=aht, target_answer_seconds=0, service_level=level)
    assert s.agents == want
    assert s.service_level == pytest.approx(poisson.cdf(want - 1, a), abs=1e-9)
    k = np.arange(0, int(a + 60 * math.sqrt(a) + 100))
    excess = float(np.sum(poisson.pmf(k, a) * np.maximum(k - want, 0)))
    assert s.p_abandon == pytest.approx(excess / a, abs=1e-9)
    assert s.p_wait == pytest.approx(poisson.sf(want - 1, a), abs=1e-9)


def test_erlang_a_large_case_is_minimal():
    # 3,000 calls an hour with 10 hours' patience: the case that took about 90 s with the old search
    s = cap.erlang_a(3000, 180, patience_seconds=36_000)
    assert s.service_level >= 0.8
    assert cap.erlang_a_metrics(3000, 180, s.agents - 1, 36_000, 20, 0.3).service_level < 0.8
