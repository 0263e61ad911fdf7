"""Read data.police.uk street-level crime (and outcomes) files into the canonical ``crimes`` table.

data.police.uk publishes one CSV per force and month: ``YYYY-MM/YYYY-MM-<force>-street.csv`` (one
row per crime or anti-social behaviour incident, located to a snap point and its LSOA) and, where the
force supplies them, ``YYYY-MM-<force>-outcomes.csv`` (one row per outcome recorded that month, for
crimes of that or earlier months). :func:`read_policeuk` reads any mix of folders, single files,
gzip copies and the bulk zip archive, checks every row and says what it found in a data-quality
report.

How it is fast:

* Files are read in a thread pool, one file per thread: gzip is inflated with ISA-L (``isal``) and
  the CSV parsed with ``pyarrow.csv`` straight into typed columns (coordinates as numbers, the
  repetitive text columns dictionary-encoded). Checks run on the dictionaries (a few hundred distinct
  values) rather than on every row. A file that fails any check of this fast path (a short row, a
  malformed month, an unknown crime type, a coordinate that is not a number or lies outside the UK,
  an odd LSOA code, text that is not UTF-8 ...) is read again as text by the careful path, which
  finds, counts and reports each bad row with its line. Both paths give the same table for a clean
  file (tested).
* Joining the files (duplicate Crime IDs, the months in the series, LSOA vintage, outcomes, the
  area lookup) works on Arrow arrays and dictionary codes; pandas is built once at the end.
* The finished table is cached in Arrow IPC format (memory-mapped on the next read, so nothing is
  parsed; text columns are not even copied) with the report beside it, in :func:`default_cache_dir`.
  The cache key is the xxHash-128 of every file's bytes (for a member of a zip archive: its name,
  CRC-32 and size as the archive records them), the file names, the arguments and the reader version:
  a file edited in place gets a new key and is read again. A file's hash is remembered by path, size,
  modification time and inode, so unchanged files are not hashed again. The cache keeps the
  :data:`CACHE_ENTRIES` most recently used tables.

Why Arrow IPC rather than Parquet for the cache: on the 41 Leicestershire files, decoding the finished
table from Parquet took 18-20 ms before any conversion to pandas, against about 1 ms to map it from
Arrow IPC, and the warm read must stay within 1/20 of a plain ``pandas.read_csv`` loop
(``bench/ingest.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import xxhash
from isal import igzip

from victimneeds.datamodel import (
    CRIME_GROUPS,
    CRIME_TYPES,
    ETHNICITIES,
    VICTIM_AGE_BANDS,
    VICTIM_SEXES,
    crime_group_for,
)
from victimneeds.io._report import (
    DataFileError,
    Report,
    check_columns,
    describe_lines,
    describe_values,
    first_bad_utf8_lines,
    read_header,
    report_frame,
)

__all__ = [
    "STREET_COLUMNS",
    "OUTCOME_COLUMNS",
    "UK_BOUNDS",
    "PoliceUKData",
    "read_policeuk",
    "lsoa_vintage",
    "default_cache_dir",
    "CACHE_ENTRIES",
]

#: The data.police.uk street file header.
STREET_COLUMNS: tuple[str, ...] = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)
_STREET_REQUIRED = ("Crime ID", "Month", "Longitude", "Latitude", "LSOA code", "Crime type", "Last outcome category")
#: The data.police.uk outcomes file header.
OUTCOME_COLUMNS: tuple[str, ...] = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Outcome type",
)
_OUTCOME_REQUIRED = ("Crime ID", "Month", "Outcome type")

#: (min longitude, min latitude, max longitude, max latitude) of a box round the UK, Channel Islands
#: and Isle of Man excluded: police.uk snap points outside it are treated as damaged coordinates.
UK_BOUNDS: tuple[float, float, float, float] = (-8.7, 49.8, 1.8, 60.9)

#: The highest LSOA 2011 code in England and in Wales (ONS OA11-LSOA11-MSOA11-LAD17 lookup: 32,844
#: English LSOAs E01000001-E01033768, 1,909 Welsh LSOAs W01000001-W01001958). LSOA 2021 codes for
#: unchanged areas reuse the 2011 codes; new 2021 LSOAs take codes above these.
_LSOA11_MAX = {"E01": 33768, "W01": 1958}

_CACHE_VERSION = "2"
#: How many finished tables the cache keeps (one per set of files and arguments); the least recently
#: used go first. A Leicestershire-sized force for 41 months takes about 70 MB.
CACHE_ENTRIES = 8
_NAME_RE = re.compile(r"^(?P<month>\d{4}-\d{2})-(?P<force>.+)-(?P<kind>street|outcomes|stop-and-search)\.csv(\.gz)?$")
_MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"
_NUMBER_RE = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_LSOA_RE = r"^[EW]01\d{6}$"


class PoliceUKData(NamedTuple):
    """The result of :func:`read_policeuk`: ``crimes, report = read_policeuk(...)`` or ``.crimes``."""

    crimes: pd.DataFrame
    report: pd.DataFrame


def default_cache_dir() -> Path:
    """The cache folder: ``$VICTIMNEEDS_CACHE`` if set, else ``~/.cache/victimneeds``."""
    env = os.environ.get("VICTIMNEEDS_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "victimneeds"


# --------------------------------------------------------------------------------------------------
# Finding the files
# --------------------------------------------------------------------------------------------------


@dataclass
class _Member:
    label: str  # how the file is named in reports and synthetic ids
    kind: str  # street | outcomes | stop-and-search | unknown
    month: str | None
    force: str | None
    load: Callable[[], bytes]  # returns the (compressed or not) bytes
    gz: bool
    zip_key: str | None = None  # content key from the zip directory, when a zip member
    path: Path | None = None  # the file, when not a zip member

    @property
    def stem(self) -> str:
        name = self.label.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        for suffix in (".gz", ".csv"):
            name = name.removesuffix(suffix)
        return name

    def content_key(self, known: dict[str, list] | None = None) -> str:
        """xxHash-128 of the file's bytes; for a zip member, its name, CRC-32 and size from the archive.

        ``known`` remembers hashes by path, size, modification time and inode (see :class:`_KnownHashes`).
        """
        if self.zip_key is not None or self.path is None:
            return self.zip_key or xxhash.xxh3_128_hexdigest(self.load())
        st = self.path.stat()
        where, stamp = os.path.abspath(self.path), [st.st_size, st.st_mtime_ns, st.st_ino]
        if known is not None and known.get(where, [None])[:-1] == stamp:
            return known[where][-1]
        digest = xxhash.xxh3_128()
        with self.path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        if known is not None and time.time_ns() - st.st_mtime_ns > _SETTLED_NS:
            known[where] = [*stamp, digest.hexdigest()]
        return digest.hexdigest()


#: A file's hash is remembered only once its modification time is this far in the past (2 s), so that a
#: file written twice within one tick of the file system's clock, with the same size, is still hashed again
#: (the "racy" case of git's index, which works the same way).
_SETTLED_NS = 2_000_000_000


class _KnownHashes:
    """The hashes of files already read, by path, size, modification time and inode, kept in the cache
    folder: a second read of unchanged files does not hash their bytes again. The cache key is still the
    hash of the bytes; a file that is replaced (new inode), edited (new time) or resized is hashed again."""

    def __init__(self, cache: Path) -> None:
        self.path = cache / "file-hashes.json"
        try:
            self.known: dict[str, list] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.known = {}
        self.before = dict(self.known)

    def save(self) -> None:
        if self.known == self.before:
            return
        tmp = Path(f"{self.path}.tmp-{os.getpid()}-{threading.get_ident()}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(self.known), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # only costs speed


def _classify(name: str) -> tuple[str, str | None, str | None]:
    base = name.rsplit("/", 1)[-1]
    m = _NAME_RE.match(base)
    if not m:
        return "unknown", None, None
    return m["kind"], m["month"], m["force"]


def _file_member(path: Path, label: str) -> _Member:
    kind, month, force = _classify(path.name)
    return _Member(label, kind, month, force, path.read_bytes, path.name.endswith(".gz"), path=path)


def _zip_members(path: Path) -> list[_Member]:
    try:
        archive = zipfile.ZipFile(path)
        infos = archive.infolist()
        archive.close()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise DataFileError(
            f"{path} is not a readable zip archive (it may be cut short or damaged: {err}). "
            "Download the archive from data.police.uk again."
        ) from None
    members = []
    for info in infos:
        if info.is_dir() or not (info.filename.endswith(".csv") or info.filename.endswith(".csv.gz")):
            continue
        kind, month, force = _classify(info.filename)

        def load(name: str = info.filename) -> bytes:
            try:
                with zipfile.ZipFile(path) as zf:
                    return zf.read(name)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
                raise DataFileError(
                    f"{path}: the member {name} cannot be read ({err}); the archive is damaged or cut short."
                ) from None

        key = f"{info.filename}:{info.CRC:08x}:{info.file_size}"
        members.append(
            _Member(f"{path.name}:{info.filename}", kind, month, force, load, info.filename.endswith(".gz"), key)
        )
    return members


def _discover(source: str | os.PathLike | Iterable[str | os.PathLike]) -> list[_Member]:
    paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    if not paths:
        raise DataFileError("read_policeuk was given an empty list of files.")
    members: list[_Member] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                Path(root, name)
                for root, _, names in os.walk(path, followlinks=True)
                for name in names
                if name.endswith((".csv", ".csv.gz", ".zip"))
            )
            for p in found:
                if p.suffix == ".zip":
                    members.extend(_zip_members(p))
                else:
                    members.append(_file_member(p, p.relative_to(path).as_posix()))
        elif path.is_file():
            if path.suffix == ".zip":
                members.extend(_zip_members(path))
            else:
                label = f"{path.parent.name}/{path.name}" if path.parent.name else path.name
                members.append(_file_member(path, label))
        else:
            raise DataFileError(f"{path} does not exist: give a folder, a police.uk CSV (or .csv.gz) or a zip.")
    if not members:
        raise DataFileError(f"no CSV files were found in {', '.join(map(str, paths))}.")
    return members


# --------------------------------------------------------------------------------------------------
# Parsing one file
# --------------------------------------------------------------------------------------------------

_DICT = pa.dictionary(pa.int32(), pa.string())
#: Column types of the fast path: numbers parsed as numbers, repetitive text dictionary-encoded.
_FAST_TYPES = {
    "Crime ID": pa.large_string(),
    "Month": _DICT,
    "Reported by": _DICT,
    "Falls within": _DICT,
    "Longitude": pa.float64(),
    "Latitude": pa.float64(),
    "Location": _DICT,
    "LSOA code": _DICT,
    "LSOA name": _DICT,
    "Crime type": _DICT,
    "Last outcome category": _DICT,
    "Context": pa.large_string(),
}
_READ_OPTIONS = pacsv.ReadOptions(use_threads=False, block_size=1 << 26)
_GZIP_ERRORS = (OSError, EOFError, ValueError, zlib.error)


def _decompress(member: _Member, data: bytes) -> bytes:
    if not member.gz:
        return data
    try:
        return igzip.decompress(data)
    except _GZIP_ERRORS as err:
        raise DataFileError(f"{member.label} is not a complete gzip file ({err}); it may be cut short.") from None


def _row_lines(n_rows: int, skipped: Sequence[int]) -> np.ndarray:
    """Line numbers of the parsed rows (header = line 1; blank lines are not counted)."""
    if not skipped:
        return np.arange(2, n_rows + 2, dtype=np.int64)
    all_lines = np.arange(2, n_rows + len(skipped) + 2, dtype=np.int64)
    return np.setdiff1d(all_lines, np.asarray(skipped, dtype=np.int64), assume_unique=True)


def _parse_csv(member: _Member, raw: bytes, required: Sequence[str], what: str) -> tuple[pa.Table, np.ndarray, Report]:
    report = Report()
    if not raw.strip():
        raise DataFileError(f"{member.label} is empty (0 rows and no header); expected {what}.")
    header = read_header(raw)
    check_columns(header, required, member.label, what)
    skipped: list[tuple[int, str]] = []

    def on_bad_row(row: pacsv.InvalidRow) -> str:
        skipped.append((int(row.number) if row.number is not None else -1, row.text))
        return "skip"

    types = {name: pa.string() for name in header}
    try:
        table = pacsv.read_csv(
            pa.BufferReader(raw),
            read_options=pacsv.ReadOptions(use_threads=False, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_bad_row),
            convert_options=pacsv.ConvertOptions(
                column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=True
            ),
        )
    except pa.ArrowInvalid as err:
        if "UTF8" in str(err) or "utf8" in str(err).lower():
            bad = first_bad_utf8_lines(raw)
            raise DataFileError(
                f"{member.label} is not UTF-8 text: {describe_lines(bad)} hold bytes that are not UTF-8. "
                "police.uk files are UTF-8; the file may have been re-saved in another encoding."
            ) from None
        raise DataFileError(f"{member.label} cannot be parsed as CSV: {err}") from None
    lines = [n for n, _ in skipped]
    if skipped:
        report.add(
            member.label,
            "malformed_rows",
            len(skipped),
            "excluded",
            f"rows with the wrong number of fields on {describe_lines(lines)} "
            f"(e.g. {skipped[0][1][:60]!r}); header is line 1, blank lines not counted",
        )
    return table, _row_lines(table.num_rows, lines), report


def _col(table: pa.Table, name: str) -> pa.ChunkedArray:
    if name in table.column_names:
        return table.column(name)
    return pa.chunked_array([pa.nulls(table.num_rows, pa.string())])


def _lines_where(mask: pa.ChunkedArray | pa.Array, lines: np.ndarray) -> np.ndarray:
    arr = np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)
    return lines[arr]


def _one(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One contiguous array (a parsed column may come in chunks)."""
    if not isinstance(values, pa.ChunkedArray):
        return values
    return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()


