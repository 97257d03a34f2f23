"""Sweep benchmarks: the same sweep in-process and on a 2-worker LocalCluster, into HDF5.

Usage (from the repository root)::

    python3 benchmarks/bench_sweep.py [--quick] --out results/bench/sweep.json

Entries (``khan-acka-leo``, 3 points, 1e6-pulse batches, ~35 ms each):
* ``sync``: ``run_to_file(..., scheduler="sync")``, the plain in-process loop;
* ``local-2``: ``scheduler="local", workers=2`` (cluster start-up included, reported separately
  as ``startup_s`` from a run of one batch);
* ``overhead-per-batch``: 2000-pulse batches (~0.5 ms of work), sync, to show the per-batch cost
  of the loop plus the HDF5 append-and-flush.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_json  # noqa: E402

from qrate.scenario import load_scenario  # noqa: E402
from qrate.sweep.run import run_to_file  # noqa: E402


def _timed(scenario_args: list[str], folder: Path, name: str, **kw: object) -> float:
    s = load_scenario("khan-acka-leo", scenario_args)
    t0 = time.perf_counter()
    run_to_file(s, folder / f"{name}.h5", seed=1, quiet=True, overwrite=True, **kw)  # type: ignore[arg-type]
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="results/bench/sweep.json")
    args = parser.parse_args()
    batches = 8 if args.quick else 30
    big = ["sweep.ground_distance_km=[0, 150, 300]", "sampling.pulses_per_batch=1000000", f"sampling.batches={batches}"]
    small_n = 200 if args.quick else 1000
    small = ["sweep.ground_distance_km=[0]", "sampling.pulses_per_batch=2000", f"sampling.batches={small_n}"]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _timed(["sweep.ground_distance_km=[0]", "sampling.batches=1", "sampling.pulses_per_batch=1000"], folder, "warm", scheduler="sync")
        startup = _timed(["sweep.ground_distance_km=[0]", "sampling.batches=1", "sampling.pulses_per_batch=1000"], folder,
                         "startup", scheduler="local", workers=2)
        n_batches = 3 * batches
        for name, kw in (("sync", {"scheduler": "sync"}), ("local-2", {"scheduler": "local", "workers": 2})):
            wall = _timed(big, folder, name, **kw)
            results.append({"name": name, "batches": n_batches, "pulses_per_batch": 10**6, "wall_s": wall,
                            "batches_per_s": n_batches / wall})
        results[-1]["startup_s"] = startup
        wall = _timed(small, folder, "overhead", scheduler="sync")
        results.append({"name": "overhead-per-batch", "batches": small_n, "pulses_per_batch": 2000, "wall_s": wall,
                        "ms_per_batch": 1e3 * wall / small_n})
    path = write_json(args.out, "sweep", results, quick=args.quick)
    for r in results:
        print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
