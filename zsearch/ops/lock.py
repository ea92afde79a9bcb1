"""The database's writer lock: one maintenance job (refresh, ingest) writes at a time.

The lock is an advisory ``flock`` on ``<database>/zsearch.ops.lock``. The kernel releases it
when the holder's file descriptor closes — also when the holder is killed with SIGKILL —
so a crashed job never leaves a stale lock behind (the file itself stays; its presence
means nothing). While held, the file names the holder (pid, command, start time), which
the :class:`~zsearch.errors.LockBusy` message of a second job shows.

Readers (search, export, stats) never take the lock: LanceDB gives each reader a
consistent table version while a writer commits new ones.

>>> from zsearch.ops.lock import writer_lock          # doctest: +SKIP
>>> with writer_lock("~/papers-db", wait=60):     # doctest: +SKIP
...     ...  # only one process at a time gets here
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from zsearch.errors import LockBusy, UsageError

LOCK_NAME = "zsearch.ops.lock"
# how often a waiting job retries the lock; short against a --wait of seconds to minutes
POLL_SECONDS = 0.2
# Databases whose lock this process holds, with how many nested holders: writer_lock is
# reentrant within a process.
_HELD: dict[Path, int] = {}
# how often file_lock retries: its holders keep it for one small file write (milliseconds)
FILE_POLL_SECONDS = 0.05


def lock_path(home: str | os.PathLike[str]) -> Path:
    """Where the writer lock of the database in ``home`` lives."""
    return Path(home).expanduser() / LOCK_NAME


def _try_lock(fh: IO[Any]) -> bool:
    """Take an exclusive, non-blocking lock on ``fh``; False when another process holds it."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _unlock(fh: IO[Any]) -> None:
    if sys.platform == "win32":  # pragma: no cover
        import msvcrt

        with contextlib.suppress(OSError):
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def file_lock(path: str | os.PathLike[str], *, poll: float = FILE_POLL_SECONDS) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` for the ``with`` block, waiting as long as it takes.

    For a short read-modify-write of a small file (two ``zsearch watch add`` at once), not
    for the database's writer lock (:func:`writer_lock`, which gives up after ``wait``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as fh:
        while not _try_lock(fh):
            time.sleep(poll)
        try:
            yield
        finally:
            _unlock(fh)


def holder(home: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Who holds (or last held) the lock, as the holder wrote it; None if unknown."""
    try:
        text = lock_path(home).read_text(encoding="utf-8")
        info = json.loads(text) if text.strip() else None
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def is_locked(home: str | os.PathLike[str]) -> bool:
    """Whether some process holds the writer lock right now (takes and drops it to find out)."""
    path = lock_path(home)
    if not path.exists():
        return False
    with path.open("a+", encoding="utf-8") as fh:
        if _try_lock(fh):
            _unlock(fh)
            return False
        return True


def _describe(info: dict[str, Any] | None) -> str:
    if not info:
        return "another zsearch process"
    return f"{info.get('purpose') or 'a zsearch job'} (pid {info.get('pid', '?')}, since {info.get('since', '?')})"


@contextlib.contextmanager
def writer_lock(home: str | os.PathLike[str], *, wait: float = 0.0, purpose: str = "zsearch") -> Iterator[Path]:
    """Hold the database's writer lock for the ``with`` block.

    ``wait``: seconds to keep trying when another process holds it (0: fail at once).
    Raises :class:`LockBusy` (exit code 75, EX_TEMPFAIL) when the wait runs out.
    ``purpose`` (e.g. ``"zsearch refresh"``) is written into the lock file for that message.
    Reentrant: a process that holds the lock can take it again (nested ``with`` blocks).
    """
    if wait < 0:
        raise UsageError(f"--wait must be 0 or more seconds, not {wait}")
    path = lock_path(home)
    key = path.resolve()
    if _HELD.get(key):
        # this process holds it already (the CLI around a Library writer): flock is per open
        # file, so taking it again here would wait on ourselves
        _HELD[key] += 1
        try:
            yield path
        finally:
            _HELD[key] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # "a+": never truncates a file someone else may be writing their details into
    fh = path.open("a+", encoding="utf-8")
    try:
        deadline = time.monotonic() + wait
        while not _try_lock(fh):
            if time.monotonic() >= deadline:
                raise LockBusy(
                    f"{_describe(holder(home))} is writing to {path.parent}",
                    hint="try again later, or pass --wait SECONDS to wait for it",
                )
            time.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0.0)))
        info = {"pid": os.getpid(), "purpose": purpose, "argv": sys.argv[1:][:20],
                "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps(info))
        fh.flush()
        _HELD[key] = 1
        try:
            yield path
        finally:
            _HELD.pop(key, None)
            with contextlib.suppress(OSError):
                fh.seek(0)
                fh.truncate()
                fh.flush()
            _unlock(fh)
    finally:
        fh.close()
