"""Checks and small helpers shared by the victim-voice analyses.

Part of :mod:`victimneeds.voice`; see its docstring for the whole analysis.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from victimneeds import datamodel as dm
from victimneeds import stats

#: Fewest answers for which a share is shown. ONS does not report Crime Survey for England and Wales
#: estimates on an unweighted base below 50; at n = 50 a 95% Wilson interval around 50% is still about
#: +/- 13.5 percentage points, so smaller groups would invite over-reading.
MIN_RESPONSES: int = 50

NOT_ENOUGH = "not enough responses"

#: Plain-English names of the satisfaction stages.
STAGE_LABELS: dict[str, str] = {
    "contact": "Ease of contact",
    "actions": "Actions taken",
    "kept_informed": "Kept informed",
    "treatment": "Treatment by staff",
    "whole_experience": "Whole experience",
}

_KISH = "Kish (1965) effective sample size"


# --------------------------------------------------------------------------------------------------
# Checks and small helpers
# --------------------------------------------------------------------------------------------------


def _check_columns(table: pd.DataFrame, columns: Sequence[str], name: str, func: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{func}: expected the {name} table as a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KeyError(
            f"{func}: the {name} table has no column(s) {missing}; its columns are {list(table.columns)}. "
            "See docs/data-model.md for the columns expected."
        )


def _as_list(cols: str | Sequence[str] | None) -> list[str]:
    if cols is None:
        return []
    return [cols] if isinstance(cols, str) else list(cols)


def _stages(stages: str | Sequence[str] | None) -> list[str]:
    chosen = list(dm.SATISFACTION_STAGES) if stages is None else _as_list(stages)
    bad = [s for s in chosen if s not in dm.SATISFACTION_STAGES]
    if bad:
        raise ValueError(f"unknown satisfaction stage(s) {bad}; expected some of {list(dm.SATISFACTION_STAGES)}")
    return chosen


def _weights(survey: pd.DataFrame, weights: str | None, func: str) -> np.ndarray:
    if weights is None:
        return np.ones(len(survey))
    _check_columns(survey, [weights], "survey", func)
    w = pd.to_numeric(survey[weights], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        rows = list(survey.index[bad][:5])
        raise ValueError(
            f"{func}: survey column {weights!r} has {int(bad.sum())} weights that are missing, zero or negative "
            f"(rows {rows}); every response needs a positive weight"
        )
    return w


def design_effect(weights: np.typing.ArrayLike) -> tuple[float, float]:
    """Kish's effective sample size and design effect of a set of survey weights.

    effective n = (sum w)^2 / sum(w^2); design effect = n / effective n (1 when all weights are equal).

    Parameters
    ----------
    weights : the weights of the responses in one group.

    Returns
    -------
    (effective_n, design_effect) : floats; (0, nan) for no responses.

    References
    ----------
    Kish L (1965). Survey Sampling. Wiley, section 11.7 (the design effect of unequal weighting).

    Examples
    --------
    >>> design_effect([1, 1, 2, 4])
    (2.909090909090909, 1.375)
    """
    w = np.asarray(weights, dtype=float)
    if len(w) == 0:
        return 0.0, float("nan")
    n_eff = float(w.sum() ** 2 / (w**2).sum())
    return n_eff, float(len(w) / n_eff)


def weighted_share(answers: np.typing.ArrayLike, weights: np.typing.ArrayLike | None = None) -> dict[str, float]:
    """Weighted share of "yes" answers and its Kish effective counts (missing answers left out).

    Returns a dict with ``responses`` (answers given), ``yes`` (unweighted yes), ``share`` (weighted),
    ``effective_n`` and ``effective_yes`` (share x effective n), ``design_effect``.

    References
    ----------
    Kish L (1965). Survey Sampling. Wiley.

    Examples
    --------
    >>> r = weighted_share([True, False, True, None], [1.0, 1.0, 2.0, 5.0])
    >>> r["responses"], r["yes"], r["share"], round(r["effective_n"], 3)
    (3, 2, 0.75, 2.667)
    """
    a = pd.array(list(answers) if not isinstance(answers, pd.Series) else answers, dtype="boolean")
    w = np.ones(len(a)) if weights is None else np.asarray(weights, dtype=float)
    given = ~np.asarray(a.isna())
    yes = np.asarray(a.fillna(False), dtype=bool) & given
    n = int(given.sum())
    if n == 0:
        return {
            "responses": 0,
            "yes": 0,
            "share": np.nan,
            "effective_n": 0.0,
            "effective_yes": 0.0,
            "design_effect": np.nan,
        }
    wg = w[given]
    share = float(w[yes].sum() / wg.sum())
    n_eff, deff = design_effect(wg)
    return {
        "responses": n,
        "yes": int(yes.sum()),
        "share": share,
        "effective_n": n_eff,
        "effective_yes": share * n_eff,
        "design_effect": deff,
    }


def _shares(
    survey: pd.DataFrame,
    columns: dict[str, str],
    by: list[str],
    w: np.ndarray,
    key: str,
) -> pd.DataFrame:
    """One row per group and answer column: responses, yes, share and the Kish effective counts."""
    frame = survey[by].copy() if by else pd.DataFrame(index=survey.index)
    frame["_w"] = w
    rows = []
    groups = frame.groupby(by, observed=False, sort=True, dropna=False) if by else [((), frame)]
    for keys, part in groups:
        keys = keys if isinstance(keys, tuple) else (keys,)
        for label, col in columns.items():
            r = weighted_share(survey.loc[part.index, col], part["_w"].to_numpy())
            rows.append({**dict(zip(by, keys, strict=True)), key: label, **r})
    out = pd.DataFrame(rows)
    for col in by:
        if isinstance(survey[col].dtype, pd.CategoricalDtype):
            out[col] = pd.Categorical(out[col], categories=survey[col].cat.categories)
    return out


def _intervals(table: pd.DataFrame, weighted: bool, min_responses: int, confidence: float, what: str) -> pd.DataFrame:
    """Append value, limits, estimate text, note and method to a table made by :func:`_shares`."""
    out = table.copy()
    x = out["effective_yes"].to_numpy(dtype=float)
    n = out["effective_n"].to_numpy(dtype=float)
    p, lo, hi = stats.wilson(np.minimum(x, n), n, confidence)
    enough = out["responses"].to_numpy() >= min_responses
    out["value"] = np.where(enough, p * 100, np.nan)
    out["lowercl"] = np.where(enough, lo * 100, np.nan)
    out["uppercl"] = np.where(enough, hi * 100, np.nan)
    out["confidence"] = f"{round(stats._confidence(confidence) * 100, 6):g}%"
    out["statistic"] = f"percentage {what}"
    out["estimate"] = [
        f"{v:.0f}% ({a:.0f}% to {b:.0f}%)" if ok else NOT_ENOUGH
        for v, a, b, ok in zip(out["value"], out["lowercl"], out["uppercl"], enough, strict=True)
    ]
    out["note"] = np.where(
        enough,
        "",
        np.where(out["responses"] == 0, "no responses", f"{NOT_ENOUGH} (fewer than {min_responses}); not shown"),
    )
    out["method"] = f"Wilson score interval on the {_KISH}" if weighted else "Wilson score interval"
    # below the minimum the number satisfied would give the share away, so it is withheld too
    withheld = ~enough & (out["responses"].to_numpy() > 0)
    out["yes"] = pd.array(np.where(withheld, pd.NA, out["yes"]), dtype="Int64")
    out = out.drop(columns=[c for c in ("share",) if c in out.columns])
    if not weighted:
        out = out.drop(columns=["effective_n", "effective_yes", "design_effect"])
    else:
        out["effective_n"] = out["effective_n"].round(1)
        out["design_effect"] = out["design_effect"].round(3)
        out = out.drop(columns=["effective_yes"])
    return out
