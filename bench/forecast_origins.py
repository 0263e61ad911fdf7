"""Benchmark: rolling-origin forecast accuracy and interval coverage on every force in the shared police.uk data.

For each force folder under ``/work/shared/data/policeuk`` (read with :func:`victimneeds.io.read_policeuk`),
monthly counts per crime type (force x crime type) are forecast 12 months ahead from several rolling origins
(the last origin leaves exactly 12 months to score; earlier ones are ``--step`` months apart). Per method it
prints the geometric mean over series of MAE relative to seasonal naive (each series' MAE over all origins and
horizons 1-12), the mean MASE, and the share of held-out months inside the 80% and 95% intervals (pooled), with
the run time. Forecasters (:data:`FORECASTERS`): each candidate alone with its own intervals, ``auto`` and
equal-weight combinations (with intervals from their rank-averaged sample paths, calibrated on each training
window's own backtest when it has 3 origins), and a peer from statsforecast (AutoETS) when that package is installed
(skipped, with a message, when it is not). Naive (the last value repeated) is among the candidates.
``yearly_coverage_80/95`` is the share of 12-month totals (series x origin) inside the year-ahead range of
:meth:`~victimneeds.forecast.ForecastResult.yearly`.

Run: ``python bench/forecast_origins.py [--origins 4] [--step 2] [--jobs 2] [--force leicestershire]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import victimneeds as vn
from victimneeds import forecast as F

DATA = Path("/work/shared/data/policeuk")
H = 12
#: name -> forecast() arguments (single methods alone, uncalibrated, as the models give them)
FORECASTERS = {
    **{m: dict(method=m, origins=0) for m in F.METHODS},
    "auto": dict(method="auto"),
    "combination snaive+naive+sarimax (default)": dict(method="combination"),
    "combination snaive+naive+sarimax, calibrate=False": dict(method="combination", calibrate=False),
    "combination ets+sarimax+naive": dict(method="combination", combination=("ets", "sarimax", "naive")),
}


def monthly(force: str) -> pd.DataFrame:
    crimes = vn.io.read_policeuk(DATA / force, force=force, cache_dir=False).crimes
    t = crimes.groupby(["crime_type", "month"], observed=True).size().rename("count").reset_index()
    t["crime_type"] = t["crime_type"].astype(str)
    return t


def _statsforecast(train: pd.DataFrame) -> pd.DataFrame | None:
    try:
        from statsforecast import StatsForecast
        from statsforecast.models import AutoETS
    except ImportError:
        return None
    df = pd.DataFrame(
        {"unique_id": train["crime_type"], "ds": train["month"].dt.to_timestamp(), "y": train["count"].astype(float)}
    )
    sf = StatsForecast(models=[AutoETS(season_length=12)], freq="MS")
    out = sf.forecast(df=df, h=H, level=[80, 95]).reset_index()
    out = out.rename(
        columns={
            "unique_id": "crime_type",
            "AutoETS": "mean",
            "AutoETS-lo-80": "lower_80",
            "AutoETS-hi-80": "upper_80",
            "AutoETS-lo-95": "lower_95",
            "AutoETS-hi-95": "upper_95",
        }
    )
    out["month"] = pd.PeriodIndex(out["ds"], freq="M")
    return out


def evaluate(counts: pd.DataFrame, origins: int, step: int, jobs: int) -> pd.DataFrame:
    last = counts["month"].max()
    cuts = [last - H - step * k for k in range(origins)][::-1]
    rows, yearly, seconds = [], [], {}
    peer_missing = False
    for cut in cuts:
        train, test = counts[counts["month"] <= cut], counts[(counts["month"] > cut) & (counts["month"] <= cut + H)]
        tables = {}
        for name, kw in FORECASTERS.items():
            start = time.perf_counter()
            fc = F.forecast(train, horizon=H, keys=["crime_type"], n_jobs=jobs, **kw)
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
            tables[name] = fc.table
            # the 12-month total: the year_ahead 1 range from yearly() against the true total
            total = test.groupby("crime_type")["count"].agg(["sum", "size"])
            yr = fc.yearly().query("year_ahead == 1").join(total, on="crime_type")
            yr = yr[yr["size"] == H]
            yearly.append(
                pd.DataFrame(
                    {
                        "forecaster": name,
                        "in80": (yr["sum"] >= yr["lower_80"]) & (yr["sum"] <= yr["upper_80"]),
                        "in95": (yr["sum"] >= yr["lower_95"]) & (yr["sum"] <= yr["upper_95"]),
                    }
                )
            )
        peer = _statsforecast(train)
        if peer is None:
            peer_missing = True
        else:
            tables["statsforecast AutoETS"] = peer
        for m, t in tables.items():
            merged = t.merge(test, on=["crime_type", "month"])
            merged["origin"] = str(cut)
            merged["forecaster"] = m
            merged["h"] = (merged["month"] - cut).map(lambda d: d.n)
            rows.append(
                merged[
                    [
                        "forecaster",
                        "crime_type",
                        "origin",
                        "month",
                        "h",
                        "count",
                        "mean",
                        "lower_80",
                        "upper_80",
                        "lower_95",
                        "upper_95",
                    ]
                ]
            )
    if peer_missing:
        print("  statsforecast is not installed: the AutoETS peer is skipped (pip install statsforecast)")
    scored = pd.concat(rows, ignore_index=True)
    scored["ae"] = (scored["count"] - scored["mean"]).abs()
    scored["in80"] = (scored["count"] >= scored["lower_80"]) & (scored["count"] <= scored["upper_80"])
    scored["in95"] = (scored["count"] >= scored["lower_95"]) & (scored["count"] <= scored["upper_95"])
    mae = scored.groupby(["forecaster", "crime_type"])["ae"].mean().unstack("forecaster")
    rel = mae.div(mae["snaive"], axis=0).replace([np.inf, 0], np.nan)
    out = pd.DataFrame(
        {
            "gmean_relMAE_vs_snaive": np.exp(np.log(rel).mean()),
            "coverage_80": scored.groupby("forecaster")["in80"].mean(),
            "coverage_95": scored.groupby("forecaster")["in95"].mean(),
            "months_scored": scored.groupby("forecaster").size(),
        }
    )
    yr = pd.concat(yearly, ignore_index=True).groupby("forecaster")
    out["yearly_coverage_80"] = yr["in80"].mean()
    out["yearly_coverage_95"] = yr["in95"].mean()
    out["seconds"] = pd.Series(seconds)
    return out.sort_values("gmean_relMAE_vs_snaive"), scored


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--origins", type=int, default=4)
    parser.add_argument("--step", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--force", action="append")
    parser.add_argument("--save", type=Path, help="write the scored months (CSV) here")
    args = parser.parse_args()
    pd.set_option("display.width", 160)
    forces = args.force or sorted(p.name for p in DATA.iterdir() if p.is_dir())
    for force in forces:
        counts = monthly(force)
        print(
            f"\n{force}: {counts['crime_type'].nunique()} crime types, {counts['month'].min()} to "
            f"{counts['month'].max()} ({counts['month'].nunique()} months with data); {args.origins} origins "
            f"{args.step} months apart, horizons 1-{H}"
        )
        table, scored = evaluate(counts, args.origins, args.step, args.jobs)
        print(table.round(3).to_string())
        if args.save:
            scored.assign(force=force).to_csv(args.save.with_name(f"{args.save.stem}_{force}.csv"), index=False)


if __name__ == "__main__":
    main()
