"""A requirement request: the field varied, its range, and the target an estimate must meet.

``--vary FIELD=LO:HI`` names a real-valued scenario field (dotted path, or ``ground_distance_km``)
and its range; ``--target 'ESTIMATE >= VALUE'`` (or ``>``, ``<=``, ``<``) an estimate the protocol
reports (``qrate show --json`` keys: ``key_rate_bps``, ``finite_key_rate_bps``, ``p_success``,
``qber_x`` ...; for a pass run the per-pass and per-day totals: ``key_bits_per_pass``,
``finite_key_bits_per_pass``, ``heralded_pairs_per_day`` ...). Every malformed request raises
:class:`~qrate.errors.InputError` naming the option.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from qrate.errors import InputError

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}

FRACTIONS = re.compile(r"^(p_success|p_miss|p_false|secret_fraction|qber.*|.*_error_rate|.*fidelity|mean_eta_free_space)$")
"""Estimates that are probabilities or fractions, in [0, 1]; every other estimate is a rate or a count, >= 0."""


def estimate_range(key: str) -> tuple[float, float]:
    """The values an estimate can take: [0, 1] for probabilities and fractions, [0, inf) otherwise."""
    return (0.0, 1.0) if FRACTIONS.match(key) else (0.0, math.inf)


@dataclass(frozen=True, slots=True)
class Target:
    """``estimate op value``, e.g. ``key_rate_bps >= 1000``."""

    estimate: str
    op: str
    value: float

    @property
    def at_least(self) -> bool:
        """True for ``>=`` / ``>`` (the estimate must be large enough)."""
        return self.op in (">=", ">")

    def met(self, v: float) -> bool:
        """Whether an estimate of value ``v`` meets the target (nan never does)."""
        return math.isfinite(v) and OPERATORS[self.op](v, self.value)

    def __str__(self) -> str:
        return f"{self.estimate} {self.op} {self.value:g}"


def parse_target(text: str) -> Target:
    """Parse ``'ESTIMATE >= VALUE'`` (InputError naming ``--target``)."""
    m = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<)\s*(\S+)\s*", text)
    if m is None:
        raise InputError("--target", f"expected 'ESTIMATE >= VALUE' (or >, <=, <), got {text!r}")
    try:
        value = float(m.group(3))
    except ValueError:
        raise InputError("--target", f"expected a number after {m.group(2)}, got {m.group(3)!r}") from None
    if not math.isfinite(value):
        raise InputError("--target", f"expected a finite target value, got {m.group(3)!r}")
    lo, hi = estimate_range(m.group(1))
    if not lo <= value <= hi:
        raise InputError("--target", f"{m.group(1)} takes values in [{lo:g}, {hi:g}]; a target of {value:g} is outside its range")
    return Target(m.group(1), m.group(2), value)


@dataclass(frozen=True, slots=True)
class Vary:
    """The varied field and its range (``log``: searched and scanned in log space)."""

    field: str
    lo: float
    hi: float
    log: bool = False

    def scan(self, n: int) -> list[float]:
        """``n`` values from ``lo`` to ``hi``, evenly (or geometrically) spaced."""
        if self.log:
            a, b = math.log(self.lo), math.log(self.hi)
            return [math.exp(a + (b - a) * i / (n - 1)) for i in range(n)]
        return [self.lo + (self.hi - self.lo) * i / (n - 1) for i in range(n)]


def parse_vary(text: str, log: bool = False, option: str = "--vary") -> Vary:
    """Parse ``FIELD=LO:HI`` (InputError naming ``option``)."""
    field, sep, rng = text.partition("=")
    lo_text, colon, hi_text = rng.partition(":")
    if not sep or not colon or not field.strip():
        raise InputError(option, f"expected FIELD=LO:HI, got {text!r}")
    try:
        lo, hi = float(lo_text), float(hi_text)
    except ValueError:
        raise InputError(option, f"expected numbers LO:HI, got {rng!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise InputError(option, f"expected finite LO and HI, got {rng!r}")
    if lo >= hi:
        raise InputError(option, f"expected LO < HI, got {lo:g}:{hi:g}")
    if log and lo <= 0:
        raise InputError(option, f"--log needs LO > 0, got {lo:g}")
    return Vary(field.strip(), lo, hi, log)


def parse_over(text: str, option: str = "--over") -> tuple[str, list[float]]:
    """Parse ``FIELD=V1,V2,...`` (distinct finite numbers; InputError naming ``option``)."""
    field, sep, rest = text.partition("=")
    if not sep or not field.strip() or not rest.strip():
        raise InputError(option, f"expected FIELD=V1,V2,..., got {text!r}")
    try:
        values = [float(v) for v in rest.split(",")]
    except ValueError:
        raise InputError(option, f"expected numbers V1,V2,..., got {rest!r}") from None
    if not all(math.isfinite(v) for v in values) or len(set(values)) != len(values):
        raise InputError(option, f"expected distinct finite numbers, got {rest!r}")
    return field.strip(), values
