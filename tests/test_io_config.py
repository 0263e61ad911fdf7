"""Tests for area configurations and load_area."""

from __future__ import annotations

from pathlib import Path

import pytest

from victimneeds.datamodel import CRIME_GROUPS
from victimneeds.io import AreaConfigError, load_area, read_area_config

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "areas" / "leicestershire.toml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "area.toml"
    path.write_text(text)
    return path


MINIMAL = """
[area]
name = "Demo"
force = "demo"
[inputs]
policeuk = "crimes"
boundaries = "b.geojson"
lsoa_lookup = "lk.csv"
population_lsoa = "pop.csv"
population_lad = "mye.xls"
imd = "imd.csv"
"""


def _touch_inputs(tmp_path: Path) -> None:
    (tmp_path / "crimes").mkdir()
    for name in ("b.geojson", "lk.csv", "pop.csv", "mye.xls", "imd.csv"):
        (tmp_path / name).write_text("x")


def test_minimal_config_resolves_relative_paths(tmp_path: Path) -> None:
    _touch_inputs(tmp_path)
    config = read_area_config(_write(tmp_path, MINIMAL))
    assert config.name == "Demo" and config.one("imd") == tmp_path / "imd.csv"


def test_missing_input_names_key_and_file(tmp_path: Path) -> None:
    _touch_inputs(tmp_path)
    (tmp_path / "imd.csv").unlink()
    with pytest.raises(AreaConfigError, match=r"input 'imd' = 'imd.csv' does not exist"):
        read_area_config(_write(tmp_path, MINIMAL))


def test_env_var_expansion_and_unset_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _touch_inputs(data)
    text = MINIMAL.replace("[inputs]", '[inputs]\ndata_dir = "${DEMO_DATA}"')
    monkeypatch.setenv("DEMO_DATA", str(data))
    assert read_area_config(_write(tmp_path, text)).one("imd") == data / "imd.csv"
    monkeypatch.delenv("DEMO_DATA")
    with pytest.raises(AreaConfigError, match=r"'data_dir' uses \$\{DEMO_DATA\}.*not set"):
        read_area_config(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[area\nname=1", "not valid TOML"),
        (MINIMAL.replace('force = "demo"\n', ""), r"required key 'force' is missing from \[area\]"),
        (MINIMAL + "\n[parameters]\nmonths = ['2020-13', '2021-01']\n", "months must be two months"),
        (MINIMAL.replace('name = "Demo"', 'name = "Demo"\nforse = "x"'), r"unknown key\(s\) \['forse'\]"),
        (MINIMAL.replace('name = "Demo"', "name = 3"), r"\[area\] name must be str"),
    ],
)
def test_bad_configs_give_one_sentence(tmp_path: Path, text: str, message: str) -> None:
    _touch_inputs(tmp_path)
    with pytest.raises(AreaConfigError, match=message) as info:
        read_area_config(_write(tmp_path, text))
    assert info.value.__cause__ is None and (info.value.__context__ is None or info.value.__suppress_context__)


def test_unreadable_input_is_an_area_config_error(tmp_path: Path) -> None:
    _touch_inputs(tmp_path)
    with pytest.raises(AreaConfigError, match="an input cannot be read"):
        load_area(_write(tmp_path, MINIMAL), cache_dir=tmp_path / "cache")


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(AreaConfigError, match="does not exist"):
        load_area(tmp_path / "nope.toml")


@pytest.mark.realdata
def test_shipped_config_resolves(shared_data: Path) -> None:
    config = read_area_config(SHIPPED)
    assert config.force == "leicestershire" and config.parameters["months"] == ("2019-12", "2022-11")


@pytest.mark.realdata
def test_real_leicestershire_area(leics_area) -> None:
    area = leics_area.validate()
    assert len(area.areas) == 611 and area.areas.crs.to_epsg() == 27700
    assert len(area.districts) == 9
    assert area.areas["population"].sum() == 1_100_306
    assert area.areas["imd_decile"].between(1, 10).all() and area.areas["imd_score"].notna().all()
    assert set(area.areas["urban_rural"]) == {"Urban", "Rural"}
    assert area.referrals is None and area.services is None and area.survey is None
    assert str(area.period[0]) == "2019-12" and str(area.period[1]) == "2022-11"
    assert area.crimes["month"].nunique() == 36
    # rows read over the 36 months (PROVENANCE.md per-month counts 2019-12..2022-11)
    rows = area.quality["crimes"].query("check == 'rows_read'")["count"].sum()
    assert rows == 354_551 - (8956 + 8880 + 8380 + 8503 + 8136)
    assert set(area.crimes["crime_group"].cat.categories) == set(CRIME_GROUPS)
    assert "Open Government Licence v3.0" in area.source_note
