"""``run_to_file``: one sweep into one results file, fresh or resumed, on any scheduler.

The single entry point behind ``qrate run``. Order of work: check the inputs and (for ``resume``)
the existing file read-only (:func:`qrate.sweep.prepare.prepare_run`, no side effect; ``auto`` runs
and times the first points here), connect to / start the scheduler, check every point
(:func:`qrate.sweep.prepare.check_points`: planned once in chunks, on the workers when there are
any, keeping only keys), and only then open the file for writing, so bad input or an unreachable
cluster leaves no file and an existing file untouched.

Then points run in chunks planned where they run (:mod:`qrate.sweep.chunks`): in this process for
``sync``; as Dask tasks of whole points (about ``TASK_TARGET_S`` each) that plan, run and return
compact arrays; or, for a few long points, as tasks of batch ranges. This process only writes
(points and rows in bulk) and counts: its memory does not grow with the sweep.
"""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from qrate.errors import InputError, count_arg
from qrate.model import MODEL_VERSION
from qrate.scenario.schema import Scenario
from qrate.sweep.collect import SweepStatus, iter_collect
from qrate.sweep.progress import STATUS_INTERVAL_S, SweepProgress

if TYPE_CHECKING:
    from qrate.store import ResultsWriter
    from qrate.sweep.chunks import ChunkResult
    from qrate.sweep.prepare import CheckedRun, Existing, PreparedRun


def run_to_file(
    scenario: Scenario,
    out: str | Path,
    *,
    seed: int | None = None,
    scheduler: str = "auto",
    workers: int | None = None,
    scheduler_file: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    quiet: bool = False,
    argv: Sequence[str] = (),
    max_pulses: int | None = None,
    dashboard: bool = False,
    status_interval_s: float = STATUS_INTERVAL_S,
    stream: IO[str] | None = None,
) -> Path:
    """Run ``scenario``'s sweep and write every batch to the results file ``out``.

    Args:
        scenario: validated scenario (its ``sampling`` sets batches, pulses and target error).
        out: ``.h5`` file to create (or to continue with ``resume``).
        seed: root seed (default: ``sampling.seed``, else the resumed file's, else fresh entropy).
        scheduler: ``auto`` (in-process when the estimated work is under ``AUTO_SYNC_MAX_S``, else a
            LocalCluster: :func:`choose_scheduler`), ``sync`` (in-process loop), ``local``
            (LocalCluster) or ``tcp://HOST:PORT``.
        workers: LocalCluster worker processes (default: one per core).
        scheduler_file: connect through a Dask scheduler file instead of ``scheduler``.
        resume: continue ``out`` if it exists: it must be a qrate file of this schema and model
            version with the same resolved scenario and seed; stored batches are skipped. A
            missing ``out`` starts afresh.
        overwrite: replace an existing ``out``.
        quiet: no progress on stderr.
        argv: the command line, stored in the file.
        max_pulses: pulses per point at most (on top of ``sampling.batches``).
        dashboard: serve the LocalCluster dashboard (its link is printed).
        status_interval_s: seconds between plain status lines when stderr is not a terminal.
        stream: progress stream (default ``sys.stderr``).

    Returns:
        The path of the results file.

    Raises:
        InputError: bad option, scenario or geometry, an existing ``out`` without ``resume`` /
            ``overwrite``, or a resumed file holding another scenario or seed (file unchanged).
        ResultsFileError: ``resume`` of a foreign, truncated, other-schema or other-model file
            (file unchanged).
    """
    from qrate.scenario import scenario_to_toml
    from qrate.sweep.prepare import check_points, prepare_run
    from qrate.sweep.scheduler import open_client, parse_scheduler

    path = Path(out)
    if path.suffix not in (".h5", ".hdf5"):
        raise InputError("out", f"expected a .h5 file name, got {str(out)!r}")
    if resume and overwrite:
        raise InputError("resume", "give resume or overwrite, not both")
    if max_pulses is not None:
        max_pulses = count_arg("max_pulses", max_pulses, minimum=1)
    progress = SweepProgress(quiet=quiet, stream=stream, interval_s=status_interval_s)
    prepared = prepare_run(
        scenario,
        path,
        parse_scheduler(scheduler, workers, scheduler_file, dashboard=dashboard),
        seed=seed,
        resume=resume,
        overwrite=overwrite,
        max_pulses=max_pulses,
        say=progress.say,
    )
    spec, existing, resolved, root_seed = prepared.spec, prepared.existing, prepared.resolved, prepared.root_seed
    if spec.kind != "sync":
        from qrate.sweep.scheduler import quiet_dask_logs

        quiet_dask_logs()  # one line for a lost scheduler or Ctrl-C, as with --scheduler local

    with progress, open_client(spec) as client:
        checked = check_points(prepared, client, say=progress.say)  # every point, before the file is touched
        n_stored = checked.stored_batches
        writer = _open_writer(path, existing, resolved, prepared.report, checked.counter_names, argv, overwrite)
        sink = _Sink(writer, prepared, checked, progress)
        complete = False
        try:
            writer.record_run(
                "resume" if existing is not None else "run",
                list(argv),
                scheduler=spec.label,
                seed=str(root_seed),
                max_pulses=max_pulses,
            )
            if existing is not None:
                writer.update_scenario(scenario_to_toml(resolved))
            verb = f"resuming {path} ({n_stored} batches stored)" if existing is not None else f"writing {path}"
            progress.say(
                f"qrate run: {resolved.name}, {prepared.points} points, seed {root_seed}, scheduler {spec.label}; {verb}"
            )
            _say_dashboard(progress, client, spec)
            start = 0
            for result, names in prepared.ready:
                sink.chunk(result, start, names)
                start += result.index.size
            if client is None:
                _run_sync(sink, start)
            elif prepared.points - start < LEGACY_POINTS_PER_THREAD * (sum(client.ncores().values()) or 1):
                _run_batch_tasks(sink, start, client)
            else:
                _run_point_tasks(sink, start, client)
            complete = True
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (the CLI turns it into the same): one line, exit 130
            from qrate.errors import Interrupted
            from qrate.text import printable

            progress.close()
            kept = _kept_rows(writer, path, n_stored + sink.saved)
            print(
                printable(f"Interrupted; {kept} batches saved in {path}. Resume with: {resume_command(argv)}"),
                file=sys.stderr,
                flush=True,
            )
            raise Interrupted from None
        except Exception as exc:
            from qrate.errors import SchedulerError
            from qrate.sweep.scheduler import scheduler_lost
            from qrate.text import printable

            if not scheduler_lost(client, exc):
                raise
            progress.close()
            kept = _kept_rows(writer, path, n_stored + sink.saved)
            raise SchedulerError(
                printable(
                    f"lost the Dask scheduler {spec.label} ({type(exc).__name__});"
                    f" {kept} batches saved in {path}. Resume with: {resume_command(argv)}"
                )
            ) from None
        finally:
            writer.close(complete=complete)
    return path


