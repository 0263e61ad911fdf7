"""The public forecast: every series of a table, combined and calibrated, as a ForecastResult.

Part of :mod:`victimneeds.forecast`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from victimneeds.forecast.backtest import (
    _calibrate,
    _error_model,
    _series,
    _total_factor,
    _widen,
)
from victimneeds.forecast.helpers import (
    _METHOD_NAMES,
    AUTO_METHODS,
    COMBINATION,
    LOCKDOWN_MONTHS,
)
from victimneeds.forecast.methods import (
    _FITTERS,
)

# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def _block_totals(
    t: pd.DataFrame,
    keys: Sequence[str],
    paths: Mapping[tuple, np.ndarray] | None,
    calibration: Mapping[float, float],
    block: pd.Series,
    what: str,
    total_calibration: Mapping[float, float] | None = None,
    backtest_errors: Mapping | None = None,
) -> pd.DataFrame:
    """Totals of a forecast table per series and block of months, limits from the sample paths when given.

    ``t`` is a forecast table (keys, ``month``, ``mean``, limits, ``method``); optional columns ``_factor``
    and ``_add`` (a scenario) scale and shift each month of every path after calibration, as the scenario
    did to the monthly table. With ``backtest_errors`` (the backtest's covariance of h-step errors,
    :func:`~victimneeds.forecast.backtest._error_model`), the limits come from the uncalibrated paths' totals,
    their spread around the median total on the log(1 + total) scale scaled by the block's own factor
    (:func:`~victimneeds.forecast.backtest._total_factor`); else with ``total_calibration`` (level -> factor)
    by that factor; other levels use ``calibration``.
    """
    total_calibration = dict(total_calibration or {})
    keys = list(keys)
    name = str(block.name)
    t[name] = block.to_numpy()
    # each series' paths start at its own first forecast month
    start = t.groupby(keys, observed=True)["month"].transform("min") if keys else t["month"].min()
    t["_pos"] = (t["month"] - start).map(lambda d: d.n).astype(int)
    cols = ["mean"] + [c for c in t.columns if c.startswith(("lower_", "upper_"))]
    grouped = t.groupby([*keys, name], observed=True, sort=True)
    out = grouped[cols].sum().reset_index()
    span = grouped["month"].agg(["min", "max", "size"])
    out["months"] = span["size"].to_numpy()
    out["period"] = [f"{a} to {b}" for a, b in zip(span["min"], span["max"], strict=True)]
    out["method"] = grouped["method"].first().to_numpy()
    out["interval"] = "sum of monthly limits (errors taken as perfectly correlated; conservative)"
    if not paths:
        return out
    limit_cols = [c for c in cols if c != "mean"]
    for i, (gkey, part) in enumerate(grouped):
        gkey = gkey if isinstance(gkey, tuple) else (gkey,)
        p = paths.get(tuple(gkey[: len(keys)]))
        if p is None or p.shape[1] <= part["_pos"].max():
            continue
        sel = np.asarray(p, dtype=float)[:, part["_pos"].to_numpy()]
        factor = part["_factor"].to_numpy(dtype=float) if "_factor" in part else 1.0
        add = part["_add"].to_numpy(dtype=float) if "_add" in part else 0.0
        for c in limit_cols:
            side, tag = c.split("_", 1)
            lv = float(tag.replace("_", ".")) / 100
            q = 0.5 - lv / 2 if side == "lower" else 0.5 + lv / 2
            f = None
            if backtest_errors:
                f = _total_factor(backtest_errors, sel, part["_pos"].to_numpy(), lv)
            elif lv in total_calibration:
                f = total_calibration[lv]
            if f is not None:
                totals = np.log1p(np.clip((sel * factor + add).sum(axis=1), 0, None))
                med = float(np.median(totals))
                out.loc[i, c] = float(np.expm1(med + f * (np.quantile(totals, q) - med)))
            else:
                totals = (_widen(sel, calibration.get(lv, 1.0)) * factor + add).sum(axis=1)
                out.loc[i, c] = float(np.quantile(totals, q))
        out.loc[i, "interval"] = f"quantiles of {len(sel)} simulated {what} totals" + (
            " (totals calibrated on the backtest)"
            if backtest_errors or total_calibration
            else " (calibrated)"
            if calibration
            else ""
        )
    return out


@dataclass
class ForecastResult:
    """Forecasts with their backtest.

    Attributes
    ----------
    table : keys, ``month`` (Period), ``mean``, ``lower_80, upper_80, lower_95, upper_95`` and ``method``.
    backtest : per series and candidate method: ``origins, months_scored, mase, mae, rmse, coverage_80,
        coverage_95`` and ``chosen`` (True for the method(s) used).
    history : the input series as used (keys, ``month``, ``count``; missing months as NaN).
    keys : the key columns.
    notes : what was done with missing and lockdown months.
    residuals : in-sample one-step-ahead errors of the forecast used for each series (keys, ``month``,
        ``fitted``, ``residual`` = count - fitted; NaN where the model saw no count or was starting up), or
        None when not available (e.g. a result built by hand). :func:`reconcile` uses them for MinT.
    settings : the :func:`forecast` arguments that produced the result, so that aggregate levels can be
        forecast the same way.
    paths : simulated sample paths of each series' forecast (key tuple, ``()`` for one series -> array of
        :data:`N_PATHS` paths x horizon months, counts), from which the monthly intervals come and
        :meth:`yearly` takes the distribution of totals; None for a result built by hand. Stored as the
        models gave them (before calibration).
    calibration : interval level -> the mean over the first 12 horizons of the factor applied to the
        half-widths of that level's monthly intervals on the log(1 + y) scale (each horizon has its own, from
        :attr:`backtest_errors`; :func:`forecast` with ``calibrate``); empty when not calibrated.
    total_calibration : interval level -> the median over series of the factor applied to the spread of the
        first 12 months' path totals (log scale) in :meth:`yearly` (each series and block of months gets its own
        factor from :attr:`backtest_errors`); empty when not calibrated. A result built by hand may give factors
        here and no :attr:`backtest_errors`: they then apply to every block.
    backtest_errors : the covariance of the standardised h-step errors of the backtest windows, pooled over
        series (``v``: variance ratio per horizon, ``r``: correlation per lag, ``up``, ``down``: ratios per side,
        ``windows``; ``levels``: level -> the same with errors measured by that level's interval), which set the
        monthly factors and from which :meth:`yearly` and :meth:`financial_years` scale each block's spread of
        path totals (:func:`forecast` with ``calibrate``); None when not calibrated.
    """

    table: pd.DataFrame
    backtest: pd.DataFrame
    history: pd.DataFrame
    keys: list[str]
    levels: tuple[float, ...] = (0.8, 0.95)
    notes: list[str] = field(default_factory=list)
    residuals: pd.DataFrame | None = None
    settings: dict = field(default_factory=dict)
    paths: dict[tuple, np.ndarray] | None = None
    calibration: dict[float, float] = field(default_factory=dict)
    total_calibration: dict[float, float] = field(default_factory=dict)
    backtest_errors: dict | None = None

    def summary(self) -> str:
        """Text summary: methods chosen and backtest accuracy."""
        lines = [
            "Forecast",
            "=" * 8,
            f"Series: {self.table.groupby(self.keys, observed=True).ngroups if self.keys else 1}; "
            f"horizon {self.table['month'].nunique()} months "
            f"({self.table['month'].min()} to {self.table['month'].max()})",
        ]
        if not self.backtest.empty:
            acc = self.backtest.groupby("method")[["mase", "coverage_80", "coverage_95"]].mean()
            lines.append("Backtest (mean over series): method, MASE, 80% and 95% interval coverage")
            for m, r in acc.iterrows():
                lines.append(
                    f"  {m:<8} MASE {r['mase']:.2f}  cover80 {100 * r['coverage_80']:.0f}%  "
                    f"cover95 {100 * r['coverage_95']:.0f}%"
                )
        used = self.table.drop_duplicates([*self.keys, "method"])["method"].value_counts()
        lines.append("Methods used: " + "; ".join(f"{m} ({n})" for m, n in used.items()))
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{self.summary()}</pre>"

    def yearly(self) -> pd.DataFrame:
        """Forecast totals per 12-month block ahead (year 1, year 2), with intervals for the totals.

        The interval of a total is taken from the simulated sample paths (:attr:`paths`): each path's months
        are added up and the quantiles of those totals are the limits, so the correlation of months' errors
        (a high month tends to follow a high month, and a trend's error is shared by all months) is kept,
        neither assumed perfect nor ignored. Interval limits of months are not additive: adding them, as
        this method did before, gave "80%" ranges that held 99-100% of simulated yearly totals.

        Without paths (a result built by hand) the limits are the sums of the monthly limits, which assumes
        perfectly correlated errors and is conservative (wide); ``interval`` says which was used.

        Returns
        -------
        One row per series and block: keys, ``year_ahead``, ``mean``, ``lower_80, upper_80, lower_95,
        upper_95`` (the levels forecast), ``months``, ``period``, ``method`` and ``interval``.
        """
        t = self.table.copy()
        # each series' blocks start at its own first forecast month (a series whose counts end early, e.g. a
        # rare crime type with no recent rows, starts its forecast early; a block from the earliest month of
        # all series would split its year in two)
        first = t.groupby(self.keys, observed=True)["month"].transform("min") if self.keys else t["month"].min()
        block = ((t["month"] - first).map(lambda d: d.n) // 12 + 1).astype(int).rename("year_ahead")
        return self._totals(t, block, "yearly")

    def financial_years(self) -> pd.DataFrame:
        """Forecast totals per financial year (April to March), with intervals from the sample paths.

        As :meth:`yearly`, with blocks that are financial years; years the forecast covers only in part have
        ``months`` under 12. Meant for annual planning figures (e.g. lot volumes) in place of sums of monthly
        limits.

        Examples
        --------
        >>> months = pd.period_range("2021-04", periods=36, freq="M")
        >>> t = pd.DataFrame({"month": months, "count": [100.0] * 36})
        >>> fy = forecast(t, horizon=14, method="naive", origins=0).financial_years()
        >>> fy[["financial_year", "months", "mean"]].values.tolist()
        [['2024/25', 12, 1200.0], ['2025/26', 2, 200.0]]
        """
        from victimneeds.periods import financial_year

        t = self.table.copy()
        return self._totals(t, financial_year(t["month"]).set_axis(t.index), "financial-year")

    def _totals(self, t: pd.DataFrame, block: pd.Series, what: str) -> pd.DataFrame:
        return _block_totals(
            t, self.keys, self.paths, self.calibration, block, what, self.total_calibration, self.backtest_errors
        )

    def plot(self, key: object | None = None, ax: Axes | None = None, title: str | None = None,
             history_months: int | None = 36) -> Axes:
        """Fan chart for one series: recent history, forecast mean, 80% and 95% intervals.

        ``history_months`` of recorded history are shown before the forecast (all of it with None), so the
        forecast takes a fair share of the width; the legend sits under the chart.
        """
        import matplotlib.pyplot as plt

        from victimneeds.plotting import PALETTE, date_axis, legend_below, page_size

        t, hist = self.table, self.history
        if self.keys:
            if key is None:
                key = tuple(t[self.keys].iloc[0])
            key = key if isinstance(key, tuple) else (key,)
            sel_t = np.logical_and.reduce([t[k] == v for k, v in zip(self.keys, key, strict=True)])
            sel_h = np.logical_and.reduce([hist[k] == v for k, v in zip(self.keys, key, strict=True)])
            t, hist = t[sel_t], hist[sel_h]
            name = ", ".join(map(str, key))
        else:
            name = "All"
        if t.empty:
            raise ValueError(f"No forecast for series {key!r}.")
        if history_months is not None and len(hist):
            hist = hist[hist["month"] > hist["month"].max() - history_months]
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(3.6))
        xh = hist["month"].dt.to_timestamp()
        xf = t["month"].dt.to_timestamp()
        ax.plot(xh, hist["count"], color=PALETTE[4], marker="o", markersize=2.5, label="Recorded")
        for lv, alpha in ((95, 0.18), (80, 0.35)):
            if f"lower_{lv}" in t:
                ax.fill_between(
                    xf, t[f"lower_{lv}"], t[f"upper_{lv}"], color=PALETTE[0], alpha=alpha, label=f"{lv}% interval"
                )
        ax.plot(xf, t["mean"], color=PALETTE[0], linestyle="--", label="Forecast")
        ax.set_ylim(bottom=0)
        ax.set_ylabel("Per month")
        ax.set_title(title or f"{name}: forecast ({t['method'].iloc[0]})")
        ax.set_xlim(min(xh.min(), xf.min()) if len(xh) else xf.min(), xf.max())
        date_axis(ax)
        legend_below(ax)
        return ax


def forecast(
    counts: pd.DataFrame,
    horizon: int = 24,
    keys: Sequence[str] = (),
    month: str = "month",
    value: str = "count",
    method: str = "combination",
    levels: Sequence[float] = (80, 95),
    methods: Sequence[str] | None = None,
    backtest_horizon: int = 12,
    origins: int = 3,
    step: int = 6,
    min_train: int = 15,
    combine: int = 2,
    lockdown: bool = True,
    n_jobs: int = 1,
    combination: Sequence[str] = COMBINATION,
    calibrate: bool = True,
    season_keys: Sequence[str] | None = None,
) -> ForecastResult:
    """Forecast monthly counts per series, with a rolling-origin backtest of every candidate method.

    Parameters
    ----------
    counts : long table, one row per series and month.
    horizon : months ahead to forecast.
    keys : columns naming the series (e.g. ``["district_code", "crime_group"]``); empty for one series.
    month : month column (Period, or text 'YYYY-MM'). Months missing between a series' first and last month
        are kept as gaps (see the module notes for how each method treats them).
    value : count column.
    method : ``"combination"`` (default: the equal-weight mean of the methods in ``combination``, the same
        for every series), ``"auto"`` (per series, the method with the lowest backtest MASE, or the mean of
        the best ``combine``), or one of ``snaive, naive, ets, sarimax, glm, theta, seasonal_level``. The
        default was chosen on a rolling-origin evaluation over two forces (``bench/forecast_origins.py`` and
        ``bench/forecast_pooled.py``, 4 origins, horizons 1-12): the combination of seasonal naive, naive,
        SARIMAX and the seasonal level had a geometric-mean MAE of 0.71-0.74 of seasonal naive's at force x
        crime type and 0.81 at district x crime type, against 0.73-0.74 and 0.83-0.84 without the seasonal
        level and 0.80 for ``"auto"``, whose per-series pick from three short backtest windows is noisy. With
        the seasonal level's gap-tolerant, shrunk profile: 0.705 and 0.737 at force level, 0.812 and 0.810 at
        district level (Avon and Somerset, Leicestershire; 0.713, 0.742, 0.814 and 0.813 with the classical
        profile, in the same run).
        Weights or members chosen from the backtest pooled over a force's series did no better than equal
        weights (see the bench).
    levels : interval levels in percent (or fractions).
    methods : the candidates ``"auto"`` chooses among (all are backtested and reported in ``backtest``).
        Default (None): :data:`AUTO_METHODS` for ``"auto"`` and a named method; for ``"combination"``, only
        its members (the other candidates' backtests would not change the forecast, only take time); give
        ``methods`` to have more methods backtested alongside.
    backtest_horizon, origins, step, min_train : the rolling-origin backtest: up to ``origins`` forecast
        origins, ``step`` months apart, each forecasting ``backtest_horizon`` months, with at least
        ``min_train`` months before each origin (shorter series get shorter test windows). ``origins=0``
        skips the backtest when ``method`` is not "auto".
    combine : with ``"auto"``, average this many best methods (1 = pick the best; 2 by default, as
        combinations are more robust than any single pick).
    lockdown : treat the 2020-21 lockdown months as described in the module notes.
    n_jobs : processes to use across series (-1 = all cores).
    combination : the methods ``method="combination"`` averages (:data:`COMBINATION` by default); its
        intervals come from the members' sample paths averaged rank by rank (quantile averaging).
    season_keys : for ``seasonal_level``, the key columns whose series share one seasonal profile: the profile
        is that of the total of the series agreeing on them (e.g. ``["crime_group"]`` with keys
        ``["district_code", "crime_group"]``: a crime group's profile from all districts together, far less
        noisy than one district's). None (default): every series uses its own profile.
    calibrate : calibrate intervals and yearly ranges on the backtest (whenever it ran for some series).
        Every month of every backtest window of the forecaster actually used (short windows at the end of a
        series and gappy ones too; lockdown months left out) gives a standardised error: its distance from the
        sample paths' median in the paths' standard deviations, on the log(1 + y) scale. Pooled over series,
        their variance per horizon and side of the median (errors measured by each level's interval) scales
        the lower and upper half-widths of the monthly intervals at that horizon (a series with no backtest
        takes the pooled factors), and their variance and correlation per lag give the variance
        of a block's log total, to which the spread of the sample paths' totals is scaled in ``yearly()`` and
        ``financial_years()`` (``ForecastResult.backtest_errors``); both with a Student t allowance for few
        windows. No minimum number of windows is needed, so a force's 14 crime types with one backtest window
        each are calibrated too (before, totals needed 20 windows and monthly intervals 3 origins per series).
        Checked on held-out origins (``bench/forecast_origins.py``, 4 rolling origins, factors from the
        training window only): see the module notes for the coverage measured.

    Returns
    -------
    ForecastResult with ``.table`` (means and limits are never negative), ``.backtest``, ``.summary()``,
    ``.plot()`` and ``.yearly()``.

    References
    ----------
    Tashman LJ (2000). Out-of-sample tests of forecasting accuracy: an analysis and review. International
    Journal of Forecasting 16:437-450. Hyndman RJ, Koehler AB (2006). International Journal of Forecasting
    22:679-688. Hyndman RJ, Koehler AB, Ord JK, Snyder RD (2008). Forecasting with Exponential Smoothing:
    the State Space Approach. Springer. Gardner ES, McKenzie E (1985). Forecasting trends in time series.
    Management Science 31:1237-1246 (damped trend). Box GEP, Jenkins GM (1976). Time Series Analysis.
    Hilbe JM (2011). Negative Binomial Regression, 2nd ed. Cambridge University Press.

    Examples
    --------
    A series that repeats the same 12 months every year is forecast exactly by the seasonal naive method:

    >>> months = pd.period_range("2020-01", periods=36, freq="M")
    >>> pattern = [50, 52, 60, 58, 66, 70, 75, 72, 64, 60, 55, 80]
    >>> t = pd.DataFrame({"month": months, "count": pattern * 3})
    >>> fc = forecast(t, horizon=12, method="snaive")
    >>> fc.table["mean"].tolist() == [float(v) for v in pattern]
    True
    """
    keys = list(keys)
    missing = [c for c in [*keys, month, value] if c not in counts.columns]
    if missing:
        raise KeyError(f"forecast: the counts table has no column(s) {missing}; it has {list(counts.columns)}")
    if method not in ("auto", "combination") and method not in _FITTERS:
        raise ValueError(f"forecast: method must be 'combination', 'auto' or one of {list(_FITTERS)}, not {method!r}")
    bad = [m for m in combination if m not in _FITTERS]
    if bad or not combination:
        raise ValueError(f"forecast: combination must name methods from {list(_FITTERS)}, not {list(combination)}")
    if methods is None:
        methods = tuple(combination) if method == "combination" else AUTO_METHODS
    bad = [m for m in methods if m not in _FITTERS]
    if bad:
        raise ValueError(f"forecast: unknown candidate methods {bad}; choose from {list(_FITTERS)}")
    lv = tuple(sorted(float(v) / 100 if float(v) > 1 else float(v) for v in levels))
    if horizon < 1:
        raise ValueError("forecast: horizon must be at least 1 month")
    data = pd.DataFrame({c: counts[c] for c in [*keys, month]})
    m = counts[month]
    data[month] = m if isinstance(m.dtype, pd.PeriodDtype) else pd.PeriodIndex(m.astype(str), freq="M")
    y = pd.to_numeric(counts[value], errors="coerce")
    bad_rows = (y.isna() & counts[value].notna()) | (y < 0)
    if bad_rows.any():
        raise ValueError(
            f"forecast: column {value!r} has {int(bad_rows.sum())} values that are not counts "
            f"(negative or not numbers), e.g. rows {list(counts.index[bad_rows][:5])}"
        )
    data["count"] = y.to_numpy(dtype=float)
    dups = data.duplicated([*keys, month])
    if dups.any():
        raise ValueError(
            f"forecast: {int(dups.sum())} rows repeat a series and month (e.g. rows "
            f"{list(counts.index[dups][:5])}); give one row per series and month"
        )
    groups = data.groupby(keys, observed=True, sort=True) if keys else [((), data)]
    pools: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
    if season_keys is not None:
        season_keys = list(season_keys)
        bad = [k for k in season_keys if k not in keys]
        if bad:
            raise ValueError(f"forecast: season_keys {bad} are not among the keys {keys}")
        for skey, part in data.groupby(season_keys, observed=True, sort=True) if season_keys else [((), data)]:
            tot = part.groupby(month)["count"].sum(min_count=1).sort_index()
            full = pd.period_range(tot.index.min(), tot.index.max(), freq="M")
            tot = tot.reindex(full)
            pools[skey if isinstance(skey, tuple) else (skey,)] = (tot.to_numpy(float), full.astype(str).to_numpy())
    jobs, hist, notes = [], [], []
    gaps = 0
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        s = part.set_index(month)["count"].sort_index()
        s = s.dropna()
        if s.empty:
            notes.append(f"series {key} has no counts and is not forecast")
            continue
        full = pd.period_range(s.index.min(), s.index.max(), freq="M")
        s = s.reindex(full)
        gaps += int(s.isna().sum())
        months_s = full.astype(str).to_numpy()
        h = pd.DataFrame({month: full, "count": s.to_numpy()})
        for k, v in zip(keys, key, strict=True):
            h[k] = v
        hist.append(h)
        jobs.append(
            (
                key,
                s.to_numpy(dtype=float),
                months_s,
                horizon,
                lv,
                tuple(methods),
                method,
                backtest_horizon,
                origins,
                step,
                min_train,
                combine,
                lockdown,
                tuple(combination),
                pools.get(tuple(v for k, v in zip(keys, key, strict=True) if k in season_keys))
                if season_keys is not None
                else None,
            )
        )
    if not jobs:
        raise ValueError("forecast: no series with counts to forecast")
    if gaps:
        notes.append(f"{gaps} missing months inside the series kept as gaps (not dropped, not set to zero)")
    if lockdown:
        notes.append(
            "lockdown months " + ", ".join(LOCKDOWN_MONTHS) + ": indicator in glm and sarimax (assumed "
            "absent ahead), zero weight in ets; the snaive and naive baselines are unadjusted"
        )
    workers = (os.cpu_count() or 1) if n_jobs == -1 else max(int(n_jobs), 1)
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            results = list(pool.map(_series, jobs))
    else:
        results = [_series(j) for j in jobs]
    rows, scores, labels, resids, paths = [], [], {}, [], {}
    for (r, s, label, e), job in zip(results, jobs, strict=True):
        rows += r
        scores += s
        labels[job[0]] = label
        paths[job[0]] = e["paths"]
        resids.append(
            pd.DataFrame(
                {
                    "key": [e["key"]] * len(e["month"]),
                    "month": e["month"],
                    "fitted": e["fitted"],
                    "residual": e["residual"],
                }
            )
        )
    table = pd.DataFrame(rows)
    # the covariance of the backtest's standardised h-step errors, pooled over series, calibrates both the
    # monthly intervals (per horizon) and the ranges of totals (per block of months, in yearly())
    windows = [w for r in results for w in r[3]["window_z"]]
    errors = _error_model([w[None] for w in windows]) if calibrate else None
    if errors is not None:
        by_level = {level: _error_model([w[level] for w in windows]) for level in lv}
        errors["levels"] = {level: m for level, m in by_level.items() if m is not None}
    cal: dict[float, float] = _calibrate(table, errors, lv) if errors is not None else {}
    table = table.drop(columns=["_median", "_h"])
    tcal: dict[float, float] = {}
    if errors is not None:
        first = np.arange(min(horizon, 12))
        for level in lv:
            tcal[level] = float(
                np.median(
                    [_total_factor(errors, np.asarray(p, dtype=float)[:, first], first, level) for p in paths.values()]
                )
            )
        notes.append(
            f"intervals calibrated on the backtest ({errors['windows']} windows, pooled over series, lockdown months "
            "left out): half-widths of monthly intervals on the log scale by horizon (mean factor over 12 months "
            + ", ".join(f"{round(100 * k):g}% x{v:.2f}" for k, v in cal.items())
            + "); yearly ranges from the covariance of the h-step errors (median factor on the spread of the first "
            "12 months' path totals " + ", ".join(f"{round(100 * k):g}% x{v:.2f}" for k, v in tcal.items()) + ")"
        )
    residuals = pd.concat(resids, ignore_index=True)
    bt = pd.DataFrame(scores)

    def expand(frame: pd.DataFrame) -> pd.DataFrame:
        kv = pd.DataFrame(frame.pop("key").tolist(), columns=keys, index=frame.index) if keys else None
        return pd.concat([kv, frame], axis=1) if kv is not None else frame

    table = expand(table)
    table["month"] = pd.PeriodIndex(table["month"], freq="M")
    residuals = expand(residuals)
    residuals["month"] = pd.PeriodIndex(residuals["month"], freq="M")
    if not bt.empty:
        bt = expand(bt)
        bt["chosen"] = [
            _METHOD_NAMES[mm] in labels[tuple(r)] if keys else _METHOD_NAMES[mm] in labels[()]
            for mm, r in zip(
                bt["method"], bt[keys].itertuples(index=False, name=None) if keys else [()] * len(bt), strict=True
            )
        ]
    history = pd.concat(hist, ignore_index=True)[[*keys, month, "count"]].rename(columns={month: "month"})
    settings = dict(
        horizon=horizon,
        method=method,
        levels=tuple(round(100 * v, 6) for v in lv),
        methods=tuple(methods),
        backtest_horizon=backtest_horizon,
        origins=origins,
        step=step,
        min_train=min_train,
        combine=combine,
        lockdown=lockdown,
        n_jobs=n_jobs,
        combination=tuple(combination),
        calibrate=calibrate,
        season_keys=None if season_keys is None else tuple(season_keys),
    )
    return ForecastResult(
        table=table,
        backtest=bt,
        history=history,
        keys=keys,
        levels=lv,
        notes=notes,
        residuals=residuals,
        settings=settings,
        paths=paths,
        calibration=cal,
        total_calibration=tcal,
        backtest_errors=errors,
    )
