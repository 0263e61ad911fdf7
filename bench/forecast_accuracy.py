"""Benchmark: forecast accuracy on the real shared police.uk data (Leicestershire).

Force x crime type (14 monthly series, 2019-12 to 2022-11): hold out the last 12 months, fit on the rest, and
print per method the mean MASE, the geometric-mean MAE relative to seasonal naive, the 80% and 95% interval
coverage of held-out months, and the run time. ``--districts`` adds district x crime type (9 x 14 series):
the same table, the wall time of ``method="auto"`` with its backtest (target under 60 s on 2 cores), and the
held-out accuracy at the force-total and district levels of the unreconciled base forecasts of those levels,
bottom-up sums, and MinT (shrinkage), WLS and OLS reconciliation (:func:`victimneeds.forecast.reconcile`).

When statsforecast is installed (the optional ``bench`` extra), its AutoETS and AutoARIMA run on the same split
in the same process (:func:`forecast_origins.statsforecast_peers`).

The rolling-origin evaluation over every force in the shared data (several origins, horizons 1-12, yearly
totals) is ``bench/forecast_origins.py``.

Run: ``python bench/forecast_accuracy.py [--districts] [--jobs 2]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import victimneeds as vn
from victimneeds import forecast as F

try:  # run as a script from bench/ or as a module from the repository root
    from forecast_origins import statsforecast_peers
except ImportError:  # pragma: no cover
    from bench.forecast_origins import statsforecast_peers

CONFIG = Path(__file__).resolve().parents[1] / "data" / "areas" / "leicestershire.toml"


def split(counts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    last = counts["month"].max()
    return counts[counts["month"] <= last - 12], counts[counts["month"] > last - 12]


def score(counts: pd.DataFrame, keys: list[str], jobs: int) -> tuple[pd.DataFrame, F.ForecastResult]:
    train, test = split(counts)
    rows = []
    auto = None
    for method in ["snaive", "naive", "ets", "sarimax", "glm", "auto", "combination"]:
        start = time.perf_counter()
        backtested = method in ("auto", "combination")
        fc = F.forecast(train, horizon=12, keys=keys, method=method, origins=3 if backtested else 0, n_jobs=jobs)
        seconds = time.perf_counter() - start
        if method == "auto":
            auto = fc
        m = fc.table.merge(test, on=[*keys, "month"])
        m["ae"] = (m["count"] - m["mean"]).abs()
        m["in80"] = (m["count"] >= m["lower_80"]) & (m["count"] <= m["upper_80"])
        m["in95"] = (m["count"] >= m["lower_95"]) & (m["count"] <= m["upper_95"])
        per = m.groupby(keys).agg(mae=("ae", "mean"))
        per["mase"] = [
            F.mase(test_s["count"], fc_s["mean"], train_s["count"])
            for (_, test_s), (_, fc_s), (_, train_s) in zip(
                m.groupby(keys), m.groupby(keys), train.groupby(keys), strict=True
            )
        ]
        rows.append(
            {
                "method": method,
                "mae": per["mae"],
                "mase": per["mase"].mean(),
                "coverage_80": m["in80"].mean(),
                "coverage_95": m["in95"].mean(),
                "seconds": seconds,
            }
        )
    # the peers from statsforecast (AutoETS, AutoARIMA), on the same split, when installed
    start = time.perf_counter()
    series = train[keys].astype(str).agg(" | ".join, axis=1)
    peers = statsforecast_peers(pd.DataFrame({"series": series, "month": train["month"], "count": train["count"]}))
    if peers is None:
        print("  statsforecast is not installed: its AutoETS and AutoARIMA peers are skipped")
    seconds = time.perf_counter() - start
    test_s = test.assign(series=test[keys].astype(str).agg(" | ".join, axis=1))
    train_s = train.assign(series=series)
    for name, t in (peers or {}).items():
        m = t.merge(test_s, on=["series", "month"])
        m["ae"] = (m["count"] - m["mean"]).abs()
        per = m.groupby(keys).agg(mae=("ae", "mean"))
        mases = [
            F.mase(g["count"], g["mean"], train_s.loc[train_s["series"] == sid, "count"])
            for sid, g in m.groupby("series")
        ]
        rows.append(
            {
                "method": name,
                "mae": per["mae"],
                "mase": float(np.nanmean(mases)),
                "coverage_80": ((m["count"] >= m["lower_80"]) & (m["count"] <= m["upper_80"])).mean(),
                "coverage_95": ((m["count"] >= m["lower_95"]) & (m["count"] <= m["upper_95"])).mean(),
                "seconds": seconds,
            }
        )
    base = rows[0]["mae"]
    out = []
    for r in rows:
        rel = (r["mae"] / base).replace([np.inf, 0], np.nan).dropna()
        out.append(
            {
                "method": r["method"],
                "mean_MASE": r["mase"],
                "gmean_relMAE_vs_snaive": float(np.exp(np.log(rel).mean())),
                "coverage_80": r["coverage_80"],
                "coverage_95": r["coverage_95"],
                "seconds": r["seconds"],
            }
        )
    return pd.DataFrame(out), auto


def reconciliation(fc: F.ForecastResult, counts: pd.DataFrame, jobs: int) -> pd.DataFrame:
    """Held-out accuracy at the force-total and district levels, base vs bottom-up vs MinT/WLS/OLS."""
    train, test = split(counts)
    levels = [(), ("district_code",)]
    start = time.perf_counter()
    base = F.aggregate_forecasts(fc, levels)
    t_base = time.perf_counter() - start
    print(f"Base forecasts of the 1 force total and 9 district totals (auto, backtest): {t_base:.1f} s")
    recs = {}
    for method in ["bottom_up", "mint_shrink", "wls", "ols"]:
        start = time.perf_counter()
        recs[method] = F.reconcile(fc, levels, method=method, base=None if method == "bottom_up" else base)
        print(f"reconcile({method!r}): {time.perf_counter() - start:.2f} s", end="")
        info = recs[method].attrs.get("reconciliation")
        print(f"; shrinkage lambda {info['shrinkage_lambda']:.3f}" if method == "mint_shrink" else "")
    # the unreconciled base forecasts, laid out like a reconciled table
    rec = recs["mint_shrink"]
    recs = {"base (unreconciled)": rec.assign(**{c: np.nan for c in ["lower_80", "upper_80"]}), **recs}
    recs["base (unreconciled)"]["mean"] = rec["base_mean"]
    for keep, b in zip(levels, base, strict=True):
        sel = recs["base (unreconciled)"]["level"] == ("+".join(keep) or "total")
        key = [*keep, "month"]
        merged = recs["base (unreconciled)"].loc[sel, key].merge(b.table, on=key, how="left")
        for c in ["lower_80", "upper_80", "lower_95", "upper_95"]:
            recs["base (unreconciled)"].loc[sel, c] = merged[c].to_numpy()
    rows = []
    for keep in levels:
        lab = "+".join(keep) or "total"
        truth = test.groupby([*keep, "month"], observed=True)["count"].sum().reset_index()
        hist = train.groupby([*keep, "month"], observed=True)["count"].sum().reset_index()
        for name, r in recs.items():
            m = r[r["level"] == lab].merge(truth, on=[*keep, "month"])
            m["ae"] = (m["count"] - m["mean"]).abs()
            groups = m.groupby(list(keep)) if keep else [((), m)]
            mases, maes = [], []
            for k, part in groups:
                k = k if isinstance(k, tuple) else (k,)
                h = hist
                for col, v in zip(keep, k, strict=True):
                    h = h[h[col] == v]
                mases.append(F.mase(part["count"], part["mean"], h.sort_values("month")["count"]))
                maes.append(part["ae"].mean())
            rows.append(
                {
                    "level": "force total" if not keep else "district",
                    "forecast": name,
                    "series": len(maes),
                    "mean_MAE": float(np.mean(maes)),
                    "mean_MASE": float(np.mean(mases)),
                    "coverage_80": float(((m["count"] >= m["lower_80"]) & (m["count"] <= m["upper_80"])).mean()),
                    "coverage_95": float(((m["count"] >= m["lower_95"]) & (m["count"] <= m["upper_95"])).mean()),
                }
            )
    out = pd.DataFrame(rows)
    bu = out[out["forecast"] == "bottom_up"].set_index("level")["mean_MAE"]
    out["MAE_vs_bottom_up"] = out["mean_MAE"] / out["level"].map(bu)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--districts", action="store_true")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    data = vn.io.load_area(CONFIG)
    crimes = data.crimes
    force = crimes.groupby(["month", "crime_type"], observed=False).size().rename("count").reset_index()
    force["crime_type"] = force["crime_type"].astype(str)
    pd.set_option("display.width", 160)
    print(
        f"Force x crime type: {force['crime_type'].nunique()} series, {force['month'].min()} to "
        f"{force['month'].max()}, last 12 months held out"
    )
    print(score(force, ["crime_type"], args.jobs)[0].round(3).to_string(index=False))
    if args.districts:
        dist = (
            crimes.dropna(subset=["district_code"])
            .groupby(["district_code", "crime_type", "month"], observed=False)
            .size()
            .rename("count")
            .reset_index()
        )
        dist["crime_type"] = dist["crime_type"].astype(str)
        print(
            f"\nDistrict x crime type: {dist.groupby(['district_code', 'crime_type']).ngroups} series, "
            f"{args.jobs} process(es), last 12 months held out"
        )
        table, auto = score(dist, ["district_code", "crime_type"], args.jobs)
        print(table.round(3).to_string(index=False))
        auto_s = float(table.loc[table["method"] == "auto", "seconds"].iloc[0])
        print(f"Wall time, all district x crime type series with the backtest (auto): {auto_s:.1f} s (target < 60 s)")
        print("\nCoherent forecasts, held-out last 12 months (the bottom level is district x crime type):")
        print(reconciliation(auto, dist, args.jobs).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
