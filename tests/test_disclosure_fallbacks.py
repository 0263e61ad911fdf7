"""Disclosure control never stops a build: totals that are not sums, partial breakdowns, and cells no single
further cell can protect (hand-worked examples)."""

import tempfile

import pandas as pd

from victimneeds import disclosure
from victimneeds.audit import audit_pack
from victimneeds.report import Output


def _by_sex() -> pd.DataFrame:
    # Sex is not always recorded: Female + Male is less than All (Rutland 11 + 2 of 13; Leicester 105 + 30 of 147)
    return pd.DataFrame({
        "district": ["Leicester"] * 3 + ["Rutland"] * 3,
        "sex": ["All", "Female", "Male"] * 2,
        "count": [147, 105, 30, 13, 11, 2],
    })


def test_partial_breakdown_is_declared_and_protected():
    t = _by_sex()
    s = disclosure.declare(t, ["count"], index=["district", "sex"], totals=["All"])
    assert s.partial == ["sex"]
    # The old code took All = Female + Male, which the values contradict: the attacker's programme was
    # infeasible and apply raised RuntimeError.
    safe, report = disclosure.apply(t, ["count"], by=["district", "sex"], blocks=["district"], partial=["sex"])
    # Male = 2 is hidden. With Female = 11 shown, the attacker knows Male <= 13 - 11 = 2 (the unknown-sex
    # remainder is at least 0), so Male would be 1 or 2: Female (or All) must be hidden too.
    assert safe.loc[5, "count"] == "[c]"
    assert (safe.loc[3:4, "count"] == "[c]").any()
    assert report.primary == 1


def test_output_table_with_partial_breakdown_passes_the_audit():
    out = Output(tempfile.mkdtemp(), source="Source: test.")
    safe = out.table(_by_sex(), "by_sex", "Crimes by sex", counts=["count"], index=["district", "sex"])
    assert safe.loc[5, "count"] == "[c]"
    assert out.tables[-1].structure["partial"] == ["sex"]
    result = audit_pack(out.out_dir, detail_dir=out.disclosure_dir)
    assert result.passed, result.summary()


def test_total_that_is_not_a_sum_is_left_out_with_a_note():
    # The Total row says 50 but the districts add to 48: the old code's programme was infeasible (RuntimeError).
    t = pd.DataFrame({"district": ["A", "B", "C", "Total"], "victims": [30, 3, 15, 50]})
    safe, report = disclosure.apply(t, ["victims"])
    assert safe.loc[1, "victims"] == "[c]"
    assert any("not the sum" in n for n in report.notes)
    # the area total of the districts (48) is still assumed published elsewhere: 15 goes too
    assert safe.loc[2, "victims"] == "[c]"


def test_cell_no_single_cell_can_protect_hides_the_block_instead_of_raising():
    # n and events declared (wrongly) as categories whose row sum is published: with every block line and
    # row line known, Mixed's n + events = 2 follows from the other rows (146 + 101 - (160 + 57 + 9 + 19) = 2),
    # so n = 1 is pinned whatever else is hidden. The old code raised ValueError.
    t = pd.DataFrame({
        "covariate": ["ethnicity"] * 5,
        "level": ["Asian", "Black", "Mixed", "Other", "Unknown"],
        "n": [93, 36, 1, 6, 10],
        "events": [67, 21, 1, 3, 9],
    })
    safe, report = disclosure.apply(t, ["n", "events"], by=["covariate", "level"], blocks=["covariate"])
    assert report.notes
    disclosure.check_safe(safe, ["n", "events"])
    assert (safe[["n", "events"]] == "[c]").all().all()


def test_categories_adding_to_more_than_their_total_do_not_stop_protection():
    # A data error: Female + Male = 12 but All says 10. The old code's programme was infeasible (RuntimeError).
    t = pd.DataFrame({"district": ["A"] * 3 + ["B"] * 3, "sex": ["All", "Female", "Male"] * 2,
                      "count": [10, 8, 4, 30, 20, 10]})
    s = disclosure.declare(t, ["count"], index=["district", "sex"], totals=["All"])
    assert s.partial == ["sex"]
    safe, _ = disclosure.apply(t, ["count"], by=["district", "sex"], blocks=["district"], partial=["sex"])
    # Female + Male (12) is still taken as published somewhere: hiding Male (4) alone would give it away
    assert safe.loc[2, "count"] == "[c]" and safe.loc[1, "count"] == "[c]"
