"""Results files: HDF5 layout (:mod:`qrate.store.schema`), writer and reader (:mod:`qrate.store.hdf5`)."""

from __future__ import annotations

from qrate.store.hdf5 import PointRecord, Results, ResultsWriter, check_model_version, package_versions, read_results
from qrate.store.load import LoadedResults, load
from qrate.store.schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "LoadedResults",
    "PointRecord",
    "Results",
    "ResultsWriter",
    "check_model_version",
    "load",
    "package_versions",
    "read_results",
]
