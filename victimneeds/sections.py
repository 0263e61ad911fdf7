"""The assessment's sections and the tables and columns each needs: what will run for an area, and how to enable
what will not.

Used by ``victimneeds check`` (before a build: which sections will run or be skipped, and why) and by the
notebooks' skip messages, so both say the same thing: which extract and which columns would enable a section,
and how to supply them in the area configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from victimneeds.datamodel import AreaData

__all__ = ["Section", "SECTIONS", "SectionStatus", "status", "how_to_enable", "TABLE_WORDS"]

#: What each extract table is, in the words of the person who holds it.
TABLE_WORDS: dict[str, str] = {
    "crimes": "the force's crime extract (crimes with flags, victim details, needs assessment, consent, outcome)",
    "referrals": "the victim service's case-management extract (referrals, contact, support, closure)",
    "services": "the list of commissioned services (lot, provider, districts served, annual funding)",
    "survey": "the victim satisfaction survey (one row per response)",
}


@dataclass(frozen=True)
class Section:
    """One notebook of the assessment and the inputs its full analysis needs."""

    notebook: str
    title: str
    #: table -> columns that must hold at least one value.
    needs: dict[str, tuple[str, ...]]


SECTIONS: tuple[Section, ...] = (
    Section("00_area_profile", "Area profile", {"crimes": ("month", "crime_type")}),
    Section("01_demand", "Demand", {"crimes": ("month", "crime_group")}),
    Section(
        "02_referral_gaps",
        "Referral gaps",
        {
            "crimes": ("crime_id", "victim_identified", "needs_assessment_done", "need_identified",
                       "consent_to_refer"),
            "referrals": ("referral_id", "crime_id", "service", "source", "referral_date", "contact_made",
                          "support_accepted"),
        },
    ),
    Section("03_funding_equity", "Funding equity", {"services": ("annual_funding", "districts_served")}),
    Section(
        "04_service_specification",
        "Service specification",
        {"referrals": ("service", "referral_date", "support_level", "closed_date"),
         "services": ("service_name", "lot", "annual_funding")},
    ),
    Section("05_victim_voice", "Victim voice", {"survey": ("response_date", "satisfied_whole_experience")}),
    Section("06_outcomes", "Outcomes", {"crimes": ("outcome",)}),
)


@dataclass
class SectionStatus:
    """Whether a section will run for an area and, if not, what is missing and how to supply it."""

    notebook: str
    title: str
    runs: bool
    missing: dict[str, tuple[str, ...]]

    @property
    def reason(self) -> str:
        if self.runs:
            return "all its inputs are supplied"
        return "; ".join(how_to_enable(t, c) for t, c in self.missing.items())


def _empty(table: pd.DataFrame, column: str) -> bool:
    return column not in table or not table[column].notna().any()


def status(data: AreaData) -> list[SectionStatus]:
    """For each section: will it run on ``data``, and if not, which tables and columns are missing.

    Examples
    --------
    >>> from victimneeds.datasets import load_example
    >>> [s.runs for s in status(load_example())]
    [True, True, True, True, True, True, True]
    """
    out = []
    for section in SECTIONS:
        missing: dict[str, tuple[str, ...]] = {}
        for table, columns in section.needs.items():
            frame = getattr(data, table)
            if frame is None:
                missing[table] = columns
                continue
            lacking = tuple(c for c in columns if _empty(frame, c))
            if lacking:
                missing[table] = lacking
        out.append(SectionStatus(section.notebook, section.title, not missing, missing))
    return out


def how_to_enable(table: str, columns: tuple[str, ...] | list[str] = ()) -> str:
    """A sentence saying which extract and columns enable a section, and how to supply them.

    Examples
    --------
    >>> how_to_enable("survey", ["response_date"])[:60]
    'it needs the survey table: the victim satisfaction survey (o'
    """
    cols = ", ".join(columns)
    return (
        f"it needs the {table} table: {TABLE_WORDS.get(table, table)}"
        + (f", with the column(s) {cols} filled" if cols else "")
        + f". Add an [extracts.{table}] section to the area configuration naming the file and mapping its columns "
        f"(\"Your column\" = \"{columns[0] if columns else 'column'}\"), then run victimneeds check --area FILE; "
        "victimneeds init writes a template and docs/data-model.md defines every column"
    )


def skip_text(table: str, columns: tuple[str, ...] | list[str] = ()) -> str:
    """The ``needs`` text for :meth:`victimneeds.report.Output.skip`: the table, then how to supply it."""
    if not columns:
        columns = tuple(dict.fromkeys(c for s in SECTIONS for c in s.needs.get(table, ())))
    cols = ", ".join(columns)
    return (f"{TABLE_WORDS.get(table, table).removeprefix('the ')}: the {table} table"
            + (f" with {cols}" if cols else "")
            + f". To add it, name the file in an [extracts.{table}] section of the area configuration and map its "
            "columns; docs/data-model.md defines each column and victimneeds init writes a template")
