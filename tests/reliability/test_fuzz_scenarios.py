"""Fuzzed bad scenarios and ``--set`` overrides: exit 2, one line naming the field, no traceback, no file.

Over 1000 generated inputs in all (hypothesis, derandomized): wrong types, missing and unknown
keys, NaN and inf, negative lengths, probabilities outside [0, 1], empty sweeps, platforms below
the horizon, absurdly large values, non-UTF-8 bytes. Most run ``qrate.cli.main`` in-process; a
handful run as real child processes.
"""

from __future__ import annotations

import json
import math
import subprocess
import tomllib
from pathlib import Path

import tomli_w
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from qrate.scenario.presets import preset_text
from tests.reliability.conftest import CHILD_ENV, QRATE, cli
from tests.sweep._helpers import sha256

PRESET = tomllib.loads(preset_text("khan-acka-leo"))
FUZZ = settings(deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
EARTH_RADIUS_KM = 6371.0  # horizon distance 2 R acos(R / (R + H)) of a 450 km platform: ~4654 km (R = 6371 km)

# numeric fields and the closed interval they must lie in (None: unbounded on that side)
BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "nodes.platforms.leo.altitude_km": (0.0, 50_000.0),
    "links.fiber.lengths_km.Alice": (0.0, 1000.0),
    "links.fiber.loss_db_per_km": (0.0, 10.0),
    "links.fiber.coupling": (0.0, 1.0),
    "links.fiber.dephasing_probability": (0.0, 0.5),
    "links.fiber.group_index": (1.0, 5.0),
    "links.leo.divergence_rad": (0.0, 1e-2),
    "links.leo.pointing_rad": (0.0, 1e-2),
    "links.leo.aperture_radius_m": (0.0, 100.0),
    "links.leo.wavelength_m": (0.0, 1e-4),
    "links.leo.cn2": (0.0, 1e-10),
    "links.leo.t_atm_zenith": (0.0, 1.0),
    "links.leo.coherence_time_s": (0.0, 3600.0),
    "links.leo.min_elevation_deg": (0.0, 90.0),
    "detectors.efficiency": (0.0, 1.0),
    "detectors.dark_count_probability": (0.0, 1.0),
    "detectors.readout_flip": (0.0, 0.5),
    "bsm.success_probability": (0.0, 1.0),
    "switch.efficiency": (0.0, 1.0),
    "sources.repetition_rate_hz": (0.0, 1e12),
    "sources.bell_success_probability": (0.0, 1.0),
    "sources.ghz_success_probability": (0.0, 1.0),
    "protocol.verification_fraction": (0.0, 1.0),
    "sampling.pulses_per_batch": (1.0, 2.0**62),
    "sampling.batches": (1.0, 1e6),
    "sampling.seed": (0.0, 2.0**128),
    "sampling.min_batches": (2.0, None),
}
OTHER_FIELDS = ["name", "description", "nodes.ground_stations.GS1.users", "nodes.ground_stations.GS2.forward",
                "links.fiber.kind", "links.leo.kind", "links.leo.platform", "links.leo.ground_stations", "links.leo.beam",
                "links.leo.model", "links.fiber.dephasing", "protocol.name", "protocol.sender", "protocol.participants",
                "sweep.ground_distance_km", "sources.synchronous"]
TABLES = ["", "nodes", "nodes.ground_stations.GS1", "nodes.platforms.leo", "links.fiber", "links.leo", "detectors", "bsm",
          "switch", "sources", "protocol", "sweep", "sampling"]
# (a missing [sweep] is a one-point sweep at D = 0, so it is not in this list)
REQUIRED = ["nodes", "links", "protocol", "sampling", "nodes.ground_stations", "nodes.platforms",
            "nodes.platforms.leo.altitude_km", "nodes.ground_stations.GS1.users", "links.fiber.kind", "links.fiber.lengths_km",
            "links.leo.kind", "links.leo.platform", "links.leo.ground_stations", "links.leo.divergence_rad",
            "links.leo.aperture_radius_m", "protocol.name", "protocol.sender", "sweep.ground_distance_km",
            "sampling.pulses_per_batch"]


