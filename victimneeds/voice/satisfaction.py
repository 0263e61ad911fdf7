"""Satisfaction at each stage of the service, weighted, with design-effect-adjusted intervals.

Part of :mod:`victimneeds.voice`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from victimneeds import stats
from victimneeds.periods import financial_year
from victimneeds.voice.checks import (
    _KISH,
    MIN_RESPONSES,
    NOT_ENOUGH,
    STAGE_LABELS,
    _as_list,
    _check_columns,
    _intervals,
    _shares,
    _stages,
    _weights,
)

# --------------------------------------------------------------------------------------------------
# Satisfaction
# --------------------------------------------------------------------------------------------------


def satisfaction(
    survey: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    stages: str | Sequence[str] | None = None,
    min_responses: int = MIN_RESPONSES,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Share of victims satisfied at each stage, by group, with Wilson intervals.

    A response counts towards a stage when that question was answered (missing answers are left out and
    counted in ``responses`` only when given). With ``weights`` the share is the weighted share, and the
    interval is the Wilson interval computed on Kish's effective sample size, n_eff = (sum w)^2 / sum w^2,
    which widens it by the design effect of unequal weighting. Groups with fewer than ``min_responses``
    answers keep their counts but get no value: ``estimate`` says "not enough responses".

    Parameters
    ----------
    survey : the survey table (one row per response).
    by : column(s) to group by, e.g. ``"crime_group"``, ``"district_code"``, ``"victim_age_band"``. Every
        category of a categorical column is listed, so a group with no responses shows as such.
    weights : name of the weight column (e.g. ``"weight"``), or None for unweighted shares.
    stages : satisfaction stage(s); default all of :data:`~victimneeds.datamodel.SATISFACTION_STAGES`.
    min_responses : fewest answers for which a share is shown (default :data:`MIN_RESPONSES`, 50).
    confidence : confidence level of the interval.

    Returns
    -------
    One row per group and stage: the ``by`` columns, ``stage``, ``stage_label``, ``responses`` (answers),
    ``yes`` (satisfied, unweighted), with weights ``effective_n`` and ``design_effect``, then ``value``,
    ``lowercl``, ``uppercl`` (percentages), ``confidence``, ``statistic``, ``estimate`` (text),
    ``note`` and ``method``.

    References
    ----------
    Wilson EB (1927). Probable inference, the law of succession, and statistical inference. JASA 22:209-212.
    Kish L (1965). Survey Sampling. Wiley.

    Examples
    --------
    >>> s = pd.DataFrame({"group": ["A"] * 60 + ["B"] * 10,
    ...                   "satisfied_whole_experience": [True] * 45 + [False] * 15 + [True] * 10})
    >>> t = satisfaction(s, by="group", stages="whole_experience")
    >>> t[["group", "responses", "yes", "estimate"]]
      group  responses   yes              estimate
    0     A         60    45      75% (63% to 84%)
    1     B         10  <NA>  not enough responses
    """
    func = "satisfaction"
    chosen = _stages(stages)
    by_cols = _as_list(by)
    _check_columns(survey, by_cols + [f"satisfied_{s}" for s in chosen], "survey", func)
    w = _weights(survey, weights, func)
    table = _shares(survey, {s: f"satisfied_{s}" for s in chosen}, by_cols, w, "stage")
    table.insert(len(by_cols) + 1, "stage_label", table["stage"].map(STAGE_LABELS))
    return _intervals(table, weights is not None, min_responses, confidence, "satisfied")


def _quarter(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates).dt.to_period("Q")


def _period_labels(survey: pd.DataFrame, period: str, date: str, func: str) -> pd.Series:
    _check_columns(survey, [date], "survey", func)
    dates = pd.to_datetime(survey[date])
    if dates.isna().any():
        rows = list(survey.index[dates.isna()][:5])
        raise ValueError(f"{func}: survey column {date!r} has {int(dates.isna().sum())} missing dates (rows {rows})")
    if period == "financial_year":
        return financial_year(dates.dt.to_period("M")).set_axis(survey.index)
    if period == "quarter":
        return dates.dt.to_period("Q").astype(str)
    raise ValueError(f"{func}: period must be 'financial_year' or 'quarter', got {period!r}")


