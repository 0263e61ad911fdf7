"""Similar forces: each police force area beside the forces most like it, and its rates compared with theirs.

A commissioner asks "is our demand high for a force like ours?". The Home Office / HMICFRS "most similar
groups" (MSGs) answer that officially, but the published groups cannot be fetched here. This module builds
a documented, reproducible equivalent from public ONS and MHCLG files, in the same spirit: each force is
described by socio-demographic measures known to relate to crime, the measures are standardised (z-scores),
and a force's similar forces are those nearest in weighted Euclidean distance.

* :func:`force_profiles` computes the measures for every police force area (PFA) of England and Wales from
  the shared open files; :func:`load_force_profiles` reads the copy shipped in
  ``victimneeds/reference/force_profiles.csv`` (built by ``docs/make_force_profiles.py``), so the tool works
  without the raw files.
* :func:`similar_forces` lists a force's ``k`` nearest forces with their distances.
* :func:`rates_from_aggregates` turns national force x month x crime type counts into force x crime group x
  year counts with the profile population.
* :func:`compare_with_similar` places a force's rates beside its similar forces' pooled rate and England and
  Wales, on an over-dispersed funnel of all forces, with a trend per force; :func:`plot_funnel` draws it.

References
----------
Leigh A, Arnott J, Clarke G, See L (2000). Family values: grouping similar policing and crime reduction areas
for comparative purposes. Home Office Policing and Reducing Crime Unit, Briefing Note 3/00 (areas described by
social, economic and demographic variables related to crime and grouped by their nearest fit across them).
Independent Office for Police Conduct (2021). Most similar force (MSF) groups - 2021: "MSF groups are determined
by the Home Office ... based on an analysis of demographic, social and economic characteristics relating to
crime" (https://www.policeconduct.gov.uk/publications/most-similar-force-msf-groups-2021).
Spiegelhalter DJ (2005). Handling over-dispersion of performance indicators. Quality and Safety in Health Care
14:347-351 (funnel limits).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from victimneeds import stats

#: Inputs under the shared data folder (see shared/data/PROVENANCE.md), by role.
INPUTS: dict[str, str] = {
    "pfa_lookup": "geography/lookups/LAD17_CSP17_PFA17_EW_lookup.csv",
    "lsoa_lookup": "geography/lookups/OA11_LSOA11_MSOA11_LAD17_GB_lookup_with_area_classifications.csv.gz",
    "population_lsoa": "population/lsoa_population_mid2019_UK_small_areas.csv",
    "population_lad": "population/ukpopestimatesmid2020on2021geography.xls",
    "imd": "deprivation/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
    "imd_scores": "deprivation/mysociety_UK_IMD_E.csv.gz",
}

#: What each input gives, for the ``method`` attribute and the reference CSV's header.
SOURCES: dict[str, str] = {
    "pfa_lookup": "ONS LAD to CSP to PFA lookup (January 2017), OGL v3.0",
    "lsoa_lookup": "ONS OA to LSOA to MSOA to LAD (December 2017) lookup with 2011 area classifications, OGL v3.0",
    "population_lsoa": "ONS LSOA mid-2019 population estimates (via mySociety composite_uk_imd), OGL v3.0",
    "population_lad": "ONS mid-2020 population estimates, 2021 LA boundaries: MYE2 (single year of age, persons = "
                      "males + females) and MYE 5 (area in sq km), OGL v3.0",
    "imd": "MHCLG English Indices of Deprivation 2019, File 1 (IMD decile by LSOA), OGL v3.0",
    "imd_scores": "IoD2019 IMD score by LSOA (overall_local_score, nation E, via mySociety UK_IMD_E), CC BY 4.0",
}

#: The profile measures, their meaning, and whether they are log-transformed before standardising.
MEASURES: dict[str, str] = {
    "population": "residents, mid-2019 (sum of LSOA estimates)",
    "density": "residents per square km (mid-2019 residents / land area of the force's districts, MYE 5)",
    "imd_score": "population-weighted mean IMD 2019 score of the force's LSOAs (England only)",
    "imd_most_deprived_share": "share of the force's LSOAs in the most deprived 10% of England (IMD 2019 decile 1; "
                               "England only)",
    "urban_share": "share of residents in urban LSOAs (2011 LSOA area classification: every supergroup except "
                   "'Countryside living' counted as urban; a proxy for the Rural-Urban Classification)",
    "age_0_15_share": "share of residents aged 0-15 (mid-2020, MYE2 by district)",
    "age_16_24_share": "share of residents aged 16-24 (mid-2020, MYE2 by district)",
    "age_65_plus_share": "share of residents aged 65 and over (mid-2020, MYE2 by district)",
}

#: Measures compared on the log scale (sizes spread over orders of magnitude).
LOG_MEASURES: tuple[str, ...] = ("population", "density")

#: Default weights: each of five concepts (size, density, deprivation, urban/rural, age) weighs the same in
#: total, so the three age shares do not outweigh size.
DEFAULT_WEIGHTS: dict[str, float] = {
    "population": 1.0,
    "density": 1.0,
    "imd_score": 0.5,
    "imd_most_deprived_share": 0.5,
    "urban_share": 1.0,
    "age_0_15_share": 1 / 3,
    "age_16_24_share": 1 / 3,
    "age_65_plus_share": 1 / 3,
}

#: data.police.uk slugs that are not the PFA name in lower case with hyphens.
_SLUGS = {"E23000001": "metropolitan", "E23000034": "city-of-london", "E23000035": "devon-and-cornwall"}

PROFILE_COLUMNS: tuple[str, ...] = ("pfa_code", "pfa_name", "force", "country", "n_lsoas", "n_districts",
                                    "area_sq_km", *MEASURES)


def force_slug(pfa_code: str, pfa_name: str) -> str:
    """The data.police.uk force name (as in ``YYYY-MM-<force>-street.csv``) of a police force area.

    Examples
    --------
    >>> force_slug("E23000036", "Avon and Somerset"), force_slug("E23000001", "Metropolitan Police")
    ('avon-and-somerset', 'metropolitan')
    """
    if pfa_code in _SLUGS:
        return _SLUGS[pfa_code]
    return "-".join(pfa_name.lower().replace("&", "and").replace(",", " ").split())


def _lad_to_pfa(pfa: pd.DataFrame) -> pd.Series:
    """District code (2017 or a later successor) -> PFA code; successors come from ``lad_successors``."""
    from victimneeds import reference

    direct = pfa.set_index("lad_code")["pfa_code"]
    successors = reference.table("lad_successors")
    extra = {}
    for successor, rows in successors.groupby("successor"):
        forces = set(direct.reindex(rows["code"]).dropna())
        if len(forces) > 1:
            raise ValueError(f"district {successor} succeeds districts of several forces: {sorted(forces)}")
        if forces:
            extra[successor] = forces.pop()
    return pd.concat([direct, pd.Series(extra, dtype=object)])


def _areas_sq_km(path: Path) -> pd.DataFrame:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = pd.read_excel(path, sheet_name="MYE 5", header=None, dtype=object)
    hits = np.flatnonzero(raw.iloc[:, 0].astype(str).str.strip().eq("Code").to_numpy())
    if not len(hits):
        raise ValueError(f"{path}, sheet 'MYE 5': no header row starting 'Code' (expected the ONS density table)")
    table = raw.iloc[hits[0] + 1:].copy()
    table.columns = [str(c).strip() for c in raw.iloc[hits[0]]]
    if "Area (sq km)" not in table:
        raise ValueError(f"{path}, sheet 'MYE 5': no column 'Area (sq km)'; columns found {list(table.columns)[:6]}")
    out = pd.DataFrame({"lad_code": table["Code"].astype(str).str.strip(),
                        "area_sq_km": pd.to_numeric(table["Area (sq km)"], errors="coerce")})
    return out.dropna()


def force_profiles(data_dir: str | os.PathLike) -> pd.DataFrame:
    """Socio-demographic profile of every police force area of England and Wales, from public files.

    Parameters
    ----------
    data_dir : the folder holding the shared open data (paths in :data:`INPUTS` are relative to it).

    Returns
    -------
    One row per police force area (43: 39 English including the City of London, 4 Welsh), columns
    ``pfa_code, pfa_name, force`` (data.police.uk name), ``country`` (E or W), ``n_lsoas``, ``n_districts``,
    ``area_sq_km`` and the measures of :data:`MEASURES`:

    * ``population``: sum of the mid-2019 LSOA estimates of the force's LSOAs (LSOA -> 2017 district from the
      OA lookup, district -> PFA from the PFA lookup);
    * ``density``: that population over the land area of the force's districts (ONS MYE 5, 2021 districts;
      merged districts map to one force since every merger since 2017 was within one force);
    * ``imd_score``, ``imd_most_deprived_share``: IMD 2019, England only (Welsh forces have NaN: the Welsh
      index is a different measure and is not in the shared files);
    * ``urban_share``: the 2011 LSOA area classification proxy of :func:`victimneeds.io.ons.urban_rural_from_soac`
      (the official Rural-Urban Classification is not in the shared files);
    * ``age_0_15_share, age_16_24_share, age_65_plus_share``: mid-2020 single-year-of-age estimates by
      district (LSOA ages are not in the shared files at a usable date), summed to the force.

    ``.attrs["method"]`` names the inputs and how each measure was made; ``.attrs["sources"]`` lists the files.

    Examples
    --------
    >>> from pathlib import Path
    >>> folder = Path(__file__).resolve().parents[2] / "shared" / "data"
    >>> p = force_profiles(folder) if folder.is_dir() else None  # doctest: +SKIP
    >>> p.set_index("pfa_name").loc["Leicestershire", "population"]  # doctest: +SKIP
    1100306
    """
    from victimneeds.io.imd import read_imd
    from victimneeds.io.ons import read_lookup, read_population_lad, read_population_lsoa

    root = Path(data_dir)
    paths = {k: root / v for k, v in INPUTS.items()}
    for role, path in paths.items():
        if not path.is_file():
            raise FileNotFoundError(f"force_profiles: input {role!r} is missing: expected the file {path}")
    pfa = read_lookup(paths["pfa_lookup"]).table
    lsoas = read_lookup(paths["lsoa_lookup"]).table
    lad_pfa = _lad_to_pfa(pfa)
    lsoas = lsoas.loc[lsoas["lad_code"].isin(pfa["lad_code"])].copy()
    lsoas["pfa_code"] = lsoas["lad_code"].map(lad_pfa)
    pop = read_population_lsoa(paths["population_lsoa"]).table.set_index("area_code")["population"]
    lsoas["population"] = lsoas["lsoa_code"].map(pop)
    if lsoas["population"].isna().any():
        missing = lsoas.loc[lsoas["population"].isna(), "lsoa_code"]
        raise ValueError(f"force_profiles: {len(missing)} LSOAs have no mid-2019 population, e.g. {list(missing[:3])}")
    imd = read_imd(paths["imd"], paths["imd_scores"]).table.set_index("area_code")
    lsoas["imd_score"] = lsoas["lsoa_code"].map(imd["imd_score"])
    lsoas["imd_decile"] = lsoas["lsoa_code"].map(imd["imd_decile"])
    lsoas["urban"] = (lsoas["urban_rural"] == "Urban").astype(float)
    lsoas["weighted_imd"] = lsoas["imd_score"] * lsoas["population"]
    lsoas["decile1"] = (lsoas["imd_decile"] == 1).astype(float)
    lsoas["urban_pop"] = lsoas["urban"] * lsoas["population"]

    by = lsoas.groupby("pfa_code")
    out = pd.DataFrame({
        "n_lsoas": by.size(),
        "n_districts": by["lad_code"].nunique(),
        "population": by["population"].sum().astype("int64"),
        "imd_lsoas": by["imd_score"].count(),
        "weighted_imd": by["weighted_imd"].sum(min_count=1),
        "imd_pop": lsoas.dropna(subset=["imd_score"]).groupby("pfa_code")["population"].sum(),
        "decile1": by["decile1"].sum(),
        "urban_pop": by["urban_pop"].sum(),
    })
    complete_imd = out["imd_lsoas"] == out["n_lsoas"]
    out["imd_score"] = np.where(complete_imd, out["weighted_imd"] / out["imd_pop"], np.nan)
    out["imd_most_deprived_share"] = np.where(complete_imd, out["decile1"] / out["n_lsoas"], np.nan)
    out["urban_share"] = out["urban_pop"] / out["population"]

    areas = _areas_sq_km(paths["population_lad"])
    areas["pfa_code"] = areas["lad_code"].map(lad_pfa)
    out["area_sq_km"] = areas.dropna(subset=["pfa_code"]).groupby("pfa_code")["area_sq_km"].sum()
    out["density"] = out["population"] / out["area_sq_km"]

    ages = read_population_lad(paths["population_lad"]).table
    ages["pfa_code"] = ages["lad_code"].map(lad_pfa)
    ages = ages.dropna(subset=["pfa_code"])
    ages = ages.loc[ages["geography"].str.strip().ne("County")]  # counties would count their districts twice
    band = ages.groupby(["pfa_code", "age_band"], observed=True)["population"].sum().unstack("age_band")
    total = band.sum(axis=1)
    out["age_0_15_share"] = band["0-15"] / total
    out["age_16_24_share"] = band["16-24"] / total
    out["age_65_plus_share"] = (band["65-74"] + band["75+"]) / total

    names = pfa.drop_duplicates("pfa_code").set_index("pfa_code")["pfa_name"]
    out["pfa_name"] = names.reindex(out.index)
    out["force"] = [force_slug(c, n) for c, n in zip(out.index, out["pfa_name"], strict=True)]
    out["country"] = out.index.str[0]
    out = out.reset_index(names="pfa_code")
    out = out[list(PROFILE_COLUMNS)].sort_values("pfa_code").reset_index(drop=True)
    out.attrs["method"] = _method_text()
    out.attrs["sources"] = {k: f"{INPUTS[k]}: {SOURCES[k]}" for k in INPUTS}
    return out


def _method_text() -> str:
    inputs = "; ".join(f"{SOURCES[k]} ({INPUTS[k]})" for k in INPUTS)
    measures = "; ".join(f"{k}: {v}" for k, v in MEASURES.items())
    return f"Force profiles from {inputs}. Measures: {measures}."


def load_force_profiles() -> pd.DataFrame:
    """The force profiles shipped with the package (``victimneeds/reference/force_profiles.csv``).

    Built by ``docs/make_force_profiles.py`` with :func:`force_profiles` from the shared open data; the CSV's
    ``#`` header lines name the sources. ``.attrs["method"]`` is set as by :func:`force_profiles`.

    Examples
    --------
    >>> p = load_force_profiles()
    >>> len(p), p.set_index("force").loc["leicestershire", "pfa_code"]
    (43, 'E23000021')
    """
    from importlib import resources

    with resources.files("victimneeds.reference").joinpath("force_profiles.csv").open("r", encoding="utf-8") as f:
        table = pd.read_csv(f, comment="#")
    table.attrs["method"] = _method_text()
    return table


def _find(profiles: pd.DataFrame, force: str) -> int:
    """Row position of ``force`` given as a PFA code, PFA name or data.police.uk name (any case)."""
    key = str(force).strip().lower()
    for col in ("pfa_code", "force", "pfa_name"):
        if col in profiles:
            hits = np.flatnonzero(profiles[col].astype(str).str.lower().eq(key).to_numpy())
            if len(hits):
                return int(hits[0])
    # data.police.uk "Falls within" names: "Leicestershire Police", "Avon and Somerset Constabulary", ...
    short = key.replace(" police service", "").replace(" constabulary", "").replace(" police", "")
    slug = {"metropolitan": "metropolitan", "city of london": "city-of-london"}.get(short, force_slug("", short))
    if "force" in profiles:
        hits = np.flatnonzero(profiles["force"].astype(str).str.lower().eq(slug).to_numpy())
        if len(hits):
            return int(hits[0])
    known = ", ".join(profiles["force"].astype(str)) if "force" in profiles else ""
    raise KeyError(f"force {force!r} is not in the profiles (give a PFA code, PFA name or police.uk name: {known})")


def standardised_measures(profiles: pd.DataFrame, measures: Sequence[str] | None = None,
                          log_measures: Sequence[str] = LOG_MEASURES) -> pd.DataFrame:
    """The profile measures as z-scores across the forces given (log first for ``log_measures``).

    A measure with no spread is returned as zeros (it cannot tell forces apart).

    Examples
    --------
    >>> t = pd.DataFrame({"force": ["a", "b", "c"], "x": [1.0, 2.0, 3.0]})
    >>> standardised_measures(t, ["x"])["x"].tolist()
    [-1.0, 0.0, 1.0]
    """
    measures = [m for m in (measures or MEASURES) if m in profiles]
    values = profiles[measures].astype(float).copy()
    for m in measures:
        if m in log_measures:
            if (values[m] <= 0).any():
                raise ValueError(f"similar_forces: measure {m!r} must be positive to be compared on the log scale")
            values[m] = np.log(values[m])
        sd = values[m].std(ddof=1)
        values[m] = (values[m] - values[m].mean()) / sd if sd > 0 else 0.0
    return values


def similar_forces(profiles: pd.DataFrame, force: str, k: int = 7, weights: Mapping[str, float] | None = None,
                   measures: Sequence[str] | None = None,
                   log_measures: Sequence[str] = LOG_MEASURES) -> pd.DataFrame:
    """The ``k`` forces most like ``force``: nearest by standardised, weighted Euclidean distance.

    Each measure is log-transformed if it is a size (``population``, ``density``: they span orders of
    magnitude), then standardised to a z-score across the comparison forces, so that a measure's unit does not
    matter. The distance between forces i and j is ``sqrt(sum_m w_m (z_im - z_jm)^2)``; the ``k`` smallest
    (ties broken by PFA code, so the result is reproducible) are returned. The force itself is not listed.

    This follows the idea of the Home Office "most similar force" groups (forces compared on demographic,
    social and economic characteristics related to crime, each area placed by its nearest fit across them);
    the official groups and their exact variables and weights are not available here, so these groups are an
    open, reproducible stand-in, not the official groups.

    Forces with a measure missing are handled so that like is compared with like: measures missing for
    ``force`` itself are dropped (a Welsh force is compared without the English IMD), and other forces missing
    any remaining measure are left out of the comparison (English forces are compared with English forces).
    ``.attrs`` records ``measures``, ``weights``, ``excluded`` and ``method``.

    Parameters
    ----------
    profiles : one row per force, e.g. :func:`force_profiles` or :func:`load_force_profiles`; needs ``force``
        (or ``pfa_code``) and the measure columns.
    force : the force, as a PFA code, PFA name or data.police.uk name.
    k : how many similar forces.
    weights : measure -> weight; default :data:`DEFAULT_WEIGHTS`. A measure not named weighs 1 (give 0 to
        leave it out).
    measures : the measures to use; default every :data:`MEASURES` column present.
    log_measures : measures taken on the log scale before standardising.

    Returns
    -------
    ``rank, pfa_code, pfa_name, force, distance`` (and the profile's measures), nearest first.

    References
    ----------
    Leigh A, Arnott J, Clarke G, See L (2000). Family values: grouping similar policing and crime reduction areas
    for comparative purposes. Home Office Briefing Note 3/00. Independent Office for Police Conduct (2021). Most
    similar force (MSF) groups - 2021.

    Examples
    --------
    >>> t = pd.DataFrame({"force": ["a", "b", "c", "d"], "x": [0.0, 1.0, 5.0, 1.5]})
    >>> similar_forces(t, "a", k=2, measures=["x"])["force"].tolist()
    ['b', 'd']
    """
    if k < 1:
        raise ValueError("similar_forces: k must be at least 1")
    table = profiles.reset_index(drop=True)
    if "force" not in table:
        table = table.assign(force=table["pfa_code"])
    at = _find(table, force)
    wanted = [m for m in (measures or MEASURES) if m in table]
    if not wanted:
        raise ValueError(f"similar_forces: none of the measures {list(measures or MEASURES)} is a column")
    used = [m for m in wanted if pd.notna(table.loc[at, m])]
    complete = table[used].notna().all(axis=1)
    excluded = table.loc[~complete, "force"].astype(str).tolist()
    pool = table.loc[complete].reset_index(drop=True)
    at = _find(pool, force)
    z = standardised_measures(pool, used, log_measures)
    base = DEFAULT_WEIGHTS if weights is None else weights
    w = {m: float(base.get(m, 1.0)) for m in used}
    if any(v < 0 for v in w.values()) or not any(v > 0 for v in w.values()):
        raise ValueError(f"similar_forces: weights must be non-negative and not all zero, got {w}")
    diff = z.to_numpy() - z.to_numpy()[at]
    distance = np.sqrt((diff**2 * np.array([w[m] for m in used])).sum(axis=1))
    pool = pool.assign(distance=distance)
    order_key = pool["pfa_code"] if "pfa_code" in pool else pool["force"]
    pool = pool.assign(_key=order_key.astype(str)).drop(index=at)
    pool = pool.sort_values(["distance", "_key"], kind="mergesort").head(k).drop(columns="_key")
    pool.insert(0, "rank", np.arange(1, len(pool) + 1))
    front = [c for c in ("rank", "pfa_code", "pfa_name", "force", "distance") if c in pool]
    pool = pool[front + [c for c in pool if c not in front]].reset_index(drop=True)
    pool.attrs.update({
        "force": str(table.loc[_find(table, force), "force"]),
        "measures": used,
        "weights": w,
        "excluded": excluded,
        "method": (f"weighted Euclidean distance over z-scores of {', '.join(used)} "
                   f"(log scale: {', '.join(m for m in used if m in log_measures) or 'none'}); "
                   f"{len(table) - len(excluded)} forces compared"
                   + (f", {len(excluded)} left out for missing measures ({', '.join(excluded)})" if excluded else "")),
    })
    return pool


# --------------------------------------------------------------------------------------------------
# Rates beside similar forces
# --------------------------------------------------------------------------------------------------

_RATE_COLUMNS = ("force", "crime_group", "year", "count", "population")


def rates_from_aggregates(aggregates: pd.DataFrame, profiles: pd.DataFrame, complete_years: bool = True,
                          month: str = "month", crime_type: str = "crime_type", count: str = "count",
                          force: str = "force", year_start_month: int = 1) -> pd.DataFrame:
    """Force x month x crime type counts -> force x crime group x calendar year counts with the population.

    Parameters
    ----------
    aggregates : e.g. ``victimneeds.national.aggregates(dataset_dir, level="force_month_type")``: columns
        ``force`` (data.police.uk name such as ``avon-and-somerset``, a "Falls within" name such as "Avon and
        Somerset Constabulary", a PFA name or a PFA code; returned as the data.police.uk name), ``month`` (text
        'YYYY-MM' or Period), ``crime_type`` (police.uk type), ``count``.
    profiles : :func:`load_force_profiles` (gives each force's ``population``, mid-2019; the same population is
        used for every year, so a rate's change over years includes any population growth, under 1% a year).
    complete_years : keep only years with all 12 months present for the force (a part year would look low).
    year_start_month : 1 for calendar years; 4 for financial years April to March (``year`` is then the
        calendar year the financial year starts in: 2021 is April 2021 to March 2022).

    Returns
    -------
    ``force, crime_group, year, months, count, population``; crime groups from
    :func:`victimneeds.datamodel.crime_group_for` (public police.uk data carry no domestic-abuse flag, so
    violence and sexual offences are all "Violence"). Forces not in ``profiles`` (e.g. British Transport
    Police) are left out and named in ``.attrs["not_in_profiles"]``; part years (dropped when
    ``complete_years``) in ``.attrs["part_years"]`` as ``(force, year, months)``.

    Examples
    --------
    >>> a = pd.DataFrame({"force": "leicestershire", "month": [f"2021-{m:02d}" for m in range(1, 13)],
    ...                   "crime_type": "Burglary", "count": 10})
    >>> r = rates_from_aggregates(a, load_force_profiles())
    >>> r[["force", "crime_group", "year", "months", "count", "population"]].values.tolist()
    [['leicestershire', 'Burglary', 2021, 12, 120, 1100306]]
    """
    from victimneeds.datamodel import crime_group_for

    if count not in aggregates and count == "count" and "crimes" in aggregates:
        count = "crimes"  # as victimneeds.national.aggregates names it
    need = [force, month, crime_type, count]
    missing = [c for c in need if c not in aggregates]
    if missing:
        raise ValueError(f"rates_from_aggregates: the aggregates lack the columns {missing}; expected {need}")
    t = aggregates[need].copy()
    t["crime_group"] = crime_group_for(t[crime_type]).astype(str).to_numpy()
    period = t[month] if isinstance(t[month].dtype, pd.PeriodDtype) else pd.PeriodIndex(t[month].astype(str), freq="M")
    if not 1 <= int(year_start_month) <= 12:
        raise ValueError(f"rates_from_aggregates: year_start_month must be 1 to 12, got {year_start_month}")
    t["year"] = np.asarray((pd.PeriodIndex(period) - (int(year_start_month) - 1)).year, dtype="int64")
    t["_month"] = pd.PeriodIndex(period).astype(str)
    months = t.groupby([force, "year"])["_month"].nunique().rename("months")
    out = t.groupby([force, "crime_group", "year"], as_index=False, observed=True)[count].sum()
    out = out.rename(columns={force: "force", count: "count"})
    out = out.merge(months.reset_index().rename(columns={force: "force"}), on=["force", "year"])
    pop = profiles.set_index("force")["population"]
    names = {}
    for name in out["force"].unique():
        try:
            names[name] = str(profiles["force"].iloc[_find(profiles, name)])
        except KeyError:
            names[name] = None
    unknown = sorted(str(n) for n, v in names.items() if v is None)
    out["force"] = out["force"].map(names)
    out = out.loc[out["force"].notna()].copy()
    part = out.loc[out["months"] < 12, ["force", "year", "months"]].drop_duplicates()
    if complete_years:
        out = out.loc[out["months"] == 12]
    out["population"] = out["force"].map(pop).astype("int64")
    out = out[["force", "crime_group", "year", "months", "count", "population"]]
    out = out.sort_values(["force", "crime_group", "year"]).reset_index(drop=True)
    out.attrs["not_in_profiles"] = unknown
    out.attrs["part_years"] = [tuple(r) for r in part.itertuples(index=False)]
    return out


@dataclass
class SimilarComparison:
    """A force's rates beside its similar forces and England and Wales (from :func:`compare_with_similar`).

    Attributes
    ----------
    table : one row per crime group and year: the force's rate with its exact interval, the similar forces'
        pooled rate with its interval, the all-forces rate, the force's funnel limits and flag.
    funnel : every force, crime group and year on the funnel (:func:`victimneeds.stats.funnel_flags`).
    trend : one row per force and crime group: the rate ratio per year.
    force, group : the force and its similar forces.
    overdispersion : (crime group, year) -> the funnel's :class:`victimneeds.stats.Overdispersion` (or None).
    """

    table: pd.DataFrame
    funnel: pd.DataFrame
    trend: pd.DataFrame
    force: str
    group: list[str] = field(default_factory=list)
    overdispersion: dict = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"{self.force} beside {len(self.group)} similar forces ({', '.join(self.group)})"]
        for _, r in self.table.iterrows():
            lines.append(f"{r['crime_group']} {r['year']}: {r['value']:.2f} per 1,000 "
                         f"({r['lowercl']:.2f} to {r['uppercl']:.2f}); similar forces {r['similar_value']:.2f}; "
                         f"all forces {r['all_value']:.2f}; {r['flag']}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<p>{self.summary().splitlines()[0]}</p>" + self.table.to_html(index=False)

    def plot(self, crime_group: str, year: int, ax=None):
        return plot_funnel(self, crime_group, year, ax=ax)


def _pooled(rates: pd.DataFrame, keys: list[str], prefix: str, multiplier: float, confidence: float) -> pd.DataFrame:
    pooled = rates.groupby(keys, as_index=False, observed=True)[["count", "population"]].sum()
    pooled = stats.rate(pooled, "count", "population", multiplier=multiplier, confidence=confidence)
    keep = {"count": f"{prefix}_count", "population": f"{prefix}_population", "value": f"{prefix}_value",
            "lowercl": f"{prefix}_lowercl", "uppercl": f"{prefix}_uppercl"}
    return pooled[keys + list(keep)].rename(columns=keep)


def compare_with_similar(rates: pd.DataFrame, force: str, group: Sequence[str] | pd.DataFrame,
                         multiplier: float = 1000, confidence: float = 0.95,
                         overdispersion: str = "additive", winsor: float = 0.0,
                         reference_exclude: Sequence[str] = ("city-of-london",)) -> SimilarComparison:
    """A force's rates by crime group and year beside its similar forces, all forces, and a funnel of all forces.

    For each crime group and year:

    * the force's rate per 1,000 with an exact Poisson interval (:func:`victimneeds.stats.rate`);
    * the similar forces' pooled rate, sum of their counts / sum of their populations (the force itself not
      included), with its exact interval;
    * the all-forces rate (England and Wales when every force is given); the funnel's target is the same pooled
      rate without the forces in ``reference_exclude``;
    * the force's place on a funnel of all forces (:func:`victimneeds.stats.funnel_flags`, ``kind="rate"``) with
      over-dispersed limits (Spiegelhalter 2005; additive random effects by default): crime rates of whole
      forces differ far more than Poisson chance allows, and exact limits would flag nearly every force.

    And a trend for each force and crime group: the change per year of the rate (a binomial GLM of counts out
    of the population with Pearson over-dispersion, :func:`victimneeds.compare.binomial_trend`; at rates of a
    few per 1,000 its odds ratio is the rate ratio to within 0.1%). With two or three years the trend is a
    description, not a test: its interval is wide or, with two years, not estimable.

    Parameters
    ----------
    rates : ``force, crime_group, year, count, population`` (e.g. :func:`rates_from_aggregates`).
    force : the force (as in ``rates['force']``).
    group : its similar forces: names as in ``rates['force']``, or the frame from :func:`similar_forces`.
    multiplier : rate per this many residents.
    confidence : level of the rate intervals.
    overdispersion : ``"additive"``, ``"multiplicative"`` or False (exact Poisson funnel limits).
    winsor : fraction of z-scores winsorised at each end when estimating over-dispersion. 0 by default: in a
        seeded simulation of 40 forces whose true rates vary log-normally (sd 0.1) around 20 per 1,000, 200
        replicates, the share of forces outside the 95% additive limits was 5.1% with no winsorising, 8.3% at
        0.05 and 12.6% at 0.1 (winsorising shrinks the between-force variance when no force is an outlier),
        while a force at 1.5 times the rate was above the limits in every replicate at all three settings. The
        price: a real outlier is not shrunk, so it widens the limits for the others (with that 1.5-times force
        present, 1.7% of the other forces were outside the 95% limits in 40 replicates): a force flagged is
        clearly unusual, one within the limits is not thereby shown to be typical.
    reference_exclude : forces shown on the funnel but left out of its target and over-dispersion estimate.
        By default the City of London, whose resident population (under 10,000) is tiny beside its daytime
        population, so its rate per resident is many times any other force's and, unwinsorised, would widen
        every limit.

    Returns
    -------
    :class:`SimilarComparison`.

    References
    ----------
    Spiegelhalter DJ (2005). Handling over-dispersion of performance indicators. Quality and Safety in Health
    Care 14:347-351. Garwood F (1936). Fiducial limits for the Poisson distribution. Biometrika 28:437-442.

    Examples
    --------
    >>> r = pd.DataFrame({"force": list("abcd"), "crime_group": "Burglary", "year": 2021,
    ...                   "count": [300, 150, 260, 500], "population": [100_000, 60_000, 90_000, 200_000]})
    >>> res = compare_with_similar(r, "a", ["b", "c"])
    >>> res.table[["value", "similar_value", "all_value"]].round(3).values.tolist()
    [[3.0, 2.733, 2.689]]
    """
    missing = [c for c in _RATE_COLUMNS if c not in rates]
    if missing:
        raise ValueError(f"compare_with_similar: rates lack the columns {missing}; expected {list(_RATE_COLUMNS)}")
    names = group["force"].astype(str).tolist() if isinstance(group, pd.DataFrame) else [str(g) for g in group]
    forces = set(rates["force"].astype(str))
    if force not in forces:
        raise ValueError(f"compare_with_similar: force {force!r} has no rows in rates (forces: {sorted(forces)[:8]})")
    absent = [g for g in names if g not in forces]
    if absent:
        raise ValueError(f"compare_with_similar: similar forces with no rows in rates: {absent}")
    names = [g for g in names if g != force]
    keys = ["crime_group", "year"]
    data = rates[list(_RATE_COLUMNS)].copy()
    data.attrs = {}  # the caller's notes (e.g. from rates_from_aggregates) are not carried into the tables
    data["force"] = data["force"].astype(str)

    own = data.loc[data["force"] == force]
    own = stats.rate(own, "count", "population", multiplier=multiplier, confidence=confidence)
    table = own[["force", *keys, "count", "population", "value", "lowercl", "uppercl"]]
    similar = _pooled(data.loc[data["force"].isin(names)], keys, "similar", multiplier, confidence)
    everyone = _pooled(data, keys, "all", multiplier, confidence)
    table = table.merge(similar, on=keys, how="left").merge(everyone, on=keys, how="left")

    funnels, dispersion = [], {}
    outside = {str(f) for f in reference_exclude} - {force}
    for (cg, year), part in data.groupby(keys, observed=True, sort=True):
        f, od = _funnel(part.reset_index(drop=True), outside, overdispersion, multiplier, winsor)
        if f is None:
            continue
        dispersion[(cg, year)] = od
        f["role"] = np.select([f["force"] == force, f["force"].isin(names)], ["force", "similar"], "other")
        funnels.append(f)
    funnel = pd.concat(funnels, ignore_index=True) if funnels else pd.DataFrame()
    limit_cols = [c for c in funnel.columns if c.startswith(("lower_", "upper_"))]
    mine = funnel.loc[funnel["force"] == force, [*keys, *limit_cols, "flag", "method"]]
    table = table.merge(mine, on=keys, how="left").sort_values(keys).reset_index(drop=True)
    table["statistic"] = f"rate per {multiplier:,g}"

    trend = _trends(data)
    trend["role"] = np.select([trend["force"] == force, trend["force"].isin(names)], ["force", "similar"], "other")
    return SimilarComparison(table, funnel, trend, force, names, dispersion)


def _funnel(part: pd.DataFrame, outside: set[str], overdispersion, multiplier: float,
            winsor: float) -> tuple[pd.DataFrame | None, stats.Overdispersion | None]:
    """One crime group and year: funnel_flags on the reference forces, the same limits for the others."""
    if part["count"].sum() == 0:
        return None, None
    inside = part.loc[~part["force"].isin(outside)].reset_index(drop=True)
    usable = int((inside["population"] > 0).sum())
    how = overdispersion if (overdispersion and usable >= 3) else False
    f = stats.funnel_flags(inside, "count", "population", kind="rate", overdispersion=how, multiplier=multiplier,
                           winsor=winsor)
    od = f.attrs.get("overdispersion")
    f["in_reference"] = True
    rest = part.loc[part["force"].isin(outside) & (part["population"] > 0)].reset_index(drop=True)
    if len(rest):
        target = float(f["target"].iloc[0])
        extra = rest.copy()
        extra["value"] = extra["count"] / extra["population"] * multiplier
        extra["target"] = target
        flag = np.full(len(extra), "within 95%", dtype=object)
        for level in (0.95, 0.998):
            lim = stats.funnel_limits(target, extra["population"], "rate", [level], od, multiplier)
            tag = "95" if level == 0.95 else "99_8"
            extra[f"lower_{tag}"], extra[f"upper_{tag}"] = lim["lower"].to_numpy(), lim["upper"].to_numpy()
            flag = np.where(extra["value"] > extra[f"upper_{tag}"], f"above {level:.1%}".replace(".0%", "%"), flag)
            flag = np.where(extra["value"] < extra[f"lower_{tag}"], f"below {level:.1%}".replace(".0%", "%"), flag)
        extra["flag"] = flag
        extra["kind"], extra["method"] = "rate", f["method"].iloc[0]
        extra["phi"], extra["tau2"], extra["in_reference"] = f["phi"].iloc[0], f["tau2"].iloc[0], False
        f = pd.concat([f, extra], ignore_index=True)
    return f, od


def _display_names() -> dict[str, str]:
    """data.police.uk name -> PFA name, from the shipped profiles (e.g. 'avon-and-somerset' -> 'Avon and Somerset')."""
    profiles = load_force_profiles()
    return dict(zip(profiles["force"], profiles["pfa_name"], strict=True))


def _trends(data: pd.DataFrame) -> pd.DataFrame:
    from victimneeds.compare import binomial_trend

    rows = []
    for (name, cg), part in data.groupby(["force", "crime_group"], observed=True, sort=True):
        part = part.sort_values("year")
        row = {"force": name, "crime_group": cg, "years": len(part), "first_year": int(part["year"].min()),
               "last_year": int(part["year"].max()), "rate_ratio_per_year": np.nan, "lowercl": np.nan,
               "uppercl": np.nan, "p_value": np.nan}
        if len(part) >= 2 and part["count"].sum() > 0 and (part["population"] > 0).all():
            r = binomial_trend(part["count"], part["population"], part["year"] - part["year"].min())
            row.update({k: r[k] for k in ("lowercl", "uppercl", "p_value")})
            row["rate_ratio_per_year"] = r["odds_ratio_per_year"]
            if len(part) == 2:  # no residual degrees of freedom: the change is exact, its interval unknown
                row.update({"lowercl": np.nan, "uppercl": np.nan, "p_value": np.nan})
        rows.append(row)
    out = pd.DataFrame(rows)
    out["method"] = "binomial GLM of counts out of population, Pearson over-dispersion (rate ratio per year)"
    return out


def plot_funnel(result: SimilarComparison, crime_group: str, year: int, ax=None, label_group: bool = True):
    """Funnel plot of every force's rate against its population for one crime group and year.

    The force is a large dark diamond, its similar forces open squares, other forces small grey dots (marker
    shapes as well as colours tell them apart); the 95% and 99.8% over-dispersed limits are dashed and solid
    lines around the all-forces rate. Similar forces are named when ``label_group``.

    Returns
    -------
    The matplotlib Axes.
    """
    import matplotlib
    import matplotlib.pyplot as plt

    from victimneeds.plotting import label_points, legend_below, page_size, plain_log_axis

    names = _display_names()

    f = result.funnel
    part = f.loc[(f["crime_group"] == crime_group) & (f["year"] == year)]
    if part.empty:
        raise ValueError(f"plot_funnel: no funnel for {crime_group!r} in {year}")
    if ax is None:
        _, ax = plt.subplots(figsize=page_size(4.0))
    target = float(part["target"].iloc[0])
    od = result.overdispersion.get((crime_group, year))
    multiplier = od.multiplier if od is not None else 1000.0
    grid = np.geomspace(part["population"].min() * 0.8, part["population"].max() * 1.2, 200)
    limits = stats.funnel_limits(target, grid, kind="rate", levels=(0.95, 0.998), overdispersion=od,
                                 multiplier=multiplier)
    for level, style, text in ((0.95, "--", "95% limits"), (0.998, "-", "99.8% limits")):
        lim = limits.loc[np.isclose(limits["level"], level)]
        ax.plot(lim["denominator"], lim["upper"], style, color="0.35", linewidth=1, label=text)
        ax.plot(lim["denominator"], lim["lower"], style, color="0.35", linewidth=1)
    ax.axhline(target, color="0.6", linewidth=0.8, linestyle=":", label="All forces")
    others = part.loc[part["role"] == "other"]
    similar = part.loc[part["role"] == "similar"]
    mine = part.loc[part["role"] == "force"]
    ax.scatter(others["population"], others["value"], s=14, marker="o", color="0.65", label="Other forces", zorder=2)
    ax.scatter(similar["population"], similar["value"], s=30, marker="s", facecolors="none", edgecolors="C0",
               label="Similar forces", zorder=3)
    ax.scatter(mine["population"], mine["value"], s=70, marker="D", color="C1", edgecolors="black",
               label=names.get(result.force, result.force), zorder=4)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v / 1e6:,.10g}"))
    plain_log_axis(ax, "x")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v / 1e6:,.10g}"))
    ax.set_xlabel("Residents, millions (log scale)")
    ax.set_ylabel(f"{crime_group} per 1,000 residents")
    ax.set_title(f"{crime_group}, {year}: {names.get(result.force, result.force)} among all forces")
    if label_group and not similar.empty:
        label_points(ax, similar["population"].tolist(), similar["value"].tolist(),
                     [names.get(f, f) for f in similar["force"]])
    legend_below(ax)
    return ax
