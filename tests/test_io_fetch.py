"""Tests for victimneeds.io.fetch and victimneeds.io.public_sources: a local HTTP server on 127.0.0.1 serves small
archives and files built here.

No test contacts any address other than 127.0.0.1. Each server runs in a thread and is shut down when its
test ends; every download uses a timeout of a few seconds.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import socket
import threading
import time
import tomllib
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from victimneeds.cli import main as cli_main
from victimneeds.io import read_policeuk
from victimneeds.io.fetch import FetchError, archives_for, default_archive_dir, fetch_policeuk
from victimneeds.io.public_sources import PUBLIC_INPUTS, by_hand, fetch_public, public_sources

STREET = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context\n"
)
OUTCOMES = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type\n"


def months_between(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def street_csv(month: str, force: str) -> str:
    rows = [
        f"{month}-{force}-{i},{month},{force} Police,{force} Police,-1.2,52.6,On or near X,E01025631,"
        f"Blaby 002A,Burglary,Under investigation,"
        for i in range(2)
    ]
    return STREET + "\n".join(rows) + "\n"


def outcomes_csv(month: str, force: str) -> str:
    return OUTCOMES + f"{month}-{force}-0,{month},{force} Police,{force} Police,,,,,,Under investigation\n"


def build_archive(
    last: str,
    first: str | None = None,
    forces: tuple[str, ...] = ("demo", "other"),
    without: tuple[tuple[str, str, str], ...] = (),
) -> bytes:
    """A police.uk-like archive for ``last`` holding ``first..last`` (default: the 36 months up to last)."""
    if first is None:
        y, m = int(last[:4]), int(last[5:])
        index = y * 12 + m - 1 - 35
        first = f"{index // 12:04d}-{index % 12 + 1:02d}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for month in months_between(first, last):
            for force in forces:
                for kind, text in (("street", street_csv(month, force)), ("outcomes", outcomes_csv(month, force))):
                    if (month, force, kind) not in without:
                        zf.writestr(f"{month}/{month}-{force}-{kind}.csv", text)
    return buffer.getvalue()


@dataclass
class ServerState:
    files: dict[str, bytes]
    ranges: bool = True  # honour Range requests
    cuts: list[float] = field(default_factory=list)  # per request: send this fraction of the body, then drop
    status: int | None = None  # answer every request with this status
    log: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)
    sent: int = 0  # body bytes sent


class Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer  # with a .state attribute

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        state: ServerState = self.server.state  # type: ignore[attr-defined]
        rng = self.headers.get("Range")
        state.log.append((self.path, rng))
        body = state.files.get(self.path.lstrip("/"))
        if state.status is not None or body is None:
            self.send_error(state.status or 404)
            return
        start, end = 0, len(body)
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", rng or "")
        if match and state.ranges and (match.group(1) or match.group(2)):
            first, last = match.groups()
            if not first:  # the last N bytes
                start = max(0, len(body) - int(last))
            else:
                start = int(first)
                end = min(len(body), int(last) + 1) if last else len(body)
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:end]
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Content-Type", "application/zip")
        self.end_headers()
        if state.cuts:
            payload = payload[: int(len(payload) * state.cuts.pop(0))]
            self.close_connection = True
        state.sent += len(payload)  # counted first: the client may finish before this thread runs again
        self.wfile.write(payload)
        self.wfile.flush()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never route the 127.0.0.1 test servers through a proxy the machine may have set."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[str, ServerState]]]:
    """Start servers on 127.0.0.1 (free port) for the test; all are shut down when it ends."""
    servers: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(files: dict[str, bytes], **options: object) -> tuple[str, ServerState]:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.state = ServerState(files, **options)  # type: ignore[attr-defined]
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        servers.append((httpd, thread))
        return f"http://127.0.0.1:{httpd.server_address[1]}/", httpd.state  # type: ignore[attr-defined]

    yield start
    for httpd, thread in servers:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def fetch(base: str, tmp_path: Path, first: str = "2021-01", last: str = "2021-03", **kw: object):  # noqa: ANN201
    kw.setdefault("archive_dir", tmp_path / "cache")
    kw.setdefault("timeout", 3.0)
    kw.setdefault("progress", False)
    kw.setdefault("check_force", False)  # these tests follow the transfer itself, request by request
    return fetch_policeuk("demo", first, last, tmp_path / "dest", base_url=base, **kw)


# --------------------------------------------------------------------------------------------------
# Choosing archives
# --------------------------------------------------------------------------------------------------


def test_archives_for_takes_the_fewest_newest_first() -> None:
    # 36 months fit one archive; 37 need two; each archive covers its month and the 35 before it.
    assert archives_for("2019-12", "2022-11") == ["2022-11"]
    assert archives_for("2019-11", "2022-11") == ["2022-11", "2019-11"]
    assert archives_for("2016-12", "2022-11") == ["2022-11", "2019-11"]  # 72 months
    assert archives_for("2016-11", "2022-11") == ["2022-11", "2019-11", "2016-11"]
    assert archives_for("2021-12", "2022-01") == ["2022-01"]


@pytest.mark.parametrize(("first", "last"), [("2022-13", "2023-01"), ("2022/01", "2022-02"), ("2022-05", "2022-04")])
def test_bad_months_are_refused(first: str, last: str) -> None:
    with pytest.raises(FetchError) as info:
        archives_for(first, last)
    assert info.value.reason == "bad_request"


def test_default_archive_dir_follows_victimneeds_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VICTIMNEEDS_CACHE", str(tmp_path))
    assert default_archive_dir() == tmp_path / "policeuk-archives"


# --------------------------------------------------------------------------------------------------
# Downloading and extracting
# --------------------------------------------------------------------------------------------------


def test_downloads_and_extracts_only_the_force_and_months(serve, tmp_path: Path) -> None:
    archive = build_archive("2021-03")
    base, state = serve({"2021-03.zip": archive})
    result = fetch(base, tmp_path)
    dest = tmp_path / "dest"
    assert state.log == [("/2021-03.zip", None)]
    assert result.downloaded == ["2021-03.zip"] and result.reused == []
    assert (tmp_path / "cache" / "2021-03.zip").read_bytes() == archive
    assert not list((tmp_path / "cache").glob("*.part"))
    files = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*.csv"))
    assert files == [f"{m}/{m}-demo-{k}.csv" for m in ("2021-01", "2021-02", "2021-03") for k in ("outcomes", "street")]
    assert (dest / "2021-02" / "2021-02-demo-street.csv").read_text() == street_csv("2021-02", "demo")
    assert len(result.extracted) == 6 and result.present == [] and result.missing_months == []
    assert "6 extracted" in result.summary() and "read_policeuk" in result.summary()


def test_extracted_folder_reads_with_read_policeuk(serve, tmp_path: Path) -> None:
    base, _ = serve({"2021-03.zip": build_archive("2021-03")})
    fetch(base, tmp_path)
    crimes, _ = read_policeuk(tmp_path / "dest", force="demo", cache_dir=False)
    assert len(crimes) == 3 * 2  # two crimes a month, three months
    assert sorted(crimes["month"].astype(str).unique()) == ["2021-01", "2021-02", "2021-03"]


def test_second_run_reuses_the_archive_and_skips_files_present(serve, tmp_path: Path) -> None:
    base, state = serve({"2021-03.zip": build_archive("2021-03")})
    fetch(base, tmp_path)
    changed = tmp_path / "dest" / "2021-02" / "2021-02-demo-street.csv"
    changed.write_text("cut short")
    again = fetch(base, tmp_path)
    assert len(state.log) == 1  # no second request: the cached archive was used
    assert again.downloaded == [] and again.reused == ["2021-03.zip"]
    assert again.extracted == [changed] and len(again.present) == 5
    assert changed.read_text() == street_csv("2021-02", "demo")


def test_without_keep_archive_a_rerun_needs_no_archive(serve, tmp_path: Path) -> None:
    base, state = serve({"2021-03.zip": build_archive("2021-03")})
    first = fetch(base, tmp_path, keep_archive=False)
    assert first.downloaded == ["2021-03.zip"]
    assert not list((tmp_path / "cache").iterdir())
    again = fetch(base, tmp_path, keep_archive=False)
    assert len(state.log) == 1 and again.downloaded == [] and again.reused == []
    assert len(again.present) == 6 and "none needed" in again.summary()


def test_an_archive_in_the_cache_that_covers_the_months_is_preferred(serve, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "2021-05.zip").write_bytes(build_archive("2021-05"))  # covers 2018-06..2021-05
    base, state = serve({})  # the server has nothing: any request would fail
    result = fetch(base, tmp_path, first="2019-01", last="2021-03")
    assert state.log == [] and result.reused == ["2021-05.zip"]
    assert len(result.extracted) == 27 * 2  # 2019-01..2021-03 is 27 months, street and outcomes


def test_months_beyond_one_archive_use_two_and_missing_files_are_reported(serve, tmp_path: Path) -> None:
    new = build_archive("2021-03", without=(("2019-07", "demo", "street"), ("2020-02", "demo", "outcomes")))
    base, state = serve({"2021-03.zip": new, "2018-03.zip": build_archive("2018-03")})
    result = fetch(base, tmp_path, first="2017-06", last="2021-03")  # 46 months
    assert [path for path, _ in state.log] == ["/2021-03.zip", "/2018-03.zip"]
    assert result.missing_months == ["2019-07"]
    gaps = result.table[result.table["item"] == "month"]
    assert sorted(gaps["name"]) == ["2019-07/2019-07-demo-street.csv", "2020-02/2020-02-demo-outcomes.csv"]
    assert set(gaps["action"]) == {"not published"}
    assert len(result.extracted) == 46 * 2 - 2
    old = result.table[result.table["name"] == "2017-06/2017-06-demo-street.csv"]
    assert old["archive"].tolist() == ["2018-03"]


def test_kinds_selects_the_files(serve, tmp_path: Path) -> None:
    base, _ = serve({"2021-03.zip": build_archive("2021-03")})
    result = fetch(base, tmp_path, kinds=("street",))
    names = sorted(p.name for p in result.extracted)
    assert names == [f"{m}-demo-street.csv" for m in ("2021-01", "2021-02", "2021-03")]


# --------------------------------------------------------------------------------------------------
# Resuming
# --------------------------------------------------------------------------------------------------


def test_dropped_connection_is_resumed_with_a_range_request(serve, tmp_path: Path) -> None:
    archive = build_archive("2021-03")
    base, state = serve({"2021-03.zip": archive}, cuts=[0.5])
    result = fetch(base, tmp_path)
    half = len(archive) // 2
    assert state.log == [("/2021-03.zip", None), ("/2021-03.zip", f"bytes={half}-")]
    assert state.sent == len(archive)  # nothing was sent twice
    assert (tmp_path / "cache" / "2021-03.zip").read_bytes() == archive
    row = result.table[result.table["item"] == "archive"].iloc[0]
    assert row["action"] == "resumed" and "Range" in row["detail"]
    assert len(result.extracted) == 6


def test_partial_file_from_an_earlier_run_is_resumed(serve, tmp_path: Path) -> None:
    archive = build_archive("2021-03")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "2021-03.zip.part").write_bytes(archive[:1000])
    base, state = serve({"2021-03.zip": archive})
    result = fetch(base, tmp_path)
    assert state.log == [("/2021-03.zip", "bytes=1000-")]
    assert state.sent == len(archive) - 1000
    assert result.downloaded == ["2021-03.zip"] and len(result.extracted) == 6


def test_server_that_ignores_range_makes_the_download_start_again(serve, tmp_path: Path) -> None:
    archive = build_archive("2021-03")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "2021-03.zip.part").write_bytes(b"x" * 1000)  # not the archive's first bytes
    base, state = serve({"2021-03.zip": archive}, ranges=False)
    result = fetch(base, tmp_path)
    assert state.log == [("/2021-03.zip", "bytes=1000-")] and state.sent == len(archive)
    assert (tmp_path / "cache" / "2021-03.zip").read_bytes() == archive
    row = result.table[result.table["item"] == "archive"].iloc[0]
    assert row["action"] == "downloaded" and "started again" in row["detail"]


def test_download_that_keeps_stopping_keeps_the_part_for_the_next_run(serve, tmp_path: Path) -> None:
    archive = build_archive("2021-03")
    half = len(archive) // 2
    base, state = serve({"2021-03.zip": archive}, cuts=[0.5, 0.0, 0.0, 0.0])
    with pytest.raises(FetchError) as info:
        fetch(base, tmp_path, retries=2)
    assert info.value.reason == "interrupted" and "run the same command again" in str(info.value)
    part = tmp_path / "cache" / "2021-03.zip.part"
    assert part.stat().st_size == half
    assert len(state.log) == 4  # the first request and three that sent nothing (two retries allowed)
    result = fetch(base, tmp_path)  # the server now sends whole bodies
    assert state.log[-1] == ("/2021-03.zip", f"bytes={half}-")
    assert result.table.loc[0, "action"] == "resumed" and not part.exists()


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_server_gives_the_offline_message(tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(FetchError) as info:
        fetch(f"http://127.0.0.1:{closed_port()}/", tmp_path, first="2019-12", last="2022-11")
    text = str(info.value)
    assert info.value.reason == "offline" and time.monotonic() - start < 5
    assert "cannot reach 127.0.0.1" in text
    assert "data.police.uk/data/archive" in text and "read_policeuk" in text and "2022-11.zip" in text
    assert "\n" not in text


def test_server_that_never_answers_times_out_as_offline(tmp_path: Path) -> None:
    with socket.socket() as sock:  # accepts connections in the kernel, never replies
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        start = time.monotonic()
        with pytest.raises(FetchError) as info:
            fetch(f"http://127.0.0.1:{sock.getsockname()[1]}/", tmp_path, timeout=0.5)
    assert info.value.reason == "offline" and time.monotonic() - start < 5
    assert "timed out" in str(info.value)


def test_unpublished_archive_says_which_month(serve, tmp_path: Path) -> None:
    base, _ = serve({})
    with pytest.raises(FetchError) as info:
        fetch(base, tmp_path, first="2024-01", last="2026-10")
    assert info.value.reason == "not_published"
    assert "not published the archive for 2026-10" in str(info.value) and "404" in str(info.value)
    assert not list((tmp_path / "cache").iterdir())


def test_other_http_errors_are_named(serve, tmp_path: Path) -> None:
    base, _ = serve({"2021-03.zip": b""}, status=403)
    with pytest.raises(FetchError) as info:
        fetch(base, tmp_path)
    assert info.value.reason == "http" and "HTTP 403" in str(info.value)


def test_unknown_force_is_found_from_the_index_before_downloading(
    serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import victimneeds.io.fetch as fetch_module

    monkeypatch.setattr(fetch_module, "_PEEK_BLOCK", 4096)  # the test archive is small: read it in small blocks
    archive = build_archive("2021-03", forces=("demo", "other", "west-demo"))
    base, state = serve({"2021-03.zip": archive})
    with pytest.raises(FetchError) as info:
        fetch_policeuk(
            "demoo",
            "2021-01",
            "2021-03",
            tmp_path / "dest",
            base_url=base,
            archive_dir=tmp_path / "cache",
            progress=False,
        )
    text = str(info.value)
    assert info.value.reason == "unknown_force" and "Nothing was downloaded" in text
    assert "3 forces: demo, other, west-demo" in text and "Did you mean 'demo'" in text
    assert not list((tmp_path / "cache").glob("2021-03.zip*"))
    assert state.sent < len(archive) / 2, (state.sent, len(archive))  # the index only
    assert all(rng and rng.startswith("bytes=") for _, rng in state.log)
    # the right name then downloads and extracts as usual
    result = fetch_policeuk(
        "demo", "2021-01", "2021-03", tmp_path / "dest", base_url=base, archive_dir=tmp_path / "cache", progress=False
    )
    assert len(result.extracted) == 6  # street and outcomes, 3 months


def test_unknown_force_lists_the_forces_in_the_archive(serve, tmp_path: Path) -> None:
    # a server without Range requests: the force is checked in the downloaded archive
    base, _ = serve({"2021-03.zip": build_archive("2021-03", forces=("demo", "other", "west-demo"))}, ranges=False)
    with pytest.raises(FetchError) as info:
        fetch_policeuk(
            "demoo",
            "2021-01",
            "2021-03",
            tmp_path / "dest",
            base_url=base,
            archive_dir=tmp_path / "cache",
            timeout=3,
            progress=False,
        )
    text = str(info.value)
    assert info.value.reason == "unknown_force"
    assert "3 forces: demo, other, west-demo" in text and "Did you mean 'demo'" in text
    assert (tmp_path / "cache" / "2021-03.zip").is_file()  # kept: a retry with the right name reuses it


def test_force_names_are_normalised_or_refused(serve, tmp_path: Path) -> None:
    base, _ = serve({"2021-03.zip": build_archive("2021-03", forces=("west-demo",))})
    result = fetch_policeuk(
        " West Demo ",
        "2021-03",
        "2021-03",
        tmp_path / "dest",
        base_url=base,
        archive_dir=tmp_path / "cache",
        timeout=3,
        progress=False,
    )
    assert result.force == "west-demo" and len(result.extracted) == 2
    with pytest.raises(FetchError) as info:
        fetch_policeuk("west demo!", "2021-03", "2021-03", tmp_path / "dest", base_url=base, progress=False)
    assert info.value.reason == "bad_request" and "lower case with hyphens" in str(info.value)


def test_corrupt_download_is_deleted(serve, tmp_path: Path) -> None:
    base, _ = serve({"2021-03.zip": b"<!DOCTYPE html><html>Service unavailable</html>" * 20})
    with pytest.raises(FetchError) as info:
        fetch(base, tmp_path)
    assert info.value.reason == "corrupt"
    assert "web page" in str(info.value) and "deleted" in str(info.value)
    assert not list((tmp_path / "cache").iterdir())


def test_damaged_member_deletes_the_archive(serve, tmp_path: Path) -> None:
    archive = bytearray(build_archive("2021-03"))
    name = b"2021-02/2021-02-demo-street.csv"
    at = archive.index(name) + len(name)  # the member's data follows its local header's name
    archive[at + 5] ^= 0xFF
    base, _ = serve({"2021-03.zip": bytes(archive)})
    with pytest.raises(FetchError) as info:
        fetch(base, tmp_path)
    assert info.value.reason == "corrupt" and "2021-02-demo-street.csv" in str(info.value)
    assert not (tmp_path / "cache" / "2021-03.zip").exists()
    assert not list((tmp_path / "dest").rglob("*.tmp"))


def test_complete_partial_file_is_recognised_from_a_416_answer(serve, tmp_path: Path) -> None:
    archive = build_archive("2021-03")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "2021-03.zip.part").write_bytes(archive)  # an earlier run stopped before renaming
    base, state = serve({"2021-03.zip": archive})
    result = fetch(base, tmp_path)
    assert state.log == [("/2021-03.zip", f"bytes={len(archive)}-")] and state.sent == 0
    assert result.downloaded == ["2021-03.zip"] and len(result.extracted) == 6


# --------------------------------------------------------------------------------------------------
# The other public inputs (victimneeds.io.public_sources): the same loopback server serves small files
# --------------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
SOURCES = public_sources()


def geojson(*codes: str) -> bytes:
    features = [{"type": "Feature", "properties": {"LSOA11CD": c, "LSOA11NM": f"Area {c}"},
                 "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}} for c in codes]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def small_files() -> dict[str, bytes]:
    """One small, well-formed file for each fixed input, by name."""
    return {
        "lsoa_lookup": gzip.compress(b"OA11CD,LSOA11CD,LSOA11NM,LAD17CD\nE00000001,E01000001,A 001A,E09000001\n"),
        "pfa_lookup": "\ufeffLAD17CD,LAD17NM,CSP17CD,CSP17NM,PFA17CD,PFA17NM,FID\n".encode(),
        "population_lsoa": "\ufefflsoa,pop\nE01000001,\"1,500\"\n".encode(),
        "population_lad": bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504,
        "imd": gzip.compress(b"LSOA code (2011),LSOA name (2011),Index of Multiple Deprivation (IMD) Decile\n"),
        "imd_scores": b"nation,lsoa,overall_local_score\nE,E01000001,12.5\n",
    }


def served(files: dict[str, bytes], sources: pd.DataFrame = SOURCES) -> tuple[pd.DataFrame, dict[str, bytes]]:
    """The sources table with these files' sizes and checksums, and the server paths that serve them."""
    table, paths = sources.copy(), {}
    for name, body in files.items():
        i = table.index[table["name"] == name][0]
        table.loc[i, "sha256"] = hashlib.sha256(body).hexdigest()
        table.loc[i, "bytes"] = len(body)
        paths[urlsplit_path(table.loc[i, "file_url"])] = body
    return table, paths


