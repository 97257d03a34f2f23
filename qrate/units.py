"""Units of scenario fields and estimates, from their names, and how to show their values.

Every scenario field and estimate carries its unit in its name (``length_km``, ``divergence_rad``,
``coherence_time_s``, ``key_rate_bps``): one rule here turns a name into a readable label with its
unit, and a value into text with an SI prefix (``1e-6`` for ``*_rad`` reads ``1 µrad``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: name suffix -> (unit, takes SI prefixes)
SUFFIXES: dict[str, tuple[str, bool]] = {
    "_km": ("km", False),
    "_nm": ("nm", False),
    "_m": ("m", True),
    "_rad": ("rad", True),
    "_deg": ("deg", False),
    "_s": ("s", True),
    "_hz": ("Hz", True),
    "_bps": ("bit/s", True),
    "_db": ("dB", False),
    "_db_per_km": ("dB/km", False),
    "_m2": ("m²", False),
    "_m23": ("m^-2/3", False),
    "_utc": ("", False),
}
PREFIXES = ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f"))
#: names whose words read better spelled out
WORDS = {"cn2": "C_n²", "ghz": "GHZ", "bsm": "BSM", "spdc": "SPDC", "hom": "HOM", "uav": "UAV", "leo": "LEO"}


def unit_of(name: str) -> tuple[str, bool]:
    """``(unit, takes SI prefixes)`` of a field or estimate name (its last dotted part); ``("", False)`` if none."""
    leaf = name.rsplit(".", 1)[-1].lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if leaf.endswith(suffix):
            return SUFFIXES[suffix]
    return "", False


def _words(leaf: str) -> str:
    unit_suffix = next((s for s in sorted(SUFFIXES, key=len, reverse=True) if leaf.lower().endswith(s)), "")
    stem = leaf[: len(leaf) - len(unit_suffix)] if unit_suffix else leaf
    return " ".join(WORDS.get(w, w) for w in stem.split("_") if w)


def prefix_for(values: Sequence[float]) -> tuple[float, str]:
    """``(scale, prefix)`` such that the largest ``|value| / scale`` lies in [1, 1000)."""
    big = max((abs(v) for v in values if v is not None and math.isfinite(v) and v != 0), default=1.0)
    for scale, prefix in PREFIXES:
        if big >= scale * 0.9995:
            return scale, prefix
    return PREFIXES[-1]


def field_label(name: str, values: Sequence[float] = ()) -> str:
    """Axis label of a field, e.g. ``links.leo.divergence_rad`` -> ``LEO divergence (µrad)`` (the prefix
    chosen for ``values``)."""
    parts = name.split(".")
    leaf = parts[-1]
    owner = ""
    if len(parts) >= 3 and parts[0] == "links":
        owner = WORDS.get(parts[1], parts[1]) + " "
    elif len(parts) >= 2 and parts[0] not in ("nodes",):
        owner = WORDS.get(parts[0], parts[0]) + " "
    unit, scalable = unit_of(name)
    if unit and scalable and values:
        unit = prefix_for(values)[1] + unit
    text = (owner + _words(leaf)).strip()
    return f"{text} ({unit})" if unit else text


def display(name: str, values: Sequence[float]) -> tuple[float, str]:
    """``(scale, label)``: divide values by ``scale`` to plot them against ``label``."""
    unit, scalable = unit_of(name)
    scale = prefix_for(values)[0] if unit and scalable else 1.0
    return scale, field_label(name, values)


def format_value(name: str, value: float | None) -> str:
    """``value`` of field ``name`` as text with its unit and an SI prefix, e.g. ``2.5 µrad``."""
    if value is None or not math.isfinite(value):
        return "nan"
    unit, scalable = unit_of(name)
    if not unit:
        return f"{value:.6g}"
    if scalable:
        scale, prefix = prefix_for([value])
        return f"{value / scale:.6g} {prefix}{unit}"
    return f"{value:.6g} {unit}"
