"""The main job: regenerate the reference figures (Khan et al. Fig. 2(c), 3(c), the sensitivity figures for
the choices of "Paper ambiguities and qrate's defaults" in qrate/MODELS.md, the realistic-hardware, pass,
grid and network-size figures, and Xu et al. Fig. 4(a)/(b)) from the embedded presets.

Everything a figure shows is fixed here, in :data:`RUNS` and :data:`FIGURES`: which preset, which
``--set`` overrides, which quantity; :data:`QUICK` and :data:`FULL` fix the pulses and batches per
point. ``results/README.md`` is generated from the same tables (:func:`readme_text`), so it cannot
drift from what was run. Results files go to ``<out-dir>/h5/`` (git-ignored), figures to
``<out-dir>/``.
"""

from __future__ import annotations

import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qrate.text import printable

#: seed of Fig. 4(a)/(b) when ``--seed`` is not given (the ``qrate provision`` default)
PROVISION_SEED = 0


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One sweep: a preset, its ``--set`` overrides and ``--sweep`` axes; results go to ``h5/<name>.h5``."""

    name: str
    preset: str
    overrides: tuple[str, ...] = ()
    sweeps: tuple[str, ...] = ()
    own_pulses: bool = False
    """Keep the preset's pulses per batch in every mode (realistic rates need them; the exact
    sampler's cost does not grow with pulses)."""


@dataclass(frozen=True, slots=True)
class CurveSpec:
    """One curve of a figure: which run, and its legend label."""

    run: str
    label: str


@dataclass(frozen=True, slots=True)
class FigureSpec:
    """One figure: file name, what it plots, its curves, and what it shows (for the README).

    ``kind``: ``curves`` (one curve per run versus ground distance), ``axis`` (the single run's
    points versus axis ``x``, one curve per value of ``hue``), ``heatmap`` (the single run over
    axes ``x`` and ``heat_y``, with its relative-error map), ``budget``, ``pass``, ``liao2017`` (no
    run: the calibration against Liao et al. 2017), ``validation`` (a two-station pass run against
    the published numbers of the experiment its curve's label names, :mod:`qrate.plot.validation`)
    or ``bb84_pass`` (the decoy-state BB84 pass run against Liao et al. 2017's numbers).
    """

    filename: str
    title: str
    y: str
    curves: tuple[CurveSpec, ...]
    shows: str
    legend_title: str | None = None
    log: bool = False
    ratio: bool = False
    kind: str = "curves"
    x: str = "ground_distance_km"
    hue: str | None = None
    heat_y: str | None = None
    logx: bool = False


@dataclass(frozen=True, slots=True)
class Mode:
    """Pulses per batch and batches per sweep point (None: the preset's own ``[sampling]``)."""

    name: str
    pulses_per_batch: int | None
    batches: int | None

    def overrides(self) -> tuple[str, ...]:
        """The ``--set`` overrides this mode adds to every run."""
        out = []
        if self.pulses_per_batch is not None:
            out.append(f"sampling.pulses_per_batch={self.pulses_per_batch}")
        if self.batches is not None:
            out.append(f"sampling.batches={self.batches}")
        return tuple(out)


QUICK = Mode("quick", pulses_per_batch=100_000, batches=5)
FULL = Mode("full", pulses_per_batch=None, batches=None)  # presets: 10 batches x 1e6 pulses

LEO, UAV = "khan-acka-leo", "khan-broadcast-uav"

RUNS: tuple[RunSpec, ...] = (
    RunSpec("leo", LEO),
    RunSpec("leo-aperture-3m-diameter", LEO, ("links.leo.aperture_diameter_m=3.0",)),
    RunSpec("leo-aperture-1.0m", LEO, ("links.leo.aperture_radius_m=1.0",)),
    RunSpec("leo-dephasing-rate", LEO, ('links.fiber.dephasing="rate_hz"', "links.fiber.dephasing_rate_hz=0.02")),
    RunSpec("leo-exact", LEO, ('links.leo.model="exact"',)),
    RunSpec("uav", UAV),
    RunSpec("uav-cn2-1e-15", UAV, ("links.uav.cn2=1e-15",)),
    RunSpec("uav-exact", UAV, ('links.uav.model="exact"',)),
)

#: the network-size runs: GS1 serves N users on 1 km fibers, every user takes part, D = 1000 km
USERS_AXIS = "nodes.ground_stations.GS1.user_count"
NETWORK_SIZE = (
    f"{USERS_AXIS}=2",
    "links.fiber.lengths_km={Dina = 2.0}",
    "links.fiber.default_length_km=1.0",
    'protocol.sender="GS1-u1"',
    "sweep.ground_distance_km=[1000.0]",
)
APERTURE_AXIS = "links.leo.aperture_radius_m"

