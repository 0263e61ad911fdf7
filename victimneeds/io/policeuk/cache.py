"""The cache of finished tables: Arrow IPC files keyed by the hash of every file read and of the reader's code.

An entry is two files: ``result-<key>.arrow`` (the table) and ``result-<key>-report.json`` (the data-quality
report, and the xxHash-128 checksums of the table file's bytes and of the report). The key covers the
package version and the reader's source code (:func:`_code_hash`), so a reader that changes, even without
a new version number (an editable install), never gets a table made by the old code. On a read the
checksums are verified before the table is used: an entry that fails (a bit flipped on disk, a file cut
short or overwritten) is not used; :func:`read_policeuk` reads the files again, rewrites the entry and says so
in its report (check ``cache_damaged``). Verifying costs a pass over the file: 5-13 ms to map and hash
the 64 MB table of the 41 Leicestershire files on a shared 2-core machine, on a warm read that took
16-33 ms without it (``bench/ingest.py``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
import time
from collections.abc import Collection
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import xxhash

import victimneeds
from victimneeds.io._report import report_frame
from victimneeds.io.policeuk.files import _Member
from victimneeds.io.policeuk.table import PoliceUKData, _canonical

_CACHE_VERSION = "3"
#: How many finished tables the cache keeps (one per set of files and arguments); the least recently
#: used go first. A Leicestershire-sized force for 41 months takes about 70 MB.
CACHE_ENTRIES = 8


def default_cache_dir() -> Path:
    """The cache folder: ``$VICTIMNEEDS_CACHE`` if set, else ``~/.cache/victimneeds``."""
    env = os.environ.get("VICTIMNEEDS_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "victimneeds"


#: The package folder whose source makes the cached table (with the report helpers and the data model it uses).
_PACKAGE_DIR = Path(__file__).resolve().parent
_ALSO_READ = (_PACKAGE_DIR.parent / "_report.py", _PACKAGE_DIR.parents[1] / "datamodel.py")


def _code_hash(folder: Path = _PACKAGE_DIR, also: tuple[Path, ...] = _ALSO_READ) -> str:
    """xxHash-128 of the reader's source: every ``.py`` file of ``folder`` and the files ``also`` (names and bytes).

    Computed once per process for the installed package (a few dozen kilobytes of source).
    """
    if folder == _PACKAGE_DIR and also == _ALSO_READ:
        return _installed_code_hash()
    return _hash_sources(folder, also)


def _hash_sources(folder: Path, also: tuple[Path, ...]) -> str:
    digest = xxhash.xxh3_128()
    for path in [*sorted(folder.glob("*.py")), *also]:
        try:
            data = path.read_bytes()
        except OSError:
            data = b""  # a file that cannot be read: hashed as empty (the key still differs from a readable one)
        digest.update(f"{path.name}|{len(data)}|".encode())
        digest.update(data)
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def _installed_code_hash() -> str:
    return _hash_sources(_PACKAGE_DIR, _ALSO_READ)


def _result_key(
    chosen: list[_Member],
    contents: list[str],
    force: str | None,
    months: tuple[str, str] | None,
    areas: pd.DataFrame | None,
    lsoa2011: Collection[str] | None,
    duplicates: str,
) -> str:
    h = hashlib.sha256()
    h.update(f"policeuk-result-v{_CACHE_VERSION}|{victimneeds.__version__}|{_code_hash()}|".encode())
    h.update(f"{force}|{months}|{duplicates}|".encode())
    for m, content in zip(chosen, contents, strict=True):
        h.update(f"{m.label}|{m.kind}|{content}|".encode())
    if areas is not None:
        cols = [c for c in ("area_code", "district_code") if c in areas.columns]
        h.update(pd.util.hash_pandas_object(pd.DataFrame(areas[cols]), index=False).to_numpy().tobytes())
    if lsoa2011 is not None:
        h.update("|".join(sorted(lsoa2011)).encode())
    return h.hexdigest()[:40]


def _checksum(data: bytes | memoryview | pa.Buffer) -> str:
    return xxhash.xxh3_128_hexdigest(data)


def _file_checksum(path: Path) -> str:
    digest = xxhash.xxh3_128()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _load_result(cache: Path, key: str) -> tuple[PoliceUKData | None, str | None]:
    """The cached result for ``key``, or None; and, when the entry exists but fails its checks, what is wrong
    with it (a sentence for the report), else None."""
    wait_for_cache()
    table_path, report_path = cache / f"result-{key}.arrow", cache / f"result-{key}-report.json"
    if not (table_path.is_file() and report_path.is_file()):
        return None, None
    try:
        meta = json.loads(report_path.read_text(encoding="utf-8"))
        rows_text, table_sum, rows_sum = meta["rows"], meta["table_xxh3_128"], meta["rows_xxh3_128"]
        if _checksum(rows_text.encode("utf-8")) != rows_sum:
            return None, f"the cached report {report_path} does not match its checksum"
        rows = json.loads(rows_text)
    except FileNotFoundError:
        return None, None  # removed meanwhile (the oldest entries go when the cache is full): a plain miss
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        return None, f"the cached report {report_path} cannot be read ({type(err).__name__}: {err})"
    try:
        # the checksum and the table come from one mapping of the file, so they are of the same bytes
        data = pa.memory_map(str(table_path)).read_buffer()
        found = _checksum(data)
        if found != table_sum:
            return None, (
                f"the cached table {table_path} does not match its checksum (xxHash-128 {found}, "
                f"{table_sum} when written): the file was damaged on disk"
            )
        table = pa.ipc.open_file(data).read_all()
        result = PoliceUKData(_canonical(table), report_frame(rows))
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as err:
        return None, f"the cached table {table_path} cannot be read ({type(err).__name__}: {err})"
    try:
        os.utime(table_path)  # most recently used: the last to be removed when the cache is full
    except OSError:
        pass
    return result, None


#: The cache entries this process is still writing (see :func:`_save_result_soon`).
_writing: set[threading.Thread] = set()
_writing_lock = threading.Lock()
#: A temporary file older than this (seconds) was left by a writer that was killed: it is removed.
_STALE_TMP_SECONDS = 3600


def _save_result_soon(cache: Path, key: str, table: pa.Table, rows: list[dict[str, object]]) -> None:
    """Write the cache entry in a background thread, so that a cold read returns its table at once.

    Writing means joining the files' chunks into one record batch (a copy of the whole table) and
    writing it out: the cold read of the 41 Leicestershire files returned in 0.55 s instead of
    0.75 s (medians, ``bench/ingest.py``) once this moved off its path. The thread is not a daemon:
    Python waits for it at exit, so a script's cache is written too. A read in this process waits for
    the writes first (:func:`wait_for_cache`), so it never misses its own entry.
    """

    def write() -> None:
        try:
            _save_result(cache, key, table, rows)
        finally:
            with _writing_lock:
                _writing.discard(threading.current_thread())

    thread = threading.Thread(target=write, name="victimneeds-policeuk-cache", daemon=False)
    with _writing_lock:
        _writing.add(thread)
    thread.start()


def wait_for_cache() -> None:
    """Wait until the police.uk cache entries this process has started writing are on disk.

    :func:`read_policeuk` writes its cache in the background; call this before another process (a
    notebook kernel, say) is to read the same entry. Reads in this process wait by themselves.
    """
    with _writing_lock:
        pending = list(_writing)
    for thread in pending:
        thread.join()


def _save_result(cache: Path, key: str, table: pa.Table, rows: list[dict[str, object]]) -> None:
    tmp = f".tmp-{os.getpid()}-{threading.get_ident()}"
    table_path, report_path = cache / f"result-{key}.arrow", cache / f"result-{key}-report.json"
    try:
        cache.mkdir(parents=True, exist_ok=True)
        # One record batch: each column maps back as one array. Joining the files' chunks copies the
        # table (which is why this runs in the background); a batch per file saves the copy but made the
        # warm read slower (median 0.031 s against 0.027 s), and it is the warm read that a user repeats.
        feather.write_feather(
            table.combine_chunks(), str(table_path) + tmp, compression="uncompressed", chunksize=max(1, table.num_rows)
        )
        table_sum = _file_checksum(Path(str(table_path) + tmp))  # of the bytes as written
        rows_text = json.dumps(rows)
        meta = {"table_xxh3_128": table_sum, "rows_xxh3_128": _checksum(rows_text.encode("utf-8")), "rows": rows_text}
        Path(str(report_path) + tmp).write_text(json.dumps(meta), encoding="utf-8")
        os.replace(str(table_path) + tmp, table_path)
        os.replace(str(report_path) + tmp, report_path)
        entries = sorted(cache.glob("result-*.arrow"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in entries[CACHE_ENTRIES:]:  # the least recently used
            old.unlink(missing_ok=True)
            old.with_name(old.name.replace(".arrow", "-report.json")).unlink(missing_ok=True)
        for left in cache.glob("result-*.tmp-*"):  # left by a writer that was killed
            if time.time() - left.stat().st_mtime > _STALE_TMP_SECONDS:
                left.unlink(missing_ok=True)
    except (OSError, MemoryError, pa.ArrowException):
        pass  # a cache that cannot be written (read-only folder, full disk, no memory) only costs speed
