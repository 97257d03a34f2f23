"""HDF5 results layout (schema version 3, columnar), shared by the writer and the readers.

::

    /            attrs: qrate_format = "qrate-results", qrate_schema = 3, qrate_version,
                        model_version (int: qrate.model.MODEL_VERSION of the numbers),
                        created_utc, seed (decimal string: up to 128 bits), argv (JSON),
                        versions (JSON), scenario_toml (resolved scenario), scenario_name,
                        protocol, counter_names (JSON), report (JSON: the protocol's counters'
                        roles and estimates, enough to compute every estimate from the rows
                        alone), complete (bool, set at the end)
    /runs        1-D resizable dataset of JSON strings, one per invocation that wrote the file:
                 {"action": "run" | "resume" | "combine", "started_utc", "argv", "versions", ...}
    /points      the points table, one row per sweep point (:data:`POINT_DTYPE`): index (the
                 point's index in the file), ground_distance_km, point_key (32 hex digits),
                 params_start, params_length (its slice of /params)
    /params      uint8: every point's parameters as JSON text (geometry, link means, noise, axes,
                 and its protocol report where it differs from the file's), back to back
    /batches     the batches table, one row per batch: ``point`` (the point's index) followed by
                 batch_index, pulses, successes, eta_count, eta_sum, eta_sumsq, seconds, and one
                 int64 field ``c_<counter>`` per protocol counter (``qrate.stats.batch_dtype``)

Every table is 1-D, resizable, chunked (``*_CHUNK`` rows), shuffled and gzip-compressed, with a
Fletcher-32 checksum per chunk (a corrupted chunk fails to read instead of giving numbers). Rows
are append-only, written in large groups (at most ``qrate.store.writer.FLUSH_INTERVAL_S`` apart);
a point's rows may be spread over the table (a resumed run appends): readers group them by
``point`` and sort them by ``batch_index``. Totals and estimates are always recomputed from the
rows, so batches and files add exactly. A point's ``(seed, point_key, batch_index)`` identifies a
batch: a file never holds one twice. A row is consistent: counts >= 0, ``successes <= pulses``,
every counter <= ``successes``, ``c_shots == successes // report["carriers_per_use"]`` bounds
every other counter, and no counter exceeds the one the report names as its whole; the reader
refuses anything else as damaged.

Schema 1 and 2 files (schema 2: one HDF5 group per point) are refused with one line naming the
schema: such files are rerun.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

FORMAT = "qrate-results"
SCHEMA_VERSION = 3
POINTS_DATASET = "points"
PARAMS_DATASET = "params"
BATCHES_DATASET = "batches"
RUNS_DATASET = "runs"
POINT_CHUNK = 4096
"""Rows per chunk of the points table."""
PARAMS_CHUNK = 1 << 16
"""Bytes per chunk of /params."""
BATCH_CHUNK = 2048
"""Rows per chunk of the batches table (~0.3 MiB raw for 10 counters)."""
COMPRESSION = {"compression": "gzip", "compression_opts": 1, "shuffle": True, "fletcher32": True}
"""Filters of every table."""
KEY_DIGITS = 32

POINT_DTYPE = np.dtype(
    [
        ("index", "<i8"),
        ("ground_distance_km", "<f8"),
        ("point_key", f"S{KEY_DIGITS}"),
        ("params_start", "<i8"),
        ("params_length", "<i8"),
    ]
)


def batches_dtype(row_dtype: np.dtype) -> np.dtype:
    """The batches table's dtype: ``point`` then the fields of ``row_dtype`` (``qrate.stats.batch_dtype``)."""
    fields: Mapping[str, Any] = row_dtype.fields or {}
    return np.dtype([("point", "<i8"), *((n, fields[n][0]) for n in row_dtype.names or ())])
