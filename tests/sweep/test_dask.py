"""The same sweep in-process, on a 2-worker LocalCluster and on a hand-started scheduler + 2 workers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qrate.cli import main
from qrate.store import read_results
from tests.sweep._helpers import assert_same_rows, overrides

# a per-batch relative spread of ~2.5 % against a 0.8 % target: points stop after ~10 batches,
# while about 4 batches are in flight, so speculative batches past the stop must be dropped
SETS = overrides("[0, 150, 300]", 2000, 40, "sampling.target_relative_error=0.008", "sampling.min_batches=3")
RUN = ["run", "khan-acka-leo", *SETS, "--seed", "77", "--quiet"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """``dask scheduler`` and ``dask worker --nworkers 2`` on 127.0.0.1; yields the address."""
    if shutil.which("dask") is None:
        pytest.skip("the dask command is not installed")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    log = (tmp_path / "dask.log").open("wb")
    procs = [subprocess.Popen(["dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)]
    try:
        procs.append(subprocess.Popen(
            ["dask", "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        ))
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=90)
        yield address
    finally:
        for proc in reversed(procs):
            _stop(proc)
        log.close()


@pytest.mark.slow
def test_sync_localcluster_and_real_scheduler_agree(tmp_path: Path, dask_cluster: str, capsys: pytest.CaptureFixture[str]) -> None:
    files = {name: tmp_path / f"{name}.h5" for name in ("sync", "local", "tcp")}
    t0 = time.monotonic()
    assert main([*RUN, "--scheduler", "sync", "--out", str(files["sync"])]) == 0
    assert main([*RUN, "--scheduler", "local", "--workers", "2", "--out", str(files["local"])]) == 0
    assert main([*RUN, "--scheduler", dask_cluster, "--out", str(files["tcp"])]) == 0
    assert time.monotonic() - t0 < 120
    tables = capsys.readouterr().out.split("# khan-")[1:]
    assert len(tables) == 3 and tables[0] == tables[1] == tables[2]
    assert_same_rows(files["sync"], files["local"])
    assert_same_rows(files["sync"], files["tcp"])
    counts = [p.rows.size for p in read_results(files["sync"]).points]
    # the target error stopped every point (not the 40-batch cap), most after more than min_batches
    assert all(3 <= n < 40 for n in counts) and sum(counts) > 12, counts
    runs = [read_results(f).meta["runs"][0]["scheduler"] for f in files.values()]
    assert runs == ["sync", "local(2)", dask_cluster]
