"""HDF5 results store (read with plain h5py) and the `run` / `show` verbs end to end."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from qrate.cli import main
from qrate.errors import InputError, ResultsFileError
from qrate.scenario import load_scenario_text
from qrate.stats import BatchStats
from qrate.store import SCHEMA_VERSION, ResultsWriter, read_results

JSON_KEYS = {"protocol", "ground_distance_km", "pulses", "successes", "p_success", "p_success_stderr", "rate_bps", "rate_std_bps"}
PROTOCOL_KEYS = {
    "khan-acka-leo": {"qber_x", "qber_z_max", "key_rate_bps", "key_rate_std_bps", "key_rate_worst_bps", "finite_key_rate_bps"},
    "khan-broadcast-uav": {"broadcast_rate_bps", "broadcast_correct_rate_bps", "broadcast_error_rate"},
}


def _writer(path, **kw):  # type: ignore[no-untyped-def]
    return ResultsWriter(path, scenario_toml="x = 1\n", scenario_name="t", protocol="broadcast", seed=2**100 + 3,
                         counter_names=("shots", "broadcast_errors"), argv=["qrate", "run"], model_version=1,
                         report={"protocol": "broadcast", "carriers_per_use": 1}, **kw)


def test_store_layout_is_self_describing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "sub" / "r.h5"
    with _writer(path) as w:
        w.add_point(0, ground_distance_km=12.5, point_key=2**127 + 1, params={"slant_range_km": 30.0})
        w.append(0, 0, BatchStats(100, 40, 3, 2.5, 2.1, 0.1, {"shots": 40, "broadcast_errors": 3}))
        w.append(0, 1, BatchStats(100, 44, 3, 2.6, 2.2, 0.1, {"shots": 44, "broadcast_errors": 1}))
    with h5py.File(path, "r") as f:
        assert f.attrs["qrate_format"] == "qrate-results" and f.attrs["qrate_schema"] == SCHEMA_VERSION
        assert f.attrs["seed"] == str(2**100 + 3) and bool(f.attrs["complete"])
        assert json.loads(f.attrs["argv"]) == ["qrate", "run"] and "numpy" in json.loads(f.attrs["versions"])
        point = f["points"][0]
        assert point["index"] == 0 and point["ground_distance_km"] == 12.5 and point["point_key"] == f"{2**127 + 1:032x}".encode()
        params = f["params"][point["params_start"] : point["params_start"] + point["params_length"]].tobytes()
        assert json.loads(params) == {"slant_range_km": 30.0}
        rows = f["batches"][()]
        for name in ("points", "params", "batches"):
            ds = f[name]
            assert ds.maxshape == (None,) and ds.fletcher32 and ds.compression == "gzip" and ds.chunks is not None
        assert list(rows["point"]) == [0, 0] and list(rows["batch_index"]) == [0, 1] and list(rows["successes"]) == [40, 44]
        assert list(rows["c_broadcast_errors"]) == [3, 1]
    res = read_results(path)
    assert res.meta["seed"] == 2**100 + 3 and res.points[0].params == {"slant_range_km": 30.0, "report": res.meta["report"]}
    with pytest.raises(InputError):
        _writer(path)


def test_interrupted_run_leaves_incomplete_but_readable_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "r.h5"
    with pytest.raises(KeyboardInterrupt), _writer(path) as w:
        w.add_point(0, ground_distance_km=0.0, point_key=1, params={})
        w.append(0, 0, BatchStats(10, 1, counts={"shots": 1, "broadcast_errors": 0}))
        raise KeyboardInterrupt
    res = read_results(path)
    assert res.meta["complete"] is False or not res.meta["complete"]
    assert res.points[0].rows.size == 1


def test_foreign_files_are_rejected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ResultsFileError):
        read_results(tmp_path / "missing.h5")
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(ResultsFileError):
        read_results(tmp_path / "text.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.attrs["something"] = 1
    with pytest.raises(ResultsFileError):
        read_results(tmp_path / "other.h5")


@pytest.mark.parametrize("preset", ["khan-acka-leo", "khan-broadcast-uav"])
def test_run_then_show(preset: str, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "r.h5"
    args = ["run", preset, "--scheduler", "sync", "--set", "sweep.ground_distance_km=[0, 150]", "--set", "sampling.pulses_per_batch=20000",
            "--set", "sampling.batches=3", "--out", str(out), "--quiet"]
    assert main(args) == 0
    table = capsys.readouterr().out
    lines = table.strip().splitlines()
    data = [ln for ln in lines if not ln.startswith("#")]
    assert "p_success" in data[0] and len(data) == 3 and all(ln.startswith("#   ") for ln in lines[1:-3])
    assert main(["show", str(out), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["ground_distance_km"] for r in rows] == [0.0, 150.0]
    for r in rows:
        assert JSON_KEYS | PROTOCOL_KEYS[preset] <= set(r)
        assert r["pulses"] == 60000 and r["rate_std_bps"] is not None
        if preset == "khan-acka-leo":
            assert r["key_rate_bps"] > 0 and r.get("broadcast_rate_bps") is None and r["qber_z_max"] == 0.0
        else:
            assert r["broadcast_rate_bps"] > 0 and r.get("key_rate_bps") is None and r.get("qber_x") is None
    with h5py.File(out, "r") as f:
        scenario = load_scenario_text(f.attrs["scenario_toml"])
        assert scenario.sampling.pulses_per_batch == 20000 and scenario.sampling.seed is not None
        assert len(f["points"]) == 2
    # same seed (from the preset) -> identical rows; the file refuses to be overwritten silently
    assert main([*args[:-3], "--out", str(tmp_path / "again.h5"), "--quiet"]) == 0
    a, b = read_results(out), read_results(tmp_path / "again.h5")
    for pa, pb in zip(a.points, b.points, strict=True):
        np.testing.assert_array_equal(pa.rows["successes"], pb.rows["successes"])
    capsys.readouterr()
    assert main(args) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["show", str(tmp_path / "nope.h5")]) == 2  # a bad input file, like any bad input
