"""Files the course writes for itself: written atomically, one writer at a time.

Plumbing (no notebook teaches it). ``write_text`` writes beside the target and renames it
into place, so a killed kernel leaves the old file or the new one, never half of one.
``locked`` makes concurrent writers (two notebooks, two terminals) take turns with a lock
file created with ``O_CREAT | O_EXCL``: that works the same on Linux, macOS and Windows
(no ``fcntl``). A lock left behind by a killed process is taken over once it is older than
``stale`` seconds or its process is gone.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["LockTimeout", "locked", "write_text"]


class LockTimeout(RuntimeError):
    """Another writer held the lock for longer than the timeout (the message names the lock file)."""


def write_text(path: Path | str, text: str) -> None:
    """Write `text` to `path` atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # os.open with 0o666, not mkstemp (0o600): the file gets the permissions any other file would
    # (a classroom's shared outputs stay readable by the others).
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        for attempt in range(20):
            try:
                os.replace(tmp, path)
                break
            except PermissionError:  # Windows: a reader has the file open for a moment
                if os.name != "nt" or attempt == 19:
                    raise
                time.sleep(0.05)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _holder_gone(lock: Path) -> bool:
    """True when the lock file names a process of this machine that no longer runs."""
    try:
        pid = int(lock.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False  # being written right now, or unreadable: let the age decide
    if pid == os.getpid() or os.name == "nt":
        return False  # on Windows os.kill(pid, 0) would end that process: let the age decide
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except (PermissionError, OSError, SystemError, ValueError):
        return False  # exists (another user's) or cannot tell (Windows): let the age decide
    return False


@contextlib.contextmanager
def locked(path: Path | str, *, timeout: float = 30.0, stale: float = 120.0) -> Iterator[Path]:
    """Hold ``<path>.lock`` while the block runs; wait up to `timeout` seconds for another holder.

    A lock older than `stale` seconds, or whose process has ended, is taken over (its holder
    was killed). Raises ``LockTimeout`` naming the lock file and what to do.
    """
    lock = Path(path).with_name(Path(path).name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                age = time.time() - lock.stat().st_mtime
            except FileNotFoundError:
                continue  # released in between: try again at once
            if age > stale or _holder_gone(lock):
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                continue
            if time.monotonic() > deadline:
                raise LockTimeout(
                    f"{lock} has been held by another writer for {age:.0f} s. If no other notebook "
                    "or command is running, delete that file and run the cell again.") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
            continue
        with os.fdopen(fd, "w") as f:
            f.write(f"{os.getpid()}\n")
        try:
            yield lock
        finally:
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
        return
