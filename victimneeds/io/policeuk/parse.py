"""Parsing one police.uk file: the fast typed path, the careful row-by-row path, and the file's table."""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from isal import igzip

from victimneeds.datamodel import CRIME_TYPES
from victimneeds.io._report import (
    DataFileError,
    Report,
    check_columns,
    describe_lines,
    describe_values,
    first_bad_utf8_lines,
    read_header,
)
from victimneeds.io.policeuk.arrow import _codes, _encode, _mask, _one, _ordinals
from victimneeds.io.policeuk.files import _Member

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

_MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"
_NUMBER_RE = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_LSOA_RE = r"^[EW]01\d{6}$"


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
#: Only an empty field is missing. pyarrow's default would also read "NA", "N/A", "NULL", "null", "NaN",
#: "#N/A" ... as missing, so a location or an id spelt like that would silently become a blank.
_NULL_VALUES = [""]
_GZIP_ERRORS = (OSError, EOFError, ValueError, zlib.error)

#: The default largest size of one file once inflated (2 GiB): a month of the largest force (the Met) is
#: about 30 MB, so anything near this is not a police.uk file, and inflating it would exhaust memory.
MAX_FILE_BYTES = 2 * 1024**3


def _too_big(member: _Member, limit: int) -> DataFileError:
    return DataFileError(
        f"{member.label} holds more than {limit:,} bytes of text once inflated (the limit for one file, "
        "max_file_bytes): it is not a police.uk monthly file, or the limit is too low for it. "
        "Raise max_file_bytes if the file is genuine."
    )


def _decompress(member: _Member, data: bytes, limit: int = MAX_FILE_BYTES) -> bytes:
    """The file's text as bytes: ``data`` inflated when the file is gzip, at most ``limit`` bytes.

    The gzip is inflated a piece at a time and stops one byte past ``limit`` (a file that inflates to
    gigabytes raises :class:`DataFileError` naming it, not a bare ``MemoryError``).
    """
    if not member.gz:
        if len(data) > limit:
            raise _too_big(member, limit)
        return data
    try:
        with igzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
            raw = handle.read(limit + 1)
    except _GZIP_ERRORS as err:
        raise DataFileError(f"{member.label} is not a complete gzip file ({err}); it may be cut short.") from None
    except MemoryError:
        raise DataFileError(
            f"{member.label} ran out of memory while being inflated (the limit for one file, max_file_bytes, is "
            f"{limit:,} bytes): it is not a police.uk monthly file, or lower max_file_bytes to be told sooner."
        ) from None
    if len(raw) > limit:
        raise _too_big(member, limit)
    return raw


def _unix_line_ends(raw: bytes) -> bytes:
    """Lines ended by a carriage return alone (old Mac files, some spreadsheet exports) ended by a line feed.

    Only when the first line ends with a lone CR: other files are returned as they are, without a copy.
    """
    cr = raw.find(b"\r")
    if cr < 0 or raw[cr + 1 : cr + 2] == b"\n" or -1 < raw.find(b"\n") < cr:
        return raw
    return re.sub(rb"\r(?!\n)", b"\n", raw)


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
    try:  # before parsing: pyarrow's bad-row handler cannot report a short row that is not UTF-8 either
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DataFileError(
            f"{member.label} is not UTF-8 text: {describe_lines(first_bad_utf8_lines(raw))} hold bytes that are "
            "not UTF-8. police.uk files are UTF-8; the file may have been re-saved in another encoding."
        ) from None
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
                column_types=types,
                null_values=_NULL_VALUES,
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
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
    text: dict[str, pa.Array]  # lsoa_name, street_outcome, location, force, reported_by (dictionary), context
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
                column_types=_FAST_TYPES,
                null_values=_NULL_VALUES,
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowException:
        return None  # a short row, text that is not UTF-8, a coordinate that is not a number ...
    cols = {name: _one(table.column(name)) for name in table.column_names}
    month, ctype, lsoa = cols["Month"], cols["Crime type"], cols["LSOA code"]
    month_values = month.dictionary.to_pylist()
    # the same patterns (RE2: ASCII digits only) as the careful path, on each distinct value once
    if month.null_count or not pc.all(pc.match_substring_regex(month.dictionary, _MONTH_RE)).as_py():
        return None
    if member.month is not None and any(v != member.month for v in month_values):
        return None
    if ctype.null_count or not set(ctype.dictionary.to_pylist()) <= set(CRIME_TYPES):
        return None
    if not pc.all(pc.match_substring_regex(lsoa.dictionary, _LSOA_RE)).as_py():
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
            "reported_by": cols["Reported by"],
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
            "reported_by": _encode(_col(table, "Reported by")),
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
            "reported_by": text["reported_by"],
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
            "reported_by": _encode(pc.filter(_col(table, "Reported by"), keep)),
            "source_line": pa.array(lines[_mask(keep)], pa.int64()),
        }
    )
    return out, report.rows


def _months_held(table: pa.Table) -> frozenset[tuple[str, int]]:
    """The (force that reported them, month ordinal) pairs of a file's rows: what the file holds, whatever its name."""
    supplier = _one(table.column("reported_by"))
    codes = _codes(supplier) if isinstance(supplier, pa.DictionaryArray) else np.zeros(table.num_rows, np.int64)
    names = supplier.dictionary.to_pylist() if isinstance(supplier, pa.DictionaryArray) else []
    month = table.column("month").to_numpy().astype(np.int64)
    if not len(month):
        return frozenset()
    low = int(month.min())
    span = int(month.max()) - low + 1
    pairs = np.unique((codes + 1) * span + (month - low))  # one number per (force, month)
    supplier, offset = np.divmod(pairs, span)
    return frozenset((names[c - 1] if c > 0 else "", low + int(m)) for c, m in zip(supplier, offset, strict=True))


def _read_member(
    member: _Member, max_file_bytes: int = MAX_FILE_BYTES
) -> tuple[pa.Table, list[dict[str, object]], frozenset[tuple[str, int]]]:
    """Read, inflate and parse one file: its table, its report rows and the months it holds (:func:`_months_held`)."""
    size = member.stored_size()
    if size is not None and size > max_file_bytes:  # refused before it is read into memory
        raise _too_big(member, max_file_bytes)
    raw = _unix_line_ends(_decompress(member, member.load(), max_file_bytes))
    parse = _parse_outcomes if member.kind == "outcomes" else _parse_street
    table, rows = parse(member, raw)
    return table, rows, _months_held(table)
