"""Onward referrals to specialist services, and referral demand against commissioned capacity.

Part of :mod:`victimneeds.referrals`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from victimneeds import compare, stats

#: Columns that both the crimes and the referrals table carry, by which the pathway can be split.
from victimneeds.referrals.core import (
    _flag,
    _labels,
    _need_columns,
    _text,
)

# --------------------------------------------------------------------------------------------------
# 6. Onward referrals and capacity
# --------------------------------------------------------------------------------------------------


def onward_acceptance(
    referrals: pd.DataFrame,
    busy_quantile: float = 0.75,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Do onward referrals to specialist services fail at busy times?

    For each specialist service (``onward_referral``), the share of onward referrals it accepted
    (``onward_accepted``) in its **busy months** (months whose onward referrals to it are above its
    ``busy_quantile`` of months) and in its other months, each with a Wilson interval, and the difference
    (busy minus other, percentage points) with Newcombe's interval and a two-sided test.

    Parameters
    ----------
    referrals : canonical referrals with ``referral_date``, ``onward_referral`` and ``onward_accepted``.
    busy_quantile : months above this quantile of a service's monthly onward referrals count as busy.
    confidence : level of the intervals.

    Returns
    -------
    One row per specialist service: ``onward_referral, busy_months, referrals_busy, accepted_busy, pct_busy,
    pct_busy_lower, pct_busy_upper, referrals_other, accepted_other, pct_other, pct_other_lower,
    pct_other_upper, difference, difference_lower, difference_upper, p_value, finding, method``. Onward
    referrals with no recorded acceptance are left out (their number is in ``.attrs["no_answer"]``).

    References
    ----------
    Wilson EB (1927). JASA 22:209-212. Newcombe RG (1998). Statistics in Medicine 17:873-890.

    Examples
    --------
    >>> refs = pd.DataFrame({
    ...     "referral_date": pd.to_datetime(["2024-01-05"] * 4 + ["2024-02-05"] * 8 + ["2024-03-05"] * 4),
    ...     "onward_referral": ["ISVA"] * 16,
    ...     "onward_accepted": [True] * 4 + [True] * 4 + [False] * 4 + [True, True, True, False]})
    >>> t = onward_acceptance(refs, busy_quantile=0.5)
    >>> t[["busy_months", "referrals_busy", "accepted_busy", "referrals_other", "accepted_other"]].to_dict("records")
    [{'busy_months': 1, 'referrals_busy': 8, 'accepted_busy': 4, 'referrals_other': 8, 'accepted_other': 7}]
    """
    _need_columns(referrals, ["referral_date", "onward_referral", "onward_accepted"], "referrals",
                  "onward_acceptance")
    target = referrals["onward_referral"].astype("string")
    made = (target.notna() & (target != "None")).to_numpy(dtype=bool)
    answered = made & referrals["onward_accepted"].notna().to_numpy()
    work = pd.DataFrame({
        "onward_referral": target[made].astype(str),
        "month": pd.to_datetime(referrals["referral_date"][made]).dt.to_period("M"),
        "accepted": pd.array(referrals["onward_accepted"][made], dtype="boolean"),
    })
    monthly = work.groupby(["onward_referral", "month"]).size().rename("volume").reset_index()
    cut = monthly.groupby("onward_referral")["volume"].quantile(busy_quantile).rename("cut")
    monthly = monthly.join(cut, on="onward_referral")
    monthly["busy"] = monthly["volume"] > monthly["cut"]
    work = work.merge(monthly[["onward_referral", "month", "busy"]], on=["onward_referral", "month"], how="left")
    work = work[work["accepted"].notna()]
    rows = []
    for name, part in work.groupby("onward_referral", sort=True):
        busy, other = part[part["busy"]], part[~part["busy"]]
        rows.append({
            "onward_referral": name,
            "busy_months": int(monthly.loc[(monthly["onward_referral"] == name) & monthly["busy"], "month"].nunique()),
            "referrals_busy": len(busy), "accepted_busy": int(busy["accepted"].sum()),
            "referrals_other": len(other), "accepted_other": int(other["accepted"].sum()),
        })
    table = pd.DataFrame(rows, columns=["onward_referral", "busy_months", "referrals_busy", "accepted_busy",
                                        "referrals_other", "accepted_other"])
    for which in ("busy", "other"):
        p, lo, hi = stats.wilson(table[f"accepted_{which}"], table[f"referrals_{which}"], confidence)
        table[f"pct_{which}"], table[f"pct_{which}_lower"], table[f"pct_{which}_upper"] = 100 * p, 100 * lo, 100 * hi
    ok = (table["referrals_busy"] > 0) & (table["referrals_other"] > 0)
    table["difference"] = table["difference_lower"] = table["difference_upper"] = table["p_value"] = np.nan
    if ok.any():
        diff = stats.compare_proportions(table.loc[ok, "accepted_busy"], table.loc[ok, "referrals_busy"],
                                         table.loc[ok, "accepted_other"], table.loc[ok, "referrals_other"],
                                         confidence=confidence, multiplier=100)
        table.loc[ok, ["difference", "difference_lower", "difference_upper", "p_value"]] = diff[
            ["value", "lowercl", "uppercl", "p_value"]].to_numpy()
    level = f"{100 * confidence:g}%"
    # the family rule of "Gaps found" across the specialist services (compare.gaps_rule: own p < 0.002 and
    # Benjamini-Hochberg at compare.GAPS_FDR)
    found = compare.gaps_rule(table["p_value"].to_numpy(dtype=float), compare.GAPS_FDR, alpha=compare.GAPS_ALPHA)
    table["finding"] = [
        (f"{r.onward_referral}: accepted {r.pct_busy:.0f}% of onward referrals in its busy months against "
         f"{r.pct_other:.0f}% otherwise ({r.difference:+.0f} points, {level} interval {r.difference_lower:+.0f} to "
         f"{r.difference_upper:+.0f}): onward referrals fail more at busy times")
        if r.difference_upper < 0 and hit else
        (f"{r.onward_referral}: {r.pct_busy:.0f}% accepted in busy months against {r.pct_other:.0f}% otherwise; "
         "not beyond chance across the services compared")
        if r.difference_upper < 0 else
        (f"{r.onward_referral}: no evidence that acceptance falls in busy months "
         f"({r.pct_busy:.0f}% against {r.pct_other:.0f}%)" if not np.isnan(r.difference) else
         f"{r.onward_referral}: too few months to compare")
        for r, hit in zip(table.itertuples(), found, strict=True)
    ]
    table["method"] = (f"Wilson intervals; busy months above the {busy_quantile:g} quantile of the service's "
                       "monthly onward referrals; difference with Newcombe's hybrid score interval and chi-square "
                       "test; a fall is a finding when p < 0.002 and it survives Benjamini-Hochberg at 1% across "
                       "the services")
    table.attrs["no_answer"] = int((made & ~answered).sum())
    return table


