"""Control charts: p-charts with over-dispersion (Laney) limits.

Part of :mod:`victimneeds.compare`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from scipy import stats as _st

from victimneeds.compare.trend import _periods
from victimneeds.plotting import MARKERS, PALETTE, legend_below, page_size, thin_ticks

# --------------------------------------------------------------------------------------------------
# Control charts
# --------------------------------------------------------------------------------------------------


@dataclass
class ControlChart:
    """Result of :func:`control_chart`.

    Attributes
    ----------
    table : one row per period: ``period, n, events, value`` (percentage), ``centre``, ``lower``, ``upper``
        (control limits), ``lower_warning``, ``upper_warning`` (2-sigma or 95%), ``z`` (standardised on the
        p' sigma), ``signal`` (the rules the point triggers, "" for none).
    findings : one row per signal: ``rule, start, end, direction, periods, finding``.
    centre : the centre line (percentage); ``sigma_z`` Laney's between-period factor (1 = binomial).
    """

    table: pd.DataFrame
    findings: pd.DataFrame
    centre: float
    sigma_z: float
    outcome: str
    method: str

    def summary(self) -> str:
        lines = [f"Control chart of {self.outcome}: centre {self.centre:.1f}%, Laney sigma_z {self.sigma_z:.2f}"]
        lines += list(self.findings["finding"]) or ["No signal: the series varies within its limits."]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return "<pre>" + self.summary() + "</pre>"

    def plot(self, ax: Axes | None = None) -> Axes:
        """The p-chart: percentages by period, centre line, control and warning limits, signals marked."""
        t = self.table
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(3.6))
        x = np.arange(len(t))
        ax.plot(x, t["value"], marker=MARKERS[0], color=PALETTE[0], label=f"% {self.outcome}")
        ax.plot(x, t["centre"], color=PALETTE[4], linewidth=1, label="Centre line")
        ax.step(x, t["upper"], where="mid", color=PALETTE[3], linestyle="--", label="Control limits")
        ax.step(x, t["lower"], where="mid", color=PALETTE[3], linestyle="--")
        ax.step(x, t["upper_warning"], where="mid", color=PALETTE[2], linestyle=":", label="Warning limits")
        ax.step(x, t["lower_warning"], where="mid", color=PALETTE[2], linestyle=":")
        hit = (t["signal"] != "").to_numpy()
        if hit.any():
            ax.scatter(x[hit], t.loc[hit, "value"], marker=MARKERS[3], s=70, color=PALETTE[3], zorder=3,
                       label="Signal")
        ax.set_xticks(x, t["period"].astype(str).tolist())
        thin_ticks(ax, "x", max_labels=8)
        ax.set_ylabel("%")
        ax.set_title(f"{self.outcome}: control chart")
        legend_below(ax)
        return ax


def _runs(side: np.ndarray, length: int) -> list[tuple[int, int, int]]:
    """Maximal runs of at least ``length`` equal non-zero values of ``side``: (start, end, sign)."""
    out, i = [], 0
    while i < len(side):
        j = i
        while j + 1 < len(side) and side[j + 1] == side[i]:
            j += 1
        if side[i] != 0 and j - i + 1 >= length:
            out.append((i, j, int(side[i])))
        i = j + 1
    return out


def control_chart(
    table: pd.DataFrame,
    outcome: str,
    date: str,
    period: str = "M",
    limits: Literal["3sigma", "99.8%"] = "3sigma",
    laney: bool = True,
    run_length: int = 8,
    baseline: int | None = None,
    screen: bool = False,
) -> ControlChart:
    """A p-chart of a yes/no outcome by month or quarter, with Laney's p' limits and sustained-shift rules.

    Each period's percentage is plotted around the centre line p (all periods pooled, or the first
    ``baseline`` periods) with limits p +/- k sigma_i sigma_z, sigma_i = sqrt(p (1 - p) / n_i), k = 3
    (``"3sigma"``) or 3.09 (``"99.8%"``). Laney's sigma_z is the average moving range of the standardised
    values z_i = (p_i - p) / sigma_i divided by 1.128; with large monthly counts the true rate drifts more
    than the binomial allows and plain p-chart limits flag most months. Here sigma_z is floored at 1, so the
    limits are never narrower than the binomial ones (``laney=False`` gives the plain p-chart). With
    ``screen=True`` moving ranges above 3.267 times their mean (the upper range limit) are set aside first, so
    that the jumps into and out of a real shift do not widen the limits that should catch it; this catches
    shifts sooner but raises false alarms in a stable series (about 12% of 24-month charts against 8%
    without, in our simulations), so it is off by default.

    Signals (on z / sigma_z):

    * ``beyond limits``: a point outside the control limits;
    * ``run``: ``run_length`` (8) or more consecutive points on the same side of the centre line;
    * ``2 of 3``: two of three consecutive points beyond the 2-sigma (95% for ``"99.8%"``) warning limit on the
      same side.

    Parameters
    ----------
    table : one row per victim or case, with a boolean ``outcome`` (missing rows left out) and a ``date``.
    outcome, date : column names (``date`` may be dates or pandas periods).
    period : ``"M"`` (months) or ``"Q"`` (quarters).
    limits : ``"3sigma"`` or ``"99.8%"``.
    laney : allow for over-dispersion with Laney's p' (default True).
    run_length : points in a run that signals a sustained shift.
    baseline : number of first periods that set the centre line and sigma_z (None: all).
    screen : set aside moving ranges above the upper range limit before estimating sigma_z.

    Returns
    -------
    ControlChart

    References
    ----------
    Laney DB (2002). Improved control charts for attributes. Quality Engineering 14:531-537. Wheeler DJ (2010).
    Understanding Statistical Process Control, 3rd ed. SPC Press (upper range limit). Montgomery DC
    (2009). Introduction to Statistical Quality Control, 6th ed. Wiley, ch. 5 and 7 (Western Electric rules).
    NHS England (2019). Making Data Count.

    Examples
    --------
    >>> t = pd.DataFrame({"date": np.repeat(pd.period_range("2024-01", periods=12, freq="M"), 100),
    ...                   "met": np.tile([True] * 80 + [False] * 20, 12)})
    >>> c = control_chart(t, "met", "date")
    >>> round(c.centre, 1), len(c.findings)
    (80.0, 0)
    """
    for col in (outcome, date):
        if col not in table.columns:
            raise KeyError(f"control_chart: the table has no column {col!r}")
    if limits not in ("3sigma", "99.8%"):
        raise ValueError(f"control_chart: limits must be '3sigma' or '99.8%', not {limits!r}")
    y = pd.array(table[outcome], dtype="boolean")
    per = _periods(table[date], period)
    ok = ~np.asarray(y.isna(), dtype=bool) & per.notna().to_numpy()
    work = pd.DataFrame({"period": per[ok].array, "_y": y[ok].to_numpy(dtype=bool).astype(float)})
    g = work.groupby("period", sort=True)["_y"].agg(["sum", "size"])
    if len(g) < 2:
        raise ValueError("control_chart: need at least two periods with data")
    x, n = g["sum"].to_numpy(float), g["size"].to_numpy(float)
    base = slice(0, baseline) if baseline else slice(None)
    pbar = x[base].sum() / n[base].sum()
    if pbar in (0.0, 1.0):
        raise ValueError(f"control_chart: every {outcome!r} is the same in the baseline; nothing to chart")
    sig = np.sqrt(pbar * (1 - pbar) / n)
    z = (x / n - pbar) / sig
    mr = np.abs(np.diff(z[base]))
    if screen and len(mr) >= 3:  # set aside moving ranges above the upper range limit (3.267 x the mean)
        mr = mr[mr <= 3.267 * mr.mean()]
    sigma_z = float(np.mean(mr) / 1.128) if len(mr) else 1.0
    used = max(1.0, sigma_z) if laney else 1.0
    k = 3.0 if limits == "3sigma" else float(_st.norm.ppf(0.999))
    kw = 2.0 if limits == "3sigma" else float(_st.norm.ppf(0.975))
    zz = z / used
    out = pd.DataFrame({"period": g.index, "n": n.astype("int64"), "events": x.astype("int64"), "value": 100 * x / n})
    out["centre"] = 100 * pbar
    for name, mult in (("lower", -k), ("upper", k), ("lower_warning", -kw), ("upper_warning", kw)):
        out[name] = 100 * np.clip(pbar + mult * sig * used, 0, 1)
    out["z"] = zz
    signals: list[list[str]] = [[] for _ in range(len(out))]
    rows = []
    labels = out["period"].astype(str).to_numpy()
    what = outcome.replace("_", " ")

    def add(rule: str, i: int, j: int, sign: int, words: str) -> None:
        for m in range(i, j + 1):
            if rule not in signals[m]:
                signals[m].append(rule)
        rows.append({"rule": rule, "start": labels[i], "end": labels[j], "direction": "above" if sign > 0 else "below",
                     "periods": j - i + 1, "finding": words})

    for i in np.flatnonzero(np.abs(zz) > k):
        s = int(np.sign(zz[i]))
        add("beyond limits", i, i, s, f"{labels[i]}: {out['value'].iloc[i]:.1f}% {what}, "
            f"{'above' if s > 0 else 'below'} the control limits around {100 * pbar:.1f}% (a special cause)")
    for i, j, s in _runs(np.sign(zz).astype(int), run_length):
        add("run", i, j, s, f"{labels[i]} to {labels[j]}: {j - i + 1} periods in a row {'above' if s > 0 else 'below'} "
            f"the centre line ({100 * x[i:j + 1].sum() / n[i:j + 1].sum():.1f}% against {100 * pbar:.1f}%): "
            "a sustained shift")
    beyond = np.where(zz > kw, 1, np.where(zz < -kw, -1, 0))
    hits = []  # the points beyond the warning limit in each window of three that has two of them
    for s in (1, -1):
        for i in range(len(zz) - 2):
            inside = [i + k for k in range(3) if beyond[i + k] == s]
            if len(inside) >= 2:
                hits.append((inside[0], inside[-1], s))
    merged: list[list[int]] = []
    for i, j, s in sorted(hits):
        if merged and merged[-1][2] == s and i <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], j)
        else:
            merged.append([i, j, s])
    for i, j, s in merged:
        add("2 of 3", i, j, s, f"{labels[i]} to {labels[j]}: two of three periods beyond the warning limit "
            f"{'above' if s > 0 else 'below'} the centre line: an early sign of a shift")
    out["signal"] = [", ".join(s) for s in signals]
    findings = pd.DataFrame(rows, columns=["rule", "start", "end", "direction", "periods", "finding"])
    method = (f"p-chart, limits {'3 sigma' if limits == '3sigma' else '99.8%'}"
              + (f", Laney p' (sigma_z {sigma_z:.2f}, floored at 1)" if laney else "")
              + f"; rules: beyond limits, {run_length} in a row on one side, 2 of 3 beyond the warning limit")
    return ControlChart(table=out, findings=findings, centre=float(100 * pbar), sigma_z=sigma_z, outcome=what,
                        method=method)
