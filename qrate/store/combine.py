"""Merge results files of the same scenario and seed (``qrate combine``).

Rule: every input must hold the same resolved scenario *apart from the sweep distances* and the
same root seed (a batch is identified by ``(seed, point_key, batch_index)``, and rows carry no
seed, so files of different seeds are refused), of the same model version and the same protocol
report. Points are matched by their content key; their
rows are pooled. A batch present in two inputs is refused: since every batch is a pure function of
``(seed, point, batch index)``, a duplicate would count the same random numbers twice. So a sweep
split by distances over several machines (``--set sweep.ground_distance_km=[...]``, same seed)
combines into exactly the file one run over all distances would have written. The output lists
the union of the distances in ascending order (or keeps the common sweep if all inputs share it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qrate.errors import InputError, ResultsFileError
from qrate.outputs import check_output
from qrate.store.reader import PointRecord, Results, check_model_version, read_results
from qrate.store.safe import H5_SUFFIXES
from qrate.store.writer import ResultsWriter


@dataclass(frozen=True, slots=True)
class _Merged:
    distance_km: float
    point_key: str
    params_json: bytes
    rows: np.ndarray
    sources: tuple[tuple[Path, np.ndarray], ...]  # (file, its batch indices) of each input holding the point


def _scenario_data(res: Results) -> dict[str, Any]:
    from qrate.scenario import load_scenario_text

    try:
        return load_scenario_text(res.meta["scenario_toml"]).model_dump(mode="json")
    except InputError as exc:
        raise ResultsFileError(f"{res.path}: stored scenario does not validate with this qrate: {exc}") from None


def combine_files(inputs: Sequence[str | Path], out: str | Path, *, overwrite: bool = False, argv: Sequence[str] = ()) -> Path:
    """Write ``out`` holding every batch of ``inputs`` (see the module docstring for the rule).

    The output is written under a temporary name and appears only once complete, so a failure
    (disk full, interrupt) leaves no output, or the old one with ``overwrite``.

    Raises:
        ResultsFileError: an input is missing, foreign, damaged, in use, of another schema, or of
            another model version than the first input.
        ResultsWriteError: writing ``out`` failed (it is not created, an old one is unchanged).
        InputError: fewer than two inputs; ``out`` is refused by :func:`qrate.outputs.check_output`
            (field ``out``) or is an input (also by another name: a hard link); inputs of
            different scenarios, seeds, counters or reports; a batch held twice.
    """
    from qrate.scenario import scenario_to_toml, validate_data

    if len(inputs) < 2:
        raise InputError("FILES", "give at least two results files to combine")
    out_path = Path(out)
    paths = [Path(p) for p in inputs]
    for p in paths:
        if _same_file(out_path, p):
            raise InputError("out", f"{out_path} is one of the inputs ({p})")
    check_output(out_path, overwrite=overwrite, suffixes=H5_SUFFIXES, field="out")
    results = [read_results(p) for p in paths]
    first = results[0]
    base = _scenario_data(first)
    sweeps = [base.pop("sweep")]
    for res in results[1:]:
        check_model_version(res, first.meta["model_version"])
        if res.meta["seed"] != first.meta["seed"]:
            raise InputError(
                "FILES", f"{res.path} has seed {res.meta['seed']}, {first.path} has {first.meta['seed']}: combine needs one seed"
            )
        data = _scenario_data(res)
        sweeps.append(data.pop("sweep"))
        if data != base:
            diff = sorted(k for k in set(data) | set(base) if data.get(k) != base.get(k))
            raise InputError("FILES", f"{res.path} and {first.path} hold different scenarios (differ in: {', '.join(diff)})")
        if res.meta["counter_names"] != first.meta["counter_names"]:
            raise InputError("FILES", f"{res.path} and {first.path} have different protocol counters")
        if res.meta["report"] != first.meta["report"]:
            raise InputError("FILES", f"{res.path} and {first.path} have different protocol reports (counter roles or estimates)")

    merged: dict[str, _Merged] = {}
    for res in results:
        for rec in res.points:
            _merge_point(merged, res.path, rec)
    points = sorted(merged.values(), key=lambda m: m.distance_km)
    data = dict(base)
    if all(s == sweeps[0] for s in sweeps):
        data["sweep"] = sweeps[0]
        order = {d: i for i, d in enumerate(validate_data({**data}).sweep.distances_km())}
        points.sort(key=lambda m: order.get(m.distance_km, len(order)))
    else:
        data["sweep"] = _union_sweep(sweeps)
    scenario = validate_data(data)

    with ResultsWriter(
        out_path,
        scenario_toml=scenario_to_toml(scenario),
        scenario_name=scenario.name,
        protocol=scenario.protocol.name,
        seed=first.meta["seed"],
        counter_names=first.meta["counter_names"],
        model_version=first.meta["model_version"],
        report=first.meta["report"],
        argv=list(argv),
        overwrite=overwrite,
        atomic=True,  # the output appears only once complete; a failure leaves no file (or the old one)
    ) as writer:
        for res in results:
            for run in res.meta.get("runs", []):
                extra = {k: v for k, v in run.items() if k not in ("action", "argv", "source")}
                writer.record_run(
                    str(run.get("action", "run")), run.get("argv", []), **extra, source=str(run.get("source", res.path))
                )
        writer.record_run("combine", list(argv), inputs=[str(p) for p in paths])
        for i, m in enumerate(points):
            writer.add_point(i, ground_distance_km=m.distance_km, point_key=int(m.point_key, 16), params_json=m.params_json)
            writer.append_rows(i, m.rows)
        writer.close(complete=all(bool(res.meta.get("complete")) for res in results))
    return out_path


def _union_sweep(sweeps: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One sweep covering every input's: the union of the distances (ascending) and of each field
    axis's values (in order of appearance); the inputs' other sweep settings must agree.

    Raises:
        InputError: the inputs' sweeps differ in ``zip`` or in which axes they have.
    """
    from qrate.scenario.axes import DISTANCE_AXIS, MAX_POINTS, RESERVED, axis_values
    from qrate.scenario.schema import Sweep

    first = sweeps[0]
    if any(bool(s.get("zip")) != bool(first.get("zip")) or set(s) != set(first) for s in sweeps):
        raise InputError("FILES", "the inputs sweep different axes (or pair them differently); combine needs the same axes")
    if first.get("zip") and len(sweeps) > 1:
        raise InputError("FILES", "zipped sweeps with different values cannot be combined into one sweep")
    distances = sorted({d for s in sweeps for d in Sweep.model_validate(s).distances_km()})
    out: dict[str, Any] = {k: v for k, v in first.items() if k in RESERVED and k != DISTANCE_AXIS}
    out[DISTANCE_AXIS] = distances
    for axis in first:
        if axis not in RESERVED:
            values = [v for s in sweeps for v in axis_values(axis, s[axis])]
            out[axis] = list(dict.fromkeys(values))
    out["max_points"] = MAX_POINTS  # the union grid may hold more points than any input's
    return out


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name the same file (by inode: hard links and symbolic links too)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


def _merge_point(merged: dict[str, _Merged], path: Path, rec: PointRecord) -> None:
    """Add ``rec`` (of file ``path``) to ``merged``, pooling the rows of a point held by several files.

    A file never holds a batch twice (the reader checks), so only a point already merged from
    another file can repeat one.
    """
    old = merged.get(rec.point_key)
    if old is None:
        merged[rec.point_key] = _Merged(
            rec.ground_distance_km, rec.point_key, rec.params_json, rec.rows, ((path, rec.rows["batch_index"]),)
        )
        return
    for other, batches in old.sources:
        both = np.intersect1d(batches, rec.rows["batch_index"])
        if both.size:
            raise InputError(
                "FILES",
                f"batch {int(both[0])} of the point at {rec.ground_distance_km:g} km is in both {other} and {path};"
                " refusing to count the same batch twice",
            )
    rows = np.concatenate([old.rows, rec.rows])
    merged[rec.point_key] = _Merged(
        old.distance_km,
        old.point_key,
        old.params_json,
        rows[np.argsort(rows["batch_index"], kind="stable")],
        (*old.sources, (path, rec.rows["batch_index"])),
    )
