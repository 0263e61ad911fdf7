"""Disclosure control against an attacker who solves linear programmes: blocks, bounds, derived values, NaN,
policies. The attacker in these tests is written here with scipy directly, not with victimneeds' own."""

from __future__ import annotations

import tempfile
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from victimneeds import disclosure as dc
from victimneeds.disclosure.attack import Constraints, intervals, rate
from victimneeds.report import Output

C = "[c]"


def _out(**kw) -> Output:
    return Output(tempfile.mkdtemp(), source="Source: test.", **kw)


def _bounds(n: int, lines: list[tuple[list[int], float]], lower: float = 1.0) -> list[tuple[float, float]]:
    """Smallest and largest integer value of each of n hidden cells given lines sum(cells) = value, cells >= lower."""
    a = np.zeros((len(lines), n))
    b = np.zeros(len(lines))
    for i, (cells, value) in enumerate(lines):
        a[i, cells] = 1.0
        b[i] = value
    out = []
    for k in range(n):
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(n)
            c[k] = sign
            res = linprog(c, A_eq=a, b_eq=b, bounds=[(lower, None)] * n, method="highs", integrality=np.ones(n))
            ends.append(np.inf if res.status in (3, 4) and sign < 0 else res.x[k])
        out.append((ends[0], ends[1]))
    return out


def _line_bounds(published: list, total: float, lower: float = 1.0) -> list[tuple[float, float]]:
    """Bounds of the hidden cells of one line whose cells add up to ``total``."""
    hidden = [i for i, v in enumerate(published) if isinstance(v, str)]
    rest = total - sum(v for v in published if not isinstance(v, str))
    return _bounds(len(hidden), [(list(range(len(hidden))), rest)], lower)


# --------------------------------------------------------------------------------------------------
# The attacker's programmes, by hand
# --------------------------------------------------------------------------------------------------


def test_intervals_of_a_hidden_rectangle_match_hand_working():
    # Cells x11 x12 / x21 x22 all hidden; rows add to 13 and 32, columns to 15 and 30; each is at least 1.
    # x12 = 13 - x11 >= 1 gives x11 <= 12; x21 = 15 - x11 and x22 = 17 + x11 allow any x11 >= 1.
    lines = [(np.array([0, 1]), -1, -13.0), (np.array([2, 3]), -1, -32.0), (np.array([0, 2]), -1, -15.0),
             (np.array([1, 3]), -1, -30.0)]
    cons = Constraints(np.ones(4), np.full(4, np.inf), lines)
    assert intervals(cons, [0]) == {0: (1.0, 12.0)}
    assert rate((1.0, 12.0), 1, 4) == "strong" and rate((1.0, 4.0), 1, 4) == "weak"
    assert rate((3.0, 3.0), 1, 4) == "exposed"


# --------------------------------------------------------------------------------------------------
# The review's findings, each failing on the old code
# --------------------------------------------------------------------------------------------------


def _attrition_like() -> pd.DataFrame:
    # Block A is the review's block: total 119, the others visible 11 + 74 + 24 + 9 + 0, the hidden one 1.
    outcomes = ["charged", "no further action", "open", "other", "victim declined", "cautioned"]
    a = [1, 11, 74, 24, 9, 0]
    b = [30, 20, 12, 40, 8, 6]
    rows = [("violence", o, v, sum(a)) for o, v in zip(outcomes, a, strict=True)]
    rows += [("burglary", o, v, sum(b)) for o, v in zip(outcomes, b, strict=True)]
    t = pd.DataFrame(rows, columns=["crime_group", "outcome_group", "crimes", "total"])
    t["value"] = 100 * t["crimes"] / t["total"]
    return t


def test_a_block_beside_its_visible_total_gets_a_second_hidden_cell():
    # The old Output.table protected 'crimes' as one long column: the 1 was hidden with the smallest other
    # number in the column (the 0 is shown, so the 6 of block B), leaving block A's 1 = 119 - 118.
    t = _attrition_like()
    safe = _out().table(t, "06_t", "t", counts=["crimes", "total"], linked={"crimes": ["value"]},
                        index=["crime_group", "outcome_group"])
    block = safe[safe["crime_group"] == "violence"]
    assert (block["crimes"] == C).sum() >= 2
    assert (block["total"] == 119).all()  # the block total is not small: it stays
    (low, high), *_ = _line_bounds(block["crimes"].tolist(), 119)
    assert high - low >= 1 and high >= 5
    assert (safe.loc[safe["crimes"] == C, "value"] == C).all()


