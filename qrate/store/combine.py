"""Merge results files of the same scenario and seed (``qrate combine``).

Rule: every input must hold the same resolved scenario *apart from the sweep distances* and the
same root seed (a batch is identified by ``(seed, point_key, batch_index)``, and rows carry no
seed, so files of different seeds are refused). Points are matched by their content key; their
rows are pooled. A batch present in two inputs is refused: since every batch is a pure function of
``(seed, point, batch index)``, a duplicate would count the same random numbers twice. So a sweep
split by distances over several machines (``--set sweep.ground_distance_km=[...]``, same seed)
combines into exactly the file one run over all distances would have written. The output lists
the union of the distances in ascending order (or keeps the common sweep if all inputs share it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qrate.errors import InputError, ResultsFileError
from qrate.store.hdf5 import PointRecord, Results, ResultsWriter, read_results


@dataclass(frozen=True, slots=True)
class _Merged:
    distance_km: float
    point_key: str
    params: dict[str, Any]
    rows: np.ndarray


def _scenario_data(res: Results) -> dict[str, Any]:
    from qrate.scenario import load_scenario_text

    try:
        return load_scenario_text(res.meta["scenario_toml"]).model_dump(mode="json")
    except InputError as exc:
        raise ResultsFileError(f"{res.path}: stored scenario does not validate with this qrate: {exc}") from None


def combine_files(inputs: Sequence[str | Path], out: str | Path, *, overwrite: bool = False, argv: Sequence[str] = ()) -> Path:
    """Write ``out`` holding every batch of ``inputs`` (see the module docstring for the rule).

    Raises:
        ResultsFileError: an input is missing, foreign, truncated or of another schema.
        InputError: fewer than two inputs, ``out`` exists (without ``overwrite``) or is an input,
            inputs of different scenarios or seeds, or a batch held twice.
    """
    from qrate.scenario import scenario_to_toml, validate_data

    if len(inputs) < 2:
        raise InputError("FILES", "give at least two results files to combine")
    out_path = Path(out)
    if out_path.suffix not in (".h5", ".hdf5"):
        raise InputError("--out", f"expected a .h5 file name, got {str(out)!r}")
    paths = [Path(p) for p in inputs]
    if any(out_path.exists() and out_path.resolve() == p.resolve() for p in paths):
        raise InputError("--out", f"{out_path} is one of the inputs")
    if out_path.exists() and not overwrite:
        raise InputError("--out", f"{out_path} already exists; choose another --out or pass --overwrite")
    results = [read_results(p) for p in paths]
    first = results[0]
    base = _scenario_data(first)
    sweeps = [base.pop("sweep")]
    for res in results[1:]:
        if res.meta["seed"] != first.meta["seed"]:
            raise InputError("FILES", f"{res.path} has seed {res.meta['seed']}, {first.path} has {first.meta['seed']}: combine needs one seed")
        data = _scenario_data(res)
        sweeps.append(data.pop("sweep"))
        if data != base:
            diff = sorted(k for k in set(data) | set(base) if data.get(k) != base.get(k))
            raise InputError("FILES", f"{res.path} and {first.path} hold different scenarios (differ in: {', '.join(diff)})")
        if res.meta["counter_names"] != first.meta["counter_names"]:
            raise InputError("FILES", f"{res.path} and {first.path} have different protocol counters")

    merged: dict[str, _Merged] = {}
    owner: dict[tuple[str, int], Path] = {}
    for res in results:
        for rec in res.points:
            _merge_point(merged, owner, res.path, rec)
    points = sorted(merged.values(), key=lambda m: m.distance_km)
    data = dict(base)
    if all(s == sweeps[0] for s in sweeps):
        data["sweep"] = sweeps[0]
        order = {d: i for i, d in enumerate(validate_data({**data}).sweep.distances_km())}
        points.sort(key=lambda m: order.get(m.distance_km, len(order)))
    else:
        data["sweep"] = {"ground_distance_km": [m.distance_km for m in points]}
    scenario = validate_data(data)

    with ResultsWriter(
        out_path,
        scenario_toml=scenario_to_toml(scenario),
        scenario_name=scenario.name,
        protocol=scenario.protocol.name,
        seed=first.meta["seed"],
        counter_names=first.meta["counter_names"],
        argv=list(argv),
        overwrite=overwrite,
    ) as writer:
        for res in results:
            for run in res.meta.get("runs", []):
                extra = {k: v for k, v in run.items() if k not in ("action", "argv", "source")}
                writer.record_run(str(run.get("action", "run")), run.get("argv", []), **extra,
                                  source=str(run.get("source", res.path)))
        writer.record_run("combine", list(argv), inputs=[str(p) for p in paths])
        for i, m in enumerate(points):
            writer.add_point(i, ground_distance_km=m.distance_km, point_key=int(m.point_key, 16), params=m.params)
            writer.append_rows(i, m.rows)
        complete = all(bool(res.meta.get("complete")) for res in results)
    if not complete:
        _mark_complete(out_path, False)
    return out_path


def _merge_point(merged: dict[str, _Merged], owner: dict[tuple[str, int], Path], path: Path, rec: PointRecord) -> None:
    for b in rec.rows["batch_index"]:
        key = (rec.point_key, int(b))
        if key in owner:
            raise InputError(
                "FILES",
                f"batch {int(b)} of the point at {rec.ground_distance_km:g} km is in both {owner[key]} and {path};"
                " refusing to count the same batch twice",
            )
        owner[key] = path
    old = merged.get(rec.point_key)
    if old is None:
        merged[rec.point_key] = _Merged(rec.ground_distance_km, rec.point_key, rec.params, rec.rows)
        return
    rows = np.concatenate([old.rows, rec.rows])
    merged[rec.point_key] = _Merged(old.distance_km, old.point_key, old.params, rows[np.argsort(rows["batch_index"], kind="stable")])


def _mark_complete(path: Path, complete: bool) -> None:
    import h5py

    with h5py.File(path, "r+") as f:
        f.attrs["complete"] = bool(complete)
