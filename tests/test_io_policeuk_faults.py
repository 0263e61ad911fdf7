"""read_policeuk on the faults users' folders really hold (issue 16, item 8): a second copy of a month's file,
CR-only line endings, a gzip that inflates to gigabytes, and text that reads "NA" or "NULL"."""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from victimneeds.io import DataFileError, read_policeuk
from victimneeds.io.policeuk import files as pfiles
from victimneeds.io.policeuk import parse as pparse

HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context"
)
OUTCOME_HEADER = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type"


def row(cid: str, month: str = "2020-01", ctype: str = "Burglary", location: str = "On or near X") -> str:
    return (
        f"{cid},{month},Demo Police,Demo Police,-1.2,52.6,{location},E01025631,Blaby 002A,{ctype},"
        "Under investigation,"
    )


def asb(month: str = "2020-01") -> str:
    return f",{month},Demo Police,Demo Police,-1.2,52.6,On or near X,E01025631,Blaby 002A,Anti-social behaviour,,"


def street(*rows: str, end: str = "\n") -> str:
    return end.join([HEADER, *rows]) + end


def month_file(folder: Path, month: str, text: str, name: str | None = None, gz: bool = True) -> Path:
    (folder / month).mkdir(parents=True, exist_ok=True)
    path = folder / month / (name or f"{month}-demo-street.csv" + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(text.encode(), mtime=0) if gz else text.encode())
    return path


def texts(column: pd.Series) -> list[str | None]:
    return [v if isinstance(v, str) else None for v in column]


def checks(report: pd.DataFrame) -> pd.Series:
    return report.groupby("check")["count"].sum()


# --- (a) one file per month, whatever its name ----------------------------------------------------------


def test_a_second_download_of_a_month_is_read_once_and_counted(tmp_path: Path) -> None:
    jan = month_file(tmp_path, "2020-01", street(row("a"), row("b"), asb()))
    shutil.copy(jan, jan.with_name("2020-01-demo-street (1).csv.gz"))  # what a browser names a second download
    month_file(tmp_path, "2020-02", street(row("c", "2020-02")))
    for duplicates in ("merge", "keep"):
        crimes, report = read_policeuk(tmp_path, cache_dir=False, duplicates=duplicates)
        # 3 rows in January (one of them ASB, which has no Crime ID to merge on) and 1 in February
        assert crimes.groupby(crimes["month"].astype(str)).size().to_dict() == {"2020-01": 3, "2020-02": 1}
        assert set(crimes["source_file"]) == {f"{m}/{m}-demo-street.csv.gz" for m in ("2020-01", "2020-02")}
        found = report.set_index("check")
        assert found.loc["duplicate_file", "source"] == "2020-01/2020-01-demo-street (1).csv.gz"
        assert "2020-01-demo-street.csv.gz" in found.loc["duplicate_file", "detail"]
        assert "duplicate_crime_id" not in found.index
        assert checks(report)["rows_read"] == 4  # the copy's rows are not counted as read
        assert found.loc["months_missing", "detail"] == "Demo Police: 2 consecutive months 2020-01..2020-02"


def test_a_renamed_copy_is_found_by_its_rows_and_a_gap_is_still_reported(tmp_path: Path) -> None:
    text = street(row("a"), asb())
    month_file(tmp_path, "2020-01", text)
    month_file(tmp_path, "2020-01", text, name="january.csv", gz=False)  # the same text, inflated and renamed
    month_file(tmp_path, "2020-03", street(row("c", "2020-03")))
    crimes, report = read_policeuk(tmp_path, cache_dir=False)
    assert len(crimes) == 3
    assert checks(report)["duplicate_file"] == 1
    gap = report[report["check"] == "months_missing"].iloc[0]
    assert gap["count"] == 1 and "no rows for 2020-02 within 2020-01..2020-03" in gap["detail"]


def test_two_different_files_holding_one_month_name_both(tmp_path: Path) -> None:
    month_file(tmp_path, "2020-01", street(row("a")))
    month_file(tmp_path, "2020-01", street(row("a"), row("b")), name="2020-01-demo-street (1).csv.gz")
    with pytest.raises(DataFileError, match=r"Demo Police 2020-01: .*2020-01-demo-street\.csv\.gz and .*street \(1\)"):
        read_policeuk(tmp_path, cache_dir=False)
    # a file named for nothing in particular, holding January among other months, clashes too
    shutil.rmtree(tmp_path / "2020-01")
    month_file(tmp_path, "2020-01", street(row("a")))
    month_file(tmp_path, "2020-02", street(row("b", "2020-02")))
    (tmp_path / "export.csv").write_text(street(row("x"), row("y", "2019-12")))
    with pytest.raises(DataFileError, match="two street files hold rows of Demo Police 2020-01"):
        read_policeuk(tmp_path, cache_dir=False)


