"""The example area's victim satisfaction survey.

Part of :mod:`victimneeds.datasets`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from victimneeds import datamodel as dm
from victimneeds.datasets.calibration import (
    _G,
    LAST_MONTH,
    _bool,
    _dates,
    _expit,
    _ids,
    _logit,
)

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
