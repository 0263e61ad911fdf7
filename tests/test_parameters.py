"""Local planning figures: ``[parameters]`` in an area's TOML, ``planning_rules(overrides)`` and the functions that
read the rules, and docs/parameters.md kept in step with the CSV.

Expected values are worked by hand from the rule each function states (referrals / caseload; women x rate / 10,000;
(salary + NI above the threshold + pension) x (1 + overheads)).
"""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from victimneeds import capacity as cap
from victimneeds.datasets import load_example
from victimneeds.io import AreaConfigError, read_area_config
from victimneeds.reference import table

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "Provider caseload review, March 2025"


def row(rules: pd.DataFrame, lot: str, parameter: str, role: str | None = None) -> pd.Series:
    sel = (rules["lot"] == lot) & (rules["parameter"] == parameter)
    if role is not None:
        sel &= rules["role"] == role
    assert sel.sum() == 1
    return rules[sel].iloc[0]


# --------------------------------------------------------------------------------------------------
# Keys and planning_rules(overrides)
# --------------------------------------------------------------------------------------------------


def test_every_rule_has_one_key_and_shared_parameters_need_the_role() -> None:
    rules = table("capacity_planning")
    keys = cap.planning_keys()
    assert len(keys) == len(rules) == len(set(keys))
    assert "ISVA.referrals_per_fte_year" in keys and "All.employer_ni_rate" in keys
    # the IDVA lot and the advice line each have two salaries (two roles): their keys name the role
    assert {"IDVA.IDVA.salary", "IDVA.MARAC administrator.salary", "Victim advice line.Caseworker.salary",
            "Victim advice line.Call handler.salary"} <= set(keys)
    assert "IDVA.salary" not in keys


def test_a_local_figure_replaces_the_default_and_keeps_it_in_the_note() -> None:
    default = cap.planning_rules()
    local = cap.planning_rules({"IDVA.referrals_per_fte_year": 90, "sources": {"IDVA.referrals_per_fte_year": SOURCE}})
    r = row(local, "IDVA", "referrals_per_fte_year")
    assert r["value"] == 90 and r["basis"] == "local" and r["source"] == SOURCE
    assert r["note"].startswith("default 100, SafeLives (formerly CAADA); Planning rule for high-risk")
    # nothing else changes, and the caller's default table is a separate object
    others = local.drop(index=r.name)
    pd.testing.assert_frame_equal(others, default.drop(index=r.name))
    assert row(default, "IDVA", "referrals_per_fte_year")["value"] == 100


