"""Statistical disclosure control for tables of counts about victims.

Counts of victims are personal data: a cell of 1 to 4 victims of a given crime in a given district can
identify someone. Every table that leaves the package passes through :func:`apply`, which

1. hides small counts (1 to 4 by default; zeros stay visible) -- *primary suppression*;
2. hides further cells so that no hidden count can be worked out, or narrowed down, from the totals --
   *secondary suppression*. Every line (row, column, or in a tidy table a line along one dimension inside a
   block) with exactly one hidden cell gets a second one, never a zero while zeros are shown. Then the
   attacker's integer programmes (:mod:`victimneeds.disclosure.attack`) bound each small count given
   every total, every visible count (to within the rounding base when rounded) and the fact that a hidden
   count is at least 1; cells are added until each interval reaches above the threshold;
3. hides rates, percentages and intervals computed from a hidden count (``linked`` columns), and shares
   whose implied count is small (``shares``);
4. optionally rounds the visible counts to a base (5 by default).

Hidden cells hold the text symbol (``"[c]"``, the GSS convention for "confidential"); the column becomes
an object column, other cells keep their numbers. :func:`check_safe` is the last guard: it raises if any
visible count is still small.

Totals not in the table are assumed published elsewhere (``assume_totals``). Differencing between separate
tables is audited by :func:`victimneeds.audit.audit_pack` for tables registered with the same source.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Number

import numpy as np
import pandas as pd

from victimneeds.disclosure.attack import rate
from victimneeds.disclosure.grid import (
    _default_count_columns,
    _Grid,
    _is_int_column,
    _threshold,
    _tidy_grid,
    _wide_grid,
    drop_false_lines,
)
from victimneeds.disclosure.policy import DisclosurePolicy
from victimneeds.disclosure.protect import _PRIMARY, _SECONDARY, _VISIBLE, _determined, _protect, _Rules

__all__ = ["DisclosureReport", "apply", "check_safe", "recoverable_cells", "round_counts", "suppress"]

DEFAULT_SYMBOL = "[c]"
DEFAULT_TOTALS: tuple[str, ...] = ("Total", "All")


@dataclass
class DisclosureReport:
    """What disclosure control did to one table.

    Attributes
    ----------
    cells : number of count cells examined.
    primary : cells hidden because the count was small.
    secondary : cells hidden so that the small ones cannot be recovered from totals.
    linked : derived cells (rates, percentages, intervals) hidden with their count.
    unresolved : hidden cells that could still be recovered and for which no further cell could be found
        (0 in a safe table; apply raises otherwise).
    threshold : (smallest, largest) count hidden.
    symbol : the text that replaces hidden cells.
    rounded_to : the rounding base, or None.
    suppressed : one row per hidden cell: ``row`` (index label), ``column`` and ``reason``. Values are not
        included, but the reasons tell which hidden cells are small: keep it out of the published pack.
    strong, weak : primary cells whose attacker's interval reaches above the threshold, and those left with
        at least two values all within the suppression range (see :func:`victimneeds.disclosure.attack.rate`).
    audit : one row per primary cell: ``row``, ``column``, the attacker's ``low`` and ``high`` bounds and the
        ``protection`` verdict. Internal, like ``suppressed``.
    notes : sentences for the table's notes: what disclosure control had to do beyond hiding cells (totals
        that did not add up, blocks hidden whole).
    """

    cells: int = 0
    primary: int = 0
    secondary: int = 0
    linked: int = 0
    unresolved: int = 0
    threshold: tuple[int, int] = (1, 4)
    symbol: str = DEFAULT_SYMBOL
    rounded_to: int | None = None
    suppressed: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["row", "column", "reason", "position"])
    )
    strong: int = 0
    weak: int = 0
    audit: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["row", "column", "low", "high", "protection", "position"])
    )
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One paragraph for the notes of a published table."""
        lo, hi = self.threshold
        text = (
            f"Disclosure control: of {self.cells:,} count cells, {self.primary:,} with counts of {lo} to {hi} "
            f"are shown as {self.symbol}, and {self.secondary:,} further cells are shown as {self.symbol} so "
            "that they cannot be worked out from totals"
        )
        if self.linked:
            text += f"; {self.linked:,} rates, percentages or intervals based on them are also hidden"
        if self.rounded_to:
            text += f". Other counts are rounded to the nearest {self.rounded_to}"
        return text + "."

    def to_frame(self) -> pd.DataFrame:
        """The counts as a one-row table."""
        return pd.DataFrame(
            [
                {
                    "cells": self.cells,
                    "primary": self.primary,
                    "secondary": self.secondary,
                    "linked": self.linked,
                    "unresolved": self.unresolved,
                    "threshold": f"{self.threshold[0]}-{self.threshold[1]}",
                    "symbol": self.symbol,
                    "rounded_to": self.rounded_to,
                }
            ]
        )

    def __str__(self) -> str:
        return self.summary()

    def get(self, key: str, default: object = None) -> object:
        """Dictionary-style access to the counts, e.g. ``report.get("primary", 0)``."""
        return getattr(self, key, default)

    def __getitem__(self, key: str) -> object:
        if not hasattr(self, key):
            raise KeyError(key)
        return getattr(self, key)


