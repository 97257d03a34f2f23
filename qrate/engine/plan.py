"""From a scenario to per-point plans: geometry, link budgets, heralding structure, Pauli noise.

A :class:`PointPlan` holds everything a batch needs at one sweep point; it is a frozen,
picklable value (the compiled Stim protocol is built separately by :func:`compile_protocol`,
because it holds closures).

Heralding (qrate/MODELS.md, "Heralding"): a pulse is a success when every source fired, every free-space photon
reaching a BSM arrived and every BSM succeeded, and every user's detector clicked. A user's photon
crosses its fiber (and, for the user of a forwarding station, the downlink and the switch) and is
detected with the detector efficiency; a dark count (probability per gate) also makes the
detector click, with a uniformly random outcome. BSM detectors have no dark counts.
Every downlink transmittance η_k enters the per-pulse success probability through exactly one
affine factor ``a_k η_k + b_k``, so the success probability given the transmittances is
``constant · Π_k (a_k η_k + b_k)`` and its mean over independent fading is the same expression at
the mean transmittances.
"""

from __future__ import annotations

import dataclasses
import json
import math
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from qrate.channels.fiber import dephasing_probability, fiber_transmittance
from qrate.channels.freespace import LinkBudget, link_budget, mean_transmittance
from qrate.engine import hardware
from qrate.errors import BelowHorizonError, InputError
from qrate.geometry import PlatformGeometry, midpoint_geometry
from qrate.model import MODEL_VERSION
from qrate.protocols._decode import DEFAULT_SAMPLER, Sampler
from qrate.protocols.compiled import CompiledProtocol
from qrate.protocols.layout import NetworkLayout
from qrate.protocols.noise import PauliNoise
from qrate.protocols.pulses import PulseSampler
from qrate.protocols.registry import ScenarioProtocol, build_protocol
from qrate.scenario.schema import Scenario
from qrate.seeding import key_of_text, point_key


@dataclass(frozen=True, slots=True)
class Downlink:
    """One free-space photon from a platform to a ground station.

    Attributes:
        link: scenario link name; ground_station: receiving station.
        budget: link budget at this point's geometry; mean_eta: its mean transmittance.
        to_user: the user it is forwarded to (forwarding station), or None (it goes to a BSM).
        link_index: the link's position in chain order; noise_click_probability: background
            clicks per gate at a BSM's detectors (0 for a forwarded photon: its user's detector counts).
    """

    link: str
    ground_station: str
    budget: LinkBudget
    mean_eta: float
    to_user: str | None
    link_index: int = 0
    noise_click_probability: float = 0.0


@dataclass(frozen=True, slots=True)
class UserPath:
    """A user's photon: fiber transmittance, switch (forwarded photon), downlink index or -1, and the
    user's detector: effective efficiency and noise clicks per gate (dark counts, background, afterpulses)."""

    user: str
    fiber_eta: float
    switch_eta: float
    downlink: int
    detector_efficiency: float = 1.0
    noise_click_probability: float = 0.0


