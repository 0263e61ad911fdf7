"""Benchmark: reading the 41 shared Leicestershire police.uk files.

Compares :func:`victimneeds.io.read_policeuk` (cold cache, then warm cache) with a plain
``pandas.read_csv``-and-concat loop, and projects the time for 43 forces x 36 months.
Each measurement runs in its own Python process so that peak memory (``ru_maxrss``, which
includes pyarrow's allocations, unlike ``tracemalloc``) belongs to that measurement alone.

Run: ``python bench/ingest.py [path/to/policeuk/leicestershire]``.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "policeuk" / "leicestershire"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _one(mode: str, folder: Path, cache: str) -> dict[str, float]:
    import pandas as pd

    import victimneeds.io as vio

    files = sorted(folder.glob("*/*-street.csv*"))
    base = _rss_mb()
    start = time.perf_counter()
    if mode == "pandas":
        frame = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
        rows = len(frame)
    else:
        crimes, _ = vio.read_policeuk(folder, cache_dir=cache)
        rows = len(crimes)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": rows, "files": len(files), "peak_mb": _rss_mb(), "base_mb": base}


def _run(mode: str, folder: Path, cache: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--one", mode, str(folder), cache], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    raw_mb = sum(f.stat().st_size for f in folder.glob("*/*-street.csv*")) / 1e6
    with tempfile.TemporaryDirectory() as cache:
        pandas_run = _run("pandas", folder, cache)
        cold = _run("cold", folder, cache)
        warm = _run("warm", folder, cache)
    files = pandas_run["files"]
    print(f"police.uk ingest benchmark: {files} files, {pandas_run['rows']:,} rows, {raw_mb:.1f} MB gzip")
    print(f"{'method':<34}{'seconds':>9}{'rows/s':>12}{'peak RSS MB':>13}{'vs pandas':>11}")
    for name, r in (
        ("pandas.read_csv + concat", pandas_run),
        ("read_policeuk, cold cache", cold),
        ("read_policeuk, warm cache", warm),
    ):
        ratio = pandas_run["seconds"] / r["seconds"]
        print(f"{name:<34}{r['seconds']:>9.2f}{r['rows'] / r['seconds']:>12,.0f}{r['peak_mb']:>13.0f}{ratio:>10.1f}x")
    print(
        "(read_policeuk also checks every row, builds the canonical crimes table and the quality report;"
        " pandas only parses.)"
    )
    per_month = pandas_run["rows"] / files
    national = 43 * 36 * per_month
    print(
        f"\nProjection for 43 forces x 36 months, if each force were Leicestershire-sized "
        f"({per_month:,.0f} rows a month): {national / 1e6:.1f} million rows, {43 * 36} files"
    )
    for name, r in (("pandas", pandas_run), ("cold", cold), ("warm", warm)):
        print(
            f"  {name:<7} {national / (r['rows'] / r['seconds']):7.0f} s at the measured throughput; "
            f"memory about {(r['peak_mb'] - r['base_mb']) * national / r['rows'] / 1024:.1f} GB "
            f"(peak above imports, scaled by rows)"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        print(json.dumps(_one(sys.argv[2], Path(sys.argv[3]), sys.argv[4])))
    else:
        main()
