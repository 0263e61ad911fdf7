"""What the Word draft says: a notebook's narrative as headings, paragraphs and markers; sentences tidied for
readers; published tables cut to fit a page; findings grouped for the executive summary.

:mod:`victimneeds.word_report` lays these out as a Word document. Nothing here invents a number: sentences and
tables are the notebooks' and the pack's own, with identifiers put into words (:mod:`victimneeds.labels`) and
numbers formatted for people.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from victimneeds import labels
from victimneeds.report import WORD_NOTE_COLUMNS, WORD_TABLE_MAX_COLUMNS, WORD_TABLE_MAX_ROWS, TableRecord

#: Rows shown when a table is too long for a page and has no latest period that fits.
SUMMARY_ROWS = 10

#: The rule a notebook applies before it records a finding (said in the summary, above all when none met it).
FINDING_RULE = (
    "A result is recorded as a finding only when it is larger than chance would explain. A difference between "
    "groups, districts or periods must have a p-value below 0.002 (the 99.8% level) and survive a "
    "Benjamini-Hochberg adjustment at 1% across every comparison made for the same question, so that few if any "
    "of the findings below are chance; a district must lie outside its 99.8% funnel limits allowing for "
    "over-dispersion; a standard must be missed"
)

_FILE = re.compile(r"[\w./-]+\.(xlsx|csv|docx|json|png|svg|html|toml|ipynb|md)\b")
IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)+")
_SECTION_PREFIX = re.compile(r"^(\d+)[_ ]")
#: A bracketed pointer to a file of the repository ("(bench/forecast_origins.py)"): for developers, not readers.
_FILE_REFERENCE = re.compile(r"\s*\((?:see )?`?[\w./-]+/[\w./-]+\.(?:py|md|csv|toml|ipynb)`?\)")
_HEADING_NUMBER = re.compile(r"^\d+(\.\d+)*\.?\s+")
_OPERATIONAL = re.compile(
    r"next cell|victimneeds build|runs on the built-in|run it for|to run it|by hand|papermill|\.toml\b|re-run|"
    r"\bnotebook\b|\bAn area (with|without)\b|\bdocs/|\[parameters\]|\.md\b",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------------


def tidy_text(text: str, place_names: Mapping[str, str] | None = None) -> str:
    """A sentence as a reader should see it: identifiers in words, big numbers with separators, p-values of 0
    as "<0.001" and long decimals rounded.

    Examples
    --------
    >>> tidy_text("Group declines (district_code: X1): 7313 of 104522 (q = 0.000, ratio 1.046782)", {"X1": "Vale"})
    'Group declines (district: Vale): 7,313 of 104,522 (q < 0.001, ratio 1.05)'
    >>> tidy_text("Repeat victim: False: 38% of 73,366")
    'Repeat victim: no: 38% of 73,366'
    """
    files: list[str] = []

    def keep(match: re.Match) -> str:
        files.append(match.group(0))
        return f"\x00{len(files) - 1}\x00"

    out = _FILE.sub(keep, str(text))
    out = labels.humanise_text(out, place_names)
    out = re.sub(r"\b([pq])([- ]value)?\s*(=|:|is|of)?\s*0(\.0+)?(?![\d.])", r"\1\2 < 0.001", out)
    out = re.sub(r"\bp value\b", "p-value", out)
    out = re.sub(r"(?<=\w): (True|False)\b", lambda m: ": yes" if m.group(1) == "True" else ": no", out)
    out = re.sub(r"(?<![\w.,/:-])(\d{4,})(?!\w|,\d|/|-|\.\d)",
                 lambda m: m.group(1) if len(m.group(1)) == 4 and 1900 <= int(m.group(1)) < 2100
                 else f"{int(m.group(1)):,}", out)
    out = re.sub(r"(?<![\d.])(\d+)\.(\d{4,})\b", lambda m: _round_text(m.group(0)), out)
    return re.sub("\x00(\\d+)\x00", lambda m: files[int(m.group(1))], out)


def _round_text(number: str) -> str:
    x = float(number)
    return f"{x:,.1f}" if abs(x) >= 100 else f"{x:.2f}" if abs(x) >= 0.01 else f"{x:.3g}"


_INLINE = re.compile(
    r"\*\*(?P<bold>.+?)\*\*|__(?P<bold2>.+?)__|(?<![\w*])\*(?P<italic>[^*\s][^*]*?)\*(?!\w)"
    r"|(?<![\w])_(?P<italic2>[^_\s][^_]*?)_(?!\w)|`(?P<code>[^`]+)`|!\[(?P<image>[^\]]*)\]\([^)]*\)"
    r"|\[(?P<link>[^\]]+)\]\([^)]*\)|<[^>]+>"
)


def inline_runs(text: str, place_names: Mapping[str, str] | None = None) -> list[tuple[str, bool, bool]]:
    """Simple markdown inline text as ``(text, bold, italic)`` runs: ``**bold**``, ``*italic*``, ``code`` as
    plain words (identifiers humanised), links as their text, images and HTML tags dropped.

    Examples
    --------
    >>> inline_runs("The **police** part: `crime_group` of victims, see [the Code](https://x.org).")
    [('The ', False, False), ('police', True, False), (' part: crime group of victims, see the Code.', False, False)]
    """
    runs: list[tuple[str, bool, bool]] = []
    position = 0

    def add(piece: str, bold: bool = False, italic: bool = False) -> None:
        if not piece:
            return
        if runs and runs[-1][1:] == (bold, italic):
            runs[-1] = (runs[-1][0] + piece, bold, italic)
        else:
            runs.append((piece, bold, italic))

    for match in _INLINE.finditer(text):
        add(tidy_text(text[position:match.start()], place_names))
        position = match.end()
        groups = match.groupdict()
        if groups["bold"] or groups["bold2"]:
            add(tidy_text(groups["bold"] or groups["bold2"], place_names), bold=True)
        elif groups["italic"] or groups["italic2"]:
            add(tidy_text(groups["italic"] or groups["italic2"], place_names), italic=True)
        elif groups["code"]:
            add(_code_words(groups["code"], place_names))
        elif groups["link"]:
            add(tidy_text(groups["link"], place_names))
    add(tidy_text(text[position:], place_names))
    return runs


def _code_words(code: str, place_names: Mapping[str, str] | None) -> str:
    code = code.strip()
    if IDENTIFIER.fullmatch(code):
        label = labels.column_label(code)
        return label[:1].lower() + label[1:] if not label[:2].isupper() else label
    return tidy_text(code, place_names)


def _prose(paragraph: str) -> str:
    """A notebook paragraph as assessment prose: sentences about running the notebook dropped."""
    paragraph = _FILE_REFERENCE.sub("", paragraph)
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z\"'(])", paragraph.strip())
    sentences = [re.sub(r"^This notebook is\b", "This is", s) for s in sentences]
    return " ".join(s for s in sentences if not _OPERATIONAL.search(s))


@dataclass
class Block:
    """One piece of a notebook's narrative in reading order: a heading, a paragraph, a list item or a marker."""

    kind: str  # "heading", "paragraph", "bullet", "number", "marker"
    text: str = ""
    level: int = 0
    marker: dict = field(default_factory=dict)


