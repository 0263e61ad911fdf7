"""The evidence workbook: every published table in one Excel file, laid out as the Government Analysis Function
asks for statistics released in spreadsheets.

The workbook has a Cover (what it is, the area, the period, the source, how to use it, the disclosure
statement), a Contents sheet (each sheet linked, with its table's title and the period that table covers), a
Notes sheet (numbered notes, referred to from the tables as "[note 2]") and one sheet per table: the title in
A1, then lines for the table's own period, its units, the symbols used, and its source, then one row of column
headings and the data, marked as an Excel table, with the heading row frozen and the columns fitted to their
contents. Nothing is merged. Headings are the label registry's words (:func:`victimneeds.labels.column_label`),
codes without a name column beside them are shown as names, and numbers stay numbers, shown rounded by an
Excel number format for their kind (:func:`victimneeds.labels.excel_format`) but stored as published in the
CSV (to the 15 to 16 significant digits a spreadsheet holds).

Why gptables
------------
The Analysis Function publishes ``gptables`` for exactly this, and it fits, so it writes the workbook: the
cover sheet, the heading lines of each sheet (title, subtitles, instructions, legend, source), the one header
row, the Excel table object for each table (a named ``ListObject``, which assistive technology and Power Query
find by name), left and right alignment by column type and the accessible ``gptheme`` (Arial 12, no gridlines). It
does not conflict with the pinned versions (it adds only ``XlsxWriter`` and ``importlib_resources``). Three
things are done here by hand, on the sheets gptables creates, because gptables 2.0.2 does not do them:

* the Contents sheet is our own table rather than gptables' generated one, because gptables' has two columns
  (sheet, description) and we need the period of each table in a column of its own; and so the Notes sheet is
  ours too, because gptables places its generated notes sheet before every sheet passed in, which would put
  Notes before our Contents. Ours also lists the sheets each note applies to. Notes are numbered in order of
  first appearance, as gptables numbers them;
* the heading row of every sheet is frozen (``freeze_panes``), which gptables does not offer;
* column widths are fitted to the numbers as shown (with their format) and capped at :data:`MAX_WIDTH`
  characters, with long text wrapped: gptables' ``auto_width`` measures the unrounded value
  (``104.2095257493974``) and lets a column of sentences grow past a screen.

Two rules of the guidance that gptables enforces shape the data: a blank cell must say why it is blank, so a
missing value is written as :data:`NOT_AVAILABLE` ("[x]", explained on the sheet); and gptables refuses a table
with no rows, so such a table is named on the cover and gets no sheet. A cell of symbols only ("-") is refused
by gptables too; it is reported here with the table, column and row.

``afcharts`` (the Analysis Function's chart style) is not used here: the workbook holds no charts.

Each table sheet is read back by :func:`read_workbook_tables` through its Excel table name
(:func:`excel_table_name`), whose columns are the CSV's columns in the same order.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from victimneeds import labels
from victimneeds.report import TableRecord, _sheet_names, read_table, table_records

#: The symbol for a cell with no value (GSS shorthand for "not available").
NOT_AVAILABLE = "[x]"
#: Columns are never wider than this many characters; longer text wraps.
MAX_WIDTH = 60
MIN_WIDTH = 8
#: The sheets before the tables.
FIRST_SHEETS = ("Cover", "Contents", "Notes")

_TABLE_PREFIX = "table_"
_INTEGER = re.compile(r"^[+-]?\d+$")
_SYMBOLS_ONLY = re.compile(r"^[^A-Za-z0-9]+$")


def excel_table_name(name: str) -> str:
    """The name of the Excel table (ListObject) that holds the published table ``name``.

    Excel table names may hold letters, digits, '_' and '.', and must not start with a digit; table names
    (``"01_crimes"``, ``"02_by-district"``) are lower case letters, digits, '_' and '-', so the mapping is
    one to one.

    Examples
    --------
    >>> excel_table_name("02_by-district")
    'table_02_by.district'
    >>> table_name_from_excel("table_02_by.district")
    '02_by-district'
    """
    return _TABLE_PREFIX + name.replace("-", ".")


def table_name_from_excel(excel_name: str) -> str | None:
    """The published table name behind an Excel table name, or None for the Contents and Notes tables."""
    if not excel_name.startswith(_TABLE_PREFIX):
        return None
    return excel_name[len(_TABLE_PREFIX):].replace(".", "-")


def sheet_label(name: str) -> str:
    """A readable sheet name from a table name: words instead of underscores, the section number kept.

    Examples
    --------
    >>> sheet_label("02_referral_ratio_by_district"), sheet_label("00_residents_by_imd_decile")
    ('02 Referral ratio by district', '00 Residents by IMD decile')
    """
    words = [w for w in re.split(r"[_\-]+", name) if w]
    shown = []
    for i, word in enumerate(words):
        if word in ("imd", "fte", "lsoa", "marac", "isva", "idva", "asb", "pcc"):
            word = word.upper()
        elif i == 0 or (i == 1 and words[0].isdigit()):
            word = word[:1].upper() + word[1:]
        shown.append(word)
    return " ".join(shown)


def sheet_names(names: Iterable[str]) -> dict[str, str]:
    """``{table name: sheet name}`` as :func:`write_workbook` names the sheets, for documents that point to them.

    ``names`` are all the tables under the pack's ``tables/`` folder (a table with no rows gets no sheet, but
    is counted here so that every caller gets the same names).

    Examples
    --------
    >>> sheet_names(["02_pathway", "01_notes"])
    {'01_notes': '01 Notes', '02_pathway': '02 Pathway'}
    """
    ordered = sorted(names)
    labels_ = _sheet_names([*FIRST_SHEETS, *(sheet_label(n) for n in ordered)])[len(FIRST_SHEETS):]
    return dict(zip(ordered, labels_, strict=True))


@dataclass
class _Column:
    header: str
    values: list[object]
    kind: str
    number_format: str | None
    width: float


@dataclass
class _Sheet:
    record: TableRecord
    label: str
    columns: list[_Column]
    has_missing: bool
    period: str
    note_refs: list[int] = field(default_factory=list)
    disclosure_ref: int | None = None


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _number(value: object) -> object:
    """A Python int or float for a numeric cell (numpy scalars and numeric strings included), else the value."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.match(text):
            return int(text)
        try:
            return float(text)
        except ValueError:
            return value
    if hasattr(value, "item") and not isinstance(value, (int, float)):  # numpy scalar
        value = value.item()
    return value


