"""Per-shot free-space transmittance throughput: Numba kernels vs plain numpy vs the raw RNG.

Run from the repository root:
    python3 benchmarks/bench_channels.py [--quick] --out results/bench/channels.json
Single-threaded (NUMBA_NUM_THREADS=1); reports samples per second on one core.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from _common import best_time_s, write_json  # noqa: E402

from qrate.bench.kernels import numpy_exact_table, numpy_weibull  # noqa: E402
from qrate.bench.kernels import scipy_exact_ncx2 as numpy_exact_ncx2  # noqa: E402
from qrate.channels import FreeSpaceLink, link_budget, sample_transmittance  # noqa: E402
from qrate.geometry import midpoint_geometry  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="10^5 samples per call, fewer repeats")
    p.add_argument("--out", default="results/bench/channels.json")
    args = p.parse_args()
    n = 100_000 if args.quick else 1_000_000
    repeat = 2 if args.quick else 5
    geo = midpoint_geometry(450.0, 1000.0)
    budgets = {m: link_budget(FreeSpaceLink(5e-6, 5e-7, 3.0, beam="far_field", model=m), geo) for m in ("exact", "weibull")}
    rng = np.random.default_rng(12345)
    cases = {
        "rng.random (raw PCG64 doubles)": lambda: rng.random(n),
        "rng.standard_exponential (ziggurat)": lambda: rng.standard_exponential(n),
        "numba weibull kernel": lambda: sample_transmittance(budgets["weibull"], n, rng),
        "numpy weibull (rng.weibull + exp)": lambda: numpy_weibull(budgets["weibull"], n, rng),
        "numba exact kernel (Hermite table)": lambda: sample_transmittance(budgets["exact"], n, rng),
        "numpy exact (same Hermite table)": lambda: numpy_exact_table(budgets["exact"], n, rng),
        "numpy exact (scipy ncx2.cdf per shot)": lambda: numpy_exact_ncx2(budgets["exact"], n // 10, rng),
    }
    results = []
    for name, fn in cases.items():
        shots = n // 10 if "ncx2" in name else n
        t = best_time_s(fn, repeat=repeat, min_time_s=0.1 if args.quick else 0.3)
        results.append({"name": name, "shots": shots, "seconds": t, "samples_per_s": shots / t})
        print(f"{name:42s} {shots / t / 1e6:9.2f} M samples/s", flush=True)
    exp_rate = results[1]["samples_per_s"]
    for r in results:
        r["fraction_of_exponential_rng"] = r["samples_per_s"] / exp_rate
    out = write_json(args.out, "channels", results, samples_per_call=n, quick=args.quick)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
