"""Whose voice the evidence carries: survey responses against recorded victims.

Part of :mod:`victimneeds.voice`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from victimneeds.voice.checks import (
    MIN_RESPONSES,
    _check_columns,
)

# --------------------------------------------------------------------------------------------------
# Coverage of the evidence
# --------------------------------------------------------------------------------------------------


def coverage(
    survey: pd.DataFrame,
    crimes: pd.DataFrame,
    by: str = "crime_group",
    date: str = "response_date",
    min_responses: int = MIN_RESPONSES,
) -> pd.DataFrame:
    """Survey responses per group against recorded victims of that group: whose voice is missing.

    Victims are crimes with ``victim_identified`` true, in the months the survey covers (from its first to
    its last response date). ``representation`` is the group's share of responses divided by its share of
    victims (1 = in proportion; weighting cannot repair a group with no responses at all).

    Parameters
    ----------
    survey : the survey table.
    crimes : the crimes table (needs ``month``, ``victim_identified`` and ``by``).
    by : a column both tables carry, e.g. ``"crime_group"``, ``"district_code"``, ``"victim_age_band"``.
    date : the survey's response-date column.
    min_responses : groups with fewer answers are said to have too few responses to report.

    Returns
    -------
    One row per group (ordered by victims): ``by``, ``victims``, ``responses``, ``responses_per_1000_victims``,
    ``share_of_victims``, ``share_of_responses`` (percentages), ``representation``, ``finding``, ``method``.

    Examples
    --------
    >>> crimes = pd.DataFrame({"month": pd.PeriodIndex(["2024-01"] * 6, freq="M"),
    ...                        "victim_identified": [True] * 6, "crime_group": ["A", "A", "A", "A", "B", "B"]})
    >>> survey = pd.DataFrame({"response_date": pd.to_datetime(["2024-01-20"] * 60), "crime_group": ["A"] * 60})
    >>> coverage(survey, crimes)[["crime_group", "victims", "responses", "finding"]]
      crime_group  victims  responses                              finding
    0           A        4         60                    responses in line
    1           B        2          0  no responses: this voice is missing
    """
    func = "coverage"
    _check_columns(survey, [by, date], "survey", func)
    _check_columns(crimes, [by, "month", "victim_identified"], "crimes", func)
    dates = pd.to_datetime(survey[date])
    first, last = dates.min().to_period("M"), dates.max().to_period("M")
    ident = pd.array(crimes["victim_identified"], dtype="boolean").fillna(False).to_numpy(dtype=bool)
    months = crimes["month"]
    in_window = (
        ((months >= first) & (months <= last)).to_numpy(dtype=bool) if len(survey) else np.zeros(len(crimes), bool)
    )
    victims = crimes.loc[ident & in_window, by].value_counts(dropna=True)
    responses = survey[by].value_counts(dropna=True)
    groups = list(dict.fromkeys([*victims.index.tolist(), *responses.index.tolist()]))
    out = pd.DataFrame({by: groups})
    out["victims"] = out[by].map(victims).fillna(0).astype("int64")
    out["responses"] = out[by].map(responses).fillna(0).astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["responses_per_1000_victims"] = np.where(
            out["victims"] > 0, 1000 * out["responses"] / out["victims"], np.nan
        )
        out["share_of_victims"] = 100 * out["victims"] / out["victims"].sum()
        out["share_of_responses"] = 100 * out["responses"] / max(out["responses"].sum(), 1)
        out["representation"] = np.where(
            out["victims"] > 0, out["share_of_responses"] / out["share_of_victims"], np.nan
        )
    finding = np.select(
        [
            (out["responses"] == 0) & (out["victims"] > 0),
            out["responses"] < min_responses,
            out["representation"] < 0.5,
            out["representation"] > 2,
        ],
        [
            "no responses: this voice is missing",
            f"fewer than {min_responses} responses: too few to report",
            "under-represented (less than half its share of victims)",
            "over-represented (more than twice its share of victims)",
        ],
        default="responses in line",
    )
    out["finding"] = finding
    out["method"] = (
        f"identified victims recorded {first.strftime('%B %Y')} to {last.strftime('%B %Y')} "
        "(the survey's months) against unweighted responses"
    )
    if isinstance(crimes[by].dtype, pd.CategoricalDtype):
        out[by] = pd.Categorical(out[by], categories=crimes[by].cat.categories)
    return out.sort_values(["victims", "responses"], ascending=False, kind="stable").reset_index(drop=True)


def missing_voices(coverage_table: pd.DataFrame, by: str | None = None) -> list[str]:
    """The groups with recorded victims but no survey responses, most victims first.

    Examples
    --------
    >>> t = pd.DataFrame({"crime_group": ["A", "B"], "victims": [10, 4], "responses": [5, 0]})
    >>> missing_voices(t)
    ['B']
    """
    by = by or coverage_table.columns[0]
    t = coverage_table[(coverage_table["responses"] == 0) & (coverage_table["victims"] > 0)]
    return [str(v) for v in t.sort_values("victims", ascending=False, kind="stable")[by]]