def test_a_copy_of_another_forces_file_is_filtered_by_force(tmp_path: Path) -> None:
    month_file(tmp_path, "2020-01", street(row("a")))
    month_file(tmp_path, "2020-01", street(row("z")), name="2020-01-other-street - Copy.csv", gz=False)
    crimes, report = read_policeuk(tmp_path, force="demo", cache_dir=False)
    assert crimes["crime_id"].tolist() == ["a"]
    assert checks(report)["file_skipped"] == 1


def test_copy_names_are_classified_like_the_file() -> None:
    for name in ("2020-01-demo-street (1).csv.gz", "2020-01-demo-street - Copy.csv", "2020-01-demo-street copy.csv",
                 "2020-01-demo-street 2.csv"):
        assert pfiles._classify(name) == ("street", "2020-01", "demo"), name
        assert pfiles._is_copy_name(name)
    assert pfiles._classify("2020-01-avon-and-somerset-outcomes.csv") == ("outcomes", "2020-01", "avon-and-somerset")
    assert not pfiles._is_copy_name("2020-01/2020-01-demo-street.csv.gz")
    assert pfiles._is_copy_name("january.csv")


def test_a_copied_outcomes_file_is_read_once(tmp_path: Path) -> None:
    month_file(tmp_path, "2020-01", street(row("a")))
    outcomes = f"{OUTCOME_HEADER}\na,2020-02,Demo Police,Demo Police,-1.2,52.6,X,E01025631,B,Court result unavailable\n"
    first = month_file(tmp_path, "2020-02", outcomes, name="2020-02-demo-outcomes.csv", gz=False)
    shutil.copy(first, first.with_name("2020-02-demo-outcomes (1).csv"))
    crimes, report = read_policeuk(tmp_path, cache_dir=False)
    assert crimes["outcome"].tolist() == ["Court result unavailable"]
    assert checks(report)["duplicate_file"] == 1
    assert "(1 outcome rows" in report.set_index("check").loc["outcomes_joined", "detail"]


# --- (b) line endings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_carriage_return_line_endings_read_like_line_feeds(tmp_path: Path, gz: bool) -> None:
    rows = (row("a"), asb(), row("b", ctype="Robbery"))
    month_file(tmp_path / "lf", "2020-01", street(*rows), gz=gz)
    month_file(tmp_path / "cr", "2020-01", street(*rows, end="\r"), gz=gz)
    month_file(tmp_path / "crlf", "2020-01", street(*rows, end="\r\n"), gz=gz)
    lf = read_policeuk(tmp_path / "lf", cache_dir=False)
    for other in ("cr", "crlf"):
        got = read_policeuk(tmp_path / other, cache_dir=False)
        pd.testing.assert_frame_equal(got.crimes, lf.crimes)
        pd.testing.assert_frame_equal(got.report, lf.report)
    assert lf.crimes["source_line"].tolist() == [2, 3, 4]


def test_carriage_returns_inside_a_quoted_field_and_a_bad_row_keep_their_lines(tmp_path: Path) -> None:
    text = street(row("a"), "b,2020-01,cut short", row("c", location='"On or near\rX"'), end="\r")
    month_file(tmp_path, "2020-01", text, gz=False)
    crimes, report = read_policeuk(tmp_path, cache_dir=False)
    assert crimes["crime_id"].tolist() == ["a", "c"]
    assert crimes["location"].tolist() == ["On or near X", "On or near\nX"]
    assert "line 3" in report.set_index("check").loc["malformed_rows", "detail"]


# --- (c) a size cap on inflated input -----------------------------------------------------------------


def test_a_gzip_that_inflates_past_the_cap_is_refused_by_name(tmp_path: Path) -> None:
    text = street(*[row(f"id{i:04d}") for i in range(200)])  # about 20 kB of text, a few hundred bytes of gzip
    path = month_file(tmp_path, "2020-01", text)
    assert path.stat().st_size < 2_000 < len(text)
    refused = r"2020-01-demo-street\.csv\.gz holds more than 2,000 bytes .*max_file_bytes"
    with pytest.raises(DataFileError, match=refused):
        read_policeuk(tmp_path, cache_dir=False, max_file_bytes=2_000)
    assert len(read_policeuk(tmp_path, cache_dir=False, max_file_bytes=len(text)).crimes) == 200  # exactly at the cap


