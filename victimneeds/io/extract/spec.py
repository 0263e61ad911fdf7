"""The ``[extracts]`` section of an area configuration: which files hold an area's own tables, and how to read them.

An example (every key but ``file`` is optional)::

    [extracts]
    folder = "${AREA_EXTRACTS:-extracts}"   # where the files are, relative to this configuration
    salt_env = "VICTIMNEEDS_SALT"           # the environment variable holding the secret salt

    [extracts.crimes]
    file = "force_crimes_2021-24.csv"
    dates = "day-first"                     # how 02/01/2021 is read: "iso" (default), "day-first", "month-first"
    header_row = 1                          # the row holding the headers, from 1 (Excel: rows above are skipped)
    sheet = "Data"                          # Excel only; default the first sheet
    encoding = "utf-8"                      # CSV only
    keep = ["Beat"]                         # extra columns to keep even though they look personal
    drop = ["Officer notes"]                # columns never to read
    codings = ["iso-5218"]                  # optional shipped codings to use as well
    invalid_rows = "error"                  # or "exclude": set rows with a bad value aside, counted
    [extracts.crimes.columns]               # your column = the data model's column
    "Crime Reference" = "crime_id"
    "Date Recorded" = "month"
    [extracts.crimes.values.victim_sex]     # your value = the allowed value
    "F" = "Female"
    [extracts.referrals.ids.crime_id]       # rebuild references written differently from the force's
    pattern = '(?P<num>\\d+)/(?P<yy>\\d\\d)'
    format = "LE/{num}/{yy}"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from victimneeds.io.extract.dates import CONVENTIONS
from victimneeds.io.extract.reader import EXTRACT_TABLES

__all__ = ["ExtractSpec", "EXTRACT_KEYS", "parse_extracts"]

#: Keys of one ``[extracts.<table>]`` section and their types.
EXTRACT_KEYS: dict[str, type | tuple[type, ...]] = {
    "file": str,
    "sheet": (str, int),
    "header_row": int,
    "encoding": str,
    "dates": str,
    "columns": dict,
    "values": dict,
    "codings": list,
    "keep": list,
    "drop": list,
    "ids": dict,
    "invalid_rows": str,
}
_TOP_KEYS = {"folder": str, "salt_env": str, "invalid_rows": str}
TABLES = (*EXTRACT_TABLES, "population")


@dataclass
class ExtractSpec:
    """How to read one extract: the file and the options of :func:`victimneeds.io.read_extract`."""

    table: str
    file: Path
    sheet: str | int | None = None
    header_row: int = 1
    encoding: str = "utf-8"
    dates: str = "iso"
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    codings: list[str] = field(default_factory=list)
    keep: list[str] = field(default_factory=list)
    drop: list[str] = field(default_factory=list)
    ids: dict[str, dict[str, str]] = field(default_factory=dict)
    invalid_rows: str = "error"
    salt_env: str = "VICTIMNEEDS_SALT"

    def options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`victimneeds.io.read_extract` (without the salt)."""
        return {
            "table": self.table, "columns": self.columns, "sheet": self.sheet, "dates": self.dates,
            "header_row": self.header_row, "values": self.values, "codings": self.codings, "keep": self.keep,
            "drop": self.drop, "encoding": self.encoding, "ids": self.ids, "invalid_rows": self.invalid_rows,
            "salt_env": self.salt_env,
        }


