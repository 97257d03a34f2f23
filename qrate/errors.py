"""Exception hierarchy. The CLI maps each class to an exit code.

``InputError`` (and its subclasses) is bad user input: the CLI prints one line that names the
offending field or option and exits with code 2, before anything is written.
"""

from __future__ import annotations

import argparse
import operator


class QrateError(Exception):
    """Base class of every error qrate raises on purpose."""

    exit_code: int = 1


class InputError(QrateError, ValueError, argparse.ArgumentTypeError):
    """Invalid user input (option, scenario field, override). Exit code 2.

    It is also an ``argparse.ArgumentTypeError`` so that argparse ``type=`` parsers can raise it
    and keep their message.

    Args:
        field: the option or field path that is wrong, e.g. ``--altitude-km`` or
            ``links.leo.aperture_radius_m``.
        message: what is wrong and what was expected.
    """

    exit_code = 2

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class BelowHorizonError(InputError):
    """A platform is not above the horizon of a ground station."""


class ResultsFileError(QrateError):
    """A results file given as input is missing, a directory, foreign, damaged, of another schema or
    model version, in use by another process, or cannot be resumed. Exit code 2, like other bad input."""

    exit_code = 2


class ResultsWriteError(ResultsFileError):
    """Writing a results file failed (disk full, I/O error); what was stored before is kept. Exit code 1."""

    exit_code = 1


class SchedulerError(QrateError):
    """The Dask scheduler cannot be used: no worker joined in time, or it was lost mid-run. Exit code 1.

    Input-side problems (a bad address, an unreachable scheduler, a file that is not a scheduler
    file) are :class:`InputError` naming the option instead.
    """


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM that the verb has already reported on stderr (saved work, resume command).

    The CLI exits with code 130 without printing a second line.
    """


def count_arg(name: str, value: object, *, minimum: int = 0, maximum: int = 2**62) -> int:
    """``value`` as a count in ``[minimum, maximum]``, else :class:`InputError` naming ``name``.

    Accepts Python and NumPy integers; refuses booleans (``True`` is not a count), floats (even
    integral ones such as ``10.0``: pass ``int(...)``), strings, and integers outside the bounds
    (the default maximum, 2**62, keeps sums of counts inside 64-bit counters).

    Example:
        ``shots = count_arg("shots", shots, minimum=1)``
    """
    kind = type(value).__name__
    if isinstance(value, bool) or kind in ("bool", "bool_") or not hasattr(type(value), "__index__"):
        raise InputError(name, f"expected an integer count, got {value!r} ({kind})")
    number = operator.index(value)  # type: ignore[arg-type]
    if not minimum <= number <= maximum:
        raise InputError(name, f"expected an integer in [{minimum}, {_bound(maximum)}], got {_bound(number)}")
    return number


def _bound(n: int) -> str:
    """An integer for a message: powers of two as ``2**k``, huge ones in scientific notation."""
    if n > 0 and n & (n - 1) == 0 and n >= 2**20:
        return f"2**{n.bit_length() - 1}"
    return str(n) if abs(n) < 10**15 else f"{n:.3e}"
