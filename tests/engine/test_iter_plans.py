"""Planning at scale: lazy grids with random access, plans of any range of points, point scenarios from
validated tables equal to full validation, the point key written once per grid line, memory per plan."""

from __future__ import annotations

import ast
import itertools
import json
import math
import random
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from qrate.engine.grid import iter_plans, plan_sweep
from qrate.engine.plan import PointPlan, point_key_of, point_key_params
from qrate.errors import InputError
from qrate.scenario.axes import GridPoints, grid, point_scenario_from
from qrate.scenario.load import load_scenario
from qrate.scenario.points import PointScenarios
from qrate.scenario.presets import preset_names
from qrate.seeding import point_key

APERTURE = "links.leo.aperture_radius_m"
DIVERGENCE = "links.leo.divergence_rad"
NETWORK = [
    "links.fiber.lengths_km={Dina = 2.0}",
    "links.fiber.default_length_km=1.0",
    'protocol.sender="GS1-u1"',
    'protocol.participants="all"',
    "nodes.ground_stations.GS1.user_count=3",
    "sweep.ground_distance_km=[0.0, 500.0]",
]


def _same(a: PointPlan, b: PointPlan) -> None:
    assert (a.index, a.key, a.ground_distance_km) == (b.index, b.key, b.ground_distance_km)
    assert json.dumps(a.params(), sort_keys=True, default=repr) == json.dumps(b.params(), sort_keys=True, default=repr)
    assert repr(a.downlinks) == repr(b.downlinks) and a.noise == b.noise and a.users == b.users


def _check_ranges(sc: Any, ranges: list[tuple[int, int | None]]) -> None:
    every = plan_sweep(sc)
    for a, b in ranges:
        part = list(iter_plans(sc, a, b))
        assert len(part) == len(every[a:b]), (a, b)
        for x, y in zip(part, every[a:b], strict=True):
            _same(x, y)


RANGES = [(0, None), (0, 1), (3, 7), (5, 5), (7, 3), (10, 12), (11, 1000), (0, 2)]


def test_ranges_of_a_grid_are_the_slices_of_the_whole_sweep() -> None:
    sc = load_scenario(
        "khan-acka-leo", ["sweep.ground_distance_km=[0.0, 400.0]"], [f"{APERTURE}=0.5,2.0", f"{DIVERGENCE}=4e-6,6e-6,8e-6"]
    )
    assert sc.sweep.count_points() == 12
    _check_ranges(sc, RANGES)


def test_ranges_of_zipped_grids_are_the_slices_of_the_whole_sweep() -> None:
    zipped = ["sweep.zip=true", f"{APERTURE}=0.5,1.0,2.0", f"{DIVERGENCE}=4e-6,6e-6,8e-6"]
    for distances in ("[300.0]", "[100.0, 400.0, 800.0]"):
        sc = load_scenario("khan-acka-leo", [f"sweep.ground_distance_km={distances}", *zipped[:1]], zipped[1:])
        assert sc.sweep.count_points() == 3
        _check_ranges(sc, [(0, None), (1, 2), (2, 9), (0, 1)])


def test_ranges_of_a_network_size_grid_are_the_slices_of_the_whole_sweep() -> None:
    sc = load_scenario("khan-acka-leo", NETWORK, ["nodes.ground_stations.GS1.user_count=2,3,5", f"{APERTURE}=0.5,1.0"])
    plans = plan_sweep(sc)
    assert {len(p.users) for p in plans} == {3, 4, 6}
    _check_ranges(sc, RANGES)


