"""What a published table is made of, declared so that disclosure control protects the right cells.

A table of counts has

* **count columns** (victims, crimes, referrals): the cells that may be small;
* **dimensions** (its index columns: district, crime group, year...). The rows sharing the values of the
  *block* dimensions (by default all but the innermost) form a block; inside a block the rows add up to a
  total that is published, in the table or elsewhere;
* **block totals**: a count column repeating, on every row of a block, the block's total of another count
  column (``total`` beside ``crimes``). Found automatically when the numbers say so;
* **derived columns**: rates, percentages and intervals computed from a count (``linked``), shares of a count
  (``shares``), hidden with it;
* **modelled columns**: numbers that do not come from the counts of this table (forecasts, population
  estimates, survey-weighted percentages): published as they are.

A numeric column that is none of these is *undeclared*. By default it is treated as derived from every
count in its row (or, when it is the same on every row of a block, from every count in the block), so it is
hidden with them, and a :class:`DisclosureWarning` names it; with ``strict=True`` it is an error.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

__all__ = ["DisclosureWarning", "TableStructure", "declare"]


class DisclosureWarning(UserWarning):
    """A published table's structure had to be guessed."""


@dataclass
class TableStructure:
    """The declared (and inferred) structure of one published table; saved with the table for the audit."""

    counts: list[str] = field(default_factory=list)
    dims: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    margins: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)
    block_totals: dict[str, str] = field(default_factory=dict)
    linked: dict[str, list[str]] = field(default_factory=dict)
    shares: dict[str, list] = field(default_factory=dict)
    parts: dict[str, str] = field(default_factory=dict)
    modelled: list[str] = field(default_factory=list)
    row_derived: list[str] = field(default_factory=list)
    block_derived: list[str] = field(default_factory=list)
    constant: list[str] = field(default_factory=list)
    totals: list[str] = field(default_factory=list)
    columns_add_up: bool = True
    source_key: str | None = None
    tidy: bool = True

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping) -> TableStructure:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known})

    def linked_map(self) -> dict[str, list[str]]:
        """Count (or share) column -> columns hidden with it, undeclared row-level columns included."""
        out = {k: list(v) for k, v in self.linked.items()}
        for c in self.counts:
            out.setdefault(c, [])
            out[c] += [d for d in self.row_derived if d not in out[c]]
        return {k: v for k, v in out.items() if v}


def _numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _constant_within(table: pd.DataFrame, column: str, blocks: list[str]) -> bool:
    values = table[column]
    if not blocks:
        return values.nunique(dropna=False) <= 1
    return bool((table.groupby(blocks, dropna=False, sort=False)[column].nunique(dropna=False) <= 1).all())


def _effective_dims(table: pd.DataFrame, dims: list[str]) -> list[str]:
    """Drop index columns that only label another (a district's name beside its code): from the last, a
    column goes when the remaining ones still identify every row."""
    out = list(dims)
    if not out or table.duplicated(subset=out).any():
        return out
    for d in reversed(dims):
        rest = [c for c in out if c != d]
        if rest and not table.duplicated(subset=rest).any() and table[d].nunique(dropna=False) == len(table):
            out = rest
    return out


def _infer_block_totals(table: pd.DataFrame, counts: list[str], blocks: list[str]) -> dict[str, str]:
    """Count columns that hold, on each row of a block, the block's sum of another count column."""
    found: dict[str, str] = {}
    if len(table) < 2:
        return found
    for t in counts:
        if not _constant_within(table, t, blocks):
            continue
        first = table.groupby(blocks, dropna=False, sort=False)[t].first() if blocks else pd.Series([table[t].iloc[0]])
        for c in counts:
            if c == t or c in found:
                continue
            if blocks:
                sums = table.groupby(blocks, dropna=False, sort=False)[c].sum(min_count=1)
            else:
                sums = pd.Series([table[c].sum(min_count=1)])
            if len(sums) == len(first) and np.allclose(
                sums.to_numpy(dtype=float), first.to_numpy(dtype=float), equal_nan=False
            ):
                if (table.groupby(blocks, dropna=False, sort=False).size() > 1).any() if blocks else len(table) > 1:
                    found[t] = c
                    break
    return found


def _partial_dims(
    table: pd.DataFrame, counts: list[str], dims: list[str], lines_along: list[str], totals: Sequence[str]
) -> list[str]:
    """Dimensions whose total row is not the sum of the categories shown (sex, when it is not always
    recorded): some line along them has members adding to another number than its total."""
    labels = set(totals)
    out = []
    for dim in lines_along:
        others = [d for d in dims if d != dim]
        is_total = table[dim].astype(object).map(lambda v: isinstance(v, str) and v in labels).to_numpy(dtype=bool)
        if not is_total.any():
            continue
        found = False
        for c in counts:
            values = pd.to_numeric(table[c], errors="coerce")
            body = values[~is_total].groupby([table[d][~is_total] for d in others], dropna=False).sum() if others \
                else pd.Series([values[~is_total].sum()])
            tots = values[is_total].groupby([table[d][is_total] for d in others], dropna=False).sum() if others \
                else pd.Series([values[is_total].sum()])
            joined = pd.concat([body.rename("body"), tots.rename("total")], axis=1).dropna()
            if ((joined["body"] - joined["total"]).abs() > 1e-9).any():
                found = True
                break
        if found:
            out.append(dim)
    return out


