"""Audit fixes in victimneeds.stats (issue 15 item 5): missing counts and denominators are never read as zero.

Reference values by hand (Dobson's formula with one stratum reduces to the exact Poisson interval of the count
over its population) and from statsmodels (Wilson interval).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from victimneeds import stats as vs

EQUAL = pd.Series({"young": 1.0, "old": 1.0})


def _table(victims, pop):
    return pd.DataFrame(
        {"district": ["A", "A", "B", "B"], "band": ["young", "old"] * 2, "victims": victims, "pop": pop}
    )


def _dsr(t, **kw):
    out = vs.dsr(t, "victims", "pop", EQUAL, group_by="district", strata="band", multiplier=1000, **kw)
    return out.set_index("district")


def test_dsr_missing_count_gives_no_rate_not_a_zero_count():
    # A's "old" count is unknown. The old code summed it as 0 with its full weight: (30/1000 + 0) / 2 = 15 per 1,000.
    out = _dsr(_table([30, np.nan, 30, 20], [1000, 2000, 1000, 1000]))
    a, b = out.loc["A"], out.loc["B"]
    assert np.isnan(a["value"]) and np.isnan(a["lowercl"]) and np.isnan(a["uppercl"])
    assert np.isnan(a["total_count"]) and a["strata_missing"] == 1
    assert "missing" in a["note"]
    # B is untouched: (30/1000 + 20/1000) / 2 = 25 per 1,000
    assert b["value"] == pytest.approx(25.0) and b["strata_missing"] == 0 and b["note"] == ""


def test_dsr_missing_population_gives_no_rate():
    # the old code read a missing population as a zero rate for that stratum: (30/1000 + 0) / 2 = 15
    out = _dsr(_table([30, 10, 30, 20], [1000, np.nan, 1000, 1000]))
    assert np.isnan(out.loc["A", "value"]) and out.loc["A", "strata_missing"] == 1


def test_dsr_exclude_drops_the_stratum_and_its_weight_and_says_so():
    out = _dsr(_table([30, np.nan, 30, 20], [1000, 2000, 1000, 1000]), missing="exclude")
    a = out.loc["A"]
    # only "young" remains: DSR = 30 / 1000, and Dobson's limits reduce to the exact Poisson limits of 30 / 1000
    lo, hi = sps.chi2.ppf(0.025, 60) / 2, sps.chi2.ppf(0.975, 62) / 2
    assert a["value"] == pytest.approx(30.0)
    assert a["lowercl"] == pytest.approx(lo) and a["uppercl"] == pytest.approx(hi)
    assert a["total_count"] == 30 and a["total_pop"] == 1000 and a["strata_missing"] == 1
    assert "1 strata" in a["note"] and "left out" in a["note"]
    assert out.loc["B", "value"] == pytest.approx(25.0) and out.loc["B", "note"] == ""


def test_dsr_exclude_keeps_the_fewer_than_ten_events_rule():
    # after leaving out the missing stratum only 9 events remain: Dobson is not computed
    out = _dsr(_table([9, np.nan, 30, 20], [1000, 2000, 1000, 1000]), missing="exclude")
    a = out.loc["A"]
    assert np.isnan(a["value"]) and np.isnan(a["lowercl"])
    assert "fewer than 10 events" in a["note"] and "left out" in a["note"]
    # and with nothing missing, 9 events still give no rate
    full = _dsr(_table([5, 4, 30, 20], [1000, 2000, 1000, 1000]))
    assert np.isnan(full.loc["A", "value"]) and "fewer than 10" in full.loc["A", "note"]


def test_dsr_missing_option_is_checked():
    with pytest.raises(ValueError, match="missing must be"):
        _dsr(_table([30, 10, 30, 20], [1000, 2000, 1000, 1000]), missing="zero")


def test_proportion_missing_denominator_or_numerator_gives_nan_row():
    t = pd.DataFrame({"x": [3, np.nan, 2, np.nan], "n": [np.nan, 10, 4, np.nan]})
    out = vs.proportion(t, "x", "n")  # the old code raised "wilson: need 0 <= x <= n" for row 0
    for i in (0, 1, 3):
        assert np.isnan(out.loc[i, "value"]) and np.isnan(out.loc[i, "lowercl"]) and np.isnan(out.loc[i, "uppercl"])
    lo, hi = proportion_confint(2, 4, method="wilson")
    assert out.loc[2, "value"] == pytest.approx(0.5)
    assert out.loc[2, "lowercl"] == pytest.approx(lo) and out.loc[2, "uppercl"] == pytest.approx(hi)


def test_proportion_missing_rows_with_several_levels():
    t = pd.DataFrame({"x": [5.0, 1.0], "n": [np.nan, 10.0]})
    out = vs.proportion(t, "x", "n", confidence=[0.95, 0.998], multiplier=100)
    assert out.loc[0, ["value", "lower95_0cl", "upper95_0cl", "lower99_8cl", "upper99_8cl"]].isna().all()
    assert out.loc[1, "value"] == pytest.approx(10.0)
