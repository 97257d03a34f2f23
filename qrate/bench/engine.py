"""Stages ``protocol``, ``end_to_end`` and ``reference_figures``.

* protocol: heralded shots/s of ``CompiledProtocol.sample_counts`` (round split, stim sampling,
  decoding, counting) vs raw stim sampling of the protocol's main circuit with a precompiled
  sampler (no decoding): the limit of this stage.
* end_to_end: simulated pulses/s/core of ``run_batch`` (heralding + protocol) for both presets at
  D = 0 and at the far end of their sweeps, and for the 70 dB GHZ-4 scenario (independent and
  1 ms block fading). Limit: pulses/s if the only cost were raw stim sampling of the heralded
  shots, i.e. raw stim shots/s / mean success probability (block fading: combined with one
  transmittance draw per downlink per block at the kernel's rate).
* reference_figures: both reference figures (41 distances, 1e8 pulses per point in 32 batches of
  3.125e6) on one core; the quick suite runs one batch per point and projects, the full suite
  runs a quarter of the batches and projects (``projected`` says so).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from qrate.bench._plans import LEO, UAV, far_end_km, ghz4_plan, loss_db, preset_plan
from qrate.bench._timing import best_time_s, row
from qrate.channels import sample_transmittance
from qrate.engine import PointPlan, compile_protocol, run_batch
from qrate.protocols._decode import CHUNK_SHOTS
from qrate.protocols.compiled import CompiledProtocol
from qrate.scenario import Scenario, load_scenario
from qrate.sweep import run_sweep

REFERENCE_PULSES_PER_POINT = 10**8
REFERENCE_BATCHES = 32
REFERENCE_STEP_KM = {LEO: 50.0, UAV: 5.0}


def raw_stim_shots_per_s(compiled: CompiledProtocol, shots: int, repeat: int) -> float:
    """Raw stim shots/s of the main (first, most frequent) round's circuit: sampler compiled once, no decoding, best of
    one call and chunks of ``CHUNK_SHOTS`` (bool) or 8192 (bit-packed) shots."""
    circuit = compiled.rounds[0].circuit
    sampler = circuit.compile_sampler(seed=1)
    best = 0.0
    for chunk, packed in ((shots, False), (CHUNK_SHOTS, False), (8192, True)):
        n = max(1, shots // chunk)
        t = best_time_s(lambda c=chunk, b=packed, k=n: [sampler.sample(c, bit_packed=b) for _ in range(k)], repeat=repeat, min_time_s=0.05)
        best = max(best, n * chunk / t)
    return best


def protocol(quick: bool) -> list[dict[str, Any]]:
    """Heralded shots/s of both presets' protocols (D = 0 noise) vs raw stim on the same circuit."""
    shots = 100_000 if quick else 1_000_000
    repeat = 2 if quick else 5
    out = []
    for preset in (LEO, UAV):
        _, plan = preset_plan(preset, 0.0)
        compiled = compile_protocol(plan)
        raw = raw_stim_shots_per_s(compiled, shots, repeat)
        for method in ("compiled", "flip"):
            comp = compiled if method == "compiled" else plan.protocol.compile(plan.noise, method="flip")
            t = best_time_s(lambda c=comp: c.sample_counts(shots, 1), repeat=repeat, min_time_s=0.05)
            circ = compiled.rounds[0].circuit
            out.append(row("protocol", f"{preset} sample_counts ({method})", shots / t, raw, unit="heralded shots/s/core",
                           protocol=compiled.name, shots=shots, qubits=circ.num_qubits,
                           measurements=circ.num_measurements, limit="raw stim: precompiled sampler, best chunking, no decoding"))
    return out


