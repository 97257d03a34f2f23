"""Legend labels from what differs between the scenarios of several results files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: scenario fields that never make a curve label (text, not physics)
IGNORED = ("description",)
#: fields that describe how much was sampled, used only when nothing physical differs
SAMPLING_PREFIX = "sampling."


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mapping -> ``{"links.leo.aperture_radius_m": 3.0, ...}`` (lists kept as values)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _short(key: str, keys: Sequence[str]) -> str:
    """Shortest dotted suffix of ``key`` that no other key in ``keys`` ends with."""
    parts = key.split(".")
    for n in range(1, len(parts) + 1):
        tail = ".".join(parts[-n:])
        if not any(k != key and (k == tail or k.endswith("." + tail)) for k in keys):
            return tail
    return key


def variant_labels(scenarios: Sequence[Mapping[str, Any]]) -> tuple[str | None, list[str]]:
    """``(legend title, one label per scenario)`` naming the fields in which the scenarios differ.

    ``scenarios`` are nested dicts (``Scenario.model_dump(mode="json")``). Physical fields are
    preferred; sampling fields (and the seed) are used only if nothing else differs. A single
    differing field becomes the legend title and the labels are its values; several give
    ``key=value`` labels. With one scenario, or identical ones, the labels are the scenario names.
    """
    flat = [flatten(s) for s in scenarios]
    keys = sorted({k for f in flat for k in f} - set(IGNORED))
    differ = [k for k in keys if len({repr(f.get(k)) for f in flat}) > 1]
    physical = [k for k in differ if not k.startswith(SAMPLING_PREFIX)]
    chosen = physical or differ
    names = [str(f.get("name", "scenario")) for f in flat]
    if len(flat) < 2 or not chosen:
        return None, names
    if "name" in chosen:  # different scenarios altogether: their names say it best
        return "scenario", names
    if len(chosen) == 1:
        key = chosen[0]
        return key, [_fmt(f.get(key)) for f in flat]
    short = {k: _short(k, chosen) for k in chosen}
    shown = chosen[:3]
    more = " …" if len(chosen) > 3 else ""
    return None, [", ".join(f"{short[k]}={_fmt(f.get(k))}" for k in shown) + more for f in flat]
