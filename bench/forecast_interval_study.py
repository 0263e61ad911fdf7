"""Study: ways to calibrate the default forecast's monthly intervals and yearly ranges, scored on held-out origins.

The default combination (:data:`victimneeds.forecast.COMBINATION`) is fitted once per series and per forecast
origin (every month from 12 to the last evaluation cut; ``--cache`` keeps the fits), so that any calibration rule
can be replayed without refitting. For each evaluation cut (4 cuts two months apart, the last leaving 12 months to
score, as in ``bench/forecast_origins.py``) a rule sees only the series' months up to the cut and the forecasts
made from origins inside that training span (no peeking), chooses its factors, and is scored on the next 12
months: the share of held-out months inside the 80% and 95% intervals (pooled over cuts), and the share of
12-month totals inside the yearly 80% and 95% ranges.

Rules (``ORIGIN_RULES`` x ``yearly_rules``): backtest origins as the library picks them (``lib``: 12, 18 and 24
months before the end, at least 15 months of training), plus windows ending at the cut (``lib+recent``: origins
3, 6 and 9 months before it, windows shorter than a year), or every other month (``every2``). Yearly: the paths'
totals as they are (``raw``); the split-conformal factor of the windows' totals (windows of at least 6 months,
pooled over series) when there are at least 20 windows (``conformal>=20``, the library's rule before) or 10, or
shrunk toward 1 by n / (n + 10); the covariance of the windows' standardised h-step errors (``covariance``, the
library's rule now: :func:`victimneeds.forecast._error_model`, :func:`victimneeds.forecast._total_factor`), with
lockdown months left out or kept. Monthly: raw; split-conformal pooled over all windows' months (at least 20);
a factor per horizon from the covariance's variances.

Run: ``python bench/forecast_interval_study.py --force leicestershire --level district [--jobs 2]`` (the first run
per force and level fits and caches, 0.5-2.5 minutes on 2 processes; later runs replay in seconds).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from victimneeds import forecast as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import forecast_origins as FO  # noqa: E402

H = 12
LEVELS = (0.8, 0.95)



def _row(cut, origins: str, kind: str, rule: str, level: float, inside: int, n: int) -> dict:
    """One line of the study's table: how many held-out values fell inside the calibrated range."""
    return dict(cut=str(cut), origins=origins, kind=kind, rule=rule, level=level, inside=inside, n=n)

def _fit_series(job: tuple) -> tuple:
    from threadpoolctl import threadpool_limits

    key, y, months, positions = job
    out = {}
    with threadpool_limits(limits=1):
        for p in positions:
            if np.isfinite(y[:p]).sum() < 6:
                continue
            fits = [F._run(m, y[:p], months[:p], H, LEVELS, True) for m in F.COMBINATION]
            fits = [f for f in fits if np.all(np.isfinite(f[0]))]
            if not fits:
                continue
            mean, _, paths = F._combine(fits, LEVELS)
            out[p] = (mean.astype(np.float32), paths.astype(np.float32))
    return key, out


def fit_all(counts: pd.DataFrame, n_cuts: int, jobs: int, min_pos: int = 12) -> dict:
    last = counts["month"].max()
    cuts = [last - H - 2 * k for k in range(n_cuts)][::-1]
    series, work = {}, []
    for key, part in counts.groupby("series"):
        s = part.set_index("month")["count"].sort_index()
        full = pd.period_range(s.index.min(), last, freq="M")
        y = s.reindex(full).to_numpy(dtype=float)
        months = full.astype(str).to_numpy()
        final = int((cuts[-1] - full[0]).n) + 1
        series[key] = dict(y=y, months=months, start=full[0])
        work.append((key, y, months, list(range(min_pos, final + 1))))
    with ProcessPoolExecutor(jobs) as pool:
        fits = dict(pool.map(_fit_series, work, chunksize=2))
    return dict(cuts=cuts, series=series, fits=fits)


