"""Every stage of the victim's path and every survey measure over time, and every outcome by group.

One place that turns the shared engine of :mod:`victimneeds.compare` into what each section shows:

* :func:`pathway_charts`: a control chart (p-chart with Laney's allowance for over-dispersion, and the
  sustained-shift rules) for each stage from crime to support: needs assessment done, need found, consent,
  police referral among those the Victims' Code says should be referred, contact made, support accepted;
* :func:`survey_charts`: the same for each satisfaction stage and each Victims' Code right in the survey;
* :func:`breakdown`: rates, unadjusted and adjusted odds ratios and trends for several yes/no outcomes at once,
  by the usual breakdowns (sex, age band, ethnicity, disability, district, crime group, risk and support level),
  with Benjamini-Hochberg across the whole family;
* :func:`charts_table`, :func:`chart_findings` and :func:`plot_charts` to publish them.

A measure the inputs cannot support (its column is missing or empty) is left out and named in ``notes``, never
shown as zero.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from victimneeds import compare
from victimneeds.datamodel import SATISFACTION_STAGES, VICTIMS_CODE_RIGHTS
from victimneeds.plotting import CODE_RIGHTS_SHORT, MIN_FONT, PAGE_WIDTH, thin_ticks

__all__ = ["Charts", "pathway_charts", "survey_charts", "charts_table", "shifts", "chart_findings", "plot_charts",
           "Breakdown", "breakdown"]


@dataclass
class Charts:
    """Control charts by measure, and the measures left out with the reason."""

    charts: dict[str, compare.ControlChart]
    notes: list[str] = field(default_factory=list)


def _flag(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.Series(pd.array(frame[column], dtype="boolean"), index=frame.index)


def _usable(frame: pd.DataFrame, column: str) -> bool:
    return column in frame and frame[column].notna().any()


def _chart(table: pd.DataFrame, outcome: str, date: str, period: str, min_periods: int) -> compare.ControlChart | None:
    sub = table.loc[table[outcome].notna() & table[date].notna(), [outcome, date]]
    if sub.empty:
        return None
    chart = compare.control_chart(sub, outcome, date, period=period)
    return chart if len(chart.table) >= min_periods else None


def pathway_charts(crimes: pd.DataFrame, referrals: pd.DataFrame | None = None, period: str = "M",
                   min_periods: int = 6) -> Charts:
    """A control chart for each stage of the victim's path, by month of the crime (or of the referral).

    Stages and denominators: needs assessment done (victims identified), need found (assessed), consent to
    referral (need found), referred by police (need found and consent given: the Victims' Code denominator, see
    :func:`victimneeds.referrals.referral_outcomes`), contact made (referrals, by referral month), support
    accepted (contact made).
    """
    charts: dict[str, compare.ControlChart] = {}
    notes: list[str] = []
    steps = (
        ("Needs assessment done", "needs_assessment_done", "victim_identified"),
        ("Need for support found", "need_identified", "needs_assessment_done"),
        ("Consent to referral", "consent_to_refer", "need_identified"),
    )
    for label, column, among in steps:
        if not (_usable(crimes, column) and _usable(crimes, among)):
            notes.append(f"{label}: not available (the crimes table has no {column!r} or {among!r} values).")
            continue
        base = crimes.loc[_flag(crimes, among).fillna(False).to_numpy(dtype=bool), [column, "month"]]
        chart = _chart(base.assign(**{column: _flag(base, column)}), column, "month", period, min_periods)
        if chart is None:
            notes.append(f"{label}: not available (fewer than {min_periods} periods with data).")
        else:
            chart.outcome = label
            charts[label] = chart
    if referrals is not None and _usable(crimes, "need_identified"):
        from victimneeds.referrals import referral_outcomes

        eligible = referral_outcomes(crimes, referrals)
        chart = _chart(eligible, "referred", "month", period, min_periods)
        if chart is not None:
            chart.outcome = "Referred by police (need and consent)"
            charts[chart.outcome] = chart
    elif referrals is None:
        notes.append("Police referral, contact and support: not available (no referrals table).")
    if referrals is not None and "referral_date" in referrals:
        for label, column, among in (("Contact made", "contact_made", None),
                                     ("Support accepted", "support_accepted", "contact_made")):
            if not _usable(referrals, column):
                notes.append(f"{label}: not available (the referrals table has no {column!r} values).")
                continue
            base = referrals if among is None else referrals.loc[_flag(referrals, among).fillna(False).to_numpy(
                dtype=bool)]
            base = base[[column, "referral_date"]].assign(**{column: _flag(base, column)})
            chart = _chart(base, column, "referral_date", period, min_periods)
            if chart is not None:
                chart.outcome = label
                charts[label] = chart
    return Charts(charts, notes)


def survey_charts(survey: pd.DataFrame, period: str = "Q", min_periods: int = 4) -> Charts:
    """A control chart for each satisfaction stage and each Victims' Code right asked in the survey, by quarter."""
    charts: dict[str, compare.ControlChart] = {}
    notes: list[str] = []
    measures = {f"Satisfied: {s.replace('_', ' ')}": f"satisfied_{s}" for s in SATISFACTION_STAGES}
    measures.update({f"Code right {k}: {VICTIMS_CODE_RIGHTS[k][:60]}": f"code_right_{k}" for k in VICTIMS_CODE_RIGHTS})
    for label, column in measures.items():
        if not _usable(survey, column):
            notes.append(f"{label}: not available (no answers in the survey).")
            continue
        base = survey[[column, "response_date"]].assign(**{column: _flag(survey, column)})
        chart = _chart(base, column, "response_date", period, min_periods)
        if chart is None:
            notes.append(f"{label}: not available (fewer than {min_periods} periods with answers).")
            continue
        chart.outcome = label
        charts[label] = chart
    return Charts(charts, notes)


