"""The whole qrate benchmark suite (qrate.bench) in one run, from the repository root.

Usage:
    python3 benchmarks/bench_suite.py [--quick] [--only STAGE ...] [--peer results/bench/peer_sequence.json]
                                      [--out results/bench/suite.json | --reference]

``--peer`` folds a SeQUeNCe comparison written by ``benchmarks/peer_sequence.py`` into the
results and the targets (default: that file if it exists). ``--reference`` writes
``results/bench/reference-<UTC date>.json`` (kept in git) instead of ``--out``.
Single-threaded Numba (NUMBA_NUM_THREADS=1): figures are per core unless a row says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info  # noqa: E402

from qrate.bench import STAGES, format_row, run_suite  # noqa: E402

DEFAULT_PEER = Path("results/bench/peer_sequence.json")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", nargs="+", choices=list(STAGES), metavar="STAGE")
    ap.add_argument("--peer", type=Path, default=None, help="SeQUeNCe comparison JSON to include")
    ap.add_argument("--out", default="results/bench/suite.json")
    ap.add_argument("--reference", action="store_true", help="write results/bench/reference-<date>.json")
    args = ap.parse_args(argv)
    peer_path = args.peer or (DEFAULT_PEER if DEFAULT_PEER.exists() else None)
    peer = json.loads(peer_path.read_text()) if peer_path is not None else None
    peer_rows = peer["results"] if peer else []
    doc = run_suite(args.quick, args.only, log=lambda line: print(line, flush=True), peer=peer_rows)
    doc["machine"] = machine_info()
    if peer:
        doc["results"].extend(peer_rows)
        doc["peer_source"] = str(peer_path)
        doc["peer_machine"] = peer.get("machine")
        for r in peer_rows:
            print(format_row(r))
    for t in doc["targets"]:
        print(f"target  {t['name']}: {t['measured']:.4g} vs {t['target']:.4g} -> {'met' if t['met'] else 'MISSED'}")
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    out = Path(f"results/bench/reference-{date}.json") if args.reference else Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
