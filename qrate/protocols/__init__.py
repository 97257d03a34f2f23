"""Protocol circuits in Stim for quantum anonymous networks (Khan et al. §III–IV).

Each protocol is a frozen dataclass with ``compile(noise) -> CompiledProtocol``; the compiled
object holds the stim circuits of each kind of heralded shot, the key/announced record indices,
vectorised decoders and ``sample_counts(shots, seed)`` (additive counters, documented in each
module). ``PROTOCOLS`` maps registry names to the classes.
"""

from __future__ import annotations

from qrate.protocols.acka import AnonymousConferenceKeyAgreement
from qrate.protocols.audit import AuditResult, anonymity_audit
from qrate.protocols.broadcast import AnonymousBroadcast
from qrate.protocols.compiled import CompiledProtocol, Round
from qrate.protocols.entanglement import AnonymousEntanglement, bell_fidelity
from qrate.protocols.layout import (
    NetworkLayout,
    TerrestrialNetwork,
    chain_layout,
    khan_acka_layout,
    khan_broadcast_layout,
)
from qrate.protocols.noise import PauliNoise
from qrate.protocols.notification import Notification
from qrate.protocols.teleport import AnonymousTeleportation, teleport_fidelity

PROTOCOLS: dict[str, type] = {
    "acka": AnonymousConferenceKeyAgreement,
    "broadcast": AnonymousBroadcast,
    "anonymous-entanglement": AnonymousEntanglement,
    "teleportation": AnonymousTeleportation,
    "notification": Notification,
}

__all__ = [
    "PROTOCOLS",
    "AnonymousBroadcast",
    "AnonymousConferenceKeyAgreement",
    "AnonymousEntanglement",
    "AnonymousTeleportation",
    "AuditResult",
    "CompiledProtocol",
    "NetworkLayout",
    "Notification",
    "PauliNoise",
    "Round",
    "TerrestrialNetwork",
    "anonymity_audit",
    "bell_fidelity",
    "chain_layout",
    "khan_acka_layout",
    "khan_broadcast_layout",
    "teleport_fidelity",
]