def onward_matrix(referrals: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Onward referrals from each service to each specialist service: a tidy from-to table.

    Counts referrals where contact was made, by the service that took the referral (``service``) and the
    onward referral recorded (``onward_referral``; "None" when there was none), with each count as a
    percentage of the from-service's contacted victims (Wilson interval). Referrals without contact have no
    onward referral recorded and are left out (their number is in ``.attrs["not_contacted"]``).

    Parameters
    ----------
    referrals : the canonical referrals table.
    confidence : level of the intervals.

    Returns
    -------
    One row per from-service and onward target with at least one referral: ``service, onward_referral,
    referrals, contacted, value, lowercl, uppercl, confidence, statistic, method``.

    References
    ----------
    Wilson EB (1927). JASA 22:209-212.

    Examples
    --------
    >>> refs = pd.DataFrame({"service": ["VAL", "VAL", "VAL", "IDVA"], "contact_made": [True, True, False, True],
    ...     "onward_referral": ["ISVA", "None", None, "Counselling"]})
    >>> onward_matrix(refs)[["service", "onward_referral", "referrals", "contacted", "value"]]
      service onward_referral  referrals  contacted  value
    0    IDVA     Counselling          1          1  100.0
    1     VAL            ISVA          1          2   50.0
    2     VAL            None          1          2   50.0
    """
    _need_columns(referrals, ["service", "contact_made", "onward_referral"], "referrals", "onward_matrix")
    made = _flag(referrals, "contact_made")
    work = pd.DataFrame(
        {
            "service": _text(_labels(referrals["service"]))[made],
            "onward_referral": _text(_labels(referrals["onward_referral"]))[made],
        }
    )
    counts = work.groupby(["service", "onward_referral"]).size().rename("referrals").reset_index()
    counts["contacted"] = counts.groupby("service")["referrals"].transform("sum")
    out = stats.proportion(counts, "referrals", "contacted", confidence, multiplier=100)
    out.attrs["not_contacted"] = int((~made).sum())
    return out


def demand_vs_capacity(
    referrals: pd.DataFrame,
    services: pd.DataFrame,
    date: str = "referral_date",
) -> pd.DataFrame:
    """Monthly referrals to each service against its commissioned capacity.

    A service's monthly capacity is its ``capacity_cases`` (cases a year, from the services table) divided by
    12. Each month's referrals are compared with it; ``demand_ratio`` above 1 means more referrals arrived than
    the service was commissioned to take. Months are those of ``date``; services in the referrals table but not
    in the services table get no capacity (NaN) and are said so in ``note``.

    Parameters
    ----------
    referrals, services : the canonical tables.
    date : the date column that places a referral in a month.

    Returns
    -------
    One row per service and month: ``service, month, referrals, capacity_per_month, demand_ratio, note,
    method``.

    Examples
    --------
    >>> refs = pd.DataFrame({"service": ["A", "A", "A", "B"],
    ...     "referral_date": pd.to_datetime(["2024-04-02", "2024-04-20", "2024-05-01", "2024-04-03"])})
    >>> svc = pd.DataFrame({"service_name": ["A"], "capacity_cases": [24.0]})
    >>> demand_vs_capacity(refs, svc)[["service", "month", "referrals", "capacity_per_month", "demand_ratio"]]
      service    month  referrals  capacity_per_month  demand_ratio
    0       A  2024-04          2                 2.0           1.0
    1       A  2024-05          1                 2.0           0.5
    2       B  2024-04          1                 NaN           NaN
    """
    _need_columns(referrals, ["service", date], "referrals", "demand_vs_capacity")
    _need_columns(services, ["service_name", "capacity_cases"], "services", "demand_vs_capacity")
    work = pd.DataFrame(
        {
            "service": _text(_labels(referrals["service"])).astype(object),
            "month": pd.to_datetime(referrals[date]).dt.to_period("M"),
        }
    )
    missing_dates = int(work["month"].isna().sum())
    counts = work.dropna(subset=["month"]).groupby(["service", "month"]).size().rename("referrals").reset_index()
    cap = services.set_index(services["service_name"].astype(str))["capacity_cases"].astype(float) / 12
    counts["capacity_per_month"] = counts["service"].map(cap).astype(float)
    counts["demand_ratio"] = counts["referrals"] / counts["capacity_per_month"]
    counts["note"] = np.where(counts["capacity_per_month"].isna(), "no capacity in the services table", "")
    counts["method"] = "referrals in the month / (capacity_cases / 12)"
    if missing_dates:
        counts.attrs["note"] = f"{missing_dates:,} referrals have no {date} and are not counted."
    return counts


def capacity_summary(monthly: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """One row per service from :func:`demand_vs_capacity`: typical monthly demand against capacity.

    Returns ``service, months, referrals, median_per_month, capacity_per_month, median_demand_ratio,
    months_over_capacity`` and the share of months over capacity (``value``, Wilson limits).

    Examples
    --------
    >>> m = pd.DataFrame({"service": ["A"] * 3, "month": pd.period_range("2024-04", periods=3, freq="M"),
    ...     "referrals": [3, 1, 2], "capacity_per_month": [2.0] * 3})
    >>> capacity_summary(m)[["service", "months", "median_per_month", "months_over_capacity"]]
      service  months  median_per_month  months_over_capacity
    0       A       3               2.0                     1
    """
    _need_columns(monthly, ["service", "month", "referrals", "capacity_per_month"], "monthly", "capacity_summary")
    work = monthly.assign(_over=(monthly["referrals"] > monthly["capacity_per_month"]).astype(int))
    out = (
        work.groupby("service", sort=True)
        .agg(
            months=("month", "nunique"),
            referrals=("referrals", "sum"),
            median_per_month=("referrals", "median"),
            capacity_per_month=("capacity_per_month", "first"),
            months_over_capacity=("_over", "sum"),
        )
        .reset_index()
    )
    out["median_demand_ratio"] = out["median_per_month"] / out["capacity_per_month"]
    out = stats.proportion(out, "months_over_capacity", "months", confidence, multiplier=100)
    return out
