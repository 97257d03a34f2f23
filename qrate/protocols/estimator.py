"""The typed contract between a protocol and its estimates: quantities, the batch view, estimators, reports.

A protocol module declares its estimator as a frozen dataclass subclassing :class:`Estimator`:
its fields name the counters that play each role (and the parameters the formulas need), its
class attributes give its ``kind`` (the name stored in results files) and the
:class:`Quantity` list it reports, and its methods compute the estimates from a point's batch
rows (:meth:`Estimator.compute`), state the consistency rules of the counters
(:meth:`Estimator.limits`) and, optionally, the totals of a satellite pass beyond the integrated
rates (:meth:`Estimator.pass_totals`, e.g. a finite key with the pass as one block).

A protocol's :class:`Report` (protocol name, default plot quantity, carriers per use, estimators)
is written into every results file as JSON (:meth:`Report.to_json`) and read back with
:meth:`Report.from_json`, which finds each estimator class through the protocol registry.

This module imports neither Stim nor any protocol.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from qrate.formulas import Step, count_value
from qrate.stats import COUNTER_PREFIX


@dataclass(frozen=True, slots=True)
class Quantity:
    """One reported estimate: its key, how ``qrate show`` prints it and how ``qrate plot`` draws it.

    Attributes:
        key: key in the estimates dict (rates in bit/s, fractions in [0, 1]).
        column: ``qrate show`` column header; legend: its one-line meaning (column legend).
        label: plot axis label in display units; scale: value -> display units (1e-3: bit/s -> kbit/s).
        fmt: format of the displayed value.
        std, sem: keys of its 1σ spread across batches and standard error of the mean, or None.
        ci: keys of a (low, high) confidence interval, or None.
        y: the ``qrate plot --y`` name, or None if not plottable.
        total: for a rate, the name of its integral over a satellite pass (e.g. ``key_bits``), or None.
    """

    key: str
    column: str
    legend: str
    label: str
    scale: float = 1.0
    fmt: str = ".4g"
    std: str | None = None
    sem: str | None = None
    ci: tuple[str, str] | None = None
    y: str | None = None
    total: str | None = None


@dataclass(frozen=True, slots=True)
class Batches:
    """One point's batch table with the per-batch views every estimator needs.

    Attributes:
        rows: the batch rows (:func:`qrate.stats.batch_dtype`).
        rate_hz: the source clock; carriers_per_use: heralded carriers one protocol use takes.
        key_block_s: physical duration of a finite-key block in s (None: the simulated time).
        finite_key: the finite-key bound (``sampling.finite_key``, :mod:`qrate.finite_key`).
    """

    rows: np.ndarray
    rate_hz: float
    carriers_per_use: int = 1
    key_block_s: float | None = None
    finite_key: str = "grasselli2018"

    @property
    def uses_per_s(self) -> float:
        """Protocol uses per second per unit success probability (rate_hz / carriers_per_use)."""
        return self.rate_hz / self.carriers_per_use

    def count(self, name: str) -> np.ndarray:
        """Per-batch values of counter ``name`` (zeros if the file has no such counter; float64 in a
        table of expected counts, :mod:`qrate.require.expected`)."""
        field = COUNTER_PREFIX + name
        if field not in (self.rows.dtype.names or ()):
            return np.zeros(self.rows.size, dtype=np.int64)
        col = self.rows[field]
        return col.astype(np.float64) if col.dtype.kind == "f" else col.astype(np.int64)

    def total(self, name: str) -> float:
        """Counter ``name`` summed over the batches (an int, or a float for expected counts)."""
        return count_value(self.count(name).sum())

    @property
    def p_batches(self) -> np.ndarray:
        """Per-batch success probability (successes / pulses)."""
        return self.rows["successes"].astype(float) / self.rows["pulses"].astype(float)

    @property
    def seconds(self) -> float:
        """Simulated source time in s (pulses / rate_hz)."""
        return float(self.rows["pulses"].sum()) / self.rate_hz


@dataclass(frozen=True)
class Estimator:
    """Base of every protocol's estimator (a frozen dataclass of counter roles and parameters).

    Class attributes:
        kind: the name stored in the report (one per estimator class).
        quantities: what it reports, in ``qrate show`` column order.
    """

    kind: ClassVar[str] = ""
    quantities: ClassVar[tuple[Quantity, ...]] = ()

    def compute(self, b: Batches, p_success: float) -> dict[str, Any]:
        """The estimates of one point from its batches (``p_success``: pooled success probability)."""
        raise NotImplementedError

    def limits(self) -> list[tuple[str, str]]:
        """Consistency rules ``(counter, counter it cannot exceed)`` that hold in every batch."""
        return []

    def pass_totals(self, steps: Sequence[Step], rate_hz: float) -> dict[str, Any]:
        """Totals of one satellite pass beyond the integrated rates (default: none)."""
        return {}

    # ------------------------------------------------------------------------------------ JSON
    def to_json(self) -> dict[str, Any]:
        """``{"kind": ..., field: value, ...}`` (mappings as dicts, tuples as lists)."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = dict(v) if isinstance(v, Mapping) else list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Estimator:
        """The estimator a report's entry describes (ValueError naming a missing or mistyped field)."""
        hints = _type_hints(cls)
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in data:
                if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
                    continue
                raise ValueError(f"estimator {cls.kind!r}: the report lacks {f.name!r}")
            values[f.name] = _typed(data[f.name], hints.get(f.name), f"{cls.kind}.{f.name}")
        return cls(**values)


