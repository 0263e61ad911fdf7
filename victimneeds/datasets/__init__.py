"""The built-in example area: Northmoor, a fictional PCC area made of synthetic data.

:func:`load_example` returns an :class:`~victimneeds.datamodel.AreaData` bundle for "Northmoor", a county-sized
police force area in the English Midlands that does not exist. **Every table, and every figure or number
computed from it, is synthetic**: the people, crimes, referrals, services, funding and survey answers are
drawn from a seeded random-number generator. The area exists so that the notebooks, the tests and a new user
can run every analysis without victim-level data; it must never be quoted as evidence about any real place.

The data are generated in memory in a few seconds (nothing is written to disk), identically for the same
``seed``, and cached for the session; each call returns fresh copies that the caller may change freely.

What the example holds
----------------------
``areas``
    About 450 LSOA-like small areas (codes ``X01000001``...) in 5 districts (codes ``X09000001``...),
    drawn as Voronoi cells clipped to an irregular county outline about 55 km by 45 km, placed in British
    National Grid (EPSG:27700) around easting 446,000, northing 318,000. Cells are small in the city
    (``Northmoor City``) and in one market town per rural district, large in the countryside. Each area has
    about 1,560 residents (ONS LSOAs hold 1,000 to 3,000), about 700,000 in all. IMD scores are highest in
    the city core and the ex-coalfield district; deciles are cut at the England-wide decile boundaries of the
    IMD 2019 score (MHCLG English Indices of Deprivation 2019), so decile 1 is the most deprived tenth of
    England, not of Northmoor.
``population``
    Residents by area, sex and age band (``datamodel.AGE_BANDS``), summing to ``areas.population``; the city
    is younger, the countryside older.
``crimes``
    One row per crime or ASB incident, April 2019 to March 2025 (six financial years), in police.uk's 14
    crime types, with victim details, flags, the officer's initial victim needs assessment (IVNA) and the
    last police.uk outcome. An extra boolean column ``is_sexual_offence`` marks sexual offences (police.uk
    publishes them inside "Violence and sexual offences"). About 0.3% of crimes have no location (null
    ``area_code`` and ``district_code``), as in police.uk data.
``referrals``
    One row per victim entering a commissioned service: police referrals (from crimes with
    ``consent_to_refer``), self-referrals and partner-agency referrals (``crime_id`` null). An extra column
    ``area_code`` gives the victim's small area. ``first_contact_date`` is the date of the service's first
    contact attempt (null when none was made by the extract date, 30 April 2025); ``closed_date`` is null
    while a case is open at the extract date.
``services``
    Seven commissioned services, one per lot except restorative justice. ``districts_served`` lists the
    district codes a service covers, separated by semicolons (always listed in full, never "all").
``survey``
    About 3,600 victim-survey responses, 120 per crime group and financial year for domestic abuse, violence,
    burglary, hate crime and ASB, weighted back to the identified victims of each group and year
    (weights average 1); an extra column ``crime_id`` links each response to its crime. Victims' Code rights
    are NA where the right did not apply (rights 8 and 11 unless a suspect was charged; every right for ASB,
    which the Code does not cover).

Calibration (figures reported in published PCC needs assessments, scaled by population)
-----------------------------------------------------------------------------------------
* Crime volume: "about 86,500 crimes ... a year" for an area of about 1.1 million people, so 78.6 crimes per
  1,000 residents a year on average over the six years; ASB at 12,000 incidents a year per 1.1 million (half of
  the "24,000 non-crime incidents (incl. ASB)").
* Crime mix: the shares of police.uk crime types in Leicestershire street-level data, 2020-2021 (used to set
  the constants below; the file is not read at run time). Seasonality (summer peak for violence and ASB,
  winter peak for burglary), a spring-2020 lockdown dip in theft and burglary with an ASB spike, and domestic
  abuse and sexual offences rising about 4% and 5% a year are stylised facts, not fitted.
* Flags: domestic abuse on about 16.5% of crimes, sexual offences about 3%, hate about 2%. Domestic abuse
  victims are about 76% female (CSEW, year ending March 2022: 6.9% of women and 3.0% of men), sexual-offence
  victims about 86% female (CSEW year ending March 2020: 2.9% of women, 0.7% of men).
* Referral, on the Victims' Code path: the officer's assessment finds a need (by crime group, 18% to 68% of
  assessed victims), the victim consents to referral or declines (85% of those with a need consent, 25% of
  those without), and the officer refers consenting victims, mostly those with a need (odds 0.08 for no need
  found: "the IVNA ... refers others who need nothing"); 3% of referrals are lost on the way. "Only about 20%
  of victims were referred into one force's advice line": the referral model's intercept is solved so that 20%
  of crimes with an identified victim become police referrals. Self-referrals
  are about 3.5% and partner referrals about 5% of all referrals ("self-referrals 1.4%-5% of contacts";
  "93% of referrals from police").
* Support: "22% enhanced support, 73% basic support ..., 1% could not be contacted, 4% no response": about 1%
  of referrals have no contact attempt, 4% of attempts get no response, and the enhanced share is solved to be
  22% of all referrals.
* Funding: "a total victims budget of GBP 1.1m a year" for about 1.1 million people, so GBP 1.00 a resident.
* Capacity: IDVA posts at "about 100 referrals a year per FTE IDVA" (SafeLives).
* Survey: satisfaction covers domestic abuse, violence, burglary, hate crime and ASB but not sexual violence,
  as in "Satisfaction data often covers only some crime types ... so the voice of sexual violence victims is
  missing."

Planted effects (also in :data:`EXAMPLE_EFFECTS`)
-------------------------------------------------
(a) **Under-referring district.** Officers in Harrowdale (``X09000004``) refer consenting victims with a
    need with odds 0.42 times those elsewhere, for the same crime group and victim (on the Victims' Code
    denominator, a referral rate about a fifth lower, because most such victims are referred). Lost referrals
    pull the odds ratio seen in the referrals table slightly towards 1 (about 0.45).
(b) **Less-referred victim group.** Victims aged 65-74 and 75+ with a need who consent are referred with odds
    0.6 times younger victims', for the same crime group and district.
(c) **Funding that does not follow need.** Northmoor City (``X09000001``) has the most deprivation and the
    most victims per resident, but the ASB and practical-support services serve only the four other districts,
    so the city gets far less funding per victim: about 40-45% of the other districts' average when a shared
    service's funding is split between districts by population, about 60% when it is split by victims.
(d) **Slow first contact.** The ISVA service makes its first contact attempt after a median of 5 working days;
    the other services after a median of 1 working day, most within 2.
(e) **Missing voice.** The survey has no responses from victims of sexual violence.
(f) **Onward referrals fail at busy times.** Onward referrals to a specialist service are accepted 90% of the time,
    but only 60% in that service's busiest months (its top quarter by onward referrals received); the column
    ``referrals.onward_accepted`` records it ("onward referrals fail at times of high demand", as published
    needs assessments report).

Examples
--------
>>> import victimneeds as vn
>>> area = vn.datasets.load_example()
>>> area.name, area.synthetic
('Northmoor (synthetic example)', True)
>>> area.areas.crs.to_epsg()
27700
>>> area.districts.district_name.tolist()
['Northmoor City', 'Eastmere', 'Wychbourne', 'Harrowdale', 'Kestrel Wolds']
>>> EXAMPLE_EFFECTS["under_referring_district"]["district_code"]
'X09000004'

The code lives in one module per part: :mod:`~victimneeds.datasets.calibration`,
:mod:`~victimneeds.datasets.geography`, :mod:`~victimneeds.datasets.crimes`,
:mod:`~victimneeds.datasets.referrals`, :mod:`~victimneeds.datasets.survey`, :mod:`~victimneeds.datasets.example`;
everything public is importable from ``victimneeds.datasets``.
"""

