"""Scenario presets shipped as package data (``qrate/presets/*.toml``)."""

from __future__ import annotations

import tomllib
from importlib import resources
from importlib.resources.abc import Traversable


def _folder() -> Traversable:
    return resources.files("qrate").joinpath("presets")


def preset_names() -> tuple[str, ...]:
    """Names of the shipped presets, sorted."""
    return tuple(sorted(p.name[: -len(".toml")] for p in _folder().iterdir() if p.name.endswith(".toml")))


def is_preset(name: str) -> bool:
    """Whether ``name`` is a shipped preset."""
    return name in preset_names()


def preset_text(name: str) -> str:
    """The TOML text of preset ``name`` (KeyError if there is none)."""
    if not is_preset(name):
        raise KeyError(name)
    return _folder().joinpath(f"{name}.toml").read_text(encoding="utf-8")


def preset_descriptions() -> dict[str, str]:
    """Preset name -> its ``description`` field."""
    return {name: str(tomllib.loads(preset_text(name)).get("description", "")) for name in preset_names()}
