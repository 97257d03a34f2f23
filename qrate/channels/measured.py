"""Measured loss model: a table of channel loss (dB) versus slant range (km) or elevation (deg),
interpolated linearly in dB, with optional log-normal fading around it.

A measured table replaces the whole physical free-space model (beam, pointing, turbulence,
atmosphere, receiver optics) by what a real link delivered, e.g. the Micius downlink of
S.-K. Liao et al., Nature 549, 43 (2017), shipped as ``qrate/data/micius2017_downlink_loss.json``
(:func:`micius_2017_downlink`). Between table points the loss is linear in the abscissa (a power
law in transmittance, the natural form for exponential-type losses); outside the table it is an
error, never an extrapolation. Per-shot transmittances are eta = 10^(-L/10) I, with I the
mean-one log-normal factor of :func:`qrate.channels.turbulence.lognormal_fading` (variance = the
given scintillation index), clipped to [0, 1].
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from qrate.channels._checks import check_choice, check_count, check_generator, check_nonnegative, check_real
from qrate.channels.turbulence import lognormal_fading
from qrate.errors import InputError
from qrate.geometry import EARTH_RADIUS_KM, PlatformGeometry, ground_distance_at_elevation_km, platform_geometry

ABSCISSAE = ("slant_range_km", "elevation_deg")
_MICIUS_FILE = "micius2017_downlink_loss.json"


def _as_floats(field: str, values: Any) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise InputError(field, f"expected a list of numbers, got {values!r}")
    return tuple(check_real(f"{field}[{i}]", v) for i, v in enumerate(values))


@dataclass(frozen=True)
class MeasuredLoss:
    """Loss in dB tabulated against slant range or elevation.

    Attributes:
        abscissa: ``slant_range_km`` or ``elevation_deg``.
        points: abscissa values, strictly increasing (km or degrees).
        loss_db: loss at each point, finite and >= 0 dB.
        scintillation_index: variance of the mean-one log-normal fading factor (0: no fading).
        name: the field path used in error messages, e.g. ``links.leo.measured_loss``.
    """

    abscissa: str
    points: tuple[float, ...]
    loss_db: tuple[float, ...]
    scintillation_index: float = 0.0
    name: str = "measured_loss"

    def __post_init__(self) -> None:
        check_choice(f"{self.name}.abscissa", self.abscissa, ABSCISSAE)
        field = f"{self.name}.{self.abscissa}"
        points = _as_floats(field, self.points)
        loss = _as_floats(f"{self.name}.loss_db", self.loss_db)
        if len(points) < 2:
            raise InputError(field, f"a loss table needs at least 2 points, got {len(points)}")
        if len(loss) != len(points):
            raise InputError(
                f"{self.name}.loss_db", f"expected {len(points)} values (one per {self.abscissa} point), got {len(loss)}"
            )
        for i, (a, b) in enumerate(itertools.pairwise(points)):
            if not b > a:
                raise InputError(field, f"must be strictly increasing; point {i + 1} ({b:g}) follows {a:g}")
        for i, value in enumerate(loss):
            if value < 0.0:
                raise InputError(f"{self.name}.loss_db[{i}]", f"a loss must be >= 0 dB, got {value:g}")
        if self.abscissa == "elevation_deg" and (points[0] < 0.0 or points[-1] > 90.0):
            raise InputError(field, f"elevations must lie in [0, 90] degrees, got {points[0]:g}..{points[-1]:g}")
        if self.abscissa == "slant_range_km" and points[0] < 0.0:
            raise InputError(field, f"slant ranges must be >= 0 km, got {points[0]:g}")
        check_nonnegative(f"{self.name}.scintillation_index", self.scintillation_index)
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "loss_db", loss)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, name: str = "measured_loss") -> MeasuredLoss:
        """Build from ``{"slant_range_km" | "elevation_deg": [...], "loss_db": [...], "scintillation_index": s}``."""
        present = [key for key in ABSCISSAE if key in data]
        if len(present) != 1:
            raise InputError(f"{name}.slant_range_km/elevation_deg", "give exactly one abscissa: slant_range_km or elevation_deg")
        if "loss_db" not in data:
            raise InputError(f"{name}.loss_db", "missing")
        unknown = sorted(set(data) - {*ABSCISSAE, "loss_db", "scintillation_index"})
        if unknown:
            raise InputError(f"{name}.{unknown[0]}", "unknown key")
        return cls(present[0], data[present[0]], data["loss_db"], data.get("scintillation_index", 0.0), name)

    def _abscissa_of(self, geometry: PlatformGeometry) -> float:
        return geometry.slant_range_km if self.abscissa == "slant_range_km" else geometry.elevation_deg

    def loss_db_at(self, x: float) -> float:
        """Loss (dB) at abscissa ``x`` (km or degrees), linear between table points.

        Raises:
            InputError: ``x`` outside the table.
        """
        x = check_real(self.abscissa, x)
        lo, hi = self.points[0], self.points[-1]
        if not lo <= x <= hi:
            raise InputError(
                self.abscissa, f"{x:g} lies outside the measured table {self.name} ({lo:g}..{hi:g}); no extrapolation"
            )
        return float(np.interp(x, self.points, self.loss_db))

    def mean_transmittance_at(self, x: float) -> float:
        """Mean transmittance 10^(-L(x)/10)."""
        return 10.0 ** (-self.loss_db_at(x) / 10.0)

    def loss_db_for(self, geometry: PlatformGeometry) -> float:
        """Loss (dB) at a geometry (its slant range or elevation)."""
        return self.loss_db_at(self._abscissa_of(geometry))

    def mean_transmittance(self, geometry: PlatformGeometry) -> float:
        """Mean transmittance at a geometry."""
        return self.mean_transmittance_at(self._abscissa_of(geometry))

    def sample_transmittance(self, geometry: PlatformGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` per-shot transmittances: mean x log-normal factor (mean 1, variance = scintillation index), clipped to [0, 1]."""
        n = check_count("n", n)
        check_generator("rng", rng)
        mean = self.mean_transmittance(geometry)
        return np.clip(mean * lognormal_fading(self.scintillation_index, n, rng), 0.0, 1.0)