SYNC_CHUNK_POINTS = 256
"""Points planned at a time by the in-process loop."""
LEGACY_POINTS_PER_THREAD = 4
"""With fewer points than this per worker thread, Dask tasks are ranges of one point's batches
(:func:`qrate.sweep.collect.iter_collect`), so that a few long points still use every worker."""
MAX_POINTS_PER_TASK = 4096
"""Most points one Dask task plans and runs."""


class _Sink:
    """The client's side of a run: the writer, the sweep's running totals (O(1) a batch) and progress.

    Per point nothing is kept: rows and points go to the writer as they arrive, stored rows of a
    resumed file are read a chunk at a time through the writer (:meth:`stored`).
    """

    def __init__(self, writer: ResultsWriter, prepared: PreparedRun, checked: CheckedRun, progress: SweepProgress) -> None:
        from qrate.stats import batch_dtype
        from qrate.store import schema

        self.writer, self.prepared, self.checked, self.progress = writer, prepared, checked, progress
        self.names = checked.counter_names
        self.dtype = schema.batches_dtype(batch_dtype(self.names))
        self.free = prepared.existing.index.free_index if prepared.existing is not None else 0
        self.points_done = self.batches_done = self.pulses_done = self.saved = 0
        self.batches_cap = checked.batches_cap
        self.worst = float("inf")
        self.in_flight = 0

    def status(self) -> SweepStatus:
        return SweepStatus(
            points_done=self.points_done,
            points=self.prepared.points,
            batches_done=self.batches_done,
            batches_cap=self.batches_cap,
            pulses_done=self.pulses_done,
            worst_relative_error=self.worst,
            in_flight=self.in_flight,
        )

    def stored(self, start: int, file_index: np.ndarray) -> dict[int, np.ndarray]:
        """A resumed file's rows of points ``start, ...`` (file indices ``file_index``) by plan index."""
        existing = self.prepared.existing
        if existing is None:
            return {}
        from qrate.sweep.prepare import stored_by_plan

        return stored_by_plan(existing.index, file_index, start, self.writer.read_batches)

    def add_points(self, file_index: np.ndarray, distance_km: np.ndarray, keys: np.ndarray, params: list[bytes]) -> None:
        """Add the points the file does not hold yet (one bulk write: :meth:`ResultsWriter.add_points`)."""
        from qrate.store import schema

        new = file_index >= self.free
        if not np.any(new):
            return
        kept = [p for p, k in zip(params, new.tolist(), strict=True) if k]
        table = np.zeros(len(kept), dtype=schema.POINT_DTYPE)
        table["index"] = file_index[new]
        table["ground_distance_km"] = distance_km[new]
        table["point_key"] = keys[new]
        table["params_length"] = [len(p) for p in kept]
        self.writer.add_points(table, np.frombuffer(b"".join(kept), dtype=np.uint8))

    def rows(self, table: np.ndarray) -> None:
        if table.size:
            self.writer.append_batches(table)
            self.saved += table.size

    def chunk(self, result: ChunkResult, start: int, names: Sequence[str] | None = None) -> None:
        """Write a point task's result (points ``start, ...``) and count it."""
        from qrate.sweep.chunks import relayout

        file_index = self.checked.file_index(start, start + result.index.size)
        self.add_points(file_index, result.ground_distance_km, result.keys, result.params_json())
        rows = relayout(result.rows, self.dtype) if names is not None else result.rows
        if self.checked.where is not None and rows.size:
            rows["point"] = self.checked.where[rows["point"]]
        self.rows(rows)
        self.points_done += result.index.size
        self.batches_done += int(result.n.sum())
        self.pulses_done += int(result.pulses.sum())
        self.batches_cap -= int((result.caps - result.n).sum())
        self.worst = float(result.error.max()) if result.error.size else self.worst
        self.progress.update(self.status())


