"""``load(path)``: a results file's per-point estimates as numpy arrays (optionally an xarray view)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qrate.errors import InputError, ResultsFileError


def read_estimates(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(file metadata, estimates per point)`` of a results file (points without batches skipped)."""
    from qrate.engine.sweep import estimates_from_rows
    from qrate.scenario import load_scenario_text
    from qrate.store.hdf5 import read_results

    results = read_results(path)
    try:
        scenario = load_scenario_text(results.meta["scenario_toml"])
    except InputError as exc:  # a file from an incompatible qrate
        raise ResultsFileError(f"{path}: stored scenario does not validate with this qrate: {exc}") from None
    rows = []
    for point in results.points:
        if point.rows.size == 0:
            continue
        est = estimates_from_rows(scenario, point.rows, point.ground_distance_km)
        for key in ("elevation_deg", "slant_range_km"):
            value = point.params.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise ResultsFileError(f"{path}: point {point.index} has a non-numeric {key} ({value!r}); the file is damaged")
            est[key] = value
        rows.append(est)
    return results.meta, rows


@dataclass(frozen=True, slots=True)
class LoadedResults(Mapping[str, np.ndarray]):
    """Per-point estimates of one results file: a read-only mapping ``name -> array`` (one entry per point).

    Every scalar estimate of :func:`qrate.stats.estimate_point` becomes a float64 array (nan where
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
