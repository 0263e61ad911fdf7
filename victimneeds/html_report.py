"""The evidence pack as web pages: one page per section, and an index to the whole pack.

:func:`write_html` renders an executed notebook as a page a policy officer can read: the narrative, the tables
and the figures the notebook showed, and none of its code. :func:`write_index` writes ``html/index.html``: the
assessment's title, area, period and source, the sections (each linked, with its opening paragraph), the gaps
found, the sections skipped, the downloads (the Word draft, the workbook, every table as CSV, the manifest)
and a gallery of the figures with their captions and alt text.

The pages show only what the pack already holds. A section page is the executed notebook (in
``notebooks/``) without its code, parameters, error tracebacks and standard-error chatter; its tables are the
ones the notebook displayed, which are the disclosure-controlled ones. The index links to files in the pack
and reads the figures' captions and alt text from their JSON sidecars (see
:func:`victimneeds.plotting.save_figure`).

The pages are plain HTML (``lang="en-GB"``, headings in order, alt text on every image) with a little inline
CSS and no scripts or external assets, so they work offline, from a shared drive or an e-mail attachment;
section pages embed their figures, the index links to the pack's PNG files.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

#: Cell tags whose cells are left out of the page: the notebook's parameters, the values papermill injected,
#: and the banner papermill adds to a notebook that failed.
HIDDEN_TAGS = frozenset({"parameters", "injected-parameters", "papermill-error-cell-tag"})

#: The name of the index page in the ``html`` folder.
INDEX = "index.html"

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; line-height: 1.5; color: #0b0c0c;
       max-width: 62rem; margin: 0 auto; padding: 0 1rem 2rem; }
a { color: #1d70b8; } a:visited { color: #4c2c92; } a:focus { outline: 3px solid #fd0; }
.skip { position: absolute; left: -999px; } .skip:focus { position: static; }
nav { border-bottom: 1px solid #b1b4b6; padding: .5rem 0; margin-bottom: 1rem; }
nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1.5rem; }
footer { border-top: 1px solid #b1b4b6; margin-top: 2rem; padding-top: .5rem; font-size: .9rem; }
img { max-width: 100%; height: auto; }
pre { white-space: pre-wrap; background: #f3f2f1; padding: .5rem; font-size: .85rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
th, td { border: 1px solid #b1b4b6; padding: .2rem .4rem; text-align: right; }
thead th { background: #f3f2f1; }
.output_html { overflow-x: auto; }
figure { margin: 1.5rem 0; } figcaption { font-size: .95rem; }
.intro { margin-top: 0; }
""".strip()


@dataclass(frozen=True)
class Section:
    """One section of the assessment as the web pages name it.

    Attributes
    ----------
    page : the file name of the section's page in the ``html`` folder, e.g. ``"01_demand.html"``.
    heading : the notebook's first heading, e.g. ``"01 Demand"``.
    intro : the first paragraph of the notebook's introduction, as plain text.
    """

    page: str
    heading: str
    intro: str = ""


def plain_text(markdown: str) -> str:
    """Markdown inline text as plain text: emphasis, code marks and link targets dropped, spaces collapsed.

    Examples
    --------
    >>> plain_text("**How many victims**, of *what*; see [the data](https://example.org) and `out_dir`.")
    'How many victims, of what; see the data and out_dir.'
    """
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"(\*\*|__|\*|`)", "", text)
    text = re.sub(r"(?<!\w)_(\S(?:.*?\S)?)_(?!\w)", r"\1", text)
    return " ".join(text.split())


