"""``qrate link``: link budget of one free-space downlink over a list of ground distances.

The platform (LEO satellite or UAV) sits at ``--altitude-km`` above the midpoint of two ground
stations ``--ground-distance-km`` apart; the budget is the downlink to either station: geometry,
beam, mean transmittance (Monte Carlo and analytic), quantiles, the loss in dB and its split per
factor. ``qrate link SCENARIO --link NAME`` evaluates a scenario's link (its platform's altitude,
every field of the link, the scenario's distances unless ``--ground-distance-km`` is given).

The link is always built by the scenario loader: without SCENARIO, from a one-link scenario
(:data:`ONE_LINK_SCENARIO`). Each link option is an alias of ``--set FIELD=VALUE`` on that link
(``--divergence-rad 5e-6`` is ``--set divergence_rad=5e-6``; ``--altitude-km`` sets the platform's
``altitude_km``), so the options obey the same rules as a scenario file and any field of the link
(``aerosol_model``, ``turbulence_profile``, ``loss_table``...) can be set.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from qrate._cli.args import ArgumentParser, float_in, float_list, int_in
from qrate.errors import InputError

QUANTILES = (0.05, 0.5, 0.95)
MAX_SAMPLES = 100_000_000

#: the scenario ``qrate link`` builds its link in without SCENARIO: a platform above two stations
ONE_LINK_SCENARIO = """
name = "qrate-link"
[nodes.ground_stations.GS1]
users = ["u1"]
[nodes.ground_stations.GS2]
users = ["u2"]
[nodes.platforms.platform]
[links.fiber]
kind = "fiber"
default_length_km = 0.0
[links.link]
kind = "free_space"
platform = "platform"
ground_stations = ["GS1", "GS2"]
[protocol]
name = "broadcast"
sender = "u1"
[sampling]
pulses_per_batch = 1
"""

#: link field -> its option (each an alias of ``--set FIELD=VALUE``)
LINK_OPTIONS = {
    "divergence_rad": "--divergence-rad",
    "pointing_rad": "--pointing-rad",
    "aperture_radius_m": "--aperture-radius-m",
    "aperture_diameter_m": "--aperture-diameter-m",
    "wavelength_m": "--wavelength-m",
    "beam": "--beam",
    "model": "--model",
    "cn2": "--cn2",
    "turbulence_path": "--turbulence-path",
    "t_atm_zenith": "--t-atm-zenith",
    "transmitter_efficiency": "--transmitter-efficiency",
    "receiver_efficiency": "--receiver-efficiency",
    "extra_loss_db": "--extra-loss-db",
}
#: options whose value is a choice: ``far-field`` is read as ``far_field``
_CHOICES = ("beam", "model", "turbulence_path")
#: library field name -> CLI option, so that errors raised below the CLI name the option
_OPTIONS = {
    "altitude_km": "--altitude-km",
    "ground_distance_km": "--ground-distance-km",
    "ground_offset_km": "--ground-distance-km",
    **LINK_OPTIONS,
}


def _parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="qrate link",
        description="Link budget of one free-space downlink from a platform above the midpoint of two "
        "ground stations: geometry, beam, Monte Carlo and analytic mean transmittance, quantiles.",
    )
    p.add_argument(
        "scenario",
        nargs="?",
        metavar="SCENARIO",
        help="a preset or TOML file: evaluate its link --link NAME (the link options below change its fields)",
    )
    p.add_argument("--link", metavar="NAME", help="with SCENARIO: the free-space link to evaluate (default: the first)")
    g = p.add_argument_group("geometry")
    g.add_argument("--altitude-km", metavar="H", help="platform altitude in km (required without SCENARIO)")
    g.add_argument(
        "--ground-distance-km",
        metavar="D[,D...]",
        help="ground (arc) distance(s) between the stations in km, comma-separated (required)",
    )
    b = p.add_argument_group("link")
    b.add_argument("--divergence-rad", metavar="THETA", help="transmit half-angle divergence in rad (required)")
    b.add_argument("--pointing-rad", metavar="S", help="per-axis pointing jitter std in rad (default 0)")
    b.add_argument("--aperture-radius-m", metavar="A", help="receiver aperture RADIUS in m (exactly one of radius/diameter)")
    b.add_argument("--aperture-diameter-m", metavar="D", help="receiver aperture DIAMETER in m")
    b.add_argument("--wavelength-m", metavar="LAMBDA", help="wavelength in m (default 1.55e-6)")
    b.add_argument("--beam", help="gaussian: W = sqrt(W0^2 + theta^2 L^2); far-field: W = theta L (default gaussian)")
    b.add_argument("--model", help="per-shot transmittance model: exact (Marcum Q) or weibull (Vasylyev; default)")
    b.add_argument("--cn2", help="turbulence C_n^2 in m^-2/3 (default 0)")
    b.add_argument("--turbulence-path", help="full (UAV: whole path) or last-10km (satellite) (default full)")
    b.add_argument("--t-atm-zenith", help="atmospheric transmittance at the zenith, in [0, 1] (default 1)")
    b.add_argument("--transmitter-efficiency", help="transmitter optics efficiency, in (0, 1] (default 1)")
    b.add_argument(
        "--receiver-efficiency",
        help="telescope, optics and coupling efficiency of the receiver, in (0, 1] (default 1)",
    )
    b.add_argument("--extra-loss-db", help="any further flat loss in dB (default 0)")
    b.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="any field of the link, as in a scenario's [links.NAME] table (repeatable), e.g. aerosol_model=rural_23km",
    )
    s = p.add_argument_group("sampling")
    s.add_argument("--samples", default="1000000", help="shots per distance (default 1e6)")
    s.add_argument("--seed", default=None, help="integer seed (default: fresh entropy, printed)")
    s.add_argument(
        "--coherence-time-s",
        default=None,
        help="fading coherence time: shots within one block share one draw (default: i.i.d. per shot)",
    )
    s.add_argument("--rate-hz", default="1e6", help="shot rate in Hz, sets shots per coherence block (default 1e6)")
    p.add_argument("--json", action="store_true", help="one JSON object per distance (one line each) instead of a table")
    return p


def _num(option: str, text: str | None, parse: Callable[[str], Any]) -> Any:
    if text is None:
        raise InputError(option, "is required")
    return parse(text)


def _block_stats(draws: np.ndarray, weights: np.ndarray) -> tuple[float, float | None]:
    """Mean over shots and its standard error when each block draw is shared by ``weights`` shots."""
    total = weights.sum()
    mean = float(np.dot(weights, draws) / total)
    if draws.size < 2:
        return mean, None
    var = float(np.var(draws, ddof=1))
    return mean, math.sqrt(var * float(np.dot(weights, weights))) / float(total)


def block_quantiles(draws: np.ndarray, weights: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """Quantiles over shots when block draw ``draws[i]`` is shared by ``weights[i]`` shots.

    The same numbers as ``np.quantile(np.repeat(draws, weights), quantiles)`` (the default
    ``linear`` method), in memory proportional to the number of blocks, not of shots.
    """
    order = np.argsort(draws, kind="stable")
    values = draws[order]
    ends = np.cumsum(np.asarray(weights, dtype=np.int64)[order])  # shot index just past each block
    n = int(ends[-1])
    out = np.empty(len(quantiles))
    for i, q in enumerate(quantiles):
        virtual = (n - 1) * q  # numpy's virtual index of the 'linear' method
        below = min(max(math.floor(virtual), 0), n - 1)
        above = min(below + 1, n - 1)
        gamma = virtual - math.floor(virtual)
        a, b = values[np.searchsorted(ends, below, side="right")], values[np.searchsorted(ends, above, side="right")]
        diff = b - a
        out[i] = b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma
    return out


def shots_per_block(samples: int, rate_hz: float, coherence_time_s: float | None) -> int:
    """Shots sharing one transmittance draw: ``round(rate × coherence time)``, at least 1 and at most
    ``samples`` (a block longer than the run is the whole run; no overflow for huge times)."""
    if coherence_time_s is None:
        return 1
    per_block = rate_hz * coherence_time_s
    if not per_block < samples:  # also inf
        return samples
    return max(1, min(samples, round(per_block)))


def _row(
    link: Any, altitude_km: float, distance_km: float, n: int, shots_per_block: int, rng: np.random.Generator
) -> dict[str, Any]:
    from qrate.channels.budget import loss_budget_db
    from qrate.channels.freespace import (
        link_budget,
        mean_transmittance,
        sample_transmittance,
    )
    from qrate.geometry import midpoint_geometry

    geo = midpoint_geometry(altitude_km, distance_km)
    budget = link_budget(link, geo)
    factors = loss_budget_db(link, geo).as_dict() if link.model != "measured" else {}
    n_blocks = -(-n // shots_per_block)
    draws = sample_transmittance(budget, n_blocks, rng)
    weights = np.full(n_blocks, float(shots_per_block))
    weights[-1] = n - shots_per_block * (n_blocks - 1)
    mean, stderr = _block_stats(draws, weights)
    # per block, never per shot: memory ~ blocks, whatever the coherence time and rate
    q = np.quantile(draws, QUANTILES) if shots_per_block == 1 else block_quantiles(draws, weights, QUANTILES)
    return {
        "altitude_km": altitude_km,
        "ground_distance_km": distance_km,
        "slant_range_km": geo.slant_range_km,
        "elevation_deg": geo.elevation_deg,
        "zenith_deg": geo.zenith_deg,
        "beam_radius_m": budget.beam_radius_m,
        "sigma_m": budget.sigma_m,
        "eta0": budget.eta0,
        "t_atm": budget.t_atm,
        "weibull_shape": budget.weibull_shape,
        "weibull_scale_m": budget.weibull_scale_m,
        "mean_transmittance": mean,
        "mean_transmittance_stderr": stderr,
        "analytic_mean_transmittance": mean_transmittance(budget),
        "analytic_method": {"exact": "closed_form", "weibull": "quad", "measured": "table"}[link.model],
        "loss_db": -10.0 * math.log10(mean_transmittance(budget)) if mean_transmittance(budget) > 0 else math.inf,
        "loss_factors_db": factors,
        "quantiles": {f"{p:g}": float(v) for p, v in zip(QUANTILES, q)},
        "samples": n,
        "shots_per_block": shots_per_block,
        "blocks": n_blocks,
    }


def _table(rows: list[dict[str, Any]], header: str) -> str:
    cols = [
        ("D_km", "ground_distance_km", "{:.6g}"),
        ("L_km", "slant_range_km", "{:.6g}"),
        ("elev_deg", "elevation_deg", "{:.4f}"),
        ("W_m", "beam_radius_m", "{:.5g}"),
        ("sigma_m", "sigma_m", "{:.4g}"),
        ("eta0", "eta0", "{:.6g}"),
        ("T_atm", "t_atm", "{:.6g}"),
        ("mean_MC", "mean_transmittance", "{:.6g}"),
        ("stderr", "mean_transmittance_stderr", "{:.2g}"),
        ("analytic", "analytic_mean_transmittance", "{:.6g}"),
        ("loss_dB", "loss_db", "{:.3f}"),
        ("diffr_dB", "diffraction_db", "{:.2f}"),
        ("point_dB", "pointing_db", "{:.2f}"),
        ("turb_dB", "turbulence_db", "{:.2f}"),
        ("atm_dB", "atmosphere_db", "{:.2f}"),
        ("hw_dB", "hardware_db", "{:.2f}"),
        ("q05", None, "{:.6g}"),
        ("q50", None, "{:.6g}"),
        ("q95", None, "{:.6g}"),
    ]
    qkeys = {"q05": "0.05", "q50": "0.5", "q95": "0.95"}
    cells = [[name for name, _, _ in cols]]
    for r in rows:
        line = []
        f = r["loss_factors_db"]
        factors = {**f, "hardware_db": sum(f.get(k, 0.0) for k in ("transmitter_db", "receiver_db", "extra_db"))} if f else {}
        for name, key, fmt in cols:
            value = r["quantiles"][qkeys[name]] if key is None else r[key] if key in r else factors.get(key)
            line.append("n/a" if value is None else fmt.format(value))
        cells.append(line)
    widths = [max(len(c[i]) for c in cells) for i in range(len(cols))]
    body = ["  ".join(c.rjust(w) for c, w in zip(line, widths)) for line in cells]
    return "\n".join([header, *body])


def main(argv: Sequence[str]) -> int:
    """Run ``qrate link``; returns 0, raises :class:`InputError` (exit 2) on bad input."""
    a = _parser().parse_args(list(argv))
    link, altitude_km, default_distances = _build_link(a)
    distances = (
        _num("--ground-distance-km", a.ground_distance_km, float_list("--ground-distance-km", 0.0))
        if a.ground_distance_km is not None or default_distances is None
        else default_distances
    )
    return _report(a, link, altitude_km, distances)


def _link_fields(a: Any) -> dict[str, str]:
    """``--set`` items and the link options given, as ``{field: value text}`` (options win)."""
    fields: dict[str, str] = {}
    for item in a.set:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError("--set", f"expected FIELD=VALUE, got {item!r}")
        fields[key.strip()] = value
    for name in LINK_OPTIONS:
        text = getattr(a, name)
        if text is not None:
            fields[name] = text.strip().lower().replace("-", "_") if name in _CHOICES else text
    return fields


def _build_link(a: Any) -> tuple[Any, float, list[float] | None]:
    """The link, its platform's altitude and the scenario's distances (None without SCENARIO), built by
    the scenario loader from SCENARIO (or :data:`ONE_LINK_SCENARIO`) with the options as fields of the link."""
    from qrate.scenario.axes import EXCLUSIVE_KEYS
    from qrate.scenario.load import apply_overrides, parse_override, parse_toml, read_source, validate_data

    if a.scenario is None:
        data, name, options = parse_toml(ONE_LINK_SCENARIO), "link", {**LINK_OPTIONS, "altitude_km": "--altitude-km"}
    else:
        label, text = read_source(a.scenario)
        data, options = parse_toml(text, label), {}
        links = {k: v for k, v in data.get("links", {}).items() if isinstance(v, dict) and v.get("kind") == "free_space"}
        name = a.link or next(iter(links), "")
        if name not in links:
            raise InputError("--link", f"no free-space link {name!r} in {a.scenario}; its links: {', '.join(links)}")
    fields = _link_fields(a)
    options.update({k: LINK_OPTIONS.get(k, f"--set {k}") for k in fields})
    table = data["links"][name]
    for key, text in fields.items():  # a field given replaces its alternative (radius/diameter) unless both are given
        if EXCLUSIVE_KEYS.get(key) not in fields:
            table.pop(EXCLUSIVE_KEYS.get(key, ""), None)
        parts, value = parse_override(f"{key}={text}")
        node = table
        for part in parts[:-1]:
            node = node.setdefault(part, {}) if isinstance(node, dict) else node
        if not isinstance(node, dict):
            raise InputError(options[key], f"links.{name}.{parts[0]} is a value, not a table")
        node[parts[-1]] = value
    platform = table.get("platform")
    sets = [] if a.altitude_km is None else [f"nodes.platforms.{platform}.altitude_km={a.altitude_km}"]
    if sets:
        options["altitude_km"] = "--altitude-km"
    try:
        scenario = validate_data(apply_overrides(data, sets))
    except InputError as exc:
        raise InputError(*_option_error(exc, name, platform, options)) from None
    spec = scenario.free_space_links()[name]
    altitude_km = scenario.nodes.platforms[spec.platform].altitude_km
    if altitude_km is None:
        raise InputError("--link", f"links.{name}'s platform is placed by an orbit, TLE or position: use `qrate passes`")
    return spec.link, altitude_km, None if a.scenario is None else list(scenario.sweep.distances_km())


def _option_error(exc: InputError, name: str, platform: Any, options: dict[str, str]) -> tuple[str, str]:
    """``(field, message)`` of a loader error, naming the option when an option set the field."""
    field = exc.field
    if field == f"nodes.platforms.{platform}.altitude_km" or field.startswith(f"nodes.platforms.{platform}."):
        return options.get("altitude_km", field), exc.message
    prefix = f"links.{name}."
    if field.startswith(prefix):
        parts = field.removeprefix(prefix).split("/")
        named = [options.get(p.split(".")[0]) for p in parts]
        if all(named):
            return "/".join(dict.fromkeys(n for n in named if n)), exc.message
    return field, exc.message


def _report(a: Any, link: Any, altitude_km: float, distances: Sequence[float]) -> int:
    """Sample ``link`` at every distance and print the table (or JSON lines)."""
    samples = int_in("--samples", 1, MAX_SAMPLES)(a.samples)
    seed = int_in("--seed", 0, 2**128 - 1)(a.seed) if a.seed is not None else int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    rate_hz = float_in("--rate-hz", 0.0, lo_open=True)(a.rate_hz)
    tau = float_in("--coherence-time-s", 0.0, lo_open=True)(a.coherence_time_s) if a.coherence_time_s is not None else None
    per_block = shots_per_block(samples, rate_hz, tau)
    try:
        children = np.random.SeedSequence(seed).spawn(len(distances))
        rows = [_row(link, altitude_km, d, samples, per_block, np.random.default_rng(ss)) for d, ss in zip(distances, children)]
    except InputError as exc:
        raise type(exc)(_OPTIONS.get(exc.field, exc.field), exc.message) from None

    common = {
        "model": link.model,
        "beam": link.beam,
        "aperture_radius_m": link.aperture_radius_m,
        "divergence_rad": link.divergence_rad,
        "pointing_rad": link.pointing_rad,
        "wavelength_m": link.wavelength_m,
        "cn2": link.cn2,
        "turbulence_path": link.turbulence_path,
        "t_atm_zenith": link.t_atm_zenith,
        "transmitter_efficiency": link.transmitter_efficiency,
        "receiver_efficiency": link.receiver_efficiency,
        "extra_loss_db": link.extra_loss_db,
        "seed": seed,
        "rate_hz": rate_hz,
        "coherence_time_s": None if a.coherence_time_s is None else float(a.coherence_time_s),
    }
    if a.json:
        for r in rows:
            print(json.dumps({**r, **common}))
    else:
        header = (
            f"qrate link: H = {altitude_km:g} km, model {link.model}, beam {link.beam.replace('_', '-')}, "
            f"a = {link.aperture_radius_m:g} m (radius), theta = {link.divergence_rad:g} rad, "
            f"pointing = {link.pointing_rad:g} rad, C_n^2 = {link.cn2:g}, T_zen = {link.t_atm_zenith:g}, "
            f"hardware {link.hardware:.4g}, {samples} shots ({per_block} per block), seed {seed}"
        )
        print(_table(rows, header))
    sys.stdout.flush()
    return 0
