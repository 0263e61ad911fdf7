"""Counts from the national Parquet dataset with DuckDB, and the same counts from an in-memory ``crimes`` table."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import pandas as pd

from victimneeds.datamodel import CRIME_TYPES

Level = Literal["force", "district", "lsoa"]

#: The key columns of each level; every table also has ``crimes`` (the count of rows).
LEVELS: dict[str, tuple[str, ...]] = {
    "force": ("force", "month", "crime_type"),
    "district": ("district_code", "month", "crime_type"),
    "lsoa": ("area_code", "year", "crime_type"),
}

_STR = pd.Series([], dtype="str").dtype

#: Rows of the dataset once Crime IDs published in more than one row are merged as
#: ``read_policeuk(duplicates="merge")`` merges them: the first row of each id by month, file and line is kept.
#: Ids are first matched on a 64-bit hash, so only the few rows whose hashes repeat are sorted as text.
_LATER = """
CREATE TEMP TABLE later AS
WITH t AS (SELECT crime_id, month, source_file, source_line, hash(crime_id) AS h FROM {source}),
rep AS (SELECT h FROM t GROUP BY h HAVING count(*) > 1)
SELECT source_file, source_line FROM (
    SELECT source_file, source_line,
           row_number() OVER (PARTITION BY crime_id ORDER BY month, source_file, source_line) AS rn
    FROM t SEMI JOIN rep USING (h)
) WHERE rn > 1
"""
_KEPT = "CREATE TEMP VIEW kept AS SELECT * FROM {source} ANTI JOIN later USING (source_file, source_line)"

_SELECT = {
    "force": "SELECT force_name AS force, month, crime_type, count(*)::BIGINT AS crimes FROM kept GROUP BY ALL",
    "district": (
        "SELECT areas.district_code, month, crime_type, count(*)::BIGINT AS crimes "
        "FROM kept LEFT JOIN areas USING (area_code) GROUP BY ALL"
    ),
    "lsoa": (
        "SELECT area_code, year(month)::BIGINT AS year, crime_type, count(*)::BIGINT AS crimes FROM kept GROUP BY ALL"
    ),
}


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {list(LEVELS)}, got {level!r}")


def _lookup(areas: pd.DataFrame | str | os.PathLike) -> pd.DataFrame:
    """The LSOA -> district lookup: the ``areas`` table (``area_code, district_code``) or an ONS OA -> LSOA -> LAD
    lookup file (read with :func:`victimneeds.io.ons.read_lookup`)."""
    if not isinstance(areas, pd.DataFrame):
        from victimneeds.io.ons import read_lookup

        table = read_lookup(areas)[0]
        if "lsoa_code" not in table.columns:
            raise ValueError(f"{areas} is not an OA -> LSOA -> LAD lookup (it has no LSOA column).")
        areas = table.rename(columns={"lsoa_code": "area_code", "lad_code": "district_code"})
    missing = [c for c in ("area_code", "district_code") if c not in areas.columns]
    if missing:
        raise ValueError(f"areas must have columns 'area_code' and 'district_code'; it lacks {missing}")
    lookup = pd.DataFrame(
        {"area_code": areas["area_code"].astype(str), "district_code": areas["district_code"].astype(str)}
    )
    twice = lookup["area_code"].duplicated(keep=False)
    if twice.any():
        raise ValueError(
            f"areas gives {int(twice.sum())} rows for LSOAs listed more than once, e.g. "
            f"{lookup.loc[twice, 'area_code'].iloc[0]!r}: each LSOA must have one district."
        )
    return lookup


def _finish(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    """The table with the column types of the in-memory path, sorted by its keys."""
    keys = list(LEVELS[level])
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for key in keys:
        values = frame[key]
        if key == "month":
            if isinstance(values.dtype, pd.PeriodDtype):
                out[key] = values.to_numpy()
            else:
                out[key] = pd.PeriodIndex(pd.to_datetime(values), freq="M")
        elif key == "year":
            out[key] = values.astype("int64").to_numpy()
        elif key == "crime_type":
            out[key] = pd.Categorical(values.astype(object), categories=list(CRIME_TYPES))
        else:
            out[key] = pd.array(values.astype(object).where(values.notna(), None), dtype=_STR)
    out["crimes"] = frame["crimes"].astype("int64").to_numpy()
    return out.sort_values(keys, na_position="last", kind="stable").reset_index(drop=True)


def aggregate_crimes(
    crimes: pd.DataFrame, level: Level, areas: pd.DataFrame | str | os.PathLike | None = None
) -> pd.DataFrame:
    """The counts of :func:`aggregates` from an in-memory ``crimes`` table (one force, from
    :func:`victimneeds.io.read_policeuk`), with the same columns and types.

    Parameters
    ----------
    crimes : the canonical crimes table (``force, month, crime_type, area_code, district_code``).
    level : ``"force"`` (force x month x crime type), ``"district"`` (district x month x crime type) or
        ``"lsoa"`` (LSOA x year x crime type).
    areas : for ``"district"``, the LSOA -> district lookup (see :func:`aggregates`); None uses the table's
        ``district_code``.

    Examples
    --------
    >>> crimes = pd.DataFrame({"force": ["A", "A", "B"], "month": pd.PeriodIndex(["2020-01"] * 3, freq="M"),
    ...                        "crime_type": ["Burglary", "Burglary", "Drugs"]})
    >>> aggregate_crimes(crimes, "force")["crimes"].tolist()
    [2, 1]
    """
    _check_level(level)
    frame = pd.DataFrame(
        {"month": crimes["month"].to_numpy(), "crime_type": crimes["crime_type"].astype(object).to_numpy()}
    )
    if level == "force":
        frame["force"] = crimes["force"].astype(object).to_numpy()
    elif level == "district":
        if areas is not None:
            lookup = _lookup(areas).set_index("area_code")["district_code"]
            frame["district_code"] = crimes["area_code"].astype(object).map(lookup).to_numpy()
        else:
            frame["district_code"] = crimes["district_code"].astype(object).to_numpy()
    else:
        frame["area_code"] = crimes["area_code"].astype(object).to_numpy()
        frame["year"] = pd.PeriodIndex(crimes["month"]).year.to_numpy()
    keys = list(LEVELS[level])
    counted = frame.groupby(keys, dropna=False, sort=False).size().rename("crimes").reset_index()
    return _finish(counted, level)


def aggregates(
    dataset_dir: str | os.PathLike,
    level: Level,
    areas: pd.DataFrame | str | os.PathLike | None = None,
    *,
    threads: int | None = None,
    memory_limit: str = "2GB",
) -> pd.DataFrame:
    """Counts of crimes from the national Parquet dataset (see :func:`victimneeds.national.ingest`), out of core.

    The query runs in DuckDB (embedded: no server) over the hive-partitioned Parquet files, streaming them;
    memory stays within ``memory_limit`` (DuckDB spills to a temporary folder beyond it). Crime IDs published
    in more than one row are merged first, as :func:`victimneeds.io.read_policeuk` merges them by default (the
    first row of each id by month, file and line), so the counts equal those of the in-memory path
    (:func:`aggregate_crimes`) row for row.

    Parameters
    ----------
    dataset_dir : the dataset folder written by :func:`~victimneeds.national.ingest`.
    level : ``"force"``: ``force`` (the force area, police.uk's "Falls within"), ``month`` (Period[M]),
        ``crime_type``, ``crimes``; ``"district"``: ``district_code`` (missing for LSOAs outside the lookup, and
        rows without an LSOA), ``month``, ``crime_type``, ``crimes``; ``"lsoa"``: ``area_code`` (the LSOA
        code, missing where police.uk gives none), ``year``, ``crime_type``, ``crimes``.
    areas : for ``"district"``: the LSOA -> district lookup, a table with ``area_code`` and ``district_code``
        (the ``areas`` table of the data model) or the path of the ONS OA -> LSOA -> LAD lookup CSV (``.gz``).
    threads : DuckDB threads (default: every core).
    memory_limit : DuckDB's memory limit (default ``"2GB"``).

    Returns
    -------
    pandas.DataFrame
        Sorted by its key columns; ``crime_type`` is categorical (the 14 police.uk types), key text columns use
        the pandas ``str`` dtype and ``crimes`` is int64.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from victimneeds.national import ingest
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "src").mkdir()
    >>> _ = (root / "src" / "2020-01-demo-street.csv").write_text(
    ...     "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    ...     "Crime type,Last outcome category,Context\\n"
    ...     "abc,2020-01,Demo Police,Demo Police,-1.2,52.6,On or near X,E01025631,Blaby 002A,Burglary,,\\n"
    ...     "abc,2020-01,Demo Police,Demo Police,-1.2,52.6,On or near X,E01025631,Blaby 002A,Burglary,,\\n"
    ...     ",2020-01,Demo Police,Demo Police,,,No location,,,Anti-social behaviour,,\\n")
    >>> _ = ingest(root / "src", root / "dataset", progress=False)
    >>> aggregates(root / "dataset", "force")[["crime_type", "crimes"]].values.tolist()
    [['Anti-social behaviour', 1], ['Burglary', 1]]

    References
    ----------
    .. [1] Raasveldt, M. and Mühleisen, H. (2019). DuckDB: an embeddable analytical database. SIGMOD '19,
       1981-1984. https://doi.org/10.1145/3299869.3320212
    """
    return aggregate_levels(dataset_dir, [level], areas, threads=threads, memory_limit=memory_limit)[level]


def aggregate_levels(
    dataset_dir: str | os.PathLike,
    levels: Sequence[Level] = ("force", "district", "lsoa"),
    areas: pd.DataFrame | str | os.PathLike | None = None,
    *,
    threads: int | None = None,
    memory_limit: str = "2GB",
) -> dict[str, pd.DataFrame]:
    """Several levels of :func:`aggregates` at once: the Crime IDs to merge are found once, not once a level.

    Parameters
    ----------
    dataset_dir, areas, threads, memory_limit : as in :func:`aggregates`.
    levels : the levels wanted (``"district"`` needs ``areas``).

    Returns
    -------
    dict
        The table of each level, by level name.

    Examples
    --------
    >>> import tempfile
    >>> aggregate_levels(tempfile.mkdtemp(), ["force"])
    Traceback (most recent call last):
    ...
    FileNotFoundError: ... holds no police.uk Parquet files: ingest the national archive first ...
    """
    import duckdb

    wanted = list(dict.fromkeys(levels))
    for level in wanted:
        _check_level(level)
    dataset = Path(dataset_dir)
    if not any(dataset.glob("force=*/year=*/*.parquet")):
        raise FileNotFoundError(
            f"{dataset} holds no police.uk Parquet files: ingest the national archive first "
            "(victimneeds.national.ingest or 'victimneeds national ingest SRC DEST')."
        )
    if "district" in wanted and areas is None:
        raise ValueError("level 'district' needs areas: the LSOA -> district lookup (a table or the ONS lookup file).")
    pattern = (dataset / "force=*" / "year=*" / "*.parquet").as_posix().replace("'", "''")
    source = f"read_parquet('{pattern}', hive_partitioning = true)"
    with tempfile.TemporaryDirectory(prefix="victimneeds-duckdb-") as spill:
        con = duckdb.connect(
            config={"threads": threads or os.cpu_count() or 1, "memory_limit": memory_limit, "temp_directory": spill}
        )
        try:
            if "district" in wanted:
                con.register("areas", _lookup(areas))
            con.execute(_LATER.format(source=source))
            con.execute(_KEPT.format(source=source))
            frames = {name: con.execute(_SELECT[name]).df() for name in wanted}
        finally:
            con.close()
    return {name: _finish(frame, name) for name, frame in frames.items()}
