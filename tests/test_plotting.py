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
    assert len(colorbars) == 1 and colorbars[0].get_ylabel() == "Value"
    plt.close(ax.figure)