def _number_format(kind: str, numbers: list[float | int]) -> str:
    """The Excel format for a column's numbers: the registry's, except for plain numbers and numbers in a text
    column, shown whole when they are whole (without thousands separators below 10,000, so years show as 2024)
    and to two decimals otherwise."""
    if kind not in ("number", "text"):
        return labels.excel_format(kind)
    if all(float(x).is_integer() for x in numbers):
        return "#,##0" if any(abs(x) >= 10000 for x in numbers) else "0"
    return "#,##0.00"


def _shown(value: object, kind: str, number_format: str | None) -> str:
    """The text a cell shows, for fitting the column width."""
    if isinstance(value, str):
        return value
    if kind in ("number", "text"):
        return f"{value:,.2f}" if number_format == "#,##0.00" else f"{value:,.0f}"
    return labels.format_value(value, kind)


def _width(header: str, shown: list[str]) -> float:
    words = max((len(w) for w in header.split()), default=0)
    head = min(len(header), max(words, 24))
    longest = max((len(s) for s in shown), default=0)
    return float(min(MAX_WIDTH, max(MIN_WIDTH, head, longest) + 2))


def _place_column(name: str, columns: list[str], series: pd.Series, totals: list[str],
                  place_names: Mapping[str, str] | None) -> bool:
    """Whether code column ``name`` is shown as names: it has no name column beside it and every code is named."""
    if not place_names or not name.endswith("_code") or name[: -len("_code")] + "_name" in columns:
        return False
    codes = {str(v) for v in series if not _is_missing(v)} - set(totals)
    return bool(codes) and codes <= set(place_names)


