"""Read ONS geography and population files: boundaries, lookups, mid-year population estimates.

Each reader returns a :class:`~victimneeds.io.ReadResult` ``(table, report)``. A file in another
layout raises :class:`~victimneeds.io.DataFileError` listing the columns expected and found.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from victimneeds.datamodel import AGE_BANDS, SEXES
from victimneeds.io._report import (
    DataFileError,
    ReadResult,
    Report,
    check_columns,
    describe_values,
    read_text_table,
    to_int,
)

__all__ = [
    "BNG",
    "read_boundaries",
    "read_lookup",
    "read_population_lad",
    "read_population_lsoa",
    "age_band_of",
    "urban_rural_from_soac",
    "split_population",
]

#: British National Grid, the CRS of every boundary table.
BNG = "EPSG:27700"

_CODE_RE = re.compile(r"^(lsoa|msoa|oa|lad|ltla|utla|csp|pfa|wd|ward|ctry|rgn|dz)\d{2}cd$", re.IGNORECASE)


def _paths(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not items:
        raise DataFileError("no boundary files were given.")
    return [Path(p) for p in items]


def read_boundaries(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    code_column: str | None = None,
    name_column: str | None = None,
    assume_crs: str = "EPSG:4326",
) -> ReadResult:
    """Read area boundaries (GeoJSON, GeoPackage, shapefile, TopoJSON) into one table in EPSG:27700.

    Parameters
    ----------
    paths : one file or several (e.g. one GeoJSON per district); they are stacked.
    code_column : the column holding the area code. None finds it: the one column named like
        ``LSOA11CD``, ``LAD19CD``, ``PFA16CD`` (any case).
    name_column : the area-name column; None takes the code column with ``CD`` changed to ``NM``.
    assume_crs : the CRS to assume when a file states none (TopoJSON files usually do not); the
        report says when it was assumed. Files are then reprojected to British National Grid.

    Returns
    -------
    ReadResult
        ``table`` is a GeoDataFrame with ``area_code``, ``area_name``, ``source_file`` and
        ``geometry`` (EPSG:27700), one row per area (invalid shapes repaired with ``make_valid`` and
        counted); ``report`` counts the areas per file, repairs and duplicate codes.

    Examples
    --------
    >>> import tempfile, pathlib, json
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "a.geojson"
    >>> square = [[[-1.2, 52.6], [-1.1, 52.6], [-1.1, 52.7], [-1.2, 52.7], [-1.2, 52.6]]]
    >>> _ = f.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature",
    ...     "properties": {"LSOA11CD": "E01000001", "LSOA11NM": "A 001A"},
    ...     "geometry": {"type": "Polygon", "coordinates": square}}]}))
    >>> table, report = read_boundaries(f)
    >>> table.crs.to_epsg(), table["area_code"].tolist()
    (27700, ['E01000001'])
    """
    report = Report()
    frames = []
    for path in _paths(paths):
        if not path.is_file():
            raise DataFileError(f"{path} does not exist (it should hold area boundaries).")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gdf = gpd.read_file(path)
        except Exception as err:  # pyogrio raises several error types for unreadable files
            raise DataFileError(
                f"{path} cannot be read as boundaries (GeoJSON, GeoPackage, shapefile or TopoJSON): {err}"
            ) from None
        columns = [c for c in gdf.columns if c != "geometry"]
        code = code_column
        if code is None:
            candidates = [c for c in columns if _CODE_RE.match(c)]
            if len(candidates) != 1:
                raise DataFileError(
                    f"{path}: cannot tell which column holds the area code (found {candidates or 'none'} "
                    f"named like LSOA11CD); pass code_column=. Columns found: {columns}."
                )
            code = candidates[0]
        check_columns(columns, [code], str(path), "a boundary file with an area-code column")
        name = name_column or (code[:-2] + ("NM" if code[-2:].isupper() else "nm"))
        if gdf.crs is None:
            gdf = gdf.set_crs(assume_crs)
            report.add(
                path.name,
                "crs_assumed",
                len(gdf),
                f"assumed {assume_crs}",
                "the file states no coordinate reference system",
            )
        from_crs = gdf.crs.to_string()
        gdf = gdf.to_crs(BNG)
        invalid = ~gdf.geometry.is_valid
        if invalid.any():
            gdf.loc[invalid, "geometry"] = gdf.loc[invalid, "geometry"].make_valid()
            report.add(
                path.name,
                "geometry_repaired",
                int(invalid.sum()),
                "repaired with make_valid",
                f"invalid shapes, e.g. {describe_values(gdf.loc[invalid, code].head(3))}",
            )
        empty = gdf.geometry.is_empty | gdf.geometry.isna()
        if empty.any():
            report.add(
                path.name,
                "geometry_missing",
                int(empty.sum()),
                "kept, no shape",
                f"areas without a shape, e.g. {describe_values(gdf.loc[empty, code].head(3))}",
            )
        frames.append(
            gpd.GeoDataFrame(
                {
                    "area_code": gdf[code].astype(str).str.strip(),
                    "area_name": gdf[name].astype(str).str.strip() if name in gdf.columns else gdf[code].astype(str),
                    "source_file": path.name,
                },
                geometry=gdf.geometry.to_numpy(),
                crs=BNG,
            )
        )
        report.add(
            path.name,
            "areas_read",
            len(gdf),
            "read",
            f"areas from column {code!r}, reprojected from {from_crs} to {BNG}",
        )
    table = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=BNG)
    dup = table["area_code"].duplicated()
    if dup.any():
        report.add(
            "all files",
            "duplicate_area_code",
            int(dup.sum()),
            "excluded (first kept)",
            f"area codes found more than once, e.g. {describe_values(table.loc[dup, 'area_code'], 3)}",
        )
        table = table.loc[~dup].reset_index(drop=True)
    report.add("all files", "areas_kept", len(table), "kept", "areas in the boundary table")
    return ReadResult(table, report.frame())


# --------------------------------------------------------------------------------------------------
# Lookups
# --------------------------------------------------------------------------------------------------

_OA_LOOKUP = ("OA??CD", "LSOA??CD", "LSOA??NM", "LAD??CD", "LAD??NM")
_PFA_LOOKUP = ("LAD??CD", "LAD??NM", "CSP??CD", "CSP??NM", "PFA??CD", "PFA??NM")


def _match(columns: Sequence[str], stem: str) -> str | None:
    """The column matching e.g. 'LSOA??CD' (any two-digit year, any case)."""
    pattern = re.compile("^" + stem.replace("??", r"\d{2}") + "$", re.IGNORECASE)
    hits = [c for c in columns if pattern.match(c)]
    return hits[0] if hits else None


def urban_rural_from_soac(soac_code: pd.Series) -> pd.Series:
    """Urban/Rural from the 2011 LSOA area classification (SOAC) supergroup.

    SOAC supergroup 2, "Countryside living" (groups 2a-2d: ageing rural neighbourhoods, prospering
    countryside life, remoter communities, rural traits), is taken as rural; every other supergroup as
    urban. This is a proxy: the official ONS 2011 Rural-Urban Classification is not in the open data
    used here, and the two differ for some small towns and urban fringes.

    Examples
    --------
    >>> urban_rural_from_soac(pd.Series(["2b", "5a", None])).tolist()
    ['Rural', 'Urban', nan]
    """
    code = soac_code.astype("string")
    out = pd.Series(np.where(code.str.startswith("2").fillna(False), "Rural", "Urban"), index=soac_code.index)
    out = out.where(code.notna().to_numpy())
    return pd.Series(pd.Categorical(out, categories=["Urban", "Rural"]), index=soac_code.index, name="urban_rural")


def read_lookup(path: str | os.PathLike) -> ReadResult:
    """Read an ONS lookup: OA -> LSOA -> MSOA -> LAD (with area classifications), or LAD -> CSP -> PFA.

    The layout is recognised from the header (any year suffix, a UTF-8 byte-order mark allowed):

    * OA lookup (``OA11CD, LSOA11CD, LSOA11NM, ..., LAD17CD, LAD17NM``): de-duplicated to one row per
      LSOA, giving ``lsoa_code, lsoa_name, msoa_code, msoa_name, lad_code, lad_name, soac_code,
      soac_name, urban_rural`` (from SOAC, see :func:`urban_rural_from_soac`) and ``n_oa``. An LSOA
      whose output areas name different LADs is reported.
    * LAD -> CSP -> PFA lookup: ``lad_code, lad_name, csp_code, csp_name, pfa_code, pfa_name``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "lk.csv"
    >>> _ = f.write_text("\\ufeffLAD17CD,LAD17NM,CSP17CD,CSP17NM,PFA17CD,PFA17NM,FID\\n"
    ...                  "E06000017,Rutland,E22000200,Rutland,E23000021,Leicestershire,1\\n", encoding="utf-8")
    >>> table, report = read_lookup(f)
    >>> table.loc[0, ["lad_code", "pfa_name"]].tolist()
    ['E06000017', 'Leicestershire']
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path} does not exist (it should hold an ONS lookup).")
    frame = read_text_table(path, "an ONS lookup", [])
    header = list(frame.columns)
    report = Report()
    if _match(header, "OA??CD") and _match(header, "LSOA??CD"):
        cols = {stem: _match(header, stem) for stem in _OA_LOOKUP}
        missing = [s for s, c in cols.items() if c is None]
        if missing:
            raise DataFileError(
                f"{path} looks like an OA lookup but lacks {missing}. Expected columns: "
                f"{list(_OA_LOOKUP)} (?? = year). Columns found: {header}."
            )
        get = {s: _match(header, s) for s in ("MSOA??CD", "MSOA??NM", "SOAC??CD", "SOAC??NM")}
        lsoa = frame[cols["LSOA??CD"]]
        conflicts = frame.groupby(lsoa)[cols["LAD??CD"]].nunique()
        conflicts = conflicts[conflicts > 1]
        if len(conflicts):
            report.add(
                path.name,
                "lsoa_in_several_lads",
                len(conflicts),
                "first LAD kept",
                f"LSOAs whose output areas lie in more than one LAD, e.g. {describe_values(conflicts.index, 3)}",
            )
        n_oa = lsoa.value_counts()
        first = frame.drop_duplicates(cols["LSOA??CD"]).reset_index(drop=True)
        table = pd.DataFrame(
            {
                "lsoa_code": first[cols["LSOA??CD"]],
                "lsoa_name": first[cols["LSOA??NM"]],
                "msoa_code": first[get["MSOA??CD"]] if get["MSOA??CD"] else None,
                "msoa_name": first[get["MSOA??NM"]] if get["MSOA??NM"] else None,
                "lad_code": first[cols["LAD??CD"]],
                "lad_name": first[cols["LAD??NM"]],
                "soac_code": first[get["SOAC??CD"]] if get["SOAC??CD"] else None,
                "soac_name": first[get["SOAC??NM"]] if get["SOAC??NM"] else None,
            }
        )
        table = table.replace("", None)
        table["urban_rural"] = urban_rural_from_soac(table["soac_code"])
        table["n_oa"] = table["lsoa_code"].map(n_oa).astype("int64")
        report.add(path.name, "rows_read", len(frame), "read", "output areas")
        report.add(
            path.name,
            "lsoas",
            len(table),
            "kept",
            f"distinct {cols['LSOA??CD']} (one row per LSOA; de-duplicated from output areas)",
        )
        return ReadResult(table, report.frame())
    if _match(header, "PFA??CD") and _match(header, "LAD??CD"):
        cols = {stem: _match(header, stem) for stem in _PFA_LOOKUP}
        missing = [s for s, c in cols.items() if c is None]
        if missing:
            raise DataFileError(
                f"{path} looks like a LAD-CSP-PFA lookup but lacks {missing}. Expected columns: "
                f"{list(_PFA_LOOKUP)} (?? = year). Columns found: {header}."
            )
        names = ("lad_code", "lad_name", "csp_code", "csp_name", "pfa_code", "pfa_name")
        table = pd.DataFrame({n: frame[cols[s]].str.strip() for n, s in zip(names, _PFA_LOOKUP, strict=True)})
        dup = table["lad_code"].duplicated()
        if dup.any():
            report.add(
                path.name,
                "duplicate_lad",
                int(dup.sum()),
                "excluded (first kept)",
                f"LADs listed twice, e.g. {describe_values(table.loc[dup, 'lad_code'], 3)}",
            )
            table = table.loc[~dup].reset_index(drop=True)
        report.add(path.name, "rows_read", len(frame), "read", "local authority districts")
        return ReadResult(table, report.frame())
    raise DataFileError(
        f"{path} is not a lookup this reader knows. Expected either an OA lookup with columns "
        f"{list(_OA_LOOKUP)} or a LAD-CSP-PFA lookup with {list(_PFA_LOOKUP)} (?? = a two-digit year). "
        f"Columns found: {header}."
    )


