"""The rate engine: per-point plans (geometry, link budgets, heralding, noise) and one batch at a point."""

from __future__ import annotations

from qrate.engine.batch import Heralds, herald, herald_per_pulse, run_batch
from qrate.engine.grid import describe_points, plan_sweep
from qrate.engine.plan import PointPlan, compile_protocol, plan_point, protocol_of

__all__ = [
    "Heralds",
    "PointPlan",
    "compile_protocol",
    "describe_points",
    "herald",
    "herald_per_pulse",
    "plan_point",
    "plan_sweep",
    "protocol_of",
    "run_batch",
]
