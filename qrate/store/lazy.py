"""Per-point estimates of a large results file, computed chunk by chunk on demand (:func:`qrate.load`
of a file of more than :data:`LAZY_POINTS` points).

Opening reads the file's attributes, checks the points table and reads the batches table's
``point`` column once (block by block) to find where each point's rows are: 8 bytes per point,
never a Python object per point. A chunk of :data:`CHUNK_POINTS` points is read and estimated
(:func:`qrate.store.load.point_estimates`, about a millisecond per point) only when asked for:
:meth:`LazyResults.chunk`, the dask arrays of :meth:`LazyResults.to_xarray`, or every chunk in turn
for ``results[name]`` and :meth:`LazyResults.to_pandas`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from qrate.scenario.axes import DISTANCE_AXIS
from qrate.store import scan
from qrate.store.reader import PointRecord, Results

LAZY_POINTS = 20_000
"""Files of more points than this load lazily (:class:`LazyResults`); smaller ones whole."""
CHUNK_POINTS = 4096
"""Points per chunk (a dask task; about 4 s of estimates)."""
PROBE_POINTS = 64
"""Points estimated on opening, to learn the columns."""


class NotInIndexOrder(Exception):
    """The points table is not in index order (row k holds point k): the file is not read lazily."""


def point_count(path: str | Path) -> int:
    """Rows of a results file's points table (its attributes checked, no table read)."""
    with scan.opened(path) as o:
        return int(o.points.shape[0])


