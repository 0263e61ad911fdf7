"""Calibration study of the evidence pack's analyses, on data the package did not make (issue 15 item 6).

For each analysis the pack runs, many small data sets are drawn from a generator written here, with its own
mechanism (not :mod:`victimneeds.datasets`, whose effects the analyses were tuned to find), and the analysis
is run as the pack runs it:

* **no effect planted**: the share of data sets with a flag (a finding, a signal, an interval that excludes
  "no difference") against the nominal false-alarm rate of that flag level;
* **an effect planted**: the share of 95% intervals that contain the true (planted) value, and the power (the
  share of data sets in which the planted effect is flagged).

The generators (all small numpy draws, seeded):

* *victims*: each victim's referral is a Bernoulli draw with a logit-additive probability in crime group,
  sex, ethnicity and district (planted: one district or one ethnic group with a lower odds ratio); so the
  adjusted odds ratio and the district's observed / expected ratio have known true values;
* *shares*: binomial counts per unit (district, month, period), optionally with a normal random effect on the
  logit scale (over-dispersion);
* *counts*: monthly Poisson counts whose log mean has a trend, a yearly cycle and AR(1) noise (lag-one
  correlation 0.5), as monthly crime counts have;
* *outcomes*: crimes with an outcome drawn from four police.uk outcome texts with known shares;
* *rates*: Poisson counts in six age bands of known populations and rates (so the directly standardised rate
  is known);
* *incomes*: lognormal values (Gini 2 Phi(sigma / sqrt 2) - 1, Theil sigma^2 / 2; Cowell 2011).

Control charts use the monthly binomial generator and the exact nominal rates of bench/calibration_compare.py;
the inequality study is the short form of bench/calibration_inequality.py (Pareto-tail bootstrap-t as the pack runs it).

Each rate in the table is a share of data sets (for per-unit flags: of units) with its Monte Carlo standard
error in brackets. "n" is the number of data sets with no effect + with the effect planted.

    python bench/calibration.py            # 400 data sets a study (200 for forecasts), about 5 minutes
    python bench/calibration.py --quick    # 60 data sets a study (30 for forecasts), about 1-2 minutes
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from calibration_compare import _p_run, _p_two_of_three, _rows  # bench/, beside this script
from scipy import stats as sps
from scipy.special import expit

from victimneeds import compare, demand, equity, forecast, outcomes, referrals, voice
from victimneeds import stats as vstats


@dataclass
class Row:
    """One line of the printed table: hits over trials for each measure (None: not applicable)."""

    analysis: str
    rule: str
    nominal: str
    false_alarm: tuple[int, int] | None = None
    coverage: tuple[int, int] | None = None
    power: tuple[int, int] | None = None
    datasets: str = ""


def _rate(hits: tuple[int, int] | None) -> str:
    if hits is None:
        return "-"
    k, n = hits
    if n == 0:
        return "n/a"
    p = k / n
    return f"{100 * p:5.1f}% ({100 * np.sqrt(p * (1 - p) / n):.1f})"


def _covers(lo: float, hi: float, truth: float) -> bool:
    return bool(np.isfinite(lo) and np.isfinite(hi) and lo <= truth <= hi)


# --------------------------------------------------------------------------------------------------
# Generators
# --------------------------------------------------------------------------------------------------


def victims(rng: np.random.Generator, n: int, districts: int, planted: dict[str, float]) -> pd.DataFrame:
    """Victims with a referral drawn from a logit-additive model; ``p`` holds each victim's true probability.

    Referral depends on crime group only, unless an effect is planted; sex and ethnicity have no effect of
    their own but are associated with crime group.

    ``planted`` holds log odds ratios: ``"district"`` for district D00, ``"Black"`` for the Black ethnic group.
    """
    d = rng.integers(0, districts, n)
    sex = rng.choice(["Female", "Male"], n)
    eth = rng.choice(["White", "Asian", "Black"], n, p=[0.7, 0.2, 0.1])
    # crime group depends on sex and ethnicity, and referral on crime group: a raw comparison of groups is
    # confounded, an adjusted one is not
    violent = rng.random(n) < 0.35 + 0.15 * (sex == "Female") + 0.2 * (eth == "Black")
    group = np.where(violent, "Violence", rng.choice(["Theft", "Sexual offences"], n, p=[0.8, 0.2]))
    logit = (
        0.3
        + 0.6 * (group == "Violence")
        + 0.9 * (group == "Sexual offences")
        + planted.get("district", 0.0) * (d == 0)
        + planted.get("Black", 0.0) * (eth == "Black")
    )
    p = expit(logit)
    return pd.DataFrame(
        {
            "crime_id": [f"C{i}" for i in range(n)],
            "district_code": [f"D{k:02d}" for k in d],
            "crime_group": group,
            "victim_sex": sex,
            "victim_ethnicity": eth,
            "victim_identified": True,
            "needs_assessment_done": True,
            "p": p,
            "referred": rng.random(n) < p,
        }
    )


def monthly_counts(rng: np.random.Generator, months: int, level: float, rate_ratio: float) -> pd.DataFrame:
    """Monthly Poisson counts: log mean = level + trend + yearly cycle + AR(1) noise (phi 0.5, sd 0.08)."""
    t = np.arange(months)
    noise = np.empty(months)
    noise[0] = rng.normal(0, 0.08 / np.sqrt(1 - 0.25))
    for i in range(1, months):
        noise[i] = 0.5 * noise[i - 1] + rng.normal(0, 0.08)
    mu = level * rate_ratio ** (t / 12) * np.exp(0.12 * np.sin(2 * np.pi * t / 12) + noise)
    return pd.DataFrame({"month": pd.period_range("2014-01", periods=months, freq="M"), "count": rng.poisson(mu)})


# --------------------------------------------------------------------------------------------------
# Studies: each returns rows of the table
# --------------------------------------------------------------------------------------------------


def study_wilson(rng: np.random.Generator, reps: int) -> list[Row]:
    rows = []
    for n, p in ((40, 0.15), (400, 0.6)):
        x = rng.binomial(n, p, reps)
        _, lo, hi = vstats.wilson(x, np.full(reps, n))
        hit = int(np.sum((lo <= p) & (p <= hi)))
        rows.append(Row("stats.wilson (a share)", f"95% Wilson interval, n {n}, p {p}", "95%",
                        coverage=(hit, reps), datasets=f"{reps}"))
    return rows


def study_dsr(rng: np.random.Generator, reps: int) -> list[Row]:
    pop = np.array([4000, 9000, 12000, 11000, 7000, 3000])
    rate = np.array([30, 120, 90, 60, 40, 25]) / 1e5
    std = np.array([1500, 2500, 3000, 2500, 1500, 1000], dtype=float)
    truth = 1e5 * float(np.sum(rate * std) / std.sum())
    hit = 0
    for _ in range(reps):
        t = pd.DataFrame({"band": list("abcdef"), "x": rng.poisson(pop * rate), "n": pop, "std": std})
        r = vstats.dsr(t, "x", "n", "std").iloc[0]
        hit += _covers(r["lowercl"], r["uppercl"], truth)
    return [Row("stats.dsr (standardised rate)", "95% interval (Dobson, exact Poisson)", "95%", coverage=(hit, reps),
                datasets=f"{reps}")]


def study_funnel(rng: np.random.Generator, reps: int) -> list[Row]:
    rows = []
    units = 20
    for spread, od in ((0.0, False), (0.15, "additive"), (0.15, "multiplicative")):
        flags = {0.95: [0, 0, 0], 0.998: [0, 0, 0]}  # false alarms among null units, units, planted hits
        for planted in (False, True):
            for _ in range(reps):
                n = rng.poisson(150, units) + 20
                logit = np.log(0.7 / 0.3) + rng.normal(0, spread, units) if spread else np.full(units, np.log(7 / 3))
                if planted:
                    logit[0] -= 1.0  # the planted unit: odds ratio 0.37 (about 46% against 70%)
                x = rng.binomial(n, expit(logit))
                f = vstats.funnel_flags(pd.DataFrame({"x": x, "n": n}), "x", "n", overdispersion=od)["flag"]
                outside = {0.95: f.str.startswith(("above", "below")), 0.998: f.str.endswith("99.8%")}
                for level, out in outside.items():
                    if planted:
                        flags[level][2] += bool(out.iloc[0] and f.iloc[0].startswith("below"))
                    else:
                        flags[level][0] += int(out.sum())
                        flags[level][1] += units
        for level, (k, n_units, hits) in flags.items():
            words = "exact binomial" if not od else f"{od} over-dispersion, data over-dispersed (sd 0.15)"
            rows.append(Row("stats.funnel_flags (20 units)", f"unit outside {level:.1%} limits; {words}",
                            f"{1 - level:.1%} per unit", false_alarm=(k, n_units), power=(hits, reps),
                            datasets=f"{reps} + {reps}"))
    return rows


def study_control_chart(rng: np.random.Generator, reps: int) -> list[Row]:
    nominal = {"beyond limits": 1 - (1 - 2 * sps.norm.sf(3)) ** 24, "run": _p_run(24), "2 of 3": _p_two_of_three(24)}
    null = dict.fromkeys(nominal, 0)
    planted = dict.fromkeys(nominal, 0)
    for shift, hits in ((False, null), (True, planted)):
        for _ in range(reps):
            shares = np.full(24, 0.8)
            if shift:
                shares[-8:] = 0.72  # the last 8 months fall from 80% to 72%
            found = compare.control_chart(_rows(rng, shares, 200), "met", "month").findings
            for rule in hits:
                hits[rule] += bool((found["rule"] == rule).any())
    return [
        Row("compare.control_chart (24 months)", f"signal: {rule} (Laney)", f"{nominal[rule]:.1%} a chart",
            false_alarm=(null[rule], reps), power=(planted[rule], reps), datasets=f"{reps} + {reps}")
        for rule in nominal
    ]


def study_shifts(rng: np.random.Generator, reps: int) -> list[Row]:
    """monitoring.shifts as the pack runs it: a family of 8 monthly measures (36 months, about 300 cases a
    month, shares 55-90% with a little month-to-month drift); planted: one measure falls from 85% to 60% for
    4 months. False alarm = any sustained-shift finding in the family; coverage = the 95% interval of the
    rate over the found periods covers 60% (when exactly the planted months are found)."""
    from victimneeds import monitoring

    base = np.array([0.85, 0.9, 0.55, 0.7, 0.8, 0.6, 0.75, 0.65])
    family = power = cover = exact = 0
    for planted in (False, True):
        for _ in range(reps):
            charts = {}
            for k, p in enumerate(base):
                shares = np.clip(p + rng.normal(0, 0.01, 36), 0.01, 0.99)
                if planted and k == 0:
                    shares[28:32] = 0.60
                chart = compare.control_chart(_rows(rng, shares, 300), "met", "month")
                charts[f"measure {k}"] = chart
            table = monitoring.shifts(monitoring.Charts(charts))
            found = table[table["finding"]] if len(table) else table
            if not planted:
                family += bool(len(found))
                continue
            hit = found[(found["measure"] == "measure 0") & (found["change"] < 0)] if len(found) else found
            power += bool(len(hit))
            if len(hit) and hit.iloc[0]["periods"] == 4:
                exact += 1
                cover += bool(hit.iloc[0]["lowercl"] <= 60 <= hit.iloc[0]["uppercl"])
    return [Row("monitoring.shifts (8 measures x 36 months)", "any shift (scan p < 0.002, BH 1%, >= 5 points)",
                "<=5% a family", false_alarm=(family, reps), coverage=(cover, exact), power=(power, reps),
                datasets=f"{reps} + {reps}")]


def study_binomial_trend(rng: np.random.Generator, reps: int) -> list[Row]:
    years = np.arange(36) / 12
    out = {}
    for true_or in (1.0, 0.8):
        flag = cover = 0
        for _ in range(reps):
            n = rng.poisson(600, 36)
            x = rng.binomial(n, expit(-1.5 + np.log(true_or) * years + rng.normal(0, 0.15, 36)))
            r = compare.binomial_trend(x, n, years)
            flag += not _covers(r["lowercl"], r["uppercl"], 1.0)
            cover += _covers(r["lowercl"], r["uppercl"], true_or)
        out[true_or] = (flag, cover)
    return [Row("compare.binomial_trend (36 months)", "95% interval of odds ratio a year excludes 1; planted 0.8",
                "5% / 95%", false_alarm=(out[1.0][0], reps), coverage=(out[0.8][1], reps),
                power=(out[0.8][0], reps), datasets=f"{reps} + {reps}")]


def study_firth(rng: np.random.Generator, reps: int) -> list[Row]:
    out = {}
    disagree = 0  # fits whose p < 0.05 and "95% interval excludes 0" disagree
    for beta in (0.0, np.log(3.0)):
        flag = cover = 0
        for _ in range(reps):
            x = (rng.random(150) < 0.3).astype(float)
            y = (rng.random(150) < expit(-2.5 + beta * x)).astype(float)
            fit = compare.firth_logit(pd.DataFrame({"const": 1.0, "x": x}), y, profile=[1])
            lo, hi = fit.lower["x"], fit.upper["x"]
            flag += fit.pvalues["x"] < 0.05
            cover += _covers(lo, hi, beta)
            disagree += bool((fit.pvalues["x"] < 0.05) == (lo <= 0 <= hi))
        out[beta] = (flag, cover)
    b = np.log(3.0)
    return [Row("compare.firth_logit (150 victims, 8% events)", "p < 0.05; 95% profile interval; planted OR 3",
                "5% / 95%", false_alarm=(int(out[0.0][0]), reps), coverage=(out[b][1], reps),
                power=(int(out[b][0]), reps), datasets=f"{reps} + {reps}"),
            Row("compare.firth_logit: p-value and interval", "p < 0.05 but interval spans 0, or the reverse", "0%",
                false_alarm=(disagree, 2 * reps), datasets=f"{reps} + {reps}")]


def study_compare(rng: np.random.Generator, reps: int) -> list[Row]:
    any_finding = cover = power = 0
    for planted in (False, True):
        for _ in range(reps):
            v = victims(rng, 3000, 5, {"Black": np.log(0.5)} if planted else {})
            c = compare.compare(
                v[["victim_ethnicity", "victim_sex", "crime_group", "referred"]],
                "referred",
                by=["victim_ethnicity", "victim_sex"],
                adjust=["crime_group"],
            ).odds_ratios
            if planted:
                row = c.set_index("level").loc["Black"]
                cover += _covers(row["lower"], row["upper"], 0.5)
                power += bool(row["finding"])
            else:
                any_finding += bool(c["finding"].any())
    return [Row("compare.compare (3,000 victims)", "any finding (p < 0.002, BH 1%), adjusted; planted OR 0.5",
                "<=5% / 95%", false_alarm=(any_finding, reps), coverage=(cover, reps), power=(power, reps),
                datasets=f"{reps} + {reps}")]


def study_referral_ratios(rng: np.random.Generator, reps: int) -> list[Row]:
    units = 12
    flag95 = flag998 = unit_n = family = cover = power = power95 = 0
    for planted in (False, True):
        for _ in range(reps):
            v = victims(rng, 6000, units, {"district": np.log(0.6)} if planted else {})
            refs = v.loc[v["referred"], ["crime_id"]].assign(source="Police")
            r = referrals.referral_ratios(v, refs, strata=["crime_group", "victim_sex"], overdispersion="additive")
            t = r.table.set_index("district_code")
            gaps = referrals.gaps_found(ratios=r)
            if planted:
                # the true ratio: the district's expected referrals under the true probabilities against those
                # under the true stratum rates of the whole area
                rates = v.groupby(["crime_group", "victim_sex"])["p"].transform("mean")
                d0 = v["district_code"] == "D00"
                truth = v.loc[d0, "p"].sum() / rates[d0].sum()
                cover += _covers(t.loc["D00", "lowercl"], t.loc["D00", "uppercl"], truth)
                power += bool((gaps["who"] == "D00").any())
                power95 += t.loc["D00", "flag"].startswith("below")
            else:
                flag95 += int(t["flag"].str.startswith(("above", "below")).sum())
                flag998 += int(t["flag"].str.endswith("99.8%").sum())
                unit_n += units
                family += len(gaps) > 0
    return [
        Row("referrals.referral_ratios (12 districts)", "district outside 95% funnel", "5% per unit",
            false_alarm=(flag95, unit_n), power=(power95, reps), datasets=f"{reps} + {reps}"),
        Row("referrals.referral_ratios (12 districts)", "district outside 99.8% funnel", "0.2% per unit",
            false_alarm=(flag998, unit_n), datasets=f"{reps}"),
        Row("referrals.referral_ratios", "95% interval of observed / expected; planted OR 0.6", "95%",
            coverage=(cover, reps), datasets=f"{reps}"),
        Row("referrals.gaps_found (districts)", "any district gap (p < 0.002 and BH 1%)", "<=5% a family",
            false_alarm=(family, reps), power=(power, reps), datasets=f"{reps} + {reps}"),
    ]


def study_referral_model(rng: np.random.Generator, reps: int) -> list[Row]:
    family = cover = power = 0
    covariates = ("crime_group", "district_code", "victim_sex", "victim_ethnicity")
    for planted in (False, True):
        for _ in range(reps):
            v = victims(rng, 6000, 8, {"Black": np.log(0.5)} if planted else {})
            refs = v.loc[v["referred"], ["crime_id"]].assign(source="Police")
            m = referrals.referral_model(v, refs, covariates=covariates)
            gaps = referrals.gaps_found(model=m)
            if planted:
                row = m.table.set_index("level").loc["Black"]
                cover += _covers(row["lower"], row["upper"], 0.5)
                power += bool(gaps["who"].astype(str).str.contains("Black").any())
            else:
                family += len(gaps) > 0
    return [Row("referrals.referral_model + gaps_found", "any group gap (p < 0.002 and BH 1%); planted OR 0.5",
                "<=5% / 95%", false_alarm=(family, reps), coverage=(cover, reps), power=(power, reps),
                datasets=f"{reps} + {reps}")]


def study_satisfaction(rng: np.random.Generator, reps: int) -> list[Row]:
    dates = pd.to_datetime(["2023-06-01"] * 250 + ["2024-06-01"] * 250)
    flag = cover = power = 0
    for later in (0.75, 0.65):
        for _ in range(reps):
            sat = np.concatenate([rng.random(250) < 0.75, rng.random(250) < later])
            r = voice.satisfaction_change(pd.DataFrame({"response_date": dates, "satisfied_whole_experience": sat}))
            r = r.iloc[0]
            found = str(r["finding"]).startswith("evidence of")
            if later == 0.75:
                flag += found
            else:
                cover += _covers(r["lowercl"], r["uppercl"], -10.0)
                power += found
    return [Row("voice.satisfaction_change (250 a year)", "'evidence of a change'; 95% Newcombe interval; -10 pts",
                "5% / 95%", false_alarm=(flag, reps), coverage=(cover, reps), power=(power, reps),
                datasets=f"{reps} + {reps}")]


_OUTCOMES = np.array(
    [
        "Offender fined",  # charged/summonsed or court outcome
        "Local resolution",  # out-of-court disposal
        "Unable to prosecute suspect",
        "Investigation complete; no suspect identified",
    ]
)


def study_attrition(rng: np.random.Generator, reps: int) -> list[Row]:
    months = pd.period_range("2021-04", periods=36, freq="M")
    cover = cells = funnel_flags = funnel_units = trend_flag = trend_cover = trend_power = 0
    for planted in (False, True):
        for _ in range(reps):
            n = 3000
            month = rng.integers(0, 36, n)
            d = rng.choice(list("ABCDE"), n)
            # positive outcome 30% (odds ratio a year 0.8 when planted), two thirds of it charged (20% of
            # all); the negative outcomes 30% and 40%
            odds = 0.3 / 0.7 * (0.8 ** (month / 12) if planted else 1.0)
            positive = rng.random(n) < odds / (1 + odds)
            which = np.where(positive, rng.choice(2, n, p=[2 / 3, 1 / 3]), rng.choice(2, n, p=[3 / 7, 4 / 7]) + 2)
            t = pd.DataFrame({"month": months[month], "crime_group": "Violence", "district_code": d,
                              "outcome": _OUTCOMES[which]})
            a = outcomes.attrition(t, by=("district",), period="all")
            tr = a.trend.set_index("crime_group").loc["All crimes"]
            if planted:
                trend_cover += _covers(tr["lowercl"], tr["uppercl"], 0.8)
                trend_power += not _covers(tr["lowercl"], tr["uppercl"], 1.0)
                continue
            trend_flag += not _covers(tr["lowercl"], tr["uppercl"], 1.0)
            tab = a.table[a.table["outcome_group"] == "Charged/summonsed or court outcome"]
            cover += int(((tab["lowercl"] <= 20.0) & (20.0 <= tab["uppercl"])).sum())
            cells += len(tab)
            f = a.funnel["flag"]
            funnel_flags += int(f.str.startswith(("above", "below")).sum())
            funnel_units += len(f)
    return [
        Row("outcomes.attrition (3,000 crimes)", "95% Wilson interval of the charged share (per district)", "95%",
            coverage=(cover, cells), datasets=f"{reps}"),
        Row("outcomes.attrition", "district outside 95% funnel of positive outcomes", "5% per unit",
            false_alarm=(funnel_flags, funnel_units), datasets=f"{reps}"),
        Row("outcomes.attrition", "95% interval of odds ratio a year excludes 1; planted 0.8", "5% / 95%",
            false_alarm=(trend_flag, reps), coverage=(trend_cover, reps), power=(trend_power, reps),
            datasets=f"{reps} + {reps}"),
    ]


def study_trend(rng: np.random.Generator, reps: int) -> list[Row]:
    flag = cover = power = 0
    for rr in (1.0, 1.1):
        for _ in range(reps):
            r = demand.trend(monthly_counts(rng, 48, 150, rr), lockdown=False).iloc[0]
            outside = not _covers(r["lowercl"], r["uppercl"], 1.0)
            if rr == 1.0:
                flag += outside
            else:
                cover += _covers(r["lowercl"], r["uppercl"], rr)
                power += outside
    return [Row("demand.trend (48 months, AR(1) noise)", "95% interval of rate ratio a year excludes 1; planted 1.1",
                "5% / 95%", false_alarm=(flag, reps), coverage=(cover, reps), power=(power, reps),
                datasets=f"{reps} + {reps}")]


def study_forecast(rng: np.random.Generator, reps: int) -> list[Row]:
    hits = {80: [0, 0], 95: [0, 0]}
    year = {80: 0, 95: 0}
    for _ in range(reps):
        series = monthly_counts(rng, 72, 200, 1.05)
        history, future = series.iloc[:60], series.iloc[60:]
        res = forecast.forecast(history, horizon=12)
        t = res.table.set_index("month")
        y = res.yearly().iloc[0]
        total = float(future["count"].sum())
        for level in (80, 95):
            inside = (t[f"lower_{level}"].to_numpy() <= future["count"].to_numpy()) & (
                future["count"].to_numpy() <= t[f"upper_{level}"].to_numpy()
            )
            hits[level][0] += int(inside.sum())
            hits[level][1] += len(inside)
            year[level] += _covers(y[f"lower_{level}"], y[f"upper_{level}"], total)
    return [
        Row("forecast.forecast (60 months, 12 ahead)", f"{level}% interval of each month's count", f"{level}%",
            coverage=tuple(hits[level]), datasets=f"{reps}")
        for level in (80, 95)
    ] + [
        Row("forecast yearly() totals", f"{level}% interval of the next 12 months' total", f"{level}%",
            coverage=(year[level], reps), datasets=f"{reps}")
        for level in (80, 95)
    ]


def study_inequality(rng: np.random.Generator, reps: int) -> list[Row]:
    sigma = 1.0
    truth = {"Gini": 2 * sps.norm.cdf(sigma / np.sqrt(2)) - 1, "Theil": sigma**2 / 2}
    hit = dict.fromkeys(truth, 0)
    for i in range(reps):
        out = equity.inequality(pd.DataFrame({"y": rng.lognormal(0, sigma, 60)}), "y", n_boot=499, seed=i,
                                interval="studentized")
        out = out.set_index("statistic")
        for k, v in truth.items():
            hit[k] += _covers(out.loc[k, "lowercl"], out.loc[k, "uppercl"], v)
    return [
        Row("equity.inequality (60 units, lognormal 1)", f"95% Pareto-tail bootstrap-t interval, {k} index", "95%",
            coverage=(hit[k], reps), datasets=f"{reps}")
        for k in truth
    ]


def study_gaps_rule(rng: np.random.Generator, reps: int) -> list[Row]:
    family = power = 0
    for planted in (False, True):
        for _ in range(reps):
            z = rng.normal(0, 1, 20)
            if planted:
                z[:3] -= 3.5
            found = compare.gaps_rule(2 * sps.norm.sf(np.abs(z)))
            if planted:
                power += int(found[:3].sum())
            else:
                family += bool(found.any())
    return [Row("compare.gaps_rule (20 comparisons)", "any finding (BH 5%); 3 planted at z = -3.5", "<=5% a family",
                false_alarm=(family, reps), power=(power, 3 * reps), datasets=f"{reps} + {reps}")]


STUDIES: dict[str, tuple[Callable[[np.random.Generator, int], list[Row]], int]] = {
    # name: (study, its share of the repetitions: forecasts are slow)
    "wilson": (study_wilson, 1),
    "dsr": (study_dsr, 1),
    "funnel": (study_funnel, 1),
    "control_chart": (study_control_chart, 1),
    "shifts": (study_shifts, 2),
    "binomial_trend": (study_binomial_trend, 1),
    "firth": (study_firth, 1),
    "gaps_rule": (study_gaps_rule, 1),
    "compare": (study_compare, 1),
    "referral_ratios": (study_referral_ratios, 1),
    "referral_model": (study_referral_model, 1),
    "satisfaction": (study_satisfaction, 1),
    "attrition": (study_attrition, 1),
    "trend": (study_trend, 1),
    "inequality": (study_inequality, 1),
    "forecast": (study_forecast, 2),
}


def print_table(rows: list[Row]) -> None:
    head = ["analysis", "flag rule / interval", "nominal", "false alarm (no effect)", "coverage (planted)",
            "power (planted)", "n data sets"]
    body = [[r.analysis, r.rule, r.nominal, _rate(r.false_alarm), _rate(r.coverage), _rate(r.power), r.datasets]
            for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*head))
    print("  ".join("-" * w for w in widths))
    for b in body:
        print(line.format(*b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="60 data sets a study (30 for forecasts)")
    parser.add_argument("--reps", type=int, default=None, help="data sets a study (default 400, quick 60)")
    parser.add_argument("--only", nargs="*", choices=list(STUDIES), help="run only these studies")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    reps = args.reps or (60 if args.quick else 400)
    warnings.simplefilter("ignore")
    rows: list[Row] = []
    start = time.perf_counter()
    for i, (name, (study, divide)) in enumerate(STUDIES.items()):
        if args.only and name not in args.only:
            continue
        t0 = time.perf_counter()
        rows += study(np.random.default_rng([args.seed, i]), max(reps // divide, 10))
        print(f"  ({name}: {time.perf_counter() - t0:.0f} s)", flush=True)
    print()
    print_table(rows)
    print(f"\nRates are shares of data sets (per-unit flags: of units), Monte Carlo standard error in brackets; "
          f"n = data sets with no effect + with an effect planted. Took {time.perf_counter() - start:.0f} s.")


if __name__ == "__main__":
    main()
