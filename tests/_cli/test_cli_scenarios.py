"""`qrate scenarios`: every shipped preset listed once with its description; `--show` prints TOML that loads back."""

from __future__ import annotations

import tomllib

import pytest

from qrate.cli import main
from qrate.scenario import load_scenario, load_scenario_text
from qrate.scenario.presets import preset_names


def test_lists_every_preset_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == sorted(preset_names())
    assert all(len(line.split(None, 1)) == 2 for line in lines)  # a description on each line


@pytest.mark.parametrize("name", sorted(preset_names()))
def test_show_prints_the_preset_toml(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "--show", name]) == 0
    text = capsys.readouterr().out
    assert tomllib.loads(text)["name"] == name
    assert load_scenario_text(text) == load_scenario(name)


def test_show_of_an_unknown_preset_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "--show", "no-such-preset"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and err.startswith("qrate scenarios: error: ")
