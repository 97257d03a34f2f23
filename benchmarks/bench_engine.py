"""Engine benchmarks: one batch, exact counter sampler vs per-shot stim, and the extreme-loss cases.

Usage (from the repository root)::

    python benchmarks/bench_engine.py [--quick] [--out results/bench/engine.json]

Entries:
* ``batch``: one ``run_batch`` of 3.125e6 pulses (the reference figures' batch) for
  ``khan-acka-leo`` at D = 0 and 2000 km and ``khan-broadcast-uav`` at D = 0 and 200 km (its far
  end), with ``sampler = "exact"`` and ``"stim"`` timed side by side: each repetition times every
  case once in turn (so load from other processes hits all cases alike); best of ``--repeat``
  (default 7; stim calls are run once per repetition, exact calls loop to >= 50 ms);
* ``ghz4-70db-iid``: Khan's Q-ACKA (GHZ-4 at GS1) with 70 dB total loss, one batch of 1e12 pulses,
  independent fading (one binomial draw + the exact sampler on ~1e5 successes);
* ``ghz4-70db-block``: the same with a 1 ms coherence time, 1e9 pulses (1e6 blocks, Numba kernel);
* ``per-pulse-reference``: the slow reference path (Bernoulli per pulse per element), 1e6 pulses;
* ``per-batch-cost``: the whole cost of one batch of 1e6 pulses at ``khan-acka-leo``, 500 km (a
  sweep's unit of work: streams, heralding, moments, counters, statistics), ``run_batch`` alone
  and per batch of ``run_batches`` over 10 batches (what a sweep task runs), side by side, with
  their ratio and the ratio to the 50 us budget of a 10^6-point sweep in minutes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from _common import best_time_s, write_json  # noqa: E402

from qrate.bench._plans import LEO, UAV, far_end_km, ghz4_plan, loss_db, preset_plan  # noqa: E402
from qrate.engine import herald_per_pulse, run_batch  # noqa: E402
from qrate.engine.batch import run_batches  # noqa: E402

BATCH_PULSES = 3_125_000


def _loop_s(fn, min_time_s: float) -> float:  # type: ignore[no-untyped-def]
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time_s:
            return elapsed / calls


def batches(repeat: int, pulses: int) -> list[dict]:
    """Per-batch seconds, exact vs stim, every case timed once per repetition, best of ``repeat``."""
    cases = []
    for preset in (LEO, UAV):
        for d in (0.0, far_end_km(preset)):
            _, plan = preset_plan(preset, d)
            comp = {s: plan.protocol.compile(plan.noise, sampler=s) for s in ("exact", "stim")}
            for c in comp.values():
                run_batch(plan, c, 1, 0, pulses)  # warm-up: JIT, exact plans
            cases.append((preset, d, plan, comp))
    best = {(p, d, s): float("inf") for p, d, _, comp in cases for s in comp}
    for i in range(repeat):
        for preset, d, plan, comp in cases:
            for s, c in comp.items():
                t = _loop_s(lambda c=c, i=i, p=plan: run_batch(p, c, 1, i, pulses), 0.05 if s == "exact" else 0.0)
                best[(preset, d, s)] = min(best[(preset, d, s)], t)
    out = []
    print(f"{'preset':20s} {'D km':>6s} {'loss dB':>7s} {'successes':>10s} {'exact ms':>9s} {'stim ms':>9s} {'stim/exact':>10s}")
    for preset, d, plan, comp in cases:
        k = run_batch(plan, comp["exact"], 1, 0, pulses).successes
        te, ts = best[(preset, d, "exact")], best[(preset, d, "stim")]
        out.append({"name": "batch", "preset": preset, "ground_distance_km": d, "pulses": pulses, "successes": k,
                    "total_loss_db": loss_db(plan), "exact_s": te, "stim_s": ts, "stim_over_exact": ts / te,
                    "exact_pulses_per_s": pulses / te, "stim_pulses_per_s": pulses / ts,
                    "round_samplers": comp["exact"].round_samplers, "repeat": repeat})
        print(f"{preset:20s} {d:6g} {loss_db(plan):7.2f} {k:10d} {te * 1e3:9.3f} {ts * 1e3:9.2f} {ts / te:10.1f}")
    return out


PER_BATCH_BUDGET_S = 50e-6
"""Per-batch budget of a 10^6-point x 10-batch sweep in minutes (issue 22)."""


def per_batch_cost(repeat: int) -> dict:
    """Seconds per batch of ``run_batch`` and of ``run_batches`` (10 at a time), timed in turn."""
    _, plan = preset_plan(LEO, 500.0)
    compiled = plan.protocol.compile(plan.noise, sampler=plan.sampler)
    pulses, n = 10**6, 500
    for b in range(20):
        run_batch(plan, compiled, 1, b, pulses)  # warm-up: JIT, exact plans

    def single() -> None:
        for b in range(n):
            run_batch(plan, compiled, 1, b, pulses)

    def vector() -> None:
        for b in range(0, n, 10):
            run_batches(plan, compiled, 1, b, 10, pulses)

    best = {"run_batch": float("inf"), "run_batches": float("inf")}
    for _ in range(repeat):
        for name, fn in (("run_batch", single), ("run_batches", vector)):
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], (time.perf_counter() - start) / n)
    one, ten = best["run_batch"], best["run_batches"]
    out = {"name": "per-batch-cost", "preset": LEO, "ground_distance_km": 500.0, "pulses": pulses,
           "run_batch_s": one, "run_batches_10_s_per_batch": ten, "single_over_vectorised": one / ten,
           "vectorised_over_budget": ten / PER_BATCH_BUDGET_S, "budget_s": PER_BATCH_BUDGET_S, "repeat": repeat}
    print(f"per-batch-cost         run_batch {one * 1e6:7.1f} us  run_batches(10) {ten * 1e6:7.1f} us/batch  "
          f"ratio {one / ten:5.2f}  vs 50 us budget {ten / PER_BATCH_BUDGET_S:5.2f}")
    return out


def _entry(name: str, fn, pulses: int, repeat: int, **info) -> dict:  # type: ignore[no-untyped-def]
    seconds = best_time_s(fn, repeat=repeat, min_time_s=0.05)
    out = {"name": name, "pulses": pulses, "seconds": seconds, "pulses_per_s": pulses / seconds, **info}
    print(f"{name:22s} {seconds:9.4g} s  {pulses / seconds:10.3e} pulses/s  {info}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--repeat", type=int, default=None, help="repetitions of the side-by-side batch timing (default 7)")
    parser.add_argument("--out", default="results/bench/engine.json")
    args = parser.parse_args(argv)
    repeat = args.repeat or (3 if args.quick else 7)
    load = os.getloadavg()
    results = batches(repeat, BATCH_PULSES)
    results.append(per_batch_cost(repeat))

    _, plan = ghz4_plan(70.0)
    compiled = plan.protocol.compile(plan.noise)
    n = 10**12
    k = run_batch(plan, compiled, 1, 0, n).successes
    results.append(_entry("ghz4-70db-iid", lambda: run_batch(plan, compiled, 1, 0, n), n, repeat,
                          total_loss_db=round(loss_db(plan), 3), successes=k))
    _, plan_b = ghz4_plan(70.0, coherence_time_s=1e-3)
    compiled_b = plan_b.protocol.compile(plan_b.noise)
    nb = 10**9
    k = run_batch(plan_b, compiled_b, 1, 0, nb).successes
    results.append(_entry("ghz4-70db-block", lambda: run_batch(plan_b, compiled_b, 1, 0, nb), nb, repeat,
                          blocks=nb // plan_b.block_pulses, successes=k))
    _, plan_p = preset_plan(LEO, 0.0)
    rng = np.random.default_rng(1)
    results.append(_entry("per-pulse-reference", lambda: herald_per_pulse(plan_p, 10**6, rng), 10**6, 2 if args.quick else 3))

    path = write_json(args.out, "engine", results, quick=args.quick, loadavg_before=load, loadavg_after=os.getloadavg())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
