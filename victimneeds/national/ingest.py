"""Reading a national police.uk archive, file by file, into a partitioned Parquet dataset."""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Collection, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from victimneeds.io._report import DataFileError, Report
from victimneeds.io.policeuk.arrow import _month_text
from victimneeds.io.policeuk.files import _discover, _Member
from victimneeds.io.policeuk.parse import MAX_FILE_BYTES, _read_member

#: The manifest kept at the top of the dataset: one entry per source file read.
MANIFEST = "_ingested.json"
_MANIFEST_VERSION = 1

#: The columns of every Parquet file (besides the hive partitions ``force`` and ``year``).
DATASET_SCHEMA = pa.schema(
    [
        ("crime_id", pa.string()),
        ("month", pa.date32()),
        ("area_code", pa.string()),
        ("lsoa_name", pa.string()),
        ("crime_type", pa.string()),
        ("outcome", pa.string()),
        ("longitude", pa.float64()),
        ("latitude", pa.float64()),
        ("location", pa.string()),
        ("context", pa.string()),
        ("force_name", pa.string()),
        ("reported_by", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
    ]
)


@dataclass
class IngestResult:
    """What :func:`ingest` did.

    Attributes
    ----------
    dataset : the dataset folder.
    files : one row per source file: ``source_file, force, action`` ("read", "unchanged", "duplicate_file",
        "skipped"), ``rows_read, rows_kept`` and ``bytes``.
    report : the data-quality report of the files read by this run (the columns of
        :func:`victimneeds.io.read_policeuk`'s report: ``source, check, count, action, detail``).
    """

    dataset: Path
    files: pd.DataFrame
    report: pd.DataFrame

    @property
    def read(self) -> list[str]:
        """The source files read (new or changed) by this run."""
        return self.files.loc[self.files["action"] == "read", "source_file"].tolist()

    def summary(self) -> str:
        """A few lines for a person: files read, unchanged and skipped; rows read and kept."""
        counts = self.files["action"].value_counts()
        read = self.files[self.files["action"] == "read"]
        return (
            f"{self.dataset}: {int(counts.get('read', 0))} files read ({int(read['rows_read'].sum()):,} rows read, "
            f"{int(read['rows_kept'].sum()):,} kept), {int(counts.get('unchanged', 0))} unchanged, "
            f"{int(counts.get('duplicate_file', 0)) + int(counts.get('skipped', 0))} skipped."
        )

    def __str__(self) -> str:
        return self.summary()


def _logical_name(member: _Member) -> str:
    """The file's name inside its archive or folder (``2022-11/2022-11-leicestershire-street.csv``): the same
    file in next month's archive has the same name, so a new archive replaces only what changed."""
    return member.label.split(":", 1)[1] if ":" in member.label and member.path is None else member.label


def _stamp(member: _Member) -> list[object]:
    """What says a file is unchanged without reading it: a zip member's name, CRC-32 and size from the
    archive's directory; a plain file's size and modification time."""
    if member.zip_key is not None:
        return [member.zip_key]
    st = member.path.stat()
    return [st.st_size, st.st_mtime_ns]


def _load_manifest(dataset: Path) -> dict:
    path = dataset / MANIFEST
    if not path.is_file():
        return {"version": _MANIFEST_VERSION, "files": {}}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise DataFileError(
            f"{path} is damaged ({err}); delete the dataset folder {dataset} and ingest again."
        ) from None
    if manifest.get("version") != _MANIFEST_VERSION:
        raise DataFileError(f"{path} was written by another version of victimneeds; delete {dataset} and ingest again.")
    return manifest


def _save_manifest(dataset: Path, manifest: dict) -> None:
    tmp = dataset / f"{MANIFEST}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(manifest), encoding="utf-8")
    os.replace(tmp, dataset / MANIFEST)


def _partition_value(text: str) -> str:
    """A force slug safe as a hive partition value (no ``/``, ``=`` or spaces)."""
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text) or "unknown"


