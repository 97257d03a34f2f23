"""Channel layer: fiber, free-space beam, turbulence, atmosphere and the per-shot kernels.

Hardware and sky physics live in submodules imported directly: ``turbulence`` (slant-path C_n^2
profiles), ``atmosphere`` (LOWTRAN7 table), ``background``, ``detectors``, ``sources``, ``bsm``,
``measured`` (loss tables) and ``budget`` (per-factor dB).
"""

from __future__ import annotations

from qrate.channels.fiber import dephasing_probability, fiber_transmittance
from qrate.channels.freespace import (
    FreeSpaceLink,
    LinkBudget,
    link_budget,
    mean_transmittance,
    sample_transmittance,
    sample_transmittance_blocks,
)

__all__ = [
    "FreeSpaceLink",
    "LinkBudget",
    "dephasing_probability",
    "fiber_transmittance",
    "link_budget",
    "mean_transmittance",
    "sample_transmittance",
    "sample_transmittance_blocks",
]
