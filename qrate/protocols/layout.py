"""Network layouts: terrestrial networks (TNs) joined in a chain by free-space Bell pairs.

A :class:`TerrestrialNetwork` is a ground station (GS) and the users it serves over fiber. The
user names are also the names of the photons the users receive. A :class:`NetworkLayout` is a
chain of TNs: neighbouring networks ``i`` and ``i + 1`` share one Bell pair from a satellite or
UAV, whose two photons are named ``"bell<i>.<gs_i>"`` and ``"bell<i>.<gs_{i+1}>"`` (these are the
keys of :attr:`PauliNoise.depolarize <qrate.protocols.noise.PauliNoise>`).

A normal GS prepares one GHZ state on its users plus one GS-local qubit per neighbouring Bell
pair (``"<gs>.ghz<k>"``) and fuses each with the Bell photon it receives by a Bell-state
measurement (BSM). A *forwarding* GS (``forward=True``) has no GHZ: it forwards its Bell photon to
its single user (Dina in Khan et al.'s Q-ACKA), so that photon is both ``"bell<i>.<gs>"`` and the
user's photon.
"""

from __future__ import annotations

from dataclasses import dataclass

from qrate.errors import InputError


@dataclass(frozen=True)
class TerrestrialNetwork:
    """One ground station and its fiber users.

    Attributes:
        ground_station: GS name (unique in the layout).
        users: user names, which are also the names of the photons they receive over fiber.
        forward: True if the GS has no GHZ source and forwards its Bell photon to its single user.
    """

    ground_station: str
    users: tuple[str, ...]
    forward: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "users", tuple(self.users))
        if not self.ground_station:
            raise InputError("ground_station", "must be a non-empty name")
        where = f"nodes.ground_stations.{self.ground_station}.users"
        if self.forward and len(self.users) != 1:
            raise InputError(where, f"a forwarding station serves exactly one user, got {len(self.users)}")
        if not self.forward and len(self.users) < 1:
            raise InputError(where, "needs at least one user")


@dataclass(frozen=True)
class NetworkLayout:
    """A chain of terrestrial networks joined by one Bell pair per neighbouring pair of GSs."""

    networks: tuple[TerrestrialNetwork, ...]

    def __post_init__(self) -> None:
        """The chain's rules (the one place for them; a scenario's stations are checked here too). Fields
        name the scenario's ``nodes.ground_stations.<station>``."""
        object.__setattr__(self, "networks", tuple(self.networks))
        if not self.networks:
            raise InputError("nodes.ground_stations", "needs at least one terrestrial network")
        seen: dict[str, str] = {}
        for net in self.networks:
            where = f"nodes.ground_stations.{net.ground_station}"
            for name, field in ((net.ground_station, where), *((u, f"{where}.users") for u in net.users)):
                if name in seen:
                    raise InputError(field, f"name {name!r} already used by {seen[name]}")
                seen[name] = f"station {name}" if name == net.ground_station else f"a user of {net.ground_station}"
        last = len(self.networks) - 1
        for i, net in enumerate(self.networks):
            where = f"nodes.ground_stations.{net.ground_station}.forward"
            if net.forward and last == 0:
                raise InputError(where, "a single station has no Bell photon to forward")
            if net.forward and 0 < i < last:
                raise InputError(where, "only a station at an end of the chain can forward")
        if self.ghz_count == 0 and len(self.networks) != 2:
            # two forwarding stations: the Bell pair itself is the carrier (direct entanglement distribution)
            raise InputError(
                "nodes.ground_stations",
                "at least one station must hold a GHZ source (forward = false), unless the chain is two forwarding stations",
            )

    @property
    def users(self) -> tuple[str, ...]:
        """All user names, network by network."""
        return tuple(u for net in self.networks for u in net.users)

    @property
    def bell_pairs(self) -> tuple[tuple[str, str], ...]:
        """Photon names of each free-space Bell pair, ``(left, right)``, in chain order."""
        nets = self.networks
        return tuple((f"bell{i}.{nets[i].ground_station}", f"bell{i}.{nets[i + 1].ground_station}") for i in range(len(nets) - 1))

    @property
    def free_space_photons(self) -> tuple[str, ...]:
        """Names of all free-space photons (keys of ``PauliNoise.depolarize``)."""
        return tuple(p for pair in self.bell_pairs for p in pair)

    @property
    def ghz_count(self) -> int:
        """GHZ states consumed per shot (one per non-forwarding GS)."""
        return sum(not n.forward for n in self.networks)

    @property
    def bell_count(self) -> int:
        """Free-space Bell pairs consumed per shot."""
        return len(self.networks) - 1

    @property
    def bsm_count(self) -> int:
        """Bell-state measurements (fusions) per shot: one per Bell photon reaching a GHZ GS."""
        return sum((not self.networks[i].forward) + (not self.networks[i + 1].forward) for i in range(len(self.networks) - 1))

    def downlink_photons(self, link_index: int, ground_station: str) -> tuple[str, ...]:
        """Photon names of the free-space photon that Bell pair ``link_index`` sends to ``ground_station``."""
        return (f"bell{link_index}.{ground_station}",)

    @property
    def carrier_resources(self) -> dict[str, int]:
        """GHZ states, Bell pairs and BSMs of one chain carrier (a GHZ on all users)."""
        return {"ghz": self.ghz_count, "bell": self.bell_count, "bsm": self.bsm_count}

    def network_of(self, user: str) -> int:
        """Index of the network that serves ``user``."""
        for i, net in enumerate(self.networks):
            if user in net.users:
                return i
        raise InputError("user", f"{user!r} is not a user of this layout; users: {list(self.users)}")


