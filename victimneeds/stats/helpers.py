"""Small helpers shared by the statistical building blocks (confidence levels, checks).

Part of :mod:`victimneeds.stats`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as _st

#: European Standard Population 2013 (Eurostat 2013), 19 five-year age bands, summing to 100,000.
ESP2013: pd.Series = pd.Series(
    [5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000, 7000, 6500, 6000, 5500, 5000, 4000, 2500, 1500, 1000],
    index=[f"{a}-{a + 4}" for a in range(0, 90, 5)] + ["90+"],
    name="standard_population",
    dtype=float,
)

#: ESP2013 regrouped to the victimneeds :data:`~victimneeds.datamodel.AGE_BANDS`. The 15-19 band is split
#: evenly by single year (one fifth to 0-15, four fifths to 16-24); the other bands nest exactly.
ESP2013_AGE_BANDS: pd.Series = pd.Series(
    [17100, 10400, 12500, 14000, 14000, 12500, 10500, 9000],
    index=["0-15", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"],
    name="standard_population",
    dtype=float,
)

PoissonMethod = Literal["exact", "byar"]
FunnelKind = Literal["proportion", "ratio", "rate"]

_METHOD_NAMES = {
    "exact": "Exact (Garwood 1936)",
    "byar": "Byar's approximation (Breslow & Day 1987)",
}


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def _confidence(confidence: float) -> float:
    """Confidence as a fraction; accepts 0.95 or 95."""
    c = float(confidence)
    if 1 < c < 100:
        c = c / 100
    if not 0 < c < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95) or a percentage (e.g. 95); got {confidence}")
    return c


def _levels(confidence: float | Sequence[float]) -> list[float]:
    if isinstance(confidence, Iterable) and not isinstance(confidence, str):
        levels = [_confidence(c) for c in confidence]
        if not levels:
            raise ValueError("give at least one confidence level")
        return levels
    return [_confidence(confidence)]  # type: ignore[arg-type]


def _z(confidence: float) -> float:
    return float(_st.norm.ppf(0.5 + _confidence(confidence) / 2))


def _pct(level: float) -> str:
    """0.95 -> '95%', 0.998 -> '99.8%'."""
    return f"{round(level * 100, 6):g}%"


def _cl_names(level: float, several: bool) -> tuple[str, str]:
    if not several:
        return "lowercl", "uppercl"
    tag = f"{level * 100:.1f}".replace(".", "_")
    return f"lower{tag}cl", f"upper{tag}cl"


def _level_tag(level: float) -> str:
    """0.95 -> '95', 0.998 -> '99_8' (for column names)."""
    return f"{round(level * 100, 6):g}".replace(".", "_")


def _rows(mask: np.ndarray, index: pd.Index, k: int = 5) -> str:
    labels = list(index[np.asarray(mask, dtype=bool)][:k])
    return ", ".join(str(x) for x in labels)


def _column(data: pd.DataFrame, col: str, what: str, func: str) -> np.ndarray:
    """A numeric, non-negative column as float (NaN kept); raises a readable error otherwise."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{func}: expected a pandas DataFrame, got {type(data).__name__}")
    if col not in data.columns:
        raise KeyError(f"{func}: the table has no column {col!r} (the {what}); its columns are {list(data.columns)}")
    raw = data[col]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        ex = raw[bad].astype(str).head(3).tolist()
        raise ValueError(
            f"{func}: column {col!r} (the {what}) has {int(bad.sum())} values that are not numbers, e.g. {ex} "
            f"at rows {_rows(bad.to_numpy(), data.index)}"
        )
    arr = values.to_numpy(dtype=float, na_value=np.nan)
    neg = arr < 0
    if neg.any():
        raise ValueError(
            f"{func}: column {col!r} (the {what}) has {int(neg.sum())} negative values at rows "
            f"{_rows(neg, data.index)}; counts and populations cannot be negative"
        )
    return arr


def _maybe_int(values: pd.Series) -> pd.Series:
    """Whole-number floats back to int64 (sums of counts), otherwise unchanged."""
    v = values.to_numpy(dtype=float)
    if np.all(np.isfinite(v)) and np.allclose(v, np.round(v)):
        return values.round().astype("int64")
    return values


def _append(
    out: pd.DataFrame,
    value: np.ndarray,
    limits: dict[float, tuple[np.ndarray, np.ndarray]],
    statistic: str | np.ndarray,
    method: str | np.ndarray,
) -> pd.DataFrame:
    several = len(limits) > 1
    out["value"] = value
    for level, (lo, hi) in limits.items():
        lo_name, hi_name = _cl_names(level, several)
        out[lo_name] = lo
        out[hi_name] = hi
    out["confidence"] = ", ".join(_pct(level) for level in limits)
    out["statistic"] = statistic
    out["method"] = method
    return out
