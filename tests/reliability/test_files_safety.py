"""Data is never lost: overwrite of a file in use, SIGKILL while a file appears, disk full, plot links,
combine onto a hard-linked input, unreadable inputs, inconsistent counters.

Each test stops a verb with one error line (exit 2 for bad input, 1 for a failed write) and checks the
files involved byte for byte, or resumes what was interrupted and compares with an uninterrupted run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from qrate.store import read_results
from tests.reliability.conftest import CHILD_ENV, QRATE, cli, wait_for
from tests.sweep._helpers import assert_same_rows, overrides, sha256

SEED = 4242
SETS = [*overrides("[0, 100]", 2000, 4), "--seed", str(SEED), "--scheduler", "sync", "--quiet"]


def _run(out: Path, *extra: str) -> Path:
    rc, _, err = cli(["run", "khan-acka-leo", *SETS, *extra, "--out", str(out)])
    assert rc == 0, err
    return out


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err and err.count("\n") == 1 and "error:" in err, err
    return err


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("safety") / "good.h5")


# -- a file held open by a writer ---------------------------------------------------------------

HOLD = (
    "import sys, time\n"
    "from qrate.store.writer import ResultsWriter\n"
    "w = ResultsWriter.reopen(sys.argv[1])\n"
    "open(sys.argv[2], 'w').close()\n"
    "time.sleep(120)\n"
)


def test_overwrite_of_a_file_held_by_a_writer_is_refused_and_leaves_it_byte_identical(good: Path, tmp_path: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    held, other = tmp_path / "held.h5", tmp_path / "other.h5"
    held.write_bytes(good.read_bytes())
    _run(other, "--set", "sweep.ground_distance_km=[200]")
    ready = tmp_path / "ready"
    holder = spawn([sys.executable, "-c", HOLD, str(held), str(ready)], log="holder")  # HDF5 locking off, as in CHILD_ENV
    wait_for(ready.exists, 60, "the writer to open the file", holder)
    digest = sha256(held)
    for args in (
        ["run", "khan-acka-leo", *SETS, "--overwrite", "--out", str(held)],
        ["combine", str(good), str(other), "--overwrite", "--quiet", "--out", str(held)],
    ):
        rc, _, err = cli(args)
        assert rc == 2 and "in use by another process" in _one_error_line(err) and str(held) in err, (args[0], err)
        assert sha256(held) == digest, args[0]
    rc, _, err = cli(["show", str(held)])  # a locked file is in use, not "foreign or truncated"
    assert rc == 2 and "in use by another process" in _one_error_line(err), err
    holder.kill()
    holder.wait(timeout=30)
    rc, out, err = cli(["show", str(held)])
    assert rc == 0 and out.startswith("# khan-acka-leo"), err


# -- SIGKILL while the file appears --------------------------------------------------------------

KILL_DELAYS_S = (0.0, 0.0, 0.003, 0.02, 0.08)
KILL_SETS = [*overrides("[0, 100]", 2000, 300), "--seed", str(SEED), "--scheduler", "sync", "--quiet"]


@pytest.mark.slow
def test_sigkill_right_after_the_file_appears_leaves_no_file_or_a_resumable_one(tmp_path: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    outs = [tmp_path / f"k{i}.h5" for i in range(len(KILL_DELAYS_S))]
    # slow=True: 600 batches of >= 20 ms each, still running when each kill lands (at most 80 ms after the file appears)
    procs = [spawn([*QRATE, "run", "khan-acka-leo", *KILL_SETS, "--out", str(o)], log=f"k{i}", slow=True) for i, o in enumerate(outs)]
    seen: dict[int, float] = {}
    pending = set(range(len(procs)))
    deadline = time.monotonic() + 120
    while pending:  # kill each child a set time after its file appears
        assert time.monotonic() < deadline, "the children never wrote their files"
        now = time.monotonic()
        for i in sorted(pending):
            if i not in seen and os.path.lexists(outs[i]):
                seen[i] = now
            if i in seen and now - seen[i] >= KILL_DELAYS_S[i]:
                procs[i].send_signal(signal.SIGKILL)
                pending.discard(i)
            elif procs[i].poll() is not None:
                raise AssertionError(f"child {i} ended (rc {procs[i].returncode}) before its file appeared")
        time.sleep(0.0005)
    ref = _run_kill_ref(tmp_path)
    for i, (proc, out) in enumerate(zip(procs, outs, strict=True)):
        proc.wait(timeout=30)
        if out.exists():  # no file at all is fine too; a file must open and resume
            res = read_results(out)
            assert res.meta["protocol"] == "acka" and len(res.points) == 2, i
            for p in res.points:
                np.testing.assert_array_equal(p.rows["batch_index"], np.arange(p.rows.size))
        rc, _, err = cli(["run", "khan-acka-leo", *KILL_SETS, "--resume", "--out", str(out)])
        assert rc == 0, (i, err)
        assert_same_rows(ref, out)


def _run_kill_ref(tmp_path: Path) -> Path:
    out = tmp_path / "ref.h5"
    rc, _, err = cli(["run", "khan-acka-leo", *KILL_SETS, "--out", str(out)])
    assert rc == 0, err
    return out


# -- disk full -----------------------------------------------------------------------------------

FULL = (
    "import resource, signal, sys\n"
    "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, like ENOSPC\n"
    "resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), resource.getrlimit(resource.RLIMIT_FSIZE)[1]))\n"
    "from qrate.cli import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)
FULL_SETS = [*overrides("[0, 100]", 2000, 6000), "--seed", str(SEED), "--scheduler", "sync", "--quiet"]


@pytest.mark.slow
def test_disk_full_keeps_finished_batches_and_resume_completes(tmp_path: Path) -> None:
    out = tmp_path / "full.h5"
    limit = 545 * 1024  # rows are written every FLUSH_ROWS: a few groups fit (with their reserve), not all 12000 batches
    child = subprocess.run(
        [sys.executable, "-c", FULL, str(limit), "run", "khan-acka-leo", *FULL_SETS, "--out", str(out)],
        env=CHILD_ENV,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    err = child.stderr
    assert child.returncode == 1, (child.returncode, err)
    assert _one_error_line(err).startswith("qrate run: error:") and str(out) in err and "cannot write" in err, err
    assert "File too large" in err and "--resume" in err, err
    res = read_results(out)  # the rows written before the failure are complete and readable
    stored = 0
    for p in res.points:
        np.testing.assert_array_equal(p.rows["batch_index"], np.arange(p.rows.size))
        stored += p.rows.size
    assert 0 < stored < 12000 and not res.meta["complete"]
    rc, _, err = cli(["show", str(out)])
    assert rc == 0, err
    rc, _, err = cli(["run", "khan-acka-leo", *FULL_SETS, "--resume", "--out", str(out)])  # space is free again
    assert rc == 0, err
    ref = tmp_path / "ref.h5"
    rc, _, err = cli(["run", "khan-acka-leo", *FULL_SETS, "--out", str(ref)])
    assert rc == 0, err
    assert_same_rows(ref, out)
    assert read_results(out).meta["complete"]


# -- plot ----------------------------------------------------------------------------------------


def test_plot_never_writes_through_a_symlink_nor_over_a_file_without_overwrite(good: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.h5"
    victim.write_bytes(good.read_bytes())
    digest = sha256(victim)
    link = tmp_path / "fig.png"
    link.symlink_to(victim)
    for extra in ([], ["--overwrite"]):
        rc, _, err = cli(["plot", str(good), "--out", str(link), *extra])
        assert rc == 2 and "symbolic link" in _one_error_line(err) and "--out" in err, err
        assert sha256(victim) == digest and link.is_symlink()
    fig = tmp_path / "plain.png"
    fig.write_bytes(b"precious")
    rc, _, err = cli(["plot", str(good), "--out", str(fig)])
    assert rc == 2 and "already exists" in _one_error_line(err) and "--overwrite" in err, err
    assert fig.read_bytes() == b"precious"
    rc, _, err = cli(["plot", str(good), "--out", str(fig), "--overwrite"])
    assert rc == 0, err
    assert fig.read_bytes().startswith(b"\x89PNG")
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_plot_onto_a_directory_or_into_a_read_only_folder_is_one_line_exit_2(good: Path, tmp_path: Path) -> None:
    folder = tmp_path / "fig.png"
    folder.mkdir()
    rc, _, err = cli(["plot", str(good), "--out", str(folder)])
    assert rc == 2 and "is a directory" in _one_error_line(err), err
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    immutable = False
    if os.access(ro, os.W_OK) and subprocess.run(["chattr", "+i", str(ro)], capture_output=True, check=False).returncode == 0:
        immutable = True  # root ignores modes
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("cannot make a folder read-only for this user")
        rc, _, err = cli(["plot", str(good), "--out", str(ro / "fig.png")])
        assert rc == 2 and "not a writable folder" in _one_error_line(err), err
        assert not list(ro.iterdir())
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(ro)], capture_output=True, check=False)
        ro.chmod(0o755)


def test_plot_label_takes_several_values_after_one_flag(good: Path, tmp_path: Path) -> None:
    other = _run(tmp_path / "other.h5", "--set", "sweep.ground_distance_km=[200]")
    for labels in (["--label", "A", "B"], ["--label", "A", "--label", "B"]):
        fig = tmp_path / f"f{len(labels)}.png"
        rc, _, err = cli(["plot", str(good), str(other), "--out", str(fig), *labels])
        assert rc == 0 and fig.stat().st_size > 0, err
    rc, _, err = cli(["plot", str(good), str(other), "--out", str(tmp_path / "bad.png"), "--label", "A", "B", "C"])
    assert rc == 2 and "--label" in _one_error_line(err), err


# -- combine -------------------------------------------------------------------------------------


def test_combine_refuses_an_output_that_is_an_input_by_another_name(good: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    a.write_bytes(good.read_bytes())
    _run(b, "--set", "sweep.ground_distance_km=[200]")
    alias = tmp_path / "alias.h5"
    os.link(a, alias)  # a hard link: another path, the same file
    digest = sha256(a)
    rc, _, err = cli(["combine", str(a), str(b), "--out", str(alias), "--overwrite", "--quiet"])
    assert rc == 2 and "is one of the inputs" in _one_error_line(err) and "--out" in err, err
    assert sha256(a) == digest


# -- unreadable inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["directory", "text", "truncated", "empty"])
def test_show_of_a_bad_input_is_one_line_exit_2(kind: str, good: Path, tmp_path: Path) -> None:
    path = tmp_path / f"{kind}.h5"
    if kind == "directory":
        path.mkdir()
    elif kind == "text":
        path.write_text("D_km,rate\n0,1\n")
    elif kind == "truncated":
        path.write_bytes(good.read_bytes()[:3000])
    else:
        path.write_bytes(b"")
    for args in (["show", str(path)], ["show", str(path), "--json"]):
        rc, out, err = cli(args)
        assert rc == 2 and str(path) in _one_error_line(err) and not out, (kind, err)
    if kind == "directory":
        assert "is a directory" in err


@pytest.mark.parametrize("field, value", [("c_shots", -1), ("c_key_rounds", +3)])
def test_inconsistent_counters_mark_the_file_damaged(field: str, value: int, good: Path, tmp_path: Path) -> None:
    """``c_shots`` below the successes, or a counter above them: impossible rows, one line "damaged"."""
    path = tmp_path / "bad.h5"
    path.write_bytes(good.read_bytes())
    from tests.sweep._helpers import edit_row

    row = read_results(good).points[1].rows[1]
    assert row["c_shots"] == row["successes"] and field in (row.dtype.names or ())
    edit_row(path, 1, 1, **{field: int(row["successes"]) + value})
    digest = sha256(path)
    rc, out, err = cli(["show", str(path)])
    assert rc == 2 and "damaged" in _one_error_line(err) and str(path) in err and not out, err
    rc, _, err = cli(["combine", str(path), str(good), "--out", str(tmp_path / "c.h5")])
    assert rc == 2 and "damaged" in _one_error_line(err) and not (tmp_path / "c.h5").exists(), err
    assert sha256(path) == digest


# -- a counter above its rounds (impossible by the report, not by the row alone) ------------------


def _counter_above_rounds(good: Path, path: Path) -> None:
    from tests.sweep._helpers import edit_row

    path.write_bytes(good.read_bytes())
    rows = read_results(good).points[1].rows
    edit_row(path, 1, 1, c_x_parity_errors=int(rows["c_verify_rounds_x"][1]) + 1)


def test_resume_of_a_file_with_a_counter_above_its_rounds_leaves_it_byte_identical(good: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.h5"
    _counter_above_rounds(good, path)
    digest = sha256(path)
    rc, out, err = cli(["run", "khan-acka-leo", *SETS, "--set", "sampling.batches=6", "--resume", "--out", str(path)])
    assert rc == 2 and "damaged" in _one_error_line(err) and str(path) in err and not out, err
    assert sha256(path) == digest


def test_combine_refuses_an_input_with_a_counter_above_its_rounds(good: Path, tmp_path: Path) -> None:
    path, other, out_path = tmp_path / "bad.h5", tmp_path / "other.h5", tmp_path / "c.h5"
    _counter_above_rounds(good, path)
    _run(other, "--set", "sweep.ground_distance_km=[200]")
    rc, out, err = cli(["combine", str(path), str(other), "--out", str(out_path), "--quiet"])
    assert rc == 2 and "damaged" in _one_error_line(err) and str(path) in err and not out_path.exists(), err