def notebook_heading(node, fallback: str = "") -> tuple[str, str]:  # noqa: ANN001 (an nbformat node)
    """(first heading, first paragraph of the introduction) of a notebook, from its first markdown cell.

    The heading keeps its number ("01 Demand"); the paragraph is the first block of text after it that is not
    a heading, as plain text. A notebook with no markdown gives ``(fallback, "")``.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook()
    >>> nb.cells = [nbformat.v4.new_markdown_cell("# 01 Demand\\n\\n**How many victims,\\nof what.**\\n\\nMore.")]
    >>> notebook_heading(nb)
    ('01 Demand', 'How many victims, of what.')
    """
    for cell in node.cells:
        if cell.cell_type != "markdown" or not cell.source.strip():
            continue
        lines = cell.source.splitlines()
        heading = next((line.lstrip("#").strip() for line in lines if line.lstrip().startswith("#")), "")
        paragraphs = re.split(r"\n\s*\n", cell.source)
        intro = next((plain_text(p) for p in paragraphs if p.strip() and not p.lstrip().startswith("#")), "")
        return plain_text(heading) or fallback, intro
    return fallback, ""


def section(notebook: str | Path) -> Section:
    """The :class:`Section` of a notebook: its page name, heading and opening paragraph."""
    import nbformat

    notebook = Path(notebook)
    heading, intro = notebook_heading(nbformat.read(notebook, as_version=4), fallback=notebook.stem)
    return Section(page=f"{notebook.stem}.html", heading=heading, intro=intro)


def _href(path: str | Path, directory: Path) -> str:
    """A relative link from a page in ``directory`` to ``path``, quoted for a URL and escaped for HTML."""
    relative = Path(os.path.relpath(Path(path).resolve(), directory.resolve())).as_posix()
    return html.escape(quote(relative, safe="/"), quote=True)


def _page(title: str, nav: str, main: str, footer: str = "") -> str:
    e = html.escape
    return (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n"
        '<a class="skip" href="#main">Skip to the content</a>\n'
        + (f"{nav}\n" if nav else "")
        + f"<main id=\"main\">\n{main}\n</main>\n"
        + (f"<footer>\n{footer}\n</footer>\n" if footer else "")
        + "</body>\n</html>\n"
    )


def _nav(label: str, index: str | None, previous: Section | None, following: Section | None) -> str:
    e = html.escape
    items = []
    if index:
        items.append(f'<li><a href="{e(quote(index), quote=True)}">Contents of the evidence pack</a></li>')
    if previous is not None:
        items.append(f'<li><a href="{e(quote(previous.page), quote=True)}" rel="prev">Previous: '
                     f"{e(previous.heading)}</a></li>")
    if following is not None:
        items.append(f'<li><a href="{e(quote(following.page), quote=True)}" rel="next">Next: '
                     f"{e(following.heading)}</a></li>")
    if not items:
        return ""
    return f'<nav aria-label="{e(label)}">\n<ul>\n' + "\n".join(items) + "\n</ul>\n</nav>"


def _figure_names(source: str) -> list[str]:
    """The names of the figures a cell saves with ``out.figure(fig, "name", ...)``, in order."""
    return re.findall(r"\.figure\(\s*[^,()]+(?:\([^()]*\))?\s*,\s*[\"']([a-z0-9][a-z0-9_\-]*)[\"']", source)


def _page_notebook(node, figures_dir: Path | None, heading: str):  # noqa: ANN001, ANN202 (nbformat nodes)
    """A copy of ``node`` holding only what the page shows, each figure carrying its alt text."""
    import copy

    node = copy.deepcopy(node)
    kept = []
    for cell in node.cells:
        if HIDDEN_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        if cell.cell_type != "code":
            kept.append(cell)
            continue
        cell.outputs = [o for o in cell.get("outputs", []) if o.output_type != "error"
                        and not (o.output_type == "stream" and o.get("name") == "stderr")]
        if not cell.outputs:
            continue
        names = _figure_names(cell.source)
        images = [o for o in cell.outputs if o.output_type in ("display_data", "execute_result")
                  and any(k.startswith("image/") for k in o.get("data", {}))]
        for i, output in enumerate(images):
            alt = ""
            if figures_dir is not None and len(names) == len(images):
                sidecar = figures_dir / f"{names[i]}.json"
                if sidecar.is_file():
                    alt = json.loads(sidecar.read_text(encoding="utf-8")).get("alt_text", "")
            alt = alt or f"A figure of the section {heading}; no description of it was recorded."
            for kind in output.get("data", {}):
                if kind.startswith("image/"):
                    output.setdefault("metadata", {}).setdefault(kind, {})["alt"] = alt
        kept.append(cell)
    node.cells = kept
    return node


