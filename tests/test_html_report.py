"""The pack's web pages (issue 17, item 6) and what the build says while it works (item 7).

Section pages are rendered from a small executed notebook made here (a title, a parameters cell, a cell that
printed, a figure, an error and standard-error output), so no kernel runs; the index is written over a pack
folder made here. The build's progress is checked on a text stream, through a build whose notebook runner is a
fake, and through two trivial notebooks run by the real runner.
"""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from victimneeds import build as vbuild
from victimneeds import html_report
from victimneeds.build import BuildProgress, build, check_pack
from victimneeds.html_report import Section, write_html, write_index
from victimneeds.report import Output

# A 1 x 1 PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
AREA = "Northmoor (synthetic example)"
FIGURE_ALT = "Funnel plot of each district's rate against its size, with 95% & 99.8% limits."


class Page(HTMLParser):
    """The parts of a page the tests look at: the title, the tags with their attributes, the headings, the text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[tuple[int, str]] = []
        self.text: list[str] = []
        self.title = ""
        self._in: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._in:
            del self._in[len(self._in) - 1 - self._in[::-1].index(tag):]

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if "title" in self._in:
            self.title += data
        for level in range(1, 7):
            if f"h{level}" in self._in and data.strip():
                self.headings.append((level, data.strip()))

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def links(self) -> list[str]:
        return [a["href"] for a in self.all("a") if a.get("href")]


def _executed_notebook(path: Path, heading: str = "01 Demand") -> Path:
    """A notebook as papermill leaves it: a title, the parameters (and papermill's injected copy), a cell that
    printed, a figure saved with out.figure, a cell whose error was caught and one writing to standard error."""
    nb = nbformat.v4.new_notebook()
    title = nbformat.v4.new_markdown_cell(
        f"# {heading}\n\n**How many victims, of what,\nwhere.**\n\nRecorded demand comes from police records.")
    params = nbformat.v4.new_code_cell('area = "PARAMETER_VALUE_area"\nprint("PARAMETER_OUTPUT")')
    params.metadata["tags"] = ["parameters"]
    params.outputs = [nbformat.v4.new_output("stream", name="stdout", text="PARAMETER_OUTPUT\n")]
    injected = nbformat.v4.new_code_cell('area = "INJECTED_VALUE"')
    injected.metadata["tags"] = ["injected-parameters"]
    injected.outputs = [nbformat.v4.new_output("stream", name="stdout", text="INJECTED_OUTPUT\n")]
    printed = nbformat.v4.new_code_cell('rec = demand.recorded(CODE_ONLY_NAME)\nprint("1,234 victims recorded")')
    printed.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1,234 victims recorded\n"),
                       nbformat.v4.new_output("stream", name="stderr", text="STDERR_WARNING: /home/x.py:3\n")]
    figure = nbformat.v4.new_code_cell('ax = plot_funnel()\nout.figure(ax.figure, "01_demo_funnel",\n'
                                       '           "Funnel plot ...")')
    figure.outputs = [nbformat.v4.new_output("display_data", data={
        "image/png": base64.b64encode(PNG).decode(), "text/plain": "<Figure size 800x500 with 1 Axes>"})]
    failed = nbformat.v4.new_code_cell("raise ValueError('TRACEBACK_TEXT')")
    failed.outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="TRACEBACK_TEXT",
                                             traceback=["Traceback (most recent call last)", "TRACEBACK_TEXT"])]
    later = nbformat.v4.new_markdown_cell("## Trend\n\nThe rate ratio per year.")
    nb.cells = [title, params, injected, printed, figure, failed, later]
    nbformat.write(nb, path)
    return path


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    """A pack folder with one figure (PNG and sidecar), one table, the documents and two findings."""
    (tmp_path / "notebooks").mkdir()
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "01_demo_funnel.png").write_bytes(PNG)
    (figures / "01_demo_funnel.json").write_text(json.dumps(
        {"name": "01_demo_funnel", "title": "Referral rate <by> district & year", "alt_text": FIGURE_ALT,
         "source": "Source: test (synthetic example).", "png": "01_demo_funnel.png", "svg": "01_demo_funnel.svg"}))
    out = Output(tmp_path, source="Source: test (synthetic example).", period="2024")
    import pandas as pd

    out.table(pd.DataFrame({"district": ["A", "B"], "victims": [120, 45]}), "01_demo", "Victims <by> district",
              counts=["victims"])
    out.finding(["Harrowdale refers fewer victims than expected <b>& more</b>.", "ISVA contact is slow."])
    out.skip("Referral pathway", "referrals table")
    for name in ("example_needs_assessment.docx", "example_evidence_tables.xlsx", "manifest.json"):
        (tmp_path / name).write_bytes(b"x")
    return tmp_path


def _resolves(page: Path, target: str) -> bool:
    """Whether a link on ``page`` leads to a file that exists (fragments and query ignored)."""
    from urllib.parse import unquote

    path = unquote(target.split("#", 1)[0].split("?", 1)[0])
    return not path or (page.parent / path).resolve().is_file()


def _headings_in_order(headings: list[tuple[int, str]]) -> bool:
    """One h1 first, and no heading more than one level below the one before it."""
    levels = [level for level, _ in headings]
    return bool(levels) and levels[0] == 1 and levels.count(1) == 1 and all(
        b <= a + 1 for a, b in zip(levels, levels[1:], strict=False))


def test_a_section_page_shows_results_and_no_code(pack: Path) -> None:
    executed = _executed_notebook(pack / "notebooks" / "01_demand.ipynb")
    previous, following = Section("00_area_profile.html", "00 Area profile"), Section("02_gaps.html", "02 Gaps")
    path = write_html(executed, pack / "html", area=AREA, source="Source: test (synthetic example).",
                      previous=previous, following=following)
    assert path == pack / "html" / "01_demand.html"
    text = path.read_text(encoding="utf-8")
    page = Page(text)
    assert page.title == f"01 Demand - {AREA}"
    assert page.all("html") == [{"lang": "en-GB"}]
    # the narrative and what the code printed are there; the code, parameters, traceback and stderr are not
    assert "1,234 victims recorded" in text and "Recorded demand comes from police records." in text
    for hidden in ("CODE_ONLY_NAME", "demand.recorded", "out.figure", "PARAMETER_VALUE", "PARAMETER_OUTPUT",
                   "INJECTED", "TRACEBACK_TEXT", "Traceback", "STDERR_WARNING", "In&nbsp;[", "Out["):
        assert hidden not in text, hidden
    # the figure carries the alt text recorded when it was saved
    images = page.all("img")
    assert len(images) == 1 and images[0]["alt"] == FIGURE_ALT
    # navigation: the index and the sections either side, at the top and the foot of the page
    assert page.links().count("index.html") == 2
    assert page.links().count("00_area_profile.html") == 2 and page.links().count("02_gaps.html") == 2
    assert "Previous: 00 Area profile" in text and "Next: 02 Gaps" in text
    assert _headings_in_order(page.headings) and page.headings[0] == (1, "01 Demand")
    # works offline: nothing fetched from elsewhere, no scripts
    assert not page.all("script") and not page.all("link")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)


def test_a_section_page_without_a_heading_or_sidecar_still_has_a_title_and_alt_text(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("fig")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(PNG).decode()})]
    nb.cells = [cell]
    nbformat.write(nb, tmp_path / "07_extra.ipynb")
    page = Page(write_html(tmp_path / "07_extra.ipynb", tmp_path / "html", index=None).read_text())
    assert page.title == "07_extra"
    assert all(img.get("alt") for img in page.all("img")) and len(page.all("img")) == 1
    assert not page.all("nav")


def test_the_report_module_still_renders_a_page(pack: Path) -> None:
    from victimneeds.report import write_html as report_write_html

    executed = _executed_notebook(pack / "notebooks" / "01_demand.ipynb")
    page = Page(report_write_html(executed, pack / "html").read_text())
    assert page.title == "01 Demand" and "index.html" not in page.links()  # no index there to link to


def test_the_section_of_a_notebook_is_its_heading_and_first_paragraph(tmp_path: Path) -> None:
    found = html_report.section(_executed_notebook(tmp_path / "01_demand.ipynb"))
    assert found == Section("01_demand.html", "01 Demand", "How many victims, of what, where.")


def test_the_index_links_every_section_download_and_figure(pack: Path) -> None:
    sections = []
    for stem, heading in (("00_area_profile", "00 Area profile"), ("01_demand", "01 Demand <script>alert(1)")):
        _executed_notebook(pack / "notebooks" / f"{stem}.ipynb", heading=heading)
        sections.append(html_report.section(pack / "notebooks" / f"{stem}.ipynb"))
    for i, path in enumerate(sorted((pack / "notebooks").glob("*.ipynb"))):
        write_html(path, pack / "html", previous=sections[i - 1] if i else None,
                   following=sections[i + 1] if i + 1 < len(sections) else None)
    downloads = [(pack / "example_needs_assessment.docx", "the Word draft"),
                 (pack / "example_evidence_tables.xlsx", "every table in one workbook"),
                 (pack / "manifest.json", "checksums"),
                 (pack / "tables" / "01_demo.csv", "Victims <by> district")]
    figures = sorted((pack / "figures").glob("*.json"))
    title = "Victims' needs assessment: Northmoor & <District>"
    path = write_index(pack / "html", title, sections, downloads, figures, area=AREA, period="April 2024 to March 2025",
                       source="Source: test (synthetic example).")
    text = path.read_text(encoding="utf-8")
    page = Page(text)
    assert page.title == title and page.all("html") == [{"lang": "en-GB"}]
    links = page.links()
    for s in sections:
        assert s.page in links
    assert "How many victims, of what, where." in text  # each section's opening paragraph
    for file, _ in downloads:
        assert f"../{file.relative_to(pack).as_posix()}" in links
    assert "../figures/01_demo_funnel.png" in [img["src"] for img in page.all("img")]
    # every link and image of every page leads to a file of the pack
    for html_page in (pack / "html").glob("*.html"):
        parsed = Page(html_page.read_text(encoding="utf-8"))
        for target in parsed.links() + [img["src"] for img in parsed.all("img") if
                                         not img["src"].startswith("data:")]:
            assert _resolves(html_page, target), (html_page.name, target)
        assert all(img.get("alt") for img in parsed.all("img")), html_page.name
    # the gallery: alt text from the sidecar, the title as caption
    assert [img["alt"] for img in page.all("img")] == [FIGURE_ALT]
    assert "Figure 1: Referral rate <by> district & year. Section: 01 Demand" in "".join(page.text)
    assert links.count("01_demand.html") == 2  # in the sections list, and from the figure of that section
    # gaps and skipped sections, read from the pack when not given
    assert "Harrowdale refers fewer victims than expected <b>& more</b>." in page.text
    assert "Skipped: Referral pathway. This area has no referrals table." in page.text
    # every piece of text is escaped: no markup gets through
    assert "<script>" not in text and "<b>&" not in text and "&lt;script&gt;alert(1)" in text
    assert not page.all("script") and not page.all("b")
    assert _headings_in_order(page.headings)
    assert [h for _, h in page.headings][:4] == [title, "Sections", "Gaps found", "Sections skipped for lack of input"]


def test_an_index_with_nothing_found_says_so(tmp_path: Path) -> None:
    page = Page(write_index(tmp_path / "html", "Victims' needs assessment: Demo", [], [], [], gaps=[],
                            skipped=[]).read_text())
    text = " ".join(page.text)
    assert "The notebooks recorded no findings for this area." in text
    assert "No section was built." in text and "The notebooks saved no figures." in text
    assert "Sections skipped" not in text


# --------------------------------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------------------------------

class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_off_a_terminal_is_one_plain_line_per_stage_and_notebook() -> None:
    log = io.StringIO()
    progress = BuildProgress(log)
    assert not progress.live
    progress.stage("Loading the area")
    progress.start_notebooks(["00_area_profile", "01_demand", "02_referral_gaps"], jobs=2)
    progress.notebook_started("00_area_profile")
    progress.notebook_started("01_demand")
    progress.notebook_finished("01_demand", 30.04)
    progress.notebook_started("02_referral_gaps")
    progress.notebook_finished("02_referral_gaps", 12.0, failed=True)
    progress.notebook_finished("00_area_profile", 50.55)
    progress.stage("Writing the Excel workbook")
    progress.close()
    assert log.getvalue().splitlines() == [
        "Loading the area",
        "Running 3 notebooks (2 at a time)",
        "  1/3 done: 01_demand (30.0 s)",
        "  2/3 failed: 02_referral_gaps (12.0 s)",
        "  3/3 done: 00_area_profile (50.5 s)",
        "Writing the Excel workbook",
    ]
    assert "\r" not in log.getvalue() and "\x1b" not in log.getvalue()


def test_progress_on_a_terminal_names_the_running_notebooks_and_counts_those_done() -> None:
    screen = Terminal()
    progress = BuildProgress(screen, interval=0.01)
    assert progress.live
    progress.stage("Loading the area")
    progress.start_notebooks(["00_area_profile", "01_demand", "02_referral_gaps"], jobs=2)
    progress.notebook_started("00_area_profile")
    progress.notebook_started("01_demand")
    assert progress.running == ["00_area_profile", "01_demand"]
    progress.notebook_finished("00_area_profile", 3.0)
    progress.notebook_started("02_referral_gaps")
    progress.tick()
    progress.stage("Writing the Word draft")
    progress.close()
    shown = screen.getvalue()
    assert "Loading the area [00:0" in shown
    assert "Running notebooks (2 at a time): 00_area_profile, 01_demand ... 0/3 done" in shown
    assert "Running notebooks (2 at a time): 01_demand, 02_referral_gaps ... 1/3 done" in shown
    assert "Writing the Word draft [00:0" in shown


def test_quiet_progress_says_nothing() -> None:
    screen = Terminal()
    progress = BuildProgress(screen, enabled=False)
    progress.stage("Loading the area")
    progress.start_notebooks(["00_area_profile"], jobs=1)
    progress.notebook_started("00_area_profile")
    progress.notebook_finished("00_area_profile", 1.0)
    progress.close()
    assert screen.getvalue() == ""


def _fake_runner(paths, work, parameters, kernel_name, jobs, progress):  # noqa: ANN001, ANN202
    """A stand-in for build._run_notebooks: reports to ``progress`` and writes an executed notebook each."""
    progress.start_notebooks([nb.stem for nb in paths], jobs or 1)
    for i, nb in enumerate(paths):
        progress.notebook_started(nb.stem)
        _executed_notebook(work / "notebooks" / nb.name, heading=f"0{i} Section {i}")
        out = Output(parameters["out_dir"], source="Source: test (synthetic example).", period="2024")
        import pandas as pd

        out.table(pd.DataFrame({"district": ["A", "B"], "victims": [120, 45]}), f"0{i}_table", f"Victims {i}",
                  counts=["victims"])
        progress.notebook_finished(nb.stem, 0.5)
    return {nb.stem: 0.5 for nb in paths}, []


def test_a_build_names_each_stage_and_its_pack_has_an_index_in_the_manifest(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "nbs"
    folder.mkdir()
    for name in ("00_first.ipynb", "01_second.ipynb"):
        nbformat.write(nbformat.v4.new_notebook(), folder / name)
    monkeypatch.setattr(vbuild, "_run_notebooks", _fake_runner)
    log = io.StringIO()
    summary = build("example", tmp_path / "pack", notebooks_dir=folder, progress=BuildProgress(log), jobs=1)
    assert log.getvalue().splitlines() == [
        "Loading the area",
        "Running 2 notebooks (1 at a time)",
        "  1/2 done: 00_first (0.5 s)",
        "  2/2 done: 01_second (0.5 s)",
        "Writing the Excel workbook",
        "Writing the Word draft",
        "Writing HTML pages",
        "Auditing disclosure",
        "Writing the manifest",
    ]
    out = tmp_path / "pack"
    assert summary.index == out / "html" / "index.html" and "contents page index.html" in str(summary)
    assert [p.name for p in summary.html] == ["00_first.html", "01_second.html"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"html/index.html", "html/00_first.html", "html/01_second.html"} <= set(manifest["files"])
    assert check_pack(out) == []
    page = Page((out / "html" / "index.html").read_text(encoding="utf-8"))
    for target in page.links():
        assert _resolves(out / "html" / "index.html", target), target
    assert {"00_first.html", "01_second.html", "../manifest.json", "../example_needs_assessment.docx",
            "../example_evidence_tables.xlsx", "../tables/00_table.csv", "../tables/01_table.csv"} <= set(page.links())
    assert Page((out / "html" / "00_first.html").read_text()).title == "00 Section 0 - Northmoor (synthetic example)"


def test_the_runner_hands_out_notebooks_jobs_at_a_time(tmp_path: Path) -> None:
    """Two trivial notebooks run by the real runner, one at a time: the second starts when the first is done."""
    folder = tmp_path / "nbs"
    folder.mkdir()
    for name in ("00_a.ipynb", "01_b.ipynb"):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("x = 1")]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, folder / name)
    (tmp_path / "work" / "notebooks").mkdir(parents=True)

    class Recorder(BuildProgress):
        def __init__(self) -> None:
            super().__init__(io.StringIO(), enabled=False, interval=0.05)
            self.events: list[tuple[str, ...]] = []

        def notebook_started(self, name: str) -> None:
            super().notebook_started(name)
            self.events.append(("started", name, *self.running))

        def notebook_finished(self, name: str, seconds: float, failed: bool = False) -> None:
            super().notebook_finished(name, seconds, failed)
            self.events.append(("finished", name))

    recorder = Recorder()
    timings, failures = vbuild._run_notebooks(sorted(folder.glob("*.ipynb")), tmp_path / "work", {}, "python3", 1,
                                              recorder)
    assert failures == [] and sorted(timings) == ["00_a", "01_b"]
    assert recorder.events == [("started", "00_a", "00_a"), ("finished", "00_a"),
                               ("started", "01_b", "01_b"), ("finished", "01_b")]
