"""What the engine runs: a protocol compiled for given noise, as a few stim circuits ("rounds").

A heralded shot is one round of one kind (key, X-verification, ...). A round declares what it
counts: ``parities`` (XORs of measurement records) and ``flags`` (counter name ->
:class:`~qrate.protocols._decode.Flag`, a parity or "any of" several, possibly inverted); one
generic decoder (records -> parity bits -> flags) serves every protocol.

``sample_counts`` / ``draw_counts`` split the shots between the rounds by a multinomial draw with
the round probabilities, then draw each round's counters (when every round is an exact table, the
split and the classes are one multinomial over (round, class): :attr:`CompiledProtocol.counter_table`):

* ``sampler="exact"`` (default): from stim's detector error model of the round's parities
  (:mod:`qrate.protocols.exact`): one multinomial over the round's outcome classes, or an exact
  sequential binomial walk for many parities; cost independent of the number of shots. Rounds
  the exact sampler cannot take fall back to per-shot stim (see :attr:`CompiledProtocol.round_samplers`).
* ``sampler="stim"``: every shot sampled with stim (back end ``method``: ``"flip"`` or
  ``"compiled"``) and decoded; the cross-check of the exact path.

Counters are additive over batches: ``sample_counts(a, s1) + sample_counts(b, s2)`` is a valid
sample of ``a + b`` shots.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import stim

from qrate.errors import InputError, count_arg
from qrate.protocols._decode import (
    CHUNK_SHOTS,
    DEFAULT_METHOD,
    DEFAULT_SAMPLER,
    SAMPLER_CHOICES,
    Flag,
    as_bool_records,
    flag_values,
    parity_bits,
    sample_records,
    stim_seeds,
    xor_columns,
)
from qrate.protocols.exact import RoundPlan, StimPlan, TablePlan, plan_round, self_check
from qrate.seeding import MAX_SEED, MAX_STIM_SEED

METHOD_CHOICES = ("flip", "compiled")

__all__ = ["CompiledProtocol", "Flag", "Round"]


@dataclass(frozen=True)
class Round:
    """One kind of heralded shot.

    Attributes:
        name: e.g. ``"key"``, ``"verify_x"``.
        circuit: stim circuit of one shot of this kind (noise included).
        probability: probability that a heralded shot is of this kind.
        counter: counter name that counts the shots of this kind (None: not counted separately).
        parities: ``k`` parities, each the XOR of the listed measurement-record indices.
        flags: counter name -> :class:`Flag` over ``parities``; each shot adds its flag (0/1).
        announcements: public bit name -> record indices whose XOR is the announced bit, in the
            same order whoever is the sender (the transcript of the anonymity audit).
        key_bits: party -> record index of its raw key (or output) bit, where that applies.
    """

    name: str
    circuit: stim.Circuit
    probability: float
    counter: str | None
    parities: tuple[tuple[int, ...], ...]
    flags: Mapping[str, Flag]
    announcements: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    key_bits: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parities", tuple(tuple(int(i) for i in p) for p in self.parities))
        object.__setattr__(self, "flags", dict(self.flags))
        m, k = self.circuit.num_measurements, len(self.parities)
        bad = [p for p in self.parities if any(not 0 <= i < m for i in p)]
        if bad:
            raise ValueError(f"round {self.name!r}: parities {bad} name records outside 0..{m - 1}")
        for name, f in self.flags.items():
            if not isinstance(f, Flag) or any(j >= k for j in f.parities):
                raise ValueError(f"round {self.name!r}: flag {name!r} = {f!r} is not a Flag over {k} parities")

    def decode(self, records: np.ndarray) -> dict[str, np.ndarray]:
        """Per-shot bool flags by counter name of bool records ``(shots, M)``."""
        return flag_values(parity_bits(records, self.parities), self.flags)


@dataclass(frozen=True)
class CompiledProtocol:
    """A protocol compiled for one noise setting.

    Attributes:
        name: registry name of the protocol.
        rounds: the kinds of shot and their probabilities (summing to 1).
        counter_names: every counter ``sample_counts`` returns (``"shots"`` first).
        resources: carriers consumed per heralded shot, e.g. ``{"ghz": 1, "bell": 1, "bsm": 1}``.
        method: stim back end of per-shot sampling, ``"flip"`` or ``"compiled"``.
        sampler: ``"exact"`` (detector-error-model counters) or ``"stim"`` (per-shot stim).
        self_check: build the exact plans at construction and compare each with 1e5 per-shot
            stim shots (:func:`qrate.protocols.exact.self_check`; raises on a mismatch).
    """

    name: str
    rounds: tuple[Round, ...]
    counter_names: tuple[str, ...]
    resources: Mapping[str, int] = field(default_factory=dict)
    method: str = DEFAULT_METHOD
    sampler: str = DEFAULT_SAMPLER
    self_check: bool = False

    def __post_init__(self) -> None:
        if self.method not in METHOD_CHOICES:
            raise InputError("method", f"must be one of {METHOD_CHOICES}, got {self.method!r}")
        if self.sampler not in SAMPLER_CHOICES:
            raise InputError("sampler", f"must be one of {SAMPLER_CHOICES}, got {self.sampler!r}")
        known = set(self.counter_names)
        for r in self.rounds:
            missing = [c for c in [r.counter, *r.flags] if c is not None and c not in known]
            if missing:
                raise ValueError(f"round {r.name!r} feeds counters {missing} missing from counter_names")
        if self.self_check:
            self.check_exact()

    @property
    def circuits(self) -> dict[str, stim.Circuit]:
        """Round name -> stim circuit."""
        return {r.name: r.circuit for r in self.rounds}

    def round(self, name: str) -> Round:
        """The round called ``name``."""
        for r in self.rounds:
            if r.name == name:
                return r
        raise InputError("round", f"no round {name!r}; rounds: {[r.name for r in self.rounds]}")

    def decode(self, round_name: str, records: np.ndarray) -> dict[str, np.ndarray]:
        """Per-shot flags of a batch of records (bool, or stim bit-packed uint8) of one round."""
        r = self.round(round_name)
        return r.decode(as_bool_records(records, r.circuit.num_measurements))

    @cached_property
    def plans(self) -> tuple[RoundPlan, ...]:
        """Per-round counter samplers (cached per circuit; all :class:`StimPlan` for ``sampler="stim"``)."""
        if self.sampler == "stim":
            return tuple(StimPlan(tuple(r.flags), "sampler='stim' requested") for r in self.rounds)
        return tuple(plan_round(r.circuit, r.parities, r.flags) for r in self.rounds)

    @property
    def round_samplers(self) -> dict[str, str]:
        """Round name -> sampler used: ``"exact-table"``, ``"exact-sequential"`` or ``"stim"``."""
        return {r.name: p.kind for r, p in zip(self.rounds, self.plans)}

    def check_exact(self, shots: int = 100_000, seed: int = 0, alpha: float = 1e-6) -> dict[str, float]:
        """Round name -> p-value of the exact plan against ``shots`` per-shot stim shots.

        Raises :class:`~qrate.protocols.exact.ExactSamplerMismatch` if one is below ``alpha``.
        Rounds on the stim sampler are skipped.
        """
        shots = count_arg("shots", shots, minimum=1)
        out = {}
        seeds = stim_seeds(np.random.default_rng(count_arg("seed", seed, maximum=MAX_SEED)), len(self.rounds))
        for r, p, s in zip(self.rounds, self.plans, seeds):
            if not isinstance(p, StimPlan):
                out[r.name] = self_check(
                    r.circuit,
                    r.parities,
                    r.flags,
                    p,
                    shots=shots,
                    seed=s,
                    alpha=alpha,
                    method=self.method,
                    label=f"{self.name}/{r.name}",
                )
        return out

    def split_shots(self, shots: int, rng: np.random.Generator) -> np.ndarray:
        """Multinomial split of ``shots`` between the rounds."""
        return rng.multinomial(count_arg("shots", shots), self._round_weights)

    @cached_property
    def _round_weights(self) -> np.ndarray:
        """The rounds' probabilities normalised to sum 1 (the multinomial of :meth:`split_shots`)."""
        p = np.array([r.probability for r in self.rounds], dtype=float)
        return p / p.sum()

    @cached_property
    def counter_table(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(probabilities, rows)`` of the joint (round, outcome class) distribution of one shot when
        every round is an exact table, else None.

        The round of a shot and its outcome class given the round are one categorical variable with
        probability P(round) P(class | round); ``rows[i]`` (int64, one column per counter of
        :attr:`counter_names`) is what a shot of category ``i`` adds to the counters, ``"shots"``
        and the round's own counter included. ``n`` shots are then one multinomial draw, and the
        counters ``multinomial @ rows``: the same distribution as splitting the shots between the
        rounds and drawing each round's classes, in one draw.
        """
        if not self.plans or not all(isinstance(p, TablePlan) for p in self.plans):
            return None
        index = {n: i for i, n in enumerate(self.counter_names)}
        probs, blocks = [], []
        for w, r, plan in zip(self._round_weights, self.rounds, self.plans):
            assert isinstance(plan, TablePlan)
            block = np.zeros((plan.probabilities.size, len(self.counter_names)), dtype=np.int64)
            block[:, index["shots"]] += 1
            if r.counter is not None:
                block[:, index[r.counter]] += 1
            for j, name in enumerate(plan.counters):
                block[:, index[name]] += plan.class_flags[:, j]
            probs.append(w * plan.probabilities)
            blocks.append(block)
        p = np.concatenate(probs)
        p.setflags(write=False)
        rows = np.concatenate(blocks)
        rows.setflags(write=False)
        return p, rows

    def draw_counts(self, shots: int, rng: np.random.Generator) -> np.ndarray:
        """Counters (int64, :attr:`counter_names` order) of ``shots`` heralded shots drawn from ``rng``
        (the inner path: ``shots`` is not checked).

        With every round an exact table: one multinomial over (round, class) (:attr:`counter_table`).
        Otherwise one multinomial split between the rounds, then each round's counters (an exact
        plan's draws, or per-shot stim seeded from ``rng``), round after round.
        """
        table = self.counter_table
        if table is not None:
            return rng.multinomial(shots, table[0]) @ table[1]
        index = self._counter_index
        out = np.zeros(len(self.counter_names), dtype=np.int64)
        out[index["shots"]] = shots
        split = rng.multinomial(shots, self._round_weights)
        for r, plan, n in zip(self.rounds, self.plans, split.tolist()):
            if r.counter is not None:
                out[index[r.counter]] += n
            if n == 0:
                continue
            if isinstance(plan, StimPlan):
                values = self._stim_counts(r, n, int(rng.integers(MAX_STIM_SEED)))
            else:
                values = plan.sample(n, rng)
            for k, v in zip(plan.counters, values):
                out[index[k]] += int(v)
        return out

    @cached_property
    def _counter_index(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.counter_names)}

    def sample_counts(self, shots: int, seed: int | np.random.Generator) -> dict[str, int]:
        """All counters summed over ``shots`` heralded shots (:meth:`draw_counts`), drawn from the
        generator ``seed`` or from ``Generator(PCG64(seed))``: deterministic for ``(shots, seed)``.

        Raises:
            InputError: ``shots`` or ``seed`` not an integer in range (:func:`qrate.errors.count_arg`).
        """
        shots = count_arg("shots", shots)
        if isinstance(seed, np.random.Generator):
            rng = seed
        else:
            rng = np.random.Generator(np.random.PCG64(count_arg("seed", seed, maximum=MAX_SEED)))
        return dict(zip(self.counter_names, self.draw_counts(shots, rng).tolist()))

    def _stim_counts(self, r: Round, n: int, seed: int) -> np.ndarray:
        """Flag sums (in ``r.flags`` order) of ``n`` shots sampled one by one with stim."""
        sampler = r.circuit.compile_sampler(seed=seed) if self.method == "compiled" else None
        sub = np.random.default_rng(seed)
        out = np.zeros(len(r.flags), dtype=np.int64)
        done = 0
        while done < n:
            m = int(min(CHUNK_SHOTS, n - done))
            if sampler is not None:
                rec = sampler.sample(m)
            else:
                rec = sample_records(r.circuit, m, int(sub.integers(2**63 - 1)), method=self.method)
            out += [np.count_nonzero(v) for v in r.decode(rec).values()]
            done += m
        return out

    def sample_transcripts(self, round_name: str, shots: int, seed: int) -> tuple[tuple[str, ...], np.ndarray]:
        """Public announcements of ``shots`` shots of one round: (names, bool ``(shots, k)``)."""
        r = self.round(round_name)
        shots = count_arg("shots", shots)
        rec = sample_records(r.circuit, shots, seed)
        names = tuple(r.announcements)
        bits = [xor_columns(rec, r.announcements[k]) for k in names]
        out = np.stack(bits, axis=1) if bits else np.zeros((shots, 0), dtype=np.bool_)
        return names, out
