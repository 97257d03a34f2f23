"""Anonymous broadcast (Q-AB, Christandl–Wehner parity protocol) over any chain of networks.

Per heralded shot: the chain carrier makes a GHZ on all users (BSMs at every GS with their
corrections); everyone measures X; the broadcaster announces her outcome XOR her message bit,
everybody else their outcome; anyone decodes the XOR of all announcements.

Counters: ``shots``; ``broadcast_errors`` (decoded bit differs from the sent bit);
``message_ones`` (shots whose sent bit was 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from qrate.errors import InputError
from qrate.formulas import proportion, ratio
from qrate.protocols._decode import DEFAULT_METHOD, DEFAULT_SAMPLER, Flag
from qrate.protocols.carriers import Carrier, CircuitBuilder, chain_carrier
from qrate.protocols.compiled import CompiledProtocol, Round
from qrate.protocols.estimator import Batches, Estimator, Quantity, Report, Summary
from qrate.protocols.layout import ChainCarrierProtocol, NetworkLayout
from qrate.protocols.noise import PauliNoise
from qrate.protocols.registry import NoParams

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
class BroadcastBits(Estimator):
    """Anonymous broadcast: bits per second, correctly decoded bits per second, bit-error rate.

    Attributes:
        rounds: counter of broadcast bits; errors: counter of wrongly decoded bits.
    """

    rounds: str
    errors: str

    kind: ClassVar[str] = "broadcast_bits"
    quantities: ClassVar[tuple[Quantity, ...]] = (
        Quantity(
            "broadcast_rate_bps",
            "bc_kbps",
            "anonymous broadcast rate (kbit/s), ± 1σ across batches",
            "anonymous broadcast rate (kbit/s)",
            1e-3,
            std="broadcast_rate_std_bps",
            sem="rate_sem_bps",
            y="broadcast_rate",
            total="broadcast_bits",
        ),
        Quantity(
            "broadcast_correct_rate_bps",
            "ok_kbps",
            "correctly decoded broadcast bits (kbit/s), ± 1σ",
            "correct anonymous broadcast rate (kbit/s)",
            1e-3,
            std="broadcast_correct_rate_std_bps",
            y="broadcast_correct_rate",
            total="broadcast_correct_bits",
        ),
        Quantity(
            "broadcast_error_rate",
            "bc_err",
            "broadcast bit-error rate",
            "broadcast bit-error rate (%), 95% CI",
            100.0,
            fmt=".4g",
            ci=("broadcast_error_rate_ci_low", "broadcast_error_rate_ci_high"),
            y="qber",
        ),
    )

    def limits(self) -> list[tuple[str, str]]:
        """Errors within the broadcast rounds."""
        return [(self.errors, self.rounds)]

    def batch_values(self, b: Batches, pooled: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Per-batch broadcast rates, all bits and correct bits (a batch without rounds takes the
        pooled ``q``)."""
        per_use = b.uses_per_s
        q_b = ratio(b.count(self.errors), b.count(self.rounds), pooled["q"])
        return {"rate": per_use * b.p_batches, "correct_rate": per_use * b.p_batches * (1.0 - q_b)}

    def compute(self, b: Summary, p_success: float) -> dict[str, Any]:
        """Broadcast rates (all bits, correct bits) and the bit-error rate with its interval."""
        q, q_lo, q_hi = proportion(b.total(self.errors), b.total(self.rounds))
        q = q if math.isfinite(q) else 0.0
        per_use = b.uses_per_s
        spreads = b.spreads(self, {"q": q})
        return {
            "broadcast_rate_bps": per_use * p_success,
            "broadcast_rate_std_bps": spreads["rate"][0],
            "broadcast_correct_rate_bps": per_use * p_success * (1.0 - q),
            "broadcast_correct_rate_std_bps": spreads["correct_rate"][0],
            "broadcast_error_rate": q,
            "broadcast_error_rate_ci_low": q_lo,
            "broadcast_error_rate_ci_high": q_hi,
        }


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
    Params: ClassVar[type[NoParams]] = NoParams
    reads_participants: ClassVar[bool] = False
    estimators: ClassVar[tuple[type[Estimator], ...]] = (BroadcastBits,)
    carriers_per_use: ClassVar[int] = 1

    @classmethod
    def from_scenario(cls, layout: NetworkLayout, spec: ProtocolSpec) -> AnonymousBroadcast:
        """The sender broadcasts a uniformly random bit per heralded GHZ."""
        return cls(layout, spec.sender_user)

    def report(self) -> Report:
        """Counter roles: every shot broadcasts one bit; ``broadcast_errors`` counts wrong decodings."""
        return Report(self.name, "broadcast_rate", self.carriers_per_use, (BroadcastBits("shots", "broadcast_errors"),))

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