@dataclass(frozen=True, slots=True)
class PointPlan:
    """Everything a batch needs at one sweep point.

    Attributes:
        index, ground_distance_km: position in the sweep and the station distance.
        key: content hash of the point's parameters (seeds its random streams).
        downlinks, users: the lossy elements.
        sources: per-pulse success probabilities of every source fired per pulse.
        bsm_count, bsm_success: BSMs per pulse and their success probability.
        block_pulses: pulses sharing one transmittance draw (0: independent per pulse).
        factors_a, factors_b, constant: affine heralding factors (module docstring).
        noise: Pauli noise of the heralded shots; protocol: the protocol object (uncompiled).
        repetition_rate_hz: source clock; sampler: ``exact`` or ``stim`` (how counters are drawn).
        axes: the values of the sweep's field axes at this point (dotted path -> value).
        key_block_s: finite-key block duration; finite_key: its bound (:mod:`qrate.finite_key`); pulses_per_batch: this point's (None: the scenario's).
        extra: further JSON-able facts stored with the point (e.g. a pass step's time and weight).
        memory: memory-assisted heralding (:class:`qrate.memory.plan.MemoryPlan`), or None (synchronous).
    """

    index: int
    ground_distance_km: float
    key: int
    downlinks: tuple[Downlink, ...]
    users: tuple[UserPath, ...]
    sources: tuple[float, ...]
    bsm_count: int
    bsm_success: float
    block_pulses: int
    factors_a: tuple[float, ...]
    factors_b: tuple[float, ...]
    constant: float
    noise: PauliNoise
    protocol: ScenarioProtocol
    repetition_rate_hz: float
    sampler: Sampler = DEFAULT_SAMPLER
    axes: Mapping[str, Any] = field(default_factory=dict)
    key_block_s: float = 300.0
    pulses_per_batch: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    memory: Any = None
    finite_key: str = "grasselli2018"

    @property
    def pulse_sampler(self) -> PulseSampler | None:
        """The protocol's own counter sampler, for a protocol that draws its counters from the pulses (else None)."""
        if not getattr(self.protocol, "pulse_counters", False):
            return None
        sampler: PulseSampler = self.protocol.pulse_sampler(self)  # type: ignore[attr-defined]  # optional part of the contract
        return sampler

    @property
    def p_success_expected(self) -> float:
        """Mean success probability per pulse (the binomial path's parameter; with memories, delivered states
        per pulse from the closed forms of :mod:`qrate.memory.expected`, NaN where none applies)."""
        if self.memory is not None:
            e = self.memory.expected_per_pulse
            return math.nan if e is None else float(e)
        pulses = self.pulse_sampler
        if pulses is not None:
            return pulses.success_probability()
        return self.p_synchronous

    @property
    def p_synchronous(self) -> float:
        """Success probability per pulse of the synchronous architecture (every link in the same pulse)."""
        p = self.constant
        for a, b, dl in zip(self.factors_a, self.factors_b, self.downlinks, strict=True):
            p *= a * dl.mean_eta + b
        return p

    @property
    def p_signal_expected(self) -> float:
        """Mean probability per pulse of a herald in which every click is the photon's own (no noise click needed)."""
        pulses = self.pulse_sampler
        if pulses is not None:
            return pulses.signal_success_probability()
        p = math.prod(self.sources) * self.bsm_success**self.bsm_count
        for u in self.users:
            if u.downlink < 0:
                p *= u.fiber_eta * u.detector_efficiency
        for a, b, dl in zip(self.factors_a, self.factors_b, self.downlinks, strict=True):
            p *= a * dl.mean_eta / (1.0 - b) if b < 1.0 else 0.0
        return p

    @property
    def noise_herald_fraction(self) -> float:
        """Expected fraction of heralds that needed a noise click (dark count, background, afterpulse); 0 without heralds."""
        total = self.p_synchronous if self.memory is not None else self.p_success_expected
        return max(0.0, 1.0 - self.p_signal_expected / total) if total > 0 else 0.0

    @property
    def mean_eta_joint(self) -> float:
        """Product of the downlinks' mean transmittances (a pulse sampler's own link, if it names one)."""
        pulses = self.pulse_sampler
        eta = pulses.free_space_transmittance() if pulses is not None else None
        if eta is not None:
            return eta
        return math.prod(dl.mean_eta for dl in self.downlinks)

    def report(self) -> dict[str, Any]:
        """The protocol's report with this point's source rate (what :mod:`qrate.estimates` reads)."""
        out = {
            **self.protocol.report().to_json(),
            "repetition_rate_hz": self.repetition_rate_hz,
            "key_block_s": self.key_block_s,
        }
        if self.finite_key != "grasselli2018":
            out["finite_key"] = self.finite_key
        return out

    def params(self) -> dict[str, Any]:
        """JSON-able description of the point (stored in the results file)."""
        g = self.downlinks[0].budget.geometry
        return {
            **self.extra,
            "axes": dict(self.axes),
            "report": self.report(),
            "ground_distance_km": self.ground_distance_km,
            "slant_range_km": g.slant_range_km,
            "elevation_deg": g.elevation_deg,
            "downlinks": [
                {
                    "link": dl.link,
                    "ground_station": dl.ground_station,
                    "to_user": dl.to_user,
                    "slant_range_km": dl.budget.geometry.slant_range_km,
                    "elevation_deg": dl.budget.geometry.elevation_deg,
                    "beam_radius_m": dl.budget.beam_radius_m,
                    "sigma_m": dl.budget.sigma_m,
                    "eta0": dl.budget.eta0,
                    "t_atm": dl.budget.t_atm,
                    "mean_eta": dl.mean_eta,
                }
                for dl in self.downlinks
            ],
            "users": {u.user: {"fiber_eta": u.fiber_eta, "switch_eta": u.switch_eta} for u in self.users},
            "p_success_expected": self.p_success_expected,
            "noise_herald_fraction": self.noise_herald_fraction,
            "mean_eta_joint": self.mean_eta_joint,
            "block_pulses": self.block_pulses,
            "noise": self.noise.as_dict(),
            **({"memory": self.memory.as_dict()} if self.memory is not None else {}),
        }


