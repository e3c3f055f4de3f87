"""Shared test set-up: offline, smoke profile, quiet TensorFlow, no display; markers; notebook runs.

The environment is set before any notebook kernel starts, so nbval's kernels (which inherit
it) run the notebooks in smoke exactly as papermill does with PROFILE=smoke.

Markers (registered in pyproject.toml): ``notebook`` (executes a notebook or a solution),
``real`` (the real tier), ``slow`` (a unit test over ~5 s, or the repeats of a parametrized test
over the heavier backbones: ``each_backbone``), ``browser`` (JupyterLab in
Chromium). nbval's cells get ``notebook`` here, tests/test_real_tier.py gets ``real``;
the others carry theirs in their files. ``make test-unit`` deselects all four.
"""

import os
import tempfile
from pathlib import Path

os.environ["COURSE_PROFILE"] = "smoke"
os.environ["COURSE_OFFLINE"] = "1"  # never probe the network in tests
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("COURSE_PROGRESS", "0")  # no progress bars in test logs (course_utils.progress)
os.environ.setdefault("COURSE_TENSORBOARD", "0")  # 04 starts no TensorBoard server in headless runs
# Executed notebooks save models, results and claims under COURSE_OUTPUT_DIR: keep the test
# run's away from a learner's outputs/ folder.

import pytest  # noqa: E402

from notebook_runs import Executions, order_items, smoke_environment, summary
from run_tests import end_on_sigterm

end_on_sigterm()  # stopped by make test or CI, pytest ends as on Ctrl-C: teardown and summary (tests/run_tests.py)


def pytest_runtest_setup(item):
    end_on_sigterm()  # again: a notebook papermill ran in this process left SIGTERM at the system default

os.environ.update(smoke_environment(tempfile.mkdtemp(prefix="course-test-outputs-")))

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# Their bytes before anything ran: executing a notebook must never write to it.
AS_COLLECTED = {p: p.read_bytes() for p in NOTEBOOKS}

# Marks for files whose owners keep them free of test plumbing (by file name).
MODULE_MARKERS = {"test_real_tier.py": ("real",)}


def each_backbone(names):
    """Registry backbones as parameters: the lightest (smoke's default) in ``make test-unit``, the others
    marked ``slow`` (the same code path on bigger models, ~1-5 s each: ``make test`` runs them)."""
    from course_utils import profiles
    light = profiles.PROFILES["smoke"].backbone
    return [name if name == light else pytest.param(name, marks=pytest.mark.slow) for name in names]


def pytest_configure(config):
    """nbval reads the sanitize file relative to the current directory: make it absolute."""
    given = config.getoption("nbval_sanitize_with", default=None)
    if given and not Path(given).is_absolute() and not Path(given).exists():
        config.option.nbval_sanitize_with = str(ROOT / given)


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(session, config, items):
    from nbval.plugin import IPyNbCell

    for item in items:
        if isinstance(item, IPyNbCell):
            item.add_marker("notebook")
        for marker in MODULE_MARKERS.get(item.path.name, ()):
            item.add_marker(marker)
    order_items(items)
    config.stash[_SESSION] = session


_SESSION = pytest.StashKey[pytest.Session]()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    session = config.stash.get(_SESSION, None)
    if session is None:
        return
    failed = {r.nodeid for r in terminalreporter.stats.get("failed", []) + terminalreporter.stats.get("error", [])}
    for line in summary(session, failed):
        terminalreporter.write_line(line)


def pytest_sessionfinish(session, exitstatus):
    """Remove the test run's outputs folder (executed notebooks' models and results)."""
    import shutil

    shutil.rmtree(os.environ["COURSE_OUTPUT_DIR"], ignore_errors=True)


@pytest.fixture(scope="session")
def executed_notebooks(request, tmp_path_factory):
    """``executed_notebooks.executed(path)``: this session's one run of a notebook (notebook_runs.py)."""
    return Executions(request.session, tmp_path_factory.mktemp("executed"))


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """An empty data folder (and Keras cache) so tests never see a real download."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("COURSE_WEIGHTS_DIR", raising=False)
    return tmp_path / "data"

