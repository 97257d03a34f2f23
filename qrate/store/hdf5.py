"""Results files in HDF5: the writer (:mod:`qrate.store.writer`), the reader (:mod:`qrate.store.reader`),
safe writing (:mod:`qrate.store.safe`) and the layout (:mod:`qrate.store.schema`), under one name."""

from __future__ import annotations

from qrate.store.reader import PointRecord, Results, check_model_version, read_results
from qrate.store.safe import H5_SUFFIXES, VERSIONED_PACKAGES, package_versions
from qrate.store.writer import ResultsWriter

__all__ = [
    "H5_SUFFIXES",
    "VERSIONED_PACKAGES",
    "PointRecord",
    "Results",
    "ResultsWriter",
    "check_model_version",
    "package_versions",
    "read_results",
]