def test_hidden_cells_are_at_least_one_so_the_pattern_must_reach_past_the_threshold():
    # One line: 3, 0, 0, 2, 50 adding to 55. Hiding 3 and 2 leaves 3 + 2 = 5 with each >= 1 (zeros are
    # shown): the 3 is one of 1..4, all small. The 50 must go too: then 3 + 2 + 50 = 55 with each >= 1, so the
    # 3 could be anything from 1 to 53.
    t = pd.DataFrame({"district": list("ABCDE") + ["Total"], "victims": [3, 0, 0, 2, 50, 55]})
    safe = dc.suppress(t, ["victims"], assume_totals=False)
    assert safe["victims"].tolist() == [C, 0, 0, C, C, 55]
    bounds = _line_bounds(safe["victims"].tolist()[:5], 55)
    assert bounds[0] == (1.0, 53.0)


def test_a_missing_value_is_not_protection():
    # Old code counted the NaN as a second hidden cell, so the 3 was recoverable: 68 - 40 - 25 = 3.
    t = pd.DataFrame({"district": ["A", "B", "C", "D", "Total"], "victims": [3.0, np.nan, 40.0, 25.0, 68.0]})
    safe = dc.suppress(t)  # a float column with a NaN is still found as a count column
    hidden = [i for i, v in enumerate(safe["victims"]) if isinstance(v, str)]
    assert 0 in hidden and len(hidden) >= 2 and 1 not in hidden
    assert dc.recoverable_cells(safe, ["victims"]).empty


def test_check_safe_sees_float_count_columns():
    with pytest.raises(ValueError, match="column 'v' shows 1 count"):
        dc.check_safe(pd.DataFrame({"v": [1.0, np.nan, 7.0]}))


def test_a_share_that_implies_a_small_count_is_hidden():
    # take-up 20.0% of 5 referrals is 1 person.
    t = pd.DataFrame({"lot": ["a", "b", "c"], "referrals": [5, 60, 80], "take_up": [20.0, 50.0, 40.0],
                      "take_up_lower": [3.6, 37.7, 29.9], "take_up_upper": [62.4, 62.3, 51.0]})
    safe = _out().table(t, "04_t", "t", counts=["referrals"], shares={"take_up": "referrals"},
                        linked={"take_up": ["take_up_lower", "take_up_upper"]}, index="lot")
    assert safe.loc[0, "take_up"] == C and safe.loc[0, "take_up_lower"] == C and safe.loc[0, "take_up_upper"] == C
    assert safe.loc[1, "take_up"] == 50.0  # 30 people: shown
    assert safe.loc[0, "referrals"] == 5


def test_undeclared_numbers_are_hidden_with_their_row_and_named():
    # recorded = expected - unreported: a hidden 'recorded' of 2 could be read off the row.
    t = pd.DataFrame({"district": ["A", "B", "C"], "recorded": [2, 40, 30], "expected": [12.5, 60.0, 41.25],
                      "unreported": [10.5, 20.0, 11.25]})
    with pytest.warns(dc.DisclosureWarning, match="expected"):
        safe = _out(strict=False).table(t, "01_t", "t", counts=["recorded"], index="district")
    assert safe.loc[0, "expected"] == C and safe.loc[0, "unreported"] == C
    with pytest.raises(ValueError, match="neither counts"):
        _out().table(t, "01_t", "t", counts=["recorded"], index="district")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shown = _out().table(t, "01_t", "t", counts=["recorded"], index="district",
                             linked={"recorded": ["unreported"]}, modelled=["expected"])
    assert shown.loc[0, "unreported"] == C and shown.loc[0, "expected"] == 12.5


def test_a_p_value_beside_two_hidden_counts_is_hidden():
    t = pd.DataFrame({"group": ["a", "b", "c"], "responses_1": [3, 50, 60], "responses_2": [2, 45, 70],
                      "p_value": [0.41, 0.2, 0.03]})
    with pytest.warns(dc.DisclosureWarning):
        safe = _out(strict=False).table(t, "05_t", "t", counts=["responses_1", "responses_2"], index="group")
    assert safe.loc[0, "p_value"] == C