def charts_table(charts: Charts) -> pd.DataFrame:
    """One row per measure and period: ``measure, period, n, events, value, centre, lower, upper, signal``."""
    rows = []
    for label, chart in charts.charts.items():
        t = chart.table[["period", "n", "events", "value", "centre", "lower", "upper", "signal"]].copy()
        t.insert(0, "measure", label)
        t["period"] = t["period"].astype(str)
        rows.append(t)
    columns = ["measure", "period", "n", "events", "value", "centre", "lower", "upper", "signal"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)


def shifts(
    charts: Charts, min_change: float = 5.0, fdr: float = compare.GAPS_FDR, min_periods: int = 2, n_sim: int = 4999,
    seed: int = 20240401, alpha: float = compare.GAPS_ALPHA,
) -> pd.DataFrame:
    """The chart signals tested as one family: which are sustained shifts worth reporting.

    A control chart's rules (a point beyond the limits, a run on one side, two of three beyond the warning
    limit) flag something to look at in each chart; across many charts and many periods some flag by chance.
    A signal's periods become a *finding* only when all of these hold:

    * it spans at least ``min_periods`` consecutive periods (a sustained shift, not one odd month);
    * the pooled rate over those periods differs from the pooled rate of the other periods by at least
      ``min_change`` percentage points (a change large enough to matter for commissioning);
    * the difference is significant after Benjamini-Hochberg across the family (``fdr``): every signal of every
      chart, with each chart that gave no signal counted as a test that found nothing; **and** its own p-value is
      below ``alpha`` (0.002, the 99.8% level), as in :func:`victimneeds.referrals.gaps_found`. Benjamini-Hochberg
      alone controls the share of findings that are chance, which lets a chance signal through when real shifts
      sit in the same family (seen on the independent test bed). The p-value is that of a scan statistic: the
      chart rules pick the periods *because* they look extreme, so a plain z-test of those periods against the
      rest overstates the evidence (on an independent test bed with nothing planted it reported 2-month "shifts"
      with q < 0.001). Instead the signal's z (the difference on Laney's over-dispersed standard error) is
      compared with the largest |z| over **every** run of at least ``min_periods`` consecutive periods, in
      ``n_sim`` series simulated from the chart's in-control model (the overall rate, binomial variation times
      sigma_z floored at 1 as in the chart's limits, each period's own number of cases);
    * it is the most recent such signal of its measure (a fall after a steady period also shows the steady
      period as a "rise" against the fall; only the latest is the finding).

    Returns one row per signal: ``measure, rule, start, end, periods, n, rate, other_periods, change, z, lowercl,
    uppercl`` (a 95% interval for the rate over the signal's periods, on the same over-dispersed standard
    error), ``p_value`` (the scan statistic's Monte Carlo p-value, at least 1 / (n_sim + 1)), ``q_value``,
    ``finding`` and a ``sentence`` for the findings. ``seed`` fixes the simulation, so a re-run gives the
    same table.

    References
    ----------
    Kulldorff M (1997). A spatial scan statistic. Communications in Statistics - Theory and Methods
    26:1481-1496 (the maximum over windows, with a Monte Carlo p-value). Laney DB (2002). Improved control
    charts for attributes. Quality Engineering 14:531-537.
    """
    rows = []
    for k, (label, chart) in enumerate(charts.charts.items()):
        t = chart.table.reset_index(drop=True)
        labels = t["period"].astype(str).tolist()
        null_max = None
        if len(chart.findings):
            null_max = _scan_null_max(t["n"].to_numpy(dtype=float), float(t["events"].sum() / t["n"].sum()),
                                      max(1.0, chart.sigma_z), min_periods, n_sim,
                                      np.random.default_rng([seed, k]))
        segments = [(labels.index(str(f.start)), labels.index(str(f.end)), f.rule)
                    for f in chart.findings.itertuples(index=False)]
        # A run before a late change (the early periods sitting on one side of a centre line that the later
        # periods pulled down) is the same change seen from its other side; the periods after the run are
        # tested too, so the latest change is reported as itself, not as an earlier "rise".
        last = len(t) - 1
        seen = {(i, j) for i, j, _ in segments}
        for _i, j, _ in list(segments):
            if j < last and last - j >= min_periods and (j + 1, last) not in seen:
                seen.add((j + 1, last))
                segments.append((j + 1, last, "periods after a run"))
        for i, j, rule in segments:
            part = t.iloc[i:j + 1]
            rest = t.drop(index=range(i, j + 1))
            n, events = float(part["n"].sum()), float(part["events"].sum())
            n_rest, events_rest = float(rest["n"].sum()), float(rest["events"].sum())
            rate = 100 * events / n if n else np.nan
            other = 100 * events_rest / n_rest if n_rest else np.nan
            pooled = (events + events_rest) / (n + n_rest) if n + n_rest else np.nan
            ok = n > 0 and n_rest > 0 and 0 < pooled < 1
            # Laney's sigma_z floored at 1, as the chart's own limits are: an estimate below 1 from a few
            # moving ranges is noise, and would make every z larger than the binomial allows
            sz = max(1.0, chart.sigma_z)
            se_diff = (sz * np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / n_rest)) * 100) if ok else np.nan
            se_rate = (sz * np.sqrt(pooled * (1 - pooled) / n) * 100) if ok else np.nan
            z = (rate - other) / se_diff if ok else np.nan
            rows.append({"measure": label, "rule": rule, "start": labels[i], "end": labels[j],
                         "periods": j - i + 1, "n": int(n), "rate": rate, "other_periods": other,
                         "change": rate - other, "z": z,
                         "lowercl": rate - 1.959964 * se_rate if ok else np.nan,
                         "uppercl": rate + 1.959964 * se_rate if ok else np.nan,
                         "p_value": float((1 + np.sum(null_max >= abs(z))) / (n_sim + 1))
                         if np.isfinite(z) and null_max is not None else np.nan,
                         "order": j, "first": i})
    columns = ["measure", "rule", "start", "end", "periods", "n", "rate", "other_periods", "change", "z",
               "lowercl", "uppercl", "p_value", "order", "first"]
    table = pd.DataFrame(rows, columns=columns)
    if table.empty:
        return table.assign(q_value=[], finding=[], sentence=[])
    p = table["p_value"].to_numpy(dtype=float)
    q = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    # the family is every chart, signalling or not: a chart with no signal is a test that found nothing
    # (p = 1), so one lone signal among many charts is not judged as if it were the only test made
    quiet = max(0, len(charts.charts) - table.loc[ok, "measure"].nunique())
    q[ok] = compare.benjamini_hochberg(np.concatenate([p[ok], np.ones(quiet)]))[: int(ok.sum())]
    table["q_value"] = q
    passes = (ok & (q <= fdr) & (p < alpha) & (table["periods"] >= min_periods)
              & (table["change"].abs() >= min_change))
    # The periods after a run stand for a late change only when no passing shift of their own overlaps them
    # (they would otherwise swallow a shorter shift within them, such as a four-month fall).
    passes = np.array(passes, dtype=bool)
    tail = (table["rule"] == "periods after a run").to_numpy()
    measure, first, order = table["measure"].to_numpy(), table["first"].to_numpy(), table["order"].to_numpy()
    for r in np.flatnonzero(tail & passes):
        inner = ~tail & passes & (measure == measure[r]) & (first <= order[r]) & (order >= first[r])
        if inner.any():
            passes[r] = False
    # One finding per measure: the most recent shift that passes (the earlier periods it is compared with
    # would otherwise be reported as the opposite shift); among shifts ending in the same period, the clearest.
    ranked = table.assign(abs_z=table["z"].abs()).loc[passes].sort_values(["order", "abs_z"])
    newest = ranked.groupby("measure").tail(1).index
    table["finding"] = False
    table.loc[newest, "finding"] = True
    table = table.drop(columns=["order", "first"])
    table["sentence"] = [
        f"{r.measure}: {r.rate:.1f}% (95% interval {r.lowercl:.1f}% to {r.uppercl:.1f}%) from {r.start} to {r.end} "
        f"({r.periods} periods) against {r.other_periods:.1f}% in the other periods, a "
        f"{'fall' if r.change < 0 else 'rise'} of {abs(r.change):.1f} percentage points "
        f"(sustained shift; q = {r.q_value:.3f})" for r in table.itertuples(index=False)]
    return table