LEO_REAL, UAV_REAL, MICIUS_PASS = "khan-acka-leo-realistic", "khan-broadcast-uav-realistic", "micius-pass-acka"
MICIUS_2017, MICIUS_2020 = "micius-2017-entanglement", "micius-2020-qkd"

RUNS += (
    RunSpec("micius-2017", MICIUS_2017, own_pulses=True),
    RunSpec("micius-2020", MICIUS_2020, own_pulses=True),
    RunSpec("leo-realistic", LEO_REAL, own_pulses=True),
    RunSpec("uav-realistic", UAV_REAL, own_pulses=True),
    RunSpec("micius-pass", MICIUS_PASS, own_pulses=True),
    RunSpec("micius-bb84", "micius-2017-bb84", own_pulses=True),
    RunSpec("leo-aperture-grid", LEO, (), (f"{APERTURE_AXIS}=0.5,0.75,1.0,1.5,2.0,2.5,3.0",)),
    RunSpec("leo-users-acka", LEO, (*NETWORK_SIZE, 'protocol.participants="all"'), (f"{USERS_AXIS}=2,4,8,16,32,64",)),
    RunSpec(
        "leo-users-broadcast",
        LEO,
        (*NETWORK_SIZE, 'protocol.name="broadcast"', "protocol.participants=[]"),
        (f"{USERS_AXIS}=2,4,8,16,32,64",),
    ),
)

#: Q-ACKA over the Micius pass with a memory at GS1 (heralded write, enough modes to hold every photon
#: waiting for Dina's herald), read efficiency 0.85 (cold Rb, Wang et al. 2019), for a few source modes
#: per pulse (spectral multiplexing of the satellite source) and coherence times
MEMORY_T2_S = (0.001, 0.01, 0.1, 1.0, 10.0)
MEMORY_MODES = (100, 10_000, 100_000)


def memory_run_name(modes: int, t2_s: float) -> str:
    """Run name of the Micius-pass memory run with ``modes`` modes per pulse and coherence time ``t2_s``."""
    return f"micius-pass-memory-m{modes}-t2-{t2_s:g}s"


def _memory_override(modes: int, t2_s: float) -> str:
    return (
        f'memories.GS1={{stores = ["leo"], modes = 1000000, modes_per_pulse = {modes}, heralded_write = true,'
        f" read_efficiency = 0.85, coherence_time_s = {t2_s!r}, cutoff_s = {t2_s!r}, herald_speed_m_per_s = 2e8}}"
    )


RUNS += tuple(
    RunSpec(memory_run_name(m, t), MICIUS_PASS, (_memory_override(m, t),), own_pulses=True)
    for m in MEMORY_MODES
    for t in MEMORY_T2_S
)

FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
        "fig2c_acka_key_rate_leo.png",
        "Fig. 2(c): anonymous conference key (Alice, Bob, Dina), LEO at 450 km",
        "key_rate",
        (CurveSpec("leo", "Table I, aperture radius 3 m"),),
        "asymptotic anonymous conference-key rate vs D_GS1-GS2, LEO case (falls with D: longer slant ranges)",
    ),
    FigureSpec(
        "fig3c_broadcast_rate_uav.png",
        "Fig. 3(c): anonymous broadcast (Alice → Bob, Hadi, Dina), UAV at 30 km",
        "broadcast_rate",
        (CurveSpec("uav", "Table I, C$_n^2$ = 0, aperture radius 3 m"),),
        "anonymous broadcast rate vs D_GS1-GS2, UAV case (flat under Table I: the UAV links are lossless;"
        ' see "Turbulence beam wander" in `qrate/MODELS.md`)',
    ),
    FigureSpec(
        "sens_aperture_leo.png",
        "Sensitivity: 3 m ground aperture, radius or diameter?",
        "key_rate",
        (
            CurveSpec("leo", "radius 3 m (default)"),
            CurveSpec("leo-aperture-3m-diameter", "diameter 3 m (radius 1.5 m)"),
            CurveSpec("leo-aperture-1.0m", "radius 1.0 m"),
        ),
        "LEO key rate for a ground aperture of 3 m radius, 3 m diameter and 1.0 m radius"
        ' (see "Receiver aperture: radius or diameter" in `qrate/MODELS.md`)',
        legend_title="ground aperture",
        log=True,
    ),
    FigureSpec(
        "sens_dephasing_leo.png",
        "Sensitivity: two readings of 'fiber dephasing 0.02 Hz'",
        "key_rate",
        (
            CurveSpec("leo", "per traversal, p = 0.02 (default)"),
            CurveSpec("leo-dephasing-rate", "rate, Γ = 0.02 Hz: p = 1 − exp(−Γ n L/c)"),
        ),
        "LEO key rate with Z dephasing p = 0.02 per fiber traversal vs a rate of 0.02 Hz (negligible)"
        ' (see "Fiber dephasing" in `qrate/MODELS.md`)',
        legend_title="fiber dephasing",
        ratio=True,
    ),
    FigureSpec(
        "sens_turbulence_uav.png",
        "Sensitivity: UAV link turbulence",
        "broadcast_rate",
        (CurveSpec("uav", "C$_n^2$ = 0 (default, Table I)"), CurveSpec("uav-cn2-1e-15", "C$_n^2$ = 1e-15 m$^{-2/3}$")),
        "UAV broadcast rate with C_n^2 = 0 vs 1e-15 m^-2/3 (drops only for D >~ 100 km)"
        ' (see "Turbulence beam wander" in `qrate/MODELS.md`)',
        legend_title="turbulence",
        ratio=True,
    ),
    FigureSpec(
        "sens_transmittance_model_leo.png",
        "Sensitivity: transmittance model, LEO",
        "rate",
        (CurveSpec("leo", "log-negative Weibull (default)"), CurveSpec("leo-exact", "exact (beam wandering, Marcum Q)")),
        "LEO heralded rate with the Vasylyev Weibull vs the exact pointing-jitter transmittance"
        ' (see "Exact transmittance model" and "Log-negative Weibull transmittance model" in `qrate/MODELS.md`)',
        legend_title="transmittance model",
        ratio=True,
    ),
    FigureSpec(
        "sens_transmittance_model_uav.png",
        "Sensitivity: transmittance model, UAV",
        "rate",
        (CurveSpec("uav", "log-negative Weibull (default)"), CurveSpec("uav-exact", "exact (beam wandering, Marcum Q)")),
        "UAV heralded rate with the Weibull vs the exact transmittance model"
        ' (see "Exact transmittance model" and "Log-negative Weibull transmittance model" in `qrate/MODELS.md`)',
        legend_title="transmittance model",
        ratio=True,
    ),
)

