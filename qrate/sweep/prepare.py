"""Preparing a run, with no side effect: the seed, the existing file checked read-only and indexed,
the scheduler ``auto`` picks, and the check pass over every point.

:func:`prepare_run` and :func:`check_points` do everything :func:`qrate.sweep.run.run_to_file` must
know before it opens the results file for writing, so that bad input, a damaged or foreign file, or
another scenario is refused with the file untouched. Nothing per point is kept beyond its file index
(8 bytes, resumed files only): points are planned again where they run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qrate.errors import InputError, ResultsFileError
from qrate.model import MODEL_VERSION
from qrate.scenario.schema import Scenario

if TYPE_CHECKING:
    from qrate.store.index import StoredIndex
    from qrate.sweep.chunks import Checked, ChunkResult
    from qrate.sweep.scheduler import SchedulerSpec
    from qrate.sweep.stopping import Limits


@dataclass(frozen=True, slots=True)
class Existing:
    """The file a run resumes: its path, root attributes (checked) and :class:`~qrate.store.index.StoredIndex`."""

    path: Path
    meta: dict[str, Any]
    index: StoredIndex


@dataclass(frozen=True, slots=True)
class PreparedRun:
    """What a run knows before it starts a scheduler: see :func:`prepare_run`.

    Attributes:
        path: the results file; existing: the file being resumed (read, checked, indexed), or None.
        root_seed, resolved: the root seed and the scenario with it (``sampling.seed`` set).
        points: how many points the sweep has; report: the first point's protocol report (the file's).
        limits: when each point stops; spec: the scheduler (``auto`` resolved).
        ready: points ``0, ..., k - 1`` that ``auto`` ran while timing (written, not recomputed),
            with their counters; point_s, check_s: measured seconds per point to run and to check.
    """

    path: Path
    existing: Existing | None
    root_seed: int
    resolved: Scenario
    points: int
    report: dict[str, Any]
    limits: Limits
    spec: SchedulerSpec
    ready: list[tuple[ChunkResult, tuple[str, ...]]] = field(default_factory=list)
    point_s: float | None = None
    check_s: float | None = None

    @property
    def ready_points(self) -> int:
        """Points run while timing (they come first)."""
        return sum(int(r.index.size) for r, _ in self.ready)


@dataclass(slots=True)
class CheckedRun:
    """The check pass over every point (:func:`check_points`): what the writer and the loop need.

    Attributes:
        counter_names: the file's counters (every protocol's, first seen first).
        where: file point index of every point (None: the identity, a fresh file).
        batches_cap: most batches the sweep may run in all; stored_batches: rows a resumed file
            already holds for this run's points; seconds: wall time of the pass.
    """

    counter_names: tuple[str, ...]
    where: np.ndarray | None
    batches_cap: int
    stored_batches: int
    seconds: float

    def file_index(self, start: int, stop: int) -> np.ndarray:
        """File point indices of points ``start, ..., stop - 1``."""
        return np.arange(start, stop, dtype=np.int64) if self.where is None else self.where[start:stop]


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
    """Check the inputs and (for ``resume``) the existing file read-only, plan the first point, pick the scheduler.

    Every other point is checked by :func:`check_points` (on the chosen scheduler) before the file
    is opened for writing.

    Raises:
        InputError, ResultsFileError: as :func:`qrate.sweep.run.run_to_file`; nothing is written.
    """
    from qrate.sweep.chunks import plans_of
    from qrate.sweep.stopping import Limits

    existing = _existing(path, resume=resume, overwrite=overwrite)
    stored_seed = existing.meta["seed"] if existing is not None else None
    root_seed = resolve_seed(scenario, seed, stored_seed)
    resolved = with_seed(scenario, root_seed)
    first = next(plans_of(resolved, 0, 1))
    if existing is not None:
        _check_resumable(existing, resolved)
    points = point_count(resolved)
    limits = Limits.from_sampling(resolved.sampling, max_pulses=max_pulses)
    prepared = PreparedRun(path, existing, root_seed, resolved, points, first.report(), limits, spec)
    if spec.kind == "auto":
        prepared = choose_scheduler(prepared, say=say)
    return prepared


def point_count(scenario: Scenario) -> int:
    """Points of the sweep (a pass run: its steps, planned once per process)."""
    from qrate.sweep.chunks import plans_of

    if scenario.passes is None:
        return scenario.sweep.count_points()
    return sum(1 for _ in plans_of(scenario, 0, 2**62))


CHECK_SAY_S = 2.0
"""Seconds between progress lines of the check pass."""
CHECK_CHUNK_POINTS = 4096
"""Points per chunk of the in-process check pass."""
CHECK_TASK_S = 0.25
"""Seconds of planning one check task aims at on a cluster."""


def check_points(prepared: PreparedRun, client: Any = None, say: Callable[[str], None] = lambda text: None) -> CheckedRun:
    """Plan every point once, in chunks (on the workers when ``client`` is given), keeping only its key.

    Every geometry and protocol is checked (InputError naming the field, as planning raises it)
    and, for a resumed file, each point found by key (:class:`~qrate.store.index.StoredIndex`).
    Its cost is one planning of every point (about what the run spends planning); on a cluster it
    runs in parallel. Progress lines go to ``say`` every ``CHECK_SAY_S`` seconds.
    """
    from qrate.sweep.chunks import check_chunk

    n, scenario, limits = prepared.points, prepared.resolved, prepared.limits
    pulses = scenario.sampling.pulses_per_batch
    start_t = last = time.monotonic()
    names: dict[str, None] = {}
    existing = prepared.existing
    where = np.empty(n, dtype=np.int64) if existing is not None else None
    free = existing.index.free_index if existing is not None else 0
    cap = stored = done = 0

    def take(c: Checked) -> None:
        nonlocal cap, stored, free, done, last
        if c.error is not None:
            raise InputError(*c.error)
        names.update(dict.fromkeys(c.counter_names))
        cap += int(c.caps.sum())
        if existing is not None and where is not None:
            found = existing.index.lookup(c.keys)
            stored += int(existing.index.batches_of(found).sum())
            new = found < 0
            found[new] = free + np.arange(int(new.sum()))
            free += int(new.sum())
            where[c.start : c.start + found.size] = found
        done += c.keys.size
        now = time.monotonic()
        if n >= CHECK_SAY_POINTS and now - last >= CHECK_SAY_S:
            last = now
            say(f"qrate run: checked {done}/{n} points ({now - start_t:.0f} s)")

    if n >= CHECK_SAY_POINTS:
        say(f"qrate run: checking {n} points" + (" on the workers" if client is not None and n > CHECK_CHUNK_POINTS else ""))
    if client is None or n <= CHECK_CHUNK_POINTS:  # a small sweep: checked here, at once
        for a in range(0, n, CHECK_CHUNK_POINTS):
            take(check_chunk(scenario, a, min(n, a + CHECK_CHUNK_POINTS), limits, pulses))
    else:
        _check_on_cluster(client, prepared, take)
    seconds = time.monotonic() - start_t
    if n >= CHECK_SAY_POINTS:
        say(f"qrate run: checked {n} points in {seconds:.1f} s")
    check_counters(existing, tuple(names))
    return CheckedRun(tuple(names), where, cap, stored, seconds)


def _check_on_cluster(client: Any, prepared: PreparedRun, take: Callable[[Checked], None]) -> None:
    """The check pass as Dask tasks of about ``CHECK_TASK_S``; results taken in point order."""
    from qrate.sweep.chunks import check_chunk, in_point_order
    from qrate.sweep.collect import IN_FLIGHT_PER_CORE

    n, scenario = prepared.points, prepared.resolved
    per = max(1, min(CHECK_CHUNK_POINTS, int(CHECK_TASK_S / max(prepared.check_s or 1e-3, 1e-6))))
    threads = sum(client.ncores().values()) or 1
    per = max(1, min(per, -(-n // (4 * threads))))
    scen = client.scatter(scenario, broadcast=True, hash=False)
    token = f"qrate-check-{prepared.root_seed % 10**12}-{time.time_ns()}"

    def submit(a: int, stop: int) -> Any:
        return client.submit(
            check_chunk, scen, a, stop, prepared.limits, scenario.sampling.pulses_per_batch, pure=False, key=f"{token}-{a}"
        )

    ranges = ((a, min(n, a + per)) for a in range(0, n, per))
    for _, checked, _ in in_point_order(client, submit, ranges, 0, IN_FLIGHT_PER_CORE * threads):
        take(checked)  # raises at the first refused point, in point order


CHECK_SAY_POINTS = 2000
"""Grids of at least this many points say that they are being checked."""


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


def _existing(path: Path, *, resume: bool, overwrite: bool) -> Existing | None:
    """The file to resume (checked read-only, then indexed), or None for a fresh file; refuses to clobber without ``overwrite``.

    The check reads the file's tables once (every row's consistency, as :func:`qrate.store.read_tables`);
    what the run keeps is the index, not the rows.
    """
    from qrate.outputs import check_output
    from qrate.store.index import StoredIndex
    from qrate.store.reader import damaged_as_error, open_checked, read_tables

    if not resume or not path.exists():  # a fresh file: the same output checks as combine and plot
        check_output(
            path,
            overwrite=overwrite,
            suffixes=(".h5", ".hdf5"),
            field="out",
            exists_hint="choose another --out, pass --overwrite or --resume",
        )
        return None
    meta = read_tables(path).meta  # read-only: a bad file raises here and stays untouched
    if not os.access(path, os.W_OK):
        raise ResultsFileError(f"{path}: the file is read-only; cannot resume into it")
    f = open_checked(path)
    with damaged_as_error(path), f:
        index = StoredIndex.from_file(f)
    return Existing(path, meta, index)


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


def _check_resumable(existing: Existing, resolved: Scenario) -> None:
    """Refuse to resume a file of another model version, seed or scenario.

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


