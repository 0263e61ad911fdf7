"""The label registry: every column the notebooks publish has a human label, and numbers are formatted by kind."""

import pandas as pd
import pytest

from victimneeds import labels


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (7313, "count", "7,313"),
        (10085.4, "count", "10,085"),
        (104.2095257493974, "percent", "104.2"),
        (1.0512, "ratio", "1.05"),
        (0.0, "p_value", "<0.001"),
        (0.0499, "p_value", "0.050"),
        (0.37, "proportion_percent", "37.0%"),
        (472_800.4, "money", "£472,800"),
        (-1200, "money", "-£1,200"),
        (13.94, "fte", "13.9"),
        (float("nan"), "rate", ""),
        ("[c]", "count", "[c]"),
        (float("inf"), "ratio", "infinite"),
    ],
)
def test_format_value_by_kind(value, kind, expected):
    assert labels.format_value(value, kind) == expected


def test_registry_kinds_have_excel_formats():
    for kind in labels.KINDS:
        assert labels.excel_format(kind)
    with pytest.raises(ValueError, match="unknown kind"):
        labels.excel_format("furlongs")


def test_generic_columns_take_their_kind_from_units():
    assert labels.column_kind("value", "crimes per 1,000 residents") == "rate"
    assert labels.column_kind("lowercl", "% of victims") == "percent"
    assert labels.column_kind("uppercl", "rate ratio per year") == "ratio"
    assert labels.column_kind("value", "£ a year") == "money"
    assert labels.column_kind("referrals_supported_lower") == labels.column_kind("referrals_supported")


def test_humanise_names_codes_and_drops_code_beside_name():
    t = pd.DataFrame({"district_code": ["E1", "E2"], "count": [1200.0, "[c]"], "is_repeat_victim": [True, False]})
    shown = labels.humanise(t, place_names={"E1": "Blaby", "E2": "Melton"})
    assert list(shown.columns) == ["District", "Count", "Repeat victim"]
    assert shown["District"].tolist() == ["Blaby", "Melton"]
    assert shown["Count"].tolist() == ["1,200", "[c]"]
    assert shown["Repeat victim"].tolist() == ["Yes", "No"]
    both = labels.humanise(pd.DataFrame({"district_code": ["E1"], "district_name": ["Blaby"]}))
    assert list(both.columns) == ["District"]


def test_compact_joins_estimates_with_their_intervals():
    t = pd.DataFrame({"crime_group": ["Burglary"], "take_up": ["45.0"], "take_up_lower": ["40.1"],
                      "take_up_upper": ["50.2"], "odds_ratio": ["0.51"], "lower": ["0.47"], "upper": ["0.55"]})
    out = labels.compact(t)
    assert out.iloc[0].tolist() == ["Burglary", "45.0 (40.1 to 50.2)", "0.51 (0.47 to 0.55)"]
    hidden = labels.compact(pd.DataFrame({"value": ["[c]"], "lowercl": ["[c]"], "uppercl": ["[c]"]}))
    assert hidden.iloc[0].tolist() == ["[c]"]


def test_humanise_text_leaves_no_identifier():
    text = "Group less likely (district_code: X09000004 vs X09000001); is_repeat_victim: True; victim_age_band: 75+"
    out = labels.humanise_text(text, {"X09000004": "Harrowdale", "X09000001": "Eastmere"})
    assert labels.snake_case_words(out) == []
    assert "Harrowdale" in out and "Eastmere" in out and "repeat victim: yes" in out
