"""Area profile tables on a tiny hand-made area whose answers are worked out on paper."""

import pandas as pd
import pytest

from victimneeds import profile
from victimneeds.datamodel import AreaData


@pytest.fixture()
def tiny():
    areas = pd.DataFrame({
        "area_code": ["A1", "A2", "B1"], "area_name": ["a1", "a2", "b1"],
        "district_code": ["D1", "D1", "D2"], "district_name": ["Dee", "Dee", "Bee"],
        "population": [1000, 3000, 2000], "imd_score": [50.0, 10.0, 5.0], "imd_decile": [1, 6, 9],
    })
    population = pd.DataFrame({
        "area_code": ["A1", "A1", "A2", "A2", "B1", "B1"],
        "sex": ["Female", "Male"] * 3,
        "age_band": ["0-15", "75+", "16-24", "65-74", "0-15", "35-44"],
        "population": [600, 400, 1500, 1500, 1000, 1000],
    })
    months = pd.PeriodIndex(["2023-04"] * 3 + ["2024-03"] * 2 + ["2024-04"], freq="M")
    crimes = pd.DataFrame({
        "crime_id": [f"c{i}" for i in range(6)], "month": months,
        "area_code": ["A1", "A1", "B1", "A2", None, "B1"],
        "crime_type": ["Burglary", "Anti-social behaviour", "Robbery", "Burglary", "Burglary", "Robbery"],
        "crime_group": ["Burglary", "Anti-social behaviour", "Robbery", "Burglary", "Burglary", "Robbery"],
        "is_domestic_abuse": pd.array([False] * 6, dtype="boolean"),
        "is_hate": pd.array([None] * 6, dtype="boolean"),
    })
    return AreaData("Tiny", areas, population=population, crimes=crimes, period=(months.min(), months.max()))


def test_population_by_district(tiny):
    t = profile.population_by_district(tiny).set_index("district_name")
    assert t.loc["Dee", "residents"] == 4000
    assert t.loc["Dee", "small_areas"] == 2
    assert t.loc["Dee", "pct_most_deprived"] == 25.0  # A1's 1,000 of 4,000 live in decile 1
    assert t.loc["Dee", "pct_female"] == 52.5  # (600 + 1,500) / 4,000
    assert t.loc["Dee", "pct_aged_65_plus"] == 47.5  # (400 + 1,500) / 4,000
    assert t.loc["Area total", "residents"] == 6000
    assert t.loc["Area total", "pct_aged_0_15"] == round(100 * 1600 / 6000, 1)


def test_crime_rates_last_twelve_months_exclude_asb_and_unlocated(tiny):
    t = profile.crime_rates(tiny, by="district").set_index("district_name")
    # last 12 months: 2023-05 .. 2024-04 -> c3 (A2, Dee), c4 (no area), c5 (B1, Bee)
    assert t.loc["Dee", "crimes"] == 1 and t.loc["Bee", "crimes"] == 1
    assert t.loc["Dee", "value"] == pytest.approx(1000 * 1 / 4000)
    assert (t["lowercl"] <= t["value"]).all() and (t["value"] <= t["uppercl"]).all()


def test_crimes_by_year_keeps_complete_years_and_hides_unflagged_groups(tiny):
    # No financial year is complete in 6 months of data.
    assert list(profile.crimes_by_year(tiny).columns) == ["crime_group"]
    assert profile.unidentifiable_groups(tiny.crimes) == ["Sexual violence", "Hate crime"]


def test_data_quality_counts_missing(tiny):
    q = profile.data_quality(tiny).set_index(["table", "column"])
    assert q.loc[("crimes", "area_code"), "missing"] == 1
    assert q.loc[("crimes", "area_code"), "pct_missing"] == round(100 / 6, 1)
    assert q.loc[("referrals", "(table not supplied)"), "rows"] == 0


def test_profile_does_not_change_its_input(tiny):
    before = tiny.crimes.copy()
    profile.crime_rates(tiny)
    profile.crimes_by_year(tiny)
    pd.testing.assert_frame_equal(before, tiny.crimes)


def test_monthly_counts_give_a_month_with_no_crimes_as_zero():
    import dataclasses

    import victimneeds as vn
    from victimneeds import profile

    data = vn.load("example")
    month = data.period[0] + 5
    crimes = data.crimes[~((data.crimes["district_code"] == "X09000002") & (data.crimes["month"] == month))]
    thinned = dataclasses.replace(data, crimes=crimes)
    t = profile.monthly_counts(thinned, by=["district_code", "crime_group"])
    cell = t[(t["district_code"] == "X09000002") & (t["month"] == month)]
    assert len(cell) == t["crime_group"].nunique() and (cell["count"] == 0).all()
    assert t["count"].sum() == crimes["district_code"].notna().sum()
