"""Tests for victimneeds.similar_forces: profiles, similar forces, comparison with them, funnel plot."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from victimneeds.similar_forces import (
    MEASURES,
    compare_with_similar,
    force_slug,
    load_force_profiles,
    plot_funnel,
    rates_from_aggregates,
    similar_forces,
)

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def profiles() -> pd.DataFrame:
    return load_force_profiles()


def three_forces() -> pd.DataFrame:
    # Hand calculation (ddof = 1 z-scores):
    # x = 0, 1, 3: mean 4/3, sd sqrt(21)/3, so a difference of 1 in x is 3/sqrt(21) in z.
    # y = 0, 3, 0: mean 1, sd sqrt(3), so a difference of 3 in y is sqrt(3) in z.
    # d(A,B)^2 = 9/21 + 3 = 3.4286 (1.8516); d(A,C)^2 = 81/21 = 3.8571 (1.9640);
    # d(B,C)^2 = 36/21 + 3 = 4.7143 (2.1712).
    return pd.DataFrame({"pfa_code": ["E1", "E2", "E3"], "force": ["a", "b", "c"],
                         "x": [0.0, 1.0, 3.0], "y": [0.0, 3.0, 0.0]})


def test_shipped_profiles_cover_every_force(profiles):
    assert len(profiles) == 43
    assert profiles["pfa_code"].is_unique and profiles["force"].is_unique
    assert set(MEASURES) <= set(profiles.columns)
    # the LSOA estimates of England and Wales add up to the ONS mid-2019 total (MYE5: 59,439,840)
    assert profiles["population"].sum() == 59_439_840
    # every LSOA of England (32,844) and Wales (1,909) once; the areas add to England and Wales (MYE 5: 151,047.0106)
    assert profiles["n_lsoas"].sum() == 32_844 + 1_909
    assert profiles["area_sq_km"].sum() == pytest.approx(151_047.0106, abs=0.25)
    assert profiles.loc[profiles["country"] == "W", "imd_score"].isna().all()
    assert profiles.loc[profiles["country"] == "E", list(MEASURES)].notna().all().all()
    assert "LSOA" in profiles.attrs["method"]


def test_force_slug_matches_policeuk_names():
    assert force_slug("E23000035", "Devon & Cornwall") == "devon-and-cornwall"
    assert force_slug("E23000034", "London, City of") == "city-of-london"
    assert force_slug("W15000004", "Dyfed-Powys") == "dyfed-powys"
    assert force_slug("E23000005", "Greater Manchester") == "greater-manchester"


def test_force_is_not_its_own_neighbour(profiles):
    out = similar_forces(profiles, "leicestershire", k=50)
    assert "leicestershire" not in set(out["force"])
    assert (out["distance"] > 0).all()
    assert out["distance"].is_monotonic_increasing
    assert out["rank"].tolist() == list(range(1, len(out) + 1))
    # an identical copy of the force is at distance 0 and comes first
    twin = profiles.loc[profiles["force"] == "leicestershire"].assign(pfa_code="E99999999", force="twin",
                                                                       pfa_name="Twin")
    out = similar_forces(pd.concat([profiles, twin], ignore_index=True), "leicestershire", k=3)
    assert out["force"].iloc[0] == "twin" and out["distance"].iloc[0] == 0


def test_distances_are_symmetric(profiles):
    english = profiles.loc[profiles["country"] == "E"]
    a = similar_forces(english, "leicestershire", k=100).set_index("force")["distance"]
    for other in ("avon-and-somerset", "metropolitan", "cumbria"):
        b = similar_forces(english, other, k=100).set_index("force")["distance"]
        assert a[other] == pytest.approx(b["leicestershire"], rel=1e-12)


def test_scaling_a_measure_does_not_change_the_groups(profiles):
    base = similar_forces(profiles, "avon-and-somerset", k=10)
    scaled = profiles.assign(population=profiles["population"] * 1000, urban_share=profiles["urban_share"] * 100,
                             imd_score=profiles["imd_score"] * 7)
    out = similar_forces(scaled, "avon-and-somerset", k=10)
    assert out["force"].tolist() == base["force"].tolist()
    np.testing.assert_allclose(out["distance"], base["distance"], rtol=1e-10)


def test_hand_computed_three_forces():
    t = three_forces()
    out = similar_forces(t, "a", k=2, measures=["x", "y"], log_measures=())
    assert out["force"].tolist() == ["b", "c"]
    np.testing.assert_allclose(out["distance"], [np.sqrt(9 / 21 + 3), np.sqrt(81 / 21)], rtol=1e-12)
    out = similar_forces(t, "c", k=2, measures=["x", "y"], log_measures=())
    assert out["force"].tolist() == ["a", "b"]
    np.testing.assert_allclose(out["distance"], [np.sqrt(81 / 21), np.sqrt(36 / 21 + 3)], rtol=1e-12)
    # with y weighted 0 only x counts: from c, b (2 units of x) is nearer than a (3 units)
    out = similar_forces(t, "c", k=2, measures=["x", "y"], log_measures=(), weights={"y": 0})
    assert out["force"].tolist() == ["b", "a"]
    np.testing.assert_allclose(out["distance"], [6 / np.sqrt(21), 9 / np.sqrt(21)], rtol=1e-12)


def test_missing_measures_compare_like_with_like(profiles):
    english = similar_forces(profiles, "leicestershire")
    assert not set(english["force"]) & {"north-wales", "gwent", "south-wales", "dyfed-powys"}
    assert len(english.attrs["excluded"]) == 4
    welsh = similar_forces(profiles, "South Wales")  # by PFA name
    assert "imd_score" not in welsh.attrs["measures"] and welsh.attrs["excluded"] == []
    with pytest.raises(KeyError, match="not in the profiles"):
        similar_forces(profiles, "atlantis")


def small_rates() -> pd.DataFrame:
    return pd.DataFrame({
        "force": ["f", "g", "h", "i", "j"] * 2,
        "crime_group": ["Burglary"] * 10,
        "year": [2021] * 5 + [2022] * 5,
        "count": [300, 150, 260, 500, 90, 330, 160, 250, 520, 80],
        "population": [100_000, 60_000, 90_000, 200_000, 40_000] * 2,
    })


def test_pooled_rates_by_hand():
    res = compare_with_similar(small_rates(), "f", ["g", "h", "f"])
    row = res.table.set_index("year").loc[2021]
    assert row["value"] == pytest.approx(3.0)
    assert row["similar_value"] == pytest.approx((150 + 260) / (60_000 + 90_000) * 1000)
    assert row["all_value"] == pytest.approx((300 + 150 + 260 + 500 + 90) / 490_000 * 1000)
    assert row["similar_count"] == 410  # the force itself is never in its own group
    # exact Poisson interval for 300 events (chi-square form, as scipy gives it)
    from scipy.stats import chi2

    assert row["lowercl"] == pytest.approx(chi2.ppf(0.025, 600) / 2 / 100, rel=1e-9)
    assert row["uppercl"] == pytest.approx(chi2.ppf(0.975, 602) / 2 / 100, rel=1e-9)
    assert res.group == ["g", "h"]
    assert set(res.trend["force"]) == {"f", "g", "h", "i", "j"}
    trend = res.trend.set_index("force").loc["f"]
    assert trend["rate_ratio_per_year"] == pytest.approx(330 / 300, rel=1e-3)  # two years: the change itself
    assert "f beside 2 similar forces" in res.summary()


def simulate(rng: np.random.Generator, planted: float, forces: int = 40) -> pd.DataFrame:
    """One year of counts: forces' true rates vary log-normally (sd 0.1) around 20 per 1,000; force 'p' has
    ``planted`` x 20, force 'n' exactly 20."""
    pop = rng.integers(500_000, 3_000_000, forces)
    true = 20 * np.exp(rng.normal(0, 0.1, forces))
    true[0], true[1] = 20 * planted, 20.0
    counts = rng.poisson(true * pop / 1000)
    names = ["p", "n"] + [f"x{i}" for i in range(forces - 2)]
    return pd.DataFrame({"force": names, "crime_group": "Violence", "year": 2022, "count": counts,
                         "population": pop})


def test_planted_force_is_flagged_and_null_force_is_not():
    rng = np.random.default_rng(20261203)
    reps, planted_hits, null_hits, outside = 30, 0, 0, []
    for _ in range(reps):
        rates = simulate(rng, planted=1.5)
        res = compare_with_similar(rates, "p", ["x1", "x2"])
        planted_hits += res.table["flag"].iloc[0].startswith("above")
        null_hits += not res.funnel.set_index("force").loc["n", "flag"].startswith("within")
        # no effect planted anywhere: forces drawn from the between-force spread
        null = compare_with_similar(simulate(rng, planted=1.0), "p", ["x1"]).funnel
        outside.append((~null["flag"].str.startswith("within")).mean())
    assert planted_hits >= 0.95 * reps
    assert null_hits <= 0.05 * reps
    # with no effect planted, forces fall outside the 95% limits at about the nominal rate
    assert 0.02 <= np.mean(outside) <= 0.09


def test_city_of_london_is_shown_but_does_not_widen_the_limits():
    rates = simulate(np.random.default_rng(3), planted=1.0)
    city = pd.DataFrame({"force": ["city-of-london"], "crime_group": "Violence", "year": 2022, "count": [6000],
                         "population": [10_000]})
    base = compare_with_similar(rates, "p", ["x1"])
    res = compare_with_similar(pd.concat([rates, city], ignore_index=True), "p", ["x1"])
    assert res.overdispersion[("Violence", 2022)].tau2 == pytest.approx(base.overdispersion[("Violence", 2022)].tau2)
    row = res.funnel.set_index("force").loc["city-of-london"]
    assert row["flag"] == "above 99.8%" and not row["in_reference"]
    assert row["value"] == pytest.approx(600)
    # the all-forces rate still counts every force given
    assert res.table["all_count"].iloc[0] == rates["count"].sum() + 6000
    # included in the reference, the City's z-score (about 180) inflates the between-force variance
    wide = compare_with_similar(pd.concat([rates, city], ignore_index=True), "p", ["x1"], reference_exclude=())
    assert wide.overdispersion[("Violence", 2022)].tau2 > 10 * base.overdispersion[("Violence", 2022)].tau2


def test_rates_from_aggregates(profiles):
    months = [f"2021-{m:02d}" for m in range(1, 13)] + ["2022-01"]
    agg = pd.DataFrame({
        "force": ["leicestershire"] * 13 * 2 + ["btp"],
        "month": months * 2 + ["2021-01"],
        "crime_type": ["Burglary"] * 13 + ["Violence and sexual offences"] * 13 + ["Burglary"],
        "count": [10] * 26 + [5],
    })
    out = rates_from_aggregates(agg, profiles)
    assert out[["crime_group", "year", "count"]].values.tolist() == [["Burglary", 2021, 120], ["Violence", 2021, 120]]
    assert out.attrs["not_in_profiles"] == ["btp"]
    assert out.attrs["part_years"] == [("leicestershire", 2022, 1)]
    kept = rates_from_aggregates(agg, profiles, complete_years=False)
    assert sorted(kept["year"].unique()) == [2021, 2022]
    # data.police.uk "Falls within" names and PFA codes name the same force
    named = rates_from_aggregates(agg.assign(force=agg["force"].replace("leicestershire", "Leicestershire Police")),
                                  profiles)
    assert named["force"].unique().tolist() == ["leicestershire"]
    coded = rates_from_aggregates(agg.assign(force=agg["force"].replace("leicestershire", "E23000021")), profiles)
    assert coded.equals(out)
    fy = rates_from_aggregates(agg, profiles, year_start_month=4, complete_years=False)
    assert fy.groupby("year")["months"].first().to_dict() == {2020: 3, 2021: 10}  # Jan-Mar 2021; Apr 2021-Jan 2022
    # its output goes straight into compare_with_similar (it once failed on the frame's notes)
    two = pd.concat([out, out.assign(force="rutland-ish", count=out["count"] * 2)], ignore_index=True)
    res = compare_with_similar(two, "leicestershire", ["rutland-ish"])
    assert res.table["similar_value"].tolist() == pytest.approx((out["count"] * 2 / out["population"] * 1000).tolist())


def test_plot_funnel_draws_force_group_and_limits():
    import matplotlib.pyplot as plt

    rates = simulate(np.random.default_rng(1), planted=1.3)
    res = compare_with_similar(rates, "p", ["x1", "x2", "x3"])
    ax = plot_funnel(res, "Violence", 2022)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"95% limits", "99.8% limits", "Similar forces", "Other forces", "p"} <= set(texts)
    collections = ax.collections
    assert [len(c.get_offsets()) for c in collections] == [36, 3, 1]  # 40 forces: 36 others, 3 similar, the force
    assert {t.get_text() for t in ax.texts} >= {"x1", "x2", "x3"}
    assert ax.get_xscale() == "log"
    plt.close(ax.figure)


# --------------------------------------------------------------------------------------------------
# Real data
# --------------------------------------------------------------------------------------------------


def _builder():
    spec = importlib.util.spec_from_file_location("make_force_profiles", ROOT / "docs" / "make_force_profiles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.realdata
def test_reference_csv_is_in_sync_with_the_builder(shared_data):
    text = _builder().build(shared_data)
    shipped = (ROOT / "victimneeds" / "reference" / "force_profiles.csv").read_text(encoding="utf-8")
    assert text == shipped, "run: python docs/make_force_profiles.py"


@pytest.mark.realdata
def test_leicestershire_population_matches_the_area_config(shared_data, profiles):
    from victimneeds.io import read_area_config
    from victimneeds.io.ons import read_lookup, read_population_lsoa

    config = read_area_config(ROOT / "data" / "areas" / "leicestershire.toml")
    pfa = read_lookup(config.one("pfa_lookup")).table
    lads = set(pfa.loc[pfa["pfa_code"] == config.pfa_code, "lad_code"])
    lsoas = read_lookup(config.one("lsoa_lookup")).table
    pop = read_population_lsoa(config.one("population_lsoa")).table.set_index("area_code")["population"]
    area_population = pop.reindex(lsoas.loc[lsoas["lad_code"].isin(lads), "lsoa_code"]).sum()
    row = profiles.set_index("pfa_code").loc[config.pfa_code]
    assert row["population"] == pytest.approx(area_population, rel=0.01)
    assert row["force"] == config.force


@pytest.mark.realdata
def test_every_force_population_is_close_to_the_ons_pfa_table(shared_data, profiles):
    # independent source: ONS PFA mid-2018 estimates (rounded to 100); a year's growth is under 2%
    ons = pd.read_csv(shared_data / "population" / "pfa_population_MYE2018_households_SNHP2017.csv")
    ons = ons.set_index("code")["MYE2018"]
    mine = profiles.set_index("pfa_code")["population"]
    ratio = mine / ons.reindex(mine.index)
    assert ratio.notna().all()
    # the City of London (under 10,000 residents) grew from 8,700 to 9,721 between the two estimates
    city = ratio.pop("E23000034")
    assert 1.0 < city < 1.15
    assert ratio.between(0.99, 1.02).all(), ratio[~ratio.between(0.99, 1.02)]


def test_distance_properties_on_random_profiles():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    values = st.floats(min_value=-100, max_value=100, allow_nan=False)

    @settings(max_examples=25)
    @given(st.lists(st.tuples(values, values, values), min_size=3, max_size=6), st.integers(1, 10))
    def check(rows, k):
        t = pd.DataFrame(rows, columns=["u", "v", "w"]).assign(force=[f"f{i}" for i in range(len(rows))])
        t["pfa_code"] = t["force"]
        d = {f: similar_forces(t, f, k=50, measures=["u", "v", "w"], log_measures=()).set_index("force")["distance"]
             for f in t["force"]}
        for a in t["force"]:
            assert a not in d[a].index and len(d[a]) == len(t) - 1
            assert (d[a] >= 0).all() and d[a].is_monotonic_increasing
            for b in d[a].index:
                assert d[a][b] == pytest.approx(d[b][a], rel=1e-9, abs=1e-12)
        assert len(similar_forces(t, "f0", k=k, measures=["u", "v", "w"], log_measures=())) == min(k, len(t) - 1)

    check()
