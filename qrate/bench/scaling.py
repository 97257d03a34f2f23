"""Stage ``dask``: sweep speed-up from 1 to 2 Dask workers, per-task overhead, and (full suite)
both reference figures measured on 2 workers.

With the exact counter sampler a reference-figure batch costs ~0.3 ms, so both reference figures
are ~1 s of work in all: too little for Dask to matter or to measure its scaling. The speed-up is
measured on a sweep that really is compute-bound: the LEO reference figure with
``sampling.sampler = "stim"`` (every heralded shot sampled by stim, ~10-90 ms per 3.125e6-pulse
batch), 41 points x ``HEAVY_BATCHES`` batches: about 2.5 s (quick) or 21 s (full) of single-core
work. Same rows whatever ran them; only the time changes.

Uses the sweep layer (:func:`qrate.sweep.open_client`, :func:`qrate.sweep.iter_collect`): a
LocalCluster with one single-threaded worker process per core; tasks are ranges of one point's
batches sized to ``qrate.sweep.collect.TASK_TARGET_S``. Times run from the first submission to
the last accepted batch (cluster start-up is reported separately as ``cluster_startup_s``,
results are not written to a file). Per-task overhead: the same sweep of tiny batches (1000
pulses) on one worker minus in-process (``sync``) time, divided by the number of tasks.
"""

from __future__ import annotations

import time
from typing import Any

from qrate.bench._plans import LEO, UAV
from qrate.bench._timing import row
from qrate.bench.engine import REFERENCE_BATCHES, reference_scenario
from qrate.engine import plan_sweep
from qrate.scenario import Scenario, load_scenario

HEAVY_BATCHES = {True: 2, False: 16}
"""Batches per point of the heavy (stim-sampler) LEO reference sweep: quick, full."""
HEAVY_OVERRIDES = ('sampling.sampler="stim"',)


def heavy_scenario(quick: bool) -> Scenario:
    """The LEO reference figure with per-shot stim counters (41 points, ``HEAVY_BATCHES`` batches of 3.125e6 pulses)."""
    return reference_scenario(LEO, HEAVY_BATCHES[quick], HEAVY_OVERRIDES)