FIGURES += (
    FigureSpec(
        "fig2c_realistic_leo.png",
        "Fig. 2(c) under realistic hardware and sky: anonymous conference key, LEO",
        "key_rate",
        (CurveSpec("leo", "idealised (Table I)"), CurveSpec("leo-realistic", "realistic")),
        "LEO conference-key rate with Table I's ideal hardware and with realistic detectors, sources, BSMs,"
        " atmosphere, turbulence and night-sky background (khan-acka-leo-realistic), log scale",
        legend_title="hardware",
        log=True,
    ),
    FigureSpec(
        "fig3c_realistic_uav.png",
        "Fig. 3(c) under realistic hardware and sky: anonymous broadcast, UAV",
        "broadcast_rate",
        (CurveSpec("uav", "idealised (Table I)"), CurveSpec("uav-realistic", "realistic")),
        "UAV broadcast rate with Table I's ideal hardware and with realistic hardware and sky"
        " (khan-broadcast-uav-realistic), log scale: realistically the rate falls with distance",
        legend_title="hardware",
        log=True,
    ),
    FigureSpec(
        "loss_budget_leo.png",
        "Loss budget of one realistic LEO downlink (khan-acka-leo-realistic)",
        "loss",
        (CurveSpec("leo-realistic", ""),),
        "per-factor loss in dB (diffraction, pointing, turbulence, atmosphere, receiver) of one downlink vs D_GS1-GS2",
        kind="budget",
    ),
    FigureSpec(
        "micius_pass_acka.png",
        "Q-ACKA over one Micius pass, Delingha - Lijiang, realistic hardware",
        "rate",
        (CurveSpec("micius-pass", ""),),
        "elevation and range of both stations, heralded rate through the pass and heralded GHZ states per"
        " pass (micius-pass-acka: TLE of 2016-12-18, the night pass of 2016-12-20 18:06 UTC)",
        kind="pass",
    ),
    FigureSpec(
        "micius_pass_memory_key.png",
        "Q-ACKA key per Micius pass vs memory coherence time, realistic hardware, memory at GS1",
        "key_rate",
        (
            *(CurveSpec(memory_run_name(m, t), f"{m:,} modes per pulse") for m in MEMORY_MODES for t in MEMORY_T2_S),
            CurveSpec("micius-pass", "synchronous, no memory"),
        ),
        "asymptotic conference-key bits per pass from the pass's pooled counts (Delingha - Lijiang, micius-pass-acka)"
        " with a heralded-write memory at GS1 (read efficiency 0.85, cutoff one T2, heralds over fiber) vs its"
        " coherence time T2, for 100, 10,000 and 100,000 source modes per pulse, beside the synchronous architecture",
        legend_title="multiplexing",
        kind="memory_pass",
    ),
    FigureSpec(
        "micius_2017_bb84.png",
        "Decoy-state BB84 over the Micius pass of 2016-12-19, Xinglong (Liao et al. 2017)",
        "sifted_rate",
        (CurveSpec("micius-bb84", ""),),
        "elevation and range of Xinglong, sifted rate through the pass beside Liao et al.'s ~12 kbit/s at 645 km"
        " and ~1 kbit/s at 1200 km, and a table of qrate's detections, sifted bits, QBER and final key per pass"
        " against the published ones (micius-2017-bb84: the measured loss of that pass)",
        kind="bb84_pass",
    ),
    FigureSpec(
        "grid_key_rate_distance_aperture_leo.png",
        "LEO key rate over ground distance and receiver aperture radius",
        "key_rate",
        (CurveSpec("leo-aperture-grid", ""),),
        "heat map of the LEO conference-key rate over D_GS1-GS2 (0-2000 km) and the ground aperture radius"
        " (0.5-3 m), beside its relative 1σ error",
        kind="heatmap",
        heat_y=APERTURE_AXIS,
    ),
    FigureSpec(
        "users_acka_key_rate_leo.png",
        "Anonymous conference key vs network size (all users take part), LEO, D = 1000 km",
        "key_rate",
        (CurveSpec("leo-users-acka", ""),),
        "conference-key rate vs the number of users at GS1 (plus Dina), every user a participant: Q_X grows"
        " with every fiber photon (p = 0.02 each), so the key vanishes beyond ~16 users",
        kind="axis",
        x=USERS_AXIS,
        logx=True,
    ),
    FigureSpec(
        "users_broadcast_rate_leo.png",
        "Anonymous broadcast vs network size, LEO, D = 1000 km",
        "broadcast_correct_rate",
        (CurveSpec("leo-users-broadcast", ""),),
        "correctly decoded broadcast bits vs the number of users at GS1 (plus Dina)",
        kind="axis",
        x=USERS_AXIS,
        logx=True,
    ),
)

