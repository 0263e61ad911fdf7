"""Tests for victimneeds.io.read_policeuk: hand-made files, bad input, and the real Leicestershire series."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from victimneeds.datamodel import validate
from victimneeds.io import DataFileError, lsoa_vintage, read_policeuk, wait_for_cache

HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context"
)
F = "Demo Police,Demo Police"


def street(*rows: str) -> str:
    return HEADER + "\n" + "\n".join(rows) + "\n"


def row(
    cid: str = "c1",
    month: str = "2020-01",
    lon: str = "-1.2",
    lat: str = "52.6",
    lsoa: str = "E01025631",
    ctype: str = "Burglary",
    outcome: str = "Under investigation",
) -> str:
    return f"{cid},{month},{F},{lon},{lat},On or near X,{lsoa},Blaby 002A,{ctype},{outcome},"


def write(folder: Path, month: str, text: str, kind: str = "street", gz: bool = False) -> Path:
    (folder / month).mkdir(parents=True, exist_ok=True)
    path = folder / month / f"{month}-demo-{kind}.csv"
    if gz:
        path = path.with_suffix(".csv.gz")
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def checks(report: pd.DataFrame) -> pd.Series:
    return report.groupby("check")["count"].sum()


def test_reads_folder_ids_groups_and_report(tmp_path: Path) -> None:
    write(
        tmp_path,
        "2020-01",
        street(
            row("c1"),
            row("", ctype="Anti-social behaviour", outcome=""),
            row("c2", lsoa="", lon="", lat="", ctype="Violence and sexual offences"),
        ),
    )
    write(tmp_path, "2020-03", street(row("c3", month="2020-03", lsoa="E01099999")), gz=True)
    crimes, report = read_policeuk(tmp_path, cache_dir=False)
    validate(crimes, "crimes")
    assert crimes["crime_id"].tolist() == ["c1", "asb-2020-01-demo-street-3", "c2", "c3"]
    assert crimes["crime_group"].tolist() == ["Burglary", "Anti-social behaviour", "Violence", "Burglary"]
    assert crimes["source_line"].tolist() == [2, 3, 4, 2]
    assert crimes["is_domestic_abuse"].isna().all() and crimes["victim_sex"].isna().all()
    assert str(crimes["month"].dtype) == "period[M]"
    c = checks(report)
    assert c["rows_read"] == 4 and c["asb_rows"] == 1 and c["no_lsoa"] == 1 and c["no_location"] == 1
    # 2020-02 missing between 2020-01 and 2020-03
    missing = report[report["check"] == "months_missing"].iloc[0]
    assert missing["count"] == 1 and "2020-02" in missing["detail"]
    # E01099999 is beyond the last 2011 code E01033768: a 2021 code, so this file is 2021 and the other 2011
    assert c["lsoa_2021_codes"] == 1 and c["mixed_lsoa_vintage"] == 1


def test_areas_give_district_and_count_outside(tmp_path: Path) -> None:
    write(tmp_path, "2020-01", street(row("a", lsoa="E01025631"), row("b", lsoa="E01025632"), row("c", lsoa="")))
    areas = pd.DataFrame({"area_code": ["E01025631"], "district_code": ["E07000129"]})
    crimes, report = read_policeuk(tmp_path, areas=areas, cache_dir=False)
    assert crimes["district_code"].tolist()[0] == "E07000129"
    assert crimes["district_code"].isna().tolist() == [False, True, True]
    assert checks(report)["outside_area"] == 1  # the row with no LSOA is counted as no_lsoa instead


def test_duplicate_crime_ids_merge_and_keep(tmp_path: Path) -> None:
    write(tmp_path, "2020-01", street(row("dup", outcome="Under investigation")))
    write(tmp_path, "2020-02", street(row("dup", month="2020-02", outcome="Unable to prosecute suspect")))
    crimes, report = read_policeuk(tmp_path, cache_dir=False)
    assert len(crimes) == 1 and str(crimes.loc[0, "month"]) == "2020-01"
    assert crimes.loc[0, "outcome"] == "Unable to prosecute suspect"
    assert checks(report)["duplicate_crime_id"] == 1
    kept, _ = read_policeuk(tmp_path, cache_dir=False, duplicates="keep")
    assert kept["crime_id"].tolist() == ["dup", "dup#2"]


def test_outcomes_file_gives_latest_outcome_and_months_to_outcome(tmp_path: Path) -> None:
    write(tmp_path, "2020-01", street(row("c1"), row("c2")))
    out_header = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type"
    write(
        tmp_path,
        "2020-02",
        out_header + "\nc1,2020-02,x,x,,,,,,Suspect charged\nzz,2020-02,x,x,,,,,,Other\n",
        kind="outcomes",
    )
    write(tmp_path, "2020-04", out_header + "\nc1,2020-04,x,x,,,,,,Offender sent to prison\n", kind="outcomes")
    crimes, report = read_policeuk(tmp_path, cache_dir=False)
    c1 = crimes.set_index("crime_id").loc["c1"]
    assert c1["outcome"] == "Offender sent to prison" and str(c1["outcome_month"]) == "2020-04"
    assert c1["months_to_outcome"] == 3
    c2 = crimes.set_index("crime_id").loc["c2"]
    assert c2["outcome"] == "Under investigation" and pd.isna(c2["outcome_month"])
    assert checks(report)["outcomes_joined"] == 1 and checks(report)["outcomes_unmatched"] == 1


def test_bulk_zip_force_filter_and_cache(tmp_path: Path) -> None:
    archive = tmp_path / "bulk.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("2020-01/2020-01-demo-street.csv", street(row("a"), row("b")))
        zf.writestr("2020-01/2020-01-other-street.csv", street(row("z")))
        zf.writestr("2020-01/2020-01-demo-stop-and-search.csv", "Type,Date\n")
    cache = tmp_path / "cache"
    crimes, report = read_policeuk(archive, force="demo", cache_dir=cache)
    assert crimes["crime_id"].tolist() == ["a", "b"]
    assert checks(report)["file_skipped"] == 2
    wait_for_cache()
    assert len(list((cache / "policeuk").glob("result-*.arrow"))) == 1
    again, report2 = read_policeuk(archive, force="demo", cache_dir=cache)
    pd.testing.assert_frame_equal(crimes, again)
    pd.testing.assert_frame_equal(report, report2)


def test_cache_key_follows_content(tmp_path: Path) -> None:
    path = write(tmp_path, "2020-01", street(row("a")))
    cache = tmp_path / "cache"
    assert read_policeuk(path, cache_dir=cache).crimes["crime_id"].tolist() == ["a"]
    path.write_text(street(row("b")))
    assert read_policeuk(path, cache_dir=cache).crimes["crime_id"].tolist() == ["b"]


def test_months_window_skips_files_and_rows(tmp_path: Path) -> None:
    write(tmp_path, "2019-01", street(row("old", month="2019-01")))
    write(tmp_path, "2020-01", street(row("a"), row("late", month="2020-05")))
    crimes, report = read_policeuk(tmp_path, cache_dir=False, months=("2020-01", "2020-03"))
    assert crimes["crime_id"].tolist() == ["a"]
    c = checks(report)
    assert c["file_skipped"] == 1 and c["outside_period"] == 1 and c["month_differs_from_file_name"] == 1


# --- bad input: an error, or a counted exclusion naming file and line -------------------------------


def test_wrong_header_names_expected_and_found(tmp_path: Path) -> None:
    path = write(tmp_path, "2020-01", "id,when,what\n1,2020-01,Burglary\n")
    with pytest.raises(DataFileError, match=r"2020-01-demo-street.csv.*lacks.*'Crime ID'.*Columns found: \['id'"):
        read_policeuk(path, cache_dir=False)


def test_truncated_zip(tmp_path: Path) -> None:
    archive = tmp_path / "bulk.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("2020-01/2020-01-demo-street.csv", street(*[row(f"c{i}") for i in range(200)]))
    archive.write_bytes(archive.read_bytes()[:300])
    with pytest.raises(DataFileError, match="bulk.zip.*not a readable zip"):
        read_policeuk(archive, cache_dir=False)


def test_truncated_gzip(tmp_path: Path) -> None:
    path = write(tmp_path, "2020-01", street(*[row(f"c{i}") for i in range(500)]), gz=True)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(DataFileError, match="2020-01-demo-street.csv.gz is not a complete gzip"):
        read_policeuk(path, cache_dir=False)


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "2020-01", "")
    with pytest.raises(DataFileError, match="2020-01-demo-street.csv is empty"):
        read_policeuk(path, cache_dir=False)


def test_non_utf8_bytes_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "2020-01", street(row("a"), row("b")))
    path.write_bytes(path.read_bytes().replace(b"b,2020-01,Demo", b"b,2020-01,D\xe9mo"))
    with pytest.raises(DataFileError, match="not UTF-8.*line 3"):
        read_policeuk(path, cache_dir=False)


def test_a_short_row_that_is_not_utf8_names_the_encoding_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "2020-01", street(row("a"), row("b")))
    lines = path.read_bytes().split(b"\n")
    lines[2] = b",".join(lines[2].split(b",")[:8]).replace(b"2020-01", b"2020-01\xe9")  # too few fields, Latin-1
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(DataFileError, match="not UTF-8.*line 3"):
        read_policeuk(path, cache_dir=False)


def test_malformed_month_and_unknown_type_are_counted_with_lines(tmp_path: Path) -> None:
    write(
        tmp_path,
        "2020-01",
        street(row("a"), row("b", month="Jan 2020"), row("c", ctype="Fraud"), row("d", month="2020-13")),
    )
    crimes, report = read_policeuk(tmp_path, cache_dir=False)
    assert crimes["crime_id"].tolist() == ["a"]
    bad_month = report[report["check"] == "malformed_month"].iloc[0]
    assert bad_month["count"] == 2 and "lines 3 and 5" in bad_month["detail"]
    assert "2020-01-demo-street.csv" in bad_month["source"]
    bad_type = report[report["check"] == "unknown_crime_type"].iloc[0]
    assert bad_type["count"] == 1 and "line 4" in bad_type["detail"] and "'Fraud'" in bad_type["detail"]


def test_coordinates_outside_uk_are_blanked_and_counted(tmp_path: Path) -> None:
    write(tmp_path, "2020-01", street(row("a"), row("b", lon="151.2", lat="-33.9"), row("c", lon="abc")))
    crimes, report = read_policeuk(tmp_path, cache_dir=False)
    assert len(crimes) == 3
    assert crimes["longitude"].isna().tolist() == [False, True, True]
    outside = report[report["check"] == "coordinates_outside_uk"].iloc[0]
    assert outside["count"] == 1 and "line 3" in outside["detail"]
    assert checks(report)["coordinates_not_numbers"] == 1


def test_short_row_is_counted_with_its_line(tmp_path: Path) -> None:
    write(tmp_path, "2020-01", street(row("a"), "b,2020-01,cut short", row("c")))
    crimes, report = read_policeuk(tmp_path, cache_dir=False)
    assert crimes["crime_id"].tolist() == ["a", "c"]
    assert crimes["source_line"].tolist() == [2, 4]
    bad = report[report["check"] == "malformed_rows"].iloc[0]
    assert bad["count"] == 1 and "line 3" in bad["detail"]
    assert checks(report)["rows_read"] == 3


def test_two_different_files_of_one_month_are_refused(tmp_path: Path) -> None:
    a = write(tmp_path / "a", "2020-01", street(row("a")))
    b = write(tmp_path / "b", "2020-01", street(row("a"), row("b")))  # a later download, revised
    both = "two street files hold rows of Demo Police 2020-01: .*/a/2020-01/.* and .*/b/2020-01/"
    with pytest.raises(DataFileError, match=both):
        read_policeuk([tmp_path / "a", tmp_path / "b"], cache_dir=False)
    with pytest.raises(DataFileError, match="two street files hold rows of Demo Police 2020-01"):
        read_policeuk([a, b], cache_dir=False)


def test_lsoa_vintage_by_list_and_range() -> None:
    assert lsoa_vintage(["E01000001", "E01033768", "E01033769", "W01001959"]).tolist() == [
        "2011",
        "2011",
        "2021",
        "2021",
    ]
    assert lsoa_vintage(["E01000001", "E01000002"], lsoa2011={"E01000001"}).tolist() == ["2011", "2021"]


# --- real data -------------------------------------------------------------------------------------

PROVENANCE_COUNTS = {
    "2018-10": 8956,
    "2018-11": 8880,
    "2018-12": 8380,
    "2019-01": 8503,
    "2019-02": 8136,
    "2019-12": 8092,
    "2020-01": 8852,
    "2020-02": 7857,
    "2020-03": 8146,
    "2020-04": 7809,
    "2020-05": 8116,
    "2020-06": 8245,
    "2020-07": 8441,
    "2020-08": 8777,
    "2020-09": 8577,
    "2020-10": 8159,
    "2020-11": 7918,
    "2020-12": 7082,
    "2021-01": 6792,
    "2021-02": 6509,
    "2021-03": 8113,
    "2021-04": 8217,
    "2021-05": 8402,
    "2021-06": 9299,
    "2021-07": 8694,
    "2021-08": 8459,
    "2021-09": 8564,
    "2021-10": 9055,
    "2021-11": 8718,
    "2021-12": 8185,
    "2022-01": 8730,
    "2022-02": 8482,
    "2022-03": 10019,
    "2022-04": 9494,
    "2022-05": 10332,
    "2022-06": 9980,
    "2022-07": 10056,
    "2022-08": 10373,
    "2022-09": 9492,
    "2022-10": 9802,
    "2022-11": 9858,
}


@pytest.mark.realdata
def test_real_row_counts_match_provenance(leics_policeuk) -> None:
    crimes, report = leics_policeuk
    read = report[report["check"] == "rows_read"]
    assert len(read) == 41
    per_month = dict(zip(read["source"].str.slice(0, 7), read["count"], strict=True))
    assert per_month == PROVENANCE_COUNTS
    assert read["count"].sum() == 354_551
    # every row is kept except the 10 repeats of a Crime ID, which are merged and counted
    dup = report.loc[report["check"] == "duplicate_crime_id", "count"].sum()
    assert len(crimes) + dup == 354_551
    validate(crimes, "crimes")


@pytest.mark.realdata
def test_real_gap_series_and_vintage(leics_policeuk) -> None:
    crimes, report = leics_policeuk
    gap = report[report["check"] == "months_missing"].iloc[0]
    assert gap["count"] == 9 and "2019-03..2019-11" in gap["detail"]
    months = pd.period_range("2019-12", "2022-11", freq="M")
    assert len(months) == 36 and set(months) <= set(crimes["month"].unique())
    vintage = report[report["check"] == "lsoa_vintage"].iloc[0]
    assert vintage["count"] == 753 and "0 new 2021 codes" in vintage["detail"]
    assert "mixed_lsoa_vintage" not in set(report["check"])
    assert (crimes["crime_type"] == "Anti-social behaviour").sum() == report.loc[
        report["check"] == "asb_rows", "count"
    ].sum()


@pytest.mark.realdata
def test_real_outside_area_count(shared_data, io_cache, leics_area) -> None:
    crimes, report = read_policeuk(
        shared_data / "policeuk" / "leicestershire", areas=leics_area.areas, cache_dir=io_cache
    )
    # PROVENANCE.md: 674 rows lie in LSOAs outside the 611 LSOAs of the force area (all 41 files)
    assert report.loc[report["check"] == "outside_area", "count"].item() == 674
    assert crimes["district_code"].nunique() == 9


def test_whole_result_cache_returns_the_same_table_and_follows_changes(tmp_path: Path) -> None:
    path = write(tmp_path, "2020-01", street(row("a"), row("b", ctype="Robbery")), gz=True)
    cache = tmp_path / "cache"
    cold = read_policeuk(tmp_path, cache_dir=cache)
    wait_for_cache()
    assert list((cache / "policeuk").glob("result-*.arrow")), "the finished table was not cached"
    warm = read_policeuk(tmp_path, cache_dir=cache)
    pd.testing.assert_frame_equal(cold.crimes, warm.crimes)
    pd.testing.assert_frame_equal(cold.report, warm.report)
    validate(warm.crimes, "crimes")
    path.write_bytes(gzip.compress(street(row("c")).encode()))
    assert read_policeuk(tmp_path, cache_dir=cache).crimes["crime_id"].tolist() == ["c"]
    # other arguments give another entry, not the cached one
    assert read_policeuk(tmp_path, cache_dir=cache, months=("2019-01", "2020-01")).crimes["crime_id"].tolist() == ["c"]


# --- the fast path, the careful path and the cache ---------------------------------------------------
# read_policeuk parses a clean file straight into typed columns and falls back to a row-by-row text
# check for anything else. Both must give the same table and report; these tests hold them together.

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from victimneeds.io.policeuk import cache as pcache  # noqa: E402
from victimneeds.io.policeuk import files as pfiles  # noqa: E402
from victimneeds.io.policeuk import join as pjoin  # noqa: E402
from victimneeds.io.policeuk import parse as pparse  # noqa: E402


def _member(name: str = "2020-01-demo-street.csv", month: str | None = "2020-01") -> pfiles._Member:
    return pfiles._Member(f"2020-01/{name}", "street", month, "demo", lambda: b"", False)


def _both_paths(raw: bytes, member: pfiles._Member | None = None) -> tuple[tuple, tuple, bool]:
    """(table, report) from read_policeuk's per-file parse and from the careful path alone, and whether the
    fast path took the file."""
    member = member or _member()
    used_fast = pparse._street_fast(member, raw) is not None
    careful = pparse._street_table(member, pparse._street_careful(member, raw))
    return pparse._parse_street(member, raw), careful, used_fast


def _same(a: tuple, b: tuple) -> None:
    (ta, ra), (tb, rb) = a, b
    assert ra == rb
    assert ta.column_names == tb.column_names
    for name in ta.column_names:
        x, y = ta.column(name), tb.column(name)
        if pa.types.is_dictionary(x.type):
            x, y = x.combine_chunks().dictionary_decode(), y.combine_chunks().dictionary_decode()
        assert x.to_pylist() == y.to_pylist(), name


HEX = "0123456789abcdef"
# A clean file (the kind the fast path takes) with up to two odd values put in: the fast path must either
# give exactly what the careful path gives, or decline the file.
clean_rows = st.tuples(
    st.one_of(st.text(HEX, min_size=64, max_size=64), st.just("")),  # "" with ASB: no Crime ID
    st.sampled_from([("-1.2", "52.6"), ("-1.25", "52.65"), ("", "")]),
    st.sampled_from(["E01025631", "W01000001", ""]),
    st.sampled_from(["Burglary", "Robbery", "Anti-social behaviour"]),
)
ODD = (
    [("month", v) for v in ("2020-02", " 2020-01", "Jan 2020", "2020-13", "", "\u0662\u0660\u0662\u0660-01")]
    + [("lon", v) for v in (" -1.2", "abc", "nan", "NAN", "-Infinity", "inf", "151.2", "-1.", "+.5", "1e-1")]
    + [("lat", v) for v in ("-33.9", "99", "", "5e1")]
    + [("lsoa", v) for v in ("E01099999", "X123", " E01025632", "e01025631", "E01\u0660\u0662\u0665\u0666\u0663\u0661")]
    + [("type", v) for v in ("Fraud", "", " Burglary")]
    + [("id", v) for v in (" c2 ", "c1", "asb-2020-01-demo-street-2", "x" * 64)]
    # only an empty field is missing: "NA", "N/A", "NULL" are text (not numbers, not LSOA codes)
    + [("id", "NA"), ("lon", "NA"), ("lat", "N/A"), ("lsoa", "NULL"), ("type", "NA"), ("month", "NULL")]
)


def _file_with(fields: list[dict[str, str]], short_row: bool = False) -> bytes:
    lines = [
        f"{f['id']},{f['month']},{F},{f['lon']},{f['lat']},On or near X,{f['lsoa']},Blaby 002A,{f['type']},"
        "Under investigation,"
        for f in fields
    ]
    if short_row:
        lines.append("b,2020-01,cut short")
    return street(*lines).encode()


@pytest.mark.parametrize("odd", ODD, ids=[f"{name}={value!r}" for name, value in ODD])
def test_each_odd_value_alone_gives_what_the_careful_path_gives(odd: tuple[str, str]) -> None:
    clean = {"month": "2020-01", "lon": "-1.2", "lat": "52.6", "lsoa": "E01025631", "type": "Burglary"}
    fields = [dict(clean, id="1" * 64), dict(clean, id="", type="Anti-social behaviour"), dict(clean, id="2" * 64)]
    fields[1][odd[0]] = odd[1]
    fast, careful, _ = _both_paths(_file_with(fields))
    _same(fast, careful)


@given(
    st.lists(clean_rows, min_size=1, max_size=6),
    st.lists(st.tuples(st.integers(0, 5), st.sampled_from(ODD)), max_size=2),
    st.booleans(),
)
def test_fast_path_gives_what_the_careful_path_gives(rows: list, odd: list, short_row: bool) -> None:
    fields = [
        {"id": cid, "month": "2020-01", "lon": lon, "lat": lat, "lsoa": lsoa, "type": ctype}
        for cid, (lon, lat), lsoa, ctype in rows
    ]
    for at, (name, value) in odd:
        fields[at % len(fields)][name] = value
    fast, careful, _ = _both_paths(_file_with(fields, short_row))
    _same(fast, careful)


def test_clean_files_take_the_fast_path_and_odd_ones_do_not() -> None:
    clean = street(row("a" * 64), row("", ctype="Anti-social behaviour", lon="", lat="", lsoa="")).encode()
    assert _both_paths(clean)[2]
    for odd in (
        row("a", month="2020-02"),
        row("a", lon="abc"),
        row("a", lon="151.2"),
        row("a", lsoa="X1"),
        row("a", ctype="Fraud"),
    ):
        assert not _both_paths(street(odd).encode())[2], odd
    assert not _both_paths(street(row("a"), "b,2020-01,cut short").encode())[2]


@pytest.mark.realdata
def test_fast_and_careful_paths_agree_on_the_real_files(shared_data: Path) -> None:
    files = sorted((shared_data / "policeuk" / "leicestershire").glob("*/*-street.csv.gz"))
    for path in files[::8]:  # 6 of the 41 files, spread over the series
        member = pfiles._file_member(path, f"{path.parent.name}/{path.name}")
        raw = pparse._decompress(member, path.read_bytes())
        fast, careful, used_fast = _both_paths(raw, member)
        assert used_fast, f"{path.name} fell back to the careful path"
        _same(fast, careful)


def test_repeated_is_exact_even_when_every_hash_collides() -> None:
    ids = pa.array(["a" * 64, "b" * 64, "a" * 64, "c" * 64, "asb-x-2"], pa.large_string())
    synthetic = np.array([False, False, False, False, True])
    colliding = pa.array([7, 7, 7, 7, None], pa.uint64())
    expected = [True, False, True, False, False]
    assert pjoin._repeated(ids, colliding, synthetic, fast=True).tolist() == expected
    assert pjoin._repeated(ids, pparse._id_hashes(ids), synthetic, fast=True).tolist() == expected
    assert pjoin._repeated(ids, colliding, synthetic, fast=False).tolist() == expected


def test_id_hashes_only_for_even_ids() -> None:
    even = pparse._id_hashes(pa.array(["a" * 64, None, "b" * 64], pa.large_string()))
    assert even.null_count == 1 and even[0] != even[2]
    assert pparse._id_hashes(pa.array(["a" * 64, "short"], pa.large_string())).null_count == 2
    assert pparse._id_hashes(pa.array(["asb-" + "a" * 60], pa.large_string())).null_count == 1


def test_duplicates_of_real_style_ids_across_files(tmp_path: Path) -> None:
    one, two, three = "1" * 64, "2" * 64, "3" * 64
    write(tmp_path, "2020-01", street(row(one, outcome="Under investigation"), row(two)))
    write(
        tmp_path, "2020-02", street(row(three, month="2020-02"), row(one, month="2020-02", outcome="Suspect charged"))
    )
    crimes, report = read_policeuk(tmp_path, cache_dir=False)
    assert crimes["crime_id"].tolist() == [one, two, three]
    assert crimes.loc[0, "outcome"] == "Suspect charged" and str(crimes.loc[0, "month"]) == "2020-01"
    assert checks(report)["duplicate_crime_id"] == 1
    kept, _ = read_policeuk(tmp_path, cache_dir=False, duplicates="keep")
    assert kept["crime_id"].tolist() == [one, two, three, one + "#2"]


def test_cache_follows_content_not_file_times_and_survives_damage(tmp_path: Path) -> None:
    import os

    path = write(tmp_path, "2020-01", street(row("a"), row("b")), gz=True)
    cache = tmp_path / "cache"
    cold = read_policeuk(tmp_path, cache_dir=cache)
    wait_for_cache()
    os.utime(path, (0, 0))  # same bytes, another modification time: still the cached entry
    entries = sorted((cache / "policeuk").glob("result-*"))
    assert read_policeuk(tmp_path, cache_dir=cache).crimes.equals(cold.crimes)
    assert sorted((cache / "policeuk").glob("result-*")) == entries
    # the file's time is now long past, so its hash is remembered; a damaged memo is read around too
    assert (cache / "policeuk" / "file-hashes.json").is_file()
    entries = sorted((cache / "policeuk").iterdir())
    for entry in entries:  # a damaged entry is read again from the files, and rewritten
        entry.write_bytes(b"not arrow")
    again = read_policeuk(tmp_path, cache_dir=cache)
    pd.testing.assert_frame_equal(again.crimes, cold.crimes)
    pd.testing.assert_frame_equal(read_policeuk(tmp_path, cache_dir=cache).crimes, cold.crimes)


def test_cached_table_can_be_edited_like_any_other(tmp_path: Path) -> None:
    write(tmp_path, "2020-01", street(row("a"), row("b")))
    cache = tmp_path / "cache"
    read_policeuk(tmp_path, cache_dir=cache)
    crimes = read_policeuk(tmp_path, cache_dir=cache).crimes  # memory-mapped from the cache
    crimes.loc[0, "longitude"] = np.nan
    crimes.loc[1, "crime_id"] = "z"
    crimes.loc[0, "source_line"] = 99
    crimes.loc[1, "crime_type"] = "Robbery"
    assert crimes["longitude"].isna().tolist() == [True, False] and crimes["crime_id"].tolist() == ["a", "z"]
    assert read_policeuk(tmp_path, cache_dir=cache).crimes["crime_id"].tolist() == ["a", "b"]


def test_remembered_hashes_notice_an_edited_file(tmp_path: Path) -> None:
    import os

    path = write(tmp_path, "2020-01", street(row("a"), row("b")))
    os.utime(path, (1_000_000_000, 1_000_000_000))  # settled: its hash is remembered
    cache = tmp_path / "cache"
    assert read_policeuk(tmp_path, cache_dir=cache).crimes["crime_id"].tolist() == ["a", "b"]
    path.write_text(street(row("a"), row("c")))  # same size, written now
    assert read_policeuk(tmp_path, cache_dir=cache).crimes["crime_id"].tolist() == ["a", "c"]


def test_crime_ids_are_trimmed_of_white_space_of_any_kind(tmp_path: Path) -> None:
    write(tmp_path, "2020-01", street(row(" a "), row("b\u00a0"), row("c"), row("\u2003d")))
    assert read_policeuk(tmp_path, cache_dir=False).crimes["crime_id"].tolist() == ["a", "b", "c", "d"]
    assert not pparse._may_need_trimming(pa.array(["abc", None, "", "x" * 64], pa.large_string()))
    for odd in (" a", "a ", "a\t", "\u00a0a", "a\u2003"):
        assert pparse._may_need_trimming(pa.array(["abc", odd], pa.large_string())), repr(odd)


def test_cache_keeps_the_most_recently_used_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import time

    monkeypatch.setattr(pcache, "CACHE_ENTRIES", 2)
    cache = tmp_path / "cache"
    folders = []
    for i, ids in enumerate(("a", "b", "c")):
        folders.append(tmp_path / f"f{i}")
        write(folders[-1], "2020-01", street(row(ids)))
    read_policeuk(folders[0], cache_dir=cache)
    read_policeuk(folders[1], cache_dir=cache)
    wait_for_cache()
    tables = {p.name: p for p in (cache / "policeuk").glob("result-*.arrow")}
    first = min(tables.values(), key=lambda p: p.stat().st_mtime_ns)
    os.utime(first, ns=(0, 0))  # make the order plain, whatever the clock's resolution
    time.sleep(0.01)
    assert read_policeuk(folders[0], cache_dir=cache).crimes["crime_id"].tolist() == ["a"]  # used again: kept
    read_policeuk(folders[2], cache_dir=cache)
    wait_for_cache()
    left = sorted(p.name for p in (cache / "policeuk").glob("result-*"))
    assert len(left) == 4 and first.name in left  # 2 tables, each with its report
    assert read_policeuk(folders[1], cache_dir=cache).crimes["crime_id"].tolist() == ["b"]  # read again


def test_cache_is_written_in_the_background_and_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    write(tmp_path, "2020-01", street(row("a"), row("b")))
    cache = tmp_path / "cache"
    started = threading.Event()
    release = threading.Event()
    real_save = pcache._save_result

    def slow_save(*args: object) -> None:  # a write that cannot finish before read_policeuk returns
        started.set()
        release.wait(10)
        real_save(*args)

    monkeypatch.setattr(pcache, "_save_result", slow_save)
    try:
        cold = read_policeuk(tmp_path, cache_dir=cache)  # returns while the entry is still being written
        assert started.wait(10) and not list((cache / "policeuk").glob("result-*.arrow"))
        assert cold.crimes["crime_id"].tolist() == ["a", "b"]
        release.set()
        warm = read_policeuk(tmp_path, cache_dir=cache)  # waits for the write, then reads the entry
    finally:
        release.set()
        wait_for_cache()
    assert len(list((cache / "policeuk").glob("result-*.arrow"))) == 1
    pd.testing.assert_frame_equal(warm.crimes, cold.crimes)


def test_a_script_that_ends_at_once_still_leaves_its_cache(tmp_path: Path) -> None:
    import subprocess
    import sys

    write(tmp_path / "files", "2020-01", street(row("a")))
    cache = tmp_path / "cache"
    files = str(tmp_path / "files")
    script = f"from victimneeds.io import read_policeuk; read_policeuk({files!r}, cache_dir={str(cache)!r})"
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert len(list((cache / "policeuk").glob("result-*.arrow"))) == 1
    assert not list((cache / "policeuk").glob("*.tmp-*"))


def test_stale_temporary_files_are_removed(tmp_path: Path) -> None:
    import os

    write(tmp_path, "2020-01", street(row("a")))
    folder = tmp_path / "cache" / "policeuk"
    folder.mkdir(parents=True)
    stale, fresh = folder / "result-x.arrow.tmp-1-2", folder / "result-y.arrow.tmp-1-2"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(stale, (0, 0))  # left long ago by a writer that was killed
    read_policeuk(tmp_path, cache_dir=tmp_path / "cache")
    wait_for_cache()
    assert not stale.exists() and fresh.exists()  # a file being written now is left alone
