"""Where the course keeps downloads, generated data, weights and run outputs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = [
    "cache_dir", "data_dir", "keras_cache_dir", "outputs_dir", "repo_root", "weights_dir",
]

_PACKAGE_DIR = Path(__file__).resolve().parent


def repo_root() -> Path | None:
    """The repository root when course_utils runs from a clone (editable install), else None."""
    root = _PACKAGE_DIR.parent
    return root if (root / "notebooks").is_dir() and (root / "data").is_dir() else None


def data_dir() -> Path:
    """The data folder: $COURSE_DATA_DIR, else <repo>/data, else ~/.cache/course_utils.

    Used in notebook 00, section 4.
    """
    env = os.environ.get("COURSE_DATA_DIR")
    if env:
        return Path(env).expanduser()
    root = repo_root()
    if root is not None:
        return root / "data"
    return Path.home() / ".cache" / "course_utils"


def cache_dir() -> Path:
    """Downloaded and generated datasets: <data_dir>/cache (ignored by git)."""
    return data_dir() / "cache"


def weights_dir() -> Path:
    """Local pretrained weights: $COURSE_WEIGHTS_DIR, else <data_dir>/weights."""
    env = os.environ.get("COURSE_WEIGHTS_DIR")
    return Path(env).expanduser() if env else data_dir() / "weights"


def keras_cache_dir() -> Path:
    """Keras' own download cache for model weights ($KERAS_HOME/models, else ~/.keras/models)."""
    home = os.environ.get("KERAS_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".keras"
    return base / "models"


def outputs_dir() -> Path:
    """Where executed notebooks and results go: $COURSE_OUTPUT_DIR, else <repo>/outputs.

    Used in notebook 05, section 6.
    """
    env = os.environ.get("COURSE_OUTPUT_DIR")
    if env:
        folder = Path(env).expanduser()
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(
                f"COURSE_OUTPUT_DIR={env!r} is a file, not a folder: point it at a folder (created if "
                f"missing), e.g. {folder.parent / 'outputs'}, or unset it to use the repository's outputs/.")
        return folder
    root = repo_root()
    return (root if root is not None else Path.cwd()) / "outputs"


def writable(folder: Path) -> bool:
    """True when files can be created in `folder` (created if missing)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def work_dir(sub: str) -> Path:
    """Where the course writes what it computes (split folders, features): ``<cache_dir>/<sub>``.

    When the data folder is read-only (a classroom's shared COURSE_DATA_DIR), the course's own
    files go to ``<outputs_dir>/cache/<sub>`` instead; what the shared folder already holds is
    still read from there.
    """
    shared = cache_dir() / sub
    return shared if writable(shared) else outputs_dir() / "cache" / sub
