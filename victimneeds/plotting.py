"""House style and figures: one look for every chart, and one way to save it.

Every figure is saved by :func:`save_figure`, which stamps the source note on the figure itself (so a chart
pasted into Word still says where it came from, and "synthetic example" for the built-in area), writes PNG
and SVG, and writes a JSON sidecar holding the alt text and the source note.
"""

from __future__ import annotations

import json
import re
import textwrap
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

#: Width of a figure in the Word evidence pack (inches): figures are drawn at this width so that what is set
#: at 8 points or more stays at 8 points or more on the page.
PAGE_WIDTH: float = 6.2
#: Smallest font size (points) allowed on the page.
MIN_FONT: float = 8.0

#: Columns whose values have a meaningful centre, mapped with a diverging palette around it:
#: column -> (centre, words for below, words for above).
CENTRED: dict[str, tuple[float, str, str]] = {
    "pct_of_target": (100.0, "below fair share", "above fair share"),
}

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


#: Longest source note stamped on a figure as it is; a longer one (a real area's list of files) is cut to its
#: first sentence, with the full note kept in the figure's sidecar, the workbook and the Word draft's annex.
FIGURE_SOURCE_MAX = 240


def figure_source(source: str) -> str:
    """The source line stamped under a figure: the note itself, or its first sentence when it is long.

    Examples
    --------
    >>> figure_source("Source: Northmoor (synthetic example). Produced with victimneeds.")
    'Source: Northmoor (synthetic example). Produced with victimneeds.'
    >>> figure_source("Source: Leicestershire. areas: LSOA 2011 boundaries (ONS) " + "x " * 200)
    'Source: Leicestershire; full list of sources in the evidence pack (workbook cover, Word annex A).'
    """
    text = " ".join(str(source).split())
    if len(text) <= FIGURE_SOURCE_MAX:
        return text
    first = re.split(r"(?<=[^A-Z])\.\s", text, maxsplit=1)[0].rstrip(".")
    if len(first) > FIGURE_SOURCE_MAX - 80:
        first = first[: FIGURE_SOURCE_MAX - 83].rsplit(" ", 1)[0] + "..."
    return f"{first}; full list of sources in the evidence pack (workbook cover, Word annex A)."


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
    # The saved picture is the drawing plus a margin each side (savefig.pad_inches): both fit the page width.
    fit_to_page(fig, PAGE_WIDTH - 2 * float(plt.rcParams["savefig.pad_inches"]))
    if stamp:
        # Under everything already drawn (a legend below the axes included), never on top of it.
        renderer = fig.canvas.get_renderer()
        box = fig.get_tightbbox(renderer)
        width, height = fig.get_size_inches()
        fig.text(max(box.x0 / width, 0.0), box.y0 / height - 0.04 / height, figure_source(source), ha="left",
                 va="top", fontsize=MIN_FONT, color="#3D3D3D", wrap=True)
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


def page_size(height: float, width: float = PAGE_WIDTH) -> tuple[float, float]:
    """Figure size (inches) for a chart the width of the Word page, ``height`` inches tall (at least 2)."""
    return (width, max(2.0, float(height)))


def _wrap_titles(fig: Figure) -> None:
    """Wrap any title wider than the figure, and any x-axis label wider than its axes, onto more lines."""
    renderer = fig.canvas.get_renderer()
    limit = fig.bbox.width * 0.98

    def fit(text, room_of) -> None:
        if not text.get_text():
            return
        extent = text.get_window_extent(renderer)
        if extent.width <= room_of(extent):
            return
        content = " ".join(text.get_text().split())  # as one line, then wrapped to the room there is
        text.set_text(content)
        extent = text.get_window_extent(renderer)
        room = room_of(extent)
        if extent.width > room:
            text.set_text(textwrap.fill(content, max(20, int(len(content) * room / extent.width) - 2)))

    texts = [t for ax in fig.axes for t in (ax.title, ax._left_title, ax._right_title)]
    if fig._suptitle is not None:
        texts.append(fig._suptitle)
    for text in texts:  # from where the title starts to the figure's right edge
        fit(text, lambda extent: min(limit, fig.bbox.width * 0.99 - max(extent.x0, 0.0)))
    for ax in fig.axes:  # an axis label longer than its axes would widen the figure (and shrink it in Word)
        if ax.get_visible() and ax.xaxis.label.get_visible() and not hasattr(ax, "_colorbar"):
            fit(ax.xaxis.label, lambda extent, ax=ax: max(ax.bbox.width * 1.05, 1.5 * fig.dpi))