def _scan_null_max(
    n: np.ndarray, p: float, sigma_z: float, min_periods: int, n_sim: int, rng: np.random.Generator
) -> np.ndarray:
    """The largest |z| over every run of at least ``min_periods`` consecutive periods (and not all of them), in
    ``n_sim`` series simulated from the in-control chart: events_t = n_t p + sigma_z sqrt(n_t p (1 - p)) e_t.

    z is the run's rate minus the other periods' rate over sigma_z sqrt(p (1 - p) (1 / n_run + 1 / n_rest)),
    as :func:`shifts` computes it for a signal.
    """
    t = len(n)
    if not 0 < p < 1 or t < 2:
        return np.full(n_sim, np.inf)
    i, j = np.triu_indices(t + 1, k=min_periods)  # run = periods i .. j - 1
    keep = (j - i) < t
    i, j = i[keep], j[keep]
    if not len(i):
        return np.full(n_sim, np.inf)
    cn = np.concatenate([[0.0], np.cumsum(n)])
    n_run, n_all = cn[j] - cn[i], cn[-1]
    n_rest = n_all - n_run
    se = sigma_z * np.sqrt(p * (1 - p) * (1 / n_run + 1 / n_rest))
    out = np.empty(n_sim)
    for lo in range(0, n_sim, 250):  # in blocks, to bound memory for long series
        e = rng.standard_normal((min(250, n_sim - lo), t))
        x = sigma_z * np.sqrt(n * p * (1 - p)) * e  # events minus their expectation
        cx = np.concatenate([np.zeros((len(e), 1)), np.cumsum(x, axis=1)], axis=1)
        x_run = cx[:, j] - cx[:, i]
        x_rest = cx[:, -1:] - x_run
        out[lo:lo + len(e)] = np.abs((x_run / n_run - x_rest / n_rest) / se).max(axis=1)
    return out