def _encode(values: pa.ChunkedArray | pa.Array) -> pa.DictionaryArray:
    return _one(pc.dictionary_encode(_one(values)))


def _month_ordinal(text: str) -> int:
    """'YYYY-MM' to the month's ordinal as pandas counts it (months since 1970-01)."""
    return (int(text[:4]) - 1970) * 12 + int(text[5:7]) - 1


def _month_text(ordinal: int) -> str:
    return f"{1970 + ordinal // 12:04d}-{ordinal % 12 + 1:02d}"


def _ordinals(months: pa.DictionaryArray) -> np.ndarray:
    """Month ordinals (int32) of a dictionary array of valid 'YYYY-MM' strings, converting each value once."""
    per_value = np.array([_month_ordinal(v) for v in months.dictionary.to_pylist()], dtype=np.int32)
    return per_value[pc.fill_null(months.indices, 0).to_numpy()] if len(per_value) else np.zeros(0, np.int32)


def _mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


@dataclass
class _Street:
    """One street file's rows after the row checks: typed columns, line numbers and report rows."""

    crime_id: pa.Array  # text as read (trimmed later)
    month: np.ndarray  # int32 month ordinals
    crime_type: pa.DictionaryArray
    longitude: pa.Array
    latitude: pa.Array
    no_location: np.ndarray  # bool: the file gave no longitude or latitude
    area_code: pa.DictionaryArray  # valid LSOA codes or null
    no_lsoa: int  # rows the file gave no LSOA code (invalid codes, set to null, are counted apart)
    text: dict[str, pa.Array]  # lsoa_name, street_outcome, location, force (dictionary), context (string)
    lines: np.ndarray
    report: Report = field(default_factory=Report)


