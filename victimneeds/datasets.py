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

Calibration (figures from ``shared/DOMAIN.md``, scaled by population)
----------------------------------------------------------------------
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
* Referral: "Only about 20% of victims were referred into one force's advice line": the police referral model's
  intercept is solved so that 20% of crimes with an identified victim become police referrals. Self-referrals
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
(a) **Under-referring district.** Officers in Harrowdale (``X09000004``) refer victims with odds 0.42 times
    those elsewhere, for the same crime group and victim: about half the referral rate of the other districts.
(b) **Less-referred victim group.** Victims aged 65-74 and 75+ are referred with odds 0.6 times younger
    victims', for the same crime group and district.
(c) **Funding that does not follow need.** Northmoor City (``X09000001``) has the most deprivation and the
    most victims per resident, but the ASB and practical-support services serve only the four other districts,
    so the city gets far less funding per victim: about 40-45% of the other districts' average when a shared
    service's funding is split between districts by population, about 60% when it is split by victims.
(d) **Slow first contact.** The ISVA service makes its first contact attempt after a median of 5 working days;
    the other services after a median of 1 working day, most within 2.
(e) **Missing voice.** The survey has no responses from victims of sexual violence.
(f) **Onward referrals fail at busy times.** Onward referrals to a specialist service are accepted 90% of the time,
    but only 60% in that service's busiest months (its top quarter by onward referrals received); the column
    ``referrals.onward_accepted`` records it ("onward referrals fail at times of high demand", DOMAIN.md).

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
"""

from __future__ import annotations

import functools
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from victimneeds import datamodel as dm

__all__ = ["EXAMPLE_CALIBRATION", "EXAMPLE_EFFECTS", "EXAMPLE_NAME", "load_example"]

EXAMPLE_NAME = "Northmoor (synthetic example)"

FIRST_MONTH = pd.Period("2019-04", "M")
LAST_MONTH = pd.Period("2025-03", "M")
#: The date the example's victim-service extract was taken: later events are not yet known.
EXTRACT_DATE = np.datetime64("2025-04-30", "D")

_DISTRICTS: tuple[tuple[str, str], ...] = (
    ("X09000001", "Northmoor City"),
    ("X09000002", "Eastmere"),
    ("X09000003", "Wychbourne"),
    ("X09000004", "Harrowdale"),
    ("X09000005", "Kestrel Wolds"),
)
_CITY, _UNDER_REFERRING = 0, 3
_LOW_REFERRAL_OR = 0.42
_OLDER_OR = 0.6
_OLDER_BANDS = ("65-74", "75+")
_SLOW_SERVICE = "Northmoor ISVA Service"
_SLOW_MEDIAN_WD = 5.0

#: The published figures the example is calibrated to (shared/DOMAIN.md), and the targets derived from them.
EXAMPLE_CALIBRATION: dict[str, Any] = {
    "crimes_per_1000_per_year": 86_500 / 1_100,
    "asb_per_1000_per_year": 12_000 / 1_100,
    "police_referral_share_of_identified_victims": 0.20,
    "self_referral_share": 0.035,
    "partner_referral_share": 0.05,
    "enhanced_support_share": 0.22,
    "no_contact_attempt_share": 0.01,
    "no_response_share": 0.04,
    "budget_per_resident_gbp": 1_100_000 / 1_100_000,
    "domestic_abuse_share_of_crime": 0.165,
    "sexual_offence_share_of_crime": 0.029,
    "hate_share_of_crime": 0.02,
    "sources": {
        "crimes_per_1000_per_year": "DOMAIN.md: about 86,500 crimes a year in an area of about 1.1m people",
        "asb_per_1000_per_year": "DOMAIN.md: 24,000 non-crime incidents (incl. ASB) a year; ASB taken as half",
        "police_referral_share_of_identified_victims": "DOMAIN.md: only about 20% of victims were referred",
        "self_referral_share": "DOMAIN.md: self-referrals 1.4%-5% of contacts",
        "partner_referral_share": "DOMAIN.md: 93% of referrals from police in another area",
        "enhanced_support_share": "DOMAIN.md: 22% enhanced, 73% basic, 1% not contactable, 4% no response",
        "budget_per_resident_gbp": "DOMAIN.md: a total victims budget of GBP 1.1m a year (area of ~1.1m)",
    },
}

#: The effects planted in the example, so that tests and notebooks can say what an analysis should find.
EXAMPLE_EFFECTS: dict[str, dict[str, Any]] = {
    "under_referring_district": {
        "district_code": _DISTRICTS[_UNDER_REFERRING][0],
        "district_name": _DISTRICTS[_UNDER_REFERRING][1],
        "odds_ratio": _LOW_REFERRAL_OR,
        "description": "Officers in Harrowdale refer victims to the victim service with odds 0.42 times "
        "those elsewhere, for the same crime group and victim: about half the referral rate.",
    },
    "less_referred_group": {
        "column": "victim_age_band",
        "values": _OLDER_BANDS,
        "odds_ratio": _OLDER_OR,
        "description": "Victims aged 65-74 and 75+ are referred with odds 0.6 times younger victims', "
        "for the same crime group and district.",
    },
    "underfunded_district": {
        "district_code": _DISTRICTS[_CITY][0],
        "district_name": _DISTRICTS[_CITY][1],
        "services_not_serving_it": ("ASB Victim Support", "Safer Homes Practical Support"),
        "description": "Northmoor City has the highest deprivation and the most victims per resident, but the "
        "ASB and practical-support services serve only the other four districts, so the city gets about 40-45% "
        "of the other districts' funding per victim (shared services split by population), about 60% (split "
        "by victims).",
    },
    "slow_first_contact": {
        "service": _SLOW_SERVICE,
        "median_working_days": _SLOW_MEDIAN_WD,
        "other_services_median_working_days": 1.0,
        "description": "The ISVA service first tries to contact victims after a median of 5 working days; "
        "the other services after a median of 1 working day, most within 2.",
    },
    "missing_voice": {
        "crime_group": "Sexual violence",
        "description": "The victim survey has no responses from victims of sexual violence.",
    },
    "onward_fails_when_busy": {
        "accepted_when_busy": 0.60,
        "accepted_otherwise": 0.90,
        "busy": "the specialist service's onward referrals that month are in the top quarter of its months",
        "description": "Onward referrals to a specialist service are accepted 90% of the time, but only 60% in "
        "that service's busiest months (its top quarter by onward referrals received).",
    },
}

# --------------------------------------------------------------------------------------------------
# Crime-type constants (order of datamodel.CRIME_TYPES)
# --------------------------------------------------------------------------------------------------

_T = {name: i for i, name in enumerate(dm.CRIME_TYPES)}
_G = {name: i for i, name in enumerate(dm.CRIME_GROUPS)}
_ASB = _T["Anti-social behaviour"]
_VSO = _T["Violence and sexual offences"]

# fmt: off
# Share of recorded crime (excluding ASB) by type: Leicestershire police.uk street data, 2020-2021.
_TYPE_SHARE = np.array([
    0.0, 0.0168, 0.0502, 0.1107, 0.0358, 0.0246, 0.0811, 0.0089, 0.1302, 0.0086, 0.0361, 0.0070,
    0.0685, 0.4222,
])
# Log rate ratio per standard deviation of log IMD score.
_DEPRIVATION_BETA = np.array([0.45, 0.10, 0.30, 0.35, 0.55, 0.30, 0.15, 0.55, 0.40, 0.60, 0.20, 0.30, 0.25,
                              0.45])
# Rate multiplier in city and town-centre areas (retail and night-time economy).
_CENTRE_MULT = np.array([2.0, 2.5, 1.0, 1.5, 2.0, 1.5, 3.0, 2.0, 2.0, 2.5, 8.0, 6.0, 1.5, 2.0])
# Seasonal amplitude and the month of the peak.
_SEASON_AMP = np.array([0.18, 0.30, 0.10, 0.08, 0.03, 0.03, 0.05, 0.05, 0.08, 0.05, 0.05, 0.05, 0.05, 0.08])
_SEASON_PEAK = np.array([7, 7, 12, 7, 7, 7, 12, 7, 7, 12, 12, 12, 11, 7])
# Yearly trend (multiplier per year) and the April 2020 lockdown multiplier.
_TREND = np.array([1.00, 0.97, 0.98, 1.00, 1.02, 1.02, 1.01, 1.04, 1.03, 1.00, 1.00, 1.00, 1.00, 1.02])
_LOCKDOWN = np.array([1.70, 0.85, 0.62, 0.88, 1.30, 0.95, 0.55, 1.00, 0.90, 0.55, 0.45, 0.30, 0.62, 0.80])
# Strength of lockdown effects by month (1 = as in April 2020).
_LOCKDOWN_STRENGTH = {
    "2020-04": 1.0, "2020-05": 0.85, "2020-06": 0.55, "2020-07": 0.25, "2020-08": 0.1, "2020-09": 0.1,
    "2020-10": 0.15, "2020-11": 0.45, "2020-12": 0.25, "2021-01": 0.6, "2021-02": 0.55, "2021-03": 0.4,
    "2021-04": 0.2, "2021-05": 0.1,
}
# Probability of the flags by type.
_P_DA = np.array([0.0, 0.0, 0.03, 0.12, 0.0, 0.12, 0.03, 0.0, 0.085, 0.02, 0.0, 0.0, 0.01, 0.32])
_P_HATE = np.array([0.0, 0.0, 0.0, 0.015, 0.0, 0.005, 0.0, 0.0, 0.075, 0.01, 0.0, 0.0, 0.0, 0.02])
_P_SEXUAL_IN_VSO = 0.068
_P_DA_IF_SEXUAL = 0.22
_P_IDENTIFIED = np.array([0.45, 0.96, 0.98, 0.90, 0.0, 0.80, 0.92, 0.0, 0.85, 0.99, 0.0, 0.97, 0.97, 0.97])

# Victim profiles by crime group (order of datamodel.CRIME_GROUPS).
_P_FEMALE = np.array([0.76, 0.86, 0.42, 0.42, 0.50, 0.25, 0.55, 0.47])
_P_SEX_UNKNOWN = np.array([0.005, 0.01, 0.015, 0.015, 0.02, 0.01, 0.03, 0.05])
_AGE_BY_GROUP = np.array([  # AGE_BANDS + Unknown
    [0.02, 0.20, 0.30, 0.22, 0.14, 0.07, 0.025, 0.01, 0.005],
    [0.30, 0.30, 0.17, 0.10, 0.07, 0.03, 0.01, 0.01, 0.01],
    [0.06, 0.17, 0.23, 0.20, 0.16, 0.10, 0.05, 0.02, 0.01],
    [0.14, 0.22, 0.21, 0.16, 0.12, 0.08, 0.04, 0.02, 0.01],
    [0.00, 0.05, 0.15, 0.20, 0.20, 0.17, 0.12, 0.10, 0.01],
    [0.20, 0.38, 0.18, 0.10, 0.07, 0.04, 0.02, 0.01, 0.00],
    [0.02, 0.06, 0.15, 0.18, 0.20, 0.18, 0.12, 0.08, 0.01],
    [0.05, 0.10, 0.18, 0.19, 0.18, 0.14, 0.09, 0.06, 0.01],
])
_ETHNICITY_UNKNOWN = 0.07
_P_REPEAT = np.array([0.30, 0.12, 0.20, 0.12, 0.08, 0.08, 0.25, 0.08])
# Police referral log odds by crime group (before the intercept solved to give 20%).
_REFER_LOGIT = np.array([1.5, 1.6, 1.1, 0.0, 0.5, 0.6, -0.6, -0.9])
_P_NEED_IF_NOT_REFERRED = np.array([0.35, 0.40, 0.30, 0.20, 0.20, 0.20, 0.15, 0.10])
_P_ASSESSED = 0.85
_P_REFERRAL_LOST = 0.03

# Final police.uk outcomes and the months they take (mean of a geometric distribution).
_OUTCOMES = (
    "Investigation complete; no suspect identified",
    "Unable to prosecute suspect",
    "Formal action is not in the public interest",
    "Further investigation is not in the public interest",
    "Local resolution",
    "Offender given a caution",
    "Action to be taken by another organisation",
    "Suspect charged as part of another case",
    "Court result unavailable",
)
_CHARGED = (7, 8)
_OUTCOME_MONTHS = np.array([1.0, 4.0, 3.0, 3.0, 1.5, 1.5, 2.0, 4.0, 4.0])
_COURT_MONTHS = 9.0
_OUTCOME_PROFILES = {
    "theft": [0.68, 0.17, 0.01, 0.02, 0.03, 0.005, 0.01, 0.005, 0.07],
    "shoplifting": [0.35, 0.20, 0.01, 0.05, 0.08, 0.03, 0.02, 0.01, 0.25],
    "violence": [0.22, 0.52, 0.03, 0.02, 0.07, 0.02, 0.03, 0.004, 0.086],
    "domestic": [0.05, 0.68, 0.03, 0.02, 0.03, 0.03, 0.02, 0.005, 0.135],
    "sexual": [0.15, 0.66, 0.01, 0.04, 0.01, 0.01, 0.04, 0.0, 0.08],
    "proactive": [0.05, 0.12, 0.08, 0.03, 0.30, 0.10, 0.05, 0.0, 0.27],
    "other": [0.35, 0.35, 0.04, 0.04, 0.04, 0.03, 0.05, 0.0, 0.10],
}
_TYPE_PROFILE = {
    "Bicycle theft": "theft", "Burglary": "theft", "Criminal damage and arson": "theft", "Drugs": "proactive",
    "Other crime": "other", "Other theft": "theft", "Possession of weapons": "proactive",
    "Public order": "violence", "Robbery": "theft", "Shoplifting": "shoplifting",
    "Theft from the person": "theft", "Vehicle crime": "theft", "Violence and sexual offences": "violence",
}

_SERVICES = (  # name, lot, provider, city served?, budget share, FTE, cases a year per FTE
    ("Northmoor Victim Advice Line", "Victim advice line", "Northmoor Victim Care CIC", True, 0.33, 9.0, 1000),
    ("Northmoor IDVA Service", "IDVA", "Safer Together Northmoor", True, 0.21, 6.5, 100),
    ("Northmoor ISVA Service", "ISVA", "Moorland Rape and Sexual Abuse Support", True, 0.11, 3.0, 60),
    ("Young Victims Service", "Young victims", "Northmoor Youth Trust", True, 0.06, 2.0, 150),
    ("Hate Crime Advocacy", "Hate crime", "Northmoor Equality Partnership", True, 0.05, 1.5, 130),
    ("ASB Victim Support", "ASB", "Wolds and Vale Mediation", False, 0.10, 2.0, 200),
    ("Safer Homes Practical Support", "Practical support", "Wolds and Vale Home Safety", False, 0.14, 3.0,
     300),
)
# fmt: on


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1.0 - p))


def _solve_intercept(x: np.ndarray, target: float) -> float:
    """The intercept ``a`` with ``sum(_expit(a + x)) == target``, by bisection (the sum rises with ``a``)."""
    if not 0 < target < len(x):
        raise ValueError(f"cannot calibrate to {target:.1f} events out of {len(x)} rows")
    lo, hi = -30.0, 30.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _expit(mid + x).sum() < target else (lo, mid)
    return (lo + hi) / 2


def _draw(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category index per row of ``probs`` (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), probs.shape[1] - 1)


def _cat(codes: np.ndarray, categories: tuple[str, ...], na: np.ndarray | None = None) -> pd.Categorical:
    codes = np.asarray(codes, dtype=np.int64).copy()
    if na is not None:
        codes[na] = -1
    return pd.Categorical.from_codes(codes, categories=list(categories))


def _bool(values: np.ndarray, na: np.ndarray | None = None) -> pd.arrays.BooleanArray:
    values = np.asarray(values, dtype=bool)
    mask = np.zeros(len(values), dtype=bool) if na is None else np.asarray(na, dtype=bool)
    return pd.arrays.BooleanArray(values & ~mask, mask.copy())


def _dates(days: np.ndarray, na: np.ndarray | None = None) -> pd.Series:
    out = pd.Series(np.asarray(days, dtype="datetime64[D]").astype("datetime64[s]"))
    if na is not None:
        out[na] = pd.NaT
    return out


def _ids(prefix: str, n: int, width: int = 7) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width))


def _working_days_delay(rng: np.random.Generator, n: int, slow: np.ndarray) -> np.ndarray:
    """Working days to first contact: median 1 (80% within 2), or median 5 for the slow service."""
    quick = _draw(rng, np.tile([0.38, 0.30, 0.12, 0.20], (n, 1)))
    tail = 3 + rng.geometric(0.2, n) - 1
    quick = np.where(quick == 3, tail, quick)
    slow_days = np.maximum(np.rint(rng.lognormal(np.log(_SLOW_MEDIAN_WD), 0.6, n)), 1).astype(int)
    return np.where(slow, slow_days, quick)


# --------------------------------------------------------------------------------------------------
# Geography
# --------------------------------------------------------------------------------------------------

_CENTRE = np.array([446_000.0, 318_000.0])


def _wobble(rng: np.random.Generator, orders: range, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ks = np.array(list(orders))
    amp = rng.uniform(0.4, 1.0, len(ks)) * scale / np.sqrt(ks)
    phase = rng.uniform(0, 2 * np.pi, len(ks))
    return ks, amp, phase


def _radius(theta: np.ndarray, wob: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    ks, amp, phase = wob
    return 1 + (amp[None, :] * np.cos(np.outer(theta, ks) + phase[None, :])).sum(axis=1)


def _polar(xy: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = xy - centre
    return np.hypot(d[:, 0], d[:, 1]), np.arctan2(d[:, 1], d[:, 0])


def _make_areas(rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, dict[str, np.ndarray]]:
    """Small areas as Voronoi cells clipped to a county outline; returns the areas and per-area features."""
    # County outline: a star-shaped polygon (so always simple) about 55 km by 45 km.
    coarse, fine = _wobble(rng, range(2, 7), 0.16), _wobble(rng, range(7, 19), 0.05)
    outline_wob = tuple(np.concatenate([x, y]) for x, y in zip(coarse, fine, strict=True))
    theta = np.linspace(0, 2 * np.pi, 144, endpoint=False)
    r = _radius(theta, outline_wob)
    outline = shapely.Polygon(
        np.column_stack([_CENTRE[0] + 27_500 * r * np.cos(theta), _CENTRE[1] + 22_500 * r * np.sin(theta)])
    )

    def outline_radius(phi: np.ndarray) -> np.ndarray:
        """Distance from the centre to the outline in direction ``phi`` (the outline is star-shaped)."""
        th = np.arctan2(27_500 * np.sin(phi), 22_500 * np.cos(phi))  # the curve's parameter at that bearing
        return _radius(th, outline_wob) * np.hypot(27_500 * np.cos(th), 22_500 * np.sin(th))

    # The city: a blob of radius about 6.5 km around a centre near the county's middle.
    city_centre = _CENTRE + rng.normal(0, 1_500, 2)
    city_wob = _wobble(rng, range(2, 5), 0.15)

    def city_radius(th: np.ndarray) -> np.ndarray:
        return 6_500 * _radius(th, city_wob)

    def sample(n: int, centre: np.ndarray, sd: float, keep) -> np.ndarray:
        out: list[np.ndarray] = []
        got = 0
        while got < n:
            xy = (
                centre + rng.normal(0, sd, (2 * n, 2))
                if sd > 0
                else rng.uniform(_CENTRE - 32_000, _CENTRE + 32_000, (4 * n, 2))
            )
            xy = xy[keep(xy)]
            out.append(xy)
            got += len(xy)
        return np.concatenate(out)[:n]

    def in_outline(xy: np.ndarray, margin: float = 400.0) -> np.ndarray:
        d, th = _polar(xy, _CENTRE)
        return d < outline_radius(th) - margin

    def in_city(xy: np.ndarray, pad: float = 0.0) -> np.ndarray:
        d, th = _polar(xy, city_centre)
        return d < city_radius(th) + pad

    city_pts = sample(190, city_centre, 2_400, lambda xy: in_city(xy, -300) & in_outline(xy))

    # Four rural districts around the city, each with a market town near its seed point.
    angles = np.deg2rad(np.array([35.0, 125.0, 215.0, 305.0]) + rng.uniform(-12, 12, 4))
    seed_dist = np.minimum(17_000, 0.62 * outline_radius(angles))
    seeds = _CENTRE + np.column_stack([np.cos(angles), np.sin(angles)]) * seed_dist[:, None]
    town_sizes, town_sd = (45, 38, 32, 28), (1_600, 1_400, 1_250, 1_100)
    towns = seeds + rng.normal(0, 1_200, (4, 2))
    town_pts = [
        sample(n, c, sd, lambda xy: in_outline(xy) & ~in_city(xy, 1_500))
        for n, c, sd in zip(town_sizes, towns, town_sd, strict=True)
    ]
    rural_pts = sample(120, _CENTRE, 0, lambda xy: in_outline(xy, 800) & ~in_city(xy, 1_200))

    xy = np.concatenate([city_pts, *town_pts, rural_pts])
    kind = np.repeat(np.arange(6), [len(city_pts), *town_sizes, len(rural_pts)])  # 0 city, 1-4 towns, 5 rural
    district = np.where(kind == 0, 0, 1 + np.argmin(((xy[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2), axis=1))

    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=outline, ordered=True))
    cells = shapely.intersection(cells, outline)

    # ONS numbers small areas north to south within a district.
    order = np.lexsort((xy[:, 0], -xy[:, 1], district))
    xy, kind, district, cells = xy[order], kind[order], district[order], cells[order]
    n = len(xy)
    k_in_district = np.concatenate([np.arange((district == d).sum()) for d in range(len(_DISTRICTS))])
    area_km2 = shapely.area(cells) / 1e6

    d_city = np.hypot(*(xy - city_centre).T) / 1_000
    d_town = np.hypot(xy[:, None, 0] - towns[None, :, 0], xy[:, None, 1] - towns[None, :, 1]).min(axis=1) / 1_000
    log_imd = (
        2.2
        + 1.45 * np.exp(-d_city / 3.5)
        + 0.6 * np.exp(-d_town / 1.2)
        + 0.35 * (district == _UNDER_REFERRING)
        + rng.normal(0, 0.38, n)
    )
    imd_score = np.round(np.exp(log_imd), 3)
    urbanity = np.maximum(np.exp(-d_city / 5), 0.6 * np.exp(-d_town / 2))
    urban = (kind < 5) & (area_km2 < 6)
    population = np.clip(np.rint(rng.normal(1_560, 230, n)), 1_000, 3_000).astype(np.int64)

    codes = np.array([c for c, _ in _DISTRICTS])[district]
    names = np.array([nm for _, nm in _DISTRICTS])[district]
    letters = np.array(list("ABCDE"))[k_in_district % 5]
    area_names = [f"{d} {k // 5 + 1:03d}{letter}" for d, k, letter in zip(names, k_in_district, letters, strict=True)]
    areas = gpd.GeoDataFrame(
        {
            "area_code": pd.array(_ids("X01", n, 6), dtype="str"),
            "area_name": pd.array(area_names, dtype="str"),
            "district_code": pd.array(codes, dtype="str"),
            "district_name": pd.array(names, dtype="str"),
            "population": population,
            "imd_score": imd_score,
            "imd_decile": _imd_decile(imd_score),
            "urban_rural": _cat(np.where(urban, 0, 1), dm.URBAN_RURAL),
        },
        geometry=gpd.GeoSeries(cells, crs="EPSG:27700"),
    )
    centre_cells = np.zeros(n, dtype=bool)
    for c, k in [(city_centre, 5), *[(t, 2) for t in towns]]:
        centre_cells[np.argsort(np.hypot(*(xy - c).T))[:k]] = True
    features = {"district": district, "urbanity": urbanity, "centre": centre_cells, "log_imd": log_imd}
    return areas, features


# England-wide IMD 2019 score decile boundaries for LSOAs (MHCLG, English Indices of Deprivation 2019): a score
# at or above the first number is in decile 1 (most deprived), and so on.
_IMD2019_DECILE_CUTS = np.array([43.86, 33.25, 26.57, 21.55, 17.65, 14.24, 11.30, 8.62, 5.91])


def _imd_decile(score: np.ndarray) -> np.ndarray:
    return (1 + (score[:, None] < _IMD2019_DECILE_CUTS[None, :]).sum(axis=1)).astype(np.int64)


# Age structure of England and Wales (2021 Census, rounded) and its tilt in urban areas.
_AGE_SHARE = np.array([0.186, 0.105, 0.135, 0.128, 0.136, 0.125, 0.100, 0.085])
_AGE_URBAN_TILT = np.array([0.10, 0.55, 0.35, 0.05, -0.10, -0.20, -0.40, -0.45])
_FEMALE_SHARE_BY_AGE = np.array([0.488, 0.495, 0.505, 0.508, 0.508, 0.510, 0.522, 0.570])


def _make_population(rng: np.random.Generator, areas: pd.DataFrame, urbanity: np.ndarray) -> pd.DataFrame:
    tilt = np.exp(np.outer(urbanity - 0.3, _AGE_URBAN_TILT))
    age = _AGE_SHARE[None, :] * tilt
    age /= age.sum(axis=1, keepdims=True)
    cells = np.concatenate([age * _FEMALE_SHARE_BY_AGE, age * (1 - _FEMALE_SHARE_BY_AGE)], axis=1)
    counts = rng.multinomial(areas["population"].to_numpy(), cells)  # (areas, 16): Female ages, Male ages
    n_areas, n_ages = len(areas), len(dm.AGE_BANDS)
    return pd.DataFrame(
        {
            "area_code": np.repeat(areas["area_code"].to_numpy(), 2 * n_ages),
            "sex": _cat(np.tile(np.repeat([0, 1], n_ages), n_areas), dm.SEXES),
            "age_band": _cat(np.tile(np.arange(n_ages), 2 * n_areas), dm.AGE_BANDS),
            "population": counts.ravel().astype(np.int64),
        }
    )


# --------------------------------------------------------------------------------------------------
# Crimes
# --------------------------------------------------------------------------------------------------


def _month_factors(months: pd.PeriodIndex) -> np.ndarray:
    """Seasonality x trend x lockdown, by month and type, each type averaging 1 over the period."""
    month_no = months.month.to_numpy()
    years = np.arange(len(months)) / 12
    season = 1 + _SEASON_AMP[None, :] * np.cos(2 * np.pi * (month_no[:, None] - _SEASON_PEAK[None, :]) / 12)
    trend = _TREND[None, :] ** years[:, None]
    # Shoplifting rose sharply from 2022 (police.uk trend); a stylised 12% a year.
    shop = _T["Shoplifting"]
    trend[:, shop] *= 1.12 ** np.clip(years - 3, 0, None)
    strength = np.array([_LOCKDOWN_STRENGTH.get(str(m), 0.0) for m in months])
    lockdown = np.exp(strength[:, None] * np.log(_LOCKDOWN)[None, :])
    f = season * trend * lockdown
    return f / f.mean(axis=0, keepdims=True)


def _area_ethnic_mix(urbanity: np.ndarray) -> np.ndarray:
    """Shares of Asian, Black, Mixed, White, Other residents: about 2% Asian in the countryside, 25% in the city."""
    asian = 0.02 + 0.24 * urbanity
    black = 0.005 + 0.07 * urbanity
    mixed = 0.015 + 0.03 * urbanity
    other = 0.005 + 0.03 * urbanity
    return np.column_stack([asian, black, mixed, 1 - asian - black - mixed - other, other])


def _make_crimes(
    rng: np.random.Generator, areas: pd.DataFrame, feat: dict[str, np.ndarray]
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    months = pd.period_range(FIRST_MONTH, LAST_MONTH, freq="M")
    n_m, n_a, n_t = len(months), len(areas), len(dm.CRIME_TYPES)
    pop = areas["population"].to_numpy().astype(float)
    total_pop = pop.sum()
    z = (feat["log_imd"] - feat["log_imd"].mean()) / feat["log_imd"].std()
    weight = pop[:, None] * np.exp(_DEPRIVATION_BETA[None, :] * z[:, None])
    weight *= np.where(feat["centre"][:, None], _CENTRE_MULT[None, :], 1.0)
    weight /= weight.sum(axis=0, keepdims=True)
    annual = _TYPE_SHARE / _TYPE_SHARE.sum() * EXAMPLE_CALIBRATION["crimes_per_1000_per_year"] * total_pop / 1000
    annual[_ASB] = EXAMPLE_CALIBRATION["asb_per_1000_per_year"] * total_pop / 1000
    expected = (annual / 12)[None, None, :] * _month_factors(months)[:, None, :] * weight[None, :, :]
    counts = rng.poisson(expected)
    idx = np.repeat(np.arange(counts.size), counts.ravel())
    m, a, t = np.unravel_index(idx, (n_m, n_a, n_t))
    n = len(idx)
    years = m / 12

    # Flags. Domestic abuse and sexual offences rise over time; the shares are kept on target on average.
    lock = np.array([_LOCKDOWN_STRENGTH.get(str(p), 0.0) for p in months])[m]
    sexual_p = np.where(t == _VSO, _P_SEXUAL_IN_VSO, 0.0) * 1.05 ** (years - 2.5)
    is_sexual = rng.random(n) < sexual_p
    da_p = _P_DA[t] * 1.04 ** (years - 2.5) * (1 + 0.12 * lock)
    da_p = np.where(is_sexual, _P_DA_IF_SEXUAL, da_p)
    is_da = rng.random(n) < da_p
    is_hate = rng.random(n) < _P_HATE[t]
    # The canonical rule (datamodel.crime_group_for), applied once per combination of type and flags.
    key = ((t * 2 + is_da) * 2 + is_sexual) * 2 + is_hate
    combos, inverse = np.unique(key, return_inverse=True)
    combo_group = dm.crime_group_for(
        pd.Series(np.array(dm.CRIME_TYPES)[combos // 8]),
        is_domestic_abuse=pd.Series(combos // 4 % 2 == 1),
        is_sexual_offence=pd.Series(combos // 2 % 2 == 1),
        is_hate=pd.Series(combos % 2 == 1),
    )
    g = combo_group.cat.codes.to_numpy()[inverse]

    # Victims.
    identified = rng.random(n) < _P_IDENTIFIED[t]
    p_female = _P_FEMALE[g]
    unknown_sex = _P_SEX_UNKNOWN[g]
    sex = _draw(rng, np.column_stack([(1 - unknown_sex) * p_female, (1 - unknown_sex) * (1 - p_female), unknown_sex]))
    age = _draw(rng, _AGE_BY_GROUP[g])
    mix = _area_ethnic_mix(feat["urbanity"])[a]
    hate_rows = g == _G["Hate crime"]
    mix[hate_rows] *= np.array([5.0, 5.0, 3.0, 1.0, 5.0])  # most hate crime is racially motivated
    mix /= mix.sum(axis=1, keepdims=True)
    ethnicity = _draw(rng, np.column_stack([mix * (1 - _ETHNICITY_UNKNOWN), np.full(n, _ETHNICITY_UNKNOWN)]))
    repeat = rng.random(n) < _P_REPEAT[g]

    # Officer's initial victim needs assessment and the referral decision.
    assessed = identified & (rng.random(n) < _P_ASSESSED)
    older = np.isin(age, [dm.AGE_BANDS.index(b) for b in _OLDER_BANDS])
    x = (
        _REFER_LOGIT[g]
        + np.log(_LOW_REFERRAL_OR) * (feat["district"][a] == _UNDER_REFERRING)
        + np.log(_OLDER_OR) * older
    )
    # Intercept solved so that, after lost referrals, 20% of crimes with an identified victim are referred.
    target = EXAMPLE_CALIBRATION["police_referral_share_of_identified_victims"] * identified.sum()
    alpha = _solve_intercept(x[assessed], target / (1 - _P_REFERRAL_LOST))
    wants = assessed & (rng.random(n) < _expit(alpha + x))
    lost = wants & (rng.random(n) < _P_REFERRAL_LOST)
    referred = wants & ~lost
    consent = wants
    need = np.where(referred | lost, rng.random(n) < 0.88, rng.random(n) < _P_NEED_IF_NOT_REFERRED[g])

    outcome, outcome_month = _crime_outcomes(rng, t, g, m, n_m)
    no_location = rng.random(n) < 0.003
    area_codes = areas["area_code"].to_numpy()[a].astype(object)
    district_codes = areas["district_code"].to_numpy()[a].astype(object)
    area_codes[no_location] = None
    district_codes[no_location] = None
    not_id = ~identified
    crimes = pd.DataFrame(
        {
            "crime_id": pd.array(_ids("NM", n), dtype="str"),
            "month": pd.PeriodIndex.from_ordinals(months.asi8[m], freq="M"),
            "area_code": pd.array(area_codes, dtype="str"),
            "district_code": pd.array(district_codes, dtype="str"),
            "crime_type": _cat(t, dm.CRIME_TYPES),
            "crime_group": _cat(g, dm.CRIME_GROUPS),
            "is_domestic_abuse": _bool(is_da),
            "is_sexual_offence": _bool(is_sexual),
            "is_hate": _bool(is_hate),
            "is_repeat_victim": _bool(repeat, not_id),
            "victim_identified": _bool(identified),
            "victim_sex": _cat(sex, dm.VICTIM_SEXES, not_id),
            "victim_age_band": _cat(age, dm.VICTIM_AGE_BANDS, not_id),
            "victim_ethnicity": _cat(ethnicity, dm.ETHNICITIES, not_id),
            "needs_assessment_done": _bool(assessed, not_id),
            "need_identified": _bool(need, ~assessed),
            "consent_to_refer": _bool(consent, ~assessed),
            "outcome": outcome,
            "outcome_month": outcome_month,
        }
    )
    hidden = {"area_index": a, "referred": referred, "day": rng.integers(0, months.days_in_month.to_numpy()[m])}
    return crimes, hidden


def _crime_outcomes(
    rng: np.random.Generator, t: np.ndarray, g: np.ndarray, m: np.ndarray, n_m: int
) -> tuple[pd.Series, pd.PeriodIndex]:
    """Last police.uk outcome at the end of the series, and the month it was recorded."""
    profiles = list(_OUTCOME_PROFILES)
    table = np.array([_OUTCOME_PROFILES[p] for p in profiles])
    table /= table.sum(axis=1, keepdims=True)
    type_profile = np.array([profiles.index(_TYPE_PROFILE.get(name, "other")) for name in dm.CRIME_TYPES])
    profile = type_profile[t]
    profile = np.where(g == _G["Domestic abuse"], profiles.index("domestic"), profile)
    profile = np.where(g == _G["Sexual violence"], profiles.index("sexual"), profile)
    final = _draw(rng, table[profile])
    wait = rng.geometric(1 / (1 + _OUTCOME_MONTHS[final])) - 1
    court_wait = rng.geometric(1 / (1 + _COURT_MONTHS), len(t)) - 1
    charged = np.isin(final, _CHARGED)
    done_month = m + wait + np.where(final == _OUTCOMES.index("Court result unavailable"), court_wait, 0)
    labels = np.array(_OUTCOMES + ("Under investigation", "Awaiting court outcome"), dtype=object)
    status = final.copy()
    status_month = done_month.copy()
    pending = done_month > n_m - 1
    awaiting = pending & charged & (m + wait <= n_m - 1)
    status[pending] = len(_OUTCOMES)
    status_month[pending] = m[pending]
    status[awaiting] = len(_OUTCOMES) + 1
    status_month[awaiting] = (m + wait)[awaiting]
    asb = t == _ASB
    out = labels[status]
    out[asb] = None
    ordinals = FIRST_MONTH.ordinal + status_month
    ordinals[asb] = np.iinfo(np.int64).min
    return pd.array(out, dtype="str"), pd.PeriodIndex.from_ordinals(ordinals, freq="M")


# --------------------------------------------------------------------------------------------------
# Services and referrals
# --------------------------------------------------------------------------------------------------


def _make_services(total_pop: int) -> pd.DataFrame:
    budget = EXAMPLE_CALIBRATION["budget_per_resident_gbp"] * total_pop
    all_codes = ";".join(c for c, _ in _DISTRICTS)
    county = ";".join(c for i, (c, _) in enumerate(_DISTRICTS) if i != _CITY)
    rows = []
    for name, lot, provider, city, share, fte, per_fte in _SERVICES:
        rows.append(
            {
                "service_name": name,
                "lot": lot,
                "provider": provider,
                "districts_served": all_codes if city else county,
                "annual_funding": float(round(share * budget, -3)),
                "capacity_fte": fte,
                "capacity_cases": float(fte * per_fte),
                "location": _DISTRICTS[_CITY][1] if city else _DISTRICTS[1][1],
            }
        )
    services = pd.DataFrame(rows)
    services["lot"] = pd.Categorical(services["lot"], categories=list(dm.LOTS))
    return services


# fmt: off
_SELF_GROUPS = np.array([0.30, 0.20, 0.10, 0.15, 0.05, 0.0, 0.10, 0.10])
_PARTNER_GROUPS = np.array([0.55, 0.20, 0.05, 0.10, 0.0, 0.0, 0.0, 0.10])
_RISK_BY_GROUP = np.array([  # Standard, Medium, High
    [0.45, 0.37, 0.18], [0.50, 0.40, 0.10], [0.75, 0.20, 0.05], [0.82, 0.15, 0.03],
    [0.85, 0.13, 0.02], [0.80, 0.17, 0.03], [0.85, 0.13, 0.02], [0.88, 0.10, 0.02],
])
_ENHANCED_LOGIT = np.array([0.6, 0.9, 0.3, -0.2, -0.4, 0.0, -0.6, -0.9])
# Onward referral given support level and group: None, IDVA, ISVA, Counselling, Young victims, Hate crime,
# Restorative justice, Practical support.
_ONWARD_ENHANCED = np.array([
    [0.35, 0.30, 0.05, 0.22, 0.00, 0.00, 0.02, 0.06],
    [0.30, 0.00, 0.35, 0.33, 0.00, 0.00, 0.02, 0.00],
    [0.50, 0.00, 0.00, 0.15, 0.00, 0.30, 0.05, 0.00],
    [0.60, 0.00, 0.00, 0.30, 0.00, 0.00, 0.08, 0.02],
    [0.40, 0.00, 0.00, 0.10, 0.00, 0.00, 0.05, 0.45],
    [0.60, 0.00, 0.00, 0.30, 0.00, 0.00, 0.08, 0.02],
    [0.75, 0.00, 0.00, 0.10, 0.00, 0.00, 0.10, 0.05],
    [0.80, 0.00, 0.00, 0.12, 0.00, 0.00, 0.03, 0.05],
])
_ONWARD_BASIC = np.array([0.93, 0.0, 0.0, 0.03, 0.0, 0.0, 0.01, 0.03])
# fmt: on


def _make_referrals(
    rng: np.random.Generator,
    crimes: pd.DataFrame,
    hidden: dict[str, np.ndarray],
    areas: pd.DataFrame,
    feat: dict[str, np.ndarray],
) -> pd.DataFrame:
    cal = EXAMPLE_CALIBRATION
    police_rows = np.flatnonzero(hidden["referred"])
    n_police = len(police_rows)
    other_share = cal["self_referral_share"] + cal["partner_referral_share"]
    n_total = n_police / (1 - other_share)
    n_self = rng.poisson(cal["self_referral_share"] * n_total)
    n_partner = rng.poisson(cal["partner_referral_share"] * n_total)
    n_other = n_self + n_partner

    # Police referrals: the victim's details and the day of the crime, referred 0-10 working days later.
    pc = crimes.iloc[police_rows]
    month_start = pc["month"].dt.start_time.to_numpy().astype("datetime64[D]")
    crime_day = month_start + hidden["day"][police_rows].astype("timedelta64[D]")
    lag = _draw(rng, np.tile([0.50, 0.30, 0.10, 0.05, 0.05], (n_police, 1)))
    lag = np.where(lag == 4, 4 + rng.integers(0, 7, n_police), lag)
    police_date = np.busday_offset(crime_day, lag, roll="forward")

    # Self and partner referrals: a resident chosen by population, on a working day in the period.
    pop = areas["population"].to_numpy().astype(float)
    other_area = rng.choice(len(areas), n_other, p=pop / pop.sum())
    other_group = np.concatenate(
        [_draw(rng, np.tile(_SELF_GROUPS, (n_self, 1))), _draw(rng, np.tile(_PARTNER_GROUPS, (n_partner, 1)))]
    )
    start = np.datetime64(FIRST_MONTH.start_time.date(), "D")
    span = (np.datetime64(LAST_MONTH.end_time.date(), "D") - start).astype(int) + 1
    other_date = np.busday_offset(start + rng.integers(0, span, n_other).astype("timedelta64[D]"), 0, roll="forward")
    p_female = _P_FEMALE[other_group]
    other_sex = _draw(rng, np.column_stack([0.99 * p_female, 0.99 * (1 - p_female), np.full(n_other, 0.01)]))
    other_age = _draw(rng, _AGE_BY_GROUP[other_group])
    mix = _area_ethnic_mix(feat["urbanity"])[other_area]
    other_eth = _draw(rng, np.column_stack([mix * (1 - _ETHNICITY_UNKNOWN), np.full(n_other, _ETHNICITY_UNKNOWN)]))

    def codes(col: str) -> np.ndarray:
        return pc[col].cat.codes.to_numpy()

    police_area = hidden["area_index"][police_rows]
    area_idx = np.concatenate([police_area, other_area])
    group = np.concatenate([codes("crime_group"), other_group])
    sex = np.concatenate([codes("victim_sex"), other_sex])
    age = np.concatenate([codes("victim_age_band"), other_age])
    eth = np.concatenate([codes("victim_ethnicity"), other_eth])
    ref_date = np.concatenate([police_date, other_date])
    source = np.repeat([0, 1, 2], [n_police, n_self, n_partner])
    n = len(source)
    district = feat["district"][area_idx]
    disability = rng.random(n) < np.where(group == _G["Hate crime"], 0.30, 0.17)

    # Risk (DASH for domestic abuse, triage otherwise) and the service each referral goes to.
    risk = _draw(rng, _RISK_BY_GROUP[group])
    svc_names = [s[0] for s in _SERVICES]
    service = np.zeros(n, dtype=int)  # the advice line unless a specialist service takes it
    in_county = district != _CITY
    child = age == 0
    service[child] = 3
    service[group == _G["Hate crime"]] = 4
    service[(group == _G["Anti-social behaviour"]) & in_county] = 5
    service[(group == _G["Burglary"]) & in_county & (rng.random(n) < 0.5)] = 6
    service[group == _G["Sexual violence"]] = 2
    service[(group == _G["Domestic abuse"]) & (risk == 2)] = 1

    # Contact: first attempt after a delay in working days; no attempt for 1%, no answer for 4% of attempts.
    attempted = rng.random(n) >= cal["no_contact_attempt_share"]
    delay = _working_days_delay(rng, n, service == svc_names.index(_SLOW_SERVICE))
    first_contact = np.busday_offset(ref_date, delay, roll="forward")
    attempted &= first_contact <= EXTRACT_DATE
    made = attempted & (rng.random(n) >= cal["no_response_share"] / (1 - cal["no_contact_attempt_share"]))
    need = made & (rng.random(n) < np.where(source == 0, 0.80, 0.95))

    # Support: enhanced for a share solved to be 22% of all referrals, more likely at higher risk.
    z = _ENHANCED_LOGIT[group] + 0.8 * (risk == 2) + 0.3 * (risk == 1)
    beta0 = _solve_intercept(z[need], cal["enhanced_support_share"] * n)
    enhanced = need & (rng.random(n) < _expit(beta0 + z))
    basic = made & ~enhanced
    accepted = enhanced | (basic & need & (rng.random(n) < 0.55))
    level = np.where(enhanced, 1, 0)
    onward = np.where(enhanced, _draw(rng, _ONWARD_ENHANCED[group]), _draw(rng, np.tile(_ONWARD_BASIC, (n, 1))))
    onward = np.where(child & enhanced & (service != 3) & (rng.random(n) < 0.4), 4, onward)
    onward = np.where(onward == 1, np.where(service == 1, 0, 1), onward)
    onward = np.where(onward == 2, np.where(service == 2, 3, 2), onward)
    onward = np.where((onward == 7) & ~in_county, 0, onward)  # practical support serves the county only

    # Closure: basic cases within weeks, enhanced within months; unanswered cases closed after 10 working days.
    length = np.where(enhanced, rng.gamma(2.0, 45.0, n), rng.gamma(1.5, 9.0, n)).astype(int)
    closed = np.where(
        made, first_contact + length.astype("timedelta64[D]"), np.busday_offset(ref_date, 10, roll="forward")
    )
    open_case = closed > EXTRACT_DATE
    measured = enhanced & ~open_case & (rng.random(n) < 0.85)
    cope = rng.random(n) < 0.82
    safer = rng.random(n) < np.where(group == _G["Domestic abuse"], 0.80, 0.74)

    order = np.lexsort((source, ref_date))
    crime_ids = np.concatenate([pc["crime_id"].to_numpy().astype(object), np.full(n_other, None, dtype=object)])
    area_codes = areas["area_code"].to_numpy()[area_idx]
    district_codes = areas["district_code"].to_numpy()[area_idx]
    not_made = ~made
    ref = pd.DataFrame(
        {
            "referral_id": pd.array(_ids("VR", n), dtype="str"),
            "crime_id": pd.array(crime_ids[order], dtype="str"),
            "service": pd.array(np.array(svc_names)[service][order], dtype="str"),
            "source": _cat(source[order], dm.REFERRAL_SOURCES),
            "referral_date": _dates(ref_date[order]),
            "district_code": pd.array(district_codes[order], dtype="str"),
            "area_code": pd.array(area_codes[order], dtype="str"),
            "crime_group": _cat(group[order], dm.CRIME_GROUPS),
            "victim_sex": _cat(sex[order], dm.VICTIM_SEXES),
            "victim_age_band": _cat(age[order], dm.VICTIM_AGE_BANDS),
            "victim_ethnicity": _cat(eth[order], dm.ETHNICITIES),
            "victim_disability": _bool(disability[order]),
            "need_identified": _bool(need[order], not_made[order]),
            "risk_level": _cat(risk[order], dm.RISK_LEVELS, not_made[order]),
            "contact_attempted": _bool(attempted[order]),
            "first_contact_date": _dates(first_contact[order], ~attempted[order]),
            "contact_made": _bool(made[order]),
            "support_accepted": _bool(accepted[order], not_made[order]),
            "support_level": _cat(level[order], dm.SUPPORT_LEVELS, not_made[order]),
            "onward_referral": _cat(onward[order], dm.ONWARD_TARGETS, not_made[order]),
            "closed_date": _dates(closed[order], open_case[order]),
            "outcome_cope_recover": _bool(cope[order], ~measured[order]),
            "outcome_feel_safer": _bool(safer[order], ~measured[order]),
        }
    )
    ref["onward_accepted"] = _onward_acceptance(ref, np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0]))
    return ref


def _onward_acceptance(ref: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    """Whether each onward referral was accepted: less often in the specialist service's busiest months.

    Drawn from its own generator (spawned from the seed), so adding it leaves every other column unchanged.
    """
    effect = EXAMPLE_EFFECTS["onward_fails_when_busy"]
    target = ref["onward_referral"].astype("string")
    made = target.notna() & (target != "None")
    month = ref["referral_date"].dt.to_period("M")
    volume = made.groupby([target, month]).transform("sum")
    top_quarter = made.groupby([target, month]).sum().groupby(level=0).quantile(0.75)
    busy = made & (volume > target.map(top_quarter).astype(float))
    p = np.where(busy, effect["accepted_when_busy"], effect["accepted_otherwise"])
    accepted = rng.random(len(ref)) < p
    return pd.Series(pd.array(np.where(made, accepted, None), dtype="boolean"), index=ref.index)


# --------------------------------------------------------------------------------------------------
# Survey
# --------------------------------------------------------------------------------------------------

# fmt: off
_SURVEY_GROUPS = ("Domestic abuse", "Violence", "Burglary", "Hate crime", "Anti-social behaviour")
_SURVEY_QUOTA = 120
_SATISFIED_WHOLE = {"Domestic abuse": 0.72, "Violence": 0.63, "Burglary": 0.80, "Hate crime": 0.60,
                    "Anti-social behaviour": 0.52}
_STAGE_OFFSET = {"contact": 0.5, "actions": -0.1, "kept_informed": -0.6, "treatment": 0.7,
                 "whole_experience": 0.0}
# Right -> (share of "yes" among applicable answers, share not applicable).
_CODE_RIGHTS = {1: (0.93, 0.02), 2: (0.90, 0.03), 3: (0.72, 0.03), 4: (0.58, 0.10), 5: (0.32, 0.25),
                6: (0.62, 0.05), 7: (0.45, 0.10), 8: (0.70, 0.0), 9: (0.60, 0.10), 10: (0.50, 0.85),
                11: (0.55, 0.0), 12: (0.35, 0.05)}
# fmt: on


def _make_survey(rng: np.random.Generator, crimes: pd.DataFrame, hidden: dict[str, np.ndarray]) -> pd.DataFrame:
    last_month = LAST_MONTH - 2  # responses come 6 to 10 weeks after the crime
    ordinal = crimes["month"].array.asi8  # months since January 1970
    fy = 1970 + (ordinal - 3) // 12  # the year the financial year starts in
    group_code = crimes["crime_group"].cat.codes.to_numpy()
    eligible = (
        crimes["victim_identified"].to_numpy(dtype=bool, na_value=False)
        & (ordinal <= last_month.ordinal)
        & (crimes["victim_age_band"].cat.codes.to_numpy() != dm.VICTIM_AGE_BANDS.index("0-15"))
        & crimes["district_code"].notna().to_numpy()
    )
    picks, weights = [], []
    for gname in _SURVEY_GROUPS:
        for year in np.unique(fy):
            pool = np.flatnonzero(eligible & (group_code == _G[gname]) & (fy == year))
            take = min(_SURVEY_QUOTA, len(pool))
            picks.append(rng.choice(pool, take, replace=False))
            weights.append(np.full(take, len(pool) / take))
    rows = np.concatenate(picks)
    w = np.concatenate(weights)
    w = w / w.mean()
    order = np.argsort(rows, kind="stable")
    rows, w = rows[order], w[order]
    n = len(rows)
    sub = crimes.iloc[rows]
    sgroup = np.array(dm.CRIME_GROUPS)[group_code[rows]]
    asb = sgroup == "Anti-social behaviour"
    referred = hidden["referred"][rows]
    charged = (
        sub["outcome"]
        .isin(["Court result unavailable", "Awaiting court outcome", "Suspect charged as part of another case"])
        .to_numpy()
    )
    latent = rng.normal(0, 0.9, n)
    start = sub["month"].dt.start_time.to_numpy().astype("datetime64[D]")
    response_date = start + rng.integers(42, 71, n).astype("timedelta64[D]")

    out: dict[str, Any] = {
        "response_id": pd.array(_ids("VS", n), dtype="str"),
        "response_date": _dates(response_date),
        "crime_id": pd.array(sub["crime_id"].to_numpy(), dtype="str"),
        "crime_group": pd.Categorical(sgroup, categories=list(dm.CRIME_GROUPS)),
        "district_code": pd.array(sub["district_code"].to_numpy(), dtype="str"),
        "victim_sex": sub["victim_sex"].to_numpy(),
        "victim_age_band": sub["victim_age_band"].to_numpy(),
        "victim_ethnicity": sub["victim_ethnicity"].to_numpy(),
        "victim_disability": _bool(rng.random(n) < np.where(sgroup == "Hate crime", 0.30, 0.18)),
    }
    base = _logit(np.array([_SATISFIED_WHOLE[x] for x in sgroup])) + 0.3 * referred
    for stage in dm.SATISFACTION_STAGES:
        p = _expit(base + _STAGE_OFFSET[stage] + latent)
        out[f"satisfied_{stage}"] = _bool(rng.random(n) < p, rng.random(n) < 0.02)
    for right, (p_yes, p_na) in _CODE_RIGHTS.items():
        p = _expit(_logit(p_yes) + 0.5 * latent)
        if right == 4:
            p = np.where(referred, 0.85, 0.35)
        na = asb | (rng.random(n) < p_na)
        if right in (8, 11):
            na |= ~charged
        out[f"code_right_{right}"] = _bool(rng.random(n) < p, na)
    out["weight"] = np.round(w, 6)
    survey = pd.DataFrame(out)
    for col, cats in (
        ("victim_sex", dm.VICTIM_SEXES),
        ("victim_age_band", dm.VICTIM_AGE_BANDS),
        ("victim_ethnicity", dm.ETHNICITIES),
    ):
        survey[col] = pd.Categorical(survey[col], categories=list(cats))
    return survey


# --------------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _build(seed: int) -> dm.AreaData:
    rng = np.random.default_rng(seed)
    areas, feat = _make_areas(rng)
    population = _make_population(rng, areas, feat["urbanity"])
    crimes, hidden = _make_crimes(rng, areas, feat)
    services = _make_services(int(areas["population"].sum()))
    referrals = _make_referrals(rng, crimes, hidden, areas, feat)
    survey = _make_survey(rng, crimes, hidden)
    note = f"synthetic: generated by victimneeds.datasets.load_example(seed={seed}); {dm.SYNTHETIC_NOTE}"
    sources = {
        "areas": f"{note}; invented boundaries (Voronoi cells), populations and IMD-like scores "
        "(deciles cut at England's IMD 2019 score deciles)",
        "population": f"{note}; residents by sex and age band",
        "crimes": f"{note}; volumes scaled to about 86,500 crimes a year per 1.1m residents",
        "referrals": f"{note}; about 20% of identified victims referred by police",
        "services": f"{note}; invented services, funding GBP 1.00 a resident",
        "survey": f"{note}; no sexual-violence responses (the missing voice)",
    }
    return dm.AreaData(
        name=EXAMPLE_NAME,
        areas=areas,
        population=population,
        crimes=crimes,
        referrals=referrals,
        services=services,
        survey=survey,
        period=(FIRST_MONTH, LAST_MONTH),
        sources=sources,
        synthetic=True,
    )


def load_example(seed: int = 2024) -> dm.AreaData:
    """The built-in synthetic example area, Northmoor: every table of the data model, made up.

    The area is generated from ``seed`` (the same seed always gives the same tables, geometry included) in a few
    seconds, kept for the session, and returned as fresh copies: changing them does not change later calls.
    Nothing about it is real; every output computed from it is a synthetic example. The module docstring lists
    the published figures each magnitude is calibrated to and the effects planted for analyses to find
    (:data:`EXAMPLE_EFFECTS`).

    Parameters
    ----------
    seed : int, default 2024
        Seed for :func:`numpy.random.default_rng`. Other seeds give other, equally plausible, Northmoors with
        the same planted effects.

    Returns
    -------
    AreaData
        ``name`` "Northmoor (synthetic example)", ``synthetic=True``, ``period`` April 2019 to March 2025,
        with ``areas`` (GeoDataFrame, EPSG:27700), ``population``, ``crimes``, ``referrals``, ``services`` and
        ``survey``.

    References
    ----------
    The magnitudes are calibrated to the published figures collected in ``shared/DOMAIN.md``: Crime Survey for
    England and Wales (ONS, years ending March 2020 and 2022) for the sex of domestic-abuse and sexual-offence
    victims; SafeLives (2024) for IDVA caseloads; MHCLG (2019) *English Indices of Deprivation 2019* for the IMD
    decile cut points; data.police.uk street-level crime for the crime-type mix and outcome wording.

    Examples
    --------
    >>> area = load_example()
    >>> area.synthetic, area.period
    (True, (Period('2019-04', 'M'), Period('2025-03', 'M')))
    >>> len(area.districts)
    5
    >>> area.crimes is load_example().crimes
    False
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"load_example(seed=...) needs a whole number of 0 or more, not {seed!r}.")
    cached = _build(int(seed))
    tables = {name: getattr(cached, name).copy(deep=True) for name in dm.AreaData.TABLES}
    return dm.AreaData(
        name=cached.name,
        period=cached.period,
        sources=dict(cached.sources),
        synthetic=True,
        quality={k: v.copy() for k, v in cached.quality.items()},
        **tables,
    )


def reference(name: str) -> pd.DataFrame:
    """A published reference table shipped with victimneeds, e.g. ``reference("csew_prevalence")``.

    See :mod:`victimneeds.reference` for the tables and their sources.

    Examples
    --------
    >>> reference("csew_prevalence")["source"].notna().all()
    np.True_
    """
    from victimneeds.reference import table

    return table(name)
