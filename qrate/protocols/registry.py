"""The protocol registry and the interface every scenario protocol implements.

A protocol is one module with one class implementing :class:`ScenarioProtocol`: it declares its
parameters (:attr:`ScenarioProtocol.Params`, a :class:`ProtocolParams` model: the protocol's own
sub-table ``[protocol.<name>]`` of a scenario, validated and defaulted there and nowhere else), is
built from a scenario's network layout and ``[protocol]`` table, states the carriers one heralded
success consumes, compiles to counter samplers for given Pauli noise, and declares its *report*
(:class:`qrate.protocols.estimator.Report`: which of its estimators read which counters; the
estimator classes, listed in :attr:`ScenarioProtocol.estimators`, live in the protocol's module).
The engine, the store, ``qrate show``, ``qrate plot`` and the benchmarks consult only this
interface and the report, never a protocol name. Adding a protocol: one module, one line in
:data:`PROTOCOLS`, its tests.

This module imports no protocol (nor Stim) until a class is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from qrate.errors import InputError
from qrate.strict import StrictModel

if TYPE_CHECKING:
    from qrate.protocols.compiled import CompiledProtocol
    from qrate.protocols.estimator import Estimator, Report
    from qrate.protocols.layout import NetworkLayout
    from qrate.protocols.noise import PauliNoise
    from qrate.scenario.schema import ProtocolSpec

PROTOCOLS: dict[str, str] = {
    "acka": "qrate.protocols.acka:AnonymousConferenceKeyAgreement",
    "broadcast": "qrate.protocols.broadcast:AnonymousBroadcast",
    "anonymous-entanglement": "qrate.protocols.entanglement:AnonymousEntanglement",
    "teleportation": "qrate.protocols.teleport:AnonymousTeleportation",
    "notification": "qrate.protocols.notification:Notification",
    "decoy-bb84": "qrate.protocols.decoy_bb84:DecoyBB84",
}
"""Registry name -> ``module:Class`` of every protocol a scenario can run."""

PROTOCOL_NAMES = tuple(PROTOCOLS)
"""The names registered when qrate was imported (:func:`registered` sees later registrations too)."""


class ProtocolParams(StrictModel):
    """Base of a protocol's parameters (its ``[protocol.<name>]`` sub-table): frozen, no unknown
    keys, finite floats, no booleans for numbers (:class:`qrate.strict.StrictModel`). A field's
    default is its one definition."""


class NoParams(ProtocolParams):
    """The parameters of a protocol that has none (an empty sub-table)."""


class ScenarioProtocol(Protocol):
    """What the engine needs from a protocol.

    Attributes:
        name: registry name.
        Params: its parameters, the ``[protocol.<name>]`` sub-table (:class:`ProtocolParams`).
        reads_participants: whether it reads ``protocol.participants`` (if not, it must be left unset).
        estimators: its estimator classes (one ``kind`` each), found by results files' reports.
        carriers_per_use: heralded carriers one use of the protocol consumes (e.g. 3 for
            teleportation: an anonymous pair and two broadcasts).
    """

    name: ClassVar[str]
    Params: ClassVar[type[ProtocolParams]]
    reads_participants: ClassVar[bool]
    estimators: ClassVar[tuple[type[Estimator], ...]]
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

    def report(self) -> Report:
        """What it counts and how to estimate: protocol name, default plot quantity, carriers per use, estimators."""
        ...


def registered(name: str) -> bool:
    """Whether ``name`` is a registered protocol."""
    return name in PROTOCOLS


def protocol_class(name: str) -> type[ScenarioProtocol]:
    """The class registered as ``name`` (InputError naming ``protocol.name`` if there is none)."""
    target = PROTOCOLS.get(name)
    if target is None:
        raise InputError("protocol.name", f"unknown protocol {name!r}; expected one of {', '.join(PROTOCOLS)}")
    module, _, attr = target.partition(":")
    cls: type[ScenarioProtocol] = getattr(importlib.import_module(module), attr)
    return cls


def estimator_class(protocol: str, kind: str) -> type[Estimator]:
    """The estimator class of kind ``kind`` of protocol ``protocol`` (ValueError if there is none)."""
    try:
        classes = protocol_class(protocol).estimators
    except InputError:
        raise ValueError(f"unknown protocol {protocol!r} in the report; known: {', '.join(PROTOCOLS)}") from None
    for cls in classes:
        if cls.kind == kind:
            return cls
    known = ", ".join(c.kind for c in classes)
    raise ValueError(f"unknown estimator kind {kind!r} for protocol {protocol!r}; known: {known}")


def build_protocol(layout: NetworkLayout, spec: ProtocolSpec) -> ScenarioProtocol:
    """The protocol of a scenario; errors name the ``protocol.*`` field to blame.

    Raises:
        InputError: ``participants`` set for a protocol that does not read them, or the protocol
            refuses its fields (e.g. a sender who is not a participant).
    """
    cls = protocol_class(spec.name)
    if not cls.reads_participants and spec.participants not in (None, ()):
        raise InputError("protocol.participants", f"does not apply to protocol {spec.name!r}; remove it")
    if not getattr(cls, "reads_sender", True) and spec.sender is not None:
        raise InputError("protocol.sender", f"does not apply to protocol {spec.name!r}; remove it")
    try:
        return cls.from_scenario(layout, spec)
    except InputError as exc:
        field = exc.field if exc.field.startswith("protocol.") else f"protocol.{exc.field}"
        raise InputError(field, exc.message) from None


P = TypeVar("P", bound=ProtocolParams)


def params_of(spec: ProtocolSpec, cls: type[P]) -> P:
    """``spec``'s parameters as ``cls`` (the protocol's :attr:`ScenarioProtocol.Params`)."""
    params = spec.params
    if not isinstance(params, cls):
        raise InputError(f"protocol.{spec.name}", f"expected the parameters of protocol {spec.name!r}")
    return params
