"""The evidence pack: every table and figure a notebook writes, made safe, labelled and collected.

Notebooks write through one :class:`Output`, so that

* every table passes disclosure control (:func:`victimneeds.disclosure.apply`) before it is written or shown;
* every table and figure carries its title, units, source note and data period ("synthetic example" for the
  built-in area);
* :func:`write_workbook` can collect all tables into one Excel workbook with a contents sheet, and
  :func:`write_html` renders the executed notebooks as HTML.

Layout under an output folder::

    tables/<name>.csv     the table as published (suppressed), with '#' note lines above the header
    tables/<name>.json    title, units, source, period, suppression counts, the table's declared structure
                          (counts, blocks, block totals, derived and modelled columns) and disclosure policy

Outside the pack, in :func:`internal_dir` (a folder of the system's temporary directory named after the
pack's path; never published: they say which hidden cells are small)::

    <name>.json           per table, which hidden cells are primary or secondary and the attacker's bounds
    disclosure_log.csv    written by victimneeds.audit.audit_pack
    figures/<name>.png|svg|json
    notebooks/<notebook>.ipynb, html/<notebook>.html
    <area>_evidence_tables.xlsx
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from victimneeds import disclosure
from victimneeds.plotting import FigureRecord, save_figure

_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


@dataclass
class TableRecord:
    """What :meth:`Output.table` wrote."""

    name: str
    title: str
    source: str
    period: str
    units: str = ""
    notes: str = ""
    suppressed_primary: int = 0
    suppressed_secondary: int = 0
    threshold: str = ""
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    count_columns: list[str] = field(default_factory=list)
    structure: dict = field(default_factory=dict)
    policy: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class Output:
    """Where a notebook writes its tables and figures, and the notes they all carry.

    Parameters
    ----------
    out_dir : folder for tables (``out_dir/tables``).
    figures_dir : folder for figures; defaults to ``out_dir/figures``.
    source : the source note, normally ``AreaData.source_note``.
    period : the data period in words, e.g. "April 2019 to March 2025".
    min_count, max_suppressed : disclosure threshold: counts from ``min_count`` to ``max_suppressed`` are hidden.
    policy : a :class:`victimneeds.disclosure.DisclosurePolicy` (rule, threshold, rounding); when given it
        replaces ``min_count`` and ``max_suppressed``. None (an area without a ``[disclosure]`` section, as
        ``AreaData.disclosure`` is then) means the default policy with those two.
    strict : refuse tables with counts and numeric columns that are not declared (see
        :func:`victimneeds.disclosure.structure.declare`); the default, so that a new column cannot be published
        unprotected by oversight. False hides them with their row's (or block's) counts and warns.
    disclosure_dir : where the internal record of primary and secondary cells goes; default
        :func:`internal_dir` (outside the pack and its folder, since it says which hidden cells are small).

    Examples
    --------
    >>> import tempfile
    >>> out = Output(tempfile.mkdtemp(), source="Source: test (synthetic example).", period="2024")
    >>> t = pd.DataFrame({"district": ["A", "B", "C"], "victims": [120, 3, 45]})
    >>> out.table(t, "demo", "Victims by district", counts=["victims"])["victims"].tolist()
    [120, '[c]', '[c]']

    The 3 is hidden (primary suppression) and so is the 45 (secondary), because the area total of 168 may be
    published elsewhere and 168 - 120 - 45 would give the 3 away.
    """

    def __init__(
        self,
        out_dir: str | Path,
        source: str,
        period: str = "",
        figures_dir: str | Path | None = None,
        min_count: int = 1,
        max_suppressed: int = 4,
        policy: disclosure.DisclosurePolicy | None = None,
        strict: bool = True,
        disclosure_dir: str | Path | None = None,
    ) -> None:
        self.out_dir = Path(out_dir)
        self.tables_dir = self.out_dir / "tables"
        self.figures_dir = Path(figures_dir) if figures_dir is not None else self.out_dir / "figures"
        self.source = source
        self.period = period
        self.policy = policy or disclosure.DisclosurePolicy(min_count=min_count, threshold=max_suppressed)
        self.min_count, self.max_suppressed = self.policy.range
        self.strict = strict
        self.disclosure_dir = Path(disclosure_dir) if disclosure_dir is not None else internal_dir(self.out_dir)
        self.tables: list[TableRecord] = []
        self.figures: list[FigureRecord] = []
        self.findings: dict[str, list[str]] = {}

    def figure(self, fig: Figure, name: str, alt_text: str, title: str | None = None) -> None:
        """Save a figure with the house conventions (see :func:`victimneeds.plotting.save_figure`).

        The record of what was written is kept in ``self.figures`` (nothing is returned, so a notebook cell
        ending in this call shows the figure and no record).
        """
        self.figures.append(save_figure(fig, name, alt_text, self.source, self.figures_dir, title=title))
        _mark("figure", name=name)

    def say(self, text: str, headline: bool = False) -> None:
        """A sentence of the assessment's narrative, with this run's own numbers, for the Word draft.

        Shown in the notebook (as Markdown) and carried into the Word draft at this point of its section;
        ``headline=True`` also puts it in the executive summary. Write numbers already formatted for people
        (``f"{n:,}"``), and never a count that a published table hides.

        Examples
        --------
        >>> import tempfile
        >>> Output(tempfile.mkdtemp(), source="Source: test.").say("About 28,800 victims of domestic abuse a year.")
        About 28,800 victims of domestic abuse a year.
        """
        text = " ".join(str(text).split())
        try:
            from IPython import get_ipython
            in_kernel = get_ipython() is not None and hasattr(get_ipython(), "kernel")
        except ImportError:  # pragma: no cover
            in_kernel = False
        if in_kernel:
            _mark("say", text=text, headline=headline, markdown=text)
        else:
            print(text)

    def skip(self, section: str, needs: str) -> None:
        """Say that a section was skipped because the area lacks an input, and record it for the build summary.

        Prints one sentence (so the notebook says it) and writes ``skipped/<section>.txt`` under ``out_dir``,
        which :func:`victimneeds.build.build` lists in its summary.

        Examples
        --------
        >>> import tempfile
        >>> out = Output(tempfile.mkdtemp(), source="Source: test.")
        >>> out.skip("Referral pathway", "referrals table (victim-service case records)")
        Skipped: Referral pathway. This area has no referrals table (victim-service case records).
        """
        text = f"Skipped: {section}. This area has no {needs}."
        print(text)
        _mark("skip", text=text)
        folder = self.out_dir / "skipped"
        folder.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", section.lower()).strip("-")
        (folder / f"{slug}.txt").write_text(text + "\n", encoding="utf-8")

    def finding(self, text: str | Iterable[str]) -> None:
        """Record findings (gaps, in plain words, with their numbers) for the evidence pack's "Gaps found" list.

        ``text`` is one sentence or several (e.g. a column of a findings table). Each is printed and appended to
        ``findings/<section>.txt`` under ``out_dir``, where the section is the prefix of the first table or
        figure name written so far (``"02"``...), or ``"general"``.

        Examples
        --------
        >>> import tempfile
        >>> out = Output(tempfile.mkdtemp(), source="Source: test.")
        >>> out.finding(pd.Series(["Harrowdale refers fewer victims than expected.", "ISVA contact is slow."]))
        Finding: Harrowdale refers fewer victims than expected.
        Finding: ISVA contact is slow.
        >>> findings(out.out_dir)
        ['Harrowdale refers fewer victims than expected.', 'ISVA contact is slow.']
        """
        texts = [text] if isinstance(text, str) else [str(t) for t in text]
        texts = [" ".join(t.split()) for t in texts if t and t.strip()]
        names = [r.name for r in self.tables] + [r.name for r in self.figures]
        section = names[0].split("_", 1)[0] if names else "general"
        for t in texts:
            print(f"Finding: {t}")
            _mark("finding", text=t)
        self.findings.setdefault(section, []).extend(texts)
        # The whole list of this notebook's findings is rewritten each time, so a re-run does not repeat them.
        folder = self.out_dir / "findings"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{section}.txt").write_text("".join(t + "\n" for t in self.findings[section]), encoding="utf-8")

    def table(
        self,
        table: pd.DataFrame,
        name: str,
        title: str,
        counts: Sequence[str] = (),
        linked: Mapping[str, Sequence[str]] | None = None,
        units: str = "",
        notes: str = "",
        totals: Sequence[str] = (),
        index: str | Sequence[str] | None = None,
        *,
        by: Sequence[str] | None = None,
        margins: Sequence[str] = (),
        modelled: Sequence[str] = (),
        shares: Mapping[str, object] | None = None,
        block_totals: Mapping[str, str] | None = None,
        parts: Mapping[str, str] | None = None,
        block_linked: Sequence[str] = (),
        columns_add_up: bool = True,
        source_key: str | None = None,
        period: str | None = None,
    ) -> pd.DataFrame:
        """Apply disclosure control to ``table``, write it as CSV with its notes, and return the safe table.

        The table's structure is declared here (see :mod:`victimneeds.disclosure.structure`) and saved in its
        JSON record, so that :func:`victimneeds.audit.audit_pack` can attack the published pack as a whole.

        Parameters
        ----------
        table : the table to publish (not changed).
        name : file stem, lower case (e.g. ``"00_population_by_district"``).
        title : the title shown in the workbook and the notebook.
        counts : columns holding counts of people or crimes (checked for small numbers).
        linked : count column -> columns derived from it (rates, percentages, intervals), hidden with it. A
            share column (see ``shares``) may also be a key.
        units : e.g. "victims per 1,000 residents".
        notes : extra notes (method, caveats).
        totals : labels of total rows (values of an index column) and the name of a total count column.
            Default ``("Total", "All")``.
        index : the dimension (label) columns of the table.
        by : the dimensions that make blocks, inside which the rows of each count column add up to a
            published total. Default: every index column but the last.
        margins : block dimensions whose totals are also published (e.g. ``["district_code"]`` when the
            same counts are published for the whole area).
        modelled : numeric columns not computed from this table's counts (forecasts, population, weights).
        shares : share column -> count column it is a percentage of (``(count, scale)`` for another scale);
            hidden where its implied count (share x count / scale) is small.
        block_totals : total column -> count column, for a column repeating a block's total; inferred.
        parts : part -> whole, for a count that is part of another on the same row (``{"events": "n"}``,
            ``{"yes": "responses"}``): the complement (``n - events``) is protected as a count too.
        block_linked : columns with one value per block, computed from its counts (``pct_open``): hidden on
            every row of a block in which a count is hidden.
        columns_add_up : the count columns are categories whose row sum is published (default True, the
            safe assumption); False when they are different measures (crimes and referrals).
        source_key : tables with the same key are cut from the same data and are audited together.
        period : the period this table covers, in words ("2024/25", "the 12 months to March 2025"), when it is
            not the notebook's whole data period (the default).
        """
        if not _NAME.match(name):
            raise ValueError(f"table name {name!r} must be lower case letters, digits, '_' or '-' (no spaces)")
        labels = list(totals) or list(disclosure.DEFAULT_TOTALS)
        structure = disclosure.structure.declare(
            table, counts, linked=linked, index=index, by=by, margins=margins, modelled=modelled, shares=shares,
            block_totals=block_totals, parts=parts, block_linked=block_linked, totals=labels,
            columns_add_up=columns_add_up,
            source_key=source_key,
            strict=self.strict, name=name,
        )
        tidy = structure.tidy and bool(structure.dims)
        safe, report = disclosure.apply(
            table,
            count_columns=list(counts),
            linked=structure.linked_map(),
            totals=labels,
            index=None if tidy else index,
            by=structure.dims if tidy else None,
            blocks=structure.blocks if tidy else None,
            margins=structure.margins if tidy else (),
            block_totals=structure.block_totals if tidy else None,
            shares={k: tuple(v) for k, v in structure.shares.items()},
            block_derived=structure.block_derived,
            parts=structure.parts,
            partial=structure.partial if tidy else (),
            columns_add_up=columns_add_up,
            policy=self.policy,
        )
        if report.notes:
            notes = " ".join([notes.strip(), *(n + "." for n in report.notes)]).strip()
        self.tables_dir.mkdir(parents=True, exist_ok=True)
        record = TableRecord(
            name=name,
            title=title,
            source=self.source,
            period=self.period if period is None else period,
            units=units,
            notes=notes,
            suppressed_primary=int(report.primary),
            suppressed_secondary=int(report.secondary),
            threshold=self.policy.describe(),
            rows=len(safe),
            columns=[str(c) for c in safe.columns],
            count_columns=[str(c) for c in counts],
            structure=structure.to_dict(),
            policy=self.policy.to_dict(),
        )
        header = [f"# {title}", f"# {self.source}"]
        if record.period:
            header.append(f"# Period: {record.period}")
        if units:
            header.append(f"# Units: {units}")
        header.append(f"# Disclosure control: {record.threshold}; "
                      f"{record.suppressed_primary} cells suppressed, {record.suppressed_secondary} secondary")
        if notes:
            header.append(f"# Notes: {notes}")
        path = self.tables_dir / f"{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.write("\n".join(header) + "\n")
            safe.to_csv(handle, index=False, lineterminator="\n")
        (self.tables_dir / f"{name}.json").write_text(json.dumps(record.to_dict(), indent=2) + "\n",
                                                       encoding="utf-8")
        _write_disclosure_detail(self.disclosure_dir, name, report)
        self.tables.append(record)
        _mark("table", name=name)
        return safe


def output_dirs(area: str | Path, out_dir: str | Path | None = None,
                figures_dir: str | Path | None = None) -> tuple[Path, Path]:
    """Where a notebook writes its tables and figures, from the area it runs on (paths relative to notebooks/).

    A notebook run by hand writes its tables to ``../build/notebooks/<area>`` (never into a pack, which only
    ``victimneeds build`` writes, at ``build/<area>``); the built-in example writes its figures to ``../figures``
    (the sample figures kept in the repository), any other area to ``../build/notebooks/<area>/figures``, so a
    hand run on a real area never overwrites the example's outputs. ``victimneeds build`` passes both folders.

    Examples
    --------
    >>> [str(p) for p in output_dirs("example")]
    ['../build/notebooks/example', '../figures']
    >>> [str(p) for p in output_dirs("../data/areas/leicestershire.toml")]
    ['../build/notebooks/leicestershire', '../build/notebooks/leicestershire/figures']
    >>> [str(p) for p in output_dirs("example", out_dir="/tmp/pack")]
    ['/tmp/pack', '/tmp/pack/figures']
    """
    from victimneeds.build import area_slug

    slug = area_slug(area)
    if out_dir is None:
        out = Path("..") / "build" / "notebooks" / slug
        figures = Path("..") / "figures" if slug == "example" else out / "figures"
    else:
        out = Path(out_dir)
        figures = out / "figures"
    return out, Path(figures_dir) if figures_dir is not None else figures


def _mark(kind: str, name: str | None = None, text: str | None = None, headline: bool = False,
          markdown: str | None = None) -> None:
    """Leave a marker in the running notebook's output saying what this cell wrote (see :class:`Output`).

    Outside a Jupyter kernel (scripts, doctests) nothing happens. The marker is a display output whose metadata
    ``{"victimneeds": {...}}`` the Word writer reads to place tables, figures and sentences where the notebook
    has them; its visible part is empty, or ``markdown`` when given.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the notebooks' kernel
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return
    from IPython.display import display

    meta = {"victimneeds": {"kind": kind, "name": name, "text": text, "headline": bool(headline)}}
    bundle = {"text/plain": ""} if markdown is None else {"text/markdown": markdown, "text/plain": markdown}
    display(bundle, raw=True, metadata=meta)