def test_plain_files_and_zip_members_past_the_cap_are_refused_before_they_are_read(tmp_path: Path) -> None:
    text = street(*[row(f"id{i:04d}") for i in range(50)])
    month_file(tmp_path / "plain", "2020-01", text, gz=False)
    with pytest.raises(DataFileError, match=r"2020-01-demo-street\.csv holds more than 1,000 bytes"):
        read_policeuk(tmp_path / "plain", cache_dir=False, max_file_bytes=1_000)
    archive = tmp_path / "bulk.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2020-01/2020-01-demo-street.csv", text)
    with pytest.raises(DataFileError, match=r"bulk\.zip:2020-01/2020-01-demo-street\.csv holds more than 1,000 bytes"):
        read_policeuk(archive, cache_dir=False, max_file_bytes=1_000)
    member = pfiles._zip_members(archive)[0]
    member.load = lambda: pytest.fail("the member was inflated although the archive says it is too big")
    with pytest.raises(DataFileError, match="holds more than"):
        pparse._read_member(member, 1_000)


def test_the_gzip_cap_stops_inflating_early(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bomb (10 MB of one byte, about 10 kB of gzip) is inflated only to one byte past the cap."""
    bomb = gzip.compress(b"x" * 10_000_000)
    member = pfiles._Member("bomb.csv.gz", "street", None, None, lambda: bomb, True)
    asked = []
    real = pparse.igzip.GzipFile.read

    def read(self: object, size: int = -1) -> bytes:
        asked.append(size)
        return real(self, size)

    monkeypatch.setattr(pparse.igzip.GzipFile, "read", read)
    with pytest.raises(DataFileError, match="bomb.csv.gz holds more than 1,000 bytes"):
        pparse._decompress(member, bomb, 1_000)
    assert asked == [1_001]


# --- (d) "NA", "N/A" and "NULL" are text, not missing ----------------------------------------------------


def _na_file() -> str:
    return street(
        "NA,2020-01,Demo Police,Demo Police,-1.2,52.6,NA,E01025631,N/A,Burglary,NULL,null",
        ",2020-01,Demo Police,Demo Police,-1.2,52.6,N/A,E01025631,#N/A,Anti-social behaviour,,NaN",
        'c,2020-01,Demo Police,Demo Police,-1.2,52.6,"",E01025631,,Robbery,"",',
    )


def test_na_null_and_n_a_in_text_columns_are_kept_as_text(tmp_path: Path) -> None:
    month_file(tmp_path, "2020-01", _na_file())
    crimes, report = read_policeuk(tmp_path, cache_dir=False)
    assert crimes["crime_id"].tolist() == ["NA", "asb-2020-01-demo-street-3", "c"]
    assert texts(crimes["location"]) == ["NA", "N/A", None]
    assert texts(crimes["lsoa_name"]) == ["N/A", "#N/A", None]
    assert texts(crimes["outcome"]) == ["NULL", None, None]
    assert texts(crimes["context"]) == ["null", "NaN", None]
    assert "no_crime_id" not in set(report["check"])


def test_na_text_takes_the_fast_path_and_both_paths_agree() -> None:
    member = pfiles._Member("2020-01/2020-01-demo-street.csv", "street", "2020-01", "demo", lambda: b"", False)
    raw = _na_file().encode()
    assert pparse._street_fast(member, raw) is not None
    fast = pparse._parse_street(member, raw)
    careful = pparse._street_table(member, pparse._street_careful(member, raw))
    assert fast[1] == careful[1]
    for name in fast[0].column_names:
        assert fast[0].column(name).to_pylist() == careful[0].column(name).to_pylist(), name


def test_na_in_a_coordinate_or_lsoa_is_reported_not_taken_for_a_blank(tmp_path: Path) -> None:
    text = street("a,2020-01,Demo Police,Demo Police,NA,NA,X,NULL,B,Burglary,Under investigation,")
    month_file(tmp_path, "2020-01", text)
    crimes, report = read_policeuk(tmp_path, cache_dir=False)
    counts = checks(report)
    assert counts["coordinates_not_numbers"] == 1 and counts["lsoa_code_invalid"] == 1
    assert "no_location" not in counts and "no_lsoa" not in counts
    assert crimes["longitude"].isna().all() and crimes["area_code"].isna().all()


def test_outcome_text_na_is_kept(tmp_path: Path) -> None:
    month_file(tmp_path, "2020-01", street(row("a")))
    outcomes = f"{OUTCOME_HEADER}\na,2020-02,Demo Police,Demo Police,-1.2,52.6,X,E01025631,B,N/A\n"
    month_file(tmp_path, "2020-02", outcomes, name="2020-02-demo-outcomes.csv", gz=False)
    crimes, report = read_policeuk(tmp_path, cache_dir=False)
    assert crimes["outcome"].tolist() == ["N/A"]
    assert "no_crime_id_or_outcome" not in set(report["check"])


def test_two_forces_files_of_one_month_do_not_clash(tmp_path: Path) -> None:
    """A British Transport Police file holds rows that fall within the area's force, for the same month: the
    months are told apart by the force that reported them, so both files are read."""
    month_file(tmp_path, "2020-01", street(row("a")))
    btp = HEADER + "\nt1,2020-01,British Transport Police,Demo Police,-1.2,52.6,X,E01025631,B,Robbery,,\n"
    month_file(tmp_path, "2020-01", btp, name="2020-01-btp-street.csv", gz=False)
    crimes, report = read_policeuk(tmp_path, cache_dir=False)
    assert sorted(crimes["crime_id"]) == ["a", "t1"]
    assert "duplicate_file" not in set(report["check"])
    member = pfiles._Member("x.csv", "street", None, None, lambda: b"", False)
    text = street(row("a"), row("b", "2020-03"), "c,2020-02,,Demo Police,-1.2,52.6,X,E01025631,B,Robbery,,")
    table, _ = pparse._parse_street(member, text.encode())
    assert pparse._months_held(table) == {("Demo Police", 600), ("Demo Police", 602), ("", 601)}  # months since 1970-01


def test_months_are_counted_per_force_that_reported_them(tmp_path: Path) -> None:
    """British Transport Police rows fall within the local force's area: they must not fill a month whose local
    file is missing, so the months are counted by "Reported by"."""
    for month in ("2020-01", "2020-03"):
        month_file(tmp_path, month, street(row(f"a{month}", month)))
    for month in ("2020-01", "2020-02", "2020-03"):
        btp = HEADER + f"\nt{month},{month},British Transport Police,Demo Police,-1.2,52.6,X,E01025631,B,Robbery,,\n"
        month_file(tmp_path, month, btp, name=f"{month}-btp-street.csv", gz=False)
    crimes, report = read_policeuk(tmp_path, cache_dir=False)
    assert set(crimes["force"]) == {"Demo Police"}
    gaps = report[report["check"] == "months_missing"].set_index("detail")["count"].to_dict()
    assert gaps == {
        "British Transport Police: 3 consecutive months 2020-01..2020-03": 0,
        "Demo Police: no rows for 2020-02 within 2020-01..2020-03": 1,
    }
    # a file without the "Reported by" column is counted under its force area
    month_file(tmp_path / "old", "2020-01", "Crime ID,Month,Falls within,Longitude,Latitude,LSOA code,Crime type,"
               "Last outcome category\nx,2020-01,Demo Police,-1.2,52.6,E01025631,Burglary,\n", gz=False)
    old = read_policeuk(tmp_path / "old", cache_dir=False).report.set_index("check")
    assert old.loc["months_missing", "detail"] == "Demo Police: 1 consecutive months 2020-01..2020-01"


def test_running_out_of_memory_while_inflating_names_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    member = pfiles._Member("2020-01/big.csv.gz", "street", None, None, lambda: b"", True)

    def read(self: object, size: int = -1) -> bytes:
        raise MemoryError

    monkeypatch.setattr(pparse.igzip.GzipFile, "read", read)
    with pytest.raises(DataFileError, match=r"2020-01/big.csv.gz ran out of memory while being inflated"):
        pparse._decompress(member, gzip.compress(b"x"), 1_000)


def test_files_that_share_only_months_outside_the_window_do_not_clash(tmp_path: Path) -> None:
    month_file(tmp_path, "2020-02", street(row("a", "2020-02"), row("stray", "2020-01")))  # one row dated January
    (tmp_path / "export.csv").write_text(street(row("x", "2020-01"), row("y", "2020-03")))
    with pytest.raises(DataFileError, match="Demo Police 2020-01"):
        read_policeuk(tmp_path, cache_dir=False)
    crimes, report = read_policeuk(tmp_path, cache_dir=False, months=("2020-02", "2020-03"))
    assert sorted(crimes["crime_id"]) == ["a", "y"]
    assert checks(report)["outside_period"] == 2