FIGURES += (
    FigureSpec(
        "validation_liao2017_downlink_loss.png",
        "Validation: Micius - Xinglong downlink loss (Liao et al., Nature 549, 43 (2017))",
        "loss",
        (),
        "the measured downlink losses (645-1200 km) beside qrate's calibrated model (receiver efficiency and"
        ' elevation-dependent coupling, ±rms band) and geometry alone (see "Elevation-dependent receiver coupling"'
        " in `qrate/MODELS.md`)",
        kind="liao2017",
    ),
    FigureSpec(
        "validation_yin2017_entanglement.png",
        "Validation: Micius entanglement distribution, Delingha - Lijiang (Yin et al., Science 356, 1140 (2017))",
        "rate",
        (CurveSpec("micius-2017", "yin2017"),),
        "micius-2017-entanglement on the night pass of 2016-12-17: two-downlink loss with and without detectors"
        " vs summed range beside the published 64-82 dB over 1600-2400 km, coincidences through the pass beside the"
        ' published average, and qrate vs every published number (see "Validation presets" in `qrate/MODELS.md`)',
        kind="validation",
    ),
    FigureSpec(
        "validation_yin2020_qkd.png",
        "Validation: entanglement-based QKD, Delingha - Nanshan (Yin et al., Nature 582, 501 (2020))",
        "rate",
        (CurveSpec("micius-2020", "yin2020"),),
        "micius-2020-qkd on the night pass of 2018-09-14: two-downlink loss, coincidences through the pass beside"
        " the published 2.2 Hz, and qrate vs the published sifted rate, QBER, signal-to-noise ratio and key rates",
        kind="validation",
    ),
)


@dataclass(frozen=True, slots=True)
class FrontierSpec:
    """A "what it takes" figure: the threshold of ``vary`` for ``target`` versus the field ``over``
    (``qrate require PRESET --vary VARY [--log] --target TARGET --over OVER=values``), found on expected
    values and confirmed by Monte Carlo at every value (the band); written to ``h5/<name>.h5``."""

    name: str
    filename: str
    title: str
    preset: str
    overrides: tuple[str, ...]
    vary: str
    target: str
    over: str
    values: tuple[float, ...]
    quick_values: tuple[float, ...]
    shows: str
    log: bool = False
    logx: bool = False
    precision: float = 1e-2
    scan_points: int = 9
    batches: int = 8

    def command(self, quick: bool = False) -> str:
        """The equivalent ``qrate require`` command line."""
        values = ",".join(f"{v:g}" for v in (self.quick_values if quick else self.values))
        sets = " ".join(f"--set {shlex.quote(o)}" for o in self.overrides)
        return (
            f"qrate require {self.preset} {sets} --vary {self.vary}{' --log' if self.log else ''} --target '{self.target}'"
            f" --over {self.over}={values} --precision {self.precision:g} --batches {self.batches}"
        )


