"""Small HDF5 files tagged by a ``qrate_format`` name and ``qrate_schema`` number (the expected-values
and frontier files): recognising one, the common header, writing atomically and reading with the
format and schema checked. One place for these rules; each format keeps its own datasets."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import h5py
import numpy as np

from qrate.errors import ResultsFileError

T = TypeVar("T")


def has_format(path: str | Path, fmt: str) -> bool:
    """Whether ``path`` is a readable HDF5 file whose ``qrate_format`` is ``fmt`` (False for anything else)."""
    try:
        with h5py.File(path, "r") as f:
            return bool(f.attrs.get("qrate_format") == fmt)
    except (OSError, RuntimeError):
        return False


def header(fmt: str, schema: int) -> dict[str, Any]:
    """The attributes every tagged file starts with: format, schema, qrate and model versions, the UTC
    creation time and the package versions (a dict: the caller stores it as JSON)."""
    from qrate import __version__
    from qrate.model import MODEL_VERSION
    from qrate.store.safe import package_versions

    return {
        "qrate_format": fmt,
        "qrate_schema": schema,
        "qrate_version": __version__,
        "model_version": MODEL_VERSION,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": package_versions(),
    }


def write_atomically(path: Path, fill: Callable[[h5py.File], None]) -> Path:
    """Let ``fill`` write an open HDF5 file beside ``path``, then rename it into place (nothing left on failure)."""
    from qrate.outputs import replace_atomically, temp_path

    tmp = temp_path(path)
    try:
        with h5py.File(tmp, "w") as f:
            fill(f)
        replace_atomically(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_checked(path: str | Path, fmt: str, schema: int, label: str, body: Callable[[h5py.File], T]) -> tuple[dict[str, Any], T]:
    """``(attributes as Python values, body(file))`` of a tagged file; ResultsFileError naming ``label``
    (e.g. "frontier") if the file is another format or schema, or damaged."""
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("qrate_format") != fmt:
                raise ResultsFileError(f"{path}: not a qrate {label} file")
            if int(f.attrs.get("qrate_schema", -1)) != schema:
                raise ResultsFileError(f"{path}: {label} schema {f.attrs.get('qrate_schema')} (this qrate reads {schema})")
            meta = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}
            data = body(f)
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        raise ResultsFileError(f"{path}: damaged {label} file ({type(exc).__name__})") from None
    return meta, data


def decode_json(meta: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Parse the attributes ``keys`` that were stored as JSON text, in place (absent ones are skipped)."""
    for key in keys:
        if key in meta:
            meta[key] = json.loads(meta[key])