def _dataset_table(table: pa.Table, name: str) -> pa.Table:
    """A file's table from :func:`~victimneeds.io.policeuk.parse._read_member` in the dataset's schema."""
    ordinals = table.column("month").to_numpy().astype("int64")
    years, months = 1970 + ordinals // 12, ordinals % 12 + 1
    dates = pd.to_datetime(pd.DataFrame({"year": years, "month": months, "day": 1})).to_numpy().astype("datetime64[D]")

    def text(column: str) -> pa.Array:
        values = table.column(column)
        if pa.types.is_dictionary(values.type):
            values = values.cast(values.type.value_type)
        return pc.cast(values, pa.string())

    return pa.table(
        {
            "crime_id": text("crime_id"),
            "month": pa.array(dates, pa.date32()),
            "area_code": text("area_code"),
            "lsoa_name": text("lsoa_name"),
            "crime_type": text("crime_type"),
            "outcome": text("street_outcome"),
            "longitude": table.column("longitude"),
            "latitude": table.column("latitude"),
            "location": text("location"),
            "context": text("context"),
            "force_name": text("force"),
            "reported_by": text("reported_by"),
            "source_file": pa.array([name] * table.num_rows, pa.string()).dictionary_encode().cast(pa.string()),
            "source_line": table.column("source_line"),
        },
        schema=DATASET_SCHEMA,
    )


def _write_partitions(dataset: Path, slug: str, name: str, table: pa.Table, taken: Collection[str] = ()) -> list[str]:
    """Write the file's rows under ``force=<slug>/year=<YYYY>/<file>.parquet`` (one file per year its rows
    hold, normally one); returns the paths written, relative to the dataset. Where another source file already
    wrote a path (two files of the same name in different folders), the name gets a hash of the source's."""
    stem = Path(name).name.removesuffix(".gz").removesuffix(".csv")
    if any(p.rsplit("/", 1)[-1] == f"{stem}.parquet" for p in taken):
        stem = f"{stem}-{xxhash.xxh3_64_hexdigest(name.encode())[:8]}"
    year = pc.year(table.column("month")).to_numpy(zero_copy_only=False)
    written = []
    for y in sorted(set(year.tolist())) or [None]:
        part = table if y is None else table.filter(pa.array(year == y))
        where = Path(f"force={slug}") / f"year={y if y is not None else 'unknown'}" / f"{stem}.parquet"
        target = dataset / where
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
        pq.write_table(part, tmp, compression="zstd", row_group_size=1 << 20)
        os.replace(tmp, target)
        written.append(where.as_posix())
    return written


def _members(source: str | os.PathLike | Iterable[str | os.PathLike]) -> list[_Member]:
    """The files found, one per name: where two archives hold the same file (``2022-11/...``), the later one
    (archives sort by month) is the one read, as it carries police.uk's latest revision."""
    chosen: dict[str, _Member] = {}
    for m in _discover(source):
        chosen[_logical_name(m)] = m
    return list(chosen.values())


def _parsed(
    todo: list[tuple[str, _Member, list[object]]], max_file_bytes: int, workers: int
) -> Iterator[tuple[tuple[str, _Member, list[object]], tuple | DataFileError]]:
    """Each file of ``todo`` with its parsed table (or the error naming it), in order, with at most ``workers``
    files being parsed at once."""

    def read(m: _Member) -> tuple | DataFileError:
        try:
            return _read_member(m, max_file_bytes)
        except DataFileError as err:
            return err

    if workers <= 1:
        for item in todo:
            yield item, read(item[1])
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        for item in todo:
            pending.append((item, pool.submit(read, item[1])))
            if len(pending) >= workers:
                item0, fut = pending.popleft()
                yield item0, fut.result()
        while pending:
            item0, fut = pending.popleft()
            yield item0, fut.result()