def check_counters(existing: Existing | None, counter_names: Sequence[str]) -> None:
    """Refuse to resume a file whose counters differ from the run's (another network size)."""
    if existing is not None and tuple(existing.meta["counter_names"]) != tuple(counter_names):
        raise ResultsFileError(
            f"{existing.path}: protocol counters differ from this run's ({existing.meta['counter_names']});"
            " new network sizes need a new file"
        )


AUTO_SYNC_MAX_S = 10.0
"""Projected single-core seconds below which ``auto`` runs in-process (a LocalCluster takes ~5 s to start)."""
LOCAL_START_S = 5.0
"""Seconds a LocalCluster takes to start and load the engine in its workers (measured: 2 workers)."""
DASK_TASK_OVERHEAD_S = 0.006
"""Dask's cost per task (scheduling, pickling, results back), measured 5-7 ms."""
CLIENT_POINT_S = 3e-5
"""Client-side seconds per point with Dask (writing its rows and its parameters, progress), which no
worker takes over (point tasks return compact arrays; measured ~20 us a point)."""
AUTO_TIME_S = 0.3
"""Seconds ``auto`` spends timing points (after a first point that warms the engine up)."""


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def projected_seconds(point_s: float, count: int, points: int, workers: int, cores: int) -> tuple[float, float]:
    """``(sync, local)``: projected wall seconds in-process and on a LocalCluster of ``workers`` workers.

    ``count`` units of ``point_s`` single-core seconds each (points, or batches), over ``points``
    points. In-process one core does everything. On a LocalCluster the workers share the cores
    with the client, which spends ``CLIENT_POINT_S`` a point (writing, progress): the work, plus
    Dask's per-task overhead (``DASK_TASK_OVERHEAD_S`` per task of about ``TASK_TARGET_S``),
    spreads over ``min(workers, cores)`` cores less the client's share, plus the cluster's start.
    """
    from qrate.sweep.collect import TASK_TARGET_S

    work = point_s * count
    client = CLIENT_POINT_S * points
    busy = work * (1.0 + DASK_TASK_OVERHEAD_S / TASK_TARGET_S)
    parallel = max(min(workers, cores), 1)
    local = LOCAL_START_S + max(busy / parallel, client, (busy + client) / max(cores, 1))
    return work, local


