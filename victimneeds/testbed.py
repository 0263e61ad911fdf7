"""An independent test bed: an area's own extracts in the layouts force and providers send, with known truth.

This generator has nothing in common with :mod:`victimneeds.datasets` (the built-in example area) except the
geography it is given: its own mechanism, its own column names and codes, its own file layouts. It exists so
that the extract path, and every finding built on it, can be tested on data the code was not tuned to.

:func:`make_extracts` writes, into a folder,

* ``force_crimes.csv``: the force's crime extract. UTF-8 with a byte-order mark; day-first dates with times
  (``dd/mm/yyyy hh:mm``); Home Office offence subgroups, police ``6+1`` (IC) ethnicity codes, ``F``/``M``,
  ``Y``/``N`` flags, Home Office outcome types (``Outcome 14``); crime references ``LE/0001234/21``; and two
  personal columns (a surname and free-text notes) that must never reach the pack;
* ``victim_service_cases.xlsx``: the provider's case records. A title row and a blank row above the header,
  Excel date cells, ages in years, ONS 18+1 ethnic groups, district names instead of codes, DASH risk as
  ``S``/``M``/``H``, crime references written ``0001234/21`` (no force prefix), a client-name and a phone
  column, and blank rows after the data;
* ``commissioned_services.csv``: services with districts served by name or ``All`` and money as ``£250,000``;
* ``victim_survey.csv``: ISO dates, police self-defined ethnicity codes (``W1``), ``Yes``/``No``/blank answers
  and an e-mail column;
* ``area.toml``: the area configuration that reads them (geography from the shared ONS files).

The mechanism: crimes fall on small areas in proportion to population, with a seasonal cycle; types, flags and
victim characteristics are drawn from fixed shares; the officer's needs assessment, the need and the consent
are drawn in turn, and a police referral follows for consenting victims with a need with probability
``refer_rate`` (times ``ethnicity_or`` on the odds for one group, if planted). Self and partner referrals
arrive without a crime. The returned :class:`Truth` holds the counts the reader must recover.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["Truth", "make_extracts", "area_toml"]

_TYPES = {  # offence subgroup as the force writes it -> (police.uk type, share)
    "Violence with injury": ("Violence and sexual offences", 0.13),
    "Violence without injury": ("Violence and sexual offences", 0.13),
    "Stalking and harassment": ("Violence and sexual offences", 0.08),
    "Rape": ("Violence and sexual offences", 0.01),
    "Other sexual offences": ("Violence and sexual offences", 0.015),
    "Residential burglary": ("Burglary", 0.05),
    "Criminal damage": ("Criminal damage and arson", 0.10),
    "Shoplifting": ("Shoplifting", 0.08),
    "Theft from the person": ("Theft from the person", 0.015),
    "Bicycle theft": ("Bicycle theft", 0.015),
    "All other theft offences": ("Other theft", 0.09),
    "Theft from a vehicle": ("Vehicle crime", 0.06),
    "Public order offences": ("Public order", 0.10),
    "Possession of drugs": ("Drugs", 0.03),
    "Robbery of personal property": ("Robbery", 0.015),
    "Possession of weapons offences": ("Possession of weapons", 0.01),
    "Miscellaneous crimes against society": ("Other crime", 0.03),
}
_IC = {"IC1": 0.78, "IC2": 0.04, "IC3": 0.05, "IC4": 0.09, "IC5": 0.01, "IC6": 0.01, "IC9": 0.02}
_IC_GROUP = {"IC1": "White", "IC2": "White", "IC3": "Black", "IC4": "Asian", "IC5": "Asian", "IC6": "Other",
             "IC9": "Unknown"}
_ONS_NAME = {"White": "English, Welsh, Scottish, Northern Irish or British", "Black": "Caribbean", "Asian": "Indian",
             "Other": "Arab", "Unknown": "Not stated", "Mixed": "White and Asian"}
_SDE = {"White": "W1", "Black": "B2", "Asian": "A2", "Other": "O9", "Unknown": "NS", "Mixed": "M3"}
_OUTCOMES = {"Outcome 1": 0.08, "Outcome 3": 0.02, "Outcome 8": 0.04, "Outcome 14": 0.12, "Outcome 15": 0.10,
             "Outcome 16": 0.18, "Outcome 18": 0.36, "Outcome 21": 0.05, "": 0.05}
_AGES = (("0-15", 0, 15, 0.07), ("16-24", 16, 24, 0.18), ("25-34", 25, 34, 0.22), ("35-44", 35, 44, 0.18),
         ("45-54", 45, 54, 0.15), ("55-64", 55, 64, 0.10), ("65-74", 65, 74, 0.06), ("75+", 75, 95, 0.04))
_GROUP_WORDS = {"Domestic abuse": "DA", "Sexual violence": "Sexual offences", "Hate crime": "Hate",
                "Violence": "Violence", "Burglary": "Burglary", "Robbery": "Robbery", "Other": "Other crime"}
_SERVICES = (  # name, lot, provider, districts, funding, fte, cases
    ("Victim Care Hub", "Victim advice line", "Provider A", "All", 1_100_000, 24.0, 9000.0),
    ("Safe Steps IDVA", "IDVA", "Provider B", None, 420_000, 9.0, 900.0),
    ("Rise ISVA", "ISVA", "Provider C", "All", 260_000, 5.0, 300.0),
    ("Young Voices", "Young victims", "Provider A", "All", 120_000, 3.0, 400.0),
    ("Unity Hate Crime Support", "Hate crime", "Provider D", None, 60_000, 1.5, 150.0),
    ("Neighbourhood ASB Service", "ASB", "Provider E", "All", 50_000, 1.0, 200.0),
    ("Secure Homes", "Practical support", "Provider F", "All", 80_000, 2.0, 600.0),
    ("Restore", "Restorative justice", "Provider G", "All", 70_000, 1.5, 120.0),
)


@dataclass
class Truth:
    """What the generator made: counts and values the extract path must recover."""

    crimes: int = 0
    referrals: int = 0
    police_referrals: int = 0
    survey: int = 0
    services: int = 0
    months: tuple[str, str] = ("", "")
    by_group: dict[str, int] = field(default_factory=dict)
    first_crime_date: str = ""
    crimes_table: pd.DataFrame | None = None
    referrals_table: pd.DataFrame | None = None


def _choice(rng: np.random.Generator, table: dict, n: int) -> np.ndarray:
    keys = list(table)
    p = np.array([table[k] if not isinstance(table[k], tuple) else table[k][1] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def make_extracts(
    folder: str | Path,
    areas: pd.DataFrame,
    crimes: int = 6000,
    start: str = "2021-04",
    months: int = 24,
    survey: int = 400,
    refer_rate: float = 0.8,
    ethnicity_or: float = 1.0,
    seed: int = 1,
    data_dir: str | Path | None = None,
    assessment_fall: tuple[int, int, float] | None = None,
    satisfaction_or: float = 1.0,
    support_effect: tuple[float, float] = (0.65, 0.65),
    right_decline: tuple[int, float, float] | None = None,
    contact_by_risk: dict[str, float] | None = None,
) -> Truth:
    """Write an area's extracts in provider layouts into ``folder``; return the truth.

    Parameters
    ----------
    folder : where to write the files and ``area.toml``.
    areas : small areas with ``area_code``, ``district_code``, ``district_name`` and ``population``.
    crimes : number of crimes over the period.
    start, months : the first month (``YYYY-MM``) and the number of months.
    survey : number of survey responses.
    refer_rate : probability that a consenting victim with a need is referred by police.
    ethnicity_or : odds ratio of referral for Asian victims against the rest (1 = no effect planted).
    seed : random seed.
    data_dir : the shared open data folder (for the geography of ``area.toml``); None leaves ``area.toml`` out.
    assessment_fall : ``(first, last, p)``: in months ``first`` to ``last - 1`` (from 0) the needs assessment is
        done with probability ``p`` instead of 0.85.
    satisfaction_or : odds ratio of satisfaction with the whole experience for Asian respondents (base 75%).
    support_effect : probability of being better able to cope and recover after basic and after enhanced
        support.
    right_decline : ``(k, before, last_year)``: Victims' Code right ``k`` met with probability ``before``, then
        ``last_year`` for responses in the last twelve months (other rights 70%).
    contact_by_risk : DASH risk (``S``, ``M``, ``H``) -> daily probability of first contact (default 0.4 for all).
    """
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    areas = pd.DataFrame(areas)[["area_code", "district_code", "district_name", "population"]].reset_index(drop=True)
    first = pd.Period(start, "M")
    # --- crimes -------------------------------------------------------------------------------------------
    season = 1 + 0.12 * np.sin(2 * np.pi * (np.arange(months) + first.month - 4) / 12)
    month_idx = rng.choice(months, size=crimes, p=season / season.sum())
    area_idx = rng.choice(len(areas), size=crimes, p=areas["population"] / areas["population"].sum())
    subgroup = _choice(rng, _TYPES, crimes)
    ptype = np.array([_TYPES[s][0] for s in subgroup], dtype=object)
    sexual = np.isin(subgroup, ["Rape", "Other sexual offences"])
    violent = ptype == "Violence and sexual offences"
    da = rng.random(crimes) < np.where(sexual, 0.2, np.where(violent, 0.38, np.where(
        subgroup == "Criminal damage", 0.08, 0.0)))
    hate = rng.random(crimes) < np.where(violent | (ptype == "Public order"), 0.05, 0.0)
    repeat = rng.random(crimes) < 0.25
    identified = rng.random(crimes) < np.where(subgroup == "Shoplifting", 0.15, np.where(violent, 0.95, 0.75))
    female = rng.random(crimes) < np.where(da | sexual, 0.8, 0.48)
    sex = np.where(female, "F", "M").astype(object)
    sex[rng.random(crimes) < 0.02] = "U"
    age_band = rng.choice(len(_AGES), size=crimes, p=[a[3] for a in _AGES])
    ic = _choice(rng, _IC, crimes)
    ethnic = np.array([_IC_GROUP[c] for c in ic], dtype=object)
    p_assess = np.full(crimes, 0.85)
    if assessment_fall is not None:
        p_assess[(month_idx >= assessment_fall[0]) & (month_idx < assessment_fall[1])] = assessment_fall[2]
    assessed = identified & (rng.random(crimes) < p_assess)
    need = assessed & (rng.random(crimes) < np.where(da | sexual, 0.75, np.where(violent, 0.45, 0.25)))
    consent = need & (rng.random(crimes) < 0.7)
    odds = refer_rate / (1 - refer_rate) * np.where(ethnic == "Asian", ethnicity_or, 1.0)
    referred = consent & (rng.random(crimes) < odds / (1 + odds))
    day = rng.integers(0, 28, size=crimes)
    month_start = np.array([(first + int(m)).start_time for m in range(months)])
    when = pd.to_datetime(month_start[month_idx]) + pd.to_timedelta(day, unit="D") + pd.to_timedelta(
        rng.integers(0, 24 * 60, size=crimes), unit="min")
    outcome = _choice(rng, _OUTCOMES, crimes)
    lag = rng.geometric(0.35, size=crimes) - 1
    outcome_when = (when.to_period("M") + lag).astype(str)
    outcome_when = np.where(outcome == "", "", outcome_when)
    number = rng.permutation(np.arange(10_000, 10_000 + crimes))
    yy = when.year % 100
    refs = np.array([f"LE/{n:07d}/{y:02d}" for n, y in zip(number, yy, strict=True)], dtype=object)
    group = np.where(da, "Domestic abuse", np.where(sexual, "Sexual violence", np.where(hate, "Hate crime", np.where(
        violent, "Violence", np.where(ptype == "Burglary", "Burglary", np.where(ptype == "Robbery", "Robbery",
                                                                                   "Other"))))))
    yn = np.array(["N", "Y"], dtype=object)
    force = pd.DataFrame({
        "Crime Reference": refs,
        "Recorded Date": when.strftime("%d/%m/%Y %H:%M"),
        "Offence Subgroup": subgroup,
        "LSOA": areas["area_code"].to_numpy()[area_idx],
        "DA Flag": yn[da.astype(int)],
        "Hate Flag": yn[hate.astype(int)],
        "Repeat Victim": yn[repeat.astype(int)],
        "Victim Identified": yn[identified.astype(int)],
        "Victim Sex": np.where(identified, sex, ""),
        "Victim Age Band": np.where(identified, np.array([_AGES[i][0] for i in age_band], dtype=object), ""),
        "Officer Defined Ethnicity": np.where(identified, ic, ""),
        "VNA Completed": np.where(identified, yn[assessed.astype(int)], ""),
        "Support Need": np.where(assessed, yn[need.astype(int)], ""),
        "Consent to Refer": np.where(need, yn[consent.astype(int)], ""),
        "Outcome Type": outcome,
        "Outcome Month": outcome_when,
        "Victim Surname": [f"Surname{i}" for i in range(crimes)],
        "Officer Notes": [f"Victim spoken to at home on day {d} and advised about next steps" for d in day],
    })
    (folder / "force_crimes.csv").write_bytes(force.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig"))
    # --- referrals ----------------------------------------------------------------------------------------
    police = np.flatnonzero(referred)
    n_other = max(4, int(0.12 * len(police)))
    kind = np.r_[np.full(len(police), "Police referral", dtype=object),
                 rng.choice(np.array(["Self-referral", "Partner agency"], dtype=object), size=n_other)]
    n_ref = len(kind)
    crime_of = np.r_[police, np.full(n_other, -1)]
    linked = crime_of >= 0
    other_area = rng.choice(len(areas), size=n_ref)
    a_idx = np.where(linked, area_idx[np.maximum(crime_of, 0)], other_area)
    r_group = np.where(linked, group[np.maximum(crime_of, 0)], rng.choice(
        np.array(["Domestic abuse", "Sexual violence", "Violence", "Other"], dtype=object), size=n_ref))
    r_when = np.where(linked, when.to_numpy()[np.maximum(crime_of, 0)],
                      when.to_numpy()[rng.integers(0, crimes, size=n_ref)])
    r_date = pd.to_datetime(r_when).normalize() + pd.to_timedelta(rng.integers(0, 4, size=n_ref), unit="D")
    r_ethnic = np.where(linked, ethnic[np.maximum(crime_of, 0)], rng.choice(
        np.array(["White", "Asian", "Black", "Mixed", "Other"], dtype=object), size=n_ref, p=[.8, .1, .05, .03, .02]))
    r_sex = np.where(linked, np.where(sex[np.maximum(crime_of, 0)] == "F", "Female",
                                      np.where(sex[np.maximum(crime_of, 0)] == "M", "Male", "Unknown")),
                     rng.choice(np.array(["Female", "Male"], dtype=object), size=n_ref))
    band = np.where(linked, age_band[np.maximum(crime_of, 0)], rng.integers(1, 8, size=n_ref))
    ages = np.array([rng.integers(_AGES[b][1], _AGES[b][2] + 1) for b in band])
    r_need = np.where(linked, True, rng.random(n_ref) < 0.8)
    risk = np.where(r_group == "Domestic abuse", rng.choice(np.array(["S", "M", "H"], dtype=object), size=n_ref,
                                                            p=[.5, .3, .2]), "")
    attempted = rng.random(n_ref) < 0.97
    made = attempted & (rng.random(n_ref) < 0.8)
    p_contact = np.array([(contact_by_risk or {}).get(r, 0.4) for r in risk])
    first_contact = r_date + pd.to_timedelta(rng.geometric(p_contact) - 1, unit="D")
    accepted = made & (rng.random(n_ref) < 0.75)
    level = np.where(accepted, np.where(rng.random(n_ref) < 0.3, "Enhanced support", "Basic support"), "")
    onward = np.where(accepted & (r_group == "Domestic abuse") & (risk == "H"), "IDVA", np.where(
        accepted & (r_group == "Sexual violence"), "ISVA", np.where(accepted & (rng.random(n_ref) < 0.1),
                                                                    "Counselling", "No")))
    onward_ok = np.where(onward != "No", np.where(rng.random(n_ref) < 0.85, "Yes", "No"), "")
    closed = first_contact + pd.to_timedelta(rng.integers(7, 120, size=n_ref), unit="D")
    cope = np.where(accepted, np.where(rng.random(n_ref) < np.where(level == "Enhanced support", support_effect[1],
                                                                     support_effect[0]), "Yes", "No"), "")
    safer = np.where(accepted, np.where(rng.random(n_ref) < 0.65, "Yes", "No"), "")
    service = np.where(onward == "IDVA", "Safe Steps IDVA", np.where(onward == "ISVA", "Rise ISVA", "Victim Care Hub"))
    cases = pd.DataFrame({
        "Case ID": [f"VS{100000 + i}" for i in range(n_ref)],
        "Police Ref": [f"{number[c]:07d}/{yy[c]:02d}" if c >= 0 else "" for c in crime_of],
        "Service": service,
        "Referral Route": kind,
        "Date Referred": list(r_date.date),
        "District": areas["district_name"].to_numpy()[a_idx],
        "Crime Category": [_GROUP_WORDS[g] for g in r_group],
        "Gender": r_sex,
        "Age": ages,
        "Ethnic Group": [_ONS_NAME[e] for e in r_ethnic],
        "Disability": np.where(rng.random(n_ref) < 0.18, "Yes", "No"),
        "Needs Identified": np.where(r_need, "Yes", "No"),
        "DASH Risk": risk,
        "Contact Attempted": np.where(attempted, "Yes", "No"),
        "First Contact": [d.date() if m else None for d, m in zip(first_contact, made, strict=True)],
        "Contact Made": np.where(made, "Yes", "No"),
        "Support Accepted": np.where(made, np.where(accepted, "Yes", "No"), ""),
        "Support Level": level,
        "Onward Referral": np.where(accepted, onward, ""),
        "Onward Accepted": onward_ok,
        "Date Closed": [d.date() if a else None for d, a in zip(closed, accepted, strict=True)],
        "Better Able to Cope": cope,
        "Feels Safer": safer,
        "Client Name": [f"Client {i}" for i in range(n_ref)],
        "Contact Number": [f"07700 9{i % 100000:05d}" for i in range(n_ref)],
    })
    _write_xlsx(cases, folder / "victim_service_cases.xlsx")
    # --- services -------------------------------------------------------------------------------------------
    names = areas.drop_duplicates("district_code").sort_values("district_code")["district_name"].tolist()
    rows = []
    for i, (svc, lot, provider, served, money, fte, caseload) in enumerate(_SERVICES):
        districts = served or "; ".join(names[i % 2::2] or names)
        rows.append({"Service": svc, "Lot": lot, "Provider": provider, "Areas Covered": districts,
                     "Annual Value": f"£{money:,}", "FTE": fte, "Expected Cases": caseload,
                     "Base": ["LE1 6ZZ", "Town centre", "", "", "", "", "", ""][i]})
    pd.DataFrame(rows).to_csv(folder / "commissioned_services.csv", index=False)
    # --- survey -----------------------------------------------------------------------------------------------
    pick = rng.choice(n_ref, size=min(survey, n_ref), replace=False)
    odds_happy = 3.0 * np.where(r_ethnic[pick] == "Asian", satisfaction_or, 1.0)
    happy = rng.random(len(pick)) < odds_happy / (1 + odds_happy)
    completed = r_date[pick] + pd.to_timedelta(rng.integers(30, 90, size=len(pick)), unit="D")
    last_year = completed >= completed.max() - pd.Timedelta(days=365)
    rights = {}
    for k in range(1, 13):
        p_right = np.full(len(pick), 0.7)
        if right_decline is not None and right_decline[0] == k:
            p_right = np.where(last_year, right_decline[2], right_decline[1])
        rights[f"VC Right {k}"] = np.where(rng.random(len(pick)) < 0.15, "",
                                           _answers(rng.random(len(pick)) < p_right))
    sv = pd.DataFrame({
        "Response Ref": [f"SR-{i:05d}" for i in range(len(pick))],
        "Completed On": completed.strftime("%Y-%m-%d"),
        "Crime": [_GROUP_WORDS[g] for g in r_group[pick]],
        "District Code": areas["district_code"].to_numpy()[a_idx[pick]],
        "Sex": np.where(r_sex[pick] == "Female", "F", np.where(r_sex[pick] == "Male", "M", "U")),
        "Age Group": [_AGES[b][0] for b in band[pick]],
        "Ethnicity": [_SDE[e] for e in r_ethnic[pick]],
        "Disabled": np.where(rng.random(len(pick)) < 0.18, "Y", "N"),
        "Q1 Contact": _answers(rng.random(len(pick)) < 0.85),
        "Q2 Actions": _answers(rng.random(len(pick)) < 0.7),
        "Q3 Kept Informed": _answers(rng.random(len(pick)) < 0.6),
        "Q4 Treatment": _answers(rng.random(len(pick)) < 0.88),
        "Q5 Overall": _answers(happy),
        **rights,
        "Email": [f"person{i}@example.org" for i in range(len(pick))],
    })
    sv.to_csv(folder / "victim_survey.csv", index=False)
    if data_dir is not None:
        (folder / "area.toml").write_text(area_toml(data_dir), encoding="utf-8")
    crimes_truth = pd.DataFrame({"reference": refs, "when": when, "type": ptype, "group": group,
                                 "identified": identified, "assessed": assessed, "need": need, "consent": consent,
                                 "referred": referred, "ethnicity": ethnic})
    return Truth(
        crimes=crimes, referrals=n_ref, police_referrals=len(police), survey=len(pick), services=len(_SERVICES),
        months=(str(first), str(first + months - 1)),
        by_group=pd.Series(group).value_counts().to_dict(),
        first_crime_date=str(when.min().date()),
        crimes_table=crimes_truth,
        referrals_table=cases[["Case ID", "Police Ref", "Date Referred", "Referral Route"]],
    )


def _answers(yes: np.ndarray) -> np.ndarray:
    """"Yes" / "No" answers from a boolean array."""
    return np.array(["No", "Yes"], dtype=object)[np.asarray(yes, dtype=int)]


def _write_xlsx(frame: pd.DataFrame, path: Path) -> None:
    """A workbook with a title row and a blank row above the header, and blank rows after the data."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Cases")
    sheet.append([f"Victim service case extract, produced {dt.date(2024, 5, 1):%d %B %Y}"])
    sheet.append([])
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append([None if (isinstance(v, str) and v == "") else (v.item() if hasattr(v, "item") else v)
                      for v in row])
    sheet.append([])
    sheet.append([None] * len(frame.columns))
    notes = book.create_sheet("Notes")
    notes.append(["Extract notes: one row per referral."])
    book.save(path)


