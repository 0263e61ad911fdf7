import json

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from victimneeds import plotting


def test_save_figure_writes_png_svg_and_sidecar(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    ax.set_title("Rising")
    rec = plotting.save_figure(fig, "rising", "A line rising from 1 to 3.", "Source: test (synthetic example).",
                               tmp_path)
    plt.close(fig)
    assert (tmp_path / "rising.png").stat().st_size > 0
    assert (tmp_path / "rising.svg").read_text().startswith("<?xml")
    meta = json.loads((tmp_path / "rising.json").read_text())
    assert meta["alt_text"] == "A line rising from 1 to 3."
    assert meta["title"] == "Rising"
    assert "synthetic example" in meta["source"]
    assert rec.png.endswith("rising.png")
    # the source note is stamped on the figure itself
    assert any("synthetic example" in t.get_text() for t in fig.texts)


def test_save_figure_is_byte_for_byte_repeatable(tmp_path):
    blobs = []
    for sub in ("a", "b"):
        fig, ax = plt.subplots()
        ax.bar(["x", "y"], [3, 4])
        plotting.save_figure(fig, "bars", "Two bars.", "Source: test.", tmp_path / sub)
        plt.close(fig)
        blobs.append(((tmp_path / sub / "bars.png").read_bytes(), (tmp_path / sub / "bars.svg").read_bytes()))
    assert blobs[0] == blobs[1]


@pytest.mark.parametrize("name,alt,source", [("Bad Name", "x", "s"), ("ok", "", "s"), ("ok", "x", " ")])
def test_save_figure_refuses_missing_alt_text_or_bad_names(tmp_path, name, alt, source):
    fig, _ = plt.subplots()
    with pytest.raises(ValueError):
        plotting.save_figure(fig, name, alt, source, tmp_path)
    plt.close(fig)


def test_style_file_is_packaged_and_colour_blind_palette_used():
    plotting.use_style()
    cycle = [c.lower() for c in plt.rcParams["axes.prop_cycle"].by_key()["color"]]
    assert cycle[:6] == [c.lower() for c in plotting.PALETTE]
    plt.style.use("default")


def test_line_chart_uses_markers_not_colour_alone():
    table = pd.DataFrame({"month": pd.period_range("2020-01", periods=6, freq="M").tolist() * 2,
                          "group": ["A"] * 6 + ["B"] * 6, "count": range(12)})
    ax = plotting.line_chart(table, "month", "count", "group", "Counts", "Crimes")
    lines = ax.get_lines()
    assert len(lines) == 2
    assert lines[0].get_marker() != lines[1].get_marker()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A", "B"]
    plt.close(ax.figure)


def test_population_pyramid_bars_and_labels():
    pop = pd.DataFrame({"sex": ["Female", "Male"] * 2, "age_band": ["0-15", "0-15", "16-24", "16-24"],
                        "population": [10, 30, 20, 40]})
    ax = plotting.population_pyramid(pop, "Residents", )
    heights = sorted(round(abs(p.get_width()), 6) for p in ax.patches)
    # shares of all 100 residents: 10, 20, 30, 40 per cent
    assert heights == [10.0, 20.0, 30.0, 40.0]
    plt.close(ax.figure)


def test_interval_chart_has_one_point_per_row():
    table = pd.DataFrame({"d": ["A", "B", "C"], "v": [1.0, 2.0, 3.0], "lo": [0.5, 1.5, 2.5], "hi": [1.5, 2.5, 3.5]})
    ax = plotting.interval_chart(table, "d", "v", "lo", "hi", "Rates", "per 1,000", reference=2.0)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(labels) == ["A", "B", "C"]
    plt.close(ax.figure)


def _squares(n):
    import geopandas as gpd
    from shapely.geometry import box

    return gpd.GeoDataFrame({"v": [float(i) for i in range(n)]},
                            geometry=[box(i, 0, i + 1, 1) for i in range(n)], crs="EPSG:27700")


def test_choropleth_classes_many_areas_into_a_legend():
    ax = plotting.choropleth(_squares(20), "v", "Twenty", "Value", scheme="quantiles", k=5)
    assert ax.get_legend() is not None
    assert len(ax.get_legend().get_texts()) == 5
    assert ax.get_title() == "Twenty"
    plt.close(ax.figure)


def test_choropleth_of_a_few_districts_uses_a_colour_bar():
    ax = plotting.choropleth(_squares(5), "v", "Five", "Value", scheme="quantiles", k=5)
    assert ax.get_legend() is None
    colorbars = [a for a in ax.figure.axes if a is not ax]
    # under the map (horizontal), so the map keeps the page's width
    assert len(colorbars) == 1 and colorbars[0].get_xlabel() == "Value"
    plt.close(ax.figure)


# --------------------------------------------------------------------------------------------------
# Readable and honest figures at the Word page width (issue 17, item 5)
# --------------------------------------------------------------------------------------------------

def _drawn(ax):
    ax.figure.canvas.draw()
    return ax.figure.canvas.get_renderer()


def _legend_clear_of_data(ax):
    """The legend's box overlaps neither the plotting area nor the tick labels."""
    renderer = _drawn(ax)
    legend = ax.get_legend()
    assert legend is not None
    box = legend.get_window_extent(renderer)
    assert not box.overlaps(ax.get_window_extent(renderer)), "legend covers the plotting area"
    for label in ax.get_xticklabels():
        if label.get_text():
            assert not box.overlaps(label.get_window_extent(renderer)), "legend covers a tick label"
    return box


def _pathway():
    """A pathway with counts chosen by hand: police referrals are a share of the assessed (stage 2), onward
    referrals of those contacted (stage 7), outcome measures of those supported (stage 9)."""
    from victimneeds.referrals import STAGES, Pathway

    counts = {"identified": 1000, "assessed": 800, "need": 400, "referred_police": 200, "referred": 250,
              "attempted": 240, "contacted": 200, "accepted": 100, "delivered": 90, "enhanced": 30, "onward": 20,
              "outcome": 45}
    rows = []
    for number, (key, label, segment, follows) in enumerate(STAGES, start=1):
        conversion = 100 * counts[key] / counts[follows] if follows else float("nan")
        rows.append({"stage_number": number, "stage_key": key, "stage": label, "segment": segment,
                     "count": counts[key], "follows": follows, "conversion": conversion})
    return Pathway(pd.DataFrame(rows), by=[]), counts


def test_pathway_funnel_each_share_names_the_stage_it_is_a_share_of():
    import re

    from victimneeds.referrals.core import _STAGE_SHORT, STAGES

    named = {_STAGE_SHORT[key]: i for i, (key, _, _, _) in enumerate(STAGES)}
    path, counts = _pathway()
    ax = path.plot()
    bars = sorted(ax.patches, key=lambda p: -p.get_y())  # top bar first
    texts = {round(t.get_position()[1], 6): t.get_text() for t in ax.texts}
    heights = [b.get_width() for b in bars]
    checked = 0
    for i, bar in enumerate(bars):
        text = texts[round(bar.get_y() + bar.get_height() / 2, 6)]
        assert text.startswith(f"{heights[i]:,.0f}")  # the label sits on the bar whose count it gives
        found = re.search(r"\((\d+)% of ([a-z ]+)\)", text)
        if not found:
            continue
        base = heights[i - 1] if found.group(2) == "previous" else heights[named[found.group(2)]]
        assert int(found.group(1)) == round(100 * heights[i] / base), text
        checked += 1
    assert checked == 10
    # police referrals: 200 of 800 assessed = 25%, not "of previous" (the 400 with a need)
    assert "200 (25% of assessed)" in texts.values()
    assert "20 (10% of contacted)" in texts.values()
    assert "45 (50% of supported)" in texts.values()
    plt.close(ax.figure)


def test_pathway_funnel_legend_is_off_the_bars():
    path, _ = _pathway()
    ax = path.plot()
    _legend_clear_of_data(ax)
    plt.close(ax.figure)


def _forecast(months=72, horizon=12):
    from victimneeds.forecast import ForecastResult

    history = pd.DataFrame({"month": pd.period_range("2019-04", periods=months, freq="M"),
                            "count": [100.0 + (i % 12) for i in range(months)]})
    future = pd.period_range(history["month"].iloc[-1] + 1, periods=horizon, freq="M")
    table = pd.DataFrame({"month": future, "mean": 105.0, "lower_80": 95.0, "upper_80": 115.0, "lower_95": 90.0,
                          "upper_95": 120.0, "method": "seasonal naive"})
    return ForecastResult(table, pd.DataFrame(), history, [])


def test_forecast_fan_uses_the_width_shows_three_years_and_keeps_the_legend_off_the_data():
    plotting.use_style()
    result = _forecast()
    ax = result.plot()
    _legend_clear_of_data(ax)
    renderer = _drawn(ax)
    # the plotting area takes most of the saved width (a legend to the right of it took a quarter or more)
    saved = ax.figure.get_tightbbox(renderer).width * ax.figure.dpi
    assert ax.get_window_extent(renderer).width > 0.85 * saved
    assert ax.figure.get_size_inches()[0] == pytest.approx(plotting.PAGE_WIDTH)
    recorded = ax.get_lines()[0]
    assert len(recorded.get_xdata()) == 36
    left, right = ax.get_xlim()
    first_shown = pd.Timestamp("2019-04-01") + pd.DateOffset(months=36)
    assert pd.Timestamp(matplotlib_num2date(left)).tz_localize(None) == first_shown
    plt.close(ax.figure)
    plt.style.use("default")


def matplotlib_num2date(value):
    import matplotlib.dates as mdates

    return mdates.num2date(value)


def test_legend_below_keeps_clear_of_a_full_axes():
    fig, ax = plt.subplots(figsize=(plotting.PAGE_WIDTH, 3))
    ax.plot(range(10), range(10), label="rising")
    ax.axhline(5, label="average")
    ax.set_xlabel("x label")
    plotting.legend_below(ax)
    _legend_clear_of_data(ax)
    plt.close(fig)


def _districts():
    import geopandas as gpd
    from shapely.geometry import box

    # six squares in two districts (A: three to the left, B: three to the right)
    return gpd.GeoDataFrame({"district_name": ["A"] * 3 + ["B"] * 3, "v": [1.0, 2, 3, 4, 5, 6]},
                            geometry=[box(i, 0, i + 1, 1) for i in range(6)], crs="EPSG:27700")


def test_map_names_each_district_once_inside_it_with_a_halo():
    areas = _districts()
    districts = areas.dissolve(by="district_name").reset_index()
    ax = plotting.choropleth(areas, "v", "Six", "Value", scheme="quantiles", k=3, boundaries=districts)
    names = {t.get_text(): t for t in ax.texts}
    assert sorted(names) == ["A", "B"]
    for name, shape in zip(districts["district_name"], districts.geometry, strict=True):
        from shapely.geometry import Point

        assert shape.contains(Point(names[name].xy))
        assert names[name].get_path_effects()  # the white halo
    plt.close(ax.figure)


def test_share_of_fair_share_is_diverging_and_centred_on_100():
    from matplotlib.colors import TwoSlopeNorm

    areas = _districts().dissolve(by="district_name").reset_index()
    areas["pct_of_target"] = [70.0, 130.0]
    ax = plotting.choropleth(areas, "pct_of_target", "Funding as % of fair share", "% of need-based target",
                             scheme="quantiles", k=2, cmap="cividis")
    norms = [c.norm for c in ax.collections if c.get_array() is not None]
    assert norms and all(isinstance(n, TwoSlopeNorm) and n.vcenter == 100 for n in norms)
    cmap_names = {c.get_cmap().name for c in ax.collections if c.get_array() is not None}
    assert cmap_names == {"RdBu"}
    colorbar = [a for a in ax.figure.axes if a is not ax][0]
    assert "below fair share" in colorbar.get_xlabel() and "above fair share" in colorbar.get_xlabel()
    # 70% is drawn in the 'below' half, 130% in the 'above' half
    norm = norms[0]
    assert norm(70.0) < 0.5 < norm(130.0)
    plt.close(ax.figure)


@pytest.mark.parametrize("low,high", [(0.3, 2.4), (0.6, 1.7), (120, 9500)])
def test_log_axis_ticks_are_plain_numbers(low, high):
    fig, ax = plt.subplots()
    ax.plot([low, high], [0, 1])
    ax.set_xscale("log")
    values = plotting.plain_log_axis(ax)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() + ax.get_xticklabels(minor=True) if t.get_text()]
    assert labels and all("10^" not in s and "times" not in s and "$" not in s for s in labels)
    lo, hi = ax.get_xlim()
    assert all(lo <= v <= hi for v in values) and 3 <= len(values) <= 7
    if low < 1 < high:
        assert "1" in labels
    plt.close(fig)