def chart_findings(charts: Charts, **rule: float) -> list[str]:
    """The sustained shifts that pass :func:`shifts`' family rule, one sentence each, naming the measure."""
    table = shifts(charts, **rule)
    return table.loc[table["finding"], "sentence"].tolist() if len(table) else []


def plot_charts(charts: Charts, ncols: int = 2, title: str | None = None) -> Figure:
    """Small multiples of the control charts, one panel per measure, drawn at the Word page width.

    Panels are named shortly (a Victims' Code right by its number and a few words), show a few period labels
    each, and share one legend under the panels.
    """
    n = max(1, len(charts.charts))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(PAGE_WIDTH, 1.5 * nrows + 1.0), squeeze=False)
    for ax, (label, chart) in zip(axes.ravel(), charts.charts.items(), strict=False):
        chart.plot(ax=ax)
        ax.set_title(_panel_title(label, int(PAGE_WIDTH * 72 / ncols / 5.2)), fontsize=MIN_FONT)
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
        for line in ax.get_lines():
            line.set_markersize(2.5)
            line.set_linewidth(min(line.get_linewidth(), 1.2))
        for collection in ax.collections:
            collection.set_sizes([16])
        ax.set_ylabel("%", fontsize=MIN_FONT)
        ax.tick_params(labelsize=MIN_FONT)
        thin_ticks(ax, "x", max_labels=max(2, 6 // ncols + 1))
    for ax in axes.ravel()[len(charts.charts):]:
        ax.set_visible(False)
    if charts.charts:
        handles, labels = axes.ravel()[0].get_legend_handles_labels()
        signal = [a for a in axes.ravel()[: len(charts.charts)] if "Signal" in a.get_legend_handles_labels()[1]]
        if signal and "Signal" not in labels:
            more_h, more_l = signal[0].get_legend_handles_labels()
            handles, labels = handles + [more_h[more_l.index("Signal")]], labels + ["Signal"]
        labels = ["Percentage" if i == 0 else lab for i, lab in enumerate(labels)]
        # Anchored in figure coordinates (not to the figure's box, which a tight save moves), so a note put
        # under the figure stays under the legend.
        fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.0), bbox_transform=fig.transFigure,
                   ncol=min(5, len(labels)), frameon=False, fontsize=MIN_FONT)
    if title:
        fig.suptitle(title, fontsize=10, fontweight="bold", x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0.7 / fig.get_size_inches()[1], 1, 0.98), h_pad=0.6, w_pad=0.6)
    return fig


