"""The attacker's view of a protected table: the range each hidden count can take given everything published.

An attacker who sees a table with hidden cells knows

* every line (row, column, block) adds up to its total, whether the total is in the table or published elsewhere;
* every visible count exactly, or, under a rounding rule, to within the rounding base;
* every hidden count is a whole number, at least 1 where zeros are shown (a hidden cell cannot be a zero), at
  least 0 otherwise.

For each hidden cell, :func:`intervals` solves two integer linear programmes (smallest and largest value of the
cell subject to all of that) with HiGHS through :func:`scipy.optimize.linprog`. Cells are split into
independent components first (hidden cells joined by a shared line), so each programme is small.

:func:`rate` turns an interval into a verdict with the protection rule of this package:

* ``"strong"``: the interval holds at least two whole numbers and reaches past the suppression range (its
  upper end is above the largest suppressed count, or its lower end below the smallest). The attacker cannot
  even tell that the count is small.
* ``"weak"``: at least two whole numbers, all of them inside the suppression range. The attacker learns that
  the count is small, which the totals already say (a line whose total is 4 has only small cells), but not
  the count.
* ``"exposed"``: one value only: the count is disclosed.

Secondary suppression (:mod:`victimneeds.disclosure.core`) hides further cells until every primary cell is
``"strong"``, or ``"weak"`` where nothing more can be hidden to widen it.

References
----------
Hundepool A et al. (2012). Statistical Disclosure Control. Wiley, section 4.2 (the attacker's linear
programmes, "protection intervals" and the audit of a suppression pattern).
Fischetti M, Salazar-Gonzalez JJ (1999). Models and algorithms for the 2-dimensional cell suppression
problem in statistical disclosure control. Mathematical Programming 84, 283-312.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

__all__ = ["Constraints", "intervals", "rate"]

_TOL = 1e-6


@dataclass
class Constraints:
    """What an attacker knows about a table of cells.

    Attributes
    ----------
    lower, upper : bounds of each cell (equal for a visible exact count; ``inf`` above a hidden one).
    lines : ``(members, total, constant)``: the members add up to the cell ``total`` (``-1`` when the total
        is not a cell), plus ``constant`` (the known total, with a minus sign, or 0).
    """

    lower: np.ndarray
    upper: np.ndarray
    lines: list[tuple[np.ndarray, int, float]]

    def free(self) -> np.ndarray:
        return self.upper - self.lower > _TOL

    def components(self) -> np.ndarray:
        """A component label per cell: free cells joined by a line share a label; fixed cells get -1."""
        free = self.free()
        parent = np.arange(len(self.lower))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for members, total, _ in self.lines:
            cells = [int(m) for m in members if free[m]] + ([total] if total >= 0 and free[total] else [])
            for a, b in zip(cells, cells[1:], strict=False):
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[ra] = rb
        labels = np.array([find(i) for i in range(len(parent))])
        labels[~free] = -1
        return labels


def _programme(cons: Constraints, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Equality system over ``cells`` (free cells of one component): A x = b."""
    pos = {int(c): k for k, c in enumerate(cells)}
    rows, rhs = [], []
    for members, total, constant in cons.lines:
        touched = [int(m) for m in members if int(m) in pos] + ([total] if total in pos else [])
        if not touched:
            continue
        row = np.zeros(len(cells))
        b = -constant
        for m in members:
            m = int(m)
            if m in pos:
                row[pos[m]] += 1.0
            else:
                b -= cons.lower[m]
        if total >= 0:
            if total in pos:
                row[pos[total]] -= 1.0
            else:
                b += cons.lower[total]
        rows.append(row)
        rhs.append(b)
    bounds = [(cons.lower[c], None if math.isinf(cons.upper[c]) else cons.upper[c]) for c in cells]
    a = np.array(rows) if rows else np.zeros((0, len(cells)))
    return a, np.array(rhs), bounds


def _solve(c: np.ndarray, a: np.ndarray, b: np.ndarray, bounds: list, integer: bool):
    return linprog(
        c,
        A_eq=a if len(a) else None,
        b_eq=b if len(a) else None,
        bounds=bounds,
        method="highs",
        integrality=np.ones(len(c)) if integer else None,
    )


def intervals(
    cons: Constraints, targets: Iterable[int], integer: bool = True
) -> dict[int, tuple[float, float]]:
    """The smallest and largest value each target cell can take, given everything the attacker knows.

    Parameters
    ----------
    cons : the attacker's knowledge (:class:`Constraints`).
    targets : cells to bound (normally the primary cells).
    integer : solve integer programmes (the attacker knows counts are whole numbers); False solves the
        linear relaxation, which is faster and never narrower.

    Returns
    -------
    ``{cell: (low, high)}``; ``high`` may be ``inf``.

    Examples
    --------
    A line of three cells adding to 20, one visible (15); the hidden two are at least 1 each:

    >>> c = Constraints(np.array([1.0, 1.0, 15.0]), np.array([np.inf, np.inf, 15.0]),
    ...                 [(np.array([0, 1, 2]), -1, -20.0)])
    >>> intervals(c, [0])
    {0: (1.0, 4.0)}
    """
    targets = [int(t) for t in targets]
    out: dict[int, tuple[float, float]] = {}
    labels = cons.components()
    for t in targets:
        if labels[t] < 0:
            out[t] = (float(cons.lower[t]), float(cons.upper[t]))
            continue
        cells = np.flatnonzero(labels == labels[t])
        a, b, bounds = _programme(cons, cells)
        k = int(np.flatnonzero(cells == t)[0])
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(len(cells))
            c[k] = sign
            res = _solve(c, a, b, bounds, integer)
            if res.status not in (0, 3) and integer:  # HiGHS may say "infeasible or unbounded": ask the relaxation
                relaxed = _solve(c, a, b, bounds, False)
                if relaxed.status == 3:
                    res = relaxed
            if res.status == 3:  # unbounded
                ends.append(math.inf if sign < 0 else -math.inf)
            elif res.status != 0:
                raise RuntimeError(
                    f"the attacker's programme for cell {t} could not be solved ({res.message}); the published "
                    "values do not fit the table's structure"
                )
            else:
                ends.append(float(res.x[k]))
        out[t] = (ends[0], ends[1])
    return out


def rate(interval: tuple[float, float], smallest: int, largest: int) -> str:
    """Verdict for one hidden count: ``"strong"``, ``"weak"`` or ``"exposed"`` (see the module notes).

    Parameters
    ----------
    interval : (low, high) from :func:`intervals`.
    smallest, largest : the suppression range, e.g. (1, 4).

    Examples
    --------
    >>> rate((1.0, 12.0), 1, 4), rate((1.0, 3.0), 1, 4), rate((2.0, 2.0), 1, 4)
    ('strong', 'weak', 'exposed')
    """
    low, high = interval
    n_values = (math.floor(high + _TOL) if not math.isinf(high) else math.inf) - math.ceil(low - _TOL) + 1
    if n_values < 2:
        return "exposed"
    if high >= largest + 1 - _TOL or low <= smallest - 1 + _TOL:
        return "strong"
    return "weak"


def worst(ratings: Sequence[str]) -> str:
    """The worst of several verdicts (``"strong"`` when there are none)."""
    for r in ("exposed", "weak"):
        if r in ratings:
            return r
    return "strong"