def satisfaction_change(
    survey: pd.DataFrame,
    stage: str = "whole_experience",
    by: str | Sequence[str] | None = None,
    periods: tuple[str, str] | None = None,
    period: str = "financial_year",
    weights: str | None = None,
    date: str = "response_date",
    min_responses: int = MIN_RESPONSES,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Change in the share satisfied between two periods, with an interval, a test and careful wording.

    The difference (later minus earlier, in percentage points) has Newcombe's hybrid score interval,
    computed from the Wilson intervals of each period (on Kish effective counts when weighted). The
    ``finding`` says "evidence of a rise" or "evidence of a fall" only when the interval excludes zero,
    and otherwise "no evidence of change" (which is not evidence of no change: small groups have wide
    intervals). Groups with fewer than ``min_responses`` answers in either period are not compared.

    Parameters
    ----------
    survey : the survey table.
    stage : the satisfaction stage compared.
    by : optional grouping column(s).
    periods : (earlier, later) labels, e.g. ``("2023/24", "2024/25")``; default the last two periods.
    period : ``"financial_year"`` (April to March) or ``"quarter"`` (e.g. ``"2024Q4"``).
    weights : weight column or None.
    date : column holding the response date.
    min_responses, confidence : as for :func:`satisfaction`.

    Returns
    -------
    One row per group: ``by`` columns, ``stage``, ``period_1``, ``period_2``, ``responses_1``,
    ``responses_2``, ``value_1``, ``value_2`` (percentages), ``value`` (change in points), ``lowercl``,
    ``uppercl``, ``p_value``, ``finding``, ``confidence``, ``statistic``, ``method``.

    References
    ----------
    Newcombe RG (1998). Interval estimation for the difference between independent proportions:
    comparison of eleven methods. Statistics in Medicine 17:873-890. Kish L (1965). Survey Sampling. Wiley.

    Examples
    --------
    >>> s = pd.DataFrame({"response_date": pd.to_datetime(["2023-06-01"] * 100 + ["2024-06-01"] * 100),
    ...                   "satisfied_whole_experience": [True] * 60 + [False] * 40 + [True] * 75 + [False] * 25})
    >>> c = satisfaction_change(s)
    >>> c[["period_1", "period_2", "value", "finding"]].round(1)
      period_1 period_2  value             finding
    0  2023/24  2024/25   15.0  evidence of a rise
    """
    func = "satisfaction_change"
    _stages(stage)
    by_cols = _as_list(by)
    col = f"satisfied_{stage}"
    _check_columns(survey, by_cols + [col], "survey", func)
    w = _weights(survey, weights, func)
    labels = _period_labels(survey, period, date, func)
    found = sorted(labels.unique())
    if periods is None:
        if len(found) < 2:
            raise ValueError(f"{func}: the survey covers only {found}; two periods are needed to compare")
        periods = (found[-2], found[-1])
    missing = [p for p in periods if p not in found]
    if missing:
        raise ValueError(f"{func}: the survey has no responses in {missing}; periods present: {found}")
    parts = []
    for i, label in enumerate(periods, start=1):
        mask = (labels == label).to_numpy()
        sub = survey.loc[mask]
        t = _shares(sub, {stage: col}, by_cols, w[mask], "stage")
        keep = by_cols + ["stage", "responses", "share", "effective_n", "effective_yes"]
        parts.append(t[keep].rename(columns={c: f"{c}_{i}" for c in keep[len(by_cols) + 1 :]}))
    table = (
        parts[0].merge(parts[1], on=by_cols + ["stage"], how="outer")
        if by_cols
        else pd.concat([parts[0], parts[1].drop(columns="stage")], axis=1)
    )
    for c in ("responses_1", "responses_2"):
        table[c] = table[c].fillna(0).astype("int64")
    for c in ("effective_n_1", "effective_n_2", "effective_yes_1", "effective_yes_2"):
        table[c] = table[c].fillna(0.0)
    comp = stats.compare_proportions(
        np.minimum(table["effective_yes_2"], table["effective_n_2"]),
        table["effective_n_2"],
        np.minimum(table["effective_yes_1"], table["effective_n_1"]),
        table["effective_n_1"],
        confidence=confidence,
        multiplier=100,
    )
    enough = ((table["responses_1"] >= min_responses) & (table["responses_2"] >= min_responses)).to_numpy()
    out = table[by_cols + ["stage"]].copy()
    out["period_1"], out["period_2"] = periods
    out["responses_1"], out["responses_2"] = table["responses_1"], table["responses_2"]
    out["value_1"] = np.where(enough, comp["p2"], np.nan)
    out["value_2"] = np.where(enough, comp["p1"], np.nan)
    for name in ("value", "lowercl", "uppercl", "p_value"):
        out[name] = np.where(enough, comp[name], np.nan)
    finding = np.where(
        out["lowercl"] > 0,
        "evidence of a rise",
        np.where(out["uppercl"] < 0, "evidence of a fall", "no evidence of change"),
    )
    out["finding"] = np.where(enough, finding, f"{NOT_ENOUGH} to compare (fewer than {min_responses} in a period)")
    out["confidence"] = comp["confidence"]
    out["statistic"] = f"change in percentage satisfied ({period_label(period)} {periods[1]} minus {periods[0]})"
    method = comp["method"].iloc[0]
    out["method"] = method + (f"; {_KISH}" if weights is not None else "")
    return out.reset_index(drop=True)


def period_label(period: str) -> str:
    """Words for a period kind: ``"financial_year"`` -> ``"financial year"``."""
    return period.replace("_", " ")
