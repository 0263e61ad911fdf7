"""Choosing the cells to hide: primary cells (small counts) and secondary cells (so the small ones cannot be
narrowed down from totals), checked by the attacker's integer programmes of :mod:`.attack`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from victimneeds.disclosure.attack import Constraints, intervals, rate
from victimneeds.disclosure.grid import _Grid

_VISIBLE, _PRIMARY, _SECONDARY = 0, 1, 2
#: How many visible cells are tried, per failing primary cell, as the next secondary cell.
MAX_CANDIDATES = 12
#: How many of those are tried two at a time, for a cell that no single cell can free.
MAX_PAIR_CANDIDATES = 8


@dataclass
class _Rules:
    """The suppression range and what the attacker is assumed to know."""

    lo: float
    hi: float
    hidden_lower: float = 1.0  # a hidden cell is at least this (1 where zeros are shown)
    rounding: int | None = None  # visible counts are published rounded to this base
    strong: bool = True  # aim for "strong" protection (see attack.rate)
    integer: bool = True  # the attacker solves integer programmes



def _determined(grid: _Grid, hidden: np.ndarray) -> np.ndarray:
    """Hidden cells whose value follows exactly from the linear equations of the totals."""
    out = np.zeros(len(grid.values), dtype=bool)
    hidden_idx = np.flatnonzero(hidden)
    if not len(hidden_idx):
        return out
    pos = {int(c): k for k, c in enumerate(hidden_idx)}
    rows = []
    for (members, total), eq in zip(grid.groups, grid.equation, strict=True):
        if not eq:
            continue
        row = np.zeros(len(hidden_idx))
        for m in members:
            if hidden[m]:
                row[pos[int(m)]] = 1.0
        if total >= 0 and hidden[total]:
            row[pos[total]] = -1.0
        if row.any():
            rows.append(row)
    if not rows:
        return out
    a = np.array(rows)
    _, s, vt = np.linalg.svd(a)
    rank = int((s > 1e-9 * max(a.shape)).sum())
    null = vt[rank:].T  # columns span the null space
    solved = np.linalg.norm(null, axis=1) < 1e-9 if null.size else np.ones(len(hidden_idx), dtype=bool)
    out[hidden_idx[solved]] = True
    return out



def _visible_range(value: float, rules: _Rules) -> tuple[float, float]:
    """What the attacker knows of a visible count: exact, or the integers that round to what is shown
    (and are not in the suppression range, since those would be hidden)."""
    if not rules.rounding:
        return value, value
    b = rules.rounding
    shown = b * math.floor(value / b + 0.5)
    low, high = math.ceil(shown - b / 2), math.ceil(shown + b / 2) - 1
    low = max(low, 0)
    candidates = [v for v in range(int(low), int(high) + 1) if not (rules.lo <= v <= rules.hi)]
    if not candidates:  # cannot happen for a value that was shown; keep the exact value
        return value, value
    return float(min(candidates)), float(max(candidates))


def constraints(grid: _Grid, status: np.ndarray, rules: _Rules) -> Constraints:
    """The attacker's knowledge of ``grid`` when the cells with ``status != visible`` are hidden.

    A missing value (NaN) is known to be no count (0), never a hidden cell. A total that is not in the table
    but assumed published elsewhere is known exactly, unless it is itself in the suppression range (then it
    would be hidden where it is published, and the line gives nothing).
    """
    values = grid.values
    n = len(values)
    lower = np.zeros(n)
    upper = np.zeros(n)
    for k in range(n):
        v = values[k]
        if np.isnan(v):
            continue
        if status[k] != _VISIBLE:
            # a hidden cell is at least 1 where zeros are shown; an unpublished complement may be 0
            virtual = grid.virtual is not None and grid.virtual[k]
            lower[k], upper[k] = (0.0 if virtual else rules.hidden_lower), math.inf
        else:
            lower[k], upper[k] = _visible_range(float(v), rules)
    lines = []
    for (members, total), eq in zip(grid.groups, grid.equation, strict=True):
        if not eq:
            continue
        constant = 0.0
        if total < 0:
            s = float(np.nansum(values[members]))
            if rules.lo <= s <= rules.hi and s > 0:
                continue
            constant = -s
        lines.append((members, total, constant))
    return Constraints(lower, upper, lines)


def _groups_of(grid: _Grid) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in grid.values]
    for g, ((members, total), eq) in enumerate(zip(grid.groups, grid.equation, strict=True)):
        if not eq:
            continue
        for m in members:
            out[int(m)].append(g)
        if total >= 0:
            out[total].append(g)
    return out


def _eligible(grid: _Grid, status: np.ndarray, rules: _Rules) -> np.ndarray:
    """Cells that may be hidden as secondary cells: visible numbers, and not zeros where zeros are shown
    (a hidden zero would break the published rule that hidden cells are at least 1)."""
    v = grid.values
    ok = (status == _VISIBLE) & ~np.isnan(v)
    if rules.hidden_lower >= 1:
        ok &= v != 0
    return ok


def _close_lines(grid: _Grid, status: np.ndarray, rules: _Rules, groups_of: list[list[int]]) -> None:
    """Give every line with exactly one hidden cell a second one (in place): its smallest eligible cell,
    preferring one that also completes another line; the total last."""
    values = grid.values
    # lines through an unpublished complement are left to the attacker's programmes
    virtual = grid.virtual if grid.virtual is not None else np.zeros(len(values), dtype=bool)
    active = [
        g for g, eq in enumerate(grid.equation)
        if eq and not virtual[grid.groups[g][0]].any() and not (grid.groups[g][1] >= 0 and virtual[grid.groups[g][1]])
    ]

    def n_hidden(g: int, h: np.ndarray) -> int:
        members, total = grid.groups[g]
        return int(h[members].sum()) + (int(h[total]) if total >= 0 else 0)

    def pick(g: int, h: np.ndarray, ok: np.ndarray) -> int:
        members, total = grid.groups[g]
        cands = [int(m) for m in members if ok[m]]
        if not cands:
            return total if total >= 0 and ok[total] else -1

        def key(c: int) -> tuple[int, float, int]:
            completes = any(n_hidden(o, h) == 1 for o in groups_of[c] if o != g)
            return (not completes, values[c], c)

        return min(cands, key=key)

    changed = True
    while changed:
        changed = False
        h = status != _VISIBLE
        ok = _eligible(grid, status, rules)
        for g in active:
            if n_hidden(g, h) == 1:
                c = pick(g, h, ok)
                if c >= 0:
                    status[c] = _SECONDARY
                    h[c] = True
                    ok[c] = False
                    changed = True


def _needs_more(rating: str, rules: _Rules) -> bool:
    return rating == "exposed" or (rules.strong and rating == "weak")


_RANK = {"exposed": 0, "weak": 1, "strong": 2}


def _score(iv: tuple[float, float], rules: _Rules) -> tuple[int, float]:
    """How well a cell is protected: its verdict, then (short of "strong") the width of its interval."""
    r = rate(iv, int(rules.lo), int(rules.hi))
    if r == "strong":
        return _RANK[r], 0.0
    return _RANK[r], min(iv[1], rules.hi + 1) - max(iv[0], rules.lo - 1)


def _candidates(grid: _Grid, k: int, comp: set[int], ok: np.ndarray, groups_of: list[list[int]]) -> list[int]:
    """Cells to try as the next secondary cell for primary cell ``k``: the cells of k's own lines, shortest line
    first (a block before the grand total), each line's cells smallest first; then the cells of the other
    lines of k's component."""
    values = grid.values
    out: list[int] = []
    seen: set[int] = set()

    def take(cells: list[int]) -> None:
        for c in sorted(cells, key=lambda c: (values[c], c)):
            if ok[c] and c not in seen:
                seen.add(c)
                out.append(c)

    for g in sorted(groups_of[k], key=lambda g: (len(grid.groups[g][0]), g)):
        members, total = grid.groups[g]
        take([int(m) for m in members] + ([total] if total >= 0 else []))
    far: list[int] = []
    for g, ((members, total), eq) in enumerate(zip(grid.groups, grid.equation, strict=True)):
        cells = [int(m) for m in members] + ([total] if total >= 0 else [])
        if eq and g not in groups_of[k] and comp.intersection(cells):
            far.extend(cells)
    take(far)
    return out