def fit_to_page(fig: Figure, width: float = PAGE_WIDTH) -> None:
    """Make ``fig`` fit the Word page: shrink a figure drawn wider than ``width`` inches, wrap long titles.

    Text keeps its size in points, so a figure drawn at 13 inches and shrunk to 6.2 keeps its 10-point labels
    at 10 points on the page (Word would otherwise scale the whole picture, labels and all, to under 5 points).
    """
    w, h = fig.get_size_inches()
    if w > width * 1.02:
        fig.set_size_inches(width, h * width / w)
    fig.canvas.draw()
    _wrap_titles(fig)
    _squeeze_axes(fig, width)


def _squeeze_axes(fig: Figure, width: float) -> None:
    """Narrow the axes so that long tick labels (or anything else hanging off the side) fit in ``width``.

    Labels keep their size; the plotting areas give up the room. Only for figures without a layout engine,
    whose axes sit where ``subplots`` put them.
    """
    if fig.get_layout_engine() is not None:
        return
    shown = [a for a in fig.axes if a.get_visible()]
    if not shown:
        return
    fig.canvas.draw()
    box = fig.get_tightbbox(fig.canvas.get_renderer())
    w = fig.get_size_inches()[0]
    if box.width <= width * 1.01:
        return
    left = min(a.get_position().x0 for a in shown) * w
    right = max(a.get_position().x1 for a in shown) * w
    new_left = (left - box.x0) + 0.03
    new_right = min(w, width) - (box.x1 - right) - 0.03
    if new_right - new_left < 1.5 or right <= left:
        return  # not enough room to be worth it: leave the figure as drawn
    scale = (new_right - new_left) / (right - left)
    for ax in fig.axes:
        pos = ax.get_position(original=True)
        x0 = ((pos.x0 * w - left) * scale + new_left) / w
        ax.set_position([x0, pos.y0, pos.width * scale, pos.height], which="both")
    fig.canvas.draw()
    _wrap_titles(fig)


def legend_below(ax: Axes, handles: Sequence | None = None, labels: Sequence[str] | None = None,
                 ncol: int | None = None, **kwargs) -> object:
    """Put the legend under the axes, below the tick labels and axis label.

    A legend there never covers data, and, unlike a legend to the right, takes none of the chart's width on a
    6.2-inch page. Call it after the axis labels are set.

    Parameters
    ----------
    ax : the axes.
    handles, labels : as for :meth:`matplotlib.axes.Axes.legend`; by default the axes' labelled artists.
    ncol : columns; by default as many as fit the width (at most 4).
    **kwargs : passed to :meth:`~matplotlib.axes.Axes.legend`.

    Returns
    -------
    The legend, or None when there is nothing labelled.
    """
    if handles is None:
        handles, found = ax.get_legend_handles_labels()
        labels = found if labels is None else labels
    elif labels is None:
        labels = [h.get_label() for h in handles]
    if not handles:
        return None
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    fig = ax.figure
    fig.canvas.draw()
    box = ax.get_tightbbox(fig.canvas.get_renderer())
    bottom = ax.transAxes.inverted().transform((box.x0, box.y0))[1]
    # Centred on the figure (the axes may sit to the right of long tick labels), just under the axes' labels.
    from matplotlib.transforms import blended_transform_factory

    options = {"loc": "upper center", "bbox_to_anchor": (0.5, bottom - 0.02),
               "bbox_transform": blended_transform_factory(fig.transFigure, ax.transAxes), "frameon": False}
    renderer = fig.canvas.get_renderer()
    room = fig.bbox.width * 0.98
    for columns in ([ncol] if ncol is not None else range(min(len(labels), 4), 0, -1)):
        legend = ax.legend(handles, labels, **(options | {"ncol": columns} | kwargs))
        if legend.get_window_extent(renderer).width <= room:
            break  # the most columns that fit the page's width
    return legend


