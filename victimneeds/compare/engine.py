"""The comparison engine: rates, odds ratios and trends for one outcome by every breakdown.

Part of :mod:`victimneeds.compare`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from victimneeds import stats
from victimneeds.compare.multiplicity import BREAKDOWNS, GAPS_ALPHA, GAPS_FDR, benjamini_hochberg, gaps_rule
from victimneeds.compare.odds_ratios import _labels, odds_ratios
from victimneeds.compare.trend import _periods, _years, binomial_trend
from victimneeds.plotting import MARKERS, PALETTE, legend_below, page_size

# --------------------------------------------------------------------------------------------------
# The comparison engine
# --------------------------------------------------------------------------------------------------


@dataclass
class Comparison:
    """Result of :func:`compare`.

    Attributes
    ----------
    rates : one row per breakdown and level: ``breakdown, level, n, events, value, lowercl, uppercl``
        (percentages, Wilson), ``confidence, method``.
    odds_ratios : one row per non-reference level: unadjusted and adjusted odds ratios (see
        :func:`odds_ratios`), with ``q_value`` (Benjamini-Hochberg across all the adjusted comparisons) and
        ``finding`` (True where :func:`gaps_rule` reports it).
    trend : odds ratio per year for all rows and for each level (empty when no ``time`` is given), with its
        own ``q_value`` across the levels.
    outcome : what was compared, in words; ``notes`` say what was left out and why.
    """

    rates: pd.DataFrame
    odds_ratios: pd.DataFrame
    trend: pd.DataFrame
    outcome: str
    n: int
    events: int
    notes: list[str] = field(default_factory=list)
    result: object | None = None

    def summary(self) -> str:
        lines = [f"{self.outcome}: {self.events:,} of {self.n:,} ({100 * self.events / max(self.n, 1):.1f}%)"]
        for r in self.odds_ratios.itertuples(index=False):
            star = "  <- finding" if r.finding else ""
            lines.append(
                f"{r.covariate:<18} {r.level:<22} vs {r.reference:<18} adjusted OR {r.odds_ratio:.2f} "
                f"({r.lower:.2f}-{r.upper:.2f}), q={r.q_value:.3f}{star}"
            )
        for r in self.trend.itertuples(index=False):
            if np.isfinite(r.odds_ratio_per_year):
                lines.append(
                    f"Trend {r.breakdown} {r.level}: OR per year {r.odds_ratio_per_year:.2f} "
                    f"({r.lowercl:.2f}-{r.uppercl:.2f})"
                )
        return "\n".join(lines + [f"Note: {n}" for n in self.notes])

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return "<pre>" + self.summary() + "</pre>"

    def plot(self, breakdown: str, ax: Axes | None = None) -> Axes:
        """Rates for one breakdown's levels with 95% intervals, and the overall rate as a line."""
        t = self.rates[self.rates["breakdown"] == breakdown].reset_index(drop=True)
        if not len(t):
            choices = sorted(set(self.rates["breakdown"]))
            raise ValueError(f"Comparison.plot: no breakdown {breakdown!r}; choose from {choices}")
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(0.4 * len(t) + 1.8))
        y = np.arange(len(t))[::-1]
        ax.errorbar(t["value"], y, xerr=[t["value"] - t["lowercl"], t["uppercl"] - t["value"]], fmt=MARKERS[0],
                    color=PALETTE[0], capsize=3, label="Rate (95% interval)")
        ax.axvline(100 * self.events / max(self.n, 1), color=PALETTE[4], linestyle="--", label="All")
        ax.set_yticks(y, t["level"].astype(str).tolist())
        ax.set_xlabel(f"% {self.outcome}")
        ax.set_title(f"{self.outcome} by {breakdown.replace('_', ' ')}")
        legend_below(ax)
        return ax


