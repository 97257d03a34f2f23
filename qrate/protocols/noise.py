"""Pauli noise per photon and per segment (loss is not modelled here: one shot = one herald).

Keys:

* ``z_flip``, ``x_flip``: user (fiber) photon names, e.g. ``{"alice": 0.02}``; ``z_flip`` also
  takes free-space photon names (e.g. the Z error of an imperfect two-photon interference). Use
  :func:`qrate.channels.fiber.dephasing_probability` to turn either reading of the paper's "fiber dephasing rate"
  into a flip probability.
* ``depolarize``: free-space photon names ``"bell<i>.<gs>"`` (see
  :attr:`NetworkLayout.free_space_photons <qrate.protocols.layout.NetworkLayout>`); the
  anonymous-entanglement protocol names its photons ``"ntn<i>.<gs>"`` and ``"ntn<i>.keep"``;
  and user names (a detection whose click may be noise: X, Y and Z each with p/3, so a fraction
  q of random outcomes is ``depolarize = 3q/4``).
* ``readout_flip``: flip probability of every user measurement outcome, one number for all users
  or a mapping by user (missing users: 0).
* ``ghz_fidelity``: ground-station names -> the fidelity F of the GHZ state that station's source
  prepares, as white noise (1 - p)|GHZ><GHZ| + p I/2^N with p = (1 - F)/(1 - 2^-N) over all N
  qubits of the state (users and the station's fusion qubits), applied exactly by 2^N - 1
  correlated Pauli terms (:func:`qrate.channels.sources.ghz_white_noise_terms`) up to
  :data:`qrate.channels.sources.GHZ_EXACT_MAX_QUBITS` qubits, per photon (1 - F^(1/N)) beyond.

All values are probabilities in [0, 1] (``depolarize`` is stim's ``DEPOLARIZE1(p)``: X, Y, Z
each with p/3). Noise on a photon applies to every copy of that photon a protocol uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from qrate.errors import InputError


def _frozen(m: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(m))


@dataclass(frozen=True)
class PauliNoise:
    """Independent Pauli noise on the photons of one heralded shot (probabilities)."""

    z_flip: Mapping[str, float] = field(default_factory=dict)
    x_flip: Mapping[str, float] = field(default_factory=dict)
    depolarize: Mapping[str, float] = field(default_factory=dict)
    readout_flip: float | Mapping[str, float] = 0.0
    ghz_fidelity: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("z_flip", "x_flip", "depolarize", "ghz_fidelity"):
            value = getattr(self, name)
            for key, p in value.items():
                _check_probability(f"noise.{name}.{key}", p)
            object.__setattr__(self, name, _frozen(value))
        if isinstance(self.readout_flip, Mapping):
            for key, p in self.readout_flip.items():
                _check_probability(f"noise.readout_flip.{key}", p)
            object.__setattr__(self, "readout_flip", _frozen(self.readout_flip))
        else:
            _check_probability("noise.readout_flip", self.readout_flip)

    def __reduce__(self) -> tuple[type[PauliNoise], tuple[object, ...]]:
        """Pickle through plain dicts (a ``MappingProxyType`` cannot be pickled)."""
        ro = dict(self.readout_flip) if isinstance(self.readout_flip, Mapping) else self.readout_flip
        return (type(self), (dict(self.z_flip), dict(self.x_flip), dict(self.depolarize), ro, dict(self.ghz_fidelity)))

    def readout(self, user: str) -> float:
        """Readout flip probability of ``user``'s measurements."""
        if isinstance(self.readout_flip, Mapping):
            return float(self.readout_flip.get(user, 0.0))
        return float(self.readout_flip)

    def check_keys(self, users: Iterable[str], free_space: Iterable[str]) -> None:
        """Raise :class:`InputError` for a key that names no photon of the protocol."""
        users, free_space = set(users), set(free_space)
        for name, allowed in (("z_flip", users | free_space), ("x_flip", users), ("depolarize", free_space | users)):
            for key in getattr(self, name):
                if key not in allowed:
                    raise InputError(f"noise.{name}.{key}", f"no such photon; expected one of {sorted(allowed)}")
        if isinstance(self.readout_flip, Mapping):
            for key in self.readout_flip:
                if key not in users:
                    raise InputError(f"noise.readout_flip.{key}", f"no such user; expected one of {sorted(users)}")

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-able form (for task ids)."""
        ro = dict(self.readout_flip) if isinstance(self.readout_flip, Mapping) else self.readout_flip
        out: dict[str, object] = {
            "z_flip": dict(self.z_flip),
            "x_flip": dict(self.x_flip),
            "depolarize": dict(self.depolarize),
            "readout_flip": ro,
        }
        if self.ghz_fidelity:  # only when set: the ids of noise without it are unchanged
            out["ghz_fidelity"] = dict(self.ghz_fidelity)
        return out


def _check_probability(where: str, p: object) -> None:
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not (0.0 <= float(p) <= 1.0):
        raise InputError(where, f"must be a probability in [0, 1], got {p!r}")
