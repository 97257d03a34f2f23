"""``run_to_file``: one sweep into one results file, fresh or resumed, on any scheduler.

The single entry point behind ``qrate run``. Order of work: check every input and (for
``resume``) the existing file read-only and plan every point (:func:`qrate.sweep.prepare.prepare_run`,
no side effect), connect to / start the scheduler, and only then open the file for writing, so bad
input or an unreachable cluster leaves no file and an existing file untouched.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from qrate.errors import InputError, count_arg
from qrate.model import MODEL_VERSION
from qrate.scenario.schema import Scenario
from qrate.sweep.collect import iter_collect
from qrate.sweep.progress import STATUS_INTERVAL_S, SweepProgress

if TYPE_CHECKING:
    from qrate.store import Results, ResultsWriter


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
    from qrate.sweep.collect import round_samplers
    from qrate.sweep.prepare import prepare_run
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
    spec, plans, where, existing = prepared.spec, prepared.plans, prepared.where, prepared.existing
    resolved, root_seed, n_stored = prepared.resolved, prepared.root_seed, prepared.stored_batches
    if spec.kind != "sync":
        from qrate.sweep.scheduler import quiet_dask_logs

        quiet_dask_logs()  # one line for a lost scheduler or Ctrl-C, as with --scheduler local

    with progress, open_client(spec) as client:
        writer = _open_writer(path, existing, resolved, plans[0].report(), prepared.counter_names, argv, overwrite)
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
                plans,
                root_seed,
                prepared.limits,
                resolved.sampling.pulses_per_batch,
                client=client,
                stored=prepared.stored,
                ready=prepared.ready,
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