# ---------------------------------------------------------------------------------- building
def layout_of(scenario: Scenario) -> NetworkLayout:
    """The protocol layout (chain of terrestrial networks) of a scenario, built once when it was validated."""
    layout: NetworkLayout = scenario.layout
    return layout


def protocol_of(scenario: Scenario) -> ScenarioProtocol:
    """The protocol object of a scenario (InputError naming the ``protocol.*`` field if it does not fit)."""
    spec = scenario.protocol
    if spec.participants == "all":
        spec = spec.model_copy(update={"participants": scenario.participants()})
    return build_protocol(layout_of(scenario), spec)


def _memoryless(scenario: Scenario) -> bool:
    from qrate.memory.plan import memoryless

    return memoryless(scenario)


def point_key_params(scenario: Scenario, ground_distance_km: float) -> dict[str, Any]:
    """Everything that fixes a point's distribution: model version, physics, protocol, distance.

    Fields added within a model version are left out at their default (a link's
    ``elevation_coupling = None``, a detector table's ``per_receiver = 1``), so that the scenarios
    that do not use them keep their points' keys and random streams.
    """
    data = {k: v for k, v in scenario.explicit_dump().items() if k not in ("name", "description", "sweep", "sampling")}
    for link in data["links"].values():
        if link.get("elevation_coupling", 0) is None:
            del link["elevation_coupling"]
    tables = [data["detectors"], *(st.get("detectors") for st in data["nodes"]["ground_stations"].values())]
    for table in tables:
        if table is not None and table.get("per_receiver") == 1:
            del table["per_receiver"]
    if not scenario.memories or _memoryless(scenario):  # memories that hold nothing leave the synchronous point as it is
        data.pop("memories", None)
    return {"model": MODEL_VERSION, "scenario": data, "ground_distance_km": float(ground_distance_km)}


Geometries = Mapping[tuple[str, str], PlatformGeometry]
"""(link name, ground station) -> the line of sight of that downlink."""


def midpoint_geometries(
    scenario: Scenario,
    ground_distance_km: float,
    links: Mapping[str, Any] | None = None,
    shared: dict[Any, Any] | None = None,
) -> dict[tuple[str, str], PlatformGeometry]:
    """Every downlink's geometry with each platform above the midpoint of its two stations (``links``: the
    scenario's free-space links, if known; ``shared``: a table of geometries already computed, by altitude
    and distance, that this call may add to).

    Raises:
        InputError: naming ``sweep.ground_distance_km`` if a platform is below the horizon or a
            link's elevation cut at this distance.
    """
    out = {}
    for name, spec in (scenario.free_space_links() if links is None else links).items():
        altitude = scenario.nodes.platforms[spec.platform].altitude_km
        assert altitude is not None  # midpoint placement (checked by the schema)
        key = ("midpoint", altitude, ground_distance_km)
        geometry = shared.get(key) if shared is not None else None
        if geometry is None:
            try:
                geometry = midpoint_geometry(altitude, ground_distance_km)
            except BelowHorizonError as exc:
                raise InputError("sweep.ground_distance_km", f"{exc.message} (links.{name})") from None
            if shared is not None:
                shared[key] = geometry
        if geometry.elevation_deg < spec.min_elevation_deg:
            raise InputError(
                "sweep.ground_distance_km",
                f"{ground_distance_km:g} km puts platform {spec.platform!r} at elevation {geometry.elevation_deg:.3f} deg,"
                f" below links.{name}.min_elevation_deg = {spec.min_elevation_deg:g}",
            )
        for gs in spec.ground_stations:
            out[(name, gs)] = geometry
    return out


