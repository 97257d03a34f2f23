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

Streaming: the inputs are read block by block (:mod:`qrate.store.scan`) and checked as the
readers check them while their rows are copied; the output is written in large blocks and
appears only once complete. Memory holds one block of each table plus about 70 bytes per point
(keys, distances, the new order), never a batches table: 16 bytes per row only for the rows of
points held by several inputs (to find a batch held twice) or of an input whose rows are not in
(point, batch) order.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from qrate.errors import InputError, ResultsFileError
from qrate.outputs import check_output
from qrate.store import scan, schema
from qrate.store.check import InOrder
from qrate.store.reader import check_model_version, damaged_as_error
from qrate.store.safe import H5_SUFFIXES
from qrate.store.scan import (
    REPORT_MARK,
    Opened,
    PointsIndex,
    blocks,
    check_block,
    check_own_rows,
    check_repeats,
    gather,
    index_points,
    open_results,
    own_mask,
)
from qrate.store.writer import ResultsWriter


@dataclass(slots=True)
class _Input:
    """One input: open, its points located, their keys (16 bytes) and distances in index order."""

    file: Opened
    points: PointsIndex
    by_index: np.ndarray | None  # points-table rows in index order (None: already)
    keys: np.ndarray
    distances: np.ndarray

    @property
    def path(self) -> Path:
        return self.file.path

    @property
    def meta(self) -> dict[str, Any]:
        return self.file.meta

    def read_points(self) -> None:
        """Read the points' keys (as 16 bytes) and distances, in index order."""
        p, o = self.path, self.file
        with damaged_as_error(p):
            keys, distances, index = [], [], []
            for _, block in blocks(o.points, scan.POINT_BLOCK, ["index", "point_key", "ground_distance_km"]):
                keys.append(_binary_keys(p, block["point_key"]))
                distances.append(block["ground_distance_km"])
                index.append(block["index"])
            self.keys = np.concatenate(keys) if keys else np.zeros(0, "V16")
            self.distances = np.concatenate(distances) if distances else np.zeros(0)
            if self.points.row_of is not None:
                self.by_index = np.argsort(np.concatenate(index), kind="stable")
                self.keys, self.distances = self.keys[self.by_index], self.distances[self.by_index]


_HEX = np.full(256, 255, dtype=np.uint8)
_HEX[np.frombuffer(b"0123456789abcdef", np.uint8)] = np.arange(16, dtype=np.uint8)


def _binary_keys(p: Path, hex_keys: np.ndarray) -> np.ndarray:
    """Point keys (32 lowercase hex digits) as 16-byte values, sortable (``V16``)."""
    if hex_keys.dtype != np.dtype(f"S{schema.KEY_DIGITS}"):
        raise ValueError("the points table's keys are not 32-character texts")
    digits = _HEX[np.frombuffer(np.ascontiguousarray(hex_keys).tobytes(), np.uint8).reshape(-1, schema.KEY_DIGITS)]
    if np.any(digits == 255):
        raise ResultsFileError(f"{p}: a point key is not {schema.KEY_DIGITS} hex digits; the file is damaged")
    return np.ascontiguousarray((digits[:, 0::2] << 4) | digits[:, 1::2]).view("V16").ravel()


def _open_input(p: Path) -> _Input:
    """Open an input and check its attributes and points table (keys and distances read by :meth:`_Input.read_points`)."""
    o = open_results(p)
    try:
        with damaged_as_error(p):
            return _Input(o, index_points(o, own=False), None, np.zeros(0, "V16"), np.zeros(0))  # own: _copy_points
    except BaseException:
        o.file.close()
        raise


def _scenario_data(res: Any) -> dict[str, Any]:
    from qrate.scenario import load_scenario_text

    try:
        return load_scenario_text(res.meta["scenario_toml"]).model_dump(mode="json")
    except InputError as exc:
        raise ResultsFileError(f"{res.path}: stored scenario does not validate with this qrate: {exc}") from None


