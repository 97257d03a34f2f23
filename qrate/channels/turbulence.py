"""Turbulence-induced beam wander in weak turbulence (Vasylyev 2012; PHYSICS.md §1.2, §1.3, §3.3).

sigma_bw^2 = 1.919 C_n^2 z^3 (2 W)^(-1/3): per-axis variance (m^2) of the beam centroid after a
turbulent path of length z (m) entered with beam diameter 2W.
"""

from __future__ import annotations

TURBULENCE_PATHS = ("full", "last_10km")
#: thickness (m) of the turbulent layer above the ground in the satellite (``last_10km``) model
TURBULENT_LAYER_M = 1.0e4


def beam_wander_variance_m2(cn2: float, length_m: float, divergence_rad: float, waist_m: float, path: str) -> float:
    """Per-axis centroid variance (m^2) from turbulence.

    ``full`` (horizontal / UAV link, netsquid-freespace ``FreeSpaceLossModel``):
        1.919 C_n^2 L^3 (2 W0)^(-1/3), turbulence over the whole path.
    ``last_10km`` (satellite downlink, ``FixedSatelliteLossModel``):
        1.919 C_n^2 (10 km)^3 (2 theta (L - 10 km))^(-1/3): only the last 10 km are turbulent, entered
        with the far-field beam diameter. Needs L > 10 km (checked by the caller).
    """
    if cn2 == 0.0:
        return 0.0
    if path == "last_10km":
        return 1.919 * cn2 * TURBULENT_LAYER_M**3 * (2.0 * divergence_rad * (length_m - TURBULENT_LAYER_M)) ** (-1.0 / 3.0)
    return 1.919 * cn2 * length_m**3 * (2.0 * waist_m) ** (-1.0 / 3.0)
