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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from qrate.errors import ResultsFileError

FORMAT = "qrate-frontier"
SCHEMA_VERSION = 1
DATASET = "frontier"


def is_frontier(path: str | Path) -> bool:
    """Whether ``path`` is a readable HDF5 file of this format (False for anything else)."""
    try:
        with h5py.File(path, "r") as f:
            return f.attrs.get("qrate_format") == FORMAT
    except (OSError, RuntimeError):
        return False


def write(
    path: Path, over: str, rows: Sequence[Mapping[str, Any]], meta: Mapping[str, Any], answer: Any, *, overwrite: bool
) -> Path:
    """Write the frontier rows and metadata to ``path`` atomically."""
    from qrate import __version__
    from qrate.model import MODEL_VERSION
    from qrate.outputs import replace_atomically, temp_path
    from qrate.store.hdf5 import package_versions
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
    tmp = temp_path(path)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs.update(
                {
                    "qrate_format": FORMAT,
                    "qrate_schema": SCHEMA_VERSION,
                    "qrate_version": __version__,
                    "model_version": MODEL_VERSION,
                    "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                    "versions": json.dumps(package_versions()),
                    "units": json.dumps(units),
                    "answer": json.dumps(answer),
                    **{k: (json.dumps(v) if isinstance(v, list | dict) else v) for k, v in meta.items()},
                }
            )
            f.create_dataset(DATASET, data=table)
        replace_atomically(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(metadata, rows)`` of a frontier file (ResultsFileError if it is not one)."""
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("qrate_format") != FORMAT:
                raise ResultsFileError(f"{path}: not a qrate frontier file")
            if int(f.attrs.get("qrate_schema", -1)) != SCHEMA_VERSION:
                raise ResultsFileError(
                    f"{path}: frontier schema {f.attrs.get('qrate_schema')} (this qrate reads {SCHEMA_VERSION})"
                )
            meta = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}
            table = f[DATASET][()]
    except (OSError, RuntimeError, KeyError) as exc:
        raise ResultsFileError(f"{path}: damaged frontier file ({type(exc).__name__})") from None
    for key in ("argv", "versions", "units", "answer"):
        if key in meta:
            meta[key] = json.loads(meta[key])
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
