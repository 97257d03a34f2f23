"""Channel layer: fiber, free-space link and beam, turbulence, atmosphere and the per-shot kernels.

Hardware and sky physics live in submodules imported directly: ``link`` (the free-space link
object and its rules), ``turbulence`` (slant-path C_n^2 profiles), ``atmosphere`` (LOWTRAN7 table),
``background``, ``detectors``, ``sources``, ``bsm``, ``measured`` (loss tables) and ``budget``
(per-factor dB). The names below are imported on first use, so that importing a light submodule
(``qrate.channels.link``) does not load the Numba kernels.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "FreeSpaceLink": "qrate.channels.link",
    "LinkBudget": "qrate.channels.freespace",
    "dephasing_probability": "qrate.channels.fiber",
    "fiber_transmittance": "qrate.channels.fiber",
    "link_budget": "qrate.channels.freespace",
    "mean_transmittance": "qrate.channels.freespace",
    "sample_transmittance": "qrate.channels.freespace",
    "sample_transmittance_blocks": "qrate.channels.freespace",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qrate.channels' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