def test_a_column_with_one_value_per_block_is_hidden_across_the_block():
    t = _attrition_like()
    t["pct_open"] = np.where(t["crime_group"] == "violence", 74 / 119 * 100, 12 / 116 * 100)
    with pytest.warns(dc.DisclosureWarning, match="pct_open"):
        safe = _out(strict=False).table(t, "06_t", "t", counts=["crimes", "total"], linked={"crimes": ["value"]},
                            index=["crime_group", "outcome_group"])
    assert (safe.loc[safe["crime_group"] == "violence", "pct_open"] == C).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        declared = _out().table(t, "06_t", "t", counts=["crimes", "total"], linked={"crimes": ["value"]},
                                index=["crime_group", "outcome_group"], block_linked=["pct_open"])
    assert (declared.loc[declared["crime_group"] == "violence", "pct_open"] == C).all()


def test_block_totals_are_found_and_declared_structure_is_recorded():
    t = _attrition_like()
    out = _out()
    out.table(t, "06_t", "t", counts=["crimes", "total"], linked={"crimes": ["value"]},
              index=["crime_group", "outcome_group"], source_key="crimes")
    s = out.tables[-1].structure
    assert s["blocks"] == ["crime_group"] and s["block_totals"] == {"total": "crimes"}
    assert s["source_key"] == "crimes" and out.tables[-1].policy["rule"] == "suppress"


# --------------------------------------------------------------------------------------------------
# Policies
# --------------------------------------------------------------------------------------------------


def test_round_rule_hides_up_to_seven_and_rounds_the_rest():
    policy = dc.DisclosurePolicy(rule="round")
    t = pd.DataFrame({"district": list("ABCDE"), "victims": [6, 12, 23, 0, 48]})
    safe = _out(policy=policy).table(t, "00_t", "t", counts=["victims"], index="district")
    shown = [v for v in safe["victims"] if not isinstance(v, str)]
    assert safe.loc[0, "victims"] == C and all(v % 5 == 0 for v in shown) and 0 in shown
    assert (safe["victims"] == C).sum() >= 2


def test_policy_checks_its_settings():
    assert dc.DisclosurePolicy().range == (1, 4) and dc.DisclosurePolicy(rule="round").range == (1, 7)
    with pytest.raises(ValueError, match="rule"):
        dc.DisclosurePolicy(rule="perturb")
    with pytest.raises(ValueError, match="unknown disclosure setting"):
        dc.DisclosurePolicy.from_mapping({"treshold": 4})
    assert dc.DisclosurePolicy(min_count=0).hidden_lower_bound == 0


# --------------------------------------------------------------------------------------------------
# Property: an attacker with every margin cannot narrow any suppressed count to one value
# --------------------------------------------------------------------------------------------------


_cell = st.one_of(st.integers(0, 4), st.integers(0, 4), st.integers(5, 40))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 4).flatmap(
        lambda r: st.integers(2, 4).flatmap(
            lambda c: st.lists(st.lists(_cell, min_size=c, max_size=c), min_size=r, max_size=r)
        )
    )
)
def test_attacker_with_all_margins_cannot_pin_a_suppressed_count(body):
    # The table is published with its row and column totals and the grand total (the margins); the attacker
    # knows every visible cell, that each row and column adds up, and that hidden cells are whole and >= 1.
    full = np.array(body)
    full = np.vstack([full, full.sum(axis=0)])
    full = np.hstack([full, full.sum(axis=1, keepdims=True)])
    n_r, n_c = full.shape
    cols = [f"g{j}" for j in range(n_c - 1)] + ["Total"]
    t = pd.DataFrame(full, columns=cols)
    t.insert(0, "district", [f"d{i}" for i in range(n_r - 1)] + ["Total"])
    safe, report = dc.apply(t)
    hidden = np.array([[isinstance(v, str) for v in row] for row in safe[cols].to_numpy()])
    assert not ((full >= 1) & (full <= 4) & ~hidden).any()
    assert not (hidden & (full == 0)).any()  # zeros are shown, so hidden cells really are >= 1
    cells = [tuple(x) for x in np.argwhere(hidden)]
    if not cells:
        return
    pos = {cell: k for k, cell in enumerate(cells)}
    n = len(cells)
    rows, rhs = [], []
    for line in [[(i, j) for j in range(n_c)] for i in range(n_r)] + [[(i, j) for i in range(n_r)] for j in range(n_c)]:
        *members, total = line
        row = np.zeros(n)
        b = 0.0
        for cell in members:
            if cell in pos:
                row[pos[cell]] += 1
            else:
                b -= full[cell]
        if total in pos:
            row[pos[total]] -= 1
        else:
            b += full[total]
        if row.any():
            rows.append(row)
            rhs.append(b)
    a, b = np.array(rows), np.array(rhs)
    for (i, j), k in pos.items():
        if not 1 <= full[i, j] <= 4:
            continue
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(n)
            c[k] = sign
            res = linprog(c, A_eq=a, b_eq=b, bounds=[(1, None)] * n, method="highs", integrality=np.ones(n))
            ends.append(np.inf if res.status != 0 and sign < 0 else res.x[k])
        assert ends[1] - ends[0] >= 1, f"cell {(i, j)} = {full[i, j]} pinned to {ends} in\n{safe}"


