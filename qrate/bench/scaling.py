"""Stage ``dask``: sweep speed-up from 1 to 2 Dask workers, per-task overhead, and (full suite)
both reference figures measured on 2 workers.

Uses the sweep layer (:func:`qrate.sweep.open_client`, :func:`qrate.sweep.iter_collect`): a
LocalCluster with one single-threaded worker process per core. Times run from the first
submission to the last accepted batch (cluster start-up is reported separately, results are not
written to a file). Per-task overhead: the same sweep of tiny batches (1000 pulses) on one worker
minus in-process (``sync``) time, divided by the number of tasks. The same sweep also runs in-process
and on one worker with ``MALLOC_TRIM_THRESHOLD_`` raised (Dask's nanny sets 65536 in its
workers, which makes every 64k-shot stim chunk allocation go back to the kernel).
"""

from __future__ import annotations

import time
from typing import Any

from qrate.bench._plans import LEO, UAV
from qrate.bench._timing import row
from qrate.bench.engine import REFERENCE_BATCHES, reference_scenario
from qrate.engine import plan_sweep
from qrate.scenario import Scenario, load_scenario

TRIM_FIX = 1 << 30
"""MALLOC_TRIM_THRESHOLD_ tried instead of the nanny's 65536 (which costs ~20 % on run_batch)."""


def _collect(scenarios: list[Scenario], client: Any) -> tuple[float, int, int, float]:
    """Run the sweeps on ``client`` (None: in-process); (seconds, tasks, pulses, summed in-task seconds)."""
    from qrate.engine.sweep import Limits
    from qrate.sweep.collect import iter_collect

    tasks = pulses = 0
    busy = 0.0
    start = time.perf_counter()
    for s in scenarios:
        plans = plan_sweep(s)
        for step in iter_collect(plans, s.sampling.seed, Limits.from_sampling(s.sampling), s.sampling.pulses_per_batch, client=client):
            tasks += len(step.new)
            pulses += sum(int(st.pulses) for _, _, st in step.new)
            busy += sum(float(st.seconds) for _, _, st in step.new)
    return time.perf_counter() - start, tasks, pulses, busy


def _on_workers(scenarios: list[Scenario], workers: int | None, *, trim_threshold: int | None = None) -> dict[str, float]:
    """Run on ``workers`` LocalCluster workers (None: in-process); ``trim_threshold`` overrides the
    ``MALLOC_TRIM_THRESHOLD_`` that Dask's nanny sets in its workers (65536 by default)."""
    import dask

    if trim_threshold is not None:
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": str(trim_threshold)}):
            return _on_workers(scenarios, workers)
    from qrate.sweep.scheduler import open_client

    if workers is None:
        _collect(scenarios[:1], None)  # warm-up (JIT, stim) in this process
        seconds, tasks, pulses, busy = _collect(scenarios, None)
        return {"seconds": seconds, "tasks": tasks, "pulses": pulses, "startup_s": 0.0, "task_s": busy}
    t0 = time.perf_counter()
    with open_client("local", workers) as client:
        startup = time.perf_counter() - t0
        warm = [load_scenario(LEO, ["sweep.ground_distance_km=[0]", "sampling.batches=4", "sampling.pulses_per_batch=1000"])]
        _collect(warm, client)  # every worker imports qrate and compiles its kernels
        seconds, tasks, pulses, busy = _collect(scenarios, client)
    return {"seconds": seconds, "tasks": tasks, "pulses": pulses, "startup_s": startup, "task_s": busy}


def dask(quick: bool) -> list[dict[str, Any]]:
    """Speed-up 1 -> 2 workers on the LEO reference sweep, per-task overhead, reference figures on 2 workers."""
    batches = 2 if quick else 8
    sweep = [reference_scenario(LEO, batches)]
    sync = _on_workers(sweep, None)
    one = _on_workers(sweep, 1)
    two = _on_workers(sweep, 2)
    one_fix = _on_workers(sweep, 1, trim_threshold=TRIM_FIX)
    speedup = one["seconds"] / two["seconds"]
    out = [
        row("dask", name, r["pulses"] / r["seconds"], None, unit="pulses/s", workers=w, tasks=r["tasks"],
            seconds=r["seconds"], cluster_startup_s=r["startup_s"], summed_task_wall_s=r["task_s"])
        for name, w, r in (("LEO reference sweep, in-process (no Dask)", 0, sync),
                           ("LEO reference sweep, 1 worker", 1, one),
                           ("LEO reference sweep, 2 workers", 2, two),
                           (f"LEO reference sweep, 1 worker, MALLOC_TRIM_THRESHOLD_={TRIM_FIX}", 1, one_fix))
    ]
    out.append(row("dask", "speed-up 1 -> 2 workers", speedup, 2.0, unit="x", efficiency=speedup / 2.0,
                   limit="ideal linear scaling (2x)"))
    tiny = [load_scenario(LEO, ["sampling.pulses_per_batch=1000", f"sampling.batches={10 if quick else 40}"])]
    sync = _on_workers(tiny, None)
    d1 = _on_workers(tiny, 1)
    overhead = (d1["seconds"] - sync["seconds"]) / d1["tasks"]
    out.append(row("dask", "per-task overhead (1 worker, 1000-pulse batches)", 1.0 / overhead if overhead > 0 else float("inf"),
                   None, unit="tasks/s of pure overhead", tasks=d1["tasks"], overhead_ms_per_task=overhead * 1e3,
                   sync_ms_per_task=sync["seconds"] / sync["tasks"] * 1e3, dask_ms_per_task=d1["seconds"] / d1["tasks"] * 1e3))
    if not quick:
        figs = [reference_scenario(LEO, REFERENCE_BATCHES), reference_scenario(UAV, REFERENCE_BATCHES)]
        r = _on_workers(figs, 2)
        out.append(row("dask", "both reference figures, 2 workers (measured)", r["pulses"] / r["seconds"], None,
                       unit="pulses/s", workers=2, tasks=r["tasks"], seconds=r["seconds"], cluster_startup_s=r["startup_s"],
                       summed_task_wall_s=r["task_s"],
                       pulses_per_point=10**8, batches_per_point=REFERENCE_BATCHES, points=82))
    return out