def internal_dir(out_dir: str | Path) -> Path:
    """The folder for a pack's internal disclosure records (which hidden cells are small, the audit's log):
    ``<temp>/victimneeds-internal/<name>-<hash of the pack's full path>/``, outside the pack and outside the
    folder that holds it (so nothing of it is published, copied with the pack, or left beside it).

    Examples
    --------
    >>> internal_dir("build/example").name.startswith("example-")
    True
    >>> internal_dir("build/example") == internal_dir(Path("build") / "." / "example")
    True
    """
    out_dir = Path(out_dir).resolve()
    key = hashlib.sha256(str(out_dir).encode("utf-8")).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / "victimneeds-internal" / f"{out_dir.name}-{key}"


def _write_disclosure_detail(folder: Path, name: str, report: disclosure.DisclosureReport) -> None:
    """Which hidden cells are primary (small) and which secondary, and the attacker's bounds: kept in
    ``folder`` for the audit and the disclosure log. Not for publication: the reasons tell which hidden cells
    are small."""
    folder.mkdir(parents=True, exist_ok=True)
    cells = [
        {"position": int(pos), "column": str(c), "reason": str(why)}
        for c, why, pos in report.suppressed[["column", "reason", "position"]].itertuples(index=False, name=None)
    ]
    audit = [
        {"position": int(pos), "column": str(c), "low": float(low), "high": float(high) if np.isfinite(high) else None,
         "protection": str(p)}
        for c, low, high, p, pos in report.audit[["column", "low", "high", "protection", "position"]].itertuples(
            index=False, name=None
        )
    ]
    (folder / f"{name}.json").write_text(json.dumps({"cells": cells, "audit": audit}, indent=1) + "\n",
                                         encoding="utf-8")


