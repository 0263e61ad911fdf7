"""Area configuration (TOML) and :func:`load_area`, which reads a whole PCC area from public files.

A configuration names the area, its police force and where each input is. Paths are relative to the
configuration file, may use ``${NAME}`` or ``${NAME:-default}`` to expand environment variables, and
may be globs. Inputs are looked up under ``[inputs] data_dir`` when they are relative. An example,
``data/areas/leicestershire.toml``::

    [area]
    name = "Leicestershire"
    force = "leicestershire"        # the data.police.uk force slug
    pfa_code = "E23000021"          # the police force area code in the LAD-CSP-PFA lookup
    district_level = "LAD"

    [inputs]
    data_dir = "${VICTIMNEEDS_DATA:-../../../shared/data}"
    policeuk = "policeuk/leicestershire"
    boundaries = "geography/lsoa2011_by_lad/{district}.json"   # one file per district of the force
    ...

    [parameters]
    months = ["2019-12", "2022-11"]
    "ISVA.referrals_per_fte_year" = 70           # a local planning figure (lot.parameter) ...
    [parameters.sources]
    "ISVA.referrals_per_fte_year" = "Provider caseload review, 2025"   # ... and where it comes from

``[parameters]`` holds the run options (``months``, ``outside_area``, ``duplicates``, ``cache_dir``) and the
area's own planning figures, which replace the defaults of :func:`victimneeds.capacity.planning_rules` (every key,
its default and its source: ``docs/parameters.md``). A local figure needs a source.
"""

from __future__ import annotations

import glob
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from victimneeds.datamodel import AreaData, validate
from victimneeds.io._report import DataFileError, Report, describe_values
from victimneeds.io.extract import read_extract
from victimneeds.io.extract.spec import ExtractSpec, parse_extracts
from victimneeds.io.imd import read_imd
from victimneeds.io.ons import (
    BNG,
    read_boundaries,
    read_lookup,
    read_population_lad,
    read_population_lsoa,
    split_population,
)
from victimneeds.io.policeuk import read_policeuk

__all__ = ["AreaConfig", "AreaConfigError", "read_area_config", "load_area"]


class AreaConfigError(ValueError):
    """An area configuration is wrong, or names an input that cannot be found or read."""


_SECTIONS = {
    "area": {"name": str, "force": str, "pfa_code": str, "district_level": str},
    "inputs": {
        "data_dir": str,
        "policeuk": (str, list),
        "boundaries": (str, list),
        "lsoa_lookup": str,
        "pfa_lookup": str,
        "population_lsoa": str,
        "population_lad": str,
        "imd": str,
        "imd_scores": str,
    },
    "parameters": {"months": list, "outside_area": str, "duplicates": str, "cache_dir": str},
    "extracts": {},
    "disclosure": {"rule": str, "threshold": int, "min_count": int, "round_to": int, "symbol": str},
}
_REQUIRED = {
    "area": ("name", "force"),
    "inputs": ("boundaries", "lsoa_lookup", "population_lsoa", "population_lad", "imd"),
}
#: Placeholder in the boundaries pattern filled with each district (LAD) code of the area.
DISTRICT = "{district}"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class AreaConfig:
    """A checked area configuration: the area, the resolved input files and the parameters."""

    path: Path
    name: str
    force: str
    pfa_code: str | None
    district_level: str
    inputs: dict[str, list[Path]]
    parameters: dict[str, Any] = field(default_factory=dict)
    extracts: dict[str, ExtractSpec] = field(default_factory=dict)
    templates: dict[str, list[str]] = field(default_factory=dict)
    disclosure: Any = None
    planning: dict[str, dict] = field(default_factory=dict)

    def one(self, key: str) -> Path | None:
        files = self.inputs.get(key)
        return files[0] if files else None


def _expand(value: str, key: str, source: Path) -> str:
    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ and os.environ[name] != "":
            return os.environ[name]
        if default is not None:
            return default
        raise AreaConfigError(
            f"{source}: key {key!r} uses ${{{name}}}, but the environment variable {name} is not set "
            f"(set it, or write ${{{name}:-default}} in the configuration)."
        )

    return _VAR.sub(sub, value)


