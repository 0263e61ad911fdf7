"""Human labels and number formats for every output: one registry used by tables, figures, Word, Excel and HTML.

A policy officer should never read ``district_code``, ``lowercl`` or ``104.2095257493974``. The registry in
``victimneeds/reference/labels.csv`` gives each column the tool writes a label ("Lower 95% limit") and a kind
(count, rate, percent, ratio, p-value, money, FTE...), and each kind has one display format and one Excel number
format, following the Government Analysis Function's guidance on presenting numbers: thousands separators, rates
and percentages to one decimal place, ratios to two, p-values below 0.001 shown as "<0.001".

Generic columns (``value``, ``lowercl``, ``uppercl``...) take their kind from the table's units ("per 1,000
residents" is a rate, "%" a percentage, "rate ratio" a ratio, "£" money).

Examples
--------
>>> column_label("district_code"), column_label("change_p_value"), column_label("pct_female")
('District code', 'p-value for the change', 'Female (%)')
>>> format_value(12345.6, "count"), format_value(45.26, "percent"), format_value(0.0004, "p_value")
('12,346', '45.3', '<0.001')
>>> humanise_text("Group declines referral (district_code: E07000129): is_repeat_victim: True",
...               {"E07000129": "Blaby"})
'Group declines referral (district: Blaby): repeat victim: yes'
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

import pandas as pd

#: The kinds of value a column can hold, each with one display format and one Excel number format.
KINDS = ("count", "rate", "percent", "proportion_percent", "points", "ratio", "p_value", "money", "money_pence",
         "fte", "index", "number", "days", "months", "text", "generic")

_EXCEL_FORMATS = {
    "count": "#,##0",
    "rate": "#,##0.0",
    "percent": "0.0",
    "proportion_percent": "0.0%",
    "points": "+0.0;-0.0;0.0",
    "ratio": "0.00",
    "p_value": '[<0.001]"<0.001";0.000',
    "money": '"£"#,##0',
    "money_pence": '"£"#,##0.00',
    "fte": "#,##0.0",
    "index": "0.0",
    "number": "#,##0.00",
    "days": "#,##0.0",
    "months": "#,##0.0",
    "text": "@",
    "generic": "#,##0.0",
}

_SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
# in running text: not part of a file name or path ("csew_prevalence.csv", "reference/labels_x")
_SNAKE_IN_TEXT = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/-])(?!\.\w)")
_INTERVAL_PAIRS = (("lowercl", "uppercl"), ("lower", "upper"), ("lower_95", "upper_95"), ("lower_80", "upper_80"),
                   ("lower_99_8", "upper_99_8"))


@lru_cache(maxsize=1)
def _registry() -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    path = resources.files("victimneeds.reference").joinpath("labels.csv")
    with path.open("r", encoding="utf-8") as handle:
        table = pd.read_csv(handle, dtype=str, keep_default_na=False)
    columns = {r.name: (r.label, r.kind or "text") for r in table.itertuples() if r.type == "column"}
    levels = {r.name: r.label for r in table.itertuples() if r.type == "level"}
    unknown = sorted({kind for _, kind in columns.values()} - set(KINDS))
    if unknown:
        raise ValueError(f"labels.csv: unknown kind(s) {unknown}; use one of {KINDS}")
    return columns, levels


def _sentence(name: str) -> str:
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else words


def column_label(name: object) -> str:
    """The label a reader sees for column ``name``.

    Registered names take their label; ``pct_x`` becomes "X (%)", ``x_lower``/``x_upper`` "X: lower/upper
    limit", other snake_case names become words in sentence case; anything else (years, district names) is
    returned as it is.

    Examples
    --------
    >>> column_label("lowercl"), column_label("victims_supported_lower"), column_label("2024/25")
    ('Lower 95% limit', 'Victims supported: lower limit', '2024/25')
    """
    text = str(name)
    columns, _ = _registry()
    if text in columns:
        return columns[text][0]
    if not _SNAKE.fullmatch(text) and "_" not in text:
        return text
    for suffix, words in (("_lower", "lower limit"), ("_upper", "upper limit")):
        if text.endswith(suffix):
            return f"{column_label(text[: -len(suffix)])}: {words}"
    if text.startswith("pct_"):
        return f"{_sentence(text[4:])} (%)"
    if text.endswith("_p_value"):
        return f"p-value: {_sentence(text[:-8]).lower()}"
    return _sentence(text)


def variable_label(name: object) -> str:
    """The label of a breakdown variable in a sentence: a code column is named by what it codes.

    Examples
    --------
    >>> variable_label("district_code"), variable_label("victim_ethnicity")
    ('District', "Victim's ethnicity")
    """
    text = str(name)
    if text.endswith("_code"):
        text = text[: -len("_code")] + "_name"
    return column_label(text)


_INTERVAL_WORDS = re.compile(r"\d+(?:\.\d+)?%(?:\s*(?:and|or|,)\s*\d+(?:\.\d+)?%)*\s*(?:wilson |exact |poisson |wald |"
                             r"confidence |prediction |control )*(?:intervals?|ranges?|limits?|ci|bands?)")


def _kind_from_units(units: str) -> str:
    u = _INTERVAL_WORDS.sub("", units.lower())
    if "£" in u or "gbp" in u or "pound" in u:
        return "money"
    if "ratio" in u:
        return "ratio"
    if "per 1,000" in u or "per 1000" in u or "per 100,000" in u or "per 10,000" in u or "rate" in u:
        return "rate"
    if "%" in u or "percent" in u or "per cent" in u or "share" in u:
        return "percent"
    if "fte" in u or "full-time" in u:
        return "fte"
    if "day" in u:
        return "days"
    if "month" in u and "per month" not in u:
        return "months"
    if u:
        return "count" if any(w in u for w in ("crimes", "victims", "referrals", "people", "cases")) else "number"
    return "number"


def column_kind(name: object, units: str = "") -> str:
    """The kind of value in column ``name`` (one of :data:`KINDS`, never "generic").

    Examples
    --------
    >>> column_kind("pct_open"), column_kind("value", "victims per 1,000 residents"), column_kind("odds_ratio")
    ('percent', 'rate', 'ratio')
    >>> column_kind("lower_80", "referrals a year (80% and 95% ranges)"), column_kind("value", "% of victims")
    ('count', 'percent')
    """
    text = str(name)
    columns, _ = _registry()
    kind = columns[text][1] if text in columns else None
    if kind is None:
        if text.startswith("pct_") or text.endswith("_pct") or text.startswith("share_"):
            kind = "percent"
        elif text.endswith("p_value") or text.startswith("q_"):
            kind = "p_value"
        elif "ratio" in text or text.endswith("_or"):
            kind = "ratio"
        elif text.startswith("fte") or text.endswith("_fte"):
            kind = "fte"
        elif text.endswith(("_lower", "_upper")):
            return column_kind(text.rsplit("_", 1)[0], units)
        elif text.startswith(("funding", "cost", "contract")):
            kind = "money"
        else:
            kind = "generic"
    if kind == "generic":
        kind = _kind_from_units(units)
    return kind


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT


def format_value(value: object, kind: str) -> str:
    """``value`` as a reader sees it, by kind (see :data:`KINDS`).

    Examples
    --------
    >>> [format_value(v, k) for v, k in [(7313, "count"), (104.2095257493974, "percent"), (1.0512, "ratio"),
    ...                                  (0.0123, "p_value"), (0.37, "proportion_percent"), (250000, "money"),
    ...                                  (None, "count"), ("[c]", "count"), (True, "text"), (-3.25, "points")]]
    ['7,313', '104.2', '1.05', '0.012', '37.0%', '£250,000', '', '[c]', 'Yes', '-3.2']
    """
    if _missing(value):
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str):
        return value
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isinf(x):
        return "infinite" if x > 0 else "minus infinite"
    if kind == "count":
        return f"{x:,.0f}"
    if kind == "p_value":
        return "<0.001" if x < 0.001 else f"{x:.3f}"
    if kind == "proportion_percent":
        return f"{100 * x:.1f}%"
    if kind == "ratio":
        return f"{x:,.2f}"
    if kind == "money":
        return f"-£{-x:,.0f}" if x < 0 else f"£{x:,.0f}"
    if kind == "money_pence":
        return f"-£{-x:,.2f}" if x < 0 else f"£{x:,.2f}"
    if kind in ("rate", "percent", "points", "fte", "index", "days", "months", "generic"):
        return f"{x:,.1f}"
    # "number" and "text": whole numbers whole, others to one decimal (two below 10)
    if float(x).is_integer():
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:,.1f}"
    return f"{x:,.2f}"


def excel_format(kind: str) -> str:
    """The Excel number format code for ``kind``.

    Examples
    --------
    >>> excel_format("count"), excel_format("p_value")
    ('#,##0', '[<0.001]"<0.001";0.000')
    """
    if kind not in _EXCEL_FORMATS:
        raise ValueError(f"unknown kind {kind!r}; use one of {KINDS}")
    return _EXCEL_FORMATS[kind]


def level_label(value: object, column: str | None = None, place_names: Mapping[str, str] | None = None) -> str:
    """A category level as a reader sees it: codes to names, True/False to Yes/No.

    Examples
    --------
    >>> level_label(True), level_label("E07000129", "district_code", {"E07000129": "Blaby"}), level_label("Burglary")
    ('Yes', 'Blaby', 'Burglary')
    """
    if _missing(value):
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    text = str(value)
    if place_names and text in place_names:
        return str(place_names[text])
    _, levels = _registry()
    if text in levels:
        return levels[text]
    if _SNAKE.fullmatch(text):
        return variable_label(text)
    return text


def place_names(areas: pd.DataFrame | None) -> dict[str, str]:
    """``{code: name}`` for the districts and the area of an area's ``areas`` table.

    Examples
    --------
    >>> place_names(pd.DataFrame({"district_code": ["E1", "E1"], "district_name": ["Blaby", "Blaby"],
    ...                           "area_code": ["X", "X"], "area_name": ["Leics", "Leics"]}))
    {'E1': 'Blaby', 'X': 'Leics'}
    """
    names: dict[str, str] = {}
    if areas is None:
        return names
    for code, name in (("district_code", "district_name"), ("area_code", "area_name")):
        if code in areas.columns and name in areas.columns:
            pairs = pd.DataFrame(areas[[code, name]]).drop_duplicates()
            names.update({str(c): str(n) for c, n in zip(pairs[code], pairs[name], strict=True)})
    return names


def _text_kind(series: pd.Series) -> bool:
    return series.dtype == object or isinstance(series.dtype, pd.CategoricalDtype) or series.dtype == bool


def humanise(table: pd.DataFrame, place_names: Mapping[str, str] | None = None, units: str = "") -> pd.DataFrame:
    """A display copy of ``table`` for documents: human headers, names for codes, formatted values (strings).

    A code column standing beside its name column (``district_code`` with ``district_name``) is dropped; a code
    column alone is shown with names from ``place_names``.

    Examples
    --------
    >>> t = pd.DataFrame({"district_code": ["E1"], "district_name": ["Blaby"], "count": [7313.0],
    ...                   "value": [12.345], "lowercl": [11.01], "uppercl": [13.9], "p_value": [0.0001]})
    >>> humanise(t, units="crimes per 1,000 residents").iloc[0].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'District': 'Blaby', 'Count': '7,313', 'Value': '12.3', 'Lower 95% limit': '11.0',
     'Upper 95% limit': '13.9', 'p-value': '<0.001'}
    """
    t = table.copy()
    for code, name in (("district_code", "district_name"), ("area_code", "area_name"), ("lsoa_code", "lsoa_name")):
        if code in t.columns and name in t.columns:
            t = t.drop(columns=code)
    shown = {}
    for column in t.columns:
        series = t[column]
        if str(column) in ("district_code", "area_code"):
            shown[column_label(str(column).replace("_code", "_name"))] = series.map(
                lambda v, c=str(column): level_label(v, c, place_names))
            continue
        if _text_kind(series) and not pd.to_numeric(series, errors="coerce").notna().any():
            shown[column_label(column)] = series.map(lambda v, c=str(column): level_label(v, c, place_names))
            continue
        kind = column_kind(column, units)
        if kind == "text":
            shown[column_label(column)] = series.map(lambda v, c=str(column): level_label(v, c, place_names))
            continue
        values = series.map(lambda v: v if isinstance(v, str) and not _numeric_text(v) else _to_number(v))
        shown[column_label(column)] = values.map(lambda v, k=kind: format_value(v, k))
    return pd.DataFrame(shown, index=t.index)


def _numeric_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _to_number(value: object) -> object:
    if isinstance(value, str):
        return float(value)
    return value


def compact(table: pd.DataFrame) -> pd.DataFrame:
    """Merge each estimate with its interval limits into one column, "12.3 (11.0 to 13.5)", to fit a page.

    Works on raw column names (``value``/``lowercl``/``uppercl``, ``x``/``x_lower``/``x_upper``) and on the
    labels :func:`humanise` gives them, and any column followed by a lower and an upper limit column (a second
    pair of limits for the same estimate becomes a range column). Values are used as they are (format them first).

    Examples
    --------
    >>> t = pd.DataFrame({"Value": ["12.3"], "Lower 95% limit": ["11.0"], "Upper 95% limit": ["13.5"]})
    >>> compact(t).to_dict("records")
    [{'Value (95% interval)': '12.3 (11.0 to 13.5)'}]
    """
    t = table.copy()
    names = [str(c) for c in t.columns]
    pairs: list[tuple[str, str, str, str]] = []  # estimate, lower, upper, new name
    for lower, upper in _INTERVAL_PAIRS:
        for low_name, up_name in ((lower, upper), (column_label(lower), column_label(upper))):
            if low_name in names and up_name in names:
                estimate = next((c for c in ("value", "Value", "estimate", "Estimate", "rate", "Rate", "mean",
                                             "Mean", "odds_ratio", "Odds ratio") if c in names), None)
                if estimate is not None:
                    level = "80%" if "80" in lower else "99.8%" if "99" in lower else "95%"
                    pairs.append((estimate, low_name, up_name, f"{estimate} ({level} interval)"))
    for name in names:
        for suffix_low, suffix_up in (("_lower", "_upper"), (": lower 95% limit", ": upper 95% limit"),
                                      (": lower limit", ": upper limit")):
            if name + suffix_low in names and name + suffix_up in names:
                pairs.append((name, name + suffix_low, name + suffix_up, f"{name} (95% interval)"))
        for low, up in (("lower_95", "upper_95"), ("lower_80", "upper_80")):
            if f"{name}_{low}" in names and f"{name}_{up}" in names:
                pairs.append((name, f"{name}_{low}", f"{name}_{up}", f"{name} ({low[-2:]}% interval)"))
    used: set[str] = set()
    for estimate, low, up, new in pairs:
        if {estimate, low, up} & used:
            continue
        used |= {estimate, low, up}

        def join(row, e=estimate, lo=low, hi=up) -> str:
            a, b, c = (row[e], row[lo], row[hi])
            if _missing(a) or a == "":
                return ""
            if _missing(b) or _missing(c) or b == "" or c == "" or "[c]" in (b, c):
                return str(a)
            return f"{a} ({b} to {c})"

        position = list(t.columns).index(estimate)
        merged = t.apply(join, axis=1) if len(t) else pd.Series([], dtype=object)
        t = t.drop(columns=[estimate, low, up])
        t.insert(min(position, len(t.columns)), new, merged)
    return _merge_adjacent_limits(t)


def _merge_adjacent_limits(shown: pd.DataFrame) -> pd.DataFrame:
    """Lower and upper limit columns left beside an estimate (``X``, ``X: lower 95% limit``, ``Lower 95% limit``)
    merged into it, "12 (10 to 14)"; a second pair of limits for the same estimate becomes a range column."""
    columns = [str(c) for c in shown.columns]
    out: dict[str, pd.Series] = {}
    i = 0
    estimate: str | None = None
    while i < len(columns):
        name = columns[i]
        low = columns[i + 1] if i + 1 < len(columns) else ""
        up = columns[i + 2] if i + 2 < len(columns) else ""
        is_limit = re.search(r"\blower\b", low, re.I) and re.search(r"\bupper\b", up, re.I)
        if is_limit and not re.search(r"\b(lower|upper)\b", name, re.I):
            level = re.search(r"(\d+(\.\d+)?%)", low)
            level_text = level.group(1) if level else "95%"
            out[f"{name} ({level_text} interval)"] = _join(shown[name], shown[low], shown[up])
            estimate = name
            i += 3
            continue
        if estimate and re.search(r"\blower\b", name, re.I) and re.search(r"\bupper\b", low, re.I):
            level = re.search(r"(\d+(\.\d+)?%)", name)
            out[f"{level.group(1) if level else ''} interval".strip().capitalize()] = _join(None, shown[name],
                                                                                             shown[low])
            i += 2
            continue
        out[name] = shown[name]
        estimate = None
        i += 1
    return pd.DataFrame(out, index=shown.index)


def _join(estimate: pd.Series | None, low: pd.Series, up: pd.Series) -> pd.Series:
    def one(a: object, b: object, c: object) -> str:
        a, b, c = ("" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v) for v in (a, b, c))
        if not b or not c or "[c]" in (b, c):
            return a
        return f"{a} ({b} to {c})" if estimate is not None else f"{b} to {c}"

    first = estimate if estimate is not None else pd.Series([""] * len(low), index=low.index)
    return pd.Series([one(a, b, c) for a, b, c in zip(first, low, up, strict=True)], index=low.index, dtype=object)


_PAIR = re.compile(r"\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\s*[:=]\s*([^,;)\]]+)")


def humanise_text(text: str, place_names: Mapping[str, str] | None = None) -> str:
    """Replace raw identifiers inside a sentence with words: ``district_code: X`` becomes ``district: <name>``.

    ``name: value`` pairs take the column's label in lower case and the level's label; other snake_case words
    take their label; codes in ``place_names`` anywhere in the text become names.

    Examples
    --------
    >>> humanise_text("district_code: X09000004 (vs X09000001)", {"X09000004": "Harrowdale", "X09000001": "Eastmere"})
    'district: Harrowdale (vs Eastmere)'
    >>> humanise_text("See csew_prevalence.csv; funding_gap is large.")
    'See csew_prevalence.csv; funding gap is large.'
    """

    def pair(match: re.Match) -> str:
        name, value = match.group(1), match.group(2).strip()
        label = column_label(name.replace("_code", "_name") if name.endswith("_code") else name)
        label = label[:1].lower() + label[1:] if not label[:2].isupper() else label
        shown = level_label(value, name, place_names)
        return f"{label}: {shown.lower() if value in ('True', 'False') else shown}"

    out = _PAIR.sub(pair, text)
    if place_names:
        for code in sorted(place_names, key=len, reverse=True):
            if code and code in out:
                out = re.sub(rf"\b{re.escape(code)}\b", str(place_names[code]), out)
    out = _SNAKE_IN_TEXT.sub(lambda m: _lower_first(column_label(m.group(0))), out)
    return out


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def snake_case_words(text: str) -> list[str]:
    """The snake_case identifiers in ``text`` (for checks that documents carry none).

    Examples
    --------
    >>> snake_case_words("Rate per 1,000 (district_code) and Yes")
    ['district_code']
    """
    return _SNAKE.findall(text)
