"""Input checks shared by the channel-physics modules: every bad value raises
:class:`qrate.errors.InputError` naming the field."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from qrate.errors import InputError, count_arg


def check_real(
    field: str,
    value: Any,
    *,
    lo: float = -math.inf,
    hi: float = math.inf,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    """``value`` as a finite float in the interval [lo, hi] (ends open where asked), else InputError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(field, f"expected a number, got {value!r}")
    v = float(value)
    bad = not math.isfinite(v) or v < lo or v > hi or (lo_open and v == lo) or (hi_open and v == hi)
    if bad:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        raise InputError(field, f"expected a finite number in {left}{lo:g}, {hi:g}{right}, got {value!r}")
    return v


def check_positive(field: str, value: Any, *, hi: float = math.inf) -> float:
    """A finite number > 0 (and <= ``hi``)."""
    return check_real(field, value, lo=0.0, hi=hi, lo_open=True)


def check_nonnegative(field: str, value: Any, *, hi: float = math.inf) -> float:
    """A finite number >= 0 (and <= ``hi``)."""
    return check_real(field, value, lo=0.0, hi=hi)


def check_probability(field: str, value: Any) -> float:
    """A probability or efficiency in [0, 1]."""
    return check_real(field, value, lo=0.0, hi=1.0)


def check_choice(field: str, value: Any, choices: tuple[str, ...]) -> str:
    """One of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise InputError(field, f"expected one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_count(field: str, value: Any, *, lo: int = 0) -> int:
    """An integer count >= ``lo`` (the one rule: :func:`qrate.errors.count_arg`)."""
    return count_arg(field, value, minimum=lo)


def check_generator(field: str, rng: Any) -> np.random.Generator:
    """A ``numpy.random.Generator``."""
    if not isinstance(rng, np.random.Generator):
        raise InputError(field, f"expected a numpy.random.Generator, got {type(rng).__name__}")
    return rng
