"""Recognise personal data in an extract, and mask values before they reach a message.

An extract's extra columns are kept unless their header or their content looks personal: names, dates of
birth, addresses, postcodes, phone numbers, e-mail addresses, NHS, PNC and National Insurance numbers, or free
text. Such columns are dropped with a note in the data-quality report unless the area configuration keeps them
explicitly. The checks are deliberately cautious: a column wrongly taken for personal data is dropped with a
note the user can overrule, while a personal column wrongly kept would leak.

No message ever quotes a value from an extract: :func:`mask` shows only its shape (``"Jane Doe 04/04/1963"``
becomes ``"Xxxx Xxx 99/99/9999"``), which is enough to see what is wrong with a date or a code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["header_reason", "content_reason", "personal_reason", "mask", "masked_examples"]

_WORDS = r"(?:^|[^a-z])"
_END = r"(?:$|[^a-z])"

#: Header patterns (lower case, spaces and punctuation kept) and what they mean.
_HEADER_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"^names?$", "a name"),
    (_WORDS + r"(?:fore|first|sur|last|full|given|family|middle|maiden|preferred|christian)[ _\-]?names?" + _END,
     "a name"),
    (_WORDS + r"(?:victim|client|person|customer|service[ _\-]?user|witness|suspect|offender|caller|contact|"
     r"patient|parent|carer|child|aggrieved)(?:'?s)?[ _\-]?names?" + _END, "a name"),
    (_WORDS + r"(?:dob|d\.o\.b|date[ _\-]?of[ _\-]?birth|birth[ _\-]?date|birthday|born)" + _END, "a date of birth"),
    (_WORDS + r"(?:address|addr|street|house[ _\-]?(?:no|number|name)|flat|town[ _\-]?city)" + _END, "an address"),
    (_WORDS + r"(?:post[ _\-]?code|postal[ _\-]?code|zip)" + _END, "a postcode"),
    (_WORDS + r"(?:phone|telephone|tel|mobile|landline|contact[ _\-]?number)" + _END, "a phone number"),
    (_WORDS + r"(?:e[ _\-]?mail)" + _END, "an e-mail address"),
    (_WORDS + r"(?:nhs)" + _END, "an NHS number"),
    (_WORDS + r"(?:pnc|cro)" + _END, "a PNC or CRO number"),
    (_WORDS + r"(?:ni[ _\-]?(?:no|number)|national[ _\-]?insurance|nino)" + _END, "a National Insurance number"),
    (_WORDS + r"(?:notes?|comments?|narrative|free[ _\-]?text|description|details|remarks|summary|"
     r"circumstances|mo|modus[ _\-]?operandi|log|memo)" + _END, "free text"),
)

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\d/])(?:\+44\s?\(?0?\)?\s?|\(?0)(?:\d[\s\-\)]?){9,10}(?!\d)")
_POSTCODE = re.compile(r"\b(?:GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})\b", re.IGNORECASE)
_NHS = re.compile(r"(?<!\d)\d{3}[ \-]?\d{3}[ \-]?\d{4}(?!\d)")
_PNC = re.compile(r"\b\d{2,4}/\d{5,7}[A-Z]\b", re.IGNORECASE)
_NINO = re.compile(r"\b[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b", re.IGNORECASE)
_DOB = re.compile(r"\b(?:dob|d\.o\.b|born)\b", re.IGNORECASE)
_PERSON = re.compile(r"^(?:(?:Mr|Mrs|Ms|Miss|Dr)\.? )?[A-Z][a-z]+(?:[ \-'][A-Z][a-z']+)+$")

#: Content patterns and what they mean, checked in this order.
_CONTENT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_EMAIL, "e-mail addresses"),
    (_DOB, "dates of birth"),
    (_NINO, "National Insurance numbers"),
    (_PNC, "PNC numbers"),
    (_PHONE, "phone numbers"),
    (_NHS, "NHS numbers"),
    (_POSTCODE, "postcodes"),
)


def header_reason(header: str) -> str | None:
    """What a column header says the column holds, if that is personal data; else None.

    Examples
    --------
    >>> header_reason("Victim Surname"), header_reason("DOB"), header_reason("District name")
    ('a name', 'a date of birth', None)
    """
    text = str(header).strip().lower()
    for pattern, meaning in _HEADER_PATTERNS:
        if re.search(pattern, text):
            return meaning
    return None


def content_reason(values: pd.Series, allow: Iterable[str] = (), sample: int = 2000) -> str | None:
    """What a column's values look like, if that is personal data; else None.

    Looks at up to ``sample`` distinct non-empty values. A column is personal when at least 2% of them (and at
    least one) hold an e-mail address, a date of birth marker, a National Insurance, PNC, phone or NHS number
    or a postcode; or when it reads as free text (most values several words long and mostly distinct); or as
    people's names (most values two or three capitalised words, mostly distinct). ``allow`` names checks to
    skip (for example ``"postcodes"`` for a service's location).

    Examples
    --------
    >>> content_reason(pd.Series(["call 07700 900123", "ok", "fine"]))
    'phone numbers'
    >>> content_reason(pd.Series(["Victim advice line", "IDVA", "ISVA"] * 5)) is None
    True
    """
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    if text.empty:
        return None
    counts = text.value_counts()
    uniques = counts.index[:sample] if len(counts) > sample else counts.index
    distinct = pd.Series(np.asarray(uniques, dtype=object)).astype(str)
    skip = set(allow)
    for pattern, meaning in _CONTENT_PATTERNS:
        if meaning in skip:
            continue
        hits = int(distinct.str.contains(pattern, regex=True).sum())
        if hits and hits >= max(1, 0.02 * len(distinct)):
            return meaning
    n_distinct = len(counts)
    spread = n_distinct / max(1, len(text))
    if "free text" not in skip:
        words = distinct.str.split().str.len()
        if len(distinct) >= 3 and (words >= 5).mean() > 0.5 and spread > 0.5:
            return "free text"
    if "names" not in skip:
        people = distinct.str.match(_PERSON)
        if len(distinct) >= 10 and people.mean() > 0.6 and spread > 0.5:
            return "people's names"
    return None


def personal_reason(header: str, values: pd.Series, allow: Iterable[str] = ()) -> str | None:
    """Why a column looks personal ("header suggests a name", "values look like phone numbers"), or None."""
    by_header = header_reason(header)
    if by_header:
        return f"its header suggests {by_header}"
    by_content = content_reason(values, allow)
    if by_content:
        return f"its values look like {by_content}"
    return None


def mask(value: object, width: int = 24) -> str:
    """The shape of a value, never the value: letters become X or x, digits 9; other characters stay.

    Examples
    --------
    >>> mask("Jane Testperson3 DOB 04/04/1963")
    "'Xxxx Xxxxxxxxxx9 XXX ...' (31 characters)"
    >>> mask("2021-13-02")
    "'9999-99-99'"
    """
    text = str(value)
    shape = re.sub(r"[0-9]", "9", re.sub(r"[a-z]", "x", re.sub(r"[A-Z]", "X", text)))
    shape = re.sub(r"[^\x20-\x7e]", "?", shape)
    if len(shape) > width:
        return f"'{shape[:width - 3]}...' ({len(text)} characters)"
    return f"'{shape}'"


def masked_examples(values: Iterable[object], limit: int = 3) -> str:
    """Up to ``limit`` distinct masked shapes, e.g. ``"'99/99/9999', '9999-99-99'"``."""
    shapes: list[str] = []
    for v in values:
        m = mask(v)
        if m not in shapes:
            shapes.append(m)
        if len(shapes) >= limit:
            break
    return ", ".join(shapes)
