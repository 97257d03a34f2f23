"""Atmospheric transmittance versus zenith angle (PHYSICS.md §3.5).

T_atm = T_zen^AM with air mass AM = sec(zeta) (plane-parallel atmosphere) up to
:data:`AIRMASS_SWITCH_DEG` = 70 degrees and the Kasten-Young curved-atmosphere formula
AM = 1 / (cos zeta + 0.50572 (96.07995 - zeta_deg)^-1.6364) beyond it. At the switch the two
differ by 0.7 % in air mass (2.924 vs 2.903), i.e. a step of 0.7 % of ln T_atm.
"""

from __future__ import annotations

import math

AIRMASS_SWITCH_DEG = 70.0


def air_mass(zenith_rad: float) -> float:
    """Relative optical air mass at zenith angle ``zenith_rad`` (1 at the zenith)."""
    zenith_deg = math.degrees(zenith_rad)
    if zenith_deg <= AIRMASS_SWITCH_DEG:
        return 1.0 / math.cos(zenith_rad)
    return 1.0 / (math.cos(zenith_rad) + 0.50572 * (96.07995 - zenith_deg) ** -1.6364)


def atmospheric_transmittance(t_atm_zenith: float, zenith_rad: float) -> float:
    """Power transmittance T_zen^AM(zeta) of the atmosphere along a line of sight at ``zenith_rad``."""
    if t_atm_zenith == 1.0:
        return 1.0
    return t_atm_zenith ** air_mass(zenith_rad)