# --------------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------------


def _prepare(
    table: pd.DataFrame,
    count_columns: Sequence[Hashable] | None,
    by: str | Sequence[str] | None,
    linked: Mapping[Hashable, Sequence[Hashable]] | None,
    shares: Mapping[Hashable, tuple[Hashable, float]] | None = None,
) -> tuple[list[Hashable], list[str], dict]:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(table).__name__}")
    linked = {k: list(v) for k, v in (linked or {}).items()}
    by_cols = [by] if isinstance(by, str) else list(by or [])
    derived = {c for cols in linked.values() for c in cols}
    if count_columns is None:
        cols = _default_count_columns(table, derived | set(by_cols))
    else:
        cols = [count_columns] if isinstance(count_columns, str) else list(count_columns)
    shares = dict(shares or {})
    share_cols = [*shares, *(d for d, _ in shares.values())]
    missing = [c for c in [*cols, *by_cols, *linked, *derived, *share_cols] if c not in table.columns]
    if missing:
        raise KeyError(f"the table has no column(s) {missing}; its columns are {list(table.columns)}")
    not_counted = [k for k in linked if k not in cols and k not in shares]
    if not_counted:
        raise ValueError(f"linked names {not_counted}, which are not count columns {cols} (or declared shares)")
    not_counts = [d for d, _ in shares.values() if d not in cols]
    if not_counts:
        raise ValueError(f"shares are of {not_counts}, which are not count columns {cols}")
    return cols, by_cols, linked


