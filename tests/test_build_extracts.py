"""The build on an area given only by a TOML with [extracts] and files in provider layouts (victimneeds.testbed,
a generator unrelated to the example area): every section runs, none is skipped, and the pack is the area's."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from victimneeds import testbed
from victimneeds.build import NOTEBOOKS_DIR, build
from victimneeds.report import read_table, table_records

SALT = "testbed-build-salt-0123456789"
#: The sections that need the area's own extracts (00 and 01 run on police.uk alone and are built from the real
#: area and the example in the other build tests), so the suite stays within its time.
SECTIONS = ("02_referral_gaps", "03_funding_equity", "04_service_specification", "05_victim_voice", "06_outcomes")


@pytest.fixture(scope="module")
def extract_pack(shared_data, leics_area, tmp_path_factory):
    folder = tmp_path_factory.mktemp("testbed")
    truth = testbed.make_extracts(folder, leics_area.areas, crimes=30000, survey=300, data_dir=shared_data, seed=3)
    notebooks = tmp_path_factory.mktemp("notebooks")
    for name in SECTIONS:
        (notebooks / f"{name}.ipynb").symlink_to(NOTEBOOKS_DIR / f"{name}.ipynb")
    out = tmp_path_factory.mktemp("pack")
    saved = {k: os.environ.get(k) for k in ("VICTIMNEEDS_SALT", "VICTIMNEEDS_CACHE")}
    os.environ["VICTIMNEEDS_SALT"] = SALT  # the kernels inherit it
    os.environ["VICTIMNEEDS_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    try:
        summary = build(folder / "area.toml", out, notebooks_dir=notebooks, progress=False, jobs=2)
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
    for prefix in ("02_", "03_", "04_", "05_", "06_"):
        assert any(n.startswith(prefix) for n in names), (prefix, sorted(names))
    assert summary.word is not None and summary.word.exists()
    assert summary.audit.startswith("Disclosure audit passed")


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
    rates = read_table(out / "tables" / "04_referral_rates.csv")
    row = rates[(rates["lot"] == "Victim advice line") & (rates["crime_group"] == "Domestic abuse")].iloc[0]
    first, last = (pd.Period(p, "M") for p in row["base_period"].split(" to "))
    t = truth.crimes_table
    months = t["when"].dt.to_period("M")
    expected = int(((t["group"] == "Domestic abuse") & (months >= first) & (months <= last)).sum())
    assert int(row["crimes"]) == expected  # from the force's DA flag, which police.uk data do not carry


@pytest.mark.realdata
def test_word_draft_of_an_area_from_extracts_reads_as_an_assessment(extract_pack) -> None:
    """The Word draft of a real geography built from extracts: summary, narrative, names not codes, no identifiers."""
    import re

    import docx

    _, summary, _ = extract_pack
    document = docx.Document(summary.word)
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        texts += [cell.text for row in table.rows for cell in row.cells]
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "Executive summary" in headings and "Referral gaps" in headings and "Victim voice" in " ".join(headings)
    identifier = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/-])(?!\.\w)")
    assert sorted({w for t in texts for w in identifier.findall(t)}) == []
    assert not [t for t in texts if re.search(r"\d\.\d{4,}", t)][:5]
    assert not [t for t in texts if re.search(r"\bE0[6-9]\d{6}\b", t)][:5]  # ONS district codes: names instead
    assert any("Leicester" in t for t in texts)
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert captions and len(set(captions)) == len(captions)
