"""A noise click gives a uniformly random outcome: full depolarisation of that photon."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qrate.protocols import AnonymousEntanglement, PauliNoise, chain_layout


def _pair() -> AnonymousEntanglement:
    layout = chain_layout((2, 2))
    return AnonymousEntanglement(layout, layout.networks[0].users[0], layout.networks[1].users[0])


@pytest.mark.parametrize("q", [0.2, 0.05])
def test_full_depolarisation_gives_q_over_2_in_every_basis(q: float) -> None:
    """A fraction q of random outcomes on one photon: e_xx = e_yy = e_zz = q/2, F = 1 − 3q/4.

    (Independent X and Z flips of q/2 each, the old model, give e_yy = q − q²/2 instead.)
    """
    pair = _pair()
    compiled = pair.compile(PauliNoise(depolarize={pair.sender: 0.75 * q}))
    for r, plan in zip(compiled.rounds, compiled.plans, strict=True):
        (key,) = [k for k in r.flags]
        probs = dict(zip(r.flags, plan.flag_probabilities(), strict=True))
        assert probs[key] == pytest.approx(q / 2, abs=1e-12), r.name
    counts = compiled.sample_counts(400_000, 5)
    e = {p: counts[f"{p}_errors"] / counts[f"{p}_rounds"] for p in ("xx", "yy", "zz")}
    f = 1 - sum(e.values()) / 2
    se = math.sqrt(sum(v * (1 - v) / counts[f"{p}_rounds"] for p, v in e.items())) / 2
    assert abs(f - (1 - 0.75 * q)) < 4 * se
    stim = pair.compile(PauliNoise(depolarize={pair.sender: 0.75 * q}), sampler="stim").sample_counts(200_000, 6)
    yy = stim["yy_errors"] / stim["yy_rounds"]
    assert abs(yy - q / 2) < 4 * math.sqrt(q / 2 * (1 - q / 2) / stim["yy_rounds"])


def test_plan_turns_dark_counts_into_depolarisation() -> None:
    from qrate.engine import plan_sweep
    from qrate.scenario import load_scenario

    s = load_scenario("khan-acka-leo", ["sweep.ground_distance_km=[1000.0]", "detectors.efficiency=0.5",
                                        "detectors.dark_count_probability=0.01"])
    (plan,) = plan_sweep(s)
    for u in plan.users:
        tau = u.fiber_eta * u.switch_eta * (plan.downlinks[u.downlink].mean_eta if u.downlink >= 0 else 1.0) * 0.5
        q = (1 - tau) * 0.01 / (tau + (1 - tau) * 0.01)
        assert plan.noise.depolarize[u.user] == pytest.approx(0.75 * q, rel=1e-12)
        assert plan.noise.x_flip.get(u.user, 0.0) == 0.0
    assert np.isclose(plan.noise.z_flip["Alice"], 0.02)