def choose_scheduler(prepared: PreparedRun, say: Callable[[str], None] = lambda text: None) -> PreparedRun:
    """``auto``: run the first points in-process, timing them; project the sweep both ways; pick the faster.

    The first point warms the engine up (kernels compiled, its protocol built) and is not timed;
    the next ones, about ``AUTO_TIME_S`` of them, give the cost of a point, planning and checking
    included. :func:`projected_seconds` compares the in-process loop with a LocalCluster on this
    machine's cores. The points run here are kept (``ready``): they are written, not run again; the
    rows are the same whichever scheduler is chosen.
    """
    from qrate.sweep.chunks import check_chunk, run_chunk
    from qrate.sweep.scheduler import SchedulerSpec

    n, scenario, limits, spec = prepared.points, prepared.resolved, prepared.limits, prepared.spec
    pulses = scenario.sampling.pulses_per_batch
    ready: list[tuple[ChunkResult, tuple[str, ...]]] = []
    stop, size, run_s, check_s, timed = 0, 1, 0.0, 0.0, 0
    while stop < n and (stop == 0 or run_s < AUTO_TIME_S):
        a, stop = stop, min(n, stop + size)
        t0 = time.perf_counter()
        checked = check_chunk(scenario, a, stop, limits, pulses)
        t1 = time.perf_counter()
        if checked.error is not None:
            raise InputError(*checked.error)
        result = run_chunk(
            scenario,
            prepared.root_seed,
            limits,
            pulses,
            a,
            stop,
            checked.counter_names,
            prepared.report,
            _stored_before(prepared, checked),
        )
        t2 = time.perf_counter()
        ready.append((result, checked.counter_names))
        if a > 0:
            run_s, check_s, timed = run_s + (t2 - t1), check_s + (t1 - t0), timed + (stop - a)
            size *= 2
    if timed == 0:
        return replace(prepared, spec=SchedulerSpec("sync", workers=spec.workers), ready=ready)
    point_s, check_s = run_s / timed, check_s / timed
    cores = usable_cores()
    workers = spec.workers or cores
    todo = n - stop
    sync_s, local_s = projected_seconds(point_s + check_s, todo, todo, workers, cores)
    kind = "sync" if sync_s < AUTO_SYNC_MAX_S or sync_s <= local_s else "local"
    say(
        f"qrate run: auto: {1e3 * point_s:.3g} ms a point (+{1e3 * check_s:.2g} ms to check it); projected"
        f" {sync_s:.3g} s in-process, {local_s:.3g} s on {workers} local workers ({cores} cores);"
        f" running {'in-process' if kind == 'sync' else 'on a LocalCluster'}"
    )
    new_spec = SchedulerSpec(kind, workers=spec.workers, dashboard=spec.dashboard)
    return replace(prepared, spec=new_spec, ready=ready, point_s=point_s, check_s=check_s)