def geometry_at_slant_range(altitude_km: float, slant_range_km: float) -> PlatformGeometry:
    """Geometry of a platform at ``altitude_km`` seen at slant range ``slant_range_km`` (spherical Earth).

    The Earth-central angle follows from the law of cosines,
    cos(alpha) = (R^2 + (R + H)^2 - L^2) / (2 R (R + H)), and the geometry from
    :func:`qrate.geometry.platform_geometry` at the ground offset R alpha.

    Raises:
        InputError: L < H or L beyond the horizon range sqrt((R + H)^2 - R^2).
    """
    h = check_real("altitude_km", altitude_km, lo=0.0, lo_open=True)
    r = EARTH_RADIUS_KM
    horizon = math.sqrt((r + h) ** 2 - r * r)
    length = check_real("slant_range_km", slant_range_km, lo=h, hi=horizon, hi_open=True)
    cos_alpha = (r * r + (r + h) ** 2 - length * length) / (2.0 * r * (r + h))
    alpha = math.acos(min(1.0, cos_alpha))
    return platform_geometry(h, r * alpha)


def geometry_at_elevation(altitude_km: float, elevation_deg: float) -> PlatformGeometry:
    """Geometry of a platform at ``altitude_km`` seen at ``elevation_deg`` (in (0, 90])."""
    elevation = check_real("elevation_deg", elevation_deg, lo=0.0, hi=90.0, lo_open=True)
    return platform_geometry(altitude_km, 0.5 * ground_distance_at_elevation_km(altitude_km, elevation))


def micius_2017_downlink(*, scintillation_index: float = 0.0, name: str = "micius_2017") -> MeasuredLoss:
    """The measured Micius-Xinglong downlink loss versus slant range (Liao et al. 2017; 645-1200 km,
    29.8-40.3 dB, excluding the 50 % detector efficiency), from ``qrate/data/micius2017_downlink_loss.json``."""
    data = json.loads(resources.files("qrate").joinpath("data", _MICIUS_FILE).read_text(encoding="utf-8"))
    return MeasuredLoss("slant_range_km", data["slant_range_km"], data["loss_db"], scintillation_index, name)
