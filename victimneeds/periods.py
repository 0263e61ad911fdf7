"""Periods the public sector reports in: financial years (April to March) and their labels."""

from __future__ import annotations

import pandas as pd


def financial_year(months: pd.Series) -> pd.Series:
    """Label each month with its financial year (April to March), e.g. 2020-03 -> "2019/20".

    Examples
    --------
    >>> m = pd.Series(pd.PeriodIndex(["2020-03", "2020-04", "2021-01"], freq="M"))
    >>> financial_year(m).tolist()
    ['2019/20', '2020/21', '2020/21']
    """
    months = pd.Series(months)
    if not isinstance(months.dtype, pd.PeriodDtype):
        months = pd.PeriodIndex(months.astype(str), freq="M").to_series(index=months.index)
    start = months.dt.year - (months.dt.month < 4).astype(int)
    label = start.astype(str) + "/" + ((start + 1) % 100).astype(str).str.zfill(2)
    return label.rename("financial_year")


def describe_period(first: pd.Period, last: pd.Period) -> str:
    """Words for a run of months, e.g. "April 2019 to March 2025 (72 months)".

    Examples
    --------
    >>> describe_period(pd.Period("2019-04", "M"), pd.Period("2025-03", "M"))
    'April 2019 to March 2025 (72 months)'
    """
    n = (last - first).n + 1
    return f"{first.strftime('%B %Y')} to {last.strftime('%B %Y')} ({n} months)"


def complete_years(months: pd.Series) -> list[str]:
    """Financial years for which all 12 months are present in ``months``, in order."""
    months = pd.Series(pd.unique(pd.Series(months).dropna()))
    labels = financial_year(months)
    counts = labels.value_counts()
    return sorted(counts[counts == 12].index.tolist())
