"""Observed against expected police referrals by district (indirect standardisation) and the funnel plot.

Part of :mod:`victimneeds.referrals`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from victimneeds import stats
from victimneeds.plotting import MARKERS, PALETTE, label_points, legend_below, page_size

#: Columns that both the crimes and the referrals table carry, by which the pathway can be split.
from victimneeds.referrals.core import (
    _labels,
    _need_columns,
    _police_linked,
    code_denominator,
)

# --------------------------------------------------------------------------------------------------
# 2. Observed vs expected referrals (indirect standardisation) and the funnel plot
# --------------------------------------------------------------------------------------------------


@dataclass
class ReferralRatios:
    """Observed and expected police referrals by unit, with ratios, funnel limits and flags.

    Attributes
    ----------
    table : one row per unit: the ``by`` column, ``victims``, ``observed``, ``expected``, ``ratio``,
        ``lowercl``, ``uppercl`` (exact Poisson), ``z``, funnel limits at the unit's expected count, ``flag``
        and ``method``.
    overdispersion : the :class:`victimneeds.stats.Overdispersion` estimate, or None.
    strata : the columns standardised for.
    """

    table: pd.DataFrame
    by: str
    strata: list[str]
    overdispersion: stats.Overdispersion | None = None
    names: dict[str, str] = field(default_factory=dict)
    counts: pd.DataFrame | None = None

    def with_overdispersion(self, method: Literal["additive", "multiplicative"] = "additive") -> ReferralRatios:
        """The same comparison with funnel limits widened for over-dispersion (Spiegelhalter 2005)."""
        if self.counts is None:
            raise ValueError("this result holds no counts by stratum to recompute from")
        table = standardised_referrals(self.counts, "referred", "victims", self.by, self.strata, method)
        if "declined" in self.table.columns:
            table.insert(2, "declined", self.table["declined"].to_numpy())
        if "note" in self.table.attrs:
            table.attrs["note"] = self.table.attrs["note"]
        return ReferralRatios(
            table=table,
            by=self.by,
            strata=self.strata,
            overdispersion=table.attrs.get("overdispersion"),
            names=self.names,
            counts=self.counts,
        )

    def outliers(self, level: Literal["95%", "99.8%"] = "99.8%") -> pd.DataFrame:
        """The units outside the funnel at ``level``, described in plain words."""
        t = self.table
        flags = (
            ("above 99.8%", "below 99.8%")
            if level == "99.8%"
            else ("above 95%", "below 95%", "above 99.8%", "below 99.8%")
        )
        t = t[t["flag"].isin(flags)]
        rows = []
        for r in t.itertuples(index=False):
            unit = getattr(r, self.by)
            name = self.names.get(str(unit), str(unit))
            direction = "fewer" if r.ratio < 1 else "more"
            words = (
                f"{name} referred {r.observed:,} victims against {r.expected:,.0f} expected for its crime mix and "
                f"victims: {abs(1 - r.ratio) * 100:.0f}% {direction} than expected (ratio {r.ratio:.2f}, 95% CI "
                f"{r.lowercl:.2f} to {r.uppercl:.2f}), "
                f"{r.flag.replace('above', 'above the').replace('below', 'below the')} funnel limit."
            )
            rows.append(
                {
                    self.by: unit,
                    "name": name,
                    "observed": r.observed,
                    "expected": round(r.expected, 1),
                    "ratio": r.ratio,
                    "flag": r.flag,
                    "finding": words,
                }
            )
        return pd.DataFrame(rows, columns=[self.by, "name", "observed", "expected", "ratio", "flag", "finding"])

    def summary(self) -> str:
        lines = [f"Police referrals, observed vs expected, standardised for {', '.join(self.strata)}"]
        for r in self.table.itertuples(index=False):
            unit = getattr(r, self.by)
            lines.append(
                f"{self.names.get(str(unit), str(unit)):<24} O={r.observed:>7,} E={r.expected:>9,.1f} "
                f"ratio={r.ratio:.2f} ({r.lowercl:.2f}-{r.uppercl:.2f})  {r.flag}"
            )
        if self.overdispersion is not None:
            lines.append(f"Over-dispersion: {self.overdispersion.describe()}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax: Axes | None = None) -> Axes:
        """Funnel plot: ratio against expected referrals, with 95% and 99.8% limits around 1."""
        t = self.table
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(4.2))
        top = max(float(t["expected"].max()) * 1.1, 10.0)
        grid = np.linspace(max(1.0, float(t["expected"].min()) * 0.5), top, 200)
        factor = float(t.attrs.get("variance_factor", np.nanmean(t.get("variance_factor", pd.Series([1.0])))))
        od = self.overdispersion if self.overdispersion is not None and self.overdispersion.adjusts else None
        tau2 = od.tau2 if od is not None and od.method == "additive" else 0.0
        phi = od.phi if od is not None and od.method == "multiplicative" else 1.0
        rows = []
        for level in (0.95, 0.998):
            half = stats._z(level) * np.sqrt(phi * factor / grid + tau2)
            rows.append(pd.DataFrame({"level": level, "denominator": grid, "lower": np.maximum(1 - half, 0),
                                      "upper": 1 + half}))
        lim = pd.concat(rows, ignore_index=True)
        for level, style in ((0.95, "--"), (0.998, ":")):
            part = lim[lim["level"] == level]
            ax.plot(
                part["denominator"],
                part["lower"],
                color=PALETTE[4],
                linestyle=style,
                label=f"{level:.1%} limits".replace(".0%", "%"),
            )
            ax.plot(part["denominator"], part["upper"], color=PALETTE[4], linestyle=style)
        ax.axhline(1.0, color=PALETTE[2], linewidth=1, label="As expected (ratio 1)")
        outside = t["flag"].str.contains("99.8")
        ax.scatter(
            t.loc[~outside, "expected"],
            t.loc[~outside, "ratio"],
            color=PALETTE[0],
            marker=MARKERS[0],
            zorder=3,
            label="Within 99.8% limits",
        )
        ax.scatter(
            t.loc[outside, "expected"],
            t.loc[outside, "ratio"],
            color=PALETTE[3],
            marker=MARKERS[3],
            s=60,
            zorder=3,
            label="Outside 99.8% limits",
        )
        ax.set_xlabel("Expected police referrals (from the area's rates for the same crime group and victims)")
        ax.set_ylabel("Observed / expected referrals")
        ax.set_title("Are districts referring as many victims as expected?")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        label_points(ax, t["expected"], t["ratio"], [self.names.get(str(u), str(u)) for u in t[self.by]])
        legend_below(ax)
        return ax


def standardised_referrals(
    table: pd.DataFrame,
    x: str,
    n: str,
    by: str,
    strata: str | Sequence[str],
    overdispersion: bool | str = False,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Observed vs expected counts by unit from a table of counts by unit and stratum, placed on a funnel.

    Expected counts use the whole table's rate in each stratum (indirect standardisation,
    :func:`victimneeds.stats.expected_counts`). A referral is a yes/no outcome of each eligible victim, so the
    observed count's variance under the area's rates is binomial, sum n p (1 - p) over strata (Poisson's sum n p
    overstates it badly when most victims are referred). The ratio's interval is normal on the binomial
    variance at the estimated ratio; the funnel limits around 1 are 1 +/- z s with s = sqrt(variance) /
    expected, widened for over-dispersion (Spiegelhalter 2005: multiplicative phi, or additive tau2 from
    :func:`victimneeds.stats.estimate_overdispersion`).

    Parameters
    ----------
    table : one row per unit and stratum with a count ``x`` (e.g. victims referred) and a denominator ``n``
        (victims eligible).
    by : the unit column (e.g. ``district_code``).
    strata : the columns standardised for (e.g. crime group, sex, age band).
    overdispersion : False, ``"multiplicative"`` or ``"additive"`` (True).
    confidence : level of the interval for the ratio.

    Returns
    -------
    One row per unit: ``by, victims, observed, expected, ratio, lowercl, uppercl, z`` (and ``z_adjusted`` when
    over-dispersion widens the limits), ``lower_95, upper_95, lower_99_8, upper_99_8, flag, variance_factor``
    (the binomial variance over the expected count: 1 - p on average), ``method``.

    References
    ----------
    Breslow NE, Day NE (1987). Statistical Methods in Cancer Research, vol. II. IARC. Spiegelhalter DJ (2005).
    Funnel plots for comparing institutional performance. Statistics in Medicine 24:1185-1202.

    Examples
    --------
    >>> t = pd.DataFrame({"district": ["A", "A", "B", "B"], "group": ["DA", "Other"] * 2,
    ...                   "referred": [60, 10, 20, 30], "victims": [100, 100, 100, 300]})
    >>> standardised_referrals(t, "referred", "victims", "district", "group")[
    ...     ["district", "observed", "expected", "ratio"]].round(3)
      district  observed  expected  ratio
    0        A        70      50.0  1.400
    1        B        50      70.0  0.714
    """
    exp = stats.expected_counts(table, x, n, by=by, strata=strata)
    exp = exp.rename(columns={"population": "victims"})
    strata = [strata] if isinstance(strata, str) else list(strata)
    # A referral is a yes/no outcome of each eligible victim: under the area's rates the observed count has the
    # binomial variance sum n p (1 - p), not the Poisson sum n p. With most eligible victims referred (p near
    # 0.7 and above) Poisson limits are far too wide: districts were almost never flagged, and a 95% interval
    # held the true ratio 99.8% of the time (bench/calibration.py).
    pooled = table.groupby(strata, observed=True)[[x, n]].sum()
    rate = (pooled[x] / pooled[n]).rename("_p")
    work = table.merge(rate, left_on=strata, right_index=True, how="left")
    work["_v"] = work[n] * work["_p"] * (1 - work["_p"])
    variance = work.groupby(by, observed=True)["_v"].sum()
    out = exp[[by, "victims", "observed", "expected"]].copy()
    expected = out["expected"].to_numpy(dtype=float)
    observed = out["observed"].to_numpy(dtype=float)
    null_var = out[by].map(variance).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / expected, np.nan)
        s_null = np.where(expected > 0, np.sqrt(null_var) / expected, np.nan)
        z = (ratio - 1) / s_null
    # The interval of the ratio uses the variance at the estimated ratio (each stratum's rate times the ratio).
    alt = work.assign(_r=work[by].map(dict(zip(out[by], ratio, strict=True))))
    p_alt = np.clip(alt["_p"] * alt["_r"], 0, 1)
    alt_var = (alt[n] * p_alt * (1 - p_alt)).groupby(alt[by], observed=True).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        s_alt = np.where(expected > 0, np.sqrt(out[by].map(alt_var).to_numpy(dtype=float)) / expected, np.nan)
    zc = stats._z(confidence)
    out["ratio"] = ratio
    out["lowercl"] = np.maximum(ratio - zc * s_alt, 0)
    out["uppercl"] = ratio + zc * s_alt
    out["z"] = z
    method = "no over-dispersion allowed for"
    od = None
    se = s_null
    if overdispersion:
        kind = "additive" if overdispersion is True else str(overdispersion)
        ok = np.isfinite(z) & np.isfinite(s_null) & (s_null > 0)
        od = stats.estimate_overdispersion(z[ok], s_null[ok], method=kind)
        if od.adjusts:
            se = s_null * np.sqrt(od.phi) if kind == "multiplicative" else np.sqrt(s_null**2 + od.tau2)
            out["z_adjusted"] = (ratio - 1) / se
        method = od.describe()
    flag = np.full(len(out), "within 95%", dtype=object)
    for level, word in ((0.95, "95%"), (0.998, "99.8%")):
        half = stats._z(level) * se
        tag = "99_8" if level == 0.998 else "95"
        out[f"lower_{tag}"] = np.maximum(1 - half, 0)
        out[f"upper_{tag}"] = 1 + half
        flag = np.where(ratio > 1 + half, f"above {word}", np.where(ratio < 1 - half, f"below {word}", flag))
    flag = np.where(np.isfinite(ratio), flag, "not assessed: no expected referrals")
    out["flag"] = flag
    out["variance_factor"] = np.where(expected > 0, null_var / expected, np.nan)
    out["method"] = (
        f"{exp['method'].iloc[0]}; binomial variance of the observed count under the area's rates, sum n p (1 - p); "
        f"{int(round(100 * confidence))}% normal interval of the ratio at its estimate; funnel limits 1 +/- z s "
        f"({method})"
    )
    out.attrs["overdispersion"] = od
    out.attrs["variance_factor"] = float(np.nansum(null_var) / np.nansum(expected)) if np.nansum(expected) else 1.0
    return out


