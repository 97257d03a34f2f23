"""`qrate plot` end to end on small runs; bad input and bad files give clear errors and exit != 0."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from matplotlib.image import imread

from qrate.plot.files import curves_from_files
from qrate.cli import main

SMALL = ["--set", "sweep.ground_distance_km=[0, 1000, 2000]", "--set", "sampling.pulses_per_batch=20000",
         "--set", "sampling.batches=4", "--quiet"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("runs")
    out = {"leo": d / "leo.h5", "leo15": d / "leo15.h5", "uav": d / "uav.h5"}
    assert main(["run", "khan-acka-leo", *SMALL, "--out", str(out["leo"])]) == 0
    assert main(["run", "khan-acka-leo", *SMALL, "--set", "links.leo.aperture_radius_m=1.5", "--out", str(out["leo15"])]) == 0
    assert main(["run", "khan-broadcast-uav", "--set", "sweep.ground_distance_km=[0, 200]", "--set",
                 "sampling.pulses_per_batch=20000", "--set", "sampling.batches=3", "--quiet", "--out", str(out["uav"])]) == 0
    return out


def test_plot_two_files_writes_png_with_derived_legend(runs, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    fig = tmp_path / "deep" / "fig.png"
    assert main(["plot", str(runs["leo"]), str(runs["leo15"]), "--out", str(fig), "--log"]) == 0
    image = imread(fig)
    assert image.ndim == 3 and image.shape[0] > 300
    assert "wrote" in capsys.readouterr().err
    data = curves_from_files([runs["leo"], runs["leo15"]])
    assert data.legend_title == "links.leo.aperture_radius_m"
    assert [c.label for c in data.curves] == ["3", "1.5"]
    assert "kbit/s" in data.y_label and "4 batches × 2e+04 pulses" in data.note


def test_rate_curve_matches_raw_batch_rows(runs) -> None:  # type: ignore[no-untyped-def]
    """y = rate: mean and 1σ across batches recomputed from the raw HDF5 rows with plain h5py/numpy."""
    (curve,) = curves_from_files([runs["leo"]], "rate").curves
    with h5py.File(runs["leo"], "r") as f:
        points = np.sort(f["points"][()], order="ground_distance_km")
        table = f["batches"][()]
        x = list(points["ground_distance_km"])
        rows = [table[table["point"] == i] for i in points["index"]]
    rate_hz = 1e6
    mean = [rate_hz * r["successes"].sum() / r["pulses"].sum() / 1e3 for r in rows]
    std = [np.std(rate_hz * r["successes"] / r["pulses"], ddof=1) / 1e3 for r in rows]
    np.testing.assert_allclose(curve.x, x)
    np.testing.assert_allclose(curve.y, mean, rtol=1e-12)
    np.testing.assert_allclose(curve.err_low, std, rtol=1e-9)
    np.testing.assert_allclose(curve.err_high, std, rtol=1e-9)
    assert curve.y[0] > curve.y[1] > curve.y[2] > 0  # the LEO rate falls with D


def test_labels_title_ratio_and_qber(runs, tmp_path) -> None:  # type: ignore[no-untyped-def]
    args = ["plot", str(runs["leo"]), str(runs["leo15"]), "--label", "a = 3 m", "--label", "a = 1.5 m", "--ratio",
            "--title", "T", "--y", "rate", "--y-min", "0", "--out", str(tmp_path / "r.svg")]
    assert main(args) == 0 and (tmp_path / "r.svg").stat().st_size > 0
    assert main(["plot", str(runs["uav"]), "--y", "qber", "--out", str(tmp_path / "q.pdf")]) == 0
    data = curves_from_files([runs["leo"], runs["leo15"]], "rate", ["a", "b"])
    assert [c.label for c in data.curves] == ["a", "b"] and data.legend_title is None


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--y", "key_rate", "UAV"], "--y"),
        (["--y", "broadcast_rate", "LEO"], "--y"),
        (["--label", "only-one", "LEO", "LEO15"], "--label"),
        (["--ratio", "LEO"], "--ratio"),
        (["--y", "fidelity", "LEO"], "--y"),
        (["UAV", "LEO", "--ratio", "--y", "rate"], "--ratio"),
        (["--log", "--y-min", "0", "LEO"], "--y-min"),
        (["--y-min", "nan", "LEO"], "--y-min"),
    ],
)
def test_bad_options_exit_2(runs, tmp_path, capsys, extra, needle) -> None:  # type: ignore[no-untyped-def]
    names = {"UAV": str(runs["uav"]), "LEO": str(runs["leo"]), "LEO15": str(runs["leo15"])}
    fig = tmp_path / "f.png"
    assert main(["plot", *(names.get(a, a) for a in extra), "--out", str(fig)]) == 2
    err = capsys.readouterr().err
    assert needle in err and "error" in err and err.count("\n") == 1
    assert not fig.exists()


def test_bad_out_suffix_exit_2(runs, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["plot", str(runs["leo"]), "--out", str(tmp_path / "f.h5")]) == 2
    assert "--out" in capsys.readouterr().err


def _truncated(src: Path, dst: Path) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 3])
    return dst


@pytest.mark.parametrize("kind", ["missing", "text", "foreign-hdf5", "truncated", "other-schema", "empty"])
def test_bad_files_exit_2_and_are_left_unchanged(runs, tmp_path, capsys, kind) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"{kind}.h5"
    if kind == "text":
        path.write_text("not hdf5\n")
    elif kind == "foreign-hdf5":
        with h5py.File(path, "w") as f:
            f["x"] = np.arange(3)
    elif kind == "truncated":
        _truncated(runs["leo"], path)
    elif kind == "other-schema":
        path.write_bytes(runs["leo"].read_bytes())
        with h5py.File(path, "a") as f:
            f.attrs["qrate_schema"] = 999
    elif kind == "empty":
        path.write_bytes(runs["leo"].read_bytes())
        with h5py.File(path, "a") as f:
            f["batches"].resize(0, axis=0)
    before = path.read_bytes() if path.exists() else None
    fig = tmp_path / "f.png"
    assert main(["plot", str(runs["leo"]), str(path), "--out", str(fig)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and err.startswith("qrate plot: error:") and err.count("\n") == 1
    assert (path.read_bytes() if path.exists() else None) == before
    assert not fig.exists()
