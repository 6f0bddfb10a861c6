"""One writer per study: a lock file beside the database, held for a whole run.

DuckDB locks its file only while a connection is open; a pipeline opens and closes
connections stage by stage, so without this a second run could slip in between stages.
The lock is re-entrant within a process (the pipeline holds it while its stages, which
take it too, run).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flows.errors import UserError

_held: dict[str, tuple[int, int]] = {}  # lock path -> (fd, depth) in this process
_guard = threading.Lock()


class LockedError(UserError):
    """Another process is writing to this study."""


def lock_path(db_path: Path | str) -> Path:
    """The lock file of a database: `<db>.lock` beside the file itself, so that a symlink to the
    database (or a path through a symlinked folder) takes the same lock as the real path."""
    return Path(str(Path(db_path).resolve()) + ".lock")


@contextmanager
def study_lock(db_path: Path | str, *, wait: float = 0.0) -> Iterator[None]:
    """Hold the study's write lock; wait up to `wait` seconds for another process to finish.

    Raises:
        LockedError: still held by another process after `wait` seconds.
    """
    if str(db_path) == ":memory:":
        yield
        return
    key = str(lock_path(db_path))
    with _guard:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
            reentered = True
        else:
            reentered = False
    if not reentered:
        _held_fd = _acquire(Path(key), wait)
        with _guard:
            _held[key] = (_held_fd, 1)
    try:
        yield
    finally:
        _release(key)


def held(db_path: Path | str) -> bool:
    """Whether some process (this one included) holds the study's write lock right now.

    A run holds it from start to end, so a run recorded as running while nobody holds the lock
    was killed (``kill -9``, a crash, the machine stopped).
    """
    key = lock_path(db_path)
    with _guard:
        if str(key) in _held:
            return True
    try:
        fd = os.open(key, os.O_RDWR)
    except OSError:  # no lock file: nobody ever wrote here (or it cannot be opened: then say held)
        return key.exists()
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a lock taken just now
    return False


def _acquire(path: Path, wait: float) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
                os.close(fd)
                raise LockedError(f"{path.parent}: this study is being written by {holder}; "
                                  "wait for it to finish, or pass --wait SECONDS to queue behind it") from None
            time.sleep(0.5)
            continue
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"ethnoflow pid {os.getpid()}".encode(), 0)
        return fd


def _release(key: str) -> None:
    with _guard:
        fd, depth = _held[key]
        if depth > 1:
            _held[key] = (fd, depth - 1)
            return
        del _held[key]
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
