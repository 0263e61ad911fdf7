"""Audit a finished evidence pack as an attacker would: from the published files alone.

:func:`audit_pack` re-reads every table the pack publishes (``tables/*.csv``, and the Excel workbook when there
is one), rebuilds what each table says about its hidden cells (its totals, block totals and the structure
saved by :meth:`victimneeds.report.Output.table`), joins tables cut from the same data (same ``source_key``:
a table on fewer dimensions gives sums of the finer table's cells), and bounds every hidden count with the
attacker's integer programmes of :mod:`victimneeds.disclosure.attack`. It writes ``disclosure_log.csv`` (one
row per hidden cell: table, rule, reason, bounds and verdict) and returns an :class:`AuditResult`.

The log and the per-table records of which hidden cells are primary say which hidden cells are small: they are
for the team that publishes the pack, not for publication, and live outside it
(:func:`victimneeds.report.internal_dir`, under the system's temporary directory, unless given).

References
----------
Hundepool A et al. (2012). Statistical Disclosure Control. Wiley, section 4.2 (auditing a suppression
pattern with the attacker's linear programmes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from victimneeds.disclosure.attack import Constraints, intervals, rate
from victimneeds.disclosure.grid import _tidy_grid, _wide_grid
from victimneeds.disclosure.policy import DisclosurePolicy
from victimneeds.disclosure.protect import _Rules, _visible_range
from victimneeds.disclosure.structure import TableStructure

__all__ = ["AuditResult", "audit_pack"]

LOG_COLUMNS = ["table", "rule", "column", "row", "reason", "low", "high", "protection", "table_result"]


@dataclass
class AuditResult:
    """What :func:`audit_pack` found.

    Attributes
    ----------
    passed : no hidden small count can be narrowed to one value, and the workbook shows nothing the CSVs hide.
    tables : tables audited.
    hidden : hidden count cells.
    checked : hidden cells bounded (the primary cells where the pack says which they are, else all).
    exposed, weak : cells left one value; cells left two or more values all within the suppression range.
    problems : one sentence per failure.
    notes : what could not be checked (tables sharing a source key that do not add up to each other).
    log : the disclosure log (also written to ``disclosure_log.csv``).
    """

    passed: bool = True
    tables: int = 0
    hidden: int = 0
    checked: int = 0
    exposed: int = 0
    weak: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    log: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LOG_COLUMNS))

    def summary(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        text = (
            f"Disclosure audit {verdict}: {self.tables} tables, {self.hidden} hidden count cells, {self.checked} "
            f"bounded by the attacker's programmes; {self.exposed} disclosed exactly, {self.weak} narrowed to "
            "small values only."
        )
        if self.problems:
            text += " Problems: " + " ".join(self.problems[:10])
            if len(self.problems) > 10:
                text += f" (and {len(self.problems) - 10} more)"
        return text

    def __str__(self) -> str:
        return self.summary()


@dataclass
class _Published:
    name: str
    table: pd.DataFrame
    structure: TableStructure
    policy: DisclosurePolicy
    hidden: np.ndarray  # per cell of the grid
    grid: object
    cols: list[str]
    primary: set[tuple[int, str]] | None
    reasons: dict[tuple[int, str], str]
    offset: int = 0


def _read(pack: Path, meta: Path, detail_dir: Path) -> _Published | None:
    from victimneeds.report import read_table

    record = json.loads(meta.read_text(encoding="utf-8"))
    name = record["name"]
    csv = pack / "tables" / f"{name}.csv"
    if not csv.exists():
        return None
    structure = TableStructure.from_dict(record.get("structure") or {"counts": record.get("count_columns", [])})
    policy = DisclosurePolicy.from_mapping(record["policy"]) if record.get("policy") else DisclosurePolicy()
    table = read_table(csv)
    cols = [c for c in structure.counts if c in table.columns]
    if not cols:
        return None
    shown = table.copy()
    hidden_cells = {}
    for c in cols:
        values = shown[c].astype(object)
        is_hidden = values.map(lambda v: isinstance(v, str) and v.strip() == policy.symbol).to_numpy(dtype=bool)
        hidden_cells[c] = is_hidden
        shown[c] = pd.to_numeric(values.where(~is_hidden, np.nan), errors="coerce")
    parts = {p: w for p, w in structure.parts.items() if p in cols and w in cols}
    names = {p: f"{w} minus {p}" for p, w in parts.items()}
    for p, w in parts.items():  # the unpublished complement: known where both are shown
        shown[names[p]] = shown[w] - shown[p]
        hidden_cells[names[p]] = np.ones(len(shown), dtype=bool)
    grid_cols = [*cols, *names.values()]
    labels = set(structure.totals)
    if structure.tidy and structure.dims:
        for d in structure.dims:  # read_csv turns label columns of numbers into numbers; keys compare as text
            shown[d] = shown[d].astype(str)
        grid = _tidy_grid(
            shown, grid_cols, structure.dims, labels, assume_totals=False, blocks=structure.blocks,
            margins=structure.margins, columns_add_up=structure.columns_add_up and not parts,
            block_totals={k: v for k, v in structure.block_totals.items() if k in cols and v in cols},
            partial=structure.partial,
        )
    else:
        text = [c for c in shown.columns if c not in cols and not pd.api.types.is_numeric_dtype(shown[c])]
        grid = _wide_grid(shown, grid_cols, labels, text, structure.columns_add_up and not parts, assume_totals=False)
    if parts:
        # the complement is a variable (0 or more) wherever part or whole is hidden: the lines give it its range
        grid.add_parts(parts, grid_cols, names, keep_missing=True)
    hidden = np.array([hidden_cells[c][r] if c in hidden_cells else True  # a remainder: never published
                       for r, c in zip(grid.row_of, grid.col_of, strict=True)], dtype=bool)
    primary = None
    reasons: dict[tuple[int, str], str] = {}
    detail = detail_dir / f"{name}.json"
    if detail.exists():
        info = json.loads(detail.read_text(encoding="utf-8"))
        reasons = {(int(c["position"]), c["column"]): c["reason"] for c in info.get("cells", [])}
        primary = {key for key, why in reasons.items() if why == "primary"}
    return _Published(name, table, structure, policy, hidden, grid, cols, primary, reasons)


def _is_virtual(pub: _Published, k: int) -> bool:
    return pub.grid.virtual is not None and bool(pub.grid.virtual[k])


def _cross_lines(fine: _Published, coarse: _Published) -> list[tuple[np.ndarray, int, float]]:
    """Lines saying that each cell of ``coarse`` is the sum of the matching cells of ``fine`` (same count
    column; ``coarse`` on a subset of ``fine``'s dimensions)."""
    dims_c, dims_f = coarse.structure.dims, fine.structure.dims
    if not dims_c or not set(dims_c) < set(dims_f) or not (coarse.structure.tidy and fine.structure.tidy):
        return []
    shared = [c for c in coarse.cols if c in fine.cols and c not in coarse.structure.block_totals]
    if not shared:
        return []
    labels = set(fine.structure.totals)
    f_keys = fine.table[dims_f].astype(str)
    body = ~f_keys.isin(labels).any(axis=1).to_numpy()
    f_index = f_keys[body].groupby(dims_c, sort=False).indices
    f_rows = np.flatnonzero(body)
    c_keys = coarse.table[dims_c].astype(str)
    lines = []
    n_f, n_c = len(fine.cols), len(coarse.cols)
    for r, key in enumerate(c_keys.itertuples(index=False, name=None)):
        match = f_index.get(key, f_index.get(key[0]) if len(dims_c) == 1 else None)
        if match is None:
            continue
        for col in shared:
            members = fine.offset + f_rows[np.asarray(match)] * n_f + fine.cols.index(col)
            lines.append((members.astype(int), coarse.offset + r * n_c + coarse.cols.index(col), 0.0))
    return lines


def _check_workbook(pack: Path, tables: dict[str, _Published]) -> list[str]:
    """Sentences for each workbook table that shows a number where the CSV shows the symbol, or is missing.

    Tables are found through their Excel table objects (:func:`victimneeds.excel_report.read_workbook_tables`),
    whose columns are the CSV's in the same order, so neither sheet names nor human headings matter.
    """
    from victimneeds.excel_report import read_workbook_tables

    problems = []
    for book in sorted(pack.glob("*.xlsx")):
        found = read_workbook_tables(book)
        for name, pub in tables.items():
            if name not in found:
                if len(pub.table):
                    problems.append(f"{book.name}: has no table for {name}.csv.")
                continue
            sheet, body = found[name].sheet, found[name].table
            if body.shape != pub.table.shape:
                problems.append(f"{book.name}: sheet {sheet!r} does not have the rows and columns of {name}.csv.")
                continue
            columns = [str(c) for c in pub.table.columns]
            for col in pub.cols:
                j = columns.index(col)
                for r in range(len(body)):
                    csv_value = pub.table[col].iloc[r]
                    shown = body.iat[r, j]
                    if isinstance(csv_value, str) and csv_value == pub.policy.symbol and shown != csv_value:
                        problems.append(
                            f"{book.name}: sheet {sheet!r} shows {shown!r} in column {col!r}, row {r + 1}, "
                            f"which {name}.csv hides."
                        )
    return problems

def _internal(pack: Path) -> Path:
    from victimneeds.report import internal_dir

    return internal_dir(pack)


def audit_pack(
    pack_dir: str | Path,
    integer: bool = True,
    detail_dir: str | Path | None = None,
    log_path: str | Path | None = None,
) -> AuditResult:
    """Attack every published table of an evidence pack and write its disclosure log (outside the pack).

    Parameters
    ----------
    pack_dir : the folder :func:`victimneeds.build.build` wrote (with ``tables/``).
    integer : bound hidden counts with integer programmes (the attacker knows counts are whole numbers).
    detail_dir : the folder of :meth:`victimneeds.report.Output.table`'s internal records (which hidden cells
        are primary); default :func:`victimneeds.report.internal_dir` of ``pack_dir``, where ``Output`` writes
        them. Without them every hidden cell is bounded.
    log_path : where to write the log; default ``disclosure_log.csv`` in that same internal folder (it says
        which hidden cells are small: never inside the published pack).

    Returns
    -------
    :class:`AuditResult`; ``.passed`` is False when a hidden small count can be worked out exactly (from a
    table's own totals, its block totals, or a coarser table cut from the same data), or when the workbook
    shows a number its CSV hides.

    Examples
    --------
    >>> import tempfile
    >>> from victimneeds.report import Output
    >>> out = Output(tempfile.mkdtemp(), source="Source: test.")
    >>> t = pd.DataFrame({"district": ["A", "B", "C", "Total"], "victims": [120, 3, 45, 168]})
    >>> _ = out.table(t, "demo", "Victims", counts=["victims"], index="district")
    >>> audit_pack(out.out_dir).passed
    True
    """
    pack = Path(pack_dir)
    result = AuditResult()
    published: dict[str, _Published] = {}
    for meta in sorted((pack / "tables").glob("*.json")):
        pub = _read(pack, meta, Path(detail_dir) if detail_dir is not None else _internal(pack))
        if pub is not None:
            published[pub.name] = pub
    result.tables = len(published)
    groups: dict[object, list[_Published]] = {}
    for pub in published.values():
        key = pub.structure.source_key or ("__alone__", pub.name)
        groups.setdefault(key, []).append(pub)
    log_rows = []
    for members in groups.values():
        offset = 0
        lower, upper, lines, owners = [], [], [], []
        for pub in members:
            pub.offset = offset
            rules = _Rules(*map(float, pub.policy.range), hidden_lower=pub.policy.hidden_lower_bound,
                           rounding=pub.policy.rounding)
            values = pub.grid.values
            virtual = pub.grid.virtual if pub.grid.virtual is not None else np.zeros(len(values), dtype=bool)
            for k in range(len(values)):
                if pub.hidden[k]:
                    lower.append(0.0 if virtual[k] else float(rules.hidden_lower))
                    upper.append(np.inf)
                elif np.isnan(values[k]):
                    lower.append(0.0)
                    upper.append(0.0)
                else:  # exact, or under a rounding rule the counts that round to what is shown
                    lo, hi = _visible_range(float(values[k]), rules)
                    lower.append(lo)
                    upper.append(hi)
                owners.append((pub, k))
            for (m, total), eq in zip(pub.grid.groups, pub.grid.equation, strict=True):
                if eq and total >= 0:
                    lines.append((m + offset, total + offset, 0.0))
            offset += len(values)
        cross = []
        for fine in members:
            for coarse in members:
                if fine is not coarse:
                    cross.extend(_cross_lines(fine, coarse))
        cons = Constraints(np.array(lower), np.array(upper), lines + cross)
        targets = []
        for g, (pub, k) in enumerate(owners):
            if not pub.hidden[k]:
                continue
            result.hidden += not _is_virtual(pub, k)
            position, column = int(pub.grid.row_of[k]), str(pub.grid.col_of[k])
            if pub.primary is None or (position, column) in pub.primary or _is_virtual(pub, k):
                targets.append(g)
        try:
            bounds = intervals(cons, targets, integer=integer) if targets else {}
        except RuntimeError:
            names = ", ".join(p.name for p in members)
            bounds = None
            if cross:
                result.notes.append(f"Tables {names} share a source key but do not add up to each other; each "
                                    "was audited on its own totals only.")
                try:
                    cons = Constraints(np.array(lower), np.array(upper), lines)
                    bounds = intervals(cons, targets, integer=integer) if targets else {}
                except RuntimeError:
                    bounds = None
            if bounds is None:
                # the published values contradict the saved structure: the audit cannot attack this table
                result.problems.append(f"{names}: the published values do not fit the table's saved structure "
                                       "(a total is not the sum of its cells); it could not be audited.")
                bounds = {}
        for g, (pub, k) in enumerate(owners):
            if not pub.hidden[k]:
                continue
            position, column = int(pub.grid.row_of[k]), str(pub.grid.col_of[k])
            reason = pub.reasons.get((position, column), "hidden")
            low = high = np.nan
            verdict = ""
            if g in bounds:
                low, high = bounds[g]
                verdict = rate((low, high), *pub.policy.range)
                if _is_virtual(pub, k):
                    smallest, largest = pub.policy.range
                    if not (low <= largest and high >= smallest):
                        continue  # a complement that cannot be small may be known: it is no disclosure
                    reason = "complement (not published)"
                result.checked += 1
                if verdict == "exposed":
                    result.exposed += 1
                    result.problems.append(
                        f"{pub.name}: the hidden {column!r} on row {position + 1} can be worked out exactly "
                        f"({low:g})."
                    )
                elif verdict == "weak":
                    result.weak += 1
            log_rows.append([pub.name, pub.policy.describe(), column, position + 1, reason, low, high, verdict, ""])
    failed = {row[0] for row in log_rows if row[7] == "exposed"}
    for row in log_rows:
        row[-1] = "fail" if row[0] in failed else "pass"
    result.problems += _check_workbook(pack, published)
    result.passed = not result.problems
    result.log = pd.DataFrame(log_rows, columns=LOG_COLUMNS)
    log_file = Path(log_path) if log_path is not None else _internal(pack) / "disclosure_log.csv"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    result.log.to_csv(log_file, index=False)
    return result
