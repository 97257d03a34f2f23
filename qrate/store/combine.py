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
from pathlib import Path
from typing import Any

import numpy as np

from qrate.errors import InputError, ResultsFileError
from qrate.outputs import check_output
from qrate.store.reader import Tables, check_model_version, read_tables
from qrate.store.safe import H5_SUFFIXES
from qrate.store.writer import ResultsWriter


def _scenario_data(res: Tables) -> dict[str, Any]:
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
    results, parts = [], []
    for p in paths:  # each input checked whole; its batch rows kept once, in the pooled table's parts
        t = read_tables(p)
        parts.append(t.batches)
        t.batches = t.batches[:0]
        results.append(t)
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

    table, keys, distances, params = _merge(results, parts)
    del parts
    order = np.argsort(distances, kind="stable")  # ascending distance; first appearance among equals
    data = dict(base)
    if all(s == sweeps[0] for s in sweeps):
        data["sweep"] = sweeps[0]
        rank = {d: i for i, d in enumerate(validate_data({**data}).sweep.distances_km())}
        order = np.argsort(np.array([rank.get(d, len(rank)) for d in distances.tolist()]), kind="stable")
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
        new_index = np.empty(order.size, dtype=np.int64)
        new_index[order] = np.arange(order.size)
        for i, g in enumerate(order.tolist()):
            k, row = (int(x) for x in params[g])
            writer.add_point(
                i, ground_distance_km=float(distances[g]), point_key=int(keys[g], 16), params_json=results[k].params_of(row)
            )
        table["point"] = new_index[table["point"]]
        writer.append_table(table)
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


def _merge(results: Sequence[Tables], parts: list[np.ndarray]) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    """Pool the inputs' points by content key and their batch rows (columnar, no per-batch Python).

    ``parts`` are the inputs' batches tables (emptied as they are pooled). Returns the pooled
    batches table (``point`` = the pooled point's number), each pooled point's key and distance,
    and where its stored parameters are: ``(input, row of its points table)`` of the first input holding it.

    Raises:
        InputError: a batch of a point is in two inputs (a batch is a pure function of (seed, point,
            batch index): counting it twice would count the same random numbers twice).
    """
    all_keys = np.concatenate([t.points["point_key"] for t in results])
    uniq, first_at, inverse = np.unique(all_keys, return_index=True, return_inverse=True)
    appearance = np.argsort(first_at, kind="stable")  # pooled points in order of first appearance
    number = np.empty(uniq.size, dtype=np.int64)
    number[appearance] = np.arange(uniq.size)
    table = np.empty(sum(p.size for p in parts), dtype=parts[0].dtype)
    owner = np.empty(table.size, dtype=np.int32)
    offset = at = 0
    for k, t in enumerate(results):  # one pooled table; each input's copy is let go at once (memory)
        rows = parts[k]
        to_pooled = number[inverse[offset : offset + t.points.size]]
        part = table[at : at + rows.size]
        part[...] = rows
        part["point"] = to_pooled[np.searchsorted(t.points["index"], rows["point"])]
        owner[at : at + rows.size] = k
        offset, at = offset + t.points.size, at + rows.size
        parts[k] = rows[:0]
        del rows, part
    order = np.lexsort((table["batch_index"], table["point"]))
    point, batch = table["point"][order], table["batch_index"][order]
    same = (np.diff(point) == 0) & (np.diff(batch) == 0) if table.size > 1 else np.zeros(0, bool)
    firsts = first_at[appearance]  # row of each pooled point in the concatenated points tables
    sizes = np.cumsum([0, *(t.points.size for t in results)])
    source = np.searchsorted(sizes, firsts, side="right") - 1
    distances = np.concatenate([t.points["ground_distance_km"] for t in results])[firsts]
    if np.any(same):
        i = int(np.argmax(same))
        a, b = int(owner[order[i]]), int(owner[order[i + 1]])
        raise InputError(
            "FILES",
            f"batch {int(batch[i])} of the point at {float(distances[point[i]]):g} km is in both"
            f" {results[a].path} and {results[b].path}; refusing to count the same batch twice",
        )
    keys = [k.decode() for k in uniq[appearance].tolist()]
    return table, keys, distances, np.stack([source, firsts - sizes[source]], axis=1)
