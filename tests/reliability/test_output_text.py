"""Text from scenario and results files reaches the terminal with control characters escaped; what
``qrate validate`` says about batches is what a run does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qrate.text import printable
from tests.reliability.conftest import cli

#: a window-title OSC, a CSI that clears the screen, a bell, a C1 CSI and a right-to-left override
HOSTILE = "evil\x1b]0;pwned\x07\x1b[2J\x9b31m\u202eend\nnext"
RAW = ("\x1b", "\x07", "\x9b", "\u202e")


def _clean(text: str) -> None:
    for c in RAW:
        assert c not in text, (c, text)


def test_printable_escapes_control_characters_only() -> None:
    assert printable("Alice, Bob ∈ GS1 — Ω 0.5 km, é") == "Alice, Bob ∈ GS1 — Ω 0.5 km, é"
    out = printable(HOSTILE)
    _clean(out)
    assert "\n" not in out and "\\x1b" in out and "\\x07" in out and "\\u202e" in out


def test_validate_escapes_the_scenario_name() -> None:
    rc, out, err = cli(["validate", "khan-acka-leo", "--set", "sweep.ground_distance_km=[0]",
                        "--set", f"name={json.dumps(HOSTILE)}"])
    assert rc == 0, err
    _clean(out)
    assert out.startswith("evil\\x1b]0;pwned\\x07")


def test_run_messages_escape_the_scenario_name(tmp_path: Path) -> None:
    out = tmp_path / "r.h5"
    rc, _, err = cli(["run", "khan-acka-leo", "--set", "sweep.ground_distance_km=[0]", "--set", "sampling.pulses_per_batch=1000",
                      "--set", "sampling.batches=2", "--set", f"name={json.dumps(HOSTILE)}", "--scheduler", "sync",
                      "--out", str(out)])
    assert rc == 0, err
    _clean(err)
    assert "qrate run: evil\\x1b]0;pwned" in err


def test_scenarios_escapes_descriptions(monkeypatch: pytest.MonkeyPatch) -> None:
    import qrate._cli.scenarios as verb

    monkeypatch.setattr(verb, "preset_descriptions", lambda: {"x\x1b[31m": HOSTILE})
    rc, out, _ = cli(["scenarios"])
    assert rc == 0
    _clean(out)
    assert out.count("\n") == 1


def test_validate_says_how_batches_are_chosen_with_a_target() -> None:
    rc, out, err = cli(["validate", "khan-acka-leo", "--set", "sweep.ground_distance_km=[0]",
                        "--set", "sampling.target_relative_error=0.01", "--set", "sampling.batches=50",
                        "--set", "sampling.min_batches=4"])
    assert rc == 0, err
    sampling = next(line for line in out.splitlines() if line.startswith("sampling:"))
    assert "up to 50 batches" in sampling
    stopping = next(line for line in out.splitlines() if line.startswith("stopping:"))
    assert "1%" in stopping and "at least 4 batches" in stopping and "50 batches" in stopping
    rc, out, err = cli(["validate", "khan-acka-leo", "--set", "sweep.ground_distance_km=[0]", "--set", "sampling.batches=7"])
    assert rc == 0, err
    assert "x 7 batches x" in out and "up to" not in out and "stopping:" not in out
