"""Benchmark: `victimneeds check` and `victimneeds build` on an area of about 300,000 crimes, 17,000 referrals and
4,000 survey responses given by its own extracts (victimneeds.testbed, on the Leicestershire geography).

Prints, in one run:
- the baseline: reading the four files as they are (pandas CSV reader for the CSVs, python-calamine for the
  workbook), the floor any check must pay;
- `victimneeds check --area` wall time in a fresh process (median of 3) and its ratio to the baseline, against
  the target of 20 s on 2 cores;
- with --build: the whole build's wall time in a fresh process, against the target of 3 minutes.

Run: python bench/extract_area.py [--build] [--crimes 300000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CHECK_TARGET, BUILD_TARGET = 20.0, 180.0


def run(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:])
        raise SystemExit(f"{' '.join(cmd)} failed with exit status {done.returncode}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--crimes", type=int, default=300_000)
    parser.add_argument("--build", action="store_true", help="also time the whole build")
    args = parser.parse_args()
    from victimneeds import testbed
    from victimneeds.io import load_area

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    areas = load_area(Path(__file__).resolve().parents[1] / "data" / "areas" / "leicestershire.toml").areas
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        t0 = time.perf_counter()
        truth = testbed.make_extracts(folder, areas, crimes=args.crimes, months=36, survey=4000, refer_rate=0.27,
                                      data_dir=SHARED, seed=11)
        print(f"test bed: {truth.crimes:,} crimes, {truth.referrals:,} referrals, {truth.survey:,} survey responses, "
              f"{truth.services} services (made in {time.perf_counter() - t0:.1f} s)")
        t0 = time.perf_counter()
        pd.read_csv(folder / "force_crimes.csv", dtype=str, keep_default_na=False)
        pd.read_csv(folder / "victim_survey.csv", dtype=str, keep_default_na=False)
        pd.read_csv(folder / "commissioned_services.csv", dtype=str, keep_default_na=False)
        pd.read_excel(folder / "victim_service_cases.xlsx", engine="calamine", header=2, dtype=str)
        floor = time.perf_counter() - t0
        print(f"baseline (read the four files as they are): {floor:.2f} s")
        env = {**os.environ, "VICTIMNEEDS_SALT": "bench-salt-0123456789abcdef"}
        checks = [run([sys.executable, "-m", "victimneeds.cli", "check", "--area", str(folder / "area.toml")], env)
                  for _ in range(3)]
        median = statistics.median(checks)
        print(f"victimneeds check: median {median:.1f} s of {[round(c, 1) for c in checks]} "
              f"({median / floor:.1f} x the baseline); target {CHECK_TARGET:.0f} s: "
              f"{'met' if median <= CHECK_TARGET else 'NOT met'}")
        if args.build:
            seconds = run([sys.executable, "-m", "victimneeds.cli", "build", "--area", str(folder / "area.toml"),
                           "--out", str(folder / "pack"), "--quiet"], env)
            skipped = list((folder / "pack" / "skipped").glob("*.txt")) if (folder / "pack" / "skipped").exists() \
                else []
            print(f"victimneeds build: {seconds:.1f} s ({seconds / floor:.0f} x the baseline); sections skipped: "
                  f"{len(skipped)}; target {BUILD_TARGET:.0f} s: {'met' if seconds <= BUILD_TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
