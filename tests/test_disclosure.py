"""Tests for victimneeds.disclosure: hand-worked tables and a property test that nothing can be recovered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import null_space

from victimneeds import disclosure as dc

C = "[c]"


def _crosstab(body: list[list[int]], rows: list[str], cols: list[str]) -> pd.DataFrame:
    """A wide table with a 'district' label column, a Total column and a Total row."""
    t = pd.DataFrame(body, columns=cols)
    t["Total"] = t.sum(axis=1)
    t.loc[len(t)] = t.sum(axis=0)
    t.insert(0, "district", rows + ["Total"])
    return t


def _hidden(t: pd.DataFrame, cols: list[str]) -> set[tuple[str, str]]:
    return {(t.loc[i, "district"], c) for c in cols for i in t.index if isinstance(t.loc[i, c], str)}


# --------------------------------------------------------------------------------------------------
# Hand examples
# --------------------------------------------------------------------------------------------------


def test_3x3_with_totals_one_small_cell_forces_secondary_suppression():
    #          a   b   c | Total
    #   r1    10  12   3 |  25      3 is small: primary.
    #   r2     8  20  15 |  43      Row r1 then has one hidden cell: hide its smallest non-zero other cell, 10.
    #   r3     6   9  11 |  26      Column c has one hidden cell: hide 11 (smaller than 15).
    #   Total 24  41  29 |  94      Column a (10) and row r3 (11) each have one: 6 completes both.
    t = _crosstab([[10, 12, 3], [8, 20, 15], [6, 9, 11]], ["r1", "r2", "r3"], ["a", "b", "c"])
    before = t.copy()
    safe, report = dc.apply(t)
    pd.testing.assert_frame_equal(t, before)  # caller's frame untouched
    assert _hidden(safe, ["a", "b", "c", "Total"]) == {("r1", "c"), ("r1", "a"), ("r3", "c"), ("r3", "a")}
    assert report.primary == 1 and report.secondary == 3 and report.linked == 0
    assert report.cells == 16
    assert set(report.suppressed["reason"]) == {"primary", "secondary"}
    # Totals stay visible and numeric; untouched columns keep their integer dtype
    assert safe["Total"].tolist() == [25, 43, 26, 94]
    assert pd.api.types.is_integer_dtype(safe["b"]) and safe["a"].dtype == object
    assert safe.loc[1, "a"] == 8 and not isinstance(safe.loc[1, "a"], str)
    # Rows: 10 + 3 = 25 - 12 = 13 and 6 + 11 = 26 - 9 = 17; columns: 10 + 6 = 16 and 3 + 11 = 14.
    # Four unknowns, three independent equations: no cell can be solved.
    assert dc.recoverable_cells(safe).empty
    dc.check_safe(safe)


def test_single_column_with_total():
    t = pd.DataFrame({"district": ["A", "B", "C", "Total"], "victims": [12, 3, 25, 40]})
    safe = dc.suppress(t)
    assert safe["victims"].tolist() == [C, C, 25, 40]


def test_zeros_shown_by_default_and_hidden_on_request():
    t = pd.DataFrame({"district": ["A", "B", "C", "D"], "victims": [0, 0, 30, 45]})
    assert dc.suppress(t)["victims"].tolist() == [0, 0, 30, 45]
    # Hiding only the two zeros would leave them summing to 75 - 30 - 45 = 0, so each is 0: the 30 goes too.
    assert dc.suppress(t, threshold=(0, 4))["victims"].tolist() == [C, C, C, 45]


def test_small_total_is_itself_suppressed():
    t = _crosstab([[1, 0], [2, 30]], ["r1", "r2"], ["a", "b"])  # row r1 total is 1
    safe = dc.suppress(t)
    assert isinstance(safe.loc[0, "Total"], str) and isinstance(safe.loc[0, "a"], str)
    assert dc.recoverable_cells(safe).empty
    dc.check_safe(safe)


def test_linked_rates_and_intervals_hidden_with_their_count():
    t = pd.DataFrame(
        {
            "district": ["A", "B", "C"],
            "victims": [40, 3, 27],
            "rate": [4.0, 0.3, 2.7],
            "lowercl": [2.9, 0.06, 1.8],
            "uppercl": [5.4, 0.9, 3.9],
        }
    )
    safe, report = dc.apply(t, ["victims"], linked={"victims": ["rate", "lowercl", "uppercl"]})
    assert safe["victims"].tolist() == [40, C, C]  # 27 is the next smallest
    assert safe.loc[1, "rate"] == C and safe.loc[2, "uppercl"] == C and safe.loc[0, "rate"] == 4.0
    assert report.linked == 6
    assert "rates, percentages or intervals" in report.summary()


def test_tidy_table_matches_wide_result():
    wide = _crosstab([[10, 12, 3], [8, 20, 15], [6, 9, 11]], ["r1", "r2", "r3"], ["a", "b", "c"])
    tidy = wide.melt(id_vars="district", var_name="group", value_name="victims")
    safe = dc.suppress(tidy, ["victims"], by=["district", "group"])
    hidden = {
        (d, g) for d, g, v in safe[["district", "group", "victims"]].itertuples(index=False) if isinstance(v, str)
    }
    assert hidden == _hidden(dc.suppress(wide), ["a", "b", "c", "Total"])
    assert dc.recoverable_cells(safe, ["victims"], by=["district", "group"]).empty


def test_columns_that_do_not_add_up_are_protected_separately():
    t = pd.DataFrame({"district": ["A", "B", "C"], "crimes": [120, 3, 60], "referrals": [40, 35, 22]})
    apart = dc.suppress(t, columns_add_up=False)
    assert apart["crimes"].tolist() == [120, C, C] and apart["referrals"].tolist() == [40, 35, 22]
    together = dc.suppress(t)  # default: treated as categories, so row B needs a second hidden cell
    assert isinstance(together.loc[1, "referrals"], str)


def test_without_totals_and_without_assuming_them_only_primary():
    t = pd.DataFrame({"district": ["A", "B", "C"], "victims": [12, 3, 25]})
    assert dc.suppress(t, assume_totals=False)["victims"].tolist() == [12, C, 25]
    assert dc.suppress(t)["victims"].tolist() == [C, C, 25]  # total published elsewhere is assumed
    assert dc.suppress(t, secondary=False)["victims"].tolist() == [12, C, 25]


def test_recoverable_cells_finds_a_bridge_the_two_per_line_rule_misses():
    # Two 2x2 blocks of hidden cells joined by one hidden cell (r1, c3). Every row and column with a hidden
    # cell has at least two, yet rows r1 + r2 minus columns c1 + c2 leaves exactly the (r1, c3) cell.
    body = [[20, 21, 22, 23], [24, 25, 26, 27], [28, 29, 30, 31], [32, 33, 34, 35]]
    t = _crosstab(body, ["r1", "r2", "r3", "r4"], ["c1", "c2", "c3", "c4"]).astype(object)
    pattern = [(0, "c1"), (0, "c2"), (1, "c1"), (1, "c2"), (2, "c3"), (2, "c4"), (3, "c3"), (3, "c4"), (0, "c3")]
    for r, c in pattern:
        t.loc[r, c] = C
    found = dc.recoverable_cells(t, ["c1", "c2", "c3", "c4", "Total"])
    assert list(found.itertuples(index=False, name=None)) == [(0, "c3")]


def test_suppress_repairs_the_bridge_pattern():
    small = [[1, 2, 3, 20], [4, 1, 30, 21], [22, 23, 2, 3], [24, 25, 4, 1]]  # primaries in the bridge pattern
    t = _crosstab(small, ["r1", "r2", "r3", "r4"], ["c1", "c2", "c3", "c4"])
    safe, report = dc.apply(t)
    assert dc.recoverable_cells(safe).empty
    assert report.unresolved == 0
    dc.check_safe(safe)


def test_errors_name_the_problem():
    t = pd.DataFrame({"district": ["A", "A"], "group": ["x", "x"], "victims": [5, 6]})
    with pytest.raises(ValueError, match="repeat the same"):
        dc.suppress(t, ["victims"], by=["district", "group"])
    with pytest.raises(KeyError, match="no column"):
        dc.suppress(t, ["victims"], linked={"victims": ["rate"]})
    with pytest.raises(ValueError, match="not numbers"):
        dc.suppress(pd.DataFrame({"v": ["five", 6]}), ["v"])
    with pytest.raises(ValueError, match="threshold"):
        dc.suppress(pd.DataFrame({"v": [5, 6]}), threshold=(5, 1))


# --------------------------------------------------------------------------------------------------
# Rounding and checks
# --------------------------------------------------------------------------------------------------


def test_round_counts_keeps_symbols_and_types():
    t = pd.DataFrame({"a": [0, 2, 3, 7, 8, 12, 13], "b": [C, 6, 17, 22, C, 100, 101]})
    out = dc.round_counts(t, ["a", "b"])
    assert out["a"].tolist() == [0, 0, 5, 5, 10, 10, 15] and pd.api.types.is_integer_dtype(out["a"])
    assert out["b"].tolist() == [C, 5, 15, 20, C, 100, 100]
    assert dc.round_counts(t, ["a"], base=10)["a"].tolist() == [0, 0, 0, 10, 10, 10, 10]


def test_apply_with_rounding():
    t = _crosstab([[10, 12, 3], [8, 20, 15], [6, 9, 11]], ["r1", "r2", "r3"], ["a", "b", "c"])
    safe, report = dc.apply(t, round_to=5)
    assert safe["Total"].tolist() == [25, 45, 25, 95]
    assert safe["b"].tolist() == [10, 20, 10, 40]
    assert report.rounded_to == 5 and "rounded to the nearest 5" in report.summary()
    assert report.to_frame().loc[0, "secondary"] == 3


def test_check_safe():
    dc.check_safe(pd.DataFrame({"v": [0, 5, C], "rate": [0.1, 2.0, 3.0]}))
    with pytest.raises(ValueError, match=r"column 'v' shows 2 count\(s\) between 1 and 4 at rows \[1, 2\]"):
        dc.check_safe(pd.DataFrame({"v": [0, 1, 4, 5]}), name="table")
    with pytest.raises(ValueError, match="between 1 and 9"):
        dc.check_safe(pd.DataFrame({"v": [0, 7]}), threshold=(1, 9))
    with pytest.raises(ValueError, match="column 'v'"):
        dc.check_safe(pd.DataFrame({"v": pd.Series([C, 3], dtype=object)}))


# --------------------------------------------------------------------------------------------------
# Property test: nothing recoverable, nothing small visible
# --------------------------------------------------------------------------------------------------


def _independent_recoverable(hidden: np.ndarray) -> set[tuple[int, int]]:
    """Cells (r, c) of an (R+1) x (C+1) table (last row and column are totals) fixed by the additivity
    equations, computed from the null space of the equations restricted to the hidden cells."""
    n_r, n_c = hidden.shape
    cells = [(r, c) for r in range(n_r) for c in range(n_c) if hidden[r, c]]
    if not cells:
        return set()
    pos = {cell: k for k, cell in enumerate(cells)}
    eqs = []
    for r in range(n_r):  # each row: body cells - total column = 0
        e = np.zeros(len(cells))
        for c in range(n_c):
            if (r, c) in pos:
                e[pos[(r, c)]] = -1.0 if c == n_c - 1 else 1.0
        eqs.append(e)
    for c in range(n_c):  # each column: body cells - total row = 0
        e = np.zeros(len(cells))
        for r in range(n_r):
            if (r, c) in pos:
                e[pos[(r, c)]] = -1.0 if r == n_r - 1 else 1.0
        eqs.append(e)
    ns = null_space(np.array(eqs))
    return {cells[k] for k in range(len(cells)) if np.allclose(ns[k], 0, atol=1e-9)}


_small_counts = st.one_of(st.integers(0, 4), st.integers(0, 30))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda r: st.integers(1, 5).flatmap(
            lambda c: st.lists(st.lists(_small_counts, min_size=c, max_size=c), min_size=r, max_size=r)
        )
    )
)
def test_no_cell_recoverable_and_no_small_count_visible(body):
    n_r, n_c = len(body), len(body[0])
    cols = [f"g{j}" for j in range(n_c)]
    t = _crosstab(body, [f"d{i}" for i in range(n_r)], cols)
    all_cols = cols + ["Total"]
    safe, report = dc.apply(t)
    grid = t[all_cols].to_numpy()
    hidden = np.array([[isinstance(v, str) for v in row] for row in safe[all_cols].to_numpy()])
    # 1. exactly the small counts are primary; nothing in 1..4 is visible
    assert not ((grid >= 1) & (grid <= 4) & ~hidden).any()
    assert report.primary == int(((grid >= 1) & (grid <= 4)).sum())
    assert report.primary + report.secondary == int(hidden.sum())
    # 2. every row and column (with its total) that has a hidden cell has at least two
    for line in [*hidden, *hidden.T]:
        assert line.sum() != 1
    # 3. no hidden cell follows from the totals (independent null-space computation)
    assert _independent_recoverable(hidden) == set()
    # 4. visible cells keep their values
    assert (safe[all_cols].to_numpy()[~hidden] == grid[~hidden]).all()


def test_keyword_forms_used_by_exporters():
    t = pd.DataFrame({"district": ["A", "B", "Total"], "label": ["x", "Total", "y"], "victims": [12, 7, 19]})
    # min_count / max_suppressed replace threshold; totals looked for only in the index column given
    safe, report = dc.apply(t, ["victims"], min_count=1, max_suppressed=9, totals=["Total"], index="district")
    assert safe["victims"].tolist() == [C, C, 19]
    assert report.get("primary") == 1 and report["secondary"] == 1 and report.get("missing", 0) == 0
    # no count columns: returned unchanged
    same, empty = dc.apply(t, [])
    pd.testing.assert_frame_equal(same, t)
    assert empty.primary == 0 and empty.cells == 0
