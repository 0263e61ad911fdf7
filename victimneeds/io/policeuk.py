"""Read data.police.uk street-level crime (and outcomes) files into the canonical ``crimes`` table.

data.police.uk publishes one CSV per force and month: ``YYYY-MM/YYYY-MM-<force>-street.csv`` (one
row per crime or anti-social behaviour incident, located to a snap point and its LSOA) and, where the
force supplies them, ``YYYY-MM-<force>-outcomes.csv`` (one row per outcome recorded that month, for
crimes of that or earlier months). :func:`read_policeuk` reads any mix of folders, single files,
gzip copies and the bulk zip archive, checks every row and says what it found in a data-quality
report.

How it is fast: each file is parsed with ``pyarrow.csv`` in a thread pool (one file per thread), and
the parsed, checked file is cached as Parquet. The cache key is the SHA-256 of the file's bytes (for
a member of a zip archive: of its name, CRC-32 and size as the archive records them), with the file's
base name and the parser version; a file edited in place therefore gets a new key and is re-read.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import threading
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

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
)

__all__ = [
    "STREET_COLUMNS",
    "OUTCOME_COLUMNS",
    "UK_BOUNDS",
    "PoliceUKData",
    "read_policeuk",
    "lsoa_vintage",
    "default_cache_dir",
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

_CACHE_VERSION = "1"
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
    stat_key: str = ""  # path, size and modification time: a cheap key for the whole-result cache

    @property
    def stem(self) -> str:
        name = self.label.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        for suffix in (".gz", ".csv"):
            name = name.removesuffix(suffix)
        return name


def _classify(name: str) -> tuple[str, str | None, str | None]:
    base = name.rsplit("/", 1)[-1]
    m = _NAME_RE.match(base)
    if not m:
        return "unknown", None, None
    return m["kind"], m["month"], m["force"]


def _file_member(path: Path, label: str) -> _Member:
    kind, month, force = _classify(path.name)
    return _Member(label, kind, month, force, path.read_bytes, path.name.endswith(".gz"),
                   stat_key=_quick_key(path))


def _quick_key(path: Path, sample: int = 65536) -> str:
    """Path, size, modification time and a hash of the first and last 64 KB: cheap, and it changes when the
    file does (two writes within one clock tick of the same size still differ in their bytes)."""
    st = path.stat()
    h = hashlib.sha256()
    with path.open("rb") as handle:
        h.update(handle.read(sample))
        if st.st_size > sample:
            handle.seek(max(sample, st.st_size - sample))
            h.update(handle.read(sample))
    return f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}:{h.hexdigest()[:16]}"


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
            _Member(f"{path.name}:{info.filename}", kind, month, force, load, info.filename.endswith(".gz"), key,
                    stat_key=f"{path.resolve()}|{key}")
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
            found = sorted(p for p in path.rglob("*") if p.is_file() and re.search(r"\.(csv|csv\.gz|zip)$", p.name))
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


def _decompress(member: _Member, data: bytes) -> bytes:
    if not member.gz:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
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


def _parse_street(member: _Member, raw: bytes) -> tuple[pa.Table, list[dict[str, object]]]:
    table, lines, report = _parse_csv(member, raw, _STREET_REQUIRED, "a police.uk street-level crime file")
    src = member.label
    n = table.num_rows
    report.add(
        src,
        "rows_read",
        n + int(sum(r["count"] for r in report.rows)),
        "read",
        f"records in the file (month {member.month or 'from rows'})",
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
    lines = lines[np.asarray(keep.to_numpy(zero_copy_only=False), dtype=bool)]
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
    if pc.any(missing_loc).as_py():
        report.add(
            src,
            "no_location",
            int(pc.sum(missing_loc).as_py()),
            "kept",
            "rows without longitude/latitude (kept; no coordinates)",
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
    no_lsoa = pc.is_null(lsoa)
    if pc.any(no_lsoa).as_py():
        report.add(
            src, "no_lsoa", int(pc.sum(no_lsoa).as_py()), "kept", "rows without an LSOA code (kept; area_code missing)"
        )
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

    # ids
    cid = pc.utf8_trim_whitespace(_col(table, "Crime ID"))
    is_asb = pc.equal(ctype, "Anti-social behaviour")
    no_id = pc.is_null(cid)
    line_text = pa.array(lines.astype(str))
    n_asb = int(pc.sum(is_asb).as_py() or 0)
    if n_asb:
        report.add(src, "asb_rows", n_asb, "kept", "anti-social behaviour incidents (no Crime ID or outcome)")
    synth_asb = pc.binary_join_element_wise(pa.scalar(f"asb-{member.stem}"), line_text, "-")
    synth_row = pc.binary_join_element_wise(pa.scalar(f"row-{member.stem}"), line_text, "-")
    noid_crime = pc.and_(no_id, pc.invert(is_asb))
    if pc.any(noid_crime).as_py():
        nl = _lines_where(noid_crime, lines)
        report.add(
            src,
            "no_crime_id",
            len(nl),
            "kept with a synthetic id 'row-<file>-<line>'",
            f"crimes (not ASB) without a Crime ID on {describe_lines(nl)}",
        )
    cid = pc.coalesce(cid, pc.if_else(is_asb, synth_asb, synth_row))

    out = pa.table(
        {
            "crime_id": cid,
            "month": month,
            "area_code": lsoa,
            "lsoa_name": _col(table, "LSOA name"),
            "crime_type": ctype,
            "street_outcome": _col(table, "Last outcome category"),
            "longitude": lon,
            "latitude": lat,
            "location": _col(table, "Location"),
            "context": _col(table, "Context"),
            "force": _col(table, "Falls within"),
            "reported_by": _col(table, "Reported by"),
            "source_line": pa.array(lines, pa.int64()),
        }
    )
    return out, report.rows


def _parse_outcomes(member: _Member, raw: bytes) -> tuple[pa.Table, list[dict[str, object]]]:
    table, lines, report = _parse_csv(member, raw, _OUTCOME_REQUIRED, "a police.uk outcomes file")
    src = member.label
    report.add(
        src,
        "rows_read",
        table.num_rows + int(sum(r["count"] for r in report.rows)),
        "read",
        "outcome records in the file",
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
            "crime_id": pc.filter(cid, keep),
            "month": pc.filter(month, keep),
            "outcome": pc.filter(outcome, keep),
            "source_line": pa.array(lines[np.asarray(keep.to_numpy(zero_copy_only=False), dtype=bool)], pa.int64()),
        }
    )
    return out, report.rows


# --------------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------------


def _cache_key(member: _Member, data: bytes | None) -> str:
    h = hashlib.sha256()
    h.update(f"policeuk-v{_CACHE_VERSION}|{member.kind}|{member.stem}|".encode())
    if member.zip_key is not None:
        h.update(member.zip_key.encode())
    else:
        h.update(hashlib.sha256(data or b"").digest())
    return h.hexdigest()[:40]


def _read_member(member: _Member, cache: Path | None) -> tuple[pa.Table, list[dict[str, object]], bool]:
    """Parse one file (or load it from the cache). Returns table, report rows, cache hit."""
    data = None if member.zip_key is not None else member.load()
    if cache is not None:
        key = _cache_key(member, data)
        tpath, jpath = cache / f"{key}.parquet", cache / f"{key}.json"
        if tpath.is_file() and jpath.is_file():
            try:
                rows = json.loads(jpath.read_text(encoding="utf-8"))
                return pq.read_table(tpath), rows, True
            except (OSError, ValueError, pa.ArrowException):
                pass  # a damaged cache entry: parse again and overwrite it
    if data is None:
        data = member.load()
    raw = _decompress(member, data)
    parse = _parse_outcomes if member.kind == "outcomes" else _parse_street
    table, rows = parse(member, raw)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = f".tmp-{os.getpid()}-{threading.get_ident()}"
        pq.write_table(table, str(tpath) + tmp, compression="lz4")
        os.replace(str(tpath) + tmp, tpath)
        Path(str(jpath) + tmp).write_text(json.dumps(rows), encoding="utf-8")
        os.replace(str(jpath) + tmp, jpath)
    return table, rows, False


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


def _month_range(first: pd.Period, last: pd.Period) -> pd.PeriodIndex:
    return pd.period_range(first, last, freq="M")


def _periods(values: pd.Series) -> pd.Series:
    """'YYYY-MM' strings to Period[M], converting each distinct value once."""
    cat = values.astype("category")
    cats = pd.PeriodIndex(list(cat.cat.categories), freq="M")
    codes = cat.cat.codes.to_numpy()
    out = pd.Series(pd.array(cats[codes] if len(codes) else cats[:0], dtype="period[M]"), index=values.index)
    return out.where(codes >= 0)


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
    cache_dir : folder for the Parquet cache; None uses :func:`default_cache_dir`; False disables it.
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

    result_key = None
    if cache is not None:
        result_key = _result_key(chosen, force, months, areas, lsoa2011, duplicates)
        cached = _load_result(cache, result_key)
        if cached is not None:
            return cached

    workers = max_workers or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_read_member, m, cache) for m in chosen]
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

    street_tables, outcome_tables = [], []
    for m, table, rows, _hit in results:
        report.extend(rows)
        labelled = table.append_column("source_file", pa.array([m.label] * table.num_rows, pa.string()))
        (outcome_tables if m.kind == "outcomes" else street_tables).append(labelled)

    crimes = _to_pandas(pa.concat_tables(street_tables))
    crimes = _finish(crimes, outcome_tables, report, window, months, areas, lsoa2011, duplicates)
    result = PoliceUKData(crimes, report.frame())
    if cache is not None and result_key is not None:
        _save_result(cache, result_key, result)
    return result


# The whole-result cache: a second read of the same files with the same arguments skips parsing, checking
# and building the table, and loads the finished crimes table and report from Parquet. Files are keyed by
# path, size and modification time (cheap to check); the per-file cache below it is keyed by content.


def _result_key(
    chosen: list[_Member],
    force: str | None,
    months: tuple[str, str] | None,
    areas: pd.DataFrame | None,
    lsoa2011: Collection[str] | None,
    duplicates: str,
) -> str:
    h = hashlib.sha256()
    h.update(f"policeuk-result-v{_CACHE_VERSION}|{force}|{months}|{duplicates}|".encode())
    for m in sorted(chosen, key=lambda m: m.label):
        h.update(f"{m.label}|{m.stat_key}|".encode())
    if areas is not None:
        cols = [c for c in ("area_code", "district_code") if c in areas.columns]
        h.update(pd.util.hash_pandas_object(pd.DataFrame(areas[cols]), index=False).to_numpy().tobytes())
    if lsoa2011 is not None:
        h.update("|".join(sorted(lsoa2011)).encode())
    return h.hexdigest()[:40]


def _load_result(cache: Path, key: str) -> PoliceUKData | None:
    crimes_path, report_path = cache / f"result-{key}.parquet", cache / f"result-{key}-report.parquet"
    if not (crimes_path.is_file() and report_path.is_file()):
        return None
    try:
        return PoliceUKData(pd.read_parquet(crimes_path), pd.read_parquet(report_path))
    except (OSError, ValueError, pa.ArrowException):
        return None  # a damaged entry: read the files again


def _save_result(cache: Path, key: str, result: PoliceUKData) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    tmp = f".tmp-{os.getpid()}-{threading.get_ident()}"
    for frame, path in ((result.crimes, cache / f"result-{key}.parquet"),
                        (result.report, cache / f"result-{key}-report.parquet")):
        frame.to_parquet(str(path) + tmp, compression="lz4", index=True)
        os.replace(str(path) + tmp, path)


_DICT_COLUMNS = ("month", "crime_type", "location", "lsoa_name", "force", "reported_by", "source_file")


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas, with the repetitive text columns dictionary-encoded (pandas categoricals)."""
    for name in _DICT_COLUMNS:
        if name in table.column_names:
            i = table.column_names.index(name)
            table = table.set_column(i, name, pc.dictionary_encode(table.column(name)))
    return table.to_pandas()


