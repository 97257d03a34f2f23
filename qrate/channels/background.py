"""Sky background light: spectral radiance, photons and click probability per detector gate, and
the QBER of clicks diluted by noise.

Photons per gate collected from a sky of spectral radiance H_b (W m^-2 sr^-1 nm^-1) through a
receiver of aperture area A (m^2), field of view Omega (sr), filter bandwidth d_lambda (nm), gate
d_t (s) and receiver efficiency eta_rx (optics x detector):

    n_b = H_b * Omega * A * d_lambda * d_t * eta_rx * lambda / (h c)

and, for Poisson light, the probability that the gate sees at least one: p_b = 1 - exp(-n_b)
(the standard link-budget treatment, e.g. M. Gruneisen et al., Phys. Rev. Applied 16, 014067
(2021); C. Bonato et al., New J. Phys. 11, 045017 (2009)). The field of view is given either as
the **full** plane angle theta_fov of a cone (Omega = 2 pi (1 - cos(theta_fov/2)) ~ pi theta_fov^2/4)
or directly as a solid angle; a receiver that couples into one spatial mode (single-mode fibre)
collects the etendue A Omega = lambda^2 whatever its aperture (antenna theorem: A. E. Siegman,
Appl. Opt. 5, 1588 (1966)), see :func:`single_mode_solid_angle_sr`.

Default sky radiances (:data:`SKY_RADIANCE_W_M2_SR_NM`), zenith, clear sky:

| sky | 700-900 nm | 1450-1800 nm |
|---|---|---|
| ``night`` (dark site, new moon) | 6e-9 | 8e-8 |
| ``moonlit`` (full moon 45 degrees away) | 3e-8 | 8e-8 |
| ``day`` (clear, away from the Sun) | 3e-2 | 3e-3 |

* night: the ESO SkyCalc sky model (Noll et al., A&A 543, A92 (2012); Jones et al., A&A 560, A91
  (2013)) gives I = 19.74 and H = 14.42 mag/arcsec^2 (Vega) at a dark site, new moon, zenith;
  times the Vega zero points f_lambda(I) = 1.126e-11 and f_lambda(H) = 1.138e-12 W m^-2 nm^-1
  (Bessell, Castelli & Plez, A&A 333, 231 (1998)) and 4.2545e10 arcsec^2/sr: 6.1e-9 and 8.3e-8;
* moonlit: the same model with the full moon 45 degrees away, I = 17.95, H = 14.40: 3.2e-8, 8.4e-8;
* day: the hemispheric mean radiance of the clear diffuse sky, (global tilted - direct normal x
  cos i)/pi from the ASTM G173-03 reference spectra, 0.026-0.032 at 810 nm and 0.0024-0.0040 at
  1550 nm (the sky near the Sun is brighter).

The night values are for a dark observatory site; light-polluted sites are one to two orders of
magnitude brighter. Pass a measured radiance (``radiance_w_m2_sr_nm``) for anything else.

Twilight (:func:`twilight_radiance_w_m2_sr_nm`, :func:`sky_state`): between sunset (Sun elevation
h = 0) and the end of astronomical twilight (h = -18 deg) the moonless sky dims by about seven
decades (Isaac Newton Group, "Twilight sky brightness", INT WFC measurements 2010-2011: a factor
~1e7 between day and astronomical night, log10 B falling linearly with time, 0.103 dex per minute,
the same in every band from U to Z). qrate interpolates log10 H_b linearly in h between the day
value at h = 0 and the night value at h = -18 deg (0.39 dex per degree). The sky state is ``day``
(h > 0), ``civil_twilight`` (-6 < h <= 0), ``nautical_twilight`` (-12 < h <= -6),
``astronomical_twilight`` (-18 < h <= -12) or ``night`` (h <= -18); a fixed twilight ``sky`` takes
the radiance at the middle of its band (h = -3, -9, -15 deg).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qrate.channels._checks import check_choice, check_nonnegative, check_positive, check_probability
from qrate.errors import InputError

SKY_CONDITIONS = ("night", "moonlit", "day", "civil_twilight", "nautical_twilight", "astronomical_twilight")
#: twilight bands (upper Sun elevation, lower Sun elevation, deg) and the elevation a fixed twilight sky stands for
TWILIGHT_BANDS_DEG: dict[str, tuple[float, float, float]] = {
    "civil_twilight": (0.0, -6.0, -3.0),
    "nautical_twilight": (-6.0, -12.0, -9.0),
    "astronomical_twilight": (-12.0, -18.0, -15.0),
}
#: the Sun elevation (deg) above which the sky is ``day`` and at or below which it is ``night``
DAY_ABOVE_DEG, NIGHT_AT_OR_BELOW_DEG = 0.0, -18.0
#: sky spectral radiance H_b (W m^-2 sr^-1 nm^-1): {sky: {(band low nm, band high nm): H_b}}
SKY_RADIANCE_W_M2_SR_NM: dict[str, dict[tuple[float, float], float]] = {
    "night": {(700.0, 900.0): 6e-9, (1450.0, 1800.0): 8e-8},
    "moonlit": {(700.0, 900.0): 3e-8, (1450.0, 1800.0): 8e-8},
    "day": {(700.0, 900.0): 3e-2, (1450.0, 1800.0): 3e-3},
}
#: random outcome of a noise click: it agrees with the signal half of the time
NOISE_ERROR = 0.5


def sky_radiance_w_m2_sr_nm(sky: str, wavelength_m: float) -> float:
    """Default sky spectral radiance (W m^-2 sr^-1 nm^-1) for ``sky`` at ``wavelength_m`` (table above).

    Raises:
        InputError: unknown sky; a wavelength outside the 700-900 nm and 1450-1800 nm bands.
    """
    check_choice("sky", sky, SKY_CONDITIONS)
    if sky in TWILIGHT_BANDS_DEG:
        return twilight_radiance_w_m2_sr_nm(TWILIGHT_BANDS_DEG[sky][2], wavelength_m)
    wavelength_nm = 1e9 * check_positive("wavelength_m", wavelength_m)
    for (lo, hi), value in SKY_RADIANCE_W_M2_SR_NM[sky].items():
        if lo <= wavelength_nm <= hi:
            return value
    raise InputError(
        "wavelength_m",
        f"no default sky radiance at {wavelength_nm:g} nm (tabulated for 700-900 nm and 1450-1800 nm); "
        "give radiance_w_m2_sr_nm explicitly",
    )


def sky_state(sun_elevation_deg: float) -> str:
    """``day``, ``civil_twilight``, ``nautical_twilight``, ``astronomical_twilight`` or ``night`` at a Sun elevation (deg)."""
    h = float(sun_elevation_deg)
    if h > DAY_ABOVE_DEG:
        return "day"
    for name, (upper, lower, _) in TWILIGHT_BANDS_DEG.items():
        if lower < h <= upper:
            return name
    return "night"


def twilight_radiance_w_m2_sr_nm(sun_elevation_deg: float, wavelength_m: float) -> float:
    """Moonless sky radiance at a Sun elevation (deg): the day value above 0, the night value at or
    below -18 deg, log-linear in between (module doc)."""
    h = float(sun_elevation_deg)
    day = sky_radiance_w_m2_sr_nm("day", wavelength_m)
    night = sky_radiance_w_m2_sr_nm("night", wavelength_m)
    if h > DAY_ABOVE_DEG:
        return day
    if h <= NIGHT_AT_OR_BELOW_DEG:
        return night
    f = h / NIGHT_AT_OR_BELOW_DEG  # 0 at sunset, 1 at the end of astronomical twilight
    return 10.0 ** ((1.0 - f) * math.log10(day) + f * math.log10(night))


def fov_solid_angle_sr(fov_full_angle_rad: float) -> float:
    """Solid angle (sr) of a cone of **full** apex angle ``fov_full_angle_rad``: 2 pi (1 - cos(theta/2))."""
    theta = check_positive("fov_full_angle_rad", fov_full_angle_rad, hi=2.0 * math.pi)
    return 4.0 * math.pi * math.sin(0.25 * theta) ** 2


def single_mode_solid_angle_sr(wavelength_m: float, aperture_radius_m: float) -> float:
    """Solid angle (sr) of one spatial mode seen through an aperture of radius a: lambda^2 / (pi a^2)."""
    wavelength = check_positive("wavelength_m", wavelength_m)
    radius = check_positive("aperture_radius_m", aperture_radius_m)
    return wavelength**2 / (math.pi * radius**2)


def photon_energy_j(wavelength_m: float) -> float:
    """Energy h c / lambda (J) of one photon (CODATA constants from ``scipy.constants``)."""
    from scipy import constants

    return constants.h * constants.c / check_positive("wavelength_m", wavelength_m)


def background_photons_per_gate(
    *,
    radiance_w_m2_sr_nm: float,
    wavelength_m: float,
    solid_angle_sr: float,
    aperture_radius_m: float,
    filter_bandwidth_nm: float,
    gate_s: float,
    receiver_efficiency: float = 1.0,
) -> float:
    """Mean number of detected background photons per gate, n_b = H_b Omega pi a^2 d_lambda d_t eta_rx lambda/(h c)."""
    radiance = check_nonnegative("radiance_w_m2_sr_nm", radiance_w_m2_sr_nm)
    omega = check_nonnegative("solid_angle_sr", solid_angle_sr, hi=4.0 * math.pi)
    radius = check_nonnegative("aperture_radius_m", aperture_radius_m)
    bandwidth = check_nonnegative("filter_bandwidth_nm", filter_bandwidth_nm)
    gate = check_nonnegative("gate_s", gate_s)
    eta = check_probability("receiver_efficiency", receiver_efficiency)
    power_w = radiance * omega * math.pi * radius**2 * bandwidth
    return power_w * gate * eta / photon_energy_j(wavelength_m)


def click_probability_from_mean(mean_photons: float) -> float:
    """Probability 1 - exp(-n) that a Poisson number of mean ``mean_photons`` is at least one."""
    return -math.expm1(-check_nonnegative("mean_photons", mean_photons))


@dataclass(frozen=True)
class BackgroundSpec:
    """Sky background seen by one receiver.

    Attributes:
        sky: ``night``, ``moonlit``, ``day`` (the default radiance of :data:`SKY_RADIANCE_W_M2_SR_NM`) or a
            twilight band (``civil_twilight``, ``nautical_twilight``, ``astronomical_twilight``).
        radiance_w_m2_sr_nm: explicit sky spectral radiance; overrides ``sky``.
        fov_full_angle_rad: full (apex) angle of the receiver's field of view.
        fov_solid_angle_sr: the field of view as a solid angle instead (give exactly one of the two).
        filter_bandwidth_nm: spectral filter bandwidth.
        gate_s: detection gate or coincidence window per pulse.
        receiver_efficiency: optics x detector efficiency applied to background photons.
        click_probability: explicit background click probability per gate; overrides everything else.
    """

    sky: str = "night"
    radiance_w_m2_sr_nm: float | None = None
    fov_full_angle_rad: float | None = None
    fov_solid_angle_sr: float | None = None
    filter_bandwidth_nm: float = 1.0
    gate_s: float = 1e-9
    receiver_efficiency: float = 1.0
    click_probability: float | None = None

    def __post_init__(self) -> None:
        if self.click_probability is not None:
            check_probability("click_probability", self.click_probability)
            return
        check_choice("sky", self.sky, SKY_CONDITIONS)
        if self.radiance_w_m2_sr_nm is not None:
            check_nonnegative("radiance_w_m2_sr_nm", self.radiance_w_m2_sr_nm)
        if (self.fov_full_angle_rad is None) == (self.fov_solid_angle_sr is None):
            raise InputError(
                "fov_full_angle_rad/fov_solid_angle_sr", "give exactly one of the field of view as a full angle or a solid angle"
            )
        if self.fov_full_angle_rad is not None:
            fov_solid_angle_sr(self.fov_full_angle_rad)
        else:
            check_nonnegative("fov_solid_angle_sr", self.fov_solid_angle_sr, hi=4.0 * math.pi)
        check_nonnegative("filter_bandwidth_nm", self.filter_bandwidth_nm)
        check_nonnegative("gate_s", self.gate_s)
        check_probability("receiver_efficiency", self.receiver_efficiency)

    def solid_angle_sr(self) -> float:
        """The field of view in sr."""
        if self.fov_solid_angle_sr is not None:
            return float(self.fov_solid_angle_sr)
        if self.fov_full_angle_rad is None:
            raise InputError("fov_full_angle_rad", "no field of view given")
        return fov_solid_angle_sr(self.fov_full_angle_rad)

    def radiance(self, wavelength_m: float) -> float:
        """Sky spectral radiance (W m^-2 sr^-1 nm^-1) used at ``wavelength_m``."""
        if self.radiance_w_m2_sr_nm is not None:
            return float(self.radiance_w_m2_sr_nm)
        return sky_radiance_w_m2_sr_nm(self.sky, wavelength_m)

    def photons_per_gate(self, wavelength_m: float, aperture_radius_m: float) -> float:
        """Mean detected background photons per gate (see :func:`background_photons_per_gate`)."""
        if self.click_probability is not None:
            return -math.log1p(-self.click_probability) if self.click_probability < 1.0 else math.inf
        return background_photons_per_gate(
            radiance_w_m2_sr_nm=self.radiance(wavelength_m),
            wavelength_m=wavelength_m,
            solid_angle_sr=self.solid_angle_sr(),
            aperture_radius_m=aperture_radius_m,
            filter_bandwidth_nm=self.filter_bandwidth_nm,
            gate_s=self.gate_s,
            receiver_efficiency=self.receiver_efficiency,
        )

    def click_probability_per_gate(self, wavelength_m: float, aperture_radius_m: float) -> float:
        """Background click probability per gate, 1 - exp(-n_b), or the explicit override."""
        if self.click_probability is not None:
            return float(self.click_probability)
        return click_probability_from_mean(self.photons_per_gate(wavelength_m, aperture_radius_m))


def noisy_qber(total_yield: float, noise_yield: float, intrinsic_error: float, noise_error: float = NOISE_ERROR) -> float:
    """QBER of clicks (or coincidences) of which a part is noise:

    e = [e0 Y0 + e_d (Y - Y0)] / Y,

    with Y the total yield (probability of a click or coincidence per gate), Y0 the part caused by
    noise (background, dark counts, afterpulses, accidentals), e_d the error of genuine signal
    events and e0 = 1/2 the error of a noise event, whose outcome is uniformly random (X. Ma,
    C.-H. F. Fung, H.-K. Lo, Phys. Rev. A 76, 012307 (2007); H.-K. Lo, X. Ma, K. Chen, Phys. Rev.
    Lett. 94, 230504 (2005)).

    Raises:
        InputError: Y <= 0, Y0 outside [0, Y], errors outside [0, 1].
    """
    y = check_positive("total_yield", total_yield, hi=1.0)
    y0 = check_nonnegative("noise_yield", noise_yield, hi=y)
    e_d = check_probability("intrinsic_error", intrinsic_error)
    e0 = check_probability("noise_error", noise_error)
    return (e0 * y0 + e_d * (y - y0)) / y


def accidental_fraction(signal_probability: float, noise_probability: float) -> float:
    """Fraction of clicks that are noise when a signal photon arrives and is detected with probability
    ``signal_probability`` and a noise click occurs independently with ``noise_probability``:

    r = (1 - eta) p_n / [eta + (1 - eta) p_n]

    (a noise click counts only when the signal was not detected; the fraction the engine uses for
    dark counts, see 'Dark counts' in qrate/MODELS.md).
    """
    eta = check_probability("signal_probability", signal_probability)
    p_n = check_probability("noise_probability", noise_probability)
    clicks = eta + (1.0 - eta) * p_n
    if clicks == 0.0:
        raise InputError("signal_probability", "no clicks at all: signal and noise probabilities are both 0")
    return (1.0 - eta) * p_n / clicks