class LazyResults(Mapping[str, np.ndarray]):
    """Per-point estimates of a large results file, read and computed chunk by chunk.

    The same interface as :class:`qrate.store.load.LoadedResults` (``path``, ``meta``, ``axes``,
    ``results[name]`` -> one float64 array over the points, ``to_pandas()``, ``to_xarray()``), but
    nothing is computed until asked for. ``to_xarray()`` gives a Dataset along one dimension,
    ``point`` (the file's points in index order, points without batches included as NaN), each
    estimate and axis a dask array of :data:`CHUNK_POINTS`-point chunks; select first
    (``ds.isel(point=slice(0, 100))``, ``ds.where(...)``) and only the chunks needed are computed.
    To place it on the sweep grid: ``ds.compute().set_index(point=list(results.axes)).unstack("point")``.

    The columns are those of the first chunk's points (a later point's extra estimate is left
    out; one it lacks is NaN).
    """

    def __init__(self, path: str | Path) -> None:
        with scan.opened(path) as o:
            idx = scan.index_points(o, own=False)  # which points carry their own report: per chunk
            if idx.row_of is not None:  # never written so by qrate: qrate.load reads such a file whole
                raise NotInIndexOrder(str(o.path))
            counts = np.zeros(idx.size, dtype=np.int64)
            order = scan.InOrder()
            for _, block in scan.blocks(o.batches, scan.BLOCK_ROWS, ["point", "batch_index"]):
                scan.check_known(o, idx, block["point"])
                order.add(block["point"], block["batch_index"])
                counts += np.bincount(block["point"], minlength=idx.size)
            self.path, self.meta = o.path, o.meta
        self._ordered = order.ordered
        self._offsets = np.concatenate([[0], np.cumsum(counts)])  # rows of point i: [off[i], off[i+1]) if ordered
        self.points = idx.size
        first = self._estimate(0, min(PROBE_POINTS, self.points))  # the columns
        self.axes: tuple[str, ...] = tuple(self._public(k) for k in first if k.startswith("axis:"))
        self._columns = {k: v.dtype for k, v in first.items()}

    @property
    def chunks(self) -> int:
        """Number of chunks of :data:`CHUNK_POINTS` points."""
        return max(-(-self.points // CHUNK_POINTS), 1)

    def _records(self, a: int, b: int) -> Iterator[PointRecord]:
        """The points ``a <= index < b`` with their rows, checked."""
        with scan.opened(self.path) as o:
            stored = o.points[a:b]
            if self._ordered:
                table = o.batches[int(self._offsets[a]) : int(self._offsets[b])]
            else:  # rows spread over the table: one pass picks this chunk's
                parts = [blk[(blk["point"] >= a) & (blk["point"] < b)] for _, blk in scan.blocks(o.batches, scan.BLOCK_ROWS)]
                table = np.concatenate(parts) if parts else o.batches[0:0]
                table = table[np.lexsort((table["batch_index"], table["point"]))]
                from qrate.store.check import check_unique

                check_unique(o.path, table)
            start, length = stored["params_start"], stored["params_length"]
            lo = int(start.min()) if stored.size else 0
            hi = int((start + length).max()) if stored.size else 0
            blob = o.params[lo:hi].tobytes() if hi - lo <= 8 * scan.PARAMS_BLOCK else None
            texts = [
                blob[int(s) - lo : int(s) - lo + int(n)] if blob is not None else o.params[int(s) : int(s + n)].tobytes()
                for s, n in zip(start, length, strict=True)
            ]
            own = np.array([a + j for j, t in enumerate(texts) if scan.REPORT_MARK in t], dtype=np.int64)
            idx = scan.PointsIndex(self.points, self.points, None, own)
            own_rows: list[np.ndarray] = []
            scan.check_block(o, idx, table, own_rows)
            scan.check_own_rows(o, idx, own_rows)
            names = list(o.row_dtype.names or ())
            rows = np.empty(table.size, dtype=o.row_dtype)
            for name in names:
                rows[name] = table[name]
            bounds = np.searchsorted(table["point"], np.arange(a, b + 1))
            for j, params in enumerate(texts):
                yield PointRecord(
                    index=a + j,
                    ground_distance_km=float(stored["ground_distance_km"][j]),
                    point_key=stored["point_key"][j].decode(),
                    params_json=params,
                    rows=rows[bounds[j] : bounds[j + 1]],
                    default_report=self.meta["report"],
                )

    def chunk(self, k: int) -> dict[str, np.ndarray]:
        """Estimates and axis values of the points of chunk ``k`` (``axis:NAME`` for the axes), NaN
        for points without batches."""
        return self._estimate(k * CHUNK_POINTS, min((k + 1) * CHUNK_POINTS, self.points))

    def _estimate(self, a: int, b: int) -> dict[str, np.ndarray]:
        from qrate.store.load import point_estimates

        results = Results(self.path, self.meta, ())
        columns: dict[str, list[Any]] = {}
        recs = list(self._records(a, b))
        for j, rec in enumerate(recs):
            values = {**{f"axis:{a}": v for a, v in (rec.params.get("axes") or {}).items()}}
            values[f"axis:{DISTANCE_AXIS}"] = rec.ground_distance_km
            if rec.rows.size:
                for key, v in point_estimates(results, rec).items():
                    numeric = (v is None or isinstance(v, int | float)) and not isinstance(v, bool)
                    if numeric and f"axis:{key}" not in values:
                        values[key] = v
            for key, v in values.items():
                columns.setdefault(key, [None] * len(recs))[j] = v
        wanted = getattr(self, "_columns", None)
        out = {}
        for key in wanted or columns:
            got = columns.get(key, [None] * len(recs))
            dtype = wanted[key] if wanted else _kind(got)
            out[key] = np.array([np.nan if v is None and dtype.kind == "f" else v for v in got], dtype=dtype)
        return out

    @functools.cached_property
    def _all(self) -> dict[str, np.ndarray]:
        parts = [self.chunk(k) for k in range(self.chunks)]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    @staticmethod
    def _public(key: str) -> str:
        return key[len("axis:") :] if key.startswith("axis:") else key

    def __getitem__(self, key: str) -> np.ndarray:
        for k in self._columns:
            if self._public(k) == key:
                return self._all[k]
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter([self._public(k) for k in self._columns])

    def __len__(self) -> int:
        return len(self._columns)

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame``, one row per point (every chunk computed; needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_pandas() needs pandas: pip install 'qrate[analysis]'") from None
        return pd.DataFrame({k: self[k] for k in self})

    def to_xarray(self) -> Any:
        """An ``xarray.Dataset`` along ``point`` whose variables are dask arrays, one chunk per
        :data:`CHUNK_POINTS` points, computed on demand (needs xarray)."""
        try:
            import xarray as xr
        except ImportError:
            raise ImportError("to_xarray() needs xarray: pip install 'qrate[analysis]'") from None
        import dask
        import dask.array as da

        from qrate.units import unit_of

        sizes = [min(CHUNK_POINTS, self.points - k * CHUNK_POINTS) for k in range(self.chunks)]
        tasks = [dask.delayed(self.chunk)(k) for k in range(self.chunks)]
        data: dict[str, Any] = {}
        coords: dict[str, Any] = {"point": np.arange(self.points)}
        for key, dtype in self._columns.items():
            column = da.concatenate(
                [da.from_delayed(dask.delayed(_pick)(t, key), shape=(n,), dtype=dtype) for t, n in zip(tasks, sizes, strict=True)]
            )
            if key.startswith("axis:"):
                coords[self._public(key)] = ("point", column)
            else:
                data[key] = ("point", column)
        attrs = {k: v for k, v in self.meta.items() if isinstance(v, str | int | float | bool)}
        ds = xr.Dataset(data, coords=coords, attrs=attrs)
        for name in ds.variables:
            unit = unit_of(str(name))[0]
            if unit:
                ds[name].attrs["units"] = unit
        return ds


def _pick(chunk: dict[str, np.ndarray], key: str) -> np.ndarray:
    return chunk[key]


def _kind(values: list[Any]) -> np.dtype:
    """float64 for numbers (or none), else object."""
    if all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values):
        return np.dtype(float)
    return np.dtype(object)