# --------------------------------------------------------------------------------------------------
# Population
# --------------------------------------------------------------------------------------------------

_BAND_EDGES = [(0, 15), (16, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 74), (75, 200)]


def age_band_of(age: int) -> str:
    """The data-model age band of a single year of age (90 stands for '90+').

    Examples
    --------
    >>> age_band_of(15), age_band_of(16), age_band_of(90)
    ('0-15', '16-24', '75+')
    """
    for band, (lo, hi) in zip(AGE_BANDS, _BAND_EDGES, strict=True):
        if lo <= age <= hi:
            return band
    raise ValueError(f"age {age} is not a year of age")


def _mye_sheet(path: Path, sheet: str) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = pd.read_excel(path, sheet_name=sheet, header=None, dtype=object)
    except ValueError as err:
        raise DataFileError(f"{path} has no sheet {sheet!r} ({err}); expected the ONS MYE2 workbook.") from None
    first = raw.iloc[:, 0].astype(str).str.strip()
    hits = np.flatnonzero(first.eq("Code").to_numpy())
    if not len(hits):
        raise DataFileError(
            f"{path}, sheet {sheet!r}: no header row starting 'Code' was found; expected "
            "columns Code, Name, Geography, All ages, 0, 1, ..., 90+."
        )
    top = int(hits[0])
    header = [str(h).strip() for h in raw.iloc[top]]
    header = [h[:-2] if h.endswith(".0") and h[:-2].isdigit() else h for h in header]
    table = raw.iloc[top + 1 :].copy()
    table.columns = header
    ages = [str(a) for a in range(90)] + ["90+"]
    check_columns(
        header, ["Code", "Name", "All ages", *ages], f"{path}, sheet {sheet!r}", "an ONS MYE2 single-year-of-age table"
    )
    return table.loc[table["Code"].notna()].reset_index(drop=True)


