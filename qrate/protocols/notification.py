"""Quantum notification: the sender anonymously tells the chosen receivers they are in.

Parity-based notification (Unnikrishnan et al., PRL 122, 240501 (2019), the GHZ form of Hahn et
al.'s notification step): for every user ``t`` of the layout in turn (the *target*) the network
runs ``repetitions`` GHZ rounds. In each, the sender applies ``Z^r`` with a fresh random bit r
if ``t`` is a receiver (nothing otherwise), everyone measures X and sends the outcome privately to
``t``, who XORs them. ``t`` is notified if any parity is 1: a receiver is missed with probability
2^(−repetitions) without noise; noise makes false notifications (parity error Q_X per round).

One heralded shot is one GHZ round for one target, a receiver with probability |R|/n.
Counters: ``shots``, ``receiver_rounds``, ``receiver_ones`` (parity 1 with a receiver target),
``other_rounds``, ``other_ones`` (parity 1 with a non-receiver target: a false alarm). With
per-round rates q1, q0: P(miss) = (1 − q1)^S, P(false notification) = 1 − (1 − q0)^S.
A session costs ``n·S`` heralded GHZ rounds (:attr:`Notification.session_resources`);
:meth:`Notification.sample_sessions` simulates whole sessions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import Field

from qrate.errors import InputError
from qrate.formulas import proportion
from qrate.protocols._decode import (
    DEFAULT_METHOD,
    DEFAULT_SAMPLER,
    Flag,
    sample_records,
    stim_seeds,
    xor_columns,
)
from qrate.protocols.carriers import CircuitBuilder, chain_carrier
from qrate.protocols.compiled import CompiledProtocol, Round
from qrate.protocols.estimator import Batches, Estimator, Quantity, Report, Summary
from qrate.protocols.layout import ChainCarrierProtocol, NetworkLayout
from qrate.protocols.noise import PauliNoise
from qrate.protocols.registry import ProtocolParams, params_of

if TYPE_CHECKING:
    from qrate.scenario.schema import ProtocolSpec


class NotificationParams(ProtocolParams):
    """``[protocol.notification]``: ``repetitions`` GHZ rounds per target."""

    repetitions: int = Field(default=8, ge=1, le=1000)


DEFAULTS = NotificationParams()


@dataclass(frozen=True)
class NotificationSession(Estimator):
    """Notification sessions: per-round detection and false-alarm probabilities q1, q0 and, for S
    rounds per target, P(miss) = (1 − q1)^S and P(false notification) = 1 − (1 − q0)^S.

    Attributes:
        receiver_rounds, receiver_ones, other_rounds, other_ones: counter names.
        repetitions: S; rounds_per_session: heralded rounds one session takes.
    """

    receiver_rounds: str
    receiver_ones: str
    other_rounds: str
    other_ones: str
    repetitions: int
    rounds_per_session: int

    kind: ClassVar[str] = "notification_session"
    quantities: ClassVar[tuple[Quantity, ...]] = (
        Quantity(
            "session_rate_hz",
            "sess_per_s",
            "notification sessions per second, ± 1σ across batches",
            "notification sessions per second",
            1.0,
            std="session_rate_std_hz",
            y="session_rate",
            total="sessions",
        ),
        Quantity(
            "p_miss",
            "P_miss",
            "probability that a receiver is not notified in one session",
            "P(receiver missed)",
            1.0,
            fmt=".3e",
            ci=("p_miss_ci_low", "p_miss_ci_high"),
            y="p_miss",
        ),
        Quantity(
            "p_false",
            "P_false",
            "probability of a false notification of a non-receiver in one session",
            "P(false notification)",
            1.0,
            fmt=".3e",
            ci=("p_false_ci_low", "p_false_ci_high"),
            y="p_false",
        ),
    )

    def limits(self) -> list[tuple[str, str]]:
        """Parity-1 rounds within their rounds."""
        return [(self.receiver_ones, self.receiver_rounds), (self.other_ones, self.other_rounds)]

    def batch_values(self, b: Batches, pooled: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Per-batch session rate."""
        return {"rate": (b.rate_hz / float(self.rounds_per_session)) * b.p_batches}

    def compute(self, b: Summary, p_success: float) -> dict[str, Any]:
        """Session rate, P(miss) and P(false notification) with their intervals."""
        s = self.repetitions
        q1 = proportion(b.total(self.receiver_ones), b.total(self.receiver_rounds))
        q0 = proportion(b.total(self.other_ones), b.total(self.other_rounds))
        per_session = b.rate_hz / float(self.rounds_per_session)
        return {
            "session_rate_hz": per_session * p_success,
            "session_rate_std_hz": b.spreads(self)["rate"][0],
            # (1 − q1)^S decreases in q1, so the interval's ends swap
            "p_miss": (1 - q1[0]) ** s,
            "p_miss_ci_low": (1 - q1[2]) ** s,
            "p_miss_ci_high": (1 - q1[1]) ** s,
            "p_false": 1 - (1 - q0[0]) ** s,
            "p_false_ci_low": 1 - (1 - q0[1]) ** s,
            "p_false_ci_high": 1 - (1 - q0[2]) ** s,
        }


