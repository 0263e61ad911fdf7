"""The assessment as a Word document a policy officer can edit, not a scrapbook of outputs.

:func:`write_word` writes, from a built pack (tables, figures, findings and the executed notebooks):

* a title page (title, area, period, "Draft for review", a note when the data are synthetic) and a contents
  page (a real Word table-of-contents field, which Word offers to update when the document opens);
* an **executive summary**: the headline sentences the notebooks marked, the findings grouped by section with
  their numbers and intervals, one paragraph per section on what they mean for commissioning (built from its
  findings, never from new numbers), and the sections skipped for lack of input with what would enable them;
* **one chapter per notebook**, following its narrative: markdown headings become Word headings, paragraphs and
  lists become Word paragraphs and lists, and each table, figure, finding and sentence goes where the notebook's
  marker (see :class:`victimneeds.report.Output`) says it was written. No code and no printed output;
* **figures** 6.2 inches wide with their alt text, a numbered caption (a ``SEQ`` field, so Word renumbers) and a
  short source line; **tables** with a numbered caption, human labels and formatted numbers
  (:mod:`victimneeds.labels`), estimates merged with their intervals, and tables too long or wide for a page
  summarised with a pointer to the full sheet of the workbook. Every table uses one table style, "Evidence table",
  so that restyling it restyles them all;
* **annexes**: A sources and provenance, B methods and references (``reference/references.csv``), C disclosure
  control, D tables in the workbook only (when there are any).

Every table comes from the disclosure-controlled CSVs, so the document holds nothing the workbook does not. What
goes into the document (narrative blocks, tidied sentences, tables cut to a page, grouped findings) is worked out
in :mod:`victimneeds.word_content`; this module lays it out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from victimneeds import labels
from victimneeds.excel_report import sheet_names
from victimneeds.report import read_table, skipped_sections, table_records
from victimneeds.word_content import (
    FINDING_RULE,
    IDENTIFIER,
    Block,
    PageTable,
    commissioning_paragraph,
    finding_groups,
    findings_by_section,
    inline_runs,
    is_value_column,
    lower_first,
    notebook_blocks,
    numeric_text,
    page_table,
    readable_blocks,
    section_title,
    short_source,
    tidy_text,
)

#: Width of every figure on the page, in inches (A4 with 2 cm margins leaves 6.5).
FIGURE_WIDTH_INCHES = 6.2
#: The table style every table uses (created in the document, based on "Table Grid").
TABLE_STYLE = "Evidence table"
#: The paragraph style of notes and source lines under tables and figures.
NOTE_STYLE = "Table note"
#: The paragraph style of the text in table cells (a paragraph style, so that Word's rule that the Normal style's
#: size overrides a table style's does not make the tables' text as large as the body's).
CELL_STYLE = "Table text"


# --------------------------------------------------------------------------------------------------
# Fields, styles and the writer
# --------------------------------------------------------------------------------------------------


def _set_alt_text(shape, alt_text: str, title: str) -> None:
    """Alt text (``descr``) and title on a picture, as Word's "Edit alt text" shows them."""
    doc_pr = shape._inline.docPr
    doc_pr.set("descr", alt_text)
    doc_pr.set("title", title)