@pytest.mark.parametrize("sweeps", [[], [f"{APERTURE}=0.3,0.6"]])
def test_ranges_of_a_pass_run_are_the_slices_of_the_whole_sweep(sweeps: list[str]) -> None:
    sc = load_scenario("micius-pass-acka", [], sweeps)
    n = len(plan_sweep(sc))
    _check_ranges(sc, [(0, None), (2, 5), (n // 2 - 1, n // 2 + 2), (n - 1, n + 4), (n, None)])


def test_the_grid_is_a_lazy_sequence_decoded_from_the_index() -> None:
    axes = {"a": (1, 2, 3), "b": ("x", "y"), "c": (0.5, 0.25, 0.125, 0.0625)}
    points = grid(axes)
    expected = [dict(zip(axes, c, strict=True)) for c in itertools.product(*axes.values())]
    assert isinstance(points, GridPoints) and len(points) == 24
    assert points == expected and list(points) == expected
    assert [points[i] for i in range(24)] == expected and points[-1] == expected[-1]
    for start in range(26):
        for stop in (start, start + 1, start + 5, None):
            assert list(points.iter_from(start, stop)) == expected[start:stop]
    assert points[5:11] == expected[5:11] and points[::5] == expected[::5]
    with pytest.raises(IndexError):
        points[24]
    zipped = grid({"a": (1, 2, 3), "b": (4, 5, 6)}, zipped=True, constant={"d": 0.0})
    assert list(zipped) == [{"a": 1, "b": 4, "d": 0.0}, {"a": 2, "b": 5, "d": 0.0}, {"a": 3, "b": 6, "d": 0.0}]
    assert list(zipped.iter_from(1)) == list(zipped)[1:] and zipped[2] == {"a": 3, "b": 6, "d": 0.0}


MILLION = [
    "ground_distance_km=" + ",".join(str(100.0 * i) for i in range(10)),
    APERTURE + "=" + ",".join(str(0.5 + 0.25 * i) for i in range(10)),
    DIVERGENCE + "=" + ",".join(f"{2e-6 + 1e-6 * i:g}" for i in range(10)),
    "links.leo.pointing_rad=" + ",".join(f"{1e-7 * (i + 1):g}" for i in range(10)),
    "links.fiber.loss_db_per_km=" + ",".join(f"{0.15 + 0.01 * i:g}" for i in range(10)),
    "sources.repetition_rate_hz=" + ",".join(f"{1e6 * (i + 1):g}" for i in range(10)),
]


def test_a_million_point_grid_is_never_a_list() -> None:
    """Counting, indexing and planning the last points of 10^6 allocate a few MB at most (a list of the
    grid's points alone would take hundreds of MB)."""
    sc = load_scenario("khan-acka-leo", [], MILLION)
    tracemalloc.start()
    try:
        points = sc.sweep.points()
        assert len(points) == sc.sweep.count_points() == 10**6
        last = sc.sweep.point_at(10**6 - 1)
        plans = list(iter_plans(sc, 10**6 - 3, None))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert last == {k.split("=")[0]: float(k.split("=")[1].split(",")[-1]) for k in MILLION[1:]} | {"ground_distance_km": 900.0}
    assert [p.index for p in plans] == [10**6 - 3, 10**6 - 2, 10**6 - 1]
    one = load_scenario(
        "khan-acka-leo",
        [f"{k.split('=')[0]}={k.split('=')[1].split(',')[-1]}" for k in MILLION[1:]],
        ["ground_distance_km=900.0"],
    )
    assert plans[-1].key == plan_sweep(one)[0].key
    assert peak < 20 * 2**20, peak


# ------------------------------------------------------------------------------ point scenarios
def _equal_scenarios(a: Any, b: Any) -> None:
    assert a == b
    assert a.model_dump(mode="json") == b.model_dump(mode="json")
    assert a.__pydantic_fields_set__ == b.__pydantic_fields_set__
    assert a.layout == b.layout and a.explicit_dump() == b.explicit_dump()
    for name, spec in a.free_space_links().items():
        assert spec.link == b.links[name].link


def _numeric_axes(sc: Any) -> list[str]:
    """Three numeric fields of a preset in three tables, each swept over three values around its own."""
    data = sc.model_dump(mode="json")
    fs = next(iter(sc.free_space_links()))
    axes = []
    for path, scale in ((f"links.{fs}.divergence_rad", 1.5), ("sources.repetition_rate_hz", 2.0), ("detectors.efficiency", 0.9)):
        node: Any = data
        for part in path.split("."):
            node = node[part]
        axes.append(f"{path}=" + ",".join(repr(float(f"{node * scale**k:.6g}")) for k in range(3)))
    return axes


@pytest.mark.parametrize("preset", preset_names())
def test_point_scenarios_equal_full_validation_on_every_preset(preset: str) -> None:
    sc = load_scenario(preset, [], _numeric_axes(load_scenario(preset)))
    base = sc.model_dump(mode="json")
    scenarios = PointScenarios(sc)
    assert scenarios.fast
    points = list(sc.sweep.points()) if sc.passes is None else list(grid(sc.sweep.axes()))
    for values in random.Random(7).sample(points, min(12, len(points))):
        _equal_scenarios(scenarios(values), point_scenario_from(base, values))


def test_point_scenarios_equal_full_validation_on_random_combinations() -> None:
    sweeps = [
        "nodes.ground_stations.GS1.user_count=2,3,4",
        f"{APERTURE}=0.5,2.0",
        "links.leo.pointing_rad=5e-7,1e-6",
        "links.fiber.loss_db_per_km=0.18,0.25",
        "protocol.acka.verification_fraction=0.05,0.2",
        "detectors.dark_count_probability=0.0,1e-6",
        "bsm.success_probability=0.5,1.0",
    ]
    sc = load_scenario("khan-acka-leo", NETWORK, sweeps)
    base = sc.model_dump(mode="json")
    scenarios = PointScenarios(sc)
    assert set(scenarios.tables) == {
        ("nodes", "ground_stations", "GS1"), ("links", "leo"), ("links", "fiber"), ("protocol",), ("detectors",), ("bsm",)
    }  # fmt: skip
    points = list(sc.sweep.points())
    for values in random.Random(3).sample(points, 40):
        _equal_scenarios(scenarios(values), point_scenario_from(base, values))


def _error(f: Any) -> tuple[str, str]:
    with pytest.raises(InputError) as info:
        f()
    return info.value.field, info.value.message


def test_a_combination_of_axis_values_that_breaks_a_rule_is_refused_as_by_full_validation() -> None:
    """Each value passes alone (checked when the scenario loads); some combinations break a rule of the
    scenario (the sender is no user) or of one table (dark counts given twice): refused before anything runs."""
    sweeps = ["nodes.ground_stations.GS1.user_count=2,3", 'protocol.sender="GS1-u1","GS1-u3"']
    sc = load_scenario("khan-acka-leo", NETWORK, sweeps)
    base = sc.model_dump(mode="json")
    bad = next(
        v for v in sc.sweep.points() if v["protocol.sender"] == "GS1-u3" and v["nodes.ground_stations.GS1.user_count"] == 2
    )
    scenarios = PointScenarios(sc)
    scenarios(next(iter(sc.sweep.points())))
    expected = _error(lambda: point_scenario_from(base, bad))
    assert "sender" in expected[1] and _error(lambda: scenarios(bad)) == expected
    assert _error(lambda: plan_sweep(sc)) == expected

    sc = load_scenario(
        "khan-acka-leo", [], ["detectors.dark_count_probability=0.0,1e-6", "detectors.dark_count_rate_hz=10.0,100.0"]
    )
    base = sc.model_dump(mode="json")
    bad = next(v for v in sc.sweep.points() if v["detectors.dark_count_probability"] > 0)
    expected = _error(lambda: point_scenario_from(base, bad))
    assert "not both" in expected[1] and _error(lambda: plan_sweep(sc)) == expected


# ------------------------------------------------------------------------------------ keys, integral
@pytest.mark.parametrize("preset", preset_names())
def test_the_key_written_once_per_grid_line_is_the_point_key(preset: str) -> None:
    sc = load_scenario(preset)
    key = point_key_of(sc)
    for d in (0.0, 0.5, 123.456, 1999.9999999, 1e-300):
        assert key(d) == point_key(point_key_params(sc, d))


def _python_quad(scale_l: float, half_shape: float) -> float:
    """The integral as it was computed before the compiled integrand: a Python integrand under quad."""
    from scipy import integrate

    log_s = math.log(scale_l)
    knee = -log_s / half_shape
    y_hi, y_lo = math.log(60.0), min(knee, 0.0) - 40.0

    def integrand(y: float) -> float:
        e = log_s + half_shape * y
        return 0.0 if e > 700.0 else math.exp(y - math.exp(y) - math.exp(e))

    points = [knee] if y_lo < knee < y_hi else None
    return integrate.quad(integrand, y_lo, y_hi, points=points, epsabs=0.0, epsrel=1e-11, limit=400)[0]


def test_the_compiled_weibull_integrand_agrees_with_the_python_one() -> None:
    """Over the presets' range and far beyond (shape lambda/2 from 0.05 to 8, scale 1e-12 to 1e4): the same
    QUADPACK run on the same integrand values, to 1e-10 relative (in practice bit for bit)."""
    from qrate.channels.freespace import weibull_mean_integral

    rng = random.Random(5)
    for _ in range(400):
        scale_l, half_shape = 10 ** rng.uniform(-12, 4), rng.uniform(0.05, 8.0)
        ref = _python_quad(scale_l, half_shape)
        assert abs(weibull_mean_integral.__wrapped__(scale_l, half_shape) - ref) <= 1e-10 * ref


def test_a_held_plan_costs_about_a_kilobyte() -> None:
    """The scale benchmark's grid (distance x aperture x divergence) at 2000 points: each plan holds its key, budget
    and downlinks; its users, noise, factors, geometry and axes are shared with other points."""
    axes = [
        "ground_distance_km=" + ",".join(repr(round(2000.0 * i / 9, 1)) for i in range(10)),
        f"{APERTURE}=" + ",".join(repr(round(0.25 + 2.75 * i / 9, 6)) for i in range(10)),
        f"{DIVERGENCE}=" + ",".join(f"{2e-6 + 18e-6 * i / 19:.6g}" for i in range(20)),
    ]
    plan_sweep(load_scenario("khan-acka-leo", ["sweep.ground_distance_km=[100.0]"]))
    sc = load_scenario("khan-acka-leo", [], axes)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        plans = plan_sweep(sc)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(plans) == 2000 and held / len(plans) < 1200, held / len(plans)


def test_plan_and_passes_import_neither_each_other_nor_the_grid() -> None:
    """The engine's floors: ``plan`` (one point) below ``passes`` (pass steps) below ``grid`` (a sweep)."""
    root = Path(__file__).resolve().parents[2] / "qrate" / "engine"

    def imports(name: str) -> set[str]:
        tree = ast.parse((root / name).read_text())
        found = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        return found | {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}

    assert not imports("plan.py") & {"qrate.engine.passes", "qrate.engine.grid"}
    assert "qrate.engine.grid" not in imports("passes.py")
