"""House style and figures: one look for every chart, and one way to save it.

Every figure is saved by :func:`save_figure`, which stamps the source note on the figure itself (so a chart
pasted into Word still says where it came from, and "synthetic example" for the built-in area), writes PNG
and SVG, and writes a JSON sidecar holding the alt text and the source note.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: Colour-blind-safe categorical palette (afcharts-like); the same as the packaged style's cycle.
PALETTE: tuple[str, ...] = ("#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1")
#: Markers to pair with colours so that series never differ by colour alone.
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P")
#: Line styles, for the same reason.
LINESTYLES: tuple[str, ...] = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1)))

_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


def style_path() -> Path:
    """Path of the packaged matplotlib style file."""
    return Path(str(resources.files("victimneeds") / "victimneeds.mplstyle"))


def use_style() -> None:
    """Apply the house style to every figure made after this call."""
    plt.style.use(str(style_path()))


@dataclass(frozen=True)
class FigureRecord:
    """What :func:`save_figure` wrote."""

    name: str
    title: str
    alt_text: str
    source: str
    png: str
    svg: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def save_figure(
    fig: Figure,
    name: str,
    alt_text: str,
    source: str,
    directory: str | Path = "figures",
    title: str | None = None,
    stamp: bool = True,
) -> FigureRecord:
    """Save ``fig`` as PNG and SVG with its alt text and source note.

    Parameters
    ----------
    fig : the matplotlib figure.
    name : file stem, lower case with digits, ``_`` or ``-`` (e.g. ``"00_population_pyramid"``).
    alt_text : a sentence or two describing what the figure shows, for screen readers and Word's alt text.
    source : the source note (e.g. ``AreaData.source_note``); stamped under the figure.
    directory : folder to write to; created if needed.
    title : caption for the evidence pack; defaults to the first axes' title.
    stamp : write the source note onto the figure.

    Returns
    -------
    FigureRecord naming the files written. The sidecar ``<name>.json`` holds the same fields.

    Examples
    --------
    >>> import tempfile
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([1, 2, 3])
    >>> rec = save_figure(fig, "demo", "A rising line.", "Source: test.", tempfile.mkdtemp())
    >>> Path(rec.png).exists(), Path(rec.svg).exists()
    (True, True)
    >>> plt.close(fig)
    """
    if not _NAME.match(name):
        raise ValueError(f"figure name {name!r} must be lower case letters, digits, '_' or '-' (no spaces)")
    if not alt_text or not alt_text.strip():
        raise ValueError(f"figure {name!r} needs alt text: a sentence saying what it shows")
    if not source or not source.strip():
        raise ValueError(f"figure {name!r} needs a source note")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if title is None:
        titles = [ax.get_title(loc="left") or ax.get_title() for ax in fig.axes]
        title = next((t for t in titles if t), fig._suptitle.get_text() if fig._suptitle else name)
    if stamp:
        fig.text(0.01, -0.01, source, ha="left", va="top", fontsize=7, color="#3D3D3D", wrap=True)
    png = directory / f"{name}.png"
    svg = directory / f"{name}.svg"
    # No timestamps or software versions in the files, so re-runs give identical bytes.
    with plt.rc_context({"svg.hashsalt": "victimneeds"}):
        fig.savefig(png, metadata={"Software": None}, bbox_inches="tight")
        fig.savefig(svg, metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    record = FigureRecord(name, title, alt_text.strip(), source, str(png), str(svg))
    sidecar = record.to_dict() | {"png": png.name, "svg": svg.name}
    (directory / f"{name}.json").write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
    return record


# --------------------------------------------------------------------------------------------------
# Chart types used across the notebooks
# --------------------------------------------------------------------------------------------------

def choropleth(
    gdf: pd.DataFrame,
    column: str,
    title: str,
    legend_title: str,
    scheme: str | None = "quantiles",
    k: int = 5,
    categorical: bool = False,
    cmap: str = "viridis",
    ax: Axes | None = None,
    boundaries: pd.DataFrame | None = None,
    fmt: str = "{:,.1f}",
) -> Axes:
    """Map ``column`` of a GeoDataFrame, classed with mapclassify (quantiles by default).

    Areas with no value are drawn hatched grey and named "No data" in the legend. ``boundaries`` (e.g.
    districts dissolved from the small areas) are drawn on top as outlines. With ``scheme=None``, or no more
    distinct values than classes (a map of a handful of districts), the scale is continuous with a colour bar.
    """
    if column not in gdf.columns:
        raise KeyError(f"choropleth: column {column!r} not in the table (columns: {list(gdf.columns)})")
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 6))
    kwargs: dict = {"legend": True, "cmap": cmap, "linewidth": 0.05, "edgecolor": "white",
                    "missing_kwds": {"color": "#D9D9D9", "hatch": "///", "label": "No data"}}
    if categorical:
        kwargs["categorical"] = True
        kwargs["legend_kwds"] = {"title": legend_title, "loc": "upper left", "bbox_to_anchor": (1, 1)}
    elif scheme is None or gdf[column].nunique() <= k:
        # Too few areas to class (e.g. five districts): a continuous scale with a colour bar says more.
        kwargs["legend_kwds"] = {"label": legend_title, "shrink": 0.6}
    else:
        kwargs["scheme"] = scheme
        kwargs["k"] = k
        kwargs["legend_kwds"] = {"title": legend_title, "loc": "upper left", "bbox_to_anchor": (1, 1),
                                 "fmt": fmt}
    gdf.plot(column=column, ax=ax, **kwargs)
    if boundaries is not None:
        boundaries.boundary.plot(ax=ax, color="black", linewidth=0.8)
    ax.set_axis_off()
    ax.set_title(title)
    ax.set_aspect("equal")
    return ax


def population_pyramid(
    population: pd.DataFrame,
    title: str,
    age: str = "age_band",
    sex: str = "sex",
    value: str = "population",
    ax: Axes | None = None,
) -> Axes:
    """Horizontal bars of residents by age band, females to the right and males to the left (as % of all)."""
    table = population.pivot_table(index=age, columns=sex, values=value, aggfunc="sum", observed=False)
    share = 100 * table / table.to_numpy().sum()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5))
    y = np.arange(len(share))
    ax.barh(y, -share["Male"], color=PALETTE[0], label="Male", hatch="..")
    ax.barh(y, share["Female"], color=PALETTE[1], label="Female")
    ax.set_yticks(y, [str(i) for i in share.index])
    limit = float(np.nanmax(share.to_numpy())) * 1.15
    ax.set_xlim(-limit, limit)
    ticks = ax.get_xticks()
    ax.set_xticks(ticks, [f"{abs(t):.0f}%" for t in ticks])
    ax.set_xlim(-limit, limit)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("Share of residents (%)")
    ax.set_ylabel("Age band")
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ax.legend(loc="lower right")
    ax.set_title(title)
    return ax


def line_chart(
    table: pd.DataFrame,
    x: str,
    y: str,
    series: str | None,
    title: str,
    ylabel: str,
    ax: Axes | None = None,
    order: Sequence[str] | None = None,
    shade: Sequence[tuple[object, object, str]] = (),
) -> Axes:
    """One line per ``series`` (colour plus marker and line style, never colour alone).

    ``shade`` is a list of (start, end, label) spans to shade, e.g. a lockdown period.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 5))
    groups = [(None, table)] if series is None else [(k, table[table[series] == k]) for k in (
        order if order is not None else table[series].drop_duplicates().tolist())]
    for i, (key, part) in enumerate(groups):
        xs = part[x]
        if isinstance(xs.dtype, pd.PeriodDtype):
            xs = xs.dt.to_timestamp()
        ax.plot(xs, part[y], label=key, color=PALETTE[i % len(PALETTE)],
                linestyle=LINESTYLES[(i // len(PALETTE)) % len(LINESTYLES)] if i >= len(PALETTE) else "-",
                marker=MARKERS[i % len(MARKERS)], markersize=3, markevery=max(1, len(part) // 12))
    for start, end, label in shade:
        ax.axvspan(pd.Timestamp(str(start)), pd.Timestamp(str(end)), color="#D9D9D9", alpha=0.6, label=label)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    if series is not None or shade:
        ax.legend(loc="upper left", bbox_to_anchor=(1, 1))
    return ax


def interval_chart(
    table: pd.DataFrame,
    label: str,
    value: str,
    lower: str,
    upper: str,
    title: str,
    xlabel: str,
    reference: float | None = None,
    reference_label: str = "Area",
    ax: Axes | None = None,
) -> Axes:
    """Dots with interval whiskers, one row per unit (e.g. a rate by district) and a reference line."""
    table = table.reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.5 * len(table) + 1.5))
    y = np.arange(len(table))[::-1]
    ax.errorbar(table[value], y, xerr=[table[value] - table[lower], table[upper] - table[value]],
                fmt="o", color=PALETTE[0], ecolor=PALETTE[0], capsize=3, label="Estimate and 95% interval")
    if reference is not None:
        ax.axvline(reference, color=PALETTE[2], linestyle="--", label=f"{reference_label}: {reference:,.1f}")
    ax.set_yticks(y, table[label].astype(str).tolist())
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ax.legend(loc="upper left", bbox_to_anchor=(1, 1))
    return ax
