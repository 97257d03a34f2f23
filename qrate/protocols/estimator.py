"""The typed contract between a protocol and its estimates: quantities, the batch view, estimators, reports.

A protocol module declares its estimator as a frozen dataclass subclassing :class:`Estimator`:
its fields name the counters that play each role (and the parameters the formulas need), its
class attributes give its ``kind`` (the name stored in results files) and the
:class:`Quantity` list it reports, and its methods state the per-batch values whose spread across
batches it reports (:meth:`Estimator.batch_values`), compute the estimates from a point's
:class:`Summary` (:meth:`Estimator.compute`: counter sums, the batch count and those spreads),
state the consistency rules of the counters (:meth:`Estimator.limits`) and, optionally, the
totals of a satellite pass beyond the integrated rates (:meth:`Estimator.pass_totals`, e.g. a
finite key with the pass as one block).

A :class:`Summary` is built either from a point's batch rows (:meth:`Summary.of_rows`) or batch
by batch in O(1) time and memory per batch (:class:`RunningSummary`: running sums of every row
field and Welford accumulators of the per-batch values), so a sweep's stopping rule reads any
estimate of a growing prefix without keeping its rows, and every estimator gets that for free.

A protocol's :class:`Report` (protocol name, default plot quantity, carriers per use, estimators)
is written into every results file as JSON (:meth:`Report.to_json`) and read back with
:meth:`Report.from_json`, which finds each estimator class through the protocol registry.

This module imports neither Stim nor any protocol.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np

from qrate.formulas import RunningSpread, Step, count_value, spread
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


class BatchValues(Protocol):
    """What declares per-batch values: every :class:`Estimator`, and the heralding statistics."""

    def batch_values(self, b: Batches, pooled: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Per-batch values (one per batch of ``b``) whose spread across batches is reported."""
        ...


class _Unknown(Mapping[str, Any]):
    """The pooled estimates at a running summary's first look at a batch: nan whatever the key."""

    def __getitem__(self, key: str) -> float:
        return math.nan

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


UNKNOWN: Mapping[str, Any] = _Unknown()
"""Pooled estimates not known yet (every key reads nan)."""

Spreads = dict[str, tuple[float, float]]
"""Series name -> ``(std, sem)`` across batches (:func:`qrate.formulas.spread`)."""


@dataclass(frozen=True, slots=True)
class Summary:
    """One point's accepted batches as an estimator reads them: sums, batch count and spreads.

    Attributes:
        sums: every batch-row field but ``batch_index`` summed over the batches (``pulses``,
            ``successes``, ``eta_*``, ``seconds``, ``c_<counter>``); ints, floats for expected counts.
        batches: number of batches.
        spread_of: ``(source, pooled) -> {name: (std, sem)}`` of the source's :meth:`~BatchValues.batch_values`.
        rate_hz, carriers_per_use, key_block_s, finite_key: as in :class:`Batches`.
    """

    sums: Mapping[str, Any]
    batches: int
    spread_of: Callable[[BatchValues, Mapping[str, Any]], Spreads]
    rate_hz: float
    carriers_per_use: int = 1
    key_block_s: float | None = None
    finite_key: str = "grasselli2018"

    @classmethod
    def of_rows(
        cls,
        rows: np.ndarray,
        rate_hz: float,
        carriers_per_use: int = 1,
        key_block_s: float | None = None,
        finite_key: str = "grasselli2018",
    ) -> Summary:
        """The summary of a batch table (spreads: :func:`qrate.formulas.spread` of the whole table's values)."""
        b = Batches(rows, rate_hz, carriers_per_use, key_block_s, finite_key)
        sums = {f: rows[f].sum() for f in rows.dtype.names or () if f != "batch_index"}

        def spread_of(source: BatchValues, pooled: Mapping[str, Any]) -> Spreads:
            return {k: spread(v) for k, v in source.batch_values(b, pooled).items()}

        return cls(sums, int(rows.size), spread_of, rate_hz, carriers_per_use, key_block_s, finite_key)

    @property
    def uses_per_s(self) -> float:
        """Protocol uses per second per unit success probability (rate_hz / carriers_per_use)."""
        return self.rate_hz / self.carriers_per_use

    def total(self, name: str) -> float:
        """Counter ``name`` summed over the batches (0 if there is no such counter; an int, or a
        float for expected counts)."""
        return count_value(self.sums.get(COUNTER_PREFIX + name, 0))

    @property
    def pulses(self) -> float:
        """Pulses of every batch (an int, or a float for expected counts)."""
        return count_value(self.sums["pulses"])

    @property
    def seconds(self) -> float:
        """Simulated source time in s (pulses / rate_hz)."""
        return float(self.sums["pulses"]) / self.rate_hz

    def spreads(self, source: BatchValues, pooled: Mapping[str, Any] = UNKNOWN) -> Spreads:
        """``{name: (std, sem)}`` across batches of ``source``'s per-batch values, a batch whose value
        needs them reading ``pooled`` (the pooled estimates it falls back on)."""
        return self.spread_of(source, pooled)


