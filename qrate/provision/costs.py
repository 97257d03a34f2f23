"""Cost model of Xu et al. (normalised monetary units) with its switches (see "Cost model" and "Provisioning
ambiguities and switches" in qrate/MODELS.md).

Per reserved fiber QKD service on path P (``relay_mode="endpoint"``, the default)::

    c^R(P) = Tx + Rx + e·(LKM + SI + MUX) + fiber_per_km · L(P)        e = equipment_ends (1 or 2)

(``equipment_ends=2``, one set at each end, gives 7050 + L(P)). With ``relay_mode="trusted"`` (a trusted relay
every ``relay_spacing_km``) every link is cut into
⌈ℓ/relay_spacing_km⌉ spans, each with its own Tx/Rx/2·MUX and one LKM+SI per node.

Per on-demand service between s and d: B = Tx + Rx + buffer + SI; satellite B + satellite, UAV chain
B + uav·⌈L/uav_spacing_km⌉ with L the shortest-path fiber distance (or the shortest fewest-hop path,
``uav_distance``); the cheaper one is bought.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qrate.errors import InputError

RELAY_MODES = ("endpoint", "trusted")
UAV_DISTANCES = ("shortest_path", "min_hop_path")


@dataclass(frozen=True, slots=True)
class CostParams:
    """Unit costs (normalised money) and the modelling switches that change them."""

    # reservation (first stage)
    tx: float = 1500.0
    rx: float = 2250.0
    lkm: float = 1200.0
    si: float = 150.0
    mux: float = 300.0
    fiber_per_km: float = 1.0  # per km of the reserved lightpath, per service ("Cost model" in qrate/MODELS.md)
    # on demand (second stage)
    od_tx: float = 6000.0
    od_rx: float = 9000.0
    od_buffer: float = 3000.0
    od_si: float = 500.0
    uav: float = 20.0
    satellite: float = 20000.0
    # switches
    relay_mode: str = "endpoint"  # or "trusted": a trusted relay every relay_spacing_km ("Cost model" in qrate/MODELS.md)
    equipment_ends: int = 2  # LKM/SI/MUX sets per service: one per end (2) or one (1)
    relay_spacing_km: float = 80.0  # with relay_mode = "trusted"
    uav_spacing_km: float = 1.0
    uav_distance: str = "shortest_path"  # UAV chain length: shortest fiber path, or "min_hop_path"

    def __post_init__(self) -> None:
        if self.relay_mode not in RELAY_MODES:
            raise InputError("relay_mode", f"expected one of {RELAY_MODES}, got {self.relay_mode!r}")
        if self.uav_distance not in UAV_DISTANCES:
            raise InputError("uav_distance", f"expected one of {UAV_DISTANCES}, got {self.uav_distance!r}")
        if self.equipment_ends not in (1, 2):
            raise InputError("equipment_ends", f"expected 1 or 2, got {self.equipment_ends}")
        for name in ("tx", "rx", "lkm", "si", "mux", "fiber_per_km", "od_tx", "od_rx", "od_buffer", "od_si", "uav", "satellite"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise InputError(name, f"expected a finite cost >= 0, got {v}")
        if not (self.relay_spacing_km > 0 and self.uav_spacing_km > 0):
            raise InputError("relay_spacing_km", "spacings must be > 0 km")

    # -- reservation -------------------------------------------------------------------------
    def endpoint_cost(self) -> float:
        """Per-service cost charged once per lightpath, independent of its links."""
        if self.relay_mode == "endpoint":
            return self.tx + self.rx + self.equipment_ends * (self.lkm + self.si + self.mux)
        return self.lkm + self.si

    def link_cost(self, length_km: float) -> float:
        """Per-service cost of one link of ``length_km`` on a reserved lightpath (kappa_ij)."""
        if self.relay_mode == "endpoint":
            return self.fiber_per_km * length_km
        spans = math.ceil(length_km / self.relay_spacing_km - 1e-12)
        return spans * (self.tx + self.rx + 2 * self.mux + self.lkm + self.si) + self.fiber_per_km * length_km

    def reservation_cost(self, link_lengths_km: list[float] | tuple[float, ...]) -> float:
        """c^R(P) of one fiber QKD service on a path with the given link lengths (km)."""
        return self.endpoint_cost() + sum(self.link_cost(x) for x in link_lengths_km)

    # -- on demand ---------------------------------------------------------------------------
    def ondemand_base(self) -> float:
        """B = Tx + Rx + key buffer + SI of one on-demand service."""
        return self.od_tx + self.od_rx + self.od_buffer + self.od_si

    def satellite_cost(self) -> float:
        """c^S of one satellite-based QKD service."""
        return self.ondemand_base() + self.satellite

    def uav_cost(self, distance_km: float) -> float:
        """c^U of one UAV-chain QKD service over ``distance_km`` (one UAV per ``uav_spacing_km``)."""
        return self.ondemand_base() + self.uav * math.ceil(distance_km / self.uav_spacing_km - 1e-12)
