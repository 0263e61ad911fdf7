"""Every column an area's own extracts can supply: its type, meaning, allowed values and which analyses use it.

The same words as ``docs/data-model.md``; used by the templates and the data-request document that
``victimneeds init`` writes, so the analyst can send providers exactly what the tool reads.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Field", "FIELDS", "WHY"]


class Field(NamedTuple):
    """One column: its type, its meaning, its allowed values and the analyses that use it."""

    type: str
    meaning: str
    allowed: str
    used_by: str


#: Why each section needs its data, in a sentence for the person asked to supply it.
WHY: dict[str, str] = {
    "demand": "how many victims of what, where and when, now and in future years (demand section)",
    "referral gaps": "where the path from crime to support leaks, and for whom (referral gaps section)",
    "equity": "whether funding follows need across districts and groups (funding equity section)",
    "service spec": "the volumes, staffing and cost each service must be specified for (service specification)",
    "victim voice": "satisfaction and Victims' Code compliance, and whose voice is missing (victim voice section)",
    "outcomes": "justice outcomes and what support achieved (outcomes section)",
}

#: table -> column -> :class:`Field`.
FIELDS: dict[str, dict[str, Field]] = {
    "crimes": {
        "crime_id": Field(
            "text, unique",
            "the force's crime reference, or the police.uk crime ID",
            "any",
            "referral gaps (linking to referrals)",
        ),
        "month": Field(
            "month",
            "month the crime was recorded",
            "pandas monthly period",
            "demand (trends, forecasts)",
        ),
        "area_code": Field(
            "text, may be empty",
            "small area of the crime location",
            "as in areas",
            "demand, equity",
        ),
        "district_code": Field(
            "text, may be empty",
            "district of the crime",
            "as in areas",
            "demand, referral gaps, equity",
        ),
        "crime_type": Field(
            "category",
            "police.uk crime type",
            "the 14 police.uk types (CRIME_TYPES), e.g. Burglary, Violence and sexual offences",
            "demand",
        ),
        "crime_group": Field(
            "category",
            "the group a needs assessment reports on (see crime_group_for)",
            "Domestic abuse, Sexual violence, Hate crime, Violence, Burglary, Robbery, Anti-social behaviour, Other",
            "demand, referral gaps, service spec, equity",
        ),
        "is_domestic_abuse": Field(
            "flag",
            "domestic-abuse flag",
            "true / false / empty",
            "demand (domestic abuse, MARAC and IDVA volumes), referral gaps",
        ),
        "is_hate": Field(
            "flag",
            "hate-crime flag",
            "true / false / empty",
            "demand, referral gaps",
        ),
        "is_repeat_victim": Field(
            "flag",
            "the victim has been a victim before (force definition)",
            "true / false / empty",
            "demand, service spec (enhanced support)",
        ),
        "victim_identified": Field(
            "flag",
            "there is an identified victim to refer",
            "true / false / empty",
            'referral gaps (the denominator of "referred"), demand',
        ),
        "victim_sex": Field(
            "category, may be empty",
            "victim sex as recorded",
            "Female, Male, Unknown",
            "demand, referral gaps, equity",
        ),
        "victim_age_band": Field(
            "category, may be empty",
            "victim age band",
            "the age bands above and Unknown",
            "demand, referral gaps, equity (under-18s)",
        ),
        "victim_ethnicity": Field(
            "category, may be empty",
            "ONS five-group ethnicity",
            "Asian, Black, Mixed, White, Other, Unknown",
            "referral gaps, equity",
        ),
        "needs_assessment_done": Field(
            "flag",
            "the officer completed the Initial Victim Needs Assessment (IVNA)",
            "true / false / empty",
            "referral gaps",
        ),
        "need_identified": Field(
            "flag",
            "the IVNA found a need for support",
            "true / false / empty",
            "referral gaps (missed need and over-referral)",
        ),
        "consent_to_refer": Field(
            "flag",
            "the victim consented to referral",
            "true / false / empty",
            "referral gaps",
        ),
        "outcome": Field(
            "text, may be empty",
            "investigation outcome: a police.uk outcome category, or a Home Office outcome type (Outcome 1 ... 21)",
            "police.uk outcome categories; Home Office outcome types 1-4, 6-21 are translated",
            "victim voice (Code rights 6 and 9), outcomes",
        ),
        "outcome_month": Field(
            "month, may be empty",
            "month of the outcome",
            "pandas monthly period",
            "outcomes (time to outcome)",
        ),
    },
    "referrals": {
        "referral_id": Field(
            "text, unique",
            "service's case reference",
            "any",
            "all referral analyses",
        ),
        "crime_id": Field(
            "text, may be empty",
            "the crime it came from (empty for most self-referrals)",
            "as in crimes",
            "referral gaps (linking)",
        ),
        "service": Field(
            "text",
            "receiving service, as in services.service_name",
            "any",
            "service spec, referral gaps",
        ),
        "source": Field(
            "category",
            "who referred",
            "Police, Self, Partner",
            "referral gaps (self-referral share)",
        ),
        "referral_date": Field(
            "date",
            "date received",
            "date",
            "demand (referral volumes), referral gaps (timeliness), service spec",
        ),
        "district_code": Field(
            "text",
            "victim's district",
            "as in areas",
            "equity, referral gaps, service spec",
        ),
        "crime_group": Field(
            "category",
            "crime group",
            "as in crimes",
            "referral gaps, service spec",
        ),
        "victim_sex": Field(
            "category",
            "victim sex",
            "Female, Male, Unknown",
            "referral gaps, equity",
        ),
        "victim_age_band": Field(
            "category",
            "victim age band",
            "age bands and Unknown",
            "referral gaps, equity",
        ),
        "victim_ethnicity": Field(
            "category",
            "ONS five-group ethnicity",
            "as in crimes",
            "referral gaps, equity",
        ),
        "victim_disability": Field(
            "flag",
            "victim has a disability",
            "true / false / empty",
            "referral gaps, equity",
        ),
        "need_identified": Field(
            "flag",
            "the service's assessment found a need",
            "true / false / empty",
            "referral gaps, service spec",
        ),
        "risk_level": Field(
            "category, may be empty",
            "assessed risk (e.g. DASH)",
            "Standard, Medium, High",
            "service spec (IDVA and MARAC capacity)",
        ),
        "contact_attempted": Field(
            "flag",
            "the service tried to contact the victim",
            "true / false / empty",
            "referral gaps",
        ),
        "first_contact_date": Field(
            "date, may be empty",
            "first successful contact",
            "date",
            "referral gaps (time to contact)",
        ),
        "contact_made": Field(
            "flag",
            "the victim was reached",
            "true / false / empty",
            "referral gaps",
        ),
        "support_accepted": Field(
            "flag",
            "the victim accepted support",
            "true / false / empty",
            "referral gaps, service spec",
        ),
        "support_level": Field(
            "category, may be empty",
            "level of support delivered",
            "Basic, Enhanced",
            "service spec (caseloads), outcomes",
        ),
        "onward_referral": Field(
            "category, may be empty",
            "onward referral to a specialist service",
            "None, IDVA, ISVA, Counselling, Young victims, Hate crime, Restorative justice, Practical support",
            "service spec, outcomes",
        ),
        "onward_accepted": Field(
            "flag, optional",
            "the specialist service accepted the onward referral (empty when none was made)",
            "true / false / empty",
            "referral gaps (onward referrals failing at busy times)",
        ),
        "closed_date": Field(
            "date, may be empty",
            "case closed",
            "date",
            "service spec (case length, caseload), outcomes",
        ),
        "outcome_cope_recover": Field(
            "flag",
            "better able to cope and recover at closure",
            "true / false / empty",
            "outcomes",
        ),
        "outcome_feel_safer": Field(
            "flag",
            "feels safer at closure",
            "true / false / empty",
            "outcomes",
        ),
    },
    "services": {
        "service_name": Field(
            "text, unique",
            "service name",
            "any",
            "service spec, equity",
        ),
        "lot": Field(
            "category",
            "tender lot",
            "Victim advice line, IDVA, ISVA, Young victims, Hate crime, ASB, Practical support, Restorative justice",
            "service spec, equity",
        ),
        "provider": Field(
            "text",
            "provider organisation",
            "any",
            "service spec",
        ),
        "districts_served": Field(
            "text",
            'districts covered: district codes or names separated by ";", or "All"',
            "districts of the area, or All",
            "equity (funding per victim by district), service spec",
        ),
        "annual_funding": Field(
            "decimal",
            "annual contract value, GBP",
            "0 or more",
            "equity, service spec",
        ),
        "capacity_fte": Field(
            "decimal, may be empty",
            "funded full-time-equivalent staff",
            "0 or more",
            "service spec (caseload and staffing rules)",
        ),
        "capacity_cases": Field(
            "decimal, may be empty",
            "cases the contract expects a year",
            "0 or more",
            "service spec, demand (capacity against forecast)",
        ),
        "location": Field(
            "text, may be empty",
            "where the service is based (a district name, postcode or area code)",
            "any",
            "service spec (access and distance)",
        ),
    },
    "survey": {
        "response_id": Field(
            "text, unique",
            "response reference",
            "any",
            "victim voice",
        ),
        "response_date": Field(
            "date",
            "date of response",
            "date",
            "victim voice (trends)",
        ),
        "crime_group": Field(
            "category",
            "crime group of the respondent's crime",
            "as in crimes",
            "victim voice (coverage by crime group)",
        ),
        "district_code": Field(
            "text",
            "respondent's district",
            "as in areas",
            "victim voice, equity",
        ),
        "victim_sex": Field(
            "category",
            "sex",
            "Female, Male, Unknown",
            "victim voice, equity",
        ),
        "victim_age_band": Field(
            "category",
            "age band",
            "age bands and Unknown",
            "victim voice, equity",
        ),
        "victim_ethnicity": Field(
            "category",
            "ONS five-group ethnicity",
            "as in crimes",
            "victim voice, equity",
        ),
        "victim_disability": Field(
            "flag",
            "disability",
            "true / false / empty",
            "victim voice, equity",
        ),
        "satisfied_contact": Field(
            "flag",
            "satisfied at each stage of the Home Office satisfaction survey (SATISFACTION_STAGES)",
            "true / false / empty (not asked)",
            "victim voice",
        ),
        "satisfied_actions": Field(
            "flag",
            "satisfied at each stage of the Home Office satisfaction survey (SATISFACTION_STAGES)",
            "true / false / empty (not asked)",
            "victim voice",
        ),
        "satisfied_kept_informed": Field(
            "flag",
            "satisfied at each stage of the Home Office satisfaction survey (SATISFACTION_STAGES)",
            "true / false / empty (not asked)",
            "victim voice",
        ),
        "satisfied_treatment": Field(
            "flag",
            "satisfied at each stage of the Home Office satisfaction survey (SATISFACTION_STAGES)",
            "true / false / empty (not asked)",
            "victim voice",
        ),
        "satisfied_whole_experience": Field(
            "flag",
            "satisfied at each stage of the Home Office satisfaction survey (SATISFACTION_STAGES)",
            "true / false / empty (not asked)",
            "victim voice",
        ),
        "code_right_1": Field(
            "flag",
            "the victim says this Victims' Code right was met (VICTIMS_CODE_RIGHTS)",
            "true / false / empty (not asked or not applicable)",
            "victim voice (Code compliance)",
        ),
        "code_right_2": Field(
            "flag",
            "the victim says this Victims' Code right was met (VICTIMS_CODE_RIGHTS)",
            "true / false / empty (not asked or not applicable)",
            "victim voice (Code compliance)",
        ),
        "code_right_3": Field(
            "flag",
            "the victim says this Victims' Code right was met (VICTIMS_CODE_RIGHTS)",
            "true / false / empty (not asked or not applicable)",
            "victim voice (Code compliance)",
        ),
        "code_right_4": Field(
            "flag",
            "the victim says this Victims' Code right was met (VICTIMS_CODE_RIGHTS)",
            "true / false / empty (not asked or not applicable)",
            "victim voice (Code compliance)",
        ),
        "code_right_5": Field(
            "flag",
            "the victim says this Victims' Code right was met (VICTIMS_CODE_RIGHTS)",
            "true / false / empty (not asked or not applicable)",
            "victim voice (Code compliance)",
        ),
        "code_right_6": Field(
            "flag",
            "the victim says this Victims' Code right was met (VICTIMS_CODE_RIGHTS)",
            "true / false / empty (not asked or not applicable)",
            "victim voice (Code compliance)",
        ),
        "code_right_7": Field(
            "flag",
            "the victim says this Victims' Code right was met (VICTIMS_CODE_RIGHTS)",
            "true / false / empty (not asked or not applicable)",
            "victim voice (Code compliance)",
        ),
        "code_right_8": Field(
            "flag",
            "the victim says this Victims' Code right was met (VICTIMS_CODE_RIGHTS)",
            "true / false / empty (not asked or not applicable)",
            "victim voice (Code compliance)",
        ),
        "code_right_9": Field(
            "flag",
            "the victim says this Victims' Code right was met (VICTIMS_CODE_RIGHTS)",
            "true / false / empty (not asked or not applicable)",
            "victim voice (Code compliance)",
        ),
        "code_right_10": Field(
            "flag",
            "the victim says this Victims' Code right was met (VICTIMS_CODE_RIGHTS)",
            "true / false / empty (not asked or not applicable)",
            "victim voice (Code compliance)",
        ),
        "code_right_11": Field(
            "flag",
            "the victim says this Victims' Code right was met (VICTIMS_CODE_RIGHTS)",
            "true / false / empty (not asked or not applicable)",
            "victim voice (Code compliance)",
        ),
        "code_right_12": Field(
            "flag",
            "the victim says this Victims' Code right was met (VICTIMS_CODE_RIGHTS)",
            "true / false / empty (not asked or not applicable)",
            "victim voice (Code compliance)",
        ),
        "weight": Field(
            "decimal",
            "survey weight",
            "greater than 0 (1 when unweighted)",
            "victim voice (weighted percentages)",
        ),
    },
}
