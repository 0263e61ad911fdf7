"""The cache of finished tables: Arrow IPC files keyed by the hash of every file read."""

from __future__ import annotations

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

from victimneeds.io._report import report_frame
from victimneeds.io.policeuk.files import _Member
from victimneeds.io.policeuk.table import PoliceUKData, _canonical

_CACHE_VERSION = "2"
#: How many finished tables the cache keeps (one per set of files and arguments); the least recently
#: used go first. A Leicestershire-sized force for 41 months takes about 70 MB.
CACHE_ENTRIES = 8


def default_cache_dir() -> Path:
    """The cache folder: ``$VICTIMNEEDS_CACHE`` if set, else ``~/.cache/victimneeds``."""
    env = os.environ.get("VICTIMNEEDS_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "victimneeds"


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
    h.update(f"policeuk-result-v{_CACHE_VERSION}|{force}|{months}|{duplicates}|".encode())
    for m, content in zip(chosen, contents, strict=True):
        h.update(f"{m.label}|{m.kind}|{content}|".encode())
    if areas is not None:
        cols = [c for c in ("area_code", "district_code") if c in areas.columns]
        h.update(pd.util.hash_pandas_object(pd.DataFrame(areas[cols]), index=False).to_numpy().tobytes())
    if lsoa2011 is not None:
        h.update("|".join(sorted(lsoa2011)).encode())
    return h.hexdigest()[:40]


def _load_result(cache: Path, key: str) -> PoliceUKData | None:
    wait_for_cache()
    table_path, report_path = cache / f"result-{key}.arrow", cache / f"result-{key}-report.json"
    if not (table_path.is_file() and report_path.is_file()):
        return None
    try:
        rows = json.loads(report_path.read_text(encoding="utf-8"))
        table = feather.read_table(table_path, memory_map=True)
        result = PoliceUKData(_canonical(table), report_frame(rows))
    except (OSError, ValueError, KeyError, pa.ArrowException):
        return None  # a damaged entry: read the files again
    try:
        os.utime(table_path)  # most recently used: the last to be removed when the cache is full
    except OSError:
        pass
    return result


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
        os.replace(str(table_path) + tmp, table_path)
        Path(str(report_path) + tmp).write_text(json.dumps(rows), encoding="utf-8")
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
