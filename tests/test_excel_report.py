"""victimneeds.excel_report: the evidence workbook in the Government Analysis Function's spreadsheet style."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from victimneeds.excel_report import (
    excel_table_name,
    read_workbook_tables,
    sheet_label,
    sheet_names,
    table_name_from_excel,
)
from victimneeds.labels import snake_case_words
from victimneeds.report import Output, read_table, table_records, write_workbook

SNAKE = re.compile(r"^[a-z]+(_[a-z0-9]+)+$")
PLACES = {"E1": "Harrowdale", "E2": "Eastmere", "E3": "Wychbourne"}
PERIOD = "April 2019 to March 2025"


def _pack(folder: Path) -> Output:
    out = Output(folder, source="Source: test police force (synthetic).", period=PERIOD)
    crimes = pd.DataFrame({
        "district_code": ["E1", "E1", "E2", "E2", "E3", "E3"],
        "crime_group": ["domestic_abuse", "Burglary"] * 3,
        "crimes": [3, 40, 30, 25, 22, 35],
    })
    out.table(crimes, "01_crimes_by_district", "Recorded crimes by district and crime group", counts=["crimes"],
              index=["district_code", "crime_group"], units="crimes")
    rates = pd.DataFrame({
        "district_code": ["E1", "E2", "E3"],
        "district_name": ["Harrowdale", "Eastmere", "Wychbourne"],
        "population": [96018, 114646, 102850],
        "victims": [7449, 7313, 6473],
    })
    rates["value"] = rates["victims"] / rates["population"] * 1000
    rates["lowercl"] = rates["value"] * 0.977
    rates["uppercl"] = rates["value"] * 1.0231
    rates["method"] = "Exact Poisson intervals, one for each district_code"
    out.table(rates, "01_rate_last_12_months", "Victims per 1,000 residents", counts=["victims"],
              linked={"victims": ["value", "lowercl", "uppercl"]}, modelled=["population"],
              index=["district_code", "district_name"], units="victims per 1,000 residents",
              period="the 12 months to March 2025")
    survey = pd.DataFrame({
        "financial_year": ["2024/25", "2025/26"],
        "responses": [412, 388],
        "pct_female": [61.16504854368932, 58.76288659793814],
        "change_p_value": [np.nan, 0.4770813],
    })
    out.table(survey, "02_survey_by_year", "Survey responses by year", counts=["responses"],
              linked={"responses": ["pct_female"]}, modelled=["change_p_value"], index="financial_year",
              units="responses; % female", notes="Wilson intervals; change_p_value from the chi-square test.",
              period="2025/26")
    return out


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("pack")
    out = _pack(folder)
    path = write_workbook(out.out_dir, folder / "area_evidence_tables.xlsx", "Victims' needs assessment: Testshire",
                          "Source: test police force (synthetic).", place_names=PLACES, period=PERIOD,
                          docx_name="testshire_needs_assessment.docx")
    return folder, path, load_workbook(path)


def _rows(ws) -> list[list[object]]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_cover_contents_and_notes_come_first_and_say_what_the_workbook_is(book):
    _, _, wb = book
    assert wb.sheetnames[:3] == ["Cover", "Contents", "Notes"]
    assert len(wb.sheetnames) == 6
    cover = [v for row in _rows(wb["Cover"]) for v in row if v]
    text = " ".join(cover)
    assert cover[0] == "Victims' needs assessment: Testshire"
    assert "Area: Testshire" in cover and f"Period: {PERIOD}" in text
    assert "Source: test police force (synthetic)." in cover
    assert re.search(r"Produced with victimneeds \d+\.\d+", text)
    assert "How to use this workbook" in cover and "testshire_needs_assessment.docx" in text
    assert "Disclosure control: counts of 1 to 4 shown as [c]." in cover
    assert "contact" not in text.lower()


def test_contents_links_every_sheet_with_its_own_period(book):
    _, _, wb = book
    ws = wb["Contents"]
    rows = _rows(ws)
    header = rows.index(["Sheet name", "Table title", "Period"])
    body = rows[header + 1:]
    assert [r[0] for r in body] == wb.sheetnames[3:]
    assert {r[1]: r[2] for r in body} == {
        "Recorded crimes by district and crime group": PERIOD,
        "Victims per 1,000 residents": "the 12 months to March 2025",
        "Survey responses by year": "2025/26",
    }
    for i, sheet in enumerate(wb.sheetnames[3:]):
        link = ws.cell(row=header + 2 + i, column=1).hyperlink
        assert link is not None and sheet in (link.location or link.target or "")


def test_each_table_sheet_has_its_heading_lines_then_one_header_row_then_the_data(book):
    folder, path, wb = book
    found = read_workbook_tables(path)
    records = {r.name: r for r in table_records(folder)}
    assert set(found) == set(records)
    periods = {"01_crimes_by_district": PERIOD, "01_rate_last_12_months": "the 12 months to March 2025",
               "02_survey_by_year": "2025/26"}
    for name, record in records.items():
        sheet = found[name]
        ws = wb[sheet.sheet]
        lines = [ws.cell(row=r, column=1).value for r in range(1, sheet.header_row)]
        assert lines[0].startswith(record.title)
        assert f"Period: {periods[name]}" in lines
        assert f"Units: {record.units}" in lines
        assert "Source: test police force (synthetic)." in lines
        assert any(str(x).startswith("[c] = suppressed to protect confidentiality") for x in lines)
        # the heading lines use column A only: the table's header is the one row with several cells
        for r in range(1, sheet.header_row):
            assert all(ws.cell(row=r, column=j).value is None for j in range(2, ws.max_column + 1))
        csv = read_table(folder / "tables" / f"{name}.csv")
        header = [c.value for c in ws[sheet.header_row]][: len(csv.columns)]
        assert all(isinstance(h, str) and h for h in header)
        assert ws.max_row == sheet.header_row + len(csv)
        assert ws.freeze_panes == f"A{sheet.header_row + 1}"
        assert not ws.merged_cells.ranges
        assert len(ws.tables) == 1 and excel_table_name(name) in ws.tables
        assert all(ws.column_dimensions[chr(65 + j)].width >= 8 for j in range(len(csv.columns)))


def test_headers_are_words_and_codes_without_names_become_names(book):
    _, path, _ = book
    found = read_workbook_tables(path)
    crimes = found["01_crimes_by_district"].table
    assert list(crimes.columns) == ["District", "Crime group", "Crimes"]
    assert crimes["District"].tolist() == ["Harrowdale", "Harrowdale", "Eastmere", "Eastmere", "Wychbourne",
                                           "Wychbourne"]
    assert crimes["Crime group"].tolist()[:2] == ["Domestic abuse", "Burglary"]
    rates = found["01_rate_last_12_months"].table
    # a code column beside its name column keeps its codes (machine-readable), under a human heading
    assert list(rates.columns[:2]) == ["District code", "District"] and rates.iloc[0, 0] == "E1"
    assert "Lower 95% limit" in rates.columns and "Upper 95% limit" in rates.columns
    survey = found["02_survey_by_year"].table
    assert "Female (%)" in survey.columns
    for table in found.values():
        assert not [c for c in table.table.columns if SNAKE.match(str(c))]


def test_values_round_trip_and_only_their_display_is_rounded(book):
    folder, path, wb = book
    found = read_workbook_tables(path)
    for name, sheet in found.items():
        csv = read_table(folder / "tables" / f"{name}.csv")
        ws = wb[sheet.sheet]
        for j, column in enumerate(csv.columns):
            for i, expected in enumerate(csv[column]):
                cell = ws.cell(row=sheet.header_row + 1 + i, column=j + 1)
                if isinstance(expected, str) and expected == "[c]":
                    assert cell.value == "[c]" and cell.data_type == "s"
                elif isinstance(expected, str) and not re.fullmatch(r"-?[\d.]+(e-?\d+)?", expected):
                    assert isinstance(cell.value, str)
                elif pd.isna(expected):
                    assert cell.value == "[x]" and cell.data_type == "s"
                else:
                    assert cell.data_type == "n", (name, column, i)
                    # xlsxwriter stores 16 significant digits (Excel shows 15): equal to the CSV within that
                    assert cell.value == pytest.approx(float(expected), rel=1e-15, abs=0), (name, column, i)
                    assert cell.number_format != "General"
    # the unrounded rate is stored as it is and shown to one decimal place
    rates = found["01_rate_last_12_months"]
    cell = wb[rates.sheet].cell(row=rates.header_row + 1, column=5)
    assert cell.value == pytest.approx(7449 / 96018 * 1000, rel=1e-15)
    assert cell.number_format == "#,##0.0"
    counts = wb[rates.sheet].cell(row=rates.header_row + 1, column=3)
    assert counts.value == 96018 and counts.number_format == "#,##0"
    p = wb[found["02_survey_by_year"].sheet].cell(row=found["02_survey_by_year"].header_row + 2, column=4)
    assert p.value == pytest.approx(0.4770813) and p.number_format == '[<0.001]"<0.001";0.000'


def test_suppressed_cells_are_the_csvs(book):
    folder, path, _ = book
    found = read_workbook_tables(path)
    csv = read_table(folder / "tables" / "01_crimes_by_district.csv")
    hidden = csv["crimes"].eq("[c]")
    assert hidden.sum() >= 2  # the 3 and at least one secondary cell
    assert found["01_crimes_by_district"].table["Crimes"].eq("[c]").tolist() == hidden.tolist()


def test_notes_are_numbered_and_referred_to_from_their_tables(book):
    _, path, wb = book
    rows = _rows(wb["Notes"])
    header = rows.index(["Note number", "Note text", "Applies to"])
    notes = {r[0]: r[1] for r in rows[header + 1:]}
    assert list(notes) == [f"note {k}" for k in range(1, len(notes) + 1)]
    method = next(k for k, text in notes.items() if text.startswith("Wilson intervals"))
    # the note is in words: no raw column name
    assert "change_p_value" not in notes[method] and "p-value" in notes[method].lower()
    disclosure = next(k for k, text in notes.items() if text.startswith("Disclosure control"))
    survey = read_workbook_tables(path)["02_survey_by_year"]
    ws = wb[survey.sheet]
    assert ws["A1"].value == f"Survey responses by year [{method}]"
    lines = [ws.cell(row=r, column=1).value for r in range(1, survey.header_row)]
    assert f"[c] = suppressed to protect confidentiality [{disclosure}]" in lines
    assert "[x] = not available" in lines


def test_no_cell_holds_a_code_name_or_an_unformatted_number(book):
    _, _, wb = book
    for ws in wb.worksheets:
        assert not ws.merged_cells.ranges, ws.title
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert not SNAKE.match(cell.value), (ws.title, cell.coordinate, cell.value)
                    words = re.sub(r"\S+\.(docx|csv|xlsx)\b", "", cell.value)  # file names may have '_'
                    assert not snake_case_words(words), (ws.title, cell.coordinate, cell.value)
                elif isinstance(cell.value, (int, float)):
                    assert cell.number_format != "General", (ws.title, cell.coordinate, cell.value)


def test_an_empty_table_is_named_on_the_cover_not_given_a_sheet(tmp_path: Path):
    out = Output(tmp_path, source="Source: test.", period="2024")
    out.table(pd.DataFrame({"district": ["A", "B"], "victims": [120, 45]}), "01_v", "Victims", counts=["victims"],
              index="district")
    out.table(pd.DataFrame({"district": pd.Series([], dtype=object), "victims": pd.Series([], dtype=int)}),
              "02_outliers", "Districts outside the funnel", counts=["victims"], index="district")
    path = write_workbook(out.out_dir, tmp_path / "book.xlsx", "Assessment: A", "Source: test.")
    wb = load_workbook(path)
    assert wb.sheetnames == ["Cover", "Contents", "Notes", "01 V"]
    cover = " ".join(str(v) for row in _rows(wb["Cover"]) for v in row if v)
    assert "Districts outside the funnel" in cover


def test_a_cell_of_symbols_only_is_refused_with_a_sentence(tmp_path: Path):
    out = Output(tmp_path, source="Source: test.")
    out.table(pd.DataFrame({"district": ["A", "B"], "note": ["-", "ok"], "victims": [120, 45]}), "01_v",
              "Victims", counts=["victims"], index="district")
    with pytest.raises(ValueError, match=r"Table 01_v .*column 'note', row 1 holds '-'"):
        write_workbook(out.out_dir, tmp_path / "book.xlsx", "Assessment: A", "Source: test.")


def test_names():
    assert sheet_label("00_residents_by_imd_decile") == "00 Residents by IMD decile"
    assert table_name_from_excel(excel_table_name("02_a-b_c")) == "02_a-b_c"
    assert table_name_from_excel("contents_table") is None


def test_sheet_names_tells_other_documents_where_each_table_is(book):
    folder, path, wb = book
    names = sheet_names(r.name for r in table_records(folder))
    assert list(names.values()) == wb.sheetnames[3:]
    assert {name: t.sheet for name, t in read_workbook_tables(path).items()} == names
