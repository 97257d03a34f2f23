"""Ctrl-C (SIGINT) to ``qrate run``: work cancelled, what finished saved, how to resume said, exit 130."""

from __future__ import annotations

import shlex
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from qrate.store import read_results
from qrate.sweep.run import run_to_file
from tests.reliability.conftest import QRATE, cli, group_alive, stored_rows, wait_for
from tests.sweep._helpers import assert_same_rows, overrides, scenario

SEED = 130
# the run sleeps BATCH_DELAY_S per batch (spawn(..., slow=True)): 1000 batches on 2 workers last >= 10 s,
# so it cannot finish between the 2nd stored row and the SIGINT, whatever the machine's speed
DISTANCES, PULSES, BATCHES = "[0, 200]", 200_000, 500


@pytest.mark.slow
def test_sigint_saves_progress_prints_resume_command_and_exits_130(tmp_path: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "interrupted.h5"
    args = ["run", "khan-acka-leo", *overrides(DISTANCES, PULSES, BATCHES), "--seed", str(SEED),
            "--scheduler", "local", "--workers", "2", "--out", str(out)]
    proc = spawn([*QRATE, *args], log="run", slow=True)
    wait_for(lambda: stored_rows(out) >= 2, 120, "2 stored batches", proc)
    proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    assert proc.wait(timeout=60) == 130
    assert time.monotonic() - t0 < 30  # cancelled, not run to the end
    wait_for(lambda: not group_alive(proc.pid), 30, "the LocalCluster worker processes to exit")

    log = (tmp_path / "run.log").read_text()
    assert "Traceback" not in log, log
    line = next(ln for ln in log.splitlines() if ln.startswith("Interrupted;"))
    res = read_results(out)
    saved = sum(p.rows.size for p in res.points)
    assert not res.meta["complete"] and 2 <= saved < 2 * BATCHES
    assert f"{saved} batches saved in {out}" in line
    for p in res.points:  # what was saved is a clean prefix
        np.testing.assert_array_equal(p.rows["batch_index"], np.arange(p.rows.size))
    # the printed command resumes the run (here in-process, on the sync scheduler: same numbers)
    resume = shlex.split(line.split("Resume with: ", 1)[1])
    assert resume[:2] == ["qrate", "run"] and resume[-1] == "--resume" and resume[1:-1] == args
    rc, _, err = cli([*resume[1:-1], "--scheduler", "sync", "--quiet", "--resume"])
    assert rc == 0, err
    ref = run_to_file(scenario(DISTANCES, pulses=PULSES, batches=BATCHES), tmp_path / "ref.h5", seed=SEED,
                      scheduler="sync", quiet=True)
    assert_same_rows(ref, out)
    assert read_results(out).meta["complete"]