def _field(paragraph, instruction: str, result: str) -> None:
    """A complex field (``fldChar`` begin/separate/end) with its instruction and a result Word shows until it
    updates the field."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def char(kind: str) -> None:
        run = paragraph.add_run()
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        if kind == "begin":
            element.set(qn("w:dirty"), "true")
        run._r.append(element)

    char("begin")
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._r.append(instr)
    char("separate")
    paragraph.add_run(result)
    char("end")


class _Writer:
    """Builds the document; keeps the figure and table numbers and what has been placed."""

    def __init__(self, out_dir: Path, path: Path, title: str, source: str, period: str,
                 place_names: Mapping[str, str] | None) -> None:
        from docx import Document

        self.out_dir, self.path, self.title, self.source, self.period = out_dir, path, title, source, period
        self.place_names = dict(place_names or {})
        self.doc = Document()
        self.records = {r.name: r for r in table_records(out_dir)}
        self.sheets = sheet_names(self.records)  # as the workbook names them
        self.figures = {}
        for sidecar in sorted((out_dir / "figures").glob("*.json")):
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            meta["_dir"] = sidecar.parent
            self.figures[meta.get("name", sidecar.stem)] = meta
        self.workbook = _workbook_name(out_dir, path)
        self.n_figure = self.n_table = 0
        self.placed: set[str] = set()  # "table:<name>" and "figure:<name>" (a table and a figure may share a name)
        self.captions: set[str] = set()
        self._styles()

    # ---- styles, page, properties -------------------------------------------------------------------
    def _styles(self) -> None:
        from docx.enum.style import WD_STYLE_TYPE
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Cm, Pt, RGBColor

        doc = self.doc
        for section in doc.sections:
            section.page_width, section.page_height = Cm(21.0), Cm(29.7)
            section.left_margin = section.right_margin = Cm(2.0)
            section.top_margin = section.bottom_margin = Cm(2.0)
        normal = doc.styles["Normal"]
        normal.font.name = "Arial"
        normal.font.size = Pt(10.5)
        normal.paragraph_format.space_after = Pt(6)
        for name, size in (("Heading 1", 18), ("Heading 2", 14), ("Heading 3", 12), ("Title", 28)):
            style = doc.styles[name]
            style.font.name = "Arial"
            style.font.size = Pt(size)
            style.font.color.rgb = RGBColor(0x1F, 0x3A, 0x5F)
        doc.styles["Heading 1"].paragraph_format.page_break_before = True
        caption = doc.styles["Caption"]
        caption.font.size, caption.font.bold, caption.font.italic = Pt(10), True, False
        caption.font.color.rgb = RGBColor(0, 0, 0)
        caption.paragraph_format.keep_with_next = True
        caption.paragraph_format.space_before, caption.paragraph_format.space_after = Pt(10), Pt(4)
        note = doc.styles.add_style(NOTE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
        note.base_style = normal
        note.font.size = Pt(8.5)
        note.font.color.rgb = RGBColor(0x40, 0x40, 0x40)
        note.paragraph_format.space_after = Pt(10)
        cell = doc.styles.add_style(CELL_STYLE, WD_STYLE_TYPE.PARAGRAPH)
        cell.base_style = normal
        cell.font.size = Pt(8.5)
        cell.paragraph_format.space_before, cell.paragraph_format.space_after = Pt(1), Pt(1)
        table_style = doc.styles.add_style(TABLE_STYLE, WD_STYLE_TYPE.TABLE)
        table_style.base_style = doc.styles["Table Grid"]
        table_style.font.size = Pt(8.5)
        table_style.paragraph_format.space_before = Pt(1)
        table_style.paragraph_format.space_after = Pt(1)
        first = OxmlElement("w:tblStylePr")
        first.set(qn("w:type"), "firstRow")
        rpr = OxmlElement("w:rPr")
        rpr.append(OxmlElement("w:b"))
        first.append(rpr)
        trpr = OxmlElement("w:trPr")
        trpr.append(OxmlElement("w:tblHeader"))
        first.append(trpr)
        tcpr = OxmlElement("w:tcPr")
        shd = OxmlElement("w:shd")
        shd.set(qn("w:val"), "clear")
        shd.set(qn("w:color"), "auto")
        shd.set(qn("w:fill"), "DCE6F1")
        tcpr.append(shd)
        first.append(tcpr)
        table_style.element.append(first)
        # Word offers to update the fields (contents, figure and table numbers) when the document opens
        settings = doc.settings.element
        update = OxmlElement("w:updateFields")
        update.set(qn("w:val"), "true")
        compat = settings.find(qn("w:compat"))
        if compat is not None:
            compat.addprevious(update)
        else:
            settings.append(update)

    def properties(self, area: str) -> None:
        props = self.doc.core_properties
        props.title = self.title[:255]
        props.subject = f"Victims' needs assessment{f' for {area}' if area else ''}"[:255]
        props.author = "victimneeds"
        props.comments = self.source[:255]  # Word limits document properties to 255 characters
        props.keywords = "victims' needs assessment; Police and Crime Commissioner; commissioning"

    def footer(self) -> None:
        paragraph = self.doc.sections[0].footer.paragraphs[0]
        paragraph.style = self.doc.styles[NOTE_STYLE]
        paragraph.add_run(f"{self.title}. Page ")
        _field(paragraph, "PAGE", "1")

    # ---- text -----------------------------------------------------------------------------------------
    def heading(self, text: str, level: int) -> None:
        self.doc.add_heading(tidy_text(text, self.place_names), level=level)

    def paragraph(self, text: str, style: str | None = None, markdown: bool = True, bold_lead: str = "") -> None:
        paragraph = self.doc.add_paragraph(style=style)
        if bold_lead:
            paragraph.add_run(bold_lead).bold = True
        runs = inline_runs(text, self.place_names) if markdown else [(tidy_text(text, self.place_names), False,
                                                                      False)]
        for piece, bold, italic in runs:
            run = paragraph.add_run(piece)
            run.bold, run.italic = bold or None, italic or None

    def note(self, text: str) -> None:
        if text.strip():
            self.doc.add_paragraph(tidy_text(text, self.place_names), style=NOTE_STYLE)

    def page_break(self) -> None:
        from docx.enum.text import WD_BREAK

        self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    # ---- figures and tables ---------------------------------------------------------------------------
    def figure(self, name: str) -> bool:
        from docx.shared import Inches

        meta = self.figures.get(name)
        if meta is None or f"figure:{name}" in self.placed:
            return False
        png = meta["_dir"] / meta.get("png", f"{name}.png")
        if not png.is_file():
            return False
        self.placed.add(f"figure:{name}")
        self.n_figure += 1
        title = self._unique_caption(tidy_text(meta.get("title") or name, self.place_names), name)
        self._caption("Figure", self.n_figure, title)
        paragraph = self.doc.add_paragraph()
        paragraph.paragraph_format.keep_with_next = True
        picture = paragraph.add_run().add_picture(str(png), width=Inches(FIGURE_WIDTH_INCHES))
        _set_alt_text(picture, meta.get("alt_text", ""), title)
        self.note(short_source(meta.get("source") or self.source))
        return True

    def _unique_caption(self, title: str, name: str) -> str:
        if title in self.captions:
            earlier = next((n for n, m in self.figures.items() if n != name and m.get("title") and
                            tidy_text(m["title"], self.place_names) == title), "")
            extra = [w for w in name.split("_")[1:] if w not in earlier.split("_")]
            title = f"{title} ({lower_first(labels.column_label('_'.join(extra))) if extra else 'continued'})"
        self.captions.add(title)
        return title

    def _caption(self, label: str, number: int, title: str) -> None:
        paragraph = self.doc.add_paragraph(style="Caption")
        paragraph.add_run(f"{label} ")
        _field(paragraph, f"SEQ {label} \\* ARABIC", str(number))
        paragraph.add_run(f": {title}")

    def table(self, name: str) -> bool:
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        record = self.records.get(name)
        if record is None or f"table:{name}" in self.placed:
            return False
        self.placed.add(f"table:{name}")
        self.n_table += 1
        raw = read_table(self.out_dir / "tables" / f"{name}.csv")
        view = page_table(raw, record, self.place_names)
        units = f" ({record.units})" if record.units else ""
        self._caption("Table", self.n_table, tidy_text(f"{record.title}{units}", self.place_names))
        frame = view.frame
        if frame.empty:
            self.note("No rows: nothing in this area met the table's condition. " + short_source(record.source))
            return True
        grid = self.doc.add_table(rows=len(frame) + 1, cols=max(1, len(frame.columns)))
        grid.style = self.doc.styles[TABLE_STYLE]
        grid.alignment = WD_TABLE_ALIGNMENT.CENTER
        _table_look(grid)
        numeric = [is_value_column(frame[c]) and any(numeric_text(str(v)) for v in frame[c])
                   for c in frame.columns]
        cell_style = self.doc.styles[CELL_STYLE].style_id
        headers = []
        for column in frame.columns:
            header = tidy_text(str(column), self.place_names)
            headers.append(header if re.match(r"^[pq]-", header) else header[:1].upper() + header[1:])
        rows = [headers]
        for values in frame.itertuples(index=False):
            texts = []
            for value in values:
                text = "" if value is None else str(value)
                if IDENTIFIER.fullmatch(text):  # a breakdown variable named in a cell ("district_code")
                    text = labels.variable_label(text)
                texts.append(tidy_text(text, self.place_names))
            rows.append(texts)
        for row, texts in zip(grid.rows, rows, strict=True):  # row.cells once a row: grid.cell(i, j) is slow
            for j, (cell, text) in enumerate(zip(row.cells, texts, strict=True)):
                cell.text = text
                paragraph = cell.paragraphs[0]
                paragraph._p.style = cell_style
                if numeric[j]:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _repeat_header(grid)
        _column_widths(grid, frame, self.doc.sections[0])
        notes = [*view.notes]
        if record.notes:
            notes.append(record.notes)
        if record.suppressed_primary or record.suppressed_secondary or "[c]" in frame.to_numpy().astype(str):
            notes.append(f"Disclosure control: {record.threshold}.")
        text = " ".join(n.strip() for n in notes if n.strip())
        self.note(self._pointer(view, name))
        self.note(" ".join(p for p in (f"Note: {text}" if text else "", short_source(record.source)) if p))
        return True

    def _pointer(self, view: PageTable, name: str) -> str:
        if not view.cut:
            return ""
        parts = []
        if view.shown_rows < view.total_rows:
            parts.append(f"Showing {view.shown_rows} of {view.total_rows:,} rows ({view.how})")
        if view.shown_columns < view.total_columns:
            parts.append(f"showing {view.shown_columns} of {view.total_columns} columns")
        text = "; ".join(parts)
        return f"{text[:1].upper()}{text[1:]}; the full table is sheet '{self.sheets[name]}' of the workbook " \
               f"{self.workbook}."

    def save(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.doc.save(self.path)
        return self.path


def _table_look(grid) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tbl_pr = grid._tbl.tblPr
    look = tbl_pr.find(qn("w:tblLook"))
    if look is None:
        look = OxmlElement("w:tblLook")
        tbl_pr.append(look)
    for key, value in (("w:val", "04A0"), ("w:firstRow", "1"), ("w:lastRow", "0"), ("w:firstColumn", "0"),
                       ("w:lastColumn", "0"), ("w:noHBand", "1"), ("w:noVBand", "1")):
        look.set(qn(key), value)


def _repeat_header(grid) -> None:
    """The header row repeats on each page; no row breaks across pages."""
    from docx.oxml import OxmlElement

    for i, row in enumerate(grid.rows):
        tr_pr = row._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:cantSplit"))
        if i == 0:
            tr_pr.append(OxmlElement("w:tblHeader"))


def _column_widths(grid, frame: pd.DataFrame, section) -> None:
    """Each column as wide as its longest value or header word needs (at 8.5 point), the table no wider than the
    text; a header longer than its column wraps between words, never inside one."""
    from docx.shared import Cm, Emu

    if not len(frame.columns):
        return
    grid.autofit = False  # fixed layout: Word and LibreOffice keep the widths set here
    text_width = section.page_width - section.left_margin - section.right_margin
    wanted, least = [], []
    for column in frame.columns:
        longest_value = max((len(str(v)) for v in frame[column]), default=0)
        longest_word = max((len(w) for w in str(column).split()), default=0)
        value_word = max((len(w) for v in frame[column] for w in str(v).split()), default=0)
        chars = min(max(longest_value, longest_word + 1, 4), 45)
        wanted.append(Cm(0.19 * chars + 0.4))
        # a column is never narrower than its longest header word (bold) or value word: words never break
        least.append(Cm(0.24 * max(longest_word, value_word, 3) + 0.5))
    # too wide: narrow the long text columns first (their words wrap), then every column toward its longest
    # word; only a table whose words alone are wider than the page is scaled down as a whole
    floor = [max(Cm(2.6), m) for m in least]
    for bounds in (floor, least):
        excess = sum(wanted) - text_width
        slack = sum(max(0, w - b) for w, b in zip(wanted, bounds, strict=True))
        if excess > 0 and slack > 0:
            cut = min(1.0, excess / slack)
            wanted = [w - cut * max(0, w - b) for w, b in zip(wanted, bounds, strict=True)]
    scale = min(1.0, text_width / sum(wanted))
    widths = [Emu(int(w * scale)) for w in wanted]
    for j, column in enumerate(grid.columns):
        column.width = widths[j]
        for cell in column.cells:
            cell.width = widths[j]


def _workbook_name(out_dir: Path, path: Path) -> str:
    books = sorted(out_dir.glob("*_evidence_tables.xlsx")) or sorted(out_dir.glob("*.xlsx"))
    if books:
        return books[0].name
    if path.name.endswith("_needs_assessment.docx"):
        return path.name.replace("_needs_assessment.docx", "_evidence_tables.xlsx")
    return "that accompanies this document"


# --------------------------------------------------------------------------------------------------
# The whole document
# --------------------------------------------------------------------------------------------------


def write_word(
    out_dir: str | Path,
    path: str | Path,
    title: str,
    source: str,
    notebooks: Sequence[str | Path],
    period: str = "",
    place_names: Mapping[str, str] | None = None,
) -> Path:
    """Write the assessment as a Word document a policy officer can edit (see the module docstring).

    Parameters
    ----------
    out_dir : the built pack (``tables/``, ``figures/``, ``findings/``, ``skipped/``).
    path : the ``.docx`` to write.
    title : the document's title, e.g. "Victims' needs assessment: Northmoor".
    source : the area's source note (``AreaData.source_note``).
    notebooks : the executed notebooks, in order; each becomes a chapter.
    period : the data period in words.
    place_names : ``{code: name}`` for districts and the area (:func:`victimneeds.labels.place_names`).

    Returns
    -------
    The path written.
    """
    out_dir, path = Path(out_dir), Path(path)
    w = _Writer(out_dir, path, title, source, period, place_names)
    area = title.split(": ", 1)[1] if ": " in title else ""
    w.properties(area)
    w.footer()
    notebooks = [Path(nb) for nb in notebooks]
    sections = {nb.stem.split("_", 1)[0]: section_title(nb) for nb in notebooks}
    blocks = {}
    for nb in notebooks:
        prefix = nb.stem.split("_", 1)[0] + "_"
        written = [f"table:{n}" for n in w.records if n.startswith(prefix)] + [f"figure:{n}" for n in w.figures
                                                                              if n.startswith(prefix)]
        blocks[nb] = notebook_blocks(nb, written)

    _title_page(w, area)
    _executive_summary(w, sections, blocks)
    findings = findings_by_section(out_dir)
    for nb in notebooks:
        _chapter(w, nb, blocks[nb], findings.get(nb.stem.split("_", 1)[0], []))
    _annexes(w, notebooks)
    return w.save()


def _title_page(w: _Writer, area: str) -> None:
    doc = w.doc
    doc.add_paragraph(w.title, style="Title")
    if area:
        doc.add_paragraph(area, style="Subtitle")
    if w.period:
        w.paragraph(f"Period covered: {w.period}", markdown=False)
    w.paragraph("Draft for review by the commissioning team. Drafted by victimneeds from the assessment's "
                "analyses: edit the text freely; figures and tables are numbered by Word and every table is also "
                f"in the Excel workbook {w.workbook}.", markdown=False)
    if "synthetic" in w.source.lower():
        note = doc.add_paragraph()
        note.add_run("Synthetic example: made-up data for a fictional area, not real victims.").bold = True
    doc.add_paragraph("Contents", style="TOC Heading")
    _field(doc.add_paragraph(), 'TOC \\o "1-3" \\h \\z \\u', "Right-click to update the table of contents.")


def _executive_summary(w: _Writer, sections: Mapping[str, str], blocks: Mapping[Path, list[Block]]) -> None:
    w.heading("Executive summary", 1)
    n = len(sections)
    parts = f" in {n} section{'s' if n != 1 else ''}: {', '.join(sections.values())}" if n else ""
    w.paragraph(f"This draft assessment covers {w.period or 'the period of the data'}{parts}. Figures and tables are "
                f"numbered; every table is also in the workbook {w.workbook}, in full.", markdown=False)
    headlines = [b.marker.get("text") for bs in blocks.values() for b in bs
                 if b.kind == "marker" and b.marker.get("kind") == "say" and b.marker.get("headline")
                 and b.marker.get("text")]
    if headlines:
        w.heading("Headlines", 2)
        for text in headlines:
            w.paragraph(text, style="List Bullet", markdown=False)
    findings = findings_by_section(w.out_dir)
    w.heading("Findings", 2)
    total = sum(len(v) for v in findings.values())
    if total:
        w.paragraph(f"{FINDING_RULE}. {total} result{'s' if total != 1 else ''} met that rule.", markdown=False)
        for key in sorted(findings, key=lambda k: (k == "general", k)):
            w.heading(sections.get(key, "Other findings"), 3)
            for opening, rests in finding_groups([tidy_text(t, w.place_names) for t in findings[key]]):
                w.paragraph(opening + (":" if rests else ""), style="List Bullet", markdown=False)
                for rest in rests:
                    w.paragraph(rest[:1].upper() + rest[1:], style="List Bullet 2", markdown=False)
    else:
        w.paragraph(f"{FINDING_RULE}. No comparison in this assessment met that rule, so it records no finding; "
                    "the sections below give the estimates and their intervals.", markdown=False)
    w.heading("What this means for commissioning", 2)
    for key, name in sections.items():
        w.paragraph(commissioning_paragraph(key, name, findings.get(key, [])), markdown=False)
    if findings.get("general"):
        w.paragraph(commissioning_paragraph("general", "", findings["general"]), markdown=False)
    skipped = skipped_sections(w.out_dir)
    if skipped:
        w.heading("Sections not produced", 2)
        w.paragraph("These analyses were skipped because the area has not supplied an input they need:",
                    markdown=False)
        for text in skipped:
            w.paragraph(skipped_item(text), style="List Bullet", markdown=False)


def skipped_item(text: str) -> str:
    """A skipped section's sentence for the summary: the section, what it lacks and what would enable it.

    Examples
    --------
    >>> skipped_item("Skipped: Referral pathway. This area has no referrals table (case records).")
    "Referral pathway: needs the referrals table (case records). Adding it to the area's configuration would enable it."
    >>> skipped_item("Skipped: Voice. This area has no survey: the survey table. To add it, name the file.")
    'Voice: needs the survey: the survey table. To add it, name the file.'
    """
    match = re.match(r"^Skipped: (.+?)\. This area has no (.+)$", text.strip())
    if not match:
        return text
    section, needs = match.group(1), match.group(2).rstrip(".")
    enable = "" if re.search(r"\bTo add it\b", needs) else " Adding it to the area's configuration would enable it."
    return f"{section}: needs the {needs}.{enable}"


def _chapter(w: _Writer, notebook: Path, blocks: list[Block], findings: list[str]) -> None:
    prefix = notebook.stem.split("_", 1)[0] + "_"
    started = False
    finding_marked = False
    for block in readable_blocks(blocks):
        if block.kind == "heading":
            level = block.level if started else 1
            started = True
            w.heading(block.text, level)
            continue
        if not started:
            w.heading(section_title(notebook), 1)
            started = True
        if block.kind == "paragraph":
            w.paragraph(block.text)
        elif block.kind in ("bullet", "number"):
            w.paragraph(block.text, style="List Bullet" if block.kind == "bullet" else "List Number")
        elif block.kind == "marker":
            marker = block.marker
            kind, name, text = marker.get("kind"), marker.get("name"), marker.get("text")
            if kind == "table" and name:
                w.table(name)
            elif kind == "figure" and name:
                w.figure(name)
            elif kind == "finding" and text:
                finding_marked = True
                w.paragraph(text, style="List Bullet", markdown=False, bold_lead="Finding: ")
            elif kind == "say" and text:
                w.paragraph(text, markdown=False)
            elif kind == "skip" and text:
                paragraph = w.doc.add_paragraph()
                paragraph.add_run(tidy_text(text, w.place_names)).italic = True
    if not started:
        w.heading(section_title(notebook), 1)
    rest_tables = [n for n in w.records if n.startswith(prefix) and f"table:{n}" not in w.placed]
    rest_figures = [n for n in w.figures if n.startswith(prefix) and f"figure:{n}" not in w.placed]
    if rest_tables or rest_figures:
        w.heading("More tables and figures", 2)
        for name in rest_figures:
            w.figure(name)
        for name in rest_tables:
            w.table(name)
    if findings and not finding_marked:
        w.heading("Findings in this section", 2)
        for text in findings:
            w.paragraph(text, style="List Bullet", markdown=False)


def _annexes(w: _Writer, notebooks: Sequence[Path]) -> None:
    from docx.shared import Cm

    from victimneeds import __version__
    from victimneeds.reference import table as reference_table

    records = list(w.records.values())
    w.heading("Annex A: Sources and provenance", 1)
    if w.period:
        w.paragraph(f"Data period: {w.period}.", markdown=False)
    notes = []
    for text in [w.source, *(r.source for r in records), *(m.get("source", "") for m in w.figures.values())]:
        text = " ".join(str(text).split())
        if text and text not in notes:
            notes.append(text)
    w.paragraph("The source notes of the tables and figures, each given once:", markdown=False)
    for text in notes:
        w.paragraph(text, style="List Bullet", markdown=False)
    periods = {}
    for record in records:
        if record.period and record.period != w.period:
            periods.setdefault(record.period, []).append(record.title)
    if periods:
        w.paragraph("Tables covering a different period from the whole assessment:", markdown=False)
        for period, titles in periods.items():
            w.paragraph(f"{period}: {'; '.join(titles)}.", style="List Bullet", markdown=False)
    manifest = w.out_dir / "manifest.json"
    built = None
    if manifest.is_file():
        try:
            built = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            built = None
    if isinstance(built, Mapping):
        files = built.get("files", {})
        w.paragraph(f"Built with {built.get('package', 'victimneeds')} {built.get('version', __version__)} on "
                    f"{str(built.get('built', ''))[:10]}; the pack's manifest (manifest.json) lists its "
                    f"{len(files):,} files with their SHA-256 checksums.", markdown=False)
    else:
        w.paragraph(f"Produced with victimneeds {__version__}. A pack written by the build command also has a "
                    "manifest (manifest.json) listing every file with its SHA-256 checksum, so a reader can check "
                    "that none has changed since.", markdown=False)

    w.heading("Annex B: Methods and references", 1)
    w.paragraph("The methods the assessment's analyses use, with the publication each follows. Every interval in "
                "this document is a 95% interval unless it says otherwise.", markdown=False)
    references = reference_table("references").sort_values("citation", key=lambda s: s.str.lower())
    for row in references.itertuples(index=False):
        paragraph = w.doc.add_paragraph()
        paragraph.paragraph_format.left_indent = Cm(0.6)
        paragraph.paragraph_format.first_line_indent = Cm(-0.6)
        paragraph.add_run(row.citation + " ")
        paragraph.add_run(f"Used for: {row.used_for}").italic = True

    w.heading("Annex C: Disclosure control", 1)
    policies = []
    for record in records:
        if record.threshold and record.threshold not in policies:
            policies.append(record.threshold)
    primary = sum(r.suppressed_primary for r in records)
    secondary = sum(r.suppressed_secondary for r in records)
    w.paragraph("Every table passed disclosure control before it was written, in the workbook and here alike: "
                "small counts are hidden (primary suppression), and so are other cells that would let a reader "
                "work out a hidden count from the totals (secondary suppression).", markdown=False)
    for policy in policies or ["no disclosure policy was recorded"]:
        w.paragraph(f"Policy applied: {policy[:1].upper()}{policy[1:]}.", style="List Bullet", markdown=False)
    w.paragraph(f"Across the {len(records)} tables, {primary:,} cells were hidden as small counts and "
                f"{secondary:,} to protect them.", markdown=False)

    prefixes = {nb.stem.split("_", 1)[0] + "_" for nb in notebooks}
    workbook_only = [r for r in records if f"table:{r.name}" not in w.placed and not any(r.name.startswith(p)
                                                                              for p in prefixes)]
    if workbook_only:
        w.heading("Annex D: Tables in the workbook only", 1)
        w.paragraph(f"These tables are in the workbook {w.workbook} but not in this document:", markdown=False)
        for record in workbook_only:
            w.paragraph(f"{record.title} (sheet '{w.sheets[record.name]}')", style="List Bullet", markdown=False)
