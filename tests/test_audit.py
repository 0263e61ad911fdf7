"""victimneeds.audit.audit_pack: the published pack attacked from its files alone."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import load_workbook

from victimneeds.audit import LOG_COLUMNS, audit_pack
from victimneeds.report import Output, internal_dir, read_table, write_workbook

C = "[c]"


def _pack() -> Output:
    return Output(tempfile.mkdtemp(), source="Source: test.")


def _crimes() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for d in ["E1", "E2", "E3", "E4"]:
        for g in ["burglary", "robbery", "theft", "violence"]:
            rows.append((d, g, int(rng.choice([1, 2, 3, 12, 25, 40]))))
    return pd.DataFrame(rows, columns=["district", "crime_group", "crimes"])


def _tamper(path: Path, column: str, position: int, value: int) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    notes = [line for line in lines if line.startswith("# ")]
    table = read_table(path)
    table[column] = table[column].astype(object)
    table.loc[position, column] = value
    path.write_text("\n".join(notes) + "\n" + table.to_csv(index=False, lineterminator="\n"), encoding="utf-8")


def test_a_pack_written_by_output_passes_and_logs_every_hidden_cell():
    out = _pack()
    out.table(_crimes(), "01_crimes", "Crimes", counts=["crimes"], index=["district", "crime_group"])
    result = audit_pack(out.out_dir)
    assert result.passed, result.summary()
    log = pd.read_csv(internal_dir(out.out_dir) / "disclosure_log.csv")
    assert list(log.columns) == LOG_COLUMNS
    safe = read_table(out.out_dir / "tables" / "01_crimes.csv")
    assert len(log) == int((safe["crimes"] == C).sum()) == result.hidden
    assert set(log["reason"]) <= {"primary", "secondary"} and (log["table_result"] == "pass").all()
    assert (log.loc[log["reason"] == "primary", "protection"] != "exposed").all()
    assert "passed" in result.summary()


def test_revealing_a_secondary_cell_is_caught():
    out = _pack()
    t = pd.DataFrame({"district": ["A", "B", "C", "Total"], "victims": [120, 3, 45, 168]})
    out.table(t, "00_v", "Victims", counts=["victims"], index="district")
    path = out.out_dir / "tables" / "00_v.csv"
    assert read_table(path)["victims"].tolist() == ["120", C, C, "168"]
    _tamper(path, "victims", 2, 45)  # the 45 was the secondary cell: now 168 - 120 - 45 = 3
    result = audit_pack(out.out_dir)
    assert not result.passed and result.exposed == 1
    assert "can be worked out exactly (3)" in result.problems[0]


def test_a_coarser_table_from_the_same_data_is_used_against_the_finer_one():
    # District x crime group, and the same crimes by crime group alone (exact, nothing small). Each crime
    # group's total over districts is then published: without margins=["district"] the finer table is only
    # protected inside each district, and a crime group with one hidden district can be solved.
    fine = pd.DataFrame({"district": ["E1", "E1", "E2", "E2", "E3", "E3"],
                         "crime_group": ["burglary", "theft"] * 3,
                         "crimes": [3, 40, 30, 25, 22, 35]})
    coarse = fine.groupby("crime_group", as_index=False)["crimes"].sum()
    out = _pack()
    out.table(fine, "01_fine", "Fine", counts=["crimes"], index=["district", "crime_group"], source_key="crimes")
    out.table(coarse, "01_coarse", "Coarse", counts=["crimes"], index="crime_group", source_key="crimes")
    result = audit_pack(out.out_dir)
    # inside E1, 3 and 40 are hidden; burglary's total 55 = 3 + 30 + 22 with 30 and 22 visible gives the 3
    assert not result.passed and result.exposed >= 1

    out = _pack()
    out.table(fine, "01_fine", "Fine", counts=["crimes"], index=["district", "crime_group"], source_key="crimes",
              margins=["district"])
    out.table(coarse, "01_coarse", "Coarse", counts=["crimes"], index="crime_group", source_key="crimes")
    assert audit_pack(out.out_dir).passed


def test_the_workbook_must_hide_what_the_csv_hides():
    out = _pack()
    out.table(_crimes(), "01_crimes", "Crimes", counts=["crimes"], index=["district", "crime_group"])
    book = write_workbook(out.out_dir, out.out_dir / "area_evidence_tables.xlsx", "Area", "Source: test.")
    assert audit_pack(out.out_dir).passed
    wb = load_workbook(book)
    ws = wb["01 Crimes"]
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == C:
                cell.value = 2
                break
        else:
            continue
        break
    wb.save(book)
    result = audit_pack(out.out_dir)
    assert not result.passed and "which 01_crimes.csv hides" in result.problems[0]


def test_the_internal_records_can_live_outside_the_pack():
    internal = Path(tempfile.mkdtemp())
    out = Output(tempfile.mkdtemp(), source="Source: test.", disclosure_dir=internal / "cells")
    out.table(_crimes(), "01_crimes", "Crimes", counts=["crimes"], index=["district", "crime_group"])
    assert not (out.out_dir / "disclosure").exists()
    result = audit_pack(out.out_dir, detail_dir=internal / "cells", log_path=internal / "log.csv")
    assert result.passed and not (out.out_dir / "disclosure_log.csv").exists()
    assert "primary" in set(pd.read_csv(internal / "log.csv")["reason"])


def test_a_rounded_pack_is_audited_with_the_rounding_ranges():
    from victimneeds.disclosure import DisclosurePolicy

    out = Output(tempfile.mkdtemp(), source="Source: test.", policy=DisclosurePolicy(rule="round"))
    t = pd.DataFrame({"district": ["A", "B", "C", "D", "Total"], "victims": [6, 12, 23, 48, 89]})
    safe = out.table(t, "00_v", "Victims", counts=["victims"], index="district")
    assert safe["victims"].tolist() == [C, C, 25, 50, 90]
    result = audit_pack(out.out_dir)
    # Shown to the nearest 5 (halves up): 25 is 23 to 27, 50 is 48 to 52, 90 is 88 to 92. Hidden cells are at
    # least 1, so A is at most 92 - 23 - 48 - 1 = 20.
    (low, high), = result.log.loc[result.log["reason"] == "primary", ["low", "high"]].itertuples(index=False)
    assert result.passed and (low, high) == (1.0, 20.0)


def test_by_default_the_internal_records_are_written_outside_the_pack_and_its_folder():
    # Which hidden cells are primary tells a reader they hold 1 to 4: nothing of it may be inside the pack, nor
    # beside it (where a build would copy or publish the folder).
    pack = Path(tempfile.mkdtemp()) / "example"
    out = Output(pack, source="Source: test.")
    out.table(_crimes(), "01_crimes", "Crimes", counts=["crimes"], index=["district", "crime_group"])
    result = audit_pack(pack)
    inside = {p.relative_to(pack.parent).as_posix() for p in pack.parent.rglob("*") if p.is_file()}
    assert inside == {"example/tables/01_crimes.csv", "example/tables/01_crimes.json"}
    assert (internal_dir(pack) / "01_crimes.json").exists()
    assert (internal_dir(pack) / "disclosure_log.csv").exists()
    assert result.passed and result.checked > 0