def readable(x: float) -> str:
    """Format a number for people: thousands separators, and as many decimals as its size needs.

    Large numbers are shown whole, mid-sized ones to one or two decimals, small ones (rate ratios,
    proportions, p-values) to three significant figures, so that 1.05 does not show as 1.0 and a p-value of
    0.0004 does not show as 0.0.

    Examples
    --------
    >>> [readable(v) for v in (12345.6, 123.45, 12.345, 1.0512, 0.0512, 0.0004, 0.0, float("nan"))]
    ['12,346', '123.5', '12.3', '1.05', '0.0512', '4.0e-04', '0', '']
    """
    if x != x:  # NaN
        return ""
    a = abs(x)
    if a == 0:
        return "0"
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:,.1f}"
    if a >= 1:
        return f"{x:.2f}"
    if a >= 0.001:
        return f"{x:.3g}"
    return f"{x:.1e}"


def use_display_style(place_names: Mapping[str, str] | None = None) -> None:
    """Show tables in notebooks the same way everywhere: :func:`readable` numbers and all columns.

    In a Jupyter kernel, tables are also shown (as HTML, which the pack's web pages carry) the way the Word draft
    and the workbook show them: human headers and number formats from :mod:`victimneeds.labels`, names for
    district codes in ``place_names``. The plain-text view keeps the column names, for the analyst.
    """
    pd.set_option("display.float_format", readable)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 200)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return
    names = dict(place_names or {})
    shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, lambda t: display_html(t, names))


