"""Fields added within a model version leave the point keys (and so the random streams) of the
scenarios that do not use them unchanged."""

from __future__ import annotations

from qrate.engine.plan import point_key, point_key_params
from qrate.scenario import load_scenario


def _key(*overrides: str) -> int:
    return point_key(point_key_params(load_scenario("khan-acka-leo-realistic", list(overrides)), 0.0))


def test_new_fields_at_their_defaults_keep_the_key() -> None:
    base = _key()
    assert _key("detectors.per_receiver=1") == base
    assert _key("detectors.per_receiver=4") != base
    assert _key("links.leo.elevation_coupling={reference_loss_db = 2.66}") != base
    assert _key('sampling.finite_key="yin2020"') == base  # an estimator choice, not the sampled distribution