def windows(data: dict, cut: pd.Period, origin_rule) -> list[dict]:
    """The backtest windows a forecast made at ``cut`` could use: per series, the origins ``origin_rule(n)`` picks
    inside its training span, with the months they forecast up to the cut."""
    out = []
    for key, info in data["series"].items():
        n = int((cut - info["start"]).n) + 1
        if n <= 0:
            continue
        y = info["y"][:n]
        for o in origin_rule(n):
            if o not in data["fits"][key] or not np.isfinite(y[:o]).sum() >= 6:
                continue
            test = y[o : o + H]
            if not np.isfinite(test).any():
                continue
            mean, paths = data["fits"][key][o]
            k = len(test)
            out.append(
                dict(key=key, o=o, n=n, test=test, paths=paths[:, :k].astype(float), months=info["months"][o : o + k])
            )
    return out


def library_origins(n: int) -> list[int]:
    return F._origins(n, H, 3, 6, 15)


def held_out(data: dict, cut: pd.Period) -> list[dict]:
    out = []
    for key, info in data["series"].items():
        n = int((cut - info["start"]).n) + 1
        if n not in data["fits"][key]:
            continue
        mean, paths = data["fits"][key][n]
        test = info["y"][n : n + H]
        out.append(dict(key=key, test=test, paths=paths.astype(float), mean=mean))
    return out


ORIGIN_RULES = {
    "lib": library_origins,
    "lib+recent": lambda n: sorted(set(library_origins(n)) | {n - 3, n - 6, n - 9}),
    "every2": lambda n: list(range(12, n - 2, 2)),
}


def _month_scores(test: np.ndarray, paths: np.ndarray) -> dict[float, np.ndarray]:
    """Per month and level: distance from the paths' median in units of the interval's half-width (log scale)."""
    lp = np.log1p(paths)
    med = np.median(lp, axis=0)
    a = np.log1p(test)
    out = {}
    for lv in LEVELS:
        lo, hi = np.quantile(lp, [0.5 - lv / 2, 0.5 + lv / 2], axis=0)
        with np.errstate(all="ignore"):
            r = np.where(a >= med, (a - med) / (hi - med), (med - a) / (med - lo))
        out[lv] = np.where(a == med, 0.0, np.where(np.isfinite(a) & ~np.isfinite(r), 1e6, r))
    return out


def _total_score(test: np.ndarray, paths: np.ndarray, lv: float) -> float:
    tot = np.log1p(paths.sum(axis=1))
    a, med = float(np.log1p(test.sum())), float(np.median(tot))
    lo, hi = np.quantile(tot, [0.5 - lv / 2, 0.5 + lv / 2])
    half = (hi - med) if a >= med else (med - lo)
    return abs(a - med) / half if half > 0 else (0.0 if a == med else 1e6)


def _conformal(scores: list[float], lv: float, n_min: int, shrink: float = 0.0) -> float:
    """Split-conformal factor ``ceil((n + 1) p) / n`` of n scores (1 under ``n_min``), shrunk toward 1 on the log
    scale by n / (n + shrink)."""
    s = np.asarray(scores, dtype=float)
    if len(s) < max(n_min, 1):
        return 1.0
    q = min(np.ceil((len(s) + 1) * lv) / len(s), 1.0)
    c = float(np.clip(np.quantile(s, q, method="higher"), 0.25, 10.0))
    return float(np.exp(len(s) / (len(s) + shrink) * np.log(c)))