def markdown_blocks(source: str) -> list[Block]:
    """Split a markdown cell into headings, paragraphs and list items (continuation lines joined).

    Examples
    --------
    >>> text = "## 2. Who\\n\\nSome text\\nmore.\\n\\n- one\\n  two\\n1. first"
    >>> [(b.kind, b.level, b.text) for b in markdown_blocks(text)]
    [('heading', 2, 'Who'), ('paragraph', 0, 'Some text more.'), ('bullet', 0, 'one two'), ('number', 0, 'first')]
    """
    blocks: list[Block] = []
    current: Block | None = None

    def flush() -> None:
        nonlocal current
        if current is not None and current.text.strip():
            current.text = " ".join(current.text.split())
            blocks.append(current)
        current = None

    for line in source.splitlines():
        stripped = line.strip()
        heading = re.match(r"^(#{1,6})\s+(.*)$", stripped)
        bullet = re.match(r"^[-*+]\s+(.*)$", stripped)
        number = re.match(r"^\d+[.)]\s+(.*)$", stripped)
        if not stripped:
            flush()
        elif heading:
            flush()
            text = _HEADING_NUMBER.sub("", heading.group(2).strip().strip("#").strip())
            blocks.append(Block("heading", text, level=min(len(heading.group(1)), 3)))
        elif bullet:
            flush()
            current = Block("bullet", bullet.group(1))
        elif number:
            flush()
            current = Block("number", number.group(1))
        elif stripped.startswith(("|", "<", "---", "```")):
            continue
        elif current is None:
            current = Block("paragraph", stripped)
        else:
            current.text += " " + stripped
    flush()
    return blocks


