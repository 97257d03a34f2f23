"""Protocol circuits in Stim for quantum anonymous networks (Khan et al. 2025, Secs. III–IV; see "Protocols"
in qrate/MODELS.md).

Each protocol is a frozen dataclass in its own module implementing
:class:`~qrate.protocols.registry.ScenarioProtocol`: ``compile(noise) -> CompiledProtocol`` gives
the Stim circuits of each kind of heralded shot with declarative decoders and additive counters;
``report()`` says what the counters mean. :data:`~qrate.protocols.registry.PROTOCOLS` is the
registry. Names are imported lazily (PEP 562), so ``qrate.protocols.registry`` stays free of Stim.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "PROTOCOLS": "qrate.protocols.registry",
    "PROTOCOL_NAMES": "qrate.protocols.registry",
    "ScenarioProtocol": "qrate.protocols.registry",
    "build_protocol": "qrate.protocols.registry",
    "protocol_class": "qrate.protocols.registry",
    "AnonymousConferenceKeyAgreement": "qrate.protocols.acka",
    "AuditResult": "qrate.protocols.audit",
    "anonymity_audit": "qrate.protocols.audit",
    "AnonymousBroadcast": "qrate.protocols.broadcast",
    "CompiledProtocol": "qrate.protocols.compiled",
    "Round": "qrate.protocols.compiled",
    "AnonymousEntanglement": "qrate.protocols.entanglement",
    "bell_fidelity": "qrate.protocols.entanglement",
    "NetworkLayout": "qrate.protocols.layout",
    "TerrestrialNetwork": "qrate.protocols.layout",
    "chain_layout": "qrate.protocols.layout",
    "khan_acka_layout": "qrate.protocols.layout",
    "khan_broadcast_layout": "qrate.protocols.layout",
    "PauliNoise": "qrate.protocols.noise",
    "Notification": "qrate.protocols.notification",
    "AnonymousTeleportation": "qrate.protocols.teleport",
    "teleport_fidelity": "qrate.protocols.teleport",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qrate.protocols' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = sorted(_LAZY)
