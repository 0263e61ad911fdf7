"""Benchmark of the national out-of-core path (victimneeds.national) on a synthetic national archive.

The shared forces' street files (Leicestershire and Avon and Somerset, 2019-12 to 2022-11: 36 months) are
replicated under 43 force names (alternately) into a temporary folder outside the repository, in the bulk
layout ``YYYY-MM/YYYY-MM-<force>-street.csv.gz`` (gzip level 1). Each copy gets its own Crime IDs (the first
two hex digits replaced by the force's number) and force name, so no crime is merged across forces. A 37th
month (2022-12, a copy of 2022-11 with new ids) is the one-month update.

Each step runs in its own Python process, so that its peak memory (``ru_maxrss``) is its own:

1. first ingest of the 36 months;
2. one-month update (the 43 files of 2022-12 added, every other file unchanged);
3. the three aggregates (force x month x crime type, district x month x crime type, LSOA x year x crime type).

Run: ``nice -n 10 python bench/national.py [--forces 43] [--months 36] [--workers 2] [--keep]``.
The folder is deleted at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
LOOKUP = "OA11_LSOA11_MSOA11_LAD17_GB_lookup_with_area_classifications.csv.gz"
BASES = {
    "leicestershire": b"Leicestershire Police",
    "avon-and-somerset": b"Avon and Somerset Constabulary",
}


def _months(first: str, n: int) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _copy(raw: bytes, base: str, i: int, month_from: str, month_to: str, salt: int) -> bytes:
    """The file's text for synthetic force ``i``: new ids, force name and (for the update) month."""
    name = f"Synthetic {i:02d} Police".encode()
    old = BASES[base]
    raw = raw.replace(b"," + old + b"," + old + b",", b"," + name + b"," + name + b",")
    prefix = b"%02x" % ((i * 5 + salt) % 256)
    raw = re.sub(rb"(?m)^[0-9a-f]{2}(?=[0-9a-f]{62},)", prefix, raw)
    if month_from != month_to:
        raw = raw.replace(("," + month_from + ",").encode(), ("," + month_to + ",").encode())
    return raw


def build(root: Path, forces: int, months: list[str], update: str) -> dict[str, int]:
    """Write the synthetic archive (and the update month into ``root/update``); returns rows and bytes."""
    from isal import igzip

    archive = root / "archive"
    rows = {"rows": 0, "update_rows": 0, "bytes": 0}
    bases = list(BASES)
    for month in [*months, update]:
        source_month = month if month != update else months[-1]
        texts = {}
        for base in bases:
            path = SHARED / "policeuk" / base / source_month / f"{source_month}-{base}-street.csv.gz"
            texts[base] = igzip.decompress(path.read_bytes())
        for i in range(forces):
            base = bases[i % 2]
            slug = f"synthetic-{i:02d}"
            text = _copy(texts[base], base, i, source_month, month, 0 if month != update else 128)
            folder = archive / month
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{month}-{slug}-street.csv.gz"
            if month == update:
                target = root / "update" / month / target.name
                target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(igzip.compress(text, compresslevel=1))
            n = text.count(b"\n") - 1
            rows["update_rows" if month == update else "rows"] += n
            rows["bytes"] += len(text)
    return rows


def _step(args: list[str]) -> dict:
    """Run one step in a child process; it prints one JSON line with its timings and peak memory."""
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _child(step: str, root: Path, workers: int) -> None:
    from victimneeds.national import aggregate_levels, aggregates, ingest

    dataset = root / "dataset"
    result: dict[str, object] = {"step": step}
    t0 = time.perf_counter()
    if step == "ingest":
        done = ingest(root / "archive", dataset, progress=False, workers=workers)
        result["rows"] = int(done.files["rows_read"].sum())
        result["files_read"] = len(done.read)
    elif step == "update":
        done = ingest(root / "archive", dataset, progress=False, workers=workers)
        result["rows"] = int(done.files.loc[done.files["action"] == "read", "rows_read"].sum())
        result["files_read"] = len(done.read)
        result["files_unchanged"] = int((done.files["action"] == "unchanged").sum())
    else:
        lookup = (
            SHARED / "geography" / "lookups" / "OA11_LSOA11_MSOA11_LAD17_GB_lookup_with_area_classifications.csv.gz"
        )
        times = {}
        for level in ("force", "district", "lsoa"):
            t = time.perf_counter()
            table = aggregates(dataset, level, areas=lookup if level == "district" else None)
            times[level] = [round(time.perf_counter() - t, 2), len(table), int(table["crimes"].sum())]
        result["levels"] = times
        t = time.perf_counter()
        together = aggregate_levels(dataset, ["force", "district", "lsoa"], areas=lookup)
        result["together"] = [round(time.perf_counter() - t, 2), int(together["force"]["crimes"].sum())]
    result["seconds"] = round(time.perf_counter() - t0, 2)
    result["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forces", type=int, default=43)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--root", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, Path(args.root), args.workers)
        return
    months = _months("2019-12", args.months)
    root = Path(tempfile.mkdtemp(prefix="victimneeds-national-bench-", dir="/tmp"))
    try:
        t = time.perf_counter()
        size = build(root, args.forces, months, "2022-12")
        print(
            f"synthetic archive: {args.forces} forces x {len(months)} months = {size['rows']:,} rows "
            f"({size['bytes'] / 1e9:.2f} GB of CSV text, gzip level 1) in {time.perf_counter() - t:.0f} s; "
            f"update month 2022-12: {size['update_rows']:,} rows"
        )
        common = ["--root", str(root), "--workers", str(args.workers)]
        first = _step(["--child", "ingest", *common])
        print(
            f"first ingest: {first['files_read']} files, {first['rows']:,} rows in {first['seconds']:.1f} s "
            f"({first['rows'] / first['seconds']:,.0f} rows/s), peak RSS {first['peak_mb']:,.0f} MB"
        )
        agg = _step(["--child", "aggregate", *common])
        for level, (sec, n, total) in agg["levels"].items():
            print(
                f"aggregate {level}: {n:,} rows of counts ({total:,} crimes) in {sec:.1f} s ({total / sec:,.0f} rows/s)"
            )
        sec = sum(v[0] for v in agg["levels"].values())
        print(f"the three aggregates one by one: {sec:.1f} s")
        print(f"the three in one call (aggregate_levels, duplicates found once): {agg['together'][0]:.1f} s")
        print(f"aggregate step peak RSS {agg['peak_mb']:,.0f} MB")
        print(f"read + aggregate (first ingest + one call): {first['seconds'] + agg['together'][0]:.1f} s")
        for path in (root / "update").iterdir():
            shutil.move(str(path), root / "archive" / path.name)
        upd = _step(["--child", "update", *common])
        print(
            f"one-month update: {upd['files_read']} files read ({upd['rows']:,} rows), {upd['files_unchanged']} "
            f"unchanged, in {upd['seconds']:.1f} s, peak RSS {upd['peak_mb']:,.0f} MB"
        )
        disk = sum(p.stat().st_size for p in (root / "dataset").rglob("*.parquet"))
        print(f"Parquet dataset: {disk / 1e9:.2f} GB")
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
