"""Where a sweep's batches run: in-process (``sync``), a LocalCluster, or an existing Dask cluster.

``local`` starts ``LocalCluster(n_workers, threads_per_worker=1, processes=True)`` on 127.0.0.1,
one worker process per core, with ``NUMBA_NUM_THREADS=1`` in every worker so that Dask alone owns
the parallelism; its dashboard is off unless asked for. ``tcp://HOST:PORT`` and a scheduler file
(written by ``dask scheduler --scheduler-file FILE``) connect to a cluster that is already running.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qrate.errors import InputError

WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
"""Environment of LocalCluster workers: one thread per worker process."""
CONNECT_TIMEOUT_S = 30.0
"""How long to wait for an existing scheduler to answer."""


@dataclass(frozen=True, slots=True)
class SchedulerSpec:
    """A validated scheduler choice.

    Attributes:
        kind: ``"sync"``, ``"local"``, ``"address"`` or ``"file"``.
        address: ``tcp://HOST:PORT`` (kind ``address``); scheduler_file: path (kind ``file``).
        workers: worker processes of a LocalCluster (None: one per core).
        dashboard: serve the LocalCluster dashboard on a free port.
    """

    kind: str
    address: str | None = None
    scheduler_file: Path | None = None
    workers: int | None = None
    dashboard: bool = False

    @property
    def label(self) -> str:
        """Short description for logs and the ``/runs`` record."""
        if self.kind == "address":
            return str(self.address)
        if self.kind == "file":
            return f"scheduler-file:{self.scheduler_file}"
        return self.kind if self.workers is None else f"{self.kind}({self.workers})"


def parse_scheduler(
    spec: str = "local", workers: int | None = None, scheduler_file: str | Path | None = None, *, dashboard: bool = False
) -> SchedulerSpec:
    """Check ``--scheduler``, ``--workers`` and ``--scheduler-file`` (InputError naming the option)."""
    if workers is not None and workers < 1:
        raise InputError("--workers", f"expected a positive integer, got {workers}")
    if scheduler_file is not None:
        path = Path(scheduler_file)
        if spec not in ("local", "file"):
            raise InputError("--scheduler-file", f"give either --scheduler {spec} or --scheduler-file, not both")
        if not path.is_file():
            raise InputError("--scheduler-file", f"{path}: no such file (start `dask scheduler --scheduler-file {path}` first)")
        return SchedulerSpec("file", scheduler_file=path, workers=workers)
    if spec in ("sync", "local", "auto"):
        return SchedulerSpec(spec, workers=workers, dashboard=dashboard)
    if re.fullmatch(r"(tcp|tls|ucx|inproc)://[^\s/]+:\d+", spec):
        return SchedulerSpec("address", address=spec, workers=workers)
    raise InputError("--scheduler", f"expected auto, sync, local or tcp://HOST:PORT, got {spec!r}")


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
        InputError: bad spec, or no scheduler answers at the address / in the scheduler file.
    """
    if isinstance(spec, str):
        spec = parse_scheduler(spec, workers)
    if spec.kind == "sync":
        yield None
        return
    from distributed import Client, LocalCluster

    if spec.kind == "local":
        n = spec.workers or default_workers()
        with (
            LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=":8787" if spec.dashboard else None,
                # without a dashboard the scheduler still serves /health etc.: on a free port, so
                # that no "port 8787 in use" warning appears
                scheduler_kwargs=None if spec.dashboard else {"dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.ERROR,
                env=dict(WORKER_ENV),
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    option = "--scheduler" if spec.kind == "address" else "--scheduler-file"
    try:
        if spec.kind == "address":
            client = Client(spec.address, timeout=CONNECT_TIMEOUT_S)
        else:
            client = Client(scheduler_file=str(spec.scheduler_file), timeout=CONNECT_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - distributed raises OSError, TimeoutError, or asserts on a bad file
        raise InputError(option, f"cannot reach the Dask scheduler ({type(exc).__name__}: {exc})") from None
    with client:
        yield client


def dashboard_link(client: Any) -> str | None:
    """The client's dashboard URL, if the cluster serves one."""
    if client is None:
        return None
    try:
        return str(client.dashboard_link) if client.scheduler_info().get("services", {}).get("dashboard") else None
    except Exception:  # noqa: BLE001 - purely informative
        return None
