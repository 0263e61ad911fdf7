"""`victimneeds build --area data/areas/leicestershire.toml` on the real open data: the area profile and demand
sections are produced from public data, and the build says which sections it skipped and why."""

import os
from pathlib import Path

import pytest

from victimneeds.build import NOTEBOOKS_DIR, build
from victimneeds.report import read_table, table_records

CONFIG = Path(__file__).resolve().parents[1] / "data" / "areas" / "leicestershire.toml"
SECTIONS = ("00_area_profile.ipynb", "01_demand.ipynb", "02_referral_gaps.ipynb")


@pytest.fixture(scope="module")
def real_pack(shared_data, tmp_path_factory):
    notebooks = tmp_path_factory.mktemp("notebooks")
    for name in SECTIONS:
        (notebooks / name).symlink_to(NOTEBOOKS_DIR / name)
    out = tmp_path_factory.mktemp("leicestershire")
    cache = tmp_path_factory.mktemp("cache")
    before = os.environ.get("VICTIMNEEDS_CACHE")
    os.environ["VICTIMNEEDS_CACHE"] = str(cache)  # the kernels inherit it: never the user's cache
    try:
        summary = build(CONFIG, out, notebooks_dir=notebooks, progress=False, jobs=2)
    finally:
        if before is None:
            os.environ.pop("VICTIMNEEDS_CACHE", None)
        else:
            os.environ["VICTIMNEEDS_CACHE"] = before
    return out, summary


@pytest.mark.realdata
def test_profile_of_the_real_area(real_pack):
    out, summary = real_pack
    assert summary.area == "Leicestershire"
    population = read_table(out / "tables" / "00_population_by_district.csv").set_index("district_name")
    assert population.loc["Area total", "small_areas"] == 611  # LSOAs of the force area
    assert population.loc["Area total", "residents"] == 1_100_306  # ONS mid-2019 LSOA estimates
    rates = read_table(out / "tables" / "00_crime_rate_by_district.csv")
    assert len(rates) == 9  # Leicester, Rutland and the 7 Leicestershire districts
    assert set(rates["district_code"]) == {"E06000016", "E06000017", *(f"E070001{n}" for n in range(29, 36))}
    # Leicester city has the highest recorded crime rate of the nine
    assert rates.sort_values("value").iloc[-1]["district_name"] == "Leicester"
    assert (out / "figures" / "00_crime_rate_map.png").exists()


@pytest.mark.realdata
def test_demand_section_runs_on_real_data(real_pack):
    out, _ = real_pack
    names = {r.name for r in table_records(out)}
    assert any(name.startswith("01_") for name in names), sorted(names)
    for record in table_records(out):
        assert "Leicestershire" in record.source and "synthetic" not in record.source


@pytest.mark.realdata
def test_sections_without_public_data_are_skipped_and_said(real_pack):
    _, summary = real_pack
    assert any("referrals table" in text for text in summary.skipped)
    assert "sections skipped for lack of input" in str(summary)


@pytest.mark.realdata
def test_public_data_never_shows_domestic_abuse_as_zero_recorded(real_pack):
    out, _ = real_pack
    hidden = read_table(out / "tables" / "01_hidden_demand.csv")
    da = hidden[hidden["crime_group"] == "Domestic abuse"]
    assert len(da) and da["recorded"].isna().all() and da["unreported"].isna().all()
    assert (da["expected"] > 0).all()


@pytest.mark.realdata
def test_public_data_states_no_measure_it_cannot_support(real_pack):
    """police.uk has no domestic-abuse, sexual-offence or hate flag: no table gives those groups a count, a rate
    or a trend (zero or otherwise), no figure draws them, and the Word draft says they are not available."""
    import docx

    out, summary = real_pack
    unidentified = {"Domestic abuse", "Sexual violence", "Hate crime"}
    for record in table_records(out):
        table = read_table(out / "tables" / f"{record.name}.csv")
        if "crime_group" not in table.columns or record.name == "01_hidden_demand":
            continue
        rows = table[table["crime_group"].isin(unidentified)]
        assert rows.empty, f"{record.name} shows {sorted(set(rows['crime_group']))}"
    for sidecar in (out / "figures").glob("*.json"):
        meta = sidecar.read_text(encoding="utf-8")
        svg = (out / "figures" / f"{sidecar.stem}.svg").read_text(encoding="utf-8")
        for group in unidentified:
            assert group not in svg or "Not available" in meta or "left out" in svg, (sidecar.stem, group)
    text = " ".join(p.text for p in docx.Document(summary.word).paragraphs)
    assert "Not available" in text and "force extract" in text
