"""``qrate reproduce [--quick] [--out-dir results] [--seed S]``: regenerate the reference figures."""

from __future__ import annotations

import sys
import time

from qrate._cli.args import ArgumentParser, int_in
from qrate.text import printable


def main(argv: list[str]) -> int:
    """Run every figure recipe of :mod:`qrate.reproduce`; print one line per file written."""
    parser = ArgumentParser(
        prog="qrate reproduce",
        description="Regenerate the reference figures (Khan et al. Fig. 2(c), 3(c), the sensitivity figures for the "
        "choices of 'Paper ambiguities and qrate's defaults' in qrate/MODELS.md, the realistic-hardware, pass, grid and "
        "network-size figures, Xu et al. Fig. 4(a)/(b)) and their README from the embedded presets.",
    )
    parser.add_argument("--quick", action="store_true", help="few pulses per point (CI smoke run, < 2 min on 2 cores)")
    parser.add_argument("--out-dir", default="results", metavar="DIR", help="folder for figures and README (default: results)")
    parser.add_argument(
        "--seed",
        type=int_in("--seed", 0, 2**63 - 1),
        default=None,
        help="root seed of every run (default: each preset's embedded seed; Fig. 4: 0)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument(
        "--scheduler",
        default="sync",
        metavar="SPEC",
        help="sync (default: in-process), local (a LocalCluster for all runs) or tcp://HOST:PORT",
    )
    parser.add_argument("--workers", type=int_in("--workers", 1), default=None, metavar="N", help="LocalCluster worker processes")
    args = parser.parse_args(argv)

    from qrate.reproduce import reproduce

    t0 = time.perf_counter()
    written = reproduce(
        args.out_dir, quick=args.quick, seed=args.seed, quiet=args.quiet, scheduler=args.scheduler, workers=args.workers
    )
    print(
        f"qrate reproduce: {len(written)} files in {printable(args.out_dir)} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr
    )
    return 0
