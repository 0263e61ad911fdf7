"""How many suppressed small counts an attacker can pin down, before and after the LP-checked suppression.

Random two-way tables (3 to 6 rows and columns, a mix of zeros, small counts and larger ones) are published with
their row, column and grand totals. The attacker knows every visible cell, that rows and columns add up, and
that a hidden cell is a whole number of at least 1 (zeros are shown). For each suppressed small count (1 to 4)
it solves two integer programmes (scipy.optimize.linprog, HiGHS) for the smallest and largest value.

Usage: python bench/disclosure_attack.py [n_tables] [old_module.py]
The old module is the previous victimneeds/disclosure.py (``git show 10d2fbc:victimneeds/disclosure.py``).
"""

from __future__ import annotations

import importlib.util
import sys
import time

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from victimneeds import disclosure as new


def random_table(rng: np.random.Generator) -> pd.DataFrame:
    n_r, n_c = rng.integers(3, 7, size=2)
    kind = rng.choice(3, size=(n_r, n_c), p=[0.1, 0.35, 0.55])
    body = np.where(kind == 0, 0, np.where(kind == 1, rng.integers(1, 5, (n_r, n_c)), rng.integers(5, 60, (n_r, n_c))))
    full = np.vstack([body, body.sum(axis=0)])
    full = np.hstack([full, full.sum(axis=1, keepdims=True)])
    cols = [f"g{j}" for j in range(n_c)] + ["Total"]
    t = pd.DataFrame(full, columns=cols)
    t.insert(0, "district", [f"d{i}" for i in range(n_r)] + ["Total"])
    return t


def attack(full: np.ndarray, hidden: np.ndarray) -> dict[tuple[int, int], tuple[float, float]]:
    cells = [tuple(x) for x in np.argwhere(hidden)]
    pos = {c: k for k, c in enumerate(cells)}
    n = len(cells)
    n_r, n_c = full.shape
    rows, rhs = [], []
    lines = [[(i, j) for j in range(n_c)] for i in range(n_r)] + [[(i, j) for i in range(n_r)] for j in range(n_c)]
    for line in lines:
        *members, total = line
        row, b = np.zeros(n), 0.0
        for c in members:
            if c in pos:
                row[pos[c]] += 1
            else:
                b -= full[c]
        if total in pos:
            row[pos[total]] -= 1
        else:
            b += full[total]
        if row.any():
            rows.append(row)
            rhs.append(b)
    out = {}
    for cell, k in pos.items():
        if not 1 <= full[cell] <= 4:
            continue
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(n)
            c[k] = sign
            res = linprog(c, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=[(1, None)] * n, method="highs",
                          integrality=np.ones(n))
            ends.append(np.inf if res.status != 0 and sign < 0 else float(res.x[k]))
        out[cell] = (ends[0], ends[1])
    return out


def run(module, tables: list[pd.DataFrame]) -> dict[str, float]:
    pinned = narrowed = primaries = tables_pinned = hidden_total = failed = 0
    start = time.process_time()
    for t in tables:
        cols = [c for c in t.columns if c != "district"]
        try:
            safe, _ = module.apply(t)
        except ValueError:
            failed += 1
            continue
        full = t[cols].to_numpy()
        hidden = np.array([[isinstance(v, str) for v in row] for row in safe[cols].to_numpy()])
        hidden_total += int(hidden.sum())
        bounds = attack(full, hidden)
        primaries += len(bounds)
        p = sum(1 for lo, hi in bounds.values() if hi - lo < 0.5)
        pinned += p
        tables_pinned += p > 0
        narrowed += sum(1 for lo, hi in bounds.values() if hi < 5)
    return {"tables": len(tables), "primary cells": primaries, "hidden cells": hidden_total,
            "pinned exactly": pinned, "tables with a pinned cell": tables_pinned,
            "narrowed to 1-4 (incl. pinned)": narrowed, "tables refused": failed,
            "cpu seconds": round(time.process_time() - start, 1)}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    rng = np.random.default_rng(2026)
    tables = [random_table(rng) for _ in range(n)]
    if len(sys.argv) > 2:
        spec = importlib.util.spec_from_file_location("old_disclosure", sys.argv[2])
        old = importlib.util.module_from_spec(spec)
        sys.modules["old_disclosure"] = old
        spec.loader.exec_module(old)
        print("old:", run(old, tables))
    print("new:", run(new, tables))


if __name__ == "__main__":
    main()