def compare(
    table: pd.DataFrame,
    outcome: str,
    by: Sequence[str] | None = None,
    adjust: Sequence[str] | None = None,
    time: str | None = None,
    weights: str | None = None,
    reference: dict[str, str] | None = None,
    period: str = "Q",
    confidence: float = 0.95,
    fdr: float = GAPS_FDR,
    min_group: int = 50,
    min_events: int = 10,
    alpha: float | None = GAPS_ALPHA,
) -> Comparison:
    """Compare a yes/no outcome across groups of victims: rates, unadjusted and adjusted odds ratios, trend.

    Rows whose outcome is missing are counted and left out (in ``notes``). For each breakdown column (by
    default those of :data:`BREAKDOWNS` present in ``table``), the rate in each level with a Wilson interval
    (on Kish's effective sample size when weighted). Odds ratios against the largest level (or
    ``reference``): unadjusted from each level's 2x2 table, adjusted from one logistic regression on all the
    breakdowns and the ``adjust`` columns together (Firth's penalised likelihood where a level separates; see
    :func:`odds_ratios`). The adjusted p-values form one family: ``q_value`` is Benjamini-Hochberg and
    ``finding`` says which comparisons pass :func:`gaps_rule` at ``fdr`` and ``alpha``. With ``time`` (a date or period
    column), the trend in the log-odds per year over ``period`` (quarters by default), for all rows and for
    each level, with over-dispersion allowed for (:func:`binomial_trend`).

    Parameters
    ----------
    table : one row per victim (or survey response).
    outcome : boolean column (True = the outcome happened, e.g. referred, satisfied).
    by : breakdown columns; default every column of :data:`BREAKDOWNS` in the table.
    adjust : extra columns adjusted for in every model but not reported.
    time : optional date or period column for the trend.
    weights : optional survey weight column.
    reference : breakdown -> reference level.
    period : ``"M"``, ``"Q"`` or ``"Y"`` for the trend.
    confidence : interval level.
    fdr : false discovery rate for the findings (:data:`GAPS_FDR`, 1%).
    alpha : each finding's own p-value must also be below it (0.002, the 99.8% level; None for
        Benjamini-Hochberg alone).
    min_group, min_events : small-group warnings, as in :func:`odds_ratios`.

    Returns
    -------
    Comparison

    References
    ----------
    Wilson EB (1927). JASA 22:209-212. Firth D (1993). Biometrika 80:27-38. Benjamini Y, Hochberg Y (1995).
    JRSS B 57:289-300. Kish L (1965). Survey Sampling. Wiley.

    Examples
    --------
    >>> t = pd.DataFrame({"victim_sex": ["Female"] * 60 + ["Male"] * 40,
    ...                   "referred": [True] * 30 + [False] * 30 + [True] * 10 + [False] * 30})
    >>> c = compare(t, "referred", min_group=1)
    >>> c.rates[["breakdown", "level", "n", "events", "value"]]
        breakdown   level   n  events  value
    0  victim_sex  Female  60      30   50.0
    1  victim_sex    Male  40      10   25.0
    >>> round(float(c.odds_ratios["odds_ratio"].iloc[0]), 4)  # (10/30) / (30/30)
    0.3333
    """
    func = "compare"
    if outcome not in table.columns:
        raise KeyError(f"{func}: the table has no outcome column {outcome!r}")
    by_cols = [c for c in BREAKDOWNS if c in table.columns and c != outcome] if by is None else list(by)
    adjust_cols = [c for c in (adjust or []) if c not in by_cols]
    missing = [c for c in [*by_cols, *adjust_cols, *([time] if time else []), *([weights] if weights else [])]
               if c not in table.columns]
    if missing:
        raise KeyError(f"{func}: the table has no column(s) {missing}; its columns are {list(table.columns)}")
    if not by_cols:
        raise ValueError(f"{func}: no breakdown columns; give by=[...] (none of {list(BREAKDOWNS)} is in the table)")
    y_all = pd.array(table[outcome], dtype="boolean")
    known = ~np.asarray(y_all.isna(), dtype=bool)
    notes = []
    if (~known).any():
        notes.append(f"{int((~known).sum()):,} rows with no recorded {outcome!r} are left out.")
    data = table[known]
    y = y_all[known].to_numpy(dtype=bool)
    w = None if weights is None else np.asarray(data[weights], dtype=float)
    level = stats._confidence(confidence)
    # Rates by breakdown.
    rate_rows = []
    for b in by_cols:
        lab = pd.Series(_labels(data[b]), index=data.index)
        work = pd.DataFrame({"level": lab, "_y": y.astype(float), "_n": 1.0})
        if w is not None:
            work["_w"], work["_wy"], work["_w2"] = w, w * y, w * w
        g = work.groupby("level", sort=True)
        part = g[["_y", "_n"]].sum().reset_index()
        if w is None:
            ex, en = part["_y"].to_numpy(), part["_n"].to_numpy()
        else:
            s = g[["_w", "_wy", "_w2"]].sum().reset_index()
            en = (s["_w"] ** 2 / s["_w2"]).to_numpy()
            ex = (s["_wy"] / s["_w"]).to_numpy() * en
        p, lo, hi = stats.wilson(np.minimum(ex, en), en, level)
        rate_rows.append(pd.DataFrame({
            "breakdown": b, "level": part["level"], "n": part["_n"].astype("int64"),
            "events": part["_y"].astype("int64"), "value": 100 * p, "lowercl": 100 * lo, "uppercl": 100 * hi,
        }))
    rates = pd.concat(rate_rows, ignore_index=True)
    rates["confidence"] = f"{level:.0%}"
    rates["method"] = "Wilson score interval" + (" on the Kish effective sample size" if w is not None else "")
    # Odds ratios.
    ors, result = odds_ratios(data, pd.Series(y, index=data.index), [*by_cols, *adjust_cols], reference, weights,
                              confidence, min_group, min_events)
    ors = ors[ors["covariate"].isin(by_cols)].reset_index(drop=True)
    ors["q_value"] = benjamini_hochberg(ors["p_value"])
    # A finding needs both the family's test and an interval that excludes no difference (the two can disagree
    # where a penalised fit's profile could not be traced and its Wald interval is used).
    excludes_one = (ors["upper"] < 1) | (ors["lower"] > 1) if len(ors) else np.array([], dtype=bool)
    ors["finding"] = (gaps_rule(ors["p_value"], fdr, alpha) & np.asarray(excludes_one, dtype=bool)) if len(ors) else (
        np.array([], dtype=bool))
    if adjust_cols:
        notes.append(f"adjusted odds ratios also allow for {', '.join(adjust_cols)}.")
    # Trend.
    trend_rows = []
    if time is not None:
        per = _periods(data[time], period)
        has = per.notna().to_numpy()
        if (~has).any():
            notes.append(f"{int((~has).sum()):,} rows with no {time!r} are left out of the trend.")
        groups = [("All", "All", has)]
        for b in by_cols:
            lab = _labels(data[b])
            groups += [(b, lv, has & (lab == lv)) for lv in sorted(set(lab))]
        for b, lv, mask in groups:
            work = pd.DataFrame({"period": per[mask].array, "_y": y[mask].astype(float)})
            m = work.groupby("period", sort=True)["_y"].agg(["sum", "size"])
            row = {"breakdown": b, "level": lv, "periods": len(m), "n": int(m["size"].sum()) if len(m) else 0}
            if len(m) < 3 or m["sum"].sum() == 0 or (m["sum"] == m["size"]).all():
                row.update(odds_ratio_per_year=np.nan, lowercl=np.nan, uppercl=np.nan, p_value=np.nan,
                           dispersion=np.nan, note="not fitted: fewer than 3 periods or no variation")
            else:
                fit = binomial_trend(m["sum"], m["size"], _years(m.index, period), confidence)
                row.update({k: fit[k] for k in ("odds_ratio_per_year", "lowercl", "uppercl", "p_value", "dispersion")},
                           note="")
            trend_rows.append(row)
    trend = pd.DataFrame(trend_rows, columns=["breakdown", "level", "periods", "n", "odds_ratio_per_year", "lowercl",
                                              "uppercl", "p_value", "dispersion", "note"])
    if len(trend):
        trend["q_value"] = benjamini_hochberg(trend["p_value"])
        trend["method"] = (f"binomial GLM of {period} counts on time, dispersion from Pearson chi-square floored at 1;"
                           " q-value Benjamini-Hochberg across the levels")
    return Comparison(rates=rates, odds_ratios=ors, trend=trend, outcome=outcome.replace("_", " "), n=int(len(y)),
                      events=int(y.sum()), notes=notes, result=result)
