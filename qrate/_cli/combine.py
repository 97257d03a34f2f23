"""``qrate combine A.h5 B.h5 ... --out C.h5``: merge results files of one scenario and seed."""

from __future__ import annotations

import sys

from qrate._cli.args import ArgumentParser
from qrate.text import printable


def main(argv: list[str]) -> int:
    """Merge the files (refusing duplicated batches), then print the combined estimates (a summary
    above ``SUMMARY_POINTS`` points, as ``qrate run`` and ``qrate show`` do)."""
    parser = ArgumentParser(
        prog="qrate combine",
        description="Merge results files of the same scenario and seed (e.g. a sweep split by distance over"
        " several machines). A batch held by two files is refused.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE.h5")
    parser.add_argument("--out", required=True, metavar="FILE.h5", help="combined results file to create")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace --out if it exists (never a file another qrate is writing)"
    )
    parser.add_argument("--quiet", action="store_true", help="no table (or summary, above 200 points) on stdout")
    args = parser.parse_args(argv)

    from qrate._cli.show import SUMMARY_POINTS, print_summary, print_table
    from qrate.store.combine import combine_files
    from qrate.store.load import read_estimates
    from qrate.store.stream import summarize

    path = combine_files(args.files, args.out, overwrite=args.overwrite, argv=["qrate", "combine", *argv])
    if not args.quiet:
        summary = summarize(path)
        if summary.points > SUMMARY_POINTS:  # a big file: a summary, not a million rows
            print_summary(summary)
        else:
            print_table(*read_estimates(str(path)))
    print(f"wrote {printable(path)}", file=sys.stderr)
    return 0