def area_toml(data_dir: str | Path, name: str = "Testshire (independent test bed)") -> str:
    """The area configuration that reads the test bed's files (real Leicestershire geography)."""
    return f'''# An area given by its own extracts (victimneeds.testbed), on the real Leicestershire geography.
[area]
name = "{name}"
force = "leicestershire"
pfa_code = "E23000021"

[inputs]
data_dir = "{Path(data_dir).as_posix()}"
boundaries = "geography/lsoa2011_by_lad/{{district}}.json"
lsoa_lookup = "geography/lookups/OA11_LSOA11_MSOA11_LAD17_GB_lookup_with_area_classifications.csv.gz"
pfa_lookup = "geography/lookups/LAD17_CSP17_PFA17_EW_lookup.csv"
population_lsoa = "population/lsoa_population_mid2019_UK_small_areas.csv"
population_lad = "population/ukpopestimatesmid2020on2021geography.xls"
imd = "deprivation/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"
imd_scores = "deprivation/mysociety_UK_IMD_E.csv.gz"

[extracts]
salt_env = "VICTIMNEEDS_SALT"

[extracts.crimes]
file = "force_crimes.csv"
dates = "day-first"
drop = ["Officer Notes"]
[extracts.crimes.columns]
"Crime Reference" = "crime_id"
"Recorded Date" = "month"
"Offence Subgroup" = "crime_type"
"LSOA" = "area_code"
"DA Flag" = "is_domestic_abuse"
"Hate Flag" = "is_hate"
"Repeat Victim" = "is_repeat_victim"
"Victim Identified" = "victim_identified"
"Victim Sex" = "victim_sex"
"Victim Age Band" = "victim_age_band"
"Officer Defined Ethnicity" = "victim_ethnicity"
"VNA Completed" = "needs_assessment_done"
"Support Need" = "need_identified"
"Consent to Refer" = "consent_to_refer"
"Outcome Type" = "outcome"
"Outcome Month" = "outcome_month"

[extracts.referrals]
file = "victim_service_cases.xlsx"
sheet = "Cases"
header_row = 3
[extracts.referrals.columns]
"Case ID" = "referral_id"
"Police Ref" = "crime_id"
"Service" = "service"
"Referral Route" = "source"
"Date Referred" = "referral_date"
"District" = "district_code"
"Crime Category" = "crime_group"
"Gender" = "victim_sex"
"Age" = "victim_age_band"
"Ethnic Group" = "victim_ethnicity"
"Disability" = "victim_disability"
"Needs Identified" = "need_identified"
"DASH Risk" = "risk_level"
"Contact Attempted" = "contact_attempted"
"First Contact" = "first_contact_date"
"Contact Made" = "contact_made"
"Support Accepted" = "support_accepted"
"Support Level" = "support_level"
"Onward Referral" = "onward_referral"
"Onward Accepted" = "onward_accepted"
"Date Closed" = "closed_date"
"Better Able to Cope" = "outcome_cope_recover"
"Feels Safer" = "outcome_feel_safer"
[extracts.referrals.ids.crime_id]
pattern = '(?P<number>\\d{{7}})/(?P<year>\\d{{2}})'
format = "LE/{{number}}/{{year}}"

[extracts.services]
file = "commissioned_services.csv"
[extracts.services.columns]
"Service" = "service_name"
"Lot" = "lot"
"Provider" = "provider"
"Areas Covered" = "districts_served"
"Annual Value" = "annual_funding"
"FTE" = "capacity_fte"
"Expected Cases" = "capacity_cases"
"Base" = "location"

[extracts.survey]
file = "victim_survey.csv"
[extracts.survey.columns]
"Response Ref" = "response_id"
"Completed On" = "response_date"
"Crime" = "crime_group"
"District Code" = "district_code"
"Sex" = "victim_sex"
"Age Group" = "victim_age_band"
"Ethnicity" = "victim_ethnicity"
"Disabled" = "victim_disability"
"Q1 Contact" = "satisfied_contact"
"Q2 Actions" = "satisfied_actions"
"Q3 Kept Informed" = "satisfied_kept_informed"
"Q4 Treatment" = "satisfied_treatment"
"Q5 Overall" = "satisfied_whole_experience"
''' + "".join(f'"VC Right {k}" = "code_right_{k}"\n' for k in range(1, 13))