def _protect(
    grid: _Grid, rules: _Rules, secondary: bool = True
) -> tuple[np.ndarray, int, dict[int, tuple[float, float]]]:
    """Choose the hidden cells of ``grid``.

    Returns
    -------
    (status, unresolved, intervals) : status per cell (visible, primary, secondary); the number of primary
    cells still exposed (0 in a safe table); the attacker's interval for each primary cell.
    """
    values = grid.values
    missing = np.isnan(values)
    status = np.where(~missing & (values >= rules.lo) & (values <= rules.hi), _PRIMARY, _VISIBLE)
    if grid.virtual is not None:
        status[grid.virtual & (status == _VISIBLE)] = _SECONDARY  # never published
    primaries = np.flatnonzero(status == _PRIMARY)
    if not secondary or not len(primaries):
        cons = constraints(grid, status, rules)
        found = intervals(cons, primaries, integer=rules.integer) if len(primaries) else {}
        exposed = sum(rate(iv, int(rules.lo), int(rules.hi)) == "exposed" for iv in found.values())
        return status, int(exposed) if secondary else 0, found
    groups_of = _groups_of(grid)
    _close_lines(grid, status, rules, groups_of)
    cache: dict[frozenset, dict[int, tuple[float, float]]] = {}
    stuck: set[int] = set()

    def bounds(st: np.ndarray, cells: list[int]) -> dict[int, tuple[float, float]]:
        cons = constraints(grid, st, rules)
        labels = cons.components()
        out: dict[int, tuple[float, float]] = {}
        by_comp: dict[int, list[int]] = {}
        for k in cells:
            by_comp.setdefault(int(labels[k]), []).append(k)
        for lab, ks in by_comp.items():
            key = frozenset(np.flatnonzero(labels == lab).tolist()) if lab >= 0 else frozenset([-1 - ks[0]])
            hit = cache.setdefault(key, {})
            todo = [k for k in ks if k not in hit]
            if todo:
                hit.update(intervals(cons, todo, integer=rules.integer))
            out.update({k: hit[k] for k in ks})
        return out

    pairs_tried: set[int] = set()
    lo_i, hi_i = int(rules.lo), int(rules.hi)
    while True:  # each pass hides at least one more cell, or marks a cell as stuck until the next change
        found = bounds(status, primaries.tolist())
        failing = [k for k in primaries.tolist() if k not in stuck and _needs_more(rate(found[k], lo_i, hi_i), rules)]
        pairs = False
        if not failing:
            # last resort for a cell still disclosed: two cells at once (one alone may not free it, when it is
            # pinned through a chain of lines)
            failing = [
                k for k in primaries.tolist() if k not in pairs_tried and rate(found[k], lo_i, hi_i) == "exposed"
            ]
            if not failing:
                break
            pairs = True
            pairs_tried.add(failing[0])
        k = failing[0]
        current = _score(found[k], rules)
        cons = constraints(grid, status, rules)
        labels = cons.components()
        comp = set(np.flatnonzero(labels == labels[k]).tolist()) if labels[k] >= 0 else {k}
        ok = _eligible(grid, status, rules)
        candidates = _candidates(grid, k, comp, ok, groups_of)
        if pairs:
            short = candidates[:MAX_PAIR_CANDIDATES]
            trials = [(a, b) for i, a in enumerate(short) for b in short[i + 1:]]
        else:
            trials = [(c,) for c in candidates[:MAX_CANDIDATES]]
        best, best_key = None, None
        for cells in trials:
            trial = status.copy()
            trial[list(cells)] = _SECONDARY
            _close_lines(grid, trial, rules, groups_of)
            added = float(np.nansum(values[(trial != _VISIBLE) & (status == _VISIBLE)]))
            score = _score(bounds(trial, [k])[k], rules)
            key = (score[0], score[1], -added)
            if best_key is None or key > best_key:
                best, best_key = trial, key
        if best is None or (best_key[0], best_key[1]) <= current:
            stuck.add(k)
            continue
        status = best
        stuck.clear()
        pairs_tried.clear()
    found = bounds(status, primaries.tolist())
    exposed = [k for k, iv in found.items() if rate(iv, lo_i, hi_i) == "exposed"]
    if exposed:
        before = status != _VISIBLE
        status = _hide_groups(grid, status, rules, exposed, groups_of)
        grid.widened = int(((status != _VISIBLE) & ~before).sum())
        found = bounds(status, primaries.tolist())
        exposed = [k for k, iv in found.items() if rate(iv, lo_i, hi_i) == "exposed"]
    return status, len(exposed), found


