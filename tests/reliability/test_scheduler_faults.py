"""Schedulers that cannot serve: bad ports and files, dead addresses, no workers, a scheduler lost
mid-run, the dashboard's interface. Each fails in bounded time with one line; nothing hangs."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qrate.errors import InputError
from qrate.store import read_results
from qrate.sweep.scheduler import CONNECT_TIMEOUT_S, open_client, parse_scheduler
from tests.reliability.conftest import QRATE, cli, stored_rows, wait_for
from tests.sweep._helpers import overrides

SMALL = [*overrides("[0]", 1000, 2), "--quiet"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _one_line_error(rc: int, err: str, code: int, *needles: str) -> None:
    assert rc == code, (rc, err)
    assert err.count("\n") == 1 and "Traceback" not in err and "AssertionError" not in err, err
    for needle in needles:
        assert needle in err, (needle, err)


@pytest.mark.parametrize("port", ["0", "65536", "99999"])
def test_a_port_outside_1_to_65535_is_bad_input(port: str, tmp_path: Path) -> None:
    t0 = time.monotonic()
    rc, _, err = cli(["run", "khan-acka-leo", *SMALL, "--scheduler", f"tcp://127.0.0.1:{port}", "--out", str(tmp_path / "r.h5")])
    _one_line_error(rc, err, 2, "--scheduler", f"port {port}", "1-65535")
    assert time.monotonic() - t0 < 5 and not (tmp_path / "r.h5").exists()


@pytest.mark.parametrize("content", [b"garbage\n", b'{"a": 1}', b"[]", b'{"address": 5}', b'{"address": "nowhere"}',
                                     b"\xff\xfe\x00", b"[" * 5000])
def test_a_file_that_is_not_a_scheduler_file_says_so(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "scheduler.json"
    path.write_bytes(content)
    rc, _, err = cli(["run", "khan-acka-leo", *SMALL, "--scheduler-file", str(path), "--out", str(tmp_path / "r.h5")])
    _one_line_error(rc, err, 2, "--scheduler-file", "is not a Dask scheduler file")
    assert not (tmp_path / "r.h5").exists()


def test_a_dead_address_fails_within_the_connect_timeout(tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    assert CONNECT_TIMEOUT_S <= 10
    t0 = time.monotonic()
    with pytest.raises(InputError) as info, open_client(parse_scheduler(address, connect_timeout_s=1.0)):
        pass
    assert time.monotonic() - t0 < 6
    assert info.value.field == "--scheduler" and "within 1 s" in info.value.message
    run = ["run", "khan-acka-leo", *SMALL, "--scheduler", address, "--out", str(tmp_path / "r.h5")]
    rc, _, err = cli([*run, "--connect-timeout", "1"])
    _one_line_error(rc, err, 2, "--scheduler", address, "--connect-timeout")
    assert not (tmp_path / "r.h5").exists()
    for bad in ("0", "-1", "nan", "1e9"):
        rc, _, err = cli([*run, "--connect-timeout", bad])
        _one_line_error(rc, err, 2, "--connect-timeout")


@pytest.fixture
def empty_scheduler() -> Iterator[str]:
    """A Dask scheduler (in this process) with no worker; yields its address."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster:
        yield cluster.scheduler_address


@pytest.mark.timeout(120)
def test_a_scheduler_without_workers_fails_after_the_worker_timeout(empty_scheduler: str, tmp_path: Path) -> None:
    out = tmp_path / "r.h5"
    t0 = time.monotonic()
    rc, _, err = cli(["run", "khan-acka-leo", *SMALL, "--scheduler", empty_scheduler, "--worker-timeout", "1", "--out", str(out)])
    assert time.monotonic() - t0 < 30
    assert rc == 1 and "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert "has no worker yet; waiting up to 1 s" in lines[0]  # the wait is visible
    assert lines[1].startswith("qrate run: error: no Dask worker joined the scheduler") and "--worker-timeout" in lines[1]
    assert not out.exists()


def test_the_dashboard_address_is_checked_and_explicit() -> None:
    assert parse_scheduler("local", dashboard=True).dashboard is True
    assert parse_scheduler("local", dashboard="0.0.0.0:8787").dashboard == "0.0.0.0:8787"
    for bad in ("nowhere", ":8787", "127.0.0.1:70000"):
        with pytest.raises(InputError) as info:
            parse_scheduler("local", dashboard=bad)
        assert info.value.field == "--dashboard-address"


@pytest.mark.slow
# dask warns and moves the dashboard to a free port when 8787 is taken, leaking the socket it tried
# (pytest makes those warnings errors): the test is about the host, whichever port it gets
@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_dashboard_listens_on_loopback_by_default() -> None:
    with open_client(parse_scheduler("local", 1, dashboard=True)) as client:

        def http_hosts(dask_scheduler) -> list[str]:  # type: ignore[no-untyped-def]
            server = getattr(dask_scheduler, "http_server", None)
            return [str(sock.getsockname()[0]) for sock in getattr(server, "_sockets", {}).values()]

        hosts = client.run_on_scheduler(http_hosts)
        assert hosts and all(h == "127.0.0.1" for h in hosts), hosts
        assert client.dashboard_link.startswith("http://127.0.0.1:")


@pytest.mark.slow
def test_a_scheduler_lost_mid_run_is_one_line_with_rows_kept_and_a_resume_hint(tmp_path: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("dask") is None:
        pytest.skip("the dask command is not installed")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = spawn(["dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], log="scheduler")
    # the worker sleeps BATCH_DELAY_S per batch: 2000 batches last >= 40 s, the scheduler dies mid-sweep
    spawn(["dask", "worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"], log="worker", slow=True)
    out = tmp_path / "lost.h5"
    run = spawn([*QRATE, "run", "khan-acka-leo", *overrides("[0, 200]", 200_000, 1000), "--seed", "5", "--scheduler", address,
                 "--worker-timeout", "60", "--out", str(out)], log="run")
    wait_for(lambda: stored_rows(out) >= 2, 120, "2 stored batches", run)
    os.killpg(scheduler.pid, signal.SIGKILL)
    assert run.wait(timeout=60) == 1
    log = (tmp_path / "run.log").read_text()
    assert "Traceback" not in log and "ERROR" not in log, log
    lines = [ln for ln in log.splitlines() if not ln.startswith(("qrate run: khan-acka-leo", "qrate: the Dask scheduler"))]
    assert len(lines) == 1 and lines[0].startswith("qrate run: error: lost the Dask scheduler"), log
    saved = sum(p.rows.size for p in read_results(out).points)
    assert saved >= 2 and f"{saved} batches saved in {out}" in lines[0]
    assert lines[0].split("Resume with: ", 1)[1].endswith("--resume")
