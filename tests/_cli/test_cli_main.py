"""`qrate` itself: usage, version, unknown verbs, and the verb table (every verb has a module with main and --help)."""

from __future__ import annotations

import importlib

import pytest

from qrate import __version__
from qrate.cli import VERBS, main


def test_usage_lists_every_verb(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(f"  {verb} " in out for verb in VERBS)
    assert main([]) == 2  # no verb: usage, bad input


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"qrate {__version__}\n"


def test_an_unknown_verb_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("qrate: error: unknown verb 'frobnicate'") and len(err.splitlines()) == 1


@pytest.mark.parametrize("verb", list(VERBS))
def test_every_verb_has_help(verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert callable(importlib.import_module(VERBS[verb][0]).main)
    assert main([verb, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: qrate {verb}")


@pytest.mark.parametrize("verb", list(VERBS))
def test_every_verb_refuses_an_unknown_option_with_one_line(verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([verb, "--no-such-option"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and err.startswith(f"qrate {verb}: error: "), err
