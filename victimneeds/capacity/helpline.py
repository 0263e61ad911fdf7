"""Helpline staffing: Erlang B, C and A for the agents an hour of calls needs.

Part of :mod:`victimneeds.capacity`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats as _st

# --------------------------------------------------------------------------------------------------
# Helpline staffing: Erlang B, C and A
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Staffing:
    """Helpline staffing for one interval.

    Attributes
    ----------
    agents : agents answering calls (the minimum meeting the targets, or the number given).
    staff : agents / (1 - shrinkage): staff to schedule, allowing for breaks, training and absence.
    traffic : offered load in Erlangs (calls per second x handling time in seconds).
    occupancy : share of agents' time spent handling calls.
    p_wait : probability a caller waits (is not answered at once).
    service_level : share of callers answered within the target time (Erlang A: of all callers, so callers who
        hang up count as not answered).
    asa_seconds : average speed of answer: mean wait of answered callers (0 for those answered at once).
    p_abandon : share of callers who hang up before answer (0 in Erlang C).
    model : "Erlang C" or "Erlang A".
    """

    agents: int
    staff: float
    traffic: float
    occupancy: float
    p_wait: float
    service_level: float
    asa_seconds: float
    p_abandon: float
    model: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _number(func: str, name: str, value: object, positive: bool = False, share: str | None = None) -> float:
    """``value`` as a float, or a ValueError naming the argument if it is missing, infinite, negative or out of range.

    ``positive``: zero is not allowed either. ``share``: ``"[0, 1)"``, ``"(0, 1)"``, ``"(0, 1]"`` or ``"[0, 1]"``.
    """
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{func}: {name} must be a number, not {value!r}") from None
    if math.isnan(v):
        raise ValueError(f"{func}: {name} is missing (NaN); give a number")
    if math.isinf(v):
        raise ValueError(f"{func}: {name} must be a finite number, not {v}")
    if v < 0:
        raise ValueError(f"{func}: {name} must not be negative, not {v:g}")
    if positive and v == 0:
        raise ValueError(f"{func}: {name} must be positive, not 0")
    if share is not None:
        low_open, high_open = share[0] == "(", share[-1] == ")"
        if (v == 0 and low_open) or v > 1 or (v == 1 and high_open):
            raise ValueError(f"{func}: {name} must be a share in {share} (e.g. 0.8), not {v:g}")
    return v


def erlang_b(traffic: float, servers: int) -> float:
    """Erlang B blocking probability by the stable recurrence ``B(n) = A B(n-1) / (n + A B(n-1))``.

    References
    ----------
    Erlang AK (1917). Solution of some problems in the theory of probabilities of significance in automatic
    telephone exchanges. Elektroteknikeren 13:5-13. The recurrence: e.g. Jagerman DL (1974). Some properties of
    the Erlang loss function. Bell System Technical Journal 53:525-551.

    Examples
    --------
    >>> round(erlang_b(1.0, 1), 6)
    0.5
    >>> 0 < erlang_b(5000.0, 5000) < 1
    True
    """
    traffic = _number("erlang_b", "traffic", traffic)
    servers = _number("erlang_b", "servers", servers)
    b = 1.0
    for n in range(1, int(servers) + 1):
        b = traffic * b / (n + traffic * b)
    return b


def _erlang_c_prob(traffic: float, agents: int) -> float:
    if agents <= traffic:
        return 1.0
    b = erlang_b(traffic, agents)
    return agents * b / (agents - traffic * (1 - b))


def erlang_c_metrics(
    calls_per_hour: float,
    aht_seconds: float,
    agents: int,
    target_answer_seconds: float = 20.0,
    shrinkage: float = 0.0,
    interval_seconds: float = 3600.0,
) -> Staffing:
    """Erlang C performance of a given number of agents (M/M/N queue, callers never hang up).

    ``P(wait) = N B / (N - A (1 - B))`` with ``B`` the Erlang B probability; service level
    ``1 - P(wait) exp(-(N - A) t / AHT)``; average speed of answer ``P(wait) AHT / (N - A)``. With ``N <= A``
    the queue grows without limit: service level 0, waiting probability 1, infinite ASA.

    Examples
    --------
    The Call Centre Helper worked example (100 calls in 30 minutes, 180 s handling, 11 agents, 20 s target):

    >>> s = erlang_c_metrics(200, 180, 11, 20)
    >>> round(s.p_wait, 4), round(s.service_level, 3)
    (0.6821, 0.39)
    """
    f = "erlang_c_metrics"
    calls_per_hour = _number(f, "calls_per_hour", calls_per_hour)
    aht_seconds = _number(f, "aht_seconds", aht_seconds, positive=True)
    _number(f, "agents", agents)
    target_answer_seconds = _number(f, "target_answer_seconds", target_answer_seconds)
    shrinkage = _number(f, "shrinkage", shrinkage, share="[0, 1)")
    interval_seconds = _number(f, "interval_seconds", interval_seconds, positive=True)
    lam = calls_per_hour / interval_seconds
    a = lam * aht_seconds
    n = int(agents)
    if a == 0:
        return Staffing(n, n / (1 - shrinkage), 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, "Erlang C")
    if n <= a:
        return Staffing(n, n / (1 - shrinkage), a, 1.0, 1.0, 0.0, math.inf, 0.0, "Erlang C")
    pw = _erlang_c_prob(a, n)
    sl = 1 - pw * math.exp(-(n - a) * target_answer_seconds / aht_seconds)
    asa = pw * aht_seconds / (n - a)
    return Staffing(n, n / (1 - shrinkage), a, a / n, pw, sl, asa, 0.0, "Erlang C")


def _check(
    calls: float, aht: float, target: float, level: float, shrinkage: float, func: str = "erlang_c", **more: float
) -> None:
    """Check the common inputs of erlang_c and erlang_a; ``more``: further non-negative numbers by name."""
    _number(func, "calls_per_hour", calls)
    _number(func, "aht_seconds", aht, positive=True)
    _number(func, "target_answer_seconds", target)
    _number(func, "service_level", level)
    _number(func, "shrinkage", shrinkage)
    for name, value in more.items():
        _number(func, name, value, positive=name in ("interval_seconds", "patience_seconds"))
    if not 0 < level < 1:
        raise ValueError(f"the service level target must be a share between 0 and 1 (e.g. 0.8), not {level}")
    if not 0 <= shrinkage < 1:
        raise ValueError(f"shrinkage must be a share from 0 to below 1 (e.g. 0.3), not {shrinkage}")


def erlang_c(
    calls_per_hour: float,
    aht_seconds: float,
    target_answer_seconds: float = 20.0,
    service_level: float = 0.8,
    shrinkage: float = 0.3,
    max_occupancy: float | None = None,
    interval_seconds: float = 3600.0,
    min_agents: int = 0,
) -> Staffing:
    """The fewest agents meeting a service-level target, by Erlang C (M/M/N queue).

    Agents are added from just above the offered load until the share answered within
    ``target_answer_seconds`` reaches ``service_level`` (and occupancy is at most ``max_occupancy``, if given).
    Service level rises with every agent added, so the first number found is the minimum: one fewer misses.

    Parameters
    ----------
    calls_per_hour : calls offered in the interval (per ``interval_seconds``, an hour by default).
    aht_seconds : average handling time (talk plus wrap-up), seconds.
    target_answer_seconds, service_level : e.g. 80% of calls answered within 20 seconds.
    shrinkage : share of paid time not available for calls (breaks, training, leave, sickness).
    max_occupancy : upper limit on agent occupancy (e.g. 0.85), to avoid burn-out at high volumes.
    interval_seconds : length of the interval ``calls_per_hour`` refers to.
    min_agents : agents to keep while the line is open, even with no calls.

    Returns
    -------
    :class:`Staffing`.

    References
    ----------
    Erlang AK (1917), Elektroteknikeren 13:5-13. Gans N, Koole G, Mandelbaum A (2003). Telephone call centers:
    tutorial, review, and research prospects. Manufacturing & Service Operations Management 5:79-141.

    Examples
    --------
    The Call Centre Helper worked example: 100 calls in 30 minutes, 3 minutes' handling, 80% in 20 seconds
    needs 14 agents (13 give 79.6%); with 30% shrinkage, 20 staff scheduled:

    >>> s = erlang_c(200, 180, 20, 0.8)
    >>> s.agents, round(s.service_level, 3), round(s.staff, 1)
    (14, 0.888, 20.0)
    """
    _check(
        calls_per_hour,
        aht_seconds,
        target_answer_seconds,
        service_level,
        shrinkage,
        "erlang_c",
        interval_seconds=interval_seconds,
        min_agents=min_agents,
    )
    if max_occupancy is not None:
        _number("erlang_c", "max_occupancy", max_occupancy, share="(0, 1]")
    a = calls_per_hour / interval_seconds * aht_seconds
    n = max(int(math.floor(a)) + 1 if a > 0 else 0, int(min_agents))
    while True:
        s = erlang_c_metrics(calls_per_hour, aht_seconds, n, target_answer_seconds, shrinkage, interval_seconds)
        ok = s.service_level >= service_level and (max_occupancy is None or s.occupancy <= max_occupancy)
        if ok:
            return s
        n += 1


def _erlang_a_states(lam: float, mu: float, theta: float, n: int, tol: float = 1e-14) -> np.ndarray:
    """Stationary distribution of the M/M/N+M birth-death chain, truncated when the tail is negligible.

    ``log p_k = sum_{i <= k} log(lambda / d_i)`` with death rates ``d_i = min(i, N) mu + max(i - N, 0) theta``,
    computed with numpy in blocks (a running sum, as a loop would) and cut at the first ``k > N`` whose death rate
    exceeds ``lambda`` and whose term is below ``tol`` times the largest so far: after it the terms fall
    geometrically.
    """
    if n == 0 and theta <= 0:
        raise ValueError("erlang_a: with no agents, callers must have finite patience")
    log_lam = math.log(lam)
    limit = 10_000_000
    size = max(2 * n + 1024, 4096)
    while True:
        k = np.arange(1, size + 1, dtype=float)
        death = np.minimum(k, n) * mu + np.maximum(k - n, 0) * theta
        logp = np.concatenate([[0.0], np.cumsum(log_lam - np.log(death))])
        top = np.maximum.accumulate(logp)
        stop = (k > n) & (death > lam) & (logp[1:] - top[1:] < math.log(tol))
        hit = np.flatnonzero(stop)
        if hit.size:
            lp = logp[: hit[0] + 2]
            break
        if size >= limit:
            raise ValueError("erlang_a: the queue does not settle; give callers finite patience")
        size = min(4 * size, limit)
    p = np.exp(lp - lp.max())
    return p / p.sum()


def erlang_a_metrics(
    calls_per_hour: float,
    aht_seconds: float,
    agents: int,
    patience_seconds: float,
    target_answer_seconds: float = 20.0,
    shrinkage: float = 0.0,
    interval_seconds: float = 3600.0,
) -> Staffing:
    """Erlang A performance of a given number of agents (M/M/N+M: callers hang up after exponential patience).

    The number of callers in the system is a birth-death chain (arrivals ``lambda``; departures
    ``min(k, N) mu + max(k - N, 0) theta`` with ``theta = 1 / patience``), solved for its stationary
    distribution and truncated where the tail is below 1e-14. By PASTA an arriving caller sees that
    distribution: the probability of waiting is ``P(k >= N)``; of abandoning, the rate of abandonments over the
    arrival rate. A caller who finds ``j`` callers queued ahead is answered once ``j + 1`` places ahead clear, at
    rates ``N mu + i theta``, provided its own patience lasts: the probability of being answered within ``t`` is
    computed for all ``j`` at once by uniformisation of that pure-death chain with the caller's own
    abandonment as a second exit.

    References
    ----------
    Palm C (1943). Intensitatsschwankungen im Fernsprechverkehr. Ericsson Technics 44:1-189. Garnett O,
    Mandelbaum A, Reiman M (2002). Designing a call center with impatient customers. Manufacturing & Service
    Operations Management 4:208-227. Grassmann WK (1977). Transient solutions in Markovian queueing systems.
    Computers & Operations Research 4:47-53 (uniformisation).

    Examples
    --------
    >>> s = erlang_a_metrics(200, 180, 11, patience_seconds=120)
    >>> s.p_abandon > 0, s.service_level > erlang_c_metrics(200, 180, 11).service_level
    (True, True)
    """
    f = "erlang_a_metrics"
    if isinstance(patience_seconds, int | float) and math.isinf(patience_seconds):
        raise ValueError(f"{f}: patience_seconds must be finite (use erlang_c for callers who never hang up)")
    if isinstance(patience_seconds, int | float) and patience_seconds <= 0:
        raise ValueError(f"{f}: patience_seconds must be positive (use erlang_c for callers who never hang up)")
    calls_per_hour = _number(f, "calls_per_hour", calls_per_hour)
    aht_seconds = _number(f, "aht_seconds", aht_seconds, positive=True)
    _number(f, "agents", agents)
    patience_seconds = _number(f, "patience_seconds", patience_seconds, positive=True)
    target_answer_seconds = _number(f, "target_answer_seconds", target_answer_seconds)
    shrinkage = _number(f, "shrinkage", shrinkage, share="[0, 1)")
    interval_seconds = _number(f, "interval_seconds", interval_seconds, positive=True)
    lam = calls_per_hour / interval_seconds
    mu, theta, n = 1 / aht_seconds, 1 / patience_seconds, int(agents)
    a = lam * aht_seconds
    if lam == 0:
        return Staffing(n, n / (1 - shrinkage), 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, "Erlang A")
    p = _erlang_a_states(lam, mu, theta, n)
    k = np.arange(len(p))
    q = np.clip(k - n, 0, None)
    p_wait = float(p[k >= n].sum())
    p_abandon = float((p * q).sum() * theta / lam)
    busy = float((p * np.minimum(k, n)).sum())
    occupancy = busy / n if n else 0.0
    # queued arrivals: position j = callers ahead (0..J); answered-within-t by uniformisation
    start = p[n:].copy() if len(p) > n else np.zeros(1)
    t = float(target_answer_seconds)
    answered_t = _answered_within(start, n * mu, theta, t)
    sl = float(p[:n].sum()) + answered_t
    # a queued caller starting j places back is answered with probability prod_i r_i / (r_i + theta), and then
    # waited a sum of exponentials with rates r_i + theta (r_i = N mu + i theta, i = 0..j)
    j = np.arange(len(start))
    move = n * mu + j * theta
    reach = np.cumprod(move / (move + theta))
    wait_if_answered = np.cumsum(1 / (move + theta))
    answered = float(p[:n].sum() + (start * reach).sum())
    asa = float((start * reach * wait_if_answered).sum() / answered) if answered > 0 else math.inf
    return Staffing(n, n / (1 - shrinkage), a, occupancy, p_wait, sl, asa, p_abandon, "Erlang A")


def _answered_within(start: np.ndarray, n_mu: float, theta: float, t: float) -> float:
    """Probability (weighted by ``start``) that a queued caller is answered within ``t`` before hanging up."""
    m = len(start)
    if start.sum() == 0:
        return 0.0
    j = np.arange(m)
    move = n_mu + j * theta  # rate of moving one place forward (answered from position 0)
    total = move + theta
    big = float(total.max())
    x = big * t
    if x == 0:
        return 0.0
    # uniformisation: probability mass on positions; absorbed mass into "answered" accumulates
    state = start.astype(float).copy()
    answered_by_step = []
    steps = int(x + 10 * math.sqrt(x) + 30)
    stay = 1 - total / big
    fwd = move / big
    answered = 0.0
    for _ in range(steps):
        new = state * stay
        new[:-1] += state[1:] * fwd[1:]
        answered += state[0] * fwd[0]
        state = new
        answered_by_step.append(answered)
    w = _st.poisson.pmf(np.arange(1, steps + 1), x)
    return float(np.dot(w, answered_by_step) + (1 - _st.poisson.cdf(steps, x)) * answered)


def erlang_a(
    calls_per_hour: float,
    aht_seconds: float,
    patience_seconds: float,
    target_answer_seconds: float = 20.0,
    service_level: float = 0.8,
    shrinkage: float = 0.3,
    max_abandon: float | None = None,
    interval_seconds: float = 3600.0,
    min_agents: int = 0,
) -> Staffing:
    """The fewest agents meeting a service-level target when callers hang up (Erlang A, M/M/N+M).

    Service level counts callers answered within the target among all callers (those who hang up count as
    not answered). ``max_abandon`` adds a limit on the share who hang up.

    The search brackets the answer, starting near the offered load and doubling its steps, then bisects: the
    service level rises and the abandonment share falls as agents are added (the queue is stochastically shorter
    with more agents), so the answer is the same as adding agents one at a time from ``min_agents``, in about
    twice log2(answer) evaluations instead of the answer itself. No answer is below ``service_level x A``
    (A the offered load in Erlangs), since answered callers cannot exceed ``N / A`` of all callers.

    References
    ----------
    Palm C (1943), Ericsson Technics 44:1-189. Garnett O, Mandelbaum A, Reiman M (2002). Manufacturing &
    Service Operations Management 4:208-227.

    Examples
    --------
    >>> s = erlang_a(200, 180, patience_seconds=180, target_answer_seconds=20, service_level=0.8)
    >>> s.agents <= erlang_c(200, 180, 20, 0.8).agents
    True
    """
    _check(
        calls_per_hour,
        aht_seconds,
        target_answer_seconds,
        service_level,
        shrinkage,
        "erlang_a",
        patience_seconds=patience_seconds,
        interval_seconds=interval_seconds,
        min_agents=min_agents,
    )
    if max_abandon is not None:
        _number("erlang_a", "max_abandon", max_abandon, share="(0, 1]")
    n = int(min_agents)
    if calls_per_hour == 0:
        return erlang_a_metrics(0, aht_seconds, n, patience_seconds, target_answer_seconds, shrinkage, interval_seconds)
    a = calls_per_hour / interval_seconds * aht_seconds
    seen: dict[int, Staffing] = {}

    def meets(agents: int) -> bool:
        if agents not in seen:
            seen[agents] = erlang_a_metrics(
                calls_per_hour,
                aht_seconds,
                agents,
                patience_seconds,
                target_answer_seconds,
                shrinkage,
                interval_seconds,
            )
        s = seen[agents]
        return s.service_level >= service_level and (max_abandon is None or s.p_abandon <= max_abandon)

    # Lower bound: answered calls per second cannot exceed N / AHT, so the share answered (within the target or
    # not) is at most N / A; so N >= service_level x A, and 1 - p_abandon <= N / A gives N >= (1 - max_abandon) A.
    low = max(n, 1, math.floor(service_level * a) - 1)
    if max_abandon is not None:
        low = max(low, math.floor((1 - max_abandon) * a) - 1)
    # The service level rises and the abandonment share falls as agents are added, so the targets are met from
    # some N on: bracket it from a first guess near the offered load (where evaluations are cheap), then bisect.
    guess = max(low, math.ceil(a))
    if meets(guess):
        ok, step = guess, 1
        while True:
            if ok == low:
                fail = low - 1  # below the bound (or below min_agents): never meets the targets
                break
            down = max(ok - step, low)
            if not meets(down):
                fail = down
                break
            ok, step = down, 2 * step
    else:
        fail, step = guess, 1
        cap = max(low, math.ceil(10 * a) + 1000)
        while not meets(fail + step):
            if fail + step > cap:
                raise ValueError(f"erlang_a: the targets are not met even with {fail + step:,} agents")
            fail, step = fail + step, 2 * step
        ok = fail + step
    while ok - fail > 1:
        mid = (ok + fail) // 2
        if meets(mid):
            ok = mid
        else:
            fail = mid
    return seen[ok]