def write_html(
    notebook: str | Path,
    directory: str | Path,
    title: str | None = None,
    *,
    area: str = "",
    source: str = "",
    figures_dir: str | Path | None = None,
    previous: Section | None = None,
    following: Section | None = None,
    index: str | None = INDEX,
) -> Path:
    """Render an executed notebook as a standalone page ``<directory>/<notebook stem>.html``.

    The page shows the notebook's narrative and outputs and no code: code cells' input and prompts, the
    parameters cell (and papermill's injected parameters), error tracebacks and standard-error output are left
    out. Each figure carries the alt text recorded when it was saved (read from ``figures_dir/<name>.json``,
    the name taken from the cell's ``out.figure(fig, "<name>", ...)`` call). A navigation bar links to the
    index and to the previous and next sections.

    Parameters
    ----------
    notebook : the executed notebook.
    directory : the folder to write into (created if missing), normally the pack's ``html`` folder.
    title : the page's title; default the notebook's first heading, followed by `` - <area>`` if given.
    area : the area's name, for the default title.
    source : the source note, shown at the foot of the page.
    figures_dir : where the figures' JSON sidecars are; default ``<directory>/../figures``.
    previous, following : the sections before and after, linked from the navigation bar (None: no link).
    index : the index page's file name in ``directory`` (None: no link to it).

    Returns
    -------
    Path of the page written.
    """
    import nbformat
    from nbconvert import HTMLExporter

    notebook, directory = Path(notebook), Path(directory)
    node = nbformat.read(notebook, as_version=4)
    heading, _ = notebook_heading(node, fallback=notebook.stem)
    if title is None:
        title = f"{heading} - {area}" if area else heading
    figures = Path(figures_dir) if figures_dir is not None else directory.parent / "figures"
    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, exclude_anchor_links=True)
    body, _ = exporter.from_notebook_node(_page_notebook(node, figures if figures.is_dir() else None, heading))
    nav = _nav("Sections", index, previous, following)
    end = _nav("Sections (end of page)", index, previous, following)
    footer = "\n".join(part for part in (end, f"<p>{html.escape(source)}</p>" if source else "") if part)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{notebook.stem}.html"
    path.write_text(_page(title, nav, body, footer), encoding="utf-8")
    return path