FRONTIERS: tuple[FrontierSpec, ...] = (
    FrontierSpec(
        name="frontier-detector-vs-aperture-pass",
        filename="frontier_detector_vs_aperture_pass.png",
        title="Q-ACKA over a Micius pass: detector efficiency for 1 kbit per pass",
        preset="micius-pass-acka",
        overrides=(
            "sources.ghz_success_probability=1",
            "sources.ghz_fidelity=0.97",
            "links.leo.divergence_rad=2e-6",
            "sources.repetition_rate_hz=1e10",
            "detectors.dead_time_s=0",
        ),
        vary="detectors.efficiency=0.02:1",
        target="key_bits_per_pass >= 1000",
        over="links.leo.aperture_radius_m",
        values=(0.6, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0),
        quick_values=(0.75, 1.5, 3.0),
        shows="what it takes, synchronous architecture over a real pass: the users' detector efficiency that gives 1 kbit"
        " of asymptotic conference key per Micius-like night pass (Delingha-Lijiang, 2016-12-20) versus the ground"
        " telescopes' aperture radius, with planning assumptions beyond the preset: a deterministic GHZ source of fidelity 0.97 (with the preset's 0.9"
        " white noise no key survives at any efficiency or aperture), a 2 µrad"
        " downlink, a 10 GHz clock and gated detectors without dead-time loss; the band is the 95% interval of the"
        " threshold from the Monte Carlo confirmation (8 whole passes) at each aperture",
    ),
    FrontierSpec(
        name="frontier-ghz-vs-memory-t2-pass",
        filename="frontier_ghz_vs_memory_t2_pass.png",
        title="Q-ACKA, Micius pass, memory at GS1: GHZ source success for 200 bits per pass",
        preset="micius-pass-acka",
        overrides=(
            'memories.GS1={stores = ["leo"], modes = 1000000, modes_per_pulse = 10000, heralded_write = true,'
            " read_efficiency = 0.85, coherence_time_s = 1.0, herald_speed_m_per_s = 2e8}",
        ),
        vary="sources.ghz_success_probability=1e-8:1e-3",
        log=True,
        logx=True,
        target="key_bits_per_pass >= 200",
        over="memories.GS1.coherence_time_s",
        values=(0.1, 0.2, 0.5, 1.0, 3.0, 10.0),
        quick_values=(0.2, 1.0, 10.0),
        scan_points=6,
        batches=32,
        shows="what it takes with memories over a real pass: the GHZ source's success probability per 100 MHz pulse"
        " that gives 200 bits of asymptotic conference key per Micius-like night pass (Delingha-Lijiang, 2016-12-20)"
        " versus the coherence time of GS1's memory, which keeps the satellite photon until Dina's herald has"
        " arrived (6 ms over fiber) and the GHZ source has succeeded (heralded write, 10,000 modes per pulse, read"
        " efficiency 0.85, no cutoff); a rarer GHZ success keeps the photon longer and its dephasing raises the"
        " QBER. The search stops at 1e-3: above it the users' detectors saturate (40 ns dead time) and the key"
        " falls again. The band is the 95% interval of the threshold from the Monte Carlo confirmation"
        " (32 whole passes, delta method in log p) at each coherence time",
    ),
)

#: files written by :func:`qrate.provision.figures.make_figures`
PROVISION_FIGURES = ("fig4a_cost_structure.png", "fig4b_cost_vs_apps.png")


def promised_figures() -> tuple[str, ...]:
    """File names of every PNG that :func:`reproduce` writes."""
    return tuple(f.filename for f in FIGURES) + tuple(f.filename for f in FRONTIERS) + PROVISION_FIGURES


def run_frontier(spec: FrontierSpec, h5_dir: Path, png: Path, *, quick: bool = False, seed: int | None = None) -> Path:
    """Find one frontier (:mod:`qrate.require.frontier`), store it in ``h5_dir/<name>.h5`` and draw it into ``png``."""
    from qrate.plot.frontier import plot_frontier
    from qrate.require.evaluate import Evaluator
    from qrate.require.frontier import find_frontier, write_frontier
    from qrate.require.request import parse_target, parse_vary
    from qrate.scenario import load_scenario
    from qrate.store.frontier import read

    overrides = (*spec.overrides, *(() if seed is None else (f"sampling.seed={seed}",)))
    scenario = load_scenario(spec.preset, overrides)
    vary = parse_vary(spec.vary, spec.log)
    ev = Evaluator(scenario, [vary.field, spec.over], options={vary.field: "--vary", spec.over: "--over"})
    frontier = find_frontier(
        ev,
        vary,
        parse_target(spec.target),
        spec.over,
        spec.quick_values if quick else spec.values,
        precision=spec.precision,
        batches=spec.batches,
        scan_points=spec.scan_points,
    )
    h5 = write_frontier(frontier, scenario, h5_dir / f"{spec.name}.h5", argv=shlex.split(spec.command(quick)), overwrite=True)
    meta, rows = read(h5)
    return plot_frontier(meta, rows, png, title=spec.title, logx=spec.logx, log=spec.log)


