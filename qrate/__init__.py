"""qrate: Monte Carlo rate engine for quantum anonymous networks over space/air/ground links.

The package mirrors the data flow: scenario -> geometry -> channel kernels -> protocol circuits
-> statistics -> sweep -> store -> plot. The public names below are re-exported lazily (PEP 562),
so ``import qrate`` and ``qrate --help`` do not import numba, stim or dask.
"""

from __future__ import annotations

import importlib
from typing import Any

from qrate.errors import BelowHorizonError, InputError, QrateError, ResultsFileError

#: public name -> module that defines it
_LAZY: dict[str, str] = {
    "Scenario": "qrate.scenario",
    "load_scenario": "qrate.scenario",
    "preset_names": "qrate.scenario",
    "midpoint_geometry": "qrate.geometry",
    "platform_geometry": "qrate.geometry",
    "FreeSpaceLink": "qrate.channels",
    "link_budget": "qrate.channels",
    "sample_transmittance": "qrate.channels",
    "mean_transmittance": "qrate.channels",
    "fiber_transmittance": "qrate.channels",
    "PROTOCOLS": "qrate.protocols",
    "PauliNoise": "qrate.protocols",
    "BatchStats": "qrate.stats",
    "MODEL_VERSION": "qrate.model",
    "run_sweep": "qrate.sweep",
    "estimate_point": "qrate.estimates",
    "read_results": "qrate.store",
    "load": "qrate.store",
    "run_to_file": "qrate.sweep",
}


def _version() -> str:
    """The installed distribution's version (read on first use: importlib.metadata is slow to import)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qrate")
    except PackageNotFoundError:  # running from a source tree without installation
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return _version()
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qrate' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["BelowHorizonError", "InputError", "QrateError", "ResultsFileError", "__version__", *_LAZY]