class ChainCarrierProtocol:
    """Mixin of the protocols whose heralded carrier is the chain GHZ state on ``self.layout``
    (conference key, broadcast, notification): their photons and resources are the layout's."""

    layout: NetworkLayout

    def downlink_photons(self, link_index: int, ground_station: str) -> tuple[str, ...]:
        """Noise keys of the photon free-space link ``link_index`` delivers to ``ground_station``."""
        return self.layout.downlink_photons(link_index, ground_station)

    @property
    def carrier_resources(self) -> dict[str, int]:
        """GHZ states, Bell pairs and BSMs of one chain carrier."""
        return self.layout.carrier_resources


def chain_layout(sizes: tuple[int, ...] | list[int], *, forward_last: bool = False) -> NetworkLayout:
    """A generic chain: network ``k`` has GS ``"GS<k+1>"`` and users ``"u<k>_<j>"``.

    ``forward_last`` makes the last network a forwarding one (it must then have size 1).
    """
    nets = []
    for k, size in enumerate(sizes):
        fwd = forward_last and k == len(sizes) - 1
        nets.append(TerrestrialNetwork(f"GS{k + 1}", tuple(f"u{k}_{j}" for j in range(size)), forward=fwd))
    return NetworkLayout(tuple(nets))


def khan_acka_layout() -> tuple[NetworkLayout, tuple[str, ...], str]:
    """Khan et al. case 1: GS1 {alice, bob, charlie}, GS2 forwards the LEO photon to dina.

    Returns the layout, the participants (alice, bob, dina) and the sender (alice).
    """
    layout = NetworkLayout(
        (
            TerrestrialNetwork("GS1", ("alice", "bob", "charlie")),
            TerrestrialNetwork("GS2", ("dina",), forward=True),
        )
    )
    return layout, ("alice", "bob", "dina"), "alice"


def khan_broadcast_layout() -> tuple[NetworkLayout, str]:
    """Khan et al. case 2: GS1 {alice, bob}, GS2 {hadi, dina}, UAV Bell pair; broadcaster alice."""
    layout = NetworkLayout(
        (
            TerrestrialNetwork("GS1", ("alice", "bob")),
            TerrestrialNetwork("GS2", ("hadi", "dina")),
        )
    )
    return layout, "alice"
