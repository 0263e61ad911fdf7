"""Write docs/parameters.md, the list of planning parameters, from victimneeds/reference/capacity_planning.csv.

Run after changing the CSV:  python docs/make_parameters_doc.py         (writes docs/parameters.md)
                             python docs/make_parameters_doc.py --check (exit 1 if the page is out of date)
tests/test_parameters.py checks that the page matches the CSV.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from victimneeds.capacity import planning_keys
from victimneeds.reference import table

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "parameters.md"

INTRO = """\
# Planning parameters

<!-- Generated from victimneeds/reference/capacity_planning.csv by docs/make_parameters_doc.py: do not edit by
hand; run `python docs/make_parameters_doc.py` after changing the CSV. -->

The service specification (notebook 04, `victimneeds.capacity`) turns expected referrals into staff and money
with the planning rules below. Each rule is either **published** (a figure with its source) or an
**assumption** (a default the tool ships so that it runs; replace it with a local figure).

## Setting a local figure

Put the figure in the `[parameters]` section of the area's configuration (the TOML file), under its key,
and say where it comes from under `[parameters.sources]`. A local figure without a source is refused.

```toml
[parameters]
months = ["2019-12", "2022-11"]                 # run options stay as they are
"ISVA.referrals_per_fte_year" = 70
"All.productive_hours_per_fte_year" = 1500
"IDVA.MARAC administrator.salary" = 26500

[parameters.sources]
"ISVA.referrals_per_fte_year" = "Provider caseload review, March 2025"
"All.productive_hours_per_fte_year" = "Provider HR: contracted hours less leave and average sickness, 2024/25"
"IDVA.MARAC administrator.salary" = "County council pay scale, grade 5, 2025/26"
```

A figure and its source can also be written together:
`"ISVA.referrals_per_fte_year" = { value = 70, source = "Provider caseload review, March 2025" }`.

* A key is `lot.parameter`. Where a lot has the same parameter for two roles (salaries of the IDVA lot and
  of the victim advice line) the key is `lot.role.parameter`; `lot.role.parameter` is accepted for every row.
  Lots and roles are matched without regard to capitals.
* Values are numbers of 0 or more, in the unit shown; shares are written as fractions (15% is `0.15`). The
  parameters that staff numbers are divided by (caseloads, cases per administrator, productive hours) must
  be more than 0.
* An unknown key, a value that is not a number or is negative, or a figure without a source stops the area
  loading, with one message naming each key (`victimneeds check --area FILE.toml` shows it).
* In the outputs a local figure has basis `local`, your source, and a note that keeps the default
  (for example `default 100, SafeLives (formerly CAADA)`), so a reader sees what was changed.

In a notebook or script, `victimneeds.capacity.planning_rules(data.parameters)` gives the rules with the
area's figures applied, and `fte`, `marac_benchmark`, `unit_cost` and `cost` take them as `rules=`.

Titles and links in the sources were recorded by the project; they were not opened from the machine that
generated this page. Check the current edition of a publication before quoting it.

## The parameters
"""


def _cell(value: object) -> str:
    text = "" if pd.isna(value) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


def render(rules: pd.DataFrame | None = None) -> str:
    """The page for the planning rules ``rules`` (default: the CSV shipped with victimneeds)."""
    t = table("capacity_planning") if rules is None else rules
    t = t.assign(key=planning_keys(t), value=t["value"].astype(float))
    lines = [INTRO]
    for lot, part in t.groupby("lot", sort=False):
        lines.append(f"\n### {lot}\n")
        lines.append("| key | default | unit | basis | source | note |")
        lines.append("|---|---|---|---|---|---|")
        for r in part.itertuples(index=False):
            lines.append(
                f"| `{r.key}` | {_number(r.value)} | {_cell(r.unit)} | {_cell(r.basis)} | {_cell(r.source)} "
                f"| {_cell(r.note)} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not PAGE.is_file() or PAGE.read_text(encoding="utf-8") != text:
            print(f"{PAGE} is out of date: run python docs/make_parameters_doc.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
