"""Referral rates: referrals to each lot per recorded crime, and take-up of support.

Part of :mod:`victimneeds.capacity`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from victimneeds import stats
from victimneeds.capacity.rules import (
    _need,
)
from victimneeds.datamodel import LOTS

# --------------------------------------------------------------------------------------------------
# Referral rates
# --------------------------------------------------------------------------------------------------


def referral_rates(
    crimes: pd.DataFrame,
    referrals: pd.DataFrame,
    services: pd.DataFrame | None = None,
    by: Sequence[str] = ("district_code", "crime_group"),
    months: int = 12,
    service_lots: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Referrals to each lot per recorded crime, and the share who take up support, over the latest months.

    All referrals (police, self and partner) to a lot's services are counted against the recorded crimes of
    the same cell (e.g. district and crime group) in the same months: the rate is the number of referrals a
    lot can expect for each recorded crime, whatever the route in. Cells with no recorded crimes are given the
    area rate of their crime group (``method`` says so).

    Parameters
    ----------
    crimes, referrals : the canonical tables (columns ``month`` and ``referral_date``, ``service`` and ``by``).
    services : the canonical services table, mapping ``service_name`` to ``lot``.
    by : the cells rates are measured in; must include ``crime_group``.
    months : the base period: this many months up to the last month of the crimes table.
    service_lots : service name -> lot, used instead of (or on top of) ``services``.

    Returns
    -------
    One row per lot and cell: ``lot, *by, referrals, crimes, rate, rate_lower, rate_upper, supported,
    take_up, take_up_lower, take_up_upper, base_period, method``. Rates are referrals per recorded crime with
    exact Poisson 95% limits (crimes taken as fixed); take-up is the share of referrals with
    ``support_accepted`` (Wilson 95% interval). ``.attrs["notes"]`` counts referrals left out and why.

    References
    ----------
    Breslow NE, Day NE (1987). Statistical Methods in Cancer Research, vol. II. IARC (exact Poisson limits).
    Wilson EB (1927). Probable inference, the law of succession, and statistical inference. JASA 22:209-212.

    Examples
    --------
    >>> crimes = pd.DataFrame({"crime_group": ["Burglary"] * 4 + ["Violence"] * 2,
    ...                        "month": pd.PeriodIndex(["2024-03"] * 6, freq="M")})
    >>> refs = pd.DataFrame({"service": ["Line", "Line", "Line"], "crime_group": ["Burglary", "Burglary", "Violence"],
    ...                      "referral_date": pd.to_datetime(["2024-03-02"] * 3),
    ...                      "support_accepted": [True, False, True]})
    >>> r = referral_rates(crimes, refs, by=["crime_group"], service_lots={"Line": "Victim advice line"})
    >>> r[["lot", "crime_group", "referrals", "crimes", "rate"]].values.tolist()
    [['Victim advice line', 'Burglary', 2, 4, 0.5], ['Victim advice line', 'Violence', 1, 2, 0.5]]
    """
    by = list(by)
    if "crime_group" not in by:
        raise ValueError("referral_rates: `by` must include 'crime_group' (rates are per crime of a group)")
    _need(crimes, ["month", *by], "crimes", "referral_rates")
    _need(referrals, ["service", "referral_date", *by], "referrals", "referral_rates")
    lot_of: dict[str, str] = {}
    if services is not None:
        _need(services, ["service_name", "lot"], "services", "referral_rates")
        lot_of.update(zip(services["service_name"].astype(str), services["lot"].astype(str), strict=True))
    lot_of.update(service_lots or {})
    if not lot_of:
        raise ValueError("referral_rates: give the services table or `service_lots` to say which lot each service is")
    month = crimes["month"]
    if not isinstance(month.dtype, pd.PeriodDtype):
        month = pd.PeriodIndex(month.astype(str), freq="M").to_series(index=crimes.index)
    last = month.max()
    first = last - (months - 1)
    in_c = (month >= first) & (month <= last)
    c = pd.DataFrame({k: crimes.loc[in_c, k].astype(str) for k in by})
    cnt_c = c.groupby(by).size().rename("crimes")
    rmonth = pd.to_datetime(referrals["referral_date"]).dt.to_period("M")
    in_r = (rmonth >= first) & (rmonth <= last)
    lots = referrals["service"].astype(str).map(lot_of)
    notes = [
        f"{int((~in_r).sum()):,} referrals outside the base period {first} to {last} were not counted.",
    ]
    unassigned = in_r & lots.isna()
    if unassigned.any():
        names = sorted(set(referrals.loc[unassigned, "service"].astype(str)))[:5]
        notes.append(
            f"{int(unassigned.sum()):,} referrals to services not in the services table (e.g. {names}) "
            "were not assigned to a lot."
        )
    keep = in_r & lots.notna()
    r = pd.DataFrame({k: referrals.loc[keep, k].astype(str) for k in by})
    r["lot"] = lots[keep]
    r["supported"] = (
        pd.array(referrals.loc[keep, "support_accepted"], dtype="boolean").fillna(False).to_numpy(dtype=int)
        if "support_accepted" in referrals
        else 0
    )
    agg = r.groupby(["lot", *by]).agg(referrals=("lot", "size"), supported=("supported", "sum")).reset_index()
    # every lot x cell with crimes, so cells with crimes but no referrals have a rate of 0
    cells = cnt_c.reset_index()
    grid = pd.DataFrame({"lot": sorted(agg["lot"].unique())}).merge(cells[by], how="cross")
    out = grid.merge(agg, on=["lot", *by], how="outer").merge(cells, on=by, how="left")
    out[["referrals", "supported"]] = out[["referrals", "supported"]].fillna(0).astype(int)
    out["crimes"] = out["crimes"].fillna(0).astype(int)
    out = out[(out["referrals"] > 0) | (out["crimes"] > 0)]
    # area rate per lot and crime group, the fallback for cells without crimes
    area = out.groupby(["lot", "crime_group"])[["referrals", "crimes"]].sum()
    area_rate = (area["referrals"] / area["crimes"].where(area["crimes"] > 0)).rename("area_rate")
    out = out.merge(area_rate.reset_index(), on=["lot", "crime_group"], how="left")
    lo, hi = stats.count_interval(out["referrals"].to_numpy(), 0.95)
    has = out["crimes"] > 0
    denom = out["crimes"].where(has).astype(float)
    out["rate"] = np.where(has, out["referrals"] / denom, out["area_rate"])
    out["rate_lower"] = np.where(has, lo / denom, out["area_rate"])
    out["rate_upper"] = np.where(has, hi / denom, out["area_rate"])
    tk = stats.wilson(out["supported"].to_numpy(), out["referrals"].to_numpy(), 0.95)
    n = out["referrals"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["take_up"] = np.where(n > 0, out["supported"] / np.maximum(n, 1), np.nan)
    out["take_up_lower"] = np.where(n > 0, tk[1], np.nan)
    out["take_up_upper"] = np.where(n > 0, tk[2], np.nan)
    out["base_period"] = f"{first} to {last}"
    out["method"] = np.where(
        has,
        "referrals / recorded crimes in the base period; exact Poisson 95% limits",
        "no recorded crimes in the cell: area rate of the crime group",
    )
    lots_order = {lot: i for i, lot in enumerate(LOTS)}
    out = out.sort_values(["lot", *by], key=lambda s: s.map(lots_order) if s.name == "lot" else s)
    out = out[
        [
            "lot",
            *by,
            "referrals",
            "crimes",
            "rate",
            "rate_lower",
            "rate_upper",
            "supported",
            "take_up",
            "take_up_lower",
            "take_up_upper",
            "base_period",
            "method",
        ]
    ].reset_index(drop=True)
    out.attrs["notes"] = notes
    return out
