"""Benchmark: rolling-origin forecast accuracy and interval coverage on every force in the shared police.uk data.

For each force folder under ``/work/shared/data/policeuk`` (read with :func:`victimneeds.io.read_policeuk`),
monthly counts per crime type (force x crime type; with ``--level district``, district x crime type, the crimes
read through an area configuration with :func:`victimneeds.load`, see :data:`AREAS`) are forecast 12 months
ahead from several rolling origins
(the last origin leaves exactly 12 months to score; earlier ones are ``--step`` months apart). Per method it
prints the geometric mean over series of MAE relative to seasonal naive (each series' MAE over all origins and
horizons 1-12), the mean MASE, and the share of held-out months inside the 80% and 95% intervals (pooled), with
the run time. Forecasters (:data:`FORECASTERS`): each candidate alone with its own intervals, ``auto`` and
equal-weight combinations (with intervals from their rank-averaged sample paths, calibrated on each training
window's own backtest: the variance and correlation of its standardised h-step errors, pooled over series), and two
peers from statsforecast (AutoETS and AutoARIMA, season 12,
:func:`statsforecast_peers`) when that package is installed (the optional ``bench`` extra; skipped, with a
message, when it is not, or with ``--no-peers``). Naive (the last value repeated) is among the candidates.
``yearly_coverage_80/95`` is the share of 12-month totals (series x origin) inside the year-ahead range of
:meth:`~victimneeds.forecast.ForecastResult.yearly` (sample-path totals); ``yearly_summed_limits_80/95`` the share
inside the sums of the monthly limits.

With ``--level district`` it first times "forecasting every district x crime-type series of the force with its
backtest" (the default method, 24 months ahead, ``--jobs`` processes) on all the months the area has.
``--only`` picks forecasters by name (separated by ";"; ``snaive`` is always added, as the reference).

Run: ``python bench/forecast_origins.py [--origins 4] [--step 2] [--jobs 2] [--force leicestershire]
[--level district] [--only "naive;combination (default: snaive+naive+sarimax+seasonal_level)"] [--no-peers]``.
The Avon and Somerset area configuration is made with
``victimneeds init avon-and-somerset --dest /tmp/avon --data-dir /work/shared/data``.
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
#: force -> area configuration, for ``--level district`` (Leicestershire's keeps its 36 consecutive months)
AREAS = {
    "leicestershire": Path(__file__).resolve().parents[1] / "data/areas/leicestershire.toml",
    "avon-and-somerset": Path("/tmp/avon/avon-and-somerset.toml"),
}
H = 12
#: name -> forecast() arguments (single methods alone, uncalibrated, as the models give them)
FORECASTERS = {
    **{m: dict(method=m, origins=0) for m in F.METHODS},
    "seasonal_level": dict(method="seasonal_level", origins=0),
    "auto": dict(method="auto"),
    "combination (default: snaive+naive+sarimax+seasonal_level)": dict(method="combination"),
    "combination default, calibrate=False": dict(method="combination", calibrate=False),
    "combination snaive+naive+sarimax (the default before)": dict(
        method="combination", combination=("snaive", "naive", "sarimax")
    ),
    "combination ets+sarimax+naive": dict(method="combination", combination=("ets", "sarimax", "naive")),
    # the Theta method alone and as a member (a candidate improvement, not the default)
    "theta": dict(method="theta", origins=0),
    "combination snaive+naive+sarimax+theta": dict(
        method="combination", combination=("snaive", "naive", "sarimax", "theta")
    ),
    # the seasonal level's profile pooled over related series (``season_keys``): at district level that of the
    # crime type's total over the force's districts; at either level that of all the series' total
    "default, seasonal profile of the crime type over districts": dict(method="combination", _season="crime_type"),
    "default, seasonal profile of all series' total": dict(method="combination", _season="all"),
    # the seasonal level's profile as it was before: classical decomposition (lockdown gaps leave no complete
    # 13-month window in these training spans, so the profile is flat); and gap-tolerant but not shrunk
    "default before: classical seasonal profile": dict(method="combination", _min_known=13, _shrink=False),
    "default, gap-tolerant profile not shrunk": dict(method="combination", _shrink=False),
}
_COMBO = F.COMBINATION


def _run(train: pd.DataFrame, keys: list[str], jobs: int, kw: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The monthly table and the yearly() table of a forecaster, both with the ``series`` column."""
    kw = dict(kw)
    season = kw.pop("_season", None)
    # the seasonal level's profile settings (forecast() starts its worker processes from this one, so they see them)
    profile = {k: kw.pop(f"_{k}") for k in ("min_known", "shrink") if f"_{k}" in kw}
    if profile:
        saved = (F.methods.PROFILE_MIN_KNOWN, F.methods.PROFILE_SHRINK)
        F.methods.PROFILE_MIN_KNOWN = profile.get("min_known", saved[0])
        F.methods.PROFILE_SHRINK = profile.get("shrink", saved[1])
        try:
            return _run(train, keys, jobs, {**kw, "_season": season} if season else kw)
        finally:
            F.methods.PROFILE_MIN_KNOWN, F.methods.PROFILE_SHRINK = saved
    if kw.get("method") == "combination":
        # only the members' backtests matter for a combination's forecast and calibration (seeded, so the
        # forecast is the same as with every candidate backtested, only faster)
        kw.setdefault("methods", tuple(kw.get("combination", _COMBO)))
    if season is None:
        fc = F.forecast(train, horizon=H, keys=keys, n_jobs=jobs, **kw)
        return fc.table, fc.yearly()
    split = train["series"].str.contains(" | ", regex=False).all()
    if season == "crime_type" and not split:
        raise SystemExit("the crime type's profile over districts needs --level district")
    if split:
        parts = train["series"].str.split(" | ", n=1, regex=False, expand=True)
        train = train.assign(district=parts[0], crime_type=parts[1])
        keys = ["district", "crime_type"]
    kw["season_keys"] = ["crime_type"] if season == "crime_type" else []
    fc = F.forecast(train.drop(columns="series") if split else train, horizon=H, keys=keys, n_jobs=jobs, **kw)
    table, yearly = fc.table, fc.yearly()
    if split:
        table = table.assign(series=table["district"].astype(str) + " | " + table["crime_type"].astype(str))
        yearly = yearly.assign(series=yearly["district"].astype(str) + " | " + yearly["crime_type"].astype(str))
    return table, yearly