def _cpu_s() -> float:
    """CPU seconds of this process so far (client, scheduler and, in-process, the batches)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _collect(scenarios: list[Scenario], client: Any) -> tuple[float, int, int, float, float]:
    """Run the sweeps on ``client`` (None: in-process); (seconds, batches, pulses, summed in-batch seconds,
    CPU seconds of this process)."""
    from qrate.sweep import Limits
    from qrate.sweep.collect import iter_collect

    batches = pulses = 0
    busy = 0.0
    cpu0 = _cpu_s()
    start = time.perf_counter()
    for s in scenarios:
        plans = plan_sweep(s)
        for step in iter_collect(
            plans, s.sampling.seed or 0, Limits.from_sampling(s.sampling), s.sampling.pulses_per_batch, client=client
        ):
            batches += len(step.new)
            pulses += sum(int(st.pulses) for _, _, st in step.new)
            busy += sum(float(st.seconds) for _, _, st in step.new)
    return time.perf_counter() - start, batches, pulses, busy, _cpu_s() - cpu0


def _warm(sampler: str) -> list[Scenario]:
    return [
        load_scenario(
            LEO,
            [
                "sweep.ground_distance_km=[0]",
                "sampling.batches=4",
                "sampling.pulses_per_batch=1000",
                f'sampling.sampler="{sampler}"',
            ],
        )
    ]


def on_workers(scenarios: list[Scenario], workers: int | None) -> dict[str, float]:
    """Run on ``workers`` LocalCluster workers (None: in-process, after a warm-up in this process)."""
    from qrate.sweep.scheduler import open_client

    sampler = scenarios[0].sampling.sampler
    if workers is None:
        _collect(_warm(sampler), None)  # warm-up (JIT, stim, exact plans) in this process
        seconds, batches, pulses, busy, cpu = _collect(scenarios, None)
        return {"seconds": seconds, "batches": batches, "pulses": pulses, "startup_s": 0.0, "task_s": busy, "client_cpu_s": cpu}
    t0 = time.perf_counter()
    with open_client("local", workers) as client:
        startup = time.perf_counter() - t0
        _collect(_warm(sampler), client)  # every worker imports qrate and compiles its kernels
        seconds, batches, pulses, busy, cpu = _collect(scenarios, client)
    return {"seconds": seconds, "batches": batches, "pulses": pulses, "startup_s": startup, "task_s": busy, "client_cpu_s": cpu}


def dask(quick: bool) -> list[dict[str, Any]]:
    """Speed-up 1 -> 2 workers on the stim-sampler LEO reference sweep, per-task overhead, reference figures on 2 workers."""
    sweep = [heavy_scenario(quick)]
    label = f"LEO reference sweep, sampler=stim, {HEAVY_BATCHES[quick]} batches/point"
    sync = on_workers(sweep, None)
    one = on_workers(sweep, 1)
    two = on_workers(sweep, 2)
    speedup = one["seconds"] / two["seconds"]
    out = [
        row(
            "dask",
            f"{label}, {name}",
            r["pulses"] / r["seconds"],
            None,
            unit="pulses/s",
            workers=w,
            batches=r["batches"],
            seconds=r["seconds"],
            cluster_startup_s=r["startup_s"],
            summed_task_wall_s=r["task_s"],
            seconds_with_startup=r["seconds"] + r["startup_s"],
            client_cpu_s=r["client_cpu_s"],
        )
        for name, w, r in (("in-process (no Dask)", 0, sync), ("1 worker", 1, one), ("2 workers", 2, two))
    ]
    with_startup = (one["seconds"] + one["startup_s"]) / (two["seconds"] + two["startup_s"])
    out.append(
        row(
            "dask",
            "speed-up 1 -> 2 workers",
            speedup,
            2.0,
            unit="x",
            efficiency=speedup / 2.0,
            speedup_with_startup=with_startup,
            single_core_work_s=sync["seconds"],
            workload=label,
            limit="ideal linear scaling (2x)",
        )
    )
    tiny = [load_scenario(LEO, ["sampling.pulses_per_batch=1000", f"sampling.batches={10 if quick else 40}"])]
    sync = on_workers(tiny, None)
    d1 = on_workers(tiny, 1)
    overhead = (d1["seconds"] - sync["seconds"]) / d1["batches"]
    out.append(
        row(
            "dask",
            "per-batch overhead (1 worker, 1000-pulse batches)",
            1.0 / overhead if overhead > 0 else float("inf"),
            None,
            unit="batches/s of pure overhead",
            batches=d1["batches"],
            overhead_ms_per_batch=overhead * 1e3,
            sync_ms_per_batch=sync["seconds"] / sync["batches"] * 1e3,
            dask_ms_per_batch=d1["seconds"] / d1["batches"] * 1e3,
            note="tasks group batches (about TASK_TARGET_S each), so this is the Dask cost spread over a task's batches",
        )
    )
    if not quick:
        figs = [reference_scenario(LEO, REFERENCE_BATCHES), reference_scenario(UAV, REFERENCE_BATCHES)]
        r = on_workers(figs, 2)
        out.append(
            row(
                "dask",
                "both reference figures, 2 workers (measured)",
                r["pulses"] / r["seconds"],
                None,
                unit="pulses/s",
                workers=2,
                batches=r["batches"],
                seconds=r["seconds"],
                cluster_startup_s=r["startup_s"],
                summed_task_wall_s=r["task_s"],
                seconds_with_startup=r["seconds"] + r["startup_s"],
                pulses_per_point=10**8,
                batches_per_point=REFERENCE_BATCHES,
                points=82,
                note="exact sampler; seconds exclude the LocalCluster start-up (see cluster_startup_s)",
            )
        )
    return out