def _with_successors(table: pd.DataFrame, keep: set[str], path: Path, sheet: str, report: Report) -> pd.DataFrame:
    """Rows for districts abolished since the lookup's vintage, taken from the district that replaced them.

    The estimates use the current districts; a lookup of an earlier vintage may name their predecessors (for
    example Taunton Deane, part of Somerset West and Taunton since 2019). A predecessor is given its
    successor's ages and sexes (its *structure*, which is all :func:`split_population` uses), and the report
    says so. Codes with no row and no known successor are an error.
    """
    from victimneeds import reference

    absent = sorted(keep - set(table["Code"]))
    if not absent:
        return table
    successors = reference.table("lad_successors").set_index("code")
    found = [c for c in absent if c in successors.index and successors.loc[c, "successor"] in set(table["Code"])]
    still = sorted(set(absent) - set(found))
    if still:
        raise DataFileError(f"{path}, sheet {sheet!r}: no rows for the area codes {still}.")
    rows = []
    for code in found:
        row = table.loc[table["Code"] == successors.loc[code, "successor"]].iloc[0].copy()
        row["Code"], row["Name"] = code, successors.loc[code, "name"]
        rows.append(row)
    report.add(
        f"{path.name}:{sheet}",
        "structure_from_successor",
        len(found),
        "approximated",
        "districts abolished since the lookup was made, given the age-sex structure of the district that "
        "replaced them: "
        + ", ".join(
            f"{c} from {successors.loc[c, 'successor']} ({successors.loc[c, 'successor_name']})" for c in found
        ),
    )
    return pd.concat([table, pd.DataFrame(rows)], ignore_index=True)


