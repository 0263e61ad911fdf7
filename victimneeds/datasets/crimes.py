"""The example area's recorded crimes, victims and police.uk outcomes.

Part of :mod:`victimneeds.datasets`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from victimneeds import datamodel as dm
from victimneeds.datasets.calibration import (
    _AGE_BY_GROUP,
    _ASB,
    _CENTRE_MULT,
    _CHARGED,
    _COURT_MONTHS,
    _DEPRIVATION_BETA,
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
    _T,
    _TREND,
    _TYPE_PROFILE,
    _TYPE_SHARE,
    _UNDER_REFERRING,
    _VSO,
    EXAMPLE_CALIBRATION,
    FIRST_MONTH,
    LAST_MONTH,
    _bool,
    _cat,
    _draw,
    _expit,
    _ids,
    _solve_intercept,
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
    # The Victims' Code path: the assessment finds a need (or not), the victim consents to referral (or
    # declines), and the officer refers consenting victims, mostly those with a need. The planted effects (a
    # district that under-refers, older victims referred less) act on that last step, so they show on the
    # Code's denominator (victims with a need who consented) and are not explained by consent.
    need = assessed & (rng.random(n) < _P_NEED[g])
    consent = assessed & (rng.random(n) < np.where(need, _P_CONSENT_IF_NEED, _P_CONSENT_NO_NEED))
    x = x + np.log(_NO_NEED_REFERRAL_OR) * ~need
    # Intercept solved so that, after lost referrals, 20% of crimes with an identified victim are referred.
    target = EXAMPLE_CALIBRATION["police_referral_share_of_identified_victims"] * identified.sum()
    alpha = _solve_intercept(x[consent], target / (1 - _P_REFERRAL_LOST))
    wants = consent & (rng.random(n) < _expit(alpha + x))
    lost = wants & (rng.random(n) < _P_REFERRAL_LOST)
    referred = wants & ~lost

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
