"""Find a resumed file's points by key and their batch rows, in compact arrays (no record per point).

:class:`StoredIndex` reads three columns of a results file (the points table's ``index`` and
``point_key``, the batches table's ``point`` and ``batch_index``) once: keys sorted for a binary
search, each point's rows as a slice of the table's positions sorted by (point, batch index). About
24 bytes per point and 8 per stored batch row; rows themselves are read when a point runs
(:func:`read_rows`), a chunk of points at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import h5py
import numpy as np

from qrate.store import schema

SPAN_FACTOR = 4
"""Stored rows of a chunk are read as one contiguous span when it is at most this many times their number."""


@dataclass(frozen=True, slots=True)
class StoredIndex:
    """Where a results file holds each point and its batch rows.

    Attributes:
        keys: every stored point's key (32 hex digits, bytes), sorted.
        key_index: the file point index of each entry of ``keys``.
        starts: per file point index ``i``, ``order[starts[i]:starts[i + 1]]`` are its rows' positions.
        order: positions of the batches table's rows sorted by (point, batch index).
        free_index: the first point index the file does not use (new points are numbered from it).
    """

    keys: np.ndarray
    key_index: np.ndarray
    starts: np.ndarray
    order: np.ndarray
    free_index: int

    @classmethod
    def from_file(cls, f: h5py.File) -> StoredIndex:
        """Index an open (checked) results file."""
        points = f[schema.POINTS_DATASET].fields(["index", "point_key"])[()]
        batches = f[schema.BATCHES_DATASET].fields(["point", "batch_index"])[()]
        by_key = np.argsort(points["point_key"], kind="stable")
        free = int(points["index"].max()) + 1 if points.size else 0
        order = np.lexsort((batches["batch_index"], batches["point"])).astype(np.int64)
        sorted_points = batches["point"][order]
        starts = np.searchsorted(sorted_points, np.arange(free + 1)).astype(np.int64)
        return cls(points["point_key"][by_key], points["index"][by_key].astype(np.int64), starts, order, free)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """File point index of each key (``S32`` array), or -1 where the file does not hold it."""
        if self.keys.size == 0 or keys.size == 0:
            return np.full(keys.size, -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.keys, keys), self.keys.size - 1)
        return np.where(self.keys[at] == keys, self.key_index[at], -1)

    def batches_of(self, file_index: np.ndarray) -> np.ndarray:
        """Stored batch rows of each file point index (0 for -1, a point the file does not hold)."""
        i = np.asarray(file_index, dtype=np.int64)
        ok = (i >= 0) & (i < self.free_index)
        j = np.where(ok, i, 0)
        return np.where(ok, self.starts[j + 1] - self.starts[j], 0)

    def positions(self, file_index: np.ndarray) -> np.ndarray:
        """Table positions of the rows of the given file points (-1 entries skipped), sorted."""
        parts = [
            self.order[self.starts[i] : self.starts[i + 1]] for i in np.asarray(file_index).tolist() if 0 <= i < self.free_index
        ]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def read_rows(table: h5py.Dataset, positions: np.ndarray) -> np.ndarray:
    """Rows of the batches ``table`` at sorted ``positions``: one contiguous read when they are dense
    (a chunk of points written together), else one read per run of consecutive positions."""
    if positions.size == 0:
        return np.zeros(0, dtype=table.dtype)
    lo, hi = int(positions[0]), int(positions[-1]) + 1
    if hi - lo <= SPAN_FACTOR * positions.size + schema.BATCH_CHUNK:
        return table[lo:hi][positions - lo]
    breaks = np.flatnonzero(np.diff(positions) != 1) + 1
    runs = np.split(positions, breaks)
    return np.concatenate([table[int(r[0]) : int(r[-1]) + 1] for r in runs])
