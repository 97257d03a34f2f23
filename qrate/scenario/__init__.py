"""Scenarios: pydantic schema, TOML loading with ``--set`` overrides, and shipped presets."""

from __future__ import annotations

from qrate.scenario.load import (
    apply_overrides,
    load_scenario,
    load_scenario_text,
    read_source,
    scenario_to_toml,
    validate_data,
)
from qrate.scenario.presets import preset_descriptions, preset_names, preset_text
from qrate.scenario.schema import FiberLinks, FreeSpaceLinkSpec, Scenario

__all__ = [
    "FiberLinks",
    "FreeSpaceLinkSpec",
    "Scenario",
    "apply_overrides",
    "load_scenario",
    "load_scenario_text",
    "preset_descriptions",
    "preset_names",
    "preset_text",
    "read_source",
    "scenario_to_toml",
    "validate_data",
]