def point_key_of(scenario: Scenario) -> Callable[[float], int]:
    """``point_key_of(scenario)(d)`` is ``point_key(point_key_params(scenario, d))``, with the scenario's part of
    the key serialised once: the key's JSON text is ``{"ground_distance_km":d,"model":...,"scenario":...}``
    (sorted keys), so only the distance is written per point."""
    params = point_key_params(scenario, 0.0)
    del params["ground_distance_km"]
    tail = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    assert min(params) > "ground_distance_km"  # it sorts first, before the rest of the text
    head, rest = '{"ground_distance_km":', "," + tail[1:]

    def key(ground_distance_km: float) -> int:
        d = float(ground_distance_km)
        number = float.__repr__(d) if math.isfinite(d) else json.dumps(d)  # json writes a finite float as its repr
        return key_of_text(head + number + rest)

    return key


def _exact(values: Iterable[float]) -> bytes:
    """The bits of ``values`` (a key that tells 0.0 from -0.0, unlike ``==``)."""
    v = tuple(values)
    return struct.pack(f"{len(v)}d", *v)


@dataclass
class _UsersPart:
    """What a planner knows of the users: ``(name, station, detector, fiber transmittance, switch, downlink index
    or -1, emitted, Z flip)`` per user, the user of each forwarded downlink, the readout and GHZ-source noise,
    and (once the first point is planned) every user's path and depolarisation (those of a user with no downlink
    are the same at every point)."""

    tables: tuple[Any, ...]
    user_specs: list[tuple[str, str, Any, float, float, int, float, float]]
    forwarded_user: dict[int, int]
    readout: float | dict[str, float]
    ghz_fidelity: dict[str, float]
    noise_key: tuple[str, str]
    static: list[tuple[UserPath, float]] | None = None


def _users_part(
    scenario: Scenario, forwarded: Mapping[str, int]
) -> tuple[list[tuple[str, str, Any, float, float, int, float, float]], dict[int, int], Any, dict[str, float], tuple[str, str]]:
    stations = scenario.nodes.ground_stations
    source = scenario.sources.source
    user_specs = []
    for user, gs in scenario.users().items():
        station = stations[gs]
        fiber, length = scenario.fiber_of(user)
        eta_f = fiber_transmittance(length, loss_db_per_km=fiber.loss_db_per_km, coupling=fiber.coupling)
        k = forwarded.get(user, -1)
        z_flip = dephasing_probability(
            length,
            mode=fiber.dephasing,
            p_per_traversal=fiber.dephasing_probability,
            rate_hz=fiber.dephasing_rate_hz,
            group_index=fiber.group_index,
        )
        emitted = source.bell_emission_probability if station.forward else source.ghz_success_probability
        switch = scenario.switch.efficiency if k >= 0 else 1.0
        user_specs.append((user, gs, scenario.detector_of(gs), eta_f, switch, k, emitted, z_flip))
    forwarded_user = {k: i for i, (_, _, _, _, _, k, _, _) in enumerate(user_specs) if k >= 0}
    readout = {u: scenario.detector_of(gs).readout_flip for u, gs in scenario.users().items()}
    readout_flip = readout if len(set(readout.values())) > 1 else scenario.detectors.readout_flip
    fidelity = source.ghz_fidelity  # white noise on every GHZ source's state (qrate.protocols.carriers.ghz)
    ghz_fidelity = {gs: fidelity for gs, st in stations.items() if not st.forward} if fidelity < 1.0 else {}
    return user_specs, forwarded_user, readout_flip, ghz_fidelity, ("noise", repr((readout_flip, ghz_fidelity)))


