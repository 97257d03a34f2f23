"""Results files: columnar HDF5 layout (:mod:`qrate.store.schema`), writer (:mod:`qrate.store.writer`),
reader (:mod:`qrate.store.reader`), damaged-file checks (:mod:`qrate.store.check`)."""

from __future__ import annotations

from qrate.store.load import LoadedResults, load
from qrate.store.reader import PointRecord, Results, check_model_version, read_results
from qrate.store.safe import package_versions
from qrate.store.schema import SCHEMA_VERSION
from qrate.store.writer import ResultsWriter

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
