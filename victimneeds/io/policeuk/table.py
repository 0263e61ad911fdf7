"""The finished Arrow table as the canonical ``crimes`` DataFrame."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from victimneeds.datamodel import (
    CRIME_GROUPS,
    CRIME_TYPES,
    ETHNICITIES,
    VICTIM_AGE_BANDS,
    VICTIM_SEXES,
    crime_group_for,
)
from victimneeds.io.policeuk.arrow import _code_width, _one


class PoliceUKData(NamedTuple):
    """The result of :func:`read_policeuk`: ``crimes, report = read_policeuk(...)`` or ``.crimes``."""

    crimes: pd.DataFrame
    report: pd.DataFrame


_STR = pd.Series([], dtype="str").dtype


def _text(values: pa.Array | pa.ChunkedArray) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """An Arrow string array as the pandas ``str`` dtype (zero-copy where pandas stores strings in Arrow)."""
    if pa.types.is_dictionary(values.type):
        values = _one(values).dictionary_decode()
    if values.type != pa.large_string():
        values = values.cast(pa.large_string())
    if getattr(_STR, "storage", None) == "pyarrow":
        return pd.arrays.ArrowStringArray(values, dtype=_STR)
    return pd.array(values.to_numpy(zero_copy_only=False), dtype=_STR)


def _categorical(values: pa.Array | pa.ChunkedArray) -> pd.Categorical:
    """A dictionary column as a pandas Categorical. The chunks of a column read from the cache share one
    dictionary (the Arrow IPC file format has one per column), so their indices are simply joined."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    if not chunks:
        chunks = [pa.array([], values.type)]
    dictionary = chunks[0].dictionary
    if all(c.dictionary.equals(dictionary) for c in chunks[1:]):
        indices = pa.chunked_array([c.indices for c in chunks], chunks[0].indices.type)
    else:
        joined = _one(values)
        dictionary, indices = joined.dictionary, pa.chunked_array([joined.indices])
    if indices.null_count:
        indices = pc.fill_null(indices, -1)
    codes = indices.to_numpy().astype(_code_width(len(dictionary)))  # astype copies: writable
    if getattr(_STR, "storage", None) == "pyarrow":
        categories = pd.Index(pd.arrays.ArrowStringArray(dictionary.cast(pa.large_string()), dtype=_STR))
    else:
        categories = pd.Index(dictionary.to_pylist(), dtype=_STR)
    return pd.Categorical.from_codes(codes, categories=categories, validate=False)


def _numbers(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A writable NumPy copy (floats: NaN for null)."""
    out = values.to_numpy() if isinstance(values, pa.ChunkedArray) else values.to_numpy(zero_copy_only=False)
    return out if out.flags.writeable else out.copy()


def _group_codes() -> np.ndarray:
    """Code of each crime type's group in CRIME_GROUPS (police.uk has no flags), with -1 for no type."""
    groups = crime_group_for(pd.Series(list(CRIME_TYPES))).astype(object)
    return np.array([list(CRIME_GROUPS).index(g) for g in groups] + [-1], dtype=np.int8)


_GROUP_CODES = _group_codes()


def _canonical(table: pa.Table) -> pd.DataFrame:
    """The finished Arrow table (from :func:`_assemble` or the cache) as the canonical ``crimes`` DataFrame."""
    n = table.num_rows
    month = _one(table.column("month")).to_numpy().astype(np.int64)  # astype copies: writable
    crime_type = _categorical(table.column("crime_type"))
    outcome_month = table.column("outcome_month")
    if outcome_month.null_count == n:  # no outcomes files
        out_month = pd.arrays.PeriodArray(np.full(n, np.iinfo(np.int64).min), dtype=pd.PeriodDtype("M"))
        to_outcome = pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool))
    else:
        ordinal = pc.fill_null(outcome_month, -1).to_numpy().astype(np.int64)
        has = ordinal >= 0
        nat = np.iinfo(np.int64).min  # the ordinal pandas uses for NaT
        out_month = pd.arrays.PeriodArray(np.where(has, ordinal, nat), dtype=pd.PeriodDtype("M"))
        to_outcome = pd.arrays.IntegerArray(np.where(has, ordinal - month, 0), ~has)

    def flags() -> pd.arrays.BooleanArray:
        return pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))

    def missing(categories: tuple[str, ...]) -> pd.Categorical:
        return pd.Categorical.from_codes(np.full(n, -1, dtype=np.int8), categories=list(categories))

    columns = {
        "crime_id": _text(table.column("crime_id")),
        "month": pd.arrays.PeriodArray(month, dtype=pd.PeriodDtype("M")),
        "area_code": _text(table.column("area_code")),
        "district_code": _text(table.column("district_code")),
        "crime_type": crime_type,
        "crime_group": pd.Categorical.from_codes(
            _GROUP_CODES[crime_type.codes], categories=list(CRIME_GROUPS), validate=False
        ),
        "is_domestic_abuse": flags(),
        "is_hate": flags(),
        "is_repeat_victim": flags(),
        "victim_identified": flags(),
        "victim_sex": missing(VICTIM_SEXES),
        "victim_age_band": missing(VICTIM_AGE_BANDS),
        "victim_ethnicity": missing(ETHNICITIES),
        "needs_assessment_done": flags(),
        "need_identified": flags(),
        "consent_to_refer": flags(),
        "outcome": _text(table.column("outcome")),
        "outcome_month": out_month,
        "months_to_outcome": to_outcome,
        "longitude": _numbers(table.column("longitude")),
        "latitude": _numbers(table.column("latitude")),
        "location": _categorical(table.column("location")),
        "lsoa_name": _categorical(table.column("lsoa_name")),
        "context": _text(table.column("context")),
        "force": _categorical(table.column("force")),
        "source_file": _categorical(table.column("source_file")),
        "source_line": _numbers(table.column("source_line")),
    }
    return pd.DataFrame(columns, index=pd.RangeIndex(n), copy=False)
