"""The build on an area given only by a TOML with [extracts] and files in provider layouts (victimneeds.testbed,
a generator unrelated to the example area): every section runs, none is skipped, and the pack is the area's."""

from __future__ import annotations

import os

import pytest

from victimneeds import testbed
from victimneeds.build import build
from victimneeds.report import read_table, table_records

SALT = "testbed-build-salt-0123456789"


@pytest.fixture(scope="module")
def extract_pack(shared_data, leics_area, tmp_path_factory):
    folder = tmp_path_factory.mktemp("testbed")
    truth = testbed.make_extracts(folder, leics_area.areas, crimes=4000, survey=300, data_dir=shared_data, seed=3)
    out = tmp_path_factory.mktemp("pack")
    saved = {k: os.environ.get(k) for k in ("VICTIMNEEDS_SALT", "VICTIMNEEDS_CACHE")}
    os.environ["VICTIMNEEDS_SALT"] = SALT  # the kernels inherit it
    os.environ["VICTIMNEEDS_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    try:
        summary = build(folder / "area.toml", out, progress=False, jobs=2)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return out, summary, truth


@pytest.mark.realdata
def test_every_section_runs_none_skipped(extract_pack) -> None:
    out, summary, _ = extract_pack
    assert summary.skipped == [], summary.skipped
    names = {r.name for r in table_records(out)}
    for prefix in ("00_", "01_", "02_", "03_", "04_", "05_", "06_"):
        assert any(n.startswith(prefix) for n in names), (prefix, sorted(names))
    assert summary.word is not None and summary.word.exists()


@pytest.mark.realdata
def test_pack_is_the_areas_and_names_its_extracts(extract_pack) -> None:
    out, summary, _ = extract_pack
    assert summary.area.startswith("Testshire")
    record = table_records(out)[0]
    assert "force_crimes.csv" in record.source and "synthetic" not in record.source
    text = "".join(p.read_text(encoding="utf-8") for p in (out / "tables").glob("*.csv"))
    for leak in ("Surname", "Client ", "07700", "@example.org", SALT):
        assert leak not in text


@pytest.mark.realdata
def test_domestic_abuse_is_counted_from_the_force_flag(extract_pack) -> None:
    out, _, truth = extract_pack
    by_year = read_table(out / "tables" / "00_crimes_by_year.csv").set_index("crime_group")
    shown = by_year.loc["Domestic abuse"].drop(labels=[c for c in by_year.columns if not c[:2].isdigit()],
                                               errors="ignore")
    numbers = [int(v) for v in shown if str(v).isdigit()]
    assert numbers and sum(numbers) <= truth.by_group["Domestic abuse"]
    assert sum(numbers) >= 0.9 * truth.by_group["Domestic abuse"]  # suppression hides at most a few cells
