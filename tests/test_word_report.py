"""The Word draft reads as an assessment: built on a tiny pack written through Output and two hand-made executed
notebooks (one with the markers Output leaves in a kernel, one from before markers), then read back with
python-docx."""

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from victimneeds import reference, sections  # noqa: E402
from victimneeds.report import Output, write_word  # noqa: E402
from victimneeds.word_content import finding_topic, page_table, short_source, tidy_text  # noqa: E402

docx = pytest.importorskip("docx")

SOURCE = ("Source: Testshire (synthetic example), synthetic example: made-up data for a fictional area, not real "
          "victims. Produced with victimneeds.")
PLACES = {"X1": "Harrowdale", "X2": "Eastmere", "X3": "Kestrel"}
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _marker(kind, name=None, text=None, headline=False):
    return nbformat.v4.new_output(
        "display_data", data={"text/plain": text or ""},
        metadata={"victimneeds": {"kind": kind, "name": name, "text": text, "headline": headline}},
    )


def _notebooks(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    nb1 = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell("area = 'example'  # parameters_cell_code")
    parameters.metadata["tags"] = ["parameters"]
    parameters.outputs = [nbformat.v4.new_output("stream", name="stdout", text="parameters_cell_output\n")]
    rates = nbformat.v4.new_code_cell("out.table(rates, '01_rates', ...)")
    rates.outputs = [nbformat.v4.new_output("stream", name="stdout", text="raw_printed_output 104.2095257493974\n"),
                     _marker("table", "01_rates")]
    figure = nbformat.v4.new_code_cell("out.figure(fig, '01_rates', ...)")
    figure.outputs = [_marker("figure", "01_rates")]
    long = nbformat.v4.new_code_cell("out.table(long, '01_long', ...)")
    long.outputs = [_marker("table", "01_long")]
    said = nbformat.v4.new_code_cell("out.finding(...); out.say(...)")
    said.outputs = [_marker("finding", text="Harrowdale refers fewer victims (district_code: X1): 7313 of 104522, "
                                             "p value 0"),
                    _marker("say", text="About 28,800 victims of domestic abuse a year.", headline=True),
                    _marker("say", text="Rates are highest in Harrowdale.")]
    nb1.cells = [
        nbformat.v4.new_markdown_cell(
            "# 01 Demand\n\n**How many victims, of what, where.**\n\nRates by `crime_group` and district, see "
            "[the Code](https://example.org). It runs on the built-in **synthetic example area** by default. To run "
            "it for your own area, set `area` in the next cell."),
        parameters,
        nbformat.v4.new_markdown_cell("## Rates\n\nRecorded crime per 1,000 residents, with *exact* intervals "
                                      "(bench/rate_check.py). Set others under [parameters]; docs/parameters.md "
                                      "lists them."),
        rates, figure,
        nbformat.v4.new_markdown_cell("## Every crime type\n\n- one item\n  continued\n- another item"),
        long, said,
        nbformat.v4.new_markdown_cell("### Empty heading\n\n## What this section does not show\n\n- Caveats."),
    ]
    nb2 = nbformat.v4.new_notebook()  # run before markers existed: tables placed by their name in the code
    odds = nbformat.v4.new_code_cell('display(out.table(odds, "02_odds", "Odds of referral"))')
    odds.outputs = [nbformat.v4.new_output("stream", name="stdout", text="  variable  level  odds_ratio\n")]
    nb2.cells = [nbformat.v4.new_markdown_cell("# 02 Referral gaps\n\n## Who is referred less?\n\nOdds ratios."),
                 odds]
    paths = [folder / "01_demand.ipynb", folder / "02_referral_gaps.ipynb"]
    for path, node in zip(paths, (nb1, nb2), strict=True):
        nbformat.write(node, path)
    return paths


def _pack(tmp_path: Path, findings: bool = True) -> tuple[Path, list[Path]]:
    out_dir = tmp_path / "pack"
    out = Output(out_dir, source=SOURCE, period="April 2023 to March 2025")
    rates = pd.DataFrame({"district_code": ["X1", "X2", "X3"], "district_name": ["Harrowdale", "Eastmere", "Kestrel"],
                          "victims": [7313, 10085, 2500], "population": [70_000, 96_000, 30_000],
                          "value": [104.2095257493974, 105.05208333, 83.333333],
                          "lowercl": [101.8, 103.0, 80.1], "uppercl": [106.6, 107.1, 86.7],
                          "method": "Exact (Garwood 1936)"})
    out.table(rates, "01_rates", "Recorded crime per 1,000 residents", counts=["victims"],
              linked={"victims": ["value", "lowercl", "uppercl"]}, modelled=["population"],
              units="crimes per 1,000 residents", index=["district_code", "district_name"], columns_add_up=False)
    long = pd.DataFrame({"crime_type": [f"Type {i:02d}" for i in range(40)],
                         "crimes": [100 + 7 * i for i in range(40)]})
    out.table(long, "01_long", "Crimes by type", counts=["crimes"], units="crimes", index="crime_type")
    odds = pd.DataFrame({"variable": ["district_code", "is_repeat_victim"], "level": ["X2", "True"],
                         "odds_ratio": [0.81234567, 1.5], "p_value": [0.0, 0.0123456]})
    out.table(odds, "02_odds", "Odds of referral", modelled=["odds_ratio", "p_value"], index=["variable", "level"],
              units="odds ratios")
    for name, alt in (("01_rates", "Dot chart of crime rates by district."),
                      ("02_rates_overdispersed", "The same chart with wider limits.")):
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot([1, 2, 3], [3, 1, 2])
        out.figure(fig, name, alt, title="Rates by district")  # the same title twice: captions must still differ
        plt.close(fig)
    if findings:
        out.finding("Harrowdale refers fewer victims (district_code: X1): 7313 of 104522, p value 0")
    out.skip("Referral pathway", "referrals table (victim-service case records)")
    out.skip("Victim voice", sections.skip_text("survey", ("weight",)))  # the notebooks' wording
    return out_dir, _notebooks(tmp_path / "notebooks")


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("word")
    out_dir, notebooks = _pack(tmp_path)
    path = write_word(out_dir, tmp_path / "testshire_needs_assessment.docx", "Victims' needs assessment: Testshire",
                      SOURCE, notebooks, period="April 2023 to March 2025", place_names=PLACES)
    return docx.Document(path)


def _text(document) -> str:
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def _between(document, start: str, stop: str) -> list[str]:
    """The paragraphs between two level-1 headings."""
    texts = [p.text for p in document.paragraphs]
    top = [k for k, p in enumerate(document.paragraphs) if p.style.name == "Heading 1"]
    i = next(k for k in top if texts[k] == start)
    j = next(k for k in top if texts[k] == stop and k > i)
    return texts[i + 1:j]


def test_headings_follow_the_notebooks(document):
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert ("Heading 1", "Executive summary") in headings
    assert ("Heading 1", "Demand") in headings  # the "01 " prefix stripped
    assert ("Heading 2", "Rates") in headings
    assert ("Heading 1", "Referral gaps") in headings
    assert ("Heading 2", "Who is referred less?") in headings
    assert not any(text == "Empty heading" for _, text in headings)  # nothing under it
    for annex in ("Annex A: Sources and provenance", "Annex B: Methods and references", "Annex C: Disclosure control"):
        assert ("Heading 1", annex) in headings
    assert document.paragraphs[0].style.name == "Title"
    props = document.core_properties
    assert props.title == "Victims' needs assessment: Testshire" and props.author == "victimneeds"
    assert props.subject


def test_executive_summary_has_the_findings_headlines_commissioning_and_skipped(document):
    summary = _between(document, "Executive summary", "Demand")
    text = "\n".join(summary)
    assert "Harrowdale refers fewer victims (district: Harrowdale): 7,313 of 104,522, p-value < 0.001" in summary
    assert "About 28,800 victims of domestic abuse a year." in summary  # the headline sentence
    assert "Rates are highest in Harrowdale." not in summary  # not a headline
    assert "Section 01, Demand, recorded 1 finding: harrowdale refers fewer victims." in text
    assert "Section 02, Referral gaps, recorded no finding" in text
    assert ("Referral pathway: needs the referrals table (victim-service case records). Adding it to the area's "
            "configuration would enable it.") in text
    assert "Victim voice: needs the victim satisfaction survey (one row per response): the survey table with " \
           "weight. To add it, name the file in an [extracts.survey] section of the area configuration" in text


def test_no_findings_says_which_rule_no_comparison_met(tmp_path):
    out_dir, notebooks = _pack(tmp_path, findings=False)
    path = write_word(out_dir, tmp_path / "x.docx", "Victims' needs assessment: Testshire", SOURCE, notebooks)
    text = _text(docx.Document(path))
    assert "No comparison in this assessment met that rule" in text
    assert "p-value below 0.002" in text
    assert "recorded no findings" not in text


def test_chapters_place_tables_figures_and_sentences_at_their_markers_and_never_code(document):
    chapter = _between(document, "Demand", "Referral gaps")
    assert chapter.index("Rates") < next(i for i, t in enumerate(chapter) if t.startswith("Table 1:"))
    assert chapter.index("Rates are highest in Harrowdale.") > chapter.index("Every crime type")
    assert any(t.startswith("Finding: Harrowdale refers fewer victims (district: Harrowdale)") for t in chapter)
    assert "one item continued" in chapter
    assert "Recorded crime per 1,000 residents, with exact intervals." in chapter  # no developer file pointers
    assert "Rates by crime group and district, see the Code." in chapter  # `code`, links; the how-to-run sentences
    text = _text(document)
    assert "docs/" not in "\n".join(chapter) and ".py" not in text
    for leaked in ("parameters_cell", "raw_printed_output", "next cell", "out.table", "**", "`"):
        assert leaked not in text
    # the figure not marked anywhere goes at the end of its section
    gaps = _between(document, "Referral gaps", "Annex A: Sources and provenance")
    assert gaps.index("More tables and figures") < next(i for i, t in enumerate(gaps) if t.startswith("Figure"))


def test_captions_numbered_with_seq_fields_and_all_different(document):
    captions = [p for p in document.paragraphs if p.style.name == "Caption"]
    for label in ("Figure", "Table"):
        mine = [p for p in captions if p.text.startswith(label)]
        assert [re.match(rf"{label} (\d+): ", p.text).group(1) for p in mine] == [str(i) for i in
                                                                                 range(1, len(mine) + 1)]
        for p in mine:
            instructions = "".join(t.text for t in p._p.iter(f"{W}instrText"))
            assert f"SEQ {label}" in instructions
    assert len([p for p in captions if p.text.startswith("Figure")]) == 2
    assert len([p for p in captions if p.text.startswith("Table")]) == 3
    assert len({p.text for p in captions}) == len(captions)
    assert "Table 1: Recorded crime per 1,000 residents (crimes per 1,000 residents)" in [p.text for p in captions]


def test_figures_have_alt_text_and_a_short_source_line(document):
    pictures = document.inline_shapes
    assert len(pictures) == 2
    assert [s._inline.docPr.get("descr") for s in pictures] == ["Dot chart of crime rates by district.",
                                                              "The same chart with wider limits."]
    texts = [p.text for p in document.paragraphs]
    assert texts.count("Source: Testshire (synthetic example); see Annex A.") >= 2
    assert not any(t.startswith("Source: Testshire (synthetic example), synthetic example") for t in
                   texts[:texts.index("Annex A: Sources and provenance")])
    assert short_source(SOURCE) == "Source: Testshire (synthetic example); see Annex A."


def test_tables_humanised_styled_and_a_long_table_summarised_with_a_pointer(document):
    rates, long, odds = document.tables
    assert [c.text for c in rates.rows[0].cells] == ["District", "Victims", "Population",
                                                      "Crimes per 1,000 residents (95% interval)"]
    assert [c.text for c in rates.rows[1].cells] == ["Harrowdale", "7,313", "70,000", "104.2 (101.8 to 106.6)"]
    assert rates.rows[1].cells[1].paragraphs[0].alignment == 2  # numbers right-aligned
    assert {p.style.name for row in rates.rows for c in row.cells for p in c.paragraphs} == {"Table text"}
    assert len(long.rows) == 11 and long.rows[1].cells[0].text == "Type 39"  # the 10 largest
    text = _text(document)
    assert ("Showing 10 of 40 rows (the 10 largest by crimes); the full table is sheet '01 Long' of the workbook "
            "testshire_evidence_tables.xlsx.") in text
    assert [c.text for c in odds.rows[0].cells] == ["Variable", "Level", "Odds ratio", "p-value"]
    assert [c.text for c in odds.rows[1].cells] == ["District", "Eastmere", "0.81", "<0.001"]
    assert [c.text for c in odds.rows[2].cells] == ["Repeat victim", "Yes", "1.50", "0.012"]
    assert "Method: Exact (Garwood 1936)." in text  # a column the same on every row becomes a note
    for table in document.tables:
        assert table.style.name == "Evidence table"
        assert table.rows[0]._tr.trPr.find(f"{W}tblHeader") is not None
    style = document.styles["Evidence table"]
    assert style.base_style.name == "Table Grid"
    assert style.element.find(f"{W}tblStylePr").get(f"{W}type") == "firstRow"


def test_no_identifier_or_raw_float_in_the_text(document):
    text = _text(document)
    # file names (the workbook a pointer names) are what a reader must look for, so they keep their spelling
    words = re.sub(r"\S+\.(xlsx|docx|csv)\b", "", text)
    assert re.findall(r"\b[a-z]+_[a-z_]+\b", words) == []
    assert re.findall(r"\d+\.\d{4,}", text) == []
    assert "X1" not in text and "X2" not in text


def test_contents_field_and_update_on_open(document):
    instructions = "".join(t.text for t in document.element.body.iter(f"{W}instrText"))
    assert 'TOC \\o "1-3" \\h \\z \\u' in instructions
    assert "Right-click to update the table of contents." in [p.text for p in document.paragraphs]
    update = document.settings.element.find(f"{W}updateFields")
    assert update is not None and update.get(f"{W}val") == "true"


def test_annexes_sources_references_and_disclosure(document):
    annex_a = _between(document, "Annex A: Sources and provenance", "Annex B: Methods and references")
    assert annex_a.count(SOURCE) == 1
    annex_b = _between(document, "Annex B: Methods and references", "Annex C: Disclosure control")
    assert any(t.startswith("Wilson EB (1927). Probable inference") for t in annex_b)
    assert any("Statistics in Medicine 24:1185-1202" in t for t in annex_b)
    text = _text(document)
    assert "Policy applied: Counts of 1 to 4 shown as [c]." in text


def test_every_reference_is_cited_by_the_code():
    """The references annex cites only methods and sources the package's own docstrings and tables cite."""
    package = Path(reference.__file__).resolve().parents[1]
    code = "\n".join(p.read_text(encoding="utf-8") for p in package.rglob("*.py"))
    code += "\n".join(p.read_text(encoding="utf-8") for p in (package / "reference").glob("*.csv")
                      if p.name != "references.csv")
    table = reference.table("references")
    assert table["key"].is_unique and table["citation"].notna().all() and table["used_for"].notna().all()
    for citation in table["citation"]:
        author = re.split(r"[ ,(]", citation)[0]
        year = re.search(r"\((\d{4})\)", citation)
        pattern = rf"{re.escape(author)}[\s\S]{{0,120}}{year.group(1)}" if year else re.escape(author)
        assert re.search(pattern, code), f"not cited in the code: {citation[:60]}"


def test_text_helpers():
    assert tidy_text("p = 0.000 and q: 0 and 0.0123456 of 123456") == "p < 0.001 and q < 0.001 and 0.01 of 123,456"
    kept = "codes E07000129, 2024/25 and 2019 to 2025 stay"
    assert tidy_text(kept) == kept
    assert finding_topic("Slow first contact (Northmoor ISVA): 14%") == "Slow first contact"


def test_page_table_keeps_the_latest_period_and_label_columns():
    from victimneeds.report import TableRecord

    t = pd.DataFrame({"financial_year": ["2023/24"] * 20 + ["2024/25"] * 20, "district_name": [f"D{i}" for i in
                                                                                                range(20)] * 2,
                      "crimes": range(40)})
    record = TableRecord(name="01_x", title="X", source="", period="", count_columns=["crimes"])
    shown = page_table(t, record)
    assert shown.shown_rows == 20 and set(shown.frame["Financial year"]) == {"2024/25"}
    assert shown.how == "those for 2024/25, the latest period"
    wide = pd.DataFrame({"crime_group": ["A", "B"], **{f"20{y}/{y + 1}": [1000 + y, 2000 + y] for y in range(10, 22)}})
    shown = page_table(wide, TableRecord(name="00_w", title="W", source="", period=""), max_columns=5)
    assert list(shown.frame.columns) == ["Crime group", "2018/19", "2019/20", "2020/21", "2021/22"]
    assert shown.shown_columns == 5 and shown.total_columns == 13


def test_findings_with_a_shared_conclusion_are_one_point():
    from victimneeds.word_content import commissioning_paragraph, finding_groups

    findings = [f"{who}: accepted 6{i}% of onward referrals in busy months against 90% otherwise (-2{i} points, 95% "
                f"interval -35 to -9): onward referrals fail more at busy times"
                for i, who in enumerate(["Counselling", "IDVA", "ISVA"])] + ["Slow first contact (ISVA): 14%"]
    groups = finding_groups(findings)
    assert groups[0][0] == "Onward referrals fail more at busy times"
    assert groups[0][1][0] == ("Counselling: accepted 60% of onward referrals in busy months against 90% otherwise "
                               "(-20 points, 95% interval -35 to -9)")
    assert groups[1] == ("Slow first contact (ISVA): 14%", [])
    text = commissioning_paragraph("02", "Referral gaps", findings)
    assert text.startswith("Section 02, Referral gaps, recorded 4 findings: onward referrals fail more at busy times "
                           "(counselling, IDVA and ISVA) and slow first contact.")
