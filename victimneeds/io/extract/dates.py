"""Dates and months in an extract, read exactly as the file says, never guessed.

* ISO dates (``2021-01-02``, ``2021/01/02``, ``20210102``, with or without a time) are always ISO.
* Dates written with the day and month as numbers (``02/01/2021``) are read by the convention the area
  configuration declares for the extract (``dates = "day-first"`` or ``"month-first"``). Without a declared
  convention they are an error, and so is a value that contradicts the declared one (a 13th month).
* Dates with the month in words (``2 Jan 2021``, ``January 2, 2021``) need no convention.
* Excel date cells arrive as dates; Excel serial numbers (``44198`` = 2021-01-02) are read as Excel stores
  them (days since 1899-12-30), for five-digit numbers only (1927 to 2173), so a year is never taken for one.
* Two-digit years are refused: the century would have to be guessed.
* Months (``YYYY-MM``, ``2023/01``, ``Jan 2023``, ``January 2023``, or any date above) become monthly periods.

Parsing works on the distinct values of a column, so a column of 300,000 dates with a few thousand distinct
values costs a few thousand parses.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["CONVENTIONS", "parse_dates", "parse_months", "check_convention"]

#: Accepted values of ``dates`` in an extract's configuration, and what each means.
CONVENTIONS: dict[str, str] = {
    "iso": "ISO dates only (YYYY-MM-DD); dates like 02/01/2021 are an error until a convention is declared",
    "day-first": "dates like 02/01/2021 are 2 January 2021 (UK style)",
    "month-first": "dates like 02/01/2021 are 1 February 2021 (US style)",
}

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
            ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
            ("oct", "october"), ("nov", "november"), ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_TIME = r"(?:[T ]+(?P<hh>\d{1,2}):(?P<mi>\d{2})(?::(?P<ss>\d{2})(?:\.\d+)?)?(?: ?(?:Z|[+\-]\d{2}:?\d{2}))?)?"
_ISO = rf"^(?P<y>\d{{4}})[\-/.](?P<m>\d{{1,2}})[\-/.](?P<d>\d{{1,2}}){_TIME}$"
_ISO_BASIC = r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"
_NUMERIC = rf"^(?P<a>\d{{1,2}})[\-/.](?P<b>\d{{1,2}})[\-/.](?P<y>\d{{4}}){_TIME}$"
_TWO_DIGIT_YEAR = r"^\d{1,2}[\-/.]\d{1,2}[\-/.]\d{2}(?:[T ].*)?$"
_DAY_WORD = rf"^(?P<d>\d{{1,2}})(?:st|nd|rd|th)?[ \-/]+(?P<mon>[A-Za-z]{{3,9}})\.?[ \-/,]+(?P<y>\d{{4}}){_TIME}$"
_WORD_DAY = rf"^(?P<mon>[A-Za-z]{{3,9}})\.? +(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,? +(?P<y>\d{{4}}){_TIME}$"
_SPLIT_TIME = (r"^(?P<date>.*?\d)(?:[T ]+(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?: ?(?:Z|[+\-]\d{2}:?\d{2}))?))$")
_SERIAL = r"^(?P<serial>\d{5}(?:\.\d+)?)$"
_MONTH_ISO = r"^(?P<y>\d{4})[\-/](?P<m>\d{1,2})$"
_MONTH_WORD = r"^(?P<mon>[A-Za-z]{3,9})\.?[ \-,]+(?P<y>\d{4})$"
_MONTH_WORD_SHORT_YEAR = r"^[A-Za-z]{3,9}[ \-]\d{2}$"

NO_CONVENTION = (
    "written with the day and month as numbers, and no date convention is declared for this extract "
    "(add dates = \"day-first\" or dates = \"month-first\" to its section of the area configuration)"
)


def check_convention(convention: str, where: str) -> str:
    """Return the convention, or raise naming the allowed values."""
    if convention not in CONVENTIONS:
        raise ValueError(f"{where}: dates must be one of {sorted(CONVENTIONS)}, got {convention!r}.")
    return convention


def _extract(values: pd.Series, pattern: str) -> pd.DataFrame:
    """``values.str.extract(pattern)`` done by Arrow's RE2 (the patterns use named groups, no look-arounds)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values.astype(object).to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    found = pc.extract_regex(arr, pattern)
    columns = {}
    for i, name in enumerate(found.type.names):
        column = pd.Series(pc.struct_field(found, [i]).to_numpy(zero_copy_only=False), index=values.index, dtype=object)
        columns[name] = column.where(column.notna() & (column != ""), None)  # a group that took no part: missing
    return pd.DataFrame(columns, index=values.index)


