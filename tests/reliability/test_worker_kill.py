"""Kill one real ``dask worker`` process mid-sweep: the sweep completes with the same numbers."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from qrate.store import read_results
from qrate.sweep.run import run_to_file
from tests.reliability.conftest import QRATE, stored_rows, wait_for
from tests.sweep._helpers import assert_same_rows, overrides, scenario

SEED = 31337
# the workers sleep BATCH_DELAY_S per batch (spawn(..., slow=True)): 450 batches last >= 4.5 s on both workers and
# the kill lands after the first stored rows (~0.5 s), mid-sweep whatever the machine's speed
DISTANCES, PULSES, BATCHES = "[0, 150, 300]", 200_000, 150


@pytest.mark.slow
def test_killing_a_dask_worker_mid_sweep_changes_nothing(tmp_path: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("dask") is None:
        pytest.skip("the dask command is not installed")
    sched_file = tmp_path / "scheduler.json"
    spawn(["dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(sched_file), "--no-dashboard"],
          log="scheduler")
    wait_for(sched_file.exists, 60, "the scheduler file")
    # --no-nanny: the worker is this very process, so killing it really loses the worker
    workers = [spawn(["dask", "worker", "--scheduler-file", str(sched_file), "--nthreads", "1", "--no-dashboard",
                      "--no-nanny", "--host", "127.0.0.1"], log=f"worker{i}", slow=True) for i in range(2)]
    from distributed import Client

    with Client(scheduler_file=str(sched_file), timeout=60) as client:
        client.wait_for_workers(2, timeout=90)
        assert all(a.startswith("tcp://127.0.0.1:") for a in client.scheduler_info()["workers"])

    out = tmp_path / "cluster.h5"
    run = spawn([*QRATE, "run", "khan-acka-leo", *overrides(DISTANCES, PULSES, BATCHES), "--seed", str(SEED), "--quiet",
                 "--scheduler-file", str(sched_file), "--out", str(out)], log="run")
    wait_for(lambda: stored_rows(out) >= 3, 120, "3 stored batches", run)
    os.killpg(workers[0].pid, signal.SIGKILL)  # mid-sweep: the other batches in flight on it are lost
    assert workers[0].wait(timeout=30) == -signal.SIGKILL
    assert stored_rows(out) < 3 * BATCHES, "the sweep ended before the worker was killed"
    assert run.wait(timeout=180) == 0, (tmp_path / "run.log").read_text()

    ref = run_to_file(scenario(DISTANCES, pulses=PULSES, batches=BATCHES), tmp_path / "ref.h5", seed=SEED,
                      scheduler="sync", quiet=True)
    assert_same_rows(ref, out)
    res = read_results(out)
    assert res.meta["complete"] and [p.rows.size for p in res.points] == [BATCHES] * 3