def test_role_keys_inline_tables_case_and_nested_toml_all_work() -> None:
    text = """
    "IDVA.MARAC administrator.salary" = { value = 26500, source = "Pay scale grade 5" }
    isva.referrals_per_fte_year = 70
    [sources]
    isva.referrals_per_fte_year = "Provider review"
    """
    given = tomllib.loads(text)  # unquoted dotted keys arrive as nested tables
    assert given["isva"] == {"referrals_per_fte_year": 70}
    local = cap.planning_rules(given)
    admin = row(local, "IDVA", "salary", "MARAC administrator")
    assert admin["value"] == 26500 and admin["basis"] == "local" and admin["note"].startswith("default 25,000,")
    assert row(local, "IDVA", "salary", "IDVA")["value"] == 31000  # the other role keeps its default
    assert row(local, "ISVA", "referrals_per_fte_year")["source"] == "Provider review"
    assert cap.check_parameters(given) == {
        "IDVA.MARAC administrator.salary": {"value": 26500.0, "source": "Pay scale grade 5"},
        "ISVA.referrals_per_fte_year": {"value": 70.0, "source": "Provider review"},
    }
    # a checked dictionary (AreaData.parameters) is accepted as it is
    assert cap.check_parameters(cap.check_parameters(given)) == cap.check_parameters(given)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"ISVA.referals_per_fte_year": 70}, ["'ISVA.referals_per_fte_year' is not a planning parameter",
                                             "did you mean 'ISVA.referrals_per_fte_year'"]),
        ({"IDVA.salary": {"value": 30000, "source": "x"}}, ["'IDVA.salary' has one value for each of two roles",
                                                            "'IDVA.IDVA.salary' or 'IDVA.MARAC administrator.salary'"]),
        ({"ISVA.referrals_per_fte_year": {"value": "seventy", "source": "x"}},
         ["'ISVA.referrals_per_fte_year' must be a number", "'seventy'"]),
        ({"ISVA.referrals_per_fte_year": {"value": True, "source": "x"}}, ["must be a number"]),
        ({"ISVA.salary": {"value": -1, "source": "x"}}, ["'ISVA.salary' must be a number of 0 or more", "-1"]),
        ({"ISVA.referrals_per_fte_year": {"value": 0, "source": "x"}}, ["must be more than 0"]),
        ({"All.overhead_rate": {"value": 15, "source": "x"}}, ["'All.overhead_rate' is a share", "0.15"]),
        ({"ISVA.referrals_per_fte_year": 70}, ["'ISVA.referrals_per_fte_year' = 70 has no source"]),
        ({"ISVA.referrals_per_fte_year": {"value": 70, "source": "  "}}, ["has no source"]),
        ({"ISVA.salary": {"value": 1, "source": "x"}, "sources": {"ASB.salary": "y"}},
         ["sources has 'ASB.salary', but no local figure is set for it"]),
        ({"ISVA.referrals_per_fte_year": {"value": 70, "source": "a"},
          "isva.isva.referrals_per_fte_year": {"value": 71, "source": "b"}},
         ["sets 'ISVA.referrals_per_fte_year' a second"]),
    ],
)
def test_bad_local_figures_give_one_error_naming_the_key(overrides: dict, words: list[str]) -> None:
    with pytest.raises(ValueError) as info:
        cap.planning_rules(overrides)
    text = str(info.value)
    assert "\n" not in text
    for w in words:
        assert w in text, text


def test_every_problem_is_in_the_one_message() -> None:
    with pytest.raises(ValueError) as info:
        cap.planning_rules({"Nope.x": 1, "ISVA.salary": -5, "ASB.hours_per_case": 3})
    text = str(info.value)
    assert text.startswith("3 local planning parameters cannot be used")
    assert "'Nope.x'" in text and "'ISVA.salary'" in text and "'ASB.hours_per_case' = 3 has no source" in text


# --------------------------------------------------------------------------------------------------
# The functions that read the rules take the local figures
# --------------------------------------------------------------------------------------------------


def volumes() -> pd.DataFrame:
    return pd.DataFrame({"scenario": "baseline", "lot": ["IDVA", "ISVA", "ASB"], "district_code": "All",
                         "financial_year": "2025/26", "referrals": [450.0, 120.0, 310.0],
                         "lower_95": [380.0, 90.0, 250.0], "upper_95": [520.0, 150.0, 400.0]})


def test_fte_uses_local_caseloads_and_hours() -> None:
    local = {"ISVA.referrals_per_fte_year": {"value": 40, "source": SOURCE},
             "ASB.hours_per_case": {"value": 5, "source": "Time recording"},
             "All.productive_hours_per_fte_year": {"value": 1240, "source": "HR"}}
    default = cap.fte(volumes())
    for rules in (local, cap.planning_rules(local)):  # the mapping or the table
        f = cap.fte(volumes(), rules=rules).set_index("lot")
        assert f.loc["IDVA", "fte"] == pytest.approx(450 / 100)  # untouched: SafeLives' 100
        assert f.loc["ISVA", "fte"] == pytest.approx(120 / 40)
        assert f.loc["ISVA", "fte_lower_95"] == pytest.approx(90 / 40)
        assert f.loc["ISVA", "basis"] == "local" and f.loc["ISVA", "source"] == SOURCE
        assert f.loc["ASB", "fte"] == pytest.approx(310 * 5 / 1240)  # hours per case / productive hours
    assert default.set_index("lot").loc["ISVA", "fte"] == pytest.approx(120 / 60)
    assert default.set_index("lot").loc["ASB", "fte"] == pytest.approx(310 * 6 / 1550)


