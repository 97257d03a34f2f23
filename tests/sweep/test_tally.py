"""The stopping rule's running tally: O(1) per batch, and exactly what estimate_point gives on the prefix.

For every registered protocol (and the plug-in example), over seeded synthetic batch rows (many
successes per batch; few, where batches without test or key rounds fall back on pooled
estimates; a mix) and real rows of short runs, the running summary's estimates after every batch
equal :func:`qrate.estimates.estimate_point` of the concatenated prefix to 1e-12 relative, and a
:class:`PointTally` with a target on each plottable estimate stops at the batch the reference
rule picks, with the same relative error after every batch.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qrate.estimates import estimate_point, estimate_summary, quantities, running_summary
from qrate.formulas import RunningSpread, spread
from qrate.protocols import estimator, registry
from qrate.protocols.estimator import Report
from qrate.scenario import load_scenario
from qrate.stats import COUNTER_PREFIX, counter_names_of, row_stats
from qrate.sweep import run_sweep
from qrate.sweep.stopping import Limits, PointTally, relative_error
from tests.protocols.example_protocol import NAME as EXAMPLE
from tests.protocols.example_protocol import TARGET as EXAMPLE_TARGET

#: a scenario (preset + overrides) per registered protocol, and the plug-in example
SCENARIOS: dict[str, tuple[str, list[str]]] = {
    "acka": ("khan-acka-leo", []),
    "broadcast": ("khan-broadcast-uav", []),
    "anonymous-entanglement": ("khan-broadcast-uav", ["protocol.name=anonymous-entanglement", 'protocol.participants=["Alice", "Hadi"]']),
    "teleportation": ("khan-broadcast-uav", ["protocol.name=teleportation", 'protocol.participants=["Alice", "Dina"]']),
    "notification": (
        "khan-broadcast-uav",
        ["protocol.name=notification", 'protocol.participants=["Alice", "Bob", "Hadi"]', "protocol.repetitions=4"],
    ),
    "decoy-bb84": (
        str(Path(__file__).parents[1] / "protocols" / "decoy_midpoint.toml"),
        ["sampling.pulses_per_batch=100000000"],
    ),
    EXAMPLE: ("khan-acka-leo", [f"protocol.name={EXAMPLE}", "protocol.participants=[]"]),
}
SHORT = ["sweep.ground_distance_km=[0.0]", "sampling.pulses_per_batch=20000", "sampling.batches=24", "sampling.seed=7"]
BATCHES = 40
#: mean successes per batch of the synthetic sequences (None: a mix of few and many)
REGIMES: dict[str, float | None] = {"many": 3000.0, "few": 4.0, "mixed": None}
RTOL = 1e-12


@pytest.fixture(autouse=True)
def example_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plug-in example's registry line (its reports name it)."""
    monkeypatch.setitem(registry.PROTOCOLS, EXAMPLE, EXAMPLE_TARGET)


def test_every_registered_protocol_is_covered() -> None:
    assert set(SCENARIOS) == set(registry.PROTOCOLS)


@functools.cache
def real_run(name: str) -> tuple[dict[str, Any], np.ndarray]:
    """The report and batch rows of a short run of ``name``'s scenario."""
    preset, overrides = SCENARIOS[name]
    (res,) = run_sweep(load_scenario(preset, SHORT + overrides), 7)
    return res.plan.report(), res.rows


def synthetic_rows(report: Mapping[str, Any], like: np.ndarray, mean_successes: float | None, seed: int) -> np.ndarray:
    """Seeded batch rows shaped like ``like``: counters drawn in the proportions of ``like``'s totals,
    a counter within another (the report's consistency rules) drawn from that one.

    ``mean_successes``: mean heralded successes per batch (None: a mix of 0.5 to 5000).
    """
    rng = np.random.default_rng(seed)
    rows = np.zeros(BATCHES, dtype=like.dtype)
    pulses = int(like["pulses"][0])
    means = np.full(BATCHES, mean_successes) if mean_successes else 10 ** rng.uniform(-0.3, 3.7, BATCHES)
    rows["batch_index"] = np.arange(BATCHES)
    rows["pulses"] = pulses
    rows["successes"] = np.minimum(rng.poisson(means), pulses)
    rows["eta_count"] = rng.integers(1, 50, BATCHES)
    rows["eta_sum"] = rows["eta_count"] * rng.uniform(0.01, 0.5, BATCHES)
    rows["eta_sumsq"] = rows["eta_sum"] ** 2 / rows["eta_count"] * rng.uniform(1.0, 1.2, BATCHES)
    rows["seconds"] = rng.uniform(1e-4, 1e-2, BATCHES)
    whole = {part: w for e in Report.from_json(report).estimators for part, w in e.limits()}
    succ_total = max(int(like["successes"].sum()), 1)
    drawn: set[str] = set()

    def draw(name: str) -> np.ndarray:
        field = COUNTER_PREFIX + name
        if field in rows.dtype.names and field not in drawn:
            drawn.add(field)
            parent = whole.get(name)
            if parent is not None and COUNTER_PREFIX + parent in rows.dtype.names:
                base = draw(parent)
                share = like[field].sum() / max(int(like[COUNTER_PREFIX + parent].sum()), 1)
                rows[field] = rng.binomial(base, min(share, 1.0))
            else:
                rows[field] = rng.poisson(rows["successes"] * like[field].sum() / succ_total)
        return rows[field]

    for name in counter_names_of(like):
        draw(name)
    return rows


