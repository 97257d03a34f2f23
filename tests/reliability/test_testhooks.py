"""The test-only batch throttle: off without its variable, a sleep before each batch with it, refused if malformed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from qrate._testhooks import BATCH_DELAY_ENV, batch_delay_s, throttled
from qrate.errors import InputError
from tests.reliability.conftest import CHILD_ENV

PROBE = (
    "import time\n"
    "from qrate.engine import batch\n"
    "from qrate.engine import plan_sweep\n"
    "from qrate.scenario import load_scenario\n"
    "plan = plan_sweep(load_scenario('khan-acka-leo', ['sweep.ground_distance_km=[0]']))[0]\n"
    "compiled = plan.protocol.compile(plan.noise)\n"
    "t = time.perf_counter(); batch.run_batches(plan, compiled, 1, 0, 2, 1000)\n"
    "print(hasattr(batch._pace, '__wrapped__'), time.perf_counter() - t)\n"
)


def _probe(delay: str | None) -> tuple[bool, float]:
    env = {k: v for k, v in CHILD_ENV.items() if k != BATCH_DELAY_ENV}
    if delay is not None:
        env[BATCH_DELAY_ENV] = delay
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120, check=True).stdout
    wrapped, seconds = out.split()
    return wrapped == "True", float(seconds)


def test_without_the_variable_the_batch_path_is_untouched() -> None:
    assert _probe(None)[0] is False


def test_with_the_variable_every_batch_sleeps_first() -> None:
    wrapped, seconds = _probe("0.3")
    assert wrapped and seconds >= 0.6  # two batches, one sleep each


@pytest.mark.parametrize("text", ["x", "-1", "nan", "1e9"])
def test_a_malformed_delay_is_refused(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BATCH_DELAY_ENV, text)
    with pytest.raises(InputError) as info:
        throttled(print)
    assert info.value.field == BATCH_DELAY_ENV


def test_an_empty_variable_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BATCH_DELAY_ENV, "")
    assert batch_delay_s() == 0.0 and throttled(print) is print
