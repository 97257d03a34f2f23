"""``--rates physical``: delivery per service against closed forms, and the model's response."""

from __future__ import annotations

import math

import pytest

from qrate.provision.costs import CostParams
from qrate.provision.paths import Path
from qrate.provision.physical import PhysicalParams, fiber_delivery, satellite_delivery
from qrate.provision.study import ProvisionConfig, run_provision


def test_fiber_delivery_is_bottleneck_span() -> None:
    p = PhysicalParams()
    path = Path((1, 2, 3), (0, 1), (800.0, 250.0))
    assert fiber_delivery(path, CostParams(), p) == 1.0  # spans ≤ 80 km beat the 80 km reference
    sparse = CostParams(relay_spacing_km=200.0)  # spans 800/4 = 200 and 250/2 = 125 km
    assert fiber_delivery(path, sparse, p) == pytest.approx(10 ** (-0.018 * (200 - 80)))


def test_satellite_delivery_at_zenith_and_beyond_horizon() -> None:
    p = PhysicalParams()
    length_m, a = 500e3, 0.5
    w0 = 1.55e-6 / (math.pi * 10e-6)
    w2 = w0**2 + (10e-6 * length_m) ** 2
    sigma2 = (0.5e-6 * length_m) ** 2
    eta = 0.9 * (1 - math.exp(-2 * a * a / (w2 + 4 * sigma2)))
    assert satellite_delivery(0.0, p) == pytest.approx(eta / (0.9 * 10 ** (-0.018 * 80)), rel=1e-9)
    horizon = 2 * 6371.0 * math.acos(6371.0 / 6871.0)
    assert satellite_delivery(horizon + 50, p) == 0.0
    assert satellite_delivery(3000.0, p) < satellite_delivery(1000.0, p)


def test_physical_study_shifts_to_uav_and_reserves_more() -> None:
    base = ProvisionConfig(n_apps=40, seed=7, random_draws=3, oos_scenarios=0, uniform_x=())
    paper = run_provision(base)
    phys = run_provision(ProvisionConfig(n_apps=40, seed=7, random_draws=3, oos_scenarios=0, uniform_x=(), rates="physical"))
    assert phys["od_uav_apps"] == 40 > paper["od_uav_apps"]
    assert phys["sp_mean_reservation"] > paper["sp_mean_reservation"]
    assert phys["sp_total"] <= min(phys["evf_total"], phys["random_total"])
