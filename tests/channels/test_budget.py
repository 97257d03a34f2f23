"""Loss budget: factors add up to the engine's mean transmittance; Micius downlink calibration."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qrate.channels.atmosphere import slant_transmittance
from qrate.channels.budget import FACTORS, loss_budget_db
from qrate.channels.freespace import FreeSpaceLink, link_budget, mean_transmittance
from qrate.channels.measured import geometry_at_slant_range, micius_2017_downlink
from qrate.channels.turbulence import HV57
from qrate.errors import InputError
from qrate.geometry import midpoint_geometry

LINKS = [
    (
        {
            "divergence_rad": 5e-6,
            "pointing_rad": 5e-7,
            "aperture_radius_m": 1.0,
            "beam": "far_field",
            "model": "weibull",
            "t_atm_zenith": 0.8,
        },
        450.0,
        1000.0,
    ),
    (
        {
            "divergence_rad": 5e-6,
            "pointing_rad": 1e-6,
            "aperture_radius_m": 0.5,
            "model": "exact",
            "cn2": 1e-14,
            "turbulence_path": "last_10km",
        },
        450.0,
        500.0,
    ),
    ({"divergence_rad": 1e-6, "pointing_rad": 2e-6, "aperture_radius_m": 0.3, "model": "exact", "cn2": 1e-15}, 30.0, 150.0),
    ({"divergence_rad": 20e-6, "pointing_rad": 0.0, "aperture_radius_m": 0.6, "model": "weibull", "cn2": 0.0}, 500.0, 0.0),
]


@pytest.mark.parametrize(("kw", "altitude_km", "distance_km"), LINKS)
def test_factors_multiply_to_the_engine_mean(kw: dict, altitude_km: float, distance_km: float) -> None:
    link = FreeSpaceLink(**kw)
    geo = midpoint_geometry(altitude_km, distance_km)
    b = loss_budget_db(link, geo, transmitter_efficiency=0.8, receiver_efficiency=0.25, extra_loss_db=1.5)
    expected = mean_transmittance(link_budget(link, geo)) * 0.8 * 0.25 * 10**-0.15
    assert b.transmittance == pytest.approx(expected, rel=1e-9)
    assert b.total_db == pytest.approx(sum(b.as_dict()[f] for f in FACTORS), rel=1e-12)
    assert b.transmitter_db == pytest.approx(-10 * math.log10(0.8))
    assert b.receiver_db == pytest.approx(-10 * math.log10(0.25))
    lb = link_budget(link, geo)
    assert b.diffraction_db == pytest.approx(
        -10 * math.log10(1 - math.exp(-2 * link.aperture_radius_m**2 / lb.beam_radius_m**2)), rel=1e-12
    )
    assert b.atmosphere_db == pytest.approx(-10 * math.log10(lb.t_atm), abs=1e-12)
    assert min(b.as_dict().values()) >= 0.0
    if kw["cn2"] == 0.0 if "cn2" in kw else True:
        assert b.turbulence_db == 0.0


def test_pointing_factor_of_the_exact_model_is_the_long_term_beam_ratio() -> None:
    link = FreeSpaceLink(divergence_rad=10e-6, pointing_rad=2e-6, aperture_radius_m=0.5, wavelength_m=850e-9, model="exact")
    geo = midpoint_geometry(500.0, 800.0)
    b = loss_budget_db(link, geo)
    w, s, a = link_budget(link, geo).beam_radius_m, 2e-6 * 1e3 * geo.slant_range_km, 0.5
    ratio = (1 - math.exp(-2 * a * a / (w * w + 4 * s * s))) / (1 - math.exp(-2 * a * a / (w * w)))
    assert b.pointing_db == pytest.approx(-10 * math.log10(ratio), rel=1e-12)


def test_aerosol_model_and_slant_turbulence_profile() -> None:
    link = FreeSpaceLink(divergence_rad=10e-6, pointing_rad=0.5e-6, aperture_radius_m=0.5, wavelength_m=850e-9, model="exact")
    geo = geometry_at_slant_range(500.0, 1000.0)
    b = loss_budget_db(link, geo, aerosol_model="rural_23km", turbulence_profile=HV57)
    assert b.atmosphere_db == pytest.approx(
        -10 * math.log10(slant_transmittance(850e-9, geo.zenith_rad, "rural_23km")), rel=1e-12
    )
    assert 0.0 < b.turbulence_db < 0.01  # LEO downlinks: turbulence broadening is negligible
    with pytest.raises(InputError) as info:
        loss_budget_db(
            FreeSpaceLink(divergence_rad=1e-5, pointing_rad=0.0, aperture_radius_m=0.5, t_atm_zenith=0.9),
            geo,
            aerosol_model="rural_5km",
        )
    assert info.value.field == "aerosol_model"
    with pytest.raises(InputError) as info:
        loss_budget_db(
            FreeSpaceLink(divergence_rad=1e-5, pointing_rad=0.0, aperture_radius_m=0.5, cn2=1e-15), geo, turbulence_profile=HV57
        )
    assert info.value.field == "turbulence_profile"
    for field, kw in [
        ("receiver_efficiency", {"receiver_efficiency": 0.0}),
        ("transmitter_efficiency", {"transmitter_efficiency": -0.5}),
        ("extra_loss_db", {"extra_loss_db": -1.0}),
    ]:
        with pytest.raises(InputError) as info:
            loss_budget_db(link, geo, **kw)
        assert info.value.field == field


def micius_fit() -> tuple[float, float, np.ndarray]:
    """Fit one receiver efficiency (dB offset) of qrate's downlink model to the Liao et al. (2017) losses.

    Model: Gaussian beam theta = 10 urad (1/e^2 half-angle), 850 nm, 0.5 urad pointing, 0.5 m receiver
    radius, LOWTRAN7 rural 23 km atmosphere at each point's elevation (500 km orbit), exact model.
    Returns (rms dB, fitted receiver efficiency, residuals).
    """
    measured = micius_2017_downlink()
    link = FreeSpaceLink(
        divergence_rad=10e-6, pointing_rad=0.5e-6, aperture_radius_m=0.5, wavelength_m=850e-9, beam="gaussian", model="exact"
    )
    model = np.array(
        [loss_budget_db(link, geometry_at_slant_range(500.0, L), aerosol_model="rural_23km").total_db for L in measured.points]
    )
    data = np.array(measured.loss_db)
    offset = float(np.mean(data - model))  # least squares in dB for one multiplicative efficiency
    residuals = data - model - offset
    return float(np.sqrt(np.mean(residuals**2))), 10 ** (-offset / 10), residuals


def test_micius_downlink_losses_are_reproduced_within_1p5_db_rms() -> None:
    rms, efficiency, residuals = micius_fit()
    assert rms < 1.5
    assert 0.05 < efficiency < 0.3  # receiver optics + coupling, ~ -9 dB
    assert rms == pytest.approx(1.156, abs=0.01)
    assert efficiency == pytest.approx(0.1205, abs=0.001)
    assert np.abs(residuals).max() < 3.6
