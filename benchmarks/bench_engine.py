"""Engine benchmarks: cost grows with heralded successes, not pulses.

Usage (from the repository root)::

    python3 benchmarks/bench_engine.py [--quick] --out results/bench/engine.json

Entries:
* ``ghz4-70db-iid``: Khan's Q-ACKA (GHZ-4 at GS1) with 70 dB total loss, one batch of 1e12 pulses,
  independent fading per pulse (one binomial draw + Stim on ~1e5 successes);
* ``ghz4-70db-block``: the same with a 1 ms coherence time, 1e9 pulses (1e6 blocks, Numba kernel);
* ``per-pulse-reference``: the slow reference path (Bernoulli per pulse per element), 1e6 pulses;
* ``preset-batch``: one 1e6-pulse batch of ``khan-acka-leo`` at D = 0 (Stim-dominated);
* ``preset-sweep``: the full ``khan-acka-leo`` sweep (9 points) with 2 batches per point.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from _common import best_time_s, write_json  # noqa: E402

from qrate.bench._plans import LEO, ghz4_plan, loss_db, preset_plan  # noqa: E402
from qrate.engine import herald_per_pulse, run_batch  # noqa: E402
from qrate.sweep import run_sweep  # noqa: E402
from qrate.engine.plan import compile_protocol  # noqa: E402
from qrate.scenario import load_scenario  # noqa: E402


def _entry(name: str, fn, pulses: int, repeat: int, **info) -> dict:  # type: ignore[no-untyped-def]
    seconds = best_time_s(fn, repeat=repeat, min_time_s=0.0)
    out = {"name": name, "pulses": pulses, "seconds": seconds, "pulses_per_s": pulses / seconds, **info}
    print(f"{name:22s} {seconds:9.4f} s  {pulses / seconds:10.3e} pulses/s  {info}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--out", default="results/bench/engine.json")
    args = parser.parse_args(argv)
    repeat = 2 if args.quick else 5
    results = []

    _, plan = ghz4_plan(70.0)
    compiled = compile_protocol(plan)
    n = 10**12
    k = run_batch(plan, compiled, 1, 0, n).successes
    results.append(_entry("ghz4-70db-iid", lambda: run_batch(plan, compiled, 1, 0, n), n, repeat,
                          total_loss_db=round(loss_db(plan), 3), successes=k))

    _, plan_b = ghz4_plan(70.0, coherence_time_s=1e-3)
    compiled_b = compile_protocol(plan_b)
    nb = 10**9
    k = run_batch(plan_b, compiled_b, 1, 0, nb).successes
    results.append(_entry("ghz4-70db-block", lambda: run_batch(plan_b, compiled_b, 1, 0, nb), nb, repeat,
                          blocks=nb // plan_b.block_pulses, successes=k))

    _, plan_p = preset_plan(LEO, 0.0)
    compiled_p = compile_protocol(plan_p)
    rng = np.random.default_rng(1)
    results.append(_entry("per-pulse-reference", lambda: herald_per_pulse(plan_p, 10**6, rng), 10**6, repeat))
    k = run_batch(plan_p, compiled_p, 1, 0, 10**6).successes
    results.append(_entry("preset-batch", lambda: run_batch(plan_p, compiled_p, 1, 0, 10**6), 10**6, repeat, successes=k))

    sweep = load_scenario("khan-acka-leo", ["sampling.batches=2"])
    start = time.perf_counter()
    run_sweep(sweep, 1)
    seconds = time.perf_counter() - start
    pulses = 9 * 2 * sweep.sampling.pulses_per_batch
    results.append({"name": "preset-sweep", "pulses": pulses, "seconds": seconds, "pulses_per_s": pulses / seconds})
    print(f"{'preset-sweep':22s} {seconds:9.4f} s  {pulses / seconds:10.3e} pulses/s  (9 points x 2 batches, one run)")

    path = write_json(args.out, "engine", results, quick=args.quick)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
