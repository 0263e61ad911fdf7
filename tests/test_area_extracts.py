"""An area given by its own extracts, end to end on data victimneeds did not make (victimneeds.testbed): the
configuration, what is read, what is dropped and why, and bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from victimneeds import testbed
from victimneeds.check import check_area
from victimneeds.io import AreaConfigError, load_area, read_area_config
from victimneeds.io.config import _combine_crimes
from victimneeds.io.extract import normalise_ids, pseudonymise

SALT = "testbed-salt-0123456789"


@pytest.fixture(scope="module")
def bed(shared_data: Path, tmp_path_factory: pytest.TempPathFactory, leics_area):
    folder = tmp_path_factory.mktemp("testbed")
    truth = testbed.make_extracts(folder, leics_area.areas, crimes=3000, survey=300, data_dir=shared_data, seed=7)
    return folder, truth


@pytest.fixture(scope="module")
def area(bed, io_cache):
    folder, _ = bed
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VICTIMNEEDS_SALT", SALT)
        return load_area(folder / "area.toml", cache_dir=io_cache)


@pytest.mark.realdata
def test_every_table_is_read_with_every_row_counted(area, bed) -> None:
    _, truth = bed
    assert len(area.crimes) == truth.crimes and len(area.referrals) == truth.referrals
    assert len(area.survey) == truth.survey and len(area.services) == truth.services
    assert (str(area.period[0]), str(area.period[1])) == truth.months
    assert area.crimes["crime_group"].value_counts().to_dict() == {
        g: truth.by_group.get(g, 0) for g in area.crimes["crime_group"].cat.categories}
    for table in ("crimes", "referrals", "services", "survey"):
        report = area.quality[table]
        assert report.loc[report["check"] == "rows_kept", "count"].sum() == len(getattr(area, table))


@pytest.mark.realdata
def test_day_first_dates_and_iso_dates_read_as_the_files_say(area, bed) -> None:
    _, truth = bed
    t = truth.crimes_table
    ids = pseudonymise(normalise_ids(t["reference"])[0], SALT)
    expected = pd.Series(t["when"].dt.to_period("M").to_numpy(), index=ids)
    got = area.crimes.set_index("crime_id")["month"]
    assert (got.loc[expected.index] == expected).all()  # 02/01/2022 13:00 is January, never February
    refs = truth.referrals_table
    dates = pd.to_datetime(pd.Series(refs["Date Referred"]).astype(str))
    assert sorted(area.referrals["referral_date"]) == sorted(dates)  # Excel date cells


@pytest.mark.realdata
def test_references_written_differently_link(area, bed) -> None:
    _, truth = bed
    named = area.referrals["crime_id"].notna()
    assert named.sum() == truth.police_referrals
    assert area.referrals.loc[named, "crime_id"].isin(set(area.crimes["crime_id"])).all()
    report = area.quality["referrals"]
    assert report.loc[report["check"] == "referrals_linked", "count"].item() == truth.police_referrals


@pytest.mark.realdata
def test_personal_columns_never_reach_the_tables(area) -> None:
    for table in ("crimes", "referrals", "survey", "services"):
        text = getattr(area, table).astype(str).to_csv()
        for leak in ("Surname", "Client ", "07700", "@example.org", "spoken to at home"):
            assert leak not in text, (table, leak)
    dropped = pd.concat(area.quality.values()).query("check == 'column_dropped_personal'")
    assert sorted(dropped["detail"].str.extract(r"column '([^']+)'")[0]) == [
        "Client Name", "Contact Number", "Email", "Victim Surname"]


@pytest.mark.realdata
def test_every_section_will_run_and_check_says_so(bed, io_cache, monkeypatch) -> None:
    folder, _ = bed
    monkeypatch.setenv("VICTIMNEEDS_SALT", SALT)
    result = check_area(folder / "area.toml", cache_dir=io_cache)
    assert result.ok, result.errors
    assert all(s.runs for s in result.sections), [s.reason for s in result.sections if not s.runs]
    text = str(result)
    assert "100.0% of those naming one" in text and "Victim Surname" in text
    assert set(result.coverage["months with no rows"]) == {"none"}


def _copy(bed, tmp_path: Path) -> Path:
    folder, _ = bed
    for f in folder.iterdir():
        if f.is_file():
            shutil.copy(f, tmp_path / f.name)
    return tmp_path / "area.toml"


@pytest.mark.realdata
def test_bad_input_is_named_and_every_problem_listed(bed, tmp_path, io_cache, monkeypatch) -> None:
    monkeypatch.setenv("VICTIMNEEDS_SALT", SALT)
    config = _copy(bed, tmp_path)
    crimes = (tmp_path / "force_crimes.csv").read_text(encoding="utf-8-sig").splitlines()
    fields = crimes[1].split(",")
    fields[1] = "15/13/2021 10:00"  # a 13th month under the declared day-first convention
    crimes[1] = ",".join(fields)
    crimes.append(crimes[2].replace("N,", "Y,", 1))  # a repeated reference with other content
    (tmp_path / "force_crimes.csv").write_text("\n".join(crimes) + "\n", encoding="utf-8")
    text = config.read_text()
    text = text.replace('sheet = "Cases"', 'sheet = "Data"')
    text = text.replace('"Completed On" = "response_date"\n', "")
    config.write_text(text)
    result = check_area(config, cache_dir=io_cache)
    assert not result.ok
    errors = "\n".join(result.errors)
    assert "'Recorded Date'" in errors and "month above 12" in errors and "row 2" in errors
    assert "'crime_id' must be unique" in errors
    assert "no sheet called 'Data'" in errors and "'Cases'" in errors
    assert "survey table needs the column(s) ['response_date']" in errors
    assert "15/13/2021" not in errors


@pytest.mark.realdata
def test_missing_file_and_short_salt(bed, tmp_path, monkeypatch) -> None:
    config = _copy(bed, tmp_path)
    (tmp_path / "victim_survey.csv").unlink()
    with pytest.raises(AreaConfigError, match=r"extracts.survey.file.*does not exist"):
        read_area_config(config)
    config = _copy(bed, tmp_path)
    monkeypatch.setenv("VICTIMNEEDS_SALT", "short")
    with pytest.raises(AreaConfigError, match="at least 16"):
        load_area(config)


def test_unknown_extract_keys_and_tables_are_refused(tmp_path: Path) -> None:
    for name in ("b.geojson", "lk.csv", "pop.csv", "mye.xls", "imd.csv", "crimes.csv"):
        (tmp_path / name).write_text("x")
    base = ('[area]\nname = "D"\nforce = "d"\n[inputs]\nboundaries = "b.geojson"\nlsoa_lookup = "lk.csv"\n'
            'population_lsoa = "pop.csv"\npopulation_lad = "mye.xls"\nimd = "imd.csv"\n')
    cases = [
        ("", "the area has no crimes"),
        ('[extracts.crime]\nfile = "crimes.csv"\n', r"unknown section\(s\) \['extracts.crime'\]"),
        ('[extracts.crimes]\nfile = "crimes.csv"\ndates = "dd/mm/yyyy"\n', "dates must be one of"),
        ('[extracts.crimes]\nfile = "crimes.csv"\nsalt = "abc"\n', r"unknown key\(s\) \['salt'\]"),
        ('[extracts.crimes]\ndates = "iso"\n', "needs file"),
        ('[extracts.crimes]\nfile = "crimes.csv"\n[parameters]\nmonths = [2019, 2022]\n', "months must be two"),
        ('[extracts.crimes]\nfile = "crimes.csv"\n[parameters]\ncache_dir = ""\n', "cache_dir is empty"),
    ]
    for extra, message in cases:
        (tmp_path / "a.toml").write_text(base + extra)
        with pytest.raises(AreaConfigError, match=message):
            read_area_config(tmp_path / "a.toml")


def test_extract_replaces_policeuk_for_the_months_and_types_it_covers() -> None:
    cats = {"crime_type": ["Burglary", "Anti-social behaviour"]}
    police = pd.DataFrame({
        "crime_id": ["p1", "p2", "p3", "p4"],
        "month": pd.PeriodIndex(["2021-01", "2021-01", "2021-02", "2021-01"], freq="M"),
        "crime_type": pd.Categorical(["Burglary", "Burglary", "Burglary", "Anti-social behaviour"]),
    })
    extract = pd.DataFrame({
        "crime_id": ["e1"], "month": pd.PeriodIndex(["2021-01"], freq="M"),
        "crime_type": pd.Categorical(["Burglary"], categories=cats["crime_type"]),
    })
    empty = pd.DataFrame(columns=["source", "check", "count", "action", "detail"])
    with pytest.raises(ValueError):  # the combined table must pass the data model: these frames are partial
        _combine_crimes(extract, police, empty, empty, None)
    kept = police.loc[~(police["month"].isin(set(extract["month"])) & (police["crime_type"] == "Burglary"))]
    assert kept["crime_id"].tolist() == ["p3", "p4"]  # February, and the type the extract does not hold
    assert np.isin(["p1", "p2"], kept["crime_id"]).sum() == 0