def urlsplit_path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path.lstrip("/")


def test_public_sources_cover_every_input_an_area_reads() -> None:
    shipped = tomllib.loads((ROOT / "data" / "areas" / "leicestershire.toml").read_text())["inputs"]
    assert set(shipped) - {"data_dir"} == set(SOURCES["input"])
    by_input = SOURCES.set_index("input")
    for key, pattern in shipped.items():
        if key in ("data_dir", "policeuk"):
            continue
        assert by_input.loc[key, "file_name"] == pattern, key
    from victimneeds.new_area import _INPUTS  # the paths victimneeds init writes

    for key, path in _INPUTS.items():
        assert by_input.loc[key, "file_name"] == path
    assert set(PUBLIC_INPUTS) == set(SOURCES["name"]) - {"policeuk"}
    for row in SOURCES.itertuples():
        assert row.publisher and row.title and row.licence and row.used_for, row.name
        assert row.dataset_page.startswith("https://") and row.file_url.startswith("https://"), row.name
        assert "not checked from the machine" in row.note, row.name
        if "{district}" not in row.file_name and row.how == "mirror":
            assert len(row.sha256) == 64 and row.bytes > 0, row.name


@pytest.mark.realdata
def test_recorded_checksums_are_those_of_the_files_the_project_is_tested_with(shared_data: Path) -> None:
    # the shared copies are the same bytes (imd_scores was gzipped there: its checksum is of the plain CSV)
    for row in SOURCES[SOURCES["sha256"] != ""].itertuples():
        path = shared_data / row.file_name
        body = gzip.decompress(path.read_bytes()) if row.compress == "gzip" else path.read_bytes()
        assert hashlib.sha256(body).hexdigest() == row.sha256 and len(body) == row.bytes, row.name


