"""``--rates physical``: what one QKD service delivers, from qrate's channel models.

A *demand unit* is the key rate of the reference fiber hop, one span of ``reference_span_km`` (80 km,
the paper's QKD node spacing) with transmittance η_ref = fiber_transmittance(80 km). Assumptions:

* Key rate ∝ mean channel transmittance (the linear, low-η regime of decoy-state BB84), so a service
  over a channel of mean transmittance η delivers η/η_ref demand units, capped at ``max_delivery``
  (= 1: a service's devices are clocked for one unit; a better channel does not buy more).
* Fiber: trusted relays every ``CostParams.relay_spacing_km`` on each link (the physical meaning of the
  80 km spacing); a link of ℓ km is cut into ⌈ℓ/spacing⌉ equal spans and key relaying makes the
  path as fast as its longest span: η = fiber_transmittance(max span).
* The free-space links are those of two presets, loaded by the scenario loader (``leo_preset``,
  ``uav_preset``; default the realistic Micius-class LEO downlink and UAV terminal): each preset's
  first free-space link, with its hardware, and its platform's altitude.
* Satellite: one trusted-node LEO satellite at the LEO preset's altitude above the midpoint of s and d,
  whose ground distance is taken as the shortest fiber distance L_sp (no coordinates exist for USNET);
  both downlinks are identical at the midpoint: η = mean_transmittance(link_budget(leo, midpoint_geometry)).
  Pairs beyond the horizon (L_sp > 2 R_E arccos(R_E/(R_E+H))) cannot be served by satellite (rate 0).
* UAV chain: trusted UAVs every ``CostParams.uav_spacing_km``; each hop is modelled as a UAV at
  the UAV preset's altitude above the midpoint of two points one spacing apart (``midpoint_geometry``);
  the chain is as fast as one hop.
* The demand units needed per scenario are unchanged (Poisson); only delivery per service and hence
  the cost per demand unit (c/rate) respond to the physics. Satellite pass duty cycles, weather and
  on-demand capacity are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import networkx as nx
import numpy as np

from qrate.channels.fiber import fiber_transmittance
from qrate.channels.freespace import link_budget, mean_transmittance
from qrate.channels.link import FreeSpaceLink
from qrate.errors import BelowHorizonError, InputError
from qrate.geometry import midpoint_geometry
from qrate.provision.costs import CostParams
from qrate.provision.instance import Application
from qrate.provision.paths import Path
from qrate.provision.problem import Rates
from qrate.provision.topology import usnet

LEO_PRESET = "khan-acka-leo-realistic"
"""Preset whose first free-space link is the satellite service's downlink."""
UAV_PRESET = "khan-broadcast-uav-realistic"
"""Preset whose first free-space link is one hop of the UAV chain."""


@lru_cache(maxsize=8)
def preset_link(preset: str) -> tuple[FreeSpaceLink, float]:
    """``(link, platform altitude in km)`` of the first free-space link of ``preset`` (built by the scenario loader).

    Raises:
        InputError: the preset does not exist, or its platform is not placed by ``altitude_km``.
    """
    from qrate.scenario import load_scenario

    scenario = load_scenario(preset)
    name, spec = next(iter(scenario.free_space_links().items()))
    altitude_km = scenario.nodes.platforms[spec.platform].altitude_km
    if altitude_km is None:
        raise InputError(preset, f"links.{name}'s platform must be placed by altitude_km (the midpoint model)")
    return spec.link, altitude_km


@dataclass(frozen=True)
class PhysicalParams:
    """Channel hardware and geometry behind ``--rates physical``: the fiber, and the free-space links of
    the presets ``leo_preset`` and ``uav_preset`` (their links and platform altitudes)."""

    reference_span_km: float = 80.0
    loss_db_per_km: float = 0.18
    coupling: float = 0.9
    leo_preset: str = LEO_PRESET
    uav_preset: str = UAV_PRESET
    max_delivery: float = 1.0

    @property
    def leo(self) -> FreeSpaceLink:
        """The satellite downlink."""
        return preset_link(self.leo_preset)[0]

    @property
    def leo_altitude_km(self) -> float:
        """The satellite's altitude (km)."""
        return preset_link(self.leo_preset)[1]

    @property
    def uav(self) -> FreeSpaceLink:
        """One UAV hop's link."""
        return preset_link(self.uav_preset)[0]

    @property
    def uav_altitude_km(self) -> float:
        """The UAVs' altitude (km)."""
        return preset_link(self.uav_preset)[1]


def fiber_delivery(path: Path, costs: CostParams, p: PhysicalParams) -> float:
    """Demand units per fiber service on ``path`` (bottleneck span of the trusted-relay chain)."""
    spans = [x / math.ceil(x / costs.relay_spacing_km - 1e-12) for x in path.link_lengths_km]
    eta = fiber_transmittance(max(spans), loss_db_per_km=p.loss_db_per_km, coupling=p.coupling)
    return min(p.max_delivery, eta / _eta_ref(p))


def satellite_delivery(distance_km: float, p: PhysicalParams) -> float:
    """Demand units per satellite service between stations ``distance_km`` apart (0 below the horizon)."""
    try:
        geometry = midpoint_geometry(p.leo_altitude_km, distance_km)
    except BelowHorizonError:
        return 0.0
    return min(p.max_delivery, mean_transmittance(link_budget(p.leo, geometry)) / _eta_ref(p))


def uav_delivery(costs: CostParams, p: PhysicalParams) -> float:
    """Demand units per UAV-chain service (one hop of ``uav_spacing_km``)."""
    eta = mean_transmittance(link_budget(p.uav, midpoint_geometry(p.uav_altitude_km, costs.uav_spacing_km)))
    return min(p.max_delivery, eta / _eta_ref(p))


def _eta_ref(p: PhysicalParams) -> float:
    return fiber_transmittance(p.reference_span_km, loss_db_per_km=p.loss_db_per_km, coupling=p.coupling)


def physical_rates(
    paths: Sequence[Path],
    apps: Sequence[Application],
    *,
    costs: CostParams = CostParams(),
    params: PhysicalParams = PhysicalParams(),
    graph: nx.Graph | None = None,
) -> Rates:
    """Delivery per service for every (app, path) column and every app's satellite and UAV options."""
    g = usnet() if graph is None else graph
    fiber = np.array([fiber_delivery(path, costs, params) for path in paths])
    dist = [nx.dijkstra_path_length(g, a.src, a.dst, weight="length_km") for a in apps]
    sat = np.array([satellite_delivery(d, params) for d in dist])
    uav = np.full(len(apps), uav_delivery(costs, params))
    return Rates(fiber=fiber, satellite=sat, uav=uav)