def _prepare(record: TableRecord, table: pd.DataFrame, place_names: Mapping[str, str] | None) -> tuple[
        list[_Column], bool]:
    """The columns of one table sheet: headers, cell values (Python numbers or text), formats and widths."""
    symbol = str(record.policy.get("symbol", "[c]"))
    totals = [str(t) for t in record.structure.get("totals", ["Total", "All"])]
    names = [str(c) for c in table.columns]
    columns: list[_Column] = []
    used: set[str] = set()
    has_missing = False
    for raw, name in zip(table.columns, names, strict=True):
        series = table[raw]
        kind = labels.column_kind(name, record.units)
        as_names = _place_column(name, names, series, totals, place_names)
        if as_names:
            header = labels.variable_label(name)
        elif place_names and name in place_names:
            header = str(place_names[name])
        else:
            header = labels.column_label(name)
        if header.lower() in used:
            alternative = name.replace("_", " ").strip()
            base = header = alternative[:1].upper() + alternative[1:]
            i = 2
            while header.lower() in used:
                header = f"{base} ({i})"
                i += 1
        used.add(header.lower())
        values: list[object] = []
        for value in series.tolist():
            if _is_missing(value):
                values.append(NOT_AVAILABLE)
                has_missing = True
                continue
            if isinstance(value, bool):
                values.append("Yes" if value else "No")
                continue
            if isinstance(value, str):
                if value == symbol:
                    values.append(value)
                    continue
                if kind != "text":
                    number = _number(value)
                    if not isinstance(number, str):
                        values.append(number)
                        continue
                # a code column beside its name column keeps its codes (they are what other data joins on)
                keep = name.endswith("_code") and not as_names
                if keep:
                    values.append(value)
                elif " " in value.strip():  # a sentence (a finding, a method): raw identifiers in it become words
                    values.append(labels.humanise_text(value, place_names))
                else:
                    values.append(labels.level_label(value, name, place_names))
                continue
            number = _number(value)
            if isinstance(number, float) and math.isinf(number):
                values.append(labels.format_value(number, kind))
            else:
                values.append(number)
        for i, value in enumerate(values):
            if isinstance(value, str) and _SYMBOLS_ONLY.match(value):
                raise ValueError(
                    f"Table {record.name} ('{record.title}'), column '{name}', row {i + 1} holds {value!r}, a "
                    "cell of symbols only. Spreadsheet guidance (and gptables) asks for a letter shorthand "
                    f"explained on the sheet, such as {NOT_AVAILABLE} for 'not available'; change the table."
                )
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        number_format = _number_format(kind, numbers) if numbers else None
        shown = [_shown(v, kind, number_format) for v in values]
        columns.append(_Column(header, values, kind, number_format, _width(header, shown)))
    return columns, has_missing


def _notes(sheets: list[_Sheet], place_names: Mapping[str, str] | None) -> pd.DataFrame:
    """Number the notes in order of first appearance (each table's own note, then the disclosure note) and
    return the Notes table; sets each sheet's references."""
    texts: list[str] = []
    applies: list[list[str]] = []

    def number(text: str, label: str) -> int:
        if text not in texts:
            texts.append(text)
            applies.append([])
        k = texts.index(text)
        if label not in applies[k]:
            applies[k].append(label)
        return k + 1

    for sheet in sheets:
        record = sheet.record
        if record.notes.strip():
            text = labels.humanise_text(" ".join(record.notes.split()), place_names)
            sheet.note_refs.append(number(text if text.endswith(".") else text + ".", sheet.label))
        symbol = str(record.policy.get("symbol", "[c]"))
        threshold = record.threshold.strip().rstrip(".")
        disclosure = (
            f"Disclosure control: {threshold}. {symbol} marks a cell suppressed to protect confidentiality: a "
            "small count, or a cell from which a small count could be worked out using totals published elsewhere "
            "in the pack (secondary suppression). Rates, percentages and intervals computed from a suppressed count "
            "are suppressed with it."
        )
        sheet.disclosure_ref = number(disclosure, sheet.label)
    return pd.DataFrame({
        "Note number": [f"note {k}" for k in range(1, len(texts) + 1)],
        "Note text": texts,
        "Applies to": [", ".join(a) if len(a) < len(sheets) or len(sheets) == 1 else "All tables"
                       for a in applies],
    })


def _source_line(source: str) -> str:
    source = " ".join(str(source).split())
    return source if source.lower().startswith("source") else f"Source: {source}"


