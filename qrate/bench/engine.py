"""Stages ``protocol``, ``end_to_end`` and ``reference_figures``.

* protocol: heralded shots/s of ``CompiledProtocol.sample_counts`` for both presets (D = 0 noise)
  with each counter sampler, side by side: ``(exact)`` the default exact sampler (one multinomial
  over each round's outcome classes, O(classes) per call whatever the shots; limit: the bare numpy
  draws it needs, the round split and one ``rng.multinomial`` per table round), ``(compiled)`` and
  ``(flip)`` per-shot stim (``sampler="stim"`` with that stim back end; limit: raw stim sampling
  of the main circuit with a precompiled sampler, no decoding). Then the exact sampler on Q-ACKA
  with every user a participant, 4 … 64 users (which sampler each size gets, plan time).
* end_to_end: simulated pulses/s/core of ``run_batch`` (heralding + protocol) for both presets at
  D = 0 and at the far end of their sweeps, exact and stim side by side, batches of 3.125e6 pulses
  (the reference figures' batch; 1e6 with ``quick``). Limit, stim: pulses/s if the only cost were
  raw stim sampling of the heralded shots (raw stim shots/s / mean success probability); exact:
  pulses/s if the only cost were the bare numpy draws of a batch (one binomial, the exact
  sampler's multinomials and the 1024-sample transmittance moment estimate per downlink at the
  kernel's rate). Then the 70 dB GHZ-4 scenario (independent and 1 ms block fading; block
  fading's limit: one transmittance draw per downlink per block at the kernel's rate).
* reference_figures: both reference figures (41 distances, 1e8 pulses per point in 32 batches of
  3.125e6) in this process on one core: all 32 batches (``quick``: 4, projected); then (full suite)
  end to end as ``qrate run`` subprocesses, start-up included, one figure after the other, with
  ``--scheduler auto`` and ``--scheduler local --workers 2``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from qrate.bench._plans import LEO, UAV, far_end_km, ghz4_plan, loss_db, preset_plan
from qrate.bench._timing import best_time_s, row
from qrate.channels import sample_transmittance
from qrate.engine import PointPlan, run_batch
from qrate.protocols._decode import CHUNK_SHOTS
from qrate.protocols.compiled import CompiledProtocol
from qrate.protocols.exact import TablePlan, clear_plan_cache
from qrate.scenario import Scenario, load_scenario
from qrate.stats import MOMENT_SAMPLES as STATS_MOMENT_SAMPLES
from qrate.sweep import run_sweep

REFERENCE_PULSES_PER_POINT = 10**8
REFERENCE_BATCHES = 32
REFERENCE_STEP_KM = {LEO: 50.0, UAV: 5.0}
STIM_METHODS = ("compiled", "flip")
SCALING_USERS = (4, 8, 16, 32, 64)
MOMENT_SAMPLES = STATS_MOMENT_SAMPLES
"""Transmittance draws per downlink per batch for the moments (:data:`qrate.stats.MOMENT_SAMPLES`)."""


def raw_stim_shots_per_s(compiled: CompiledProtocol, shots: int, repeat: int) -> float:
    """Raw stim shots/s of the main (first, most frequent) round's circuit: sampler compiled once, no decoding, best of
    one call and chunks of ``CHUNK_SHOTS`` (bool) or 8192 (bit-packed) shots."""
    circuit = compiled.rounds[0].circuit
    sampler = circuit.compile_sampler(seed=1)
    best = 0.0
    for chunk, packed in ((shots, False), (CHUNK_SHOTS, False), (8192, True)):
        n = max(1, shots // chunk)

        def draw(c: int = chunk, b: bool = packed, k: int = n) -> None:
            for _ in range(k):
                sampler.sample(c, bit_packed=b)

        t = best_time_s(draw, repeat=repeat, min_time_s=0.05)
        best = max(best, n * chunk / t)
    return best


def exact_floor_s(compiled: CompiledProtocol, shots: int, repeat: int) -> float:
    """Seconds of the bare numpy draws the exact sampler needs for ``shots`` shots: the multinomial
    split between the rounds and one ``rng.multinomial`` per table round (sequential rounds: none)."""
    rng = np.random.default_rng(1)
    p = np.array([r.probability for r in compiled.rounds], dtype=float)
    p /= p.sum()
    tables = [plan.probabilities for plan in compiled.plans if isinstance(plan, TablePlan)]

    def draws() -> None:
        split = rng.multinomial(shots, p)
        for n, q in zip(split, tables):
            rng.multinomial(n, q)

    return best_time_s(draws, repeat=repeat, min_time_s=0.05)


def _compile(plan: PointPlan, sampler: str, method: str = "compiled") -> CompiledProtocol:
    return plan.protocol.compile(plan.noise, sampler=sampler, method=method)


def _classes(compiled: CompiledProtocol) -> int | None:
    sizes = [p.probabilities.size for p in compiled.plans if isinstance(p, TablePlan)]
    return sum(sizes) if len(sizes) == len(compiled.plans) else None


def protocol(quick: bool) -> list[dict[str, Any]]:
    """Heralded shots/s of both presets' protocols (D = 0 noise): exact sampler vs per-shot stim
    (compiled and flip back ends), each against its own limit; then the exact sampler vs users."""
    shots = 100_000 if quick else 1_000_000
    repeat = 2 if quick else 5
    out = []
    for preset in (LEO, UAV):
        _, plan = preset_plan(preset, 0.0)
        exact = _compile(plan, "exact")
        circ = exact.rounds[0].circuit
        info = {"protocol": exact.name, "shots": shots, "qubits": circ.num_qubits, "measurements": circ.num_measurements}
        raw = raw_stim_shots_per_s(exact, shots, repeat)
        t_stim = {}
        for method in STIM_METHODS:
            comp = _compile(plan, "stim", method)
            t_stim[method] = best_time_s(partial(comp.sample_counts, shots, 1), repeat=repeat, min_time_s=0.05)
        t_ex = best_time_s(partial(exact.sample_counts, shots, 1), repeat=repeat, min_time_s=0.05)
        floor = exact_floor_s(exact, shots, repeat)
        out.append(
            row(
                "protocol",
                f"{preset} sample_counts (exact)",
                shots / t_ex,
                shots / floor,
                unit="heralded shots/s/core",
                sampler="exact",
                round_samplers=exact.round_samplers,
                classes=_classes(exact),
                seconds_per_call=t_ex,
                stim_compiled_over_exact=t_stim["compiled"] / t_ex,
                **info,
                limit="bare numpy draws: round split + one rng.multinomial per table round (O(classes), not O(shots))",
            )
        )
        for method in STIM_METHODS:
            out.append(
                row(
                    "protocol",
                    f"{preset} sample_counts ({method})",
                    shots / t_stim[method],
                    raw,
                    unit="heralded shots/s/core",
                    sampler="stim",
                    method=method,
                    seconds_per_call=t_stim[method],
                    **info,
                    limit="raw stim: precompiled sampler, best chunking, no decoding",
                )
            )
    out.extend(exact_scaling(quick))
    return out


def exact_scaling(quick: bool) -> list[dict[str, Any]]:
    """The exact sampler on Q-ACKA with every user a participant (chains of 8-user networks, Z flips 0.02 on every
    fiber photon, readout flips 1e-5): sampler of the key round, plan time (cache cleared), one call at 1e6 shots."""
    from qrate.protocols import AnonymousConferenceKeyAgreement, PauliNoise, chain_layout

    shots = 1_000_000
    repeat = 2 if quick else 3
    out = []
    for n in (4, 16, 64) if quick else SCALING_USERS:
        layout = chain_layout(tuple([8] * (n // 8)) if n >= 8 else (n,))
        spec = AnonymousConferenceKeyAgreement(layout, layout.users, layout.users[0], 0.1)
        noise = PauliNoise(z_flip={u: 0.02 for u in layout.users}, readout_flip=1e-5)
        ex = spec.compile(noise)

        def plan(c: CompiledProtocol = ex) -> None:
            clear_plan_cache()
            c.__dict__.pop("plans", None)
            _ = c.plans

        t_plan = best_time_s(plan, repeat=repeat, min_time_s=0.0)
        t_ex = best_time_s(partial(ex.sample_counts, shots, 1), repeat=repeat, min_time_s=0.05)
        key = ex.plans[0]
        out.append(
            row(
                "protocol",
                f"acka, {n} users (all participants): sample_counts (exact)",
                shots / t_ex,
                None,
                unit="heralded shots/s/core",
                users=n,
                networks=max(1, n // 8),
                shots=shots,
                seconds_per_call=t_ex,
                plan_s=t_plan,
                round_samplers=ex.round_samplers,
                key_sampler=key.kind,
                max_open=getattr(key, "max_open", None),
                parities=len(ex.rounds[0].parities),
            )
        )
    return out


def _e2e(name: str, plan: PointPlan, pulses: int, repeat: int, sampler: str = "exact", **info: Any) -> dict[str, Any]:
    compiled = _compile(plan, sampler)
    rng = np.random.default_rng(3)
    nk = 1_000_000
    tk = best_time_s(lambda: sample_transmittance(plan.downlinks[0].budget, nk, rng), repeat=repeat, min_time_s=0.05)
    kernel_per_s = nk / tk
    k = run_batch(plan, compiled, 1, 0, pulses).successes
    if sampler == "stim":
        raw = raw_stim_shots_per_s(compiled, 200_000, 2)
        limit, what = raw / plan.p_success_expected, "raw stim shots/s / mean success probability"
    else:
        uses = k // plan.protocol.carriers_per_use
        floor = exact_floor_s(compiled, max(uses, 1), repeat) + best_time_s(
            lambda: rng.binomial(pulses, 0.5), repeat=repeat, min_time_s=0.02
        )
        if not plan.block_pulses:
            floor += MOMENT_SAMPLES * len(plan.downlinks) / kernel_per_s
        limit, what = (
            pulses / floor,
            (
                "bare numpy draws of a batch: one binomial, the exact sampler's multinomials"
                + ("" if plan.block_pulses else ", 1024 transmittance draws per downlink at the kernel's rate")
            ),
        )
    if plan.block_pulses:
        herald_limit = kernel_per_s / len(plan.downlinks) * plan.block_pulses
        limit = 1.0 / (1.0 / limit + 1.0 / herald_limit)
        what += ", combined with transmittance kernel samples/s / downlinks x pulses per block"
    t = best_time_s(lambda: run_batch(plan, compiled, 1, 0, pulses), repeat=repeat, min_time_s=0.0 if sampler == "stim" else 0.05)
    return row(
        "end_to_end",
        name,
        pulses / t,
        limit,
        unit="pulses/s/core",
        sampler=sampler,
        pulses=pulses,
        ground_distance_km=plan.ground_distance_km,
        total_loss_db=loss_db(plan),
        successes=k,
        seconds_per_batch=t,
        limit=what,
        **info,
    )


def end_to_end(quick: bool) -> list[dict[str, Any]]:
    """Simulated pulses/s/core of one batch per scenario, exact and stim side by side."""
    repeat = 2 if quick else 5
    pulses = 1_000_000 if quick else REFERENCE_PULSES_PER_POINT // REFERENCE_BATCHES
    out = []
    for preset in (LEO, UAV):
        for d in (0.0, far_end_km(preset)):
            _, plan = preset_plan(preset, d)
            ex = _e2e(f"{preset} D = {d:g} km (exact)", plan, pulses, repeat, "exact")
            st = _e2e(f"{preset} D = {d:g} km (stim)", plan, pulses, repeat, "stim")
            ex["stim_over_exact"] = st["seconds_per_batch"] / ex["seconds_per_batch"]
            out += [ex, st]
    _, plan = ghz4_plan(70.0)
    out.append(_e2e("GHZ-4 70 dB, independent fading (exact)", plan, 10**12, repeat))
    _, plan = ghz4_plan(70.0, coherence_time_s=1e-3)
    n = 10**8 if quick else 10**9
    out.append(_e2e("GHZ-4 70 dB, 1 ms block fading (exact)", plan, n, repeat, blocks=n // plan.block_pulses))
    return out


def reference_overrides(preset: str, batches: int = REFERENCE_BATCHES) -> list[str]:
    """``--set`` overrides of a reference figure's sweep: 41 distances, 1e8 pulses per point in 32 batches."""
    stop = far_end_km(preset)
    return [
        f"sweep.ground_distance_km={{start_km = 0.0, stop_km = {stop!r}, step_km = {REFERENCE_STEP_KM[preset]!r}}}",
        f"sampling.pulses_per_batch={REFERENCE_PULSES_PER_POINT // REFERENCE_BATCHES}",
        f"sampling.batches={batches}",
    ]


