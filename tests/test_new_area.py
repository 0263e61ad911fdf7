"""`victimneeds init` writes a configuration that loads, templates with the exact headers and allowed values, and
a data request naming every field; `victimneeds check` exits non-zero on errors; `--version` answers."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from docx import Document

from victimneeds.cli import main
from victimneeds.datamodel import SCHEMAS
from victimneeds.io import load_area
from victimneeds.io.extract import read_extract
from victimneeds.new_area import find_force, init_area


@pytest.fixture(scope="module")
def avon(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    return init_area("Avon and Somerset", dest=tmp_path_factory.mktemp("avon"), data_dir=shared_data)


@pytest.mark.realdata
def test_force_found_by_any_spelling(shared_data: Path) -> None:
    for name in ("avon-and-somerset", "Avon and Somerset", "E23000036"):
        force, code, districts = find_force(name, shared_data)
        assert (force, code, len(districts)) == ("Avon and Somerset", "E23000036", 9)
    with pytest.raises(ValueError, match="no police force area called 'avon'.*did you mean"):
        find_force("avon", shared_data)


@pytest.mark.realdata
def test_init_config_loads_the_force_and_only_its_small_areas(avon, io_cache) -> None:
    area = load_area(avon.config, cache_dir=io_cache)
    assert len(area.areas) == 1005 and len(area.districts) == 9  # PROVENANCE 2g: 1,005 LSOAs in 9 districts
    assert area.areas["district_code"].str.startswith(("E06000022", "E06000023", "E06000024", "E06000025",
                                                       "E070001")).all()
    # Taunton Deane and West Somerset merged in 2019; their age structure comes from the district that replaced them
    assert "structure_from_successor" in set(area.quality["population"]["check"])
    assert area.crimes is not None and len(area.crimes) > 0


@pytest.mark.realdata
def test_templates_have_the_exact_headers_and_allowed_values(avon) -> None:
    folder = avon.config.parent / "templates"
    for table in ("crimes", "referrals", "services", "survey"):
        header = (folder / f"{table}.csv").read_text(encoding="utf-8").strip().split(",")
        assert header == list(SCHEMAS[table].columns)
        book = openpyxl.load_workbook(folder / f"{table}.xlsx")
        sheet = book[table]
        assert [c.value for c in sheet[1]] == header
        lists = book["allowed values"]
        listed = {lists.cell(row=1, column=c).value for c in range(1, lists.max_column + 1)}
        categorical = {n for n, s in SCHEMAS[table].columns.items() if hasattr(s.dtype.type, "categories")}
        assert categorical <= listed
        assert len(sheet.data_validations.dataValidation) == len(listed)


@pytest.mark.realdata
def test_a_filled_template_reads_without_a_mapping(avon, tmp_path) -> None:
    header = (avon.config.parent / "templates" / "services.csv").read_text(encoding="utf-8")
    filled = tmp_path / "services.csv"
    filled.write_text(header + "VAL,Victim advice line,Acme,E06000023,100000,,,\n", encoding="utf-8")
    table, _ = read_extract(filled, "services")
    assert table.loc[0, "annual_funding"] == 100000.0


@pytest.mark.realdata
def test_data_request_names_every_field(avon) -> None:
    text = "\n".join(cell.text for t in Document(avon.request).tables for row in t.rows for cell in row.cells)
    for table in ("crimes", "referrals", "services", "survey"):
        for column in SCHEMAS[table].columns:
            assert column in text, column
    body = "\n".join(p.text for p in Document(avon.request).paragraphs)
    assert "day first" in body and "keyed hashes" in body


@pytest.mark.realdata
def test_init_refuses_to_overwrite(avon, shared_data) -> None:
    with pytest.raises(FileExistsError):
        init_area("avon-and-somerset", dest=avon.config.parent, data_dir=shared_data)


def test_check_exit_status_and_version(tmp_path, capsys) -> None:
    assert main(["check", "--area", str(tmp_path / "nope.toml")]) == 1
    assert "does not exist" in capsys.readouterr().out
    with pytest.raises(SystemExit) as err:
        main(["--version"])
    assert err.value.code == 0 and capsys.readouterr().out.startswith("victimneeds 0.")