def _street_fast(member: _Member, raw: bytes) -> _Street | None:
    """Parse a clean street file into typed columns; None if anything in it needs the careful path."""
    if read_header(raw) != list(STREET_COLUMNS):
        return None
    try:
        table = pacsv.read_csv(
            pa.BufferReader(raw),
            read_options=_READ_OPTIONS,
            convert_options=pacsv.ConvertOptions(
                column_types=_FAST_TYPES, strings_can_be_null=True, quoted_strings_can_be_null=True
            ),
        )
    except pa.ArrowException:
        return None  # a short row, text that is not UTF-8, a coordinate that is not a number ...
    cols = {name: _one(table.column(name)) for name in table.column_names}
    month, ctype, lsoa = cols["Month"], cols["Crime type"], cols["LSOA code"]
    month_values = month.dictionary.to_pylist()
    if month.null_count or not all(re.match(_MONTH_RE, v) for v in month_values):
        return None
    if member.month is not None and any(v != member.month for v in month_values):
        return None
    if ctype.null_count or not set(ctype.dictionary.to_pylist()) <= set(CRIME_TYPES):
        return None
    if not all(re.match(_LSOA_RE, v) for v in lsoa.dictionary.to_pylist()):
        return None
    lon, lat = cols["Longitude"], cols["Latitude"]
    for values, low, high in ((lon, UK_BOUNDS[0], UK_BOUNDS[2]), (lat, UK_BOUNDS[1], UK_BOUNDS[3])):
        if values.null_count < len(values):
            if not pc.all(pc.is_finite(values)).as_py():
                return None
            span = pc.min_max(values)
            if span["min"].as_py() < low or span["max"].as_py() > high:
                return None
    n = table.num_rows
    report = Report()
    report.add(member.label, "rows_read", n, "read", f"records in the file (month {member.month or 'from rows'})")
    return _Street(
        crime_id=cols["Crime ID"],
        month=_ordinals(month),
        crime_type=ctype,
        longitude=lon,
        latitude=lat,
        no_location=_mask(pc.or_(pc.is_null(lon), pc.is_null(lat))),
        area_code=lsoa,
        no_lsoa=lsoa.null_count,
        text={
            "lsoa_name": cols["LSOA name"],
            "street_outcome": cols["Last outcome category"],
            "location": cols["Location"],
            "force": cols["Falls within"],
            "context": cols["Context"],
        },
        lines=np.arange(2, n + 2, dtype=np.int64),
        report=report,
    )


def _street_careful(member: _Member, raw: bytes) -> _Street:
    """Parse a street file as text and check every row, counting and reporting each problem with its lines."""
    table, lines, report = _parse_csv(member, raw, _STREET_REQUIRED, "a police.uk street-level crime file")
    src = member.label
    report.rows.insert(
        0,
        {
            "source": src,
            "check": "rows_read",
            "count": table.num_rows + int(sum(r["count"] for r in report.rows)),
            "action": "read",
            "detail": f"records in the file (month {member.month or 'from rows'})",
        },
    )

    month = pc.utf8_trim_whitespace(_col(table, "Month"))
    month_ok = pc.fill_null(pc.match_substring_regex(month, _MONTH_RE), False)
    ctype = pc.utf8_trim_whitespace(_col(table, "Crime type"))
    type_ok = pc.fill_null(pc.is_in(ctype, value_set=pa.array(CRIME_TYPES)), False)

    bad_month = pc.invert(month_ok)
    if pc.any(bad_month).as_py():
        bad_lines = _lines_where(bad_month, lines)
        examples = pc.filter(month, bad_month).to_pylist()[:3]
        report.add(
            src,
            "malformed_month",
            len(bad_lines),
            "excluded",
            f"Month is not YYYY-MM on {describe_lines(bad_lines)}, e.g. {describe_values(examples, 3)}",
        )
    bad_type = pc.and_(month_ok, pc.invert(type_ok))
    if pc.any(bad_type).as_py():
        bad_lines = _lines_where(bad_type, lines)
        examples = pc.filter(ctype, bad_type).to_pylist()
        report.add(
            src,
            "unknown_crime_type",
            len(bad_lines),
            "excluded",
            f"Crime type is not one of the 14 police.uk types on {describe_lines(bad_lines)}, "
            f"e.g. {describe_values(examples, 3)}",
        )
    keep = pc.and_(month_ok, type_ok)
    table = table.filter(keep)
    lines = lines[_mask(keep)]
    month = pc.filter(month, keep)
    ctype = pc.filter(ctype, keep)

    if member.month is not None:
        other = pc.not_equal(month, member.month)
        if pc.any(other).as_py():
            report.add(
                src,
                "month_differs_from_file_name",
                int(pc.sum(other).as_py()),
                "kept",
                f"rows dated another month than the file name on {describe_lines(_lines_where(other, lines))}",
            )

    # coordinates
    coords = {}
    missing_loc = None
    bad_coord = None
    for name in ("Longitude", "Latitude"):
        text = _col(table, name)
        is_num = pc.fill_null(pc.match_substring_regex(text, _NUMBER_RE), False)
        present = pc.is_valid(text)
        unparsable = pc.and_(present, pc.invert(is_num))
        value = pc.cast(pc.if_else(is_num, pc.utf8_trim_whitespace(text), pa.scalar(None, pa.string())), pa.float64())
        coords[name] = value
        missing_loc = pc.invert(present) if missing_loc is None else pc.or_(missing_loc, pc.invert(present))
        bad_coord = unparsable if bad_coord is None else pc.or_(bad_coord, unparsable)
    lon, lat = coords["Longitude"], coords["Latitude"]
    outside = pc.fill_null(
        pc.invert(
            pc.and_(
                pc.and_(pc.greater_equal(lon, UK_BOUNDS[0]), pc.less_equal(lon, UK_BOUNDS[2])),
                pc.and_(pc.greater_equal(lat, UK_BOUNDS[1]), pc.less_equal(lat, UK_BOUNDS[3])),
            )
        ),
        False,
    )
    if pc.any(bad_coord).as_py():
        bl = _lines_where(bad_coord, lines)
        report.add(
            src,
            "coordinates_not_numbers",
            len(bl),
            "coordinates set to missing",
            f"Longitude/Latitude are not numbers on {describe_lines(bl)}",
        )
    if pc.any(outside).as_py():
        ol = _lines_where(outside, lines)
        report.add(
            src,
            "coordinates_outside_uk",
            len(ol),
            "coordinates set to missing",
            f"coordinates outside the UK box {UK_BOUNDS} on {describe_lines(ol)}; the row is kept with its LSOA",
        )
    drop_xy = pc.or_(outside, pc.fill_null(bad_coord, False))
    lon = pc.if_else(drop_xy, pa.scalar(None, pa.float64()), lon)
    lat = pc.if_else(drop_xy, pa.scalar(None, pa.float64()), lat)

    # LSOA
    lsoa = pc.utf8_trim_whitespace(_col(table, "LSOA code"))
    no_lsoa = int(pc.sum(pc.is_null(lsoa)).as_py() or 0)
    bad_lsoa = pc.fill_null(pc.invert(pc.match_substring_regex(lsoa, _LSOA_RE)), False)
    if pc.any(bad_lsoa).as_py():
        bl = _lines_where(bad_lsoa, lines)
        report.add(
            src,
            "lsoa_code_invalid",
            len(bl),
            "area_code set to missing",
            f"LSOA code is not an E01/W01 code on {describe_lines(bl)}, e.g. "
            f"{describe_values(pc.filter(lsoa, bad_lsoa).to_pylist(), 3)}",
        )
        lsoa = pc.if_else(bad_lsoa, pa.scalar(None, pa.string()), lsoa)

    return _Street(
        crime_id=_one(_col(table, "Crime ID")),
        month=_ordinals(_encode(month)),
        crime_type=_encode(ctype),
        longitude=_one(lon),
        latitude=_one(lat),
        no_location=_mask(missing_loc),
        area_code=_encode(lsoa),
        no_lsoa=no_lsoa,
        text={
            "lsoa_name": _encode(_col(table, "LSOA name")),
            "street_outcome": _encode(_col(table, "Last outcome category")),
            "location": _encode(_col(table, "Location")),
            "force": _encode(_col(table, "Falls within")),
            "context": _one(_col(table, "Context")),
        },
        lines=lines,
        report=report,
    )


