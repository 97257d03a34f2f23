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
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from qrate.store.tagged import decode_json, has_format, header, read_checked, write_atomically

FORMAT = "qrate-expected"
SCHEMA_VERSION = 1
DATASET = "estimates"
JSON_ATTRS = ("argv", "versions", "report", "axes", "passes", "summary")


def is_expected(path: str | Path) -> bool:
    """Whether ``path`` is a readable HDF5 file of this format."""
    return has_format(path, FORMAT)


def write(
    path: Path,
    meta: Mapping[str, Any],
    estimates: Sequence[Mapping[str, Any]],
    passes: Sequence[Mapping[str, Any]] = (),
    summary: Mapping[str, Any] | None = None,
) -> Path:
    """Write the file atomically (``meta``: scenario_name, scenario_toml, protocol, seed, report, axes, argv)."""
    attrs = {
        **header(FORMAT, SCHEMA_VERSION),
        "sampling_mode": "expected",
        "passes": list(passes),
        "summary": dict(summary or {}),
        "complete": True,
        **meta,
    }

    def fill(f: h5py.File) -> None:
        for k, v in attrs.items():
            f.attrs[k] = json.dumps(v) if k in JSON_ATTRS else v
        data = np.array([json.dumps(e) for e in estimates], dtype=object)
        f.create_dataset(DATASET, data=data, dtype=h5py.string_dtype())

    return write_atomically(path, fill)


def read(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(metadata, estimates per point)``, as :func:`qrate.store.load.read_estimates` returns them."""
    meta, rows = read_checked(
        path, FORMAT, SCHEMA_VERSION, "expected-values", lambda f: [json.loads(t) for t in f[DATASET].asstr()[()]]
    )
    decode_json(meta, JSON_ATTRS)
    meta["runs"] = []
    return meta, rows