def run_overrides(run: RunSpec, mode: Mode, seed: int | None) -> tuple[str, ...]:
    """All ``--set`` overrides of one run: its own, the mode's sampling, and the seed if given."""
    extra = () if seed is None else (f"sampling.seed={seed}",)
    sampling = mode.overrides()
    if run.own_pulses:
        sampling = tuple(o for o in sampling if not o.startswith("sampling.pulses_per_batch="))
    return (*run.overrides, *sampling, *extra)


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        print(printable(text), file=sys.stderr, flush=True)


def reproduce(
    out_dir: str | Path = "results",
    *,
    quick: bool = False,
    seed: int | None = None,
    quiet: bool = False,
    scheduler: str = "sync",
    workers: int | None = None,
) -> list[Path]:
    """Run every recipe, write the figures, Fig. 4(a)/(b) and ``README.md`` into ``out_dir``.

    Args:
        out_dir: folder for the PNGs and README; results files go to ``out_dir/h5/``.
        quick: :data:`QUICK` sampling (CI) instead of :data:`FULL` (the presets' own).
        seed: root seed of every run (default: each preset's embedded ``sampling.seed``, so the
            variants of one preset share random numbers) and of Fig. 4.
        quiet: no progress on stderr.
        scheduler: where the batches run (``sync``, ``local`` or ``tcp://HOST:PORT``, see
            :func:`qrate.sweep.scheduler.open_client`); one client serves every run. The numbers
            do not depend on it.
        workers: LocalCluster worker processes (default: one per core).

    Returns:
        The files written (PNGs, Fig. 4 JSON data, README.md). One line per figure goes to stdout.
    """
    from qrate.provision.figures import make_figures
    from qrate.scenario import load_scenario
    from qrate.sweep import run_to_file
    from qrate.sweep.scheduler import open_client

    mode = QUICK if quick else FULL
    out = Path(out_dir)
    h5_dir = out / "h5"
    h5_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    with open_client(scheduler, workers) as client:
        where = "sync" if client is None else client.scheduler.address
        for run in RUNS:
            overrides = run_overrides(run, mode, seed)
            scenario = load_scenario(run.preset, overrides, run.sweeps)
            t0 = time.perf_counter()
            _say(quiet, f"qrate reproduce: running {run.name} ({' '.join((run.preset, *run.overrides, *run.sweeps))})")
            path = h5_dir / f"{run.name}.h5"
            argv = [
                "qrate",
                "run",
                run.preset,
                *(f"--set={o}" for o in overrides),
                *(f"--sweep={s}" for s in run.sweeps),
                f"--out={path}",
            ]
            files[run.name] = run_to_file(scenario, path, scheduler=where, overwrite=True, quiet=True, argv=argv)
            from qrate.store import read_results

            points = len(read_results(files[run.name]).points)
            _say(quiet, f"  {run.name}: {points} points in {time.perf_counter() - t0:.1f} s")

    written: list[Path] = []
    for fig in FIGURES:
        path = _figure(fig, files, out / fig.filename)
        written.append(path)
        print(f"{printable(path)}: {fig.title}")
    for spec in FRONTIERS:
        t0 = time.perf_counter()
        _say(quiet, f"qrate reproduce: {spec.command(quick)}")
        path = run_frontier(spec, h5_dir, out / spec.filename, quick=quick, seed=seed)
        written.append(path)
        print(f"{printable(path)}: {spec.title} ({time.perf_counter() - t0:.1f} s)")
    t0 = time.perf_counter()
    for path in make_figures(out, quick=quick, seed=PROVISION_SEED if seed is None else seed):
        written.append(path)
        if path.suffix == ".png":
            print(
                f"{printable(path)}: Xu et al. Fig. 4({'a' if 'fig4a' in path.name else 'b'}), provisioning on USNET"
                f" ({time.perf_counter() - t0:.1f} s)"
            )
    readme = out / "README.md"
    readme.write_text(readme_text(quick=quick, seed=seed), encoding="utf-8")
    written.append(readme)
    print(f"{printable(readme)}: parameters, pulses and batches behind each figure")
    return written