def _street_table(member: _Member, street: _Street) -> tuple[pa.Table, list[dict[str, object]]]:
    """Count rows without location, LSOA or Crime ID, give ASB incidents and id-less crimes an id, and
    assemble the file's table (the same for both paths)."""
    src, report, lines = member.label, street.report, street.lines
    n_noloc = int(street.no_location.sum())
    if n_noloc:
        report.add(src, "no_location", n_noloc, "kept", "rows without longitude/latitude (kept; no coordinates)")
    n_nolsoa = street.no_lsoa
    if n_nolsoa:
        report.add(src, "no_lsoa", n_nolsoa, "kept", "rows without an LSOA code (kept; area_code missing)")

    types = street.crime_type.dictionary.to_pylist()
    asb_code = types.index("Anti-social behaviour") if "Anti-social behaviour" in types else -1
    is_asb = pc.fill_null(street.crime_type.indices, -1).to_numpy() == asb_code
    cid = street.crime_id.cast(pa.large_string())
    if _may_need_trimming(cid):
        cid = pc.utf8_trim_whitespace(cid)
    no_id = _mask(pc.is_null(cid))
    n_asb = int(is_asb.sum())
    if n_asb:
        report.add(src, "asb_rows", n_asb, "kept", "anti-social behaviour incidents (no Crime ID or outcome)")
    noid_crime = no_id & ~is_asb
    if noid_crime.any():
        report.add(
            src,
            "no_crime_id",
            int(noid_crime.sum()),
            "kept with a synthetic id 'row-<file>-<line>'",
            f"crimes (not ASB) without a Crime ID on {describe_lines(lines[noid_crime])}",
        )
    id_hash = _id_hashes(cid)
    if no_id.any():
        prefix = pc.if_else(pa.array(is_asb[no_id]), f"asb-{member.stem}", f"row-{member.stem}")
        synthetic = pc.binary_join_element_wise(prefix, pc.cast(pa.array(lines[no_id]), pa.string()), "-")
        synthetic = synthetic.cast(pa.large_string())
        cid = pc.replace_with_mask(cid, pa.array(no_id), synthetic)

    text = street.text
    out = pa.table(
        {
            "crime_id": cid,
            "id_hash": id_hash,
            "synthetic_id": pa.array(no_id),
            "month": pa.array(street.month, pa.int32()),
            "area_code": street.area_code,
            "lsoa_name": text["lsoa_name"],
            "crime_type": street.crime_type,
            "street_outcome": text["street_outcome"],
            "longitude": street.longitude,
            "latitude": street.latitude,
            "location": text["location"],
            "context": pc.cast(text["context"], pa.large_string()),
            "force": text["force"],
            "source_line": pa.array(lines, pa.int64()),
        }
    )
    return out, report.rows


_MIX = np.uint64(0x9E3779B97F4A7C15)
_SPACE_BYTES = np.zeros(256, dtype=bool)
_SPACE_BYTES[[9, 10, 11, 12, 13, 32]] = True
_SPACE_BYTES[128:] = True  # a byte of a multi-byte character, which may be Unicode white space


def _may_need_trimming(text: pa.Array) -> bool:
    """False when no value of a ``large_string`` array starts or ends with white space (checked on the first
    and last byte of each value, from the Arrow buffers), so trimming would change nothing."""
    n = len(text)
    if n == 0 or text.null_count == n:
        return False
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[text.offset : text.offset + n + 1]
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)
    filled = (offsets[1:] > offsets[:-1]) & _mask(pc.is_valid(text))
    first, last = offsets[:-1][filled], offsets[1:][filled] - 1
    return bool(_SPACE_BYTES[data[first]].any() or _SPACE_BYTES[data[last]].any())