def test_a_name_beside_its_code_does_not_make_one_row_blocks():
    # Index (district_code, district_name): the name only labels the code, so the districts are one line
    # whose total (the area's) is published elsewhere. Blocks of one row each would leave the 3 alone.
    t = pd.DataFrame({"district_code": ["E1", "E2", "E3"], "district_name": ["North", "South", "East"],
                      "victims": [3, 40, 25], "rate": [0.3, 4.0, 2.5]})
    out = _out()
    safe = out.table(t, "00_t", "t", counts=["victims"], linked={"victims": ["rate"]},
                     index=["district_code", "district_name"])
    assert safe["victims"].tolist() == [C, 40, C]
    assert out.tables[-1].structure["dims"] == ["district_code"]


def test_tables_without_counts_raise_no_warning():
    t = pd.DataFrame({"gap": ["a", "a"], "score": [1.5, 2.5]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _out().table(t, "02_t", "t", index="gap")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(_cell, min_size=2, max_size=5), min_size=1, max_size=4))
def test_blocks_beside_their_totals_leave_no_suppressed_count_pinned(blocks):
    # The shape of the attrition table: blocks (a crime group) of outcome rows with the block total repeated
    # on each row. The attacker knows each block's cells add up to its total, visible or not.
    rows = []
    for b, cells in enumerate(blocks):
        rows += [(f"b{b}", f"o{i}", v, sum(cells)) for i, v in enumerate(cells)]
    t = pd.DataFrame(rows, columns=["group", "outcome", "crimes", "total"])
    safe = _out().table(t, "06_p", "p", counts=["crimes", "total"], index=["group", "outcome"])
    for b, cells in enumerate(blocks):
        block = safe[safe["group"] == f"b{b}"]
        assert block["total"].map(lambda v: v == C).nunique() == 1  # the repeated total is hidden everywhere or nowhere
        published = block["crimes"].tolist()
        hidden = [i for i, v in enumerate(published) if v == C]
        assert all(not (1 <= cells[i] <= 4) for i in range(len(cells)) if i not in hidden)
        if not any(1 <= cells[i] <= 4 for i in hidden):
            continue
        if block["total"].iloc[0] == C:
            continue  # the block total is hidden too: nothing bounds the hidden cells from above
        for (low, high), i in zip(_line_bounds(published, float(sum(cells))), hidden, strict=True):
            if 1 <= cells[i] <= 4:
                assert high - low >= 1


def test_a_small_complement_of_two_shown_counts_is_protected():
    # 47 of 50 victims referred: the 3 not referred is a small count, published by subtraction.
    t = pd.DataFrame({"district": list("ABCD"), "n": [50, 40, 30, 60], "events": [47, 20, 10, 30]})
    old_way = dc.apply(t, ["n", "events"], index="district")[0]
    assert old_way.loc[0, "n"] - old_way.loc[0, "events"] == 3  # nothing hidden without parts=
    out = _out()
    safe = out.table(t, "02_t", "t", counts=["n", "events"], parts={"events": "n"}, index="district")
    assert safe.loc[0, "n"] == C or safe.loc[0, "events"] == C
    # the attacker: n_A - e_A with the hidden cells' columns adding up to the published column totals
    from victimneeds.audit import audit_pack

    result = audit_pack(out.out_dir)
    assert result.passed
    complement = result.log[result.log["reason"] == "complement (not published)"]
    assert 1 in set(complement["row"]) and (complement["high"] >= 5).all()


def test_the_audit_catches_a_small_complement_left_in_view():
    from victimneeds.audit import audit_pack

    t = pd.DataFrame({"district": list("ABCD"), "n": [50, 40, 30, 60], "events": [47, 20, 10, 30]})
    out = _out()
    out.table(t, "02_t", "t", counts=["n", "events"], parts={"events": "n"}, index="district")
    path = out.out_dir / "tables" / "02_t.csv"
    text = path.read_text(encoding="utf-8").replace("A,50,[c]", "A,50,47").replace("A,[c],47", "A,50,47")
    path.write_text(text, encoding="utf-8")
    result = audit_pack(out.out_dir)
    assert not result.passed and "n minus events" in result.problems[0]
