"""The rate engine: per-point plans, per-batch heralding + Stim sampling, and the sweep loop."""

from __future__ import annotations

from qrate.engine.batch import Heralds, herald, herald_per_pulse, run_batch
from qrate.engine.plan import PointPlan, compile_protocol, describe_points, plan_point, plan_sweep
from qrate.engine.sweep import Limits, PointResult, PointTally, estimates_from_rows, point_estimates, run_sweep

__all__ = [
    "Heralds",
    "Limits",
    "PointPlan",
    "PointResult",
    "PointTally",
    "compile_protocol",
    "describe_points",
    "estimates_from_rows",
    "herald",
    "herald_per_pulse",
    "plan_point",
    "plan_sweep",
    "point_estimates",
    "run_batch",
    "run_sweep",
]