def date_axis(ax: Axes, axis: str = "x", max_ticks: int = 7) -> None:
    """Date ticks that never run into each other: at most ``max_ticks``, labelled concisely (2023, Apr, Jul...)."""
    import matplotlib.dates as mdates

    target = ax.xaxis if axis == "x" else ax.yaxis
    locator = mdates.AutoDateLocator(minticks=3, maxticks=max_ticks)
    target.set_major_locator(locator)
    target.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))


def thin_ticks(ax: Axes, axis: str = "x", max_labels: int = 6) -> None:
    """Keep every k-th tick label (first one kept) so that at most ``max_labels`` show, set level, not rotated.

    For category axes such as periods ("2023Q1", "2023Q2", ...), whose labels would otherwise run together.
    """
    target = ax.xaxis if axis == "x" else ax.yaxis
    ticks = list(target.get_ticklocs())
    texts = [t.get_text() for t in target.get_ticklabels()]
    if not ticks:
        return
    step = max(1, int(np.ceil(len(ticks) / max_labels)))
    kept = list(range(0, len(ticks), step))
    setter = ax.set_xticks if axis == "x" else ax.set_yticks
    setter([ticks[i] for i in kept], [texts[i] if i < len(texts) else "" for i in kept], rotation=0,
           fontsize=MIN_FONT)


#: The Victims' Code rights in a few words each, for chart labels (the full wording is
#: ``victimneeds.datamodel.VICTIMS_CODE_RIGHTS``).
CODE_RIGHTS_SHORT: dict[int, str] = {
    1: "Understand and be understood",
    2: "Crime recorded without delay",
    3: "Information when reporting",
    4: "Referral to support",
    5: "Information on compensation",
    6: "Updates on the investigation",
    7: "Victim Personal Statement",
    8: "Information about the trial",
    9: "Outcome of the case and appeals",
    10: "Expenses and property returned",
    11: "Information about the offender",
    12: "Making a complaint",
}


#: Tick values for a log axis, in the order they are tried: each decade's 1, 2, 5, then 3 and 1.5 and 7.
_LOG_STEPS = ((1.0, 2.0, 5.0), (1.0, 2.0, 3.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0))


