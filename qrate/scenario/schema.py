"""Pydantic v2 schema of a scenario file (TOML): nodes, links, hardware, protocol, sweep, sampling.

Every model is frozen and forbids unknown keys, so a typo is an error that names its field path.
Cross-field rules (references between sections) raise :class:`CrossFieldError`, which carries the
path of the offending field; :mod:`qrate.scenario.load` turns both kinds of error into
:class:`qrate.errors.InputError`.

Units are in the field names (``_km``, ``_m``, ``_rad``, ``_hz``, ``_s``); probabilities are per
pulse (source tick) unless stated otherwise.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from qrate.errors import InputError
from qrate.geometry import STATION_ALTITUDE_RANGE_M
from qrate.protocols._decode import DEFAULT_SAMPLER, Sampler
from qrate.protocols.registry import PROTOCOLS, ProtocolParams, protocol_class, registered
from qrate.scenario.axes import DISTANCE_AXIS, MAX_POINTS, GridPoints, field_axes, grid
from qrate.strict import CrossFieldError, StrictModel

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Efficiency = Annotated[float, Field(gt=0.0, le=1.0)]
FlipProbability = Annotated[float, Field(ge=0.0, le=0.5)]
MAX_NAME_LENGTH = 64
"""Longest station, platform, link or user name: names become HDF5 field names and attribute text."""
MAX_USERS = 128
"""Most users in one scenario (and at one station); checked in :func:`qrate.scenario.load.validate_data`."""
MAX_DISTANCES = 10_000
"""Most ground distances in ``sweep.ground_distance_km``, given as a list or as a range."""
MAX_PULSES_PER_POINT = 2**60
"""Most pulses per sweep point (``pulses_per_batch`` × ``batches``, ``--max-pulses``): per-point sums of
64-bit counters stay 8x below 2**63."""
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH, pattern=r"^[A-Za-z0-9_\-]+$")]


class _Model(StrictModel):
    """A scenario section (:class:`qrate.strict.StrictModel`'s rules)."""


# --------------------------------------------------------------------------------------- nodes
class GroundStation(_Model):
    """A terrestrial network: its ground station and the users it serves over fiber.

    ``forward = true``: the station holds no GHZ source; it forwards the platform's photon
    through its switch to its single user (GS2 in Khan's Case 1). Give the users by name
    (``users``) or by number (``user_count = N``: users ``<station>-u1 ... <station>-uN``, so that the
    network size can be a sweep axis); exactly one of the two. ``latitude_deg``,
    ``longitude_deg`` and ``altitude_m`` (WGS84; the altitude in :data:`qrate.geometry.STATION_ALTITUDE_RANGE_M`)
    place the station on the globe for satellite passes. :meth:`network` and :meth:`site` are the
    station as the protocol layout and the pass geometry see it, built from this one table.
    ``detectors`` overrides the scenario's ``[detectors]`` for this station's users.
    """

    users: tuple[Name, ...] = Field(default=(), max_length=MAX_USERS)
    user_count: int | None = Field(default=None, ge=1, le=128)
    forward: bool = False
    latitude_deg: float | None = Field(default=None, ge=-90.0, le=90.0)
    longitude_deg: float | None = Field(default=None, ge=-180.0, le=360.0)
    altitude_m: float = Field(default=0.0, ge=STATION_ALTITUDE_RANGE_M[0], le=STATION_ALTITUDE_RANGE_M[1])
    detectors: Detectors | None = None

    @model_validator(mode="after")
    def _one_way_to_name_users(self) -> GroundStation:
        if bool(self.users) == (self.user_count is not None):
            raise CrossFieldError("users", "give exactly one of users (names) or user_count (a number)")
        if (self.latitude_deg is None) != (self.longitude_deg is None):
            raise CrossFieldError("latitude_deg", "give both latitude_deg and longitude_deg, or neither")
        return self

    @property
    def located(self) -> bool:
        """Whether the station has coordinates on the globe."""
        return self.latitude_deg is not None

    def user_names(self, station: str) -> tuple[str, ...]:
        """The station's users: ``users``, or ``<station>-u1 ... <station>-uN`` for ``user_count = N``."""
        if self.user_count is None:
            return self.users
        return tuple(f"{station}-u{i}" for i in range(1, self.user_count + 1))

    def network(self, station: str) -> Any:
        """The station and its users as a :class:`qrate.protocols.layout.TerrestrialNetwork` (its own rules:
        a forwarding station serves one user)."""
        from qrate.protocols.layout import TerrestrialNetwork

        return TerrestrialNetwork(station, self.user_names(station), forward=self.forward)

    def site(self, station: str) -> Any:
        """The station on the globe, a :class:`qrate.orbit.Station` (None without coordinates)."""
        if self.latitude_deg is None or self.longitude_deg is None:
            return None
        from qrate.orbit.stations import Station

        return Station(station, self.latitude_deg, self.longitude_deg, self.altitude_m)


class CircularOrbitSpec(_Model):
    """A circular orbit: altitude above the equatorial radius, inclination, right ascension of the
    ascending node and argument of latitude at ``epoch_utc`` (ISO 8601, UTC); ``j2`` adds the
    secular J2 drift."""

    altitude_km: float = Field(gt=100.0, le=50_000.0)
    inclination_deg: float = Field(ge=0.0, le=180.0)
    raan_deg: float = Field(default=0.0, ge=-360.0, le=360.0)
    arg_latitude_deg: float = Field(default=0.0, ge=-360.0, le=360.0)
    epoch_utc: Annotated[str, Field(min_length=1, max_length=40)]
    j2: bool = True


class FixedPositionSpec(_Model):
    """A UAV or high-altitude platform holding station at a geodetic point (WGS84)."""

    latitude_deg: float = Field(ge=-90.0, le=90.0)
    longitude_deg: float = Field(ge=-180.0, le=360.0)
    altitude_m: float = Field(gt=0.0, le=1e8)


class Platform(_Model):
    """A non-terrestrial node (LEO satellite, UAV), placed by exactly one of:

    ``altitude_km`` (placement ``midpoint``: above the midpoint of its two stations, swept over
    their ground distance; the papers' model), ``orbit`` (a circular orbit), ``tle`` (the two lines
    of a NORAD element set, propagated with SGP4) or ``position`` (a fixed point: UAV/HAP).
    """

    altitude_km: float | None = Field(default=None, gt=0.0, le=50_000.0)
    orbit: CircularOrbitSpec | None = None
    tle: tuple[Annotated[str, Field(max_length=80)], Annotated[str, Field(max_length=80)]] | None = None
    position: FixedPositionSpec | None = None

    @model_validator(mode="after")
    def _one_placement(self) -> Platform:
        given = [k for k in ("altitude_km", "orbit", "tle", "position") if getattr(self, k) is not None]
        if len(given) != 1:
            raise CrossFieldError(
                "altitude_km", f"give exactly one of altitude_km, orbit, tle or position, got {given or 'none'}"
            )
        return self

    @property
    def placement(self) -> str:
        """``midpoint``, ``orbit``, ``tle`` or ``fixed``."""
        if self.altitude_km is not None:
            return "midpoint"
        return "orbit" if self.orbit is not None else "tle" if self.tle is not None else "fixed"


class Nodes(_Model):
    """Ground stations (in chain order), their users, and the platforms."""

    ground_stations: dict[Name, GroundStation] = Field(min_length=2)
    platforms: dict[Name, Platform] = Field(min_length=1)


# --------------------------------------------------------------------------------------- links
class FiberLinks(_Model):
    """Fibers from ground stations to users (``lengths_km``: user -> length) with shared parameters.

    ``default_length_km`` gives every user not named in any ``lengths_km`` this fiber (and length),
    e.g. for stations with ``user_count``.

    Dephasing (see "Fiber dephasing" in qrate/MODELS.md): ``per_traversal`` applies a Z flip with probability
    ``dephasing_probability`` on every traversal, whatever the length (code-faithful, p = 0.02);
    ``rate_hz`` uses p = 1 - exp(-rate * n L / c).
    """

    kind: Literal["fiber"]
    lengths_km: dict[Name, Annotated[float, Field(ge=0.0, le=1000.0)]] = Field(default_factory=dict)
    default_length_km: float | None = Field(default=None, ge=0.0, le=1000.0)
    loss_db_per_km: float = Field(default=0.18, ge=0.0, le=10.0)
    coupling: Efficiency = 0.9
    dephasing: Literal["per_traversal", "rate_hz"] = "per_traversal"
    dephasing_probability: FlipProbability = 0.02
    dephasing_rate_hz: float = Field(default=0.0, ge=0.0)
    group_index: float = Field(default=1.468, ge=1.0, le=5.0)


class LossTable(_Model):
    """A measured loss in dB against slant range (km) or elevation (deg): exactly one abscissa,
    at least two strictly increasing points, interpolated linearly in dB; ``scintillation_index``
    adds mean-one log-normal fading around it (0: none)."""

    slant_range_km: tuple[float, ...] | None = None
    elevation_deg: tuple[float, ...] | None = None
    loss_db: tuple[float, ...]
    scintillation_index: float = Field(default=0.0, ge=0.0, le=10.0)

    @model_validator(mode="after")
    def _one_abscissa(self) -> LossTable:
        if (self.slant_range_km is None) == (self.elevation_deg is None):
            raise CrossFieldError("slant_range_km", "give exactly one of slant_range_km or elevation_deg")
        return self


class CouplingSpec(_Model):
    """Elevation-dependent receiver coupling eta_c = 1 - exp(-u0 sin^q(elevation)) (field stop and a spot
    that grows towards the horizon), given by its loss at a reference elevation and the exponent q
    (qrate/MODELS.md, "Elevation-dependent receiver coupling")."""

    reference_loss_db: float = Field(gt=0.0, le=100.0)
    reference_elevation_deg: float = Field(default=20.0, gt=0.0, lt=90.0)
    exponent: float = Field(default=4.0, gt=0.0, le=20.0)


class SkyBackground(_Model):
    """Sky light reaching a receiver: ``sky`` (``night``, ``moonlit``, ``day``, a twilight band
    ``civil_twilight``/``nautical_twilight``/``astronomical_twilight``, or ``auto``: from the sun's
    elevation at the station in a pass run: day above 0 deg, twilight log-linear in the Sun's
    elevation, night at or below -18 deg) or an explicit
    ``radiance_w_m2_sr_nm``; the receiver's full field-of-view angle, filter bandwidth and detection
    gate. ``click_probability`` overrides all of it (background clicks per gate)."""

    sky: Literal["night", "moonlit", "day", "civil_twilight", "nautical_twilight", "astronomical_twilight", "auto"] = "night"
    radiance_w_m2_sr_nm: float | None = Field(default=None, ge=0.0, le=1.0)
    fov_full_angle_rad: float = Field(default=100e-6, gt=0.0, le=0.1)
    filter_bandwidth_nm: float = Field(default=1.0, gt=0.0, le=1000.0)
    gate_s: float = Field(default=1e-9, gt=0.0, le=1e-3)
    click_probability: float | None = Field(default=None, ge=0.0, lt=1.0)


class FreeSpaceLinkSpec(_Model):
    """Bell-pair downlinks from a platform to two neighbouring ground stations (one photon each).

    The platform sits above the midpoint of the great-circle arc between the two stations, whose
    distance is the sweep variable. ``coherence_time_s = 0`` draws an independent transmittance
    for every pulse (Yehia et al.); a positive value holds it constant over blocks of
    ``max(1, round(coherence_time_s * repetition_rate_hz))`` pulses (see "Coherence blocks and i.i.d. fading" in
    qrate/MODELS.md).
    """

    kind: Literal["free_space"]
    platform: Name
    ground_stations: tuple[Name, Name]
    divergence_rad: float = Field(gt=0.0, le=1e-2)
    pointing_rad: float = Field(default=0.0, ge=0.0, le=1e-2)
    aperture_radius_m: float | None = Field(default=None, gt=0.0, le=100.0)
    aperture_diameter_m: float | None = Field(default=None, gt=0.0, le=200.0)
    wavelength_m: float = Field(default=1.55e-6, gt=0.0, le=1e-4)
    beam: Literal["gaussian", "far_field"] = "gaussian"
    model: Literal["exact", "weibull", "measured"] = "weibull"
    cn2: float = Field(default=0.0, ge=0.0, le=1e-10, description="C_n^2 in m^(-2/3)")
    turbulence_path: Literal["full", "last_10km"] = "full"
    t_atm_zenith: Efficiency = 1.0
    coherence_time_s: float = Field(default=0.0, ge=0.0, le=3600.0)
    min_elevation_deg: float = Field(default=0.0, ge=0.0, lt=90.0)
    transmitter_efficiency: Efficiency = 1.0
    receiver_efficiency: Efficiency = 1.0
    extra_loss_db: float = Field(default=0.0, ge=0.0, le=300.0)
    aerosol_model: Literal["no_aerosol", "rural_23km", "rural_5km", "urban_5km"] | None = None
    turbulence_profile: Literal["none", "hv"] = "none"
    hv_ground_cn2: float = Field(default=1.7e-14, ge=0.0, le=1e-10)
    hv_wind_m_per_s: float = Field(default=21.0, ge=0.0, le=200.0)
    loss_table: LossTable | None = None
    elevation_coupling: CouplingSpec | None = None
    background: SkyBackground | None = None

    _link: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _build_link(self) -> FreeSpaceLinkSpec:
        """Build the link object once; the rules between its fields are the link's own
        (:class:`qrate.channels.link.FreeSpaceLink`: one aperture, a loss table with ``model = "measured"``,
        one atmosphere, one turbulence description). A table passed in already validated (a grid point's
        scenario reuses the tables that its axes do not touch) keeps the link it built then."""
        from qrate.channels.link import FreeSpaceLink, receiver_radius_m

        if self._link is not None:
            return self
        try:
            self._link = FreeSpaceLink(
                divergence_rad=self.divergence_rad,
                pointing_rad=self.pointing_rad,
                aperture_radius_m=receiver_radius_m(self.aperture_radius_m, self.aperture_diameter_m),
                wavelength_m=self.wavelength_m,
                beam=self.beam,
                model=self.model,
                cn2=self.cn2,
                turbulence_path=self.turbulence_path,
                t_atm_zenith=self.t_atm_zenith,
                aerosol_model=self.aerosol_model,
                turbulence_profile=self.turbulence_profile,
                hv_ground_cn2=self.hv_ground_cn2,
                hv_wind_m_per_s=self.hv_wind_m_per_s,
                transmitter_efficiency=self.transmitter_efficiency,
                receiver_efficiency=self.receiver_efficiency,
                extra_loss_db=self.extra_loss_db,
                measured_loss=self._measured_loss(),
                background=self.background,
                elevation_coupling=self._elevation_coupling(),
            )
        except InputError as exc:
            raise CrossFieldError(exc.field, exc.message) from None
        return self

    def _measured_loss(self) -> Any:
        """The :class:`qrate.channels.measured.MeasuredLoss` of ``loss_table`` (None without one)."""
        if self.loss_table is None:
            return None
        from qrate.channels.measured import MeasuredLoss

        t = self.loss_table
        abscissa = "slant_range_km" if t.slant_range_km is not None else "elevation_deg"
        return MeasuredLoss(abscissa, getattr(t, abscissa), t.loss_db, t.scintillation_index, name="loss_table")

    def _elevation_coupling(self) -> Any:
        """The :class:`qrate.channels.coupling.ElevationCoupling` of ``elevation_coupling`` (None without one)."""
        if self.elevation_coupling is None:
            return None
        from qrate.channels.coupling import ElevationCoupling

        c = self.elevation_coupling
        return ElevationCoupling(c.reference_loss_db, c.reference_elevation_deg, c.exponent, name="elevation_coupling")

    @property
    def link(self) -> Any:
        """The :class:`qrate.channels.link.FreeSpaceLink` this table describes (built once, with its
        loss table and background)."""
        return self._link

    @property
    def receiver_radius_m(self) -> float:
        """Receiver aperture radius in m, whichever way the file gave it."""
        return float(self._link.aperture_radius_m)


Link = Annotated[FiberLinks | FreeSpaceLinkSpec, Field(discriminator="kind")]


# ------------------------------------------------------------------------------------ hardware
class Detectors(_Model):
    """User detectors: efficiency, noise clicks, readout (outcome) flip, timing.

    Noise clicks per gate: ``dark_count_probability``, or ``dark_count_rate_hz`` over the gate
    ``gate_s`` (give one), plus afterpulses (``afterpulse_probability`` per click). The efficiency
    is multiplied by the fraction of true clicks inside the coincidence window ``gate_s`` given the
    timing jitter ``jitter_fwhm_s`` (Gaussian; 0: all) and by the live fraction 1/(1 + r τ) of the
    dead time ``dead_time_s`` at the detector's click rate r. ``per_receiver`` detectors sit behind one
    receiver (a passive BB84 polarisation analyser has four): the dark counts of all of them add,
    the clicks (and so the dead time) are shared among them, and the background light is split.
    """

    efficiency: Efficiency = 1.0
    dark_count_probability: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    readout_flip: FlipProbability = 0.0
    dark_count_rate_hz: float | None = Field(default=None, ge=0.0, le=1e9)
    gate_s: float = Field(default=1e-9, gt=0.0, le=1e-3)
    jitter_fwhm_s: float = Field(default=0.0, ge=0.0, le=1e-3)
    dead_time_s: float = Field(default=0.0, ge=0.0, le=1.0)
    afterpulse_probability: float = Field(default=0.0, ge=0.0, lt=1.0)
    per_receiver: int = Field(default=1, ge=1, le=64)

    _detector: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_dark_count(self) -> Detectors:
        if self._detector is not None:  # validated already (passed in as a table of a grid point's scenario)
            return self
        if self.dark_count_rate_hz is not None and self.dark_count_probability > 0.0:
            raise CrossFieldError("dark_count_rate_hz", "give dark_count_rate_hz or dark_count_probability, not both")
        from qrate.channels.devices import Detector

        self._detector = Detector.from_table(self)
        return self

    @property
    def detector(self) -> Any:
        """The :class:`qrate.channels.devices.Detector` of this table (built once, when validated)."""
        return self._detector


class Bsm(_Model):
    """Bell-state measurement at a ground station (GHZ qubit with the platform photon).

    ``model = "fixed"``: it succeeds with ``success_probability`` and is perfect. ``"linear_optics"``:
    a beam-splitter measurement that succeeds with probability 1/2 × ``detector_efficiency``² and,
    with two-photon interference visibility ``hom_visibility`` V, leaves a Z error with probability
    (1 − V)/2 on the fused state.
    """

    success_probability: Efficiency = 1.0
    model: Literal["fixed", "linear_optics"] = "fixed"
    detector_efficiency: Efficiency = 1.0
    hom_visibility: Probability = 1.0


class Switch(_Model):
    """Forwarding of a platform photon by a ground station to its user."""

    efficiency: Efficiency = 1.0


class Sources(_Model):
    """Bell (platform) and GHZ (ground-station) sources on one clock of ``repetition_rate_hz``.

    ``spdc_mean_pair_number`` μ makes the Bell source an SPDC source with thermal pair statistics:
    it emits at least one pair with probability μ/(1 + μ) (instead of ``bell_success_probability``)
    and multi-pair emission depolarises the heralded pair with the probability 1 − V(μ, η_A, η_B).
    ``ghz_fidelity`` F < 1 depolarises each of the N users' photons of a ground station's GHZ state
    with 1 − F^(1/N), so that no photon is hit with probability F (the state's fidelity is then
    about F: a few Pauli combinations leave a GHZ state unchanged). ``bell_state_error`` e_d is
    the error rate of genuine pairs in every basis (imperfect entanglement, polarisation alignment),
    a two-photon depolarisation 2 e_d.
    """

    repetition_rate_hz: float = Field(default=1e6, gt=0.0, le=1e12)
    synchronous: bool = True
    bell_success_probability: Efficiency = 1.0
    ghz_success_probability: Efficiency = 1.0
    spdc_mean_pair_number: float | None = Field(default=None, gt=0.0, le=10.0)
    ghz_fidelity: Annotated[float, Field(gt=0.25, le=1.0)] = 1.0
    bell_state_error: Annotated[float, Field(ge=0.0, le=0.5)] = 0.0

    _source: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_bell_source(self) -> Sources:
        if self._source is not None:  # validated already (passed in as a table of a grid point's scenario)
            return self
        if self.spdc_mean_pair_number is not None and self.bell_success_probability != 1.0:
            raise CrossFieldError("spdc_mean_pair_number", "give spdc_mean_pair_number or bell_success_probability, not both")
        from qrate.channels.devices import Source

        self._source = Source.from_table(self)
        return self

    @property
    def source(self) -> Any:
        """The :class:`qrate.channels.devices.Source` of this table (built once, when validated)."""
        return self._source


class Memory(_Model):
    """Quantum memories at one node (a ground station or a platform) for memory-assisted heralding.

    ``stores``: the free-space links whose photon this node keeps until every link of a delivery has
    succeeded (qrate/MODELS.md, "Quantum memories"). A ground station stores its photon of the link;
    a platform keeps the partner of each downlink photon (one pair per downlink, swapped on board
    with ``swap_success`` and depolarising parameter ``swap_lambda``). ``modes``: memory modes per
    attempt, filled by the source's pulses in one attempt period times ``modes_per_pulse`` (spectral
    or spatial modes). ``write_efficiency`` (heralded) and ``read_efficiency`` × decay with storage
    time t: exp(−t/τ) or exp(−(t/τ)²) with τ = ``efficiency_lifetime_s`` (none: no decay).
    ``coherence_time_s`` T2: dephasing (Z with (1 − e^(−t/T2))/2) or depolarising (I/2 with
    1 − e^(−t/T2)); none: no decoherence. ``cutoff_s`` or ``cutoff_attempts``: longest hold (neither: no
    cutoff). ``herald_speed_m_per_s``: speed of the classical heralds (default: c in vacuum).
    ``heralded_write``: the node learns at once whether a photon was written (a heralded absorption),
    so a mode is taken only by photons that arrived and the link is tried at every pulse; otherwise
    every mode is taken until the link's heralds arrive (one attempt per herald latency).
    ``multiplexing = "any"``: one delivery per attempt from whichever mode succeeded, 1 − (1 − p)^M;
    ``"parallel"``: every mode holds its own success and the links' successes are paired first in,
    first out, as many per attempt as they allow.
    """

    stores: tuple[Name, ...] = Field(min_length=1)
    modes: int = Field(default=1, ge=1, le=1_000_000)
    modes_per_pulse: int = Field(default=1, ge=1, le=1_000_000)
    write_efficiency: Efficiency = 1.0
    read_efficiency: Efficiency = 1.0
    efficiency_lifetime_s: float | None = Field(default=None, gt=0.0)
    efficiency_decay: Literal["exponential", "gaussian"] = "exponential"
    coherence_time_s: float | None = Field(default=None, gt=0.0)
    decoherence: Literal["dephasing", "depolarizing"] = "dephasing"
    cutoff_s: float | None = Field(default=None, ge=0.0)
    cutoff_attempts: int | None = Field(default=None, ge=0)
    herald_speed_m_per_s: float = Field(default=299_792_458.0, gt=0.0, le=299_792_458.0)
    heralded_write: bool = False
    multiplexing: Literal["any", "parallel"] = "any"
    swap_success: Efficiency = 1.0
    swap_lambda: Probability = 1.0

    @model_validator(mode="after")
    def _one_cutoff(self) -> Memory:
        if self.cutoff_s is not None and self.cutoff_attempts is not None:
            raise CrossFieldError("cutoff_s", "give cutoff_s or cutoff_attempts, not both")
        return self


# ------------------------------------------------------------------------------------ protocol
class ProtocolSpec(_Model):
    """Which anonymous protocol runs on the heralded states (see qrate/MODELS.md, "Protocols").

    ``name``: a registered protocol; ``sender``: the anonymous node (key provider, broadcaster,
    sender), for the protocols that have one; ``participants``: the users taking part, for the protocols that read them
    (``"all"`` names every user of the scenario, useful when the network size is a sweep axis).
    Each protocol's own parameters sit in its sub-table ``[protocol.<name>]`` (e.g.
    ``[protocol.acka] verification_fraction = 0.1``), declared, defaulted and validated by the
    protocol module (:attr:`qrate.protocols.registry.ScenarioProtocol.Params`); the flat form of
    older files (``verification_fraction`` directly in ``[protocol]``) is still read. A field the
    protocol does not read must be left out.
    """

    model_config = ConfigDict(frozen=True, extra="allow", allow_inf_nan=False)

    name: str
    participants: tuple[Name, ...] | Literal["all"] = ()
    sender: Name | None = None

    @model_validator(mode="before")
    @classmethod
    def _own_table(cls, data: object) -> object:
        """Validate the protocol's sub-table with its ``Params`` (moving flat keys of older files into it)."""
        if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not registered(data["name"]):
            return data
        name = data["name"]
        params_cls = protocol_class(name).Params
        own = data.get(name, {})
        if not isinstance(own, dict):
            raise CrossFieldError(name, f"expected a table of the parameters of protocol {name!r}")
        own = dict(own)
        for key, value in data.items():
            if key in cls.model_fields or key == name:
                continue
            if key not in params_cls.model_fields:
                known = ", ".join(params_cls.model_fields) or "none"
                raise CrossFieldError(key, f"does not apply to protocol {name!r} (its parameters: {known}); remove it")
            if key in own:
                raise CrossFieldError(key, f"given twice: here and in [protocol.{name}]")
            own[key] = value
        try:
            params = params_cls.model_validate(own)
        except ValidationError as exc:
            err = exc.errors()[0]
            cause = err.get("ctx", {}).get("error")
            if isinstance(cause, CrossFieldError):  # a rule of the parameters' model (qrate.strict)
                raise CrossFieldError(f"{name}.{cause.field}", cause.message) from None
            where = ".".join(str(x) for x in err["loc"])
            msg = str(err["msg"]).removeprefix("Value error, ")
            raise CrossFieldError(f"{name}.{where}" if where else name, msg) from None
        return {**{k: v for k, v in data.items() if k in cls.model_fields}, name: params}

    @field_validator("name")
    @classmethod
    def _registered(cls, name: str) -> str:
        if not registered(name):
            raise ValueError(f"unknown protocol {name!r}; expected one of {', '.join(PROTOCOLS)}")
        return name

    @property
    def sender_user(self) -> str:
        """``sender`` (InputError naming ``sender`` when the protocol needs one and none is given)."""
        if self.sender is None:
            raise InputError("sender", f"protocol {self.name!r} needs a sender (one of the users)")
        return self.sender

    @property
    def params(self) -> ProtocolParams:
        """The protocol's parameters (its ``[protocol.<name>]`` sub-table, defaults filled in)."""
        value = (self.model_extra or {}).get(self.name)
        assert isinstance(value, ProtocolParams)
        return value


# --------------------------------------------------------------------------------------- sweep
class DistanceRange(_Model):
    """``start_km, start_km + step_km, ...`` up to and including ``stop_km`` (within 1e-9)."""

    start_km: float = Field(ge=0.0)
    stop_km: float = Field(ge=0.0)
    step_km: float = Field(gt=0.0)

    @model_validator(mode="after")
    def _ordered(self) -> DistanceRange:
        if self.stop_km < self.start_km:
            raise CrossFieldError("stop_km", f"expected stop_km >= start_km = {self.start_km:g}, got {self.stop_km:g}")
        n = math.floor((self.stop_km - self.start_km) / self.step_km + 1e-9) + 1
        if n > MAX_DISTANCES:
            raise CrossFieldError("step_km", f"expected at most {MAX_DISTANCES} sweep points, the range has {n}")
        return self

    def values(self) -> tuple[float, ...]:
        """The grid points in km."""
        n = math.floor((self.stop_km - self.start_km) / self.step_km + 1e-9)
        return tuple(round(self.start_km + i * self.step_km, 9) for i in range(n + 1))


def _list_or_range(value: object) -> str:
    return "range" if isinstance(value, dict | DistanceRange) else "list"


DistanceList = tuple[Annotated[float, Field(ge=0.0)], ...]


class Sweep(_Model):
    """The sweep: ground distances and any further axes (see :mod:`qrate.scenario.axes`).

    ``ground_distance_km``: great-circle distances between neighbouring ground stations, a list
    (``[0, 500, 1000]``) or a range (``{start_km = 0, stop_km = 2000, step_km = 250}``). Every other
    key is the dotted path of a scenario field with a list of values or a range table; the axes
    form a Cartesian grid (``zip = true`` pairs them) of at most ``max_points`` points.
    """

    model_config = ConfigDict(frozen=True, extra="allow", allow_inf_nan=False)

    ground_distance_km: Annotated[
        Annotated[DistanceList, Tag("list")] | Annotated[DistanceRange, Tag("range")],
        Discriminator(_list_or_range),
    ]
    zip: bool = False
    max_points: int = Field(default=MAX_POINTS, ge=1, le=MAX_POINTS)

    @model_validator(mode="after")
    def _nonempty(self) -> Sweep:
        if isinstance(self.ground_distance_km, tuple) and not self.ground_distance_km:
            raise CrossFieldError("ground_distance_km", "expected at least one distance")
        if isinstance(self.ground_distance_km, tuple) and len(self.ground_distance_km) > MAX_DISTANCES:
            raise CrossFieldError(
                "ground_distance_km",
                f"expected at most {MAX_DISTANCES} distances (as for a range), got {len(self.ground_distance_km)}",
            )
        distances = self.distances_km()
        if len(set(distances)) != len(distances):
            counts: dict[float, int] = {}
            for d in distances:
                counts[d] = counts.get(d, 0) + 1
            repeated = sorted(d for d, n in counts.items() if n > 1)
            repeated = repeated if len(repeated) <= 10 else [*repeated[:10], "..."]  # type: ignore[list-item]
            # a point's random streams derive from its content, so a repeated distance would
            # silently repeat the same numbers
            raise CrossFieldError("ground_distance_km", f"expected distinct distances, {repeated} repeated")
        return self

    def axes(self) -> dict[str, tuple[Any, ...]]:
        """The field axes (dotted path -> values), in the order given."""
        return field_axes(self.model_extra or {})

    def count_points(self) -> int:
        """How many points :meth:`points` gives (without building them)."""
        lengths = [len(v) for v in self.axes().values()]
        n_distances = len(self.distances_km())
        if self.zip and lengths:
            return max(lengths) if n_distances == 1 else max([*lengths, n_distances])
        return math.prod(lengths) * n_distances

    def points(self) -> GridPoints:
        """Every grid point as ``{axis: value}``, ``ground_distance_km`` varying fastest: a lazy sequence
        (:class:`~qrate.scenario.axes.GridPoints`: ``len``, indexing and iteration from any offset, no list built).

        Raises:
            InputError: zipped axes of different lengths, more than ``max_points`` points.
        """
        axes: dict[str, Sequence[Any]] = dict(self.axes())
        distances = self.distances_km()
        if self.zip and axes:
            lengths = {len(v) for v in axes.values()}
            if len(distances) > 1 and lengths != {len(distances)}:
                raise InputError("sweep.zip", "with zip = true, ground_distance_km must have one value or as many as every axis")
            if len(distances) > 1:
                axes[DISTANCE_AXIS] = distances
                return grid(axes, zipped=True, max_points=self.max_points)
            return grid(axes, zipped=True, max_points=self.max_points, constant={DISTANCE_AXIS: distances[0]})
        axes[DISTANCE_AXIS] = distances
        return grid(axes, max_points=self.max_points)

    def point_at(self, index: int) -> dict[str, Any]:
        """Grid point ``index`` (``points()[index]``, decoded from the index: O(number of axes))."""
        return self.points()[index]

    def distances_km(self) -> tuple[float, ...]:
        """The sweep's distances, in the order given."""
        d = self.ground_distance_km
        return d.values() if isinstance(d, DistanceRange) else tuple(float(x) for x in d)


class Target(_Model):
    """Stop a point once ``estimate`` (a ``qrate plot --y`` name such as ``key_rate`` or ``rate``) is
    known to ``relative_error`` (standard error over value)."""

    estimate: Annotated[str, Field(min_length=1, max_length=64)] = "rate"
    relative_error: Annotated[float, Field(gt=0.0, lt=1.0)]


class Sampling(_Model):
    """Batches of pulses per sweep point.

    ``batches`` is the number of batches, or the maximum when a target is set: then a point stops
    once the standard error of an estimate is below a fraction of its value, after at least
    ``min_batches`` — ``target = { estimate = "key_rate", relative_error = 0.01 }`` for any reported
    estimate, or ``target_relative_error`` as a shorthand for the heralded (coincidence) rate. ``seed`` (optional) is the root
    entropy; a fresh one is drawn, printed and stored when absent. ``sampler`` draws the protocol
    counters of the heralded shots: ``exact`` (from the exact distribution of the round's outcome
    classes derived from Stim's error model; cost independent of the number of shots) or ``stim``
    (every shot sampled by Stim; the cross-check). ``key_block_s`` is the physical duration of one
    finite-key block (default 300 s, about one LEO pass): finite-key rates are for that block,
    whatever number of pulses is simulated; ``finite_key`` picks the bound (``grasselli2018``, the
    N-party default, or ``yin2020``, the two-party analysis of Yin et al. 2020: :mod:`qrate.finite_key`). ``pulses_per_batch`` × ``batches`` is at most
    :data:`MAX_PULSES_PER_POINT` (2**60), so that the 64-bit counters of a point cannot overflow.
    ``mode`` is ``monte_carlo`` (batches are sampled) or ``expected`` (every estimate is computed
    from the plan without sampling, at the expected counts of ``pulses_per_batch`` × ``batches``
    pulses; see "Expected values" in qrate/MODELS.md).
    """

    pulses_per_batch: int = Field(gt=0, le=MAX_PULSES_PER_POINT)
    batches: int = Field(default=10, ge=1, le=1_000_000)
    target_relative_error: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None
    target: Target | None = None
    min_batches: int = Field(default=3, ge=2)
    seed: int | None = Field(default=None, ge=0, lt=2**128)
    sampler: Sampler = DEFAULT_SAMPLER
    key_block_s: float = Field(default=300.0, gt=0.0, le=1e9)
    finite_key: Literal["grasselli2018", "yin2020"] = "grasselli2018"
    mode: Literal["monte_carlo", "expected"] = "monte_carlo"

    @model_validator(mode="after")
    def _one_target(self) -> Sampling:
        if self.target is not None and self.target_relative_error is not None:
            raise CrossFieldError("target", "give target or target_relative_error, not both")
        if self.pulses_per_batch * self.batches > MAX_PULSES_PER_POINT:
            raise CrossFieldError(
                "pulses_per_batch",
                f"pulses_per_batch x batches = {self.pulses_per_batch * self.batches:.4g}"
                f" pulses per point; at most 2**60 = {MAX_PULSES_PER_POINT:.4g} (64-bit counters)",
            )
        return self

    @property
    def target_estimate(self) -> tuple[str, float] | None:
        """``(estimate, relative error)`` of the stopping target, or None."""
        if self.target is not None:
            return self.target.estimate, self.target.relative_error
        if self.target_relative_error is not None:
            return "rate", self.target_relative_error
        return None


class PassWindow(_Model):
    """Satellite passes: simulate every pass in a UTC window, step by step.

    ``start_utc`` and ``end_utc`` (ISO 8601, UTC) or ``days`` bound the window; ``step_s`` is the
    time step; a pass is an interval in which every downlink's station sees its platform at or above
    ``min_elevation_deg`` (and the link's own ``min_elevation_deg``); ``max_passes`` caps how many
    are simulated (the first ones). Long-term figures (:mod:`qrate.longterm`): ``night_only`` counts
    only the passes with every station in night (Sun at or below -18 deg) in the per-day/per-year
    totals, ``clear_sky_fraction`` (availability) multiplies them; both are shown beside the totals.
    """

    start_utc: Annotated[str, Field(min_length=1, max_length=40)]
    end_utc: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    days: float | None = Field(default=None, gt=0.0, le=366.0)
    step_s: float = Field(default=10.0, gt=0.0, le=3600.0)
    min_elevation_deg: float = Field(default=10.0, ge=0.0, lt=90.0)
    max_passes: int = Field(default=100, ge=1, le=10_000)
    night_only: bool = False
    clear_sky_fraction: float = Field(default=1.0, gt=0.0, le=1.0)

    @model_validator(mode="after")
    def _one_end(self) -> PassWindow:
        if (self.end_utc is None) == (self.days is None):
            raise CrossFieldError("end_utc", "give exactly one of end_utc or days")
        return self


# ------------------------------------------------------------------------------------ scenario
class Scenario(_Model):
    """A complete scenario: what to simulate, over which distances, with how many pulses."""

    name: str = "scenario"
    description: str = ""
    nodes: Nodes
    links: dict[Name, Link] = Field(min_length=1)
    detectors: Detectors = Detectors()
    bsm: Bsm = Bsm()
    switch: Switch = Switch()
    sources: Sources = Sources()
    protocol: ProtocolSpec
    sweep: Sweep = Sweep(ground_distance_km=(0.0,))
    sampling: Sampling
    passes: PassWindow | None = None
    memories: dict[Name, Memory] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _pass_sweep_distance(cls, data: object) -> object:
        """A pass run's geometry comes from its passes: a ``[sweep]`` of field axes needs no distance."""
        sweep = data.get("sweep") if isinstance(data, dict) else None
        if (
            isinstance(data, dict)
            and data.get("passes") is not None
            and isinstance(sweep, dict)
            and "ground_distance_km" not in sweep
        ):
            data = {**data, "sweep": {**sweep, "ground_distance_km": [0.0]}}
        return data

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        _check_nodes(self)
        _check_links(self)
        _check_protocol(self)
        _check_placement(self)
        _check_memories(self)
        if not self.sources.synchronous:
            raise CrossFieldError("sources.synchronous", "expected true: only synchronous sources are implemented")
        return self

    _layout: Any = PrivateAttr(default=None)

    # convenience views ---------------------------------------------------------------------
    def layout_from_nodes(self) -> Any:
        """Build the chain of terrestrial networks from ``nodes`` (InputError naming the station's field)."""
        from qrate.protocols.layout import NetworkLayout

        return NetworkLayout(tuple(st.network(gs) for gs, st in self.nodes.ground_stations.items()))

    def detector_of(self, station: str) -> Any:
        """The :class:`qrate.channels.devices.Detector` of ``station``'s users: the station's own
        ``detectors`` table, else the scenario's."""
        return (self.nodes.ground_stations[station].detectors or self.detectors).detector

    @property
    def layout(self) -> Any:
        """The protocol layout, a :class:`qrate.protocols.layout.NetworkLayout` (built once, when validated)."""
        return self._layout

    def users(self) -> dict[str, str]:
        """User -> ground station, in chain order."""
        return {u: gs for gs, st in self.nodes.ground_stations.items() for u in st.user_names(gs)}

    def explicit_dump(self) -> dict[str, Any]:
        """JSON dump with every shorthand spelled out: users by name (no ``user_count``), a fiber
        length per user (no ``default_length_km``), participants by name (no ``"all"``). Two
        scenarios that describe the same network dump equally (point keys derive from this)."""
        data = self.model_dump(mode="json")
        for gs, st in self.nodes.ground_stations.items():
            data["nodes"]["ground_stations"][gs].update(users=list(st.user_names(gs)), user_count=None)
        fibers = {u: self.fiber_of(u) for u in self.users()}  # user -> (fiber spec, length)
        for name, spec in self.fiber_links().items():
            data["links"][name].update(
                default_length_km=None, lengths_km={u: length for u, (f, length) in fibers.items() if f is spec}
            )
        data["protocol"]["participants"] = list(self.participants()) if self.protocol.participants else []
        return data

    def participants(self) -> tuple[str, ...]:
        """``protocol.participants`` with ``"all"`` resolved to every user, in chain order."""
        p = self.protocol.participants
        return tuple(self.users()) if p == "all" else p

    def fiber_links(self) -> dict[str, FiberLinks]:
        """Link name -> fiber spec."""
        return {k: v for k, v in self.links.items() if isinstance(v, FiberLinks)}

    def free_space_links(self) -> dict[str, FreeSpaceLinkSpec]:
        """Link name -> free-space spec, in chain order of their ground-station pairs."""
        order = list(self.nodes.ground_stations)
        fs = {k: v for k, v in self.links.items() if isinstance(v, FreeSpaceLinkSpec)}
        return dict(sorted(fs.items(), key=lambda kv: order.index(kv[1].ground_stations[0])))

    def fiber_of(self, user: str) -> tuple[FiberLinks, float]:
        """The fiber spec that carries ``user``'s photon and its length in km."""
        links = self.fiber_links().values()
        for spec in links:
            if user in spec.lengths_km:
                return spec, spec.lengths_km[user]
        for spec in links:
            if spec.default_length_km is not None:
                return spec, spec.default_length_km
        raise KeyError(user)


def _check_nodes(s: Scenario) -> None:
    """Names are shared by stations, users and platforms; the chain's own rules (forwarding, unique
    names, at least one GHZ source) are the layout's (:class:`qrate.protocols.layout.NetworkLayout`)."""
    for gs, st in s.nodes.ground_stations.items():
        if gs in s.nodes.platforms:
            raise CrossFieldError(f"nodes.ground_stations.{gs}", "name already used by a platform")
        for u in st.user_names(gs):
            if u in s.nodes.platforms:
                raise CrossFieldError(f"nodes.ground_stations.{gs}.users", f"user name {u!r} is also a node name")
    try:
        s._layout = s.layout_from_nodes()
    except InputError as exc:
        raise CrossFieldError(exc.field, exc.message) from None


def _check_links(s: Scenario) -> None:
    users = s.users()
    stations = list(s.nodes.ground_stations)
    covered: dict[str, str] = {}
    pairs: dict[tuple[str, str], str] = {}
    for name, link in s.links.items():
        if isinstance(link, FiberLinks):
            for u in link.lengths_km:
                if u not in users:
                    raise CrossFieldError(f"links.{name}.lengths_km.{u}", f"unknown user; expected one of {sorted(users)}")
                if u in covered:
                    raise CrossFieldError(f"links.{name}.lengths_km.{u}", f"user already has a fiber in links.{covered[u]}")
                covered[u] = name
        else:
            if link.platform not in s.nodes.platforms:
                raise CrossFieldError(
                    f"links.{name}.platform", f"unknown platform {link.platform!r}; expected one of {sorted(s.nodes.platforms)}"
                )
            a, b = link.ground_stations
            for g in (a, b):
                if g not in stations:
                    raise CrossFieldError(
                        f"links.{name}.ground_stations", f"unknown ground station {g!r}; expected one of {stations}"
                    )
            if stations.index(b) != stations.index(a) + 1:
                raise CrossFieldError(
                    f"links.{name}.ground_stations",
                    f"expected two neighbouring stations in chain order {stations}, got [{a!r}, {b!r}]",
                )
            if (a, b) in pairs:
                raise CrossFieldError(f"links.{name}.ground_stations", f"pair already linked by links.{pairs[(a, b)]}")
            pairs[(a, b)] = name
    missing = [u for u in users if u not in covered]
    if missing and not any(f.default_length_km is not None for f in s.fiber_links().values()):
        raise CrossFieldError("links", f"no fiber length for user(s) {missing}; add them to a fiber link's lengths_km")
    for a, b in itertools.pairwise(stations):
        if (a, b) not in pairs:
            raise CrossFieldError("links", f'no free-space link joins {a} and {b}; add a link with kind = "free_space"')


def _check_placement(s: Scenario) -> None:
    """Midpoint platforms sweep the ground distance; placed platforms (orbit, TLE, fixed) need a
    ``[passes]`` window and stations with coordinates, and vice versa."""
    for name, spec in s.free_space_links().items():
        platform = s.nodes.platforms[spec.platform]
        if s.passes is None and platform.placement != "midpoint":
            raise CrossFieldError(
                f"nodes.platforms.{spec.platform}",
                f"placed by {platform.placement}: add a [passes] window (or give altitude_km for the midpoint model)",
            )
        if s.passes is not None:
            if platform.placement == "midpoint":
                raise CrossFieldError(
                    f"nodes.platforms.{spec.platform}.altitude_km",
                    "a [passes] run needs a platform placed by orbit, tle or position",
                )
            for gs in spec.ground_stations:
                if not s.nodes.ground_stations[gs].located:
                    raise CrossFieldError(
                        f"nodes.ground_stations.{gs}.latitude_deg",
                        f"a [passes] run needs the coordinates of every station of links.{name}",
                    )


def _check_memories(s: Scenario) -> None:
    """Memories sit at a node, store links that reach it, and a link is stored at one kind of node."""
    at_platform: dict[str, str] = {}
    at_station: dict[str, str] = {}
    links = s.free_space_links()
    for node, mem in s.memories.items():
        where = f"memories.{node}"
        station = s.nodes.ground_stations.get(node)
        if station is None and node not in s.nodes.platforms:
            raise CrossFieldError(where, f"unknown node {node!r}; expected a ground station or a platform")
        if station is not None and station.forward:
            raise CrossFieldError(
                f"{where}.stores", "a forwarding station's user measures the photon on arrival; it stores nothing"
            )
        for name in mem.stores:
            spec = links.get(name)
            if spec is None:
                raise CrossFieldError(f"{where}.stores", f"unknown free-space link {name!r}; expected one of {sorted(links)}")
            if (station is not None and node not in spec.ground_stations) or (station is None and spec.platform != node):
                raise CrossFieldError(f"{where}.stores", f"links.{name} does not reach {node}")
            (at_station if station is not None else at_platform)[name] = node
    for name, node in at_platform.items():
        if name in at_station:
            raise CrossFieldError(f"memories.{at_station[name]}.stores", f"links.{name} is already stored on its platform {node}")
    if s.memories and s.protocol.name == "teleportation":
        raise CrossFieldError("memories", "teleportation consumes several carriers per use; memories are not modelled for it")


def _check_protocol(s: Scenario) -> None:
    users = s.users()
    p = s.protocol
    if p.sender is not None and p.sender not in users:
        raise CrossFieldError("protocol.sender", f"unknown user {p.sender!r}; expected one of {list(users)}")
    for u in s.participants():
        if u not in users:
            raise CrossFieldError("protocol.participants", f"unknown user {u!r}; expected one of {list(users)}")
    if len(set(s.participants())) != len(s.participants()):
        raise CrossFieldError("protocol.participants", "expected distinct users")
