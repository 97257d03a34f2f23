"""The protocol registry and the interface every scenario protocol implements.

A protocol is one module with one class implementing :class:`ScenarioProtocol`: it is built from
a scenario's network layout and ``[protocol]`` table, states the carriers one heralded success
consumes, compiles to Stim rounds for given Pauli noise, and declares its *report* (which counters
play which role and which estimates follow, :mod:`qrate.estimates`). The engine, the store,
``qrate show``, ``qrate plot`` and the benchmarks consult only this interface and the report, never
a protocol name. Adding a protocol: one module, one line in :data:`PROTOCOLS`, its tests.

This module imports no protocol (nor Stim) until a class is asked for, so the scenario schema can
check protocol names cheaply.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from qrate.errors import InputError

if TYPE_CHECKING:
    from qrate.protocols.compiled import CompiledProtocol
    from qrate.protocols.layout import NetworkLayout
    from qrate.protocols.noise import PauliNoise
    from qrate.scenario.schema import ProtocolSpec

PROTOCOLS: dict[str, str] = {
    "acka": "qrate.protocols.acka:AnonymousConferenceKeyAgreement",
    "broadcast": "qrate.protocols.broadcast:AnonymousBroadcast",
    "anonymous-entanglement": "qrate.protocols.entanglement:AnonymousEntanglement",
    "teleportation": "qrate.protocols.teleport:AnonymousTeleportation",
    "notification": "qrate.protocols.notification:Notification",
}
"""Registry name -> ``module:Class`` of every protocol a scenario can run."""

PROTOCOL_NAMES = tuple(PROTOCOLS)

#: optional ``[protocol]`` fields; a protocol lists those it reads in ``scenario_fields``
OPTIONAL_FIELDS = ("participants", "verification_fraction", "repetitions")


class ScenarioProtocol(Protocol):
    """What the engine needs from a protocol.

    Attributes:
        name: registry name.
        scenario_fields: the optional ``[protocol]`` fields it reads (others must be left unset).
        carriers_per_use: heralded carriers one use of the protocol consumes (e.g. 3 for
            teleportation: an anonymous pair and two broadcasts).
    """

    name: ClassVar[str]
    scenario_fields: ClassVar[tuple[str, ...]]
    carriers_per_use: ClassVar[int]

    @classmethod
    def from_scenario(cls, layout: NetworkLayout, spec: ProtocolSpec) -> ScenarioProtocol:
        """The protocol on ``layout`` as the scenario's ``[protocol]`` table describes it."""
        ...

    def downlink_photons(self, link_index: int, ground_station: str) -> tuple[str, ...]:
        """Noise keys (:class:`~qrate.protocols.noise.PauliNoise`) of the photon that free-space link
        ``link_index`` (in chain order) delivers to ``ground_station``."""
        ...

    @property
    def carrier_resources(self) -> Mapping[str, int]:
        """GHZ states (``ghz``), Bell pairs (``bell``) and BSMs (``bsm``) one heralded carrier consumes."""
        ...

    def compile(self, noise: PauliNoise | None = None, **options: Any) -> CompiledProtocol:
        """The Stim rounds of one use under ``noise``."""
        ...

    def report(self) -> dict[str, Any]:
        """JSON-able report: ``protocol``, ``default_y``, ``carriers_per_use`` and ``estimators``."""
        ...


def protocol_class(name: str) -> type[ScenarioProtocol]:
    """The class registered as ``name`` (InputError naming ``protocol.name`` if there is none)."""
    target = PROTOCOLS.get(name)
    if target is None:
        raise InputError("protocol.name", f"unknown protocol {name!r}; expected one of {', '.join(PROTOCOLS)}")
    module, _, attr = target.partition(":")
    cls: type[ScenarioProtocol] = getattr(importlib.import_module(module), attr)
    return cls


def build_protocol(layout: NetworkLayout, spec: ProtocolSpec) -> ScenarioProtocol:
    """The protocol of a scenario; errors name the ``protocol.*`` field to blame.

    Raises:
        InputError: an optional field that the protocol does not read is set, or the protocol
            refuses its fields (e.g. a sender who is not a participant).
    """
    cls = protocol_class(spec.name)
    for field in OPTIONAL_FIELDS:
        if field not in cls.scenario_fields and getattr(spec, field) not in (None, ()):
            raise InputError(f"protocol.{field}", f"does not apply to protocol {spec.name!r}; remove it")
    try:
        return cls.from_scenario(layout, spec)
    except InputError as exc:
        field = exc.field if exc.field.startswith("protocol.") else f"protocol.{exc.field}"
        raise InputError(field, exc.message) from None
