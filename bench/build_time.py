"""Benchmark: wall time of `victimneeds build` on the built-in example area.

Prints, in one run:
- the baseline: papermill running an empty notebook (kernel start and teardown, the fixed cost per notebook);
- the time to generate the example area in this process (cold, then cached);
- the whole build's wall time (as a user runs it: a fresh process), per notebook, and the ratio to the baseline;
- whether the build meets the target of 60 s on a 2-core machine.

Run: python bench/build_time.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill as pm

TARGET_SECONDS = 60.0


def empty_notebook_seconds(tmp: Path) -> float:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = tmp / "empty.ipynb"
    nbformat.write(nb, src)
    t0 = time.perf_counter()
    pm.execute_notebook(str(src), str(tmp / "empty_out.ipynb"), kernel_name="python3", progress_bar=False)
    return time.perf_counter() - t0


def main() -> None:
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        baseline = empty_notebook_seconds(tmp)
        print(f"baseline, papermill on an empty notebook: {baseline:.2f} s")

        from victimneeds.datasets import load_example

        load_example.cache_clear() if hasattr(load_example, "cache_clear") else None
        t0 = time.perf_counter()
        load_example()
        cold = time.perf_counter() - t0
        print(f"example area generated (cold): {cold:.2f} s")

        t0 = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "victimneeds.cli", "build", "--out", str(tmp / "pack"), "--quiet"],
            capture_output=True, text=True,
        )
        wall = time.perf_counter() - t0
        if result.returncode != 0:
            print(result.stdout, result.stderr)
            raise SystemExit(f"build failed with exit code {result.returncode}")
        print(result.stdout.strip())
        notebooks = len(list((tmp / "pack" / "notebooks").glob("*.ipynb")))
        print(f"build wall time: {wall:.1f} s for {notebooks} notebook(s); "
              f"{wall / baseline:.1f}x the empty-notebook baseline "
              f"({wall / max(notebooks, 1) / baseline:.1f}x per notebook)")
        verdict = "meets" if wall <= TARGET_SECONDS else "MISSES"
        print(f"target {TARGET_SECONDS:.0f} s: {verdict} ({wall / TARGET_SECONDS:.0%} of target)")


if __name__ == "__main__":
    main()
