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
from qrate.protocols.entanglement import AnonymousEntanglement
from qrate.protocols.layout import NetworkLayout
from qrate.protocols.noise import PauliNoise

if TYPE_CHECKING:
    from qrate.scenario.schema import ProtocolSpec

STATES = ("+x", "-x", "+y", "-y", "+z", "-z")
_PREP = {"x": "RX", "y": "RY", "z": "R"}
_FLIP = {"x": "Z", "y": "X", "z": "X"}  # takes the +1 eigenstate to the -1 one


def teleport_fidelity(counts: Mapping[str, int]) -> float:
    """Average fidelity over the six Pauli eigenstates (= average over states of 1 − error rate)."""
    return 1.0 - float(np.mean([counts[f"errors:{s}"] / max(counts[f"rounds:{s}"], 1) for s in STATES]))


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
    scenario_fields: ClassVar[tuple[str, ...]] = ("participants",)
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

    def report(self) -> dict[str, Any]:
        """Counter roles: one round per input state, errors where the output is wrong."""
        return {
            "protocol": self.name,
            "default_y": "teleport_rate",
            "carriers_per_use": self.carriers_per_use,
            "estimators": [
                {
                    "kind": "teleported_qubit",
                    "rounds": {s: f"rounds:{s}" for s in STATES},
                    "errors": {s: f"errors:{s}" for s in STATES},
                }
            ],
        }

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