def declare(
    table: pd.DataFrame,
    counts: Sequence[str] = (),
    linked: Mapping[str, Sequence[str]] | None = None,
    index: str | Sequence[str] | None = None,
    by: Sequence[str] | None = None,
    margins: Sequence[str] = (),
    modelled: Sequence[str] = (),
    shares: Mapping[str, object] | None = None,
    block_totals: Mapping[str, str] | None = None,
    parts: Mapping[str, str] | None = None,
    block_linked: Sequence[str] = (),
    totals: Sequence[str] = (),
    columns_add_up: bool = True,
    source_key: str | None = None,
    strict: bool = False,
    name: str = "table",
) -> TableStructure:
    """The structure of ``table`` from what the caller declared, completed by inference.

    Parameters
    ----------
    table : the table to publish.
    counts : count columns.
    linked : count (or share) column -> columns derived from it.
    index : the dimension columns.
    by : the block dimensions; default all dimensions but the last.
    margins : block dimensions whose totals are published too (lines along them).
    modelled : numeric columns that are not derived from this table's counts.
    shares : share column -> the count it is a percentage of (or ``(count, scale)``).
    block_totals : total column -> count column; inferred when not given.
    (Dimensions whose total rows are not the sums of the categories shown, such as sex when it is not always
    recorded, are found from the numbers and saved as ``partial``: each of their lines gets an unpublished
    remainder, see :func:`victimneeds.disclosure.grid._tidy_grid`.)
    parts : part column -> whole column, for a count that is part of another on the same row (``events`` of
        ``n``): the complement ``n - events`` is protected too.
    block_linked : columns with one value per block computed from the block's counts (a block's share still
        open): hidden on every row of a block where any count is hidden.
    totals : labels of total rows (and the name of a total column).
    columns_add_up : the count columns are categories of one variable (a row sum is a published total).
    source_key : tables with the same key come from the same data, and are audited together.
    strict : raise on undeclared numeric columns instead of warning.
    name : the table's name, for messages.

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["a", "a", "b", "b"], "outcome": ["x", "y", "x", "y"],
    ...                   "crimes": [3, 9, 20, 22], "total": [12, 12, 42, 42], "pct": [25.0, 75.0, 47.6, 52.4]})
    >>> s = declare(t, ["crimes", "total"], index=["group", "outcome"], linked={"crimes": ["pct"]})
    >>> s.blocks, s.block_totals
    (['group'], {'total': 'crimes'})
    """
    counts = list(counts)
    dims = [index] if isinstance(index, str) else list(index or [])
    linked = {k: list(v) for k, v in (linked or {}).items()}
    shares = dict(shares or {})
    absent = [c for c in [*counts, *dims, *modelled, *shares, *(parts or {}), *block_linked] if c not in table.columns]
    if absent:
        raise KeyError(f"{name}: the table has no column(s) {absent}; its columns are {list(table.columns)}")
    dims = _effective_dims(table, dims)
    blocks = list(by) if by is not None else dims[:-1]
    bad = [b for b in [*blocks, *margins] if b not in dims]
    if bad:
        raise ValueError(f"{name}: block or margin column(s) {bad} must be among the index columns {dims}")
    tidy = bool(dims) and not table.duplicated(subset=dims).any()
    if dims and not tidy and counts:
        warnings.warn(
            f"{name}: the index columns {dims} do not identify the rows (some combinations repeat); each count "
            "column is protected as one line",
            DisclosureWarning,
            stacklevel=3,
        )
        blocks = []
    partial = (
        _partial_dims(table, counts, dims, [d for d in dims if d not in blocks or d in margins], totals)
        if counts and tidy else []
    )
    if block_totals is None:
        inferred = _infer_block_totals(table, counts, blocks) if counts and tidy else {}
    else:
        inferred = dict(block_totals)
    derived = {d for ds in linked.values() for d in ds}
    declared = set(counts) | set(dims) | derived | set(shares) | set(modelled) | set(block_linked)
    undeclared = [c for c in table.columns if c not in declared and _numeric(table[c])]
    constant = [c for c in undeclared if _constant_within(table, c, [])]
    undeclared = [c for c in undeclared if c not in constant]
    row_derived: list[str] = []
    block_derived: list[str] = list(block_linked)
    if counts and undeclared:
        if strict:
            raise ValueError(
                f"{name}: numeric column(s) {undeclared} are neither counts, nor linked to a count, nor declared "
                "modelled=[...]; declare each (linked={count: [...]} if it is computed from a count)"
            )
        for c in undeclared:
            (block_derived if blocks and _constant_within(table, c, blocks) else row_derived).append(c)
        warnings.warn(
            f"{name}: numeric column(s) {undeclared} are not declared; they are hidden with the counts of their "
            "row (or block). Declare them with linked=, shares= or modelled=",
            DisclosureWarning,
            stacklevel=3,
        )
    return TableStructure(
        counts=counts,
        dims=dims,
        blocks=blocks,
        margins=list(margins),
        partial=partial,
        block_totals=inferred,
        linked=linked,
        shares={k: list(v) if isinstance(v, tuple) else [v, 100.0] for k, v in shares.items()},
        parts=dict(parts or {}),
        modelled=list(modelled),
        row_derived=row_derived,
        block_derived=block_derived,
        constant=constant,
        totals=list(totals),
        columns_add_up=columns_add_up,
        source_key=source_key,
        tidy=tidy,
    )
