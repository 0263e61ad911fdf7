"""Timeliness: working days from referral to first contact (Kaplan-Meier).

Part of :mod:`victimneeds.referrals`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from statsmodels.duration.survfunc import SurvfuncRight

from victimneeds import stats
from victimneeds.plotting import PALETTE, legend_below, page_size

#: Columns that both the crimes and the referrals table carry, by which the pathway can be split.
from victimneeds.referrals.core import (
    _as_list,
    _keys,
    _labels,
    _need_columns,
    _text,
)

# --------------------------------------------------------------------------------------------------
# 4. Timeliness: referral to first contact (Kaplan-Meier)
# --------------------------------------------------------------------------------------------------


@dataclass
class ContactTimes:
    """Working days from referral to first contact attempt, by group (see :func:`contact_times`).

    Attributes
    ----------
    table : one row per group: ``referrals, contacted, censored, median_days, median_lower, median_upper,
        within_<d>_days`` with ``_lower``/``_upper`` (percentages), ``method``.
    curves : the Kaplan-Meier curves, one row per group and time: ``days, share_contacted``.
    """

    table: pd.DataFrame
    curves: pd.DataFrame
    by: list[str]
    limits: tuple[int, ...]
    overall: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        lines = ["Working days from referral to first contact attempt (Kaplan-Meier, open cases censored)"]
        for r in self.table.to_dict("records"):
            name = ", ".join(str(r[c]) for c in self.by) or "All referrals"
            within = "; ".join(f"{r[f'within_{d}_days']:.0f}% within {d}" for d in self.limits)
            lines.append(f"{name:<32} n={r['referrals']:>7,} median {r['median_days']:.0f} days; {within}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax: Axes | None = None, max_days: int = 20) -> Axes:
        """Step curves of the share contacted by each working day, with the Victims' Code times marked."""
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(4.2))
        groups = self.curves.groupby("group", sort=False)
        for i, (name, g) in enumerate(groups):
            g = g[g["days"] <= max_days]
            ax.step(
                np.r_[0, g["days"]],
                np.r_[0, g["share_contacted"]],
                where="post",
                color=PALETTE[i % 6],
                linestyle=["-", "--", "-.", ":"][i % 4],
                label=str(name),
            )
        for d in self.limits:
            ax.axvline(d, color=PALETTE[4], linewidth=0.8, linestyle=":")
            ax.text(d, 101, f"{d} days", ha="center", fontsize=8)
        ax.set_xlim(0, max_days)
        ax.set_ylim(0, 105)
        ax.set_xlabel("Working days since referral")
        ax.set_ylabel("% with a first contact attempt")
        ax.set_title("How quickly do services first contact victims?")
        legend_below(ax, fontsize=8)
        return ax


def _km_share(sf: SurvfuncRight, t: float, confidence: float) -> tuple[float, float, float]:
    """1 - S(t) with a log(-log) interval (:func:`victimneeds.stats.survival_band`), in percent."""
    times = np.asarray(sf.surv_times)
    idx = np.searchsorted(times, t, side="right") - 1
    if idx < 0:
        return 0.0, 0.0, 0.0
    s = float(sf.surv_prob[idx])
    lo_s, hi_s = stats.survival_band([s], [float(sf.surv_prob_se[idx])], confidence)
    return 100 * (1 - s), 100 * (1 - float(hi_s[0])), 100 * (1 - float(lo_s[0]))