def read_population_lad(
    xls_path: str | os.PathLike,
    codes: Iterable[str] | None = None,
    sheets: dict[str, str] | None = None,
) -> ReadResult:
    """Read the ONS mid-year estimates by single year of age (MYE2) into LAD x sex x age band.

    Parameters
    ----------
    xls_path : the ONS workbook (e.g. ``ukpopestimatesmid2020on2021geography.xls``; needs ``xlrd``).
    codes : the area codes to keep (e.g. the force's LADs); None keeps every row (countries,
        regions, counties and districts alike).
    sheets : sex -> sheet name; default ``{"Male": "MYE2 - Males", "Female": "MYE2 - Females"}``.

    Returns
    -------
    ReadResult
        ``table``: ``lad_code, lad_name, geography, sex, age_band, population`` (long form, ages 0-90+
        summed to the data-model bands). ``report`` checks each area's ages sum to its "All ages".
    """
    path = Path(xls_path)
    if not path.is_file():
        raise DataFileError(f"{path} does not exist (it should be the ONS MYE2 population workbook).")
    sheets = sheets or {"Male": "MYE2 - Males", "Female": "MYE2 - Females"}
    report = Report()
    keep = None if codes is None else set(codes)
    ages = [str(a) for a in range(90)] + ["90+"]
    bands = [age_band_of(a) for a in range(91)]
    out = []
    for sex, sheet in sheets.items():
        if sex not in SEXES:
            raise ValueError(f"sheets keys must be {SEXES}, got {sex!r}")
        table = _mye_sheet(path, sheet)
        if keep is not None:
            table = _with_successors(table, keep, path, sheet, report)
            table = table.loc[table["Code"].isin(keep)].reset_index(drop=True)
        counts = table[ages].apply(pd.to_numeric, errors="coerce")
        if counts.isna().any().any():
            bad = table.loc[counts.isna().any(axis=1), "Code"]
            raise DataFileError(f"{path}, sheet {sheet!r}: ages that are not numbers for {describe_values(bad, 3)}.")
        total = pd.to_numeric(table["All ages"], errors="coerce")
        off = (counts.sum(axis=1) - total).abs() > 0.5
        if off.any():
            report.add(
                f"{path.name}:{sheet}",
                "ages_do_not_sum",
                int(off.sum()),
                "kept",
                f"single years do not add to 'All ages' for {describe_values(table.loc[off, 'Code'], 3)}",
            )
        long = counts.T.groupby(bands).sum().T
        long.insert(0, "lad_code", table["Code"].astype(str))
        long.insert(1, "lad_name", table["Name"].astype(str).str.strip())
        long.insert(2, "geography", table["Geography"].astype(str) if "Geography" in table else "")
        long = long.melt(id_vars=["lad_code", "lad_name", "geography"], var_name="age_band", value_name="population")
        long["sex"] = sex
        out.append(long)
        report.add(f"{path.name}:{sheet}", "areas_read", len(table), "read", f"{sex.lower()} population by age")
    table = pd.concat(out, ignore_index=True)
    table["sex"] = pd.Categorical(table["sex"], categories=list(SEXES))
    table["age_band"] = pd.Categorical(table["age_band"], categories=list(AGE_BANDS))
    table["population"] = table["population"].round().astype("int64")
    table = table.sort_values(["lad_code", "sex", "age_band"]).reset_index(drop=True)
    table = table[["lad_code", "lad_name", "geography", "sex", "age_band", "population"]]
    return ReadResult(table, report.frame())


