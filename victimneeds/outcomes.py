"""Justice outcomes and attrition: what happens to victims' cases, and how long it takes.

The public data.police.uk street files give each crime's *latest* outcome when the file was published; the
outcomes files (where a force supplies them) give every outcome with the month it was recorded. This module

* maps every police.uk outcome category, including historic wording, to a small ordered set of outcome groups
  (:data:`OUTCOME_GROUPS`, :func:`outcome_map`, :func:`add_outcome_groups`), read from the shipped reference
  table ``reference/policeuk_outcome_groups.csv``; an unknown category raises an error naming it;
* measures attrition (:func:`attrition`): the share of crimes in each outcome group by crime group, district
  and period with Wilson intervals, the positive-outcome trend (a binomial GLM), a funnel of districts, and a
  flag on the recent cohorts that are still maturing (many cases still under investigation);
* measures the time to outcome (:func:`time_to_outcome`): Kaplan-Meier curves with open cases censored at the
  extract month, and the median wait with its interval; from street files alone (no outcome months) it gives
  the current-status view, the share of each month's crimes still open when the file was published.

police.uk does not say whether "Unable to prosecute suspect" was because the victim did not support action or
for other evidential reasons, so public data use the combined group "Evidential difficulties - victim support
not known"; the two split groups are kept in the vocabulary for force extracts that carry Home Office outcome
codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
import statsmodels.api as sm
from matplotlib.axes import Axes

from victimneeds import compare, stats
from victimneeds.periods import financial_year

__all__ = [
    "CASE_STATUSES",
    "OUTCOME_GROUPS",
    "POSITIVE_GROUPS",
    "Attrition",
    "TimeToOutcome",
    "add_outcome_groups",
    "attrition",
    "outcome_group",
    "outcome_map",
    "time_to_outcome",
]

#: Outcome groups, in the order a victim's case would be reported: from a charge to no outcome yet.
OUTCOME_GROUPS: tuple[str, ...] = (
    "Charged/summonsed or court outcome",
    "Out-of-court disposal",
    "Evidential difficulties - victim does not support",
    "Evidential difficulties - other",
    "Evidential difficulties - victim support not known",
    "No suspect identified",
    "Not in public interest / other",
    "Under investigation / awaiting outcome",
)
#: Where a case stands: ``open`` (no outcome yet), ``awaiting court`` (charged, court to decide), ``closed``,
#: ``unknown`` (the force supplied no status).
CASE_STATUSES: tuple[str, ...] = ("open", "awaiting court", "closed", "unknown")
#: The groups counted as a positive outcome (the victim sees a charge, a court outcome or a formal disposal).
POSITIVE_GROUPS: tuple[str, ...] = ("Charged/summonsed or court outcome", "Out-of-court disposal")
OPEN_GROUP = "Under investigation / awaiting outcome"
_REFERENCE = "policeuk_outcome_groups.csv"
_ALIASES = {"district": "district_code", "area": "area_code"}


@lru_cache(maxsize=1)
def _map() -> pd.DataFrame:
    with resources.files("victimneeds.reference").joinpath(_REFERENCE).open("r", encoding="utf-8") as f:
        table = pd.read_csv(f, dtype=str)
    bad = sorted(set(table["outcome_group"]) - set(OUTCOME_GROUPS))
    bad_status = sorted(set(table["case_status"]) - set(CASE_STATUSES))
    if bad or bad_status or not table["category"].is_unique:
        raise ValueError(
            f"reference/{_REFERENCE} is corrupt: unknown groups {bad} or statuses {bad_status}, "
            "or a category listed twice"
        )
    return table


def outcome_map() -> pd.DataFrame:
    """The shipped map of police.uk outcome categories to outcome groups, one row per category.

    Columns: ``category`` (as published), ``outcome_group``, ``case_status`` (open, awaiting court, closed,
    unknown), ``wording`` (current or historic), ``note`` and ``source``.

    Examples
    --------
    >>> m = outcome_map()
    >>> m.loc[m["category"] == "Local resolution", "outcome_group"].item()
    'Out-of-court disposal'
    """
    return _map().copy()


def _lookup(categories: pd.Series, column: str, what: str) -> pd.Series:
    table = _map().set_index("category")[column]
    raw = pd.Series(categories)
    text = raw.astype("string").str.strip()
    mapped = text.map(table)
    unknown = text[mapped.isna() & text.notna()]
    if len(unknown):
        counts = unknown.value_counts()
        listed = "; ".join(f"{k!r} ({v:,} rows)" for k, v in counts.head(8).items())
        raise ValueError(
            f"The {what} column has {len(unknown):,} rows with outcome categories that victimneeds does not "
            f"know: {listed}. Expected a data.police.uk outcome category as listed in "
            f"victimneeds/reference/{_REFERENCE}; add the new wording there with its outcome group and source."
        )
    return mapped


def outcome_group(categories: pd.Series, column: str = "outcome") -> pd.Series:
    """The outcome group of each police.uk outcome category, as an ordered categorical.

    Missing categories (anti-social behaviour, which has no outcome) stay missing. Categories not in the
    reference table raise a ``ValueError`` naming them and how many rows each has.

    Parameters
    ----------
    categories : police.uk outcome categories ("Last outcome category" or "Outcome type").
    column : the column's name, quoted in errors.

    Examples
    --------
    >>> s = pd.Series(["Unable to prosecute suspect", "Offender fined", None])
    >>> outcome_group(s).tolist()
    ['Evidential difficulties - victim support not known', 'Charged/summonsed or court outcome', nan]
    """
    mapped = _lookup(categories, "outcome_group", repr(column))
    return pd.Series(
        pd.Categorical(mapped, categories=list(OUTCOME_GROUPS), ordered=True),
        index=pd.Series(categories).index,
        name="outcome_group",
    )


def add_outcome_groups(crimes: pd.DataFrame, column: str = "outcome") -> pd.DataFrame:
    """A copy of ``crimes`` with ``outcome_group``, ``case_status`` and ``positive`` added.

    ``positive`` is True for the groups in :data:`POSITIVE_GROUPS` and missing where there is no outcome.

    Examples
    --------
    >>> t = pd.DataFrame({"outcome": ["Under investigation", "Offender given a caution"]})
    >>> add_outcome_groups(t)[["case_status", "positive"]].values.tolist()
    [['open', False], ['closed', True]]
    """
    if column not in crimes.columns:
        raise KeyError(f"the crimes table has no column {column!r} (the police.uk outcome category)")
    out = crimes.copy()
    out["outcome_group"] = outcome_group(out[column], column)
    status = _lookup(out[column], "case_status", repr(column))
    out["case_status"] = pd.Categorical(status, categories=list(CASE_STATUSES))
    has = out["outcome_group"].notna()
    out["positive"] = pd.array(
        np.where(has, out["outcome_group"].isin(POSITIVE_GROUPS), pd.NA), dtype="boolean"
    )
    return out


# --------------------------------------------------------------------------------------------------
# Attrition
# --------------------------------------------------------------------------------------------------


def _period(months: pd.Series, period: str) -> pd.Series:
    if period == "year":
        return financial_year(months).rename("period")
    if period == "month":
        return months.astype(str).rename("period")
    if period == "quarter":
        return months.dt.asfreq("Q").astype(str).rename("period")
    if period == "all":
        return pd.Series("All months", index=months.index, name="period")
    raise ValueError(f"period must be 'year' (financial year), 'quarter', 'month' or 'all'; got {period!r}")


def _prepare(crimes: pd.DataFrame, column: str) -> tuple[pd.DataFrame, dict[str, int]]:
    for col in ("month", column):
        if col not in crimes.columns:
            raise KeyError(f"the crimes table has no column {col!r}; attrition needs crime month and outcome")
    data = add_outcome_groups(crimes, column)
    n_all = len(data)
    kept = data[data["outcome_group"].notna()]
    counts = {"rows": n_all, "no_outcome": n_all - len(kept), "used": len(kept)}
    return kept, counts


@dataclass
class Attrition:
    """Result of :func:`attrition`.

    Attributes
    ----------
    table : share of crimes in each outcome group by ``by`` and period (Wilson intervals), long form.
    cohorts : one row per crime month: crimes, still open, share open (Wilson) and ``maturing``.
    trend : binomial GLM of the positive-outcome share on time, one row per crime group (odds ratio a year).
    trend_fitted : observed and fitted positive-outcome share by month and crime group, with intervals.
    funnel : positive-outcome share by district on a funnel (:func:`victimneeds.stats.funnel_flags`).
    counts : rows read, rows without an outcome (ASB), rows used.
    by, period, positive, maturing_threshold : the settings used.
    """

    table: pd.DataFrame
    cohorts: pd.DataFrame
    trend: pd.DataFrame
    trend_fitted: pd.DataFrame
    funnel: pd.DataFrame | None
    counts: dict[str, int]
    by: tuple[str, ...]
    period: str
    positive: tuple[str, ...]
    maturing_threshold: float
    method: str = field(default="")

    @property
    def maturing_months(self) -> list[str]:
        """Crime months flagged as maturing (share still open above the threshold)."""
        return self.cohorts.loc[self.cohorts["maturing"], "month"].astype(str).tolist()

    def positive_counts(self) -> tuple[int, int]:
        """(crimes with a positive outcome, crimes with an outcome) over the whole table."""
        pos = self.table.groupby("outcome_group", observed=True)["crimes"].sum()
        return int(pos[[g for g in self.positive if g in pos.index]].sum()), int(pos.sum())

    def summary(self) -> str:
        """A few sentences for a policy officer."""
        positive, total = self.positive_counts()
        share = 100 * positive / total if total else np.nan
        mat = self.maturing_months
        lines = [
            f"Attrition: {self.counts['used']:,} crimes with a police.uk outcome "
            f"({self.counts['no_outcome']:,} rows without an outcome, e.g. anti-social behaviour, not counted).",
            f"Positive outcomes ({', '.join(self.positive)}): {share:.1f}% of crimes.",
            (
                f"Maturing cohorts: {len(mat)} recent months ({mat[0]} to {mat[-1]}) have more than "
                f"{100 * self.maturing_threshold:.0f}% of crimes still under investigation; their outcome shares "
                "will change."
                if mat
                else "No month has many crimes still under investigation."
            ),
            f"Method: {self.method}",
        ]
        return "\n".join(lines)

    def plot(self, ax: Axes | None = None, by: str | None = None) -> Axes:
        """Stacked horizontal bars: the outcome-group mix of each value of ``by`` (default the first)."""
        import matplotlib.pyplot as plt

        from victimneeds.plotting import PALETTE, legend_below, page_size

        by = by or self.by[0]
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(0.45 * self.table[by].nunique() + 1.8))
        mix = self.table.groupby([by, "outcome_group"], observed=True)["crimes"].sum().unstack(fill_value=0)
        mix = mix.div(mix.sum(axis=1), axis=0) * 100
        left = np.zeros(len(mix))
        hatches = ["", "//", "..", "xx", "\\\\", "--", "++", "oo"]
        for i, group in enumerate(mix.columns):
            ax.barh(
                mix.index.astype(str),
                mix[group],
                left=left,
                label=group,
                color=PALETTE[i % len(PALETTE)],
                hatch=hatches[i % len(hatches)],
                edgecolor="white",
            )
            left += mix[group].to_numpy()
        ax.set_xlabel("Percentage of crimes")
        ax.set_xlim(0, 100)
        ax.invert_yaxis()
        ax.set_title("Latest outcome of recorded crimes")
        legend_below(ax)
        return ax

    def plot_trend(self, ax: Axes | None = None, groups: Sequence[str] | None = None) -> Axes:
        """Observed monthly positive-outcome share (points) and the fitted GLM trend (lines)."""
        import matplotlib.pyplot as plt

        from victimneeds.plotting import LINESTYLES, MARKERS, PALETTE, date_axis, legend_below, page_size

        if ax is None:
            _, ax = plt.subplots(figsize=page_size(3.8))
        fitted = self.trend_fitted
        groups = list(groups) if groups is not None else list(pd.unique(fitted["crime_group"]))
        for i, g in enumerate(groups):
            sub = fitted[fitted["crime_group"] == g]
            x = sub["month"].dt.to_timestamp()
            colour = PALETTE[i % len(PALETTE)]
            ax.plot(x, sub["observed"], MARKERS[i % len(MARKERS)], color=colour, alpha=0.5, ms=3)
            ax.plot(x, sub["fitted"], linestyle=LINESTYLES[i % len(LINESTYLES)], color=colour,
                    marker=MARKERS[i % len(MARKERS)], markevery=[0, len(sub) - 1] if len(sub) else None, label=g)
            ax.fill_between(x, sub["fitted_lower"], sub["fitted_upper"], color=colour, alpha=0.15)
        ax.set_ylabel("Positive outcomes, % of crimes")
        ax.set_title("Positive-outcome share by crime month, with binomial GLM trend")
        date_axis(ax)
        legend_below(ax, title="Points: each month; lines: fitted trend with 95% band")
        return ax

    def plot_funnel(self, ax: Axes | None = None, label: str = "district_code") -> Axes:
        """Funnel plot of the positive-outcome share by district, with 95% and 99.8% limits."""
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter

        from victimneeds.plotting import PALETTE, label_points, legend_below, page_size

        if self.funnel is None:
            raise ValueError("no funnel: attrition was run without districts in `by`")
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(4.0))
        f = self.funnel
        n_max = float(f["crimes"].max()) * 1.1
        grid = np.unique(np.linspace(max(1, f["crimes"].min() * 0.5), n_max, 200).round())
        od = f.attrs.get("overdispersion")
        limits = stats.funnel_limits(
            float(f["target"].iloc[0]), grid, "proportion", overdispersion=od, multiplier=100
        )
        for level, style in ((0.95, "--"), (0.998, ":")):
            lim = limits[np.isclose(limits["level"], level)]
            ax.plot(lim["denominator"], lim["lower"], style, color="grey",
                    label=f"{level:.1%} limits".replace(".0%", "%"))
            ax.plot(lim["denominator"], lim["upper"], style, color="grey")
        ax.axhline(float(f["target"].iloc[0]), color="black", lw=1, label="Area average")
        ax.plot(f["crimes"], f["value"], "o", color=PALETTE[0], label="District")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_xlabel("Crimes with an outcome")
        ax.set_ylabel("Positive outcomes, %")
        ax.set_title("Positive-outcome share by district (funnel plot)")
        label_points(ax, f["crimes"], f["value"], f[label].astype(str))
        legend_below(ax)
        return ax

    def _repr_html_(self) -> str:
        return "<pre>" + self.summary() + "</pre>"


def _cohorts(data: pd.DataFrame, threshold: float, confidence: float) -> pd.DataFrame:
    open_ = data["outcome_group"] == OPEN_GROUP
    cohort = pd.DataFrame({"month": data["month"], "open": open_.astype(int)})
    table = cohort.groupby("month").agg(crimes=("open", "size"), still_open=("open", "sum")).reset_index()
    table = stats.proportion(table, "still_open", "crimes", confidence, multiplier=100)
    table = table.rename(columns={"value": "pct_open"})
    table["maturing"] = table["pct_open"] > 100 * threshold
    return table


def _trend(data: pd.DataFrame, exclude: set, confidence: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, fitted = [], []
    groups = [("All crimes", data)] + [(str(g), d) for g, d in data.groupby("crime_group", observed=True)]
    for name, sub in groups:
        m = sub.groupby("month").agg(n=("positive", "size"), x=("positive", "sum")).reset_index()
        m = m[~m["month"].isin(exclude) & (m["n"] > 0)]
        if len(m) < 3 or m["x"].sum() == 0 or (m["x"] == m["n"]).all():
            rows.append(
                {
                    "crime_group": name,
                    "months": len(m),
                    "crimes": int(m["n"].sum()),
                    "odds_ratio_per_year": np.nan,
                    "lowercl": np.nan,
                    "uppercl": np.nan,
                    "p_value": np.nan,
                    "note": "not fitted: fewer than 3 months or no variation",
                }
            )
            continue
        t0 = m["month"].min()
        years = np.array([(p - t0).n for p in m["month"]], dtype=float) / 12
        fit = compare.binomial_trend(m["x"].to_numpy(float), m["n"].to_numpy(float), years, confidence)
        rows.append(
            {
                "crime_group": name,
                "months": len(m),
                "crimes": int(m["n"].sum()),
                "odds_ratio_per_year": fit["odds_ratio_per_year"],
                "lowercl": fit["lowercl"],
                "uppercl": fit["uppercl"],
                "p_value": fit["p_value"],
                "dispersion": fit["dispersion"],
                "note": "",
            }
        )
        fitted.append(
            pd.DataFrame(
                {
                    "crime_group": name,
                    "month": m["month"].to_numpy(),
                    "crimes": m["n"].to_numpy(),
                    "positive": m["x"].to_numpy(),
                    "observed": 100 * m["x"].to_numpy() / m["n"].to_numpy(),
                    "fitted": 100 * fit["fitted"],
                    "fitted_lower": 100 * fit["fitted_lower"],
                    "fitted_upper": 100 * fit["fitted_upper"],
                }
            )
        )
    trend = pd.DataFrame(rows)
    trend["confidence"] = f"{confidence:.0%}"
    trend["method"] = (
        "binomial GLM (logit link) of monthly positive outcomes on time, quasi-binomial "
        "dispersion = Pearson chi-square / residual df on the monthly counts, floored at 1; maturing months excluded"
    )
    fit = (
        pd.concat(fitted, ignore_index=True)
        if fitted
        else pd.DataFrame(
            columns=[
                "crime_group",
                "month",
                "crimes",
                "positive",
                "observed",
                "fitted",
                "fitted_lower",
                "fitted_upper",
            ]
        )
    )
    return trend, fit


def attrition(
    crimes: pd.DataFrame,
    by: Sequence[str] = ("crime_group", "district"),
    period: str = "year",
    positive: Sequence[str] = POSITIVE_GROUPS,
    outcome: str = "outcome",
    confidence: float = 0.95,
    maturing_threshold: float = 0.05,
    districts: pd.DataFrame | None = None,
) -> Attrition:
    """Attrition: where victims' cases end up, by crime group, district and period.

    Parameters
    ----------
    crimes : the canonical crimes table (``month``, ``outcome``, and the ``by`` columns). Rows with no
        outcome (anti-social behaviour) are counted and left out.
    by : columns to break down by; ``"district"`` means ``district_code``. Crimes with no district are kept
        in their own row (``"No location"``).
    period : ``"year"`` (financial year), ``"quarter"``, ``"month"`` or ``"all"``.
    positive : outcome groups counted as positive (for the trend and the funnel).
    outcome : the column holding the police.uk outcome category.
    confidence : level of every interval.
    maturing_threshold : a crime month is *maturing* when more than this share of its crimes is still under
        investigation; maturing months are flagged in the table and left out of the trend and funnel.
    districts : optional ``district_code, district_name`` table to label the funnel.

    Returns
    -------
    :class:`Attrition`, whose ``table`` has the ``by`` columns, ``period``, ``outcome_group``, ``crimes``
    (in the group), ``total`` (with an outcome), ``value, lowercl, uppercl`` (percentage, Wilson),
    ``confidence, statistic, method``, ``pct_open`` (share of the cell still under investigation) and
    ``maturing`` (the cell includes a maturing month).

    References
    ----------
    Wilson EB (1927). JASA 22:209-212. McCullagh P, Nelder JA (1989). Generalized Linear Models, 2nd ed.,
    chapter 4 (binomial data, over-dispersion). Spiegelhalter DJ (2005). Funnel plots for comparing
    institutional performance. Statistics in Medicine 24:1185-1202.

    Examples
    --------
    >>> t = pd.DataFrame({
    ...     "month": pd.PeriodIndex(["2021-04"] * 4 + ["2021-05"] * 4, freq="M"),
    ...     "crime_group": ["Violence"] * 8,
    ...     "outcome": ["Unable to prosecute suspect", "Offender fined", "Local resolution",
    ...                 "Investigation complete; no suspect identified"] * 2})
    >>> a = attrition(t, by=("crime_group",), period="all")
    >>> shown = a.table[["outcome_group", "crimes", "total", "value"]].round(1)
    >>> print(shown.to_string())  # doctest: +NORMALIZE_WHITESPACE
                                        outcome_group  crimes  total  value
    0                  Charged/summonsed or court outcome       2      8   25.0
    1                               Out-of-court disposal       2      8   25.0
    2  Evidential difficulties - victim support not known       2      8   25.0
    3                               No suspect identified       2      8   25.0
    """
    by = tuple(_ALIASES.get(b, b) for b in by)
    missing = [b for b in by if b not in crimes.columns]
    if missing:
        raise KeyError(
            f"attrition: the crimes table has no column(s) {missing}; its columns are {list(crimes)}"
        )
    bad_pos = sorted(set(positive) - set(OUTCOME_GROUPS))
    if bad_pos:
        raise ValueError(f"attrition: {bad_pos} are not outcome groups; choose from {list(OUTCOME_GROUPS)}")
    data, counts = _prepare(crimes, outcome)
    for b in by:
        if data[b].isna().any():
            fill = "No location" if b in ("district_code", "area_code") else "Not recorded"
            col = data[b]
            if isinstance(col.dtype, pd.CategoricalDtype):
                col = col.cat.add_categories([fill]) if fill not in col.cat.categories else col
            data[b] = col.fillna(fill)
    data["period"] = _period(data["month"], period)
    groups_present = [g for g in OUTCOME_GROUPS if (data["outcome_group"] == g).any()]
    data["outcome_group"] = data["outcome_group"].cat.set_categories(groups_present, ordered=True)
    cohorts = _cohorts(data, maturing_threshold, confidence)
    maturing = set(cohorts.loc[cohorts["maturing"], "month"])
    data["_maturing"] = data["month"].isin(maturing)
    keys = [*by, "period"]
    cells = (
        data.groupby([*keys, "outcome_group"], observed=False, sort=True)
        .size()
        .rename("crimes")
        .reset_index()
    )
    grp = data.groupby(keys, observed=True)
    totals = grp.size().rename("total")
    data["_open"] = (data["outcome_group"] == OPEN_GROUP).astype(float) * 100
    open_share = data.groupby(keys, observed=True)["_open"].mean().rename("pct_open")
    flag = grp["_maturing"].any().rename("maturing")
    cells = cells.merge(pd.concat([totals, open_share, flag], axis=1).reset_index(), on=keys, how="inner")
    cells = stats.proportion(cells, "crimes", "total", confidence, multiplier=100)
    cells = cells[
        [
            *keys,
            "outcome_group",
            "crimes",
            "total",
            "value",
            "lowercl",
            "uppercl",
            "confidence",
            "statistic",
            "method",
            "pct_open",
            "maturing",
        ]
    ]
    mature = data[~data["_maturing"]]
    trend, fitted = _trend(mature, maturing, confidence)
    funnel = None
    pooled = 0.0
    if "district_code" in by:
        located = mature[mature["district_code"] != "No location"]
        f = located.groupby("district_code").agg(crimes=("positive", "size"), positive=("positive", "sum"))
        f = f.reset_index()
        f["positive"] = f["positive"].astype("int64")
        pooled = f["positive"].sum() / max(f["crimes"].sum(), 1)
    if "district_code" in by and 0 < pooled < 1:
        funnel = stats.funnel_flags(f, "positive", "crimes", overdispersion=len(f) >= 5, multiplier=100)
        od = funnel.attrs.get("overdispersion")
        if districts is not None:
            funnel = districts[["district_code", "district_name"]].merge(
                funnel, on="district_code", how="right"
            )
            funnel.attrs["overdispersion"] = od
    method = (
        f"latest police.uk outcome mapped to outcome groups (reference/{_REFERENCE}); shares of crimes "
        f"with an outcome, Wilson {confidence:.0%} intervals; maturing months have more than "
        f"{maturing_threshold:.0%} still under investigation"
    )
    return Attrition(
        cells.reset_index(drop=True),
        cohorts,
        trend,
        fitted,
        funnel,
        counts,
        by,
        period,
        tuple(positive),
        maturing_threshold,
        method,
    )


# --------------------------------------------------------------------------------------------------
# Time to outcome
# --------------------------------------------------------------------------------------------------


@dataclass
class TimeToOutcome:
    """Result of :func:`time_to_outcome`.

    Attributes
    ----------
    table : one row per crime group and measure: ``crimes``, ``events``, ``censored``, ``median_months``,
        ``lowercl``, ``uppercl``, ``pct_closed_12m`` (Kaplan-Meier) or the current-status shares.
    curves : the survival curves (share of cases still without the outcome) by month since the crime, with
        pointwise intervals, one row per crime group, measure and month.
    kind : ``"kaplan-meier"`` (outcome months known) or ``"current status"`` (street files only).
    extract_month : the month open cases are censored at (when the data were extracted).
    counts : rows read, without outcome, with unknown status (left out), used.
    method : how it was made, in words.
    """

    table: pd.DataFrame
    curves: pd.DataFrame
    kind: str
    extract_month: pd.Period
    counts: dict[str, int]
    method: str

    def summary(self) -> str:
        """A few sentences for a policy officer."""
        head = (
            f"Time to outcome ({self.kind}), open cases censored at {self.extract_month}; "
            f"{self.counts['used']:,} crimes used, {self.counts['unknown_status']:,} with no status update "
            "left out."
        )
        if self.kind == "current status":
            head += (
                " Street files give only each crime's latest outcome, not when it was recorded: the curves "
                "show the share of each month's crimes still open at the extract, which estimates the share "
                "still waiting that many months after the crime only if the police handled every month "
                "alike."
            )
        return head + "\nMethod: " + self.method

    def plot(
        self, ax: Axes | None = None, measure: str | None = None, groups: Sequence[str] | None = None
    ) -> Axes:
        """Step curves of the share of cases still waiting, by month since the crime."""
        import matplotlib.pyplot as plt

        from victimneeds.plotting import LINESTYLES, MARKERS, PALETTE, legend_below, page_size

        if ax is None:
            _, ax = plt.subplots(figsize=page_size(3.8))
        curves = self.curves
        measure = measure or str(curves["measure"].iloc[0])
        curves = curves[curves["measure"] == measure]
        groups = list(groups) if groups is not None else list(pd.unique(curves["crime_group"]))
        for i, g in enumerate(groups):
            sub = curves[curves["crime_group"] == g]
            colour = PALETTE[i % len(PALETTE)]
            ax.step(
                sub["months"],
                sub["pct_waiting"],
                where="post",
                color=colour,
                linestyle=LINESTYLES[i % len(LINESTYLES)],
                label=g,
                marker=MARKERS[i % len(MARKERS)],
                ms=3,
                markevery=max(1, len(sub) // 8),
            )
            ax.fill_between(
                sub["months"], sub["lowercl"], sub["uppercl"], step="post", color=colour, alpha=0.12
            )
        ax.axhline(50, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("Months since the crime")
        ax.set_ylabel("Cases still waiting, %")
        ax.set_ylim(0, 100)
        ax.set_title(
            f"Time to {measure} outcome"
            if self.kind == "kaplan-meier"
            else "Share of crimes still open at the extract, by age of the crime"
        )
        legend_below(ax, fontsize=8)
        return ax

    def _repr_html_(self) -> str:
        return "<pre>" + self.summary() + "</pre>"


def _months_between(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    return (later.array.asi8 - earlier.array.asi8).astype(float)


def _km(time: np.ndarray, event: np.ndarray, confidence: float) -> tuple[dict, pd.DataFrame]:
    """Kaplan-Meier via statsmodels; log-log pointwise bands; median interval where the band crosses 50%."""
    sf = sm.SurvfuncRight(time, event.astype(int))
    med = sf.quantile(0.5)
    s = np.asarray(sf.surv_prob)
    lower, upper = stats.survival_band(s, sf.surv_prob_se, confidence)
    times = np.asarray(sf.surv_times, dtype=float)
    # The median's lower limit is where the lower band first falls below 50%; its upper limit where the upper
    # band does (Brookmeyer & Crowley 1982).
    lo = times[lower < 0.5][0] if (lower < 0.5).any() else np.nan
    hi = times[upper < 0.5][0] if (upper < 0.5).any() else np.nan
    curve = pd.DataFrame(
        {
            "months": np.concatenate([[0.0], times]),
            "pct_waiting": 100 * np.concatenate([[1.0], s]),
            "lowercl": 100 * np.concatenate([[1.0], lower]),
            "uppercl": 100 * np.concatenate([[1.0], upper]),
            "at_risk": np.concatenate([[len(time)], sf.n_risk]).astype("int64"),
            "events": np.concatenate([[0], sf.n_events]).astype("int64"),
        }
    )
    at12 = s[times <= 12][-1] if (times <= 12).any() else 1.0
    row = {
        "crimes": len(time),
        "events": int(event.sum()),
        "censored": int(len(time) - event.sum()),
        "median_months": float(med) if med is not None and np.isfinite(med) else np.nan,
        "lowercl": float(lo) if lo is not None and np.isfinite(lo) else np.nan,
        "uppercl": float(hi) if hi is not None and np.isfinite(hi) else np.nan,
        "pct_closed_12m": 100 * (1 - at12) if time.max() >= 12 else np.nan,
    }
    return row, curve


def _kaplan_meier_table(
    sets: list[tuple[str, str, np.ndarray, np.ndarray]], confidence: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, curves = [], []
    for group, measure, time, event in sets:
        if len(time) == 0:
            continue
        row, curve = _km(time, event, confidence)
        rows.append({"crime_group": group, "measure": measure, **row})
        curves.append(curve.assign(crime_group=group, measure=measure))
    table = pd.DataFrame(rows)
    table["confidence"] = f"{confidence:.0%}"
    table["method"] = (
        "Kaplan-Meier (statsmodels SurvfuncRight), months from crime month to outcome month, open "
        "cases censored at the extract month; median = first month the curve falls below 50%, "
        "its interval where the log-log pointwise band crosses 50%"
    )
    curve_table = pd.concat(curves, ignore_index=True)
    return table, curve_table[
        ["crime_group", "measure", *[c for c in curve_table if c not in ("crime_group", "measure")]]
    ]


def time_to_outcome(
    crimes: pd.DataFrame,
    outcomes: pd.DataFrame | None = None,
    by: str = "crime_group",
    extract_month: str | pd.Period | None = None,
    outcome: str = "outcome",
    confidence: float = 0.95,
) -> TimeToOutcome:
    """How long victims wait for an outcome: Kaplan-Meier curves and median months, by crime group.

    Three sources, best first:

    1. ``outcomes`` given (rows of the police.uk outcomes files: ``crime_id``, ``month`` of the outcome,
       ``outcome``): months to the **first** outcome (any outcome other than "Under investigation" or "Status
       update unavailable", e.g. a charge) and to the **final** outcome (a closed status);
    2. ``crimes`` carry ``outcome_month`` (the month of the latest outcome): months to the **final** outcome;
       cases still under investigation or awaiting court are censored at the extract month;
    3. street files only (``outcome_month`` all missing): the **current status** view, the share of each crime
       month's crimes still under investigation at the extract (Wilson intervals), by months since the crime.
       The median is the first lag at which under half are still open. This is all street files can say.

    Parameters
    ----------
    crimes : canonical crimes table (``crime_id``, ``month``, ``outcome``, optional ``outcome_month``).
    outcomes : optional outcomes-file rows, as above.
    by : the grouping column.
    extract_month : when the data were extracted; default the last crime month.
    outcome : column of police.uk outcome categories.
    confidence : interval level.

    Returns
    -------
    :class:`TimeToOutcome`.

    References
    ----------
    Kaplan EL, Meier P (1958). Nonparametric estimation from incomplete observations. JASA 53:457-481.
    Kalbfleisch JD, Prentice RL (2002). The Statistical Analysis of Failure Time Data, 2nd ed. (log-log
    intervals). Brookmeyer R, Crowley J (1982). A confidence interval for the median survival time.
    Biometrics 38:29-41 (the median interval read from the band).
    Jewell NP, van der Laan MJ (2004). Current status data: review, recent developments and open problems.
    Handbook of Statistics 23:625-642.

    Examples
    --------
    >>> t = pd.DataFrame({
    ...     "crime_id": list("abcde"), "crime_group": ["Violence"] * 5,
    ...     "month": pd.PeriodIndex(["2024-01"] * 5, freq="M"),
    ...     "outcome": ["Offender fined", "Local resolution", "Offender fined", "Under investigation",
    ...                 "Unable to prosecute suspect"],
    ...     "outcome_month": pd.PeriodIndex(["2024-02", "2024-03", "2024-05", "2024-01", "2024-04"], freq="M")})
    >>> r = time_to_outcome(t, extract_month="2024-06")
    >>> r.table[["crime_group", "crimes", "events", "median_months"]]
      crime_group  crimes  events  median_months
    0  All crimes       5       4            3.0
    1    Violence       5       4            3.0
    """
    for col in ("month", outcome, by):
        if col not in crimes.columns:
            raise KeyError(f"time_to_outcome: the crimes table has no column {col!r}")
    data, counts = _prepare(crimes, outcome)
    extract = pd.Period(extract_month, "M") if extract_month is not None else data["month"].max()
    unknown = data["case_status"] == "unknown"
    counts["unknown_status"] = int(unknown.sum())
    data = data[~unknown]
    counts["used"] = len(data)
    after = data["month"] > extract
    if after.any():
        raise ValueError(
            f"time_to_outcome: {int(after.sum()):,} crimes are dated after the extract month "
            f"{extract}; give the month the data were extracted"
        )
    groups = [("All crimes", data)] + [(str(g), d) for g, d in data.groupby(by, observed=True)]
    to_extract = {
        name: _months_between(pd.Series(extract, index=d.index, dtype="period[M]"), d["month"])
        for name, d in groups
    }

    if outcomes is not None:
        for col in ("crime_id", "month", outcome):
            if col not in outcomes.columns:
                raise KeyError(f"time_to_outcome: the outcomes table has no column {col!r}")
        o = add_outcome_groups(outcomes, outcome)
        o = o[~o["case_status"].isin(["open", "unknown"])]
        first = o.groupby("crime_id")["month"].min()
        latest = o.sort_values("month").groupby("crime_id").tail(1).set_index("crime_id")
        sets = []
        for name, d in groups:
            t_ext = to_extract[name]
            f_month = d["crime_id"].map(first)
            has_first = f_month.notna().to_numpy()
            t_first = np.where(
                has_first, _months_between(f_month.fillna(extract).astype("period[M]"), d["month"]), t_ext
            )
            last = latest.reindex(d["crime_id"])
            closed = (last["case_status"] == "closed").to_numpy()
            t_final = np.where(
                closed,
                _months_between(
                    last["month"].fillna(extract).astype("period[M]").set_axis(d.index), d["month"]
                ),
                t_ext,
            )
            sets += [
                (name, "first", np.maximum(t_first, 0), has_first),
                (name, "final", np.maximum(t_final, 0), closed),
            ]
        table, curves = _kaplan_meier_table(sets, confidence)
        return TimeToOutcome(
            table,
            curves,
            "kaplan-meier",
            extract,
            counts,
            str(table["method"].iloc[0]) + "; first and final outcomes from the outcomes files",
        )

    has_month = "outcome_month" in data.columns and data["outcome_month"].notna().any()
    if has_month:
        sets = []
        for name, d in groups:
            closed = (d["case_status"] == "closed").to_numpy() & d["outcome_month"].notna().to_numpy()
            t = np.where(
                closed, _months_between(d["outcome_month"].fillna(extract), d["month"]), to_extract[name]
            )
            sets.append((name, "final", np.maximum(t, 0), closed))
        table, curves = _kaplan_meier_table(sets, confidence)
        return TimeToOutcome(
            table,
            curves,
            "kaplan-meier",
            extract,
            counts,
            str(table["method"].iloc[0]) + "; final outcome = latest outcome and its month",
        )

    # Street files only: current status at the extract.
    rows, curves = [], []
    for name, d in groups:
        lag = pd.Series(to_extract[name], index=d.index, name="months")
        still = (d["case_status"] != "closed").rename("waiting")
        c = (
            pd.concat([lag, still], axis=1)
            .groupby("months")
            .agg(crimes=("waiting", "size"), still_waiting=("waiting", "sum"))
            .reset_index()
        )
        c = stats.proportion(c, "still_waiting", "crimes", confidence, multiplier=100)
        c = c.rename(columns={"value": "pct_waiting"}).assign(crime_group=name, measure="current status")
        curves.append(c)
        below = c.loc[c["pct_waiting"] < 50, "months"]
        rows.append(
            {
                "crime_group": name,
                "measure": "current status",
                "crimes": len(d),
                "still_waiting": int(still.sum()),
                "pct_waiting": 100 * float(still.mean()),
                "median_months": float(below.min()) if len(below) else np.nan,
                "months_observed": int(c["months"].max()) if len(c) else 0,
            }
        )
    table = pd.DataFrame(rows)
    method = (
        "current status: share of each crime month's crimes still under investigation or awaiting court "
        "at the extract month (Wilson intervals); street files carry no outcome months, so no "
        "Kaplan-Meier curve; median = first lag with under half still waiting"
    )
    table["confidence"] = f"{confidence:.0%}"
    table["method"] = method
    curves_t = pd.concat(curves, ignore_index=True)
    curves_t = curves_t[
        ["crime_group", "measure", "months", "crimes", "still_waiting", "pct_waiting", "lowercl", "uppercl"]
    ]
    return TimeToOutcome(table, curves_t, "current status", extract, counts, method)
