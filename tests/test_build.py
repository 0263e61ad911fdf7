"""The main job end to end: `victimneeds build` on the example area writes a complete, safe, labelled pack."""

import json
import re

import nbformat
import pytest
from openpyxl import load_workbook

from victimneeds import disclosure
from victimneeds.build import BuildError, build, notebooks
from victimneeds.report import read_table, table_records


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    out = tmp_path_factory.mktemp("pack")
    summary = build("example", out, progress=False, jobs=2)
    return out, summary


def test_every_notebook_runs_and_is_rendered(pack):
    out, summary = pack
    names = [p.name for p in notebooks()]
    assert [p.name for p in summary.notebooks] == names
    assert sorted(p.name for p in (out / "html").glob("*.html")) == sorted(
        [n.replace(".ipynb", ".html") for n in names] + ["index.html"])
    assert summary.seconds > 0 and "written to" in str(summary)
    # the build attacked the pack's suppressed counts and would not have published it had any been exposed
    assert summary.audit.startswith("Disclosure audit passed") and "0 disclosed exactly" in summary.audit


def test_workbook_has_cover_contents_notes_and_one_sheet_per_table(pack):
    from victimneeds.excel_report import read_workbook_tables

    out, summary = pack
    records = [r for r in table_records(out) if r.rows]
    assert records, "the build wrote no tables"
    wb = load_workbook(summary.workbook)
    assert wb.sheetnames[:3] == ["Cover", "Contents", "Notes"]
    assert len(wb.sheetnames) == len(records) + 3
    found = read_workbook_tables(summary.workbook)
    assert sorted(found) == [r.name for r in records]
    first = wb[found[records[0].name].sheet]
    assert first["A1"].value.startswith(records[0].title)
    assert any("synthetic example" in str(c.value) for c in first["A"][:10])


def test_every_table_is_safe_and_says_it_is_synthetic(pack):
    out, _ = pack
    for record in table_records(out):
        assert "synthetic example" in record.source
        path = out / "tables" / f"{record.name}.csv"
        assert "synthetic example" in path.read_text(encoding="utf-8").splitlines()[1]
        table = read_table(path)
        assert list(table.columns) == record.columns
        if record.count_columns:
            disclosure.check_safe(table, record.count_columns)


def test_every_figure_has_png_svg_alt_text_and_source(pack):
    out, summary = pack
    sidecars = sorted((out / "figures").glob("*.json"))
    assert len(sidecars) == summary.figures > 0
    for sidecar in sidecars:
        meta = json.loads(sidecar.read_text())
        assert meta["alt_text"].strip()
        assert "synthetic example" in meta["source"]
        assert (sidecar.parent / meta["png"]).exists() and (sidecar.parent / meta["svg"]).exists()


def test_a_failing_notebook_is_named_with_its_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('area = "example"\nout_dir = "."\nfigures_dir = "."')
    params.metadata["tags"] = ["parameters"]
    broken = nbformat.v4.new_code_cell("raise ValueError('no such column')")
    nb.cells = [params, nbformat.v4.new_code_cell("x = 1"), broken]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    folder = tmp_path / "nbs"
    folder.mkdir()
    nbformat.write(nb, folder / "00_broken.ipynb")
    with pytest.raises(BuildError, match=r"00_broken\.ipynb failed in cell .*ValueError: no such column") as caught:
        build("example", tmp_path / "out", notebooks_dir=folder, progress=False)
    # no pack is written; the partly executed notebook is kept beside where it would have been
    executed = tmp_path / "out.failed" / "notebooks" / "00_broken.ipynb"
    assert f"The partly executed notebook is at {executed}." in str(caught.value)
    assert executed.is_file() and not (tmp_path / "out").exists()


_IDENTIFIER = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/-])(?!\.\w)")  # not file names
_RAW_FLOAT = re.compile(r"\d\.\d{4,}")
_CODE = re.compile(r"\bX09\d{6}\b")  # the example's district codes


def _document_text(document) -> list[str]:
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        texts += [cell.text for row in table.rows for cell in row.cells]
    return texts


