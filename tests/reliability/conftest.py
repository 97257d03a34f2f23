"""Fixtures of the reliability tests: child processes that are always cleaned up, in-process CLI calls."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import h5py
import pytest

from qrate._testhooks import BATCH_DELAY_ENV
from qrate.cli import main

QRATE = [sys.executable, "-m", "qrate.cli"]
"""The ``qrate`` command as a child process (same interpreter as the tests)."""
CHILD_ENV = {**os.environ, "HDF5_USE_FILE_LOCKING": "FALSE", "NUMBA_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
"""Environment of child processes: the test reads the results file while the child writes it."""
BATCH_DELAY_S = 0.02
"""Sleep before every batch of a ``spawn(..., slow=True)`` child (the test hook of :mod:`qrate._testhooks`):
a run of N batches lasts at least N × 20 ms on any machine."""


def cli(args: Sequence[str]) -> tuple[int, str, str]:
    """``qrate.cli.main(args)`` in this process: ``(exit code, stdout, stderr)``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(args))
    return rc, out.getvalue(), err.getvalue()


def stored_rows(path: Path) -> int:
    """Batch rows in a results file being written by another process (0 while it cannot be read)."""
    try:
        with h5py.File(path, "r", locking=False) as f:
            return int(f["batches"].shape[0])
    except (OSError, KeyError, ValueError):
        return 0


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``predicate`` every 20 ms until true; fail after ``timeout_s`` or if ``proc`` ends first."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process ended (rc {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.02)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the child and anything it started (LocalCluster workers)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:  # pragma: no cover - nothing more we can do
        pass


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start child processes in their own session (process group); all are SIGKILLed at teardown.

    ``spawn(args, log="name")`` sends stdout and stderr to ``tmp_path/name.log``;
    ``spawn(args, slow=True)`` makes every batch the child (or a Dask worker it starts) runs sleep
    ``BATCH_DELAY_S`` first, so that a run a test interrupts is still running by construction.
    """
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[io.BufferedWriter] = []

    def start(args: Sequence[str | bytes], log: str = "child", slow: bool = False) -> subprocess.Popen[bytes]:
        fh = (tmp_path / f"{log}.log").open("ab")
        logs.append(fh)
        env = {**CHILD_ENV, BATCH_DELAY_ENV: str(BATCH_DELAY_S)} if slow else CHILD_ENV
        proc = subprocess.Popen(list(args), env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in reversed(procs):
            _kill_group(proc)
        for fh in logs:
            fh.close()


def group_alive(pgid: int) -> bool:
    """Whether any process of process group ``pgid`` still exists."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover
        return True
    return True
