"""Read and check real files: data.police.uk, ONS geography and population, MHCLG deprivation, extracts.

Every reader returns a named tuple ``(table, report)`` (:class:`ReadResult`; for police.uk,
:class:`PoliceUKData` with ``.crimes``): the table in (or close to) the canonical data model of
:mod:`victimneeds.datamodel`, and a tidy data-quality report (``source, check, count, action, detail``)
saying what was read, kept, changed and excluded, file by file. :func:`load_area` reads a whole area
from a TOML configuration such as ``data/areas/leicestershire.toml``.
"""

from victimneeds.io._report import REPORT_COLUMNS, DataFileError, ReadResult
from victimneeds.io.config import AreaConfig, AreaConfigError, load_area, read_area_config
from victimneeds.io.extract import ID_COLUMNS, pseudonymise, read_extract
from victimneeds.io.fetch import FetchError, FetchResult, fetch_policeuk
from victimneeds.io.imd import read_imd
from victimneeds.io.ons import (
    BNG,
    age_band_of,
    read_boundaries,
    read_lookup,
    read_population_lad,
    read_population_lsoa,
    split_population,
    urban_rural_from_soac,
)
from victimneeds.io.policeuk import (
    OUTCOME_COLUMNS,
    STREET_COLUMNS,
    UK_BOUNDS,
    PoliceUKData,
    default_cache_dir,
    lsoa_vintage,
    read_policeuk,
    wait_for_cache,
)

__all__ = [
    "REPORT_COLUMNS",
    "DataFileError",
    "ReadResult",
    "AreaConfig",
    "AreaConfigError",
    "load_area",
    "read_area_config",
    "ID_COLUMNS",
    "pseudonymise",
    "read_extract",
    "FetchError",
    "FetchResult",
    "fetch_policeuk",
    "read_imd",
    "BNG",
    "age_band_of",
    "read_boundaries",
    "read_lookup",
    "read_population_lad",
    "read_population_lsoa",
    "split_population",
    "urban_rural_from_soac",
    "OUTCOME_COLUMNS",
    "STREET_COLUMNS",
    "UK_BOUNDS",
    "PoliceUKData",
    "default_cache_dir",
    "lsoa_vintage",
    "read_policeuk",
    "wait_for_cache",
]