def test_forest_plot_of_odds_ratios_has_plain_ticks():
    from victimneeds.referrals import OddsRatios

    table = pd.DataFrame({"covariate": ["victim_sex", "victim_age_band"], "level": ["Male", "0-15"],
                          "reference": ["Female", "25-34"], "odds_ratio": [0.6, 1.8], "lower": [0.4, 1.2],
                          "upper": [0.9, 2.7], "unadjusted_or": [0.65, 1.7], "unadjusted_lower": [0.45, 1.1],
                          "unadjusted_upper": [0.95, 2.6]})
    ax = OddsRatios(table, "police referral", 100, 40).plot()
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() + ax.get_xticklabels(minor=True) if t.get_text()]
    assert "1" in labels and "0.5" in labels and "2" in labels
    assert not any("10^" in s or "times" in s for s in labels)
    plt.close(ax.figure)
    table.loc[0, ["covariate", "level", "reference"]] = ["district_code", "E07000129", "E06000016"]
    ax = OddsRatios(table, "police referral", 100, 40).plot(names={"E07000129": "Blaby", "E06000016": "Leicester"})
    assert "District: Blaby (vs Leicester)" in [t.get_text() for t in ax.get_yticklabels()]
    plt.close(ax.figure)


def test_line_chart_leaves_out_a_series_that_is_zero_throughout_and_says_so():
    months = pd.period_range("2020-01", periods=4, freq="M").tolist()
    table = pd.DataFrame({"month": months * 3, "group": ["Violence"] * 4 + ["Domestic abuse"] * 4 + ["Other"] * 4,
                          "count": [5, 6, 7, 8, 0, 0, 0, 0, 1, 0, 2, 0]})
    ax = plotting.line_chart(table, "month", "count", "group", "Crimes", "per month")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Violence", "Other"]
    assert len(ax.get_lines()) == 2
    assert ax.left_out == ["Domestic abuse"]
    assert "Domestic abuse" in ax.get_legend().get_title().get_text()
    plt.close(ax.figure)


