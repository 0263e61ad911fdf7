"""Command line.

``victimneeds build [--area example|PATH.toml] [--out DIR]``: run the notebooks and write the evidence pack.
``victimneeds fetch policeuk --force NAME --from YYYY-MM --to YYYY-MM --dest DIR``: download police.uk data
(``--all-forces`` instead of ``--force``: the whole archives, every force, kept as zips in DIR).
``victimneeds national ingest SRC DEST`` / ``victimneeds national aggregate DEST --level force|district|lsoa``: every
force out of core (Parquet and DuckDB; see docs/scaling.md).
``victimneeds fetch public --dest DATA [--force NAME]``: download the other public inputs (lookups, boundaries,
population, IMD) into the layout an area configuration reads; ``victimneeds fetch imd --dest DATA`` one of them;
``--by-hand`` prints where to get each by hand.
``victimneeds init NAME``: an area configuration, templates and a data request for a force.
``victimneeds check --area FILE``: read and check every input of an area without building.
``victimneeds audit PACK``: attack a built pack's suppressed counts and write its disclosure log.
``victimneeds --version``: the installed version.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="victimneeds",
        description="Victims' Needs Assessment evidence for Police and Crime Commissioners.",
    )
    from victimneeds import __version__

    parser.add_argument("--version", action="version", version=f"victimneeds {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    i = sub.add_parser(
        "init",
        help="start an area: configuration, data templates and a data request for a police force",
        description="Write an area configuration for a police force (its districts and small areas from the ONS "
        "lookups, the public inputs in the open-data folder, and commented [extracts] sections for its own "
        "data), blank CSV and Excel templates with the exact headers and allowed values, and a Word data "
        "request to send to the force and providers.",
    )
    i.add_argument("name", help="the force, e.g. avon-and-somerset, 'Avon and Somerset' or E23000036")
    i.add_argument("--dest", default=None, help="folder to write into (default: areas/<force>/)")
    i.add_argument("--data-dir", default=None,
                   help="the open-data folder (default: $VICTIMNEEDS_DATA, else ../shared/data)")
    c = sub.add_parser(
        "check",
        help="read and check every input of an area without building",
        description="Read every input of an area configuration and report, per table, rows read, kept and set "
        "aside and why; referral-to-crime linkage; date ranges and months with no rows; and which sections "
        "will run or be skipped and why. Exit status 1 when an input has errors.",
    )
    c.add_argument("--area", required=True, help="the area's TOML configuration")
    a = sub.add_parser(
        "audit",
        help="attack a built pack: can any suppressed count be worked out from what it publishes?",
        description="Re-read every table a built pack publishes (CSV files and the Excel workbook), solve for each "
        "suppressed count the smallest and largest values consistent with everything published (HiGHS), write "
        "the disclosure log and exit 1 if any suppressed count can be narrowed to one value.",
    )
    a.add_argument("pack", help="the pack folder, e.g. build/example")
    b = sub.add_parser(
        "build",
        help="run the assessment notebooks for an area and write the evidence pack",
        description="Run every notebook in order for an area and write the evidence pack: executed notebooks, "
        "HTML, figures, every table as CSV (disclosure control applied) and one Excel workbook.",
    )
    b.add_argument("--area", default="example",
                   help="'example' (the built-in synthetic area, default) or the path of an area's TOML config")
    b.add_argument("--out", default=None, help="output folder (default: build/<area>/)")
    b.add_argument("--quiet", action="store_true",
                   help="say nothing while building (by default each stage is named on standard error: on a "
                   "terminal one line updated in place, elsewhere one plain line a stage)")
    b.add_argument("--jobs", type=int, default=None, help="notebooks run at a time (default: one per CPU core)")
    f = sub.add_parser(
        "fetch",
        help="download open data (needs the internet)",
        description="Download open data into a folder the readers and area configs can use.",
    )
    fsub = f.add_subparsers(dest="source", required=True)
    p = fsub.add_parser(
        "policeuk",
        help="a force's street-level crime and outcomes files from data.police.uk",
        description="Download the data.police.uk monthly archives (YYYY-MM.zip: every force's files for the 36 "
        "months up to that month, several GB each) that cover --from..--to, resuming an interrupted download, "
        "and extract the force's files into DEST/YYYY-MM/YYYY-MM-<force>-street.csv. Archives are kept in "
        "$VICTIMNEEDS_CACHE/policeuk-archives (default ~/.cache/victimneeds/policeuk-archives), so a second "
        "run downloads nothing. Read the folder with victimneeds.io.read_policeuk or an area config.",
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--force",
                     help="force name as in the file names, e.g. leicestershire, metropolitan, avon-and-somerset")
    who.add_argument("--all-forces", action="store_true",
                     help="every force: download the whole archives (YYYY-MM.zip) into DEST and keep them as they "
                     "are, for 'victimneeds national ingest DEST DATASET'")
    p.add_argument("--from", dest="first", required=True, metavar="YYYY-MM", help="first month wanted")
    p.add_argument("--to", dest="last", required=True, metavar="YYYY-MM", help="last month wanted")
    p.add_argument("--dest", required=True, help="folder to extract into (created if missing)")
    p.add_argument("--kinds", nargs="+", default=["street", "outcomes"], metavar="KIND",
                   choices=["street", "outcomes", "stop-and-search"],
                   help="files to extract: street, outcomes, stop-and-search (default: street outcomes)")
    p.add_argument("--archive-dir", default=None,
                   help="where archives are downloaded and kept (default: $VICTIMNEEDS_CACHE/policeuk-archives)")
    p.add_argument("--no-keep-archive", action="store_true",
                   help="delete the archives downloaded by this run once the files are extracted")
    p.add_argument("--base-url", default=None,
                   help="where the archives are published (default https://data.police.uk/data/archive/; "
                   "a mirror or a file:// folder)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the server (default 60)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _public_parsers(fsub)
    _national_parsers(sub)
    return parser


def _national_parsers(sub: argparse._SubParsersAction) -> None:
    """``national ingest`` and ``national aggregate``: every force out of core (victimneeds.national)."""
    n = sub.add_parser(
        "national",
        help="every force's police.uk data out of core: a Parquet dataset counted with DuckDB",
        description="Read a national police.uk archive (bulk zips or extracted folders, every force) file by file "
        "into a Parquet dataset partitioned by force and year, with the same checks as the force reader, and "
        "count it with DuckDB. See docs/scaling.md.",
    )
    nsub = n.add_subparsers(dest="action", required=True)
    ni = nsub.add_parser("ingest", help="read new or changed files of SRC into the dataset DEST",
                         description="Read the street files of SRC (zips, folders or files) into DEST; files "
                         "already read and unchanged are skipped (DEST/_ingested.json).")
    ni.add_argument("src", nargs="+", help="archives (YYYY-MM.zip), folders or files")
    ni.add_argument("dest", help="the dataset folder (created if missing)")
    ni.add_argument("--forces", nargs="+", default=None, metavar="FORCE", help="only these forces (slugs)")
    ni.add_argument("--workers", type=int, default=1, help="files parsed at a time (default 1)")
    ni.add_argument("--report", default=None, help="write the data-quality report of the files read to this CSV")
    ni.add_argument("--quiet", action="store_true", help="no progress bar")
    na = nsub.add_parser("aggregate", help="counts from the dataset: force, district or LSOA level",
                         description="Count crimes in the dataset with DuckDB: force x month x crime type, "
                         "district x month x crime type, or LSOA x year x crime type; write CSV.")
    na.add_argument("dest", help="the dataset folder written by 'victimneeds national ingest'")
    na.add_argument("--level", required=True, choices=["force", "district", "lsoa"])
    na.add_argument("--areas", default=None,
                    help="for --level district: the ONS OA -> LSOA -> LAD lookup CSV (.gz), or a CSV with "
                    "area_code and district_code")
    na.add_argument("--out", default=None, help="CSV to write (default: standard output)")
    na.add_argument("--memory-limit", default="2GB", help="DuckDB memory limit (default 2GB)")


def _national(args: argparse.Namespace) -> int:
    from victimneeds.io._report import DataFileError
    from victimneeds.national import aggregates, ingest

    if args.action == "ingest":
        try:
            result = ingest(args.src, args.dest, forces=args.forces, progress=not args.quiet, workers=args.workers)
        except DataFileError as err:
            return _fail(str(err), 1)
        if args.report:
            result.report.to_csv(args.report, index=False)
        print(result.summary())
        return 0
    areas = args.areas
    if areas is not None and Path(areas).is_file():
        import pandas as pd

        head = pd.read_csv(areas, nrows=0).columns
        if {"area_code", "district_code"} <= set(head):
            areas = pd.read_csv(areas, usecols=["area_code", "district_code"], dtype=str)
    try:
        table = aggregates(args.dest, args.level, areas=areas, memory_limit=args.memory_limit)
    except (FileNotFoundError, ValueError, DataFileError) as err:
        return _fail(str(err), 2)
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"{len(table):,} rows ({int(table['crimes'].sum()):,} crimes) written to {args.out}")
    else:
        table.to_csv(sys.stdout, index=False)
    return 0


def _public_parsers(fsub: argparse._SubParsersAction) -> None:
    """``fetch public`` (every public input but police.uk) and ``fetch <input>`` (one of them)."""
    from victimneeds.io.public_sources import PUBLIC_INPUTS

    table = "victimneeds/reference/public_sources.csv"
    for what in ("public", *PUBLIC_INPUTS):
        every = what == "public"
        q = fsub.add_parser(
            what,
            help=("the other public inputs of an area: lookups, LSOA boundaries, population, IMD" if every
                  else f"the public input {what!r} of an area configuration"),
            description=(f"Download {'the public inputs' if every else 'the public input ' + what} of an area "
                         f"(every file listed in {table}: publisher, page, file URL, checksum) into DEST in the "
                         "layout the area configuration reads (DEST is its data_dir), checking each file's size, "
                         "checksum and format; files already there and right are left alone. Where a file cannot "
                         "be fetched, the publisher's page and the file to save are printed. The police.uk files "
                         "come from 'victimneeds fetch policeuk'."),
        )
        q.add_argument("--dest", required=True, help="the open-data folder (the area configuration's data_dir)")
        if every or what == "boundaries":
            q.add_argument("--force", default=None,
                           help="the police force area (e.g. avon-and-somerset or E23000036) whose districts' LSOA "
                           "boundaries to fetch (read from the LAD-CSP-PFA lookup in DEST)")
            q.add_argument("--districts", nargs="+", default=None, metavar="CODE",
                           help="district (LAD) codes whose boundaries to fetch, instead of --force")
        if every:
            q.add_argument("--only", nargs="+", default=None, metavar="INPUT", choices=list(PUBLIC_INPUTS),
                           help=f"fetch only these inputs: {', '.join(PUBLIC_INPUTS)}")
        q.add_argument("--by-hand", action="store_true",
                       help="download nothing: print the publisher's page and the file to save for each input")
        q.add_argument("--base-url", default=None, help="fetch from this server instead (a mirror)")
        q.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the server (default 60)")
        q.add_argument("--quiet", action="store_true", help="no progress bar")


def _fetch_public(args: argparse.Namespace) -> int:
    from victimneeds.io.fetch import FetchError
    from victimneeds.io.public_sources import by_hand, fetch_public

    names = getattr(args, "only", None) if args.source == "public" else [args.source]
    if args.by_hand:
        print(by_hand(names or None, args.dest))
        return 0
    try:
        result = fetch_public(args.dest, names, force=getattr(args, "force", None),
                              districts=getattr(args, "districts", None), base_url=args.base_url,
                              timeout=args.timeout, progress=not args.quiet)
    except FetchError as err:
        return _fail(str(err), 2 if err.reason == "bad_request" else 1)
    except OSError as err:
        return _fail(f"cannot write the public inputs to {args.dest}: {err}", 1)
    print(result.summary())
    return 0 if result.ok else 1


def _fail(message: str, code: int) -> int:
    print("victimneeds: " + textwrap.fill(message, width=100, subsequent_indent="  "), file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``victimneeds`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "init":
        from victimneeds.new_area import init_area

        try:
            print(init_area(args.name, args.dest, args.data_dir))
        except (FileNotFoundError, FileExistsError, ValueError) as err:
            return _fail(str(err), 2)
        return 0
    if args.command == "audit":
        from victimneeds.audit import audit_pack

        if not Path(args.pack).is_dir():
            return _fail(f"{args.pack} is not a folder: give the folder of a built pack, e.g. build/example.", 2)
        result = audit_pack(args.pack)
        print(result.summary())
        return 0 if result.passed else 1
    if args.command == "check":
        from victimneeds.check import check_area

        result = check_area(args.area)
        print(result)
        return 0 if result.ok else 1
    if args.command == "build":
        from victimneeds.build import BuildError, build

        try:
            summary = build(args.area, args.out, progress=not args.quiet, jobs=args.jobs)
        except BuildError as err:
            return _fail(str(err), 1)
        except (FileNotFoundError, ValueError, KeyError) as err:
            text = err.args[0] if err.args else str(err)
            return _fail(f"cannot build the area {args.area!r}: {text}", 2)
        print(summary)
    elif args.command == "national":
        return _national(args)
    elif args.command == "fetch" and args.source == "policeuk" and args.all_forces:
        from victimneeds.io.fetch import FetchError, fetch_policeuk_archives

        options = {} if args.base_url is None else {"base_url": args.base_url}
        try:
            paths = fetch_policeuk_archives(args.first, args.last, args.dest, timeout=args.timeout,
                                            progress=not args.quiet, **options)
        except FetchError as err:
            return _fail(str(err), 2 if err.reason == "bad_request" else 1)
        except OSError as err:
            return _fail(f"cannot write the police.uk archives to {args.dest}: {err}", 1)
        print(f"{len(paths)} data.police.uk archive(s), every force, in {args.dest}: "
              + ", ".join(p.name for p in paths)
              + f". Read them with: victimneeds national ingest {args.dest} DATASET")
    elif args.command == "fetch" and args.source == "policeuk":
        from victimneeds.io.fetch import FetchError, fetch_policeuk

        options = {} if args.base_url is None else {"base_url": args.base_url}
        try:
            result = fetch_policeuk(args.force, args.first, args.last, args.dest, kinds=args.kinds,
                                    archive_dir=args.archive_dir, keep_archive=not args.no_keep_archive,
                                    timeout=args.timeout, progress=not args.quiet, **options)
        except FetchError as err:
            return _fail(str(err), 2 if err.reason == "bad_request" else 1)
        except OSError as err:
            return _fail(f"cannot write the police.uk files to {args.dest} or {args.archive_dir or 'the cache'}: "
                         f"{err}", 1)
        print(result.summary())
    elif args.command == "fetch":
        return _fetch_public(args)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
