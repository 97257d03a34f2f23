"""Anonymous teleportation (Khan et al. 2025, Sec. III-B; see "Anonymous teleportation" in qrate/MODELS.md): a
qubit over anonymous entanglement, with the two
correction bits sent by anonymous broadcast so that the sender stays hidden.

One heralded shot: the anonymous Bell pair of an :class:`AnonymousEntanglement`; the sender's
BSM of the input qubit with her half (``m_x``, ``m_z``); two broadcasts (two fresh chain
carriers on ``broadcast_layout``) of ``m_z`` and ``m_x`` by the sender; the receiver applies
``X`` and ``Z`` controlled by the decoded bits (the XOR of all announcements) and measures in the
input state's eigenbasis. The input is one of the six Pauli eigenstates, drawn uniformly (one
round each); the average fidelity over them is :func:`teleport_fidelity`.

Counters: ``shots``, and per state ``s`` in ``+x -x +y -y +z -z``: ``rounds:s`` and ``errors:s``
(receiver's outcome is not the input's eigenvalue).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from qrate.errors import InputError
from qrate.protocols._decode import DEFAULT_METHOD, DEFAULT_SAMPLER, Flag
from qrate.protocols.broadcast import broadcast_bit
from qrate.protocols.carriers import CircuitBuilder, bsm
from qrate.protocols.compiled import CompiledProtocol, Round
from qrate.protocols.entanglement import AnonymousEntanglement, check_fidelity
from qrate.protocols.estimator import Batches, Estimator, Quantity, Report, Summary
from qrate.protocols.layout import NetworkLayout
from qrate.protocols.noise import PauliNoise
from qrate.protocols.registry import NoParams

if TYPE_CHECKING:
    from qrate.scenario.schema import ProtocolSpec

STATES = ("+x", "-x", "+y", "-y", "+z", "-z")
_PREP = {"x": "RX", "y": "RY", "z": "R"}
_FLIP = {"x": "Z", "y": "X", "z": "X"}  # takes the +1 eigenstate to the -1 one


def teleport_fidelity(counts: Mapping[str, int]) -> float:
    """Average fidelity over the six Pauli eigenstates (= average over states of 1 − error rate)."""
    return 1.0 - float(np.mean([counts[f"errors:{s}"] / max(counts[f"rounds:{s}"], 1) for s in STATES]))


@dataclass(frozen=True)
class TeleportedQubit(Estimator):
    """Teleported qubits: their rate and the average fidelity over the six Pauli eigenstates,
    with its standard error.

    Attributes:
        rounds, errors: input state -> counter of its rounds / wrong outputs.
    """

    rounds: Mapping[str, str]
    errors: Mapping[str, str]

    kind: ClassVar[str] = "teleported_qubit"
    quantities: ClassVar[tuple[Quantity, ...]] = (
        Quantity(
            "teleport_rate_bps",
            "qubit_kps",
            "teleported qubits per second (k/s), ± 1σ across batches",
            "anonymous teleportation rate (kqubit/s)",
            1e-3,
            std="teleport_rate_std_bps",
            y="teleport_rate",
            total="teleported_qubits",
        ),
        Quantity(
            "teleport_fidelity",
            "fidelity",
            "average fidelity over the six Pauli eigenstates",
            "teleportation fidelity",
            1.0,
            fmt=".5f",
            sem="teleport_fidelity_stderr",
            y="fidelity",
        ),
        Quantity("teleport_fidelity_stderr", "±se", "standard error of the fidelity", "", fmt=".1e"),
    )

    def limits(self) -> list[tuple[str, str]]:
        """Each state's errors within its rounds."""
        return [(self.errors[k], self.rounds[k]) for k in self.rounds]

    def batch_values(self, b: Batches, pooled: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Per-batch teleportation rate."""
        return {"rate": b.uses_per_s * b.p_batches}

    def compute(self, b: Summary, p_success: float) -> dict[str, Any]:
        """Teleportation rate and average fidelity."""
        f, se = check_fidelity(b, self.rounds, self.errors, 1.0 / len(self.rounds))
        per_use = b.uses_per_s
        return {
            "teleport_rate_bps": per_use * p_success,
            "teleport_rate_std_bps": b.spreads(self)["rate"][0],
            "teleport_fidelity": f,
            "teleport_fidelity_stderr": se,
        }


@dataclass(frozen=True)
class AnonymousTeleportation:
    """Teleport from ``entanglement.sender`` to its partner (receiver or NTN node).

    Attributes:
        entanglement: the anonymous Bell pair to use.
        broadcast_layout: the chain that carries the two broadcasts; default: the entanglement's
            networks joined directly by one Bell pair per neighbouring pair of GSs.
    """

    entanglement: AnonymousEntanglement
    broadcast_layout: NetworkLayout | None = None

    name: ClassVar[str] = "teleportation"
    Params: ClassVar[type[NoParams]] = NoParams
    reads_participants: ClassVar[bool] = True
    estimators: ClassVar[tuple[type[Estimator], ...]] = (TeleportedQubit,)
    carriers_per_use: ClassVar[int] = 3

    @classmethod
    def from_scenario(cls, layout: NetworkLayout, spec: ProtocolSpec) -> AnonymousTeleportation:
        """Teleport from the sender to the one other participant (in another network)."""
        return cls(AnonymousEntanglement.from_scenario(layout, spec))

    def downlink_photons(self, link_index: int, ground_station: str) -> tuple[str, ...]:
        """Noise keys of that photon in the anonymous pair and in the broadcasts' carriers."""
        return (
            *self.entanglement.downlink_photons(link_index, ground_station),
            *self.bc_layout.downlink_photons(link_index, ground_station),
        )

    @property
    def carrier_resources(self) -> dict[str, int]:
        """One heralded carrier is heralded like an anonymous pair; a use takes three of them."""
        return self.entanglement.resources

    def report(self) -> Report:
        """Counter roles: one round per input state, errors where the output is wrong."""
        qubit = TeleportedQubit({s: f"rounds:{s}" for s in STATES}, {s: f"errors:{s}" for s in STATES})
        return Report(self.name, "teleport_rate", self.carriers_per_use, (qubit,))

    def __post_init__(self) -> None:
        if self.bc_layout is not None and self.entanglement.sender not in self.bc_layout.users:
            raise InputError("broadcast_layout", "the sender must be a user of the broadcast layout")

    @property
    def bc_layout(self) -> NetworkLayout:
        """The layout of the broadcast carriers."""
        return self.broadcast_layout or self.entanglement.layout

    @property
    def resources(self) -> dict[str, int]:
        """Carriers per teleported qubit: the anonymous pair plus two broadcasts."""
        ae, lay = self.entanglement.resources, self.bc_layout
        return {
            "ghz": ae["ghz"] + 2 * lay.ghz_count,
            "bell": ae["bell"] + 2 * lay.bell_count,
            "bsm": ae["bsm"] + 2 * lay.bsm_count + 1,
            "broadcasts": 2,
        }

    def compile(
        self, noise: PauliNoise | None = None, *, method: str = DEFAULT_METHOD, sampler: str = DEFAULT_SAMPLER
    ) -> CompiledProtocol:
        """Compile one round per input state for ``noise`` (one parity: the receiver's outcome)."""
        noise = noise or PauliNoise()
        ae, lay = self.entanglement, self.bc_layout
        rounds = []
        for s in STATES:
            b = CircuitBuilder()
            qa, qb, ann = ae.build_pair(b, noise)
            axis = s[1]
            b.append(_PREP[axis], ["psi"])
            if s[0] == "-":
                b.append(_FLIP[axis], ["psi"])
            mx, mz = bsm(b, "psi", qa)
            for k, (bit, pauli) in enumerate(((mz, "X"), (mx, "Z"))):
                _, bc_ann, _ = broadcast_bit(b, lay, noise, ae.sender, None, prefix=f"bc{k}/", message_record=bit)
                public = [i for u in lay.users for i in bc_ann[u]]
                b.controlled(pauli, public, qb)
                ann.update({f"bc{k}.{name}": v for name, v in bc_ann.items()})
            out = b.measure(axis.upper(), qb, noise.readout(ae.receiver) if ae.receiver else 0.0)
            flags = {f"errors:{s}": Flag((0,), invert=s[0] == "-")}  # error: outcome 1 for "+", 0 for "-"
            rounds.append(Round(s, b.circuit, 1 / 6, f"rounds:{s}", ((out,),), flags, ann, {"receiver": out}))
        counters = ("shots", *(f"rounds:{s}" for s in STATES), *(f"errors:{s}" for s in STATES))
        return CompiledProtocol(self.name, tuple(rounds), counters, self.resources, method, sampler)
