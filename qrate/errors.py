"""Exception hierarchy. The CLI maps each class to an exit code.

``InputError`` (and its subclasses) is bad user input: the CLI prints one line that names the
offending field or option and exits with code 2, before anything is written.
"""

from __future__ import annotations

import argparse


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