def monthly(force: str, level: str = "force") -> pd.DataFrame:
    """Monthly counts per crime type (and district, with ``level="district"``), in column ``series``.

    A month the force published in which a series recorded no crime is a count of 0, not a missing month (a
    long table from a group-by leaves it out, and the forecasts would treat it as a gap): every series gets
    every month the force's files cover from its first month on. Months with no file stay missing.
    """
    if level == "district":
        crimes = vn.load(AREAS[force]).crimes
        crimes = crimes[crimes["district_code"].notna()]
        name = crimes["district_code"].astype(str) + " | " + crimes["crime_type"].astype(str)
    else:
        crimes = vn.io.read_policeuk(DATA / force, force=force, cache_dir=False).crimes
        name = crimes["crime_type"].astype(str)
    months = pd.PeriodIndex(sorted(crimes["month"].unique()), freq="M")
    t = crimes.assign(series=name).groupby(["series", "month"], observed=True).size().rename("count")
    t = t.unstack("month").reindex(columns=months).rename_axis(columns="month")
    first = t.notna().to_numpy().argmax(axis=1)
    t = t.fillna(0).where(np.arange(len(months))[None, :] >= first[:, None])
    t = t.stack(future_stack=True).dropna().rename("count").reset_index()
    t["count"] = t["count"].astype(float)
    return t[["series", "month", "count"]]