def _run_sync(sink: _Sink, start: int) -> None:
    """Points ``start, ...`` in this process, planned a chunk at a time (its points added to the file
    first); each group of batches written as accepted."""
    from qrate.sweep.chunks import key_of, plans_of, point_params, point_steps, stats_table
    from qrate.sweep.stopping import PointTally

    prepared, names = sink.prepared, sink.names
    scenario, limits, seed = prepared.resolved, prepared.limits, prepared.root_seed
    pulses = scenario.sampling.pulses_per_batch
    by_estimate = limits.target_relative_error is not None and limits.target_estimate != "rate"
    for a in range(start, prepared.points, SYNC_CHUNK_POINTS):
        b = min(prepared.points, a + SYNC_CHUNK_POINTS)
        file_index = sink.checked.file_index(a, b)
        stored = sink.stored(a, file_index)
        plans = list(plans_of(scenario, a, b))  # the chunk's points enter the file before its first row
        sink.add_points(
            file_index,
            np.array([p.ground_distance_km for p in plans]),
            np.array([key_of(p) for p in plans]),
            [point_params(p, prepared.report) for p in plans],
        )
        for plan in plans:
            f = file_index[plan.index - a : plan.index - a + 1]
            own = plan.pulses_per_batch or pulses
            tally = PointTally(limits, plan.report() if by_estimate else None)
            n0 = pulses0 = 0
            for new in point_steps(plan, seed, limits, own, tally, stored.pop(plan.index, None)):
                sink.rows(stats_table([int(f[0])] * len(new), new, names))
                sink.batches_done += tally.n - n0
                sink.pulses_done += tally.pulses - pulses0
                n0, pulses0 = tally.n, tally.pulses
                sink.worst = tally.last_error
                sink.progress.update(sink.status())
            tally.release()
            sink.batches_done += tally.n - n0
            sink.pulses_done += tally.pulses - pulses0
            sink.batches_cap -= limits.batch_cap(own) - tally.n
            sink.points_done += 1
        sink.progress.update(sink.status())


