"""A compiled protocol's circuits as a template over its Pauli noise: points that differ only in how
much noise their photons carry get their circuits by substitution, without building them again.

A protocol builds its circuits in Python, one stim instruction at a time (about 30 µs per
instruction, some ms per protocol), and passes each noise probability to a gate as its argument,
appending the gate only when the probability is positive. So, for a fixed protocol and a fixed set
of photons with positive ``z_flip``, ``x_flip``, ``depolarize`` and ``readout_flip`` (and fixed GHZ
fidelities, which enter through a function), the circuits differ only in those arguments.

:func:`noise_template` checks this for the point at hand: it compiles the protocol twice, with the
point's noise and with every positive probability replaced by a distinct marker value, and records
for each gate argument either the noise entry whose marker it carries (the real compile must carry
that entry's value there) or a constant (equal in both compiles). Any other difference (another
circuit text, another round, an argument that is a function of a marker) and there is no template.
:meth:`NoiseTemplate.compile` then writes the circuits of another noise with the same positive
entries as stim text (arguments in full precision) and parses them; the template is checked once
against the real compile of its first point (equal stim circuits). The assumption it relies on is
that a protocol's circuit *text* depends on its noise only through which probabilities are
positive (true of every protocol here: ``CircuitBuilder.noise`` appends a gate iff ``p > 0``).
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import stim

from qrate.protocols.compiled import CompiledProtocol
from qrate.protocols.noise import PauliNoise

_FIELDS = ("z_flip", "x_flip", "depolarize", "readout_flip")

Entry = tuple[str, str]
"""A noise entry: (field, photon or user name); ``("readout_flip", "")`` for a scalar readout flip."""


def positive_entries(noise: PauliNoise) -> tuple[Entry, ...]:
    """The noise entries with a positive probability, in a fixed order."""
    out: list[Entry] = []
    for f in _FIELDS:
        value = getattr(noise, f)
        if isinstance(value, Mapping):
            out += [(f, k) for k in sorted(value) if value[k] > 0.0]
        elif value > 0.0:
            out.append((f, ""))
    return tuple(out)


def _value(noise: PauliNoise, entry: Entry) -> float:
    value = getattr(noise, entry[0])
    return float(value[entry[1]]) if isinstance(value, Mapping) else float(value)


def _with_values(noise: PauliNoise, entries: tuple[Entry, ...], values: list[float]) -> PauliNoise:
    fields: dict[str, Any] = {
        f: dict(getattr(noise, f)) if isinstance(getattr(noise, f), Mapping) else getattr(noise, f) for f in _FIELDS
    }
    for (f, k), v in zip(entries, values):
        if isinstance(fields[f], dict):
            fields[f][k] = v
        else:
            fields[f] = v
    return PauliNoise(**fields, ghz_fidelity=dict(noise.ghz_fidelity))


def _markers(n: int) -> list[float]:
    """``n`` distinct probabilities in (0.01, 0.5) that no protocol constant is likely to equal."""
    return [0.01 + 0.48 * (i + math.sqrt(2.0) - 1.0) / (n + 1) + 1e-9 * math.pi for i in range(n)]


@dataclass(frozen=True, eq=False)
class _RoundTemplate:
    """One round: per instruction its stim text with ``{}`` for the arguments, and per argument the
    index of its noise entry (>= 0) or the constant it carries."""

    lines: tuple[tuple[str, str], ...]  # (gate name, " targets") per target group
    args: tuple[tuple[int | float, ...], ...]  # entry index (int) or constant (float) per argument


@dataclass(frozen=True, eq=False)
class NoiseTemplate:
    """The circuits of a compiled protocol as functions of its positive noise entries."""

    base: CompiledProtocol
    entries: tuple[Entry, ...]
    rounds: tuple[_RoundTemplate, ...]

    def compile(self, noise: PauliNoise) -> CompiledProtocol:
        """The protocol compiled with ``noise`` (the same positive entries and GHZ fidelities as the template's)."""
        values = [_value(noise, e) for e in self.entries]
        new = []
        for r, t in zip(self.base.rounds, self.rounds):
            text = []
            for (name, rest), slots in zip(t.lines, t.args):
                args = [values[a] if isinstance(a, int) else a for a in slots]
                text.append(f"{name}({','.join(repr(float(a)) for a in args)}){rest}" if slots else f"{name}{rest}")
            new.append(dataclasses.replace(r, circuit=stim.Circuit("\n".join(text))))
        return dataclasses.replace(self.base, rounds=tuple(new))


def _target_groups(c: stim.Circuit) -> list[tuple[str, list[stim.GateTarget], list[float]]] | None:
    """(gate, targets, arguments) of every target group, unfused (None for a circuit with loops)."""
    out = []
    for inst in c:
        if isinstance(inst, stim.CircuitRepeatBlock):
            return None
        args = inst.gate_args_copy()
        for g in inst.target_groups():
            out.append((inst.name, g, args))
    return out


def _round_template(
    real: stim.Circuit, marked: stim.Circuit, markers: dict[float, int], values: list[float]
) -> _RoundTemplate | None:
    a_groups, m_groups = _target_groups(real), _target_groups(marked)
    if a_groups is None or m_groups is None or len(a_groups) != len(m_groups):
        return None
    lines, args = [], []
    for (name, targets, ra), (m_name, m_targets, ma) in zip(a_groups, m_groups):
        if name != m_name or targets != m_targets or len(ra) != len(ma):
            return None
        slots: list[int | float] = []
        for x, y in zip(ra, ma):
            i = markers.get(y)
            if i is not None and x == values[i]:
                slots.append(i)
            elif x == y and y not in markers:
                slots.append(float(x))
            else:
                return None
        text = str(stim.CircuitInstruction(name, targets, [0.5] * len(ra)))
        rest = text[text.index(")") + 1 :] if ra else text[len(name) :]
        lines.append((name, rest))
        args.append(tuple(slots))
    return _RoundTemplate(tuple(lines), tuple(args))


def noise_template(protocol: Any, noise: PauliNoise, compiled: CompiledProtocol, **options: Any) -> NoiseTemplate | None:
    """The template of ``protocol`` at the positive entries of ``noise`` (``compiled`` is
    ``protocol.compile(noise, **options)``), or None where the protocol's circuits are not a
    function of those entries' values as gate arguments alone."""
    entries = positive_entries(noise)
    values = [_value(noise, e) for e in entries]
    marks = _markers(len(entries))
    if set(marks) & set(values):
        return None
    marked = protocol.compile(_with_values(noise, entries, marks), **options)
    if not isinstance(marked, CompiledProtocol) or len(marked.rounds) != len(compiled.rounds):
        return None
    index = {m: i for i, m in enumerate(marks)}
    rounds = []
    for r, m in zip(compiled.rounds, marked.rounds):
        if (r.name, r.probability, r.counter, r.parities, dict(r.flags)) != (
            m.name,
            m.probability,
            m.counter,
            m.parities,
            dict(m.flags),
        ):
            return None
        t = _round_template(r.circuit, m.circuit, index, values)
        if t is None:
            return None
        rounds.append(t)
    if (marked.counter_names, dict(marked.resources)) != (compiled.counter_names, dict(compiled.resources)):
        return None
    template = NoiseTemplate(compiled, entries, tuple(rounds))
    again = template.compile(noise)
    if any(a.circuit != b.circuit for a, b in zip(again.rounds, compiled.rounds)):
        return None
    return template


_TEMPLATES: OrderedDict[Hashable, NoiseTemplate | None] = OrderedDict()
_TEMPLATES_MAX = 256
_TEMPLATES_LOCK = threading.Lock()


def compile_noise(protocol: Any, noise: PauliNoise, key: Hashable, **options: Any) -> CompiledProtocol:
    """``protocol.compile(noise, **options)``, by substitution into the template of ``key`` where one
    exists (``key`` must fix the protocol, the options, the positive noise entries and the GHZ
    fidelities); the first call of a key compiles and tries to make its template."""
    with _TEMPLATES_LOCK:
        known = key in _TEMPLATES
        template = _TEMPLATES.get(key)
    if template is not None:
        return template.compile(noise)
    compiled = protocol.compile(noise, **options)
    if not known:
        made = noise_template(protocol, noise, compiled, **options) if isinstance(compiled, CompiledProtocol) else None
        with _TEMPLATES_LOCK:
            _TEMPLATES[key] = made
            while len(_TEMPLATES) > _TEMPLATES_MAX:
                _TEMPLATES.popitem(last=False)
    return compiled