def ingest(
    source: str | os.PathLike | Iterable[str | os.PathLike],
    dataset_dir: str | os.PathLike,
    forces: Collection[str] | None = None,
    progress: bool = True,
    max_file_bytes: int = MAX_FILE_BYTES,
    workers: int = 1,
) -> IngestResult:
    """Read a national police.uk archive into a partitioned Parquet dataset, one file at a time.

    Each street file is read, checked and counted exactly as :func:`victimneeds.io.read_policeuk` reads it
    (the same parsing and row checks: malformed rows, months, crime types, coordinates, LSOA codes, missing
    ids), then written to ``dataset_dir/force=<force>/year=<YYYY>/<file>.parquet``. Only one file is in
    memory at a time, so the memory needed is that of the largest monthly file, whatever the number of files.
    A manifest (``_ingested.json``) keeps each file's stamp (a zip member's CRC-32 and size; a plain file's
    size and modification time), the Parquet files written and its report: a second run reads only the files
    that are new or changed (a new month, or a month police.uk revised).

    Files read earlier and absent from ``source`` stay in the dataset: ``source`` may be just next month's
    archive. To drop a force or a file, delete its Parquet files and its entry, or the dataset, and ingest again.

    Checks across files are left to the queries (:func:`victimneeds.national.aggregates`): Crime IDs
    published in more than one row are merged there as ``read_policeuk(duplicates="merge")`` merges them.

    Parameters
    ----------
    source : a bulk archive (``YYYY-MM.zip`` from data.police.uk), a folder of extracted files
        (``YYYY-MM/YYYY-MM-<force>-street.csv``, ``.csv.gz``) or of archives, one file, or a list of them.
        Where two archives hold the same file, the later archive's copy is read.
    dataset_dir : the dataset folder (created if missing).
    forces : force slugs to read (e.g. ``{"leicestershire"}``); None reads every force.
    progress : show a progress bar (tqdm) of the files.
    max_file_bytes : the largest a file may be once inflated (see :func:`~victimneeds.io.read_policeuk`).
    workers : files parsed at a time, in threads (default 1). Memory grows with it: about ``workers + 1``
        files are held at once.

    Returns
    -------
    IngestResult
        ``files`` (one row per source file and what was done) and ``report`` (the data-quality report of
        the files read by this run).

    Raises
    ------
    DataFileError
        A file is empty, damaged, not UTF-8 or lacks the police.uk columns (the message names each such file
        and its lines; every other file is still read and recorded, so a second run after the fix reads only
        the files that failed); or two different files hold the same force's month.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "src" / "2020-01").mkdir(parents=True)
    >>> _ = (root / "src" / "2020-01" / "2020-01-demo-street.csv").write_text(
    ...     "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    ...     "Crime type,Last outcome category,Context\\n"
    ...     "abc,2020-01,Demo Police,Demo Police,-1.2,52.6,On or near X,E01025631,Blaby 002A,Burglary,"
    ...     "Under investigation,\\n")
    >>> first = ingest(root / "src", root / "dataset", progress=False)
    >>> first.files[["action", "rows_kept"]].values.tolist()
    [['read', 1]]
    >>> ingest(root / "src", root / "dataset", progress=False).files["action"].tolist()
    ['unchanged']
    """
    from tqdm.auto import tqdm

    dataset = Path(dataset_dir)
    dataset.mkdir(parents=True, exist_ok=True)
    manifest = _load_manifest(dataset)
    entries: dict[str, dict] = manifest["files"]
    wanted = None if forces is None else {f.strip().lower().replace(" ", "-") for f in forces}
    report = Report()
    rows: list[dict[str, object]] = []
    errors: list[str] = []

    def record(name: str, force: str, action: str, read: int, kept: int, size: int) -> None:
        rows.append(
            {"source_file": name, "force": force, "action": action, "rows_read": read, "rows_kept": kept, "bytes": size}
        )

    members = _members(source)
    owners: dict[tuple[str, int], str] = {}  # (force that reported the rows, month ordinal) -> file name
    for name, entry in entries.items():
        owners.update({(f, int(o)): name for f, o in entry["held"]})
    todo: list[tuple[str, _Member, list[object]]] = []
    for m in members:
        name = _logical_name(m)
        if m.kind != "street" and m.kind != "unknown":
            report.add(name, "file_skipped", 1, "not read", f"{m.kind} file (the national dataset holds street files)")
            record(name, m.force or "", "skipped", 0, 0, 0)
            continue
        if wanted is not None and (m.force or "") not in wanted:
            record(name, m.force or "", "skipped", 0, 0, 0)
            continue
        stamp = _stamp(m)
        old = entries.get(name)
        if old is not None and old["stamp"] == stamp:
            record(name, old["force"], "unchanged", old["rows_read"], old["rows_kept"], old["bytes"])
            continue
        todo.append((name, m, stamp))

    bar = tqdm(total=len(todo), desc="police.uk files", unit="file", disable=not progress, leave=False)
    try:
        for done, ((name, m, stamp), parsed) in enumerate(_parsed(todo, max_file_bytes, workers), 1):
            bar.update(1)
            if isinstance(parsed, DataFileError):
                errors.append(str(parsed))
                continue
            table, file_rows, held = parsed
            clash = sorted({owners[k] for k in held if owners.get(k, name) != name})
            if clash:
                other = entries[clash[0]]
                if other.get("content") is not None and other["content"] == m.content_key():
                    report.add(name, "duplicate_file", 1, "not read", f"the same text as {clash[0]}; read once")
                    record(name, m.force or "", "duplicate_file", 0, 0, 0)
                    continue
                force, month = min(k for k in held if owners.get(k, name) != name)
                errors.append(
                    f"two street files hold rows of {force or 'an unnamed force'} {_month_text(month)}: {clash[0]} "
                    f"and {name}, and they differ. They are probably two downloads of the same month (police.uk "
                    "revises past months); keep only one (the newest)."
                )
                continue
            slug = _partition_value(m.force or "unknown")
            out = _dataset_table(table, name)
            old = entries.pop(name, None)
            taken = [p for other in entries.values() for p in other["parquet"]]
            written = _write_partitions(dataset, slug, name, out, taken)
            for stale in set(old["parquet"] if old else []) - set(written):
                (dataset / stale).unlink(missing_ok=True)
            read = int(sum(r["count"] for r in file_rows if r["check"] == "rows_read"))
            entries[name] = {
                "stamp": stamp,
                "content": m.content_key(),
                "force": slug,
                "parquet": written,
                "held": sorted([f, int(o)] for f, o in held),
                "rows_read": read,
                "rows_kept": out.num_rows,
                "bytes": m.stored_size() or (m.path.stat().st_size if m.path is not None else 0),
                "report": [{k: (int(v) if k == "count" else str(v)) for k, v in r.items()} for r in file_rows],
            }
            owners.update({k: name for k in held})
            report.extend(file_rows)
            record(name, slug, "read", read, out.num_rows, entries[name]["bytes"])
            if done % 50 == 0:
                _save_manifest(dataset, manifest)
    finally:
        bar.close()
        _save_manifest(dataset, manifest)
    if errors:
        raise DataFileError(
            f"{len(errors)} file(s) could not be ingested (the others were, and are recorded in "
            f"{dataset / MANIFEST}): "
            + " ".join(errors[:5])
            + (f" ... and {len(errors) - 5} more." if len(errors) > 5 else "")
        )
    files = pd.DataFrame(rows, columns=["source_file", "force", "action", "rows_read", "rows_kept", "bytes"])
    files[["rows_read", "rows_kept", "bytes"]] = files[["rows_read", "rows_kept", "bytes"]].astype("int64")
    return IngestResult(dataset, files, report.frame())


def quality_report(dataset_dir: str | os.PathLike) -> pd.DataFrame:
    """The data-quality report of every file in the dataset, as each was read (rows read, kept and set aside
    and why, per file), from the manifest.

    Examples
    --------
    >>> import tempfile
    >>> quality_report(tempfile.mkdtemp()).columns.tolist()
    ['source', 'check', 'count', 'action', 'detail']
    """
    manifest = _load_manifest(Path(dataset_dir))
    report = Report()
    for entry in manifest["files"].values():
        report.extend(entry["report"])
    return report.frame()
