"""Preparing a run, with no side effect: the seed, the existing file checked read-only, every point
planned, the stored rows a resumed run keeps, the scheduler ``auto`` picks.

:func:`prepare_run` does everything :func:`qrate.sweep.run.run_to_file` must know before it opens
the results file for writing, so that bad input, a damaged or foreign file, or another scenario is
refused with the file untouched.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qrate.errors import InputError, ResultsFileError
from qrate.model import MODEL_VERSION
from qrate.scenario.schema import Scenario

if TYPE_CHECKING:
    from qrate.engine.plan import PointPlan
    from qrate.stats import BatchStats
    from qrate.store import Results
    from qrate.sweep.scheduler import SchedulerSpec
    from qrate.sweep.stopping import Limits


@dataclass(frozen=True, slots=True)
class PreparedRun:
    """What a run needs before it writes: see :func:`prepare_run`.

    Attributes:
        path: the results file; existing: the file being resumed (read, checked), or None.
        root_seed, resolved: the root seed and the scenario with it (``sampling.seed`` set).
        plans: every point; counter_names: the file's counters.
        stored: rows already in the file per plan index; where: plan index -> point index in the file.
        limits: when each point stops; spec: the scheduler (``auto`` resolved); ready: batches
            ``auto`` computed while timing (``{plan index: {batch index: stats}}``).
    """

    path: Path
    existing: Results | None
    root_seed: int
    resolved: Scenario
    plans: list[PointPlan]
    counter_names: tuple[str, ...]
    stored: dict[int, np.ndarray]
    where: dict[int, int]
    limits: Limits
    spec: SchedulerSpec
    ready: dict[int, dict[int, BatchStats]] = field(default_factory=dict)

    @property
    def stored_batches(self) -> int:
        """Batch rows the resumed file already holds for this run's points."""
        return sum(int(r.size) for r in self.stored.values())


def prepare_run(
    scenario: Scenario,
    path: Path,
    spec: SchedulerSpec,
    *,
    seed: int | None,
    resume: bool,
    overwrite: bool,
    max_pulses: int | None,
    say: Callable[[str], None] = lambda text: None,
) -> PreparedRun:
    """Check every input and (for ``resume``) the existing file read-only, plan every point, pick the scheduler.

    ``say`` receives progress lines (planning a large grid takes a while).

    Raises:
        InputError, ResultsFileError: as :func:`qrate.sweep.run.run_to_file`; nothing is written.
    """
    from qrate.engine import plan_sweep
    from qrate.engine.grid import counter_names as counter_names_of
    from qrate.sweep.stopping import Limits

    existing = _existing(path, resume=resume, overwrite=overwrite)
    stored_seed = existing.meta["seed"] if existing is not None else None
    root_seed = resolve_seed(scenario, seed, stored_seed)
    resolved = with_seed(scenario, root_seed)
    n = resolved.sweep.count_points() if resolved.passes is None else None
    if n is not None and n >= PLANNING_SAY_POINTS:
        say(f"qrate run: planning {n} points")
    start = time.monotonic()
    plans = plan_sweep(resolved)  # every geometry and protocol checked before the file is touched
    if n is not None and n >= PLANNING_SAY_POINTS:
        say(f"qrate run: planned {len(plans)} points in {time.monotonic() - start:.1f} s")
    counter_names = counter_names_of(plans)
    stored: dict[int, np.ndarray] = {}
    where = {p.index: p.index for p in plans}  # plan index -> point index in the file
    if existing is not None:
        stored, held = _stored_rows(existing, resolved, plans, counter_names)
        where = _file_indices(existing, plans, held)
    limits = Limits.from_sampling(resolved.sampling, max_pulses=max_pulses)
    limits.check([p.report() for p in _distinct_protocols(plans)])
    ready: dict[int, dict[int, BatchStats]] = {}
    if spec.kind == "auto":
        spec, ready = choose_scheduler(spec, plans, root_seed, limits, resolved.sampling.pulses_per_batch, stored, say=say)
    return PreparedRun(path, existing, root_seed, resolved, plans, tuple(counter_names), stored, where, limits, spec, ready)


PLANNING_SAY_POINTS = 2000
"""Grids of at least this many points say that they are being planned (it takes about a millisecond a point)."""


def _distinct_protocols(plans: Sequence[PointPlan]) -> list[PointPlan]:
    """One plan per distinct protocol (and source rate): what the target-estimate check needs to see."""
    seen: dict[Any, PointPlan] = {}
    for p in plans:
        seen.setdefault((p.protocol, p.repetition_rate_hz, p.key_block_s), p)
    return list(seen.values())