_HINTS: dict[type, dict[str, Any]] = {}


def _type_hints(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints`` of an estimator class, once per class (it evaluates annotations: slow)."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _typed(value: Any, hint: Any, where: str) -> Any:
    """``value`` checked against a field's type hint (str, int, float, Mapping[str, str], tuples)."""
    origin = typing.get_origin(hint)
    if hint is str and isinstance(value, str):
        return value
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if origin in (Mapping, dict) and isinstance(value, Mapping):
        return {str(k): _typed(v, typing.get_args(hint)[1], where) for k, v in value.items()}
    if origin is tuple and isinstance(value, list | tuple):
        return tuple(_typed(v, typing.get_args(hint)[0], where) for v in value)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return None
        for arg in typing.get_args(hint):
            if arg is not type(None):
                try:
                    return _typed(value, arg, where)
                except ValueError:
                    pass
    raise ValueError(f"report field {where}: unexpected value {value!r}")


@dataclass(frozen=True)
class Report:
    """What a protocol reports: its name, default ``qrate plot --y``, carriers per use, estimators."""

    protocol: str
    default_y: str
    carriers_per_use: int
    estimators: tuple[Estimator, ...]

    def to_json(self) -> dict[str, Any]:
        """The JSON form stored in results files."""
        return {
            "protocol": self.protocol,
            "default_y": self.default_y,
            "carriers_per_use": self.carriers_per_use,
            "estimators": [e.to_json() for e in self.estimators],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Report:
        """The report stored in a results file (ValueError for an unknown estimator kind)."""
        from qrate.protocols.registry import estimator_class

        protocol = str(data.get("protocol"))
        estimators = []
        for spec in data.get("estimators", ()):
            kind = spec.get("kind") if isinstance(spec, Mapping) else None
            estimators.append(estimator_class(protocol, str(kind)).from_json(spec))
        return cls(protocol, str(data.get("default_y")), int(data.get("carriers_per_use", 1)), tuple(estimators))


HERALDING = (
    Quantity(
        "p_success",
        "p_success",
        "heralded successes per pulse",
        "success probability per pulse",
        fmt=".4g",
        sem="p_success_stderr",
        ci=("p_success_ci_low", "p_success_ci_high"),
        y="p_success",
    ),
    Quantity(
        "rate_bps",
        "rate_kbps",
        "heralded rate R·P (kbit/s), ± 1σ across batches",
        "heralded rate $R_{src}\\,P_{success}$ (kbit/s)",
        1e-3,
        std="rate_std_bps",
        sem="rate_sem_bps",
        y="rate",
        total="heralded_pairs",
    ),
)
