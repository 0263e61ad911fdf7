"""Command line: ``victimneeds build [--area example|PATH.toml] [--out DIR]``."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="victimneeds",
        description="Victims' Needs Assessment evidence for Police and Crime Commissioners.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser(
        "build",
        help="run the assessment notebooks for an area and write the evidence pack",
        description="Run every notebook in order for an area and write the evidence pack: executed notebooks, "
        "HTML, figures, every table as CSV (disclosure control applied) and one Excel workbook.",
    )
    b.add_argument("--area", default="example",
                   help="'example' (the built-in synthetic area, default) or the path of an area's TOML config")
    b.add_argument("--out", default=None, help="output folder (default: build/<area>/)")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.add_argument("--jobs", type=int, default=None, help="notebooks run at a time (default: one per CPU core)")
    return parser


def _fail(message: str, code: int) -> int:
    print("victimneeds: " + textwrap.fill(message, width=100, subsequent_indent="  "), file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``victimneeds`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
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
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