def _resolve(pattern: str, base: Path, key: str, source: Path) -> list[Path]:
    text = os.path.expanduser(_expand(pattern, key, source))
    path = Path(text)
    if not path.is_absolute():
        path = base / path
    if glob.has_magic(str(path)):
        found = sorted(Path(p) for p in glob.glob(str(path)))
        if not found:
            raise AreaConfigError(f"{source}: input {key!r} = {pattern!r} matches no files (looked for {path}).")
        return found
    if not path.exists():
        raise AreaConfigError(f"{source}: input {key!r} = {pattern!r} does not exist (looked for {path}).")
    return [path]


def read_area_config(path: str | os.PathLike) -> AreaConfig:
    """Read and check an area configuration; every input path is resolved and must exist.

    Raises
    ------
    AreaConfigError
        The file is missing or not valid TOML, a section or key is unknown, a required key is missing
        or of the wrong type, or an input cannot be found. The message names the key and the file.
    """
    source = Path(path).resolve()
    if not source.is_file():
        raise AreaConfigError(f"the area configuration {source} does not exist.")
    try:
        config = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise AreaConfigError(f"{source} is not valid TOML: {err}.") from None
    except UnicodeDecodeError:
        raise AreaConfigError(f"{source} is not UTF-8 text.") from None
    unknown = sorted(set(config) - set(_SECTIONS))
    if unknown:
        raise AreaConfigError(f"{source}: unknown section(s) {unknown}; expected {sorted(_SECTIONS)}.")
    for section, keys in _SECTIONS.items():
        if section == "extracts":
            continue
        got = config.get(section, {})
        if not isinstance(got, dict):
            raise AreaConfigError(f"{source}: [{section}] must be a table of keys.")
        if section == "parameters":  # planning figures: dotted keys, tables of them, and their sources
            got = {k: v for k, v in got.items() if k in keys}
        bad = sorted(set(got) - set(keys))
        if bad:
            raise AreaConfigError(f"{source}: unknown key(s) {bad} in [{section}]; allowed keys: {sorted(keys)}.")
        for key in _REQUIRED.get(section, ()):
            if key not in got:
                raise AreaConfigError(f"{source}: the required key {key!r} is missing from [{section}].")
        for key, value in got.items():
            if not isinstance(value, keys[key]):
                want = keys[key].__name__ if isinstance(keys[key], type) else "text or a list of text"
                raise AreaConfigError(f"{source}: [{section}] {key} must be {want}, got {value!r}.")
    area, inputs = config["area"], config["inputs"]
    params = {k: v for k, v in config.get("parameters", {}).items() if k in _SECTIONS["parameters"]}
    planning = _planning(config.get("parameters", {}), source)
    level = area.get("district_level", "LAD")
    if level != "LAD":
        raise AreaConfigError(
            f"{source}: [area] district_level must be 'LAD' (the only level supported), got {level!r}."
        )
    base = source.parent
    if "data_dir" in inputs:
        data_dir = Path(os.path.expanduser(_expand(inputs["data_dir"], "data_dir", source)))
        base = data_dir if data_dir.is_absolute() else (source.parent / data_dir)
        if not base.is_dir():
            raise AreaConfigError(
                f"{source}: data_dir {inputs['data_dir']!r} is not a folder (looked for "
                f"{base.resolve()}); set VICTIMNEEDS_DATA or edit the configuration."
            )
    resolved: dict[str, list[Path]] = {}
    templates: dict[str, list[str]] = {}
    for key, value in inputs.items():
        if key == "data_dir":
            continue
        patterns = value if isinstance(value, list) else [value]
        if key == "boundaries" and any(DISTRICT in str(p) for p in patterns):
            templates[key] = [str(base / os.path.expanduser(_expand(str(p), key, source))) for p in patterns]
            continue
        resolved[key] = [p for pattern in patterns for p in _resolve(str(pattern), base, key, source)]

    def fail(message: str) -> None:
        raise AreaConfigError(f"{source}: {message}")

    extracts_base = source.parent
    section = config.get("extracts", {})
    if isinstance(section, dict) and isinstance(section.get("folder"), str):
        folder = Path(os.path.expanduser(_expand(section["folder"], "extracts.folder", source)))
        extracts_base = folder if folder.is_absolute() else source.parent / folder
        if not extracts_base.is_dir():
            fail(f"[extracts] folder {section['folder']!r} is not a folder (looked for {extracts_base.resolve()}).")
    extracts = parse_extracts(section, lambda text, key: _resolve(text, extracts_base, key, source)[0], fail)
    if "policeuk" not in resolved and "crimes" not in extracts:
        fail("the area has no crimes: give [inputs] policeuk (data.police.uk files) or an [extracts.crimes] "
             "section (the force's crime extract).")
    if "months" in params:
        months = params["months"]
        good = (isinstance(months, list) and len(months) == 2
                and all(isinstance(m, str) and re.fullmatch(r"\d{4}-\d{2}", m) for m in months))
        try:
            if not good:
                raise ValueError
            params["months"] = tuple(str(pd.Period(m, freq="M")) for m in months)
            if params["months"][0] > params["months"][1]:
                raise ValueError
        except (ValueError, TypeError):
            raise AreaConfigError(
                f'{source}: [parameters] months must be two months written as text "YYYY-MM", first then last, '
                f'like ["2019-12", "2022-11"]; got {months!r}.'
            ) from None
    if "cache_dir" in params and not str(params["cache_dir"]).strip():
        fail("[parameters] cache_dir is empty; give a folder (or leave the key out to use ~/.cache/victimneeds).")
    for key, allowed in (("outside_area", ("keep", "drop")), ("duplicates", ("merge", "keep"))):
        if key in params and params[key] not in allowed:
            raise AreaConfigError(f"{source}: [parameters] {key} must be one of {allowed}, got {params[key]!r}.")
    policy = None
    if config.get("disclosure"):
        from victimneeds.disclosure import DisclosurePolicy

        try:
            policy = DisclosurePolicy.from_mapping(config["disclosure"])
        except (ValueError, TypeError) as err:
            fail(f"[disclosure] {err}")
    return AreaConfig(source, area["name"], area["force"], area.get("pfa_code"), level, resolved, params, extracts,
                      templates, policy, planning)


