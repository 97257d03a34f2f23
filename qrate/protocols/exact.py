"""Exact counter sampling from stim's detector error model (DEM), cost independent of the shots.

Noise is Pauli and independent per shot, so the ``k`` parity bits of one round are
``bit_j = ref_j XOR (XOR of e_m over the mechanisms m that flip parity j)`` with independent
``e_m ~ Bernoulli(p_m)``. Stim computes the mechanisms: the round's circuit gets one ``DETECTOR``
per parity and :meth:`stim.Circuit.detector_error_model` (``allow_gauge_detectors=True``,
``decompose_errors=False``) lists every (probability, parities flipped); random outcomes (fresh
random bits, non-participants' X outcomes) are probability-1/2 mechanisms; classically controlled
Paulis (``CX rec[-k] q``) are propagated by stim's error analysis. ``ref_j`` is the parity of
``circuit.reference_sample()`` (the noiseless run the DEM is relative to).

Three samplers of one round's counters (``RoundPlan.kind``):

* ``"exact-table"`` (``k <= MAX_TABLE_PARITIES``): the probability of each of the ``2^k`` parity
  patterns by XOR convolution (``P <- (1 - p) P + p P[x ^ mask]`` per mechanism, equal masks
  merged first: convex combinations, no cancellation), mapped through the flags to outcome classes.
  ``n`` shots = one ``rng.multinomial(n, class_probabilities)``; counters = counts @ class_flags.
* ``"exact-sequential"`` (more parities): the parities are walked in order; shots are kept in
  groups keyed by the values of the *open* mechanisms (first parity <= current <= last parity)
  and of the accumulators of "any of" flags; a mechanism splits every group by a binomial draw
  when it first appears, and groups with equal keys merge when it closes. Exact in distribution
  (the split is the exact conditional law, and merged shots are exchangeable from then on).
  Cost grows with ``2^(open mechanisms)``, not ``2^k``; beyond ``MAX_OPEN_MECHANISMS`` open at
  once the round falls back to per-shot stim.
* ``"stim"``: per-shot stim (the caller samples records and decodes them). Used when stim's error
  analysis refuses the circuit, which it does (``ValueError``) for noise it could only approximate
  by independent mechanisms: ``PAULI_CHANNEL_2``, ``HERALDED_*``, ``ELSE_CORRELATED_ERROR``, and a
  ``PAULI_CHANNEL_1`` with no exact independent form; an :class:`ExactSamplerFallback` warning is
  then emitted (``approximate_disjoint_errors`` is never set, so what stim accepts is exact:
  ``DEPOLARIZE1/2`` and decomposable ``PAULI_CHANNEL_1`` become independent X/Y/Z mechanisms).
  Also used, without a warning, when the sequential walk would be too wide (per-shot stim is
  exact too, only slower).

Plans are cached by a hash of the circuit (text plus every gate argument in full precision),
its parities and flags (:data:`PLAN_CACHE_SIZE` entries): all points of a sweep share one.
:func:`self_check` compares a plan with per-shot stim (chi-square on the outcome classes).
"""

from __future__ import annotations

import hashlib
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import stim

from qrate.errors import QrateError
from qrate.protocols._decode import (
    DEFAULT_METHOD,
    Flag,
    canonical_parity,
    flag_values,
    parity_bits,
    sample_records,
)

MAX_TABLE_PARITIES = 12
"""Rounds with at most this many parities use the ``2^k`` probability table."""

MAX_OPEN_MECHANISMS = 15
"""Widest sequential walk (mechanisms open at once) before falling back to per-shot stim."""

PLAN_CACHE_SIZE = 128
"""Round plans kept (least recently used evicted)."""

MAX_CLASS_GROUPS = 1 << 20
"""Largest number of outcome classes :meth:`SequentialPlan.class_distribution` enumerates."""


class ExactSamplerMismatch(QrateError):
    """The exact sampler disagrees with per-shot stim (a bug, or an error model stim got wrong)."""


