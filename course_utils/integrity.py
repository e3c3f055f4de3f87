"""Is a file the one we expect, is a folder whole: one helper for each (internal plumbing).

- ``file_digest``: the one way the package hashes a file (downloads, weight files, duplicate
  images, kits, run identities).
- ``first_seen_digest`` / ``record_digest``: the ledger of "first checksum seen" for files no
  publisher gives a checksum for (a dataset archive, MobileNet's weights): a later file that
  differs is refused. The ledger is written atomically.
- ``is_complete`` / ``mark_complete``: the ``.complete`` marker. A folder is written beside
  its place and renamed in (or filled in place), and is used only once it holds the marker:
  an interrupted run never leaves a half dataset that looks whole.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .errors import ChecksumError

__all__ = ["COMPLETE", "file_digest", "first_seen_digest", "is_complete", "mark_complete", "record_digest"]

COMPLETE = ".complete"


def file_digest(path: Path | str, algo: str = "sha256", chunk: int = 1 << 20) -> str:
    """The hex digest of a file, read in chunks (weight files are hundreds of MB)."""
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def is_complete(folder: Path | str) -> bool:
    """True when `folder` holds the ``.complete`` marker: it was written to the end."""
    return (Path(folder) / COMPLETE).exists()


def mark_complete(folder: Path | str, note: str) -> None:
    """Write the ``.complete`` marker into `folder`; `note` says what was written (one line)."""
    (Path(folder) / COMPLETE).write_text(note.rstrip("\n") + "\n")


def _ledger(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ChecksumError(f"{path} is not valid JSON ({err}): it records the first checksum seen of "
                            "downloaded files. Delete it to start a new record.") from err


def first_seen_digest(ledger: Path, key: str, path: Path, *, retry: str) -> str:
    """``"sha256:<hex>"`` of `path`; if the ledger recorded another one for `key`, delete `path` and
    raise ChecksumError (`retry` says what to do next)."""
    digest = "sha256:" + file_digest(path)
    known = _ledger(ledger).get(key, digest)
    if known != digest:
        path.unlink()
        raise ChecksumError(f"{path.name}: {digest} differs from the {known} recorded at the first "
                            f"download ({ledger}). The file was deleted; {retry}")
    return digest


def record_digest(ledger: Path, key: str, digest: str) -> None:
    """Record `digest` for `key` in the ledger (written to a temporary file, then renamed)."""
    known = _ledger(ledger)
    known[key] = digest
    ledger.parent.mkdir(parents=True, exist_ok=True)
    tmp = ledger.with_name(ledger.name + ".part")
    tmp.write_text(json.dumps(known, indent=2) + "\n")
    os.replace(tmp, ledger)
