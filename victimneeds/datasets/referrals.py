"""The example area's commissioned services and victim-service referrals.

Part of :mod:`victimneeds.datasets`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from victimneeds import datamodel as dm
from victimneeds.datasets.calibration import (
    _AGE_BY_GROUP,
    _CITY,
    _DISTRICTS,
    _ETHNICITY_UNKNOWN,
    _G,
    _P_FEMALE,
    _SERVICES,
    _SLOW_SERVICE,
    EXAMPLE_CALIBRATION,
    EXAMPLE_EFFECTS,
    EXTRACT_DATE,
    FIRST_MONTH,
    LAST_MONTH,
    _bool,
    _cat,
    _dates,
    _draw,
    _expit,
    _ids,
    _solve_intercept,
    _working_days_delay,
)
from victimneeds.datasets.crimes import _area_ethnic_mix

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
