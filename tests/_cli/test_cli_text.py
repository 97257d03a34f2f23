"""Every verb prints user and file text through the one sanitizer (:func:`qrate.text.printable`):
no raw control character reaches the terminal, whatever the file names, scenario text or file contents."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from qrate.text import printable

ESC_NAME = "x\x1b[31mred.h5"
#: a window-title OSC, a CSI that clears the screen, a bell, a C1 CSI, a right-to-left override, a line break
HOSTILE = "evil\x1b]0;pwned\x07\x1b[2J\x9b31m\u202eend\nnext"
#: C0 and C1 controls (a line break allowed only as the end of a line), DEL, bidirectional overrides
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _qrate(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """``qrate ARGS`` as a child process, stdout and stderr as text (control characters kept)."""
    proc = subprocess.run([sys.executable, "-m", "qrate.cli", *args], cwd=cwd, capture_output=True, timeout=120,
                          text=True, errors="surrogateescape")
    return proc.returncode, proc.stdout, proc.stderr


def _assert_clean(text: str) -> None:
    assert RAW.search(text) is None, text


def test_printable_escapes_controls_and_keeps_text() -> None:
    assert printable("Alice, Bob ∈ GS1 — Ω 0.5 km, é") == "Alice, Bob ∈ GS1 — Ω 0.5 km, é"
    out = printable(HOSTILE + "\udcff\t\r\u2028\x7f")
    _assert_clean(out)
    assert "\\x1b]0;pwned\\x07" in out and "\\u202e" in out and "\\n" in out and "\\udcff" in out and "\\x7f" in out
    assert printable(out) == out  # escaping twice changes nothing
    assert printable(Path("a\x1bb")) == "a\\x1bb"


@pytest.mark.parametrize(
    "args",
    [
        ["show", ESC_NAME],
        ["show", HOSTILE + ".h5"],
        ["combine", ESC_NAME, HOSTILE + ".h5", "--out", "c.h5"],
        ["plot", ESC_NAME, "--out", "p.png"],
        ["validate", HOSTILE + ".toml"],
        ["run", "khan-acka-leo", "--out", HOSTILE + ".txt"],
        ["run", "khan-acka-leo", "--set", f"sweep.{HOSTILE}=1", "--out", "r.h5"],
        ["show", "--no-such-option", HOSTILE],
        [HOSTILE],
    ],
    ids=["show-esc", "show", "combine", "plot", "validate", "run-out", "run-set", "usage", "verb"],
)
def test_a_refused_command_prints_one_clean_error_line(args: list[str], tmp_path: Path) -> None:
    rc, out, err = _qrate(args, tmp_path)
    assert rc == 2, err
    assert out == ""
    _assert_clean(err)
    lines = err.splitlines()
    assert len(lines) == 1 and "error: " in lines[0] and "Traceback" not in err, err
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_the_esc_file_name_is_shown_escaped(tmp_path: Path) -> None:
    rc, _, err = _qrate(["show", ESC_NAME], tmp_path)
    assert rc == 2 and err.startswith("qrate show: error: x\\x1b[31mred.h5"), err


def test_a_foreign_file_with_a_hostile_name_is_refused_cleanly(tmp_path: Path) -> None:
    (tmp_path / ESC_NAME).write_bytes(b"\x1b[2J not HDF5 \x07\n" * 10)
    for verb in (["show"], ["plot", "--out", "p.png"]):
        rc, out, err = _qrate([verb[0], ESC_NAME, *verb[1:]], tmp_path)
        assert rc == 2 and out == "", err
        _assert_clean(err)
        assert len(err.splitlines()) == 1, err