def plain_log_axis(ax: Axes, axis: str = "x", max_ticks: int = 7) -> list[float]:
    """Label a log axis with plain numbers (0.3, 0.5, 1, 2), never "3x10^-1".

    The ticks are nice values (1, 2, 5 in each decade, more when the range is narrow) inside the axis limits, so
    an odds-ratio axis reads as odds ratios. Minor ticks are left unlabelled.

    Parameters
    ----------
    ax : axes with a log scale on ``axis``.
    axis : ``"x"`` or ``"y"``.
    max_ticks : most labels wanted.

    Returns
    -------
    The tick values used.

    Examples
    --------
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0.4, 2.5], [0, 1]); ax.set_xscale("log")
    >>> plain_log_axis(ax)
    [0.5, 0.7, 1.0, 1.5, 2.0]
    >>> plt.close(fig)
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    target = ax.xaxis if axis == "x" else ax.yaxis
    low, high = sorted(ax.get_xlim() if axis == "x" else ax.get_ylim())
    low, high = max(low, 1e-12), max(high, 1e-12)
    chosen: list[float] = []
    for steps in reversed(_LOG_STEPS):
        values = [round(m * 10.0 ** e, 12) for e in range(int(np.floor(np.log10(low))) - 1,
                                                        int(np.ceil(np.log10(high))) + 1) for m in steps]
        inside = [v for v in values if low <= v <= high]
        if len(inside) <= max_ticks or steps == _LOG_STEPS[0]:
            chosen = inside
            if len(inside) >= 3 or steps == _LOG_STEPS[0]:
                break
    if len(chosen) > max_ticks:
        chosen = [v for v in chosen if np.isclose(np.log10(v) % 1, 0) or np.isclose(np.log10(v) % 1, 1)] or chosen
    if len(chosen) < 3:  # a narrow range (e.g. 0.9 to 1.1): evenly spaced round values instead
        from matplotlib.ticker import MaxNLocator

        chosen = [float(v) for v in MaxNLocator(nbins=4).tick_values(low, high) if low <= v <= high and v > 0]
    target.set_major_locator(FixedLocator(chosen))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.10g}"))
    target.set_minor_formatter(NullFormatter())
    return chosen


#: Where a point's label may go, tried in turn: (x offset, y offset in points, horizontal, vertical alignment).
_LABEL_SPOTS = ((4, 4, "left", "bottom"), (4, -4, "left", "top"), (-4, 4, "right", "bottom"),
                (-4, -4, "right", "top"), (0, 7, "center", "bottom"), (0, -7, "center", "top"))


def label_points(ax: Axes, x: Sequence[float], y: Sequence[float], texts: Sequence[str],
                 fontsize: float = MIN_FONT) -> list:
    """Name points (e.g. districts on a funnel plot) without one name covering another.

    Each label goes to the first of a few spots around its point (right-above, right-below, left-above, ...)
    where it overlaps no label already placed and stays inside the axes; if none is free, the first spot.
    """
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    from matplotlib.transforms import Bbox

    radius = 4 * fig.dpi / 72  # a marker's half-width: labels keep off the other points too
    points = ax.transData.transform(np.column_stack([np.asarray(x, float), np.asarray(y, float)]))
    placed: list = [Bbox.from_extents(px - radius, py - radius, px + radius, py + radius) for px, py in points]
    out = []
    for xi, yi, text in zip(x, y, texts, strict=True):
        chosen = None
        for dx, dy, ha, va in _LABEL_SPOTS:
            note = ax.annotate(str(text), (xi, yi), textcoords="offset points", xytext=(dx, dy), ha=ha, va=va,
                               fontsize=fontsize)
            box = note.get_window_extent(renderer)
            inside = ax.bbox.x0 <= box.x0 and box.x1 <= ax.bbox.x1 and ax.bbox.y0 <= box.y0 and box.y1 <= ax.bbox.y1
            if inside and not any(box.overlaps(other) for other in placed):
                chosen = note
                break
            note.remove()
        if chosen is None:
            dx, dy, ha, va = _LABEL_SPOTS[0]
            chosen = ax.annotate(str(text), (xi, yi), textcoords="offset points", xytext=(dx, dy), ha=ha, va=va,
                                 fontsize=fontsize)
        placed.append(chosen.get_window_extent(renderer))
        out.append(chosen)
    return out


def empty_series(table: pd.DataFrame, series: str, y: str) -> list[str]:
    """The values of ``series`` whose ``y`` is zero or missing throughout (nothing to draw).

    A crime group the data cannot identify (no domestic-abuse flag in police.uk data) is all zero; drawn, it
    would look like "no domestic abuse". :func:`line_chart` leaves such series out and says so.

    Examples
    --------
    >>> t = pd.DataFrame({"g": ["A", "A", "B", "B"], "n": [0, 0, 3, 0]})
    >>> empty_series(t, "g", "n")
    ['A']
    """
    values = pd.to_numeric(table[y], errors="coerce").fillna(0)
    drawn = values.ne(0).groupby(table[series], sort=False, observed=True).any()
    return [str(k) for k, v in drawn.items() if not v]


def label_areas(ax: Axes, gdf: pd.DataFrame, column: str, fontsize: float = MIN_FONT) -> list:
    """Name each area on a map at a point inside it, in dark text with a white halo.

    Rows sharing a name are dissolved first, so a district given as many small areas gets one label, placed
    at the representative point of the whole district (always inside it, unlike a centroid).
    """
    from matplotlib import patheffects

    shapes = gdf[[column, "geometry"]].dropna(subset=[column]).dissolve(by=column).reset_index()
    # Biggest districts first: they have room; a small one whose name would cover another's moves a little
    # up or down (a name is never drawn on top of another).
    shapes = shapes.assign(_area=shapes.geometry.area).sort_values("_area", ascending=False)
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    placed: list = []
    texts = []
    for row in shapes.itertuples(index=False):
        point = row.geometry.representative_point()
        for dy in (0, 7, -7, 14, -14):
            text = ax.annotate(
                str(getattr(row, column)), (point.x, point.y), xytext=(0, dy), textcoords="offset points",
                ha="center", va="center", fontsize=fontsize, color="black", zorder=5,
                path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")])
            box = text.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed):
                break
            if dy != -14:
                text.remove()
        placed.append(text.get_window_extent(renderer))
        texts.append(text)
    return texts


def _diverging(gdf: pd.DataFrame, column: str, ax: Axes, legend_title: str, centre: float,
               below: str, above: str, cmap: str) -> None:
    """Continuous diverging map centred on ``centre``, with a colour bar naming both sides."""
    from matplotlib.colors import TwoSlopeNorm

    values = pd.to_numeric(gdf[column], errors="coerce")
    spread = float(np.nanmax(np.abs(values - centre))) if values.notna().any() else 1.0
    spread = spread if spread > 0 else 1.0
    norm = TwoSlopeNorm(vcenter=centre, vmin=centre - spread, vmax=centre + spread)
    gdf.plot(column=column, ax=ax, cmap=cmap, norm=norm, linewidth=0.05, edgecolor="white",
             missing_kwds={"color": "#D9D9D9", "hatch": "///", "label": "No data"})
    mappable = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    bar = ax.figure.colorbar(mappable, ax=ax, shrink=0.7, orientation="horizontal", pad=0.02, aspect=30)
    bar.set_label(f"{legend_title}\n\u2190 {below}  |  {above} \u2192")
    bar.ax.axvline(centre, color="black", linewidth=1)


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
    labels: str | None = "auto",
    centre: float | None = None,
) -> Axes:
    """Map ``column`` of a GeoDataFrame, classed with mapclassify (quantiles by default).

    Areas with no value are drawn hatched grey and named "No data" in the legend. ``boundaries`` (e.g.
    districts dissolved from the small areas) are drawn on top as outlines. With ``scheme=None``, or no more
    distinct values than classes (a map of a handful of districts), the scale is continuous with a colour bar.
    Legends and colour bars sit under the map, so the map keeps the page's width.

    ``labels`` names the areas on the map (see :func:`label_areas`): a column of ``boundaries`` (or, with no
    boundaries, of ``gdf``); ``"auto"`` uses ``district_name`` where there is one. ``centre`` maps a measure
    with a meaningful middle (e.g. 100% of fair share) on a colour-blind-safe diverging palette centred there,
    whatever ``scheme`` says; columns in :data:`CENTRED` get theirs without asking.
    """
    if column not in gdf.columns:
        raise KeyError(f"choropleth: column {column!r} not in the table (columns: {list(gdf.columns)})")
    if ax is None:
        _, ax = plt.subplots(figsize=page_size(5.2))
    below, above = "below", "above"
    if centre is None and column in CENTRED:
        centre, below, above = CENTRED[column]
    if centre is not None:
        _diverging(gdf, column, ax, legend_title, centre, below, above, "RdBu" if cmap in ("viridis", "cividis")
                   else cmap)
    else:
        kwargs: dict = {"legend": True, "cmap": cmap, "linewidth": 0.05, "edgecolor": "white",
                        "missing_kwds": {"color": "#D9D9D9", "hatch": "///", "label": "No data"}}
        below_map = {"loc": "upper center", "bbox_to_anchor": (0.5, 0.0), "frameon": False}
        if categorical:
            kwargs["categorical"] = True
            n = gdf[column].nunique()
            kwargs["legend_kwds"] = {"title": legend_title, "ncol": min(n + 1, 6)} | below_map
        elif scheme is None or gdf[column].nunique() <= k:
            # Too few areas to class (e.g. five districts): a continuous scale with a colour bar says more.
            kwargs["legend_kwds"] = {"label": legend_title, "shrink": 0.7, "orientation": "horizontal",
                                     "pad": 0.02, "aspect": 30}
        else:
            kwargs["scheme"] = scheme
            kwargs["k"] = k
            kwargs["legend_kwds"] = {"title": legend_title, "fmt": fmt, "ncol": 3} | below_map
        gdf.plot(column=column, ax=ax, **kwargs)
    if boundaries is not None:
        boundaries.boundary.plot(ax=ax, color="black", linewidth=0.8)
    ax.set_axis_off()
    ax.set_title(title)
    ax.set_aspect("equal")
    named = boundaries if boundaries is not None else gdf
    if labels == "auto":
        labels = "district_name" if "district_name" in named.columns else None
    if labels is not None:
        label_areas(ax, named, labels)
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
        _, ax = plt.subplots(figsize=page_size(4.6))
    y = np.arange(len(share))
    ax.barh(y, -share["Male"], color=PALETTE[0], label="Male", hatch="..")
    ax.barh(y, share["Female"], color=PALETTE[1], label="Female")
    ax.set_yticks(y, [str(i) for i in share.index])
    limit = float(np.nanmax(share.to_numpy())) * 1.15
    ax.set_xlim(-limit, limit)
    ticks = ax.get_xticks()
    ax.set_xticks(ticks, [f"{abs(t):g}%" for t in ticks])
    ax.set_xlim(-limit, limit)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("Share of residents (%)")
    ax.set_ylabel("Age band")
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ax.set_title(title)
    legend_below(ax)
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
    drop_empty: bool = True,
) -> Axes:
    """One line per ``series`` (colour plus marker and line style, never colour alone).

    ``shade`` is a list of (start, end, label) spans to shade, e.g. a lockdown period.

    With ``drop_empty`` (the default), a series that is zero or missing throughout (a crime group these data
    cannot identify, see :func:`empty_series`) is not drawn: a flat line at zero would say "none" where the truth
    is "not known". The legend says which were left out, and the list is kept on the returned axes as
    ``ax.left_out`` for the figure's alt text.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=page_size(4.2))
    keys = [] if series is None else list(order if order is not None else table[series].drop_duplicates().tolist())
    left_out = empty_series(table, series, y) if (series is not None and drop_empty) else []
    keys = [k for k in keys if str(k) not in left_out]
    groups = [(None, table)] if series is None else [(k, table[table[series] == k]) for k in keys]
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
    if isinstance(table[x].dtype, pd.PeriodDtype) or pd.api.types.is_datetime64_any_dtype(table[x]):
        date_axis(ax)
    ax.left_out = left_out
    if series is not None or shade:
        note = None
        if left_out:
            note = textwrap.fill("Not shown (zero throughout, so not identifiable in these data): "
                                 + ", ".join(left_out), 90)
        legend = legend_below(ax, title=note)
        if legend is not None and note:
            legend.get_title().set_fontsize(MIN_FONT)
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
        _, ax = plt.subplots(figsize=page_size(0.4 * len(table) + 1.6))
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
    legend_below(ax)
    return ax
