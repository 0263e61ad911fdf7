"""The published figures the example area is calibrated to, its constants, and small random helpers.

Part of :mod:`victimneeds.datasets`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from victimneeds import datamodel as dm

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

#: The published figures the example is calibrated to (from PCC victims' needs assessments and service reports
#: of one area or another, collected for this project), and the targets derived from them.
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
        "crimes_per_1000_per_year": "PCC needs assessment: about 86,500 crimes a year in an area of about 1.1m people",
        "asb_per_1000_per_year": "PCC needs assessment: 24,000 non-crime incidents (incl. ASB) a year; ASB half",
        "police_referral_share_of_identified_victims": "PCC needs assessment: only about 20% of victims were referred",
        "self_referral_share": "PCC needs assessment: self-referrals 1.4%-5% of contacts",
        "partner_referral_share": "PCC needs assessment: 93% of referrals from police in another area",
        "enhanced_support_share": "PCC needs assessment: 22% enhanced, 73% basic, 1% not contactable, 4% no response",
        "budget_per_resident_gbp": "PCC needs assessment: a total victims budget of GBP 1.1m a year (area of ~1.1m)",
    },
}

#: The effects planted in the example, so that tests and notebooks can say what an analysis should find.
EXAMPLE_EFFECTS: dict[str, dict[str, Any]] = {
    "under_referring_district": {
        "district_code": _DISTRICTS[_UNDER_REFERRING][0],
        "district_name": _DISTRICTS[_UNDER_REFERRING][1],
        "odds_ratio": _LOW_REFERRAL_OR,
        "description": "Officers in Harrowdale refer consenting victims with a need to the victim service with "
        "odds 0.42 times those elsewhere, for the same crime group and victim.",
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
# The officer's needs assessment, by crime group: the share of assessed victims with a need found.
_P_NEED = np.array([0.64, 0.68, 0.56, 0.35, 0.41, 0.42, 0.24, 0.18])
# The victim's consent to referral, with a need found and without.
_P_CONSENT_IF_NEED = 0.85
_P_CONSENT_NO_NEED = 0.25
# Odds of referral for a consenting victim with no need found, against one with a need ("refers others who
# need nothing").
_NO_NEED_REFERRAL_OR = 0.08
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
