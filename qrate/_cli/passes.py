"""``qrate passes``: passes of a satellite (TLE or circular orbit) or fixed platform over ground stations.

A pass is an interval in which every ``--station`` sees the platform at or above its minimum
elevation at the same time. One row per pass (start, end, duration, and per station the maximum
elevation and the minimum slant range); ``--steps`` adds the per-step geometry of each pass.

With SCENARIO (a preset or TOML file with a ``[passes]`` window, stations with coordinates and a
platform placed by orbit, TLE or position), the platform, the stations, their elevation cuts and
the window come from the scenario, exactly as ``qrate run`` finds its passes; otherwise from
``--tle``/``--circular``/``--fixed``, ``--station`` and ``--start``/``--end``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from qrate._cli.args import ArgumentParser, float_in
from qrate.errors import InputError
from qrate.text import printable

#: library field -> CLI option, so that errors raised below the CLI name the option
_OPTIONS = {
    "start_utc": "--start",
    "end_utc": "--end",
    "days": "--days",
    "step_s": "--step-s",
    "min_elevation_deg": "--min-elevation-deg",
    "stations": "--station",
    "tle": "--tle",
}
_STATION_SPEC = "NAME:LAT_DEG:LON_DEG[:ALT_M[:MIN_ELEVATION_DEG]]"


def _parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="qrate passes",
        description="Passes of a platform seen by ALL given stations at once (elevation >= each station's "
        "minimum), with refined start/end, duration, and per station the maximum elevation and minimum range. "
        "Times are UTC (ISO 8601); SGP4 with Earth rotation by GMST (UT1 = UTC); WGS84 stations; no files are read.",
    )
    p.add_argument(
        "scenario",
        nargs="?",
        metavar="SCENARIO",
        help="a preset or TOML file with a [passes] window: its platform, stations and window"
        " (instead of --tle/--circular/--fixed, --station and --start)",
    )
    g = p.add_argument_group("platform (exactly one)")
    g.add_argument(
        "--tle", nargs=2, metavar=("LINE1", "LINE2"), help="two-line elements (quote each line); checksums are verified"
    )
    g.add_argument("--name", default=None, help="platform name in the output (default: the TLE catalogue number)")
    g.add_argument(
        "--circular",
        metavar="ALT_KM:INC_DEG:RAAN_DEG:ARG_LAT_DEG",
        help="circular orbit; RAAN and argument of latitude at --start",
    )
    g.add_argument("--j2", action="store_true", help="with --circular: add the secular J2 drift of node and argument of latitude")
    g.add_argument("--fixed", metavar="LAT_DEG:LON_DEG:ALT_M", help="UAV / high-altitude platform at a fixed geodetic position")
    s = p.add_argument_group("stations and window")
    s.add_argument(
        "--station",
        action="append",
        default=[],
        metavar=_STATION_SPEC,
        help="a WGS84 ground station (repeat for several; altitude default 0 m)",
    )
    s.add_argument("--start", metavar="ISO", help="window start, UTC, e.g. 2016-12-19T16:45 (required without SCENARIO)")
    s.add_argument("--end", metavar="ISO", help="window end, UTC (or --days)")
    s.add_argument("--days", metavar="D", help="window length in days (instead of --end)")
    s.add_argument("--step-s", default="1", metavar="S", help="search step in seconds, also the --steps spacing (default 1)")
    s.add_argument(
        "--min-elevation-deg",
        default="0",
        metavar="E",
        help="minimum elevation for stations that do not give their own (default 0)",
    )
    o = p.add_argument_group("output")
    o.add_argument("--json", action="store_true", help="one JSON object per line (passes, and steps with --steps)")
    o.add_argument(
        "--steps",
        action="store_true",
        help="add per-step rows inside each pass: time_utc and per station range_km, elevation_deg",
    )
    return p


def _fields(option: str, spec: str, shape: str, lo: int, hi: int) -> list[str]:
    parts = spec.split(":")
    if not lo <= len(parts) <= hi or any(not x.strip() for x in parts):
        raise InputError(option, f"expected {shape}, got {spec!r}")
    return [x.strip() for x in parts]


def _numbers(option: str, spec: str, parts: Sequence[str]) -> list[float]:
    out = []
    for x in parts:
        try:
            out.append(float(x))
        except ValueError:
            raise InputError(option, f"{spec!r}: {x!r} is not a number") from None
    return out


def _rethrow(option: str, spec: str, exc: InputError) -> InputError:
    return InputError(option, f"{spec}: {exc.field}: {exc.message}")


def _stations(specs: list[str], default_min_deg: float) -> tuple[list[Any], list[float]]:
    from qrate.orbit import Station

    if not specs:
        raise InputError("--station", f"give at least one station as {_STATION_SPEC}")
    stations, minima = [], []
    for spec in specs:
        name, *rest = _fields("--station", spec, _STATION_SPEC, 3, 5)
        values = _numbers("--station", spec, rest)
        try:
            stations.append(Station(name, values[0], values[1], values[2] if len(values) > 2 else 0.0))
        except InputError as exc:
            raise _rethrow("--station", spec, exc) from None
        minima.append(values[3] if len(values) > 3 else default_min_deg)
        if not -90.0 <= minima[-1] <= 90.0:
            raise InputError("--station", f"{spec}: minimum elevation must be in [-90, 90] degrees, got {minima[-1]:g}")
    return stations, minima


def _platform(a: Any) -> Any:
    from qrate.orbit import TLE, CircularOrbit, FixedPlatform

    given = [opt for opt, v in (("--tle", a.tle), ("--circular", a.circular), ("--fixed", a.fixed)) if v is not None]
    if len(given) != 1:
        raise InputError("--tle/--circular/--fixed", f"give exactly one platform, got {', '.join(given) or 'none'}")
    try:
        if a.tle is not None:
            return TLE(a.tle[0], a.tle[1], name=a.name or "")
    except InputError as exc:
        line = {"tle.line1": "line 1", "tle.line2": "line 2"}.get(exc.field)
        raise InputError("--tle", f"{line} ({exc.field}): {exc.message}" if line else exc.message) from None
    option, spec = ("--circular", a.circular) if a.circular is not None else ("--fixed", a.fixed)
    if a.circular is not None:
        values = _numbers(option, spec, _fields(option, spec, "ALT_KM:INC_DEG:RAAN_DEG:ARG_LAT_DEG", 4, 4))
        try:
            alt, inc, raan, arg_lat = values
            return CircularOrbit(alt, inc, raan, arg_lat, epoch_utc=a.start, j2=a.j2, name=a.name or "circular")
        except InputError as exc:
            raise _rethrow(option, spec, exc) from None
    values = _numbers(option, spec, _fields(option, spec, "LAT_DEG:LON_DEG:ALT_M", 3, 3))
    try:
        lat, lon, alt_m = values
        return FixedPlatform(lat, lon, alt_m, name=a.name or "fixed")
    except InputError as exc:
        raise _rethrow(option, spec, exc) from None


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in [header, *rows])


def _join_negative_values(argv: list[str]) -> list[str]:
    """``--fixed -33.9:151.2:20000`` -> ``--fixed=-33.9:...``: argparse would read the value as an option."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        nxt = argv[i + 1] if i + 1 < len(argv) else ""
        if (
            arg in ("--station", "--fixed", "--circular", "--min-elevation-deg")
            and len(nxt) > 1
            and nxt[0] == "-"
            and (nxt[1].isdigit() or nxt[1] == ".")
        ):
            out.append(f"{arg}={nxt}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def main(argv: Sequence[str]) -> int:
    """Run ``qrate passes``; 0 also when no pass is found; :class:`InputError` (exit 2) on bad input."""
    from qrate.orbit import find_passes, parse_utc, pass_track

    a = _parser().parse_args(_join_negative_values(list(argv)))
    if a.scenario is not None:
        return _scenario_passes(a)
    if a.start is None:
        raise InputError("--start", "is required (ISO 8601 UTC, e.g. 2016-12-19T16:45)")
    parse_utc(a.start, "--start")
    default_min = float_in("--min-elevation-deg", -90.0, 90.0)(a.min_elevation_deg)
    step_s = float_in("--step-s", 0.0, lo_open=True)(a.step_s)
    days = float_in("--days", 0.0, lo_open=True)(a.days) if a.days is not None else None
    if days is None and a.end is None:
        raise InputError("--end", "give --end ISO or --days D")
    platform = _platform(a)
    stations, minima = _stations(a.station, default_min)
    try:
        passes = find_passes(platform, stations, a.start, a.end, days=days, step_s=step_s, min_elevation_deg=minima)
        tracks = [pass_track(platform, stations, p, step_s) for p in passes] if a.steps else []
    except InputError as exc:
        raise InputError(_OPTIONS.get(exc.field, exc.field), exc.message) from None

    t0 = parse_utc(a.start)
    t1 = t0 + np.timedelta64(round(days * 86400e9), "ns") if days is not None else parse_utc(a.end)
    return _print(a, platform, stations, minima, passes, tracks, t0, t1, step_s)


def _scenario_passes(a: Any) -> int:
    """The SCENARIO form: the scenario's platform, stations, cuts and window."""
    from qrate.engine.passes import scenario_passes
    from qrate.orbit import parse_utc, pass_track
    from qrate.scenario import load_scenario

    scenario = load_scenario(a.scenario)
    window = scenario.passes
    if window is None:
        raise InputError("SCENARIO", f"{a.scenario} has no [passes] window")
    found = scenario_passes(scenario)
    links = scenario.free_space_links().values()
    minima = [
        max(window.min_elevation_deg, max(s.min_elevation_deg for s in links if st.name in s.ground_stations))
        for st in found.stations
    ]
    tracks = [pass_track(found.platform, found.stations, p, window.step_s) for p in found.passes] if a.steps else []
    t0 = parse_utc(window.start_utc)
    t1 = t0 + np.timedelta64(round(window.days * 86400e9), "ns") if window.days is not None else parse_utc(window.end_utc)
    return _print(a, found.platform, list(found.stations), minima, list(found.passes), tracks, t0, t1, window.step_s)


def _print(
    a: Any,
    platform: Any,
    stations: list[Any],
    minima: list[float],
    passes: list[Any],
    tracks: list[Any],
    t0: Any,
    t1: Any,
    step_s: float,
) -> int:
    """Print the passes (and steps) as a table or JSON lines; a clear line when there is none."""
    from qrate.orbit import TLE, format_utc

    names = [s.name for s in stations]
    if not passes:
        print(
            printable(
                f"qrate passes: no pass of {platform.name} with {', '.join(f'{n} >= {m:g} deg' for n, m in zip(names, minima))} "
                f"between {format_utc(t0)} and {format_utc(t1)}"
            ),
            file=sys.stderr,
        )
        return 0
    if a.json:
        for i, p in enumerate(passes, start=1):
            print(json.dumps({"record": "pass", "pass": i, "platform": platform.name, **p.to_dict()}))
            if a.steps:
                tr = tracks[i - 1]
                for k, t in enumerate(tr.time_utc):
                    stations_k = {
                        n: {
                            "range_km": float(tr.range_km[s, k]),
                            "elevation_deg": float(tr.elevation_deg[s, k]),
                            "azimuth_deg": float(tr.azimuth_deg[s, k]),
                            "sun_elevation_deg": float(tr.sun_elevation_deg[s, k]),
                        }
                        for s, n in enumerate(names)
                    }
                    print(
                        json.dumps(
                            {
                                "record": "step",
                                "pass": i,
                                "time_utc": format_utc(t),
                                "weight_s": float(tr.weight_s[k]),
                                "stations": stations_k,
                            }
                        )
                    )
        sys.stdout.flush()
        return 0

    what = f"TLE epoch {format_utc(platform.epoch_utc)}" if isinstance(platform, TLE) else type(platform).__name__
    print(
        printable(
            f"# qrate passes: {platform.name} ({what}); {format_utc(t0)} .. {format_utc(t1)}, step {step_s:g} s; "
            + ", ".join(f"{n} (>= {m:g} deg)" for n, m in zip(names, minima))
        )
    )
    names = [printable(n) for n in names]  # the JSON records above keep them as given (JSON escapes them)
    header = ["pass", "start_utc", "end_utc", "duration_s"]
    for n in names:
        header += [f"{n}:max_elev_deg", f"{n}:min_range_km"]
    rows = []
    for i, p in enumerate(passes, start=1):
        row = [str(i), format_utc(p.start_utc), format_utc(p.end_utc), f"{p.duration_s:.3f}"]
        for sp in p.stations:
            row += [f"{sp.max_elevation_deg:.3f}", f"{sp.min_range_km:.2f}"]
        rows.append(row)
    print(_table(header, rows))
    for i, tr in enumerate(tracks, start=1):
        print(f"\n# pass {i}: per-step geometry")
        step_header = ["time_utc"]
        for n in names:
            step_header += [f"{n}:range_km", f"{n}:elevation_deg"]
        step_rows = []
        for k, t in enumerate(tr.time_utc):
            row = [format_utc(t)]
            for s in range(len(names)):
                row += [f"{tr.range_km[s, k]:.3f}", f"{tr.elevation_deg[s, k]:.4f}"]
            step_rows.append(row)
        print(_table(step_header, step_rows))
    sys.stdout.flush()
    return 0
