"""Frontier files: a threshold as a function of a second field (``qrate require --over --out``).

::

    /            attrs: qrate_format = "qrate-frontier", qrate_schema = 1, qrate_version, model_version,
                        created_utc, versions (JSON), scenario_name, scenario_toml, protocol, seed,
                        vary, over, target, precision, argv (JSON), units (JSON: column -> unit),
                        answer (JSON: every requirement with all its crossings and scans)
    /frontier    compound rows, one per value of the ``over`` field: that value, ``threshold``
                 (expected values), ``threshold_mc``, ``threshold_low``, ``threshold_high`` (the Monte
                 Carlo confirmation's interval), ``estimate_mc``, ``estimate_mc_stderr``, ``met_above``,
                 ``crossings``, ``monotone``, ``best_value``, ``best_at``, ``evaluations`` (nan where none)
                 and ``status`` (text)

Written to a temporary file and renamed into place. :func:`qrate.load` returns it as
:class:`~qrate.store.load.LoadedResults` with the ``over`` field as the one axis.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from qrate.store.tagged import decode_json, has_format, header, read_checked, write_atomically

FORMAT = "qrate-frontier"
SCHEMA_VERSION = 1
DATASET = "frontier"


def is_frontier(path: str | Path) -> bool:
    """Whether ``path`` is a readable HDF5 file of this format (False for anything else)."""
    return has_format(path, FORMAT)


def write(
    path: Path, over: str, rows: Sequence[Mapping[str, Any]], meta: Mapping[str, Any], answer: Any, *, overwrite: bool
) -> Path:
    """Write the frontier rows and metadata to ``path`` atomically."""
    from qrate.units import unit_of

    numeric = [k for k in rows[0] if k != "status"] if rows else [over]
    dtype = np.dtype([*((k, "<f8") for k in numeric), ("status", h5py.string_dtype())])
    table = np.zeros(len(rows), dtype=dtype)
    for i, r in enumerate(rows):
        for k in numeric:
            table[k][i] = float(r[k])
        table["status"][i] = str(r["status"])
    vary = str(meta["vary"])
    units = {
        over: unit_of(over)[0],
        **{k: unit_of(vary)[0] for k in ("threshold", "threshold_mc", "threshold_low", "threshold_high", "best_at")},
    }
    head = header(FORMAT, SCHEMA_VERSION)

    def fill(f: h5py.File) -> None:
        f.attrs.update(
            {
                **head,
                "versions": json.dumps(head["versions"]),
                "units": json.dumps(units),
                "answer": json.dumps(answer),
                **{k: (json.dumps(v) if isinstance(v, list | dict) else v) for k, v in meta.items()},
            }
        )
        f.create_dataset(DATASET, data=table)

    return write_atomically(path, fill)


def read(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(metadata, rows)`` of a frontier file (ResultsFileError if it is not one)."""
    meta, table = read_checked(path, FORMAT, SCHEMA_VERSION, "frontier", lambda f: f[DATASET][()])
    decode_json(meta, ("argv", "versions", "units", "answer"))
    meta["axes"] = [meta["over"]]
    meta["kind"] = "frontier"
    rows = []
    for rec in table:
        row: dict[str, Any] = {}
        for k in table.dtype.names or ():
            v = rec[k]
            if k == "status":
                row[k] = v.decode() if isinstance(v, bytes) else str(v)
            else:
                row[k] = None if not np.isfinite(v) else float(v)
        rows.append(row)
    return meta, rows