def test_fetch_public_writes_the_layout_the_area_reads_and_checks_each_file(serve, tmp_path: Path) -> None:
    files = small_files()
    table, paths = served(files)
    paths[urlsplit_path(SOURCES.set_index("name").loc["boundaries", "file_url"]).replace("{district}", "E06000016")] = (
        geojson("E01013600", "E01013601"))
    base, state = serve(paths)
    dest = tmp_path / "data"
    result = fetch_public(dest, sources=table, districts=["E06000016"], base_url=base, timeout=3, progress=False)
    assert result.ok and set(result.table["action"]) == {"downloaded"} and len(result.table) == 7
    assert (dest / "geography/lookups/LAD17_CSP17_PFA17_EW_lookup.csv").read_bytes() == files["pfa_lookup"]
    assert (dest / "deprivation/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz").read_bytes() == files["imd"]
    # imd_scores is served as CSV, checked, then gzipped to the name the configuration reads
    assert gzip.decompress((dest / "deprivation/mysociety_UK_IMD_E.csv.gz").read_bytes()) == files["imd_scores"]
    assert json.loads((dest / "geography/lsoa2011_by_lad/E06000016.json").read_text())["features"]
    assert not list(dest.rglob("*.part")) and not list(dest.rglob("*.tmp"))
    # a second run finds every file in place and right: no request
    requests = len(state.log)
    again = fetch_public(dest, sources=table, districts=["E06000016"], base_url=base, timeout=3, progress=False)
    assert set(again.table["action"]) == {"already present"} and len(state.log) == requests
    assert "7 already present" in again.summary()