def _figure(fig: FigureSpec, files: dict[str, Path], path: Path) -> Path:
    """Draw one figure from the runs' results files."""
    from qrate.estimates import quantity
    from qrate.plot import plot_curves
    from qrate.plot.files import curves_from_files
    from qrate.plot.grid import plot_axes, plot_heatmap
    from qrate.store.load import read_estimates

    if fig.kind == "curves":
        data = curves_from_files([files[c.run] for c in fig.curves], fig.y, [c.label for c in fig.curves])
        note = data.note + ("; ratio panel: ±1 s.e.m." if fig.ratio else "")
        return plot_curves(
            data.curves,
            path,
            y_label=data.y_label,
            log=fig.log,
            title=fig.title,
            legend_title=fig.legend_title,
            note=note,
            ratio=fig.ratio,
            ratio_label="ratio to default",
            y_min=None if fig.log else 0.0,
        )
    if fig.kind == "budget":
        from qrate.plot.budget import plot_loss_budget
        from qrate.scenario import load_scenario_text
        from qrate.store import read_results

        scenario = load_scenario_text(read_results(files[fig.curves[0].run]).meta["scenario_toml"])
        return plot_loss_budget(scenario, next(iter(scenario.free_space_links())), path, title=fig.title)
    if fig.kind == "liao2017":
        from qrate.plot.validation import plot_liao_2017

        return plot_liao_2017(path, title=fig.title)
    if fig.kind == "validation":
        from qrate.plot.validation import plot_two_station_pass
        from qrate.scenario import load_scenario_text
        from qrate.store import read_results

        run = files[fig.curves[0].run]
        scenario = load_scenario_text(read_results(run).meta["scenario_toml"])
        return plot_two_station_pass(scenario, read_estimates(run)[1], path, experiment=fig.curves[0].label, title=fig.title)
    if fig.kind == "bb84_pass":
        from qrate.plot.validation import plot_bb84_pass
        from qrate.scenario import load_scenario_text
        from qrate.store import read_results
        from qrate.store.load import read_passes

        run, results = files[fig.curves[0].run], read_results(files[fig.curves[0].run])
        scenario = load_scenario_text(results.meta["scenario_toml"])
        stations = sorted({scenario.users()[u] for u in scenario.participants()})
        params = [p.params for p in results.points if p.rows.size]
        return plot_bb84_pass(read_estimates(run)[1], params, read_passes(run)[0], path, stations=stations, title=fig.title)
    if fig.kind == "memory_pass":
        return _memory_figure(fig, files, path)
    meta, rows = read_estimates(files[fig.curves[0].run])
    q = quantity(meta["report"], fig.y)
    if fig.kind == "pass":
        from qrate.plot.passes import plot_pass_run
        from qrate.store import read_results
        from qrate.store.load import read_passes

        params = [p.params for p in read_results(files[fig.curves[0].run]).points if p.rows.size]
        return plot_pass_run(rows, params, read_passes(files[fig.curves[0].run])[0], q, path, title=fig.title)
    batches = {r["batches"] for r in rows}
    note = f"{'/'.join(map(str, sorted(batches)))} batches × {rows[0]['pulses'] // rows[0]['batches']:,} pulses per point"
    if fig.kind == "heatmap":
        assert fig.heat_y is not None
        return plot_heatmap(rows, q, path, x=fig.x, y=fig.heat_y, log=True, title=fig.title, note=note)
    return plot_axes(
        rows,
        q,
        path,
        x=fig.x,
        hue=fig.hue,
        log=fig.log,
        logx=fig.logx,
        title=fig.title,
        note="error bars: ±1σ across batches; " + note,
    )


def pooled_key_bits(results: Any) -> tuple[float, float]:
    """Asymptotic Q-ACKA key bits of a pass run from its counters pooled over every step, and a standard error.

    Each step's counters are scaled to its physical pulses (weight_s × rate over the simulated pulses)
    and pooled, so that Q_X and max Q_Z come from the whole run's rounds rather than from steps with a
    handful of states; the key is pooled key rounds × (1 − h(Q_X) − h(max Q_Z)). The standard error
    comes from the batches as replicas of the run (batch b of every step, scaled by the batches).
    """
    import numpy as np

    from qrate.formulas import secret_fraction

    def bits(c: dict[str, float]) -> float:
        n, k = c.get("key_rounds", 0.0), c.get("verify_rounds_x", 0.0)
        if n <= 0 or k <= 0:
            return 0.0
        qz = max((v / n for name, v in c.items() if name.startswith("z_err:")), default=0.0)
        return n * max(0.0, float(secret_fraction(c.get("x_parity_errors", 0.0) / k, qz)))

    pooled: dict[str, float] = {}
    replicas: list[dict[str, float]] = []
    for p in results.points:
        rows = p.rows
        if not rows.size:
            continue
        rate = float(p.params["report"]["repetition_rate_hz"])
        scale = float(p.params.get("weight_s", rows["pulses"].sum() / rate)) * rate / float(rows["pulses"].sum())
        while len(replicas) < rows.size:
            replicas.append({})
        for name in rows.dtype.names or ():
            if not name.startswith("c_"):
                continue
            counter = name[2:]
            values = rows[name].astype(float) * scale
            pooled[counter] = pooled.get(counter, 0.0) + float(values.sum())
            for b, v in enumerate(values):
                replicas[b][counter] = replicas[b].get(counter, 0.0) + v * rows.size
    reps = [bits(r) for r in replicas]
    return bits(pooled), float(np.std(reps, ddof=1) / np.sqrt(len(reps))) if len(reps) > 1 else float("nan")


