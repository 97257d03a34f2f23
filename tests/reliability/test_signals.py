"""Ctrl-C in a terminal signals the whole process group; SIGTERM (``kill``, a batch system's time
limit) should do what Ctrl-C does. Either way: the LocalCluster workers stay quiet, the client prints
one line with the saved batches and the resume command, exits 130, and leaves nothing behind."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from qrate.cli import sigterm_as_interrupt
from qrate.store import read_results
from qrate.sweep.scheduler import dask_setup
from tests.reliability.conftest import QRATE, group_alive, stored_rows, wait_for
from tests.sweep._helpers import overrides

# the run sleeps BATCH_DELAY_S per batch (spawn(..., slow=True)): 2000 batches on 2 workers last >= 20 s,
# the signal always lands mid-sweep whatever the machine's speed
SETS = overrides("[0, 200]", 200_000, 1000)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_to_the_process_group_gives_one_line_and_the_resume_command(sig: signal.Signals, tmp_path: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run.h5"
    args = ["run", "khan-acka-leo", *SETS, "--seed", "7", "--scheduler", "local", "--workers", "2", "--out", str(out)]
    proc = spawn([*QRATE, *args], log="run", slow=True)
    wait_for(lambda: stored_rows(out) >= 1, 120, "a stored batch", proc)
    os.killpg(proc.pid, sig)  # what a terminal does on Ctrl-C: every process of the group
    t0 = time.monotonic()
    assert proc.wait(timeout=60) == 130
    assert time.monotonic() - t0 < 30
    wait_for(lambda: not group_alive(proc.pid), 30, "the LocalCluster worker processes to exit")

    log = (tmp_path / "run.log").read_text()
    for noise in ("Traceback", "KeyboardInterrupt", "leaked", "Warning", "ERROR", "interrupted"):
        assert noise not in log, (noise, log)
    lines = [ln for ln in log.splitlines() if ln.strip() and not ln.startswith("qrate run: khan-acka-leo, ")]
    assert len(lines) == 1 and lines[0].startswith("Interrupted; "), log
    saved = sum(p.rows.size for p in read_results(out).points)
    assert saved >= 1 and f"{saved} batches saved in {out}" in lines[0]
    assert lines[0].endswith(" --resume") and "Resume with: qrate run khan-acka-leo" in lines[0]


def test_sigterm_raises_keyboard_interrupt_inside_the_cli_only() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with sigterm_as_interrupt(), pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # interrupted long before
    assert signal.getsignal(signal.SIGTERM) is before


def test_sigterm_goes_through_whatever_handles_sigint() -> None:
    """A results writer holds SIGINT back during a write; SIGTERM must be held back the same way."""
    seen: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        with sigterm_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert seen == [signal.SIGINT]


def test_worker_preload_ignores_sigint_and_sigterm() -> None:
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        dask_setup(None)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN and signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