def test_a_changed_local_file_is_downloaded_again(serve, tmp_path: Path) -> None:
    files = {"pfa_lookup": small_files()["pfa_lookup"]}
    table, paths = served(files)
    base, state = serve(paths)
    target = tmp_path / "geography/lookups/LAD17_CSP17_PFA17_EW_lookup.csv"
    target.parent.mkdir(parents=True)
    target.write_text("edited by hand")
    result = fetch_public(tmp_path, ["pfa_lookup"], sources=table, base_url=base, timeout=3, progress=False)
    assert result.table["action"].tolist() == ["downloaded"] and target.read_bytes() == files["pfa_lookup"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<!DOCTYPE html><html>Sign in</html>", ["web page"]),
        (b"LAD17CD,LAD17NM\n", ["bytes, not the", "expected"]),
        (small_files()["pfa_lookup"].replace(b"FID", b"XYZ"), ["checksum differs"]),
    ],
)
def test_a_wrong_download_is_deleted_and_the_by_hand_way_given(serve, tmp_path: Path, body: bytes,
                                                                words: list[str]) -> None:
    table, _ = served({"pfa_lookup": small_files()["pfa_lookup"]})
    if words == ["web page"]:  # no checksum recorded: the format check finds the page
        table.loc[table["name"] == "pfa_lookup", ["sha256", "bytes"]] = ["", pd.NA]
    url = urlsplit_path(table.set_index("name").loc["pfa_lookup", "file_url"])
    base, _ = serve({url: body})
    result = fetch_public(tmp_path, ["pfa_lookup"], sources=table, base_url=base, timeout=3, progress=False)
    row = result.table.iloc[0]
    assert not result.ok and row["action"] == "failed"
    for w in words + ["was deleted", "Get it by hand", "geoportal.statistics.gov.uk",
                      str(tmp_path / "geography/lookups/LAD17_CSP17_PFA17_EW_lookup.csv")]:
        assert w in row["detail"], row["detail"]
    assert not list(tmp_path.rglob("*.csv")) and not list(tmp_path.rglob("*.part"))