def notebook_blocks(path: str | Path, written: Sequence[str] = ()) -> list[Block]:
    """The narrative of an executed notebook, in order: markdown blocks and the markers of its code cells.

    The parameters cell, code and printed output are left out. In a notebook run before markers existed, a
    table or figure named in ``written`` is placed at the code cell whose source names it.
    """
    import nbformat

    node = nbformat.read(Path(path), as_version=4)
    marked = any(
        isinstance(output.get("metadata"), Mapping) and "victimneeds" in output.get("metadata", {})
        for cell in node.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
    )
    blocks: list[Block] = []
    for cell in node.cells:
        if cell.cell_type == "markdown":
            blocks += markdown_blocks(cell.source)
            continue
        if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
            continue
        if marked:
            for output in cell.get("outputs", []):
                meta = (output.get("metadata") or {}).get("victimneeds")
                if isinstance(meta, Mapping) and meta.get("kind"):
                    blocks.append(Block("marker", marker=dict(meta)))
        else:
            for written_name in written:
                kind, _, name = written_name.rpartition(":")
                if f'"{name}"' in cell.source or f"'{name}'" in cell.source:
                    blocks.append(Block("marker", marker={"kind": kind or "table", "name": name}))
    return blocks


def section_title(path: str | Path) -> str:
    """A notebook's section title: its first level-1 heading without the number ("01 Demand" -> "Demand")."""
    import nbformat

    node = nbformat.read(Path(path), as_version=4)
    for cell in node.cells:
        if cell.cell_type == "markdown":
            for block in markdown_blocks(cell.source):
                if block.kind == "heading" and block.level == 1:
                    return block.text
    stem = Path(path).stem
    return labels.column_label(_SECTION_PREFIX.sub("", stem)) or stem


# --------------------------------------------------------------------------------------------------
# Tables for a page
# --------------------------------------------------------------------------------------------------

_PERIOD_COLUMNS = ("financial_year", "year", "quarter", "month", "period", "fy", "survey_year")
_PERIOD_HEADER = re.compile(r"^(\d{4}(/\d{2})?|\d{4}-\d{2}|\d{4} ?Q[1-4]|Q[1-4] \d{4})$")


@dataclass
class PageTable:
    """A published table cut to fit a page: the display frame, notes to print under it and whether it was cut."""

    frame: pd.DataFrame
    notes: list[str]
    shown_rows: int
    total_rows: int
    shown_columns: int
    total_columns: int
    how: str = ""

    @property
    def cut(self) -> bool:
        return self.shown_rows < self.total_rows or self.shown_columns < self.total_columns