def _stored_before(prepared: PreparedRun, checked: Checked) -> dict[int, np.ndarray]:
    """Stored rows (by plan index) of a checked chunk, read from the resumed file before it is opened for writing."""
    from qrate.store import schema
    from qrate.store.index import read_rows
    from qrate.store.reader import open_checked

    existing = prepared.existing
    if existing is None:
        return {}
    found = existing.index.lookup(checked.keys)
    if not np.any(found >= 0):
        return {}
    with open_checked(existing.path) as f:
        return stored_by_plan(existing.index, found, checked.start, lambda pos: read_rows(f[schema.BATCHES_DATASET], pos))


def stored_by_plan(
    index: StoredIndex, file_index: np.ndarray, start: int, read: Callable[[np.ndarray], np.ndarray]
) -> dict[int, np.ndarray]:
    """Stored rows per plan index of points ``start, ...`` (file indices ``file_index``; those the file does not hold skipped)."""
    held = (file_index >= 0) & (file_index < index.free_index)
    if not np.any(held):
        return {}
    rows = read(index.positions(file_index[held]))
    order = np.argsort(rows["point"], kind="stable")
    rows = rows[order]
    bounds = np.searchsorted(rows["point"], file_index[held])
    ends = np.searchsorted(rows["point"], file_index[held], side="right")
    plan_index = start + np.flatnonzero(held)
    return {int(i): rows[a:b] for i, a, b in zip(plan_index.tolist(), bounds.tolist(), ends.tolist(), strict=True) if b > a}