def _toml(value: object) -> str:
    """A value as TOML text for ``--set`` (inline tables and arrays)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def _outside(field: str) -> st.SearchStrategy[object]:
    lo, hi = BOUNDS[field]
    options = [st.just(math.nan), st.just(math.inf), st.just(-math.inf)]
    if lo is not None:
        options.append(st.floats(max_value=lo, exclude_max=True, allow_nan=False, allow_infinity=False, width=64)
                       .filter(lambda v: v < lo))
        options.append(st.just(lo) if field not in ("links.fiber.lengths_km.Alice", "links.leo.pointing_rad", "links.fiber.loss_db_per_km",
                                                   "links.fiber.dephasing_probability", "links.leo.cn2", "links.leo.coherence_time_s",
                                                   "links.leo.min_elevation_deg", "detectors.dark_count_probability",
                                                   "detectors.readout_flip", "protocol.verification_fraction",
                                                   "sampling.seed", "links.fiber.group_index", "sampling.min_batches",
                                                   "sampling.pulses_per_batch", "sampling.batches")
                       else st.just(-1.0))
    if hi is not None:
        options.append(st.floats(min_value=hi, exclude_min=True, allow_nan=False, allow_infinity=False, width=64)
                       .filter(lambda v: v > hi))
        # absurdly large (2**64 and 10**30 are valid seeds below 2**128: keep only values above the bound)
        options.append(st.sampled_from([hi * 10 + 1, 1e300, 2.0**64, 10**30]).filter(lambda v, hi=hi: v > hi))
    if field.startswith("sampling.") and field != "sampling.seed":
        options.append(st.sampled_from([-1, 0, 2**64, 10**40]).filter(lambda v: v < (lo or -math.inf) or (hi is not None and v > hi)))
    return st.one_of(options)


WRONG_TYPES = st.one_of(
    st.text(min_size=1, max_size=8).filter(lambda t: not _numeric_text(t)),
    st.lists(st.integers(-5, 5), max_size=3), st.dictionaries(st.sampled_from("abc"), st.integers(0, 3), max_size=2),
    st.booleans(),
)


def _numeric_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _case(field: str, value: object) -> str:
    return f"{field}={_toml(value)}"


OVERRIDES = st.one_of(
    # a number outside its range, NaN / inf, or absurdly large
    st.sampled_from(sorted(BOUNDS)).flatmap(lambda f: st.tuples(st.just(f), _outside(f).map(lambda v, f=f: _case(f, v)))),
    # the wrong type for a numeric field
    st.sampled_from(sorted(BOUNDS)).flatmap(lambda f: st.tuples(st.just(f), WRONG_TYPES.map(lambda v, f=f: _case(f, v)))),
    # the wrong type for any other field
    st.sampled_from(OTHER_FIELDS).flatmap(
        lambda f: st.tuples(st.just(f), st.one_of(st.floats(allow_nan=True), st.dictionaries(st.just("x"), st.integers(), min_size=1))
                            .map(lambda v, f=f: _case(f, v)))),
    # an unknown key in any table
    st.tuples(st.sampled_from(TABLES), st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True)).map(
        lambda t: (f"{t[0]}.{t[1]}z".lstrip("."), f"{t[0]}.{t[1]}z=1".lstrip("."))),
    # empty and inverted sweeps
    st.sampled_from(["[]", "{start_km = 5, stop_km = 1, step_km = 1}", "{start_km = 0, stop_km = 1, step_km = 0}",
                     "{start_km = 0, stop_km = 1}", "{}"]).map(lambda v: ("sweep.ground_distance_km", f"sweep.ground_distance_km={v}")),
    # negative or non-finite distances; platforms below the horizon
    st.one_of(st.floats(max_value=-1e-9, allow_infinity=True, allow_nan=False), st.just(math.nan),
              st.floats(min_value=4700.0, max_value=1e9)).map(
        lambda d: ("sweep.ground_distance_km", f"sweep.ground_distance_km=[0, {_toml(d)}]")),
    # a low platform and a long distance: below the horizon
    st.tuples(st.floats(0.001, 10.0), st.floats(800.0, 4000.0)).map(
        lambda t: ("sweep.ground_distance_km", f"nodes.platforms.leo.altitude_km={t[0]!r}", f"sweep.ground_distance_km=[{t[1]!r}]")),
    # non-UTF-8 bytes in the command line (what Python makes of them: lone surrogates)
    st.tuples(st.sampled_from(["name", "description", "protocol.sender", "links.leo.beam"]),
              st.binary(min_size=1, max_size=6).map(lambda b: (b"\xff" + b).decode("utf-8", "surrogateescape"))).map(
        lambda t: (t[0], f"{t[0]}={t[1]}")),
)


def _assert_refused(tmp_path: Path, source: str, sets: list[str], field: str, existing: bool) -> None:
    out = tmp_path / "out.h5"
    if existing:
        out.write_bytes(b"previous results\n")
        digest = sha256(out)
    elif out.exists():
        out.unlink()
    args = ["run", source, *[a for s in sets for a in ("--set", s)], "--out", str(out), "--scheduler", "sync", "--quiet"]
    rc, stdout, err = cli([*args, "--overwrite"] if existing else args)
    assert rc == 2, (sets, rc, err)
    assert "Traceback" not in err and err.count("\n") == 1 and err.endswith("\n"), (sets, err)
    assert err.startswith("qrate run: error: "), err
    leaf = field.rsplit(".", 1)[-1]
    assert leaf in err or field.split(".")[0] in err, (sets, err)
    assert stdout == ""
    if existing:
        assert sha256(out) == digest
    else:
        assert not out.exists()


@settings(FUZZ, max_examples=700)
@given(case=OVERRIDES)
def test_fuzzed_overrides_are_refused_with_one_line_naming_the_field(tmp_path: Path, case: tuple[str, ...]) -> None:
    field, *sets = case
    _assert_refused(tmp_path, "khan-acka-leo", sets, field, existing=len(sets[0]) % 2 == 0)


def _without(data: dict[str, object], path: str) -> dict[str, object]:
    out = tomllib.loads(tomli_w.dumps(data))
    *head, last = path.split(".")
    node = out
    for p in head:
        node = node[p]  # type: ignore[assignment]
    del node[last]  # type: ignore[attr-defined]
    return out


def _with(data: dict[str, object], path: str, value: object) -> dict[str, object]:
    out = tomllib.loads(tomli_w.dumps(data))
    *head, last = path.split(".")
    node = out
    for p in head:
        node = node.setdefault(p, {})  # type: ignore[assignment]
    node[last] = value  # type: ignore[index]
    return out


FILES = st.one_of(
    st.sampled_from(REQUIRED).map(lambda p: (p, _without(PRESET, p))),
    st.sampled_from(sorted(BOUNDS)).flatmap(lambda f: _outside(f).map(lambda v, f=f: (f, _with(PRESET, f, v)))),
    st.sampled_from(sorted(BOUNDS)).flatmap(lambda f: WRONG_TYPES.map(lambda v, f=f: (f, _with(PRESET, f, v)))),
    st.tuples(st.sampled_from(TABLES[1:]), st.from_regex(r"[a-z]{1,8}", fullmatch=True)).map(
        lambda t: (t[1] + "q", _with(PRESET, f"{t[0]}.{t[1]}q", 1.5))),
)


@settings(FUZZ, max_examples=300)
@given(case=FILES)
def test_fuzzed_scenario_files_are_refused(tmp_path: Path, case: tuple[str, dict[str, object]]) -> None:
    field, data = case
    path = tmp_path / "scenario.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    _assert_refused(tmp_path, str(path), [], field, existing=False)


@settings(FUZZ, max_examples=100)
@given(junk=st.binary(min_size=1, max_size=40), at=st.integers(0, 400))
def test_non_utf8_scenario_files_are_refused(tmp_path: Path, junk: bytes, at: int) -> None:
    text = preset_text("khan-acka-leo").encode()
    path = tmp_path / "scenario.toml"
    path.write_bytes(text[:at] + b"\xc3\x28" + junk + text[at:])  # \xc3\x28: an invalid UTF-8 sequence
    _assert_refused(tmp_path, str(path), [], "SCENARIO", existing=False)


def test_a_handful_as_real_processes(tmp_path: Path) -> None:
    out = tmp_path / "out.h5"
    cases: list[tuple[list[str | bytes], str]] = [
        (["--set", b"name=\xff\xfe"], "name"),
        (["--set", "links.leo.divergence_rad=1e-300"], "links.leo"),
        (["--set", "sweep.ground_distance_km={start_km = inf, stop_km = inf, step_km = 1}"], "start_km"),
        (["--set", "links.fiber.lengths_km.Alice=-3"], "links.fiber.lengths_km.Alice"),
        (["--set", "sweep.ground_distance_km=[9000]"], "sweep.ground_distance_km"),
        (["--set", "detectors.efficiency=true"], "detectors.efficiency"),
    ]
    for extra, field in cases:
        cmd = [*QRATE, "run", "khan-acka-leo", *extra, "--scheduler", "sync", "--quiet", "--out", str(out)]
        proc = subprocess.run(cmd, env=CHILD_ENV, capture_output=True, timeout=120, check=False)
        err = proc.stderr.decode("utf-8", "backslashreplace")
        assert proc.returncode == 2, (extra, err)
        assert err.count("\n") == 1 and "Traceback" not in err and field in err, (extra, err)
        assert proc.stdout == b"" and not out.exists()