def page_table(table: pd.DataFrame, record: TableRecord, place_names: Mapping[str, str] | None = None,
               max_rows: int = WORD_TABLE_MAX_ROWS, max_columns: int = WORD_TABLE_MAX_COLUMNS) -> PageTable:
    """The part of a published table that fits a Word page, humanised and compacted.

    Columns saying how rows were made (method, confidence...) become notes. A table longer than ``max_rows``
    shows the rows of its latest period when they fit, else the :data:`SUMMARY_ROWS` rows with the largest
    main count, else its first rows; a table wider than ``max_columns`` keeps its label columns and its most
    important value columns (counts and estimates first; for columns that are periods, the latest).

    Examples
    --------
    >>> rec = TableRecord(name="01_x", title="X", source="", period="", count_columns=["victims"])
    >>> t = pd.DataFrame({"district_name": [f"D{i}" for i in range(40)], "victims": range(40)})
    >>> shown = page_table(t, rec)
    >>> shown.shown_rows, shown.total_rows, shown.frame.iloc[0].tolist(), shown.how
    (10, 40, ['D39', '39'], 'the 10 largest by victims')
    """
    notes: list[str] = []
    drop = []
    for column in table.columns:
        values = table[column].dropna().astype(str).unique()
        if str(column) in WORD_NOTE_COLUMNS and len(values) <= 1:
            drop.append(column)
            if len(values):
                notes.append(f"{labels.column_label(column)}: {values[0]}.")
    raw = table.drop(columns=drop)
    total_rows = len(raw)
    how = ""
    if total_rows > max_rows:
        raw, how = _fewer_rows(raw, record)
    shown = labels.compact(labels.humanise(raw, place_names, record.units))
    shown = shown.rename(columns=_value_labels(shown.columns, record.units))
    # a column empty on every row shown (no warnings, say) says nothing on the page; the workbook keeps it
    empty = [c for c in shown.columns if not shown[c].astype(str).str.strip().any()]
    if empty and len(empty) < len(shown.columns):
        shown = shown.drop(columns=empty)
    total_columns = len(shown.columns)
    if total_columns > max_columns:
        shown = _fewer_columns(shown, record, max_columns)
    return PageTable(shown.reset_index(drop=True), notes, len(shown), total_rows, len(shown.columns), total_columns,
                     how)


def _fewer_rows(raw: pd.DataFrame, record: TableRecord) -> tuple[pd.DataFrame, str]:
    for column in _PERIOD_COLUMNS:
        if column in raw.columns and raw[column].nunique() > 1:
            latest = sorted(raw[column].dropna().astype(str).unique())[-1]
            rows = raw[raw[column].astype(str) == latest]
            if 0 < len(rows) <= WORD_TABLE_MAX_ROWS:
                return rows, f"those for {latest}, the latest period"
            raw = rows
            break
    counts = [c for c in record.count_columns if c in raw.columns]
    count = next((c for c in counts if pd.to_numeric(raw[c], errors="coerce").notna().any()), None)
    if count is not None:
        order = pd.to_numeric(raw[count], errors="coerce").sort_values(ascending=False, na_position="last")
        label = labels.column_label(count)
        label = label[:1].lower() + label[1:] if not label[:2].isupper() else label
        return raw.loc[order.index[:SUMMARY_ROWS]], f"the {SUMMARY_ROWS} largest by {label}"
    return raw.head(SUMMARY_ROWS), f"the first {SUMMARY_ROWS}"


_VALUE_WORDS = re.compile(r"\bper\b|%|ratio|\brate\b|share|index|£|GBP|change|points|difference", re.I)


def _value_labels(columns, units: str) -> dict[str, str]:
    """"Value" columns named by the table's units when exactly one part of the units describes a value."""
    parts = [p.strip() for p in re.split(r";", units) if p.strip()]
    valued = [p for p in parts if _VALUE_WORDS.search(p)]
    if len(valued) != 1:
        return {}
    label = re.sub(r",?\s*(with\s+)?(an?\s+)?(exact\s+)?([\w-]+\s+)?\(?\d+% (interval|range)s?\)?.*$", "",
                  valued[0]).strip(" ,")
    label = re.sub(r"\s*\((\d+%|95%|80%)[^)]*\)$", "", label).strip()
    if not label:
        return {}
    label = label[:1].upper() + label[1:]
    return {str(c): str(c).replace("Value", label, 1) for c in columns if str(c).startswith("Value")
            and not str(c).startswith("Value (") or str(c).startswith("Value (") and "interval" in str(c)}


def is_value_column(series: pd.Series) -> bool:
    """True for a displayed column whose cells are mostly numbers (the rest labels), so it is right-aligned."""
    values = [str(v) for v in series if str(v) not in ("", "[c]", "[x]", "[z]", "nan")]
    if not values:
        return True
    numeric = sum(bool(re.match(r"^[-+<>£]?\s?\d", v)) for v in values)
    return numeric >= 0.8 * len(values)


