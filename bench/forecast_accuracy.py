"""Benchmark: forecast accuracy on the real shared police.uk data (Leicestershire).

Force x crime type (14 monthly series, 2019-12 to 2022-11): hold out the last 12 months, fit on the rest, and
print per method the mean MASE, the geometric-mean MAE relative to seasonal naive, the 80% and 95% interval
coverage of held-out months, and the run time. ``--districts`` adds district x crime type (9 x 14 series).

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

CONFIG = Path(__file__).resolve().parents[1] / "data" / "areas" / "leicestershire.toml"


def score(counts: pd.DataFrame, keys: list[str], jobs: int) -> pd.DataFrame:
    last = counts["month"].max()
    train = counts[counts["month"] <= last - 12]
    test = counts[counts["month"] > last - 12]
    rows = []
    for method in ["snaive", "naive", "ets", "sarimax", "glm", "auto"]:
        start = time.perf_counter()
        fc = F.forecast(train, horizon=12, keys=keys, method=method, origins=0 if method != "auto" else 3, n_jobs=jobs)
        seconds = time.perf_counter() - start
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
    return pd.DataFrame(out)


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
    print(score(force, ["crime_type"], args.jobs).round(3).to_string(index=False))
    if args.districts:
        dist = (
            crimes.dropna(subset=["district_code"])
            .groupby(["district_code", "crime_type", "month"], observed=False)
            .size()
            .rename("count")
            .reset_index()
        )
        dist["crime_type"] = dist["crime_type"].astype(str)
        print(f"\nDistrict x crime type: {dist.groupby(['district_code', 'crime_type']).ngroups} series")
        print(score(dist, ["district_code", "crime_type"], args.jobs).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
