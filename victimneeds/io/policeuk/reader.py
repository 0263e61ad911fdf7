"""The police.uk reader, :func:`read_policeuk`."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow as pa
import xxhash

from victimneeds.io._report import (
    DataFileError,
    Report,
)
from victimneeds.io.policeuk.arrow import _month_text
from victimneeds.io.policeuk.cache import _load_result, _result_key, _save_result_soon, default_cache_dir
from victimneeds.io.policeuk.files import _discover, _is_copy_name, _KnownHashes, _Member
from victimneeds.io.policeuk.join import _assemble
from victimneeds.io.policeuk.parse import MAX_FILE_BYTES, _decompress, _read_member, _unix_line_ends
from victimneeds.io.policeuk.table import PoliceUKData, _canonical


def read_policeuk(
    source: str | os.PathLike | Iterable[str | os.PathLike],
    force: str | None = None,
    areas: pd.DataFrame | None = None,
    cache_dir: str | os.PathLike | None | Literal[False] = None,
    months: tuple[str, str] | None = None,
    lsoa2011: Collection[str] | None = None,
    duplicates: Literal["merge", "keep"] = "merge",
    max_workers: int | None = None,
    max_file_bytes: int = MAX_FILE_BYTES,
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
    max_file_bytes : the largest a file may be once inflated (default 2 GiB, ``MAX_FILE_BYTES``); a
        larger one raises :class:`DataFileError` naming it, before it can exhaust memory.

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
        A file is empty, damaged (bad gzip or zip), not UTF-8, larger than ``max_file_bytes``, or lacks
        the police.uk columns; or two different files hold the same month.

    Notes
    -----
    A month is read from one file only, whatever the files are called: two street (or two outcomes)
    files whose rows hold the same force's month (by ``Reported by`` and ``Month``) are either the
    same text (a second download, ``... (1).csv.gz``, or a ``.csv`` beside its ``.csv.gz``), in which
    case one is read and the other skipped and counted (``duplicate_file``), or they differ, which
    raises :class:`DataFileError` naming both. The file kept is the one named as police.uk names its
    files, else the first in path order.

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
    if not any(m.kind != "outcomes" for m in chosen):
        raise DataFileError("no street-level crime files were found to read (after the force and month filters).")

    cache = None
    if cache_dir is not False:
        cache = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / "policeuk"
    workers = max_workers or min(8, os.cpu_count() or 1)

    key, damage = None, None
    if cache is not None:
        known = _KnownHashes(cache)
        contents = [m.content_key(known.known) for m in chosen]
        known.save()
        key = _result_key(chosen, contents, force, months, areas, lsoa2011, duplicates)
        cached, damage = _load_result(cache, key)
        if cached is not None:
            return cached

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_read_member, m, max_file_bytes) for m in chosen]
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
    window_ordinals = None if window is None else (window[0].ordinal, window[1].ordinal)
    for m, table, rows in _one_file_per_month(results, report, max_file_bytes, window_ordinals):
        report.extend(rows)
        (outcomes if m.kind == "outcomes" else streets).append((m.label, table))
    finished = _assemble(streets, outcomes, report, window_ordinals, months, areas, lsoa2011, duplicates)
    rows = list(report.rows)  # what the cache keeps: the files' report, not this read's cache trouble
    if damage is not None:
        report.add(
            "cache",
            "cache_damaged",
            1,
            "files read again; entry rewritten",
            f"{damage}. The table was read again from the files, not from the cache.",
        )
    result = PoliceUKData(_canonical(finished), report.frame())
    if cache is not None and key is not None:
        _save_result_soon(cache, key, finished, rows)  # in the background
    return result


def _one_file_per_month(
    results: list[tuple[_Member, pa.Table, list[dict[str, object]], frozenset[tuple[str, int]]]],
    report: Report,
    max_file_bytes: int,
    window: tuple[int, int] | None = None,
) -> list[tuple[_Member, pa.Table, list[dict[str, object]]]]:
    """Each force's month from one file: a copy with the same text is skipped and counted, a different file
    holding the same month (within ``window``, the months kept) is an error naming both (see
    :func:`read_policeuk`, Notes)."""
    owner: dict[tuple[str, str, int], int] = {}
    kept: list[int] = []
    texts: dict[int, str] = {}

    def text_hash(i: int) -> str:
        if i not in texts:
            m = results[i][0]
            texts[i] = xxhash.xxh3_128_hexdigest(_unix_line_ends(_decompress(m, m.load(), max_file_bytes)))
        return texts[i]

    # police.uk's own names first, so that a copy ("... (1).csv.gz") is the one skipped
    order = sorted(range(len(results)), key=lambda i: _is_copy_name(results[i][0].label))
    for i in order:
        m, _, _, held = results[i]
        if window is not None:  # rows of other months are excluded, so they cannot be counted twice
            held = frozenset(k for k in held if window[0] <= k[1] <= window[1])
        kind = "outcomes" if m.kind == "outcomes" else "street"
        clash = sorted({owner[(kind, *k)] for k in held if (kind, *k) in owner})
        if not clash:
            owner.update({(kind, *k): i for k in held})
            kept.append(i)
            continue
        first = results[clash[0]][0]
        if len(clash) == 1 and text_hash(i) == text_hash(clash[0]):
            report.add(m.label, "duplicate_file", 1, "not read", f"the same text as {_where(first)}; read once")
            continue
        force, month = min(k for k in held if (kind, *k) in owner)
        raise DataFileError(
            f"two {kind} files hold rows of {force or 'an unnamed force'} {_month_text(month)}: {_where(first)} and "
            f"{_where(m)}, and they differ. They are probably two downloads of the same month (police.uk revises "
            "past months); keep only one (the newest)."
        )
    return [results[i][:3] for i in sorted(kept)]


def _where(member: _Member) -> str:
    """The file's path, or for a member of a zip archive, its label (archive name and member)."""
    return str(member.path) if member.path is not None else member.label
