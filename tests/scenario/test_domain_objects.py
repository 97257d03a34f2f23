"""One domain object per concept: each rule lives in one place and gives the same error whichever way
the object is built (scenario file, ``--set``, library)."""

from __future__ import annotations

import json
import math

import pytest

from qrate.channels.link import FreeSpaceLink
from qrate.cli import main
from qrate.engine.plan import plan_point, protocol_of
from qrate.errors import InputError
from qrate.geometry import STATION_ALTITUDE_RANGE_M
from qrate.orbit import Station
from qrate.protocols.layout import NetworkLayout, TerrestrialNetwork
from qrate.scenario import load_scenario
from qrate.scenario.load import apply_overrides, parse_toml, validate_data
from qrate.scenario.presets import preset_text

BASE = {"divergence_rad": 5e-6, "pointing_rad": 5e-7, "aperture_radius_m": 3.0}


@pytest.mark.parametrize(
    ("sets", "kwargs", "field"),
    [
        (["links.leo.aperture_diameter_m=6"], None, "aperture_radius_m/aperture_diameter_m"),
        (['links.leo.model="measured"'], {"model": "measured"}, "loss_table"),
        (
            ['links.leo.aerosol_model="rural_23km"', "links.leo.t_atm_zenith=0.9"],
            {"aerosol_model": "rural_23km", "t_atm_zenith": 0.9},
            "aerosol_model",
        ),
        (
            ['links.leo.turbulence_profile="hv"', "links.leo.cn2=1e-15"],
            {"turbulence_profile": "hv", "cn2": 1e-15},
            "turbulence_profile",
        ),
    ],
)
def test_link_rules_are_the_links_own(sets: list[str], kwargs: dict | None, field: str) -> None:
    data = apply_overrides(parse_toml(preset_text("khan-acka-leo")), sets)
    if kwargs is None:  # a file that gives both (--set replaces one by the other)
        data["links"]["leo"]["aperture_radius_m"] = 3.0
    with pytest.raises(InputError) as from_file:
        validate_data(data)
    assert from_file.value.field == f"links.leo.{field}"
    with pytest.raises(InputError) as from_library:
        if kwargs is None:
            FreeSpaceLink.from_aperture(aperture_radius_m=3.0, aperture_diameter_m=6.0, divergence_rad=5e-6, pointing_rad=0.0)
        else:
            FreeSpaceLink(**{**BASE, **kwargs})
    assert from_library.value.field == field and from_library.value.message == from_file.value.message


def test_the_scenarios_link_and_layout_are_built_once_and_passed_down() -> None:
    s = load_scenario("khan-acka-leo-realistic")
    spec = s.free_space_links()["leo"]
    link = spec.link
    assert isinstance(link, FreeSpaceLink) and link.background is spec.background and link.aperture_radius_m == 0.6
    plan = plan_point(s, 0, 500.0)
    assert all(dl.budget.link is link for dl in plan.downlinks)
    assert protocol_of(s).layout is s.layout


@pytest.mark.parametrize(
    ("sets", "field"),
    [
        (
            ['nodes.ground_stations.GS2.users=["Dina", "Eve"]', "links.fiber.lengths_km.Eve=1.0"],
            "nodes.ground_stations.GS2.users",
        ),
        (
            ['nodes.ground_stations.GS2.users=["Alice"]', "links.fiber.lengths_km={Alice = 1.0, Bob = 2.0, Charlie = 3.0}"],
            "nodes.ground_stations.GS2.users",
        ),
        (
            [
                "nodes.ground_stations.GS1.forward=true",
                'nodes.ground_stations.GS1.users=["Alice"]',
                "links.fiber.lengths_km={Alice = 1.0, Dina = 2.0}",
                'protocol.participants=["Alice", "Dina"]',
                'protocol.name="anonymous-entanglement"',
            ],
            None,
        ),
    ],
)
def test_chain_rules_are_the_layouts_own(sets: list[str], field: str | None) -> None:
    if field is None:  # two forwarding stations: a direct Bell pair, allowed by the same rule
        assert load_scenario("khan-acka-leo", sets).layout.ghz_count == 0
        return
    with pytest.raises(InputError) as info:
        load_scenario("khan-acka-leo", sets)
    assert info.value.field == field