def write_index(
    directory: str | Path,
    title: str,
    sections: Sequence[Section],
    downloads: Sequence[tuple[str | Path, str]],
    figures: Sequence[str | Path],
    *,
    area: str = "",
    period: str = "",
    source: str = "",
    gaps: Sequence[str] | None = None,
    skipped: Sequence[str] | None = None,
) -> Path:
    """Write the pack's front page ``<directory>/index.html``.

    Parameters
    ----------
    directory : the pack's ``html`` folder; the pack is its parent.
    title : the assessment's title, e.g. "Victims' needs assessment: Northmoor (synthetic example)".
    sections : the sections in order (see :func:`section`), each linked to its page with its opening paragraph.
    downloads : (path, description) of each file to offer: documents first, then tables (``.csv`` files are
        listed under their own heading), each linked relative to ``directory``.
    figures : the figures' JSON sidecars (keys ``title``, ``alt_text``, ``png``), shown in a gallery in this
        order, each image with its alt text and its title as the caption.
    area, period, source : the area's name, the data period in words and the source note.
    gaps : the findings for the "Gaps found" list; default those recorded in the pack
        (:func:`victimneeds.report.findings`).
    skipped : sentences naming the sections skipped for lack of input; default those recorded in the pack
        (:func:`victimneeds.report.skipped_sections`).

    Returns
    -------
    Path of the page written.
    """
    directory = Path(directory)
    pack = directory.parent
    if gaps is None or skipped is None:
        from victimneeds import report

        gaps = report.findings(pack) if gaps is None else gaps
        skipped = report.skipped_sections(pack) if skipped is None else skipped
    e = html.escape
    parts = [f"<h1>{e(title)}</h1>"]
    facts = [("Area", area), ("Period", period)]
    parts += [f"<p><strong>{name}:</strong> {e(value)}</p>" for name, value in facts if value]
    if source:
        parts.append(f"<p>{e(source)}</p>")

    parts.append('<h2 id="sections">Sections</h2>')
    if sections:
        items = []
        for s in sections:
            intro = f'\n<p class="intro">{e(s.intro)}</p>' if s.intro else ""
            items.append(f'<li><a href="{e(quote(s.page), quote=True)}">{e(s.heading)}</a>{intro}</li>')
        parts.append("<ol>\n" + "\n".join(items) + "\n</ol>")
    else:
        parts.append("<p>No section was built.</p>")

    parts.append('<h2 id="gaps">Gaps found</h2>')
    if gaps:
        parts.append("<ul>\n" + "\n".join(f"<li>{e(g)}</li>" for g in gaps) + "\n</ul>")
    else:
        parts.append("<p>The notebooks recorded no findings for this area.</p>")
    if skipped:
        parts.append('<h2 id="skipped">Sections skipped for lack of input</h2>')
        parts.append("<ul>\n" + "\n".join(f"<li>{e(s)}</li>" for s in skipped) + "\n</ul>")

    parts.append('<h2 id="downloads">Downloads</h2>')
    documents = [(p, d) for p, d in downloads if Path(p).suffix.lower() != ".csv"]
    tables = [(p, d) for p, d in downloads if Path(p).suffix.lower() == ".csv"]

    def listing(entries: Sequence[tuple[str | Path, str]]) -> str:
        rows = [f'<li><a href="{_href(p, directory)}">{e(Path(p).name)}</a>' + (f": {e(d)}" if d else "")
                + "</li>" for p, d in entries]
        return "<ul>\n" + "\n".join(rows) + "\n</ul>"

    if documents:
        parts.append(listing(documents))
    if tables:
        parts.append(f'<h3 id="tables">Tables (CSV, disclosure control applied): {len(tables)}</h3>')
        parts.append(listing(tables))
    if not downloads:
        parts.append("<p>No files to download.</p>")

    parts.append('<h2 id="figures">Figures</h2>')
    # A figure belongs to the section whose number its name starts with ("01_forecast_fan": 01).
    by_number = {s.page.split("_", 1)[0]: s for s in sections}
    if figures:
        for n, sidecar in enumerate(figures, start=1):
            sidecar = Path(sidecar)
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            png = sidecar.parent / meta["png"]
            caption = f"Figure {n}: {meta.get('title') or sidecar.stem}."
            alt = meta.get("alt_text") or caption
            owner = by_number.get(sidecar.stem.split("_", 1)[0])
            link = (f' Section: <a href="{e(quote(owner.page), quote=True)}">{e(owner.heading)}</a>.'
                    if owner is not None else "")
            parts.append(f'<figure>\n<a href="{_href(png, directory)}"><img src="{_href(png, directory)}" '
                         f'alt="{e(alt, quote=True)}" loading="lazy"></a>\n'
                         f"<figcaption>{e(caption)}{link}</figcaption>\n</figure>")
    else:
        parts.append("<p>The notebooks saved no figures.</p>")

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / INDEX
    path.write_text(_page(title, "", "\n".join(parts)), encoding="utf-8")
    return path
