"""Test-only hooks, switched on by environment variables that only the test suite sets.

``QRATE_TEST_BATCH_DELAY_S``: every batch first sleeps this many seconds (in every process that
runs batches: the ``qrate`` process and its Dask workers inherit the variable). The tests that
interrupt a run (SIGKILL, SIGINT, a lost worker or scheduler) set it on their child processes, so
that the run is slow by construction, whatever the machine's speed. The hook is applied once, when
:mod:`qrate.engine.batch` is imported: without the variable nothing is added to the batch path.
"""

from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from qrate.errors import InputError

BATCH_DELAY_ENV = "QRATE_TEST_BATCH_DELAY_S"

_P = ParamSpec("_P")
_R = TypeVar("_R")


def batch_delay_s() -> float:
    """The delay set by ``QRATE_TEST_BATCH_DELAY_S`` in seconds (0 when unset or empty)."""
    text = os.environ.get(BATCH_DELAY_ENV, "").strip()
    if not text:
        return 0.0
    try:
        delay = float(text)
    except ValueError:
        delay = math.nan
    if not (math.isfinite(delay) and 0.0 <= delay <= 60.0):
        raise InputError(BATCH_DELAY_ENV, f"expected seconds in [0, 60], got {text!r}")
    return delay


def throttled(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """``fn`` itself, or (with ``QRATE_TEST_BATCH_DELAY_S`` set) ``fn`` after a sleep of that delay."""
    delay = batch_delay_s()
    if delay == 0.0:
        return fn

    @functools.wraps(fn)
    def slow(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        time.sleep(delay)
        return fn(*args, **kwargs)

    return slow
