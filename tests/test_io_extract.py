"""Tests for victimneeds.io.read_extract: one extract file to a canonical table."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from victimneeds.io import DataFileError, read_extract
from victimneeds.io.extract import ExtractError, mask, normalise_ids, pseudonymise

SALT = "a-test-salt-of-24-chars!"
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
    "Ref,Crime,Service,Source,Referred,District,Group,Sex,Age,Ethnicity,Victim name,First attempt date\n"
    "R1,C9,VAL,Police,03/04/2023,E06000016,Burglary,F,25-34,IC1,Jane Doe,04/04/2023\n"
    "R2,,VAL,Self,2023-04-05,E06000017,Domestic abuse,Male,Unknown,Asian,John Roe,\n"
)


def _write(tmp_path: Path, text: str, name: str = "ref.csv") -> Path:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f


def test_referrals_typed_pseudonymised_personal_dropped_extras_kept(tmp_path: Path) -> None:
    f = _write(tmp_path, CSV)
    table, report = read_extract(f, "referrals", columns=MAP, salt=SALT, dates="day-first")
    expected = hmac.new(SALT.encode(), b"R1", hashlib.sha256).hexdigest()[:20]
    assert table.loc[0, "referral_id"] == expected
    assert pd.isna(table.loc[1, "crime_id"])
    assert table.loc[0, "referral_date"] == pd.Timestamp("2023-04-03")  # declared day-first
    assert table.loc[1, "referral_date"] == pd.Timestamp("2023-04-05")  # ISO stays ISO
    assert table["victim_sex"].tolist() == ["Female", "Male"]  # shipped coding F -> Female
    assert table["victim_ethnicity"].tolist() == ["White", "Asian"]  # police IC1 -> White
    assert "Victim name" not in table.columns and "Jane" not in table.to_csv()
    dropped = report[report["check"] == "column_dropped_personal"]
    assert len(dropped) == 1 and "Victim name" in dropped["detail"].item() and "Jane" not in report.to_csv()
    assert table.loc[0, "First attempt date"] == pd.Timestamp("2023-04-04")  # extra column kept, read as dates
    assert SALT not in report.to_csv()
    assert table["contact_made"].isna().all()


def test_iso_dates_are_never_read_day_first(tmp_path: Path) -> None:
    text = CSV.replace("03/04/2023", "2021-01-02").replace("04/04/2023", "")
    for convention in ("iso", "day-first", "month-first"):
        table, _ = read_extract(_write(tmp_path, text), "referrals", columns=MAP, salt=SALT, dates=convention)
        assert table.loc[0, "referral_date"] == pd.Timestamp("2021-01-02")


def test_numeric_dates_need_a_declared_convention(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match=r"'Referred'.*no date convention is declared.*row 2"):
        read_extract(_write(tmp_path, CSV), "referrals", columns=MAP, salt=SALT)
    table, _ = read_extract(_write(tmp_path, CSV), "referrals", columns=MAP, salt=SALT, dates="month-first")
    assert table.loc[0, "referral_date"] == pd.Timestamp("2023-03-04")


def test_contradictory_dates_name_column_and_rows(tmp_path: Path) -> None:
    f = _write(tmp_path, CSV.replace("03/04/2023", "03/13/2023"))
    with pytest.raises(ExtractError, match=r"'Referred'.*month above 12.*day-first.*row 2") as err:
        read_extract(f, "referrals", columns=MAP, salt=SALT, dates="day-first")
    assert "03/13/2023" not in str(err.value) and "'99/99/9999'" in str(err.value)


def test_messages_never_quote_personal_values(tmp_path: Path) -> None:
    f = _write(tmp_path, CSV.replace(",Burglary,", ",Jane Testperson3 DOB 04/04/1963,"))
    with pytest.raises(ExtractError) as err:
        read_extract(f, "referrals", columns=MAP, salt=SALT, dates="day-first")
    text = str(err.value)
    assert "'Group'" in text and "row 2" in text
    assert "Jane" not in text and "1963" not in text and "Testperson" not in text


def test_unknown_codes_seen_often_are_quoted_to_be_mapped(tmp_path: Path) -> None:
    rows = "".join(f"R{i},,VAL,Police,2023-04-0{i},E06000016,Burglary,Q,25-34,White,,\n" for i in range(1, 5))
    f = _write(tmp_path, CSV.splitlines()[0] + "\n" + rows)
    with pytest.raises(ExtractError, match=r"'Sex'.*'Q'.*\[extracts.referrals.values.victim_sex\]"):
        read_extract(f, "referrals", columns=MAP, salt=SALT)
    table, _ = read_extract(f, "referrals", columns=MAP, salt=SALT, values={"victim_sex": {"Q": "Unknown"}})
    assert set(table["victim_sex"]) == {"Unknown"}


def test_short_salt_refused_with_how_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = _write(tmp_path, CSV)
    with pytest.raises(ValueError, match=r"at least 16.*secrets.token_urlsafe"):
        read_extract(f, "referrals", columns=MAP, salt="x", dates="day-first")
    monkeypatch.delenv("VICTIMNEEDS_SALT", raising=False)
    with pytest.raises(ValueError, match="VICTIMNEEDS_SALT"):
        read_extract(f, "referrals", columns=MAP, dates="day-first")
    monkeypatch.setenv("MY_AREA_SALT", SALT)
    a, _ = read_extract(f, "referrals", columns=MAP, dates="day-first", salt_env="MY_AREA_SALT")
    b, _ = read_extract(f, "referrals", columns=MAP, salt=SALT, dates="day-first")
    assert a["referral_id"].tolist() == b["referral_id"].tolist()


def test_unmapped_column_named_like_schema_column_with_personal_content_is_not_used(tmp_path: Path) -> None:
    mapping = {k: v for k, v in MAP.items() if v != "service"}
    text = CSV.replace("Service,", "service,").replace(",VAL,", ",call her on 07700 900123,", 1)
    f = _write(tmp_path, text)
    with pytest.raises(ExtractError, match=r"needs the column\(s\) \['service'\]") as err:
        read_extract(f, "referrals", columns=mapping, salt=SALT, dates="day-first")
    assert "07700" not in str(err.value)


def test_mapped_text_column_with_personal_content_is_an_error(tmp_path: Path) -> None:
    text = CSV.replace(",VAL,", ",ring 07700 900123,", 1)
    with pytest.raises(ExtractError, match=r"'Service'.*look like phone numbers") as err:
        read_extract(_write(tmp_path, text), "referrals", columns=MAP, salt=SALT, dates="day-first")
    assert "07700" not in str(err.value)


def test_bom_and_trailing_blank_rows_counted(tmp_path: Path) -> None:
    f = tmp_path / "ref.csv"
    f.write_bytes(("\ufeff" + CSV + ",,,,,,,,,,,\n\n,,,\n").encode("utf-8"))
    table, report = read_extract(f, "referrals", columns=MAP, salt=SALT, dates="day-first")
    assert len(table) == 2
    assert report.loc[report["check"] == "blank_rows", "count"].item() == 3
    assert report.loc[report["check"] == "rows_read", "count"].item() == 5


def test_duplicates_exact_counted_and_conflicting_refused(tmp_path: Path) -> None:
    line = CSV.splitlines()[1]
    table, report = read_extract(_write(tmp_path, CSV + line + "\n"), "referrals", columns=MAP, salt=SALT,
                                 dates="day-first")
    assert len(table) == 2 and report.loc[report["check"] == "exact_duplicates", "count"].item() == 1
    with pytest.raises(ExtractError, match=r"'referral_id' must be unique.*rows 2 and 4"):
        read_extract(_write(tmp_path, CSV + line.replace(",Burglary,", ",Robbery,") + "\n"), "referrals",
                     columns=MAP, salt=SALT, dates="day-first")


def test_invalid_rows_exclude_counts_by_column(tmp_path: Path) -> None:
    f = _write(tmp_path, CSV.replace(",Self,", ",Friend,"))
    table, report = read_extract(f, "referrals", columns=MAP, salt=SALT, dates="day-first", invalid_rows="exclude")
    assert len(table) == 1
    excluded = report[report["check"] == "row_excluded"]
    assert excluded["count"].tolist() == [1] and "source" in excluded["detail"].item()


def test_missing_required_column(tmp_path: Path) -> None:
    mapping = {k: v for k, v in MAP.items() if v != "service"}
    f = _write(tmp_path, CSV.replace("Service,", "Team,"))
    with pytest.raises(DataFileError, match=r"needs the column\(s\) \['service'\]"):
        read_extract(f, "referrals", columns=mapping, salt=SALT, dates="day-first")


def test_mapping_to_unknown_column_or_missing_source(tmp_path: Path) -> None:
    f = _write(tmp_path, CSV)
    with pytest.raises(ExtractError, match=r"'Sex' to 'victim_gender', which is not a column"):
        read_extract(f, "referrals", columns={**MAP, "Sex": "victim_gender"}, salt=SALT, dates="day-first")
    with pytest.raises(ExtractError, match=r"'Gender' named in the column mapping is not in the file"):
        read_extract(f, "referrals", columns={**MAP, "Gender": "victim_sex"}, salt=SALT, dates="day-first")


def test_xlsx_title_rows_excel_dates_serials_and_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Responses"
    sheet.append(["Victim satisfaction survey, provider X"])
    sheet.append([])
    sheet.append(["ID", "When", "Group", "District", "Sex", "Age", "Ethnicity", "Disabled", "Overall"])
    sheet.append(["S1", dt.date(2021, 1, 2), "Burglary", "E06000016", "F", 34, "W1", "N", "Yes"])
    sheet.append(["S2", 44198, "Burglary", "E06000016", "M", "75+", "Not stated", "Y", "No"])
    other = book.create_sheet("Notes")
    other.append(["nothing"])
    f = tmp_path / "survey.xlsx"
    book.save(f)
    cols = {"ID": "response_id", "When": "response_date", "Group": "crime_group", "District": "district_code",
            "Sex": "victim_sex", "Age": "victim_age_band", "Ethnicity": "victim_ethnicity",
            "Disabled": "victim_disability", "Overall": "satisfied_whole_experience"}
    table, report = read_extract(f, "survey", columns=cols, salt=SALT, sheet="Responses", header_row=3)
    assert table["response_date"].tolist() == [pd.Timestamp("2021-01-02")] * 2
    assert table["victim_age_band"].tolist() == ["25-34", "75+"]
    assert table["victim_disability"].tolist() == [False, True]
    assert (table["weight"] == 1.0).all() and "unweighted" in set(report["check"])
    with pytest.raises(DataFileError, match=r"no sheet called 'Data': its sheets are \['Responses', 'Notes'\]"):
        read_extract(f, "survey", columns=cols, salt=SALT, sheet="Data", header_row=3)


def test_crimes_months_groups_flags_and_districts(tmp_path: Path) -> None:
    text = (
        "Crime Reference,Date Recorded,Offence,DA flag,Hate,LSOA,Outcome date\n"
        "LE/1/21,02/01/2021,Violence with injury,Y,N,E01000001,Mar 2021\n"
        "LE/2/21,15/01/2021,Rape,N,N,E01000002,\n"
        "LE/3/21,2021-02-01,Residential burglary,N,Y,E09999999,2021-04\n"
    )
    areas = pd.DataFrame({"area_code": ["E01000001", "E01000002"], "district_code": ["E06000001", "E06000002"],
                          "district_name": ["One", "Two"]})
    cols = {"Crime Reference": "crime_id", "Date Recorded": "month", "Offence": "crime_type",
            "DA flag": "is_domestic_abuse", "Hate": "is_hate", "LSOA": "area_code", "Outcome date": "outcome_month"}
    table, report = read_extract(_write(tmp_path, text, "crimes.csv"), "crimes", columns=cols, salt=SALT,
                                 dates="day-first", areas=areas)
    assert table["month"].astype(str).tolist() == ["2021-01", "2021-01", "2021-02"]
    assert table["crime_type"].tolist() == ["Violence and sexual offences", "Violence and sexual offences",
                                            "Burglary"]
    assert table["crime_group"].tolist() == ["Domestic abuse", "Sexual violence", "Hate crime"]
    assert table["district_code"].tolist()[:2] == ["E06000001", "E06000002"] and pd.isna(table.loc[2, "district_code"])
    assert [str(m) if pd.notna(m) else None for m in table["outcome_month"]] == ["2021-03", None, "2021-04"]
    assert report.loc[report["check"] == "outside_area", "count"].item() == 1


def test_reference_forms_link_across_extracts() -> None:
    a, _ = normalise_ids(pd.Series(["LE/12345/21", "le-12345-21", "LE 12345 21"]))
    assert a.nunique() == 1
    b, bad = normalise_ids(pd.Series(["12345/21", "junk"]), {"pattern": r"(?P<n>\d+)/(?P<y>\d\d)",
                                                             "format": "LE/{n}/{y}"})
    assert b[0] == a[0] and bad.tolist() == [False, True]


def test_mask_keeps_shape_only() -> None:
    assert mask("AB12 3CD") == "'XX99 9XX'"
    assert "Jane" not in mask("Jane Doe")


def test_referral_columns_a_provider_lacks_come_from_the_crime_it_names(tmp_path: Path) -> None:
    crimes = pd.DataFrame({"crime_id": pseudonymise(pd.Series(["C9"]), SALT), "crime_group": ["Burglary"],
                           "district_code": ["E06000016"], "victim_sex": ["Female"],
                           "victim_age_band": ["25-34"], "victim_ethnicity": ["White"]})
    text = "Ref,Crime,Service,Source,Referred\nR1,c-9,VAL,Police,2023-04-03\nR2,,VAL,Self,2023-04-05\n"
    cols = {"Ref": "referral_id", "Crime": "crime_id", "Service": "service", "Source": "source",
            "Referred": "referral_date"}
    f = _write(tmp_path, text)
    with pytest.raises(ExtractError, match=r"'crime_group' must not be empty.*row 3"):
        read_extract(f, "referrals", columns=cols, salt=SALT, crimes=crimes)
    table, report = read_extract(f, "referrals", columns=cols, salt=SALT, crimes=crimes, invalid_rows="exclude")
    assert len(table) == 1 and table.loc[0, "crime_group"] == "Burglary"
    assert table.loc[0, "district_code"] == "E06000016" and table.loc[0, "victim_sex"] == "Female"
    assert (report["check"] == "from_crime").sum() == 5
    assert report.loc[report["check"] == "rows_excluded", "count"].item() == 1
