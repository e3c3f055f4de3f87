"""Downloads, checksums and safe extraction: nothing partial is ever left where data is read.

A download goes to ``<file>.part`` and is renamed only once complete and verified; an
archive is extracted beside the cache and renamed into place at the end. A failure deletes
what it wrote and says how to get the file without this machine's network.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from . import paths
from .errors import ChecksumError, DatasetError, DownloadError
from .integrity import file_digest, first_seen_digest, mark_complete, record_digest


def _parse_checksum(checksum: str) -> tuple[str, str]:
    algo, _, digest = checksum.partition(":")
    if algo not in {"sha256", "md5"} or not digest:
        raise ValueError(f"checksum must look like 'sha256:<hex>' or 'md5:<hex>', not {checksum!r}")
    return algo, digest.lower()


def _progress(total: int | None, desc: str, enabled: bool):
    from .progress import tqdm_class

    tqdm = tqdm_class()

    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
                disable=not enabled)


def offline_way_out(dest: Path) -> str:
    """What to do when this machine cannot download `dest`: the two offline ways."""
    return (f"Without a working connection here: run `make fetch` on a machine that has one and "
            f"copy its data folder to {paths.data_dir()}, or download the file yourself and put "
            f"it at {dest} (addresses in data/README.md).")


def _why(err: BaseException, timeout: float) -> str:
    """A failed transfer in words a learner can act on."""
    if isinstance(err, urllib.error.HTTPError):
        retry = "" if err.code in (404, 410) else " Try again later."
        return f"the server answered {err.code} {err.reason}. Nothing was kept.{retry}"
    reason = getattr(err, "reason", err)
    if isinstance(reason, TimeoutError) or isinstance(err, TimeoutError):
        reason = f"no answer within {timeout:g} s (timed out)"
    return f"{reason}. Nothing was kept; try again."


def download(
    url: str,
    dest: Path | str,
    *,
    checksum: str | None = None,
    size: int | None = None,
    progress: bool = False,
    timeout: float = 60.0,
) -> Path:
    """Download `url` to `dest`, verifying size and checksum; returns `dest`.

    The data goes to `dest.part` first and is renamed only once verified, so an
    interrupted or corrupt download never leaves a file that looks complete.
    An existing `dest` that verifies is reused without a download.
    """
    dest = Path(dest)
    if dest.exists():
        try:
            verify_file(dest, checksum=checksum, size=size)
            return dest
        except ChecksumError:
            dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    algo, expected = _parse_checksum(checksum) if checksum else ("sha256", None)
    h = hashlib.new(algo)
    got, announced = 0, None
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(part, "wb") as out:
            announced = int(resp.headers.get("Content-Length") or 0) or None
            with _progress(announced or size, dest.name, progress) as bar:
                while block := resp.read(1 << 20):
                    out.write(block)
                    h.update(block)
                    got += len(block)
                    bar.update(len(block))
        # http.client ends a read quietly when the server closes early: without this check a
        # cut-short file with no checksum to catch it would pass for the whole file.
        if announced is not None and got != announced:
            raise DownloadError(f"the connection closed after {got:,} of {announced:,} bytes")
    except (urllib.error.URLError, OSError, http.client.HTTPException, DownloadError) as err:
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"Could not download {url}: {_why(err, timeout)} {offline_way_out(dest)}"
        ) from err
    if size is not None and got != size:
        part.unlink(missing_ok=True)
        raise ChecksumError(
            f"{url} gave {got:,} bytes, expected {size:,}: the download was cut short or the file "
            f"changed upstream. "
            f"Nothing was kept; try again. {offline_way_out(dest)}"
        )
    if expected is not None and h.hexdigest() != expected:
        part.unlink(missing_ok=True)
        raise ChecksumError(
            f"{url}: {algo} is {h.hexdigest()}, expected {expected}. The file was deleted; "
            "try again, and report it if it happens twice (the file may have changed upstream)."
        )
    os.replace(part, dest)
    return dest


def verify_file(path: Path | str, *, checksum: str | None = None, size: int | None = None) -> None:
    """Raise ChecksumError unless the file has the expected size and checksum."""
    path = Path(path)
    actual = path.stat().st_size
    if size is not None and actual != size:
        raise ChecksumError(f"{path} has {actual:,} bytes, expected {size:,}.")
    if checksum:
        algo, expected = _parse_checksum(checksum)
        digest = file_digest(path, algo)
        if digest != expected:
            raise ChecksumError(f"{path}: {algo} is {digest}, expected {expected}.")


def _inside(target: Path, name: str) -> bool:
    return (target / name).resolve().is_relative_to(target)


def extract_archive(archive: Path | str, target: Path | str) -> None:
    """Extract a zip or tar archive into `target`; refuse it whole if a member would escape."""
    archive, target = Path(archive), Path(target).resolve()
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            bad = [m for m in zf.namelist() if not _inside(target, m)]
            if bad:
                raise DatasetError(f"{archive} holds an unsafe path {bad[0]!r}; not extracted.")
            zf.extractall(target)
        return
    try:
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            # Check every member before writing any: a refused archive leaves nothing behind.
            for m in members:
                link_ok = not (m.issym() or m.islnk()) or _inside(
                    target, os.path.join(os.path.dirname(m.name), m.linkname) if m.issym()
                    else m.linkname)
                if not _inside(target, m.name) or not link_ok or m.isdev():
                    raise DatasetError(f"{archive} holds an unsafe path {m.name!r}; not extracted.")
            tf.extractall(target, members=members, filter="data")
    except (tarfile.TarError, EOFError) as err:
        raise DatasetError(
            f"{archive} is neither a zip nor a readable tar archive ({err})."
        ) from err


def _ledger() -> Path:
    """The first checksum seen of each dataset archive the registry gives no checksum for."""
    return paths.cache_dir() / "checksums.json"


def install_archive(
    name: str,
    url: str,
    filename: str,
    member: str,
    root: Path,
    *,
    checksum: str | None = None,
    size: int | None = None,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download, verify and extract the folder `member` of an archive to `root`; returns `root`.

    Without a `checksum`, the first complete download's SHA-256 is recorded (after it was
    extracted) in the cache's checksums.json, and any later download must match it.
    """
    archive = download(url, paths.cache_dir() / "downloads" / filename,
                       checksum=checksum, size=size, progress=progress, timeout=timeout)
    digest = first_seen_digest(_ledger(), name, archive, retry="try again.") if checksum is None else checksum
    # Extract beside the cache and rename at the end: an interrupted extraction leaves
    # no half dataset behind.
    tmp = Path(tempfile.mkdtemp(dir=paths.cache_dir(), prefix=f".{name}-"))
    try:
        try:
            extract_archive(archive, tmp)
            if not (tmp / member).is_dir():
                raise DatasetError(f"{archive} has no folder {member}/ inside; not used.")
        except DatasetError:
            archive.unlink(missing_ok=True)  # a refused archive is not kept for the next try
            raise
        if root.exists():
            shutil.rmtree(root)
        os.replace(tmp / member, root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    mark_complete(root, url)
    if checksum is None:
        record_digest(_ledger(), name, digest)
    return root