def test_word_document_reads_as_an_assessment(pack):
    import docx

    from victimneeds import labels

    out, summary = pack
    document = docx.Document(summary.word)
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "Executive summary" in headings
    assert "Area profile" in headings and "Referral gaps" in headings
    assert 'TOC \\o "1-3"' in document.element.xml  # a contents field Word fills in
    # every figure is in, each picture carrying its alt text, each with its own numbered caption
    pictures = document.inline_shapes
    assert len(pictures) == summary.figures
    alts = [shape._inline.docPr.get("descr") for shape in pictures]
    sidecar_alts = {json.loads(p.read_text())["alt_text"] for p in (out / "figures").glob("*.json")}
    assert set(alts) == sidecar_alts
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    figure_captions = [c for c in captions if c.startswith("Figure ")]
    assert [c.split(":")[0] for c in figure_captions] == [f"Figure {i}" for i in range(1, summary.figures + 1)]
    assert len(set(captions)) == len(captions)
    assert any("synthetic example" in p.text for p in document.paragraphs[:12])
    # words, not identifiers; formatted numbers; district names, not codes
    texts = _document_text(document)
    identifiers = sorted({w for t in texts for w in _IDENTIFIER.findall(t)})
    assert identifiers == [], identifiers[:20]
    assert not [t for t in texts if _RAW_FLOAT.search(t)][:5]
    assert not [t for t in texts if _CODE.search(t)][:5]
    # no count of 1 to 4 in a count column of any table in the document
    count_labels = {labels.column_label(c) for r in table_records(out) for c in r.count_columns}
    for table in document.tables:
        header = [c.text for c in table.rows[0].cells]
        for j, name in enumerate(header):
            if name in count_labels:
                values = {row.cells[j].text.replace(",", "") for row in table.rows[1:]}
                assert not values & {"1", "2", "3", "4"}, f"small count under {name!r}"


def test_workbook_has_human_headers_and_number_formats(pack):
    _, summary = pack
    wb = load_workbook(summary.workbook)
    identifiers, general = set(), []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    identifiers.update(_IDENTIFIER.findall(cell.value))
                elif isinstance(cell.value, float) and not cell.value.is_integer() and cell.number_format == "General":
                    general.append(f"{ws.title}!{cell.coordinate}")
    assert sorted(identifiers) == [], sorted(identifiers)[:20]
    assert general == [], general[:10]


def test_word_document_renders_to_pdf_where_libreoffice_is_installed(pack, tmp_path):
    import shutil
    import subprocess

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed here")
    _, summary = pack
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(summary.word)],
                   check=True, capture_output=True, timeout=180)
    pdf = tmp_path / summary.word.with_suffix(".pdf").name
    assert pdf.stat().st_size > 10_000
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        return
    # the first pages render as pages with something on them (not blank, not an error page)
    subprocess.run([pdftoppm, "-png", "-r", "30", "-f", "1", "-l", "4", str(pdf), str(tmp_path / "page")],
                   check=True, capture_output=True, timeout=120)
    from matplotlib.image import imread

    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 4
    ink = []
    for page in pages:
        image = imread(page)
        assert image.shape[0] > image.shape[1]  # portrait A4
        ink.append(float((image[..., :3] < 0.5).mean()))
    # the title page and the summary carry text; the contents page (page 2) only its heading and the field
    assert ink[0] > 0.002 and ink[2] > 0.002 and ink[3] > 0.002 and ink[1] > 0.0002, ink


def test_html_pages_have_no_code_and_the_index_links_the_whole_pack(pack):
    import re
    from urllib.parse import unquote

    out, summary = pack
    index = out / "html" / "index.html"
    assert summary.index == index and "html/index.html" in json.loads((out / "manifest.json").read_text())["files"]
    text = index.read_text(encoding="utf-8")
    links = re.findall(r'(?:href|src)="([^"#]+)"', text)
    for target in links:
        assert (index.parent / unquote(target)).resolve().is_file(), target
    for page in summary.html:
        assert page.name in links
    assert len(re.findall(r"<img ", text)) == summary.figures == len(re.findall(r'<img [^>]*alt="[^"]+"', text))
    assert {f"../tables/{r.name}.csv" for r in table_records(out)} <= set(links)
    assert {"../manifest.json", f"../{summary.word.name}", f"../{summary.workbook.name}"} <= set(links)
    for page in summary.html:
        html = page.read_text(encoding="utf-8")
        assert "vn.load(area)" not in html and "import victimneeds" not in html  # no code
        assert "<title>Notebook</title>" not in html and "Northmoor (synthetic example)</title>" in html
        assert len(re.findall(r"<img ", html)) == len(re.findall(r'<img [^>]*alt="[^"]+"', html))