def test_victims_code_chart_names_each_right():
    from victimneeds.voice import CodeCompliance

    rows = [{"right": r, "source": "victim survey", "measure": f"code_right_{r}", "value": 50.0, "lowercl": 40.0,
             "uppercl": 60.0} for r in range(1, 13)]
    rows.append({"right": 4, "source": "case records", "measure": "first contact attempt within 2 working days",
                 "value": 70.0, "lowercl": 65.0, "uppercl": 75.0})
    ax = CodeCompliance(pd.DataFrame(rows), pd.DataFrame()).plot()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "1 Understand and be understood"
    assert "4 Referral to support" in labels
    assert "12 Making a complaint" in labels
    assert not any(s.startswith("Right ") for s in labels)
    assert any(s.startswith("4 Referral to support (case records)") and "2 working days" in s for s in labels)
    # the rows do not run into each other
    renderer = _drawn(ax)
    boxes = [t.get_window_extent(renderer) for t in ax.get_yticklabels()]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    plt.close(ax.figure)


def test_figures_are_drawn_at_page_width_with_text_at_least_8_points_and_titles_not_clipped(tmp_path):
    plotting.use_style()
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    axes[0].set_title("A very long title that would run off the edge of a figure once it is fitted to the page")
    axes[1].plot([1, 2])
    rec = plotting.save_figure(fig, "wide", "Two panels.", "Source: test.", tmp_path)
    # the picture, margin included, is no wider than the page, so Word does not shrink its text
    width = plt.imread(rec.png).shape[1] / plt.rcParams["savefig.dpi"]
    assert 5.0 < width <= plotting.PAGE_WIDTH + 0.01
    title = axes[0].get_title(loc="left")  # the house style puts titles on the left
    assert "\n" in title and title.replace("\n", " ").startswith("A very long title")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert axes[0]._left_title.get_window_extent(renderer).x1 <= fig.bbox.width * 1.01
    sizes = [t.get_fontsize() for t in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text"))
             if t.get_text()]
    assert min(sizes) >= plotting.MIN_FONT
    plt.close(fig)
    plt.style.use("default")


def test_source_note_sits_under_a_legend_below_the_axes(tmp_path):
    fig, ax = plt.subplots(figsize=(plotting.PAGE_WIDTH, 3))
    ax.plot([1, 2], label="a")
    ax.plot([2, 1], label="b")
    plotting.legend_below(ax)
    plotting.save_figure(fig, "note", "Two lines.", "Source: test.", tmp_path)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    note = fig.texts[-1].get_window_extent(renderer)
    assert note.y1 <= ax.get_legend().get_window_extent(renderer).y0 + 0.5
    plt.close(fig)