def _sheet_gptable(sheet: _Sheet):
    import gptables as gpt

    record = sheet.record
    symbol = str(record.policy.get("symbol", "[c]"))
    frame = pd.DataFrame({c.header: pd.Series(c.values, dtype=object) for c in sheet.columns})
    title = record.title.strip() + "".join(f" [note {k}]" for k in sheet.note_refs)
    units = record.units.strip() or "as given in the column headings"
    hidden = record.suppressed_primary + record.suppressed_secondary
    legend = [f"{symbol} = suppressed to protect confidentiality"
              + (f" ({hidden} cell{'s' if hidden != 1 else ''} in this table)" if hidden else "")
              + f" [note {sheet.disclosure_ref}]"]
    if sheet.has_missing:
        legend.append(f"{NOT_AVAILABLE} = not available")
    formats = [
        {"column": {"columns": [j], "format": {"num_format": c.number_format}, "include_names": False}}
        for j, c in enumerate(sheet.columns) if c.number_format
    ]
    return gpt.GPTable(
        table=frame,
        table_name=excel_table_name(record.name),
        title=title,
        subtitles=[f"Period: {sheet.period}", f"Units: {units}"],
        instructions="This worksheet contains one table, with one row of column headings. Note markers such as "
                     "[note 1] refer to the Notes worksheet.",
        legend=legend,
        source=_source_line(record.source),
        index_columns={},
        additional_formatting=formats,
    )


def _cover(title: str, area: str, period: str, source: str, thresholds: list[str], symbols: list[str],
           empty: list[str], docx_name: str | None):
    import gptables as gpt

    from victimneeds import __version__

    intro: list[object] = [
        f"This workbook holds the evidence tables of \u201c{title}\u201d, one table a worksheet. Every table "
        "passed disclosure control before it was written.",
    ]
    if area:
        intro.append(f"Area: {area}")
    if period:
        intro.append(f"Period: {period}. Each table states the period it covers, which may be shorter (for example "
                     "the last 12 months or one financial year).")
    intro.append(_source_line(source))
    intro.append(f"Produced with victimneeds {__version__}.")
    intro.append([{"bold": True}, "How to use this workbook"])
    intro += [
        "The Contents worksheet lists every table with the period it covers: select a sheet name to go to it.",
        "Each table worksheet gives the table's title, period, units, the symbols used and the source, then the "
        "table, with one row of column headings.",
        "Note markers such as [note 1] refer to the Notes worksheet.",
        "Numbers are stored as calculated and shown rounded: counts and money whole, rates and percentages to one "
        "decimal place, ratios to two, p-values to three (below 0.001 as <0.001). Select a cell to see its value.",
        f"{' or '.join(symbols or ['[c]'])} = suppressed to protect confidentiality; {NOT_AVAILABLE} = not "
        "available.",
    ]
    if docx_name:
        intro.append(f"The Word document {docx_name} gives the commentary and figures for these tables.")
    about: list[object] = [f"Disclosure control: {t.strip().rstrip('.')}." for t in thresholds]
    about.append("Cells from which a suppressed count could be worked out using other published totals are "
                 "suppressed too (secondary suppression), and so are rates, percentages and intervals computed "
                 "from a suppressed count.")
    about.append("The same tables are in the evidence pack's tables folder as CSV files, one file a table, with "
                 "the same notes.")
    if empty:
        about.append("Tables with no rows for this area, and so not in this workbook: " + "; ".join(empty) + ".")
    return gpt.Cover(title=title, intro=intro, about=about, contact=None)


def _contents_gptable(sheets: list[_Sheet]):
    import gptables as gpt

    frame = pd.DataFrame({
        "Sheet name": [{s.label: f"internal:'{s.label}'!A1"} for s in sheets],
        "Table title": [s.record.title.strip() for s in sheets],
        "Period": [s.period for s in sheets],
    })
    return gpt.GPTable(
        table=frame, table_name="contents_table", title="Contents",
        instructions="This worksheet contains one table. Select a sheet name to go to that table.",
        index_columns={2: 0},
    )


def _notes_gptable(notes: pd.DataFrame):
    import gptables as gpt

    return gpt.GPTable(
        table=notes, table_name="notes_table", title="Notes",
        instructions="This worksheet contains one table. Each note is referred to by its number, such as "
                     "[note 1], on the worksheets it applies to.",
        index_columns={2: 0},
    )


def _fit(frame: pd.DataFrame) -> list[float]:
    return [_width(str(c), [str(next(iter(v))) if isinstance(v, dict) else str(v) for v in frame[c]])
            for c in frame.columns]