def _e2e(name: str, plan: PointPlan, pulses: int, repeat: int, raw: float | None = None, **info: Any) -> dict[str, Any]:
    compiled = compile_protocol(plan)
    raw = raw if raw is not None else raw_stim_shots_per_s(compiled, 200_000, 2)
    limit, what = raw / plan.p_success_expected, "raw stim shots/s / mean success probability"
    if plan.block_pulses:
        rng = np.random.default_rng(3)
        nk = 1_000_000
        tk = best_time_s(lambda: sample_transmittance(plan.downlinks[0].budget, nk, rng), repeat=repeat, min_time_s=0.05)
        herald_limit = nk / tk / len(plan.downlinks) * plan.block_pulses
        limit = 1.0 / (1.0 / limit + 1.0 / herald_limit)
        what += ", combined with transmittance kernel samples/s / downlinks x pulses per block"
    t = best_time_s(lambda: run_batch(plan, compiled, 1, 0, pulses), repeat=repeat, min_time_s=0.0)
    k = run_batch(plan, compiled, 1, 0, pulses).successes
    return row("end_to_end", name, pulses / t, limit, unit="pulses/s/core", pulses=pulses,
               ground_distance_km=plan.ground_distance_km, total_loss_db=loss_db(plan), successes=k,
               seconds_per_batch=t, limit=what, **info)


def end_to_end(quick: bool) -> list[dict[str, Any]]:
    """Simulated pulses/s/core of one batch, per scenario."""
    repeat = 2 if quick else 5
    pulses = 1_000_000 if quick else REFERENCE_PULSES_PER_POINT // REFERENCE_BATCHES
    out = []
    for preset in (LEO, UAV):
        for d in (0.0, far_end_km(preset)):
            _, plan = preset_plan(preset, d)
            out.append(_e2e(f"{preset} D = {d:g} km", plan, pulses, repeat))
    _, plan = ghz4_plan(70.0)
    out.append(_e2e("GHZ-4 70 dB, independent fading", plan, 10**12, repeat))
    _, plan = ghz4_plan(70.0, coherence_time_s=1e-3)
    n = 10**8 if quick else 10**9
    out.append(_e2e("GHZ-4 70 dB, 1 ms block fading", plan, n, repeat, blocks=n // plan.block_pulses))
    return out


def reference_scenario(preset: str, batches: int) -> Scenario:
    """A reference figure's sweep: 41 distances, 1e8 pulses per point in 32 batches (``batches`` of them run)."""
    stop = far_end_km(preset)
    return load_scenario(preset, [
        f"sweep.ground_distance_km={{start_km = 0.0, stop_km = {stop!r}, step_km = {REFERENCE_STEP_KM[preset]!r}}}",
        f"sampling.pulses_per_batch={REFERENCE_PULSES_PER_POINT // REFERENCE_BATCHES}",
        f"sampling.batches={batches}",
    ])


def reference_figures(quick: bool) -> list[dict[str, Any]]:
    """Seconds on one core for both reference figures (projected from a fraction of the batches)."""
    batches = 1 if quick else REFERENCE_BATCHES // 4
    out = []
    total = 0.0
    for preset in (LEO, UAV):
        s = reference_scenario(preset, batches)
        points = len(s.sweep.distances_km())
        start = time.perf_counter()
        run_sweep(s, s.sampling.seed)
        seconds = time.perf_counter() - start
        projected = seconds * REFERENCE_BATCHES / batches
        total += projected
        pulses = points * batches * s.sampling.pulses_per_batch
        out.append(row("reference_figures", f"{preset} reference figure", pulses / seconds, None, unit="pulses/s/core",
                       points=points, batches_run=batches, batches_full=REFERENCE_BATCHES,
                       pulses_per_point_full=REFERENCE_PULSES_PER_POINT, measured_s=seconds,
                       projected_1core_s=projected, projected=batches < REFERENCE_BATCHES))
    out.append(row("reference_figures", "both reference figures", 1.0 / total, None, unit="figure-pairs/s/core",
                   projected_1core_s=total, projected_2core_ideal_s=total / 2, projected=True))
    return out
