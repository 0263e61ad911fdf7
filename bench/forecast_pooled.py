"""Benchmark: pooled (global) combination weights and calibrated yearly ranges, on rolling origins.

Every candidate method (:data:`MEMBERS`) is fitted once per series and forecast origin (``--origins`` origins two
months apart, the last leaving 12 months to score, plus ``--inner`` earlier origins used only to choose weights),
and its forecast mean and sample paths are kept (``--cache``, so that strategies can be compared without refitting).
Strategies are then scored on the evaluation origins only; anything a strategy learns from the data (pooled
weights, the chosen subset, a yearly calibration factor) at evaluation origin ``c`` uses only forecasts made at
origins before ``c`` and only the months up to ``c`` (no peeking). Printed per force and level: the geometric mean
over series of MAE relative to seasonal naive (each series' MAE over all evaluation origins and horizons 1-12),
the pooled 80% / 95% monthly coverage, and yearly-total 80% / 95% coverage.

Strategies: each member alone; equal-weight combinations (mean, and the median of all six); pooled selection, the
equal-weight subset (up to 4 members) with the lowest MASE pooled over all the force's series at that level;
pooled inverse-MASE weights shrunk halfway (or not) toward equal weights; the library's ``seasonal_level`` member
(profile of the crime type's total over districts, or each series' own) alone and added to the default. Yearly
ranges as the paths give them (``year80/95``) and calibrated by a split-conformal factor on the log scale from
the totals of windows of at least 6 months known before the origin (``year80/95_conformal``, for three
forecasters). Samples 250 of each member's paths (intervals are quantiles of the rank-averaged paths, as in
:func:`victimneeds.forecast._rank_average`).

References: Lei J, G'Sell M, Rinaldo A, Tibshirani RJ, Wasserman L (2018). Distribution-free predictive inference
for regression. JASA 113:1094-1111. Kolassa S (2011). Combining exponential smoothing forecasts using Akaike
weights. International Journal of Forecasting 27:238-251 (weights from fit, shrunk toward equal).

Run: ``python bench/forecast_pooled.py --force leicestershire --level district [--jobs 2]``; the counts are read
as in ``bench/forecast_origins.py``.
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from victimneeds import forecast as F

MEMBERS = ("snaive", "naive", "ets", "sarimax", "glm", "theta")
H = 12
KEEP_PATHS = 250


def _fit_one(job: tuple) -> tuple:
    from threadpoolctl import threadpool_limits

    key, y, months, cut_pos, members = job
    out = {}
    with threadpool_limits(limits=1):
        for o in cut_pos:
            if np.isfinite(y[:o]).sum() < 6:
                continue
            for m in members:
                mean, _, _, paths = F._run(m, y[:o], months[:o], H, (0.8, 0.95), True)
                out[(o, m)] = (mean.astype(np.float32), paths[:KEEP_PATHS].astype(np.float32))
    return key, out


def fit_all(counts: pd.DataFrame, n_origins: int, inner: int, jobs: int, members=MEMBERS) -> dict:
    last = counts["month"].max()
    cuts = [last - H - 2 * k for k in range(n_origins + inner)][::-1]
    series = {}
    jobs_ = []
    for key, part in counts.groupby("series"):
        s = part.set_index("month")["count"].sort_index()
        full = pd.period_range(s.index.min(), last, freq="M")
        s = s.reindex(full)
        y = s.to_numpy(dtype=float)
        months = full.astype(str).to_numpy()
        pos = [int((c - full[0]).n) + 1 for c in cuts if c >= full[0]]
        series[key] = dict(y=y, months=months, start=full[0])
        jobs_.append((key, y, months, pos, members))
    with ProcessPoolExecutor(jobs) as pool:
        fits = dict(pool.map(_fit_one, jobs_, chunksize=4))
    return dict(cuts=cuts, n_eval=n_origins, series=series, fits=fits, members=members)


def _cut_pos(info: dict, cut: pd.Period) -> int:
    return int((cut - info["start"]).n) + 1


def _combine(store: dict, names, o: int, how: str = "mean", w=None):
    got = [(m, store[(o, m)]) for m in names if (o, m) in store and np.all(np.isfinite(store[(o, m)][0]))]
    if not got:
        return None
    if w is None:
        wts = np.ones(len(got))
    else:
        wts = np.array([w[m] for m, _ in got], dtype=float)
    if wts.sum() <= 0:
        wts = np.ones(len(got))
    wts = wts / wts.sum()
    means = np.array([g[1][0] for g in got], dtype=float)
    mean = np.median(means, axis=0) if how == "median" else wts @ means
    sorted_paths = [p[np.argsort(p.sum(axis=1), kind="stable")].astype(float) for _, (_, p) in got]
    paths = np.tensordot(wts, np.array(sorted_paths), axes=1)
    return mean, paths


def pooled_errors(data: dict, cut: pd.Period, combos: dict) -> pd.Series:
    """Pooled MASE of each combination over forecasts made before ``cut``, scored on months up to ``cut``."""
    errs = {name: [] for name in combos}
    for key, info in data["series"].items():
        store = data["fits"][key]
        y = info["y"]
        c = _cut_pos(info, cut)
        for o in sorted({o for (o, _) in store}):
            if o >= c:
                continue
            test = y[o : min(o + H, c)]
            ok = np.isfinite(test)
            sc = F._scale(y[:o])
            if not ok.any() or not np.isfinite(sc) or sc <= 0:
                continue
            row = {}
            for name, (names, how, w) in combos.items():
                r = _combine(store, names, o, how, w)
                if r is None:
                    break
                row[name] = np.abs(test[ok] - r[0][: len(test)][ok]) / sc
            if len(row) == len(combos):
                for name in combos:
                    errs[name].append(row[name])
    return pd.Series({k: float(np.mean(np.concatenate(v))) if v else np.nan for k, v in errs.items()})


def strategies(data: dict, members) -> dict:
    """name -> function(cut) -> (names, how, weights)."""
    out = {}
    for r in range(1, len(members) + 1):
        for sub in itertools.combinations(members, r):
            if r == 1 or len(sub) <= 4:
                out["+".join(sub)] = lambda cut, sub=sub: (sub, "mean", None)
    out["median all"] = lambda cut: (members, "median", None)
    return out


def evaluate(data: dict, strat_fns: dict, year_factor=None) -> pd.DataFrame:
    cuts = data["cuts"][-data["n_eval"] :]
    rows = []
    for cut in cuts:
        specs = {name: fn(cut) for name, fn in strat_fns.items()}
        for key, info in data["series"].items():
            store = data["fits"][key]
            y = info["y"]
            o = _cut_pos(info, cut)
            test = y[o : o + H]
            for name, (names, how, w) in specs.items():
                r = _combine(store, names, o, how, w)
                if r is None:
                    continue
                mean, paths = r
                ok = np.isfinite(test)
                lo80, hi80, lo95, hi95 = np.quantile(paths, [0.1, 0.9, 0.025, 0.975], axis=0)
                rec = dict(strategy=name, series=key, cut=str(cut))
                rec["ae_sum"] = float(np.abs(test[ok] - mean[ok]).sum())
                rec["n"] = int(ok.sum())
                rec["in80"] = int(((test >= lo80) & (test <= hi80))[ok].sum())
                rec["in95"] = int(((test >= lo95) & (test <= hi95))[ok].sum())
                if ok.all() and len(test) == H:
                    tot = paths.sum(axis=1)
                    f = (1.0, 1.0) if year_factor is None else year_factor(cut, name)
                    ltot = np.log1p(tot)
                    med = np.median(ltot)
                    qs = np.quantile(ltot, [0.1, 0.9, 0.025, 0.975])
                    lo80y, hi80y, lo95y, hi95y = med + (qs - med) * np.array([f[0], f[0], f[1], f[1]])
                    T = np.log1p(test.sum())
                    rec["y80"] = float(lo80y <= T <= hi80y)
                    rec["y95"] = float(lo95y <= T <= hi95y)
                rows.append(rec)
    return pd.DataFrame(rows)


def summarise(scored: pd.DataFrame) -> pd.DataFrame:
    per = scored.groupby(["strategy", "series"])[["ae_sum", "n"]].sum()
    mae = (per["ae_sum"] / per["n"]).unstack("strategy")
    rel = mae.div(mae["snaive"], axis=0).replace([np.inf, 0], np.nan)
    g = scored.groupby("strategy")
    out = pd.DataFrame(
        {
            "rel_mae": np.exp(np.log(rel).mean()),
            "cov80": g["in80"].sum() / g["n"].sum(),
            "cov95": g["in95"].sum() / g["n"].sum(),
            "year80": g["y80"].mean() if "y80" in scored else np.nan,
            "year95": g["y95"].mean() if "y95" in scored else np.nan,
        }
    )
    return out.sort_values("rel_mae")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--force", required=True)
    p.add_argument("--level", default="force")
    p.add_argument("--origins", type=int, default=4)
    p.add_argument("--inner", type=int, default=4)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--cache", type=Path, default=Path("/tmp"))
    p.add_argument("--subsets", action="store_true", help="also every equal-weight subset of up to 4 members")
    args = p.parse_args()
    path = args.cache / f"fp_fits_{args.force}_{args.level}.pkl"
    if path.exists():
        data = pickle.loads(path.read_bytes())
    else:
        import forecast_origins as fo

        counts = fo.monthly(args.force, args.level)
        t = time.perf_counter()
        data = fit_all(counts, args.origins, args.inner, args.jobs)
        print(f"fitted {len(data['series'])} series x {len(data['cuts'])} origins in {time.perf_counter() - t:.0f} s")
        path.write_bytes(pickle.dumps(data))
    pd.set_option("display.width", 200)
    # the library's seasonal_level member: profile pooled over districts (crime type's total), and own
    add_psl(data, F.LEVEL_MONTHS, "seasonal_level")
    add_psl(data, F.LEVEL_MONTHS, "seasonal_level own", own=True)
    strat, cache = pooled_strategies(data, MEMBERS)
    mem7 = data["members"]
    strat["pooled best subset <=4 (+seasonal_level)"] = lambda cut: (pooled_subset(data, cut, mem7), "mean", None)
    strat["pooled inverse-MASE 0.5 (+seasonal_level)"] = lambda cut: (
        mem7, "mean", pooled_inverse(data, cut, mem7, 0.5))
    for sub in [
        ("seasonal_level",), ("snaive", "naive", "sarimax", "seasonal_level"),
        ("snaive", "naive", "sarimax", "seasonal_level own"), ("naive",), ("sarimax",), ("ets",),
    ]:
        strat["+".join(sub)] = lambda cut, sub=sub: (sub, "mean", None)
    if args.subsets:
        strat.update({k: v for k, v in strategies(data, MEMBERS).items() if k not in strat})
    facs: dict = {}

    def year_factor(cut, name):
        if (cut, name) not in facs:
            facs[(cut, name)] = yearly_factors(data, cut, strat[name](cut), 6)
        return facs[(cut, name)]

    table = summarise(evaluate(data, strat))
    calibrated = ("snaive", "default snaive+naive+sarimax", "snaive+naive+sarimax+seasonal_level")
    yc = summarise(evaluate(data, {k: strat[k] for k in calibrated}, year_factor))[["year80", "year95"]]
    print(f"{args.force} ({args.level}); yearly conformal factors from windows of >= 6 months before each origin")
    print(table.join(yc.add_suffix("_conformal")).round(3).to_string())
    print("pooled best subset chosen at each origin:", {str(k[1]): v for k, v in cache.items() if k[0] == "s4"})


# --------------------------------------------------------------------------------------------------
# Pooled (global) choices, learnt at each evaluation origin from earlier origins only
# --------------------------------------------------------------------------------------------------


def _inner_rows(data: dict, cut: pd.Period, members) -> list[tuple]:
    """(member means, actual months up to cut, scale) for every series and origin before ``cut``."""
    rows = []
    for key, info in data["series"].items():
        store = data["fits"][key]
        y = info["y"]
        c = _cut_pos(info, cut)
        for o in sorted({o for (o, _) in store}):
            if o >= c:
                continue
            test = y[o : min(o + H, c)]
            ok = np.isfinite(test)
            sc = F._scale(y[:o])
            if not ok.any() or not np.isfinite(sc) or sc <= 0:
                continue
            M = np.array([store[(o, m)][0][: len(test)] for m in members], dtype=float)
            if not np.all(np.isfinite(M)):
                continue
            rows.append((M[:, ok], test[ok], sc))
    return rows


def _subsets(members, max_size=4):
    return [s for r in range(1, max_size + 1) for s in itertools.combinations(members, r)]


def pooled_subset(data: dict, cut: pd.Period, members, max_size=4) -> tuple:
    subs = _subsets(members, max_size)
    W = np.array([[1.0 / len(s) if m in s else 0.0 for m in members] for s in subs])
    rows = _inner_rows(data, cut, members)
    tot, n = np.zeros(len(subs)), 0
    for M, test, sc in rows:
        tot += (np.abs(W @ M - test) / sc).sum(axis=1)
        n += len(test)
    return subs[int(np.argmin(tot))]


def pooled_inverse(data: dict, cut: pd.Period, members, shrink=0.5) -> dict:
    rows = _inner_rows(data, cut, members)
    tot = np.zeros(len(members))
    n = 0
    for M, test, sc in rows:
        tot += (np.abs(M - test) / sc).sum(axis=1)
        n += len(test)
    inv = 1 / (tot / n)
    w = (1 - shrink) / len(members) + shrink * inv / inv.sum()
    return dict(zip(members, w, strict=True))


def pooled_strategies(data: dict, members) -> dict:
    cache: dict = {}

    def memo(tag, cut, fn):
        if (tag, cut) not in cache:
            cache[(tag, cut)] = fn()
        return cache[(tag, cut)]

    out = {
        "snaive": lambda cut: (("snaive",), "mean", None),
        "default snaive+naive+sarimax": lambda cut: (("snaive", "naive", "sarimax"), "mean", None),
        "pooled best subset <=4": lambda cut: (
            memo("s4", cut, lambda: pooled_subset(data, cut, members)), "mean", None),
        "pooled best subset <=3": lambda cut: (
            memo("s3", cut, lambda: pooled_subset(data, cut, members, 3)), "mean", None),
        "pooled inverse-MASE, shrink 0.5": lambda cut: (
            members, "mean", memo("i5", cut, lambda: pooled_inverse(data, cut, members, 0.5))),
        "pooled inverse-MASE, shrink 1": lambda cut: (
            members, "mean", memo("i1", cut, lambda: pooled_inverse(data, cut, members, 1.0))),
        "equal all 6": lambda cut: (members, "mean", None),
        "median all 6": lambda cut: (members, "median", None),
    }
    return out, cache


def _profile(ly: np.ndarray, moy: np.ndarray) -> np.ndarray:
    """Month-of-year deviations of a log series from its centred 2x12 moving average (NaN where unknown)."""
    n = len(ly)
    kernel = np.r_[0.5, np.ones(11), 0.5] / 12
    ma = np.full(n, np.nan)
    for t in range(6, n - 6):
        w = ly[t - 6 : t + 7]
        if np.all(np.isfinite(w)):
            ma[t] = w @ kernel
    dev = ly - ma
    prof = np.array([np.nanmean(dev[moy == k]) if np.isfinite(dev[moy == k]).any() else np.nan for k in range(1, 13)])
    return prof - np.nanmean(prof) if np.isfinite(prof).any() else np.zeros(12)


def add_psl(data: dict, k: int = 6, name: str = "psl", own: bool = False) -> None:
    """The library's ``seasonal_level`` member (:func:`victimneeds.forecast._seasonal_level`) at every origin,
    its seasonal profile from the crime type's total over all series sharing it (districts; at force level the
    series itself), cut at the origin."""
    ser = data["series"]
    ctype = {key: key if own else key.split(" | ")[-1] for key in ser}
    pools = {}
    for key, info in ser.items():
        s = pd.Series(info["y"], index=pd.PeriodIndex(info["months"], freq="M"))
        pools[ctype[key]] = s if ctype[key] not in pools else pools[ctype[key]].add(s, fill_value=0)
    pools = {ct: (s.to_numpy(float), s.index.astype(str).to_numpy()) for ct, s in pools.items()}
    saved = F.LEVEL_MONTHS
    F.LEVEL_MONTHS = k
    try:
        for key, info in ser.items():
            store = data["fits"][key]
            for c in sorted({o for (o, _) in store}):
                mean, _, _, paths = F._run(
                    "seasonal_level", info["y"][:c], info["months"][:c], H, (0.8, 0.95), True, pools[ctype[key]]
                )
                store[(c, name)] = (mean.astype(np.float32), paths[:KEEP_PATHS].astype(np.float32))
    finally:
        F.LEVEL_MONTHS = saved
    data["members"] = tuple(dict.fromkeys([*data["members"], name]))


def yearly_factors(data: dict, cut: pd.Period, spec: tuple, kmin: int = 6) -> tuple[float, float]:
    """Conformal factors for the yearly-total ranges, learnt before ``cut``: for every series and earlier origin
    whose first k >= kmin months are known by ``cut`` (k <= 12), the distance of the k-month total from the paths'
    median total, on the log(1 + total) scale, in units of the paths' 80% (95%) half-width on that side; the
    factor is the split-conformal quantile of those scores (Lei et al. 2018)."""
    names, how, w = spec
    scores = {0.8: [], 0.95: []}
    for key, info in data["series"].items():
        store = data["fits"][key]
        y = info["y"]
        c = _cut_pos(info, cut)
        for o in sorted({o for (o, _) in store}):
            k = min(H, c - o)
            if o >= c or k < kmin:
                continue
            test = y[o : o + k]
            if not np.all(np.isfinite(test)):
                continue
            r = _combine(store, names, o, how, w)
            if r is None:
                continue
            tot = np.log1p(r[1][:, :k].sum(axis=1))
            a = np.log1p(test.sum())
            med = np.median(tot)
            for lv in scores:
                lo, hi = np.quantile(tot, [0.5 - lv / 2, 0.5 + lv / 2])
                half = (hi - med) if a >= med else (med - lo)
                scores[lv].append(abs(a - med) / half if half > 0 else (0.0 if a == med else 1e6))
    out = []
    for lv, s in scores.items():
        s = np.asarray(s)
        if len(s) < 20:
            out.append(1.0)
            continue
        q = min(np.ceil((len(s) + 1) * lv) / len(s), 1.0)
        out.append(float(np.clip(np.quantile(s, q, method="higher"), 0.25, 10.0)))
    return tuple(out)


if __name__ == "__main__":
    main()