def sequences(name: str) -> Iterator[tuple[str, np.ndarray]]:
    report, rows = real_run(name)
    yield "real", rows
    for i, (regime, mean) in enumerate(REGIMES.items()):
        yield regime, synthetic_rows(report, rows, mean, seed=1000 + 17 * i + len(name))


def moment_rtol(est: Mapping[str, Any], count: int) -> float:
    """Tolerance of ``mean_eta_free_space_stderr``: :func:`qrate.formulas.moment_se` subtracts mean²
    from Σx²/n, so the rounding of the float sums (summed pairwise by numpy, one by one here) is
    amplified by (mean² + var)/var."""
    mean, se = est.get("mean_eta_free_space"), est.get("mean_eta_free_space_stderr")
    if not mean or not se:
        return RTOL
    var = se * se * count
    return RTOL + 1e-14 * (mean * mean + var) / var


def close(a: Any, b: Any, where: str, rtol: Mapping[str, float] | None = None) -> None:
    """``a`` equals ``b`` (dicts key by key; floats to RTOL relative, or ``rtol[key]``)."""
    if isinstance(a, Mapping):
        assert isinstance(b, Mapping) and set(a) == set(b), where
        for k in a:
            close(a[k], b[k], f"{where}.{k}", {"": (rtol or {}).get(k, RTOL)})
    elif isinstance(a, float) and isinstance(b, float):
        tol = (rtol or {}).get("", RTOL)
        assert abs(a - b) <= tol * max(abs(a), abs(b)), f"{where}: {a!r} != {b!r}"
    else:
        assert a == b and type(a) is type(b), f"{where}: {a!r} != {b!r}"


@functools.cache
def reference(name: str, seq: str) -> tuple[dict[str, Any], np.ndarray, list[dict[str, Any]]]:
    """Report, rows and estimate_point of every prefix."""
    report = real_run(name)[0]
    rows = dict(sequences(name))[seq]
    return report, rows, [estimate_point(rows[: i + 1], report) for i in range(rows.size)]


@pytest.mark.parametrize("seq", ["real", *REGIMES])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_running_summary_gives_estimate_point_of_every_prefix(name: str, seq: str) -> None:
    report, rows, ref = reference(name, seq)
    running = running_summary(report)
    for i in range(rows.size):
        running.add(rows[i : i + 1])
        loose = {"mean_eta_free_space_stderr": moment_rtol(ref[i], int(rows["eta_count"][: i + 1].sum()))}
        close(estimate_summary(running.summary(), report), ref[i], f"{name}/{seq} batch {i}", loose)
    if seq == "many":
        assert running.deferred == 0  # every batch has test and key rounds: nothing kept


def targets(report: Mapping[str, Any]) -> list[str]:
    """Every plottable estimate with a standard error (its sem, batch spread or interval), but the
    heralded ``rate``: that target keeps its own Welford mean of the batch success probabilities."""
    return [q.y for q in quantities(report) if q.y and q.y != "rate" and (q.sem or q.std or q.ci)]


def test_targets_cover_every_kind_of_error() -> None:
    report = real_run("acka")[0]
    kinds = {q.y: ("sem" if q.sem else "std" if q.std else "ci") for q in quantities(report) if q.y in targets(report)}
    assert kinds["key_rate"] == "sem" and "ci" in kinds.values()  # key_rate's sem is a batch spread
    report = real_run(EXAMPLE)[0]
    assert {q.y: bool(q.std and not q.sem) for q in quantities(report)}["checked_rate"]  # a std-only spread
    report = real_run("anonymous-entanglement")[0]
    assert {q.y: q.sem for q in quantities(report)}["fidelity"] == "bell_fidelity_stderr"  # a sem of its own


