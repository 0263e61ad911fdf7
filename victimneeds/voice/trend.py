"""Is satisfaction changing? Change between periods and the trend over quarters.

Part of :mod:`victimneeds.voice`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from victimneeds import compare, stats
from victimneeds.plotting import (
    LINESTYLES,
    MARKERS,
    PALETTE,
    date_axis,
    legend_below,
    page_size,
)
from victimneeds.voice.checks import (
    _KISH,
    MIN_RESPONSES,
    NOT_ENOUGH,
    STAGE_LABELS,
    _as_list,
    _check_columns,
    _shares,
    _stages,
    _weights,
)
from victimneeds.voice.satisfaction import _quarter

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