class ExactSamplerFallback(UserWarning):
    """Stim's error analysis refused a round's circuit: that round is sampled shot by shot."""


@dataclass(frozen=True, eq=False)
class ErrorModel:
    """Independent error mechanisms on the ``k`` parities of one round.

    Attributes:
        num_parities: ``k``.
        reference: bool ``(k,)``, the parities of the noiseless reference sample.
        probabilities: ``(m,)`` probability of each mechanism (equal symptom sets merged).
        symptoms: ``m`` sorted tuples of the parities each mechanism flips (non-empty).
    """

    num_parities: int
    reference: np.ndarray
    probabilities: np.ndarray
    symptoms: tuple[tuple[int, ...], ...]


def error_model(circuit: stim.Circuit, parities: Sequence[Sequence[int]]) -> ErrorModel:
    """The DEM of ``circuit`` with one detector per parity (raises ``ValueError`` where stim does)."""
    canon = [canonical_parity(p) for p in parities]
    c = circuit.copy()
    m = c.num_measurements
    offset = c.num_detectors
    for par in canon:
        c.append("DETECTOR", [stim.target_rec(i - m) for i in par])
    _ANALYSES[0] += 1
    dem = c.detector_error_model(allow_gauge_detectors=True, decompose_errors=False, flatten_loops=True)
    merged: dict[tuple[int, ...], float] = {}
    for inst in dem.flattened():
        if not isinstance(inst, stim.DemInstruction) or inst.type != "error":
            continue
        p = float(inst.args_copy()[0])
        dets = tuple(sorted(t.val - offset for t in inst.targets_copy() if t.is_relative_detector_id() and t.val >= offset))
        if p == 0.0 or not dets:
            continue
        q = merged.get(dets, 0.0)
        merged[dets] = q + p - 2.0 * q * p
    ref = circuit.reference_sample()
    reference = np.array([bool(np.bitwise_xor.reduce(ref[list(par)])) if par else False for par in canon], dtype=np.bool_)
    syms = tuple(merged)
    return ErrorModel(len(canon), reference, np.array([merged[s] for s in syms], dtype=float), syms)


@dataclass(frozen=True, eq=False)
class TablePlan:
    """Counters of one round as one multinomial over its outcome classes.

    Attributes:
        counters: counter names, in the round's flag order.
        probabilities: ``(C,)`` probability of each class (distinct flag vectors, all > 0).
        class_flags: int64 ``(C, len(counters))`` 0/1 flag vector of each class.
    """

    counters: tuple[str, ...]
    probabilities: np.ndarray
    class_flags: np.ndarray
    kind: ClassVar[str] = "exact-table"

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Counter sums (int64, one per counter) of ``n`` shots."""
        return rng.multinomial(n, self.probabilities) @ self.class_flags

    def class_distribution(self) -> tuple[np.ndarray, np.ndarray]:
        """(class probabilities, 0/1 class flag vectors)."""
        return self.probabilities, self.class_flags

    def flag_probabilities(self) -> np.ndarray:
        """Exact per-shot probability of each flag."""
        return self.probabilities @ self.class_flags


def build_table(model: ErrorModel, flags: Mapping[str, Flag]) -> TablePlan:
    """Exact class probabilities of the ``2^k`` parity patterns mapped through ``flags``."""
    k = model.num_parities
    if k > MAX_TABLE_PARITIES:
        raise ValueError(f"{k} parities > MAX_TABLE_PARITIES = {MAX_TABLE_PARITIES}")
    idx = np.arange(1 << k)
    masks: dict[int, float] = {}
    for p, sym in zip(model.probabilities, model.symptoms):
        mask = sum(1 << j for j in sym)
        q = masks.get(mask, 0.0)
        masks[mask] = q + p - 2.0 * q * p
    prob = np.zeros(1 << k)
    prob[0] = 1.0
    for mask, p in masks.items():
        prob = (1.0 - p) * prob + p * prob[idx ^ mask]
    ref = sum(1 << j for j in range(k) if model.reference[j])
    prob = prob[idx ^ ref]  # actual pattern x <=> detector flips x ^ ref
    bits = ((idx[:, None] >> np.arange(k)) & 1).astype(np.bool_)
    values = flag_values(bits, flags)
    names = tuple(flags)
    keep = prob > 0.0
    if not names:
        return TablePlan(names, np.ones(1), np.zeros((1, 0), dtype=np.int64))
    rows = np.stack([values[c] for c in names], axis=1)[keep]
    classes, inv = np.unique(rows, axis=0, return_inverse=True)
    probs = np.bincount(inv.ravel(), weights=prob[keep], minlength=len(classes))
    return TablePlan(names, probs / probs.sum(), classes.astype(np.int64))


@dataclass(frozen=True)
class _Step:
    """One parity of the sequential walk (slots are bit positions of the group keys)."""

    opens: tuple[tuple[int, float], ...]  # (slot, probability) of mechanisms first flipping it
    bit_mask: int  # slots of the mechanisms that flip it
    reference: bool
    singles: tuple[tuple[int, bool], ...]  # (counter column, invert) of one-parity flags
    acc_mask: int  # accumulator slots of the "any of" flags that contain it
    acc_done: tuple[tuple[int, int, bool], ...]  # (slot, column, invert) of "any of" flags ending here
    clear: int  # slots freed after it


def _merge(keys: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum the weights of equal keys."""
    order = np.argsort(keys, kind="stable")
    k, ww = keys[order], w[order]
    start = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
    return k[start], np.add.reduceat(ww, start)