from __future__ import annotations

from victimneeds.datasets.calibration import (  # noqa: F401
    _AGE_BY_GROUP,
    _ASB,
    _CENTRE_MULT,
    _CHARGED,
    _CITY,
    _COURT_MONTHS,
    _DEPRIVATION_BETA,
    _DISTRICTS,
    _ETHNICITY_UNKNOWN,
    _G,
    _LOCKDOWN,
    _LOCKDOWN_STRENGTH,
    _LOW_REFERRAL_OR,
    _NO_NEED_REFERRAL_OR,
    _OLDER_BANDS,
    _OLDER_OR,
    _OUTCOME_MONTHS,
    _OUTCOME_PROFILES,
    _OUTCOMES,
    _P_ASSESSED,
    _P_CONSENT_IF_NEED,
    _P_CONSENT_NO_NEED,
    _P_DA,
    _P_DA_IF_SEXUAL,
    _P_FEMALE,
    _P_HATE,
    _P_IDENTIFIED,
    _P_NEED,
    _P_REFERRAL_LOST,
    _P_REPEAT,
    _P_SEX_UNKNOWN,
    _P_SEXUAL_IN_VSO,
    _REFER_LOGIT,
    _SEASON_AMP,
    _SEASON_PEAK,
    _SERVICES,
    _SLOW_MEDIAN_WD,
    _SLOW_SERVICE,
    _T,
    _TREND,
    _TYPE_PROFILE,
    _TYPE_SHARE,
    _UNDER_REFERRING,
    _VSO,
    EXAMPLE_CALIBRATION,
    EXAMPLE_EFFECTS,
    EXAMPLE_NAME,
    EXTRACT_DATE,
    FIRST_MONTH,
    LAST_MONTH,
    _bool,
    _cat,
    _dates,
    _draw,
    _expit,
    _ids,
    _logit,
    _solve_intercept,
    _working_days_delay,
)
from victimneeds.datasets.crimes import _area_ethnic_mix, _crime_outcomes, _make_crimes, _month_factors  # noqa: F401
from victimneeds.datasets.example import _build, load_example, reference  # noqa: F401
from victimneeds.datasets.geography import (  # noqa: F401
    _AGE_SHARE,
    _AGE_URBAN_TILT,
    _CENTRE,
    _FEMALE_SHARE_BY_AGE,
    _IMD2019_DECILE_CUTS,
    _imd_decile,
    _make_areas,
    _make_population,
    _polar,
    _radius,
    _wobble,
)
from victimneeds.datasets.referrals import (  # noqa: F401
    _ENHANCED_LOGIT,
    _ONWARD_BASIC,
    _ONWARD_ENHANCED,
    _PARTNER_GROUPS,
    _RISK_BY_GROUP,
    _SELF_GROUPS,
    _make_referrals,
    _make_services,
    _onward_acceptance,
)
from victimneeds.datasets.survey import (  # noqa: F401
    _CODE_RIGHTS,
    _SATISFIED_WHOLE,
    _STAGE_OFFSET,
    _SURVEY_GROUPS,
    _SURVEY_QUOTA,
    _make_survey,
)

__all__ = ["EXAMPLE_CALIBRATION", "EXAMPLE_EFFECTS", "EXAMPLE_NAME", "load_example"]