def display_html(table: pd.DataFrame, place_names: Mapping[str, str] | None = None, max_rows: int = 60) -> str:
    """HTML of ``table`` with human headers, names and formatted numbers (see :func:`use_display_style`).

    Examples
    --------
    >>> html = display_html(pd.DataFrame({"district_code": ["E1"], "pct_open": [12.345]}), {"E1": "Blaby"})
    >>> "District" in html and "Blaby" in html and "12.3" in html and "pct_open" not in html
    True
    """
    from victimneeds import labels

    shown = table
    if isinstance(table.index, pd.MultiIndex) or table.index.name is not None or not isinstance(
            table.index, pd.RangeIndex):
        shown = table.reset_index() if all(n is not None for n in table.index.names) else table
    shown = shown.copy()
    shown.columns = [" ".join(map(str, c)) if isinstance(c, tuple) else c for c in shown.columns]
    human = labels.humanise(shown, place_names)
    more = ""
    if len(human) > max_rows:
        more = f"<p>Showing the first {max_rows} of {len(human):,} rows.</p>"
        human = human.head(max_rows)
    return human.to_html(index=False, escape=True, border=0, classes="dataframe") + more


def read_table(path: str | Path) -> pd.DataFrame:
    """Read back a table written by :meth:`Output.table` (skipping its note lines)."""
    return pd.read_csv(path, comment=None, skiprows=_count_note_lines(path))


