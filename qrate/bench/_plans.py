"""The scenarios the suite measures: both presets at D = 0 and at the far end, and 70 dB GHZ-4."""

from __future__ import annotations

import math
from collections.abc import Sequence

from qrate.engine import PointPlan, plan_sweep
from qrate.scenario import Scenario, load_scenario

LEO, UAV = "khan-acka-leo", "khan-broadcast-uav"


def preset_plan(preset: str, distance_km: float, overrides: Sequence[str] = ()) -> tuple[Scenario, PointPlan]:
    """Scenario and plan of ``preset`` at one ground distance (km)."""
    s = load_scenario(preset, [f"sweep.ground_distance_km=[{distance_km!r}]", *overrides])
    return s, plan_sweep(s)[0]


def far_end_km(preset: str) -> float:
    """Last ground distance (km) of the preset's own sweep."""
    return float(load_scenario(preset, []).sweep.distances_km()[-1])


def loss_db(plan: PointPlan) -> float:
    """Total heralding loss of a point, -10 log10(mean success probability per pulse)."""
    return -10.0 * math.log10(plan.p_success_expected)


def ghz4_plan(total_loss_db: float = 70.0, coherence_time_s: float = 0.0) -> tuple[Scenario, PointPlan]:
    """Khan's Q-ACKA (GHZ-4 at GS1) with ``total_loss_db`` set through the downlinks' atmospheric transmittance."""
    _, base = preset_plan(LEO, 0.0)
    t_atm = math.sqrt(10 ** (-total_loss_db / 10) / base.p_success_expected)
    extra = [f"links.leo.t_atm_zenith={t_atm!r}", f"links.leo.coherence_time_s={coherence_time_s!r}"]
    return preset_plan(LEO, 0.0, extra)