def evaluate(data: dict) -> pd.DataFrame:
    """Coverage of every rule on the held-out 12 months after each cut (rows: rule, level, share covered)."""
    rows = []
    for cut in data["cuts"]:
        held = held_out(data, cut)
        full = [w for w in held if len(w["test"]) == H and np.isfinite(w["test"]).all()]
        hm = {lv: np.concatenate([_month_scores(w["test"], w["paths"])[lv] for w in held]) for lv in LEVELS}
        hpos = np.concatenate([np.arange(len(w["test"])) for w in held])
        hup = np.concatenate([np.log1p(w["test"]) >= np.median(np.log1p(w["paths"]), axis=0) for w in held])
        for oname, rule in ORIGIN_RULES.items():
            wins = windows(data, cut, rule)
            ld = [np.isin(w["months"], F.LOCKDOWN_MONTHS) for w in wins]
            long = [w for w in wins if len(w["test"]) >= 6 and np.isfinite(w["test"]).all()]
            yearly: dict[str, dict] = {"raw": {}}
            for lv in LEVELS:
                ts = [_total_score(w["test"], w["paths"], lv) for w in long]
                yearly["raw"][lv] = lambda w, lv=lv: 1.0
                for name, n_min, shrink in (
                    ("conformal>=20", 20, 0),
                    ("conformal>=10", 10, 0),
                    ("conformal shrunk", 5, 10),
                ):
                    c = _conformal(ts, lv, n_min, shrink)
                    yearly.setdefault(name, {})[lv] = lambda w, c=c: c
            for skip in (True, False):
                zs = [F._window_z(w["test"], w["paths"], s if skip else None) for w, s in zip(wins, ld, strict=True)]
                model = F._error_model(zs)
                name = "covariance" + ("" if skip else ", lockdown months kept")
                for lv in LEVELS:
                    yearly.setdefault(name, {})[lv] = lambda w, lv=lv, m=model: (
                        1.0 if m is None else F._total_factor(m, w["paths"], np.arange(H), lv)
                    )
            for name, fn in yearly.items():
                for lv in LEVELS:
                    inside = [_total_score(w["test"], w["paths"], lv) <= fn[lv](w) for w in full]
                    rows.append(_row(cut, oname, "yearly", name, lv, int(np.sum(inside)), len(inside)))
            ms = {
                lv: np.concatenate(
                    [_month_scores(w["test"], w["paths"])[lv][~s] for w, s in zip(wins, ld, strict=True)]
                )
                if wins
                else np.array([])
                for lv in LEVELS
            }
            # the library's monthly rule: per horizon and level, by side (and the same with both sides pooled)
            model = F._error_model([F._window_z(w["test"], w["paths"], s) for w, s in zip(wins, ld, strict=True)])
            if model is not None:
                model["levels"] = {
                    lv: F._error_model(
                        [F._window_z(w["test"], w["paths"], s, lv) for w, s in zip(wins, ld, strict=True)]
                    )
                    for lv in LEVELS
                }
            for lv in LEVELS:
                ok = np.isfinite(hm[lv])
                conf = _conformal(list(ms[lv][np.isfinite(ms[lv])]), lv, 20)
                if model is not None and model["levels"][lv] is not None:
                    lo, hi = F._month_factor(model, hpos, lv)
                    own = model["levels"][lv]
                    pooled = dict(model, levels={lv: dict(own, up=own["v"], down=own["v"])})
                    sym = F._month_factor(pooled, hpos, lv)[0]
                else:
                    lo = hi = sym = np.ones(len(ok))
                for name, fac in (
                    ("raw", np.ones(len(ok))),
                    ("conformal>=20", np.full(len(ok), conf)),
                    ("per horizon, both sides pooled", sym),
                    ("per horizon and side (library)", np.where(hup, hi, lo)),
                ):
                    inside = int(np.sum(hm[lv][ok] <= fac[ok]))
                    rows.append(_row(cut, oname, "monthly", name, lv, inside, int(ok.sum())))
    return pd.DataFrame(rows)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--force", required=True)
    p.add_argument("--level", default="force")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--cache", type=Path, default=Path("/tmp/f18"))
    args = p.parse_args()
    path = args.cache / f"fits_{args.force}_{args.level}.pkl"
    if path.exists():
        data = pickle.loads(path.read_bytes())
    else:
        start = time.perf_counter()
        data = fit_all(FO.monthly(args.force, args.level), 4, args.jobs)
        print(f"fitted in {time.perf_counter() - start:.0f} s", flush=True)
        args.cache.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(data))
    scored = evaluate(data)
    g = scored.groupby(["kind", "origins", "rule", "level"])[["inside", "n"]].sum()
    share = (100 * g["inside"] / g["n"]).unstack("level").round(1)
    share.columns = [f"covered_{round(100 * c)}" for c in share.columns]
    pd.set_option("display.width", 160)
    print(f"{args.force} ({args.level}): % of held-out months / 12-month totals inside the ranges, 4 cuts")
    print(share.to_string())


if __name__ == "__main__":
    main()
