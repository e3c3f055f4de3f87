"""Shared test set-up: offline, smoke profile, quiet TensorFlow, no display.

These variables are set before any notebook kernel starts, so nbval's kernels (which inherit
the environment) run the notebooks exactly as papermill does with PROFILE=smoke.
"""

import os

os.environ["COURSE_PROFILE"] = "smoke"
os.environ["COURSE_OFFLINE"] = "1"  # never probe the network in tests
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("COURSE_PROGRESS", "0")  # no progress bars in test logs (course_utils.progress)
os.environ.setdefault("COURSE_TENSORBOARD", "0")  # 04 starts no TensorBoard server in headless runs
# Executed notebooks save models, results and claims under COURSE_OUTPUT_DIR: keep the test
# run's away from a learner's outputs/ folder.
import tempfile  # noqa: E402

os.environ["COURSE_OUTPUT_DIR"] = tempfile.mkdtemp(prefix="course-test-outputs-")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def pytest_sessionfinish(session, exitstatus):
    """Remove the test run's outputs folder (executed notebooks' models and results)."""
    import shutil

    shutil.rmtree(os.environ["COURSE_OUTPUT_DIR"], ignore_errors=True)


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """An empty data folder (and Keras cache) so tests never see a real download."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("COURSE_WEIGHTS_DIR", raising=False)
    return tmp_path / "data"