def _id_hashes(ids: pa.Array) -> pa.Array:
    """A 64-bit hash of each Crime ID, read straight from the Arrow buffers (null where there is no id).

    It works when every id has the same length, a multiple of 8 bytes (police.uk ids are 64 hex
    characters), and no id looks like a synthetic one; otherwise every hash is null and the ids are
    compared as text. Equal ids have equal hashes, and :func:`_repeated` compares rows whose hashes
    repeat as text, so a collision costs time, never a wrong answer.
    """
    n, valid = len(ids), _mask(pc.is_valid(ids))
    none = pa.nulls(n, pa.uint64())
    if not valid.any() or ids.type not in (pa.string(), pa.large_string()):
        return none
    index_type = np.int64 if ids.type == pa.large_string() else np.int32
    offsets = np.frombuffer(ids.buffers()[1], dtype=index_type)[ids.offset : ids.offset + n + 1]
    lengths = np.diff(offsets)[valid]
    width = int(lengths[0])
    if width == 0 or width % 8 or (lengths != width).any():
        return none
    if pc.any(pc.or_(pc.starts_with(ids, "asb-"), pc.starts_with(ids, "row-"))).as_py():
        return none
    words = np.frombuffer(
        ids.buffers()[2], dtype=np.uint64, count=len(lengths) * width // 8, offset=int(offsets[0])
    ).reshape(len(lengths), width // 8)
    h = np.full(len(lengths), width, dtype=np.uint64)
    for j in range(words.shape[1]):
        h = (h ^ words[:, j]) * _MIX
        h ^= h >> np.uint64(29)
    out = np.zeros(n, dtype=np.uint64)
    out[valid] = h
    return pa.array(out, mask=~valid)


def _parse_street(member: _Member, raw: bytes) -> tuple[pa.Table, list[dict[str, object]]]:
    street = _street_fast(member, raw)
    if street is None:
        street = _street_careful(member, raw)
    return _street_table(member, street)


def _parse_outcomes(member: _Member, raw: bytes) -> tuple[pa.Table, list[dict[str, object]]]:
    table, lines, report = _parse_csv(member, raw, _OUTCOME_REQUIRED, "a police.uk outcomes file")
    src = member.label
    report.rows.insert(
        0,
        {
            "source": src,
            "check": "rows_read",
            "count": table.num_rows + int(sum(r["count"] for r in report.rows)),
            "action": "read",
            "detail": "outcome records in the file",
        },
    )
    month = pc.utf8_trim_whitespace(_col(table, "Month"))
    cid = pc.utf8_trim_whitespace(_col(table, "Crime ID"))
    outcome = pc.utf8_trim_whitespace(_col(table, "Outcome type"))
    ok = pc.fill_null(pc.match_substring_regex(month, _MONTH_RE), False)
    bad = pc.invert(ok)
    if pc.any(bad).as_py():
        bl = _lines_where(bad, lines)
        report.add(src, "malformed_month", len(bl), "excluded", f"Month is not YYYY-MM on {describe_lines(bl)}")
    no_id = pc.and_(ok, pc.or_(pc.is_null(cid), pc.is_null(outcome)))
    if pc.any(no_id).as_py():
        bl = _lines_where(no_id, lines)
        report.add(
            src,
            "no_crime_id_or_outcome",
            len(bl),
            "excluded",
            f"outcome rows without a Crime ID or Outcome type on {describe_lines(bl)}",
        )
    keep = pc.and_(ok, pc.invert(no_id))
    out = pa.table(
        {
            "crime_id": _one(pc.filter(cid, keep)),
            "month": pa.array(_ordinals(_encode(pc.filter(month, keep))), pa.int32()),
            "outcome": _one(pc.filter(outcome, keep)),
            "source_line": pa.array(lines[_mask(keep)], pa.int64()),
        }
    )
    return out, report.rows


def _read_member(member: _Member) -> tuple[pa.Table, list[dict[str, object]]]:
    """Read, inflate and parse one file: its table and report rows."""
    raw = _decompress(member, member.load())
    parse = _parse_outcomes if member.kind == "outcomes" else _parse_street
    return parse(member, raw)


# --------------------------------------------------------------------------------------------------
# LSOA vintage
# --------------------------------------------------------------------------------------------------


def lsoa_vintage(codes: Iterable[str], lsoa2011: Collection[str] | None = None) -> pd.Series:
    """Say for each LSOA code whether it is a 2011 code or a code new in 2021.

    LSOA 2021 keeps the 2011 code of every unchanged LSOA, so a code can only be told apart when it
    is new: a code is ``"2021"`` if it is not a 2011 code, else ``"2011"`` (valid for 2011, and for
    2021 too when the area did not change). Without ``lsoa2011`` (the set of 2011 codes, e.g. from
    :func:`victimneeds.io.read_lookup`) the check uses the highest 2011 code of England (E01033768)
    and Wales (W01001958) from the ONS 2011 lookup.

    Examples
    --------
    >>> lsoa_vintage(["E01025631", "E01035000", "W01001958"]).tolist()
    ['2011', '2021', '2011']
    """
    codes = pd.Series(list(codes), dtype=object)
    if lsoa2011 is not None:
        known = set(lsoa2011)
        is_2011 = codes.map(lambda c: c in known)
    else:

        def in_range(code: object) -> bool:
            if not isinstance(code, str) or len(code) != 9 or code[:3] not in _LSOA11_MAX:
                return False
            return code[3:].isdigit() and 1 <= int(code[3:]) <= _LSOA11_MAX[code[:3]]

        is_2011 = codes.map(in_range)
    return pd.Series(np.where(is_2011.to_numpy(dtype=bool), "2011", "2021"), index=codes.index, name="vintage")


# --------------------------------------------------------------------------------------------------
# The reader
# --------------------------------------------------------------------------------------------------


def read_policeuk(
    source: str | os.PathLike | Iterable[str | os.PathLike],
    force: str | None = None,
    areas: pd.DataFrame | None = None,
    cache_dir: str | os.PathLike | None | Literal[False] = None,
    months: tuple[str, str] | None = None,
    lsoa2011: Collection[str] | None = None,
    duplicates: Literal["merge", "keep"] = "merge",
    max_workers: int | None = None,
) -> PoliceUKData:
    """Read data.police.uk street-level crime files into the canonical ``crimes`` table.

    Parameters
    ----------
    source : a folder (searched recursively for ``*-street.csv``, ``*-outcomes.csv``, their ``.gz``
        copies and bulk ``.zip`` archives), one file, or a list of files. Files whose names do not
        follow ``YYYY-MM-<force>-<kind>.csv`` are read as street files.
    force : the police.uk force slug (e.g. ``"leicestershire"``); files of other forces are skipped
        and counted. None reads every force found.
    areas : the force's LSOAs, a table with ``area_code`` and ``district_code`` (the ``areas`` table
        of the data model). When given, ``district_code`` is filled from it and rows whose LSOA is not
        in it are counted as ``outside_area`` (kept, ``district_code`` missing).
    cache_dir : folder for the cache of finished tables; None uses :func:`default_cache_dir`; False
        disables it.
    months : (first, last) months ``"YYYY-MM"`` to keep; files named for other months are not read
        and rows dated outside are excluded (both counted).
    lsoa2011 : the set of LSOA 2011 codes for the vintage check (see :func:`lsoa_vintage`).
    duplicates : police.uk sometimes publishes one Crime ID in several months. ``"merge"`` keeps the
        first (earliest) row, with the latest outcome of any of its rows; ``"keep"`` keeps every row and
        makes the ids unique with a ``#2``, ``#3`` suffix. Either way the rows are counted.
    max_workers : threads for reading files (default: up to 8).

    Returns
    -------
    PoliceUKData
        A named tuple ``(crimes, report)``. ``crimes`` has the columns of ``datamodel.CRIMES``:
        ``crime_id`` (the police.uk Crime ID; ASB incidents, which have none, get
        ``"asb-<file>-<line>"``), ``month`` (Period[M]), ``area_code`` (the LSOA code),
        ``district_code``, ``crime_type``, ``crime_group`` (police.uk carries no domestic-abuse or hate
        flag, so flags and victim fields are missing), ``outcome`` (the latest outcome from the
        outcomes files when given, else the street file's last outcome category) and
        ``outcome_month``; and also ``months_to_outcome``, ``longitude``, ``latitude``, ``location``,
        ``lsoa_name``, ``context``, ``force``, ``source_file`` and ``source_line`` (the line number in
        the file, header = 1). ``report`` is the data-quality report (see :mod:`victimneeds.io._report`).

    Raises
    ------
    DataFileError
        A file is empty, damaged (bad gzip or zip), not UTF-8, or lacks the police.uk columns.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "2020-01-demo-street.csv").write_text(
    ...     "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    ...     "Crime type,Last outcome category,Context\\n"
    ...     "abc,2020-01,Demo Police,Demo Police,-1.2,52.6,On or near X,E01025631,Blaby 002A,Burglary,"
    ...     "Under investigation,\\n"
    ...     ",2020-01,Demo Police,Demo Police,,,No location,,,Anti-social behaviour,,\\n")
    >>> crimes, report = read_policeuk(folder, cache_dir=False)
    >>> crimes["crime_id"].tolist()
    ['abc', 'asb-2020-01-demo-street-3']
    >>> crimes["crime_group"].tolist(), str(crimes.loc[0, "month"])
    (['Burglary', 'Anti-social behaviour'], '2020-01')
    >>> report.set_index("check").loc["no_lsoa", "count"]
    np.int64(1)
    """
    members = _discover(source)
    report = Report()
    window = None
    if months is not None:
        try:
            window = (pd.Period(months[0], freq="M"), pd.Period(months[1], freq="M"))
        except (ValueError, TypeError) as err:
            raise ValueError(f"months must be two 'YYYY-MM' strings, got {months!r} ({err})") from None

    chosen: list[_Member] = []
    for m in members:
        if m.kind == "stop-and-search":
            report.add(m.label, "file_skipped", 1, "not read", "stop-and-search file (not crimes)")
        elif force is not None and m.force is not None and m.force != force:
            report.add(m.label, "file_skipped", 1, "not read", f"file of force {m.force!r}, not {force!r}")
        elif window is not None and m.month is not None and not (window[0] <= pd.Period(m.month, "M") <= window[1]):
            report.add(m.label, "file_skipped", 1, "not read", f"month {m.month} is outside {months[0]}..{months[1]}")
        else:
            chosen.append(m)
    seen: dict[tuple[str, str, str], str] = {}
    for m in chosen:
        if m.month is None:
            continue
        key = (m.kind, m.month, m.force or "")
        if key in seen:
            raise DataFileError(
                f"two {m.kind} files for {m.force} {m.month} were given: {seen[key]} and {m.label}. "
                "They are probably two downloads of the same month; keep only one (the newest)."
            )
        seen[key] = m.label
    if not any(m.kind != "outcomes" for m in chosen):
        raise DataFileError("no street-level crime files were found to read (after the force and month filters).")

    cache = None
    if cache_dir is not False:
        cache = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / "policeuk"
    workers = max_workers or min(8, os.cpu_count() or 1)

    key = None
    if cache is not None:
        known = _KnownHashes(cache)
        contents = [m.content_key(known.known) for m in chosen]
        known.save()
        key = _result_key(chosen, contents, force, months, areas, lsoa2011, duplicates)
        cached = _load_result(cache, key)
        if cached is not None:
            return cached

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_read_member, m) for m in chosen]
        results, errors = [], []
        for m, fut in zip(chosen, futures, strict=True):
            try:
                results.append((m, *fut.result()))
            except DataFileError as err:
                errors.append(str(err))
    if errors:
        raise DataFileError(
            " ".join(errors)
            if len(errors) <= 3
            else " ".join(errors[:3]) + f" ... and {len(errors) - 3} more files fail."
        )

    streets, outcomes = [], []
    for m, table, rows in results:
        report.extend(rows)
        (outcomes if m.kind == "outcomes" else streets).append((m.label, table))
    window_ordinals = None if window is None else (window[0].ordinal, window[1].ordinal)
    finished = _assemble(streets, outcomes, report, window_ordinals, months, areas, lsoa2011, duplicates)
    result = PoliceUKData(_canonical(finished), report.frame())
    if cache is not None and key is not None:
        _save_result(cache, key, finished, report.rows)
    return result