def _fewer_columns(shown: pd.DataFrame, record: TableRecord, max_columns: int) -> pd.DataFrame:
    columns = [str(c) for c in shown.columns]
    value = [c for c in columns if is_value_column(shown[c])]
    label_columns = [c for c in columns if c not in value][: max(1, max_columns // 3)]
    room = max_columns - len(label_columns)
    if value and sum(bool(_PERIOD_HEADER.match(c)) for c in value) >= len(value) / 2:
        keep = value[-room:]
    else:
        count_labels = {labels.column_label(c) for c in record.count_columns}
        first = [c for c in value if c in count_labels or "interval)" in c]
        keep = (first + [c for c in value if c not in first])[:room]
    kept = set(label_columns) | set(keep)
    return shown[[c for c in columns if c in kept]]


def numeric_text(text: str) -> bool:
    """True for a cell that shows a number ("1,234", "12.3 (11.0 to 13.5)", "45%") or a suppressed one."""
    return bool(re.match(r"^[-+<>£]?\s?\d[\d,.]*(%|\s\(.*\))?$", text.strip())) or text.strip() in ("[c]", "[x]")


# --------------------------------------------------------------------------------------------------
# Sources and findings
# --------------------------------------------------------------------------------------------------


def short_source(source: str) -> str:
    """The first part of a source note, pointing to Annex A for the rest.

    Examples
    --------
    >>> short_source("Source: Northmoor (synthetic example), synthetic example: made-up data. Produced with x.")
    'Source: Northmoor (synthetic example); see Annex A.'
    """
    text = " ".join(str(source).split())
    if not text:
        return ""
    body = text.removeprefix("Source:").strip()
    depth, cut = 0, len(body)
    for i, ch in enumerate(body):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and (ch in ",;" or (ch == "." and body[i + 1:i + 2] in (" ", ""))):
            cut = i
            break
    head = body[:cut].strip()
    if len(head) > 90:
        head = head[:87].rsplit(" ", 1)[0] + "..."
    return f"Source: {head}; see Annex A."


def findings_by_section(out_dir: str | Path) -> dict[str, list[str]]:
    """The findings :meth:`victimneeds.report.Output.finding` recorded, by section number ("02"...)."""
    out: dict[str, list[str]] = {}
    for path in sorted((Path(out_dir) / "findings").glob("*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if lines:
            out.setdefault(path.stem, []).extend(lines)
    return out


def finding_topic(text: str) -> str:
    """What a finding is about: its words before the first colon outside brackets, without bracketed asides.

    Examples
    --------
    >>> finding_topic("Group declines referral more often (an aside) (district: Harrowdale): 55% of 9,217")
    'Group declines referral more often'
    >>> finding_topic("Slow first contact: 14% within 2 working days")
    'Slow first contact'
    """
    depth = 0
    cut = None
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == ":" and depth == 0:
            cut = i
            break
    head = text[:cut] if cut is not None else text.split(",")[0]
    head = re.sub(r"\s*\([^()]*\)\s*$", "", head.strip())
    while re.search(r"\s*\([^()]*\)\s*$", head):
        head = re.sub(r"\s*\([^()]*\)\s*$", "", head)
    return head.strip().rstrip(".") or text[:60]


def commissioning_paragraph(number: str, name: str, findings: Sequence[str]) -> str:
    """What a section's findings mean for commissioning, in one paragraph built only from those findings.

    Examples
    --------
    >>> text = commissioning_paragraph("02", "Referral gaps", ["Slow first contact (ISVA): 14%",
    ...                                "Slow first contact (X): 20%", "Districts: none stands out"])
    >>> text.split(". ")[0] + "."
    'Section 02, Referral gaps, recorded 3 findings: slow first contact (2 findings) and districts.'
    """
    label = f"Section {number}, {name}," if number != "general" else "Across sections, the assessment"
    if not findings:
        return f"{label} recorded no finding: nothing in it met the rule above."
    # findings ending in the same conclusion ("...: onward referrals fail more at busy times") are one point,
    # naming whom it concerns; the others are grouped by what they are about
    endings = [_ending(text) for text in findings]
    shared = {e for e in endings if e and endings.count(e) > 1}
    points: dict[str, list[str]] = {}
    for text, ending in zip(findings, endings, strict=True):
        if ending in shared:
            points.setdefault(ending, []).append(lower_first(finding_topic(text)))
        else:
            points.setdefault(finding_topic(text), [])
            points[finding_topic(text)].append("")
    listed = []
    for point, who in points.items():
        if any(who):
            listed.append(f"{lower_first(point)} ({_and(who)})")
        else:
            listed.append(f"{lower_first(point)} ({len(who)} findings)" if len(who) > 1 else lower_first(point))
    count = f"{len(findings)} finding{'s' if len(findings) != 1 else ''}"
    return (f"{label} recorded {count}: {_and(listed)}. Each is a point for the service specification to address "
            "or for the provider and the force to explain; the numbers are in the section.")


def _and(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _ending(text: str) -> str:
    """The conclusion a finding ends with after its last colon, when it is words only (no numbers)."""
    if ": " not in text:
        return ""
    ending = text.rsplit(": ", 1)[1].strip().rstrip(".")
    return ending if ending and len(ending) < 80 and not re.search(r"\d", ending) else ""


def finding_groups(findings: Sequence[str]) -> list[tuple[str, list[str]]]:
    """Findings with a long shared opening, as (the opening, [the rest of each]); others as (finding, []).

    Three or more findings that open with the same words up to a colon or a bracket are shown as one bullet
    with sub-bullets, so a summary does not repeat "Group declines referral more often (...)" six times.

    Examples
    --------
    >>> finding_groups(["Feels safer: A less likely", "Feels safer: B less likely", "Feels safer: C less likely",
    ...                 "Districts: none stands out"])
    [('Feels safer', ['A less likely', 'B less likely', 'C less likely']), ('Districts: none stands out', [])]
    """
    groups: list[tuple[str, list[str]]] = []
    by_topic: dict[str, list[str]] = {}
    by_ending: dict[str, list[str]] = {}
    for text in findings:
        by_topic.setdefault(finding_topic(text), []).append(text)
        by_ending.setdefault(_ending(text), []).append(text)
    done: set[str] = set()
    for text in findings:
        ending = _ending(text)
        if ending and len(by_ending[ending]) >= 3:
            if f"ending:{ending}" not in done:
                rests = [m[: m.rfind(": ")].strip() for m in by_ending[ending]]
                groups.append((ending[:1].upper() + ending[1:], rests))
                done.add(f"ending:{ending}")
            continue
        topic = finding_topic(text)
        if topic in done:
            continue
        members = [m for m in by_topic[topic] if not (_ending(m) and len(by_ending[_ending(m)]) >= 3)]
        if len(members) < 3:
            groups += [(m, []) for m in members]
            done.add(topic)
            continue
        common = members[0]
        for m in members[1:]:
            while not m.startswith(common):
                common = common[:-1]
        cut = max(common.rfind(")"), common.rfind(":"))
        opening = common[:cut + 1] if cut >= len(topic) - 1 else topic
        opening = opening.rstrip(":").strip()
        rests = [re.sub(r"^\((.*?)\):", r"\1:", m[len(opening):].lstrip(" :").strip()) for m in members]
        groups.append((opening, rests))
        done.add(topic)
    return groups


def lower_first(text: str) -> str:
    """``text`` with its first letter in lower case, unless it starts an acronym ("IDVA")."""
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def readable_blocks(blocks: list[Block]) -> list[Block]:
    """Blocks with sentences about running the notebook dropped, and headings left with nothing under them."""
    kept: list[Block] = []
    for block in blocks:
        if block.kind in ("paragraph", "bullet", "number"):
            text = _prose(block.text)
            if not text:
                continue
            block = Block(block.kind, text, block.level, block.marker)
        kept.append(block)
    out: list[Block] = []
    for i, block in enumerate(kept):
        if block.kind == "heading" and block.level > 1:
            following = kept[i + 1] if i + 1 < len(kept) else None
            if following is None or (following.kind == "heading" and following.level <= block.level):
                continue
        out.append(block)
    return out