class ScenarioPlanner:
    """Plans the points of one scenario (a grid point's scenario plans every distance of its grid line, a pass
    run every step): what does not depend on the point's geometry (the protocol, the stations' users and
    fibers, the BSM, readout and source noise, the point key's text) is worked out once, the link budgets and
    what follows from them per point. Equal small parts of the plans (a user path, a noise, a tuple of
    factors) are one shared object; ``shared`` (a dict) shares them among the planners of one sweep.

    ``plan(...)`` gives what :func:`plan_point` gives, field for field.
    """

    def __init__(self, scenario: Scenario, protocol: ScenarioProtocol | None = None, shared: dict[Any, Any] | None = None):
        self.scenario = scenario
        self.protocol = protocol = protocol or protocol_of(scenario)
        self.links = scenario.free_space_links()
        self._link_objects = {name: spec.link for name, spec in self.links.items()}  # built once, with the scenario
        self.rate_hz = scenario.sources.repetition_rate_hz
        self.source = scenario.sources.source
        self.bsm_success, self.bsm_z_error = hardware.bsm(scenario.bsm)
        self.bsm_efficiency = scenario.bsm.detector_efficiency
        self.resources = protocol.carrier_resources
        self._shared: dict[Any, Any] = {} if shared is None else shared
        self._key: Callable[[float], int] | None = None
        self._background: dict[tuple[str, str, float | None, float], float] = {}
        stations = scenario.nodes.ground_stations
        # the downlinks in order: (index, link name, link object, ground station, the user it is forwarded to or None)
        self.downlink_specs = [
            (index, name, spec.link, gs, stations[gs].user_names(gs)[0] if stations[gs].forward else None)
            for index, (name, spec) in enumerate(self.links.items())
            for gs in spec.ground_stations
        ]
        self.blocks = {
            max(1, round(spec.coherence_time_s * self.rate_hz)) if spec.coherence_time_s > 0 else 0
            for spec in self.links.values()
        }
        self.photons = [protocol.downlink_photons(index, gs) for index, _, _, gs, _ in self.downlink_specs]
        forwarded = {to: k for k, (_, _, _, _, to) in enumerate(self.downlink_specs) if to is not None}
        # the users' part depends on the stations, fibers, detectors, sources and switch: planners of scenarios that
        # share those tables (a grid over link or protocol fields) share it (the key holds the tables: ids stay theirs)
        tables = (scenario.nodes, *scenario.fiber_links().values(), scenario.detectors, scenario.sources, scenario.switch)
        key = ("users part", *map(id, tables), tuple(forwarded.items()))
        part = self._shared.get(key)
        if part is None or part.tables != tables:
            part = self.share(key, _UsersPart(tables, *_users_part(scenario, forwarded)))
        self._users_part: _UsersPart = part
        self.user_specs, self.forwarded_user = part.user_specs, part.forwarded_user
        self.readout, self.ghz_fidelity, self._noise_key = part.readout, part.ghz_fidelity, part.noise_key
        self._last_heralding: tuple[tuple[UserPath, ...], bytes, Any] | None = None  # users, inputs, result
        self._empty: dict[str, Any] = {}

    def share(self, key: Any, value: Any) -> Any:
        """The sweep's one object for ``key`` (``value`` if it is the first); the table is emptied when full."""
        shared = self._shared
        found = shared.get(key)
        if found is None:
            if len(shared) >= SHARED_SIZE:
                shared.clear()
            shared[key] = found = value
        return found

    def _floats(self, values: tuple[float, ...]) -> tuple[float, ...]:
        return cast(tuple[float, ...], self.share(("floats", _exact(values)), values))

    def point_key(self, ground_distance_km: float) -> int:
        """:func:`point_key` of :func:`point_key_params` at this distance."""
        if self._key is None:
            self._key = point_key_of(self.scenario)
        return self._key(ground_distance_km)

    def background(self, name: str, gs: str, sun: float | None, detector_efficiency: float) -> float:
        """Background clicks per gate of link ``name`` at station ``gs`` (with the sun's elevation there, or None)."""
        key = (name, gs, sun, detector_efficiency)
        value = self._background.get(key)
        if value is None:
            value = self._link_objects[name].background_click_probability(sun, detector_efficiency)
            self._background[key] = value
        return value

    def downlinks(self, geometries: Geometries, ground_distance_km: float, sun: Mapping[str, float]) -> list[Downlink]:
        """Every free-space photon with its link budget and background (errors name ``links.<name>`` and the distance)."""
        downlinks: list[Downlink] = []
        last: tuple[str, PlatformGeometry, LinkBudget, float] | None = None
        bsm_efficiency = self.bsm_efficiency
        for index, name, link, gs, to_user in self.downlink_specs:
            geometry = geometries[(name, gs)]
            try:
                if last is not None and last[0] == name and last[1] == geometry:  # the same line of sight: the same budget
                    budget, mean = last[2], last[3]
                else:
                    budget = link_budget(link, geometry)
                    mean = mean_transmittance(budget)
                    last = (name, geometry, budget, mean)
                background = self.background(name, gs, sun.get(gs), bsm_efficiency)
            except InputError as exc:
                raise InputError(f"links.{name}.{exc.field}", exc.message) from None
            except ArithmeticError as exc:  # e.g. an absurdly small divergence overflows the beam radius
                raise InputError(
                    f"links.{name}",
                    f"link budget out of numerical range at {ground_distance_km:g} km ({exc}); check divergence_rad, wavelength_m and the aperture",
                ) from None
            downlinks.append(Downlink(name, gs, budget, mean, to_user, index, 0.0 if to_user else background))
        if len(self.blocks) > 1:
            raise InputError("links", "all free-space links must share one coherence_time_s")
        return downlinks

    def users(
        self, downlinks: list[Downlink], sun: Mapping[str, float]
    ) -> tuple[list[UserPath], dict[str, float], dict[str, float]]:
        """Every user's photon path and detector, with the Z flips and depolarisation of its photon.

        Fiber dephasing flips Z; a heralding click that may be noise (dark count, background,
        afterpulse) depolarises the photon (module :mod:`qrate.engine.hardware`). (A GHZ source of
        fidelity F < 1 is white noise on its whole state: ``PauliNoise.ghz_fidelity``.)
        """
        users: list[UserPath] = []
        z_flip: dict[str, float] = {}
        depolarize: dict[str, float] = {}
        static = self._users_part.static
        for i, (user, gs, detector, eta_f, switch, k, emitted, z) in enumerate(self.user_specs):
            if k < 0 and static is not None:  # a user's own photon (no downlink): the same at every point
                path, p = static[i]
            else:
                arriving = eta_f * switch * (downlinks[k].mean_eta if k >= 0 else 1.0)
                background = 0.0
                if k >= 0:
                    dl = downlinks[k]
                    background = self.background(dl.link, dl.ground_station, sun.get(gs), detector.efficiency)
                det = detector.detection(self.rate_hz, emitted * arriving, background)
                key = ("user", user, k, _exact((eta_f, switch, det.efficiency, det.noise_click_probability)))
                path = self.share(key, UserPath(user, eta_f, switch, k, det.efficiency, det.noise_click_probability))
                q = hardware.noise_fraction(arriving * det.efficiency, det.noise_click_probability)
                p = 0.75 * q  # DEPOLARIZE1(p): X, Y, Z each p/3 = q/4
            users.append(path)
            z_flip[user] = z
            if p > 0:
                depolarize[user] = p
        if static is None:
            self._users_part.static = [(u, depolarize.get(u.user, 0.0)) for u in users]
        return users, z_flip, depolarize

    def free_space_noise(self, downlinks: list[Downlink]) -> tuple[dict[str, float], dict[str, float]]:
        """Z flips and depolarisation of the free-space photons (keys: the protocol's photon names).

        A photon fused by a BSM gets its imperfect two-photon interference (Z) and its background
        clicks (depolarisation); an SPDC source's multi-pair emission depolarises each pair.
        """
        z_flip: dict[str, float] = {}
        depolarize: dict[str, float] = {}
        by_link: dict[int, list[int]] = {}
        bsm_z_error = self.bsm_z_error
        for k, dl in enumerate(downlinks):
            by_link.setdefault(dl.link_index, []).append(k)
            if dl.to_user is None:
                q = hardware.noise_fraction(dl.mean_eta, dl.noise_click_probability)
                for name in self.photons[k]:
                    if bsm_z_error > 0:
                        z_flip[name] = bsm_z_error
                    if q > 0:
                        depolarize[name] = 0.75 * q
        for pair in by_link.values():
            _, p_pair = self.source.bell(downlinks[pair[0]].mean_eta, downlinks[pair[-1]].mean_eta)
            if p_pair > 0:  # a two-photon depolarising channel = DEPOLARIZE1(3p/4) on either photon
                for name in self.photons[pair[0]]:
                    depolarize[name] = hardware.compose_depolarizing(depolarize.get(name, 0.0), 0.75 * p_pair)
        return z_flip, depolarize

    def heralding(
        self, downlinks: list[Downlink], users: tuple[UserPath, ...]
    ) -> tuple[tuple[float, ...], float, tuple[float, ...], tuple[float, ...]]:
        """Source probabilities, and the constant and affine factors of the success probability.

        Every downlink enters once, as a_k η_k + b_k: a photon to a BSM is detected (a = 1 − p_b) or
        mimicked by a background click (b = p_b); a forwarded photon is detected by its user after
        fiber, switch and detector, or a noise click stands in for it.
        """
        spdc = self.source.spdc_mean_pair_number is not None
        inputs = _exact([dl.noise_click_probability for dl in downlinks] + ([dl.mean_eta for dl in downlinks] if spdc else []))
        last = self._last_heralding
        if last is not None and last[0] is users and last[1] == inputs:  # nothing it reads has changed
            return last[2]
        res = self.resources
        pairs = sorted({dl.link_index for dl in downlinks})
        eta = {i: [dl.mean_eta for dl in downlinks if dl.link_index == i] for i in pairs}
        source = self.source
        bell = [source.bell(eta[i][0], eta[i][-1])[0] for i in pairs] or [source.bell_emission_probability]
        sources = (source.ghz_success_probability,) * res["ghz"] + tuple(bell[j % len(bell)] for j in range(res["bell"]))
        constant = math.prod(sources) * self.bsm_success ** res["bsm"]
        for u in users:
            if u.downlink < 0:
                tau = u.fiber_eta * u.detector_efficiency
                constant *= tau + (1.0 - tau) * u.noise_click_probability
        factors_a, factors_b = [], []
        for k, dl in enumerate(downlinks):
            if dl.to_user is None:
                factors_a.append(1.0 - dl.noise_click_probability)
                factors_b.append(dl.noise_click_probability)
            else:
                u = users[self.forwarded_user[k]]
                factors_a.append(u.fiber_eta * u.switch_eta * u.detector_efficiency * (1.0 - u.noise_click_probability))
                factors_b.append(u.noise_click_probability)
        result = self._floats(sources), constant, self._floats(tuple(factors_a)), self._floats(tuple(factors_b))
        self._last_heralding = (users, inputs, result)
        return result

    def noise(self, z_flip: dict[str, float], depolarize: dict[str, float]) -> PauliNoise:
        """The point's Pauli noise (one object for equal noises)."""
        key = (self._noise_key, tuple(z_flip), _exact(z_flip.values()), tuple(depolarize), _exact(depolarize.values()))
        noise = self._shared.get(key)
        if noise is None:
            noise = self.share(
                key,
                PauliNoise(z_flip=z_flip, depolarize=depolarize, readout_flip=self.readout, ghz_fidelity=self.ghz_fidelity),
            )
        return cast(PauliNoise, noise)

    def plan(
        self,
        index: int,
        ground_distance_km: float,
        axes: Mapping[str, Any] | None = None,
        *,
        geometries: Geometries | None = None,
        key_params: Mapping[str, Any] | None = None,
        pulses_per_batch: int | None = None,
        extra: Mapping[str, Any] | None = None,
        share_axes: bool = False,
    ) -> PointPlan:
        """The plan of point ``index`` at ``ground_distance_km`` (arguments as :func:`plan_point`'s);
        ``share_axes``: ``axes`` is a dict the caller gives to every point of its grid line (not copied)."""
        scenario = self.scenario
        if geometries is None:
            geometries = midpoint_geometries(scenario, ground_distance_km, self.links, self._shared)
        sun = {gs: st["sun_elevation_deg"] for gs, st in extra.get("stations", {}).items()} if extra else self._empty
        downlinks = self.downlinks(geometries, ground_distance_km, sun)
        users, z_user, dep_user = self.users(downlinks, sun)
        z_fs, dep_fs = self.free_space_noise(downlinks)
        noise = self.noise({**z_user, **z_fs}, {**dep_user, **dep_fs})
        shared_users = cast(tuple[UserPath, ...], self.share(("users", *map(id, users)), tuple(users)))
        sources, constant, factors_a, factors_b = self.heralding(downlinks, shared_users)
        key = point_key(key_params) if key_params is not None else self.point_key(ground_distance_km)
        plan = PointPlan(
            index=index,
            ground_distance_km=float(ground_distance_km),
            key=key,
            downlinks=tuple(downlinks),
            users=shared_users,
            sources=sources,
            bsm_count=self.resources["bsm"],
            bsm_success=self.bsm_success,
            block_pulses=next(iter(self.blocks)) if self.blocks else 0,
            factors_a=factors_a,
            factors_b=factors_b,
            constant=constant,
            noise=noise,
            protocol=self.protocol,
            repetition_rate_hz=self.rate_hz,
            sampler=scenario.sampling.sampler,
            axes=axes if share_axes and isinstance(axes, dict) else dict(axes or {}),
            key_block_s=scenario.sampling.key_block_s,
            pulses_per_batch=pulses_per_batch,
            extra=dict(extra) if extra else self._empty,
            finite_key=scenario.sampling.finite_key,
        )
        if scenario.memories:
            from qrate.memory.plan import with_memories

            plan = with_memories(scenario, plan)
            if plan.noise is not noise:  # a platform swap's noise: one object for equal noises
                plan = dataclasses.replace(plan, noise=self.share(("memory noise", repr(plan.noise)), plan.noise))
        _ = plan.pulse_sampler  # a protocol with its own pulse sampler refuses what it cannot draw, before anything runs
        return plan


