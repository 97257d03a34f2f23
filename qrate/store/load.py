"""Read estimates from a results file using only the file: its batch rows and its protocol report."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qrate.errors import ResultsFileError
from qrate.estimates import estimate_point, inconsistency
from qrate.store.hdf5 import PointRecord, Results, read_results


def point_estimates(results: Results, point: PointRecord) -> dict[str, Any]:
    """Estimates of one stored point (:func:`qrate.estimates.estimate_point`) with its axes and geometry.

    Raises:
        ResultsFileError: the point's counters contradict the roles of the file's report, or its
            geometry is not numeric (a damaged file).
    """
    report = point.params.get("report") or results.meta["report"]
    problem = inconsistency(report, point.rows)
    if problem is not None:
        raise ResultsFileError(f"{results.path}: point {point.index}: {problem}; the file is damaged")
    axes = point.params.get("axes") or {}
    est = estimate_point(point.rows, report, extra={**axes, "ground_distance_km": point.ground_distance_km})
    for key in ("elevation_deg", "slant_range_km"):
        value = point.params.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ResultsFileError(f"{results.path}: point {point.index} has a non-numeric {key} ({value!r}); the file is damaged")
        est[key] = value
    return est


def read_estimates(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(file metadata, estimates per point)`` of a results file (points without batches skipped)."""
    results = read_results(path)
    return results.meta, [point_estimates(results, p) for p in results.points if p.rows.size]


@dataclass(frozen=True, slots=True)
class LoadedResults(Mapping[str, np.ndarray]):
    """Per-point estimates of one results file: a read-only mapping ``name -> array`` (one entry per point).

    Every scalar estimate of :func:`qrate.estimates.estimate_point` becomes a float64 array (nan where
    not applicable), indexed like ``ground_distance_km``; rates are in bit/s.

    Attributes:
        path: the file; meta: its root attributes (scenario TOML, seed, versions, runs, ...).
        arrays: the estimates.
    """

    path: Path
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.arrays)

    def __len__(self) -> int:
        return len(self.arrays)

    def to_xarray(self) -> Any:
        """An ``xarray.Dataset`` with dimension ``ground_distance_km`` (needs xarray installed)."""
        try:
            import xarray as xr
        except ImportError:
            raise ImportError("to_xarray() needs xarray: pip install xarray") from None
        d = self.arrays["ground_distance_km"]
        data = {k: ("ground_distance_km", v) for k, v in self.arrays.items() if k != "ground_distance_km"}
        attrs = {k: v for k, v in self.meta.items() if isinstance(v, str | int | float | bool)}
        return xr.Dataset(data, coords={"ground_distance_km": d}, attrs=attrs)


def load(path: str | Path) -> LoadedResults:
    """Read a results file and return its per-point estimates as numpy arrays.

    Raises:
        ResultsFileError: missing, foreign, truncated or other-schema file.
    """
    meta, rows = read_estimates(path)
    keys: list[str] = []
    for r in rows:
        for k, v in r.items():
            if k not in keys and (v is None or isinstance(v, bool | int | float)) and not isinstance(v, bool):
                keys.append(k)
    arrays = {k: np.array([np.nan if r.get(k) is None else float(r[k]) for r in rows], dtype=float) for k in keys}
    if "ground_distance_km" not in arrays:
        arrays["ground_distance_km"] = np.zeros(0)
    return LoadedResults(Path(path), meta, arrays)
