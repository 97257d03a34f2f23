"""Safe writing of one HDF5 file: space reserved before a write, Ctrl-C held back during it, one error line.

Used by :class:`qrate.store.writer.ResultsWriter`; nothing here knows the results layout.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

from qrate._versions import package_versions as _package_versions
from qrate.text import printable

VERSIONED_PACKAGES = ("qrate", "numpy", "numba", "stim", "scipy", "h5py", "pydantic")
H5_SUFFIXES = (".h5", ".hdf5")
METADATA_SLACK = 64 * 1024
"""Bytes reserved on top of the raw data of one write, for HDF5 metadata (B-tree nodes, heaps, headers)."""
NO_RESERVE = {
    errno.EOPNOTSUPP,
    errno.EINVAL,
    errno.ENOSYS,
    errno.ENODEV,
    errno.ESPIPE,
    getattr(errno, "ENOTSUP", errno.EOPNOTSUPP),
}
_IN_USE = {errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES}


def package_versions() -> dict[str, str | None]:
    """Versions of qrate and the packages that shape its numbers."""
    return _package_versions(VERSIONED_PACKAGES)


def reason(exc: BaseException) -> str:
    """Why an operation failed, in a few words (the errno's text for an OSError)."""
    if isinstance(exc, OSError) and exc.errno is not None and not isinstance(exc, BlockingIOError):
        return os.strerror(exc.errno)
    return printable(exc)


def in_use_error(exc: BaseException) -> bool:
    """Whether ``exc`` (from opening a file with HDF5) says another process holds its lock."""
    if isinstance(exc, BlockingIOError):
        return True
    return isinstance(exc, OSError) and (exc.errno in _IN_USE or "unable to lock file" in str(exc))


def reserve(fd: int, end_of_allocation: int, nbytes: int) -> bool:
    """Make sure ``nbytes`` (plus :data:`METADATA_SLACK`) past ``end_of_allocation`` are real disk blocks.

    Returns False where the filesystem cannot reserve space (then writes go unprotected).

    Raises:
        OSError: the space is not there (``ENOSPC``, ``EDQUOT``, ``EFBIG``).
    """
    need = int(nbytes) + METADATA_SLACK
    if os.fstat(fd).st_size >= end_of_allocation + need:
        return True
    try:
        os.posix_fallocate(fd, end_of_allocation, need)
    except OSError as exc:
        if exc.errno in NO_RESERVE:
            return False
        raise
    return True


@contextlib.contextmanager
def sigint_deferred() -> Iterator[None]:
    """Hold SIGINT (Ctrl-C) back for the duration of the block, then deliver it (main thread only)."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is None:
        yield
        return
    caught: list[Any] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(frame))
    except (ValueError, OSError):  # pragma: no cover - no signal handling here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            if callable(previous):
                previous(signal.SIGINT, caught[0])
            elif previous == signal.SIG_DFL:
                raise KeyboardInterrupt
