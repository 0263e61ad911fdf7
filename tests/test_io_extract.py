"""Tests for victimneeds.io.read_extract."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pandas as pd
import pytest

from victimneeds.io import DataFileError, read_extract

MAP = {
    "Ref": "referral_id",
    "Crime": "crime_id",
    "Service": "service",
    "Source": "source",
    "Referred": "referral_date",
    "District": "district_code",
    "Group": "crime_group",
    "Sex": "victim_sex",
    "Age": "victim_age_band",
    "Ethnicity": "victim_ethnicity",
}
CSV = (
    "Ref,Crime,Service,Source,Referred,District,Group,Sex,Age,Ethnicity,Victim name\n"
    "R1,C9,VAL,Police,03/04/2023,E06000016,Burglary,Female,25-34,White,Jane Doe\n"
    "R2,,VAL,Self,2023-04-05,E06000017,Domestic abuse,Male,Unknown,Asian,John Roe\n"
)


def test_referrals_typed_pseudonymised_and_minimised(tmp_path: Path) -> None:
    f = tmp_path / "ref.csv"
    f.write_text(CSV)
    table, report = read_extract(f, "referrals", columns=MAP, salt="s3cret")
    expected = hmac.new(b"s3cret", b"R1", hashlib.sha256).hexdigest()[:20]
    assert table.loc[0, "referral_id"] == expected
    assert pd.isna(table.loc[1, "crime_id"])
    assert table.loc[0, "referral_date"] == pd.Timestamp("2023-04-03")  # UK day-first
    assert "Victim name" not in table.columns and "Jane" not in table.to_csv()
    assert "s3cret" not in report.to_csv()
    assert report.loc[report["check"] == "columns_not_kept", "count"].item() == 1
    assert table["contact_made"].isna().all()


def test_salt_from_env_and_required(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "ref.csv"
    f.write_text(CSV)
    monkeypatch.delenv("VICTIMNEEDS_SALT", raising=False)
    with pytest.raises(ValueError, match="VICTIMNEEDS_SALT"):
        read_extract(f, "referrals", columns=MAP)
    monkeypatch.setenv("VICTIMNEEDS_SALT", "s3cret")
    a, _ = read_extract(f, "referrals", columns=MAP)
    b, _ = read_extract(f, "referrals", columns=MAP, salt="s3cret")
    assert a["referral_id"].tolist() == b["referral_id"].tolist()


def test_bad_values_name_column_and_line(tmp_path: Path) -> None:
    f = tmp_path / "ref.csv"
    f.write_text(CSV.replace("Police,03/04/2023", "Police,not a date"))
    with pytest.raises(DataFileError, match=r"'referral_date' has 1 values that are not dates.*'not a date' on line 2"):
        read_extract(f, "referrals", columns=MAP, salt="x")
    f.write_text(CSV.replace(",Self,", ",Friend,"))
    with pytest.raises(DataFileError, match=r"'source' has 1 values.*'Friend'.*line 3"):
        read_extract(f, "referrals", columns=MAP, salt="x")


def test_missing_required_column(tmp_path: Path) -> None:
    f = tmp_path / "ref.csv"
    f.write_text(CSV)
    mapping = {k: v for k, v in MAP.items() if v != "service"}
    with pytest.raises(DataFileError, match=r"needs the column\(s\) \['service'\]"):
        read_extract(f, "referrals", columns=mapping, salt="x")


def test_xlsx_services(tmp_path: Path) -> None:
    f = tmp_path / "s.xlsx"
    pd.DataFrame(
        {
            "service_name": ["IDVA service"],
            "lot": ["IDVA"],
            "provider": ["P"],
            "districts_served": ["All"],
            "annual_funding": [250000],
        }
    ).to_excel(f, index=False)
    table, _ = read_extract(f, "services")
    assert table.loc[0, "annual_funding"] == 250000.0 and table.loc[0, "lot"] == "IDVA"