def resolve_seed(scenario: Scenario, seed: int | None, stored_seed: int | None = None) -> int:
    """Root seed: ``seed``, else ``sampling.seed``, else the seed of the file being resumed, else fresh."""
    from qrate.seeding import fresh_root_seed

    for candidate in (seed, scenario.sampling.seed, stored_seed):
        if candidate is not None:
            if not 0 <= candidate < 2**128:
                raise InputError("seed", f"expected an integer in [0, 2^128), got {candidate}")
            return int(candidate)
    return fresh_root_seed()


def with_seed(scenario: Scenario, seed: int) -> Scenario:
    """The resolved scenario: ``scenario`` with ``sampling.seed = seed``."""
    from qrate.scenario import validate_data

    data = scenario.model_dump(mode="json")
    data["sampling"]["seed"] = seed
    return validate_data(data)


def _existing(path: Path, *, resume: bool, overwrite: bool) -> Results | None:
    """The file to resume (checked read-only), or None for a fresh file; refuses to clobber without ``overwrite``."""
    from qrate.outputs import check_output
    from qrate.store import read_results

    if not resume or not path.exists():  # a fresh file: the same output checks as combine and plot
        check_output(
            path,
            overwrite=overwrite,
            suffixes=(".h5", ".hdf5"),
            field="out",
            exists_hint="choose another --out, pass --overwrite or --resume",
        )
        return None
    existing = read_results(path)  # read-only: a bad file raises here and stays untouched
    if not os.access(path, os.W_OK):
        raise ResultsFileError(f"{path}: the file is read-only; cannot resume into it")
    return existing


#: sampling fields that a resumed run may change: they decide how many batches run, not what a batch is
EXTENSIBLE_SAMPLING = ("batches", "target", "target_relative_error", "min_batches")


def _identity(scenario: Scenario) -> dict[str, Any]:
    """What a resumed run must share with the file: everything but the sweep (or the pass window)
    and the stopping rule. A pass run keeps its batches: they split each step's pulses."""
    data = scenario.model_dump(mode="json", exclude={"sweep", "passes"})
    for key in EXTENSIBLE_SAMPLING:
        if not (key == "batches" and scenario.passes is not None):
            data["sampling"].pop(key, None)
    return data


def _stored_rows(
    existing: Results, resolved: Scenario, plans: Sequence[PointPlan], counter_names: Sequence[str]
) -> tuple[dict[int, np.ndarray], dict[int, int]]:
    """Rows of the file being resumed and the file index of each plan that the file already holds.

    A resumed run may raise ``sampling.batches`` (or ``--max-pulses``), change the target error and
    add sweep values: stored points are found by their content key, so their rows are kept as they
    are and only missing batches and new points run. Anything else that differs is refused.
    """
    from qrate.scenario import load_scenario_text

    path = existing.path
    model = existing.meta.get("model_version")
    if model != MODEL_VERSION:
        raise ResultsFileError(
            f"{path}: written by model version {model}, this qrate is model version {MODEL_VERSION}; rerun into a new file"
        )
    if existing.meta["seed"] != resolved.sampling.seed:
        raise InputError("resume", f"{path} was run with seed {existing.meta['seed']}, not {resolved.sampling.seed}")
    try:
        before = load_scenario_text(existing.meta["scenario_toml"])
    except InputError as exc:
        raise ResultsFileError(f"{path}: stored scenario does not validate with this qrate: {exc}") from None
    if _identity(before) != _identity(resolved):
        diff = sorted(k for k in _identity(resolved) if _identity(before).get(k) != _identity(resolved).get(k))
        raise InputError(
            "resume",
            f"{path} holds another scenario (differs in: {', '.join(diff)}); resume may only add"
            " batches, sweep values or change the target error",
        )
    if tuple(existing.meta["counter_names"]) != tuple(counter_names):
        raise ResultsFileError(
            f"{path}: protocol counters differ from this run's ({existing.meta['counter_names']});"
            " new network sizes need a new file"
        )
    by_key = {rec.point_key: rec for rec in existing.points}
    stored, where = {}, {}
    for plan in plans:
        rec = by_key.get(f"{plan.key:032x}")
        if rec is not None:
            stored[plan.index], where[plan.index] = rec.rows, rec.index
    return stored, where