def test_marac_benchmark_uses_local_rates() -> None:
    pop = pd.DataFrame({"area_code": ["A", "A", "A"], "sex": ["Female", "Female", "Male"],
                        "age_band": ["0-15", "25-34", "25-34"], "population": [500, 10_000, 9_000]})
    local = {"IDVA.marac_cases_per_10000_adult_women": {"value": 50, "source": "Local Marac, 2024/25"},
             "IDVA.marac_cases_per_admin_fte": {"value": 250, "source": "Marac coordinator review"}}
    m = cap.marac_benchmark(pop, rules=local).iloc[0]
    assert m["marac_cases_recommended"] == pytest.approx(10_000 * 50 / 10_000)
    assert m["admin_fte"] == pytest.approx(50 / 250)
    assert m["marac_cases_national"] == pytest.approx(47.0)  # the national rate is untouched
    assert "Local Marac, 2024/25" in m["source"]


def test_unit_cost_and_cost_use_local_salaries_and_on_costs() -> None:
    local = {"All.overhead_rate": {"value": 0.1, "source": "Tender"},
             "All.pension_rate": {"value": 0.08, "source": "Provider scheme"},
             "ISVA.salary": {"value": 33_000, "source": "Pay scale"}}
    # (33,000 + 0.15 x (33,000 - 5,000) + 0.08 x 33,000) x 1.1 = (33,000 + 4,200 + 2,640) x 1.1 = 43,824
    assert cap.unit_cost(33_000, rules=local) == pytest.approx(43_824.0)
    assert cap.unit_cost(33_000) == pytest.approx((33_000 + 4_200 + 1_650) * 1.15)  # the defaults
    f = pd.DataFrame({"scenario": "baseline", "lot": ["ISVA"], "role": ["ISVA"], "district_code": "All",
                      "financial_year": "2025/26", "referrals": [120.0], "fte": [2.0]})
    c = cap.cost(f, rules=local)
    assert c["contract_value"].item() == pytest.approx(2 * 43_824.0)


# --------------------------------------------------------------------------------------------------
# The area configuration
# --------------------------------------------------------------------------------------------------


AREA = """
[area]
name = "Demo"
force = "demo"
[inputs]
policeuk = "crimes"
boundaries = "b.geojson"
lsoa_lookup = "lk.csv"
population_lsoa = "pop.csv"
population_lad = "mye.xls"
imd = "imd.csv"
"""


def write_area(tmp_path: Path, parameters: str) -> Path:
    (tmp_path / "crimes").mkdir(exist_ok=True)
    for name in ("b.geojson", "lk.csv", "pop.csv", "mye.xls", "imd.csv"):
        (tmp_path / name).write_text("x")
    path = tmp_path / "area.toml"
    path.write_text(AREA + parameters)
    return path


def test_area_toml_parameters_are_read_beside_the_run_options(tmp_path: Path) -> None:
    path = write_area(tmp_path, """
[parameters]
months = ["2021-01", "2021-12"]
"ISVA.referrals_per_fte_year" = 70
"IDVA.MARAC administrator.salary" = 26500
[parameters.sources]
"ISVA.referrals_per_fte_year" = "Provider caseload review, March 2025"
"IDVA.MARAC administrator.salary" = "Pay scale"
""")
    config = read_area_config(path)
    assert config.parameters == {"months": ("2021-01", "2021-12")}
    assert config.planning == {
        "ISVA.referrals_per_fte_year": {"value": 70.0, "source": "Provider caseload review, March 2025"},
        "IDVA.MARAC administrator.salary": {"value": 26500.0, "source": "Pay scale"},
    }
    rules = cap.planning_rules(config.planning)
    assert row(rules, "ISVA", "referrals_per_fte_year")["basis"] == "local"