def _month_number(words: pd.Series) -> pd.Series:
    return words.str.lower().map(_MONTHS)


def _parts(values: pd.Series, convention: str, months_only: bool) -> tuple[pd.DataFrame, pd.Series]:
    """Year, month, day, hour, minute, second of distinct text values, and why a value failed."""
    n = len(values)
    parts = pd.DataFrame(np.nan, index=values.index, columns=["y", "m", "d", "hh", "mi", "ss"])
    reason = pd.Series("not a recognised date", index=values.index, dtype=object)
    todo = pd.Series(True, index=values.index)
    if n == 0:
        return parts, reason

    def take(pattern: str, how: str) -> None:
        if not todo.any():
            return
        found = _extract(values[todo], pattern)
        hit = found.notna().any(axis=1) & found.iloc[:, 0].notna()
        if not hit.any():
            return
        f = found[hit]
        idx = f.index
        if how == "iso":
            parts.loc[idx, "y"], parts.loc[idx, "m"], parts.loc[idx, "d"] = (
                f["y"].astype(float), f["m"].astype(float), f["d"].astype(float))
        elif how == "numeric":
            a, b = f["a"].astype(float), f["b"].astype(float)
            parts.loc[idx, "y"] = f["y"].astype(float)
            if convention == "day-first":
                parts.loc[idx, "d"], parts.loc[idx, "m"] = a, b
                over = idx[(b > 12).to_numpy()]
                reason.loc[over] = "has a month above 12, which contradicts the declared day-first convention"
            elif convention == "month-first":
                parts.loc[idx, "m"], parts.loc[idx, "d"] = a, b
                over = idx[(a > 12).to_numpy()]
                reason.loc[over] = "has a month above 12, which contradicts the declared month-first convention"
            else:
                parts.loc[idx, ["y", "m", "d"]] = np.nan
                reason.loc[idx] = NO_CONVENTION
        elif how == "word":
            parts.loc[idx, "y"] = f["y"].astype(float)
            parts.loc[idx, "m"] = _month_number(f["mon"]).astype(float)
            parts.loc[idx, "d"] = f["d"].astype(float) if "d" in f else 1.0
        elif how == "month_iso":
            parts.loc[idx, "y"], parts.loc[idx, "m"], parts.loc[idx, "d"] = f["y"].astype(float), f["m"].astype(
                float), 1.0
        elif how == "serial":
            days = np.floor(f["serial"].astype(float))
            stamp = pd.Timestamp("1899-12-30") + pd.to_timedelta(days, unit="D")
            parts.loc[idx, "y"], parts.loc[idx, "m"], parts.loc[idx, "d"] = (
                stamp.dt.year.astype(float), stamp.dt.month.astype(float), stamp.dt.day.astype(float))
        elif how == "refuse":
            reason.loc[idx] = f["why"] if "why" in f else reason.loc[idx]
        for unit in ("hh", "mi", "ss"):
            if unit in f:
                parts.loc[idx, unit] = f[unit].astype(float)
        if how in ("iso", "word", "month_iso", "serial"):
            reason.loc[idx] = "not a calendar date"
        todo.loc[idx] = False

    take(_ISO, "iso")
    take(_ISO_BASIC, "iso")
    take(_NUMERIC, "numeric")
    take(_DAY_WORD, "word")
    take(_WORD_DAY, "word")
    take(_SERIAL, "serial")
    if months_only:
        take(_MONTH_ISO, "month_iso")
        take(_MONTH_WORD, "word")
    left = values[todo]
    two = left.str.match(_TWO_DIGIT_YEAR)
    reason.loc[two[two].index] = "has a two-digit year (the century would have to be guessed); write the full year"
    if months_only:
        short = left.str.match(_MONTH_WORD_SHORT_YEAR)
        reason.loc[short[short].index] = "has a two-digit year (like Jan-23); write the full year (Jan 2023)"
    return parts, reason