def _file_indices(existing: Results, plans: Sequence[PointPlan], where: dict[int, int]) -> dict[int, int]:
    """File point index of every plan: the stored one, or the next free index for a new point."""
    free = max((rec.index for rec in existing.points), default=-1) + 1
    out = {}
    for plan in plans:
        if plan.index in where:
            out[plan.index] = where[plan.index]
        else:
            out[plan.index], free = free, free + 1
    return out


AUTO_SYNC_MAX_S = 10.0
"""Projected single-core seconds below which ``auto`` runs in-process (a LocalCluster takes ~5 s to start)."""
LOCAL_START_S = 5.0
"""Seconds a LocalCluster takes to start (measured: 2 workers, ``benchmarks/bench_sweep.py``)."""
DASK_TASK_OVERHEAD_S = 0.006
"""Dask's cost per task (scheduling, pickling a chunk of plans, results back), measured 5-7 ms."""
CLIENT_POINT_S = 5e-4
"""Client-side seconds per point with Dask (tallies, progress, writing rows), which no worker takes over."""


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def projected_seconds(batch_s: float, batches: int, points: int, workers: int, cores: int) -> tuple[float, float]:
    """``(sync, local)``: projected wall seconds in-process and on a LocalCluster of ``workers`` workers.

    In-process, one core runs every batch. On a LocalCluster the client keeps planning, tallying and
    writing (``CLIENT_POINT_S`` a point) on one core, so the workers have the others: their
    throughput is that of ``min(workers, cores - 1)`` cores, less Dask's per-task overhead
    (``DASK_TASK_OVERHEAD_S`` per task of about ``TASK_TARGET_S``), plus the cluster's start.
    """
    from qrate.sweep.collect import TASK_TARGET_S

    work = batch_s * batches
    sync = work
    parallel = max(min(workers, cores - 1), 1)
    local = LOCAL_START_S + max(work * (1.0 + DASK_TASK_OVERHEAD_S / TASK_TARGET_S) / parallel, CLIENT_POINT_S * points)
    return sync, local


def choose_scheduler(
    spec: SchedulerSpec,
    plans: Sequence[PointPlan],
    root_seed: int,
    limits: Limits,
    pulses: int,
    stored: Mapping[int, np.ndarray],
    say: Callable[[str], None] = lambda text: None,
) -> tuple[SchedulerSpec, dict[int, dict[int, BatchStats]]]:
    """``auto``: time the first two batches still to run, project the sweep both ways, pick the faster.

    The faster of the two timed batches sets the projection (the first one also pays one-off costs:
    kernels loaded, the protocol compiled); :func:`projected_seconds` compares the in-process loop
    with a LocalCluster on this machine's cores. The timed batches are returned (``{point: {batch:
    stats}}``) so that they are used, not recomputed; the rows are the same whichever scheduler is chosen.
    """
    from qrate.sweep.collect import sample_batches
    from qrate.sweep.scheduler import SchedulerSpec

    todo = [
        (p, limits.batch_cap(p.pulses_per_batch or pulses) - int(stored[p.index].size if p.index in stored else 0)) for p in plans
    ]
    todo = [(p, n) for p, n in todo if n > 0]
    if not todo:
        return SchedulerSpec("sync", workers=spec.workers), {}
    plan = todo[0][0]
    done = set(stored[plan.index]["batch_index"].tolist()) if plan.index in stored else set()
    cap = limits.batch_cap(plan.pulses_per_batch or pulses)
    timed = [b for b in range(cap) if b not in done][:2]
    stats = sample_batches(plan, root_seed, timed[0], len(timed), plan.pulses_per_batch or pulses)
    if len(timed) == 2 and timed[1] != timed[0] + 1:  # not contiguous: keep the first only
        stats, timed = stats[:1], timed[:1]
    cores = usable_cores()
    workers = spec.workers or cores
    sync_s, local_s = projected_seconds(min(s.seconds for s in stats), sum(n for _, n in todo), len(todo), workers, cores)
    kind = "sync" if sync_s < AUTO_SYNC_MAX_S or sync_s <= local_s else "local"
    say(
        f"qrate run: auto: projected {sync_s:.3g} s in-process, {local_s:.3g} s on {workers} local workers"
        f" ({cores} cores); running {'in-process' if kind == 'sync' else 'on a LocalCluster'}"
    )
    return SchedulerSpec(kind, workers=spec.workers, dashboard=spec.dashboard), {plan.index: dict(zip(timed, stats, strict=True))}
