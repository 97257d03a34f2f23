"""HDF5 results layout (schema version 2), shared by the writer and the readers.

::

    /                       attrs: qrate_format = "qrate-results", qrate_schema = 2, qrate_version,
                                   model_version (int: qrate.model.MODEL_VERSION of the numbers),
                                   created_utc, seed (decimal string: up to 128 bits), argv (JSON),
                                   versions (JSON), scenario_toml (resolved scenario), scenario_name,
                                   protocol, counter_names (JSON), report (JSON: the protocol's
                                   counters' roles and estimates, enough to compute every estimate
                                   from the rows alone), complete (bool, set at the end)
    /runs                   1-D resizable dataset of JSON strings, one per invocation that wrote the
                            file: {"action": "run" | "resume" | "combine", "started_utc", "argv",
                            "versions", "scheduler", ...}
    /points/<NNNN>/         attrs: index, ground_distance_km, point_key (hex), params (JSON: geometry,
                                   link means, constants of the point)
    /points/<NNNN>/batches  compound rows, shape (n,), maxshape (None,), chunked (CHUNK_ROWS rows,
                            Fletcher-32 checksums): batch_index, pulses, successes, eta_count,
                            eta_sum, eta_sumsq, seconds, and one int64 field ``c_<counter>`` per
                            protocol counter (see ``qrate.stats.batch_dtype``)

Rows are append-only and flushed in groups (at most ``qrate.store.hdf5.FLUSH_INTERVAL_S`` apart,
and at every new point); totals and estimates are always recomputed from the rows (read back
sorted by ``batch_index``), so batches and files add exactly. A point's ``(seed, point_key,
batch_index)`` identifies a batch: a file never holds one twice. A row is consistent: counts >= 0,
``successes <= pulses``, every counter <= ``successes``, and ``c_shots == successes //
report["carriers_per_use"]`` bounds every other counter; the reader refuses anything else as damaged.

Schema 1 (no ``model_version``, no ``report``) is refused: such files are rerun.
"""

from __future__ import annotations

FORMAT = "qrate-results"
SCHEMA_VERSION = 2
POINTS_GROUP = "points"
BATCHES_DATASET = "batches"
RUNS_DATASET = "runs"
CHUNK_ROWS = 64


def point_group_name(index: int) -> str:
    """Name of the group of sweep point ``index``."""
    return f"{index:04d}"
