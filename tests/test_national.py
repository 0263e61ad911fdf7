"""Tests for victimneeds.national: the national police.uk archive out of core (Parquet + DuckDB).

The expected counts come from :func:`victimneeds.io.read_policeuk` (the in-memory reader, tested on its own) and
from tables small enough to count by hand; the real-data tests read both shared forces.
"""

from __future__ import annotations

import functools
import http.server
import json
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from victimneeds.cli import main as cli_main
from victimneeds.io import read_policeuk
from victimneeds.io._report import DataFileError
from victimneeds.national import MANIFEST, aggregate_crimes, aggregates, ingest, quality_report

HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context\n"
)
LOOKUP = "OA11_LSOA11_MSOA11_LAD17_GB_lookup_with_area_classifications.csv.gz"


def row(cid: str, month: str, force: str = "Demo Police", lsoa: str = "E01025631", ctype: str = "Burglary") -> str:
    return f"{cid},{month},{force},{force},-1.2,52.6,On or near X,{lsoa},Blaby 002A,{ctype},Under investigation,\n"


def write(folder: Path, month: str, force: str, rows: list[str]) -> Path:
    path = folder / month / f"{month}-{force}-street.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def crimes_of(src: Path) -> pd.DataFrame:
    return read_policeuk(src, cache_dir=False).crimes


# --------------------------------------------------------------------------------------------------
# Small files whose counts are known
# --------------------------------------------------------------------------------------------------