SHARED_SIZE = 65536
"""Most objects a sweep's planners share at once (the table starts again when full: memory stays bounded)."""


def plan_point(
    scenario: Scenario,
    index: int,
    ground_distance_km: float,
    protocol: ScenarioProtocol | None = None,
    axes: Mapping[str, Any] | None = None,
    *,
    geometries: Geometries | None = None,
    key_params: Mapping[str, Any] | None = None,
    pulses_per_batch: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> PointPlan:
    """Plan sweep point ``index`` at ``ground_distance_km`` of ``scenario`` (the point's own scenario).

    ``geometries`` (default: every platform above the midpoint) gives each downlink's line of
    sight; ``key_params`` (default: :func:`point_key_params`) what identifies the point;
    ``pulses_per_batch`` overrides the scenario's; ``extra`` is stored with the point's parameters.
    (Many points of one scenario: :class:`ScenarioPlanner`.)

    Raises:
        InputError: the platform is below the horizon or the elevation cut at this distance
            (field ``sweep.ground_distance_km``), or a link cannot be evaluated there.
    """
    return ScenarioPlanner(scenario, protocol).plan(
        index,
        ground_distance_km,
        axes,
        geometries=geometries,
        key_params=key_params,
        pulses_per_batch=pulses_per_batch,
        extra=extra,
    )


CounterSampler = CompiledProtocol | PulseSampler
"""What draws a point's counters: the compiled Stim protocol, or the protocol's own pulse sampler."""


def compile_protocol(plan: PointPlan) -> CounterSampler:
    """The counter sampler of a point: the protocol's own pulse sampler if it has one, else its Stim
    rounds compiled with the point's Pauli noise and counter sampler (with memories, one compiled
    variant per storage-noise class, :class:`qrate.memory.herald.MemoryProtocol`)."""
    pulses = plan.pulse_sampler
    if pulses is not None:
        return pulses
    if plan.memory is not None:
        from qrate.memory.herald import MemoryProtocol

        return cast(CompiledProtocol, MemoryProtocol(plan.protocol, plan.noise, plan.memory, plan.sampler))
    return plan.protocol.compile(plan.noise, sampler=plan.sampler)
