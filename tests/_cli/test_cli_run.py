"""`qrate run`, `qrate show`, `qrate combine` and `qrate validate` at the command line: what they print,
what they refuse (one line, exit 2, files unchanged)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qrate.cli import main
from qrate.store import read_results
from tests.sweep._helpers import overrides, sha256

SETS = [*overrides("[0, 100]", 2000, 3), "--seed", "11", "--scheduler", "sync"]


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "r.h5"
    assert main(["run", "khan-acka-leo", *SETS, "--quiet", "--out", str(out)]) == 0
    return out


def test_run_says_what_it_writes_and_show_prints_every_point(done: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "loud.h5"
    assert main(["run", "khan-acka-leo", *SETS, "--out", str(out)]) == 0
    _, err = capsys.readouterr()
    assert err.splitlines()[0].startswith("qrate run: khan-acka-leo, 2 points, seed 11") and err.splitlines()[-1] == f"wrote {out}"
    assert main(["show", str(done)]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].startswith("# khan-acka-leo (acka), seed 11")
    rows = [line.split() for line in text if line and not line.startswith("#")]
    assert rows[0][0] == "D_km" and [r[0] for r in rows[1:]] == ["0", "100"]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ([], "--out"),  # exists, neither --resume nor --overwrite
        (["--resume", "--overwrite"], "--resume"),
        (["--set", "sampling.batches=0"], "sampling.batches"),
        (["--max-pulses", "0"], "--max-pulses"),
        (["--seed", "-1"], "--seed"),
    ],
)
def test_run_refusals_are_one_line_and_leave_the_file_unchanged(extra: list[str], needle: str, done: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    digest = sha256(done)
    assert main(["run", "khan-acka-leo", *SETS, "--quiet", "--out", str(done), *extra]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and err.startswith(f"qrate run: error: {needle}"), err
    assert sha256(done) == digest


def test_resume_of_a_complete_file_adds_no_batch(done: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.h5"
    copy.write_bytes(done.read_bytes())
    assert main(["run", "khan-acka-leo", *SETS, "--quiet", "--resume", "--out", str(copy)]) == 0
    assert [p.rows.size for p in read_results(copy).points] == [3, 3]


def test_combine_prints_the_table_unless_quiet_and_refuses_an_existing_output(done: Path, tmp_path: Path,
                                                                               capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "far.h5"
    assert main(["run", "khan-acka-leo", *SETS, "--quiet", "--set", "sweep.ground_distance_km=[200]", "--out", str(other)]) == 0
    capsys.readouterr()
    out = tmp_path / "c.h5"
    assert main(["combine", str(done), str(other), "--out", str(out)]) == 0
    printed, err = capsys.readouterr()
    assert printed.startswith("# khan-acka-leo") and err == f"wrote {out}\n"
    digest = sha256(out)
    assert main(["combine", str(done), str(other), "--quiet", "--out", str(out)]) == 2
    printed, err = capsys.readouterr()
    assert printed == "" and len(err.splitlines()) == 1 and err.startswith("qrate combine: error: ") and sha256(out) == digest
    assert main(["combine", str(done), str(tmp_path / "missing.h5"), "--out", str(tmp_path / "d.h5")]) == 2
    assert "missing.h5" in capsys.readouterr().err and not (tmp_path / "d.h5").exists()


def test_validate_a_file_and_its_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "--show", "khan-acka-leo"]) == 0
    scenario = tmp_path / "s.toml"
    scenario.write_text(capsys.readouterr().out)
    assert main(["validate", str(scenario), "--set", "sweep.ground_distance_km=[0]"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "khan-acka-leo: valid (acka, sender Alice, participants Alice, Bob, Dina)"
    assert out[1].startswith("network: ")
    for args, needle in ((["--set", "links.leo.divergence_rad=-1"], "links.leo.divergence_rad"),
                         (["--set", "nodes.ground_stations.GS9.users=[]"], "nodes.ground_stations")):
        assert main(["validate", str(scenario), *args]) == 2
        printed, err = capsys.readouterr()
        assert printed == "" and len(err.splitlines()) == 1 and err.startswith(f"qrate validate: error: {needle}"), err