def test_area_without_planning_figures_has_none(tmp_path: Path) -> None:
    assert read_area_config(write_area(tmp_path, '[parameters]\nduplicates = "keep"\n')).planning == {}
    assert load_example().parameters == {}  # the example area uses the defaults


@pytest.mark.parametrize(
    ("parameters", "words"),
    [
        ('[parameters]\n"ISVA.referrals_per_fte_year" = 70\n',
         ["[parameters]", "'ISVA.referrals_per_fte_year' = 70 has no source"]),
        ('[parameters]\n"ISVA.caseload" = 70\n[parameters.sources]\n"ISVA.caseload" = "x"\n',
         ["'ISVA.caseload' is not a planning parameter"]),
        ('[parameters]\ncaseload = 70\n', ["unknown key(s) ['caseload'] in [parameters]", "lot.parameter"]),
        ('[parameters]\n"ISVA.salary" = "31k"\n[parameters.sources]\n"ISVA.salary" = "x"\n', ["must be a number"]),
    ],
)
def test_bad_parameters_in_the_toml_name_the_file_and_key(tmp_path: Path, parameters: str, words: list[str]) -> None:
    path = write_area(tmp_path, parameters)
    with pytest.raises(AreaConfigError) as info:
        read_area_config(path)
    text = str(info.value)
    assert str(path) in text
    for w in words:
        assert w in text, text


@pytest.mark.realdata
def test_load_area_hands_the_planning_figures_to_area_data(shared_data: Path, tmp_path: Path) -> None:
    text = (ROOT / "data" / "areas" / "leicestershire.toml").read_text()
    text = text.replace("../../../shared/data", str(shared_data)).replace(
        'months = ["2019-12", "2022-11"]', 'months = ["2022-11", "2022-11"]')
    text += '"ISVA.referrals_per_fte_year" = { value = 70, source = "Local review" }\n'
    path = tmp_path / "area.toml"
    path.write_text(text)
    from victimneeds.io import load_area

    data = load_area(path, cache_dir=False)
    assert data.parameters == {"ISVA.referrals_per_fte_year": {"value": 70.0, "source": "Local review"}}


# --------------------------------------------------------------------------------------------------
# docs/parameters.md
# --------------------------------------------------------------------------------------------------


def _doc_module():  # noqa: ANN202 - a script in docs/, loaded by path
    spec = importlib.util.spec_from_file_location("make_parameters_doc", ROOT / "docs" / "make_parameters_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_parameters_page_is_in_step_with_the_csv() -> None:
    page = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    assert page == _doc_module().render(), "run: python docs/make_parameters_doc.py"


def test_parameters_page_lists_every_key_default_and_source() -> None:
    page = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    rules = table("capacity_planning")
    for key, source in zip(cap.planning_keys(), rules["source"], strict=True):
        assert f"| `{key}` |" in page and source in page
    assert "| `IDVA.referrals_per_fte_year` | 100 |" in page and "| `All.employer_ni_threshold` | 5,000 |" in page
    # a changed CSV gives a different page
    changed = rules.copy()
    changed.loc[0, "value"] = 99
    assert _doc_module().render(changed) != page


def test_shipped_reference_tables_cite_publications_not_the_project_brief() -> None:
    for name in ("capacity_planning", "csew_prevalence", "lad_successors", "policeuk_outcome_groups"):
        t = table(name)
        text = " ".join(t.fillna("").astype(str).to_numpy().ravel())
        assert "DOMAIN.md" not in text, name
    rules = table("capacity_planning")
    published = rules[rules["basis"] == "published"]
    assert published["source"].str.contains(r"https://", regex=True).all()