class RunningSummary:
    """A :class:`Summary` of a growing batch prefix, in O(1) time and memory per batch.

    It keeps running sums of every row field and, per source and per-batch value, a Welford
    accumulator (:class:`qrate.formulas.RunningSpread`). A batch whose values need the pooled
    estimates (they come out non-finite with :data:`UNKNOWN`, e.g. a QBER fallback for a batch
    without test rounds) is kept as a count per distinct (pulses, successes, counters) pattern and
    evaluated again, with the pooled estimates, by :meth:`summary`: such batches have few
    successes, hence few distinct patterns, but their number is not bounded (see :attr:`deferred`).
    """

    __slots__ = ("_context", "_deferred", "_key_dtype", "_spreads", "batches", "sources", "sums")

    def __init__(
        self,
        sources: Sequence[BatchValues],
        rate_hz: float,
        carriers_per_use: int = 1,
        key_block_s: float | None = None,
        finite_key: str = "grasselli2018",
    ) -> None:
        self.sources = tuple(sources)
        self._context = (rate_hz, carriers_per_use, key_block_s, finite_key)
        self.sums: dict[str, Any] = {}
        self.batches = 0
        self._spreads: list[dict[str, RunningSpread]] = [{} for _ in self.sources]
        self._deferred: list[dict[tuple[Any, ...], int]] = [{} for _ in self.sources]  # pattern -> batches
        self._key_dtype: np.dtype | None = None  # pulses, successes and the counters of a pattern

    def add(self, row: np.ndarray) -> None:
        """Append one batch (a batch table of one row, :func:`qrate.stats.batch_dtype`)."""
        if row.size != 1:
            raise ValueError(f"add one batch row at a time, got {row.size}")
        names = row.dtype.names or ()
        for f in names:
            if f != "batch_index":
                self.sums[f] = self.sums.get(f, 0) + row[f][0].item()
        self.batches += 1
        b = Batches(row, *self._context)
        for source, accs, deferred in zip(self.sources, self._spreads, self._deferred, strict=True):
            values = {k: float(np.asarray(v, dtype=float).reshape(-1)[0]) for k, v in source.batch_values(b, UNKNOWN).items()}
            if all(math.isfinite(v) for v in values.values()):
                for k, v in values.items():
                    accs.setdefault(k, RunningSpread()).add(v)
            else:
                if self._key_dtype is None:
                    keep = [f for f in names if f in ("pulses", "successes") or f.startswith(COUNTER_PREFIX)]
                    self._key_dtype = np.dtype([(f, row.dtype[f]) for f in keep])
                key = tuple(row[f][0].item() for f in self._key_dtype.names or ())
                deferred[key] = deferred.get(key, 0) + 1

    @property
    def deferred(self) -> int:
        """Distinct batch patterns kept for a fallback on the pooled estimates (memory beyond O(1))."""
        return sum(len(d) for d in self._deferred)

    def summary(self) -> Summary:
        """The summary of the batches added so far (a snapshot: later batches leave it as it is;
        ValueError before the first)."""
        if not self.batches:
            raise ValueError("no batches")
        sources, key_dtype = self.sources, self._key_dtype
        spreads = [{k: a.copy() for k, a in accs.items()} for accs in self._spreads]
        deferred = [dict(d) for d in self._deferred]

        def spread_of(source: BatchValues, pooled: Mapping[str, Any]) -> Spreads:
            i = next(i for i, s in enumerate(sources) if s is source or s == source)
            accs = {k: a.copy() for k, a in spreads[i].items()}
            kept = deferred[i]
            if kept:
                table = np.array(list(kept), dtype=key_dtype)
                weights = np.fromiter(kept.values(), dtype=np.int64, count=len(kept))
                for k, v in source.batch_values(Batches(table, *self._context), pooled).items():
                    accs.setdefault(k, RunningSpread()).merge(v, weights)
            return {k: a.spread() for k, a in accs.items()}

        return Summary(dict(self.sums), self.batches, spread_of, *self._context)


@dataclass(frozen=True)
class Estimator:
    """Base of every protocol's estimator (a frozen dataclass of counter roles and parameters).

    Class attributes:
        kind: the name stored in the report (one per estimator class).
        quantities: what it reports, in ``qrate show`` column order.
    """

    kind: ClassVar[str] = ""
    quantities: ClassVar[tuple[Quantity, ...]] = ()

    def batch_values(self, b: Batches, pooled: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Per-batch values (one per batch of ``b``) whose spread across batches :meth:`compute`
        reports through :meth:`Summary.spreads` (default: none).

        They read only the batches' pulses, successes and counters. ``pooled`` holds the pooled
        estimates :meth:`compute` passes, which a batch falls back on where its own value is
        undefined (e.g. the pooled QBER for a batch without test rounds, :func:`qrate.formulas.ratio`);
        at a running summary's first look at a batch they read nan, and a value that needs them
        must then come out nan (numpy arithmetic does), so that the batch is looked at again.
        """
        return {}

    def compute(self, b: Summary, p_success: float) -> dict[str, Any]:
        """The estimates of one point from its summary (``p_success``: pooled success probability)."""
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
