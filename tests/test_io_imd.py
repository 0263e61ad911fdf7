"""Tests for victimneeds.io.read_imd."""

from __future__ import annotations

from pathlib import Path

import pytest

from victimneeds.io import DataFileError, read_imd

HEADER = (
    "LSOA code (2011),LSOA name (2011),Local Authority District code (2019),"
    "Local Authority District name (2019),Index of Multiple Deprivation (IMD) Rank,"
    "Index of Multiple Deprivation (IMD) Decile"
)


def test_rank_decile_and_scores(tmp_path: Path) -> None:
    f1 = tmp_path / "f1.csv"
    f1.write_text("\ufeff" + HEADER + '\nE01000001,A,E09,X,"29,199",9\nE01000002,B,E09,X,1,1\n', encoding="utf-8")
    scores = tmp_path / "s.csv"
    scores.write_text("nation,lsoa,overall_local_score\nE,E01000001,6.2\nE,E01000002,90.1\nW,E01000001,1\n")
    table, report = read_imd(f1, scores)
    assert table["imd_rank"].tolist() == [29199, 1]
    assert table["imd_score"].tolist() == [6.2, 90.1]
    assert "scores_missing" not in set(report["check"])


def test_wrong_layout(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("lsoa,score\nE01000001,3\n")
    with pytest.raises(DataFileError, match=r"lacks.*'LSOA code \(2011\)'.*Columns found: \['lsoa', 'score'\]"):
        read_imd(f)


@pytest.mark.realdata
def test_real_imd(shared_data: Path) -> None:
    table, report = read_imd(
        shared_data / "deprivation" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
        shared_data / "deprivation" / "mysociety_UK_IMD_E.csv.gz",
    )
    assert len(table) == 32_844 and table["imd_score"].notna().all()
    assert table["imd_rank"].min() == 1 and table["imd_rank"].max() == 32_844
    assert set(table["imd_decile"]) == set(range(1, 11))
    # the most deprived LSOA (rank 1) has the highest score
    assert table.loc[table["imd_rank"] == 1, "imd_score"].item() == table["imd_score"].max()
