"""Where a sweep's batches run: in-process (``sync``), a LocalCluster, or an existing Dask cluster.

``local`` starts ``LocalCluster(n_workers, threads_per_worker=1, processes=True)`` on 127.0.0.1,
one worker process per core, with ``NUMBA_NUM_THREADS=1`` in every worker so that Dask alone owns
the parallelism; its dashboard is off unless asked for. ``tcp://HOST:PORT`` and a scheduler file
(written by ``dask scheduler --scheduler-file FILE``) connect to a cluster that is already running.

Nothing waits without bound: an existing scheduler must answer within ``connect_timeout_s``
(:data:`CONNECT_TIMEOUT_S`, ``--connect-timeout``) and have a worker within ``worker_timeout_s``
(:data:`WORKER_TIMEOUT_S`, ``--worker-timeout``; the wait is announced on stderr). LocalCluster
workers ignore SIGINT and SIGTERM (:func:`dask_setup`, run in each worker as a Dask preload): a
Ctrl-C in a terminal reaches the whole process group, and only the client handles it, closing the
cluster and printing one line. The dashboard, when asked for, listens on 127.0.0.1 unless another
interface is named explicitly.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from qrate.errors import InputError, SchedulerError

WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
"""Environment of LocalCluster workers: one thread per worker process."""
CONNECT_TIMEOUT_S = 5.0
"""Seconds to wait for an existing scheduler to answer (``--connect-timeout``)."""
WORKER_TIMEOUT_S = 60.0
"""Seconds to wait for the first worker of an existing scheduler (``--worker-timeout``)."""
DASHBOARD_ADDRESS = "127.0.0.1:8787"
"""Where ``--dashboard`` serves the LocalCluster dashboard (another port if 8787 is taken)."""
MAX_TIMEOUT_S = 86_400.0
"""Longest connect / worker timeout accepted (one day)."""


@dataclass(frozen=True, slots=True)
class SchedulerSpec:
    """A validated scheduler choice.

    Attributes:
        kind: ``"sync"``, ``"local"``, ``"address"`` or ``"file"``.
        address: ``tcp://HOST:PORT`` (kind ``address``); scheduler_file: path (kind ``file``).
        workers: worker processes of a LocalCluster (None: one per core).
        dashboard: serve the LocalCluster dashboard: ``True`` on :data:`DASHBOARD_ADDRESS`
            (loopback), or the ``HOST:PORT`` given explicitly.
        connect_timeout_s: seconds an existing scheduler has to answer.
        worker_timeout_s: seconds an existing scheduler has to show a worker.
    """

    kind: str
    address: str | None = None
    scheduler_file: Path | None = None
    workers: int | None = None
    dashboard: bool | str = False
    connect_timeout_s: float = CONNECT_TIMEOUT_S
    worker_timeout_s: float = WORKER_TIMEOUT_S

    @property
    def label(self) -> str:
        """Short description for logs and the ``/runs`` record."""
        if self.kind == "address":
            return str(self.address)
        if self.kind == "file":
            return f"scheduler-file:{self.scheduler_file}"
        return self.kind if self.workers is None else f"{self.kind}({self.workers})"


def parse_scheduler(
    spec: str | SchedulerSpec = "local",
    workers: int | None = None,
    scheduler_file: str | Path | None = None,
    *,
    dashboard: bool | str = False,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
    worker_timeout_s: float = WORKER_TIMEOUT_S,
) -> SchedulerSpec:
    """Check ``--scheduler``, ``--workers``, ``--scheduler-file``, ``--dashboard[-address]`` and the
    timeouts (InputError naming the option).

    ``spec`` may be a :class:`SchedulerSpec` already (the CLI builds one with its timeouts); it is
    returned with ``workers`` / ``dashboard`` replaced where those are given.
    """
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError("--workers", f"expected a positive integer, got {workers!r}")
    if isinstance(spec, SchedulerSpec):
        if scheduler_file is not None:
            raise InputError("--scheduler-file", "give the scheduler file in the SchedulerSpec")
        changes: dict[str, Any] = {}
        if workers is not None:
            changes["workers"] = workers
        if dashboard:
            changes["dashboard"] = dashboard
        return replace(spec, **changes) if changes else spec
    connect_timeout_s = _timeout("--connect-timeout", connect_timeout_s, positive=True)
    worker_timeout_s = _timeout("--worker-timeout", worker_timeout_s)
    if isinstance(dashboard, str):
        _check_listen_address("--dashboard-address", dashboard)
    if scheduler_file is not None:
        path = Path(scheduler_file)
        if spec not in ("auto", "local", "file"):
            raise InputError("--scheduler-file", f"give either --scheduler {spec} or --scheduler-file, not both")
        if not path.is_file():
            raise InputError("--scheduler-file", f"{path}: no such file (start `dask scheduler --scheduler-file {path}` first)")
        scheduler_file_address(path)  # a file that is not a scheduler file: refused now, not at connect time
        return SchedulerSpec(
            "file", scheduler_file=path, workers=workers, connect_timeout_s=connect_timeout_s, worker_timeout_s=worker_timeout_s
        )
    if spec in ("sync", "local", "auto"):
        return SchedulerSpec(
            spec, workers=workers, dashboard=dashboard, connect_timeout_s=connect_timeout_s, worker_timeout_s=worker_timeout_s
        )
    _check_address("--scheduler", spec)
    return SchedulerSpec(
        "address", address=spec, workers=workers, connect_timeout_s=connect_timeout_s, worker_timeout_s=worker_timeout_s
    )


_ADDRESS = re.compile(r"(tcp|tls|ucx|inproc)://([^\s/]+):(\d+)")


def _check_address(option: str, text: object) -> str:
    """``text`` if it is ``PROTOCOL://HOST:PORT`` with a port in 1-65535, else InputError."""
    match = _ADDRESS.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InputError(option, f"expected auto, sync, local or tcp://HOST:PORT, got {text!r}")
    port = int(match.group(3))
    if not 1 <= port <= 65535:
        raise InputError(option, f"port {port} is outside 1-65535 in {text!r}")
    return str(text)