def _suppress(
    table: pd.DataFrame,
    count_columns: Sequence[Hashable] | None = None,
    threshold: tuple[int, int] = (1, 4),
    symbol: str = DEFAULT_SYMBOL,
    secondary: bool = True,
    totals: str | Sequence[str] | None = DEFAULT_TOTALS,
    linked: Mapping | None = None,
    by: str | Sequence[str] | None = None,
    columns_add_up: bool = True,
    assume_totals: bool = True,
    index: str | Sequence[str] | None = None,
    *,
    blocks: Sequence[str] | None = None,
    margins: Sequence[str] = (),
    block_totals: Mapping[Hashable, Hashable] | None = None,
    shares: Mapping[Hashable, object] | None = None,
    rounding: int | None = None,
    strong: bool = True,
    block_derived: Sequence[Hashable] = (),
    parts: Mapping[Hashable, Hashable] | None = None,
    partial: Sequence[str] = (),
) -> tuple[pd.DataFrame, DisclosureReport]:
    share_map = _shares(shares)
    cols, by_cols, linked_map = _prepare(table, count_columns, by, linked, share_map)
    parts = dict(parts or {})
    bad = [f"{p} of {w}" for p, w in parts.items() if p not in cols or w not in cols]
    if bad:
        raise ValueError(f"parts {bad}: both the part and its whole must be count columns {cols}")
    names = {p: f"{w} minus {p}" for p, w in parts.items()}
    work = table
    if parts:
        work = table.copy()
        for p, w in parts.items():
            work[names[p]] = pd.to_numeric(table[w], errors="coerce") - pd.to_numeric(table[p], errors="coerce")
    grid_cols = [*cols, *names.values()]
    lo, hi = _threshold(threshold)
    rules = _Rules(lo=lo, hi=hi, hidden_lower=1.0 if lo >= 1 else 0.0, rounding=rounding, strong=strong)
    report = DisclosureReport(threshold=(int(lo), int(hi)), symbol=symbol)
    out = table.copy()
    if not cols:
        return out, report
    total_labels = {totals} if isinstance(totals, str) else set(totals or ())
    grids: list[_Grid] = []
    if by_cols and (blocks is not None or block_totals or len(cols) == 1 or margins or parts or partial):
        grids.append(
            _tidy_grid(
                work, grid_cols, by_cols, total_labels, assume_totals, blocks=list(blocks or []), margins=margins,
                columns_add_up=columns_add_up and not parts, block_totals=block_totals, partial=partial,
            )
        )
    elif by_cols:  # several count columns on the same dimensions: protected one by one, as before
        for c in cols:
            grids.append(_tidy_grid(table, c, by_cols, total_labels, assume_totals))
    else:
        derived = {d for ds in linked_map.values() for d in ds}
        if index is not None:
            labels = [index] if isinstance(index, str) else list(index)
            absent = [c for c in labels if c not in table.columns]
            if absent:
                raise KeyError(f"the table has no label column(s) {absent}; its columns are {list(table.columns)}")
        else:
            labels = [
                c
                for c in table.columns
                if c not in cols and c not in derived and not pd.api.types.is_numeric_dtype(table[c])
            ]
        grids.append(_wide_grid(work, grid_cols, total_labels, labels, columns_add_up and not parts, assume_totals))
    if parts:
        grids[0].add_parts(parts, grid_cols, names)
    false_lines = sum(drop_false_lines(grid) for grid in grids)
    if false_lines:
        report.notes.append(
            f"{false_lines} total(s) in the table are not the sum of the cells they total; those sums were not "
            "used in choosing the hidden cells"
        )
    records = []
    audit_rows = []
    for grid in grids:
        status, unresolved, found = _protect(grid, rules, secondary)
        real = ~grid.virtual if grid.virtual is not None else np.ones(len(status), dtype=bool)
        if grid.widened:
            report.notes.append(
                f"Some small counts could not be protected by hiding single further cells, so {grid.widened} "
                "further cells were hidden: the whole rows or blocks around them"
            )
        if unresolved:  # nothing short of the whole table protects them: withhold every count
            status = np.where(~np.isnan(grid.values) & (status == _VISIBLE), _SECONDARY, status)
            report.notes.append("The counts of this table could not be protected one by one and are all hidden")
            unresolved = 0
        report.cells += int((~np.isnan(grid.values) & real).sum())
        report.primary += int(((status == _PRIMARY) & real).sum())
        report.secondary += int(((status == _SECONDARY) & real).sum())
        report.unresolved += unresolved
        for k in np.flatnonzero((status != _VISIBLE) & real):
            records.append((int(grid.row_of[k]), grid.col_of[k], "primary" if status[k] == _PRIMARY else "secondary"))
        for k, (low, high) in found.items():
            verdict = rate((low, high), int(lo), int(hi))
            r = int(grid.row_of[k])
            audit_rows.append((table.index[r], grid.col_of[k], low, high, verdict, r))
    report.audit = pd.DataFrame(audit_rows, columns=["row", "column", "low", "high", "protection", "position"])
    report.strong = int((report.audit["protection"] == "strong").sum())
    report.weak = int((report.audit["protection"] == "weak").sum())
    hide: dict[Hashable, np.ndarray] = {}
    for row, col, _ in records:
        hide.setdefault(col, np.zeros(len(table), dtype=bool))[row] = True
    none = np.zeros(len(table), dtype=bool)
    for share, (denominator, scale) in share_map.items():
        # a share shown beside its visible denominator gives its numerator away: hide it when that is small
        num = pd.to_numeric(table[share], errors="coerce").to_numpy(dtype=float) / scale
        den = pd.to_numeric(table[denominator], errors="coerce").to_numpy(dtype=float)
        implied = np.round(num * den)
        small = ~np.isnan(implied) & (implied >= lo) & (implied <= hi) & ~hide.get(denominator, none)
        new = small & ~hide.get(share, none)
        records.extend((int(r), share, f"implied count from {denominator}") for r in np.flatnonzero(new))
        report.linked += int(new.sum())
        hide[share] = hide.get(share, none) | small | hide.get(denominator, none)
    for source_col, derived_cols in linked_map.items():
        mask = hide.get(source_col)
        if mask is None:
            continue
        for d in derived_cols:
            new = mask & ~hide.get(d, none) & out[d].notna().to_numpy()
            report.linked += int(new.sum())
            records.extend((int(r), d, f"linked to {source_col}") for r in np.flatnonzero(new))
            hide[d] = hide.get(d, none) | mask
    if block_derived:
        # columns with one value per block (a share of the block, say): hidden across the block
        any_hidden = none.copy()
        for c in cols:
            any_hidden |= hide.get(c, none)
        keys = table[list(blocks)].astype(object).reset_index(drop=True) if blocks else None
        index_sets = keys.groupby(list(blocks), dropna=False, sort=False).indices if blocks else {(): range(len(table))}
        for idx in index_sets.values():
            idx = np.asarray(idx, dtype=int)
            if not any_hidden[idx].any():
                continue
            for d in block_derived:
                mask = hide.setdefault(d, none.copy())
                new = idx[~mask[idx] & table[d].iloc[idx].notna().to_numpy()]
                records.extend((int(r), d, "linked to its block") for r in new)
                report.linked += len(new)
                mask[idx] = True
    for col, mask in hide.items():
        if mask.any():
            position = out.columns.get_loc(col)
            values = out[col].astype(object).to_numpy().copy()
            values[mask] = symbol
            out.isetitem(position, pd.Series(values, index=out.index, dtype=object))
    report.suppressed = pd.DataFrame(
        [(table.index[r], c, why, r) for r, c, why in records], columns=["row", "column", "reason", "position"]
    )
    return out, report


