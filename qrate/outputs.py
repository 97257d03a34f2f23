"""The one check of an output path, before anything is computed or written (``run``, ``combine``, ``plot``).

Outputs are written under a temporary name in the same folder and renamed over ``path`` when
complete (:func:`replace_atomically`), so an existing file is never truncated in place, and a
symbolic link is never written through. A file that another process holds open for writing (a
running ``qrate run`` holds an exclusive ``flock`` on its results file, see
:func:`lock_exclusive`) is never replaced.
"""

from __future__ import annotations

import errno
import glob
import os
import tempfile
import time
from pathlib import Path

from qrate.errors import InputError

try:  # POSIX only; elsewhere nothing is reported as in use
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

#: errno values of a lock held by someone else
_BUSY = {errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES}


def check_output(
    path: str | Path,
    *,
    overwrite: bool,
    suffixes: tuple[str, ...],
    field: str,
    exists_hint: str = "choose another --out or pass --overwrite",
) -> Path:
    """Check that ``path`` may be written (created, or replaced with ``overwrite``); return it as a Path.

    Args:
        path: the output file.
        overwrite: an existing regular file may be replaced.
        suffixes: accepted file name endings (compared case-insensitively), e.g. ``(".h5", ".hdf5")``.
        field: the parameter named in errors (``"out"``; the CLI shows its option, ``--out``).
        exists_hint: what to do about an existing file, appended to that error.

    Raises:
        InputError: wrong suffix; ``path`` is a symbolic link, a directory or not a regular file;
            it exists and ``overwrite`` is false; it is read-only or in use by another process;
            its folder cannot be created or written.
    """
    p = Path(path)
    if p.is_symlink():
        raise InputError(field, f"{p} is a symbolic link; refusing to write through it (give the file's real path)")
    if p.is_dir():
        raise InputError(field, f"{p} is a directory")
    if suffixes and p.suffix.lower() not in suffixes:
        raise InputError(field, f"expected a file name ending in {', '.join(suffixes)}, got {str(path)!r}")
    if p.exists():
        if not p.is_file():
            raise InputError(field, f"{p} is not a regular file")
        if not overwrite:
            raise InputError(field, f"{p} already exists; {exists_hint}")
        if not os.access(p, os.W_OK):
            raise InputError(field, f"{p} is read-only; refusing to replace it")
        if in_use(p):
            raise InputError(field, f"{p} is in use by another process (a running qrate?); refusing to overwrite it")
    folder = p.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(field, f"cannot create {p}: {folder} is not a writable folder")
    return p


def in_use(path: str | Path) -> bool:
    """Whether another open file description holds an exclusive ``flock`` on ``path`` (a writer)."""
    if fcntl is None:  # pragma: no cover
        return False
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno in _BUSY
    finally:
        os.close(fd)  # also drops the shared lock
    return False


def _flock(fd: int, exclusive: bool) -> bool:
    """Take an exclusive or shared ``flock`` on ``fd`` without waiting: False if another process's
    lock stands in the way. Filesystems without ``flock`` (some network mounts) count as success:
    nothing to enforce there."""
    if fcntl is None:  # pragma: no cover
        return True
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno not in _BUSY
    return True


def lock_exclusive(fd: int) -> bool:
    """Take an exclusive ``flock`` on ``fd`` without waiting: False if someone else holds a lock."""
    return _flock(fd, exclusive=True)


def _lock_shared(fd: int) -> bool:
    """Take a shared ``flock`` on ``fd`` without waiting: False if a writer holds the file."""
    return _flock(fd, exclusive=False)


def temp_path(path: Path) -> Path:
    """Create and return an empty hidden file next to ``path`` to write it under (same suffix, so
    that writers choosing a format by suffix still do)."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".part{path.suffix}")
    try:
        mask = os.umask(0o022)
        os.umask(mask)
        os.fchmod(fd, 0o666 & ~mask)  # the permissions a plain open() would give, not mkstemp's 0600
    except (OSError, AttributeError):  # pragma: no cover
        pass
    finally:
        os.close(fd)
    return Path(name)


def remove_stale_temps(path: Path, *, min_age_s: float = 60.0) -> None:
    """Delete temporary files of ``path`` left by killed writers: unlocked and untouched for ``min_age_s``."""
    try:
        candidates = list(path.parent.glob(f".{glob.escape(path.name)}.*.part{glob.escape(path.suffix)}"))
    except OSError:
        return
    now = time.time()
    for c in candidates:
        try:
            if now - c.lstat().st_mtime < min_age_s or c.is_symlink() or not c.is_file():
                continue
            fd = os.open(c, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            continue
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises while a writer holds it
                c.unlink()
        except OSError:
            pass
        finally:
            os.close(fd)


def replace_atomically(tmp: Path, path: Path, *, field: str = "out") -> None:
    """Rename ``tmp`` over ``path`` (a link at ``path`` is replaced, never its target).

    Raises:
        InputError: ``path`` became a directory, or is now held by a writer, since it was checked.
    """
    if path.is_dir() and not path.is_symlink():
        raise InputError(field, f"{path} is a directory")
    guard = None
    if path.is_file() and not path.is_symlink():
        try:
            guard = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            guard = None
        if guard is not None and not _lock_shared(guard):  # a shared lock: readers may stay, a writer may not
            os.close(guard)
            raise InputError(field, f"{path} is in use by another process (a running qrate?); refusing to overwrite it")
    try:
        os.replace(tmp, path)
    finally:
        if guard is not None:
            os.close(guard)
