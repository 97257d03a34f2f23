"""Carrier states in Stim: GHZ states, Bell pairs, and fusion by Bell-state measurement (BSM).

:class:`CircuitBuilder` allocates qubits by photon name and tracks measurement-record indices, so
protocol modules can say "measure alice in X" and later "XOR the records of ..." without counting
``rec[-k]`` by hand. Corrections after a BSM are applied in the circuit as classically controlled
Paulis (``CX rec[-k] q``, ``CZ rec[-k] q``). All noise here is Pauli, so applying the corrections
right after each BSM is equivalent to the Pauli-frame bookkeeping of the real protocol, where each
correction is applied later by whoever receives the announcement.

BSM on (g, b), g the GS half of ``|0..0>+|1..1>`` and b one half of ``|00>+|11>``:
``CX g b; H g; M g -> m_x; M b -> m_z`` leaves the GHZ on the other qubits and b's partner, up to
``X^{m_z}`` on the partner and ``Z^{m_x}`` on any one qubit of the new GHZ.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import stim

from qrate.protocols.layout import NetworkLayout
from qrate.protocols.noise import PauliNoise


class CircuitBuilder:
    """Append-only stim circuit with named qubits and absolute measurement indices."""

    def __init__(self) -> None:
        self.circuit = stim.Circuit()
        self.qubits: dict[str, int] = {}
        self.num_measurements = 0

    def q(self, name: str) -> int:
        """Qubit index of photon ``name`` (allocated on first use)."""
        if name not in self.qubits:
            self.qubits[name] = len(self.qubits)
        return self.qubits[name]

    def append(self, gate: str, names: Sequence[str], arg: float | None = None) -> None:
        """Append ``gate`` on the named qubits (``arg``: noise probability)."""
        targets = [self.q(n) for n in names]
        if arg is None:
            self.circuit.append(gate, targets)
        else:
            self.circuit.append(gate, targets, arg)

    def noise(self, gate: str, name: str, p: float) -> None:
        """Append a single-qubit noise channel if ``p > 0``."""
        if p > 0:
            self.append(gate, [name], p)

    def measure(self, basis: str, name: str, flip: float = 0.0) -> int:
        """Measure ``name`` in basis ``"X"``, ``"Y"`` or ``"Z"`` with readout-flip ``flip``; return its index."""
        gate = {"X": "MX", "Y": "MY", "Z": "M"}[basis]
        self.append(gate, [name], float(flip))
        self.num_measurements += 1
        return self.num_measurements - 1

    def random_bit(self, name: str) -> int:
        """A fresh uniform random bit in the record (measure ``|+>`` in Z); return its index."""
        self.append("RX", [name])
        return self.measure("Z", name)

    def fixed_bit(self, name: str, value: int) -> int:
        """A constant bit in the record; return its index."""
        self.append("R", [name])
        if value:
            self.append("X", [name])
        return self.measure("Z", name)

    def controlled(self, pauli: str, controls: Iterable[int], name: str) -> None:
        """Apply ``pauli`` (``"X"`` or ``"Z"``) to ``name`` once per record index in ``controls``."""
        gate = {"X": "CX", "Z": "CZ"}[pauli]
        targets: list[stim.GateTarget | int] = []
        for m in controls:
            targets += [stim.target_rec(m - self.num_measurements), self.q(name)]
        if targets:
            self.circuit.append(gate, targets)


def ghz(b: CircuitBuilder, names: Sequence[str], fidelity: float = 1.0) -> None:
    """Prepare ``(|0..0> + |1..1>)/√2`` on ``names`` (first one is the root), with white noise of
    fidelity ``fidelity`` (:func:`ghz_white_noise`)."""
    b.append("RX", names[:1])
    if len(names) > 1:
        b.append("R", names[1:])
        for n in names[1:]:
            b.append("CX", [names[0], n])
    if fidelity < 1.0:
        ghz_white_noise(b, names, fidelity)


def ghz_white_noise(b: CircuitBuilder, names: Sequence[str], fidelity: float) -> None:
    """White noise (1 - p)|GHZ><GHZ| + p I/2^N, p = (1 - F)/(1 - 2^-N), on a GHZ state just prepared on
    ``names``: exactly, as independent ``CORRELATED_ERROR`` terms on the 2^N - 1 non-trivial stabiliser
    cosets, up to :data:`~qrate.channels.sources.GHZ_EXACT_MAX_QUBITS` qubits; per photon beyond."""
    from qrate.channels.sources import (
        GHZ_EXACT_MAX_QUBITS,
        ghz_depolarising_probability,
        ghz_photon_depolarising_probability,
        ghz_white_noise_terms,
    )

    n = len(names)
    if n > GHZ_EXACT_MAX_QUBITS:
        p_ph = ghz_photon_depolarising_probability(fidelity, n)
        for name in names:
            b.noise("DEPOLARIZE1", name, p_ph)
        return
    q, terms = ghz_white_noise_terms(n, ghz_depolarising_probability(max(fidelity, 2.0**-n), n))
    if q <= 0.0:
        return
    for term in terms:
        targets = [stim.target_pauli(b.q(name), letter) for name, letter in zip(names, term, strict=True) if letter != "I"]
        b.circuit.append("CORRELATED_ERROR", targets, q)


def bell(b: CircuitBuilder, left: str, right: str) -> None:
    """Prepare ``|Φ+> = (|00> + |11>)/√2`` on (left, right)."""
    ghz(b, [left, right])


def bsm(b: CircuitBuilder, g: str, h: str) -> tuple[int, int]:
    """Noiseless Bell-state measurement of (g, h); returns record indices ``(m_x, m_z)``.

    ``m_x`` = 1 means ``X_g X_h = -1``; ``m_z`` = 1 means ``Z_g Z_h = -1``.
    """
    b.append("CX", [g, h])
    b.append("H", [g])
    return b.measure("Z", g), b.measure("Z", h)


def fiber_noise(b: CircuitBuilder, user: str, noise: PauliNoise, copy: str | None = None) -> None:
    """Z and X flips and depolarisation of ``user``'s photon (qubit ``copy`` if given, else ``user``)."""
    name = copy or user
    b.noise("Z_ERROR", name, noise.z_flip.get(user, 0.0))
    b.noise("X_ERROR", name, noise.x_flip.get(user, 0.0))
    b.noise("DEPOLARIZE1", name, noise.depolarize.get(user, 0.0))