def contact_times(
    referrals: pd.DataFrame,
    by: str | Sequence[str] | None = "service",
    extract_date: str | pd.Timestamp | None = None,
    limits: Sequence[int] = (2, 5),
    confidence: float = 0.95,
) -> ContactTimes:
    """Time from referral to first contact attempt in working days, by Kaplan-Meier, with open cases censored.

    Working days are counted Monday to Friday (:func:`numpy.busday_count`, no bank holidays). A referral with
    no first contact is censored at its closure date, or at the extract date while the case is open; so a
    referral made last week counts for the days it has been open, not as a failure. The Victims' Code (Right
    4) expects referral within 2 working days, and within 5 for some victims; the share contacted within each
    of ``limits`` is 1 - S(t), with a log(-log) interval from Greenwood's variance.

    Parameters
    ----------
    referrals : the canonical referrals table.
    by : column(s) to compare (``service`` by default, or ``district_code``), or None.
    extract_date : when the data were extracted; default the latest date in the table.
    limits : working days at which to report the share contacted.
    confidence : level of the intervals.

    Returns
    -------
    ContactTimes

    References
    ----------
    Kaplan EL, Meier P (1958). Nonparametric estimation from incomplete observations. JASA 53:457-481.
    Kalbfleisch JD, Prentice RL (2002). The Statistical Analysis of Failure Time Data, 2nd ed. Wiley.

    Examples
    --------
    Referred on Monday 1 April 2024: contacted the same day, Tuesday, Thursday and Friday; one case closed on
    Wednesday without contact (censored at 2 working days). Kaplan-Meier: S(0) = 4/5, S(1) = 3/5, S(3) = 3/10,
    so 40% are contacted within 2 working days and the median is 3.

    >>> refs = pd.DataFrame({"service": ["A"] * 5,
    ...     "referral_date": pd.to_datetime(["2024-04-01"] * 5),
    ...     "first_contact_date": pd.to_datetime(["2024-04-01", "2024-04-02", "2024-04-04", "2024-04-05", None]),
    ...     "closed_date": pd.to_datetime([None, None, None, None, "2024-04-03"])})
    >>> ct = contact_times(refs, extract_date="2024-05-01")
    >>> ct.table[["service", "referrals", "contacted", "censored", "median_days", "within_2_days"]].round(1)
      service  referrals  contacted  censored  median_days  within_2_days
    0       A          5          4         1          3.0           40.0
    """
    by_cols = _as_list(by)
    _need_columns(
        referrals, ["referral_date", "first_contact_date", "closed_date", *by_cols], "referrals", "contact_times"
    )
    start = pd.to_datetime(referrals["referral_date"]).to_numpy().astype("datetime64[D]")
    contact = pd.to_datetime(referrals["first_contact_date"])
    closed = pd.to_datetime(referrals["closed_date"])
    if extract_date is None:
        extract = max(
            pd.to_datetime(referrals[c]).max() for c in ("referral_date", "first_contact_date", "closed_date")
        )
    else:
        extract = pd.Timestamp(extract_date)
    end = contact.fillna(closed).fillna(extract).to_numpy().astype("datetime64[D]")
    bad = end < start
    if bad.any():
        raise ValueError(
            f"contact_times: {int(bad.sum())} referrals have a first contact or closure before the "
            f"referral date (rows {list(referrals.index[bad][:5])}); check the dates"
        )
    days = np.busday_count(start, end).astype(float)
    event = contact.notna().to_numpy()
    groups = {c: _text(_labels(referrals[c])) for c in by_cols}
    keys = _keys(referrals, by_cols, "All referrals")
    rows, curves = [], []
    for key in np.unique(keys):
        mask = keys == key
        sf = SurvfuncRight(days[mask], event[mask].astype(int))
        med = float(sf.quantile(0.5)) if event[mask].any() else np.nan
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                med_lo, med_hi = (float(v) for v in sf.quantile_ci(0.5, alpha=1 - confidence))
            except (ValueError, ZeroDivisionError, IndexError):
                med_lo, med_hi = np.nan, np.nan
        row = {c: groups[c][mask][0] for c in by_cols}
        row.update(
            {
                "referrals": int(mask.sum()),
                "contacted": int(event[mask].sum()),
                "censored": int((~event[mask]).sum()),
                "median_days": med,
                "median_lower": med_lo,
                "median_upper": med_hi,
            }
        )
        for d in limits:
            v, lo, hi = _km_share(sf, d, confidence)
            row.update({f"within_{d}_days": v, f"within_{d}_days_lower": lo, f"within_{d}_days_upper": hi})
        rows.append(row)
        curves.append(
            pd.DataFrame(
                {
                    "group": key,
                    "days": np.asarray(sf.surv_times),
                    "share_contacted": 100 * (1 - np.asarray(sf.surv_prob)),
                }
            )
        )
    sf_all = SurvfuncRight(days, event.astype(int))
    overall = {"referrals": float(len(days))}
    for d in limits:
        v, lo, hi = _km_share(sf_all, d, confidence)
        overall.update({f"within_{d}_days": v, f"within_{d}_days_lower": lo, f"within_{d}_days_upper": hi})
    table = pd.DataFrame(rows)
    table["confidence"] = f"{confidence:.0%}"
    table["method"] = (
        "Kaplan-Meier (statsmodels SurvfuncRight), working days Mon-Fri; censored at closure or "
        f"extract date {extract:%d %B %Y}; log(-log) Greenwood intervals"
    )
    return ContactTimes(
        table=table,
        curves=pd.concat(curves, ignore_index=True),
        by=by_cols,
        limits=tuple(int(d) for d in limits),
        overall=overall,
    )