def write_workbook(
    out_dir: str | Path,
    path: str | Path,
    title: str,
    source: str,
    place_names: Mapping[str, str] | None = None,
    period: str = "",
    docx_name: str | None = None,
    area: str = "",
) -> Path:
    """Collect every table under ``out_dir/tables`` into one Excel workbook in the Analysis Function's style.

    Tables are read from the CSVs that :meth:`victimneeds.report.Output.table` wrote, so the workbook holds
    only what passed disclosure control; each sheet states the period in its table's record (a table's own
    period, or the notebook's). Tables with no rows are named on the cover and get no sheet.

    Parameters
    ----------
    out_dir : the evidence pack folder (with ``tables/``).
    path : the workbook to write (``.xlsx``).
    title : the workbook's title, e.g. "Victims' needs assessment: Northmoor".
    source : the source note for the whole workbook.
    place_names : ``{code: name}`` (see :func:`victimneeds.labels.place_names`); a district or area code column
        without its name column beside it is shown as names.
    period : the data period of the whole assessment, for the cover.
    docx_name : the file name of the Word document that goes with the workbook, named on the cover.
    area : the area's name, for the cover; default the part of ``title`` after its last ": ".

    Returns
    -------
    The path written.

    References
    ----------
    Government Analysis Function (2021), "Releasing statistics in spreadsheets", and the ``gptables`` package
    (https://github.com/best-practice-and-impact/gptables).
    """
    import gptables as gpt

    out_dir = Path(out_dir)
    records = table_records(out_dir)
    tables = {r.name: read_table(out_dir / "tables" / f"{r.name}.csv") for r in records}
    empty = [r.title.strip() for r in records if tables[r.name].empty]
    names = sheet_names(tables)
    sheets = []
    for record in records:
        if tables[record.name].empty:
            continue
        columns, has_missing = _prepare(record, tables[record.name], place_names)
        sheets.append(_Sheet(record, names[record.name], columns, has_missing,
                             record.period.strip() or period or "not stated"))
    notes = _notes(sheets, place_names)
    if not area and ": " in title:
        area = title.rsplit(": ", 1)[1]
    thresholds = list(dict.fromkeys(r.threshold for r in records if r.threshold))
    symbols = list(dict.fromkeys(str(r.policy.get("symbol", "[c]")) for r in records))

    gptables = {"Contents": _contents_gptable(sheets), "Notes": _notes_gptable(notes)}
    gptables.update({s.label: _sheet_gptable(s) for s in sheets})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No note text provided")
        # gptables 2.0.2 uses pandas options and dtype upcasts that pandas 3 deprecates (it still works)
        warnings.filterwarnings("ignore", category=FutureWarning, module="gptables")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="gptables")
        wb = gpt.produce_workbook(
            filename=str(path), sheets=gptables,
            cover=_cover(title, area, period, source, thresholds, symbols, empty, docx_name),
            contentsheet_label=None, notes_table=None, auto_width=False,
            workbook_options={"strings_to_formulas": False, "strings_to_urls": False},
        )
    wb.set_properties({"title": title, "subject": "Evidence tables", "comments": _source_line(source)[:255]})
    widths = {"Contents": _fit(gptables["Contents"].table), "Notes": _fit(notes)}
    widths.update({s.label: [c.width for c in s.columns] for s in sheets})
    for label, gptable in gptables.items():
        ws = wb.get_worksheet_by_name(label)
        header_row = gptable.data_range[0]
        ws.freeze_panes(header_row + 1, 0)
        for j, width in enumerate(widths[label]):
            ws.set_column(j, j, width)
    wb.close()
    return path


@dataclass
class WorkbookTable:
    """One table read back from a workbook: its sheet, its heading row (1-based) and its cells."""

    sheet: str
    header_row: int
    table: pd.DataFrame


def read_workbook_tables(path: str | Path) -> dict[str, WorkbookTable]:
    """Every published table in a workbook written by :func:`write_workbook`, by table name.

    Found through the Excel table objects (:func:`excel_table_name`), so a reader needs neither the sheet names
    nor the heading lines. Columns are the sheet's headings, in the CSV's order; cells are as stored (numbers
    unrounded, "[c]" as text).
    """
    from openpyxl import load_workbook

    wb = load_workbook(path, data_only=True)
    found: dict[str, WorkbookTable] = {}
    for ws in wb.worksheets:
        for table in ws.tables.values():
            name = table_name_from_excel(table.displayName)
            if name is None:
                continue
            rows = [[cell.value for cell in row] for row in ws[table.ref]]
            first = int(re.sub(r"^[A-Z]+", "", table.ref.split(":")[0]))
            found[name] = WorkbookTable(ws.title, first, pd.DataFrame(rows[1:], columns=rows[0]))
    return found
