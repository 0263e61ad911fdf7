"""The police.uk reader, :func:`read_policeuk`."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import pandas as pd

from victimneeds.io._report import (
    DataFileError,
    Report,
)
from victimneeds.io.policeuk.cache import _load_result, _result_key, _save_result_soon, default_cache_dir
from victimneeds.io.policeuk.files import _discover, _KnownHashes, _Member
from victimneeds.io.policeuk.join import _assemble
from victimneeds.io.policeuk.parse import _read_member
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
        _save_result_soon(cache, key, finished, report.rows)  # in the background
    return result
