"""Themes in victims' free-text comments.

Part of :mod:`victimneeds.voice`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from victimneeds.voice.checks import (
    _as_list,
    _check_columns,
)

# --------------------------------------------------------------------------------------------------
# Free-text themes
# --------------------------------------------------------------------------------------------------

#: Keyword themes for free-text comments: theme -> words or phrases (matched case-insensitively as whole
#: words; ``*`` matches the rest of a word, e.g. ``call* back``). A starting point drawn from the stages of
#: the Home Office victim satisfaction survey; areas should review it against their own comments.
DEFAULT_THEMES: dict[str, tuple[str, ...]] = {
    "Kept informed": ("update*", "informed", "heard nothing", "no contact", "call* back", "in the dark", "chase*"),
    "Delay": ("wait*", "slow", "delay*", "took weeks", "took months", "still waiting"),
    "Attitude of staff": (
        "rude",
        "dismissive",
        "not believed",
        "didn't listen",
        "did not listen",
        "kind*",
        "respect*",
        "listened",
        "caring",
        "understanding",
    ),
    "Support received": ("support*", "helpful", "counsel*", "advocate", "isva", "idva", "advice"),
    "Outcome and justice": ("no further action", "nfa", "court", "charged", "arrest*", "nothing was done", "prosecut*"),
    "Safety": ("safe*", "unsafe", "scared", "afraid", "fear*", "threat*"),
}


def _pattern(words: Sequence[str]) -> str:
    parts = []
    for w in words:
        parts.append(r"\w*".join(re.escape(piece) for piece in w.split("*")) + r"\b")
    return r"\b(?:" + "|".join(parts) + ")"


def themes(
    survey: pd.DataFrame,
    text: str = "comment",
    theme_words: dict[str, Sequence[str]] | None = None,
    by: str | Sequence[str] | None = None,
    min_count: int = 10,
) -> pd.DataFrame:
    """Count free-text comments mentioning each keyword theme; only aggregates, never the comments.

    A comment mentions a theme when it contains any of the theme's words or phrases (case-insensitive,
    whole words; ``*`` matches the rest of a word). Counts below ``min_count`` (10 by default,
    above the 1-4 disclosure threshold because free text can identify a person) are not shown. This is a
    transparent keyword count, not a model: it misses paraphrase and negation ("not rude" counts as
    "rude"), so read it as a pointer to where to read comments, not as a measure.

    Parameters
    ----------
    survey : the survey table.
    text : the column holding the free-text comment.
    theme_words : theme -> words; default :data:`DEFAULT_THEMES`.
    by : optional grouping column(s).
    min_count : smallest number of mentions shown.

    Returns
    -------
    One row per group and theme: ``by`` columns, ``theme``, ``comments`` (non-empty comments),
    ``mentions``, ``value`` (% of comments), ``note``, ``method``.

    Examples
    --------
    >>> s = pd.DataFrame({"comment": ["Nobody kept me updated"] * 12 + ["Very kind officer"] * 3 + [None]})
    >>> themes(s, theme_words={"Kept informed": ["update*"], "Attitude": ["kind"]})[["theme", "comments", "mentions"]]
               theme  comments  mentions
    0  Kept informed        15        12
    1       Attitude        15      <NA>
    """
    func = "themes"
    by_cols = _as_list(by)
    _check_columns(survey, by_cols + [text], "survey", func)
    words = DEFAULT_THEMES if theme_words is None else theme_words
    comments = survey[text].astype("string").str.strip()
    has = comments.notna() & (comments.str.len() > 0)
    frame = survey.loc[has.to_numpy(dtype=bool), by_cols].copy()
    for theme, ws in words.items():
        frame[theme] = comments[has.to_numpy(dtype=bool)].str.contains(_pattern(ws), case=False, regex=True)
    rows = []
    groups = frame.groupby(by_cols, observed=False, sort=True) if by_cols else [((), frame)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        for theme in words:
            rows.append(
                {
                    **dict(zip(by_cols, key, strict=True)),
                    "theme": theme,
                    "comments": len(part),
                    "mentions": int(part[theme].sum()),
                }
            )
    out = pd.DataFrame(rows, columns=[*by_cols, "theme", "comments", "mentions"])
    shown = out["mentions"] >= min_count
    with np.errstate(divide="ignore", invalid="ignore"):
        out["value"] = np.where(shown, 100 * out["mentions"] / out["comments"].replace(0, np.nan), np.nan)
    out["mentions"] = pd.array(np.where(shown, out["mentions"], pd.NA), dtype="Int64")
    out["note"] = np.where(shown, "", f"fewer than {min_count} mentions; not shown")
    out["method"] = "keyword match, case-insensitive whole words; % of non-empty comments"
    return out