def _memory_figure(fig: FigureSpec, files: dict[str, Path], path: Path) -> Path:
    """Key bits per pass vs the memory's coherence time, one curve per label, the memoryless run as a line."""
    from qrate.plot.memory import plot_total_vs_coherence
    from qrate.scenario import load_scenario_text
    from qrate.store import read_results

    series: dict[str, list[tuple[float, float, float]]] = {}
    baseline = None
    for curve in fig.curves:
        results = read_results(files[curve.run])
        bits, se = pooled_key_bits(results)
        memories = load_scenario_text(results.meta["scenario_toml"]).memories
        if not memories:
            baseline = (curve.label, bits, se)
            continue
        t2 = next(iter(memories.values())).coherence_time_s
        series.setdefault(curve.label, []).append((float(t2 or 0.0), bits, se))
    return plot_total_vs_coherence(
        series,
        path,
        baseline=baseline,
        y_label="conference-key bits per pass (pooled counts)",
        title=fig.title,
        legend_title=fig.legend_title,
        note="one pass, every 10 s step simulated for its full duration; error bars from the batches",
    )


def readme_text(*, quick: bool = False, seed: int | None = None) -> str:
    """The ``results/README.md`` for a given mode and seed, generated from :data:`RUNS` and :data:`FIGURES`."""
    from qrate.scenario import load_scenario

    mode = QUICK if quick else FULL
    lines = [
        "# Reference figures",
        "",
        "Generated by `qrate reproduce"
        + (" --quick" if quick else "")
        + (f" --seed {seed}" if seed is not None else "")
        + "` from the embedded presets (no network); this file is written by the same run from the",
        "recipes in `qrate/reproduce.py`, so it states exactly what was simulated. Results files go to",
        "`h5/` (git-ignored); re-plot any of them with `qrate plot h5/NAME.h5 ... --out FIG.png`.",
        "",
        "Rates are in kbit/s (R_src = 1e6 pulses/s in the Table I presets, 1e8 in the realistic ones); error bars",
        "are the 1σ spread of the per-batch rates (as in Khan et al.); ratio panels show ±1 standard error of the",
        "mean. Linear y axes start at 0.",
        "",
        "## Runs",
        "",
        "| run (`h5/NAME.h5`) | preset | `--set` overrides, `--sweep` axes | points | batches × pulses per point | root seed |",
        "|---|---|---|---|---|---|",
    ]
    for run in RUNS:
        s = load_scenario(run.preset, run_overrides(run, mode, seed), run.sweeps)
        d = s.sweep.distances_km()
        sets = (
            ", ".join([*(f"`{o}`" for o in run.overrides), *(f"`--sweep {a}`" for a in run.sweeps)]) or "none (preset as shipped)"
        )
        if s.passes is not None:  # a pass run: its points are the steps of the passes in its window
            w = s.passes
            points = f"every {w.step_s:g} s of each pass from {w.start_utc} ({w.end_utc or f'{w.days:g} days'})"
            pulses = "duration × repetition rate per step"
        else:
            points = f"{len(s.sweep.points())} (D {d[0]:g}–{d[-1]:g} km)"
            pulses = f"{s.sampling.pulses_per_batch:,}"
        lines.append(f"| {run.name} | `{run.preset}` | {sets} | {points} | {s.sampling.batches} × {pulses} | {s.sampling.seed} |")
    lines += ["", "## Figures", ""]
    for fig in FIGURES:
        curves = "; ".join(f"{c.label.replace('$', '')} (`{c.run}`)" for c in fig.curves)
        lines.append(
            f"- `{fig.filename}` — {fig.shows}. y = `{fig.y}`{', log scale' if fig.log else ''}"
            f"{', with ratio panel' if fig.ratio else ''}. Curves: {curves}."
        )
    for spec in FRONTIERS:
        lines.append(f"- `{spec.filename}` (data: `h5/{spec.name}.h5`) — {spec.shows}. `{spec.command(quick)}`.")
    fig4_seed = PROVISION_SEED if seed is None else seed
    lines += [
        f"- `{PROVISION_FIGURES[0]}`, `{PROVISION_FIGURES[1]}` (data: `fig4_provision.json`) — Xu et al. Fig. 4(a)/(b),",
        f"  two-stage stochastic QKD provisioning on USNET: `qrate.provision.figures.make_figures(quick={quick}, seed={fig4_seed})`.",
        "",
        'Modelling choices of the Table I presets (see "Paper ambiguities and qrate\'s defaults" in `qrate/MODELS.md`):',
        "aperture radius 3 m, far-field LEO / Gaussian UAV beam, log-negative Weibull transmittance, C_n² = 0,",
        "fiber dephasing p = 0.02 per traversal, synchronous deterministic sources at 1e6 Hz, ideal detectors, BSM and",
        'switch. The realistic presets\' numbers and their sources: "Realistic presets" in `qrate/MODELS.md`.',
        "",
    ]
    return "\n".join(lines)