def _count_note_lines(path: str | Path) -> int:
    n = 0
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("# "):
                break
            n += 1
    return n


def findings(out_dir: str | Path) -> list[str]:
    """The findings recorded by :meth:`Output.finding` under ``out_dir``, section by section."""
    lines: list[str] = []
    for path in sorted((Path(out_dir) / "findings").glob("*.txt")):
        lines += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines


def skipped_sections(out_dir: str | Path) -> list[str]:
    """The sentences written by :meth:`Output.skip` under ``out_dir``, in name order."""
    return [p.read_text(encoding="utf-8").strip() for p in sorted((Path(out_dir) / "skipped").glob("*.txt"))]


def table_records(out_dir: str | Path) -> list[TableRecord]:
    """The tables written under ``out_dir/tables``, in name order."""
    records = []
    for meta in sorted((Path(out_dir) / "tables").glob("*.json")):
        records.append(TableRecord(**json.loads(meta.read_text(encoding="utf-8"))))
    return records


def _sheet_names(names: Iterable[str]) -> list[str]:
    """Excel sheet names for ``names``, in order: the characters Excel forbids (``[]*?/\\:``) replaced, at most 31
    characters, unique ignoring case (a repeat gets ``~1``, ``~2``...)."""
    used: set[str] = set()
    out = []
    for name in names:
        base = re.sub(r"[\[\]\*\?/\\:]", "_", name).strip().strip("'")[:31].strip()
        candidate, i = base, 1
        while candidate.lower() in used:
            suffix = f"~{i}"
            candidate = base[: 31 - len(suffix)] + suffix
            i += 1
        used.add(candidate.lower())
        out.append(candidate)
    return out


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
    """Collect every table under ``out_dir/tables`` into one Excel workbook laid out for publication: a cover,
    contents and notes, then one sheet per table. See :func:`victimneeds.excel_report.write_workbook`."""
    from victimneeds import excel_report

    return excel_report.write_workbook(out_dir, path, title, source, place_names=place_names, period=period,
                                       docx_name=docx_name, area=area)


