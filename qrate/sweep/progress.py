"""Progress of a sweep on stderr: a tqdm bar for terminals, a plain line now and then otherwise.

The bar counts batches against the most the sweep may need (the total shrinks when a point stops
early on its target error) and shows points done, pulses simulated and the relative standard
error of the slowest running point; tqdm's ETA follows. When stderr is not a terminal (batch jobs,
CI) a plain status line is printed every ``interval_s`` seconds instead. ``quiet`` silences both.
Nothing goes to stdout.
"""

from __future__ import annotations

import math
import sys
import time
from types import TracebackType
from typing import IO, Any

from qrate.sweep.collect import SweepStatus

STATUS_INTERVAL_S = 30.0
"""Seconds between plain status lines of non-interactive runs."""


def _err(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{value:.2%}"


def status_line(status: SweepStatus, elapsed_s: float) -> str:
    """One plain line describing ``status``."""
    return (
        f"qrate: {status.points_done}/{status.points} points done, {status.batches_done}/{status.batches_cap} batches,"
        f" {status.pulses_done:.4g} pulses, slowest point rel. err {_err(status.worst_relative_error)},"
        f" {status.in_flight} in flight, {elapsed_s:.0f} s"
    )


class SweepProgress:
    """Context manager fed with :class:`SweepStatus` updates.

    Args:
        quiet: print nothing.
        stream: where to write (default: ``sys.stderr``).
        interactive: force the bar on or off (default: whether ``stream`` is a terminal).
        interval_s: seconds between plain status lines when not interactive.
    """

    def __init__(
        self,
        *,
        quiet: bool = False,
        stream: IO[str] | None = None,
        interactive: bool | None = None,
        interval_s: float = STATUS_INTERVAL_S,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        isatty = getattr(self.stream, "isatty", None)
        self.interactive = (bool(isatty()) if callable(isatty) else False) if interactive is None else interactive
        self.interval_s = interval_s
        self._bar: Any = None
        self._start = time.monotonic()
        self._last_line = self._start

    def __enter__(self) -> SweepProgress:
        self._start = self._last_line = time.monotonic()
        return self

    def say(self, text: str) -> None:
        """Print a message line (unless quiet), without breaking the bar.

        Control characters are escaped: messages quote scenario names and paths, which come from
        files and must not reach the terminal as escape sequences.
        """
        if self.quiet:
            return
        from qrate.text import printable

        text = printable(text)
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def update(self, status: SweepStatus) -> None:
        """Show the new status (bar refresh, or a plain line when ``interval_s`` has passed)."""
        if self.quiet:
            return
        if self.interactive:
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(total=status.batches_cap, unit="batch", file=self.stream, dynamic_ncols=True, mininterval=0.1)
            self._bar.total = status.batches_cap
            self._bar.n = status.batches_done
            self._bar.set_postfix_str(
                f"points {status.points_done}/{status.points}, {status.pulses_done:.3g} pulses,"
                f" slowest rel.err {_err(status.worst_relative_error)}",
                refresh=False,
            )
            self._bar.refresh()
            return
        now = time.monotonic()
        if now - self._last_line >= self.interval_s:
            self._last_line = now
            print(status_line(status, now - self._start), file=self.stream, flush=True)

    def close(self) -> None:
        """Close the bar (if any)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
