"""The police.uk cache (issue 16, item 7): keyed by the package version and the reader's code, and checked
against a checksum of its bytes on every read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import victimneeds
from victimneeds.io import read_policeuk, wait_for_cache
from victimneeds.io.policeuk import cache as pcache
from victimneeds.io.policeuk import reader as preader

HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context"
)
IDS = ("a" * 64, "b" * 64)


def _files(folder: Path) -> Path:
    rows = [f"{cid},2020-01,Demo Police,Demo Police,-1.2,52.6,On or near X,E01025631,Blaby 002A,Burglary,"
            "Under investigation," for cid in IDS]
    (folder / "2020-01").mkdir(parents=True)
    (folder / "2020-01" / "2020-01-demo-street.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    return folder


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files read_policeuk parses (a read served by the cache parses none)."""
    parsed: list[str] = []
    real = preader._read_member

    def spy(member, *args):  # noqa: ANN001, ANN202
        parsed.append(member.label)
        return real(member, *args)

    monkeypatch.setattr(preader, "_read_member", spy)
    return parsed


def _entry(cache: Path) -> tuple[Path, Path]:
    wait_for_cache()
    (table,) = (cache / "policeuk").glob("result-*.arrow")
    return table, table.with_name(table.name.replace(".arrow", "-report.json"))


def test_a_warm_read_parses_nothing_and_says_nothing_about_the_cache(tmp_path: Path, reads: list[str]) -> None:
    files, cache = _files(tmp_path / "files"), tmp_path / "cache"
    cold = read_policeuk(files, cache_dir=cache)
    _entry(cache)
    warm = read_policeuk(files, cache_dir=cache)
    assert reads == ["2020-01/2020-01-demo-street.csv"]  # once, for the cold read
    pd.testing.assert_frame_equal(cold.crimes, warm.crimes)
    pd.testing.assert_frame_equal(cold.report, warm.report)
    assert "cache_damaged" not in set(warm.report["check"])


def test_another_reader_code_misses_the_cache(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    files, cache = _files(tmp_path / "files"), tmp_path / "cache"
    cold = read_policeuk(files, cache_dir=cache)
    _entry(cache)
    monkeypatch.setattr(pcache, "_installed_code_hash", lambda: "another reader")
    again = read_policeuk(files, cache_dir=cache)
    assert len(reads) == 2  # parsed again, not served from the entry made by the other code
    pd.testing.assert_frame_equal(cold.crimes, again.crimes)
    wait_for_cache()
    assert len(list((cache / "policeuk").glob("result-*.arrow"))) == 2
    monkeypatch.setattr(victimneeds, "__version__", "99.0")
    read_policeuk(files, cache_dir=cache)
    assert len(reads) == 3  # another package version: parsed again too


def test_the_code_hash_follows_every_source_file(tmp_path: Path) -> None:
    copy = tmp_path / "policeuk"
    shutil.copytree(pcache._PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    extra = tmp_path / "_report.py"
    shutil.copy(pcache._ALSO_READ[0], extra)
    before = pcache._code_hash(copy, (extra,))
    assert before == pcache._code_hash(pcache._PACKAGE_DIR, (pcache._ALSO_READ[0],))  # same bytes, same hash
    parse = copy / "parse.py"
    parse.write_bytes(parse.read_bytes().replace(b"-8.7", b"-8.8", 1))  # one digit of the UK box
    assert pcache._code_hash(copy, (extra,)) != before
    parse.write_bytes((pcache._PACKAGE_DIR / "parse.py").read_bytes())
    assert pcache._code_hash(copy, (extra,)) == before
    extra.write_text(extra.read_text() + "\n")
    assert pcache._code_hash(copy, (extra,)) != before
    assert pcache._code_hash() == pcache._code_hash() and len(pcache._code_hash()) == 32


def test_a_flipped_bit_in_the_cached_table_is_found_and_the_files_read_again(tmp_path: Path, reads: list[str]) -> None:
    files, cache = _files(tmp_path / "files"), tmp_path / "cache"
    cold = read_policeuk(files, cache_dir=cache)
    table, _ = _entry(cache)
    data = bytearray(table.read_bytes())
    at = data.index(IDS[0].encode())
    data[at] ^= 0x01  # "aaa..." becomes "`aa...": without the checksum this id would be read back changed
    table.write_bytes(bytes(data))
    again = read_policeuk(files, cache_dir=cache)
    assert len(reads) == 2
    assert again.crimes["crime_id"].tolist() == list(IDS)
    pd.testing.assert_frame_equal(again.crimes, cold.crimes)
    damaged = again.report[again.report["check"] == "cache_damaged"]
    assert len(damaged) == 1 and damaged["count"].item() == 1
    assert "does not match its checksum" in damaged["detail"].item() and str(table) in damaged["detail"].item()
    pd.testing.assert_frame_equal(again.report[again.report["check"] != "cache_damaged"], cold.report)
    # the entry was written again: the next read is served by it, and its report is the files' report alone
    third = read_policeuk(files, cache_dir=cache)
    assert len(reads) == 2
    pd.testing.assert_frame_equal(third.report, cold.report)
    pd.testing.assert_frame_equal(third.crimes, cold.crimes)


def test_a_changed_count_in_the_cached_report_is_found(tmp_path: Path, reads: list[str]) -> None:
    files, cache = _files(tmp_path / "files"), tmp_path / "cache"
    cold = read_policeuk(files, cache_dir=cache)
    _, report = _entry(cache)
    meta = json.loads(report.read_text())
    assert '"count": 2' in meta["rows"]  # rows_read of the one file
    meta["rows"] = meta["rows"].replace('"count": 2', '"count": 3', 1)  # still valid JSON, but not what was read
    report.write_text(json.dumps(meta))
    again = read_policeuk(files, cache_dir=cache)
    assert len(reads) == 2
    assert "cached report" in again.report.set_index("check").loc["cache_damaged", "detail"]
    assert again.report.set_index("check").loc["rows_read", "count"] == cold.report.set_index("check").loc[
        "rows_read", "count"
    ]


@pytest.mark.parametrize("damage", ["cut short", "emptied", "not json"])
def test_other_damage_is_reported_too(tmp_path: Path, reads: list[str], damage: str) -> None:
    files, cache = _files(tmp_path / "files"), tmp_path / "cache"
    cold = read_policeuk(files, cache_dir=cache)
    table, report = _entry(cache)
    if damage == "cut short":
        table.write_bytes(table.read_bytes()[:-100])
    elif damage == "emptied":
        table.write_bytes(b"")
    else:
        report.write_text("{not json")
    again = read_policeuk(files, cache_dir=cache)
    assert len(reads) == 2 and "cache_damaged" in set(again.report["check"])
    pd.testing.assert_frame_equal(again.crimes, cold.crimes)