#: the peers from statsforecast: name in the tables -> model class name
PEERS = {"statsforecast AutoETS": "AutoETS", "statsforecast AutoARIMA": "AutoARIMA"}


def statsforecast_peers(train: pd.DataFrame, h: int = H) -> dict[str, pd.DataFrame] | None:
    """Forecasts of every series in ``train`` (``series, month, count``) by statsforecast's AutoETS and AutoARIMA
    (season 12, 80% and 95% intervals), or None when statsforecast is not installed (an optional bench extra).

    Those models need an unbroken monthly series, so each series keeps its last run of consecutive months (in
    the shared data only Leicestershire's early block, 2018-10 to 2019-02, is left out)."""
    try:
        from statsforecast import StatsForecast
        from statsforecast.models import AutoARIMA, AutoETS
    except ImportError:
        return None
    parts = []
    for key, g in train.sort_values("month").groupby("series"):
        pos = (g["month"] - g["month"].min()).map(lambda d: d.n).to_numpy()
        brk = np.flatnonzero(np.diff(pos) > 1)
        g = g.iloc[brk[-1] + 1 :] if len(brk) else g
        ds = g["month"].dt.to_timestamp()
        parts.append(pd.DataFrame({"unique_id": key, "ds": ds, "y": g["count"].astype(float)}))
    df = pd.concat(parts, ignore_index=True)
    sf = StatsForecast(models=[AutoETS(season_length=12), AutoARIMA(season_length=12)], freq="MS", n_jobs=1)
    out = sf.forecast(df=df, h=h, level=[80, 95])
    out = out.reset_index() if "unique_id" not in out.columns else out
    tables = {}
    for name, model in PEERS.items():
        t = pd.DataFrame(
            {
                "series": out["unique_id"],
                "month": pd.PeriodIndex(out["ds"], freq="M"),
                "mean": out[model].clip(lower=0),
                "lower_80": out[f"{model}-lo-80"].clip(lower=0),
                "upper_80": out[f"{model}-hi-80"],
                "lower_95": out[f"{model}-lo-95"].clip(lower=0),
                "upper_95": out[f"{model}-hi-95"],
            }
        )
        tables[name] = t
    return tables