def read_population_lsoa(path: str | os.PathLike, code_column: str = "lsoa", value_column: str = "pop") -> ReadResult:
    """Read small-area population totals (e.g. the mid-2019 LSOA estimates: ``lsoa, pop``).

    Thousands separators (``"1,954"``), surrounding spaces and a UTF-8 byte-order mark are handled.
    Returns ``area_code, population`` and a report (rows read, duplicate codes).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "pop.csv"
    >>> _ = f.write_text('\\ufefflsoa,pop\\nE01011949,"1,954"\\n', encoding="utf-8")
    >>> read_population_lsoa(f).table["population"].tolist()
    [1954]
    """
    path = Path(path)
    frame = read_text_table(path, "small-area population totals", [code_column, value_column])
    report = Report()
    table = pd.DataFrame(
        {
            "area_code": frame[code_column].str.strip(),
            "population": to_int(frame[value_column], str(path), value_column),
        }
    )
    dup = table["area_code"].duplicated()
    if dup.any():
        raise DataFileError(
            f"{path}: {int(dup.sum())} area codes appear twice, e.g. {describe_values(table.loc[dup, 'area_code'], 3)}."
        )
    report.add(path.name, "rows_read", len(table), "read", "areas with a population total")
    return ReadResult(table, report.frame())


