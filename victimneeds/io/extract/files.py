"""Read an extract file (CSV, gzip CSV or Excel workbook) as text cells, keeping each row's place in the file.

Nothing is interpreted here: every cell is kept as text (``None`` when empty; ``"NA"`` stays ``"NA"``), and each
row keeps its row number in the file (the header is on row ``header_row``, 1-based, as a spreadsheet shows it),
so later messages can name rows the user can find. Blank rows (every cell empty) are counted and set aside.
Excel date cells become ISO text (``2021-01-02``), which the date reader always reads as ISO.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from victimneeds.io._report import DataFileError, describe_lines, first_bad_utf8_lines

__all__ = ["RawTable", "read_raw"]

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")


@dataclass
class RawTable:
    """An extract's cells as text, with the file row of each data row and what was set aside."""

    path: Path
    frame: pd.DataFrame
    rows: np.ndarray
    blank_rows: int = 0
    sheet: str | None = None

    def where(self, mask: np.ndarray | pd.Series) -> str:
        """'rows 4, 17 and 23' for the data rows selected by ``mask``."""
        return describe_lines(self.rows[np.asarray(mask, dtype=bool)]).replace("line", "row")


def _cell(value: object) -> object:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if (value.hour, value.minute, value.second) != (0, 0, 0) else (
            value.strftime("%Y-%m-%d"))
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        if np.isnan(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _excel_cells(path: Path, sheet: str | int | None) -> tuple[list[list[object]], str]:
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:  # pragma: no cover - a dependency
        raise DataFileError(
            "reading Excel extracts needs the package python-calamine (pip install python-calamine)."
        ) from None
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as err:  # calamine raises its own error types for damaged or locked workbooks
        raise DataFileError(f"{path} cannot be opened as a workbook: {err}.") from None
    names = list(book.sheet_names)
    if sheet is None:
        name = names[0]
    elif isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise DataFileError(f"{path} has no sheet number {sheet + 1}: its sheets are {names}.")
        name = names[sheet]
    else:
        if sheet not in names:
            raise DataFileError(f"{path} has no sheet called {sheet!r}: its sheets are {names}.")
        name = sheet
    cells = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    return [[_cell(v) for v in row] for row in cells], name


def _decode(path: Path, encoding: str) -> str:
    try:
        raw = path.read_bytes()
        if path.suffix.lower() == ".gz":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as err:
        raise DataFileError(f"{path} cannot be read: the file is damaged or cut short ({err}).") from None
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        text = raw.decode(enc)
    except UnicodeDecodeError:
        bad = first_bad_utf8_lines(raw) if enc == "utf-8-sig" else []
        where = f" ({describe_lines(bad)} hold other bytes)" if bad else ""
        raise DataFileError(
            f"{path} is not {encoding} text{where}. Save it as UTF-8 CSV, or declare its encoding in the extract's "
            f'section of the area configuration (for example encoding = "cp1252" for a Windows Excel export).'
        ) from None
    except LookupError:
        raise DataFileError(f"{path}: the encoding {encoding!r} is not one Python knows.") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _csv_grid(path: Path, encoding: str, header_row: int) -> pd.DataFrame:
    """The CSV's rows from the header on (row 0 = header), as text with missing for empty cells.

    Arrow's reader is used when the file is regular (no blank lines before the end, every row as wide as the
    header); otherwise pandas' reader, which keeps blank rows in place and pads short rows.
    """
    text = _decode(path, encoding)
    lines_before = text.split("\n", header_row - 1)
    body = lines_before[-1] if len(lines_before) == header_row else ""
    if not body.strip():
        return pd.DataFrame()
    regular = "\n\n" not in body.rstrip("\n")
    if regular:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pcsv

        data = body.encode("utf-8")
        try:
            table = pcsv.read_csv(
                pa.BufferReader(data),
                read_options=pcsv.ReadOptions(autogenerate_column_names=True, block_size=1 << 24),
                parse_options=pcsv.ParseOptions(newlines_in_values=True),
                convert_options=pcsv.ConvertOptions(column_types=None, strings_can_be_null=False,
                                                    quoted_strings_can_be_null=False, null_values=[],
                                                    auto_dict_encode=False),
            )
        except (pa.ArrowInvalid, pa.ArrowException):
            regular = False
        else:
            columns = {}
            for i, name in enumerate(table.column_names):
                col = table.column(name)
                if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
                    col = pc.cast(col, pa.string())
                col = pc.utf8_trim_whitespace(col)
                col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
                columns[i] = col.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
            return pd.DataFrame(columns)
    try:
        grid = pd.read_csv(io.StringIO(body), header=None, dtype=str, keep_default_na=False, na_filter=False,
                           skip_blank_lines=False, engine="c")
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except pd.errors.ParserError as err:
        raise DataFileError(f"{path} is not a well-formed CSV file: {err}.") from None
    return grid.apply(_blank_to_none)


def read_raw(
    path: str | Path, sheet: str | int | None = None, header_row: int = 1, encoding: str = "utf-8"
) -> RawTable:
    """Read an extract's cells as text.

    Parameters
    ----------
    path : a ``.csv``, ``.csv.gz``, ``.txt`` or Excel file (``.xlsx``, ``.xlsm``, ``.xls``, ``.ods``).
    sheet : the Excel sheet, by name (or position from 0); default the first sheet.
    header_row : the row holding the column headers, counted from 1 as a spreadsheet does (rows above it, such
        as a title, are skipped).
    encoding : the text encoding of a CSV file (a UTF-8 byte-order mark is always allowed).

    Raises
    ------
    DataFileError
        The file is missing, damaged, of the wrong encoding, has no such sheet, no header on ``header_row``,
        empty or repeated column headers, or rows with more cells than the header.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path} does not exist.")
    if header_row < 1:
        raise DataFileError(f"{path}: header_row counts from 1 (the first row of the file), got {header_row}.")
    if path.suffix.lower() in EXCEL_SUFFIXES:
        cells, sheet_name = _excel_cells(path, sheet)
        grid = pd.DataFrame(cells[header_row - 1:], dtype=object) if len(cells) >= header_row else pd.DataFrame()
        grid = grid.apply(_blank_to_none) if len(grid) else grid
    else:
        grid, sheet_name = _csv_grid(path, encoding, header_row), None
    where = f"{path}" + (f" (sheet {sheet_name!r})" if sheet_name else "")
    if len(grid) < 1:
        raise DataFileError(f"{where} has no header on row {header_row} (the file ends before it, or the row is "
                            "empty).")
    grid.columns = range(grid.shape[1])
    header = ["" if pd.isna(h) else str(h).strip() for h in grid.iloc[0].tolist()]
    body = grid.iloc[1:].reset_index(drop=True)
    width = len(header)
    while width and header[width - 1] == "" and body[width - 1].isna().all():
        width -= 1
    header = header[:width]
    if not header:
        raise DataFileError(f"{where}: row {header_row} is empty, so there are no column headers. "
                            "Set header_row to the row that holds them.")
    empty = [i + 1 for i, h in enumerate(header) if h == ""]
    if empty:
        raise DataFileError(f"{where}: the header on row {header_row} has empty column name(s) at position(s) "
                            f"{empty}. Name every column, or set header_row to the right row.")
    counts = pd.Series(header).value_counts()
    repeated = sorted(counts[counts > 1].index)
    if repeated:
        raise DataFileError(f"{where}: the column header(s) {repeated} appear more than once on row {header_row}.")
    rows = np.arange(header_row + 1, header_row + 1 + len(body))
    if body.shape[1] > width:
        extra = body.iloc[:, width:].notna().any(axis=1).to_numpy()
        if extra.any():
            raise DataFileError(f"{where}: {describe_lines(rows[extra]).replace('line', 'row')} hold more cells "
                                f"than the header's {width} columns (a comma inside an unquoted value?).")
    frame = body.iloc[:, :width].copy()
    frame.columns = header
    blank = frame.isna().all(axis=1).to_numpy() if len(frame) else np.zeros(0, dtype=bool)
    keep = ~blank
    if blank.any():
        frame = frame.loc[keep].reset_index(drop=True)
    return RawTable(path, frame, rows[keep], int(blank.sum()), sheet_name)


def _blank_to_none(col: pd.Series) -> pd.Series:
    """Strip each cell; an empty cell becomes missing (a text column)."""
    text = col.astype(pd.StringDtype("pyarrow")).str.strip()
    return text.where(text != "", pd.NA)
