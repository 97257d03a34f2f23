"""Anonymous broadcast (Q-AB, Christandl–Wehner parity protocol) over any chain of networks.

Per heralded shot: the chain carrier makes a GHZ on all users (BSMs at every GS with their
corrections); everyone measures X; the broadcaster announces her outcome XOR her message bit,
everybody else their outcome; anyone decodes the XOR of all announcements.

Counters: ``shots``; ``broadcast_errors`` (decoded bit differs from the sent bit);
``message_ones`` (shots whose sent bit was 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from qrate.errors import InputError
from qrate.protocols._decode import DEFAULT_METHOD, DEFAULT_SAMPLER, Flag
from qrate.protocols.carriers import Carrier, CircuitBuilder, chain_carrier
from qrate.protocols.compiled import CompiledProtocol, Round
from qrate.protocols.layout import ChainCarrierProtocol, NetworkLayout
from qrate.protocols.noise import PauliNoise

if TYPE_CHECKING:
    from qrate.scenario.schema import ProtocolSpec


def broadcast_bit(
    b: CircuitBuilder,
    layout: NetworkLayout,
    noise: PauliNoise,
    broadcaster: str,
    message: int | None,
    *,
    prefix: str = "",
    message_record: int | None = None,
) -> tuple[Carrier, dict[str, tuple[int, ...]], int]:
    """Append one anonymous broadcast; return (carrier, announcements, message record index).

    ``message``: fixed bit, or None for a fresh uniform bit per shot; ``message_record``: use this
    existing record as the message instead (e.g. a teleportation correction bit).
    """
    carrier = chain_carrier(b, layout, noise, prefix=prefix)
    if message_record is not None:
        m = message_record
    elif message is None:
        m = b.random_bit(prefix + "message")
    else:
        m = b.fixed_bit(prefix + "message", message)
    ann: dict[str, tuple[int, ...]] = {}
    for u in layout.users:
        x = b.measure("X", carrier.qubit[u], noise.readout(u))
        ann[u] = (x, m) if u == broadcaster else (x,)
    for j, (mx, mz) in enumerate(carrier.bsm_records):
        ann[f"bsm{j}.x"], ann[f"bsm{j}.z"] = (mx,), (mz,)
    return carrier, ann, m


@dataclass(frozen=True)
class AnonymousBroadcast(ChainCarrierProtocol):
    """Q-AB on ``layout``: ``broadcaster`` sends one bit per heralded GHZ.

    Attributes:
        layout: the network chain (each GS a GHZ, Bell pairs between neighbouring GSs).
        broadcaster: the anonymous sender, a user of the layout.
        message: fixed message bit, or None for a uniform random bit per shot.
    """

    layout: NetworkLayout
    broadcaster: str
    message: int | None = None

    name: ClassVar[str] = "broadcast"
    scenario_fields: ClassVar[tuple[str, ...]] = ()
    carriers_per_use: ClassVar[int] = 1

    @classmethod
    def from_scenario(cls, layout: NetworkLayout, spec: ProtocolSpec) -> AnonymousBroadcast:
        """The sender broadcasts a uniformly random bit per heralded GHZ."""
        return cls(layout, spec.sender)

    def report(self) -> dict[str, Any]:
        """Counter roles: every shot broadcasts one bit; ``broadcast_errors`` counts wrong decodings."""
        return {
            "protocol": self.name,
            "default_y": "broadcast_rate",
            "carriers_per_use": self.carriers_per_use,
            "estimators": [{"kind": "broadcast_bits", "rounds": "shots", "errors": "broadcast_errors"}],
        }

    def __post_init__(self) -> None:
        if self.broadcaster not in self.layout.users:
            raise InputError("broadcaster", f"{self.broadcaster!r} is not a user; users: {list(self.layout.users)}")
        if self.message not in (None, 0, 1):
            raise InputError("message", f"must be 0, 1 or None (random), got {self.message!r}")

    def compile(
        self, noise: PauliNoise | None = None, *, method: str = DEFAULT_METHOD, sampler: str = DEFAULT_SAMPLER
    ) -> CompiledProtocol:
        """Compile the broadcast circuit for ``noise``.

        Parities: the decoded bit (XOR of all announcements) XOR the message, and the message.
        """
        noise = noise or PauliNoise()
        lay = self.layout
        noise.check_keys(lay.users, lay.free_space_photons)
        b = CircuitBuilder()
        _, ann, m = broadcast_bit(b, lay, noise, self.broadcaster, self.message)
        public = tuple(i for u in lay.users for i in ann[u])
        parities = ((*public, m), (m,))
        flags = {"broadcast_errors": Flag((0,)), "message_ones": Flag((1,))}
        rounds = (Round("broadcast", b.circuit, 1.0, None, parities, flags, ann, {self.broadcaster: m}),)
        resources = {"ghz": lay.ghz_count, "bell": lay.bell_count, "bsm": lay.bsm_count}
        counters = ("shots", "broadcast_errors", "message_ones")
        return CompiledProtocol(self.name, rounds, counters, resources, method, sampler)