def _planning(section: dict[str, Any], source: Path) -> dict[str, dict]:
    """The area's planning figures from ``[parameters]``: every key that is not a run option, checked against the
    planning rules (:func:`victimneeds.capacity.check_parameters`)."""
    run = _SECTIONS["parameters"]
    given = {k: v for k, v in section.items() if k not in run}
    plain = sorted(k for k, v in given.items() if "." not in k and k != "sources" and not isinstance(v, dict))
    if plain:
        raise AreaConfigError(
            f"{source}: unknown key(s) {plain} in [parameters]. The run options are {sorted(run)}; a planning "
            "figure is written lot.parameter in quotes, e.g. \"ISVA.referrals_per_fte_year\" = 70 with its source "
            "under [parameters.sources] (every key is listed in docs/parameters.md)."
        )
    if not given:
        return {}
    from victimneeds.capacity import check_parameters

    try:
        return check_parameters(given)
    except ValueError as err:
        raise AreaConfigError(f"{source}: [parameters] {err}") from None


def load_area(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> AreaData:
    """Read a PCC area from public data, as described by an area configuration.

    What is built:

    * ``areas``: the force's LSOAs (those whose LAD is in ``pfa_code`` in the LAD-CSP-PFA lookup, or all
      LSOAs in the boundary files when no ``pfa_code``), with boundaries (EPSG:27700), the LAD code and
      name from the OA lookup, the LSOA population total, the IMD score and decile, and
      ``urban_rural`` from the 2011 LSOA area classification (see
      :func:`victimneeds.io.ons.urban_rural_from_soac`: supergroup "Countryside living" = rural).
    * ``population``: each LSOA total split into sex x age band by its LAD's age-sex structure from
      the MYE2 table (:func:`victimneeds.io.ons.split_population`; whole numbers that add up to the
      LSOA total).
    * ``crimes``: data.police.uk street files (:func:`victimneeds.io.read_policeuk`), with districts.
    * ``crimes`` from the force's own extract when ``[extracts.crimes]`` is given: it replaces the police.uk
      rows of the months and crime types it covers (the report says how many).
    * ``referrals``, ``services``, ``survey``: read from ``[extracts.<table>]`` with
      :func:`victimneeds.io.read_extract` (None when not supplied: they are not public data); a referral naming
      a crime not in the crimes table is kept and counted.
    * ``population`` from ``[extracts.population]`` when given, replacing the split ONS estimates.
    * ``quality``: the report of every reader, by table; ``sources``: sentences naming the files.

    Raises
    ------
    AreaConfigError
        The configuration is wrong or an input is missing or unreadable (one paragraph, naming the
        key or file; no traceback chain).
    """
    config = read_area_config(path)
    try:
        return _load(config, cache_dir)
    except DataFileError as err:
        raise AreaConfigError(f"{config.path}: an input cannot be read. {err}") from None


def _load(config: AreaConfig, cache_dir: str | os.PathLike | None,
          problems: list[str] | None = None) -> AreaData:
    """Build the area; with ``problems`` (a list), an extract that cannot be read is noted there and left out."""
    quality: dict[str, pd.DataFrame] = {}
    area_report = Report()

    lookup, l_report = read_lookup(config.one("lsoa_lookup"))
    if "lsoa_code" not in lookup:
        raise AreaConfigError(
            f"{config.path}: input 'lsoa_lookup' ({config.one('lsoa_lookup')}) is not an OA-LSOA-LAD lookup."
        )
    reports = [l_report]
    lads: set[str] | None = None
    if config.pfa_code and "pfa_lookup" in config.inputs:
        pfa, p_report = read_lookup(config.one("pfa_lookup"))
        if "pfa_code" not in pfa:
            raise AreaConfigError(f"{config.path}: input 'pfa_lookup' is not a LAD-CSP-PFA lookup.")
        reports.append(p_report)
        lads = set(pfa.loc[pfa["pfa_code"] == config.pfa_code, "lad_code"])
        if not lads:
            raise AreaConfigError(
                f"{config.path}: [area] pfa_code {config.pfa_code!r} is not in {config.one('pfa_lookup')}."
            )
    boundary_files = _boundary_files(config, lads)
    boundaries, b_report = read_boundaries(boundary_files)
    reports.insert(0, b_report)
    if lads is not None:
        lsoas = lookup.loc[lookup["lad_code"].isin(lads)]
    else:
        lsoas = lookup.loc[lookup["lsoa_code"].isin(boundaries["area_code"])]
    area_report.add(
        "lookups", "lsoas_in_area", len(lsoas), "kept", f"LSOAs of the area ({lsoas['lad_code'].nunique()} LADs)"
    )
    no_shape = sorted(set(lsoas["lsoa_code"]) - set(boundaries["area_code"]))
    if no_shape:
        area_report.add(
            "boundaries",
            "lsoa_without_boundary",
            len(no_shape),
            "kept, no shape",
            f"LSOAs of the area with no boundary, e.g. {describe_values(no_shape, 3)}",
        )
    extra = sorted(set(boundaries["area_code"]) - set(lsoas["lsoa_code"]))
    if extra:
        area_report.add(
            "boundaries",
            "boundary_outside_area",
            len(extra),
            "excluded",
            f"boundaries of LSOAs not in the area, e.g. {describe_values(extra, 3)}",
        )

    pop, pop_report = read_population_lsoa(config.one("population_lsoa"))
    imd, imd_report = read_imd(config.one("imd"), config.one("imd_scores"))
    reports += [pop_report, imd_report]
    table = lsoas.rename(
        columns={
            "lsoa_code": "area_code",
            "lsoa_name": "area_name",
            "lad_code": "district_code",
            "lad_name": "district_name",
        }
    )
    table = table.merge(pop, on="area_code", how="left")
    no_pop = table["population"].isna()
    if no_pop.any():
        raise AreaConfigError(
            f"{config.path}: input 'population_lsoa' has no population for "
            f"{int(no_pop.sum())} LSOAs of the area, e.g. "
            f"{describe_values(table.loc[no_pop, 'area_code'], 3)}."
        )
    table["population"] = table["population"].astype("int64")
    table = table.merge(imd[["area_code", "imd_score", "imd_decile"]], on="area_code", how="left")
    no_imd = table["imd_decile"].isna()
    if no_imd.any():
        area_report.add(
            "imd",
            "lsoa_without_imd",
            int(no_imd.sum()),
            "imd missing",
            f"LSOAs of the area with no IMD, e.g. {describe_values(table.loc[no_imd, 'area_code'], 3)}",
        )
        table["imd_decile"] = table["imd_decile"].astype("Int64")
    else:
        table["imd_decile"] = table["imd_decile"].astype("int64")
    geometry = table["area_code"].map(boundaries.set_index("area_code")["geometry"])
    areas = (
        gpd.GeoDataFrame(
            table[
                [
                    "area_code",
                    "area_name",
                    "district_code",
                    "district_name",
                    "population",
                    "imd_score",
                    "imd_decile",
                    "urban_rural",
                    "msoa_code",
                    "soac_code",
                    "soac_name",
                ]
            ].reset_index(drop=True),
            geometry=gpd.GeoSeries(geometry.to_numpy(), crs=BNG),
            crs=BNG,
        )
        .sort_values("area_code")
        .reset_index(drop=True)
    )
    for col in ("area_code", "area_name", "district_code", "district_name"):
        areas[col] = areas[col].astype(str)
    validate(areas, "areas", source=str(config.path))

    lad_codes = sorted(areas["district_code"].unique())
    lad_pop, lad_report = read_population_lad(config.one("population_lad"), codes=lad_codes)
    reports.append(lad_report)
    structure = lad_pop.rename(columns={"lad_code": "district_code"})
    population = split_population(areas[["area_code", "district_code", "population"]], structure)
    validate(population, "population", source=str(config.one("population_lsoa")))
    split_report = Report()
    split_report.add(
        "population",
        "population_split",
        len(areas),
        "computed",
        "LSOA mid-2019 totals split into sex x age band by the LAD's mid-2020 age-sex shares "
        "(synthetic estimation, largest-remainder rounding; cells add to the LSOA total)",
    )
    quality["areas"] = pd.concat([*(r for r in reports), area_report.frame()], ignore_index=True)
    quality["population"] = pd.concat([lad_report, split_report.frame()], ignore_index=True)

    params = config.parameters
    crimes, crime_report = None, pd.DataFrame()
    if "policeuk" in config.inputs:
        crimes, crime_report = read_policeuk(
            config.inputs["policeuk"],
            force=config.force,
            areas=areas,
            lsoa2011=set(lookup["lsoa_code"]),
            cache_dir=cache_dir if cache_dir is not None else params.get("cache_dir"),
            months=params.get("months"),
            duplicates=params.get("duplicates", "merge"),
        )
    tables, extract_reports = _read_extracts(config, areas, problems)
    if "population" in tables:
        population, areas = _population_override(config, tables.pop("population"), areas, extract_reports)
    if "crimes" in tables:
        crimes, crime_report = _combine_crimes(tables["crimes"], crimes, crime_report, extract_reports["crimes"],
                                               params.get("months"))
    if crimes is None:
        raise AreaConfigError(f"{config.path}: the crimes extract cannot be read, so the area has no crimes.")
    if params.get("outside_area", "keep") == "drop":
        outside = crimes["area_code"].notna() & crimes["district_code"].isna()
        crimes = crimes.loc[~outside].reset_index(drop=True)
        extra_row = Report()
        extra_row.add(
            "all files",
            "outside_area_dropped",
            int(outside.sum()),
            "excluded",
            "rows with an LSOA outside the area removed ([parameters] outside_area = 'drop')",
        )
        crime_report = pd.concat([crime_report, extra_row.frame()], ignore_index=True)
    quality["crimes"] = crime_report
    if "referrals" in tables:
        extract_reports["referrals"] = pd.concat(
            [extract_reports["referrals"], _linkage(tables["referrals"], crimes, config)], ignore_index=True)
    for table in ("referrals", "services", "survey"):
        if table in extract_reports:
            quality[table] = extract_reports[table]
    period = (crimes["month"].min(), crimes["month"].max()) if len(crimes) else None

    def names(key: str) -> str:
        files = config.inputs.get(key, [])
        if len(files) > 3:
            return f"{len(files)} files in {files[0].parent.name}/ ({files[0].name} ... {files[-1].name})"
        return ", ".join(f.name for f in files)

    ogl = "Open Government Licence v3.0"
    n_files = int((crime_report["check"] == "rows_read").sum())
    sources: dict[str, str] = {
        "areas": (
            f"LSOA 2011 boundaries ({names('boundaries')}; ONS/OS, {ogl}, OS OpenData), the ONS OA-LSOA-"
            f"MSOA-LAD lookup with area classifications ({names('lsoa_lookup')}; ONS, {ogl}), "
            f"mid-2019 LSOA population ({names('population_lsoa')}; ONS via mySociety), and the English "
            f"Indices of Deprivation 2019 ({names('imd')}; MHCLG, {ogl}; scores "
            f"{names('imd_scores') or 'not given'}, mySociety CC BY 4.0)"
        ),
        "population": (
            f"mid-2019 LSOA totals ({names('population_lsoa')}) split by the mid-2020 LAD "
            f"age-sex structure ({names('population_lad')}; ONS MYE2, {ogl})"
        ),
    }
    if "policeuk" in config.inputs:
        sources["crimes"] = (
            f"data.police.uk street-level crime, {config.force} ({n_files} files {names('policeuk')}, "
            f"{period[0] if period else ''}..{period[1] if period else ''}; Home Office, "
            f"{ogl})"
            + ("; no domestic-abuse or hate flags and no victim details in public data" if "crimes" not in tables
               else "")
        )
    for table, spec in config.extracts.items():
        if table in tables or table == "population":
            what = _EXTRACT_WORDS[table]
            sources[table] = f"{what} ({spec.file.name}), supplied by the area" + (
                sources.get(table, "") and f"; {sources[table]}")
    if "crimes" in tables and "policeuk" in config.inputs:
        sources["crimes"] = (f"{_EXTRACT_WORDS['crimes']} ({config.extracts['crimes'].file.name}) for the months it "
                             f"covers, data.police.uk street-level crime ({config.force}) for the others; Home "
                             f"Office, {ogl}")
    if "pfa_lookup" in config.inputs:
        sources["areas"] += f"; force area from the ONS LAD-CSP-PFA lookup ({names('pfa_lookup')}, {ogl})"
    return AreaData(
        name=config.name,
        areas=areas,
        population=population,
        crimes=crimes,
        referrals=tables.get("referrals"),
        services=tables.get("services"),
        survey=tables.get("survey"),
        disclosure=config.disclosure,
        parameters=dict(config.planning),
        period=period,
        sources=sources,
        synthetic=False,
        quality=quality,
    )


_EXTRACT_WORDS = {
    "crimes": "the force's crime extract",
    "referrals": "the victim service's case records",
    "services": "the list of commissioned services",
    "survey": "the victim satisfaction survey",
    "population": "the area's own population table",
}


def _boundary_files(config: AreaConfig, lads: set[str] | None) -> list[Path]:
    """Boundary files: as listed, or one per district when the pattern holds ``{district}``."""
    if "boundaries" not in config.templates:
        return config.inputs["boundaries"]
    if lads is None:
        raise AreaConfigError(
            f"{config.path}: [inputs] boundaries uses {DISTRICT}, which needs [area] pfa_code and [inputs] "
            "pfa_lookup to know the area's districts."
        )
    files, missing = [], []
    for template in config.templates["boundaries"]:
        for lad in sorted(lads):
            path = Path(template.replace(DISTRICT, lad))
            (files if path.is_file() else missing).append(path)
    if missing:
        raise AreaConfigError(
            f"{config.path}: input 'boundaries' has no file for {len(missing)} district(s) of the area, e.g. "
            f"{missing[0]}."
        )
    return files


def _read_extracts(config: AreaConfig, areas: gpd.GeoDataFrame,
                   problems: list[str] | None) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    tables: dict[str, pd.DataFrame] = {}
    reports: dict[str, pd.DataFrame] = {}
    plain = pd.DataFrame(areas.drop(columns="geometry"))
    for table in ("population", "crimes", "referrals", "services", "survey"):
        spec = config.extracts.get(table)
        if spec is None:
            continue
        try:
            frame, report = read_extract(spec.file, areas=plain, crimes=tables.get("crimes"), **spec.options())
        except (DataFileError, ValueError) as err:
            if problems is None:
                raise AreaConfigError(f"{config.path}: the {table} extract cannot be read. {err}") from None
            problems.append(f"{table}: {err}")
            continue
        tables[table] = frame
        reports[table] = report
    return tables, reports


def _population_override(config: AreaConfig, population: pd.DataFrame, areas: gpd.GeoDataFrame,
                         reports: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """The area's own population table replaces the split ONS estimates; area totals follow it."""
    unknown = sorted(set(population["area_code"]) - set(areas["area_code"]))
    missing = sorted(set(areas["area_code"]) - set(population["area_code"]))
    if unknown or missing:
        raise AreaConfigError(
            f"{config.path}: the population extract must cover exactly the area's small areas; it has "
            f"{len(unknown)} codes not in the area and lacks {len(missing)} of the area's "
            f"(e.g. {describe_values((unknown or missing)[:3])})."
        )
    totals = population.groupby("area_code")["population"].sum()
    areas = areas.copy()
    areas["population"] = areas["area_code"].map(totals).astype("int64")
    return population, areas


def _combine_crimes(extract: pd.DataFrame, policeuk: pd.DataFrame | None, policeuk_report: pd.DataFrame,
                    extract_report: pd.DataFrame, months: tuple[str, str] | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The force's extract replaces police.uk for the months and crime types it covers."""
    report = Report()
    if months is not None:
        first, last = pd.Period(months[0], "M"), pd.Period(months[1], "M")
        inside = extract["month"].between(first, last)
        if (~inside).any():
            report.add("crimes extract", "outside_months", int((~inside).sum()), "excluded",
                       f"crimes recorded outside [parameters] months {months[0]}..{months[1]}")
            extract = extract.loc[inside].reset_index(drop=True)
    if policeuk is None or policeuk.empty:
        return extract, pd.concat([extract_report, report.frame()], ignore_index=True)
    covered = set(extract["month"].dropna().unique())
    types = set(extract["crime_type"].dropna().astype(str))
    replaced = policeuk["month"].isin(covered) & policeuk["crime_type"].astype(str).isin(types)
    kept_types = sorted(set(policeuk.loc[policeuk["month"].isin(covered) & ~replaced, "crime_type"].astype(str)))
    report.add("crimes extract", "policeuk_replaced", int(replaced.sum()), "replaced",
               f"data.police.uk rows of the {len(covered)} months the force's extract covers "
               f"({min(covered) if covered else ''}..{max(covered) if covered else ''}) replaced by the extract"
               + (f"; crime types the extract does not hold are kept from police.uk: {kept_types}" if kept_types
                  else ""))
    rest = policeuk.loc[~replaced]
    combined = pd.concat([extract, rest], ignore_index=True)
    for col in ("crime_type", "crime_group", "victim_sex", "victim_age_band", "victim_ethnicity"):
        if col in extract and isinstance(extract[col].dtype, pd.CategoricalDtype):
            combined[col] = pd.Categorical(combined[col].astype(object), categories=extract[col].cat.categories)
    for col in ("is_domestic_abuse", "is_hate", "is_repeat_victim", "victim_identified", "needs_assessment_done",
                "need_identified", "consent_to_refer", "is_sexual_offence"):
        if col in combined:
            combined[col] = pd.array(combined[col].astype(object).where(combined[col].notna(), None).tolist(),
                                     dtype="boolean")
    combined = combined.sort_values("month", kind="stable").reset_index(drop=True)
    validate(combined, "crimes", source="crimes extract and data.police.uk")
    return combined, pd.concat([policeuk_report, extract_report, report.frame()], ignore_index=True)


def _linkage(referrals: pd.DataFrame, crimes: pd.DataFrame, config: AreaConfig) -> pd.DataFrame:
    """How many referrals name a crime, and how many of those crimes are in the crimes table."""
    report = Report()
    named = referrals["crime_id"].notna()
    found = named & referrals["crime_id"].isin(set(crimes["crime_id"]))
    report.add("referrals and crimes", "referrals_naming_a_crime", int(named.sum()), "checked",
               "referrals that give a crime reference")
    report.add("referrals and crimes", "referrals_linked", int(found.sum()), "linked",
               f"referrals whose crime is in the crimes table ({100 * found.sum() / max(1, named.sum()):.1f}% of "
               "those naming one)")
    if (named & ~found).any():
        report.add("referrals and crimes", "crime_not_found", int((named & ~found).sum()), "kept, not linked",
                   "referrals naming a crime reference that is not in the crimes table (a different reference "
                   "format? see [extracts.referrals.ids]; or a crime outside the months supplied)")
    return report.frame()
