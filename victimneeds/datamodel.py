"""The canonical data model: the tables every analysis speaks.

Every loader (the built-in example area in :mod:`victimneeds.datasets`, the real-file readers in
:mod:`victimneeds.io`) returns these tables, and every analysis reads them. Each table has a pandera
schema here; ``docs/data-model.md`` describes each column for a policy officer.

Tables
------
``areas``       small areas (LSOA-like), a GeoDataFrame in EPSG:27700, one row per small area.
``population``  residents by small area, sex and age band (long form).
``crimes``      one row per recorded crime or incident.
``referrals``   one row per victim entering the victim service.
``services``    one row per commissioned service.
``survey``      one row per victim-survey response.

They travel together in an :class:`AreaData` bundle, which also says where they came from and whether
they are synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pandera.pandas as pa

# --------------------------------------------------------------------------------------------------
# Vocabularies
# --------------------------------------------------------------------------------------------------

#: The 14 crime types published by data.police.uk, in their published spelling.
CRIME_TYPES: tuple[str, ...] = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)

#: The crime groups a needs assessment reports on. A crime falls in exactly one group, taken in this
#: order of priority: a domestic-abuse flag wins over a sexual offence, which wins over a hate flag,
#: which wins over the police.uk type (see :func:`crime_group_for`).
CRIME_GROUPS: tuple[str, ...] = (
    "Domestic abuse",
    "Sexual violence",
    "Hate crime",
    "Violence",
    "Burglary",
    "Robbery",
    "Anti-social behaviour",
    "Other",
)

SEXES: tuple[str, ...] = ("Female", "Male")
#: Victim sex as recorded, where "Unknown" is a recorded value (not a missing one).
VICTIM_SEXES: tuple[str, ...] = ("Female", "Male", "Unknown")

#: Age bands for residents and victims. Bands are chosen to aggregate to the survey bands (16-24, ...,
#: 65-74, 75+) and to split children (0-15) from adults.
AGE_BANDS: tuple[str, ...] = ("0-15", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")
VICTIM_AGE_BANDS: tuple[str, ...] = AGE_BANDS + ("Unknown",)

#: ONS five high-level ethnic groups, plus "Unknown".
ETHNICITIES: tuple[str, ...] = ("Asian", "Black", "Mixed", "White", "Other", "Unknown")

URBAN_RURAL: tuple[str, ...] = ("Urban", "Rural")
REFERRAL_SOURCES: tuple[str, ...] = ("Police", "Self", "Partner")
RISK_LEVELS: tuple[str, ...] = ("Standard", "Medium", "High")
SUPPORT_LEVELS: tuple[str, ...] = ("Basic", "Enhanced")
ONWARD_TARGETS: tuple[str, ...] = (
    "None",
    "IDVA",
    "ISVA",
    "Counselling",
    "Young victims",
    "Hate crime",
    "Restorative justice",
    "Practical support",
)
#: Commissioned lots (the tender's units).
LOTS: tuple[str, ...] = (
    "Victim advice line",
    "IDVA",
    "ISVA",
    "Young victims",
    "Hate crime",
    "ASB",
    "Practical support",
    "Restorative justice",
)
#: Survey satisfaction stages, as in the Home Office victim satisfaction survey.
SATISFACTION_STAGES: tuple[str, ...] = ("contact", "actions", "kept_informed", "treatment", "whole_experience")

#: The 12 rights of the Code of Practice for Victims of Crime (the Victims' Code), 2021.
VICTIMS_CODE_RIGHTS: dict[int, str] = {
    1: "To be able to understand and to be understood",
    2: "To have the details of the crime recorded without unjustified delay",
    3: "To be provided with information when reporting the crime",
    4: "To be referred to services that support victims and have services and support tailored to your needs",
    5: "To be provided with information about compensation",
    6: "To be provided with information about the investigation and prosecution",
    7: "To make a Victim Personal Statement",
    8: "To be given information about the trial, trial process and your role as a witness",
    9: "To be given information about the outcome of the case and any appeals",
    10: "To be paid expenses and have property returned",
    11: "To be given information about the offender following a conviction",
    12: "To make a complaint about your Rights not being met",
}

#: police.uk crime type -> crime group, used when no flag says otherwise.
_TYPE_TO_GROUP: dict[str, str] = {
    "Anti-social behaviour": "Anti-social behaviour",
    "Burglary": "Burglary",
    "Robbery": "Robbery",
    "Violence and sexual offences": "Violence",
    "Possession of weapons": "Other",
    "Public order": "Other",
}


def crime_group_for(
    crime_type: pd.Series,
    is_domestic_abuse: pd.Series | None = None,
    is_sexual_offence: pd.Series | None = None,
    is_hate: pd.Series | None = None,
) -> pd.Series:
    """Assign each crime to one crime group.

    Priority: domestic abuse flag, then sexual offence, then hate flag, then the police.uk type. Missing
    flags (as in public police.uk data, which carries none) count as "not flagged", so public data
    puts all violence and sexual offences in "Violence".

    Examples
    --------
    >>> t = pd.Series(["Burglary", "Violence and sexual offences", "Shoplifting"])
    >>> da = pd.Series([False, True, False])
    >>> crime_group_for(t, is_domestic_abuse=da).tolist()
    ['Burglary', 'Domestic abuse', 'Other']
    """
    crime_type = pd.Series(crime_type).astype("string")
    unknown = sorted(set(crime_type.dropna()) - set(CRIME_TYPES))
    if unknown:
        raise ValueError(f"crime_type has values that are not police.uk crime types: {unknown[:5]}")
    group = crime_type.map(lambda t: _TYPE_TO_GROUP.get(t, "Other") if isinstance(t, str) else "Other")
    group = group.astype(object).to_numpy().copy()
    for flag, name in ((is_hate, "Hate crime"), (is_sexual_offence, "Sexual violence"),
                       (is_domestic_abuse, "Domestic abuse")):
        if flag is not None:
            mask = pd.array(flag, dtype="boolean").fillna(False).to_numpy(dtype=bool)
            group[mask] = name
    return pd.Series(pd.Categorical(group, categories=CRIME_GROUPS), index=crime_type.index, name="crime_group")


def categorical(values: Any, categories: tuple[str, ...]) -> pd.Categorical:
    """A pandas Categorical over a fixed vocabulary; raises naming values outside it."""
    cat = pd.Categorical(values, categories=list(categories))
    raw = pd.Series(values)
    bad = raw[pd.isna(cat) & raw.notna()]
    if len(bad):
        raise ValueError(f"values outside the allowed set {list(categories)}: {sorted(set(bad.astype(str)))[:5]}")
    return cat


# --------------------------------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------------------------------

def _cat(values: tuple[str, ...], nullable: bool = False, **kw: Any) -> pa.Column:
    return pa.Column(pd.CategoricalDtype(list(values)), nullable=nullable, **kw)


def _flag(nullable: bool = True, **kw: Any) -> pa.Column:
    return pa.Column("boolean", nullable=nullable, **kw)


_code = pa.Check.str_matches(r"^[A-Za-z0-9_\-]+$")

AREAS = pa.DataFrameSchema(
    {
        "area_code": pa.Column(str, _code, unique=True),
        "area_name": pa.Column(str),
        "district_code": pa.Column(str, _code),
        "district_name": pa.Column(str),
        "population": pa.Column(int, pa.Check.ge(0)),
        "imd_score": pa.Column(float, pa.Check.ge(0), nullable=True),
        "imd_decile": pa.Column(int, pa.Check.in_range(1, 10), nullable=True),
        "urban_rural": _cat(URBAN_RURAL, nullable=True),
        "geometry": pa.Column(nullable=True),
    },
    name="areas",
    strict=False,
    coerce=False,
)

POPULATION = pa.DataFrameSchema(
    {
        "area_code": pa.Column(str, _code),
        "sex": _cat(SEXES),
        "age_band": _cat(AGE_BANDS),
        "population": pa.Column(int, pa.Check.ge(0)),
    },
    name="population",
    unique=["area_code", "sex", "age_band"],
    strict=True,
)

CRIMES = pa.DataFrameSchema(
    {
        "crime_id": pa.Column(str, unique=True),
        "month": pa.Column(pd.PeriodDtype("M")),
        "area_code": pa.Column(str, nullable=True),
        "district_code": pa.Column(str, nullable=True),
        "crime_type": _cat(CRIME_TYPES),
        "crime_group": _cat(CRIME_GROUPS),
        "is_domestic_abuse": _flag(),
        "is_hate": _flag(),
        "is_repeat_victim": _flag(),
        "victim_identified": _flag(),
        "victim_sex": _cat(VICTIM_SEXES, nullable=True),
        "victim_age_band": _cat(VICTIM_AGE_BANDS, nullable=True),
        "victim_ethnicity": _cat(ETHNICITIES, nullable=True),
        "needs_assessment_done": _flag(),
        "need_identified": _flag(),
        "consent_to_refer": _flag(),
        "outcome": pa.Column(str, nullable=True),
        "outcome_month": pa.Column(pd.PeriodDtype("M"), nullable=True),
    },
    name="crimes",
    strict=False,
)

REFERRALS = pa.DataFrameSchema(
    {
        "referral_id": pa.Column(str, unique=True),
        "crime_id": pa.Column(str, nullable=True),
        "service": pa.Column(str),
        "source": _cat(REFERRAL_SOURCES),
        "referral_date": pa.Column(pa.DateTime),
        "district_code": pa.Column(str),
        "crime_group": _cat(CRIME_GROUPS),
        "victim_sex": _cat(VICTIM_SEXES),
        "victim_age_band": _cat(VICTIM_AGE_BANDS),
        "victim_ethnicity": _cat(ETHNICITIES),
        "victim_disability": _flag(),
        "need_identified": _flag(),
        "risk_level": _cat(RISK_LEVELS, nullable=True),
        "contact_attempted": _flag(),
        "first_contact_date": pa.Column(pa.DateTime, nullable=True),
        "contact_made": _flag(),
        "support_accepted": _flag(),
        "support_level": _cat(SUPPORT_LEVELS, nullable=True),
        "onward_referral": _cat(ONWARD_TARGETS, nullable=True),
        # Optional: whether the specialist service accepted the onward referral (empty when none was made).
        "onward_accepted": _flag(required=False),
        "closed_date": pa.Column(pa.DateTime, nullable=True),
        "outcome_cope_recover": _flag(),
        "outcome_feel_safer": _flag(),
    },
    name="referrals",
    strict=False,
)

SERVICES = pa.DataFrameSchema(
    {
        "service_name": pa.Column(str, unique=True),
        "lot": _cat(LOTS),
        "provider": pa.Column(str),
        "districts_served": pa.Column(str),
        "annual_funding": pa.Column(float, pa.Check.ge(0)),
        "capacity_fte": pa.Column(float, pa.Check.ge(0), nullable=True),
        "capacity_cases": pa.Column(float, pa.Check.ge(0), nullable=True),
        "location": pa.Column(str, nullable=True),
    },
    name="services",
    strict=False,
)

_SURVEY_COLUMNS: dict[str, pa.Column] = {
    "response_id": pa.Column(str, unique=True),
    "response_date": pa.Column(pa.DateTime),
    "crime_group": _cat(CRIME_GROUPS),
    "district_code": pa.Column(str),
    "victim_sex": _cat(VICTIM_SEXES),
    "victim_age_band": _cat(VICTIM_AGE_BANDS),
    "victim_ethnicity": _cat(ETHNICITIES),
    "victim_disability": _flag(),
    **{f"satisfied_{stage}": _flag() for stage in SATISFACTION_STAGES},
    **{f"code_right_{n}": _flag() for n in VICTIMS_CODE_RIGHTS},
    "weight": pa.Column(float, pa.Check.gt(0)),
}
SURVEY = pa.DataFrameSchema(_SURVEY_COLUMNS, name="survey", strict=False)

SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "areas": AREAS,
    "population": POPULATION,
    "crimes": CRIMES,
    "referrals": REFERRALS,
    "services": SERVICES,
    "survey": SURVEY,
}


def validate(table: pd.DataFrame, name: str, source: str | None = None) -> pd.DataFrame:
    """Check ``table`` against the canonical schema ``name``; raise one readable error listing problems.

    Parameters
    ----------
    table : DataFrame to check (not changed).
    name : one of ``areas, population, crimes, referrals, services, survey``.
    source : where the table came from (a file name), quoted in the error.
    """
    if name not in SCHEMAS:
        raise KeyError(f"no canonical table called {name!r}; expected one of {sorted(SCHEMAS)}")
    try:
        return SCHEMAS[name].validate(table, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        lines = []
        for (column, check), rows in cases.groupby(["column", "check"], dropna=False, sort=False):
            examples = rows["failure_case"].astype(str).head(3).tolist()
            idx = rows["index"].dropna().head(3).tolist()
            where = f" at rows {idx}" if idx else ""
            lines.append(f"column {column!r}: fails {check} ({len(rows)} cases, e.g. {examples}{where})")
        origin = f" from {source}" if source else ""
        raise ValueError(
            f"The {name} table{origin} does not match the victimneeds data model:\n  - " + "\n  - ".join(lines)
            + "\nSee docs/data-model.md for the columns, types and allowed values."
        ) from None


# --------------------------------------------------------------------------------------------------
# The bundle
# --------------------------------------------------------------------------------------------------

SYNTHETIC_NOTE = "synthetic example: made-up data for a fictional area, not real victims"


@dataclass
class AreaData:
    """The tables of one PCC area, with where they came from.

    Attributes
    ----------
    name : the area's name, e.g. "Leicestershire" or "Northmoor (synthetic example)".
    areas, population, crimes, referrals, services, survey : the canonical tables (None when not supplied).
    period : (first month, last month) of the crime series, as pandas Periods.
    sources : table name -> a sentence naming the source files or publisher.
    synthetic : True for the built-in example area; every output then says "synthetic example".
    quality : table name -> data-quality report (a DataFrame of what was read, kept and dropped).
    disclosure : the area's disclosure-control policy (a :class:`victimneeds.disclosure.DisclosurePolicy`, from
        the configuration's ``[disclosure]`` section), or None for the default (suppress 1 to 4).
    parameters : the area's own planning figures from the configuration's ``[parameters]`` section, checked:
        key (``"ISVA.referrals_per_fte_year"``, see ``docs/parameters.md``) -> ``{"value": number, "source":
        text}``; empty when the area uses the defaults. Pass it to :func:`victimneeds.capacity.planning_rules`
        (``planning_rules(data.parameters)``).
    """

    name: str
    areas: pd.DataFrame
    population: pd.DataFrame | None = None
    crimes: pd.DataFrame | None = None
    referrals: pd.DataFrame | None = None
    services: pd.DataFrame | None = None
    survey: pd.DataFrame | None = None
    period: tuple[pd.Period, pd.Period] | None = None
    sources: dict[str, str] = field(default_factory=dict)
    synthetic: bool = False
    quality: dict[str, pd.DataFrame] = field(default_factory=dict)
    disclosure: Any = None
    parameters: dict[str, Any] = field(default_factory=dict)

    TABLES = ("areas", "population", "crimes", "referrals", "services", "survey")

    @property
    def source_note(self) -> str:
        """The note every figure and table from this area carries."""
        if self.synthetic:
            return f"Source: {self.name}, {SYNTHETIC_NOTE}. Produced with victimneeds."
        parts = "; ".join(f"{k}: {v}" for k, v in self.sources.items())
        return f"Source: {self.name}. {parts}. Produced with victimneeds." if parts else (
            f"Source: {self.name}. Produced with victimneeds.")

    @property
    def districts(self) -> pd.DataFrame:
        """District code and name, one row each, in code order."""
        cols = ["district_code", "district_name"]
        return self.areas[cols].drop_duplicates().sort_values("district_code").reset_index(drop=True)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables present, by name."""
        return {n: getattr(self, n) for n in self.TABLES if getattr(self, n) is not None}

    def validate(self) -> AreaData:
        """Validate every table present against its schema; return self."""
        for name, table in self.tables().items():
            validate(pd.DataFrame(table), name, source=self.sources.get(name))
        return self

    def __repr__(self) -> str:
        rows = ", ".join(f"{n}={len(t):,}" for n, t in self.tables().items())
        kind = "synthetic" if self.synthetic else "real"
        return f"AreaData({self.name!r}, {kind}, period={self.period}, {rows})"