def test_counts_by_hand_and_equal_to_the_reader(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write(src, "2020-01", "demo", [row("a1", "2020-01"), row("a2", "2020-01", ctype="Drugs"), row("", "2020-01")])
    write(src, "2020-02", "demo", [row("b1", "2020-02"), row("b2", "2020-02", lsoa="E01025632")])
    write(src, "2020-01", "other", [row("c1", "2020-01", force="Other Police")])
    result = ingest(src, tmp_path / "ds", progress=False)
    assert sorted(result.files["rows_kept"].tolist()) == [1, 2, 3]
    table = aggregates(tmp_path / "ds", "force")
    # by hand: Demo 2020-01 Burglary 2 (a1 and the id-less crime), Drugs 1; 2020-02 Burglary 2; Other 1
    got = {(f, str(m), t): n for f, m, t, n in table.itertuples(index=False)}
    assert got == {
        ("Demo Police", "2020-01", "Burglary"): 2,
        ("Demo Police", "2020-01", "Drugs"): 1,
        ("Demo Police", "2020-02", "Burglary"): 2,
        ("Other Police", "2020-01", "Burglary"): 1,
    }
    lsoa = aggregates(tmp_path / "ds", "lsoa")
    assert lsoa.loc[lsoa["area_code"] == "E01025632", "crimes"].tolist() == [1]
    assert list(lsoa.columns) == ["area_code", "year", "crime_type", "crimes"]
    for level in ("force", "lsoa"):
        pd.testing.assert_frame_equal(table if level == "force" else lsoa, aggregate_crimes(crimes_of(src), level))


def test_a_crime_id_published_twice_is_counted_once_as_the_reader_merges_it(tmp_path: Path) -> None:
    src = tmp_path / "src"
    # the same id in two months (the earliest row is kept: January, Burglary) and twice within March
    write(src, "2020-01", "demo", [row("dup", "2020-01")])
    write(src, "2020-02", "demo", [row("dup", "2020-02", ctype="Drugs"), row("x", "2020-02")])
    write(src, "2020-03", "demo", [row("m", "2020-03", ctype="Robbery"), row("m", "2020-03", ctype="Drugs")])
    ingest(src, tmp_path / "ds", progress=False)
    table = aggregates(tmp_path / "ds", "force")
    got = {(str(m), t): n for _, m, t, n in table.itertuples(index=False)}
    assert got == {("2020-01", "Burglary"): 1, ("2020-02", "Burglary"): 1, ("2020-03", "Robbery"): 1}
    pd.testing.assert_frame_equal(table, aggregate_crimes(crimes_of(src), "force"))


def test_district_counts_join_the_lookup(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write(src, "2021-05", "demo", [row("a", "2021-05"), row("b", "2021-05", lsoa="E01000001"), row("c", "2021-05")])
    write(src, "2021-05", "demo", [row("a", "2021-05"), row("b", "2021-05", lsoa="E01000001"), row("c", "2021-05")])
    ingest(src, tmp_path / "ds", progress=False)
    areas = pd.DataFrame({"area_code": ["E01025631"], "district_code": ["E07000129"]})
    table = aggregates(tmp_path / "ds", "district", areas=areas)
    assert table["district_code"].tolist()[0] == "E07000129" and table["crimes"].tolist() == [2, 1]
    assert pd.isna(table["district_code"].iloc[1])  # the LSOA outside the lookup: kept, district missing
    reader = read_policeuk(src, areas=areas, cache_dir=False).crimes
    pd.testing.assert_frame_equal(table, aggregate_crimes(reader, "district"))
    with pytest.raises(ValueError, match="needs areas"):
        aggregates(tmp_path / "ds", "district")


def test_reingest_after_a_new_month_reads_only_that_month(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = sys.modules["victimneeds.national.ingest"]  # the package's name 'ingest' is the function

    src, ds = tmp_path / "src", tmp_path / "ds"
    for month in ("2020-01", "2020-02"):
        for force in ("demo", "other"):
            write(src, month, force, [row(f"{force}{month}", month, force=force.title() + " Police")])
    assert len(ingest(src, ds, progress=False).read) == 4
    write(src, "2020-03", "demo", [row("new", "2020-03")])
    parsed: list[str] = []
    original = module._read_member
    monkeypatch.setattr(module, "_read_member", lambda m, *a: parsed.append(m.label) or original(m, *a))
    again = ingest(src, ds, progress=False)
    assert parsed == ["2020-03/2020-03-demo-street.csv"]
    assert again.read == parsed and (again.files["action"] == "unchanged").sum() == 4
    assert aggregates(ds, "force")["crimes"].sum() == 5
    assert (ds / "force=demo" / "year=2020" / "2020-03-demo-street.parquet").is_file()
    # a month police.uk revised (the file rewritten): read again, its old rows replaced
    parsed.clear()
    write(src, "2020-01", "demo", [row("demo2020-01", "2020-01", ctype="Drugs"), row("z", "2020-01")])
    ingest(src, ds, progress=False)
    assert parsed == ["2020-01/2020-01-demo-street.csv"]
    pd.testing.assert_frame_equal(aggregates(ds, "force"), aggregate_crimes(crimes_of(src), "force"))


def test_bad_rows_are_counted_with_their_lines_and_left_out(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write(src, "2020-01", "demo", [row("a", "2020-01"), "short,row\n", row("b", "2020-01", ctype="Jaywalking")])
    result = ingest(src, tmp_path / "ds", progress=False)
    checks = result.report.set_index("check")
    assert checks.loc["malformed_rows", "count"] == 1 and "line 3" in checks.loc["malformed_rows", "detail"]
    assert checks.loc["unknown_crime_type", "count"] == 1 and "line 4" in checks.loc["unknown_crime_type", "detail"]
    assert result.files[["rows_read", "rows_kept"]].values.tolist() == [[3, 1]]
    assert aggregates(tmp_path / "ds", "force")["crimes"].tolist() == [1]
    reader = read_policeuk(src, cache_dir=False).report
    mine = quality_report(tmp_path / "ds")
    pd.testing.assert_frame_equal(mine, reader[reader["source"] != "all files"].reset_index(drop=True))


def test_a_bad_file_names_the_file_and_lines_and_the_others_are_kept(tmp_path: Path) -> None:
    src, ds = tmp_path / "src", tmp_path / "ds"
    write(src, "2020-01", "demo", [row("a", "2020-01")])
    bad = src / "2020-02" / "2020-02-demo-street.csv"
    bad.parent.mkdir(parents=True)
    latin1 = row("c", "2020-02").replace("On or near X", "On or near Caf\xe9").encode("latin-1")
    bad.write_bytes((HEADER + row("b", "2020-02")).encode() + latin1)  # line 3 is not UTF-8
    with pytest.raises(DataFileError, match=r"2020-02-demo-street\.csv is not UTF-8 text: line 3"):
        ingest(src, ds, progress=False)
    assert list(json.loads((ds / MANIFEST).read_text())["files"]) == ["2020-01/2020-01-demo-street.csv"]
    write(src, "2020-02", "demo", [row("b", "2020-02")])
    fixed = ingest(src, ds, progress=False)
    assert fixed.read == ["2020-02/2020-02-demo-street.csv"]


def test_two_different_files_of_one_month_are_refused_naming_both(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write(src, "2020-01", "demo", [row("a", "2020-01")])
    (src / "renamed.csv").write_text(HEADER + row("b", "2020-01"), encoding="utf-8")
    with pytest.raises(DataFileError, match=r"2020-01/2020-01-demo-street\.csv and renamed\.csv"):
        ingest(src, tmp_path / "ds", progress=False)


def archive(path: Path, months: list[str], forces: tuple[str, ...], extra: str = "") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for month in months:
            for force in forces:
                text = HEADER + row(f"{force}-{month}", month, force=f"{force.title()} Police")
                if month == months[-1] and extra:
                    text += row(extra, month, force=f"{force.title()} Police")
                zf.writestr(f"{month}/{month}-{force}-street.csv", text)
                zf.writestr(f"{month}/{month}-{force}-outcomes.csv", "Crime ID,Month\n")
    return path


def test_bulk_archives_next_month_reads_only_new_and_revised_files(tmp_path: Path) -> None:
    archive(tmp_path / "2020-02.zip", ["2020-01", "2020-02"], ("demo", "other"))
    first = ingest(tmp_path / "2020-02.zip", tmp_path / "ds", forces=["demo"], progress=False)
    assert first.read == ["2020-01/2020-01-demo-street.csv", "2020-02/2020-02-demo-street.csv"]
    assert set(first.files["action"]) == {"read", "skipped"}
    # next month's archive: 2020-01 unchanged, 2020-02 revised (one more row), 2020-03 new
    archive(tmp_path / "2020-03.zip", ["2020-01", "2020-02"], ("demo", "other"), extra="late")
    with zipfile.ZipFile(tmp_path / "2020-03.zip", "a") as zf:
        zf.writestr("2020-03/2020-03-demo-street.csv", HEADER + row("m3", "2020-03"))
    second = ingest(tmp_path / "2020-03.zip", tmp_path / "ds", forces=["demo"], progress=False)
    assert second.read == ["2020-02/2020-02-demo-street.csv", "2020-03/2020-03-demo-street.csv"]
    assert aggregates(tmp_path / "ds", "force")["crimes"].tolist() == [1, 2, 1]


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server of a folder (no other address is contacted)."""
    root = tmp_path / "mirror"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", root
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_cli_fetch_all_forces_ingest_and_aggregate(
    http_folder: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    base, mirror = http_folder
    archive(mirror / "2020-03.zip", ["2020-01", "2020-02", "2020-03"], ("demo", "other"))
    zips, ds = tmp_path / "zips", tmp_path / "ds"
    args = ["fetch", "policeuk", "--all-forces", "--from", "2020-01", "--to", "2020-03", "--dest", str(zips)]
    assert cli_main([*args, "--base-url", base, "--quiet", "--timeout", "5"]) == 0
    assert (zips / "2020-03.zip").read_bytes() == (mirror / "2020-03.zip").read_bytes()
    assert cli_main(["national", "ingest", str(zips), str(ds), "--quiet"]) == 0
    assert "6 files read" in capsys.readouterr().out
    out = tmp_path / "force.csv"
    assert cli_main(["national", "aggregate", str(ds), "--level", "force", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == ["force", "month", "crime_type", "crimes"] and table["crimes"].sum() == 6
    assert cli_main(["national", "aggregate", str(tmp_path / "nothing"), "--level", "force"]) == 2


# --------------------------------------------------------------------------------------------------
# The shared forces: row for row against read_policeuk
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def both_forces(shared_data: Path, io_cache: Path, tmp_path_factory: pytest.TempPathFactory):
    """Both shared forces read by the national path and by read_policeuk (with the ONS lookup's districts)."""
    src = shared_data / "policeuk"
    lookup = shared_data / "geography" / "lookups" / LOOKUP
    from victimneeds.io.ons import read_lookup

    areas = read_lookup(lookup)[0].rename(columns={"lsoa_code": "area_code", "lad_code": "district_code"})
    ds = tmp_path_factory.mktemp("national") / "dataset"
    result = ingest(src, ds, progress=False, workers=2)
    crimes, report = read_policeuk(src, areas=areas[["area_code", "district_code"]], cache_dir=io_cache)
    return ds, result, crimes, report, lookup


@pytest.mark.realdata
@pytest.mark.parametrize("level", ["force", "district", "lsoa"])
def test_shared_forces_equal_the_reader_row_for_row(both_forces, level: str) -> None:
    ds, _, crimes, _, lookup = both_forces
    national = aggregates(ds, level, areas=lookup if level == "district" else None)
    pd.testing.assert_frame_equal(national, aggregate_crimes(crimes, level))
    assert national["crimes"].sum() == len(crimes)


@pytest.mark.realdata
def test_shared_forces_files_and_quality_report_equal_the_reader(both_forces) -> None:
    ds, result, crimes, report, _ = both_forces
    # PROVENANCE.md: 354,551 Leicestershire rows in 41 files, 550,935 Avon and Somerset rows in 40 files
    by_force = result.files.groupby("force")["rows_read"].agg(["sum", "size"])
    assert by_force.loc["leicestershire"].tolist() == [354_551, 41]
    assert by_force.loc["avon-and-somerset"].tolist() == [550_935, 40]
    per_file = report[report["source"] != "all files"].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        quality_report(ds).sort_values(["source", "check"]).reset_index(drop=True),
        per_file.sort_values(["source", "check"]).reset_index(drop=True),
    )
    # the Crime IDs the reader merges (PROVENANCE: 4,559 extra rows within Avon and Somerset's months)
    merged = int(report.loc[report["check"] == "duplicate_crime_id", "count"].sum())
    assert result.files["rows_kept"].sum() - merged == len(crimes)


def test_files_of_the_same_name_in_two_folders_are_both_kept(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for month in ("2020-01", "2020-02"):
        (src / month).mkdir(parents=True)
        (src / month / "export.csv").write_text(HEADER + row(f"id{month}", month), encoding="utf-8")
    result = ingest(src, tmp_path / "ds", progress=False)
    assert result.read == ["2020-01/export.csv", "2020-02/export.csv"]
    assert len(list((tmp_path / "ds").rglob("*.parquet"))) == 2
    assert aggregates(tmp_path / "ds", "force")["crimes"].tolist() == [1, 1]


def test_fetch_all_forces_offline_names_the_archives(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # port 9 on the loopback is closed: the same answer as a machine with no internet
    code = cli_main(
        [
            "fetch",
            "policeuk",
            "--all-forces",
            "--from",
            "2019-01",
            "--to",
            "2022-02",
            "--dest",
            str(tmp_path),
            "--base-url",
            "http://127.0.0.1:9/",
            "--timeout",
            "2",
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "2022-02.zip, 2019-02.zip" in err and "victimneeds.national.ingest" in err
    with pytest.raises(SystemExit):  # --force and --all-forces together
        cli_main(
            [
                "fetch",
                "policeuk",
                "--all-forces",
                "--force",
                "x",
                "--from",
                "2022-01",
                "--to",
                "2022-02",
                "--dest",
                str(tmp_path),
            ]
        )