def _check_listen_address(option: str, text: str) -> None:
    """``HOST:PORT`` to listen on (port 0: any free port), else InputError."""
    match = re.fullmatch(r"([^\s/]*):(\d+)", text)
    if match is None or not match.group(1):
        raise InputError(option, f"expected HOST:PORT, e.g. 127.0.0.1:8787 or 0.0.0.0:8787, got {text!r}")
    if not 0 <= int(match.group(2)) <= 65535:
        raise InputError(option, f"port {match.group(2)} is outside 0-65535")


def _timeout(option: str, value: float, *, positive: bool = False) -> float:
    """A finite number of seconds in [0, MAX_TIMEOUT_S] (> 0 if ``positive``), else InputError."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise InputError(option, f"expected a number of seconds, got {value!r}") from None
    if isinstance(value, bool) or not 0.0 <= seconds <= MAX_TIMEOUT_S or (positive and seconds == 0.0):
        low = "(0" if positive else "[0"
        raise InputError(option, f"expected seconds in {low}, {MAX_TIMEOUT_S:g}], got {value!r}")
    return seconds


MAX_SCHEDULER_FILE_BYTES = 1 << 16
"""A scheduler file is a small JSON object; anything larger is not one."""


def scheduler_file_address(path: str | Path) -> str:
    """The scheduler address in a scheduler file, or InputError saying it is not a scheduler file."""
    path = Path(path)
    hint = 'not a Dask scheduler file (expected the JSON object with an "address" that `dask scheduler --scheduler-file` writes)'
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_SCHEDULER_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError("--scheduler-file", f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        if len(raw) > MAX_SCHEDULER_FILE_BYTES:
            raise ValueError
        data = json.loads(raw.decode("utf-8"))
        address = data["address"]
        _check_address("--scheduler-file", address)
    except (ValueError, TypeError, KeyError, InputError, UnicodeDecodeError, RecursionError):
        raise InputError("--scheduler-file", f"{path} is {hint}") from None
    return str(address)


def default_workers() -> int:
    """Worker processes of the default LocalCluster: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def open_client(spec: SchedulerSpec | str = "local", workers: int | None = None) -> Iterator[Any]:
    """Yield a ``dask.distributed.Client`` for ``spec`` (None for ``sync``); close what it started.

    Args:
        spec: a :class:`SchedulerSpec` or the ``--scheduler`` text (``sync``, ``local``, ``tcp://HOST:PORT``).
        workers: LocalCluster worker processes when ``spec`` is text (default: one per core).

    Raises:
        InputError: bad spec, a file that is not a scheduler file, or no scheduler answers at the
            address / in the scheduler file within ``spec.connect_timeout_s``.
        SchedulerError: the scheduler has no worker after ``spec.worker_timeout_s``.
    """
    if isinstance(spec, str):
        spec = parse_scheduler(spec, workers)
    if spec.kind == "sync":
        yield None
        return
    from distributed import Client, LocalCluster

    if spec.kind in ("local", "auto"):
        n = spec.workers or default_workers()
        dashboard = DASHBOARD_ADDRESS if spec.dashboard is True else (spec.dashboard or None)
        with (
            LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=dashboard,
                # without a dashboard the scheduler still serves /health etc.: on a free port, so
                # that no "port 8787 in use" warning appears
                scheduler_kwargs=None if dashboard else {"dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.ERROR,
                env=dict(WORKER_ENV),
                preload=[__name__],  # dask_setup below: workers leave Ctrl-C / SIGTERM to the client
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    option = "--scheduler" if spec.kind == "address" else "--scheduler-file"
    address = str(spec.address) if spec.kind == "address" else scheduler_file_address(spec.scheduler_file or "")
    try:
        client = Client(address, timeout=spec.connect_timeout_s)
    except Exception as exc:  # distributed raises OSError, TimeoutError, CommClosedError...
        raise InputError(
            option,
            f"no Dask scheduler answered at {address} within {spec.connect_timeout_s:g} s"
            f" ({type(exc).__name__}); is it running? (--connect-timeout sets the wait)",
        ) from None
    with client:
        wait_for_worker(client, address, spec.worker_timeout_s)
        yield client


def quiet_dask_logs(level: int = logging.CRITICAL) -> None:
    """Raise every ``distributed`` (and ``tornado``) logger to ``level`` (for the CLI: a lost scheduler or Ctrl-C is reported
    in one line, which distributed's log records and their tracebacks would bury).

    distributed configures some loggers (``distributed.client``, ...) with levels of their own when
    it is imported, so each is set, not only the parent.
    """
    import distributed  # noqa: F401 - applies distributed's logging configuration first

    for name in [*logging.root.manager.loggerDict, "tornado", "tornado.application"]:
        # tornado.application: distributed's sync() can log a NameError from its own cancel callback
        # when Ctrl-C interrupts a wait (a race inside distributed, harmless: the cluster closes next)
        if name in ("distributed", "tornado") or name.startswith(("distributed.", "tornado.")):
            logging.getLogger(name).setLevel(level)


def wait_for_worker(client: Any, address: str, timeout_s: float, stream: Any = None) -> None:
    """Return once the scheduler has a worker; say so on stderr while waiting; SchedulerError after ``timeout_s``."""
    if client.scheduler_info().get("workers"):
        return
    stream = sys.stderr if stream is None else stream
    message = (
        f"no Dask worker joined the scheduler at {address} within {timeout_s:g} s;"
        f" start one (`dask worker {address}`) or raise --worker-timeout"
    )
    if timeout_s <= 0:
        raise SchedulerError(message)
    print(
        f"qrate: the Dask scheduler at {address} has no worker yet; waiting up to {timeout_s:g} s (--worker-timeout)",
        file=stream,
        flush=True,
    )
    try:
        client.wait_for_workers(1, timeout=timeout_s)
    except TimeoutError:
        raise SchedulerError(message) from None


def scheduler_lost(client: Any, exc: BaseException) -> bool:
    """Whether ``exc``, raised while the sweep gathered results from ``client``, means that the
    connection to the scheduler is gone (as opposed to an error inside a batch, which propagates)."""
    if client is None:
        return False
    import asyncio
    import concurrent.futures

    from distributed.comm.core import CommClosedError

    if isinstance(exc, CommClosedError):
        return True
    if "scheduler-connection-lost" in str(getattr(exc, "reason", "")) or "scheduler-connection-lost" in str(exc):
        return True
    connected = getattr(client, "status", "running") == "running"
    return not connected and isinstance(exc, OSError | TimeoutError | asyncio.CancelledError | concurrent.futures.CancelledError)


def dask_setup(worker: Any = None) -> None:
    """Dask preload of LocalCluster workers: ignore SIGINT and SIGTERM, log nothing below CRITICAL.

    Ctrl-C in a terminal (and ``kill -TERM -PGID``) signals the whole process group; the workers
    would each die with a traceback. The client alone handles the signal: it saves what finished,
    prints the resume command and closes the cluster, whose nannies then stop the workers. A worker
    closing while the scheduler goes away logs heartbeat errors with tracebacks: silenced too (a
    failing batch still reaches the client as its exception).
    """
    quiet_dask_logs()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # ValueError: not the main thread of the worker process
            signal.signal(sig, signal.SIG_IGN)


def dashboard_link(client: Any) -> str | None:
    """The client's dashboard URL, if the cluster serves one."""
    if client is None:
        return None
    try:
        return str(client.dashboard_link) if client.scheduler_info().get("services", {}).get("dashboard") else None
    except Exception:
        return None
