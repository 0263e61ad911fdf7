"""Victim voice: satisfaction and Victims' Code compliance, with intervals, trends and coverage.

What victims say about the service they got, for whom that evidence is thin, and whether it is changing.

* :func:`satisfaction` - share satisfied at each stage (contact, actions, kept informed, treatment, whole
  experience) by any grouping, with Wilson intervals; when survey weights are given, the interval uses
  Kish's effective sample size. Groups with fewer than ``min_responses`` answers get "not enough
  responses" instead of a number.
* :func:`satisfaction_change` - this period against the last (Newcombe interval and a test), worded as
  "evidence of a rise / fall" or "no evidence of change".
* :func:`satisfaction_trend` - quarterly trend from a binomial GLM (:class:`SatisfactionTrend`).
* :func:`district_funnel` - districts on a funnel plot around the area average (:class:`DistrictFunnel`).
* :func:`coverage` - survey responses against recorded victims, naming the groups whose voice is missing.
* :func:`code_compliance` - share of each Victims' Code right met, from the survey and, where given, from
  case records (:class:`CodeCompliance`, with the gap between the two).
* :func:`themes` - keyword-theme counts from free-text comments (aggregates only).
* :func:`findings` - a short findings table in words.

Survey columns (see :data:`victimneeds.datamodel.SURVEY`): ``satisfied_<stage>`` for each stage in
:data:`~victimneeds.datamodel.SATISFACTION_STAGES`, ``code_right_1`` to ``code_right_12`` (NA where the
right did not apply), ``weight`` and ``response_date``.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from victimneeds import compare, stats
from victimneeds import datamodel as dm
from victimneeds.periods import financial_year
from victimneeds.plotting import (
    CODE_RIGHTS_SHORT,
    LINESTYLES,
    MARKERS,
    PALETTE,
    date_axis,
    label_points,
    legend_below,
    page_size,
)

__all__ = [
    "MIN_RESPONSES",
    "STAGE_LABELS",
    "DEFAULT_THEMES",
    "CodeCompliance",
    "DistrictFunnel",
    "SatisfactionTrend",
    "code_compliance",
    "contact_within",
    "coverage",
    "design_effect",
    "district_funnel",
    "findings",
    "missing_voices",
    "satisfaction",
    "satisfaction_change",
    "satisfaction_trend",
    "themes",
    "weighted_share",
]

#: Fewest answers for which a share is shown. ONS does not report Crime Survey for England and Wales
#: estimates on an unweighted base below 50; at n = 50 a 95% Wilson interval around 50% is still about
#: +/- 13.5 percentage points, so smaller groups would invite over-reading.
MIN_RESPONSES: int = 50

NOT_ENOUGH = "not enough responses"

#: Plain-English names of the satisfaction stages.
STAGE_LABELS: dict[str, str] = {
    "contact": "Ease of contact",
    "actions": "Actions taken",
    "kept_informed": "Kept informed",
    "treatment": "Treatment by staff",
    "whole_experience": "Whole experience",
}

_KISH = "Kish (1965) effective sample size"


# --------------------------------------------------------------------------------------------------
# Checks and small helpers
# --------------------------------------------------------------------------------------------------


def _check_columns(table: pd.DataFrame, columns: Sequence[str], name: str, func: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{func}: expected the {name} table as a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KeyError(
            f"{func}: the {name} table has no column(s) {missing}; its columns are {list(table.columns)}. "
            "See docs/data-model.md for the columns expected."
        )


def _as_list(cols: str | Sequence[str] | None) -> list[str]:
    if cols is None:
        return []
    return [cols] if isinstance(cols, str) else list(cols)


def _stages(stages: str | Sequence[str] | None) -> list[str]:
    chosen = list(dm.SATISFACTION_STAGES) if stages is None else _as_list(stages)
    bad = [s for s in chosen if s not in dm.SATISFACTION_STAGES]
    if bad:
        raise ValueError(f"unknown satisfaction stage(s) {bad}; expected some of {list(dm.SATISFACTION_STAGES)}")
    return chosen


def _weights(survey: pd.DataFrame, weights: str | None, func: str) -> np.ndarray:
    if weights is None:
        return np.ones(len(survey))
    _check_columns(survey, [weights], "survey", func)
    w = pd.to_numeric(survey[weights], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        rows = list(survey.index[bad][:5])
        raise ValueError(
            f"{func}: survey column {weights!r} has {int(bad.sum())} weights that are missing, zero or negative "
            f"(rows {rows}); every response needs a positive weight"
        )
    return w


def design_effect(weights: np.typing.ArrayLike) -> tuple[float, float]:
    """Kish's effective sample size and design effect of a set of survey weights.

    effective n = (sum w)^2 / sum(w^2); design effect = n / effective n (1 when all weights are equal).

    Parameters
    ----------
    weights : the weights of the responses in one group.

    Returns
    -------
    (effective_n, design_effect) : floats; (0, nan) for no responses.

    References
    ----------
    Kish L (1965). Survey Sampling. Wiley, section 11.7 (the design effect of unequal weighting).

    Examples
    --------
    >>> design_effect([1, 1, 2, 4])
    (2.909090909090909, 1.375)
    """
    w = np.asarray(weights, dtype=float)
    if len(w) == 0:
        return 0.0, float("nan")
    n_eff = float(w.sum() ** 2 / (w**2).sum())
    return n_eff, float(len(w) / n_eff)


def weighted_share(answers: np.typing.ArrayLike, weights: np.typing.ArrayLike | None = None) -> dict[str, float]:
    """Weighted share of "yes" answers and its Kish effective counts (missing answers left out).

    Returns a dict with ``responses`` (answers given), ``yes`` (unweighted yes), ``share`` (weighted),
    ``effective_n`` and ``effective_yes`` (share x effective n), ``design_effect``.

    References
    ----------
    Kish L (1965). Survey Sampling. Wiley.

    Examples
    --------
    >>> r = weighted_share([True, False, True, None], [1.0, 1.0, 2.0, 5.0])
    >>> r["responses"], r["yes"], r["share"], round(r["effective_n"], 3)
    (3, 2, 0.75, 2.667)
    """
    a = pd.array(list(answers) if not isinstance(answers, pd.Series) else answers, dtype="boolean")
    w = np.ones(len(a)) if weights is None else np.asarray(weights, dtype=float)
    given = ~np.asarray(a.isna())
    yes = np.asarray(a.fillna(False), dtype=bool) & given
    n = int(given.sum())
    if n == 0:
        return {
            "responses": 0,
            "yes": 0,
            "share": np.nan,
            "effective_n": 0.0,
            "effective_yes": 0.0,
            "design_effect": np.nan,
        }
    wg = w[given]
    share = float(w[yes].sum() / wg.sum())
    n_eff, deff = design_effect(wg)
    return {
        "responses": n,
        "yes": int(yes.sum()),
        "share": share,
        "effective_n": n_eff,
        "effective_yes": share * n_eff,
        "design_effect": deff,
    }


def _shares(
    survey: pd.DataFrame,
    columns: dict[str, str],
    by: list[str],
    w: np.ndarray,
    key: str,
) -> pd.DataFrame:
    """One row per group and answer column: responses, yes, share and the Kish effective counts."""
    frame = survey[by].copy() if by else pd.DataFrame(index=survey.index)
    frame["_w"] = w
    rows = []
    groups = frame.groupby(by, observed=False, sort=True, dropna=False) if by else [((), frame)]
    for keys, part in groups:
        keys = keys if isinstance(keys, tuple) else (keys,)
        for label, col in columns.items():
            r = weighted_share(survey.loc[part.index, col], part["_w"].to_numpy())
            rows.append({**dict(zip(by, keys, strict=True)), key: label, **r})
    out = pd.DataFrame(rows)
    for col in by:
        if isinstance(survey[col].dtype, pd.CategoricalDtype):
            out[col] = pd.Categorical(out[col], categories=survey[col].cat.categories)
    return out


def _intervals(table: pd.DataFrame, weighted: bool, min_responses: int, confidence: float, what: str) -> pd.DataFrame:
    """Append value, limits, estimate text, note and method to a table made by :func:`_shares`."""
    out = table.copy()
    x = out["effective_yes"].to_numpy(dtype=float)
    n = out["effective_n"].to_numpy(dtype=float)
    p, lo, hi = stats.wilson(np.minimum(x, n), n, confidence)
    enough = out["responses"].to_numpy() >= min_responses
    out["value"] = np.where(enough, p * 100, np.nan)
    out["lowercl"] = np.where(enough, lo * 100, np.nan)
    out["uppercl"] = np.where(enough, hi * 100, np.nan)
    out["confidence"] = f"{round(stats._confidence(confidence) * 100, 6):g}%"
    out["statistic"] = f"percentage {what}"
    out["estimate"] = [
        f"{v:.0f}% ({a:.0f}% to {b:.0f}%)" if ok else NOT_ENOUGH
        for v, a, b, ok in zip(out["value"], out["lowercl"], out["uppercl"], enough, strict=True)
    ]
    out["note"] = np.where(
        enough,
        "",
        np.where(out["responses"] == 0, "no responses", f"{NOT_ENOUGH} (fewer than {min_responses}); not shown"),
    )
    out["method"] = f"Wilson score interval on the {_KISH}" if weighted else "Wilson score interval"
    # below the minimum the number satisfied would give the share away, so it is withheld too
    withheld = ~enough & (out["responses"].to_numpy() > 0)
    out["yes"] = pd.array(np.where(withheld, pd.NA, out["yes"]), dtype="Int64")
    out = out.drop(columns=[c for c in ("share",) if c in out.columns])
    if not weighted:
        out = out.drop(columns=["effective_n", "effective_yes", "design_effect"])
    else:
        out["effective_n"] = out["effective_n"].round(1)
        out["design_effect"] = out["design_effect"].round(3)
        out = out.drop(columns=["effective_yes"])
    return out


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


# --------------------------------------------------------------------------------------------------
# Trend
# --------------------------------------------------------------------------------------------------


@dataclass
class SatisfactionTrend:
    """Quarterly share satisfied and its fitted trend from a binomial GLM, one model per group.

    Attributes
    ----------
    table : one row per group and quarter: ``responses``, observed ``value`` with Wilson limits, the fitted
        ``fitted`` share with ``fitted_lower``/``fitted_upper`` (confidence band of the trend line).
    trend : one row per group: odds ratio per year with interval and p-value, and a worded ``finding``.
    stage : the stage modelled.
    models : group -> fitted statsmodels GLM results.
    """

    table: pd.DataFrame
    trend: pd.DataFrame
    stage: str
    by: list[str] = field(default_factory=list)
    models: dict = field(default_factory=dict, repr=False)

    def summary(self) -> str:
        lines = [f"Trend in the share satisfied ({STAGE_LABELS[self.stage].lower()}), binomial GLM on quarter"]
        for _, r in self.trend.iterrows():
            who = " / ".join(str(r[c]) for c in self.by) if self.by else "All responses"
            if np.isnan(r["odds_ratio_per_year"]):
                lines.append(f"  {who}: {r['finding']}")
            else:
                lines.append(
                    f"  {who}: odds ratio per year {r['odds_ratio_per_year']:.2f} "
                    f"({r['lowercl']:.2f} to {r['uppercl']:.2f}), p = {r['p_value']:.3f}: {r['finding']}"
                )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.trend.to_html(index=False)

    def plot(self, ax: Axes | None = None) -> Axes:
        """Observed quarterly percentages (markers) and the fitted trend with its band, one colour per group."""
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(3.8))
        keys = self.table[self.by].drop_duplicates().itertuples(index=False, name=None) if self.by else [()]
        for i, key in enumerate(keys):
            part = self.table
            for c, k in zip(self.by, key, strict=True):
                part = part[part[c] == k]
            x = part["quarter"].dt.to_timestamp()
            colour, marker = PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]
            label = " / ".join(str(k) for k in key) if key else "All responses"
            ax.plot(x, part["value"], linestyle="none", marker=marker, color=colour, markersize=4)
            ax.plot(x, part["fitted"], color=colour, label=label, marker=marker, markevery=4,
                    linestyle=LINESTYLES[i % len(LINESTYLES)])
            ax.fill_between(x, part["fitted_lower"], part["fitted_upper"], color=colour, alpha=0.12)
        ax.set_ylabel("% satisfied")
        ax.set_ylim(0, 100)
        ax.set_title(f"Satisfied with {STAGE_LABELS[self.stage].lower()}: quarterly share and fitted trend")
        date_axis(ax)
        legend_below(ax)
        return ax


def satisfaction_trend(
    survey: pd.DataFrame,
    stage: str = "whole_experience",
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    date: str = "response_date",
    min_responses: int = MIN_RESPONSES,
    confidence: float = 0.95,
) -> SatisfactionTrend:
    """Trend in the share satisfied over quarters: a binomial GLM of satisfied on time, per group.

    For each group, quarterly shares are modelled as binomial with a logit link and a linear term in time
    (years since the first quarter), each quarter weighted by its number of answers (its Kish effective
    number when ``weights`` are given, so the design effect widens the interval). The odds ratio per year,
    exp(beta), has a Wald interval, widened when the quarters vary more than the binomial allows (Pearson
    dispersion floored at 1; :func:`victimneeds.compare.binomial_trend`, shared with the outcomes trend).
    Groups with fewer than ``min_responses`` answers in all, or fewer than
    four quarters with answers, are not modelled.

    Parameters
    ----------
    survey : the survey table.
    stage : the satisfaction stage.
    by : optional grouping column(s).
    weights : weight column or None.
    date : column holding the response date.
    min_responses, confidence : as for :func:`satisfaction`.

    Returns
    -------
    :class:`SatisfactionTrend`.

    References
    ----------
    McCullagh P, Nelder JA (1989). Generalized Linear Models, 2nd ed. Chapman & Hall, ch. 4 (binary data).
    Kish L (1965). Survey Sampling. Wiley.

    Examples
    --------
    >>> q = pd.date_range("2022-01-15", periods=8, freq="3MS")
    >>> s = pd.DataFrame({"response_date": np.repeat(q, 50),
    ...                   "satisfied_whole_experience": [i % 50 < 20 + 2 * (i // 50) for i in range(400)]})
    >>> r = satisfaction_trend(s)
    >>> print(r.trend[["responses", "finding"]].to_string(index=False))
     responses                    finding
           400 evidence of a rising trend
    """
    func = "satisfaction_trend"
    _stages(stage)
    by_cols = _as_list(by)
    col = f"satisfied_{stage}"
    _check_columns(survey, by_cols + [col, date], "survey", func)
    w = _weights(survey, weights, func)
    frame = survey[by_cols].copy()
    frame["quarter"] = _quarter(survey[date])
    table = _shares(pd.concat([survey[[col]], frame], axis=1), {stage: col}, by_cols + ["quarter"], w, "stage")
    table = table[table["responses"] > 0].reset_index(drop=True)
    p, lo, hi = stats.wilson(np.minimum(table["effective_yes"], table["effective_n"]), table["effective_n"], confidence)
    shown = (table["responses"] >= min_responses).to_numpy()
    table["value"] = np.where(shown, p * 100, np.nan)
    table["lowercl"] = np.where(shown, lo * 100, np.nan)
    table["uppercl"] = np.where(shown, hi * 100, np.nan)
    first = table["quarter"].min()
    table["years"] = [(q - first).n / 4 for q in table["quarter"]]
    table["fitted"] = np.nan
    table["fitted_lower"] = np.nan
    table["fitted_upper"] = np.nan
    alpha = 1 - stats._confidence(confidence)
    rows, models = [], {}
    groups = table.groupby(by_cols, observed=True, sort=True) if by_cols else [((), table)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        row = {**dict(zip(by_cols, key, strict=True)), "responses": int(part["responses"].sum()), "quarters": len(part)}
        if row["responses"] < min_responses or len(part) < 4:
            row.update(
                odds_ratio_per_year=np.nan,
                lowercl=np.nan,
                uppercl=np.nan,
                p_value=np.nan,
                finding=f"{NOT_ENOUGH} for a trend (need {min_responses} answers over 4 or more quarters)",
            )
            rows.append(row)
            continue
        eff_n = part["effective_n"].to_numpy(dtype=float)
        eff_yes = np.minimum(part["effective_yes"].to_numpy(dtype=float), eff_n)
        res = compare.binomial_trend(eff_yes, eff_n, part["years"].to_numpy(dtype=float), 1 - alpha)
        fit = res["result"]
        models[key if by_cols else "all"] = fit
        table.loc[part.index, "fitted"] = res["fitted"] * 100
        table.loc[part.index, "fitted_lower"] = res["fitted_lower"] * 100
        table.loc[part.index, "fitted_upper"] = res["fitted_upper"] * 100
        ratio, low, high = res["odds_ratio_per_year"], res["lowercl"], res["uppercl"]
        finding = (
            "evidence of a rising trend"
            if low > 1
            else "evidence of a falling trend"
            if high < 1
            else "no evidence of a trend"
        )
        row.update(odds_ratio_per_year=ratio, lowercl=low, uppercl=high, p_value=res["p_value"], finding=finding,
                   dispersion=res["dispersion"])
        rows.append(row)
    trend = pd.DataFrame(rows)
    method = (
        "binomial GLM, logit link, linear in years; Wald interval; dispersion = Pearson chi-square / residual df "
        "on the quarterly counts, floored at 1"
    )
    trend["estimate"] = [
        f"{r:.2f} ({a:.2f} to {b:.2f})" if np.isfinite(r) else NOT_ENOUGH
        for r, a, b in zip(trend["odds_ratio_per_year"], trend["lowercl"], trend["uppercl"], strict=True)
    ]
    trend["confidence"] = f"{round(stats._confidence(confidence) * 100, 6):g}%"
    trend["method"] = method + (f"; quarters weighted by the {_KISH}" if weights is not None else "")
    table = table.drop(
        columns=["share", "effective_yes"] + ([] if weights is not None else ["effective_n", "design_effect"])
    )
    table["yes"] = pd.array(np.where(shown, table["yes"], pd.NA), dtype="Int64")
    table["note"] = np.where(
        shown, "", f"{NOT_ENOUGH} this quarter (fewer than {min_responses}); counted in the trend but not shown"
    )
    table["method"] = "Wilson score interval; fitted: " + method
    return SatisfactionTrend(table=table, trend=trend, stage=stage, by=by_cols, models=models)


# --------------------------------------------------------------------------------------------------
# Funnel of districts
# --------------------------------------------------------------------------------------------------

_FLAG_WORDS = {
    "above 99.8%": "higher than the area average (beyond the 99.8% limit)",
    "above 95%": "possibly higher than the area average (beyond the 95% limit only)",
    "below 95%": "possibly lower than the area average (beyond the 95% limit only)",
    "below 99.8%": "lower than the area average (beyond the 99.8% limit)",
}


@dataclass
class DistrictFunnel:
    """Districts' share satisfied on a funnel plot around the area average.

    Attributes
    ----------
    table : one row per district, from :func:`victimneeds.stats.funnel_flags` plus ``finding`` in words.
    limits : funnel limits over a range of numbers of responses (for the plot).
    stage : the stage shown.
    label : column used to label districts.
    """

    table: pd.DataFrame
    limits: pd.DataFrame
    stage: str
    label: str = "district_code"

    def summary(self) -> str:
        target = self.table["target"].iloc[0]
        lines = [f"Satisfied with {STAGE_LABELS[self.stage].lower()}: area average {target:.1f}%"]
        for _, r in self.table.iterrows():
            shown = (
                f"{r['value']:.1f}% of {r['responses']:.0f}"
                if pd.notna(r["value"])
                else (f"{r['responses']:.0f} responses")
            )
            lines.append(f"  {r[self.label]}: {shown}: {r['finding']}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.table[[self.label, "responses", "value", "finding"]].to_html(index=False)

    def plot(self, ax: Axes | None = None) -> Axes:
        """Districts as points against their number of responses, with 95% and 99.8% funnel limits."""
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(4.0))
        target = self.table["target"].iloc[0]
        for i, (level, part) in enumerate(self.limits.groupby("level")):
            style = "--" if i == 0 else ":"
            ax.plot(
                part["denominator"], part["upper"], color=PALETTE[4], linestyle=style, label=f"{level * 100:g}% limits"
            )
            ax.plot(part["denominator"], part["lower"], color=PALETTE[4], linestyle=style)
        ax.axhline(target, color=PALETTE[2], label=f"Area average: {target:.1f}%")
        shown = self.table[self.table["value"].notna()]
        ax.plot(shown["denominator"], shown["value"], "o", color=PALETTE[0], label="District")
        ax.set_xlabel("Responses (effective number when weighted)")
        ax.set_ylabel("% satisfied")
        ax.set_title(f"Satisfied with {STAGE_LABELS[self.stage].lower()} by district")
        label_points(ax, shown["denominator"], shown["value"], shown[self.label].astype(str))
        legend_below(ax)
        return ax


def district_funnel(
    survey: pd.DataFrame,
    stage: str = "whole_experience",
    district: str = "district_code",
    weights: str | None = None,
    overdispersion: bool | str = False,
    names: pd.DataFrame | None = None,
    min_responses: int = MIN_RESPONSES,
) -> DistrictFunnel:
    """Place each district's share satisfied on a funnel plot around the area average.

    Limits are exact binomial with Spiegelhalter's interpolation at 95% and 99.8% (or over-dispersion
    adjusted). With ``weights`` each district enters with its Kish effective number of responses and
    effective satisfied count, both rounded to whole numbers (the funnel needs whole numbers of cases).
    Flags are worded carefully: a district inside the 95% limits shows "no evidence of a difference from
    the area average".

    Parameters
    ----------
    survey : the survey table.
    stage : the satisfaction stage.
    district : the district column.
    weights : weight column or None.
    overdispersion : passed to :func:`victimneeds.stats.funnel_flags`.
    names : optional table with ``district`` and ``district_name`` (e.g. ``AreaData.districts``); adds names.
    min_responses : districts with fewer responses are listed as "not enough responses" and not plotted.

    Returns
    -------
    :class:`DistrictFunnel`.

    References
    ----------
    Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. Statistics in Medicine
    24:1185-1202. Kish L (1965). Survey Sampling. Wiley.

    Examples
    --------
    >>> s = pd.DataFrame({"district_code": ["A"] * 100 + ["B"] * 100 + ["C"] * 100,
    ...                   "satisfied_whole_experience": [True] * 70 + [False] * 30 + [True] * 72
    ...                   + [False] * 28 + [True] * 95 + [False] * 5})
    >>> f = district_funnel(s).table
    >>> f[["district_code", "value", "flag"]]
      district_code  value         flag
    0             A   70.0    below 95%
    1             B   72.0   within 95%
    2             C   95.0  above 99.8%
    >>> f["finding"].iloc[1]
    'no evidence of a difference from the area average'
    """
    func = "district_funnel"
    _stages(stage)
    col = f"satisfied_{stage}"
    _check_columns(survey, [district, col], "survey", func)
    w = _weights(survey, weights, func)
    t = _shares(survey, {stage: col}, [district], w, "stage")
    small = t[(t["responses"] > 0) & (t["responses"] < min_responses)]
    t = t[t["responses"] >= min_responses].reset_index(drop=True)
    if len(t) < 2:
        raise ValueError(
            f"{func}: fewer than two districts have {min_responses} or more responses; a funnel plot needs at least two"
        )
    t["satisfied_n"] = np.round(np.minimum(t["effective_yes"], t["effective_n"])).astype("int64")
    t["denominator"] = np.round(t["effective_n"]).astype("int64")
    flags = stats.funnel_flags(t, "satisfied_n", "denominator", multiplier=100, overdispersion=overdispersion)
    od = flags.attrs.get("overdispersion")
    flags["finding"] = flags["flag"].map(_FLAG_WORDS).fillna("no evidence of a difference from the area average")
    if weights is not None:
        flags["method"] = flags["method"] + "; Kish effective counts rounded to whole numbers"
    keep = [
        district,
        "stage",
        "responses",
        "yes",
        "denominator",
        "satisfied_n",
        "value",
        "target",
        "z",
        "lower_95",
        "upper_95",
        "lower_99_8",
        "upper_99_8",
        "flag",
        "finding",
        "method",
    ]
    flags = flags[keep]
    if len(small):
        rest = small[[district, "stage", "responses"]].assign(
            flag="not assessed",
            finding=f"{NOT_ENOUGH} (fewer than {min_responses}); not shown",
            method=flags["method"].iloc[0],
        )
        flags = pd.concat([flags, rest], ignore_index=True)
        flags["yes"] = flags["yes"].astype("Int64")
    if names is not None:
        flags = flags.merge(names, left_on=district, right_on=names.columns[0], how="left")
    label = "district_name" if "district_name" in flags.columns else district
    grid = np.unique(np.linspace(max(5, t["denominator"].min() * 0.5), t["denominator"].max() * 1.2, 120).round())
    limits = stats.funnel_limits(float(flags["target"].iloc[0]), grid, multiplier=100, overdispersion=od)
    return DistrictFunnel(table=flags, limits=limits, stage=stage, label=label)


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


# --------------------------------------------------------------------------------------------------
# Victims' Code compliance
# --------------------------------------------------------------------------------------------------


@dataclass
class CodeCompliance:
    """Share of each Victims' Code right met, from the survey and from case records.

    Attributes
    ----------
    table : one row per right, source and measure: ``right``, ``right_text``, ``source`` ("victim survey" or
        "case records"), ``measure``, ``responses`` (answers or records), ``yes`` (met), ``value``,
        ``lowercl``, ``uppercl`` (percentages), ``estimate``, ``note``, ``method``.
    gap : for rights measured both ways: records minus survey, in percentage points, with Newcombe's
        interval and a worded ``finding``.
    """

    table: pd.DataFrame
    gap: pd.DataFrame

    def summary(self) -> str:
        lines = ["Victims' Code compliance (share of victims for whom the right was met)"]
        for _, r in self.table.iterrows():
            lines.append(f"  Right {r['right']:>2} ({r['source']}, {r['measure']}): {r['estimate']}")
        for _, r in self.gap.iterrows():
            lines.append(f"  Gap, right {r['right']}: {r['finding']}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.table[["right", "right_text", "source", "measure", "responses", "estimate"]].to_html(index=False)

    def plot(self, ax: Axes | None = None) -> Axes:
        """Share met per right with intervals; survey as circles, case records as squares.

        The "declined referral" row is a share declining, not a share met, so it is left off the chart (it is in
        ``table`` and the summary)."""
        shown = self.table["value"].notna() & ~self.table["measure"].str.startswith("declined referral")
        t = self.table[shown].reset_index(drop=True)
        names = [_right_label(r, s, m) for r, s, m in zip(t["right"], t["source"], t["measure"], strict=True)]
        # A row per label, taller where the label runs to more lines, first row at the top.
        heights = np.array([1.0 + 0.45 * n.count("\n") for n in names])
        y = (heights.sum() - (np.cumsum(heights) - heights / 2)).astype(float)
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(0.3 * heights.sum() + 1.8))
        for i, (source, marker) in enumerate((("victim survey", "o"), ("case records", "s"))):
            m = (t["source"] == source).to_numpy()
            if m.any():
                ax.errorbar(
                    t["value"][m],
                    y[m],
                    xerr=[t["value"][m] - t["lowercl"][m], t["uppercl"][m] - t["value"][m]],
                    fmt=marker,
                    color=PALETTE[i],
                    capsize=3,
                    label=source.capitalize(),
                )
        ax.set_yticks(y, names)
        ax.set_xlim(0, 100)
        ax.set_xlabel("% of victims for whom the right was met (95% interval)")
        ax.set_title("Victims' Code compliance by right")
        ax.grid(axis="y", visible=False)
        legend_below(ax)
        return ax


def _right_label(right: object, source: str, measure: str) -> str:
    """'4 Referral to support' for the survey; with the measure (wrapped) for case records."""
    number = int(right)
    text = f"{number} {CODE_RIGHTS_SHORT.get(number, dm.VICTIMS_CODE_RIGHTS.get(number, ''))}"
    if source == "case records":
        text = f"{text} (case records):\n" + textwrap.fill(measure, 44)
    return text


def _working_days(start: pd.Series, end: pd.Series) -> np.ndarray:
    """Working days (Monday to Friday) from ``start`` to ``end``; NaN where either is missing."""
    a, b = pd.to_datetime(start), pd.to_datetime(end)
    ok = (a.notna() & b.notna()).to_numpy()
    out = np.full(len(a), np.nan)
    out[ok] = np.busday_count(a[ok].to_numpy().astype("datetime64[D]"), b[ok].to_numpy().astype("datetime64[D]"))
    return out


def contact_within(referrals: pd.DataFrame, within_days: int = 2) -> pd.Series:
    """For each referral, whether the service's first contact attempt came within ``within_days`` working days.

    Missing (NA) where the window had not closed by the last date in the table (neither met nor failed
    yet). Working days are Monday to Friday (bank holidays not excluded). The series, added to the referrals
    table, is what :func:`victimneeds.compare.control_chart` needs for a monthly chart of Right 4's
    timeliness (``date="referral_date"``).

    Examples
    --------
    >>> r = pd.DataFrame({"referral_date": pd.to_datetime(["2024-01-05", "2024-01-05", "2024-01-12"]),
    ...                   "first_contact_date": pd.to_datetime(["2024-01-09", "2024-01-10", None])})
    >>> contact_within(r).tolist()  # Friday 5th: Tuesday 9th is 2 working days, Wednesday 3; the 12th is open
    [True, False, <NA>]
    """
    _check_columns(referrals, ["referral_date", "first_contact_date"], "referrals", "contact_within")
    start = pd.to_datetime(referrals["referral_date"])
    end = pd.to_datetime(referrals["first_contact_date"])
    latest = pd.concat([start, end]).max()
    s = start.to_numpy().astype("datetime64[D]")
    closed = np.busday_count(s, np.datetime64(latest.date(), "D")) >= within_days
    has = end.notna().to_numpy()
    days = np.full(len(referrals), np.iinfo(np.int64).max)
    days[has] = np.busday_count(s[has], end[has].to_numpy().astype("datetime64[D]"))
    met = pd.array(has & (days <= within_days), dtype="boolean")
    met[~closed] = pd.NA
    return pd.Series(met, index=referrals.index, name=f"contact_within_{within_days}_days")


def _records_rows(
    referrals: pd.DataFrame | None, crimes: pd.DataFrame | None, within_days: int, report_date: str | None
) -> list[dict]:
    """Right 4 measured from case records: referral of victims with a need, and timeliness."""
    rows: list[dict] = []
    if crimes is not None and referrals is not None and report_date is not None:
        _check_columns(crimes, ["crime_id", report_date], "crimes", "code_compliance")
        _check_columns(referrals, ["crime_id", "referral_date"], "referrals", "code_compliance")
        police = referrals
        if "source" in referrals.columns:
            police = referrals[referrals["source"].astype(str) == "Police"]
        linked = police[["crime_id", "referral_date"]].merge(
            crimes[["crime_id", report_date]], on="crime_id", how="inner"
        )
        days = _working_days(linked[report_date], linked["referral_date"])
        known = np.isfinite(days)
        rows.append(
            {
                "right": 4,
                "source": "case records",
                "measure": f"referred within {within_days} working days of reporting",
                "responses": int(known.sum()),
                "yes": int((days[known] <= within_days).sum()),
                "method_note": f"police referrals linked to a crime with a {report_date!r}; "
                f"{len(police) - int(known.sum())} referrals without a linked report date left out; "
                "working days Monday to Friday (bank holidays not excluded)",
            }
        )
    if crimes is not None and referrals is not None:
        _check_columns(crimes, ["crime_id", "victim_identified", "need_identified"], "crimes", "code_compliance")
        _check_columns(referrals, ["crime_id"], "referrals", "code_compliance")
        ident = pd.array(crimes["victim_identified"], dtype="boolean").fillna(False).to_numpy(dtype=bool)
        need = ident & pd.array(crimes["need_identified"], dtype="boolean").fillna(False).to_numpy(dtype=bool)
        consent = (
            pd.array(crimes["consent_to_refer"], dtype="boolean") if "consent_to_refer" in crimes.columns else None
        )
        known = np.zeros(len(crimes), dtype=bool) if consent is None else ~np.asarray(consent.isna(), dtype=bool)
        uses_consent = bool((need & known).any())
        if uses_consent:
            agreed = consent.fillna(False).to_numpy(dtype=bool)
            eligible = crimes.loc[need & known & agreed, "crime_id"]
            declined = need & known & ~agreed
            unknown = int((need & ~known).sum())
            note = (
                "crimes with an identified victim and need whose victim agreed to referral (the Victims' Code "
                "denominator); met = a referral carries its crime_id"
                + (f"; {unknown:,} victims with a need and no consent recorded left out" if unknown else "")
            )
        else:
            eligible = crimes.loc[need, "crime_id"]
            note = (
                "crimes with an identified victim and need; met = a referral carries its crime_id; consent to "
                "referral is not recorded, so victims who declined cannot be set apart (they count as not met)"
            )
        referred = eligible.isin(set(referrals["crime_id"].dropna()))
        rows.append(
            {
                "right": 4,
                "source": "case records",
                "measure": "victims with an identified need who agreed to referral and were referred"
                if uses_consent
                else "victims with an identified need who were referred",
                "responses": int(len(eligible)),
                "yes": int(referred.sum()),
                "method_note": note,
            }
        )
        if uses_consent:
            rows.append(
                {
                    "right": 4,
                    "source": "case records",
                    "measure": "declined referral: share of victims with an identified need who declined "
                    "(not a failure of the right)",
                    "responses": int((need & known).sum()),
                    "yes": int(declined.sum()),
                    "method_note": "victims with an identified need and a recorded answer on consent; a victim "
                    "who declines referral has not been failed (Victims' Code, Right 4)",
                }
            )
    if referrals is not None:
        met = contact_within(referrals, within_days)
        closed = met.notna().to_numpy()
        rows.append(
            {
                "right": 4,
                "source": "case records",
                "measure": f"first contact attempt within {within_days} working days of referral",
                "responses": int(closed.sum()),
                "yes": int(met.fillna(False).to_numpy(dtype=bool).sum()),
                "method_note": f"referrals whose {within_days}-working-day window had closed by the last "
                "date in the table; working days Monday to Friday (bank holidays not "
                "excluded)",
            }
        )
    return rows


def code_compliance(
    survey: pd.DataFrame | None = None,
    rights: Sequence[int] | None = None,
    weights: str | None = None,
    referrals: pd.DataFrame | None = None,
    crimes: pd.DataFrame | None = None,
    within_days: int = 2,
    report_date: str | None = None,
    min_responses: int = MIN_RESPONSES,
    confidence: float = 0.95,
) -> CodeCompliance:
    """Share of victims for whom each Victims' Code right was met, from what victims say and what is recorded.

    From the survey: for each right, the share of applicable answers (``code_right_<n>`` not NA) that say
    the right was met, with Wilson intervals (on Kish's effective sample size when weighted). From case
    records, where given, Right 4 (referral to support services) is measured two ways: the share of
    victims with an identified need **who agreed to referral** whose crime led to a referral (``crimes`` and
    ``referrals``; a victim who declined has not been failed, so those who declined are shown in a row of
    their own, "declined referral", as a share of victims with a need; without ``consent_to_refer`` in the
    crimes table all victims with a need are counted, and the method says so), and the share of referrals
    with a first contact attempt by the service within ``within_days`` working days of
    the referral. The Code (para 4.5) asks that a victim who reports a crime is referred "within 2 working
    days"; when the crimes table carries the day the crime was reported (``report_date``), the share of
    police referrals made within ``within_days`` working days of it is added. (The canonical crimes table
    holds only the month, so this third measure needs a force extract with dates.) The ``gap`` compares
    the first records measure with what victims say about Right 4.

    Parameters
    ----------
    survey : the survey table, or None to use case records only.
    rights : right numbers (1-12) to report; default all twelve.
    weights : survey weight column or None.
    referrals, crimes : case records (optional).
    within_days : working days allowed for the records measures of timeliness (2 in the Code).
    report_date : optional column of ``crimes`` with the date each crime was reported.
    min_responses, confidence : as for :func:`satisfaction`.

    Returns
    -------
    :class:`CodeCompliance`.

    References
    ----------
    Ministry of Justice (2020). Code of Practice for Victims of Crime in England and Wales (in force
    1 April 2021), Right 4, paragraph 4.5. Wilson EB (1927). JASA 22:209-212. Kish L (1965). Survey
    Sampling. Wiley. Newcombe RG (1998). Statistics in Medicine 17:873-890.

    Examples
    --------
    >>> s = pd.DataFrame({"code_right_1": pd.array([True] * 50 + [False] * 10 + [None] * 5, dtype="boolean")})
    >>> c = code_compliance(s, rights=[1])
    >>> c.table[["right", "source", "responses", "yes", "estimate"]]
       right         source  responses  yes          estimate
    0      1  victim survey         60   50  83% (72% to 91%)
    """
    func = "code_compliance"
    chosen = list(dm.VICTIMS_CODE_RIGHTS) if rights is None else [int(r) for r in rights]
    bad = [r for r in chosen if r not in dm.VICTIMS_CODE_RIGHTS]
    if bad:
        raise ValueError(f"{func}: rights must be numbers from 1 to 12 (the Victims' Code); got {bad}")
    if survey is None and referrals is None:
        raise ValueError(f"{func}: give a survey table, case records (referrals), or both")
    parts = []
    if survey is not None:
        cols = {r: f"code_right_{r}" for r in chosen if f"code_right_{r}" in survey.columns}
        if not cols:
            raise KeyError(f"{func}: the survey table has none of the columns {[f'code_right_{r}' for r in chosen]}")
        w = _weights(survey, weights, func)
        t = _shares(survey, cols, [], w, "right")
        t = _intervals(t, weights is not None, min_responses, confidence, "for whom the right was met")
        t.insert(1, "source", "victim survey")
        t.insert(2, "measure", "victim says the right was met (where it applied)")
        parts.append(t)
    records = _records_rows(referrals, crimes, within_days, report_date) if 4 in chosen else []
    if records:
        r = pd.DataFrame(records)
        notes = r.pop("method_note")
        r["effective_n"] = r["responses"].astype(float)
        r["effective_yes"] = r["yes"].astype(float)
        r["share"] = r["yes"] / r["responses"].replace(0, np.nan)
        r["design_effect"] = 1.0
        r = _intervals(r, False, min_responses, confidence, "for whom the right was met")
        r["method"] = r["method"] + "; " + notes
        parts.append(r)
    table = pd.concat(parts, ignore_index=True)
    table["right"] = table["right"].astype("int64")
    table.insert(1, "right_text", table["right"].map(dm.VICTIMS_CODE_RIGHTS))
    table = table.drop(columns=[c for c in ("share",) if c in table.columns])
    gap = pd.DataFrame()
    said = table[(table["source"] == "victim survey") & (table["right"] == 4)]
    rec = table[(table["source"] == "case records") & (table["measure"].str.contains("referred"))]
    if len(said) and len(rec):
        s, c = said.iloc[0], rec.iloc[0]
        if pd.notna(s["value"]) and pd.notna(c["value"]):
            n_s = (
                s["effective_n"]
                if "effective_n" in table.columns and pd.notna(s.get("effective_n"))
                else (s["responses"])
            )
            x_s = s["value"] / 100 * n_s
            comp = stats.compare_proportions(c["yes"], c["responses"], x_s, n_s, confidence, multiplier=100)
            gap = comp[["value", "lowercl", "uppercl", "p_value", "confidence", "method"]].copy()
            gap.insert(0, "right", 4)
            gap.insert(1, "records", c["value"])
            gap.insert(2, "survey", s["value"])
            f = (
                "records show more compliance than victims report"
                if gap["lowercl"].iloc[0] > 0
                else "records show less compliance than victims report"
                if gap["uppercl"].iloc[0] < 0
                else "no evidence of a gap between records and what victims say"
            )
            gap["finding"] = f
            gap["statistic"] = "records minus survey, percentage points"
    return CodeCompliance(table=table, gap=gap)


# --------------------------------------------------------------------------------------------------
# Findings in words
# --------------------------------------------------------------------------------------------------


def findings(
    coverage_table: pd.DataFrame | None = None,
    change: pd.DataFrame | None = None,
    trend: SatisfactionTrend | None = None,
    funnel: DistrictFunnel | None = None,
    compliance: CodeCompliance | None = None,
) -> pd.DataFrame:
    """A short findings table, one sentence per topic, from the results of this module.

    Each row says what was found and what it rests on (``evidence``); any argument left as None is skipped.

    Examples
    --------
    >>> cov = pd.DataFrame({"crime_group": ["A", "B"], "victims": [10, 4], "responses": [60, 0]})
    >>> findings(coverage_table=cov)["finding"].tolist()
    ['No survey responses from victims of: B (4 recorded victims in the survey period).']
    """
    rows: list[dict[str, str]] = []
    if coverage_table is not None:
        by = coverage_table.columns[0]
        missing = missing_voices(coverage_table, by)
        if missing:
            victims = coverage_table.set_index(coverage_table[by].astype(str))["victims"]
            listed = ", ".join(f"{m} ({int(victims[m]):,} recorded victims in the survey period)" for m in missing)
            text = f"No survey responses from victims of: {listed}."
        else:
            text = "Every group with recorded victims has survey responses."
        rows.append({"topic": "Whose voice is missing", "finding": text, "evidence": f"responses by {by}"})
    if change is not None and len(change):
        c = change[change["value"].notna()]
        label = change.columns[0] if change.columns[0] != "stage" else None
        moved = c[c["finding"] != "no evidence of change"]
        first = change.iloc[0]
        span = f"{first['period_1']} to {first['period_2']}"
        if len(moved):
            parts = [
                f"{r[label] if label else 'all'}: {r['finding']} ({r['value']:+.0f} points)"
                for _, r in moved.iterrows()
            ]
            text = f"Change {span}: " + "; ".join(parts) + "; no evidence of change elsewhere."
        else:
            text = f"Change {span}: no evidence of change in any group with enough responses."
        rows.append(
            {"topic": "Change in satisfaction", "finding": text, "evidence": "Newcombe interval for the difference"}
        )
    if trend is not None:
        t = trend.trend[trend.trend["odds_ratio_per_year"].notna()]
        moving = t[t["finding"] != "no evidence of a trend"]
        if len(moving):
            who = [
                " / ".join(str(r[c]) for c in trend.by) if trend.by else "all responses" for _, r in moving.iterrows()
            ]
            text = "; ".join(f"{w}: {f}" for w, f in zip(who, moving["finding"], strict=True)) + "."
        else:
            text = "No evidence of a trend over the quarters surveyed."
        rows.append({"topic": "Trend in satisfaction", "finding": text, "evidence": "binomial GLM on quarter"})
    if funnel is not None:
        f = funnel.table
        out = f[f["finding"].str.contains("than the area average")]
        if len(out):
            text = "; ".join(f"{r[funnel.label]}: {r['finding']}" for _, r in out.iterrows()) + "."
        else:
            text = "No district stands out from the area average (all inside the 95% funnel limits)."
        rows.append({"topic": "Districts", "finding": text, "evidence": "funnel plot, 95% and 99.8% limits"})
    if compliance is not None:
        t = compliance.table[(compliance.table["source"] == "victim survey") & compliance.table["value"].notna()]
        if len(t):
            low = t.nsmallest(3, "value")
            text = (
                "Lowest compliance victims report: "
                + "; ".join(
                    f"right {r['right']} ({r['right_text'].lower()}) {r['value']:.0f}%" for _, r in low.iterrows()
                )
                + "."
            )
            rows.append({"topic": "Victims' Code", "finding": text, "evidence": "victim survey, weighted"})
        if len(compliance.gap):
            g = compliance.gap.iloc[0]
            rows.append(
                {
                    "topic": "Records and victims' view (right 4)",
                    "finding": f"{g['finding'].capitalize()}: records {g['records']:.0f}%, victims "
                    f"{g['survey']:.0f}% ({g['value']:+.0f} points).",
                    "evidence": "case records against the survey",
                }
            )
    return pd.DataFrame(rows, columns=["topic", "finding", "evidence"])


# --------------------------------------------------------------------------------------------------
# Free-text themes
# --------------------------------------------------------------------------------------------------

#: Keyword themes for free-text comments: theme -> words or phrases (matched case-insensitively as whole
#: words; ``*`` matches the rest of a word, e.g. ``call* back``). A starting point drawn from the stages of
#: the Home Office victim satisfaction survey; areas should review it against their own comments.
DEFAULT_THEMES: dict[str, tuple[str, ...]] = {
    "Kept informed": ("update*", "informed", "heard nothing", "no contact", "call* back", "in the dark", "chase*"),
    "Delay": ("wait*", "slow", "delay*", "took weeks", "took months", "still waiting"),
    "Attitude of staff": (
        "rude",
        "dismissive",
        "not believed",
        "didn't listen",
        "did not listen",
        "kind*",
        "respect*",
        "listened",
        "caring",
        "understanding",
    ),
    "Support received": ("support*", "helpful", "counsel*", "advocate", "isva", "idva", "advice"),
    "Outcome and justice": ("no further action", "nfa", "court", "charged", "arrest*", "nothing was done", "prosecut*"),
    "Safety": ("safe*", "unsafe", "scared", "afraid", "fear*", "threat*"),
}


def _pattern(words: Sequence[str]) -> str:
    parts = []
    for w in words:
        parts.append(r"\w*".join(re.escape(piece) for piece in w.split("*")) + r"\b")
    return r"\b(?:" + "|".join(parts) + ")"


def themes(
    survey: pd.DataFrame,
    text: str = "comment",
    theme_words: dict[str, Sequence[str]] | None = None,
    by: str | Sequence[str] | None = None,
    min_count: int = 10,
) -> pd.DataFrame:
    """Count free-text comments mentioning each keyword theme; only aggregates, never the comments.

    A comment mentions a theme when it contains any of the theme's words or phrases (case-insensitive,
    whole words; ``*`` matches the rest of a word). Counts below ``min_count`` (10 by default,
    above the 1-4 disclosure threshold because free text can identify a person) are not shown. This is a
    transparent keyword count, not a model: it misses paraphrase and negation ("not rude" counts as
    "rude"), so read it as a pointer to where to read comments, not as a measure.

    Parameters
    ----------
    survey : the survey table.
    text : the column holding the free-text comment.
    theme_words : theme -> words; default :data:`DEFAULT_THEMES`.
    by : optional grouping column(s).
    min_count : smallest number of mentions shown.

    Returns
    -------
    One row per group and theme: ``by`` columns, ``theme``, ``comments`` (non-empty comments),
    ``mentions``, ``value`` (% of comments), ``note``, ``method``.

    Examples
    --------
    >>> s = pd.DataFrame({"comment": ["Nobody kept me updated"] * 12 + ["Very kind officer"] * 3 + [None]})
    >>> themes(s, theme_words={"Kept informed": ["update*"], "Attitude": ["kind"]})[["theme", "comments", "mentions"]]
               theme  comments  mentions
    0  Kept informed        15        12
    1       Attitude        15      <NA>
    """
    func = "themes"
    by_cols = _as_list(by)
    _check_columns(survey, by_cols + [text], "survey", func)
    words = DEFAULT_THEMES if theme_words is None else theme_words
    comments = survey[text].astype("string").str.strip()
    has = comments.notna() & (comments.str.len() > 0)
    frame = survey.loc[has.to_numpy(dtype=bool), by_cols].copy()
    for theme, ws in words.items():
        frame[theme] = comments[has.to_numpy(dtype=bool)].str.contains(_pattern(ws), case=False, regex=True)
    rows = []
    groups = frame.groupby(by_cols, observed=False, sort=True) if by_cols else [((), frame)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        for theme in words:
            rows.append(
                {
                    **dict(zip(by_cols, key, strict=True)),
                    "theme": theme,
                    "comments": len(part),
                    "mentions": int(part[theme].sum()),
                }
            )
    out = pd.DataFrame(rows, columns=[*by_cols, "theme", "comments", "mentions"])
    shown = out["mentions"] >= min_count
    with np.errstate(divide="ignore", invalid="ignore"):
        out["value"] = np.where(shown, 100 * out["mentions"] / out["comments"].replace(0, np.nan), np.nan)
    out["mentions"] = pd.array(np.where(shown, out["mentions"], pd.NA), dtype="Int64")
    out["note"] = np.where(shown, "", f"fewer than {min_count} mentions; not shown")
    out["method"] = "keyword match, case-insensitive whole words; % of non-empty comments"
    return out
