"""The structure of a table for disclosure control: its cells and the lines (groups of cells) that add up."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class _Grid:
    values: np.ndarray  # float, NaN where not a number (missing)
    groups: list[tuple[np.ndarray, int]]  # (member cells, total cell or -1)
    equation: list[bool]  # whether the group's total is known (in the table or published elsewhere)
    row_of: np.ndarray  # position of the cell's row in the table
    col_of: list[Hashable]  # the cell's column name
    virtual: np.ndarray | None = None  # cells never published (a complement such as n - events): always hidden
    widened: int = 0  # cells hidden by the last resort (whole lines or blocks), see protect._hide_groups

    def add_parts(
        self,
        parts: Mapping[Hashable, Hashable],
        columns: Sequence[Hashable],
        names: Mapping,
        keep_missing: bool = False,
    ) -> None:
        """Lines ``part + (whole - part) = whole`` on every row, the complement being a virtual column (in
        ``columns`` under ``names[part]``) that is never published but must not be derivable when small.
        ``keep_missing`` keeps rows whose complement is unknown (the audit: part or whole hidden)."""
        n_cols = len(columns)
        ci = {c: i for i, c in enumerate(columns)}
        n_rows = int(self.row_of.max()) + 1 if len(self.row_of) else 0
        virtual = self.virtual.copy() if self.virtual is not None else np.zeros(len(self.values), dtype=bool)
        for part, whole in parts.items():
            v = ci[names[part]]
            if n_rows:
                virtual[np.arange(n_rows) * n_cols + v] = True
            for r in range(n_rows):
                c = self.values[r * n_cols + v]
                if (np.isnan(c) and not keep_missing) or c < 0:  # no whole or part, or a part larger than its whole
                    continue
                self.groups.append((np.array([r * n_cols + ci[part], r * n_cols + v]), r * n_cols + ci[whole]))
                self.equation.append(True)
        self.virtual = virtual


def drop_false_lines(grid: _Grid) -> int:
    """Unhook (in place) each line's total cell when it is not the sum of the line's members in the true values:
    the declared structure is wrong there, and no attacker can use a false equation. The members' own sum is
    still taken as published elsewhere (the safe assumption). Returns how many lines changed."""
    dropped = 0
    for g, ((members, total), eq) in enumerate(zip(grid.groups, grid.equation, strict=True)):
        if not eq or total < 0 or np.isnan(grid.values[total]):
            continue
        if abs(float(np.nansum(grid.values[members])) - float(grid.values[total])) > 1e-6:
            grid.groups[g] = (members, -1)
            grid.equation[g] = len(members) >= 2
            dropped += 1
    return dropped


def _threshold(threshold: tuple[int, int]) -> tuple[float, float]:
    lo, hi = threshold
    if lo < 0 or hi < lo:
        raise ValueError(
            f"threshold must be (smallest, largest) counts to hide with 0 <= smallest <= largest; got {threshold}"
        )
    return float(lo), float(hi)


def _as_float(column: pd.Series, name: Hashable) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce")
    bad = values.isna() & column.notna()
    if bad.any():
        ex = column[bad].astype(str).head(3).tolist()
        raise ValueError(
            f"count column {name!r} has {int(bad.sum())} entries that are not numbers, e.g. {ex} at "
            f"rows {list(column.index[bad][:5])}; disclosure control needs the raw counts"
        )
    return values.to_numpy(dtype=float, na_value=np.nan)


def _is_int_column(s: pd.Series) -> bool:
    """A column of counts: whole numbers stored as integers, or as floats (a count column with a missing value
    is stored as floats by pandas, and must still be protected)."""
    if pd.api.types.is_bool_dtype(s):
        return False
    if pd.api.types.is_integer_dtype(s):
        return True
    if pd.api.types.is_float_dtype(s):
        v = s.dropna().to_numpy(dtype=float)
        return bool(len(v)) and bool(np.all(np.isfinite(v) & (v >= 0) & (v == np.round(v))))
    return False


def _default_count_columns(table: pd.DataFrame, exclude: set[Hashable]) -> list[Hashable]:
    cols = [c for c in table.columns if c not in exclude and _is_int_column(table[c])]
    if not cols:
        raise ValueError(
            "no count columns found: the table has no whole-number columns; name them with count_columns=[...]"
        )
    return cols


def _is_total(values: pd.Series, totals: set[str]) -> np.ndarray:
    return np.array([isinstance(v, str) and v in totals for v in values.astype(object)], dtype=bool)


def _wide_grid(
    table: pd.DataFrame,
    count_columns: list[Hashable],
    totals: set[str],
    label_columns: list[Hashable],
    columns_add_up: bool,
    assume_totals: bool,
) -> _Grid:
    n_rows = len(table)
    row_total = _is_total(pd.Series(table.index, index=table.index), totals)
    for c in label_columns:
        row_total |= _is_total(table[c], totals)
    total_rows = np.flatnonzero(row_total)
    if len(total_rows) > 1:
        raise ValueError(
            f"the table has {len(total_rows)} total rows (rows {list(table.index[total_rows])}); "
            "tables with subtotals are not supported: protect each block separately"
        )
    total_cols = [c for c in count_columns if isinstance(c, str) and c in totals] if columns_add_up else []
    if len(total_cols) > 1:
        raise ValueError(f"the table has several total columns {total_cols}; keep one")
    values = np.column_stack([_as_float(table[c], c) for c in count_columns]).ravel() if n_rows else np.array([])
    n_cols = len(count_columns)

    def cell(r: int, c: int) -> int:
        return r * n_cols + c

    groups: list[tuple[np.ndarray, int]] = []
    equation: list[bool] = []
    body_rows = [r for r in range(n_rows) if not row_total[r]]
    t_row = int(total_rows[0]) if len(total_rows) else -1
    for c in range(n_cols):
        members = np.array([cell(r, c) for r in body_rows], dtype=int)
        total = cell(t_row, c) if t_row >= 0 else -1
        if len(members) + (total >= 0) >= 2:
            groups.append((members, total))
            equation.append(total >= 0 or (assume_totals and len(members) >= 2))
    if columns_add_up:
        body_cols = [i for i, c in enumerate(count_columns) if c not in total_cols]
        t_col = count_columns.index(total_cols[0]) if total_cols else -1
        for r in range(n_rows):
            members = np.array([cell(r, c) for c in body_cols], dtype=int)
            total = cell(r, t_col) if t_col >= 0 else -1
            if len(members) + (total >= 0) >= 2:
                groups.append((members, total))
                equation.append(total >= 0 or (assume_totals and len(members) >= 2))
    row_of = np.repeat(np.arange(n_rows), n_cols)
    col_of = list(count_columns) * n_rows
    return _Grid(values, groups, equation, row_of, col_of)


def _tidy_grid(
    table: pd.DataFrame,
    count_columns: Hashable | Sequence[Hashable],
    by: list[str],
    totals: set[str],
    assume_totals: bool,
    blocks: Sequence[str] = (),
    margins: Sequence[str] = (),
    columns_add_up: bool = False,
    block_totals: Mapping[Hashable, Hashable] | None = None,
    partial: Sequence[str] = (),
) -> _Grid:
    """Lines of a tidy table (one row per combination of the ``by`` columns).

    Without ``blocks``, every line along one dimension (the other dimensions fixed) adds up to its total. With
    ``blocks`` (some of the ``by`` columns), lines run only along the other dimensions, inside each block, plus
    the lines along the ``margins`` dimensions, and one total per block when there is more than one inner
    dimension. ``block_totals`` maps a count column holding, on every row of
    a block, the block's total of another count column (``{"total": "crimes"}``). ``columns_add_up`` adds one
    line per row across the count columns (a count column named in ``totals`` is that line's total).

    ``partial`` names dimensions whose total row may exceed the sum of the categories shown (victims by sex,
    where sex is sometimes not recorded): each of their lines gets an unpublished remainder cell (at least 0,
    always hidden, and protected like a count when it is small), so the line reads ``members + remainder =
    total``. A line whose members add to more than its total is not a line of that total: the members' own sum
    is taken as published elsewhere.
    """
    cols = list(count_columns) if isinstance(count_columns, list | tuple) else [count_columns]
    block_totals = dict(block_totals or {})
    blocks = list(blocks)
    unknown = [d for d in [*blocks, *margins] if d not in by]
    if unknown:
        raise ValueError(f"block or margin column(s) {unknown} are not among the table's dimensions {by}")
    dup = table.duplicated(subset=by, keep=False).to_numpy()
    if dup.any():
        raise ValueError(
            f"the table has {int(dup.sum())} rows that repeat the same {by} combination (rows "
            f"{list(table.index[dup][:5])}); aggregate to one row per combination first"
        )
    n_rows, n_cols = len(table), len(cols)
    ci = {c: i for i, c in enumerate(cols)}
    for t_col, c_col in block_totals.items():
        if t_col not in ci or c_col not in ci:
            raise ValueError(f"block total {t_col!r} -> {c_col!r}: both must be count columns {cols}")
    plain = [c for c in cols if c not in block_totals]
    values = np.column_stack([_as_float(table[c], c) for c in cols]).ravel() if n_rows else np.array([])
    keys = table[by].astype(object).reset_index(drop=True)
    is_tot = {d: _is_total(keys[d], totals) for d in by}
    any_total = np.zeros(n_rows, dtype=bool)
    for d in by:
        any_total |= is_tot[d]
    groups: list[tuple[np.ndarray, int]] = []
    equation: list[bool] = []
    extra_values: list[float] = []
    extra_rows: list[int] = []
    extra_cols: list[Hashable] = []

    def add(members: np.ndarray, total: int) -> None:
        if len(members) + (total >= 0) >= 2:
            groups.append((members.astype(int), total))
            equation.append(total >= 0 or (assume_totals and len(members) >= 2))

    def add_partial(members: np.ndarray, total: int, col: Hashable) -> None:
        rest = values[total] - np.nansum(values[members])  # the audit marks remainders hidden whatever this is
        if rest < -1e-9:  # not a total of these members: their own sum is taken as published elsewhere
            add(members, -1)
            return
        k = len(values) + len(extra_values)
        extra_values.append(float(rest))
        extra_rows.append(total // n_cols)
        extra_cols.append(f"{col} not in categories")
        groups.append((np.append(members.astype(int), k), total))
        equation.append(True)

    partial = [d for d in partial if d in by]
    inner = [d for d in by if d not in blocks]
    for dim in [*inner, *[m for m in margins if m in blocks]]:
        others = [d for d in by if d != dim]
        grouped = keys.groupby(others, dropna=False, sort=False).indices if others else {(): np.arange(n_rows)}
        for idx in grouped.values():
            idx = np.asarray(idx)
            members = idx[~is_tot[dim][idx]]
            tots = idx[is_tot[dim][idx]]
            if len(tots) > 1:
                raise ValueError(
                    f"dimension {dim!r} has more than one total row for the same combination of the "
                    f"other columns (rows {list(table.index[tots])})"
                )
            for c in plain:
                total = int(tots[0]) * n_cols + ci[c] if len(tots) else -1
                if dim in partial and total >= 0:
                    add_partial(members * n_cols + ci[c], total, c)
                else:
                    add(members * n_cols + ci[c], total)
    block_index = keys.groupby(blocks, dropna=False, sort=False).indices if blocks else {(): np.arange(n_rows)}
    # The grand total of a column is the sum of its blocks' totals, which are lines already: no line of its own
    # (it would join every hidden cell of the column into one programme).
    if blocks and assume_totals:
        if len(inner) > 1:
            for idx in block_index.values():
                idx = np.asarray(idx)
                for c in plain:
                    add(idx[~any_total[idx]] * n_cols + ci[c], -1)
    for t_col, c_col in block_totals.items():
        for idx in block_index.values():
            idx = np.asarray(idx)
            first = int(idx[0]) * n_cols + ci[t_col]
            add(idx[~any_total[idx]] * n_cols + ci[c_col], first)
            for r in idx[1:]:  # the same total repeated on each row of the block
                add(np.array([int(r) * n_cols + ci[t_col]]), first)
    if columns_add_up:
        total_cols = [c for c in plain if isinstance(c, str) and c in totals]
        if len(total_cols) > 1:
            raise ValueError(f"the table has several total columns {total_cols}; keep one")
        body_cols = [ci[c] for c in plain if c not in total_cols]
        for r in range(n_rows):
            members = np.array([r * n_cols + c for c in body_cols], dtype=int)
            add(members, r * n_cols + ci[total_cols[0]] if total_cols else -1)
    row_of = np.repeat(np.arange(n_rows), n_cols)
    col_of = list(cols) * n_rows
    virtual = None
    if extra_values:
        virtual = np.r_[np.zeros(len(values), dtype=bool), np.ones(len(extra_values), dtype=bool)]
        values = np.r_[values, extra_values]
        row_of = np.r_[row_of, extra_rows]
        col_of += extra_cols
    return _Grid(values, groups, equation, row_of, col_of, virtual)
