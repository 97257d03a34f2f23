"""Atmospheric transmittance versus zenith angle and wavelength (see "Atmospheric transmittance and air mass"
in qrate/MODELS.md).

T_atm = T_zen^AM with air mass AM = sec(zeta) (plane-parallel atmosphere) up to
:data:`AIRMASS_SWITCH_DEG` = 70 degrees and the Kasten-Young curved-atmosphere formula
AM = 1 / (cos zeta + 0.50572 (96.07995 - zeta_deg)^-1.6364) beyond it (F. Kasten, A. T. Young,
Appl. Opt. 28, 4735 (1989)). At the switch the two differ by 0.7 % in air mass (2.924 vs 2.903),
i.e. a step of 0.7 % of ln T_atm.

T_zen is either given (``t_atm_zenith``, :func:`atmospheric_transmittance`) or looked up by
wavelength and aerosol model in a LOWTRAN7 table shipped as ``qrate/data/atmosphere_lowtran7.json``
(:func:`zenith_transmittance`, :func:`slant_transmittance`): mid-latitude summer, sea-level station
to space (Kneizys et al., *Users Guide to LOWTRAN 7*, AFGL-TR-88-0177 (1988)).

| wavelength (nm) | no aerosol | rural, VIS 23 km | rural, VIS 5 km | urban, VIS 5 km |
|---|---|---|---|---|
| 785  | 0.972 | 0.785 | 0.445 | 0.431 |
| 810  | 0.936 | 0.761 | 0.440 | 0.426 |
| 850  | 0.963 | 0.793 | 0.473 | 0.456 |
| 1550 | 0.975 | 0.909 | 0.742 | 0.701 |

Between tabulated wavelengths less than :data:`MAX_INTERPOLATION_GAP_NM` apart the optical depth
-ln T_zen is interpolated linearly in wavelength; within :data:`NEAREST_TOLERANCE_NM` of a
tabulated wavelength outside such an interval its value is used; any other wavelength (e.g. 1064 or
1310 nm, across the 0.94/1.13/1.38 um water bands) is an input error rather than a guess. The
power law T_zen^AM underestimates T at 810 nm below ~15 degrees elevation (band absorption
saturates); use a measured loss table (:mod:`qrate.channels.measured`) there.
"""

from __future__ import annotations

import itertools
import json
import math
from functools import lru_cache
from importlib import resources

from qrate.channels._checks import check_choice, check_positive, check_real
from qrate.errors import InputError

AIRMASS_SWITCH_DEG = 70.0
#: the aerosol models of the LOWTRAN7 table (IHAZE = 0, 1, 2, 5)
AEROSOL_MODELS = ("no_aerosol", "rural_23km", "rural_5km", "urban_5km")
#: default aerosol model: rural, 23 km visibility ("clear")
DEFAULT_AEROSOL_MODEL = "rural_23km"
#: tabulated wavelengths closer than this (nm) are interpolated between
MAX_INTERPOLATION_GAP_NM = 100.0
#: a wavelength this close (nm) to an isolated tabulated one takes its value
NEAREST_TOLERANCE_NM = 10.0
_TABLE_FILE = "atmosphere_lowtran7.json"


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


@lru_cache(maxsize=1)
def atmosphere_table() -> dict:
    """The shipped LOWTRAN7 zenith-transmittance table (``wavelength_nm``, ``transmittance`` per model, ``source``)."""
    text = resources.files("qrate").joinpath("data", _TABLE_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def zenith_transmittance(wavelength_m: float, aerosol_model: str = DEFAULT_AEROSOL_MODEL) -> float:
    """Zenith transmittance T_zen of the LOWTRAN7 table at ``wavelength_m`` for ``aerosol_model``.

    Raises:
        InputError: unknown aerosol model; a wavelength the table does not cover (see the module doc).
    """
    wavelength_nm = 1e9 * check_positive("wavelength_m", wavelength_m)
    check_choice("aerosol_model", aerosol_model, AEROSOL_MODELS)
    table = atmosphere_table()
    grid = [float(x) for x in table["wavelength_nm"]]
    values = [float(x) for x in table["transmittance"][aerosol_model]]
    for lam, t in zip(grid, values):
        if abs(wavelength_nm - lam) <= NEAREST_TOLERANCE_NM and not _inside_interval(wavelength_nm, grid):
            return t
    for (lo, t_lo), (hi, t_hi) in itertools.pairwise(zip(grid, values)):
        if lo <= wavelength_nm <= hi and hi - lo <= MAX_INTERPOLATION_GAP_NM:
            f = (wavelength_nm - lo) / (hi - lo)
            return math.exp((1.0 - f) * math.log(t_lo) + f * math.log(t_hi))
    raise InputError(
        "wavelength_m",
        f"{wavelength_nm:g} nm is not covered by the LOWTRAN7 table ({_coverage(grid)}); give t_atm_zenith explicitly",
    )


def _inside_interval(wavelength_nm: float, grid: list[float]) -> bool:
    return any(lo <= wavelength_nm <= hi and hi - lo <= MAX_INTERPOLATION_GAP_NM for lo, hi in itertools.pairwise(grid))


def _coverage(grid: list[float]) -> str:
    """The covered wavelength ranges, e.g. '775-860 nm, 1540-1560 nm'."""
    spans: list[list[float]] = []
    for prev, lam in zip([-math.inf, *grid], grid):
        if lam - prev <= MAX_INTERPOLATION_GAP_NM:
            spans[-1][1] = lam + NEAREST_TOLERANCE_NM
        else:
            spans.append([lam - NEAREST_TOLERANCE_NM, lam + NEAREST_TOLERANCE_NM])
    return ", ".join(f"{lo:g}-{hi:g} nm" for lo, hi in spans)


def slant_transmittance(wavelength_m: float, zenith_rad: float, aerosol_model: str = DEFAULT_AEROSOL_MODEL) -> float:
    """Atmospheric transmittance T_zen(lambda, model)^AM(zeta) along a line of sight at ``zenith_rad``."""
    zenith = check_real("zenith_rad", zenith_rad, lo=0.0, hi=0.5 * math.pi, hi_open=True)
    return atmospheric_transmittance(zenith_transmittance(wavelength_m, aerosol_model), zenith)
