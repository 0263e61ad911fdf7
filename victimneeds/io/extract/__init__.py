"""Read a user's own extracts (force crimes, victim-service referrals, services, survey) into canonical tables."""

from victimneeds.io.extract._legacy import ID_COLUMNS, pseudonymise, read_extract

__all__ = ["read_extract", "pseudonymise", "ID_COLUMNS"]