def _finish(
    crimes: pd.DataFrame,
    outcome_tables: list[pa.Table],
    report: Report,
    window: tuple[pd.Period, pd.Period] | None,
    months: tuple[str, str] | None,
    areas: pd.DataFrame | None,
    lsoa2011: Collection[str] | None,
    duplicates: str,
) -> pd.DataFrame:
    allf = "all files"
    crimes["month"] = _periods(crimes["month"])
    if window is not None:
        out = ~crimes["month"].between(window[0], window[1])
        if out.any():
            report.add(
                allf,
                "outside_period",
                int(out.sum()),
                "excluded",
                f"rows dated outside {months[0]}..{months[1]} (in files named for months inside it)",
            )
            crimes = crimes.loc[~out].reset_index(drop=True)

    # duplicates (one factorize; the work is then on the few repeated rows only)
    codes, _ = pd.factorize(crimes["crime_id"])
    dup = np.bincount(codes)[codes] > 1
    if dup.any():
        sub = crimes.loc[dup, ["crime_id", "month", "source_file", "source_line", "street_outcome"]]
        sub = sub.sort_values(["crime_id", "month", "source_file", "source_line"], kind="stable")
        later = sub.index[sub["crime_id"].duplicated(keep="first").to_numpy()]
        n_extra = len(later)
        examples = describe_values(sub["crime_id"].str.slice(0, 12) + "...", 3)
        if duplicates == "merge":
            latest = sub.drop_duplicates("crime_id", keep="last").set_index("crime_id")["street_outcome"]
            first = sub.drop_duplicates("crime_id", keep="first")
            crimes.loc[first.index, "street_outcome"] = first["crime_id"].map(latest).to_numpy()
            crimes = crimes.drop(index=later).reset_index(drop=True)
            action = "merged: first (earliest) row kept with the latest outcome"
        elif duplicates == "keep":
            rank = sub.groupby("crime_id").cumcount() + 1
            crimes.loc[later, "crime_id"] = (sub.loc[later, "crime_id"] + "#" + rank[later].astype(str)).to_numpy()
            action = "kept; ids made unique with '#2', '#3' suffixes"
        else:
            raise ValueError(f"duplicates must be 'merge' or 'keep', got {duplicates!r}")
        report.add(
            allf,
            "duplicate_crime_id",
            n_extra,
            action,
            f"{n_extra:,} extra rows repeat a Crime ID already read (the same crime published in more "
            f"than one month), e.g. {examples}",
        )

    # months missing
    if len(crimes):
        for force_name, got in crimes.groupby("force", dropna=False, observed=True)["month"]:
            present = set(got.dropna().unique())
            full = _month_range(min(present), max(present))
            missing = [p for p in full if p not in present]
            label = force_name if isinstance(force_name, str) else "force not stated"
            if missing:
                runs = _runs(missing)
                report.add(
                    allf,
                    "months_missing",
                    len(missing),
                    "gap in the series",
                    f"{label}: no rows for {runs} within {full[0]}..{full[-1]}",
                )
            else:
                report.add(
                    allf, "months_missing", 0, "none", f"{label}: {len(full)} consecutive months {full[0]}..{full[-1]}"
                )

    # LSOA vintage
    codes = crimes["area_code"].dropna().unique()
    vint = dict(zip(codes, lsoa_vintage(codes, lsoa2011), strict=True))
    how = (
        "checked against the given LSOA 2011 code list"
        if lsoa2011 is not None
        else ("checked by code range: E01000001-E01033768 and W01000001-W01001958 are 2011 codes")
    )
    pairs = crimes.loc[crimes["area_code"].notna(), ["source_file", "area_code"]]
    pairs = pairs.assign(is21=pairs["area_code"].map(vint).eq("2021").to_numpy())
    per_file = pairs.groupby("source_file", observed=True)["is21"].agg(["sum", "size"])
    file_vintages = {}
    for label, row in per_file.iterrows():
        file_vintages[label] = "2021" if row["sum"] else "2011"
        if row["sum"]:
            report.add(label, "lsoa_2021_codes", int(row["sum"]), "kept", f"rows with LSOA codes new in 2021 ({how})")
    distinct = {v for v in file_vintages.values() if v != "none"}
    n_codes21 = sum(1 for v in vint.values() if v == "2021")
    report.add(
        allf,
        "lsoa_vintage",
        len(codes),
        "checked",
        f"{len(codes):,} distinct LSOA codes, {len(codes) - n_codes21:,} valid 2011 codes and "
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

    # outcomes
    crimes["outcome"] = crimes["street_outcome"]
    crimes["outcome_month"] = pd.Series(pd.NA, index=crimes.index, dtype="period[M]")
    if outcome_tables:
        outs = pa.concat_tables(outcome_tables).to_pandas()
        outs["month"] = _periods(outs["month"])
        outs = outs.sort_values(["crime_id", "month", "source_file", "source_line"], kind="stable")
        last = outs.drop_duplicates("crime_id", keep="last").set_index("crime_id")
        base = crimes["crime_id"].str.replace(r"#\d+$", "", regex=True)
        hit = base.isin(last.index)
        crimes.loc[hit, "outcome"] = base[hit].map(last["outcome"]).to_numpy()
        crimes.loc[hit, "outcome_month"] = base[hit].map(last["month"]).to_numpy()
        unmatched = int((~last.index.isin(base)).sum())
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
    start = pd.PeriodIndex(crimes["month"], freq="M").asi8
    end = pd.PeriodIndex(crimes["outcome_month"], freq="M").asi8
    both = crimes["month"].notna().to_numpy() & crimes["outcome_month"].notna().to_numpy()
    gap = pd.array(np.where(both, end - start, 0), dtype="Int64")
    gap[~both] = pd.NA
    crimes["months_to_outcome"] = gap

    # areas
    if areas is not None:
        missing = [c for c in ("area_code", "district_code") if c not in areas.columns]
        if missing:
            raise ValueError(f"areas must have columns 'area_code' and 'district_code'; it lacks {missing}")
        lookup = dict(zip(areas["area_code"], areas["district_code"], strict=True))
        crimes["district_code"] = crimes["area_code"].map(lookup).astype("str")
        crimes.loc[crimes["area_code"].isna() | ~crimes["area_code"].isin(lookup.keys()), "district_code"] = None
        outside = crimes["area_code"].notna() & crimes["district_code"].isna()
        outside_codes = crimes.loc[outside, "area_code"].unique()
        report.add(
            allf,
            "outside_area",
            int(outside.sum()),
            "kept; district_code missing",
            f"rows whose LSOA is not one of the {len(lookup):,} LSOAs of the area "
            f"({len(outside_codes):,} such LSOAs, e.g. {describe_values(outside_codes, 3)})",
        )
    else:
        crimes["district_code"] = pd.Series(None, index=crimes.index, dtype="str")

    report.add(allf, "rows_kept", len(crimes), "kept", "rows in the crimes table")
    return _canonical(crimes)


def _runs(periods: list[pd.Period]) -> str:
    runs, start, prev = [], periods[0], periods[0]
    for p in periods[1:] + [None]:
        if p is not None and p.ordinal == prev.ordinal + 1:
            prev = p
            continue
        runs.append(str(start) if start == prev else f"{start}..{prev}")
        if p is not None:
            start = prev = p
    return ", ".join(runs)


def _groups(ctype: pd.Series) -> pd.Categorical:
    """crime_group_for on the 14 types once, spread to the rows by category code (police.uk has no flags)."""
    per_type = crime_group_for(pd.Series(list(CRIME_TYPES))).astype(object).to_numpy()
    codes = ctype.cat.codes.to_numpy()
    return pd.Categorical(per_type[codes], categories=list(CRIME_GROUPS))


def _canonical(crimes: pd.DataFrame) -> pd.DataFrame:
    n = len(crimes)
    ctype = pd.Series(pd.Categorical(crimes["crime_type"], categories=list(CRIME_TYPES)), index=crimes.index)
    na_flag = pd.array([pd.NA] * n, dtype="boolean")

    def na_cat(cats: tuple[str, ...]) -> pd.Categorical:
        return pd.Categorical([None] * n, categories=list(cats))

    out = pd.DataFrame(
        {
            "crime_id": crimes["crime_id"].astype("str"),
            "month": crimes["month"].astype("period[M]"),
            "area_code": crimes["area_code"].astype("str"),
            "district_code": crimes["district_code"].astype("str"),
            "crime_type": ctype,
            "crime_group": _groups(ctype),
            "is_domestic_abuse": na_flag,
            "is_hate": na_flag.copy(),
            "is_repeat_victim": na_flag.copy(),
            "victim_identified": na_flag.copy(),
            "victim_sex": na_cat(VICTIM_SEXES),
            "victim_age_band": na_cat(VICTIM_AGE_BANDS),
            "victim_ethnicity": na_cat(ETHNICITIES),
            "needs_assessment_done": na_flag.copy(),
            "need_identified": na_flag.copy(),
            "consent_to_refer": na_flag.copy(),
            "outcome": crimes["outcome"].astype("str"),
            "outcome_month": crimes["outcome_month"].astype("period[M]"),
            "months_to_outcome": crimes["months_to_outcome"],
            "longitude": crimes["longitude"].astype("float64"),
            "latitude": crimes["latitude"].astype("float64"),
            "location": crimes["location"].astype("category"),
            "lsoa_name": crimes["lsoa_name"].astype("category"),
            "context": crimes["context"].astype("str"),
            "force": crimes["force"].astype("category"),
            "source_file": crimes["source_file"].astype("category"),
            "source_line": crimes["source_line"].astype("int64"),
        },
        index=pd.RangeIndex(n),
    )
    return out
