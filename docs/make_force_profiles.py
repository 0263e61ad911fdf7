"""Build victimneeds/reference/force_profiles.csv: the socio-demographic profile of every police force area.

Run from the repository root, with the shared open data beside the repository (or its folder as the argument):

    python docs/make_force_profiles.py [DATA_DIR]

The profiles come from :func:`victimneeds.similar_forces.force_profiles`; the CSV's ``#`` header lines name
every source file and say how each measure was made, so the shipped table carries its provenance.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from victimneeds.similar_forces import INPUTS, MEASURES, SOURCES, force_profiles

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "victimneeds" / "reference" / "force_profiles.csv"
DEFAULT_DATA = ROOT.parent / "shared" / "data"

#: Decimal places kept for each column (whole numbers for counts).
ROUNDING = {"area_sq_km": 2, "density": 3, "imd_score": 4, "imd_most_deprived_share": 6, "urban_share": 6,
            "age_0_15_share": 6, "age_16_24_share": 6, "age_65_plus_share": 6}


def header() -> list[str]:
    lines = ["# Police force area profiles for victimneeds.similar_forces, built by docs/make_force_profiles.py.",
             "# Sources (paths under shared/data; see its PROVENANCE.md):"]
    lines += [f"#   {INPUTS[k]}: {SOURCES[k]}" for k in INPUTS]
    lines.append("# Columns:")
    lines += [f"#   {k}: {v}" for k, v in MEASURES.items()]
    lines.append("#   area_sq_km: land area of the force's districts (ONS MYE 5, 2021 districts); "
                 "force: data.police.uk name; n_lsoas, n_districts: 2011 LSOAs and 2017 districts of the force")
    lines.append("# Welsh forces have no IMD measures (the English IMD does not cover Wales).")
    return lines


def build(data_dir: Path) -> str:
    """The CSV text (header lines then the table)."""
    table = force_profiles(data_dir).round(ROUNDING)
    return "\n".join(header()) + "\n" + table.to_csv(index=False, lineterminator="\n")


def main(argv: list[str]) -> None:
    data_dir = Path(argv[0]) if argv else DEFAULT_DATA
    OUT.write_text(build(data_dir), encoding="utf-8")
    print(f"wrote {OUT} ({len(pd.read_csv(OUT, comment='#'))} forces)")


if __name__ == "__main__":
    main(sys.argv[1:])
