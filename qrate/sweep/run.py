"""``run_to_file``: one sweep into one results file, fresh or resumed, on any scheduler.

The single entry point behind ``qrate run``. Order of work: check every input and (for
``resume``) the existing file read-only, plan every point, connect to / start the scheduler, and
only then open the file for writing, so bad input or an unreachable cluster leaves no file and an
existing file untouched.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from qrate.errors import InputError, ResultsFileError, count_arg
from qrate.model import MODEL_VERSION
from qrate.scenario.schema import Scenario
from qrate.sweep.collect import iter_collect
from qrate.sweep.progress import STATUS_INTERVAL_S, SweepProgress

if TYPE_CHECKING:
    from collections.abc import Mapping

    from qrate.engine.plan import PointPlan
    from qrate.stats import BatchStats
    from qrate.store import Results, ResultsWriter
    from qrate.sweep.scheduler import SchedulerSpec
    from qrate.sweep.stopping import Limits


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
    from qrate.engine import plan_sweep
    from qrate.engine.plan import counter_names as counter_names_of
    from qrate.scenario import scenario_to_toml
    from qrate.sweep.collect import round_samplers
    from qrate.sweep.scheduler import open_client, parse_scheduler
    from qrate.sweep.stopping import Limits

    path = Path(out)
    if path.suffix not in (".h5", ".hdf5"):
        raise InputError("out", f"expected a .h5 file name, got {str(out)!r}")
    if resume and overwrite:
        raise InputError("resume", "give resume or overwrite, not both")
    if max_pulses is not None:
        max_pulses = count_arg("max_pulses", max_pulses, minimum=1)
    spec = parse_scheduler(scheduler, workers, scheduler_file, dashboard=dashboard)
    existing = _existing(path, resume=resume, overwrite=overwrite)
    stored_seed = existing.meta["seed"] if existing is not None else None
    root_seed = resolve_seed(scenario, seed, stored_seed)
    resolved = with_seed(scenario, root_seed)
    plans = plan_sweep(resolved)  # every geometry and protocol checked before the file is touched
    counter_names = counter_names_of(plans)
    stored: dict[int, np.ndarray] = {}
    where = {p.index: p.index for p in plans}  # plan index -> point index in the file
    if existing is not None:
        stored, held = _stored_rows(existing, resolved, plans, counter_names)
        where = _file_indices(existing, plans, held)
    limits = Limits.from_sampling(resolved.sampling, max_pulses=max_pulses)
    limits.check([p.report() for p in plans])
    n_stored = sum(int(r.size) for r in stored.values())
    ready: dict[int, dict[int, BatchStats]] = {}
    if spec.kind == "auto":
        spec, ready = choose_scheduler(spec, plans, root_seed, limits, resolved.sampling.pulses_per_batch, stored)
        if spec.kind != "sync":
            from qrate.sweep.scheduler import quiet_dask_logs

            quiet_dask_logs()  # one line for a lost scheduler or Ctrl-C, as with --scheduler local

    with SweepProgress(quiet=quiet, stream=stream, interval_s=status_interval_s) as progress, open_client(spec) as client:
        writer = _open_writer(path, existing, resolved, plans[0].report(), counter_names, argv, overwrite)
        saved, complete = 0, False
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
            for plan in plans:
                writer.add_point(
                    where[plan.index],
                    ground_distance_km=plan.ground_distance_km,
                    point_key=plan.key,
                    params={**plan.params(), "samplers": round_samplers(plan)},
                )
            verb = f"resuming {path} ({n_stored} batches stored)" if existing is not None else f"writing {path}"
            progress.say(f"qrate run: {resolved.name}, {len(plans)} points, seed {root_seed}, scheduler {spec.label}; {verb}")
            _say_dashboard(progress, client, spec)
            for step in iter_collect(
                plans, root_seed, limits, resolved.sampling.pulses_per_batch, client=client, stored=stored, ready=ready
            ):
                for index, batch_index, stats in step.new:
                    writer.append(where[index], batch_index, stats)
                    saved += 1
                progress.update(step.status)
            complete = True
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (the CLI turns it into the same): one line, exit 130
            from qrate.errors import Interrupted
            from qrate.text import printable

            progress.close()
            kept = _kept_rows(writer, path, n_stored + saved)
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
            kept = _kept_rows(writer, path, n_stored + saved)
            raise SchedulerError(
                printable(
                    f"lost the Dask scheduler {spec.label} ({type(exc).__name__});"
                    f" {kept} batches saved in {path}. Resume with: {resume_command(argv)}"
                )
            ) from None
        finally:
            writer.close(complete=complete)
    return path


AUTO_SYNC_MAX_S = 10.0
"""Estimated single-core seconds below which ``auto`` runs in-process (a LocalCluster takes ~5 s to start)."""


def choose_scheduler(
    spec: SchedulerSpec,
    plans: Sequence[PointPlan],
    root_seed: int,
    limits: Limits,
    pulses: int,
    stored: Mapping[int, np.ndarray],
) -> tuple[SchedulerSpec, dict[int, dict[int, BatchStats]]]:
    """``auto``: time the first two batches still to run, project the sweep, choose ``sync`` or ``local``.

    The faster of the two sets the projection (the first one also pays one-off costs: kernels
    loaded, the protocol compiled). The timed batches are returned (``{point: {batch: stats}}``) so
    that they are used, not recomputed; the rows are the same whichever scheduler is chosen.
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
    estimate_s = min(s.seconds for s in stats) * sum(n for _, n in todo)
    kind = "sync" if estimate_s < AUTO_SYNC_MAX_S else "local"
    return SchedulerSpec(kind, workers=spec.workers, dashboard=spec.dashboard), {plan.index: dict(zip(timed, stats, strict=True))}


def _kept_rows(writer: ResultsWriter, path: Path, counted: int) -> int:
    """After an interruption: close ``writer`` (its buffered rows are written) and count the rows the
    file holds; ``counted`` if it cannot be read (a Ctrl-C held back during a write arrives after the
    row is stored, so a running count can be one short)."""
    from qrate.store import read_results

    try:
        writer.close(complete=False)
        return sum(int(p.rows.size) for p in read_results(path).points)
    except Exception:  # the message still goes out, with the running count
        return counted


def resume_command(argv: Sequence[str]) -> str:
    """The shell command that resumes the run started by ``argv``."""
    words = [w for w in argv if w != "--overwrite"] if argv else ["qrate", "run", "..."]
    return shlex.join(words if "--resume" in words else [*words, "--resume"])


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


def _open_writer(
    path: Path,
    existing: Results | None,
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