def _hide_groups(
    grid: _Grid, status: np.ndarray, rules: _Rules, exposed: list[int], groups_of: list[list[int]]
) -> np.ndarray:
    """The last resort for cells that hiding one or two more cells cannot protect: hide every shown count (not
    zeros where zeros are shown) of every line through them, then of their whole component, then of the
    table, until none is disclosed. Returns the new status."""
    status = status.copy()
    lo_i, hi_i = int(rules.lo), int(rules.hi)

    def still(st: np.ndarray) -> list[int]:
        cons = constraints(grid, st, rules)
        found = intervals(cons, exposed, integer=rules.integer)
        return [k for k, iv in found.items() if rate(iv, lo_i, hi_i) == "exposed"]

    for stage in ("lines", "component", "table"):
        ok = _eligible(grid, status, rules)
        if stage == "lines":
            cells = {int(c) for k in exposed for g in groups_of[k] for c in grid.groups[g][0]}
            cells |= {grid.groups[g][1] for k in exposed for g in groups_of[k] if grid.groups[g][1] >= 0}
        elif stage == "component":
            labels = constraints(grid, status, rules).components()
            cells = {int(c) for k in exposed if labels[k] >= 0 for c in np.flatnonzero(labels == labels[k])}
            cells |= {int(c) for k in cells for g in groups_of[k] for c in grid.groups[g][0]}
        else:
            cells = set(range(len(status)))
        cells = [c for c in cells if ok[c]]
        status[cells] = _SECONDARY
        exposed = still(status)
        if not exposed:
            break
    return status
