"""Tests for the ONS readers: boundaries, lookups, population, and the population split."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from victimneeds.datamodel import validate
from victimneeds.io import (
    DataFileError,
    age_band_of,
    read_boundaries,
    read_lookup,
    read_population_lad,
    read_population_lsoa,
    split_population,
    urban_rural_from_soac,
)


def _square(x: float, y: float) -> list:
    return [[[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]]


def test_boundaries_reprojected_and_stacked(tmp_path: Path) -> None:
    files = []
    for i, code in enumerate(["E01000001", "E01000002"]):
        f = tmp_path / f"{i}.geojson"
        f.write_text(
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {"LSOA11CD": code, "LSOA11NM": f"n{i}"},
                            "geometry": {"type": "Polygon", "coordinates": _square(-1.2, 52.6 + i / 10)},
                        }
                    ],
                }
            )
        )
        files.append(f)
    table, report = read_boundaries(files)
    assert table.crs.to_epsg() == 27700 and table["area_code"].tolist() == ["E01000001", "E01000002"]
    # a point near Leicester lies near easting 460,000 and northing 300,000 on the British National Grid
    x, y = table.geometry.iloc[0].centroid.coords[0]
    assert 440_000 < x < 480_000 and 290_000 < y < 320_000
    assert report.loc[report["check"] == "areas_kept", "count"].item() == 2


def test_boundaries_without_code_column(tmp_path: Path) -> None:
    f = tmp_path / "a.geojson"
    f.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "x"},
                        "geometry": {"type": "Polygon", "coordinates": _square(-1.2, 52.6)},
                    }
                ],
            }
        )
    )
    with pytest.raises(DataFileError, match=r"cannot tell which column.*Columns found: \['name'\]"):
        read_boundaries(f)


def test_oa_lookup_dedups_lsoas_and_flags_rural(tmp_path: Path) -> None:
    f = tmp_path / "oa.csv"
    f.write_text(
        "\ufeffOA11CD,LSOA11CD,LSOA11NM,SOAC11CD,SOAC11NM,MSOA11CD,MSOA11NM,LAD17CD,LAD17NM\n"
        "E1,L1,One,2a,Ageing rural neighbourhoods,M1,m,D1,Dee\n"
        "E2,L1,One,2a,Ageing rural neighbourhoods,M1,m,D1,Dee\n"
        "E3,L2,Two,5b,Aspiring urban households,M1,m,D1,Dee\n",
        encoding="utf-8",
    )
    table, report = read_lookup(f)
    assert table["lsoa_code"].tolist() == ["L1", "L2"]
    assert table["n_oa"].tolist() == [2, 1]
    assert table["urban_rural"].tolist() == ["Rural", "Urban"]


def test_lookup_in_another_layout(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("code,name\nA,B\n")
    with pytest.raises(DataFileError, match=r"not a lookup.*Columns found: \['code', 'name'\]"):
        read_lookup(f)


def test_urban_rural_from_soac() -> None:
    assert urban_rural_from_soac(pd.Series(["2d", "1a", "8c"])).tolist() == ["Rural", "Urban", "Urban"]


def test_age_bands() -> None:
    assert [age_band_of(a) for a in (0, 15, 16, 24, 25, 64, 65, 74, 75, 90)] == [
        "0-15",
        "0-15",
        "16-24",
        "16-24",
        "25-34",
        "55-64",
        "65-74",
        "65-74",
        "75+",
        "75+",
    ]


def test_population_lsoa_thousands_and_bom(tmp_path: Path) -> None:
    f = tmp_path / "p.csv"
    f.write_text('\ufefflsoa,pop\nE01000001,"1,954"\nE01000002, 83 \n', encoding="utf-8")
    table, _ = read_population_lsoa(f)
    assert table["population"].tolist() == [1954, 83]
    f.write_text("lsoa,pop\nE01000001,many\n")
    with pytest.raises(DataFileError, match="'pop' has 1 values that are not whole numbers.*line 2"):
        read_population_lsoa(f)
    f.write_text("area,people\nE01000001,1\n")
    with pytest.raises(DataFileError, match=r"lacks the column\(s\) \['lsoa', 'pop'\]"):
        read_population_lsoa(f)


def test_split_population_on_paper() -> None:
    # district shares 50/30/20; area of 7: exact 3.5, 2.1, 1.4 -> floors 3, 2, 1 (6); one more goes to the
    # largest remainder (0.5, first cell): 4, 2, 1
    totals = pd.DataFrame({"area_code": ["A", "B"], "district_code": ["D", "D"], "population": [7, 10]})
    structure = pd.DataFrame(
        {
            "district_code": ["D"] * 3,
            "sex": ["Female", "Female", "Male"],
            "age_band": ["0-15", "16-24", "0-15"],
            "population": [50, 30, 20],
        }
    )
    out = split_population(totals, structure)
    assert out.loc[out["area_code"] == "A", "population"].tolist() == [4, 2, 1]
    assert out.loc[out["area_code"] == "B", "population"].tolist() == [5, 3, 2]
    assert out.groupby("area_code")["population"].sum().tolist() == [7, 10]


@pytest.mark.realdata
def test_real_mye2_leicester(shared_data: Path) -> None:
    table, report = read_population_lad(
        shared_data / "population" / "ukpopestimatesmid2020on2021geography.xls", codes=["E06000016", "E06000017"]
    )
    assert "ages_do_not_sum" not in set(report["check"])
    assert len(table) == 2 * 2 * 8
    rutland = table[table["lad_code"] == "E06000017"]
    assert rutland["population"].sum() > 39_000 and rutland["population"].sum() < 42_000


@pytest.mark.realdata
def test_real_lookups(shared_data: Path) -> None:
    lookup, _ = read_lookup(
        shared_data / "geography" / "lookups" / "OA11_LSOA11_MSOA11_LAD17_GB_lookup_with_area_classifications.csv.gz"
    )
    assert len(lookup) == 41_729
    pfa, _ = read_lookup(shared_data / "geography" / "lookups" / "LAD17_CSP17_PFA17_EW_lookup.csv")
    assert len(pfa) == 348
    leics = set(pfa.loc[pfa["pfa_code"] == "E23000021", "lad_code"])
    assert leics == {"E06000016", "E06000017", *(f"E07000{n}" for n in range(129, 136))}
    assert lookup["lad_code"].isin(leics).sum() == 611


@pytest.mark.realdata
def test_real_population_lsoa_and_boundaries(shared_data: Path) -> None:
    pop, _ = read_population_lsoa(shared_data / "population" / "lsoa_population_mid2019_UK_small_areas.csv")
    england = pop[pop["area_code"].str.startswith("E01")]
    assert len(england) == 32_844 and england["population"].sum() == 56_286_961
    # the folder holds both forces' districts: take Leicestershire's nine (PROVENANCE 2a)
    leicestershire = ["E06000016", "E06000017", *(f"E070001{n}" for n in range(29, 36))]
    shapes, _ = read_boundaries([shared_data / "geography" / "lsoa2011_by_lad" / f"{c}.json" for c in leicestershire])
    assert len(shapes) == 611
    topo, report = read_boundaries(shared_data / "geography" / "lad2013_england_topo.json")
    assert topo.crs.to_epsg() == 27700 and "crs_assumed" in set(report["check"])


@pytest.mark.realdata
def test_real_area_population(leics_area) -> None:
    assert len(leics_area.areas) == 611
    assert leics_area.areas["population"].sum() == 1_100_306
    assert leics_area.population["population"].sum() == 1_100_306
    validate(leics_area.population, "population")