def reference_scenario(preset: str, batches: int, extra: list[str] | tuple[str, ...] = ()) -> Scenario:
    """A reference figure's sweep (``batches`` of its 32 batches run), with ``extra`` overrides."""
    return load_scenario(preset, [*reference_overrides(preset, batches), *extra])


def qrate_run_s(
    preset: str, overrides: list[str], scheduler: list[str], out: Path, sweeps: tuple[str, ...] | list[str] = ()
) -> float:
    """Wall seconds of ``python -m qrate.cli run PRESET ... --quiet`` as a subprocess (start-up included)."""
    cmd = [sys.executable, "-m", "qrate.cli", "run", preset, "--out", str(out), "--overwrite", "--quiet", *scheduler]
    for o in overrides:
        cmd += ["--set", o]
    for s in sweeps:
        cmd += ["--sweep", s]
    env = {**os.environ, "NUMBA_NUM_THREADS": os.environ.get("NUMBA_NUM_THREADS", "1")}
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    return time.perf_counter() - start


SCHEDULERS: dict[str, list[str]] = {
    "auto": ["--scheduler", "auto"],
    "sync": ["--scheduler", "sync"],
    "local-2": ["--scheduler", "local", "--workers", "2"],
}


def reference_figures_cli(schedulers: tuple[str, ...] = ("auto", "local-2"), repeat: int = 1) -> list[dict[str, Any]]:
    """Both reference figures end to end as ``qrate run`` subprocesses, one after the other (start-up
    included), per scheduler; best of ``repeat``."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in schedulers:
            best = {LEO: float("inf"), UAV: float("inf")}
            for _ in range(repeat):
                for preset in (LEO, UAV):
                    t = qrate_run_s(preset, reference_overrides(preset), SCHEDULERS[name], Path(tmp) / f"{preset}.h5")
                    best[preset] = min(best[preset], t)
            total = best[LEO] + best[UAV]
            out.append(
                row(
                    "reference_figures",
                    f"both reference figures, qrate run --scheduler {name} (subprocesses)",
                    1.0 / total,
                    None,
                    unit="figure-pairs/s",
                    scheduler=" ".join(SCHEDULERS[name]),
                    seconds=total,
                    seconds_leo=best[LEO],
                    seconds_uav=best[UAV],
                    startup_included=True,
                    repeat=repeat,
                    pulses_per_point=REFERENCE_PULSES_PER_POINT,
                    batches_per_point=REFERENCE_BATCHES,
                    points=82,
                )
            )
    return out


def reference_figures(quick: bool) -> list[dict[str, Any]]:
    """Seconds on one core for both reference figures (all batches, or projected from 4 with ``quick``);
    then (full suite) both figures as ``qrate run`` subprocesses."""
    batches = 4 if quick else REFERENCE_BATCHES
    out = []
    total = 0.0
    for preset in (LEO, UAV):
        s = reference_scenario(preset, batches)
        run_sweep(reference_scenario(preset, 1, ["sweep.ground_distance_km=[0.0]"]), 1)  # warm-up (JIT, exact plans)
        points = len(s.sweep.distances_km())
        start = time.perf_counter()
        run_sweep(s, s.sampling.seed)
        seconds = time.perf_counter() - start
        projected = seconds * REFERENCE_BATCHES / batches
        total += projected
        pulses = points * batches * s.sampling.pulses_per_batch
        out.append(
            row(
                "reference_figures",
                f"{preset} reference figure",
                pulses / seconds,
                None,
                unit="pulses/s/core",
                sampler=s.sampling.sampler,
                points=points,
                batches_run=batches,
                batches_full=REFERENCE_BATCHES,
                pulses_per_point_full=REFERENCE_PULSES_PER_POINT,
                measured_s=seconds,
                seconds_per_batch=seconds / (points * batches),
                projected_1core_s=projected,
                projected=batches < REFERENCE_BATCHES,
            )
        )
    out.append(
        row(
            "reference_figures",
            "both reference figures",
            1.0 / total,
            None,
            unit="figure-pairs/s/core",
            projected_1core_s=total,
            projected_2core_ideal_s=total / 2,
            projected=batches < REFERENCE_BATCHES,
            note="in-process, after warm-up: no interpreter start, imports, JIT or file writing",
        )
    )
    if not quick:
        out.extend(reference_figures_cli())
    return out