def test_missing_file_fails_with_the_publisher_page_and_the_rest_continue(serve, tmp_path: Path) -> None:
    files = small_files()
    table, paths = served(files)
    del paths[urlsplit_path(table.set_index("name").loc["imd", "file_url"])]
    base, _ = serve(paths)
    result = fetch_public(tmp_path, ["imd", "population_lsoa"], sources=table, base_url=base, timeout=3, progress=False)
    actions = dict(zip(result.table["name"], result.table["action"], strict=True))
    assert actions == {"imd": "failed", "population_lsoa": "downloaded"}
    detail = result.table.set_index("name").loc["imd", "detail"]
    assert "404" in detail and "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019" in detail
    assert "Download the failed files by hand" in result.summary()


def test_offline_names_the_page_and_file_to_get_by_hand(tmp_path: Path) -> None:
    with pytest.raises(FetchError) as info:
        fetch_public(tmp_path, ["imd"], base_url=f"http://127.0.0.1:{closed_port()}/", timeout=2, progress=False)
    text = str(info.value)
    assert info.value.reason == "offline" and "\n" not in text
    assert "english-indices-of-deprivation-2019" in text and "File_1_-_IMD2019_Index_of_Multiple_Deprivation" in text


@pytest.mark.realdata
def test_boundaries_for_a_force_take_its_districts_from_the_lookup(serve, tmp_path: Path, shared_data: Path) -> None:
    lookup = (shared_data / "geography/lookups/LAD17_CSP17_PFA17_EW_lookup.csv").read_bytes()  # the real ONS lookup
    table, paths = served({"pfa_lookup": lookup})
    pattern = urlsplit_path(table.set_index("name").loc["boundaries", "file_url"])
    leics = ["E06000016", "E06000017"] + [f"E07000{n}" for n in range(129, 136)]  # PROVENANCE.md 2a: 9 districts
    for code in leics:
        paths[pattern.replace("{district}", code)] = geojson(code.replace("E0", "E01"))
    base, _ = serve(paths)
    result = fetch_public(tmp_path, ["pfa_lookup", "boundaries"], force="Leicestershire", sources=table,
                          base_url=base, timeout=3, progress=False)
    got = sorted(p.stem for p in (tmp_path / "geography/lsoa2011_by_lad").glob("*.json"))
    assert result.ok and got == leics and (result.table["name"] == "boundaries").sum() == 9
    skipped = fetch_public(tmp_path, ["boundaries"], sources=table, base_url=base, timeout=3, progress=False)
    assert skipped.table["action"].tolist() == ["skipped"] and "--force" in skipped.table["detail"].iloc[0]
    with pytest.raises(FetchError) as info:
        fetch_public(tmp_path, ["boundaries"], force="Atlantis", sources=table, base_url=base, progress=False)
    assert info.value.reason == "bad_request" and "Atlantis" in str(info.value)


