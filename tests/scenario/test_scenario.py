"""Scenario schema, presets, overrides and the `scenarios` / `validate` verbs."""

from __future__ import annotations

import pytest

from qrate.cli import main
from qrate.errors import InputError
from qrate.scenario import load_scenario, load_scenario_text, preset_names, preset_text, scenario_to_toml


def test_presets_ship_both_case_studies() -> None:
    assert set(preset_names()) >= {"khan-acka-leo", "khan-broadcast-uav"}


def test_acka_preset_carries_table_one_and_physics_defaults() -> None:
    s = load_scenario("khan-acka-leo")
    leo = s.links["leo"]
    assert s.nodes.platforms["leo"].altitude_km == 450.0
    assert (leo.divergence_rad, leo.pointing_rad, leo.aperture_radius_m) == (5e-6, 5e-7, 3.0)
    assert (leo.beam, leo.model, leo.t_atm_zenith, leo.min_elevation_deg) == ("far_field", "weibull", 1.0, 0.0)
    fib = s.links["fiber"]
    assert dict(fib.lengths_km) == {"Alice": 1.0, "Bob": 2.0, "Charlie": 3.0, "Dina": 2.0}
    assert (fib.loss_db_per_km, fib.coupling, fib.dephasing, fib.dephasing_probability) == (0.18, 0.9, "per_traversal", 0.02)
    assert (s.detectors.efficiency, s.bsm.success_probability, s.switch.efficiency) == (1.0, 1.0, 1.0)
    assert s.sources.repetition_rate_hz == 1e6
    assert s.nodes.ground_stations["GS2"].forward and not s.nodes.ground_stations["GS1"].forward
    assert s.sweep.distances_km()[0] == 0.0 and s.sweep.distances_km()[-1] == 2000.0


def test_uav_preset() -> None:
    s = load_scenario("khan-broadcast-uav")
    uav = s.links["uav"]
    assert s.nodes.platforms["uav"].altitude_km == 30.0
    assert (uav.divergence_rad, uav.beam, uav.aperture_radius_m) == (1e-6, "gaussian", 3.0)
    assert s.protocol.name == "broadcast" and s.protocol.sender == "Alice"
    assert dict(s.links["fiber"].lengths_km) == {"Alice": 1.0, "Bob": 2.0, "Hadi": 1.0, "Dina": 2.0}
    assert s.sweep.distances_km()[-1] == 200.0


@pytest.mark.parametrize("name", ["khan-acka-leo", "khan-broadcast-uav"])
def test_toml_round_trip(name: str) -> None:
    s = load_scenario(name)
    assert load_scenario_text(scenario_to_toml(s)) == s


def test_override_sets_value_validated_like_the_file() -> None:
    s = load_scenario("khan-acka-leo", ["links.leo.aperture_radius_m=1.5", "sweep.ground_distance_km=[0, 500]"])
    assert s.links["leo"].aperture_radius_m == 1.5
    assert s.sweep.distances_km() == (0.0, 500.0)
    s = load_scenario("khan-acka-leo", ["links.leo.model=exact", "sampling.pulses_per_batch=1e12"])
    assert s.links["leo"].model == "exact" and s.sampling.pulses_per_batch == 10**12


@pytest.mark.parametrize(
    ("override", "field", "hint"),
    [
        ("links.leo.aperture_radius_m=-1.5", "links.leo.aperture_radius_m", "greater than 0"),
        ("links.leo.aperture_radus_m=1.5", "links.leo.aperture_radus_m", "aperture_radius_m"),
        ("links.leo.model=gauss", "links.leo.model", "'exact', 'weibull' or 'measured'"),
        ("protocol.sender=Eve", "protocol.sender", "Alice"),
        ("links.leo.platform=uav", "links.leo.platform", "leo"),
        ("sweep.ground_distance_km=[0, -5]", "sweep.ground_distance_km.1", "greater than or equal to 0"),
        ("sweep.ground_distance_km={start_km=10, stop_km=0, step_km=1}", "sweep.ground_distance_km.stop_km", "start_km"),
        ("sampling.batches=0", "sampling.batches", "greater than or equal to 1"),
        ("links.fiber.dephasing_probability=0.7", "links.fiber.dephasing_probability", "0.5"),
        ("nodes.ground_stations.GS2.users=['Dina', 'Eve']", "nodes.ground_stations.GS2.users", "one user"),
        ("links.leo.kind=radio", "links.leo.kind", "free_space"),
        ("bogus=1", "bogus", "sampling"),
        ("links.leo.aperture_radius_m.x=1", "links.leo.aperture_radius_m.x", "not a table"),
    ],
)
def test_invalid_override_names_field(override: str, field: str, hint: str) -> None:
    with pytest.raises(InputError) as info:
        load_scenario("khan-acka-leo", [override])
    assert info.value.field == field
    assert hint in info.value.message


def test_invalid_file_names_field(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = preset_text("khan-broadcast-uav").replace("divergence_rad = 1e-6", "divergence_rad = 1e-6\ncolor = \"red\"")
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert info.value.field == "links.uav.color"
    assert "unknown key" in info.value.message and "divergence_rad" in info.value.message


def test_missing_fiber_length_is_an_error() -> None:
    with pytest.raises(InputError) as info:
        load_scenario_text(preset_text("khan-acka-leo").replace("Charlie = 3.0, ", ""))
    assert info.value.field == "links" and "Charlie" in info.value.message


def test_cli_scenarios_lists_presets(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert "khan-acka-leo" in out and "khan-broadcast-uav" in out


def test_cli_validate_ok_and_errors(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert main(["validate", "khan-acka-leo"]) == 0
    assert "valid" in capsys.readouterr().out
    assert main(["validate", "khan-acka-leo", "--set", "links.leo.aperture_radius_m=0"]) == 2
    assert "links.leo.aperture_radius_m" in capsys.readouterr().err
    assert main(["validate", "khan-acka-leo", "--set", "sweep.ground_distance_km=[5000]"]) == 2
    assert "sweep.ground_distance_km" in capsys.readouterr().err
    assert main(["validate", "khan-acka-leo", "--set", "links.leo.min_elevation_deg=20"]) == 2
    assert "min_elevation_deg" in capsys.readouterr().err
    assert main(["validate", str(tmp_path / "nope.toml")]) == 2
    assert main(["validate", "no-such-preset"]) == 2
    assert main(["validate", "khan-acka-leo", "--set", "novalue"]) == 2
    assert "--set" in capsys.readouterr().err


def test_cli_run_invalid_writes_nothing(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "r.h5"
    assert main(["run", "khan-acka-leo", "--set", "links.leo.aperture_radius_m=-1", "--out", str(out)]) == 2
    assert "links.leo.aperture_radius_m" in capsys.readouterr().err
    assert main(["run", "khan-acka-leo", "--set", "sweep.ground_distance_km=[0, 9000]", "--out", str(out)]) == 2
    assert "sweep.ground_distance_km" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []
