"""Read a user's own extracts (force crimes, victim-service referrals, services, survey) into canonical tables.

See :func:`read_extract` for one file, and the ``[extracts]`` section of an area configuration
(:mod:`victimneeds.io.config`) for the files of a whole area.
"""

from victimneeds.io.extract.dates import CONVENTIONS, parse_dates, parse_months
from victimneeds.io.extract.ids import MIN_SALT_LENGTH, SALT_HELP, check_salt, normalise_ids, pseudonymise
from victimneeds.io.extract.personal import mask, personal_reason
from victimneeds.io.extract.reader import (
    EXTRACT_TABLES,
    ID_COLUMNS,
    OPTIONAL_COLUMNS,
    ExtractError,
    Problem,
    read_extract,
)

__all__ = [
    "read_extract",
    "pseudonymise",
    "ID_COLUMNS",
    "OPTIONAL_COLUMNS",
    "EXTRACT_TABLES",
    "ExtractError",
    "Problem",
    "CONVENTIONS",
    "parse_dates",
    "parse_months",
    "MIN_SALT_LENGTH",
    "SALT_HELP",
    "check_salt",
    "normalise_ids",
    "mask",
    "personal_reason",
]
