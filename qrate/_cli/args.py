"""Shared argparse helpers: parsers whose usage errors become :class:`qrate.errors.InputError`."""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable

from qrate.errors import InputError


class ArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that raises :class:`InputError` (exit 2, one line) instead of exiting.

    The error names the offending option: ``argument --x: ...`` becomes ``InputError("--x", ...)``.
    """

    def error(self, message: str) -> None:  # type: ignore[override]
        match = re.fullmatch(r"argument ([^:]+): (.*)", message, flags=re.DOTALL)
        if match is None:
            raise InputError("usage", message)
        field, text = match.group(1), match.group(2)
        option = field.split("/")[-1]
        for prefix in (f"{field}: ", f"{option}: "):
            text = text.removeprefix(prefix)
        raise InputError(option, text)


def float_in(option: str, lo: float = -math.inf, hi: float = math.inf, *, lo_open: bool = False) -> Callable[[str], float]:
    """Return a parser of a finite float in [lo, hi] (or (lo, hi] if ``lo_open``), usable as ``type=``.

    It raises :class:`InputError`, which argparse reports with its own message intact.
    """

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise InputError(option, f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise InputError(option, f"expected a finite number, got {text!r}")
        if value < lo or value > hi or (lo_open and value == lo):
            left = "(" if lo_open else "["
            raise InputError(option, f"expected a value in {left}{lo:g}, {hi:g}], got {text}")
        return value

    return parse


def int_in(option: str, lo: float = -math.inf, hi: float = math.inf) -> Callable[[str], int]:
    """Return a parser of an integer in [lo, hi], usable as ``type=``; ``1e6`` is accepted when integral."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            try:
                as_float = float(text)
            except ValueError:
                raise InputError(option, f"expected an integer, got {text!r}") from None
            if not (math.isfinite(as_float) and as_float == int(as_float)):
                raise InputError(option, f"expected an integer, got {text!r}") from None
            value = int(as_float)
        if value < lo or value > hi:
            bounds = ", ".join(str(int(b)) if math.isfinite(b) else ("-inf" if b < 0 else "inf") for b in (lo, hi))
            raise InputError(option, f"expected an integer in [{bounds}], got {text}")
        return value

    return parse


def float_list(option: str, lo: float = -math.inf, hi: float = math.inf) -> Callable[[str], list[float]]:
    """Return an argparse ``type=`` for a comma-separated list of floats, each in [lo, hi]."""
    one = float_in(option, lo, hi)

    def parse(text: str) -> list[float]:
        items = [s for s in (p.strip() for p in text.split(",")) if s]
        if not items:
            raise InputError(option, "expected at least one number")
        return [one(s) for s in items]

    return parse