def write_html(notebook: str | Path, directory: str | Path) -> Path:
    """Render an executed notebook as a standalone HTML page in ``directory``, without its code: see
    :func:`victimneeds.html_report.write_html`, which takes the title, area and navigation as well. The page
    links to the contents page ``index.html`` if ``directory`` has one."""
    from victimneeds import html_report

    index = html_report.INDEX if (Path(directory) / html_report.INDEX).is_file() else None
    return html_report.write_html(notebook, directory, index=index)


# --------------------------------------------------------------------------------------------------
# The Word document
# --------------------------------------------------------------------------------------------------

#: Tables up to this size go into the Word document whole; longer or wider ones are summarised there (see
#: :func:`victimneeds.word_report.page_table`), the whole table staying in the workbook.
WORD_TABLE_MAX_ROWS = 25
WORD_TABLE_MAX_COLUMNS = 9

#: Columns that say how a row was made: in the workbook, but in the Word draft only as a note under the table
#: (when they hold one value for every row).
WORD_NOTE_COLUMNS = ("method", "statistic", "confidence", "source", "interval_basis", "note", "notes")


def write_word(
    out_dir: str | Path,
    path: str | Path,
    title: str,
    source: str,
    notebooks: Sequence[str | Path],
    period: str = "",
    place_names: Mapping[str, str] | None = None,
) -> Path:
    """Write the assessment as a Word document a policy officer can edit: see
    :func:`victimneeds.word_report.write_word` (title page and contents, executive summary, a chapter per
    notebook following its narrative, numbered figures and tables, annexes on sources, methods and disclosure).
    Every table comes from the disclosure-controlled CSVs, so the document holds nothing the workbook does not.
    """
    from victimneeds import word_report

    return word_report.write_word(out_dir, path, title, source, notebooks, period=period, place_names=place_names)
