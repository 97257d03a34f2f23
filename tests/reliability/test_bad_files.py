"""Corrupted, truncated, foreign and read-only results files given to show, plot, combine and --resume.

Every verb must stop with one clear error line naming the file (exit != 0) and leave it byte-for-byte
unchanged (sha256); no figure or combined file appears.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest

from tests.reliability.conftest import cli
from qrate.store import read_results
from tests.sweep._helpers import edit_row, overrides, sha256

SETS = [*overrides("[0, 100]", 2000, 4), "--seed", "99", "--scheduler", "sync", "--quiet"]


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("good") / "good.h5"
    rc, _, err = cli(["run", "khan-acka-leo", *SETS, "--max-pulses", "4000", "--out", str(path)])  # 2 of 4 batches
    assert rc == 0, err
    return path


def _flip(path: Path, start: int, n: int) -> None:
    data = bytearray(path.read_bytes())
    for i in range(start, min(start + n, len(data))):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def make_bad(kind: str, good: Path, path: Path) -> Path:
    """A damaged copy of ``good`` (or a foreign file) at ``path``."""
    data = good.read_bytes()
    if kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "truncated-tail":
        path.write_bytes(data[:-100])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("points,batches\n0,1\n")
    elif kind == "superblock":
        path.write_bytes(data)
        _flip(path, 0, 8)
    elif kind == "chunk":  # bit rot inside a batch table (caught by its Fletcher-32 checksum)
        path.write_bytes(data)
        with h5py.File(path, "r") as f:
            info = f["batches"].id.get_chunk_info(0)
        _flip(path, info.byte_offset + 16, 32)
    elif kind == "impossible-row":  # a well-formed file whose numbers no run can produce
        path.write_bytes(data)
        pulses = int(read_results(good).points[1].rows["pulses"][0])
        edit_row(path, 1, 0, successes=pulses + 5)
    elif kind == "foreign":
        with h5py.File(path, "w") as f:
            f.attrs["qrate_format"] = "something-else"
            f["points"] = np.arange(10)
    elif kind == "no-points":  # qrate attributes, but the batch tables are gone
        path.write_bytes(data)
        with h5py.File(path, "r+") as f:
            del f["batches"]
    else:  # pragma: no cover
        raise ValueError(kind)
    return path


KINDS = ["truncated", "truncated-tail", "empty", "text", "superblock", "chunk", "impossible-row", "foreign", "no-points"]


def _verbs(path: Path, good: Path, tmp: Path) -> dict[str, list[str]]:
    return {
        "show": ["show", str(path)],
        "show-json": ["show", str(path), "--json"],
        "plot": ["plot", str(path), "--out", str(tmp / "fig.png")],
        "combine": ["combine", str(good), str(path), "--out", str(tmp / "combined.h5")],
        "resume": ["run", "khan-acka-leo", *SETS, "--resume", "--out", str(path)],
    }


@pytest.mark.parametrize("kind", KINDS)
def test_damaged_file_is_refused_by_every_verb_and_left_unchanged(kind: str, good: Path, tmp_path: Path) -> None:
    good_digest = sha256(good)
    path = make_bad(kind, good, tmp_path / f"{kind}.h5")
    digest = sha256(path)
    for verb, args in _verbs(path, good, tmp_path).items():
        rc, out, err = cli(args)
        assert rc != 0, (kind, verb, out)
        assert "Traceback" not in err and err.count("\n") == 1, (kind, verb, err)
        assert "error:" in err and str(path) in err, (kind, verb, err)
        assert sha256(path) == digest, (kind, verb)
        assert not (tmp_path / "fig.png").exists() and not (tmp_path / "combined.h5").exists()
    assert sha256(good) == good_digest


@pytest.fixture
def read_only(good: Path, tmp_path: Path) -> Iterator[Path]:
    """A read-only copy of ``good`` (``chattr +i`` where the tests run as root, who ignores modes)."""
    path = tmp_path / "ro.h5"
    shutil.copy(good, path)
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    immutable = False
    if os.access(path, os.W_OK) and shutil.which("chattr"):
        immutable = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False).returncode == 0
    try:
        if os.access(path, os.W_OK):
            pytest.skip("cannot make a file read-only for this user")
        yield path
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)


def test_read_only_file_is_read_but_never_written(read_only: Path, good: Path, tmp_path: Path) -> None:
    digest = sha256(read_only)
    verbs = _verbs(read_only, good, tmp_path)
    rc, out, err = cli(verbs["show"])
    assert rc == 0 and out.startswith("# khan-acka-leo"), err
    assert cli(verbs["plot"])[0] == 0 and (tmp_path / "fig.png").stat().st_size > 0
    combine = ["combine", str(read_only), str(tmp_path / "other.h5"), "--out", str(tmp_path / "c.h5"), "--quiet"]
    rc, _, err = cli(["run", "khan-acka-leo", *SETS, "--set", "sweep.ground_distance_km=[200]", "--out", str(tmp_path / "other.h5")])
    assert rc == 0, err
    assert cli(combine)[0] == 0
    rc, _, err = cli(verbs["resume"])
    assert rc == 2 and "Traceback" not in err and err.count("\n") == 1 and "read-only" in err and str(read_only) in err, err
    assert sha256(read_only) == digest