def referral_ratios(
    crimes: pd.DataFrame,
    referrals: pd.DataFrame,
    by: str = "district_code",
    strata: Sequence[str] = ("crime_group", "victim_sex", "victim_age_band"),
    overdispersion: bool | str = False,
    names: dict[str, str] | None = None,
    denominator: Literal["code", "assessed"] = "code",
) -> ReferralRatios:
    """Are districts (or teams) referring as many victims as expected for their crimes and victims?

    Victims eligible are those the Victims' Code says should be referred (:func:`code_denominator`): an
    identified victim, a need recorded by the officer and agreement to referral (all assessed victims when
    consent or need is not recorded; ``table.attrs["note"]`` says which). Victims who declined are not
    failures: they are counted in the ``declined`` column, not in the ratio. Referred are those with a police
    referral in the referrals table. Each unit's expected referrals apply the area's referral rate in each
    stratum (crime group and victim mix) to the unit's eligible victims.

    Parameters
    ----------
    crimes, referrals : the canonical tables.
    by : the unit column in ``crimes`` (``district_code`` by default, or a team column if supplied).
    strata : columns of ``crimes`` to standardise for; missing values form their own "Not recorded" stratum.
    overdispersion : False (exact Poisson funnel), ``"multiplicative"`` or ``"additive"`` (True).
    names : unit code -> name, for plain-words tables (e.g. from ``AreaData.districts``).
    denominator : ``"code"`` (victims with a need who agreed to referral) or ``"assessed"`` (all assessed
        victims, the wider denominator of earlier packs).

    Returns
    -------
    ReferralRatios

    References
    ----------
    Breslow NE, Day NE (1987). Statistical Methods in Cancer Research, vol. II. IARC. Spiegelhalter DJ (2005).
    Funnel plots for comparing institutional performance. Statistics in Medicine 24:1185-1202; Handling
    over-dispersion of performance indicators. Quality and Safety in Health Care 14:347-351.

    Examples
    --------
    >>> crimes = pd.DataFrame({"crime_id": [f"C{i}" for i in range(8)], "district_code": ["A"] * 4 + ["B"] * 4,
    ...     "crime_group": ["DA", "DA", "Other", "Other"] * 2, "victim_identified": [True] * 8,
    ...     "needs_assessment_done": [True] * 8})
    >>> refs = pd.DataFrame({"crime_id": ["C0", "C1", "C2", "C4"], "source": ["Police"] * 4})
    >>> r = referral_ratios(crimes, refs, strata=["crime_group"])
    >>> r.table[["district_code", "observed", "expected"]]
      district_code  observed  expected
    0             A         3       2.0
    1             B         1       2.0
    """
    strata = list(strata)
    _need_columns(
        crimes, ["crime_id", "victim_identified", "needs_assessment_done", by, *strata], "crimes", "referral_ratios"
    )
    _need_columns(referrals, ["crime_id", "source"], "referrals", "referral_ratios")
    if denominator not in ("code", "assessed"):
        raise ValueError(f"referral_ratios: denominator must be 'code' or 'assessed', not {denominator!r}")
    d = code_denominator(crimes)
    eligible = d.eligible if denominator == "code" else d.assessed
    work = pd.DataFrame({col: _labels(crimes[col]).astype(str) for col in [by, *strata]})
    work["referred"] = _police_linked(crimes, referrals).astype(int)
    work["victims"] = 1
    located = crimes[by].notna().to_numpy()
    counts = (
        work[eligible & located].groupby([by, *strata], observed=True, sort=True)[["referred", "victims"]].sum()
    ).reset_index()
    table = standardised_referrals(counts, "referred", "victims", by, strata, overdispersion)
    declined = work.loc[d.declined & located, by].value_counts()
    table.insert(2, "declined", table[by].map(declined).fillna(0).astype("int64").to_numpy())
    notes = [d.note if denominator == "code" else "all assessed victims (the wider denominator: declining counts "
             "as not referred)."]
    dropped = int((eligible & ~located).sum())
    if dropped:
        notes.append(f"{dropped:,} eligible victims have no {by} and are left out of the comparison.")
    table.attrs["note"] = " ".join(notes)
    return ReferralRatios(
        table=table,
        by=by,
        strata=strata,
        overdispersion=table.attrs.get("overdispersion"),
        names=dict(names or {}),
        counts=counts,
    )
