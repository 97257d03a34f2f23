"""An example protocol written as a plug-in: one module, registered by one line (see test_plugin.py).

``ghz-check``: every heralded chain GHZ state is measured by all users in one basis and the
outcomes are checked (X: the parity of all outcomes is 0; Z: all outcomes are equal). Its
parameters (the ``[protocol.ghz-check]`` sub-table), its estimator (the check's error rate with
its Clopper-Pearson interval and the rate of checked states) and its report are all declared here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from qrate.formulas import proportion
from qrate.protocols._decode import DEFAULT_METHOD, DEFAULT_SAMPLER, Flag
from qrate.protocols.carriers import CircuitBuilder, chain_carrier
from qrate.protocols.compiled import CompiledProtocol, Round
from qrate.protocols.estimator import Batches, Estimator, Quantity, Report, Summary
from qrate.protocols.layout import ChainCarrierProtocol, NetworkLayout
from qrate.protocols.noise import PauliNoise
from qrate.protocols.registry import ProtocolParams, params_of

if TYPE_CHECKING:
    from qrate.scenario.schema import ProtocolSpec

NAME = "ghz-check"
TARGET = "tests.protocols.example_protocol:GhzCheck"
"""The registry line: ``PROTOCOLS[NAME] = TARGET``."""


class GhzCheckParams(ProtocolParams):
    """``[protocol.ghz-check]``: the basis every user measures."""

    basis: Literal["X", "Z"] = "X"


@dataclass(frozen=True)
class CheckedStates(Estimator):
    """Checked GHZ states per second and the check's error rate (95 % Clopper-Pearson interval)."""

    rounds: str
    errors: str

    kind: ClassVar[str] = "checked_states"
    quantities: ClassVar[tuple[Quantity, ...]] = (
        Quantity("checked_rate_bps", "chk_kps", "checked GHZ states per second (k/s)", "checked states (k/s)", 1e-3,
                 std="checked_rate_std_bps", y="checked_rate", total="checked_states"),
        Quantity("check_error_rate", "chk_err", "failed checks / checks", "check error rate (%)", 100.0,
                 ci=("check_error_rate_ci_low", "check_error_rate_ci_high"), y="check_error"),
    )

    def limits(self) -> list[tuple[str, str]]:
        return [(self.errors, self.rounds)]

    def batch_values(self, b: Batches, pooled: Mapping[str, Any]) -> dict[str, np.ndarray]:
        return {"rate": b.uses_per_s * b.p_batches}

    def compute(self, b: Summary, p_success: float) -> dict[str, Any]:
        q, lo, hi = proportion(b.total(self.errors), b.total(self.rounds))
        return {
            "checked_rate_bps": b.uses_per_s * p_success,
            "checked_rate_std_bps": b.spreads(self)["rate"][0],
            "check_error_rate": q if math.isfinite(q) else None,
            "check_error_rate_ci_low": lo,
            "check_error_rate_ci_high": hi,
        }


@dataclass(frozen=True)
class GhzCheck(ChainCarrierProtocol):
    """Every user measures the chain GHZ state in ``basis``; the outcomes are checked."""

    layout: NetworkLayout
    basis: str = GhzCheckParams().basis

    name: ClassVar[str] = NAME
    Params: ClassVar[type[GhzCheckParams]] = GhzCheckParams
    reads_participants: ClassVar[bool] = False
    estimators: ClassVar[tuple[type[Estimator], ...]] = (CheckedStates,)
    carriers_per_use: ClassVar[int] = 1

    @classmethod
    def from_scenario(cls, layout: NetworkLayout, spec: ProtocolSpec) -> GhzCheck:
        return cls(layout, params_of(spec, GhzCheckParams).basis)

    def report(self) -> Report:
        return Report(self.name, "check_error", self.carriers_per_use, (CheckedStates("shots", "check_errors"),))

    def compile(
        self, noise: PauliNoise | None = None, *, method: str = DEFAULT_METHOD, sampler: str = DEFAULT_SAMPLER
    ) -> CompiledProtocol:
        noise = noise or PauliNoise()
        lay = self.layout
        noise.check_keys(lay.users, lay.free_space_photons)
        b = CircuitBuilder()
        carrier = chain_carrier(b, lay, noise)
        rec = [b.measure(self.basis, carrier.qubit[u], noise.readout(u)) for u in lay.users]
        # X: one parity of every outcome; Z: each outcome against the first, an error if any differs
        parities = (tuple(rec),) if self.basis == "X" else tuple((r, rec[0]) for r in rec[1:])
        flags = {"check_errors": Flag(tuple(range(len(parities))))}
        rounds = (Round("check", b.circuit, 1.0, None, parities, flags),)
        resources = {"ghz": lay.ghz_count, "bell": lay.bell_count, "bsm": lay.bsm_count}
        return CompiledProtocol(self.name, rounds, ("shots", "check_errors"), resources, method, sampler)