@pytest.mark.parametrize("seq", ["real", *REGIMES])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_tally_stops_where_the_prefix_rule_does(name: str, seq: str) -> None:
    report, rows, ref = reference(name, seq)
    names = counter_names_of(rows)
    stops = []
    for y in targets(report):
        errors = [relative_error(e, report, y) for e in ref]
        finite = sorted({e for e in errors[2:] if math.isfinite(e)} | {0.0})
        k = len(finite) // 2  # stop about halfway where the error is defined, the goal between two prefixes' errors
        goal = (finite[k - 1] + finite[k]) / 2 if len(finite) > 1 else 0.01
        limits = Limits(rows.size, None, goal, 3, y)
        expect = next((i + 1 for i in range(2, rows.size) if errors[i] <= goal), rows.size)
        tally = PointTally(limits, report)
        while not tally.enough():
            tally.add(row_stats(rows[tally.n], names))
            got, want = tally.relative_error(), errors[tally.n - 1] if tally.n >= 2 else math.inf
            assert got == want or abs(got - want) <= RTOL * abs(want), f"{y} batch {tally.n}: {got} != {want}"
        assert tally.n == expect, y
        stops.append(expect)
    if seq == "real" and name != "decoy-bb84":
        assert any(3 < s < rows.size for s in stops)  # the rule really stopped early somewhere


def test_tally_cost_per_batch_does_not_grow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows looked at per batch (batch tables handed to the per-batch values) stay constant, and no row is kept."""
    report, rows = real_run("acka")
    many = np.concatenate([synthetic_rows(report, rows, 3000.0, seed=s) for s in range(10)])  # 400 batches
    names = counter_names_of(many)
    seen: list[int] = []

    class Counting(estimator.Batches):
        def __init__(self, rows: np.ndarray, *args: Any) -> None:
            seen.append(int(rows.size))
            super().__init__(rows, *args)

    monkeypatch.setattr(estimator, "Batches", Counting)
    tally = PointTally(Limits(many.size + 1, None, 1e-9, 3, "key_rate"), report)
    per_batch = []
    for i in range(many.size):
        before = len(seen)
        tally.add(row_stats(many[i], names))
        assert not tally.enough()
        per_batch.append(sum(seen[before:]))
    assert per_batch[:3] == [1, 1, 1] and set(per_batch[3:]) == {1}  # one row per batch, none at the decision
    running = tally._running
    assert running is not None and running.deferred == 0
    assert not any(isinstance(getattr(tally, s), list | np.ndarray) for s in PointTally.__slots__)
    assert len(running.sums) == len(many.dtype.names) - 1  # one running sum per field


def test_few_successes_keep_only_distinct_patterns() -> None:
    """A batch that falls back on pooled estimates is kept once per distinct counter pattern."""
    report, rows = real_run("acka")
    few = np.concatenate([synthetic_rows(report, rows, 1.0, seed=s) for s in range(10)])  # 400 batches
    running = running_summary(report)
    for i in range(few.size):
        running.add(few[i : i + 1])
    assert 0 < running.deferred < few.size // 4
    ref = estimate_point(few, report)
    close(estimate_summary(running.summary(), report), ref, "few", {"mean_eta_free_space_stderr": moment_rtol(ref, int(few["eta_count"].sum()))})


@pytest.mark.parametrize("seed", range(5))
def test_running_spread_adds_and_merges_like_spread(seed: int) -> None:
    """Values added one by one, weighted, or merged in groups (then added to again) give spread() of them all."""
    rng = np.random.default_rng(seed)
    acc, every = RunningSpread(), []
    for step in range(30):
        kind = step % 3
        if kind == 0:
            x = math.nan if step in (9, 21) else float(rng.normal(5.0, 2.0))  # spread() drops non-finite values
            acc.add(x)
            every.append(x)
        elif kind == 1:
            x, m = float(rng.normal(5.0, 2.0)), int(rng.integers(1, 4))
            acc.add(x, m)
            every += [x] * m
        else:
            xs, ms = rng.normal(5.0, 2.0, 4), rng.integers(1, 4, 4)
            xs[0] = math.inf if step % 5 == 2 else xs[0]
            acc.merge(xs, ms)
            every += [x for x, m in zip(xs, ms, strict=True) for _ in range(m)]
        want = spread(np.array(every))
        np.testing.assert_allclose(acc.spread(), want, rtol=1e-12)
        finite = [x for x in every if math.isfinite(x)]
        assert acc.n == len(finite) and acc.mean == pytest.approx(np.mean(finite), rel=1e-12)


def test_a_summary_is_a_snapshot() -> None:
    """Batches added after summary() leave that summary's estimates as they were."""
    report, _, ref = reference("acka", "few")
    rows = reference("acka", "few")[1]
    running = running_summary(report)
    for i in range(10):
        running.add(rows[i : i + 1])
    snap = running.summary()
    for i in range(10, rows.size):
        running.add(rows[i : i + 1])
    close(estimate_summary(snap, report), ref[9], "snapshot", {"mean_eta_free_space_stderr": 1e-9})
