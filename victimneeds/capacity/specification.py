"""The service specification table and the sentences a tender pastes.

Part of :mod:`victimneeds.capacity`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from victimneeds.capacity.rules import (
    _ALL,
)
from victimneeds.capacity.volumes import LotVolumes

# --------------------------------------------------------------------------------------------------
# The specification
# --------------------------------------------------------------------------------------------------


def specification(
    volumes: LotVolumes,
    fte_table: pd.DataFrame,
    costs: pd.DataFrame,
    financial_year: str | None = None,
    scenario: str = "baseline",
) -> pd.DataFrame:
    """One row per lot for a tender: referrals, FTE, contract value with 95% ranges, and current funding.

    Examples
    --------
    >>> v = LotVolumes(pd.DataFrame({"scenario": "baseline", "lot": ["ISVA"], "district_code": "All",
    ...     "financial_year": "2025/26", "months": 12, "referrals": [120.0], "lower_80": [110.0], "upper_80": [130.0],
    ...     "lower_95": [100.0], "upper_95": [140.0], "supported": [70.0], "method": "m"}), pd.DataFrame())
    >>> from victimneeds.capacity import cost, fte
    >>> f = fte(v)
    >>> c = cost(f, salaries={"ISVA": 30_000})
    >>> specification(v, f, c)[["lot", "referrals", "fte"]].values.tolist()
    [['ISVA', 120.0, 2.0]]
    """
    vt = volumes.totals(scenario)
    fy = financial_year or vt["financial_year"].min()
    v = vt[vt["financial_year"] == fy]
    f = fte_table[
        (fte_table["district_code"] == _ALL) & (fte_table["financial_year"] == fy) & (fte_table["scenario"] == scenario)
    ]
    fsum = f.groupby("lot")[["fte", "fte_lower_95", "fte_upper_95"]].sum()
    c = costs[(costs["financial_year"] == fy) & (costs["scenario"] == scenario)].set_index("lot")
    out = (
        v[["lot", "financial_year", "referrals", "lower_95", "upper_95", "supported"]]
        .rename(columns={"lower_95": "referrals_lower_95", "upper_95": "referrals_upper_95"})
        .copy()
    )
    out["caseworker_fte"] = out["lot"].map(fsum["fte"])
    out["fte"] = out["lot"].map(c["fte"])
    out["fte_lower_95"] = out["lot"].map(fsum["fte_lower_95"]) + (out["fte"] - out["caseworker_fte"])
    out["fte_upper_95"] = out["lot"].map(fsum["fte_upper_95"]) + (out["fte"] - out["caseworker_fte"])
    for col in (
        "contract_value",
        "contract_lower_95",
        "contract_upper_95",
        "current_funding",
        "current_fte",
        "funding_gap",
    ):
        out[col] = out["lot"].map(c[col]) if col in c else np.nan
    out["rule"] = out["lot"].map(f.drop_duplicates("lot").set_index("lot")["rule"])
    out["basis"] = out["lot"].map(f.drop_duplicates("lot").set_index("lot")["basis"])
    return out.drop(columns=["caseworker_fte"]).reset_index(drop=True)


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "not known"
    step = 10 if x >= 1_000 else 1
    return f"{int(round(x / step) * step):,}"


def _money(x: float) -> str:
    if not np.isfinite(x):
        return "not known"
    return f"GBP {x / 1_000_000:,.2f}m" if abs(x) >= 1_000_000 else f"GBP {round(x / 1_000):,.0f}k"


def sentences(spec: pd.DataFrame) -> list[str]:
    """Plain-words sentences for the specification, one per lot, generated from the numbers.

    Referrals of 1,000 or more are rounded to the nearest 10; money to the nearest thousand pounds.

    Examples
    --------
    >>> spec = pd.DataFrame({"lot": ["ISVA"], "financial_year": ["2026/27"], "referrals": [1243.0],
    ...                      "referrals_lower_95": [1088.0], "referrals_upper_95": [1401.0], "fte": [20.7],
    ...                      "fte_lower_95": [18.1], "fte_upper_95": [23.4], "contract_value": [812_000.0],
    ...                      "current_funding": [78_000.0]})
    >>> print(sentences(spec)[0])  # doctest: +NORMALIZE_WHITESPACE
    Expected referrals to the ISVA service in 2026/27: 1,240 (95% range 1,090-1,400), needing 20.7 FTE
    (18.1-23.4) at a contract value of about GBP 812k a year, against GBP 78k funded now.
    """
    out = []
    for r in spec.to_dict("records"):
        text = (
            f"Expected referrals to the {r['lot']} service in {r['financial_year']}: {_fmt(r['referrals'])} "
            f"(95% range {_fmt(r['referrals_lower_95'])}-{_fmt(r['referrals_upper_95'])})"
        )
        if "fte" in r and np.isfinite(r["fte"]):
            text += f", needing {r['fte']:.1f} FTE ({r['fte_lower_95']:.1f}-{r['fte_upper_95']:.1f})"
        if "contract_value" in r and np.isfinite(r.get("contract_value", np.nan)):
            text += f" at a contract value of about {_money(r['contract_value'])} a year"
            cur = r.get("current_funding", np.nan)
            if cur is not None and np.isfinite(cur):
                text += f", against {_money(cur)} funded now"
        out.append(text + ".")
    return out
