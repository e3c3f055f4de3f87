"""The errors of the data modules. Each message names the file, folder or URL, and what to do."""

from __future__ import annotations


class DatasetError(ValueError):
    """A dataset folder or file that cannot be used as it is (the message names it)."""


class DownloadError(RuntimeError):
    """A download that failed; no partial file is left behind."""


class ChecksumError(RuntimeError):
    """A downloaded file whose size or checksum is not the expected one (it was deleted)."""
