"""Shared pieces of the readers: the data-quality report, the result type and the file errors.

Every reader in :mod:`victimneeds.io` returns a :class:`ReadResult` (a named tuple, so
``table, report = read_x(...)`` works as well as ``result.table``). The report is a tidy DataFrame
with one row per check and file:

``source``  the file (or ``"all files"``) the row is about;
``check``   a short name for what was counted (``rows_read``, ``no_lsoa``, ``outside_area`` ...);
``count``   how many rows (or months, codes, files: ``detail`` says which) the check found;
``action``  what the reader did with them (``kept``, ``excluded``, ``set to missing``, ``merged`` ...);
``detail``  a sentence for a person, with example lines or values.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

REPORT_COLUMNS: tuple[str, ...] = ("source", "check", "count", "action", "detail")


class DataFileError(ValueError):
    """A file cannot be read as the table it should hold (wrong layout, damaged, not UTF-8 ...).

    The message names the file and says what was expected and what was found.
    """


class ReadResult(NamedTuple):
    """What a reader returns: the table it built and the report of what it read, kept and excluded."""

    table: pd.DataFrame
    report: pd.DataFrame


class Report:
    """Collects report rows; :meth:`frame` gives the tidy report DataFrame."""

    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []

    def add(self, source: str, check: str, count: int, action: str = "", detail: str = "") -> None:
        self.rows.append(
            {"source": str(source), "check": check, "count": int(count), "action": action, "detail": detail}
        )

    def extend(self, rows: Iterable[dict[str, object]]) -> None:
        for row in rows:
            self.add(**row)  # type: ignore[arg-type]

    def frame(self) -> pd.DataFrame:
        return report_frame(self.rows)


def report_frame(rows: Sequence[dict[str, object]]) -> pd.DataFrame:
    """Build the report DataFrame (fixed columns, ``count`` as int64) from a list of row dicts."""
    frame = pd.DataFrame(list(rows), columns=list(REPORT_COLUMNS))
    frame["count"] = frame["count"].astype("int64")
    for col in ("source", "check", "action", "detail"):
        frame[col] = frame[col].astype(str)
    return frame


def describe_lines(lines: Sequence[int] | np.ndarray, limit: int = 5) -> str:
    """'lines 4, 17 and 23' or 'lines 4, 17, 23, 30, 31 and 12 more'."""
    lines = [int(x) for x in list(lines)]
    if not lines:
        return "no lines"
    head = lines[:limit]
    word = "line" if len(lines) == 1 else "lines"
    more = len(lines) - len(head)
    if more:
        return f"{word} {', '.join(map(str, head))} and {more:,} more"
    if len(head) == 1:
        return f"{word} {head[0]}"
    return f"{word} {', '.join(map(str, head[:-1]))} and {head[-1]}"


def describe_values(values: Iterable[object], limit: int = 5) -> str:
    vals = sorted({str(v) for v in values})
    shown = ", ".join(repr(v) for v in vals[:limit])
    return shown + (f" and {len(vals) - limit:,} more" if len(vals) > limit else "")


def read_header(raw: bytes) -> list[str]:
    """The header fields of CSV bytes (UTF-8, a byte-order mark allowed)."""
    end = raw.find(b"\n")
    first = raw if end < 0 else raw[:end]
    text = first.decode("utf-8-sig", errors="replace").rstrip("\r")
    return next(csv.reader(io.StringIO(text)), [])


def check_columns(found: Sequence[str], expected: Sequence[str], source: str, what: str) -> None:
    """Raise :class:`DataFileError` naming the missing columns, the expected and the found ones."""
    missing = [c for c in expected if c not in found]
    if missing:
        raise DataFileError(
            f"{source} does not look like {what}: it lacks the column(s) {missing}. "
            f"Expected columns: {list(expected)}. Columns found: {list(found)}."
        )


def first_bad_utf8_lines(raw: bytes, limit: int = 5) -> list[int]:
    """1-based line numbers of the first lines that are not valid UTF-8."""
    bad = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(number)
            if len(bad) >= limit:
                break
    return bad


def read_text_table(path: Path | str, what: str, expected: Sequence[str], **kwargs: object) -> pd.DataFrame:
    """Read a small CSV (gzip allowed, BOM stripped) as strings, checking its columns first.

    Raises :class:`DataFileError` when the file is missing, empty, not UTF-8 or lacks ``expected``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path} does not exist (it should hold {what}).")
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            import gzip

            raw = gzip.decompress(raw)
    except (OSError, EOFError) as err:
        raise DataFileError(f"{path} cannot be read as {what}: the file is damaged or cut short ({err}).") from None
    if not raw.strip():
        raise DataFileError(f"{path} is empty: it should hold {what}.")
    try:
        raw.decode("utf-8")
        bad = []
    except UnicodeDecodeError:
        bad = first_bad_utf8_lines(raw)
    if bad:
        raise DataFileError(
            f"{path} is not UTF-8 text ({describe_lines(bad)} hold other bytes); save it as UTF-8 CSV and retry."
        )
    header = [h.strip() for h in read_header(raw)]
    check_columns(header, expected, str(path), what)
    frame = pd.read_csv(io.BytesIO(raw), dtype=str, encoding="utf-8-sig", keep_default_na=False, **kwargs)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def to_int(values: pd.Series, source: str, column: str) -> pd.Series:
    """Integers from text such as '1,954' or ' 83 '; raises naming the rows that are not numbers."""
    text = values.astype(str).str.replace(",", "", regex=False).str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    bad = numbers.isna() | (numbers.round() != numbers)
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy()) + 2
        raise DataFileError(
            f"{source}: column {column!r} has {int(bad.sum()):,} values that are not whole numbers, "
            f"e.g. {describe_values(values[bad].head(3))} on {describe_lines(rows)}."
        )
    return numbers.astype("int64")