@dataclass(frozen=True, eq=False)
class SequentialPlan:
    """Counters of one round by an exact walk over its parities (see the module docstring).

    Attributes:
        counters: counter names, in the round's flag order.
        steps: one per parity, in walk order.
        constants: (column, invert) of flags over no parity.
        max_open: most mechanisms open at once (groups <= 2^(max_open + accumulators)).
        slots: key bits used (mechanisms and accumulators open at once, at most).
    """

    counters: tuple[str, ...]
    steps: tuple[_Step, ...]
    constants: tuple[tuple[int, bool], ...]
    max_open: int
    slots: int
    kind: ClassVar[str] = "exact-sequential"

    def _walk(
        self,
        total: float,
        split: Callable[[np.ndarray, float], np.ndarray],
        dtype: type,
        persist: bool = False,
        max_groups: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run the walk with ``total`` weight; return (counter sums, final keys, final weights).

        ``split(w, p)``: the part of each group's weight whose new mechanism fires. ``persist``
        keeps every flag in key bit ``slots + column`` (to enumerate the outcome classes).
        """
        keys = np.zeros(1, dtype=np.int64)
        w: np.ndarray = np.array([total], dtype=dtype)
        sums: np.ndarray = np.zeros(len(self.counters), dtype=dtype)
        for col, inv in self.constants:
            if inv:
                sums[col] += total
                if persist:
                    keys |= 1 << (self.slots + col)
        for st in self.steps:
            for slot, p in st.opens:
                moved = split(w, p)
                keys = np.concatenate((keys, keys | (1 << slot)))
                w = np.concatenate((w - moved, moved))
                nz = w > 0
                if not nz.all():
                    keys, w = keys[nz], w[nz]
            bit = (np.bitwise_count(keys & st.bit_mask) & 1).astype(np.bool_)
            if st.reference:
                bit = ~bit
            for col, inv in st.singles:
                sel = ~bit if inv else bit
                sums[col] += w[sel].sum()
                if persist:
                    keys[sel] |= 1 << (self.slots + col)
            if st.acc_mask:
                keys[bit] |= st.acc_mask
            for slot, col, inv in st.acc_done:
                sel = ((keys >> slot) & 1).astype(np.bool_) != inv
                sums[col] += w[sel].sum()
                if persist:
                    keys[sel] |= 1 << (self.slots + col)
            if st.clear:
                keys &= ~st.clear
                keys, w = _merge(keys, w)
            if max_groups is not None and len(keys) > max_groups:
                raise ValueError(f"more than {max_groups} groups")
        return sums, keys, w

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Counter sums (int64, one per counter) of ``n`` shots."""
        sums, _, _ = self._walk(int(n), lambda w, p: rng.binomial(w, p), np.int64)
        return sums

    def flag_probabilities(self) -> np.ndarray:
        """Exact per-shot probability of each flag (the walk with probabilities for counts)."""
        sums, _, _ = self._walk(1.0, lambda w, p: w * p, np.float64)
        return sums

    def class_distribution(self, max_groups: int = MAX_CLASS_GROUPS) -> tuple[np.ndarray, np.ndarray] | None:
        """(class probabilities, 0/1 class flag vectors), or None if too many classes or key bits."""
        if self.slots + len(self.counters) > 62:
            return None
        try:
            _, keys, w = self._walk(1.0, lambda w, p: w * p, np.float64, persist=True, max_groups=max_groups)
        except ValueError:
            return None
        keys, w = _merge(keys, w)
        flags = (keys[:, None] >> (self.slots + np.arange(len(self.counters)))) & 1
        return w / w.sum(), flags.astype(np.int64)


def build_sequential(model: ErrorModel, flags: Mapping[str, Flag]) -> SequentialPlan:
    """The walk over the parities in their declared order."""
    k = model.num_parities
    names = tuple(flags)
    first_of: dict[int, list[int]] = {j: [] for j in range(k)}
    last_of: dict[int, list[int]] = {j: [] for j in range(k)}
    flips: dict[int, list[int]] = {j: [] for j in range(k)}
    for m, sym in enumerate(model.symptoms):
        first_of[sym[0]].append(m)
        last_of[sym[-1]].append(m)
        for j in sym:
            flips[j].append(m)
    constants: list[tuple[int, bool]] = []
    singles: dict[int, list[tuple[int, bool]]] = {j: [] for j in range(k)}
    accs: list[tuple[int, Flag]] = []
    for col, name in enumerate(names):
        f = flags[name]
        if not f.parities:
            constants.append((col, f.invert))
        elif len(f.parities) == 1:
            singles[f.parities[0]].append((col, f.invert))
        else:
            accs.append((col, f))
    free: list[int] = []
    used = 0
    slot_of_mech: dict[int, int] = {}
    slot_of_acc: dict[int, int] = {}
    open_mech = max_open = 0

    def alloc() -> int:
        nonlocal used
        if free:
            return free.pop()
        used += 1
        return used - 1

    steps = []
    for j in range(k):
        opens = []
        for m in first_of[j]:
            slot_of_mech[m] = alloc()
            opens.append((slot_of_mech[m], float(model.probabilities[m])))
        open_mech += len(first_of[j])
        max_open = max(max_open, open_mech)
        for col, f in accs:
            if min(f.parities) == j:
                slot_of_acc[col] = alloc()
        bit_mask = sum(1 << slot_of_mech[m] for m in flips[j])
        acc_mask = sum(1 << slot_of_acc[col] for col, f in accs if j in f.parities)
        acc_done = tuple((slot_of_acc[col], col, f.invert) for col, f in accs if max(f.parities) == j)
        freed = [slot_of_mech[m] for m in last_of[j]] + [s for s, _, _ in acc_done]
        open_mech -= len(last_of[j])
        free.extend(sorted(freed, reverse=True))
        steps.append(
            _Step(
                tuple(opens),
                bit_mask,
                bool(model.reference[j]),
                tuple(singles[j]),
                acc_mask,
                acc_done,
                sum(1 << s for s in freed),
            )
        )
    if used > 62:
        raise ValueError(f"{used} key bits > 62")
    return SequentialPlan(names, tuple(steps), tuple(constants), max_open, used)


@dataclass(frozen=True)
class StimPlan:
    """Marker: this round is sampled shot by shot with stim (``reason`` says why)."""

    counters: tuple[str, ...]
    reason: str
    kind: ClassVar[str] = "stim"


RoundPlan = TablePlan | SequentialPlan | StimPlan

_CACHE: OrderedDict[tuple[str, tuple[float, ...]], RoundPlan] = OrderedDict()
_STRUCTURES: OrderedDict[str, _Structure | None] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_ANALYSES = [0]  # stim error analyses run in this process (detector error models of a round's circuit)

STRUCTURE_CACHE_SIZE = 256
"""Round structures kept (least recently used evicted)."""

_FLIP_GATES = frozenset({"X_ERROR", "Y_ERROR", "Z_ERROR", "E", "M", "MX", "MY", "MR", "MRX", "MRY"})
"""Gates whose one argument is the probability of their one error mechanism per target group."""
_PARAMETRIC = _FLIP_GATES | {"DEPOLARIZE1"}
"""Gates whose mechanisms' probabilities qrate evaluates from the argument (anything else: a structure
is keyed by its exact arguments)."""


def stim_analyses() -> int:
    """How many stim error analyses of a round circuit this process has run (a compile counter)."""
    return _ANALYSES[0]


_ARGS = re.compile(r"\([^()]*\)")


def _groups(circuit: stim.Circuit) -> tuple[str, tuple[float, ...]]:
    """(structure text, noise arguments) of a circuit.

    The structure is the circuit's text without gate arguments, plus, per instruction, whether its
    argument is > 0 (a :data:`_PARAMETRIC` gate) or its exact arguments (any other gate). The
    arguments are those of the positive :data:`_PARAMETRIC` instructions, one per target group, in
    circuit order (as :func:`_analyse_structure` numbers them).
    """
    parts: list[str] = [_ARGS.sub("", str(circuit))]
    values: list[float] = []
    insts = circuit.flattened() if any(isinstance(i, stim.CircuitRepeatBlock) for i in circuit) else circuit
    for inst in insts:
        args = inst.gate_args_copy()
        if not args:
            continue
        if inst.name in _PARAMETRIC and len(args) == 1:
            if args[0] > 0.0:
                parts.append("+")
                values.extend([float(args[0])] * len(inst.target_groups()))
            else:
                parts.append("0")
        else:
            parts.append(",".join(float(a).hex() for a in args))
    return "|".join(parts), tuple(values)


@dataclass(frozen=True, eq=False)
class _Structure:
    """The error mechanisms of one round structure as functions of its noise arguments.

    Attributes:
        num_parities, reference: as in :class:`ErrorModel` (the reference sample has no noise).
        symptoms: every parity set a mechanism can flip (the detector error model's, merged).
        constant: ``(m,)`` bool, the mechanism is a random outcome (probability 1/2 whatever the noise).
        sources: per mechanism, ``(argument index, kind)`` of every circuit error producing it
            (kind 0: the argument is the probability; 1: one Pauli of ``DEPOLARIZE1(argument)``).
    """

    num_parities: int
    reference: np.ndarray
    symptoms: tuple[tuple[int, ...], ...]
    constant: np.ndarray
    sources: tuple[tuple[tuple[int, int], ...], ...]

    def model(self, values: Sequence[float]) -> ErrorModel:
        """The error model at noise arguments ``values`` (mechanisms of probability 0 dropped)."""
        v = np.asarray(values, dtype=float)
        if v.size and float(v.max()) > 0.75 and any(k == 1 for src in self.sources for _, k in src):
            dep = [i for src in self.sources for i, k in src if k == 1]
            if dep and float(v[dep].max()) > 0.75:
                raise ValueError("DEPOLARIZE1 above 3/4 has no independent form")
        # one Pauli of DEPOLARIZE1(p): X, Y and Z independent, each q(1 - q) = p/3 (stim's decomposition)
        q = np.where(v > 0.75, 0.0, 0.5 - 0.5 * np.sqrt(np.maximum(1.0 - 4.0 * v / 3.0, 0.0)))
        probs, syms = [], []
        for sym, const, src in zip(self.symptoms, self.constant, self.sources):
            p = 0.5 if const else 0.0
            if not const:
                for i, kind in src:
                    e = float(q[i]) if kind else float(v[i])
                    p = p + e - 2.0 * p * e
            if p > 0.0:
                probs.append(p)
                syms.append(sym)
        return ErrorModel(self.num_parities, self.reference, np.array(probs, dtype=float), tuple(syms))


def _with_detectors(circuit: stim.Circuit, canon: Sequence[tuple[int, ...]]) -> stim.Circuit:
    c = circuit.flattened()
    m = c.num_measurements
    for par in canon:
        c.append("DETECTOR", [stim.target_rec(i - m) for i in par])
    return c


def _analyse_structure(circuit: stim.Circuit, parities: Sequence[Sequence[int]]) -> _Structure | None:
    """The mechanisms of ``circuit``'s structure with their sources (stim's error analysis, once), or
    None if stim refuses, or if the structure reproduces the circuit's own error model less closely
    than 1e-12 (then every point of it is analysed by itself)."""
    canon = [canonical_parity(p) for p in parities]
    c = _with_detectors(circuit, canon)
    offset = circuit.num_detectors
    try:
        explained = c.explain_detector_error_model_errors(reduce_to_one_representative_error=False)
        gauge = c.without_noise().detector_error_model(allow_gauge_detectors=True, decompose_errors=False, flatten_loops=True)
    except ValueError:
        return None
    _ANALYSES[0] += 1
    # argument index of each (instruction offset, first target) of a positive parametric group
    where: dict[tuple[int, int], tuple[int, str]] = {}
    n_values = 0
    for pos, inst in enumerate(c):
        args = inst.gate_args_copy()
        if inst.name in _PARAMETRIC and len(args) == 1 and args[0] > 0.0:
            start = 0
            for g in inst.target_groups():
                where[(pos, start)] = (n_values, inst.name)
                n_values += 1
                start += len(g)
    sources: dict[tuple[int, ...], list[tuple[int, int]]] = {}
    for err in explained:
        dets = tuple(
            sorted(
                d.val - offset
                for d in (t.dem_target for t in err.dem_error_terms)
                if d.is_relative_detector_id() and d.val >= offset
            )
        )
        if not dets:
            continue
        for loc in err.circuit_error_locations:
            key = (loc.stack_frames[0].instruction_offset, loc.instruction_targets.target_range_start)
            if key not in where:
                if not any(a > 0.0 for a in c[key[0]].gate_args_copy()):
                    continue  # stim lists zero-probability errors with the symptoms of real ones
                return None  # an error qrate cannot evaluate from an argument
            index, name = where[key]
            sources.setdefault(dets, []).append((index, 1 if name == "DEPOLARIZE1" else 0))
    constant: set[tuple[int, ...]] = set()
    for inst in gauge.flattened():
        if isinstance(inst, stim.DemInstruction) and inst.type == "error" and float(inst.args_copy()[0]) > 0.0:
            dets = tuple(sorted(t.val - offset for t in inst.targets_copy() if t.is_relative_detector_id() and t.val >= offset))
            if dets:
                constant.add(dets)
    syms = tuple(sorted(set(sources) | constant))
    ref = circuit.reference_sample()
    reference = np.array([bool(np.bitwise_xor.reduce(ref[list(par)])) if par else False for par in canon], dtype=np.bool_)
    return _Structure(
        len(canon),
        reference,
        syms,
        np.array([s in constant for s in syms], dtype=np.bool_),
        tuple(tuple(sources.get(s, ())) for s in syms),
    )


def _same_model(a: ErrorModel, b: ErrorModel, tol: float = 1e-12) -> bool:
    pa = dict(zip(a.symptoms, a.probabilities))
    pb = dict(zip(b.symptoms, b.probabilities))
    return (
        a.num_parities == b.num_parities
        and bool(np.array_equal(a.reference, b.reference))
        and pa.keys() == pb.keys()
        and all(abs(pa[s] - pb[s]) <= tol for s in pa)
    )


def plan_key(circuit: stim.Circuit, parities: Sequence[Sequence[int]], flags: Mapping[str, Flag]) -> str:
    """Hash of the circuit (text and full-precision gate arguments), its parities and flags."""
    h = hashlib.sha256(str(circuit).encode())
    for inst in circuit.flattened():
        args = inst.gate_args_copy()
        if args:
            h.update(("|" + ",".join(float(a).hex() for a in args)).encode())
    h.update(repr(tuple(canonical_parity(p) for p in parities)).encode())
    h.update(repr(tuple((n, f.parities, f.invert) for n, f in flags.items())).encode())
    return h.hexdigest()


def structure_key(
    circuit: stim.Circuit, parities: Sequence[Sequence[int]], flags: Mapping[str, Flag]
) -> tuple[str, tuple[float, ...]]:
    """(hash of the round's structure, its noise arguments): rounds with equal hashes differ only in
    the probabilities of their noise and share one stim error analysis (:func:`plan_round`)."""
    text, values = _groups(circuit)
    h = hashlib.sha256(text.encode())
    h.update(repr(tuple(canonical_parity(p) for p in parities)).encode())
    h.update(repr(tuple((n, f.parities, f.invert) for n, f in flags.items())).encode())
    return h.hexdigest(), values


def plan_round(circuit: stim.Circuit, parities: Sequence[Sequence[int]], flags: Mapping[str, Flag]) -> RoundPlan:
    """The counter sampler of one round (cached): table, sequential walk, or per-shot stim.

    Stim's error analysis runs once per round *structure* (:func:`structure_key`): a round whose
    circuit differs from an analysed one only in its noise probabilities gets its error model by
    evaluating the analysed mechanisms at its own probabilities (equal, to rounding, to its own
    analysis: checked against the first circuit of every structure).
    """
    skey, values = structure_key(circuit, parities, flags)
    key = (skey, values)
    with _CACHE_LOCK:
        plan = _CACHE.get(key)
        if plan is not None:
            _CACHE.move_to_end(key)
            return plan
        known = skey in _STRUCTURES
        structure = _STRUCTURES.get(skey)
        if known:
            _STRUCTURES.move_to_end(skey)
    if not known:
        structure = _analyse_structure(circuit, parities)
        if structure is not None:
            try:
                own = error_model(circuit, parities)
            except ValueError:
                own = None
            if own is None or not _same_model(structure.model(values), own):
                structure = None
        with _CACHE_LOCK:
            _STRUCTURES[skey] = structure
            while len(_STRUCTURES) > STRUCTURE_CACHE_SIZE:
                _STRUCTURES.popitem(last=False)
    model: ErrorModel | None = None
    if structure is not None:  # every circuit of a structure from its mechanisms: no dependence on which came first
        try:
            model = structure.model(values)
        except ValueError:
            model = None
    plan = _build_plan(circuit, parities, flags, model)
    with _CACHE_LOCK:
        _CACHE[key] = plan
        while len(_CACHE) > PLAN_CACHE_SIZE:
            _CACHE.popitem(last=False)
    return plan


def _build_plan(
    circuit: stim.Circuit, parities: Sequence[Sequence[int]], flags: Mapping[str, Flag], model: ErrorModel | None = None
) -> RoundPlan:
    names = tuple(flags)
    if model is None:
        try:
            model = error_model(circuit, parities)
        except ValueError as err:
            msg = f"stim's error analysis refused the circuit ({err}); sampling this round shot by shot"
            warnings.warn(msg, ExactSamplerFallback, stacklevel=3)
            return StimPlan(names, msg)
    if model.num_parities <= MAX_TABLE_PARITIES:
        return build_table(model, flags)
    try:
        seq = build_sequential(model, flags)
    except ValueError as err:
        return StimPlan(names, f"sequential walk too wide: {err}")
    if seq.max_open > MAX_OPEN_MECHANISMS:
        return StimPlan(names, f"{seq.max_open} mechanisms open at once > MAX_OPEN_MECHANISMS = {MAX_OPEN_MECHANISMS}")
    return seq


def clear_plan_cache() -> None:
    """Forget every cached plan and analysed structure."""
    with _CACHE_LOCK:
        _CACHE.clear()
        _STRUCTURES.clear()


@dataclass(frozen=True)
class ChiSquare:
    """Pearson chi-square goodness of fit (bins with expectation < ``min_expected`` merged)."""

    statistic: float
    dof: int
    pvalue: float


def chi_square_classes(observed: np.ndarray, probabilities: np.ndarray, min_expected: float = 5.0) -> ChiSquare:
    """Chi-square of class counts against exact class probabilities, merging sparse classes."""
    obs = np.asarray(observed, dtype=float)
    exp = np.asarray(probabilities, dtype=float) * obs.sum()
    big = exp >= min_expected
    o, e = list(obs[big]), list(exp[big])
    if (~big).any():
        ro, re = float(obs[~big].sum()), float(exp[~big].sum())
        if re >= min_expected or not e:
            o.append(ro)
            e.append(re)
        else:
            i = int(np.argmin(e))
            o[i] += ro
            e[i] += re
    if len(o) < 2:
        return ChiSquare(0.0, 0, 1.0)
    oa, ea = np.array(o), np.array(e)
    stat = float(((oa - ea) ** 2 / ea).sum())
    from scipy import stats  # on use: only the self-check needs it

    return ChiSquare(stat, len(o) - 1, float(stats.chi2.sf(stat, len(o) - 1)))


def class_counts(rows: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, int]:
    """Counts of each class among per-shot flag rows ``(shots, F)``; and the rows in no class."""
    rows = np.asarray(rows, dtype=np.bool_)
    classes = np.asarray(classes, dtype=np.bool_)
    if rows.shape[1] == 0:
        return np.array([rows.shape[0]]), 0
    both = np.packbits(np.concatenate([classes, rows]), axis=1)
    uniq, inv = np.unique(both, axis=0, return_inverse=True)
    inv = inv.ravel()
    cls, obs = inv[: len(classes)], np.bincount(inv[len(classes) :], minlength=len(uniq))
    known = obs[cls]
    return known, int(obs.sum() - known.sum())


def self_check(
    circuit: stim.Circuit,
    parities: Sequence[Sequence[int]],
    flags: Mapping[str, Flag],
    plan: RoundPlan,
    *,
    shots: int = 100_000,
    seed: int = 0,
    alpha: float = 1e-6,
    method: str = DEFAULT_METHOD,
    label: str = "round",
) -> float:
    """P-value of ``plan`` against ``shots`` per-shot stim shots; raise :class:`ExactSamplerMismatch` below ``alpha``.

    Chi-square on the outcome classes where they can be enumerated, else a two-sided z-test per
    flag (Bonferroni-corrected). A shot in a class of probability 0 fails outright.
    """
    if isinstance(plan, StimPlan):
        return 1.0
    rec = sample_records(circuit, shots, seed, method=method)
    values = flag_values(parity_bits(rec, parities), flags)
    rows = np.stack([values[c] for c in plan.counters], axis=1) if plan.counters else np.zeros((shots, 0), bool)
    dist = plan.class_distribution()
    if dist is not None:
        probs, classes = dist
        obs, unknown = class_counts(rows, classes)
        p = 0.0 if unknown else chi_square_classes(obs, probs).pvalue
        what = f"chi-square on {len(probs)} classes" + (f", {unknown} shots in impossible classes" if unknown else "")
    else:
        q = plan.flag_probabilities()
        k = rows.sum(axis=0)
        sd = np.sqrt(np.maximum(q * (1 - q) * shots, 1e-300))
        z = np.abs(k - q * shots) / sd
        z[(q * (1 - q) == 0) & (k == q * shots)] = 0.0
        from scipy import stats

        p = float(min(1.0, len(q) * 2 * stats.norm.sf(z.max()))) if len(q) else 1.0
        what = "per-flag z-tests"
    if p < alpha:
        raise ExactSamplerMismatch(
            f"{label}: exact {plan.kind} sampler disagrees with per-shot stim ({what}, {shots} shots, p = {p:.3g} < {alpha:g})"
        )
    return p
