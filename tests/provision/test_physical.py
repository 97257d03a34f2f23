"""``--rates physical``: delivery per service against closed forms, and the model's response."""

from __future__ import annotations

import math

import pytest

from qrate.provision.costs import CostParams
from qrate.provision.paths import Path
from qrate.channels.atmosphere import slant_transmittance
from qrate.channels.freespace import link_budget
from qrate.geometry import midpoint_geometry
from qrate.provision.physical import PhysicalParams, fiber_delivery, preset_link, satellite_delivery
from qrate.provision.study import ProvisionConfig, run_provision


def test_fiber_delivery_is_bottleneck_span() -> None:
    p = PhysicalParams()
    path = Path((1, 2, 3), (0, 1), (800.0, 250.0))
    assert fiber_delivery(path, CostParams(), p) == 1.0  # spans ≤ 80 km beat the 80 km reference
    sparse = CostParams(relay_spacing_km=200.0)  # spans 800/4 = 200 and 250/2 = 125 km
    assert fiber_delivery(path, sparse, p) == pytest.approx(10 ** (-0.018 * (200 - 80)))


def test_satellite_delivery_at_zenith_and_beyond_horizon() -> None:
    p = PhysicalParams()
    link, altitude_km = preset_link("khan-acka-leo-realistic")  # the satellite service's link is the preset's
    assert p.leo == link and p.leo_altitude_km == altitude_km == 450.0
    length_m, a, theta = 1e3 * altitude_km, link.aperture_radius_m, link.divergence_rad
    assert link.beam == "far_field" and link.model == "exact"
    w2 = (theta * length_m) ** 2
    sigma2 = link_budget(link, midpoint_geometry(altitude_km, 0.0)).sigma_m ** 2  # pointing and HV beam wander
    assert sigma2 > (link.pointing_rad * length_m) ** 2
    t_atm = slant_transmittance(link.wavelength_m, 0.0, link.aerosol_model)
    hardware = link.transmitter_efficiency * link.receiver_efficiency * 10 ** (-link.extra_loss_db / 10)
    eta = t_atm * hardware * (1 - math.exp(-2 * a * a / (w2 + 4 * sigma2)))
    assert satellite_delivery(0.0, p) == pytest.approx(eta / (0.9 * 10 ** (-0.018 * 80)), rel=1e-9)
    horizon = 2 * 6371.0 * math.acos(6371.0 / (6371.0 + altitude_km))
    assert satellite_delivery(horizon + 50, p) == 0.0
    assert satellite_delivery(3000.0, p) < satellite_delivery(1000.0, p)


def test_physical_study_shifts_to_uav_and_reserves_more() -> None:
    base = ProvisionConfig(n_apps=40, seed=7, random_draws=3, oos_scenarios=0, uniform_x=())
    paper = run_provision(base)
    phys = run_provision(ProvisionConfig(n_apps=40, seed=7, random_draws=3, oos_scenarios=0, uniform_x=(), rates="physical"))
    assert phys["od_uav_apps"] == 40 > paper["od_uav_apps"]
    assert phys["sp_mean_reservation"] > paper["sp_mean_reservation"]
    assert phys["sp_total"] <= min(phys["evf_total"], phys["random_total"])
