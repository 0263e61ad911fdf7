"""Small helpers on Arrow arrays shared by the police.uk reader: chunks, dictionary codes, month ordinals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _one(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One contiguous array (a parsed column may come in chunks)."""
    if not isinstance(values, pa.ChunkedArray):
        return values
    return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()


def _pick(values: pa.ChunkedArray | pa.Array, rows: np.ndarray) -> list[object]:
    """The values at positions ``rows`` as Python objects, taken chunk by chunk.

    ``ChunkedArray.take`` first joins every chunk of a text column into one new array, a copy of
    the whole column, to pick a handful of rows.
    """
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    starts = np.cumsum([0] + [len(c) for c in chunks])
    which = np.searchsorted(starts, rows, side="right") - 1
    out = np.empty(len(rows), dtype=object)
    for k in np.unique(which):
        here = which == k
        out[here] = chunks[k].take(pa.array(rows[here] - starts[k])).to_pylist()
    return out.tolist()


def _encode(values: pa.ChunkedArray | pa.Array) -> pa.DictionaryArray:
    return _one(pc.dictionary_encode(_one(values)))


def _month_ordinal(text: str) -> int:
    """'YYYY-MM' to the month's ordinal as pandas counts it (months since 1970-01)."""
    return (int(text[:4]) - 1970) * 12 + int(text[5:7]) - 1


def _month_text(ordinal: int) -> str:
    return f"{1970 + ordinal // 12:04d}-{ordinal % 12 + 1:02d}"


def _ordinals(months: pa.DictionaryArray) -> np.ndarray:
    """Month ordinals (int32) of a dictionary array of valid 'YYYY-MM' strings, converting each value once."""
    per_value = np.array([_month_ordinal(v) for v in months.dictionary.to_pylist()], dtype=np.int32)
    return per_value[pc.fill_null(months.indices, 0).to_numpy()] if len(per_value) else np.zeros(0, np.int32)


def _mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _codes(values: pa.DictionaryArray) -> np.ndarray:
    """Dictionary indices (a writable array), with -1 for null."""
    indices = pc.fill_null(values.indices, -1) if values.null_count else values.indices
    return np.array(indices.to_numpy(), copy=True)


def _code_width(n_values: int) -> type[np.signedinteger]:
    """The smallest signed integer type for codes of ``n_values`` values (as pandas keeps Categorical codes)."""
    return next(t for t in (np.int8, np.int16, np.int32, np.int64) if n_values < np.iinfo(t).max)


def _dictionary(codes: np.ndarray, values: Sequence[object], kind: pa.DataType | None = None) -> pa.DictionaryArray:
    """A dictionary array from codes (-1 = null) and its values (text: ``string``, or ``kind``)."""
    indices = pa.array(codes.astype(_code_width(len(values))), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(values), kind or pa.string()))
