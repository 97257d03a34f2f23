"""Smoke tests of ``qrate bench``: valid JSON with the documented keys; bad options exit 2."""

from __future__ import annotations

import json
import math

import pytest

from qrate.cli import main

ROW_KEYS = {"stage", "name", "unit", "per_s", "limit_per_s", "fraction_of_limit"}


def test_quick_cheap_stages_write_documented_json(tmp_path, capsys):
    out = tmp_path / "b.json"
    assert main(["bench", "--quick", "--only", "transmittance", "protocol", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert {"suite", "machine", "results", "targets"} <= doc.keys()
    assert {"python", "platform", "cpu_count", "versions", "date_utc"} <= doc["machine"].keys()
    assert {r["stage"] for r in doc["results"]} == {"transmittance", "protocol"}
    for r in doc["results"]:
        assert ROW_KEYS <= r.keys()
        assert math.isfinite(r["per_s"]) and r["per_s"] > 0
        if r["limit_per_s"] is not None:
            assert r["fraction_of_limit"] == pytest.approx(r["per_s"] / r["limit_per_s"])
    names = [t["name"] for t in doc["targets"]]
    assert any("raw stim" in n for n in names)
    for t in doc["targets"]:
        assert {"name", "target", "measured", "met"} <= t.keys()
        assert isinstance(t["met"], bool)
    assert "protocol" in capsys.readouterr().out


def test_unknown_stage_is_input_error(tmp_path, capsys):
    assert main(["bench", "--only", "nonsense", "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert "--only" in err and "nonsense" in err
    assert not (tmp_path / "x.json").exists()


def test_out_must_be_json(tmp_path, capsys):
    assert main(["bench", "--quick", "--out", str(tmp_path / "x.txt")]) == 2
    assert "--out" in capsys.readouterr().err


def test_targets_from_rows_independent_of_stages():
    from qrate.bench import targets

    rows = [
        {"stage": "protocol", "name": "a (compiled)", "per_s": 4.0, "limit_per_s": 10.0, "fraction_of_limit": 0.4},
        {"stage": "protocol", "name": "b (compiled)", "per_s": 9.0, "limit_per_s": 10.0, "fraction_of_limit": 0.9},
        {"stage": "memory", "name": "m1", "per_s": 1.0, "peak_vs_1x": 1.0},
        {"stage": "memory", "name": "m2", "per_s": 1.0, "peak_vs_1x": 1.5},
    ]
    got = {t["name"]: t for t in targets(rows, [{"qrate_over_sequence_per_pulse": 2e5}])}
    stim = next(t for n, t in got.items() if "raw stim" in n)
    assert stim["measured"] == 0.4 and stim["met"] is False
    mem = next(t for n, t in got.items() if "RSS" in n)
    assert mem["measured"] == 1.5 and mem["met"] is False
    seq = next(t for n, t in got.items() if "SeQUeNCe" in n)
    assert seq["met"] is True