def evaluate(
    counts: pd.DataFrame, origins: int, step: int, jobs: int, forecasters: dict | None = None, peers: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    last = counts["month"].max()
    cuts = [last - H - step * k for k in range(origins)][::-1]
    rows, yearly, seconds = [], [], {}
    peer_missing = False
    for cut in cuts:
        train, test = counts[counts["month"] <= cut], counts[(counts["month"] > cut) & (counts["month"] <= cut + H)]
        tables = {}
        for name, kw in (forecasters or FORECASTERS).items():
            start = time.perf_counter()
            table, yearly_table = _run(train, ["series"], jobs, kw)
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
            tables[name] = table
            # the 12-month total: the year_ahead 1 range from yearly() against the true total
            total = test.groupby("series")["count"].agg(["sum", "size"])
            yr = yearly_table.query("year_ahead == 1").join(total, on="series")
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
        if peers:
            start = time.perf_counter()
            peer = statsforecast_peers(train)
            if peer is None:
                peer_missing = True
            else:
                tables.update(peer)
                for name in peer:  # the two peers are fitted together: each row shows their joint time
                    seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
        for m, t in tables.items():
            merged = t.merge(test, on=["series", "month"])
            merged["origin"] = str(cut)
            merged["forecaster"] = m
            merged["h"] = (merged["month"] - cut).map(lambda d: d.n)
            rows.append(
                merged[
                    [
                        "forecaster",
                        "series",
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
        print("  statsforecast is not installed: its AutoETS and AutoARIMA peers are skipped (pip install '.[bench]')")
    scored = pd.concat(rows, ignore_index=True)
    scored["ae"] = (scored["count"] - scored["mean"]).abs()
    scored["in80"] = (scored["count"] >= scored["lower_80"]) & (scored["count"] <= scored["upper_80"])
    scored["in95"] = (scored["count"] >= scored["lower_95"]) & (scored["count"] <= scored["upper_95"])
    mae = scored.groupby(["forecaster", "series"])["ae"].mean().unstack("forecaster")
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
    # the same 12-month totals against the sums of the monthly limits (the old, cautious yearly range)
    g = scored.groupby(["forecaster", "series", "origin"]).agg(
        n=("count", "size"),
        y=("count", "sum"),
        **{c: (c, "sum") for c in ("lower_80", "upper_80", "lower_95", "upper_95")},
    )
    g = g[g["n"] == H]
    for lv in (80, 95):
        inside = (g["y"] >= g[f"lower_{lv}"]) & (g["y"] <= g[f"upper_{lv}"])
        out[f"yearly_summed_limits_{lv}"] = inside.groupby("forecaster").mean()
    out["seconds"] = pd.Series(seconds)
    return out.sort_values("gmean_relMAE_vs_snaive"), scored


def time_full(counts: pd.DataFrame, jobs: int) -> tuple[float, float]:
    """Wall-clock seconds, and CPU seconds of this process and its workers, to forecast every series 24 months
    ahead with the default method and its backtest (on a shared machine the CPU time divided by the processes
    is what the wall time would be with the cores to itself)."""
    import resource

    def cpu() -> float:
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    start, start_cpu = time.perf_counter(), cpu()
    F.forecast(counts, horizon=24, keys=["series"], n_jobs=jobs)
    return time.perf_counter() - start, cpu() - start_cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--origins", type=int, default=4)
    parser.add_argument("--step", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--force", action="append")
    parser.add_argument("--level", choices=["force", "district"], default="force")
    parser.add_argument("--only", help="forecaster names separated by ';' (snaive is always added)")
    parser.add_argument("--no-timing", action="store_true", help="skip the full-forecast timing (district level)")
    parser.add_argument("--timing-only", action="store_true", help="only the full-forecast timing (district level)")
    parser.add_argument("--save", type=Path, help="write the scored months (CSV) here")
    parser.add_argument("--no-peers", action="store_true", help="skip the statsforecast peers")
    args = parser.parse_args()
    pd.set_option("display.width", 160)
    forecasters = FORECASTERS
    if args.only:
        names = ["snaive", *[n.strip() for n in args.only.split(";") if n.strip() != "snaive"]]
        unknown = [n for n in names if n not in FORECASTERS]
        if unknown:
            raise SystemExit(f"unknown forecasters {unknown}; choose from {list(FORECASTERS)}")
        forecasters = {n: FORECASTERS[n] for n in names}
    forces = args.force or sorted(p.name for p in DATA.iterdir() if p.is_dir())
    for force in forces:
        counts = monthly(force, args.level)
        print(
            f"\n{force} ({args.level} x crime type): {counts['series'].nunique()} series, {counts['month'].min()} to "
            f"{counts['month'].max()} ({counts['month'].nunique()} months with data); {args.origins} origins "
            f"{args.step} months apart, horizons 1-{H}",
            flush=True,
        )
        if args.level == "district" and not args.no_timing:
            secs, cpu = time_full(counts, args.jobs)
            print(
                f"  forecasting all {counts['series'].nunique()} series 24 months ahead, default method with its "
                f"backtest, {args.jobs} processes: {secs:.1f} s wall, {cpu:.1f} s CPU",
                flush=True,
            )
        if args.timing_only:
            continue
        table, scored = evaluate(counts, args.origins, args.step, args.jobs, forecasters, not args.no_peers)
        print(table.round(3).to_string(), flush=True)
        if args.save:
            name = f"{args.save.stem}_{force}_{args.level}.csv"
            scored.assign(force=force).to_csv(args.save.with_name(name), index=False)


if __name__ == "__main__":
    main()
