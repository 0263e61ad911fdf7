"""Read the English Indices of Deprivation 2019 (MHCLG) by LSOA: rank, decile and score."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from victimneeds.io._report import DataFileError, ReadResult, Report, describe_values, read_text_table, to_int

__all__ = ["read_imd"]

_FILE1 = {
    "LSOA code (2011)": "area_code",
    "LSOA name (2011)": "area_name",
    "Local Authority District code (2019)": "lad_code",
    "Local Authority District name (2019)": "lad_name",
    "Index of Multiple Deprivation (IMD) Rank": "imd_rank",
    "Index of Multiple Deprivation (IMD) Decile": "imd_decile",
}
_SCORES = ("nation", "lsoa", "overall_local_score")


def read_imd(path: str | os.PathLike, scores_path: str | os.PathLike | None = None) -> ReadResult:
    """Read IoD2019 File 1 (IMD rank and decile by LSOA), with the IMD score joined when given.

    MHCLG's File 1 has ranks (1 = most deprived of 32,844) and deciles (1 = most deprived 10%) but
    no score. The score comes from ``scores_path``: mySociety's ``UK_IMD_E.csv`` (composite_uk_imd),
    whose ``overall_local_score`` is, for rows with ``nation == "E"``, the official IoD2019 IMD score.
    The report checks that the scores order the LSOAs as the ranks do (a higher score is more
    deprived, so the rank correlation must be strongly negative).

    Returns
    -------
    ReadResult
        ``table``: ``area_code, area_name, lad_code, lad_name, imd_rank, imd_decile, imd_score``
        (``imd_score`` missing when no ``scores_path``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "f1.csv").write_text(",".join(_FILE1) + '\\nE01000001,A 001A,E09000001,A,"29,199",9\\n')
    >>> read_imd(folder / "f1.csv").table[["area_code", "imd_rank", "imd_decile"]].values.tolist()
    [['E01000001', 29199, 9]]
    """
    path = Path(path)
    frame = read_text_table(path, "IoD2019 File 1 (IMD rank and decile by LSOA)", list(_FILE1))
    report = Report()
    table = frame[list(_FILE1)].rename(columns=_FILE1)
    for col in ("area_code", "area_name", "lad_code", "lad_name"):
        table[col] = table[col].str.strip()
    table["imd_rank"] = to_int(table["imd_rank"], str(path), "Index of Multiple Deprivation (IMD) Rank")
    table["imd_decile"] = to_int(table["imd_decile"], str(path), "Index of Multiple Deprivation (IMD) Decile")
    bad = ~table["imd_decile"].between(1, 10)
    if bad.any():
        raise DataFileError(f"{path}: IMD deciles outside 1-10 for {describe_values(table.loc[bad, 'area_code'], 3)}.")
    report.add(path.name, "rows_read", len(table), "read", "LSOAs with IMD rank and decile")
    table["imd_score"] = float("nan")
    if scores_path is not None:
        spath = Path(scores_path)
        scores = read_text_table(spath, "mySociety UK_IMD_E scores", list(_SCORES))
        england = scores.loc[scores["nation"].str.strip() == "E"]
        value = pd.to_numeric(england["overall_local_score"], errors="coerce")
        lookup = pd.Series(value.to_numpy(), index=england["lsoa"].str.strip())
        table["imd_score"] = table["area_code"].map(lookup).astype("float64")
        missing = table["imd_score"].isna()
        report.add(
            spath.name,
            "scores_joined",
            int((~missing).sum()),
            "joined",
            "LSOAs given the IoD2019 IMD score (overall_local_score, nation E)",
        )
        if missing.any():
            report.add(
                spath.name,
                "scores_missing",
                int(missing.sum()),
                "imd_score missing",
                f"LSOAs with no score, e.g. {describe_values(table.loc[missing, 'area_code'], 3)}",
            )
        both = table.dropna(subset=["imd_score"])
        if len(both) > 2:
            rho = both["imd_score"].rank().corr(both["imd_rank"].rank())
            report.add(
                spath.name,
                "score_rank_agreement",
                len(both),
                "checked",
                f"Spearman correlation of score with rank = {rho:.4f} (expected close to -1)",
            )
    return ReadResult(table, report.frame())
