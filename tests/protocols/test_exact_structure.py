"""Stim's error analysis runs once per round structure, and a protocol's circuits are built once per
structure; each point evaluates them at its own noise."""

from __future__ import annotations

import numpy as np
import pytest

from qrate.engine.grid import plan_sweep
from qrate.protocols import exact, template
from qrate.scenario import load_scenario
from qrate.sweep import collect


def _plans(preset: str, axis: str) -> list:
    return plan_sweep(load_scenario(preset, ["sweep.ground_distance_km=[400]"], [axis]))


def _fresh(round_) -> exact.TablePlan:
    """The round's table from its own detector error model (the path before structures were shared)."""
    return exact.build_table(exact.error_model(round_.circuit, round_.parities), round_.flags)


@pytest.mark.parametrize(
    ("preset", "axis"),
    [
        ("khan-acka-leo", "detectors.dark_count_probability=1e-6,1e-5,1e-4,1e-3,3e-3"),
        ("khan-acka-leo-realistic", "sources.ghz_fidelity=0.8,0.85,0.9,0.95,0.99"),
        ("khan-broadcast-uav-realistic", "bsm.hom_visibility=0.8,0.9,0.95"),
    ],
)
def test_a_noise_axis_analyses_each_round_structure_once(preset: str, axis: str) -> None:
    plans = _plans(preset, axis)
    assert len({collect.circuit_key(p) for p in plans}) == len(plans)  # every point has its own noise
    assert len({collect.structure_key(p) for p in plans}) == 1
    exact.clear_plan_cache()
    collect._COMPILED.clear()
    template._TEMPLATES.clear()
    before = exact.stim_analyses()
    compiled = [collect.compiled_protocol(plans[0])]
    compiled[0].plans
    first = exact.stim_analyses() - before
    assert 0 < first <= 2 * len(compiled[0].rounds)  # an analysis and its check per round structure
    for p in plans[1:]:
        compiled.append(collect.compiled_protocol(p))
        compiled[-1].plans
    assert exact.stim_analyses() - before == first  # no other point ran stim's error analysis
    for p, c in zip(plans, compiled):  # circuits by substitution are the protocol's own
        fresh_compile = p.protocol.compile(p.noise, sampler=p.sampler)
        assert [r.circuit for r in c.rounds] == [r.circuit for r in fresh_compile.rounds]
    tables = []
    for c in compiled:
        for r, plan in zip(c.rounds, c.plans):
            fresh = _fresh(r)
            assert isinstance(plan, exact.TablePlan)
            np.testing.assert_array_equal(plan.class_flags, fresh.class_flags)
            np.testing.assert_allclose(plan.probabilities, fresh.probabilities, rtol=0, atol=1e-12)
        tables.append(np.concatenate([pl.probabilities for pl in c.plans]))
    assert all(not np.array_equal(tables[0], t) for t in tables[1:])  # the points' noise differs


def test_a_points_tables_do_not_depend_on_which_point_was_analysed_first() -> None:
    plans = _plans("khan-acka-leo-realistic", "sources.ghz_fidelity=0.8,0.9,0.99")
    runs = []
    for order in (plans, plans[::-1]):
        exact.clear_plan_cache()
        collect._COMPILED.clear()
        got = {p.key: [pl.probabilities.copy() for pl in collect.compiled_protocol(p).plans] for p in order}
        runs.append(got)
    for key, probs in runs[0].items():
        for a, b in zip(probs, runs[1][key]):
            np.testing.assert_array_equal(a, b)


def test_a_template_substitutes_probabilities_and_refuses_what_it_cannot_map() -> None:
    plans = _plans("khan-acka-leo", "detectors.dark_count_probability=1e-5,2e-3")
    a, b = plans
    base = a.protocol.compile(a.noise)
    t = template.noise_template(a.protocol, a.noise, base)
    assert t is not None and t.entries == template.positive_entries(a.noise)
    assert [r.circuit for r in t.compile(b.noise).rounds] == [r.circuit for r in b.protocol.compile(b.noise).rounds]
    assert [r.circuit for r in t.compile(b.noise).rounds] != [r.circuit for r in base.rounds]
    # GHZ fidelities enter through a function: a template keyed without them would be wrong, so
    # compiled_protocol keys templates by their exact values (each fidelity compiles its own circuits)
    f = _plans("khan-acka-leo-realistic", "sources.ghz_fidelity=0.8,0.9")
    tf = template.noise_template(f[0].protocol, f[0].noise, f[0].protocol.compile(f[0].noise))
    assert tf is not None
    wrong = [r.circuit for r in tf.compile(f[1].noise).rounds]
    assert wrong != [r.circuit for r in f[1].protocol.compile(f[1].noise).rounds]
    template._TEMPLATES.clear()
    collect._COMPILED.clear()
    assert [r.circuit for r in collect.compiled_protocol(f[1]).rounds] == [
        r.circuit for r in f[1].protocol.compile(f[1].noise).rounds
    ]
    assert [r.circuit for r in collect.compiled_protocol(f[0]).rounds] == [
        r.circuit for r in f[0].protocol.compile(f[0].noise).rounds
    ]