def test_cli_fetch_public_and_by_hand(serve, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import victimneeds.io.public_sources as ps

    table, paths = served({"population_lsoa": small_files()["population_lsoa"]})
    monkeypatch.setattr(ps, "public_sources", lambda: table)
    base, state = serve(paths)
    assert cli_main(["fetch", "population_lsoa", "--dest", str(tmp_path), "--base-url", base, "--quiet"]) == 0
    assert "population/lsoa_population_mid2019_UK_small_areas.csv: downloaded" in capsys.readouterr().out
    requests = len(state.log)
    assert cli_main(["fetch", "public", "--dest", str(tmp_path), "--by-hand"]) == 0
    out = capsys.readouterr().out
    assert len(state.log) == requests  # nothing downloaded
    for row in SOURCES.itertuples():
        assert row.dataset_page in out and row.file_name in out
    assert cli_main(["fetch", "imd", "--dest", str(tmp_path), "--base-url", f"http://127.0.0.1:{closed_port()}/",
                     "--timeout", "2", "--quiet"]) == 1
    assert "english-indices-of-deprivation-2019" in capsys.readouterr().err


def test_by_hand_refuses_unknown_inputs() -> None:
    with pytest.raises(FetchError) as info:
        by_hand(["imdd"])
    assert info.value.reason == "bad_request" and "'imd'" in str(info.value)