@dataclass(frozen=True)
class Notification(ChainCarrierProtocol):
    """``sender`` notifies ``receivers`` over ``layout`` with ``repetitions`` rounds per target."""

    layout: NetworkLayout
    sender: str
    receivers: tuple[str, ...]
    repetitions: int = DEFAULTS.repetitions

    name: ClassVar[str] = "notification"
    Params: ClassVar[type[NotificationParams]] = NotificationParams
    reads_participants: ClassVar[bool] = True
    estimators: ClassVar[tuple[type[Estimator], ...]] = (NotificationSession,)
    carriers_per_use: ClassVar[int] = 1

    @classmethod
    def from_scenario(cls, layout: NetworkLayout, spec: ProtocolSpec) -> Notification:
        """``participants``: the sender and the users she notifies; ``[protocol.notification] repetitions`` rounds per target."""
        receivers = tuple(u for u in spec.participants if u != spec.sender_user)
        if spec.participants and spec.sender_user not in spec.participants:
            raise InputError("participants", f"expected the sender {spec.sender_user!r} among the participants")
        return cls(layout, spec.sender_user, receivers, params_of(spec, NotificationParams).repetitions)

    def report(self) -> Report:
        """Counter roles: parity-1 rounds with a receiver target (detections) and with another target (false alarms)."""
        session = NotificationSession(
            "receiver_rounds", "receiver_ones", "other_rounds", "other_ones", self.repetitions, self.session_resources["rounds"]
        )
        return Report(self.name, "session_rate", self.carriers_per_use, (session,))

    def __post_init__(self) -> None:
        object.__setattr__(self, "receivers", tuple(self.receivers))
        users = self.layout.users
        if self.sender not in users:
            raise InputError("sender", f"{self.sender!r} is not a user; users: {list(users)}")
        if not self.receivers or any(r not in users or r == self.sender for r in self.receivers):
            raise InputError("receivers", "need one or more users other than the sender")
        if self.repetitions < 1:
            raise InputError("repetitions", f"must be >= 1, got {self.repetitions}")

    @property
    def session_resources(self) -> dict[str, int]:
        """Carriers one notification session consumes (n targets × repetitions rounds)."""
        k = len(self.layout.users) * self.repetitions
        lay = self.layout
        return {"rounds": k, "ghz": k * lay.ghz_count, "bell": k * lay.bell_count, "bsm": k * lay.bsm_count}

    def _round(self, noise: PauliNoise, receiver_target: bool) -> tuple[CircuitBuilder, list[int]]:
        lay = self.layout
        b = CircuitBuilder()
        carrier = chain_carrier(b, lay, noise)
        if receiver_target:
            b.controlled("Z", [b.random_bit("r")], carrier.qubit[self.sender])
        xs = [b.measure("X", carrier.qubit[u], noise.readout(u)) for u in lay.users]
        return b, xs

    def compile(
        self, noise: PauliNoise | None = None, *, method: str = DEFAULT_METHOD, sampler: str = DEFAULT_SAMPLER
    ) -> CompiledProtocol:
        """Compile the receiver-target and other-target rounds for ``noise`` (one parity: the X outcomes)."""
        noise = noise or PauliNoise()
        noise.check_keys(self.layout.users, self.layout.free_space_photons)
        frac = len(self.receivers) / len(self.layout.users)
        rounds = []
        for kind, p in (("receiver", frac), ("other", 1 - frac)):
            b, xs = self._round(noise, kind == "receiver")
            rounds.append(Round(kind, b.circuit, p, f"{kind}_rounds", (tuple(xs),), {f"{kind}_ones": Flag((0,))}, {}, {}))
        lay = self.layout
        counters = ("shots", "receiver_rounds", "receiver_ones", "other_rounds", "other_ones")
        per_round = {"ghz": lay.ghz_count, "bell": lay.bell_count, "bsm": lay.bsm_count}
        return CompiledProtocol(self.name, tuple(rounds), counters, per_round, method, sampler)

    def sample_sessions(self, sessions: int, seed: int, noise: PauliNoise | None = None) -> dict[str, int]:
        """Simulate whole sessions: counts of ``missed_receivers`` and ``false_notifications``.

        Also returns ``receiver_targets`` and ``other_targets`` (= sessions × their numbers).
        """
        noise = noise or PauliNoise()
        rng = np.random.default_rng(seed)
        s_rec, s_oth = stim_seeds(rng, 2)
        n_rec = len(self.receivers)
        n_oth = len(self.layout.users) - n_rec
        out = {"sessions": sessions, "receiver_targets": sessions * n_rec, "other_targets": sessions * n_oth}
        for kind, n, s in (("receiver", n_rec, s_rec), ("other", n_oth, s_oth)):
            if n == 0:
                out["missed_receivers" if kind == "receiver" else "false_notifications"] = 0
                continue
            b, xs = self._round(noise, kind == "receiver")
            rec = sample_records(b.circuit, sessions * n * self.repetitions, s)
            notified = xor_columns(rec, xs).reshape(sessions * n, self.repetitions).any(axis=1)
            if kind == "receiver":
                out["missed_receivers"] = int(np.count_nonzero(~notified))
            else:
                out["false_notifications"] = int(np.count_nonzero(notified))
        return out