def _run_point_tasks(sink: _Sink, start: int, client: Any) -> None:
    """Points ``start, ...`` as Dask tasks of whole points (chunks of about ``TASK_TARGET_S``), planned
    on the workers; results written in point order (:func:`~qrate.sweep.chunks.in_point_order`) as they arrive."""
    from qrate.sweep.chunks import in_point_order, run_chunk
    from qrate.sweep.collect import IN_FLIGHT_PER_CORE, TASK_TARGET_S

    prepared = sink.prepared
    n, scenario = prepared.points, prepared.resolved
    threads = sum(client.ncores().values()) or 1
    in_flight = IN_FLIGHT_PER_CORE * threads
    scen = client.scatter(scenario, broadcast=True, hash=False)
    token = f"qrate-points-{prepared.root_seed % 10**12}-{time.time_ns()}"
    timed = [0.0, 0]  # task seconds, points

    def per_task() -> int:
        point_s = prepared.point_s if timed[1] == 0 else timed[0] / timed[1]
        if point_s is None:
            return 1
        per = int(TASK_TARGET_S / max(point_s, 1e-6))
        return max(1, min(per, MAX_POINTS_PER_TASK, -(-(n - start) // (4 * threads))))

    def ranges() -> Iterator[tuple[int, int]]:
        cursor = start
        while cursor < n:
            a, cursor = cursor, min(n, cursor + per_task())
            yield a, cursor

    def submit(a: int, stop: int) -> Any:
        return client.submit(
            run_chunk,
            scen,
            prepared.root_seed,
            prepared.limits,
            scenario.sampling.pulses_per_batch,
            a,
            stop,
            sink.names,
            prepared.report,
            sink.stored(a, sink.checked.file_index(a, stop)),
            pure=False,
            key=f"{token}-{a}",
        )

    def arrived(result: ChunkResult) -> None:
        timed[0] += result.seconds
        timed[1] += result.index.size

    for first, chunk, running in in_point_order(client, submit, ranges(), start, in_flight, arrived):
        sink.in_flight = running
        sink.chunk(chunk, first)


def _run_batch_tasks(sink: _Sink, start: int, client: Any) -> None:
    """Few points (``LEGACY_POINTS_PER_THREAD`` per worker thread): tasks of batch ranges of each
    point (:func:`qrate.sweep.collect.iter_collect`, planned here), so that every worker is used."""
    from qrate.sweep.chunks import key_of, plans_of, point_params, stats_table

    prepared = sink.prepared
    n = prepared.points
    plans = list(plans_of(prepared.resolved, start, n))
    file_index = sink.checked.file_index(start, n)
    sink.add_points(
        file_index,
        np.array([p.ground_distance_km for p in plans]),
        np.array([key_of(p) for p in plans]),
        [point_params(p, prepared.report) for p in plans],
    )
    before = (
        sink.points_done,
        sink.batches_done,
        sink.pulses_done,
        sink.batches_cap
        - sum(prepared.limits.batch_cap(p.pulses_per_batch or prepared.resolved.sampling.pulses_per_batch) for p in plans),
    )
    for step in iter_collect(
        plans,
        prepared.root_seed,
        prepared.limits,
        prepared.resolved.sampling.pulses_per_batch,
        client=client,
        stored=sink.stored(start, file_index),
    ):
        by_point: dict[int, list[tuple[int, Any]]] = {}
        for index, batch_index, stats in step.new:
            by_point.setdefault(int(file_index[index - start]), []).append((batch_index, stats))
        for f, items in by_point.items():
            sink.rows(stats_table([f] * len(items), items, sink.names))
        st = step.status
        sink.points_done, sink.batches_done, sink.pulses_done = (
            before[0] + st.points_done,
            before[1] + st.batches_done,
            before[2] + st.pulses_done,
        )
        sink.batches_cap = before[3] + st.batches_cap
        sink.worst, sink.in_flight = st.worst_relative_error, st.in_flight
        sink.progress.update(sink.status())


def _kept_rows(writer: ResultsWriter, path: Path, counted: int) -> int:
    """After an interruption: close ``writer`` (its buffered rows are written) and count the rows the
    file holds; ``counted`` if it cannot be read (a Ctrl-C held back during a write arrives after the
    row is stored, so a running count can be one short)."""
    from qrate.store import schema
    from qrate.store.reader import open_checked

    try:
        writer.close(complete=False)
        with open_checked(path) as f:
            return int(f[schema.BATCHES_DATASET].shape[0])
    except Exception:  # the message still goes out, with the running count
        return counted


def resume_command(argv: Sequence[str]) -> str:
    """The shell command that resumes the run started by ``argv``."""
    words = [w for w in argv if w != "--overwrite"] if argv else ["qrate", "run", "..."]
    return shlex.join(words if "--resume" in words else [*words, "--resume"])


def _open_writer(
    path: Path,
    existing: Existing | None,
    resolved: Scenario,
    report: dict[str, Any],
    counter_names: Sequence[str],
    argv: Sequence[str],
    overwrite: bool,
) -> ResultsWriter:
    """Reopen the resumed file, or create the results file with the run's identity and report."""
    from qrate.scenario import scenario_to_toml
    from qrate.store import ResultsWriter

    if existing is not None:
        return ResultsWriter.reopen(path)
    return ResultsWriter(
        path,
        scenario_toml=scenario_to_toml(resolved),
        scenario_name=resolved.name,
        protocol=resolved.protocol.name,
        seed=int(resolved.sampling.seed or 0),
        counter_names=counter_names,
        argv=list(argv),
        overwrite=overwrite,
        model_version=MODEL_VERSION,
        report=report,
    )


def _say_dashboard(progress: SweepProgress, client: Any, spec: Any) -> None:
    from qrate.sweep.scheduler import dashboard_link

    link = dashboard_link(client) if spec.dashboard else None
    if link:
        progress.say(f"qrate run: Dask dashboard at {link}")