def _scenarios(ins: Sequence[_Input]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The first input's scenario without its sweep (validated), and every input's sweep.

    An input whose stored scenario (TOML, as written) equals the first's apart from the sweep is
    not validated again (its sweep is, and the union's whole scenario is later): validating a
    scenario checks every value of every axis, seconds for a large grid.

    Raises:
        ResultsFileError: a stored scenario does not validate with this qrate.
        InputError: the inputs hold different scenarios.
    """
    from qrate.scenario.load import parse_toml
    from qrate.scenario.schema import Sweep

    first = ins[0]
    base = _scenario_data(first)
    sweeps = [base.pop("sweep")]
    raw = parse_toml(first.meta["scenario_toml"])
    raw.pop("sweep", None)
    for res in ins[1:]:
        mine = parse_toml(res.meta["scenario_toml"])
        sweep = mine.pop("sweep", None)
        if mine == raw and isinstance(sweep, dict):
            try:
                sweeps.append(Sweep.model_validate(sweep).model_dump(mode="json"))
            except ValueError as exc:
                raise ResultsFileError(f"{res.path}: stored scenario does not validate with this qrate: {exc}") from None
            continue
        data = _scenario_data(res)
        sweeps.append(data.pop("sweep"))
        if data != base:
            diff = sorted(k for k in set(data) | set(base) if data.get(k) != base.get(k))
            raise InputError("FILES", f"{res.path} and {first.path} hold different scenarios (differ in: {', '.join(diff)})")
    return base, sweeps


def combine_files(inputs: Sequence[str | Path], out: str | Path, *, overwrite: bool = False, argv: Sequence[str] = ()) -> Path:
    """Write ``out`` holding every batch of ``inputs`` (see the module docstring for the rule).

    The output is written under a temporary name and appears only once complete, so a failure
    (disk full, interrupt, a damaged input or a duplicated batch found while copying) leaves no
    output, or the old one with ``overwrite``.

    Raises:
        ResultsFileError: an input is missing, foreign, damaged, in use, of another schema, or of
            another model version than the first input.
        ResultsWriteError: writing ``out`` failed (it is not created, an old one is unchanged).
        InputError: fewer than two inputs; ``out`` is refused by :func:`qrate.outputs.check_output`
            (field ``out``) or is an input (also by another name: a hard link); inputs of
            different scenarios, seeds, counters or reports; a batch held twice.
    """
    if len(inputs) < 2:
        raise InputError("FILES", "give at least two results files to combine")
    out_path = Path(out)
    paths = [Path(p) for p in inputs]
    for p in paths:
        if _same_file(out_path, p):
            raise InputError("out", f"{out_path} is one of the inputs ({p})")
    check_output(out_path, overwrite=overwrite, suffixes=H5_SUFFIXES, field="out")
    with ExitStack() as stack:
        ins: list[_Input] = []
        for p in paths:  # each input's attributes and points table checked; its rows when copied
            ins.append(_open_input(p))
            stack.callback(ins[-1].file.file.close)
        return _combine(ins, paths, out_path, overwrite, argv)


def _combine(ins: list[_Input], paths: list[Path], out_path: Path, overwrite: bool, argv: Sequence[str]) -> Path:
    from qrate.scenario import scenario_to_toml, validate_data

    first = ins[0]
    for res in ins[1:]:
        check_model_version(res, first.meta["model_version"])  # type: ignore[arg-type]  # .meta and .path
        if res.meta["seed"] != first.meta["seed"]:
            raise InputError(
                "FILES", f"{res.path} has seed {res.meta['seed']}, {first.path} has {first.meta['seed']}: combine needs one seed"
            )
    base, sweeps = _scenarios(ins)
    for res in ins[1:]:
        if res.meta["counter_names"] != first.meta["counter_names"]:
            raise InputError("FILES", f"{res.path} and {first.path} have different protocol counters")
        if res.meta["report"] != first.meta["report"]:
            raise InputError("FILES", f"{res.path} and {first.path} have different protocol reports (counter roles or estimates)")

    same = all(s == sweeps[0] for s in sweeps)
    scenario = validate_data({**base, "sweep": sweeps[0] if same else _union_sweep(sweeps)})
    for res in ins:
        res.read_points()
    pool = _Pool(ins)
    if same:  # the common sweep's order of distances
        values, at = np.unique(pool.distances, return_inverse=True)
        rank = {d: i for i, d in enumerate(scenario.sweep.distances_km())}
        order = np.argsort(np.array([rank.get(d, len(rank)) for d in values.tolist()])[at.ravel()], kind="stable")
    else:
        order = np.argsort(pool.distances, kind="stable")  # ascending distance; first appearance among equals
    new_index = np.empty(order.size, dtype=np.int64)
    new_index[order] = np.arange(order.size)

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
        for res in ins:
            for run in res.meta.get("runs", []):
                extra = {k: v for k, v in run.items() if k not in ("action", "argv", "source")}
                writer.record_run(
                    str(run.get("action", "run")), run.get("argv", []), **extra, source=str(run.get("source", res.path))
                )
        writer.record_run("combine", list(argv), inputs=[str(p) for p in paths])
        _copy_points(writer, ins, pool, order)
        _copy_rows(writer, ins, pool, new_index)
        writer.close(complete=all(bool(res.meta.get("complete")) for res in ins))
    return out_path


class _Pool:
    """The inputs' points pooled by content key (numbered in order of first appearance, inputs in
    order, each in index order): per pooled point its distance, the input and the points-table row
    of its first appearance, whether several inputs (or rows) hold it; per input, each of its
    points' pooled number (8 bytes per point)."""

    def __init__(self, ins: Sequence[_Input]) -> None:
        keys = np.concatenate([t.keys for t in ins])
        for t in ins:
            t.keys = t.keys[:0]  # let go of each input's copy
        _, first_at, inverse, counts = np.unique(keys, return_index=True, return_inverse=True, return_counts=True)
        del keys
        appearance = np.argsort(first_at, kind="stable")
        number = np.empty(first_at.size, dtype=np.int64)
        number[appearance] = np.arange(first_at.size)
        pooled = number[inverse.ravel()]
        del inverse
        firsts = first_at[appearance]  # row of each pooled point among the concatenated inputs
        sizes = np.cumsum([0, *(t.distances.size for t in ins)])
        self.source = np.searchsorted(sizes, firsts, side="right") - 1
        sorted_row = firsts - sizes[self.source]
        self.distances = np.concatenate([t.distances for t in ins])[firsts]
        self.row = np.empty(firsts.size, dtype=np.int64)  # points-table row in its source input
        for k, t in enumerate(ins):
            mine = self.source == k
            self.row[mine] = sorted_row[mine] if t.by_index is None else t.by_index[sorted_row[mine]]
        self.shared = counts[appearance] > 1
        self.of_input = [pooled[sizes[k] : sizes[k + 1]] for k in range(len(ins))]  # in each input's index order


def _copy_points(writer: ResultsWriter, ins: Sequence[_Input], pool: _Pool, order: np.ndarray) -> None:
    """Write the pooled points in ``order`` (new index = position), their parameters copied as stored,
    in blocks of at most :data:`POINT_BLOCK` points and about :data:`PARAMS_BLOCK` bytes of
    parameters (one read per input and block where, as usual, its points come in the order of its
    points table). Also finds which input points store a report of their own (``points.own``)."""
    owners: list[list[int]] = [[] for _ in ins]
    for a in range(0, order.size, scan.POINT_BLOCK):
        g = order[a : a + scan.POINT_BLOCK]
        src = pool.source[g]
        runs = _runs(src)
        table = np.concatenate([_stored(ins[int(src[lo])], pool.row[g[lo:hi]]) for lo, hi in runs])
        ends = np.cumsum(table["params_length"])
        cuts = np.flatnonzero(np.diff(ends // scan.PARAMS_BLOCK)) + 1
        for lo, hi in zip([0, *cuts.tolist()], [*cuts.tolist(), g.size], strict=True):
            part = table[lo:hi]
            blobs = [_params(ins[int(src[lo + x])], part[x:y]) for x, y in _runs(src[lo:hi])]
            blob = np.concatenate(blobs)
            marks = _marks(blob)
            if marks.size:  # points storing a report of their own: their rows are checked against it
                starts = np.cumsum(part["params_length"]) - part["params_length"]
                for k, index in zip(
                    src[lo:hi][own_mask(marks, starts, part["params_length"])].tolist(),
                    part["index"][own_mask(marks, starts, part["params_length"])].tolist(),
                    strict=True,
                ):
                    owners[k].append(index)
            part["index"] = np.arange(a + lo, a + hi)
            writer.add_points(part, blob)
    for k, t in enumerate(ins):
        t.points = replace(t.points, own=np.unique(np.array(owners[k], dtype=np.int64)))


def _marks(blob: np.ndarray) -> np.ndarray:
    """Offsets in ``blob`` where :data:`REPORT_MARK` starts."""
    text, found = blob.tobytes(), []
    at = text.find(REPORT_MARK)
    while at >= 0:
        found.append(at)
        at = text.find(REPORT_MARK, at + 1)
    return np.array(found, dtype=np.int64)


def _runs(src: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of each run of equal values."""
    cut = (np.flatnonzero(np.diff(src)) + 1).tolist()
    return list(zip([0, *cut], [*cut, src.size], strict=True))


def _stored(t: _Input, rows: np.ndarray) -> np.ndarray:
    """Rows ``rows`` of an input's points table (one read where they are consecutive, as usual)."""
    with damaged_as_error(t.path):
        if rows.size and np.all(np.diff(rows) == 1):
            return t.file.points[int(rows[0]) : int(rows[-1]) + 1]
        parts = gather(t.file.points, rows, np.ones(rows.size, dtype=np.int64), 4 * scan.POINT_BLOCK)
        return np.array([p[0] for p in parts], dtype=schema.POINT_DTYPE)


def _params(t: _Input, stored: np.ndarray) -> np.ndarray:
    """The parameters of rows ``stored`` of an input's points table, back to back (one read where they are)."""
    start, length = stored["params_start"], stored["params_length"]
    with damaged_as_error(t.path):
        if not stored.size:
            return np.zeros(0, np.uint8)
        if np.array_equal(start[1:], start[:-1] + length[:-1]):
            return t.file.params[int(start[0]) : int(start[-1] + length[-1])]
        return np.concatenate(gather(t.file.params, start, length, scan.PARAMS_BLOCK))


def _copy_rows(writer: ResultsWriter, ins: Sequence[_Input], pool: _Pool, new_index: np.ndarray) -> None:
    """Copy every input's rows block by block (checked as the readers check them), renumbered to the
    output's points; then refuse a batch held twice (within an input: damaged; across inputs: the
    same random numbers counted twice). Inputs go in the order of their first output point, so
    inputs split by distance give an output in (point, batch) order."""
    firsts = [int(new_index[pool.of_input[k]].min()) if pool.of_input[k].size else 0 for k in range(len(ins))]
    shared_new = _shared_new(pool, new_index)
    shared_pairs: list[np.ndarray] = []
    for k in sorted(range(len(ins)), key=lambda k: firsts[k]):
        t = ins[k]
        to_new = np.full(t.points.size, -1, dtype=np.int64)
        row_of = t.points.row_of
        to_new[slice(None) if row_of is None else np.flatnonzero(row_of >= 0)] = new_index[pool.of_input[k]]
        order = InOrder()
        own_rows: list[np.ndarray] = []
        with damaged_as_error(t.path):
            for _, block in blocks(t.file.batches, scan.BLOCK_ROWS):
                check_block(t.file, t.points, block, own_rows)
                order.add(block["point"], block["batch_index"])
                block["point"] = to_new[block["point"]]
                if shared_new is not None:
                    mine = shared_new[block["point"]]
                    if np.any(mine):
                        pairs = np.empty(int(mine.sum()), dtype=[("point", "<i8"), ("batch", "<i8"), ("input", "<i8")])
                        pairs["point"], pairs["batch"], pairs["input"] = block["point"][mine], block["batch_index"][mine], k
                        shared_pairs.append(pairs)
                writer.append_table(block)
            check_own_rows(t.file, t.points, own_rows)
            if not order.ordered:
                check_repeats(t.file)
    _refuse_shared_repeats(ins, pool, new_index, shared_pairs)


def _shared_new(pool: _Pool, new_index: np.ndarray) -> np.ndarray | None:
    """Per output point, whether several inputs (or rows) hold it; None if none is."""
    if not np.any(pool.shared):
        return None
    out = np.zeros(new_index.size, dtype=bool)
    out[new_index[pool.shared]] = True
    return out


def _refuse_shared_repeats(ins: Sequence[_Input], pool: _Pool, new_index: np.ndarray, parts: list[np.ndarray]) -> None:
    """Refuse a batch of a point held by several inputs that two of them hold.

    Raises:
        InputError: a batch of a point is in two inputs (a batch is a pure function of (seed, point,
            batch index): counting it twice would count the same random numbers twice).
    """
    if not parts:
        return
    pairs = np.concatenate(parts)
    pairs.sort(order=("point", "batch", "input"), kind="stable")
    same = (np.diff(pairs["point"]) == 0) & (np.diff(pairs["batch"]) == 0)
    if not np.any(same):
        return
    i = int(np.argmax(same))
    a, b = int(pairs["input"][i]), int(pairs["input"][i + 1])
    where = np.empty(new_index.size, dtype=np.int64)
    where[new_index] = np.arange(new_index.size)
    distance = float(pool.distances[where[int(pairs["point"][i])]])
    raise InputError(
        "FILES",
        f"batch {int(pairs['batch'][i])} of the point at {distance:g} km is in both"
        f" {ins[a].path} and {ins[b].path}; refusing to count the same batch twice",
    )


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
