"""Expected-value results files (``qrate run --expected``, ``sampling.mode = "expected"``).

Nothing is sampled, so there are no batch rows: the file holds every point's estimates as
computed (:mod:`qrate.require.expected`), and for a pass run the per-pass totals and summary::

    /            attrs: qrate_format = "qrate-expected", qrate_schema = 1, sampling_mode = "expected",
                        qrate_version, model_version, created_utc, versions (JSON), argv (JSON),
                        scenario_name, scenario_toml, protocol, seed, report (JSON), axes (JSON),
                        passes (JSON), summary (JSON), complete = true
    /estimates   1-D dataset of JSON strings, one per point: the point's estimates (as
                 ``qrate show --json`` prints them, with its axes)

Written to a temporary file and renamed into place; :func:`qrate.load`, ``qrate show`` and
``qrate plot`` read it like a results file (``read_estimates`` returns the same shapes).
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

FORMAT = "qrate-expected"
SCHEMA_VERSION = 1
DATASET = "estimates"
JSON_ATTRS = ("argv", "versions", "report", "axes", "passes", "summary")


def is_expected(path: str | Path) -> bool:
    """Whether ``path`` is a readable HDF5 file of this format."""
    try:
        with h5py.File(path, "r") as f:
            return f.attrs.get("qrate_format") == FORMAT
    except (OSError, RuntimeError):
        return False


def write(
    path: Path,
    meta: Mapping[str, Any],
    estimates: Sequence[Mapping[str, Any]],
    passes: Sequence[Mapping[str, Any]] = (),
    summary: Mapping[str, Any] | None = None,
) -> Path:
    """Write the file atomically (``meta``: scenario_name, scenario_toml, protocol, seed, report, axes, argv)."""
    from qrate import __version__
    from qrate.model import MODEL_VERSION
    from qrate.outputs import replace_atomically, temp_path
    from qrate.store.hdf5 import package_versions

    attrs = {
        "qrate_format": FORMAT,
        "qrate_schema": SCHEMA_VERSION,
        "sampling_mode": "expected",
        "qrate_version": __version__,
        "model_version": MODEL_VERSION,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": package_versions(),
        "passes": list(passes),
        "summary": dict(summary or {}),
        "complete": True,
        **meta,
    }
    tmp = temp_path(path)
    try:
        with h5py.File(tmp, "w") as f:
            for k, v in attrs.items():
                f.attrs[k] = json.dumps(v) if k in JSON_ATTRS else v
            data = np.array([json.dumps(e) for e in estimates], dtype=object)
            f.create_dataset(DATASET, data=data, dtype=h5py.string_dtype())
        replace_atomically(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(metadata, estimates per point)``, as :func:`qrate.store.load.read_estimates` returns them."""
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("qrate_format") != FORMAT:
                raise ResultsFileError(f"{path}: not a qrate expected-values file")
            if int(f.attrs.get("qrate_schema", -1)) != SCHEMA_VERSION:
                raise ResultsFileError(
                    f"{path}: expected-values schema {f.attrs.get('qrate_schema')} (this qrate reads {SCHEMA_VERSION})"
                )
            meta = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}
            rows = [json.loads(s) for s in f[DATASET].asstr()[()]]
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        raise ResultsFileError(f"{path}: damaged expected-values file ({type(exc).__name__})") from None
    for key in JSON_ATTRS:
        if key in meta:
            meta[key] = json.loads(meta[key])
    meta["runs"] = []
    return meta, rows