def _assemble(parts: pd.DataFrame) -> pd.Series:
    ok = parts[["y", "m", "d"]].notna().all(axis=1) & parts["m"].between(1, 12) & parts["d"].between(1, 31)
    out = pd.Series(pd.NaT, index=parts.index, dtype="datetime64[ns]")
    if ok.any():
        p = parts[ok].fillna({"hh": 0, "mi": 0, "ss": 0}).astype("int64")
        stamps = pd.to_datetime(
            {"year": p["y"], "month": p["m"], "day": p["d"], "hour": p["hh"], "minute": p["mi"], "second": p["ss"]},
            errors="coerce",
        )
        out.loc[ok] = stamps.astype("datetime64[ns]")
    return out


def _parse(values: pd.Series, convention: str, months_only: bool) -> tuple[pd.Series, pd.Series]:
    check_convention(convention, "parse_dates")
    present = values.notna()
    text = values[present].astype(str).str.strip()
    codes, uniques = pd.factorize(text)
    distinct = pd.Series(np.asarray(uniques, dtype=object), dtype=pd.StringDtype("pyarrow"))
    # Times of day make most values distinct: parse each distinct date once, then add the times back.
    split = _extract(distinct, _SPLIT_TIME)
    has_time = split["time"].notna() & split["date"].notna()
    day_text = split["date"].where(has_time, distinct)
    day_codes, day_uniques = pd.factorize(day_text)
    day_distinct = pd.Series(np.asarray(day_uniques, dtype=object), dtype=pd.StringDtype("pyarrow"))
    day_parts, day_reason = _parts(day_distinct, convention, months_only)
    parts = day_parts.iloc[day_codes].reset_index(drop=True)
    reason = day_reason.iloc[day_codes].reset_index(drop=True)
    if has_time.any():
        clock = _extract(split.loc[has_time, "time"], r"^(?P<hh>\d{1,2}):(?P<mi>\d{2})(?::(?P<ss>\d{2}))?")
        for unit in ("hh", "mi", "ss"):
            parts.loc[has_time.to_numpy(), unit] = clock[unit].astype(float).to_numpy()
    stamps = _assemble(parts)
    bad_u = stamps.isna().to_numpy()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    why = pd.Series(None, index=values.index, dtype=object)
    if len(codes):
        out.loc[present] = stamps.to_numpy()[codes]
        bad_rows = bad_u[codes]
        why.loc[present] = np.where(bad_rows, reason.to_numpy(dtype=object)[codes], None)
    return out, why


def parse_dates(values: pd.Series, convention: str = "iso") -> tuple[pd.Series, pd.Series]:
    """Parse a column of dates (text, or ISO text from Excel date cells) by the declared convention.

    Returns ``(dates, why)``: ``dates`` is datetime64 (NaT where empty or not a date); ``why`` holds, for each
    value that is present but not a date, the reason in words (None elsewhere).

    Examples
    --------
    >>> d, why = parse_dates(pd.Series(["2021-01-02", "02/01/2021", "3 Feb 2021", "44198", None]), "day-first")
    >>> [str(x.date()) if pd.notna(x) else None for x in d]
    ['2021-01-02', '2021-01-02', '2021-02-03', '2021-01-02', None]
    >>> d, why = parse_dates(pd.Series(["2021-01-02", "13/13/2021"]), "day-first")
    >>> why.tolist()[1]
    'has a month above 12, which contradicts the declared day-first convention'
    >>> parse_dates(pd.Series(["02/01/2021"]), "iso")[1].iloc[0].startswith("written with the day and month")
    True
    """
    return _parse(values, convention, months_only=False)


def parse_months(values: pd.Series, convention: str = "iso") -> tuple[pd.Series, pd.Series]:
    """Parse a column of months (``YYYY-MM``, ``Jan 2023``, or any date) into monthly periods.

    Returns ``(months, why)`` as :func:`parse_dates`, with ``months`` of dtype ``period[M]``.

    Examples
    --------
    >>> m, why = parse_months(pd.Series(["2023-01", "Jan 2023", "2023-01-31", "31/01/2023", "Jan-23"]), "day-first")
    >>> [str(x) if pd.notna(x) else None for x in m], why.iloc[4][:22]
    (['2023-01', '2023-01', '2023-01', '2023-01', None], 'has a two-digit year (')
    """
    stamps, why = _parse(values, convention, months_only=True)
    return stamps.dt.to_period("M"), why


def describe_reasons(why: pd.Series) -> Mapping[str, pd.Series]:
    """Group failing values by reason: reason -> boolean mask."""
    present = why.notna()
    return {str(r): (why == r) & present for r in why[present].unique()}
