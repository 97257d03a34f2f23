"""``qrate bench [--quick] [--out FILE.json] [--only STAGE ...]``: run the built-in benchmark suite."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from qrate._cli.args import ArgumentParser
from qrate.errors import InputError
from qrate.text import printable


def main(argv: list[str]) -> int:
    """Run the suite, print one line per result and the targets, write JSON if ``--out``."""
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # per-core figures; Dask owns the parallelism
    from qrate.bench import STAGES, run_suite

    p = ArgumentParser(prog="qrate bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats (about a minute)")
    p.add_argument("--out", metavar="FILE.json", help="write the results as JSON here (folders created)")
    p.add_argument("--only", nargs="+", metavar="STAGE", help=f"run only these stages: {', '.join(STAGES)}")
    args = p.parse_args(argv)
    if args.out is not None and not args.out.endswith(".json"):
        raise InputError("--out", f"expected a .json file name, got {args.out!r}")
    for stage in args.only or ():
        if stage not in STAGES:
            raise InputError("--only", f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
    doc = run_suite(args.quick, args.only, log=lambda line: print(line, flush=True))
    for t in doc["targets"]:
        print(f"target  {t['name']}: {t['measured']:.4g} vs {t['target']:.4g} -> {'met' if t['met'] else 'MISSED'}")
    if args.out is not None:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"wrote {printable(out)}", file=sys.stderr)
    return 0
