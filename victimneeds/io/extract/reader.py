"""Read one extract (force crimes, victim-service referrals, services, survey) into a canonical table.

The steps, each counted in the data-quality report:

1. the file's cells are read as text (:mod:`.files`; blank rows set aside and counted);
2. columns are matched: those the configuration maps, then those already named as in the data model;
   every other column is kept as an extra column unless its header or content looks personal
   (:mod:`.personal`), in which case it is dropped with a note (``keep`` overrules; ``drop`` drops);
3. each mapped column is converted to its type: categories through the value mappings (:mod:`.codings`),
   dates and months by the declared convention (:mod:`.dates`), numbers, yes/no flags;
4. references are put in one form and replaced by keyed hashes (:mod:`.ids`);
5. exact duplicate rows are set aside and counted; a reference used twice with different content is an error;
6. the table is checked against the data model (:func:`victimneeds.datamodel.validate`).

Every problem is collected before anything is raised, so one run lists them all. A problem names the file,
the column and the rows, and shows values only by their shape (``'99/99/9999'``), except a code that is not
recognised and occurs at least three times, which is quoted so it can be mapped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from victimneeds.datamodel import SCHEMAS, crime_group_for, validate
from victimneeds.io._report import DataFileError, ReadResult, Report, describe_lines
from victimneeds.io.extract.codings import (
    convert_age_band,
    convert_category,
    convert_flag,
    normalise_key,
    value_lookup,
)
from victimneeds.io.extract.dates import check_convention, parse_dates, parse_months
from victimneeds.io.extract.files import RawTable, read_raw
from victimneeds.io.extract.ids import check_salt, normalise_ids, pseudonymise
from victimneeds.io.extract.personal import content_reason, masked_examples, personal_reason

__all__ = ["ID_COLUMNS", "OPTIONAL_COLUMNS", "EXTRACT_TABLES", "ExtractError", "Problem", "read_extract"]

#: The tables an extract can hold.
EXTRACT_TABLES: tuple[str, ...] = ("crimes", "referrals", "services", "survey")

#: The identifier columns pseudonymised by default, by table.
ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "referrals": ("referral_id", "crime_id"),
    "crimes": ("crime_id",),
    "survey": ("response_id",),
    "services": (),
    "areas": (),
    "population": (),
}

#: Columns outside the schemas that analyses use when present, with their kind.
OPTIONAL_COLUMNS: dict[str, dict[str, str]] = {
    "crimes": {"is_sexual_offence": "flag", "months_to_outcome": "number", "victim_disability": "flag",
               "risk_level": "category"},
    "referrals": {"first_attempt_date": "date", "consent_to_refer": "flag", "is_repeat_victim": "flag"},
    "services": {},
    "population": {},
    "survey": {"comment": "text", "crime_id": "id", "support_level": "category", "risk_level": "category"},
}

#: Victim characteristics where an empty cell means "Unknown" (a recorded value), counted in the report.
_UNKNOWN_WHEN_EMPTY = ("victim_sex", "victim_age_band", "victim_ethnicity")

#: Text columns whose values may legitimately look like a postcode (a service's base).
_ALLOW = {"location": ("postcodes",), "districts_served": ("free text",), "outcome": ("free text",),
          "service_name": ("people's names",), "provider": ("people's names",), "service": ("people's names",)}


#: Columns that share another column's codings.
_CODING_ALIAS = {"sex": "victim_sex", "age_band": "victim_age_band"}


@dataclass
class Problem:
    """One thing wrong with an extract: the column (or None for the file) and a sentence."""

    column: str | None
    message: str
    rows: np.ndarray | None = None
    reason: str = ""


class ExtractError(DataFileError):
    """An extract cannot be read as its table; ``problems`` lists every problem found."""

    def __init__(self, where: str, problems: list[Problem]) -> None:
        self.where = where
        self.problems = problems
        lines = "\n  - ".join(p.message for p in problems)
        super().__init__(f"{where} has {len(problems)} problem(s):\n  - {lines}")


def _kind(table: str, column: str) -> str:
    if column in ID_COLUMNS.get(table, ()):
        return "id"
    if column in OPTIONAL_COLUMNS.get(table, {}) and column not in SCHEMAS[table].columns:
        return OPTIONAL_COLUMNS[table][column]
    dtype = SCHEMAS[table].columns[column].dtype.type
    text = str(dtype).lower()
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if text == "boolean":
        return "flag"
    if isinstance(dtype, pd.PeriodDtype) or text.startswith("period"):
        return "month"
    if "datetime" in text:
        return "date"
    if text in ("float64", "int64"):
        return "number"
    return "text"


def _categories(table: str, column: str) -> list[str]:
    if column == "outcome":
        from victimneeds import reference

        return [str(c) for c in reference.table("policeuk_outcome_groups")["category"]]
    if column in SCHEMAS[table].columns:
        dtype = SCHEMAS[table].columns[column].dtype.type
        if isinstance(dtype, pd.CategoricalDtype):
            return [str(c) for c in dtype.categories]
    for other in SCHEMAS.values():
        if column in other.columns and isinstance(other.columns[column].dtype.type, pd.CategoricalDtype):
            return [str(c) for c in other.columns[column].dtype.type.categories]
    return []


def _examples(values: pd.Series, mask: pd.Series, quote_codes: bool = False) -> str:
    """Examples of the values selected: codes seen 3+ times are quoted (so they can be mapped), others masked."""
    chosen = values[mask]
    counts = chosen.astype(str).value_counts()
    shown: list[str] = []
    for value, n in counts.items():
        safe = quote_codes and n >= 3 and len(value) <= 40 and content_reason(pd.Series([value] * 3)) is None
        shown.append(repr(value) if safe else masked_examples([value]))
        if len(shown) >= 3:
            break
    more = len(counts) - len(shown)
    return ", ".join(shown) + (f" and {more:,} other distinct value(s)" if more > 0 else "")


def _rows(raw: RawTable, mask: pd.Series | np.ndarray) -> str:
    return describe_lines(raw.rows[np.asarray(mask, dtype=bool)]).replace("line", "row")


@dataclass
class _Reading:
    raw: RawTable
    table: str
    where: str
    report: Report
    source: str
    problems: list[Problem] = field(default_factory=list)
    invalid: pd.Series | None = None

    def problem(self, column: str | None, message: str, mask: pd.Series | None = None, reason: str = "") -> None:
        if mask is not None:
            mask = pd.Series(np.asarray(mask, dtype=bool), index=self.raw.frame.index)
            if not mask.any():
                return
            message = f"{message} on {_rows(self.raw, mask)}"
            if self.invalid is not None:
                self.invalid |= mask
        self.problems.append(Problem(column, f"{self.where}: {message}.", None if mask is None else mask.to_numpy(),
                                     reason))


def read_extract(
    path: str | os.PathLike,
    table: str = "referrals",
    columns: Mapping[str, str] | None = None,
    salt: str | None = None,
    identifiers: Iterable[str] | None = None,
    sheet: str | int | None = None,
    dates: str = "iso",
    header_row: int = 1,
    values: Mapping[str, Mapping[str, object]] | None = None,
    codings: Iterable[str] = (),
    keep: Iterable[str] = (),
    drop: Iterable[str] = (),
    encoding: str = "utf-8",
    ids: Mapping[str, Mapping[str, str]] | None = None,
    invalid_rows: str = "error",
    areas: pd.DataFrame | None = None,
    salt_env: str = "VICTIMNEEDS_SALT",
    crimes: pd.DataFrame | None = None,
) -> ReadResult:
    """Read a CSV or Excel extract into a canonical table: typed, checked, pseudonymised and counted.

    Parameters
    ----------
    path : the extract (``.csv``, ``.csv.gz``, ``.xlsx``, ``.xls``, ``.ods``).
    table : the canonical table it holds: ``crimes``, ``referrals``, ``services`` or ``survey``.
    columns : extract column -> canonical column (``{"Crime Reference": "crime_id"}``). Columns already named
        as in the data model need no entry.
    salt : the secret for pseudonymising references (16 characters or more); None reads the environment
        variable ``salt_env``. Needed when the table has reference columns.
    identifiers : the canonical columns to pseudonymise; default :data:`ID_COLUMNS` for the table.
    sheet : the Excel sheet (name, or position from 0); default the first.
    dates : ``"iso"`` (default: only ISO dates), ``"day-first"`` or ``"month-first"``: how dates written
        with the day and month as numbers are read. ISO dates are always ISO.
    header_row : the row of the file holding the headers, from 1.
    values : canonical column -> {value in the file: allowed value}, e.g. ``{"victim_sex": {"F": "Female"}}``.
    codings : optional shipped codings to use as well (e.g. ``["iso-5218"]``); see
        :mod:`victimneeds.io.extract.codings`.
    keep, drop : extra columns to keep even though they look personal, and columns to drop unread.
    encoding : text encoding of a CSV file.
    ids : canonical id column -> ``{"pattern": regex with named groups, "format": "..."}`` to rebuild
        references written differently from the force's.
    invalid_rows : ``"error"`` (default: any bad value is an error) or ``"exclude"`` (rows with a bad value
        are set aside and counted by column and reason; the file's layout must still be right).
    areas : the area's ``areas`` table: district names or codes are then both accepted and checked, and a
        crime's district follows from its small area.
    crimes : the area's crimes table (already read): a referrals or survey extract that lacks the crime group,
        the district or the victim's sex, age band or ethnicity takes them from the crime its ``crime_id``
        names (counted in the report; a row whose crime is not found keeps them missing).

    Returns
    -------
    ReadResult
        ``table`` (validated against the data model) and ``report``.

    Raises
    ------
    ExtractError
        Listing every problem: columns not found or not supplied, values that do not convert (column, rows,
        masked examples), contradictory dates, repeated references, personal data in a mapped text column.
    ValueError
        No salt, or a salt shorter than 16 characters.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "services.csv"
    >>> _ = f.write_text("Name,Lot,Provider,Areas,Funding\\nVAL,Victim advice line,Acme,E06000016,\\"120,000\\"\\n")
    >>> t, r = read_extract(f, "services", columns={"Name": "service_name", "Lot": "lot", "Provider": "provider",
    ...                     "Areas": "districts_served", "Funding": "annual_funding"})
    >>> t[["service_name", "annual_funding"]].values.tolist()
    [['VAL', 120000.0]]
    """
    if table not in (*EXTRACT_TABLES, "population"):
        raise ValueError(f"table must be one of {list(EXTRACT_TABLES)} or population; got {table!r}")
    if invalid_rows not in ("error", "exclude"):
        raise ValueError(f"invalid_rows must be 'error' or 'exclude', got {invalid_rows!r}")
    path = Path(path)
    check_convention(dates, str(path))
    id_cols = tuple(identifiers) if identifiers is not None else ID_COLUMNS[table]
    if id_cols:
        salt = check_salt(salt if salt is not None else os.environ.get(salt_env), f"reading the {table} extract "
                          f"{path}", salt_env)
    raw = read_raw(path, sheet=sheet, header_row=header_row, encoding=encoding)
    where = f"{path}" + (f" (sheet {raw.sheet!r})" if raw.sheet else "")
    name = path.name
    report = Report()
    n = len(raw.frame)
    report.add(name, "rows_read", n + raw.blank_rows, "read", f"rows below the header of the {table} extract")
    if raw.blank_rows:
        report.add(name, "blank_rows", raw.blank_rows, "skipped", "rows with every cell empty (e.g. trailing rows)")
    r = _Reading(raw, table, where, report, name)
    if invalid_rows == "exclude":
        r.invalid = pd.Series(False, index=raw.frame.index)
    mapping = _match_columns(r, dict(columns or {}), set(keep), set(drop))
    frame = raw.frame
    out = pd.DataFrame(index=frame.index)
    raw_of: dict[str, pd.Series] = {}
    user_values = {k: dict(v) for k, v in (values or {}).items()}
    unknown_value_cols = sorted(set(user_values) - set(mapping.values()) - {"crime_type"})
    if unknown_value_cols:
        report.add(name, "value_mapping_unused", len(unknown_value_cols), "not used",
                   f"value mappings for columns the extract does not supply: {unknown_value_cols}")
    for src, tgt in mapping.items():
        raw_of[tgt] = frame[src]
        out[tgt] = _convert(r, src, tgt, frame[src], dates, user_values.get(tgt), list(codings), areas,
                            ids.get(tgt) if ids else None, tgt in id_cols)
    extras = [c for c in frame.columns if c not in mapping and c in r.extra]
    for col in extras:
        out[col] = _extra(r, col, frame[col], dates)
    _derive(r, out, raw_of, areas)
    if crimes is not None and r.table in ("referrals", "survey") and "crime_id" in out and salt:
        _from_crimes(r, out, crimes, salt)
    _fill_and_require(r, out)
    out = _deduplicate(r, out)
    frame = r.raw.frame
    if r.invalid is not None:
        r.invalid = r.invalid.loc[frame.index]
    if r.problems and invalid_rows == "error" or any(p.rows is None for p in r.problems):
        raise ExtractError(where, r.problems)
    if r.invalid is not None and r.invalid.any():
        for p in r.problems:
            report.add(name, "row_excluded", int(np.asarray(p.rows).sum()), "excluded",
                       f"{p.column}: {p.reason or 'value not valid'}")
        keep_rows = ~r.invalid
        out = out.loc[keep_rows]
        r.raw = RawTable(r.raw.path, r.raw.frame.loc[keep_rows], r.raw.rows[keep_rows.to_numpy()], r.raw.blank_rows,
                         r.raw.sheet)
        report.add(name, "rows_excluded", int(r.invalid.sum()), "excluded",
                   "rows with a value that could not be read (invalid_rows = 'exclude'), counted by column above")
    for col in id_cols:
        if col in out:
            out[col] = pseudonymise(out[col], salt)  # type: ignore[arg-type]
            report.add(name, "pseudonymised", int(out[col].notna().sum()), "replaced by keyed hash",
                       f"{col!r}: put in one form, then HMAC-SHA-256 with the secret salt (first 20 hex digits)")
    out = _typed(table, out.reset_index(drop=True))
    validated = validate(out, table, source=str(path))
    report.add(name, "rows_kept", len(validated), "kept", f"rows in the {table} table")
    return ReadResult(validated, report.frame())


def _match_columns(r: _Reading, columns: dict[str, str], keep: set[str], drop: set[str]) -> dict[str, str]:
    """Source column -> canonical column; sets ``r.extra`` to the extra columns kept."""
    schema = SCHEMAS[r.table]
    headers = list(r.raw.frame.columns)
    allowed = set(schema.columns) | set(OPTIONAL_COLUMNS[r.table])
    by_norm = {normalise_key(h): h for h in headers}
    mapping: dict[str, str] = {}
    for src, tgt in columns.items():
        found = src if src in headers else by_norm.get(normalise_key(src))
        if found is None:
            r.problem(None, f"the column {src!r} named in the column mapping is not in the file; the columns "
                            f"found are {headers}")
            continue
        if tgt not in allowed:
            r.problem(None, f"the column mapping sends {src!r} to {tgt!r}, which is not a column of the "
                            f"{r.table} table; its columns are {sorted(allowed)}")
            continue
        if tgt in mapping.values():
            other = next(s for s, t in mapping.items() if t == tgt)
            r.problem(None, f"the columns {other!r} and {src!r} are both mapped to {tgt!r}")
            continue
        mapping[found] = tgt
    for col in sorted(keep | drop):
        if col not in headers and normalise_key(col) not in by_norm:
            r.problem(None, f"the column {col!r} listed in keep or drop is not in the file; the columns found are "
                            f"{headers}")
    keep_n = {normalise_key(c) for c in keep}
    drop_n = {normalise_key(c) for c in drop}
    extra: list[str] = []
    for h in headers:
        if h in mapping:
            continue
        key = normalise_key(h)
        if key in drop_n:
            r.report.add(r.source, "column_dropped", 1, "dropped as configured", f"column {h!r} (drop)")
            continue
        same_name = h in allowed and h not in mapping.values()
        if key in keep_n:
            if same_name:
                mapping[h] = h
            else:
                extra.append(h)
                r.report.add(r.source, "column_kept", 1, "kept as configured", f"column {h!r} (keep), as it is")
            continue
        allow = _ALLOW.get(h, ()) if same_name else ()
        why = personal_reason(h, r.raw.frame[h], allow)
        if why:
            what = (f"has the name of the data-model column {h!r} but was not mapped, and " if same_name else "")
            r.report.add(r.source, "column_dropped_personal", 1, "dropped",
                         f"column {h!r}: {what}{why}; it may hold personal data, so it is not read (list it in "
                         f"keep to keep it, or map the right column)")
            continue
        if same_name:
            mapping[h] = h
            r.report.add(r.source, "column_matched_by_name", 1, "used", f"column {h!r} is named as in the data model")
        else:
            extra.append(h)
    if extra:
        r.report.add(r.source, "columns_extra_kept", len(extra), "kept",
                     f"columns outside the data model, kept as they are: {extra}")
    r.extra = extra  # type: ignore[attr-defined]
    return mapping


def _convert(r: _Reading, src: str, tgt: str, values: pd.Series, dates: str, user: Mapping[str, object] | None,
             codings: list[str], areas: pd.DataFrame | None, id_rule: Mapping[str, str] | None,
             is_id: bool) -> pd.Series:
    kind = "id" if is_id else _kind(r.table, tgt)
    label = f"column {src!r}" + (f" (mapped to {tgt!r})" if src != tgt else "")
    present = values.notna()
    if kind == "id":
        out, bad = normalise_ids(values, id_rule)
        r.problem(tgt, f"{label} has {int(bad.sum()):,} references that do not match the pattern given for "
                       f"{tgt!r}, e.g. {_examples(values, bad)}", bad, "reference does not match pattern")
        return out
    if kind == "flag":
        out, bad = convert_flag(values, value_lookup(tgt, user, codings, flag=True))
        r.problem(tgt, f"{label} has {int(bad.sum()):,} values that are not yes/no answers, e.g. "
                       f"{_examples(values, bad, True)}; map them in [extracts.{r.table}.values.{tgt}]", bad,
                  "not a yes/no answer")
        return out
    if kind == "category" or (tgt == "crime_type") or (tgt == "outcome" and r.table == "crimes"):
        allowed = _categories(r.table, tgt)
        lookup = value_lookup(_CODING_ALIAS.get(tgt, tgt), user, codings, allowed=allowed)
        if tgt in ("victim_age_band", "age_band"):
            out, bad = convert_age_band(values, lookup)
        else:
            out, bad = convert_category(values, lookup)
        r.problem(tgt, f"{label} has {int(bad.sum()):,} values that are not among the allowed values {allowed} "
                       f"nor in a value mapping, e.g. {_examples(values, bad, True)}; map them in "
                       f"[extracts.{r.table}.values.{tgt}]", bad, "value not recognised")
        return out
    if kind in ("date", "month"):
        parsed, why = (parse_months if kind == "month" else parse_dates)(values, dates)
        for reason in why.dropna().unique():
            mask = why == reason
            r.problem(tgt, f"{label} has {int(mask.sum()):,} values that {_date_reason(reason)}, e.g. "
                           f"{_examples(values, mask)}", mask, str(reason))
        return parsed
    if kind == "number":
        text = values.astype("string").str.replace(r"[,£\s]", "", regex=True)
        num = pd.to_numeric(text, errors="coerce")
        bad = present & num.isna()
        r.problem(tgt, f"{label} has {int(bad.sum()):,} values that are not numbers, e.g. {_examples(values, bad)}",
                  bad, "not a number")
        whole = tgt in SCHEMAS[r.table].columns and str(SCHEMAS[r.table].columns[tgt].dtype.type) == "int64"
        if whole:
            frac = num.notna() & (num.round() != num)
            r.problem(tgt, f"{label} has {int(frac.sum()):,} values that are not whole numbers", frac,
                      "not a whole number")
        return num.astype("float64")
    if tgt == "district_code" and areas is not None:
        return _districts(r, label, values, areas)
    if tgt == "districts_served" and areas is not None:
        return _districts_served(r, label, values, areas)
    if tgt in ("area_code",):
        bad = present & ~values.astype("string").str.fullmatch(r"[A-Za-z0-9_\-]+").fillna(False).astype(bool)
        r.problem(tgt, f"{label} has {int(bad.sum()):,} values that are not area codes, e.g. "
                       f"{_examples(values, bad)}", bad, "not an area code")
        return values.astype(object).where(present, None)
    why = content_reason(values, _ALLOW.get(tgt, ()))
    if why and tgt not in ("outcome",):
        r.problem(tgt, f"{label} is mapped to the text column {tgt!r}, but its values look like {why}; personal "
                       "data cannot enter the pack, so map a column that holds only the "
                       f"{tgt.replace('_', ' ')}", None, "personal data")
    return values.astype(object).where(present, None)


def _date_reason(reason: str) -> str:
    return {"not a recognised date": "are not dates", "not a calendar date": "are not calendar dates"}.get(
        reason, "are dates " + reason if reason.startswith("written") else reason)


def _district_lookup(areas: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """The area's districts (code order) and a lookup from a normalised code or name to the code."""
    table = areas[["district_code", "district_name"]].drop_duplicates().sort_values("district_code")
    lookup = {normalise_key(c): c for c in table["district_code"]}
    lookup.update({normalise_key(nm): c for nm, c in zip(table["district_name"], table["district_code"],
                                                          strict=True)})
    return table, lookup


def _districts(r: _Reading, label: str, values: pd.Series, areas: pd.DataFrame) -> pd.Series:
    table, lookup = _district_lookup(areas)
    out, bad = convert_category(values, lookup)
    r.problem("district_code", f"{label} has {int(bad.sum()):,} values that are neither a district code nor a "
                               f"district name of the area ({sorted(table['district_name'])}), e.g. "
                               f"{_examples(values, bad, True)}", bad, "not a district of the area")
    return out


_ALL_DISTRICTS = {"all", "all districts", "area-wide", "areawide", "force-wide", "forcewide", "pcc-wide", "county-wide",
                  "whole area", "all areas"}


def _districts_served(r: _Reading, label: str, values: pd.Series, areas: pd.DataFrame) -> pd.Series:
    """District lists (codes or names, separated by ; , | or /, or "All") as ``;``-separated district codes."""
    table, lookup = _district_lookup(areas)
    every = ";".join(table["district_code"])
    present = values.notna()
    codes, uniques = pd.factorize(values[present].astype(str))
    converted, ok = [], []
    for u in uniques:
        key = normalise_key(u)
        if key in _ALL_DISTRICTS:
            converted.append(every)
            ok.append(True)
            continue
        parts = [normalise_key(p) for p in re.split(r"[;,|/]", str(u)) if p.strip()]
        found = [lookup.get(p) for p in parts]
        ok.append(bool(found) and all(f is not None for f in found))
        converted.append(";".join(dict.fromkeys(f for f in found if f)) if ok[-1] else None)
    out = pd.Series(None, index=values.index, dtype=object)
    bad = pd.Series(False, index=values.index)
    if len(codes):
        out.loc[present] = np.array(converted, dtype=object)[codes]
        bad.loc[present] = ~np.array(ok, dtype=bool)[codes]
    r.problem("districts_served", f"{label} has {int(bad.sum()):,} values that are not lists of the area's "
                                  f"districts (codes or names separated by ';', or 'All'), e.g. "
                                  f"{_examples(values, bad, True)}", bad, "not a list of districts")
    return out.where(out.notna(), None)


def _extra(r: _Reading, col: str, values: pd.Series, dates: str) -> pd.Series:
    """An extra column as text, or as dates when its name says date and every value reads as one."""
    if re.search(r"date", col, re.IGNORECASE) and values.notna().any():
        parsed, why = parse_dates(values, dates)
        if why.isna().all():
            r.report.add(r.source, "column_extra_dates", 1, "read as dates", f"extra column {col!r}")
            return parsed
        r.report.add(r.source, "column_extra_text", int(why.notna().sum()), "kept as text",
                     f"extra column {col!r} has values that are not dates by the declared convention, so it is "
                     "kept as text")
    return values.astype(object).where(values.notna(), None)


def _derive(r: _Reading, out: pd.DataFrame, raw_of: dict[str, pd.Series], areas: pd.DataFrame | None) -> None:
    """Columns that follow from others: crime group, sexual-offence flag, district from small area, weight."""
    name = r.source
    if r.table == "crimes":
        if "is_sexual_offence" not in out and "crime_type" in raw_of:
            words = raw_of["crime_type"].astype("string").str.contains(r"sexual|rape", case=False, regex=True)
            if words.fillna(False).any():
                out["is_sexual_offence"] = pd.array(words.fillna(False).to_numpy(dtype=bool), dtype="boolean")
                r.report.add(name, "derived_sexual_offence", int(words.fillna(False).sum()), "derived",
                             "is_sexual_offence set where the crime type names a sexual offence or rape")
        if "district_code" not in out and "area_code" in out and areas is not None:
            district = out["area_code"].map(areas.set_index("area_code")["district_code"])
            out["district_code"] = district.astype(object).where(district.notna(), None)
            outside = out["area_code"].notna() & district.isna()
            r.report.add(name, "district_from_area", int(district.notna().sum()), "derived",
                         "district_code from each crime's small area")
            if outside.any():
                r.report.add(name, "outside_area", int(outside.sum()), "kept, no district",
                             "crimes whose small area is not in the area")
        if "crime_group" not in out and "crime_type" in out and not out["crime_type"].isna().any():
            flags = {k: out[k] for k in ("is_domestic_abuse", "is_sexual_offence", "is_hate") if k in out}
            group = crime_group_for(out["crime_type"].astype("string"), **flags)
            out["crime_group"] = group.astype(object)
            r.report.add(name, "derived_crime_group", len(out), "derived",
                         "crime_group from the flags (domestic abuse, then sexual offence, then hate) and crime type")
    if r.table == "survey" and "weight" not in out:
        out["weight"] = 1.0
        r.report.add(name, "unweighted", len(out), "weight 1", "no weight column: every response counts once")
    if r.table == "crimes" and "district_code" in out and areas is not None and "area_code" in out:
        gap = out["district_code"].isna() & out["area_code"].notna()
        if gap.any():
            district = out.loc[gap, "area_code"].map(areas.set_index("area_code")["district_code"])
            out.loc[gap, "district_code"] = district.astype(object).where(district.notna(), None)


_FROM_CRIME = ("crime_group", "district_code", "victim_sex", "victim_age_band", "victim_ethnicity")


def _from_crimes(r: _Reading, out: pd.DataFrame, crimes: pd.DataFrame, salt: str) -> None:
    """Columns a provider's extract lacks, taken from the crime each row names (same salt, same pseudonym)."""
    lacking = [c for c in _FROM_CRIME if c not in out and c in crimes]
    if not lacking:
        return
    keys = pseudonymise(out["crime_id"], salt)
    table = crimes.drop_duplicates("crime_id").set_index("crime_id")
    found = keys.isin(table.index)
    for column in lacking:
        values = keys.map(table[column].astype(object))
        out[column] = values.astype(object).where(values.notna(), None)
        r.report.add(r.source, "from_crime", int(values.notna().sum()), "derived",
                     f"{column!r} is not in the extract: taken from the crime each row names "
                     f"({int((~found).sum()):,} rows name no crime in the crimes table and stay empty)")


def _fill_and_require(r: _Reading, out: pd.DataFrame) -> None:
    schema = SCHEMAS[r.table]
    missing = []
    for col, spec in schema.columns.items():
        if col not in out:
            if spec.nullable or not getattr(spec, "required", True):
                if getattr(spec, "required", True):
                    out[col] = None
                    r.report.add(r.source, "column_not_supplied", len(out), "left empty",
                                 f"{col!r} is not in the extract (analyses that need it say so)")
            else:
                missing.append(col)
            continue
        if spec.nullable:
            continue
        empty = out[col].isna()
        if not empty.any():
            continue
        if col in _UNKNOWN_WHEN_EMPTY:
            out[col] = out[col].astype(object).where(~empty, "Unknown")
            r.report.add(r.source, "empty_as_unknown", int(empty.sum()), "set to Unknown",
                         f"{col!r} empty: recorded as 'Unknown'")
        elif not any(p.column == col for p in r.problems):
            r.problem(col, f"column {col!r} must not be empty, but {int(empty.sum()):,} rows are empty", empty,
                      "empty")
    if missing:
        r.problem(None, f"the {r.table} table needs the column(s) {missing}, which are neither in the file nor "
                        f"mapped from one of its columns {list(r.raw.frame.columns)}; add them to "
                        f"[extracts.{r.table}.columns] as \"Your column\" = \"{missing[0]}\"")


def _deduplicate(r: _Reading, out: pd.DataFrame) -> pd.DataFrame:
    """Set aside exact duplicate rows (counted); a unique column repeated with other content is a problem."""
    key_cols = [c for c, spec in SCHEMAS[r.table].columns.items() if spec.unique and c in out]
    hashed = pd.util.hash_pandas_object(out.astype("string"), index=False)
    dup = hashed.duplicated(keep="first")
    if dup.any():
        r.report.add(r.source, "exact_duplicates", int(dup.sum()), "excluded",
                     f"rows identical in every column to an earlier row, e.g. {_rows(r.raw, dup)}")
        out = out.loc[~dup]
        r.raw = RawTable(r.raw.path, r.raw.frame.loc[~dup], r.raw.rows[~dup.to_numpy()], r.raw.blank_rows,
                         r.raw.sheet)
    for col in key_cols:
        repeated = out[col].notna() & out[col].duplicated(keep=False)
        if repeated.any():
            mask = pd.Series(repeated.to_numpy(), index=r.raw.frame.index)
            r.problem(col, f"column {col!r} must be unique, but {int(repeated.sum()):,} rows share "
                           f"{int(out.loc[repeated, col].nunique()):,} values with different content in other "
                           "columns", mask, "repeated reference")
    return out


def _typed(table: str, out: pd.DataFrame) -> pd.DataFrame:
    """Columns in the data model's dtypes (categories, flags, dates, months, numbers, text)."""
    schema = SCHEMAS[table]
    for col in out.columns:
        if col not in schema.columns:
            if OPTIONAL_COLUMNS[table].get(col) == "flag" or col == "is_sexual_offence":
                out[col] = pd.array(out[col].tolist(), dtype="boolean")
            continue
        dtype = schema.columns[col].dtype.type
        text = str(dtype).lower()
        if isinstance(dtype, pd.CategoricalDtype):
            out[col] = pd.Categorical(out[col].astype(object).where(out[col].notna(), None),
                                      categories=dtype.categories)
        elif text == "boolean":
            out[col] = pd.array(out[col].astype(object).where(out[col].notna(), None).tolist(), dtype="boolean")
        elif text == "float64":
            out[col] = out[col].astype("float64")
        elif text == "int64":
            out[col] = out[col].astype("int64")
        elif "datetime" in text:
            out[col] = pd.to_datetime(out[col])
        elif isinstance(dtype, pd.PeriodDtype) or text.startswith("period"):
            out[col] = out[col].astype("period[M]")
        else:
            values = out[col]
            out[col] = values.astype("str").where(values.notna(), None) if values.notna().all() else values.astype(
                object).where(values.notna(), None)
    return out
