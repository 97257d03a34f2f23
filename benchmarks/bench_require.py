"""Requirement search and expected values (issue "What it would take, part 2").

Usage (from the repository root)::

    python benchmarks/bench_require.py [--quick] [--out results/bench/require.json]

Figures (one core unless stated; CPU seconds of this process, so that other load on a shared
machine does not count, and wall seconds beside them):

* ``expected_points_per_s``: expected-value evaluation of a 1 000-point distance sweep of each
  Table I preset (``khan-acka-leo``, ``khan-broadcast-uav``): planning included (``plan_sweep`` +
  ``expected_sweep``), and the evaluation alone given the plans. Target: >= 1e4 points/s/core.
* ``threshold_s``: one threshold to 1e-3 relative precision with its Monte Carlo confirmation
  (10 batches): the LEO aperture radius for a key rate of 100 kbit/s at D = 1000 km
  (``qrate require khan-acka-leo --sweep ground_distance_km=1000 --vary
  links.leo.aperture_radius_m=0.1:3 --target 'key_rate_bps >= 1e5'``), in-process and as a
  ``qrate require`` subprocess (start-up included). Target: <= 2 s.
* ``frontier_50_s``: a 50-point frontier, the same threshold over 50 ground distances 0 … 1225 km,
  each confirmed by Monte Carlo. Target: <= 30 s on 2 cores (measured on one).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import write_json


def _clear_caches() -> None:
    from qrate.channels.freespace import weibull_mean_integral
    from qrate.require import expected

    weibull_mean_integral.cache_clear()
    expected._FLAG_RATES.clear()


def _timed(fn):  # type: ignore[no-untyped-def]
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def expected_rate(preset: str, n: int) -> dict[str, float]:
    from qrate.engine.grid import plan_sweep
    from qrate.require.expected import expected_sweep
    from qrate.scenario import load_scenario

    stop = 2000.0 if "leo" in preset else 200.0
    distances = ",".join(f"{stop * i / n:.6g}" for i in range(n))
    sc = load_scenario(preset, [], [f"ground_distance_km={distances}"])
    expected_sweep(plan_sweep(load_scenario(preset, [], ["ground_distance_km=0"])), 1, 1)  # warm imports and Numba
    _clear_caches()
    plans, w_plan, c_plan = _timed(lambda: plan_sweep(sc))
    s = sc.sampling
    _, w_ev, c_ev = _timed(lambda: expected_sweep(plans, s.pulses_per_batch, s.batches))
    return {
        "preset": preset,
        "points": n,
        "points_per_s_cpu": n / (c_plan + c_ev),
        "points_per_s_wall": n / (w_plan + w_ev),
        "evaluation_only_points_per_s_cpu": n / c_ev,
        "plan_us_per_point": 1e6 * c_plan / n,
        "evaluation_us_per_point": 1e6 * c_ev / n,
    }


def threshold(precision: float = 1e-3) -> dict[str, float]:
    from qrate.require.evaluate import Evaluator
    from qrate.require.request import parse_target, parse_vary
    from qrate.require.search import find_threshold
    from qrate.scenario import load_scenario

    def run():  # type: ignore[no-untyped-def]
        sc = load_scenario("khan-acka-leo", [], ["ground_distance_km=1000"])
        ev = Evaluator(sc, ["links.leo.aperture_radius_m"])
        return find_threshold(
            ev, parse_vary("links.leo.aperture_radius_m=0.1:3"), parse_target("key_rate_bps >= 1e5"), precision=precision
        )

    run()  # warm: imports and Numba compilation
    _clear_caches()  # no memoised link budgets or flag rates from the warm-up run
    req, wall, cpu = _timed(run)
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cmd = [
        sys.executable, "-m", "qrate.cli", "require", "khan-acka-leo", "--sweep", "ground_distance_km=1000",
        "--vary", "links.leo.aperture_radius_m=0.1:3", "--target", "key_rate_bps >= 1e5", "--json",
    ]  # fmt: skip
    w0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    cli_wall = time.perf_counter() - w0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cli_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    c = req.crossings[0]
    assert c.confirmation is not None
    return {
        "threshold_m": c.threshold,
        "interval_m": [c.confirmation.low, c.confirmation.high],
        "evaluations": req.evaluations,
        "in_process_wall_s": wall,
        "in_process_cpu_s": cpu,
        "cli_wall_s": cli_wall,
        "cli_cpu_s": cli_cpu,
    }


def frontier(points: int) -> dict[str, float]:
    from qrate.require.evaluate import Evaluator
    from qrate.require.frontier import find_frontier
    from qrate.require.request import parse_target, parse_vary
    from qrate.scenario import load_scenario

    values = [1225.0 * i / max(points - 1, 1) for i in range(points)]
    _clear_caches()
    sc = load_scenario("khan-acka-leo", [], ["ground_distance_km=0"])
    ev = Evaluator(sc, ["links.leo.aperture_radius_m", "ground_distance_km"], options={"ground_distance_km": "--over"})
    f, wall, cpu = _timed(
        lambda: find_frontier(
            ev, parse_vary("links.leo.aperture_radius_m=0.1:3"), parse_target("key_rate_bps >= 1e5"), "ground_distance_km", values
        )
    )
    found = sum(1 for r in f.requirements if r.crossings)
    return {
        "points": points,
        "found": found,
        "evaluations": sum(r.evaluations for r in f.requirements),
        "wall_s": wall,
        "cpu_s": cpu,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200-point sweeps, 10-point frontier")
    parser.add_argument("--out", default="results/bench/require.json")
    args = parser.parse_args()
    n = 200 if args.quick else 1000
    results = []
    for preset in ("khan-acka-leo", "khan-broadcast-uav"):
        r = expected_rate(preset, n)
        results.append({"name": f"expected_points_per_s {preset}", **r, "target": 1e4, "met": r["points_per_s_cpu"] >= 1e4})
        print(
            f"expected values, {preset}: {r['points_per_s_cpu']:.0f} points/s/core (CPU; plan {r['plan_us_per_point']:.0f} us"
            f" + evaluation {r['evaluation_us_per_point']:.0f} us per point); target 1e4"
        )
    t = threshold()
    results.append({"name": "threshold_s", **t, "target_s": 2.0, "met": min(t["cli_wall_s"], t["cli_cpu_s"]) <= 2.0})
    print(
        f"one threshold to 1e-3 with Monte Carlo confirmation: {t['in_process_wall_s']:.2f} s in-process"
        f" ({t['in_process_cpu_s']:.2f} s CPU, {t['evaluations']} evaluations), {t['cli_wall_s']:.2f} s wall ({t['cli_cpu_s']:.2f} s CPU) as qrate require, start-up included; target 2 s"
    )
    f = frontier(10 if args.quick else 50)
    results.append({"name": "frontier_s", **f, "target_s": 30.0, "met": f["wall_s"] <= 30.0})
    print(f"{f['points']}-point frontier: {f['wall_s']:.1f} s wall ({f['cpu_s']:.1f} s CPU, one core); target 30 s on 2 cores")
    print(write_json(args.out, "require", results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