# --------------------------------------------------------------------------------------------------
# The cache of finished tables
# --------------------------------------------------------------------------------------------------


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


def _save_result(cache: Path, key: str, table: pa.Table, rows: list[dict[str, object]]) -> None:
    tmp = f".tmp-{os.getpid()}-{threading.get_ident()}"
    table_path, report_path = cache / f"result-{key}.arrow", cache / f"result-{key}-report.json"
    try:
        cache.mkdir(parents=True, exist_ok=True)
        feather.write_feather(  # one record batch: each column maps back as one array, without a copy
            table.combine_chunks(), str(table_path) + tmp, compression="uncompressed", chunksize=max(1, table.num_rows)
        )
        os.replace(str(table_path) + tmp, table_path)
        Path(str(report_path) + tmp).write_text(json.dumps(rows), encoding="utf-8")
        os.replace(str(report_path) + tmp, report_path)
        entries = sorted(cache.glob("result-*.arrow"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in entries[CACHE_ENTRIES:]:  # the least recently used
            old.unlink(missing_ok=True)
            old.with_name(old.name.replace(".arrow", "-report.json")).unlink(missing_ok=True)
    except OSError:
        pass  # a cache that cannot be written (read-only folder, full disk) only costs speed


# --------------------------------------------------------------------------------------------------
# Joining the files
# --------------------------------------------------------------------------------------------------


def _codes(values: pa.DictionaryArray) -> np.ndarray:
    """Dictionary indices (a writable array), with -1 for null."""
    indices = pc.fill_null(values.indices, -1) if values.null_count else values.indices
    return np.array(indices.to_numpy(), copy=True)


def _code_width(n_values: int) -> type[np.signedinteger]:
    """The smallest signed integer type for codes of ``n_values`` values (as pandas keeps Categorical codes)."""
    return next(t for t in (np.int8, np.int16, np.int32, np.int64) if n_values < np.iinfo(t).max)


def _dictionary(codes: np.ndarray, values: Sequence[object], kind: pa.DataType | None = None) -> pa.DictionaryArray:
    """A dictionary array from codes (-1 = null) and its values (text: ``string``, or ``kind``)."""
    indices = pa.array(codes.astype(_code_width(len(values))), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(values), kind or pa.string()))


def _tidy(values: pa.DictionaryArray, order: Sequence[str] | None = None, sort: bool = True) -> pa.DictionaryArray:
    """Keep only the dictionary values in use, sorted (or as they come, or in the given complete ``order``)."""
    codes = _codes(values)
    if order is not None:
        words = values.dictionary.to_pylist()
        position = {w: i for i, w in enumerate(order)}
        remap = np.array([position[w] for w in words] + [-1], dtype=np.int64)
        return _dictionary(remap[codes], order)
    used = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(values.dictionary)))
    if sort:  # Arrow sorts the text (by code point, as Python does)
        used = used[pc.array_sort_indices(values.dictionary.take(pa.array(used))).to_numpy()]
    remap = np.full(len(values.dictionary) + 1, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return pa.DictionaryArray.from_arrays(
        pa.array(remap[codes].astype(_code_width(len(used))), mask=codes < 0), values.dictionary.take(pa.array(used))
    )


def _keep(table: pa.Table, keep: np.ndarray) -> pa.Table:
    """The rows of ``table`` where ``keep`` is True, copying only the file chunks that lose rows."""
    if keep.all():
        return table
    columns = []
    for column in table.columns:
        chunks, start = [], 0
        for chunk in column.chunks:
            part = keep[start : start + len(chunk)]
            chunks.append(chunk if part.all() else chunk.filter(pa.array(part)))
            start += len(chunk)
        columns.append(pa.chunked_array(chunks, column.type))
    return pa.table(columns, names=table.column_names)


def _repeated(
    ids: pa.Array | pa.ChunkedArray, hashes: pa.Array | pa.ChunkedArray, synthetic: np.ndarray, fast: bool
) -> np.ndarray:
    """True for each row whose id occurs more than once.

    With ``fast`` (the synthetic ids cannot repeat), and a hash for every other row (see
    :func:`_id_hashes`), the rows are matched on their hashes and the few whose hashes repeat are
    compared as text; otherwise every id is counted as text.
    """
    hashed = _mask(pc.is_valid(hashes))
    if fast and (hashed | synthetic).all():
        rows = np.flatnonzero(hashed)
        candidates = rows[pd.Series(hashes.filter(pa.array(hashed)).to_numpy()).duplicated(keep=False).to_numpy()]
        out = np.zeros(len(ids), dtype=bool)
        if len(candidates):
            text = pd.Series(ids.take(pa.array(candidates)).to_pylist())
            out[candidates[text.duplicated(keep=False).to_numpy()]] = True
        return out
    counts = pc.value_counts(ids)
    repeated = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    if len(repeated) == 0:
        return np.zeros(len(ids), dtype=bool)
    return _mask(pc.is_in(ids, value_set=repeated))


def _runs(ordinals: Sequence[int]) -> str:
    """'2019-03..2019-11, 2020-02' for sorted month ordinals."""
    runs, start, prev = [], ordinals[0], ordinals[0]
    for o in list(ordinals[1:]) + [None]:
        if o is not None and o == prev + 1:
            prev = o
            continue
        runs.append(_month_text(start) if start == prev else f"{_month_text(start)}..{_month_text(prev)}")
        if o is not None:
            start = prev = o
    return ", ".join(runs)


def _assemble(
    streets: list[tuple[str, pa.Table]],
    outcome_tables: list[tuple[str, pa.Table]],
    report: Report,
    window: tuple[int, int] | None,
    months: tuple[str, str] | None,
    areas: pd.DataFrame | None,
    lsoa2011: Collection[str] | None,
    duplicates: str,
) -> pa.Table:
    """Join the files' tables into the finished Arrow table (see :func:`_canonical`), adding the checks
    across files to the report: period, duplicate Crime IDs, missing months, LSOA vintage, outcomes, area."""
    if duplicates not in ("merge", "keep"):
        raise ValueError(f"duplicates must be 'merge' or 'keep', got {duplicates!r}")
    allf = "all files"
    labels = [label for label, _ in streets]
    table = pa.concat_tables([t for _, t in streets]).unify_dictionaries()  # one chunk per file, not copied
    file_of = np.repeat(np.arange(len(streets), dtype=np.int64), [t.num_rows for _, t in streets])
    month = table.column("month").to_numpy().astype(np.int64)

    if window is not None:
        out = (month < window[0]) | (month > window[1])
        if out.any():
            report.add(
                allf,
                "outside_period",
                int(out.sum()),
                "excluded",
                f"rows dated outside {months[0]}..{months[1]} (in files named for months inside it)",
            )
            table, file_of, month = _keep(table, ~out), file_of[~out], month[~out]

    # duplicates: one hash of the ids; the work is then on the few repeated rows only
    cid = table.column("crime_id")
    outcome_codes = _codes(_one(table.column("street_outcome")))
    stems = [label.rsplit("/", 1)[-1].rsplit(":", 1)[-1].split(".")[0] for label in labels]
    dup = _repeated(
        cid,
        table.column("id_hash"),
        _mask(table.column("synthetic_id")),
        fast=len(set(stems)) == len(stems),  # synthetic ids are '<asb|row>-<file stem>-<line>'
    )
    if dup.any():
        pos = np.flatnonzero(dup)
        sub = pd.DataFrame(
            {
                "crime_id": cid.take(pa.array(pos)).to_pylist(),
                "month": month[pos],
                "source_file": [labels[i] for i in file_of[pos]],
                "source_line": table.column("source_line").to_numpy()[pos],
                "pos": pos,
            }
        ).sort_values(["crime_id", "month", "source_file", "source_line"], kind="stable")
        is_later = sub["crime_id"].duplicated(keep="first").to_numpy()
        later = np.sort(sub["pos"].to_numpy()[is_later])
        examples = describe_values(sub["crime_id"].str.slice(0, 12) + "...", 3)
        if duplicates == "merge":
            last = sub.drop_duplicates("crime_id", keep="last").set_index("crime_id")["pos"]
            first = sub.drop_duplicates("crime_id", keep="first")
            outcome_codes[first["pos"].to_numpy()] = outcome_codes[first["crime_id"].map(last).to_numpy()]
            keep = np.ones(len(cid), dtype=bool)
            keep[later] = False
            table, file_of, month = _keep(table, keep), file_of[keep], month[keep]
            outcome_codes, cid = outcome_codes[keep], table.column("crime_id")
            action = "merged: first (earliest) row kept with the latest outcome"
        else:
            rank = (sub.groupby("crime_id").cumcount() + 1).to_numpy()
            renamed = sub.assign(new=sub["crime_id"] + "#" + rank.astype(str)).loc[is_later].sort_values("pos")
            mask = np.zeros(len(cid), dtype=bool)
            mask[later] = True
            cid = pc.replace_with_mask(_one(cid), pa.array(mask), pa.array(renamed["new"].tolist(), cid.type))
            action = "kept; ids made unique with '#2', '#3' suffixes"
        report.add(
            allf,
            "duplicate_crime_id",
            len(later),
            action,
            f"{len(later):,} extra rows repeat a Crime ID already read (the same crime published in more "
            f"than one month), e.g. {examples}",
        )
    street_outcome = _one(table.column("street_outcome"))
    street_outcome = _dictionary(outcome_codes, street_outcome.dictionary.to_pylist(), pa.large_string())

    # months missing, per force (in order of appearance; rows with no force last)
    force = _one(table.column("force"))
    force_codes, force_names = _codes(force), force.dictionary.to_pylist()
    low = int(month.min()) if len(month) else 0
    for code in [c for c in range(len(force_names)) if (force_codes == c).any()] + [-1]:
        got = np.flatnonzero(np.bincount(month[force_codes == code] - low)) + low  # the months present, sorted
        if not len(got):
            continue
        label = force_names[code] if code >= 0 else "force not stated"
        first, last = _month_text(int(got[0])), _month_text(int(got[-1]))
        missing = sorted(set(range(int(got[0]), int(got[-1]) + 1)) - set(got.tolist()))
        if missing:
            report.add(
                allf,
                "months_missing",
                len(missing),
                "gap in the series",
                f"{label}: no rows for {_runs(missing)} within {first}..{last}",
            )
        else:
            report.add(
                allf,
                "months_missing",
                0,
                "none",
                f"{label}: {int(got[-1] - got[0]) + 1} consecutive months {first}..{last}",
            )

    # LSOA vintage (on the distinct codes, spread to files by code)
    area = _one(table.column("area_code"))
    area_codes, area_words = _codes(area), area.dictionary.to_pylist()
    has_area = area_codes >= 0
    used = np.flatnonzero(np.bincount(area_codes[has_area], minlength=len(area_words)))
    distinct_codes = [area_words[i] for i in used]
    is21 = np.zeros(len(area_words) + 1, dtype=bool)
    is21[used] = lsoa_vintage(distinct_codes, lsoa2011).eq("2021").to_numpy()
    how = (
        "checked against the given LSOA 2011 code list"
        if lsoa2011 is not None
        else ("checked by code range: E01000001-E01033768 and W01000001-W01001958 are 2011 codes")
    )
    rows21 = np.bincount(file_of[has_area & is21[area_codes]], minlength=len(streets))
    with_area = np.bincount(file_of[has_area], minlength=len(streets)) > 0
    file_vintages = {}
    for i in np.flatnonzero(with_area):
        file_vintages[labels[i]] = "2021" if rows21[i] else "2011"
        if rows21[i]:
            report.add(
                labels[i], "lsoa_2021_codes", int(rows21[i]), "kept", f"rows with LSOA codes new in 2021 ({how})"
            )
    distinct = set(file_vintages.values())
    n_codes21 = int(is21.sum())
    report.add(
        allf,
        "lsoa_vintage",
        len(distinct_codes),
        "checked",
        f"{len(distinct_codes):,} distinct LSOA codes, {len(distinct_codes) - n_codes21:,} valid 2011 codes and "
        f"{n_codes21:,} new 2021 codes; vintage {'/'.join(sorted(distinct)) or 'unknown'} ({how})",
    )
    if len(distinct) > 1:
        late = sorted(k for k, v in file_vintages.items() if v == "2021")
        report.add(
            allf,
            "mixed_lsoa_vintage",
            len(late),
            "kept; check the lookup used",
            f"some files use LSOA 2021 codes and others 2011 codes, e.g. {describe_values(late, 3)}",
        )

    # outcomes: the latest outcome of each Crime ID from the outcomes files
    outcome = street_outcome.dictionary_decode()
    outcome_month = np.full(len(cid), -1, dtype=np.int64)
    if outcome_tables:
        outs = pa.concat_tables([t for _, t in outcome_tables])
        outs = pd.DataFrame(
            {
                "crime_id": outs.column("crime_id").to_pylist(),
                "month": outs.column("month").to_numpy(),
                "outcome": outs.column("outcome").to_pylist(),
                "source_file": np.repeat([lb for lb, _ in outcome_tables], [t.num_rows for _, t in outcome_tables]),
                "source_line": outs.column("source_line").to_numpy(),
            }
        ).sort_values(["crime_id", "month", "source_file", "source_line"], kind="stable")
        latest = outs.drop_duplicates("crime_id", keep="last")
        latest_ids = pa.array(latest["crime_id"].tolist(), cid.type)
        base = pc.replace_substring_regex(cid, r"#\d+$", "") if duplicates == "keep" else cid
        where = pc.index_in(base, value_set=latest_ids)
        hit = _mask(pc.is_valid(where))
        at = pc.fill_null(where, 0).to_numpy()[hit]
        outcome = pc.replace_with_mask(
            outcome, pa.array(hit), pa.array(latest["outcome"].to_numpy()[at].tolist(), outcome.type)
        )
        outcome_month[hit] = latest["month"].to_numpy()[at]
        unmatched = int((~_mask(pc.is_in(latest_ids, value_set=base))).sum())
        report.add(
            allf,
            "outcomes_joined",
            int(hit.sum()),
            "outcome and outcome_month from outcomes files",
            f"crimes with an outcome row ({len(outs):,} outcome rows, latest per Crime ID)",
        )
        if unmatched:
            report.add(
                allf,
                "outcomes_unmatched",
                unmatched,
                "not used",
                "Crime IDs in the outcomes files with no street row (crimes of months not read)",
            )
    else:
        report.add(
            allf,
            "outcomes_joined",
            0,
            "none",
            "no -outcomes.csv files: outcome is the street file's last outcome category, with no date",
        )

    # areas: the district of each LSOA, looked up once per distinct code
    if areas is not None:
        missing_cols = [c for c in ("area_code", "district_code") if c not in areas.columns]
        if missing_cols:
            raise ValueError(f"areas must have columns 'area_code' and 'district_code'; it lacks {missing_cols}")
        lookup = dict(zip(areas["area_code"], areas["district_code"], strict=True))
        per_word = [lookup.get(w) for w in area_words]
        district_codes = np.array([i if d is not None else -1 for i, d in enumerate(per_word)] + [-1])[area_codes]
        district = _dictionary(district_codes, [str(d) if d is not None else "" for d in per_word]).dictionary_decode()
        outside = has_area & (district_codes < 0)
        outside_codes = [area_words[i] for i in pd.unique(area_codes[outside])]
        report.add(
            allf,
            "outside_area",
            int(outside.sum()),
            "kept; district_code missing",
            f"rows whose LSOA is not one of the {len(lookup):,} LSOAs of the area "
            f"({len(outside_codes):,} such LSOAs, e.g. {describe_values(outside_codes, 3)})",
        )
    else:
        district = pa.nulls(len(cid), pa.string())

    report.add(allf, "rows_kept", len(cid), "kept", "rows in the crimes table")
    text = pa.large_string()  # how pandas keeps its str columns: the cached table converts without a copy
    return pa.table(
        {
            "crime_id": cid.cast(text),
            "month": pa.array(month, pa.int32()),
            "area_code": area.dictionary_decode().cast(text),
            "district_code": district.cast(text),
            "crime_type": _tidy(_one(table.column("crime_type")), CRIME_TYPES),
            "outcome": outcome.cast(text),
            "outcome_month": pa.array(outcome_month, pa.int32(), mask=outcome_month < 0),
            "longitude": table.column("longitude"),
            "latitude": table.column("latitude"),
            "location": _tidy(_one(table.column("location"))),
            "lsoa_name": _tidy(_one(table.column("lsoa_name"))),
            "context": table.column("context").cast(text),
            "force": _tidy(force),
            "source_file": _tidy(_dictionary(file_of, labels), sort=False),
            "source_line": table.column("source_line"),
        }
    )


# --------------------------------------------------------------------------------------------------
# The canonical table
# --------------------------------------------------------------------------------------------------

_STR = pd.Series([], dtype="str").dtype


def _text(values: pa.Array | pa.ChunkedArray) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """An Arrow string array as the pandas ``str`` dtype (zero-copy where pandas stores strings in Arrow)."""
    if pa.types.is_dictionary(values.type):
        values = _one(values).dictionary_decode()
    if values.type != pa.large_string():
        values = values.cast(pa.large_string())
    if getattr(_STR, "storage", None) == "pyarrow":
        return pd.arrays.ArrowStringArray(values, dtype=_STR)
    return pd.array(values.to_numpy(zero_copy_only=False), dtype=_STR)


def _categorical(values: pa.Array | pa.ChunkedArray) -> pd.Categorical:
    """A dictionary column as a pandas Categorical. The chunks of a column read from the cache share one
    dictionary (the Arrow IPC file format has one per column), so their indices are simply joined."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    if not chunks:
        chunks = [pa.array([], values.type)]
    dictionary = chunks[0].dictionary
    if all(c.dictionary.equals(dictionary) for c in chunks[1:]):
        indices = pa.chunked_array([c.indices for c in chunks], chunks[0].indices.type)
    else:
        joined = _one(values)
        dictionary, indices = joined.dictionary, pa.chunked_array([joined.indices])
    if indices.null_count:
        indices = pc.fill_null(indices, -1)
    codes = indices.to_numpy().astype(_code_width(len(dictionary)))  # astype copies: writable
    if getattr(_STR, "storage", None) == "pyarrow":
        categories = pd.Index(pd.arrays.ArrowStringArray(dictionary.cast(pa.large_string()), dtype=_STR))
    else:
        categories = pd.Index(dictionary.to_pylist(), dtype=_STR)
    return pd.Categorical.from_codes(codes, categories=categories, validate=False)


def _numbers(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A writable NumPy copy (floats: NaN for null)."""
    out = values.to_numpy() if isinstance(values, pa.ChunkedArray) else values.to_numpy(zero_copy_only=False)
    return out if out.flags.writeable else out.copy()


def _group_codes() -> np.ndarray:
    """Code of each crime type's group in CRIME_GROUPS (police.uk has no flags), with -1 for no type."""
    groups = crime_group_for(pd.Series(list(CRIME_TYPES))).astype(object)
    return np.array([list(CRIME_GROUPS).index(g) for g in groups] + [-1], dtype=np.int8)


_GROUP_CODES = _group_codes()


def _canonical(table: pa.Table) -> pd.DataFrame:
    """The finished Arrow table (from :func:`_assemble` or the cache) as the canonical ``crimes`` DataFrame."""
    n = table.num_rows
    month = _one(table.column("month")).to_numpy().astype(np.int64)  # astype copies: writable
    crime_type = _categorical(table.column("crime_type"))
    outcome_month = table.column("outcome_month")
    if outcome_month.null_count == n:  # no outcomes files
        out_month = pd.arrays.PeriodArray(np.full(n, np.iinfo(np.int64).min), dtype=pd.PeriodDtype("M"))
        to_outcome = pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool))
    else:
        ordinal = pc.fill_null(outcome_month, -1).to_numpy().astype(np.int64)
        has = ordinal >= 0
        nat = np.iinfo(np.int64).min  # the ordinal pandas uses for NaT
        out_month = pd.arrays.PeriodArray(np.where(has, ordinal, nat), dtype=pd.PeriodDtype("M"))
        to_outcome = pd.arrays.IntegerArray(np.where(has, ordinal - month, 0), ~has)

    def flags() -> pd.arrays.BooleanArray:
        return pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))

    def missing(categories: tuple[str, ...]) -> pd.Categorical:
        return pd.Categorical.from_codes(np.full(n, -1, dtype=np.int8), categories=list(categories))

    columns = {
        "crime_id": _text(table.column("crime_id")),
        "month": pd.arrays.PeriodArray(month, dtype=pd.PeriodDtype("M")),
        "area_code": _text(table.column("area_code")),
        "district_code": _text(table.column("district_code")),
        "crime_type": crime_type,
        "crime_group": pd.Categorical.from_codes(
            _GROUP_CODES[crime_type.codes], categories=list(CRIME_GROUPS), validate=False
        ),
        "is_domestic_abuse": flags(),
        "is_hate": flags(),
        "is_repeat_victim": flags(),
        "victim_identified": flags(),
        "victim_sex": missing(VICTIM_SEXES),
        "victim_age_band": missing(VICTIM_AGE_BANDS),
        "victim_ethnicity": missing(ETHNICITIES),
        "needs_assessment_done": flags(),
        "need_identified": flags(),
        "consent_to_refer": flags(),
        "outcome": _text(table.column("outcome")),
        "outcome_month": out_month,
        "months_to_outcome": to_outcome,
        "longitude": _numbers(table.column("longitude")),
        "latitude": _numbers(table.column("latitude")),
        "location": _categorical(table.column("location")),
        "lsoa_name": _categorical(table.column("lsoa_name")),
        "context": _text(table.column("context")),
        "force": _categorical(table.column("force")),
        "source_file": _categorical(table.column("source_file")),
        "source_line": _numbers(table.column("source_line")),
    }
    return pd.DataFrame(columns, index=pd.RangeIndex(n), copy=False)