def parse_extracts(section: Any, resolve, fail) -> dict[str, ExtractSpec]:
    """Check the ``[extracts]`` section; ``resolve(text, key) -> Path`` finds a file, ``fail(msg)`` raises."""
    if not isinstance(section, dict):
        fail("[extracts] must be a table of sections like [extracts.crimes].")
    top = {k: v for k, v in section.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in section.items() if isinstance(v, dict)}
    for key, value in top.items():
        if key not in _TOP_KEYS:
            fail(f"unknown key {key!r} in [extracts]; allowed keys: {sorted(_TOP_KEYS)}, and sections "
                 f"[extracts.<table>] for the tables {list(TABLES)}.")
        if not isinstance(value, _TOP_KEYS[key]):
            fail(f"[extracts] {key} must be text, got {value!r}.")
    unknown = sorted(set(tables) - set(TABLES))
    if unknown:
        fail(f"unknown section(s) {[f'extracts.{u}' for u in unknown]}; the tables an extract can hold are "
             f"{list(TABLES)}.")
    specs: dict[str, ExtractSpec] = {}
    for table, options in tables.items():
        where = f"[extracts.{table}]"
        bad = sorted(set(options) - set(EXTRACT_KEYS))
        if bad:
            fail(f"unknown key(s) {bad} in {where}; allowed keys: {sorted(EXTRACT_KEYS)}.")
        if "file" not in options:
            fail(f"{where} needs file = \"...\": the extract's file (CSV or Excel).")
        for key, value in options.items():
            want = EXTRACT_KEYS[key]
            if not isinstance(value, want) or (want is int and isinstance(value, bool)):
                fail(f"{where} {key} must be {_type_words(want)}, got {value!r}.")
        for key in ("keep", "drop", "codings"):
            if any(not isinstance(v, str) for v in options.get(key, [])):
                fail(f"{where} {key} must be a list of column names or coding names (text).")
        columns = options.get("columns", {})
        for src, tgt in columns.items():
            if not isinstance(tgt, str):
                fail(f"{where} columns: \"{src}\" must map to a column name of the data model (text), got {tgt!r}.")
        for col, mapping in options.get("values", {}).items():
            if not isinstance(mapping, dict):
                fail(f"{where} values.{col} must be a table like [extracts.{table}.values.{col}] with "
                     f"\"your value\" = \"allowed value\" lines.")
        for col, rule in options.get("ids", {}).items():
            if not isinstance(rule, dict) or "pattern" not in rule:
                fail(f"{where} ids.{col} must have a pattern (a regular expression with named groups) and may have "
                     f"a format.")
            import re

            try:
                re.compile(rule["pattern"])
            except re.error as err:
                fail(f"{where} ids.{col} pattern is not a valid regular expression: {err}.")
        dates = options.get("dates", "iso")
        if dates not in CONVENTIONS:
            fail(f"{where} dates must be one of {sorted(CONVENTIONS)}, got {dates!r} "
                 f"(\"day-first\": 02/01/2021 is 2 January; \"month-first\": 1 February).")
        invalid = options.get("invalid_rows", top.get("invalid_rows", "error"))
        if invalid not in ("error", "exclude"):
            fail(f"{where} invalid_rows must be \"error\" or \"exclude\", got {invalid!r}.")
        if isinstance(options.get("sheet"), int) and options["sheet"] < 1:
            fail(f"{where} sheet is the sheet's name, or its position counting from 1.")
        if options.get("header_row", 1) < 1:
            fail(f"{where} header_row counts from 1 (the first row of the file).")
        specs[table] = ExtractSpec(
            table=table,
            file=resolve(options["file"], f"extracts.{table}.file"),
            sheet=options["sheet"] - 1 if isinstance(options.get("sheet"), int) else options.get("sheet"),
            header_row=options.get("header_row", 1),
            encoding=options.get("encoding", "utf-8"),
            dates=dates,
            columns=dict(columns),
            values={k: dict(v) for k, v in options.get("values", {}).items()},
            codings=list(options.get("codings", [])),
            keep=list(options.get("keep", [])),
            drop=list(options.get("drop", [])),
            ids={k: dict(v) for k, v in options.get("ids", {}).items()},
            invalid_rows=invalid,
            salt_env=top.get("salt_env", "VICTIMNEEDS_SALT"),
        )
    return specs


def _type_words(want: type | tuple[type, ...]) -> str:
    names = {str: "text", int: "a whole number", list: "a list", dict: "a table"}
    if isinstance(want, tuple):
        return " or ".join(names[w] for w in want)
    return names[want]
