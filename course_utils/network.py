"""Is the internet reachable? One cheap, cached probe that the rest of the package shares."""

from __future__ import annotations

import functools
import os
import socket
from urllib.parse import urlparse


def offline_forced() -> bool:
    """True when $COURSE_OFFLINE is set to 1/true/yes (classrooms, CI): never probe the network."""
    return os.environ.get("COURSE_OFFLINE", "").strip().lower() in {"1", "true", "yes"}


@functools.lru_cache(maxsize=32)
def _probe(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def can_reach(url: str, timeout: float = 2.0) -> bool:
    """True when a TCP connection to the URL's host opens within `timeout` seconds."""
    if offline_forced():
        return False
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return True
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return _probe(parsed.hostname or "", port, timeout)