def _shares(shares: Mapping[Hashable, object] | None) -> dict[Hashable, tuple[Hashable, float]]:
    """``{share column: denominator}`` (a percentage) or ``{share: (denominator, scale)}``."""
    out = {}
    for share, spec in (shares or {}).items():
        if isinstance(spec, tuple):
            denominator, scale = spec
        else:
            denominator, scale = spec, 100.0
        out[share] = (denominator, float(scale))
    return out


def suppress(
    table: pd.DataFrame,
    count_columns: Sequence[Hashable] | None = None,
    threshold: tuple[int, int] = (1, 4),
    symbol: str = DEFAULT_SYMBOL,
    secondary: bool = True,
    totals: str | Sequence[str] | None = DEFAULT_TOTALS,
    linked: Mapping[Hashable, Sequence[Hashable]] | None = None,
    by: str | Sequence[str] | None = None,
    columns_add_up: bool = True,
    assume_totals: bool = True,
    *,
    min_count: int | None = None,
    max_suppressed: int | None = None,
    index: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Hide small counts, and the cells that would let them be recovered from totals.

    Works on a *wide* table (rows are categories such as districts, ``count_columns`` are categories such as
    crime groups) or, with ``by``, on a *tidy* table (one row per combination of the ``by`` columns, counts
    in ``count_columns``). Total rows and columns are recognised by their label (``totals``).

    Parameters
    ----------
    table : the table; not changed.
    count_columns : columns of counts to protect. Default: every whole-number column not named in ``by``
        or ``linked``.
    threshold : (smallest, largest) count to hide, (1, 4) by default: zeros stay visible. Use (0, 4) to
        hide zeros too, (1, 9) for a stricter rule.
    symbol : text shown in hidden cells.
    secondary : add secondary suppression (True by default; turn off only for tables with no totals
        anywhere, such as a single count).
    totals : labels of total rows and columns: a wide table's total row has this label in its index or in
        a text column; its total column has this name. In a tidy table, a ``by`` column holding this label
        marks a total. Default ``("Total", "All")``.
    linked : ``{count column: [derived columns]}``; derived cells (rates, percentages, limits) in a row
        whose count is hidden are hidden too.
    by : the dimension columns of a tidy table. Each line along one dimension (other dimensions fixed) is
        protected as a row or column is.
    columns_add_up : wide tables only; True when the count columns are categories of one variable (their
        row sum means something). Set False when they are different measures, e.g. crimes and referrals:
        then only the columns are protected, each on its own.
    assume_totals : True (default) treats every row and column as if its total were published elsewhere
        (the district total, the force total), which is the safe assumption for an evidence pack. False
        protects only against totals present in this table.
    min_count, max_suppressed : another way to give ``threshold``; when given they replace its ends.
    index : wide tables only: the label column(s) in which total rows are looked for. Default: every text
        column (and the index).

    Returns
    -------
    A copy of the table in which hidden cells hold ``symbol`` (those columns become object columns; other
    cells keep their numbers).

    References
    ----------
    Hundepool A et al. (2012). Statistical Disclosure Control. Wiley, ch. 4 (tabular data, primary and
    secondary cell suppression). Government Statistical Service (2021). Symbols in tables: "[c]".

    Examples
    --------
    >>> t = pd.DataFrame({"district": ["North", "South", "Total"], "Burglary": [12, 3, 15],
    ...                   "Robbery": [20, 9, 29], "Total": [32, 12, 44]})
    >>> suppress(t)
      district Burglary Robbery  Total
    0    North      [c]     [c]     32
    1    South      [c]     [c]     12
    2    Total       15      29     44
    """
    threshold = _merge_threshold(threshold, min_count, max_suppressed)
    return _suppress(
        table, count_columns, threshold, symbol, secondary, totals, linked, by, columns_add_up, assume_totals, index
    )[0]


def _merge_threshold(threshold: tuple[int, int], min_count: int | None, max_suppressed: int | None) -> tuple[int, int]:
    lo, hi = threshold
    return (lo if min_count is None else min_count, hi if max_suppressed is None else max_suppressed)


def recoverable_cells(
    table: pd.DataFrame,
    count_columns: Sequence[Hashable] | None = None,
    symbol: str = DEFAULT_SYMBOL,
    totals: str | Sequence[str] | None = DEFAULT_TOTALS,
    by: str | Sequence[str] | None = None,
    columns_add_up: bool = True,
    assume_totals: bool = True,
) -> pd.DataFrame:
    """Audit a published table: the hidden cells that could be worked out exactly from its totals.

    Hidden cells are those holding ``symbol`` (or missing). A hidden cell is recoverable when the
    equations "cells of a row or column add up to its total" determine it, whatever the other hidden
    values are. An empty result means no hidden cell can be recovered by subtraction.

    Parameters
    ----------
    table : a table after :func:`suppress`.
    count_columns, symbol, totals, by, columns_add_up, assume_totals : as for :func:`suppress`.

    Returns
    -------
    One row per recoverable cell: ``row`` (index label) and ``column``.

    Examples
    --------
    >>> t = pd.DataFrame({"district": ["North", "South", "Total"], "Burglary": ["[c]", 30, 33]})
    >>> recoverable_cells(t, count_columns=["Burglary"])
       row    column
    0    0  Burglary
    """
    if count_columns is None:
        count_columns = _count_like_columns(table, symbol)
    cols = [count_columns] if isinstance(count_columns, str) else list(count_columns)
    shown = table.copy()
    for c in cols:
        shown[c] = table[c].astype(object).where(table[c].astype(object) != symbol, np.nan)
    by_cols = [by] if isinstance(by, str) else list(by or [])
    labels = {totals} if isinstance(totals, str) else set(totals or ())
    if by_cols:
        grids = [_tidy_grid(shown, c, by_cols, labels, assume_totals) for c in cols]
    else:
        text = [c for c in table.columns if c not in cols and not pd.api.types.is_numeric_dtype(table[c])]
        grids = [_wide_grid(shown, cols, labels, text, columns_add_up, assume_totals)]
    rows = []
    for grid in grids:
        hidden = np.isnan(grid.values)
        for k in np.flatnonzero(_determined(grid, hidden)):
            rows.append((table.index[int(grid.row_of[k])], grid.col_of[k]))
    return pd.DataFrame(rows, columns=["row", "column"])


def round_counts(table: pd.DataFrame, columns: Sequence[Hashable] | None = None, base: int = 5) -> pd.DataFrame:
    """Round counts to the nearest multiple of ``base`` (halves round up); text such as ``"[c]"`` is kept.

    Parameters
    ----------
    table : the table; not changed.
    columns : columns to round. Default: whole-number columns and columns of numbers mixed with symbols.
    base : rounding base, 5 by default (10 is also common).

    Returns
    -------
    A copy of the table with rounded counts.

    References
    ----------
    Hundepool A et al. (2012). Statistical Disclosure Control. Wiley, section 4.6 (rounding).

    Examples
    --------
    >>> round_counts(pd.DataFrame({"victims": [0, 2, 3, 12, 13, 1250], "rate": [0.1] * 6}), ["victims"])
       victims  rate
    0        0   0.1
    1        0   0.1
    2        5   0.1
    3       10   0.1
    4       15   0.1
    5     1250   0.1
    """
    if base <= 0:
        raise ValueError(f"the rounding base must be a positive whole number; got {base}")
    cols = _count_like_columns(table, None) if columns is None else list(columns)
    out = table.copy()

    def rnd(v: object) -> object:
        if isinstance(v, Number) and not isinstance(v, bool) and not pd.isna(v):
            r = base * np.floor(float(v) / base + 0.5)
            return int(r) if float(r).is_integer() else r
        return v

    for c in cols:
        if c not in out.columns:
            raise KeyError(f"round_counts: the table has no column {c!r}")
        if pd.api.types.is_integer_dtype(out[c]) and not pd.api.types.is_bool_dtype(out[c]):
            out[c] = (base * np.floor(out[c].astype(float) / base + 0.5)).astype(out[c].dtype)
        elif pd.api.types.is_float_dtype(out[c]):
            out[c] = base * np.floor(out[c] / base + 0.5)
        else:
            out[c] = out[c].astype(object).map(rnd)
    return out


def _symbol_or_whole(v: object, symbol: str | None) -> bool:
    if isinstance(v, str):
        return v == symbol or (v.startswith("[") and v.endswith("]"))
    return isinstance(v, Number) and not isinstance(v, bool) and float(v).is_integer()


def _count_like_columns(table: pd.DataFrame, symbol: str | None) -> list[Hashable]:
    """Whole-number columns, and object columns holding only whole numbers and bracketed symbols."""
    cols = []
    for c in table.columns:
        s = table[c]
        if pd.api.types.is_bool_dtype(s):
            continue
        if _is_int_column(s):  # whole numbers, stored as integers or as floats (NaN beside them)
            cols.append(c)
        elif s.dtype == object:
            vals = s.dropna()
            only_symbol = symbol is not None and all(isinstance(v, str) and v == symbol for v in vals)
            if (
                len(vals)
                and all(_symbol_or_whole(v, symbol) for v in vals)
                and (only_symbol or any(isinstance(v, Number) for v in vals))
            ):
                cols.append(c)
    return cols


def check_safe(
    table: pd.DataFrame,
    count_columns: Sequence[Hashable] | None = None,
    threshold: tuple[int, int] = (1, 4),
    name: str = "table",
) -> None:
    """Raise if any visible count lies in the suppression range (1 to 4 by default).

    Parameters
    ----------
    table : a table about to be published.
    count_columns : columns to check. Default: whole-number columns, and object columns holding only
        whole numbers and bracketed symbols such as ``"[c]"`` (that is, suppressed count columns).
    threshold : (smallest, largest) count that must not be visible.
    name : the table's name (e.g. the file), quoted in the error.

    Examples
    --------
    >>> check_safe(pd.DataFrame({"victims": [0, 12, "[c]"]}))
    >>> check_safe(pd.DataFrame({"victims": [3, 12]}), name="victims_by_district.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: victims_by_district.csv is not safe to publish: column 'victims' shows 1 count(s) between 1 and 4 ...
    """
    lo, hi = _threshold(threshold)
    cols = _count_like_columns(table, None) if count_columns is None else list(count_columns)
    problems = []
    for c in cols:
        s = table[c]
        nums = pd.to_numeric(s.where(s.map(lambda v: not isinstance(v, str))), errors="coerce")
        bad = ((nums >= lo) & (nums <= hi)).to_numpy(dtype=bool, na_value=False)
        if bad.any():
            problems.append(
                f"column {c!r} shows {int(bad.sum())} count(s) between {int(lo)} and {int(hi)} at rows "
                f"{list(table.index[bad][:5])}"
            )
    if problems:
        raise ValueError(
            f"{name} is not safe to publish: " + "; ".join(problems) + "; run victimneeds.disclosure.apply on it first."
        )


def apply(
    table: pd.DataFrame,
    count_columns: Sequence[Hashable] | None = None,
    *,
    threshold: tuple[int, int] = (1, 4),
    symbol: str = DEFAULT_SYMBOL,
    secondary: bool = True,
    totals: str | Sequence[str] | None = DEFAULT_TOTALS,
    linked: Mapping[Hashable, Sequence[Hashable]] | None = None,
    by: str | Sequence[str] | None = None,
    columns_add_up: bool = True,
    assume_totals: bool = True,
    round_to: int | None = None,
    min_count: int | None = None,
    max_suppressed: int | None = None,
    index: str | Sequence[str] | None = None,
    blocks: Sequence[str] | None = None,
    margins: Sequence[str] = (),
    block_totals: Mapping[Hashable, Hashable] | None = None,
    shares: Mapping[Hashable, object] | None = None,
    policy: DisclosurePolicy | None = None,
    block_derived: Sequence[Hashable] = (),
    parts: Mapping[Hashable, Hashable] | None = None,
    partial: Sequence[str] = (),
) -> tuple[pd.DataFrame, DisclosureReport]:
    """Make a table of counts safe to publish: the one entry point exporters call.

    Suppresses (primary, secondary and linked cells; see :func:`suppress`), optionally rounds the visible
    counts to ``round_to``, then checks the result with :func:`check_safe`.

    Parameters
    ----------
    table : the table; not changed.
    count_columns, threshold, symbol, secondary, totals, linked, by, columns_add_up, assume_totals,
    min_count, max_suppressed, index : as for :func:`suppress`. An empty ``count_columns`` list means the
        table has no counts: it is returned unchanged.
    round_to : round visible counts to this base (e.g. 5) after suppression; None keeps them exact.
    blocks : tidy tables (``by`` given): the dimensions that make blocks. Lines then run along the other
        dimensions inside each block; see :func:`grid._tidy_grid`.
    margins : block dimensions whose totals are also published (lines along them too).
    block_totals : ``{total column: count column}`` for a column repeating, on each row of a block, the
        block's total of a count column.
    shares : ``{share column: count column}``: a percentage of that count (or ``{share: (count, scale)}``,
        e.g. scale 1 for a proportion). A share is hidden with its count, and also where the count it
        implies (share x count / scale) is in the suppression range. Columns ``linked`` to a share are hidden
        with it.
    policy : a :class:`DisclosurePolicy`; when given it sets the threshold, symbol and rounding.
    block_derived : columns with one value per block (e.g. a block's share still open): hidden on every row of
        a block in which any count is hidden.
    parts : ``{part: whole}`` for a count that is part of another on the same row (``events`` of ``n``). The
        complement (``n - events``) is a count too, published implicitly: when it is small it is protected like
        a hidden cell (never shown, and part or whole hidden so that it cannot be worked out).
    partial : tidy tables: dimensions whose total row may be more than the sum of the categories shown
        (victims by sex, when sex is not always recorded); see :func:`grid._tidy_grid`.

    Returns
    -------
    (safe_table, report) : the protected copy and a :class:`DisclosureReport`.

    Notes
    -----
    Secondary cells are chosen until the attacker's integer programmes (:mod:`victimneeds.disclosure.attack`)
    leave every primary cell an interval that reaches above the threshold ("strong"), or, where no further
    cell can widen it, at least two whole numbers ("weak"). A cell that no one or two further cells can
    protect has every shown count of its lines hidden, then of its block, then of the table; the report's
    ``notes`` say so. Totals that are not the sum of the cells they total are not used (a note says so).
    Missing values (NaN) in a count column are not hidden cells: the attacker knows them.

    References
    ----------
    Hundepool A et al. (2012). Statistical Disclosure Control. Wiley, ch. 4.

    Examples
    --------
    >>> t = pd.DataFrame({"district": ["North", "South", "East"], "victims": [12, 3, 40],
    ...                   "rate": [1.2, 0.3, 4.0]})
    >>> safe, report = apply(t, ["victims"], linked={"victims": ["rate"]})
    >>> safe
      district victims rate
    0    North     [c]  [c]
    1    South     [c]  [c]
    2     East      40  4.0
    >>> print(report.primary, report.secondary, report.linked)
    1 1 2
    """
    threshold = _merge_threshold(threshold, min_count, max_suppressed)
    strong = True
    if policy is not None:
        threshold, symbol, round_to, strong = policy.range, policy.symbol, policy.rounding, policy.require_strong
    out, report = _suppress(
        table, count_columns, threshold, symbol, secondary, totals, linked, by, columns_add_up, assume_totals, index,
        blocks=blocks, margins=margins, block_totals=block_totals, shares=shares, rounding=round_to or None,
        strong=strong, block_derived=block_derived, parts=parts, partial=partial,
    )
    if report.unresolved:
        raise ValueError(
            f"{report.unresolved} hidden cells could still be worked out from the totals and no "
            "further cell could be hidden; publish this table without its totals or merge categories"
        )
    cols, _, _ = _prepare(table, count_columns, by, linked, _shares(shares))
    if round_to:
        out = round_counts(out, cols, base=round_to)
        report.rounded_to = int(round_to)
    check_safe(out, cols, threshold)
    return out, report
