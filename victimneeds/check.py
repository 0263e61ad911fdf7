"""``victimneeds check --area FILE``: read and check every input of an area without building anything.

It says, per table, how many rows were read, kept and set aside and why; how many referrals link to a crime;
each table's date range and the months with no rows inside it; and which sections will run or be skipped and
what would enable them. Problems in one extract do not hide the others: each is listed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from victimneeds.datamodel import AreaData
from victimneeds.sections import SectionStatus, status

__all__ = ["CheckResult", "check_area"]

#: The date or month column whose range each table's coverage is judged by.
_DATE_COLUMNS = {"crimes": "month", "referrals": "referral_date", "survey": "response_date"}


@dataclass
class CheckResult:
    """What ``check`` found: errors, the tables read, their coverage and the sections that will run."""

    area: str
    errors: list[str] = field(default_factory=list)
    tables: pd.DataFrame | None = None
    details: pd.DataFrame | None = None
    coverage: pd.DataFrame | None = None
    linkage: str = ""
    sections: list[SectionStatus] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every input was read without error."""
        return not self.errors

    def __str__(self) -> str:
        lines = [f"Check of {self.area}: " + ("no errors" if self.ok else f"{len(self.errors)} error(s)")]
        for error in self.errors:
            lines.append("  ERROR " + error.replace("\n", "\n        "))
        if self.tables is not None and len(self.tables):
            lines.append("")
            lines.append("Rows by table (read, kept, set aside):")
            lines.append(self.tables.to_string(index=False))
        if self.details is not None and len(self.details):
            lines.append("")
            lines.append("What was set aside, dropped, changed or derived, and why:")
            for row in self.details.itertuples(index=False):
                lines.append(f"  - {row.table} ({row.source}): {row.count:,} {row.action}: {row.detail}")
        if self.linkage:
            lines += ["", self.linkage]
        if self.coverage is not None and len(self.coverage):
            lines.append("")
            lines.append("Date ranges and months with no rows:")
            lines.append(self.coverage.to_string(index=False))
        if self.sections:
            lines.append("")
            lines.append("Sections:")
            for s in self.sections:
                lines.append(f"  {s.notebook}: " + ("will run" if s.runs else f"will be skipped: {s.reason}"))
        lines.append("")
        lines.append(f"Checked in {self.seconds:.1f} s.")
        return "\n".join(lines)


_SET_ASIDE = ("excluded", "dropped", "skipped", "set to Unknown", "kept, not linked", "kept, no district",
              "replaced", "dropped as configured", "derived", "weight 1", "left empty", "set to missing")


def _summaries(data: AreaData) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    rows, details = [], []
    linkage = ""
    for table, report in data.quality.items():
        if report is None or not len(report):
            continue
        kept = len(getattr(data, table)) if getattr(data, table, None) is not None else 0
        if table in _DATE_COLUMNS or table == "services":
            read = int(report.loc[report["check"] == "rows_read", "count"].sum())
            aside = report[report["action"].isin(["excluded", "skipped"])]
            rows.append({"table": table, "rows read": f"{read:,}", "rows kept": f"{kept:,}",
                         "rows set aside": f"{int(aside['count'].sum()):,}"})
        else:
            rows.append({"table": table, "rows read": "", "rows kept": f"{kept:,}", "rows set aside": ""})
        shown = report[~report["check"].isin(["rows_read", "rows_kept", "areas_read", "areas_kept"])
                       & (report["count"] > 0)
                       & report["action"].isin([*_SET_ASIDE, "not used", "kept as configured", "repaired with "
                                                "make_valid", "kept, no shape", "read as dates", "kept as text"])]
        for r in shown.itertuples(index=False):
            details.append({"table": table, "source": r.source, "count": int(r.count), "action": r.action,
                            "detail": r.detail})
        links = report[report["check"] == "referrals_linked"]
        if len(links):
            linkage = "Referral-to-crime linkage: " + links["detail"].iloc[0].replace(
                "referrals whose crime is in the crimes table", f"{int(links['count'].iloc[0]):,} referrals link "
                "to a crime in the crimes table")
    return pd.DataFrame(rows), pd.DataFrame(details), linkage


def _coverage(data: AreaData) -> pd.DataFrame:
    rows = []
    for table, column in _DATE_COLUMNS.items():
        frame = getattr(data, table)
        if frame is None or column not in frame or not frame[column].notna().any():
            continue
        values = frame[column].dropna()
        months = values if isinstance(values.dtype, pd.PeriodDtype) else values.dt.to_period("M")
        first, last = months.min(), months.max()
        seen = set(months.unique())
        gaps = [m for m in pd.period_range(first, last, freq="M") if m not in seen]
        rows.append({"table": table, "column": column, "first": str(first), "last": str(last),
                     "months": len(pd.period_range(first, last, freq="M")),
                     "months with no rows": ", ".join(map(str, gaps[:6])) + (f" and {len(gaps) - 6} more"
                                                                              if len(gaps) > 6 else "") or "none"})
    return pd.DataFrame(rows)


def check_area(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> CheckResult:
    """Read and check every input of the area configuration at ``path``; see the module docstring.

    Examples
    --------
    >>> r = check_area("no-such-area.toml")
    >>> r.ok, "does not exist" in r.errors[0]
    (False, True)
    """
    from victimneeds.io.config import AreaConfigError, _load, read_area_config

    start = time.perf_counter()
    result = CheckResult(area=str(path))
    try:
        config = read_area_config(path)
    except AreaConfigError as err:
        result.errors.append(str(err))
        result.seconds = time.perf_counter() - start
        return result
    result.area = f"{config.name} ({Path(path)})"
    problems: list[str] = []
    try:
        data = _load(config, cache_dir, problems=problems)
    except (AreaConfigError, ValueError) as err:
        result.errors += problems + [str(err)]
        result.seconds = time.perf_counter() - start
        return result
    result.errors += problems
    result.tables, result.details, result.linkage = _summaries(data)
    result.coverage = _coverage(data)
    result.sections = status(data)
    result.seconds = time.perf_counter() - start
    return result