@dataclass(frozen=True)
class Carrier:
    """Result of :func:`chain_carrier`: a GHZ on all users of a layout.

    Attributes:
        qubit: user name -> qubit name holding that user's photon in this copy.
        bsm_records: record indices of every BSM outcome (public announcements), ``(m_x, m_z)`` pairs.
    """

    qubit: dict[str, str]
    bsm_records: tuple[tuple[int, int], ...]


def chain_carrier(b: CircuitBuilder, layout: NetworkLayout, noise: PauliNoise, *, prefix: str = "") -> Carrier:
    """GHZ on all users of ``layout`` after noise, BSM fusions and their corrections.

    Every GS prepares a GHZ on its users and one local qubit per neighbouring Bell pair; the
    Bell photons get ``depolarize`` noise, the user photons ``z_flip``/``x_flip``; each Bell photon
    that reaches a GHZ GS is fused with its GHZ qubit by a BSM. ``X^{m_z}`` goes to the surviving
    Bell photon (or the rest of the newly fused GHZ), ``Z^{m_x}`` to the first user of network 0,
    which is always inside the part fused so far: after each fusion the fused part is exactly
    ``|0..0> + |1..1>`` up to the noise. ``prefix`` names an independent copy.
    """
    nets = layout.networks
    pairs = layout.bell_pairs
    qubit = {u: prefix + u for u in layout.users}
    anchor = qubit[nets[0].users[0]]
    ghz_local: dict[tuple[int, int], str] = {}  # (network, bell index) -> GS-local GHZ qubit
    for i, net in enumerate(nets):
        if net.forward:
            continue
        links = [k for k in (i - 1, i) if 0 <= k < len(pairs)]
        local = [f"{prefix}{net.ground_station}.ghz{k}" for k in links]
        for k, name in zip(links, local):
            ghz_local[(i, k)] = name
        ghz(b, [qubit[u] for u in net.users] + local, noise.ghz_fidelity.get(net.ground_station, 1.0))
    for k, (left, right) in enumerate(pairs):
        lq = qubit[nets[k].users[0]] if nets[k].forward else prefix + left
        rq = qubit[nets[k + 1].users[0]] if nets[k + 1].forward else prefix + right
        bell(b, lq, rq)
        b.noise("DEPOLARIZE1", lq, noise.depolarize.get(left, 0.0))
        b.noise("DEPOLARIZE1", rq, noise.depolarize.get(right, 0.0))
        b.noise("Z_ERROR", lq, noise.z_flip.get(left, 0.0))
        b.noise("Z_ERROR", rq, noise.z_flip.get(right, 0.0))
    for u in layout.users:
        fiber_noise(b, u, noise, qubit[u])
    # Fuse left to right: after fusing link k, the GHZ spans networks 0..k plus the right Bell photon.
    records: list[tuple[int, int]] = []
    for k, (left, right) in enumerate(pairs):
        if not nets[k].forward:
            mx, mz = bsm(b, ghz_local[(k, k)], prefix + left)
            b.controlled("X", [mz], qubit[nets[k + 1].users[0]] if nets[k + 1].forward else prefix + right)
            b.controlled("Z", [mx], anchor)
            records.append((mx, mz))
        if not nets[k + 1].forward:
            # GHZ (k+1) root side: its local qubit for link k is fused with the right Bell photon.
            mx, mz = bsm(b, prefix + right, ghz_local[(k + 1, k)])
            # X^{m_z} lands on the rest of network k+1's GHZ: apply it to all its other qubits.
            rest = [qubit[u] for u in nets[k + 1].users]
            if (k + 1, k + 1) in ghz_local:
                rest.append(ghz_local[(k + 1, k + 1)])
            for name in rest:
                b.controlled("X", [mz], name)
            b.controlled("Z", [mx], anchor)
            records.append((mx, mz))
    return Carrier(qubit=qubit, bsm_records=tuple(records))
