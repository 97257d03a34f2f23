"""Planning a sweep: milliseconds and bytes per point of ``plan_sweep``, this checkout against another.

Usage (from the repository root)::

    python benchmarks/bench_plan.py [--points 1000 10000] [--against /path/to/other/checkout] [--repeat 3]
                                    [--out results/bench/plan.json]

The grid is the scale benchmark's (``benchmarks/bench_scale.py``: ``khan-acka-leo``, 10 distances x
apertures x divergences). Each measurement runs in a fresh interpreter whose ``PYTHONPATH`` puts one
checkout first, alternating between the two checkouts ``--repeat`` times (the shared machine's load
falls on both alike; the best of the repeats is kept):

* **time**: wall seconds of ``plan_sweep`` over the grid, after a warm-up sweep of 100 points (imports,
  Numba's cache), per point;
* **memory**: bytes (``tracemalloc``) that the list of plans holds, per point: what dropping the list frees
  (``bytes_per_point``), and what planning left allocated in all (``grown_per_point``: the plans and the
  bounded caches planning fills), with the warm-up's objects already allocated.

The ratio other / this is the speed-up. JSON goes to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHILD = r"""
import gc, json, sys, time, tracemalloc
sys.path.insert(0, {bench!r})
from bench_scale import grid_axes
from qrate.engine.grid import plan_sweep
from qrate.scenario.load import load_scenario
plan_sweep(load_scenario("khan-acka-leo", [], grid_axes(100)))
scenario = load_scenario("khan-acka-leo", [], grid_axes({points}))
gc.collect()
if {memory}:
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    plans = plan_sweep(scenario)
    gc.collect()
    with_plans = tracemalloc.get_traced_memory()[0]
    n = len(plans)
    del plans
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    print(json.dumps({{"points": n, "bytes_per_point": (with_plans - after) / n, "grown_per_point": (with_plans - before) / n}}))
else:
    start = time.perf_counter()
    plans = plan_sweep(scenario)
    seconds = time.perf_counter() - start
    print(json.dumps({{"points": len(plans), "ms_per_point": 1e3 * seconds / len(plans)}}))
"""


def measure(checkout: Path, points: int, memory: bool) -> dict:
    env = {**os.environ, "PYTHONPATH": str(checkout), "NUMBA_NUM_THREADS": "1"}
    code = CHILD.format(bench=str(HERE), points=points, memory=memory)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd="/")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--against", type=Path, default=None, help="the other checkout (default: none)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    this = HERE.parent
    checkouts = {"this": this, **({"other": args.against.resolve()} if args.against else {})}
    result: dict = {"loadavg_start": os.getloadavg(), "sizes": {}}
    for n in args.points:
        row: dict = {}
        for name in checkouts:
            row[name] = {"ms_per_point": float("inf")}
        for _ in range(args.repeat):
            for name, path in checkouts.items():
                t = measure(path, n, memory=False)
                row[name]["ms_per_point"] = min(row[name]["ms_per_point"], t["ms_per_point"])
        for name, path in checkouts.items():
            m = measure(path, n, memory=True)
            row[name]["bytes_per_point"], row[name]["grown_per_point"] = m["bytes_per_point"], m["grown_per_point"]
        if "other" in row:
            row["speedup"] = row["other"]["ms_per_point"] / row["this"]["ms_per_point"]
            row["memory_ratio"] = row["other"]["bytes_per_point"] / row["this"]["bytes_per_point"]
        result["sizes"][n] = row
        print(n, json.dumps(row), flush=True)
    result["loadavg_end"] = os.getloadavg()
    print(f"load average: {result['loadavg_start']} -> {result['loadavg_end']}")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
