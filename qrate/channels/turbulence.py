"""Atmospheric turbulence: horizontal beam wander and slant-path (satellite, UAV) turbulence.

Horizontal links (the Yehia et al. framework, unchanged): :func:`beam_wander_variance_m2`,
sigma_bw^2 = 1.919 C_n^2 z^3 (2 W)^(-1/3), the per-axis variance (m^2) of the beam centroid after a
turbulent path of length z (m) entered with beam diameter 2W (Vasylyev, Semenov & Vogel, PRL 108,
220501 (2012)).

Slant paths: a refractive-index structure profile C_n^2(h) (m^(-2/3)), h the height (m) above the
ground under the station, is integrated along the line of sight from the station height h0 to the
platform height H at zenith angle zeta, in the plane-parallel approximation dz = sec(zeta) dh used
by L. C. Andrews & R. L. Phillips, *Laser Beam Propagation through Random Media*, 2nd ed. (SPIE,
2005), ch. 12 (good to a few per cent up to zeta ~ 70 degrees; the Earth's curvature is ignored).
The default profile is Hufnagel-Valley HV-5/7 (R. E. Hufnagel, in *Optical Propagation through
Turbulence*, OSA 1974; G. C. Valley, Appl. Opt. 19, 574 (1980)). Every integral is a sum of
``scipy.integrate.quad`` calls over altitude segments split at the profile's own scales (100 m,
1.5 km, 1 km e-folding heights and the 10 km peak of the high-altitude term), never one quad over
the whole path.

Heights are measured from the ground that carries the profile: HV describes turbulence above the
local surface, so for a mountain-top station pass ``station_altitude_m = 0`` and the platform's
height above the station; ``station_altitude_m > 0`` is a receiver raised above that ground (or an
airborne one).

Conventions: lengths in metres, angles in radians, k = 2 pi / lambda. A *plane* wave is a downlink
from space (the source is so far that the wavefront is flat in the turbulence); a *spherical* wave
is a point source on a platform at finite height (UAV, balloon). Variances of the beam centroid are
**per axis** (the convention of :mod:`qrate.channels.freespace`); Andrews & Phillips quote the
radial mean square <r_c^2> = 2 sigma^2.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy import integrate, optimize, special

from qrate.channels._checks import check_choice, check_count, check_generator, check_nonnegative, check_positive, check_real
from qrate.errors import InputError

#: thickness (m) of the turbulent layer above the ground in the satellite (``last_10km``) model
TURBULENT_LAYER_M = 1.0e4
WAVES = ("plane", "spherical")

#: HV-5/7 ground-level structure constant A (m^-2/3) and rms high-altitude wind v (m/s): the
#: parameters for which r0 = 5 cm and theta0 = 7 urad at 0.5 um (Valley 1980; Sasiela, *Electromagnetic
#: Wave Propagation in Turbulence*, Springer 1994, gives 4.96 cm and 6.90 urad for the exact integrals)
HV57_GROUND_CN2 = 1.7e-14
HV57_WIND_M_PER_S = 21.0

#: weak-fluctuation constant 8 pi^2 * 0.033 * (-Gamma(-5/6)/2) of the aperture-filtered Kolmogorov
#: scintillation integral (Andrews & Phillips 2005, ch. 10): sigma_I^2 = C k^(7/6) int Re[...] dz;
#: C cos(5 pi/12) = 2.25 is the Rytov-variance coefficient
_KOLMOGOROV_SCINT = 8.0 * math.pi**2 * 0.033 * (-float(special.gamma(-5.0 / 6.0)) / 2.0)
_QUAD = {"epsabs": 0.0, "epsrel": 1e-10, "limit": 200}


def beam_wander_variance_m2(cn2: float, length_m: float, divergence_rad: float, waist_m: float, path: str) -> float:
    """Per-axis centroid variance (m^2) from turbulence on a horizontal or last-10-km path.

    ``full`` (horizontal / UAV link, netsquid-freespace ``FreeSpaceLossModel``):
        1.919 C_n^2 L^3 (2 W0)^(-1/3), turbulence over the whole path.
    ``last_10km`` (satellite downlink, ``FixedSatelliteLossModel``):
        1.919 C_n^2 (10 km)^3 (2 theta (L - 10 km))^(-1/3): only the last 10 km are turbulent, entered
        with the far-field beam diameter. Needs L > 10 km (checked by the caller).

    A constant C_n^2 over a slant path overstates the wander of a platform downlink by orders of
    magnitude (C_n^2 falls by 10^2-10^4 within the first kilometres); use
    :func:`slant_beam_wander_variance_m2` with a profile for those.
    """
    if cn2 == 0.0:
        return 0.0
    if path == "last_10km":
        return 1.919 * cn2 * TURBULENT_LAYER_M**3 * (2.0 * divergence_rad * (length_m - TURBULENT_LAYER_M)) ** (-1.0 / 3.0)
    return 1.919 * cn2 * length_m**3 * (2.0 * waist_m) ** (-1.0 / 3.0)


# --------------------------------------------------------------------------------------------------
# C_n^2 profiles


@dataclass(frozen=True)
class HufnagelValley:
    """Hufnagel-Valley profile C_n^2(h) (m^-2/3) at height h (m) above the ground:

    C_n^2(h) = 0.00594 (v/27)^2 (1e-5 h)^10 e^(-h/1000) + 2.7e-16 e^(-h/1500) + A e^(-h/100)

    (Valley, Appl. Opt. 19, 574 (1980); Andrews & Phillips 2005, ch. 12).

    Attributes:
        ground_cn2: A, the ground-layer structure constant (m^-2/3); HV-5/7: 1.7e-14.
        rms_wind_m_per_s: v, the rms upper-atmosphere wind speed (m/s); HV-5/7: 21.
    """

    ground_cn2: float = HV57_GROUND_CN2
    rms_wind_m_per_s: float = HV57_WIND_M_PER_S

    #: heights (m) where the integrals are split: around the 100 m / 1.5 km / 1 km scales and the
    #: 10 km peak of (1e-5 h)^10 e^(-h/1000)
    breakpoints_m: ClassVar[tuple[float, ...]] = (
        100.0,
        300.0,
        1000.0,
        2500.0,
        5000.0,
        8000.0,
        10000.0,
        13000.0,
        18000.0,
        25000.0,
        35000.0,
    )
    #: above this height (m) every term is < 1e-13 of its path integral, for all the moments used here
    top_m: ClassVar[float] = 60000.0

    def __post_init__(self) -> None:
        check_nonnegative("ground_cn2", self.ground_cn2)
        check_nonnegative("rms_wind_m_per_s", self.rms_wind_m_per_s)

    def cn2_at(self, height_m: float | np.ndarray) -> float | np.ndarray:
        """C_n^2 (m^-2/3) at ``height_m`` above the ground (scalar or array)."""
        h = np.asarray(height_m, dtype=np.float64)
        value = (
            0.00594 * (self.rms_wind_m_per_s / 27.0) ** 2 * (1e-5 * h) ** 10 * np.exp(-h / 1000.0)
            + 2.7e-16 * np.exp(-h / 1500.0)
            + self.ground_cn2 * np.exp(-h / 100.0)
        )
        return float(value) if value.ndim == 0 else value


#: the HV-5/7 profile
HV57 = HufnagelValley()


@dataclass(frozen=True)
class ConstantCn2:
    """A uniform turbulent layer: C_n^2 = ``cn2`` (m^-2/3) from the ground up to ``thickness_m``, 0 above.

    With the station at 0, zenith 0 and the platform at height L <= thickness this is a horizontal
    path of length L in uniform turbulence (Andrews & Phillips 2005, chs. 6-10), which the tests use
    to check the slant integrals against the textbook constant-C_n^2 formulas.
    """

    cn2: float
    thickness_m: float

    def __post_init__(self) -> None:
        check_nonnegative("cn2", self.cn2)
        check_positive("thickness_m", self.thickness_m)

    @property
    def breakpoints_m(self) -> tuple[float, ...]:
        return ()

    @property
    def top_m(self) -> float:
        return self.thickness_m

    def cn2_at(self, height_m: float | np.ndarray) -> float | np.ndarray:
        """C_n^2 (m^-2/3) at ``height_m`` above the ground (scalar or array)."""
        h = np.asarray(height_m, dtype=np.float64)
        value = np.where(h <= self.thickness_m, self.cn2, 0.0)
        return float(value) if value.ndim == 0 else value


Profile = HufnagelValley | ConstantCn2


def _cn2_function(profile: Profile) -> Callable[[float], float]:
    if isinstance(profile, ConstantCn2):
        c, top = profile.cn2, profile.thickness_m
        return lambda h: c if h <= top else 0.0
    if isinstance(profile, HufnagelValley):
        a = 0.00594 * (profile.rms_wind_m_per_s / 27.0) ** 2
        g = profile.ground_cn2

        def hv(h: float) -> float:
            return a * (1e-5 * h) ** 10 * math.exp(-h / 1000.0) + 2.7e-16 * math.exp(-h / 1500.0) + g * math.exp(-h / 100.0)

        return hv
    raise InputError("profile", f"expected a HufnagelValley or ConstantCn2 profile, got {type(profile).__name__}")


def _path(
    profile: Profile, station_altitude_m: float, platform_altitude_m: float, wave: str | None = None
) -> tuple[float, float]:
    """Validated (h0, H); H may be inf (space) except for spherical waves."""
    h0 = check_nonnegative("station_altitude_m", station_altitude_m)
    if isinstance(platform_altitude_m, (int, float)) and platform_altitude_m == math.inf:
        if wave == "spherical":
            raise InputError(
                "platform_altitude_m", "a spherical wave (point source on a platform) needs a finite platform altitude"
            )
        return h0, math.inf
    h_top = check_real("platform_altitude_m", platform_altitude_m, lo=h0, lo_open=True)
    return h0, h_top


def path_integral(
    weight: Callable[[float], float],
    *,
    profile: Profile = HV57,
    station_altitude_m: float = 0.0,
    platform_altitude_m: float = math.inf,
) -> float:
    """Integral of C_n^2(h) * weight(h) dh from the station height h0 to min(H, profile top) (m^(1/3) * weight units).

    Split into ``quad`` segments at the profile's breakpoints and at h0 + 1, 10, 100 m (where
    weights such as (h - h0)^(5/6) are not smooth), so each segment sees one exponential scale.
    """
    h0, h_top = _path(profile, station_altitude_m, platform_altitude_m)
    cn2 = _cn2_function(profile)
    upper = min(h_top, profile.top_m)
    if upper <= h0:
        return 0.0
    cuts = {h0, upper, *(h0 + d for d in (1.0, 10.0, 100.0)), *profile.breakpoints_m}
    if isinstance(profile, ConstantCn2):
        cuts.add(profile.thickness_m)
    points = sorted(p for p in cuts if h0 <= p <= upper)
    total = 0.0
    for lo, hi in itertools.pairwise(points):
        value, _ = integrate.quad(lambda h: cn2(h) * weight(h), lo, hi, **_QUAD)
        total += value
    return total


# --------------------------------------------------------------------------------------------------
# slant-path quantities


def _wavenumber(wavelength_m: float) -> float:
    return 2.0 * math.pi / check_positive("wavelength_m", wavelength_m)


def _sec(zenith_rad: float) -> float:
    zenith = check_real("zenith_rad", zenith_rad, lo=0.0, hi=0.5 * math.pi, hi_open=True)
    return 1.0 / math.cos(zenith)


def fried_parameter_m(
    wavelength_m: float,
    zenith_rad: float,
    *,
    profile: Profile = HV57,
    station_altitude_m: float = 0.0,
    platform_altitude_m: float = math.inf,
) -> float:
    """Fried parameter r0 (m) of a plane wave (downlink from space) at ``zenith_rad``:

    r0 = [0.423 k^2 sec(zeta) int_{h0}^{H} C_n^2(h) dh]^(-3/5)

    (D. L. Fried, J. Opt. Soc. Am. 56, 1372 (1966); Andrews & Phillips 2005, ch. 12, for the
    downlink). HV-5/7 at 0.5 um, zenith: 4.96 cm. Infinite when the path has no turbulence.
    """
    k = _wavenumber(wavelength_m)
    sec = _sec(zenith_rad)
    mu0 = path_integral(
        lambda h: 1.0, profile=profile, station_altitude_m=station_altitude_m, platform_altitude_m=platform_altitude_m
    )
    if mu0 == 0.0:
        return math.inf
    return (0.423 * k * k * sec * mu0) ** (-0.6)


def isoplanatic_angle_rad(
    wavelength_m: float,
    zenith_rad: float,
    *,
    profile: Profile = HV57,
    station_altitude_m: float = 0.0,
    platform_altitude_m: float = math.inf,
) -> float:
    """Isoplanatic angle theta0 (rad) seen from the station:

    theta0 = [2.91 k^2 sec^(8/3)(zeta) int C_n^2(h) (h - h0)^(5/3) dh]^(-3/5)

    (D. L. Fried, J. Opt. Soc. Am. 72, 52 (1982)). HV-5/7 at 0.5 um, zenith: 6.90 urad.
    """
    k = _wavenumber(wavelength_m)
    sec = _sec(zenith_rad)
    h0 = check_nonnegative("station_altitude_m", station_altitude_m)
    mu = path_integral(
        lambda h: (h - h0) ** (5.0 / 3.0), profile=profile, station_altitude_m=h0, platform_altitude_m=platform_altitude_m
    )
    if mu == 0.0:
        return math.inf
    return (2.91 * k * k * sec ** (8.0 / 3.0) * mu) ** (-0.6)


def rytov_variance(
    wavelength_m: float,
    zenith_rad: float,
    *,
    profile: Profile = HV57,
    station_altitude_m: float = 0.0,
    platform_altitude_m: float = math.inf,
    wave: str = "plane",
) -> float:
    """Rytov variance (dimensionless) of a downlink received at the station.

    ``plane`` (source in space): sigma_R^2 = 2.25 k^(7/6) sec^(11/6)(zeta) int C_n^2(h) (h - h0)^(5/6) dh.
    ``spherical`` (point source at height H): the same with the extra weight ((H - h)/(H - h0))^(5/6).

    (Andrews & Phillips 2005, ch. 12; for constant C_n^2 over a horizontal length L they reduce to
    1.23 C_n^2 k^(7/6) L^(11/6) and 0.50 C_n^2 k^(7/6) L^(11/6).)
    """
    check_choice("wave", wave, WAVES)
    k = _wavenumber(wavelength_m)
    sec = _sec(zenith_rad)
    h0, h_top = _path(profile, station_altitude_m, platform_altitude_m, wave)
    if wave == "plane":
        weight: Callable[[float], float] = lambda h: (h - h0) ** (5.0 / 6.0)
    else:
        weight = lambda h: ((h - h0) * (h_top - h) / (h_top - h0)) ** (5.0 / 6.0)
    mu = path_integral(weight, profile=profile, station_altitude_m=h0, platform_altitude_m=h_top)
    return 2.25 * k ** (7.0 / 6.0) * sec ** (11.0 / 6.0) * mu


def scintillation_index(rytov: float, *, wave: str = "plane") -> float:
    """Scintillation index sigma_I^2 of a point receiver, weak to strong fluctuations:

    sigma_I^2 = exp[0.49 s/(1 + c1 s^(6/5))^(7/6) + 0.51 s/(1 + 0.69 s^(6/5))^(5/6)] - 1,  s = Rytov variance,

    c1 = 1.11 (plane wave) or 0.56 (spherical wave) (L. C. Andrews, R. L. Phillips, C. Y. Hopen,
    M. A. Al-Habash, J. Opt. Soc. Am. A 16, 1417 (1999); Andrews & Phillips 2005, ch. 9). Tends to s
    in weak turbulence and to ~1 in the saturation regime.
    """
    check_choice("wave", wave, WAVES)
    s = check_nonnegative("rytov_variance", rytov)
    c1 = 1.11 if wave == "plane" else 0.56
    x = s**1.2  # (sigma_R^2)^(6/5) = sigma_R^(12/5)
    return math.expm1(0.49 * s / (1.0 + c1 * x) ** (7.0 / 6.0) + 0.51 * s / (1.0 + 0.69 * x) ** (5.0 / 6.0))


def _weak_aperture_scintillation(
    k: float, sec: float, diameter_m: float, profile: Profile, h0: float, h_top: float, wave: str
) -> float:
    """Weak-fluctuation scintillation index of a Gaussian-apodised aperture of diameter D:

    sigma_I^2(D) = C k^(7/6) sec(zeta) int C_n^2 Re[(k D^2 xi^2/16 - i x)^(5/6) - (k D^2 xi^2/16)^(5/6)] dh,

    with x = (h - h0) sec(zeta) xi, xi = 1 (plane) or (H - h)/(H - h0) (spherical). This is the
    Kolmogorov integral 8 pi^2 k^2 int dz int kappa Phi_n(kappa) exp(-kappa^2 D^2 xi^2/16)
    [1 - cos(kappa^2 x/k)] dkappa done in closed form over kappa (Andrews & Phillips 2005, ch. 10).
    """
    spherical = wave == "spherical"
    cos_5pi_12 = math.cos(5.0 * math.pi / 12.0)

    def weight(h: float) -> float:
        xi = (h_top - h) / (h_top - h0) if spherical else 1.0
        a = k * diameter_m**2 * xi * xi / 16.0
        x = (h - h0) * sec * xi
        if a == 0.0:
            return x ** (5.0 / 6.0) * cos_5pi_12
        # Re[(a - i x)^(5/6)] - a^(5/6) = a^(5/6) [(1 + u^2)^(5/12) cos(5/6 atan u) - 1], u = x/a, written
        # with expm1/log1p and 1 - cos = 2 sin^2 so that a >> x (large apertures) keeps its digits
        u = x / a
        theta = (5.0 / 6.0) * math.atan(u)
        return a ** (5.0 / 6.0) * (
            math.expm1((5.0 / 12.0) * math.log1p(u * u)) * math.cos(theta) - 2.0 * math.sin(0.5 * theta) ** 2
        )

    mu = path_integral(weight, profile=profile, station_altitude_m=h0, platform_altitude_m=h_top)
    return _KOLMOGOROV_SCINT * k ** (7.0 / 6.0) * sec * mu


def _weak_averaging_form(d2: float, wave: str) -> float:
    """Weak limit of the Andrews-Phillips aperture-averaged formulas: sigma_I^2(D)/sigma_R^2 at d^2."""
    c = 0.65 if wave == "plane" else 0.18
    return 0.49 / (1.0 + c * d2) ** (7.0 / 6.0) + 0.51 / (1.0 + 0.90 * d2)


def aperture_averaged_scintillation_index(
    wavelength_m: float,
    zenith_rad: float,
    aperture_radius_m: float,
    *,
    profile: Profile = HV57,
    station_altitude_m: float = 0.0,
    platform_altitude_m: float = math.inf,
    wave: str = "plane",
) -> float:
    """Scintillation index of the received power through a circular aperture of radius a, weak to strong.

    Andrews & Phillips (2005, ch. 10; also Andrews, Phillips & Hopen, *Laser Beam Scintillation with
    Applications*, SPIE 2001, ch. 6) give, for a horizontal path of length L and D = 2a,
    d^2 = k D^2 / (4 L), s = Rytov variance:

        plane:     sigma_I^2(D) = exp[0.49 s/(1 + 0.65 d^2 + 1.11 s^(6/5))^(7/6)
                                     + 0.51 s (1 + 0.69 s^(6/5))^(-5/6)/(1 + 0.90 d^2 + 0.62 d^2 s^(6/5))] - 1
        spherical: the same with 0.65 -> 0.18 and 1.11 -> 0.56.

    On a slant path the turbulence sits at the receiver's end, so the Fresnel zone that sets d is
    not sqrt(L/k) of the full range. qrate therefore computes the exact weak-fluctuation aperture
    averaging factor A = sigma_I^2(D)/sigma_I^2(0) of the actual profile (Gaussian-apodised
    aperture, closed form over kappa, quad over height), solves the weak limit of the formula above
    for the d_eff that reproduces A, and evaluates the weak-to-strong formula with s = the slant
    Rytov variance and d = d_eff. In weak turbulence (s << 1) the result is therefore the exact
    weak-fluctuation index of the actual profile; in strong turbulence it follows the
    Andrews-Phillips saturation behaviour. (For a uniform horizontal plane-wave path the exact
    weak factor agrees with the classic A = [1 + 1.062 d^2]^(-7/6) within 12 % for 1 <= d^2 <= 100.)
    The variance of the received power is sigma_I^2(D) times the squared mean.
    """
    check_choice("wave", wave, WAVES)
    k = _wavenumber(wavelength_m)
    sec = _sec(zenith_rad)
    radius = check_nonnegative("aperture_radius_m", aperture_radius_m)
    h0, h_top = _path(profile, station_altitude_m, platform_altitude_m, wave)
    s = rytov_variance(wavelength_m, zenith_rad, profile=profile, station_altitude_m=h0, platform_altitude_m=h_top, wave=wave)
    if s == 0.0:
        return 0.0
    d2 = 0.0
    if radius > 0.0:
        weak0 = _weak_aperture_scintillation(k, sec, 0.0, profile, h0, h_top, wave)
        ratio = _weak_aperture_scintillation(k, sec, 2.0 * radius, profile, h0, h_top, wave) / weak0
        if ratio < 1.0:
            hi = 1.0
            while _weak_averaging_form(hi, wave) > ratio:
                hi *= 10.0
            d2 = optimize.brentq(lambda x: _weak_averaging_form(x, wave) - ratio, 0.0, hi, xtol=1e-14, rtol=1e-12)
    c = 0.65 if wave == "plane" else 0.18
    c1 = 1.11 if wave == "plane" else 0.56
    x = s**1.2
    return math.expm1(
        0.49 * s / (1.0 + c * d2 + c1 * x) ** (7.0 / 6.0)
        + 0.51 * s * (1.0 + 0.69 * x) ** (-5.0 / 6.0) / (1.0 + 0.90 * d2 + 0.62 * d2 * x)
    )


def slant_beam_wander_variance_m2(
    zenith_rad: float,
    waist_m: float,
    *,
    profile: Profile = HV57,
    station_altitude_m: float = 0.0,
    platform_altitude_m: float = math.inf,
) -> float:
    """Per-axis beam-centroid variance sigma^2 (m^2) of a downlink from turbulence, weak fluctuations:

    <r_c^2> = 2 sigma^2 = 7.25 sec^3(zeta) W0^(-1/3) int_{h0}^{H} C_n^2(h) (h - h0)^2 dh

    for a collimated transmitted beam of waist W0 (Andrews & Phillips 2005, ch. 12, with the lever
    arm (h - h0) from each layer to the receiver; for a horizontal uniform path it is their
    <r_c^2> = 2.42 C_n^2 L^3 W0^(-1/3)). Because C_n^2 falls by orders of magnitude in the first
    kilometres, a 30 km UAV link at C_n^2(0) = 1e-14 wanders by centimetres, not metres.
    """
    sec = _sec(zenith_rad)
    w0 = check_positive("waist_m", waist_m)
    h0 = check_nonnegative("station_altitude_m", station_altitude_m)
    mu = path_integral(lambda h: (h - h0) ** 2, profile=profile, station_altitude_m=h0, platform_altitude_m=platform_altitude_m)
    return 0.5 * 7.25 * sec**3 * w0 ** (-1.0 / 3.0) * mu


def long_term_beam_radius_m(
    wavelength_m: float,
    zenith_rad: float,
    beam_radius_m: float,
    *,
    platform_altitude_m: float,
    profile: Profile = HV57,
    station_altitude_m: float = 0.0,
) -> float:
    """Long-term (turbulence-broadened) 1/e^2 radius W_LT (m) of a downlink beam at the station:

    W_LT^2 = W^2 [1 + 4.35 mu_2d Lambda^(5/6) k^(7/6) (H - h0)^(5/6) sec^(11/6)(zeta)],
    mu_2d = int C_n^2(h) ((h - h0)/(H - h0))^(5/3) dh,  Lambda = 2 L / (k W^2),  L = (H - h0) sec(zeta),

    with W the diffraction-limited radius at the receiver (Andrews & Phillips 2005, ch. 12, downlink,
    weak fluctuations). For a LEO downlink the broadening costs < 0.01 dB; it includes beam
    wander, so do not add :func:`slant_beam_wander_variance_m2` to the same mean.
    """
    k = _wavenumber(wavelength_m)
    sec = _sec(zenith_rad)
    w = check_positive("beam_radius_m", beam_radius_m)
    h0 = check_nonnegative("station_altitude_m", station_altitude_m)
    h_top = check_real("platform_altitude_m", platform_altitude_m, lo=h0, lo_open=True)
    span = h_top - h0
    mu = path_integral(
        lambda h: ((h - h0) / span) ** (5.0 / 3.0), profile=profile, station_altitude_m=h0, platform_altitude_m=h_top
    )
    lam = 2.0 * span * sec / (k * w * w)
    return w * math.sqrt(1.0 + 4.35 * mu * lam ** (5.0 / 6.0) * k ** (7.0 / 6.0) * span ** (5.0 / 6.0) * sec ** (11.0 / 6.0))


@dataclass(frozen=True)
class SlantTurbulence:
    """Turbulence of one slant downlink (see the functions of the same names for formulas and units).

    Attributes:
        fried_parameter_m: r0 (plane wave).
        isoplanatic_angle_rad: theta0.
        rytov_variance: sigma_R^2 of the chosen wave.
        scintillation_index: point-receiver sigma_I^2, weak to strong.
        aperture_averaged_scintillation_index: sigma_I^2(D) of the receiver aperture; the variance of
            the log-normal fading factor (:func:`lognormal_fading`).
        beam_wander_variance_m2: per-axis centroid variance.
        long_term_beam_radius_m: W_LT at the receiver.
    """

    fried_parameter_m: float
    isoplanatic_angle_rad: float
    rytov_variance: float
    scintillation_index: float
    aperture_averaged_scintillation_index: float
    beam_wander_variance_m2: float
    long_term_beam_radius_m: float


def slant_turbulence(
    *,
    wavelength_m: float,
    zenith_rad: float,
    platform_altitude_m: float,
    waist_m: float,
    beam_radius_m: float,
    aperture_radius_m: float,
    profile: Profile = HV57,
    station_altitude_m: float = 0.0,
    wave: str = "plane",
) -> SlantTurbulence:
    """Every slant-path turbulence quantity of one downlink (platform at ``platform_altitude_m``, finite)."""
    h0, h_top = station_altitude_m, platform_altitude_m
    s = rytov_variance(wavelength_m, zenith_rad, wave=wave, profile=profile, station_altitude_m=h0, platform_altitude_m=h_top)
    return SlantTurbulence(
        fried_parameter_m=fried_parameter_m(
            wavelength_m, zenith_rad, profile=profile, station_altitude_m=h0, platform_altitude_m=h_top
        ),
        isoplanatic_angle_rad=isoplanatic_angle_rad(
            wavelength_m, zenith_rad, profile=profile, station_altitude_m=h0, platform_altitude_m=h_top
        ),
        rytov_variance=s,
        scintillation_index=scintillation_index(s, wave=wave),
        aperture_averaged_scintillation_index=aperture_averaged_scintillation_index(
            wavelength_m,
            zenith_rad,
            aperture_radius_m,
            wave=wave,
            profile=profile,
            station_altitude_m=h0,
            platform_altitude_m=h_top,
        ),
        beam_wander_variance_m2=slant_beam_wander_variance_m2(
            zenith_rad, waist_m, profile=profile, station_altitude_m=h0, platform_altitude_m=h_top
        ),
        long_term_beam_radius_m=long_term_beam_radius_m(
            wavelength_m, zenith_rad, beam_radius_m, profile=profile, station_altitude_m=h0, platform_altitude_m=h_top
        ),
    )


def lognormal_fading(scintillation_index: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` i.i.d. log-normal power fading factors I with <I> = 1 and Var I = ``scintillation_index``.

    I = exp(X), X ~ N(-s^2/2, s^2), s^2 = ln(1 + sigma_I^2): the weak-fluctuation log-normal model of
    irradiance (Andrews & Phillips 2005, ch. 5); multiply a mean transmittance by I, per shot or per
    coherence block. With sigma_I^2 = 0 it returns ones and draws nothing. Factors can exceed 1, so
    clip eta * I to [0, 1] only where eta is not small (clipping lowers the mean).
    """
    var = check_nonnegative("scintillation_index", scintillation_index)
    n = check_count("n", n)
    check_generator("rng", rng)
    if var == 0.0:
        return np.ones(n)
    s2 = math.log1p(var)
    return np.exp(math.sqrt(s2) * rng.standard_normal(n) - 0.5 * s2)