def test_layout_rules_name_the_station() -> None:
    with pytest.raises(InputError) as info:
        NetworkLayout(
            (TerrestrialNetwork("A", ("a",)), TerrestrialNetwork("B", ("b",), forward=True), TerrestrialNetwork("C", ("c",)))
        )
    assert info.value.field == "nodes.ground_stations.B.forward"
    with pytest.raises(InputError) as info:
        NetworkLayout(tuple(TerrestrialNetwork(g, (g.lower(),), forward=True) for g in "ABC"))
    assert info.value.field in ("nodes.ground_stations", "nodes.ground_stations.B.forward")


@pytest.mark.parametrize("altitude_m", [STATION_ALTITUDE_RANGE_M[0] - 1.0, STATION_ALTITUDE_RANGE_M[1] + 1.0])
def test_one_station_altitude_rule(altitude_m: float) -> None:
    lo, hi = STATION_ALTITUDE_RANGE_M
    assert (lo, hi) == (-500.0, 9000.0)
    with pytest.raises(InputError) as info:
        load_scenario("micius-pass-acka", [f"nodes.ground_stations.GS1.altitude_m={altitude_m}"])
    assert info.value.field == "nodes.ground_stations.GS1.altitude_m"
    with pytest.raises(InputError) as info:
        Station("GS", 40.0, 117.0, altitude_m)
    assert info.value.field == "altitude_m"
    for inside in (lo, hi):
        assert Station("GS", 40.0, 117.0, inside).altitude_m == inside
        load_scenario("micius-pass-acka", [f"nodes.ground_stations.GS1.altitude_m={inside}"])


def test_detectors_and_source_are_built_once_and_a_station_may_override_the_detectors() -> None:
    s = load_scenario(
        "khan-acka-leo-realistic", ["nodes.ground_stations.GS2.detectors={efficiency = 0.5, dark_count_rate_hz = 1e3}"]
    )
    assert s.detector_of("GS1") is s.detectors.detector and s.detectors.detector.efficiency == 0.85
    dina = s.detector_of("GS2")
    assert dina is s.nodes.ground_stations["GS2"].detectors.detector and dina.efficiency == 0.5
    assert dina.dark_click_probability == pytest.approx(1 - math.exp(-1e3 * 1e-9))  # the rate over the gate, resolved once
    plan = plan_point(s, 0, 500.0)
    by_user = {u.user: u for u in plan.users}
    assert by_user["Dina"].detector_efficiency == 0.5 < by_user["Alice"].detector_efficiency <= 0.85
    assert by_user["Dina"].noise_click_probability >= dina.dark_click_probability
    source = s.sources.source
    assert plan.sources[0] == source.ghz_success_probability
    assert plan.sources[-1] == source.bell(plan.downlinks[0].mean_eta, plan.downlinks[-1].mean_eta)[0]


LINK = ["link", "--altitude-km", "450", "--ground-distance-km", "500", "--samples", "1000", "--seed", "1", "--json"]


def _link_row(capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    assert main([*LINK, *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_qrate_link_options_are_aliases_of_set_on_one_link(capsys: pytest.CaptureFixture[str]) -> None:
    by_options = _link_row(capsys, "--divergence-rad", "1e-5", "--aperture-radius-m", "0.5", "--model", "exact")
    by_set = _link_row(capsys, "--set", "divergence_rad=1e-5", "--set", "aperture_radius_m=0.5", "--set", "model=exact")
    assert by_options == by_set
    aerosol = _link_row(capsys, "--divergence-rad", "1e-5", "--aperture-radius-m", "0.5", "--set", "aerosol_model=rural_23km")
    assert aerosol["t_atm"] < 1.0 == by_set["t_atm"]  # a link field that has no option of its own
    # the scenario's link with an option: a diameter replaces the preset's radius
    assert _link_row(capsys, "khan-acka-leo", "--aperture-diameter-m", "1")["aperture_radius_m"] == 0.5
    # the link's own rule, whichever way the fields came
    assert (
        main(
            [
                *LINK,
                "--divergence-rad",
                "1e-5",
                "--aperture-radius-m",
                "0.5",
                "--t-atm-zenith",
                "0.9",
                "--set",
                "aerosol_model=rural_23km",
            ]
        )
        == 2
    )
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "--set aerosol_model" in err and "t_atm_zenith" in err
