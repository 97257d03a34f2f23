"""Shared helpers of the sweep tests: small scenarios and row comparison."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from qrate.scenario import load_scenario
from qrate.scenario.schema import Scenario
from qrate.store import read_results


def scenario(distances: str = "[0, 100]", *extra: str, pulses: int = 2000, batches: int = 40) -> Scenario:
    """khan-acka-leo with small batches."""
    return load_scenario(
        "khan-acka-leo",
        [f"sweep.ground_distance_km={distances}", f"sampling.pulses_per_batch={pulses}", f"sampling.batches={batches}", *extra],
    )


def overrides(distances: str, pulses: int, batches: int, *extra: str) -> list[str]:
    """The same as ``--set`` options for the CLI."""
    out = []
    for item in (f"sweep.ground_distance_km={distances}", f"sampling.pulses_per_batch={pulses}", f"sampling.batches={batches}", *extra):
        out += ["--set", item]
    return out


def rows_of(path: str | Path) -> dict[float, np.ndarray]:
    """Batch rows per ground distance, without the wall-time column."""
    res = read_results(path)
    fields = [f for f in res.points[0].rows.dtype.names if f != "seconds"]
    return {p.ground_distance_km: p.rows[fields] for p in res.points}


def assert_same_rows(a: str | Path, b: str | Path) -> None:
    """Both files hold exactly the same batches (every field but ``seconds``)."""
    ra, rb = rows_of(a), rows_of(b)
    assert sorted(ra) == sorted(rb)
    for d in ra:
        assert ra[d].dtype == rb[d].dtype
        np.testing.assert_array_equal(ra[d], rb[d])


def sha256(path: str | Path) -> str:
    """Hash of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def edit_row(path: str | Path, point: int, row: int, **fields: int) -> None:
    """Overwrite ``fields`` of the ``row``-th stored batch (by batch index) of point ``point`` in place
    (to make a damaged file)."""
    import h5py

    with h5py.File(path, "r+") as f:
        ds = f["batches"]
        table = ds[()]
        where = np.flatnonzero(table["point"] == point)
        i = int(where[np.argsort(table["batch_index"][where], kind="stable")][row])
        value = ds[i]
        for name, v in fields.items():
            value[name] = v
        ds[i] = value


def stored_rows(path: str | Path) -> int:
    """Batch rows in a results file (read without locking: another process may be writing it)."""
    import h5py

    with h5py.File(path, "r", locking=False) as f:
        return int(f["batches"].shape[0])


def swap_params(path: str | Path, point: int, text: str) -> str:
    """Replace point ``point``'s stored parameters (JSON text) in place; return the old text."""
    import h5py

    with h5py.File(path, "r+") as f:
        points, par = f["points"], f["params"]
        table = points[()]
        i = int(np.flatnonzero(table["index"] == point)[0])
        row = table[i]
        old = par[row["params_start"] : row["params_start"] + row["params_length"]].tobytes().decode()
        data = np.frombuffer(text.encode(), dtype=np.uint8)
        start = par.shape[0]
        par.resize(start + data.size, axis=0)
        par[start:] = data
        row["params_start"], row["params_length"] = start, data.size
        points[i] = row
    return old