def _panel_title(label: str, width: int) -> str:
    """A panel's title: "Right 4 Referral to support" for a Victims' Code right, else the label, shortened."""
    found = re.match(r"Code right (\d+)", label)
    if found and int(found.group(1)) in CODE_RIGHTS_SHORT:
        label = f"Right {found.group(1)} {CODE_RIGHTS_SHORT[int(found.group(1))]}"
    lines = textwrap.wrap(label, width)
    return "\n".join(lines[:2]) + ("\u2026" if len(lines) > 2 else "")


def _identifiable(table: pd.DataFrame, columns: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split breakdowns into those one model can adjust together and those nested in the others.

    A column whose levels (with "not recorded" as a level) are fixed by the columns before it, such as a risk
    level recorded only for domestic abuse beside the crime group, makes the adjusted model unidentifiable: its
    odds ratios would be arbitrary. Such columns are set aside in order, by the rank of the design matrix.
    """
    design = np.ones((len(table), 1))
    joint, nested = [], []
    for column in columns:
        levels = table[column].astype(object).where(table[column].notna(), "__missing__").astype(str)
        dummies = pd.get_dummies(levels, drop_first=True).to_numpy(dtype=float)
        if dummies.shape[1] == 0:
            continue
        trial = np.column_stack([design, dummies])
        if np.linalg.matrix_rank(trial) < trial.shape[1]:
            nested.append(column)
        else:
            design = trial
            joint.append(column)
    return joint, nested


@dataclass
class Breakdown:
    """Rates and odds ratios for several outcomes by the same breakdowns, with one family of tests."""

    rates: pd.DataFrame
    odds_ratios: pd.DataFrame
    trend: pd.DataFrame
    comparisons: dict[str, compare.Comparison]
    notes: list[str] = field(default_factory=list)

    def findings(self) -> list[str]:
        """Comparisons that pass the family's Benjamini-Hochberg rule, one sentence each."""
        out = []
        for r in self.odds_ratios[self.odds_ratios["finding_family"]].itertuples(index=False):
            word = "less" if r.odds_ratio < 1 else "more"
            out.append(
                f"{r.outcome}: {r.level} ({r.covariate.replace('_', ' ')}) {word} likely than {r.reference}, "
                f"adjusted odds ratio {r.odds_ratio:.2f} (95% interval {r.lower:.2f} to {r.upper:.2f}; "
                f"q = {r.q_family:.3f})")
        return out


def breakdown(table: pd.DataFrame, outcomes: Mapping[str, str], by: Sequence[str] | None = None,
              time: str | None = None, weights: str | None = None, fdr: float = compare.GAPS_FDR,
              period: str = "Q", alpha: float = compare.GAPS_ALPHA) -> Breakdown:
    """Compare several yes/no outcomes of one table by the same breakdowns (:func:`victimneeds.compare.compare`).

    ``outcomes`` maps a label to a boolean column. Rates, odds ratios and trends are stacked with an
    ``outcome`` column; the adjusted odds ratios of all outcomes form one family, whose Benjamini-Hochberg
    q-values (``q_family``) decide ``finding_family``, together with an interval that excludes 1 and a p-value
    below ``alpha`` (0.002, the 99.8% level: the rule of :func:`victimneeds.referrals.gaps_found`, so a chance
    difference does not ride in on the real ones a false discovery rate allows). An outcome with no answers is
    left out and named.
    """
    rates, ors, trends, comps, notes = [], [], [], {}, []
    columns = [c for c in (by or compare.BREAKDOWNS) if c in table and table[c].notna().any()]
    joint, nested = _identifiable(table, columns)
    for column in nested:
        notes.append(f"{column.replace('_', ' ')} is recorded only where another breakdown fixes it (for example "
                     "risk level for domestic abuse alone), so it is compared among the records that have it, not "
                     "adjusted alongside the others.")
    for label, column in outcomes.items():
        if not _usable(table, column):
            notes.append(f"{label}: not available (no {column!r} values).")
            continue
        frame = table.assign(**{column: _flag(table, column)})
        parts = [compare.compare(frame, column, by=joint, time=time, weights=weights, period=period, fdr=fdr)]
        for extra in nested:
            recorded = frame[frame[extra].notna()]
            if recorded[column].notna().sum() and recorded[extra].nunique() > 1:
                parts.append(compare.compare(recorded, column, by=[extra], time=None, weights=weights,
                                             period=period, fdr=fdr))
        comp = parts[0]
        comp.outcome = label
        comps[label] = comp
        for part in parts:
            rates.append(part.rates.assign(outcome=label))
            ors.append(part.odds_ratios.assign(outcome=label))
            trends.append(part.trend.assign(outcome=label))
            notes += [f"{label}: {n}" for n in part.notes]
    odds = pd.concat(ors, ignore_index=True) if ors else pd.DataFrame(
        columns=["outcome", "covariate", "level", "reference", "odds_ratio", "lower", "upper", "p_value"])
    if len(odds):
        p = odds["p_value"].to_numpy(dtype=float)
        q = np.full(len(p), np.nan)
        ok = np.isfinite(p)
        q[ok] = compare.benjamini_hochberg(p[ok])
        odds["q_family"] = q
        excludes_one = ((odds["upper"] < 1) | (odds["lower"] > 1)).to_numpy(dtype=bool)
        odds["finding_family"] = compare.gaps_rule(p, fdr, alpha) & excludes_one
    else:
        odds["q_family"], odds["finding_family"] = [], []
    return Breakdown(
        rates=pd.concat(rates, ignore_index=True) if rates else pd.DataFrame(),
        odds_ratios=odds,
        trend=pd.concat(trends, ignore_index=True) if trends else pd.DataFrame(),
        comparisons=comps,
        notes=notes,
    )
