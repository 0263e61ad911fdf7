"""Read a user's own extract (force crimes, victim-service referrals, survey) into a canonical table.

Extracts hold personal data. The reader keeps only the mapped columns (the others are listed in the
report, never copied), and replaces identifier columns by a keyed hash (HMAC-SHA-256 with a secret
salt) so the same person or crime links across extracts without the original id being kept. The salt
comes from the ``salt`` argument or the ``VICTIMNEEDS_SALT`` environment variable; it is never written
anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from victimneeds.datamodel import SCHEMAS, validate
from victimneeds.io._report import DataFileError, ReadResult, Report, describe_lines, describe_values, read_text_table

__all__ = ["read_extract", "pseudonymise", "ID_COLUMNS"]

#: The identifier columns pseudonymised by default, by table.
ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "referrals": ("referral_id", "crime_id"),
    "crimes": ("crime_id",),
    "survey": ("response_id",),
    "services": (),
    "areas": (),
    "population": (),
}

_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


def pseudonymise(values: pd.Series, salt: str, length: int = 20) -> pd.Series:
    """Replace identifiers by the first ``length`` hex digits of HMAC-SHA-256(salt, value).

    Missing values stay missing. The same value and salt always give the same pseudonym.

    References
    ----------
    Krawczyk, H., Bellare, M. and Canetti, R. (1997). HMAC: keyed-hashing for message authentication.
    RFC 2104.

    Examples
    --------
    >>> p = pseudonymise(pd.Series(["A1", "A1", None]), salt="k")
    >>> len(p[0]), bool(p[0] == p[1]), p.isna().tolist()
    (20, True, [False, False, True])
    """
    key = salt.encode("utf-8")
    cache: dict[str, str] = {}

    def one(value: object) -> object:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            return None
        text = str(value).strip()
        if text not in cache:
            cache[text] = hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:length]
        return cache[text]

    return pd.Series([one(v) for v in values], index=values.index, dtype="str", name=values.name)


def _read_any(path: Path, sheet: str | int) -> pd.DataFrame:
    if not path.is_file():
        raise DataFileError(f"{path} does not exist.")
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        try:
            frame = pd.read_excel(path, sheet_name=sheet, dtype=object)
        except Exception as err:  # openpyxl/xlrd raise many types for bad workbooks
            raise DataFileError(f"{path} cannot be read as a workbook (sheet {sheet!r}): {err}") from None
        frame.columns = [str(c).strip() for c in frame.columns]
        return frame.replace({"": None})
    frame = read_text_table(path, "an extract", [])
    return frame.replace({"": None})


def _kind(dtype: object) -> str:
    if isinstance(dtype, pd.CategoricalDtype):
        return "one of the allowed values"
    return {"boolean": "yes/no values", "float64": "numbers", "int64": "whole numbers"}.get(
        str(dtype), "dates" if "datetime" in str(dtype).lower() else str(dtype)
    )


def _coerce(values: pd.Series, dtype: object, column: str, source: str, dayfirst: bool) -> pd.Series:
    """Convert one column to the schema type; raise naming rows that do not convert."""
    present = values.notna() & (values.astype(str).str.strip() != "")
    text = values.where(present).astype("str").str.strip()
    if isinstance(dtype, pd.CategoricalDtype):
        bad = present & ~text.isin(list(dtype.categories))
        out = pd.Categorical(text.where(present & ~bad), categories=dtype.categories)
    elif str(dtype) == "boolean":
        low = text.str.lower()
        out = pd.array(np.where(low.isin(_TRUE), True, False), dtype="boolean")
        bad = present & ~low.isin(_TRUE | _FALSE)
        out[~present.to_numpy()] = pd.NA
    elif "datetime" in str(dtype).lower():
        out = pd.to_datetime(text, errors="coerce", dayfirst=dayfirst, format="mixed")
        bad = present & out.isna()
    elif str(dtype) in ("float64", "int64"):
        out = pd.to_numeric(text.str.replace(",", "", regex=False).str.replace("£", "", regex=False), errors="coerce")
        bad = present & out.isna()
        if str(dtype) == "int64" and not bad.any() and present.all():
            out = out.astype("int64")
        elif str(dtype) == "float64":
            out = out.astype("float64")
    else:
        out, bad = text, pd.Series(False, index=values.index)
    bad = pd.Series(np.asarray(bad, dtype=bool), index=values.index)
    if bad.any():
        lines = np.flatnonzero(bad.to_numpy()) + 2
        allowed = f"; allowed: {list(dtype.categories)}" if isinstance(dtype, pd.CategoricalDtype) else ""
        raise DataFileError(
            f"{source}: column {column!r} has {int(bad.sum()):,} values that are not {_kind(dtype)}"
            f"{allowed}, e.g. {describe_values(values[bad].head(3))} on {describe_lines(lines)}."
        )
    return pd.Series(out, index=values.index, name=column)


def read_extract(
    path: str | os.PathLike,
    table: str = "referrals",
    columns: Mapping[str, str] | None = None,
    salt: str | None = None,
    identifiers: Iterable[str] | None = None,
    sheet: str | int = 0,
    dayfirst: bool = True,
) -> ReadResult:
    """Read a CSV or Excel extract into a canonical table, typed, validated and pseudonymised.

    Parameters
    ----------
    path : the extract (``.csv``, ``.csv.gz``, ``.xlsx``, ``.xls``).
    table : the canonical table it holds: ``referrals``, ``crimes``, ``services`` or ``survey``.
    columns : extract column -> canonical column (e.g. ``{"Case Ref": "referral_id"}``). Columns
        already named as in the data model need no entry. Unmapped columns are not kept (they are
        listed in the report).
    salt : the secret for pseudonymising; None reads ``VICTIMNEEDS_SALT``. Required when the table
        has identifier columns.
    identifiers : the canonical columns to pseudonymise; default :data:`ID_COLUMNS` for the table.
    sheet : the Excel sheet.
    dayfirst : dates are read day first (UK style, 03/04/2023 = 3 April), as ``pandas.to_datetime``.

    Returns
    -------
    ReadResult
        ``table``: the canonical table (validated with :func:`victimneeds.datamodel.validate`; a
        nullable column missing from the extract is added as missing and reported); ``report``.

    Raises
    ------
    DataFileError
        A required column is missing, or a value does not convert (naming column, lines, examples).
    ValueError
        No salt, or the table fails the data-model checks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "services.csv"
    >>> _ = f.write_text("Name,Lot,Provider,Areas,Funding\\nVAL,Victim advice line,Acme,All,\\"120,000\\"\\n")
    >>> t, r = read_extract(f, "services", columns={"Name": "service_name", "Lot": "lot", "Provider": "provider",
    ...                     "Areas": "districts_served", "Funding": "annual_funding"})
    >>> t[["service_name", "annual_funding"]].values.tolist()
    [['VAL', 120000.0]]
    """
    if table not in SCHEMAS or table in ("areas", "population"):
        raise ValueError(f"table must be one of referrals, crimes, services or survey; got {table!r}")
    path = Path(path)
    schema = SCHEMAS[table]
    columns = dict(columns or {})
    ids = tuple(identifiers) if identifiers is not None else ID_COLUMNS[table]
    salt = salt if salt is not None else os.environ.get("VICTIMNEEDS_SALT")
    if ids and not salt:
        raise ValueError(
            f"reading a {table} extract pseudonymises {list(ids)}, which needs a secret salt: pass salt= or set "
            "the environment variable VICTIMNEEDS_SALT (keep it secret and the same across extracts)."
        )
    raw = _read_any(path, sheet)
    report = Report()
    report.add(path.name, "rows_read", len(raw), "read", f"rows of the {table} extract")
    not_found = [c for c in columns if c not in raw.columns]
    if not_found:
        raise DataFileError(
            f"{path}: the mapped column(s) {not_found} are not in the file. Columns found: {list(raw.columns)}."
        )
    rename = {src: dst for src, dst in columns.items()}
    for col in raw.columns:
        if col in schema.columns and col not in rename and col not in rename.values():
            rename[col] = col
    unknown_targets = sorted(set(rename.values()) - set(schema.columns))
    if unknown_targets:
        raise ValueError(
            f"columns= maps to {unknown_targets}, which are not columns of the {table} table; "
            f"its columns are {list(schema.columns)}"
        )
    unused = [c for c in raw.columns if c not in rename]
    if unused:
        report.add(
            path.name,
            "columns_not_kept",
            len(unused),
            "not kept",
            f"columns not mapped to the data model and so not read: {describe_values(unused, 8)}",
        )
    frame = raw[list(rename)].rename(columns=rename)
    out = pd.DataFrame(index=frame.index)
    missing_required = []
    for name, col in schema.columns.items():
        if name in frame.columns:
            out[name] = _coerce(frame[name], col.dtype.type, name, str(path), dayfirst)
        elif col.nullable:
            out[name] = _coerce(
                pd.Series([None] * len(frame), index=frame.index, dtype=object),
                col.dtype.type,
                name,
                str(path),
                dayfirst,
            )
            report.add(
                path.name, "column_not_supplied", len(frame), "filled with missing", f"{name!r} is not in the extract"
            )
        else:
            missing_required.append(name)
    if missing_required:
        raise DataFileError(
            f"{path}: the {table} table needs the column(s) {missing_required}, which are not in the file "
            f"nor mapped by columns=. Columns found: {list(raw.columns)}."
        )
    for name in ids:
        if name in out.columns:
            out[name] = pseudonymise(out[name], salt)  # type: ignore[arg-type]
            report.add(
                path.name,
                "pseudonymised",
                int(out[name].notna().sum()),
                "replaced by keyed hash",
                f"{name!r}: HMAC-SHA-256 with the secret salt, first 20 hex digits",
            )
    validated = validate(out, table, source=str(path))
    report.add(path.name, "rows_kept", len(validated), "kept", "rows in the table")
    return ReadResult(validated.reset_index(drop=True), report.frame())