def split_population(
    totals: pd.DataFrame,
    structure: pd.DataFrame,
    area: str = "area_code",
    district: str = "district_code",
    value: str = "population",
) -> pd.DataFrame:
    """Split small-area population totals into sex x age band by their district's age-sex structure.

    Each small area is given its district's shares: the expected count in a cell is the area's total
    times the district's share of that sex and age band (the "synthetic" or ratio method of small-area
    estimation: it assumes the area has the district's age-sex structure). Counts are then made whole
    numbers by the largest-remainder (Hamilton) method, so each area's cells add up to its total exactly.

    Parameters
    ----------
    totals : one row per small area with columns ``area``, ``district`` and ``value``.
    structure : district x sex x age band counts with columns ``district``, ``sex``, ``age_band`` and
        ``value`` (e.g. from :func:`read_population_lad`, with ``lad_code`` renamed).

    Returns
    -------
    DataFrame
        ``area_code, sex, age_band, population`` (the data-model ``population`` table), one row per
        area, sex and band.

    References
    ----------
    Rao, J. N. K. and Molina, I. (2015). *Small Area Estimation*, 2nd ed., Wiley, section 3.2.1
    (synthetic estimation). Balinski, M. L. and Young, H. P. (2001). *Fair Representation*, Brookings
    (the largest-remainder method).

    Examples
    --------
    >>> totals = pd.DataFrame({"area_code": ["A"], "district_code": ["D"], "population": [10]})
    >>> structure = pd.DataFrame({"district_code": ["D", "D"], "sex": ["Female", "Male"],
    ...                           "age_band": ["0-15", "0-15"], "population": [200, 100]})
    >>> split_population(totals, structure)["population"].tolist()
    [7, 3]
    """
    for frame, cols, name in (
        (totals, [area, district, value], "totals"),
        (structure, [district, "sex", "age_band", value], "structure"),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} lacks the columns {missing}; it has {list(frame.columns)}")
    no_structure = sorted(set(totals[district]) - set(structure[district]))
    if no_structure:
        raise ValueError(f"no age-sex structure for the districts {no_structure}")
    shares = structure[[district, "sex", "age_band", value]].copy()
    shares["share"] = shares[value] / shares.groupby(district)[value].transform("sum")
    cells = (
        totals[[area, district, value]]
        .rename(columns={value: "total"})
        .merge(shares[[district, "sex", "age_band", "share"]], on=district, how="left")
    )
    exact = cells["total"].to_numpy(dtype=float) * cells["share"].to_numpy(dtype=float)
    floor = np.floor(exact)
    cells["floor"] = floor
    cells["remainder"] = exact - floor
    short = (cells["total"] - cells.groupby(area)["floor"].transform("sum")).round().astype(int)
    cells["order"] = cells.groupby(area)["remainder"].rank(method="first", ascending=False)
    cells["population"] = (floor + (cells["order"] <= short)).astype("int64")
    out = cells[[area, "sex", "age_band", "population"]].rename(columns={area: "area_code"})
    out["sex"] = pd.Categorical(out["sex"].astype(str), categories=list(SEXES))
    out["age_band"] = pd.Categorical(out["age_band"].astype(str), categories=list(AGE_BANDS))
    return out.sort_values(["area_code", "sex", "age_band"]).reset_index(drop=True)
