"""The output-check convention (docs/testing.md): marked cells, their committed outputs, sanitizers.

A code cell whose output is deterministic carries the line ``# NBVAL_CHECK_OUTPUT`` and is
committed with its outputs, an execution count and the ``keep_output`` tag; nbval (run by
``make test`` on notebooks/) compares them with the new run after the sanitizers of
tests/nbval_sanitize.cfg. ``make refresh-outputs`` (tests/refresh_outputs.py) rewrites them.
"""

import json
import os
import re
import subprocess
import sys

import nbformat
import pytest
from nbval.plugin import get_sanitize_patterns

import refresh_outputs
from conftest import NOTEBOOKS, ROOT
from notebook_runs import CHECK_MARKER, KEEP_TAG, SANITIZE_FILE, is_marked

# The notebooks whose deterministic cells the course promises to check (issue 21): NumPy numbers
# on one BLAS thread (01), formula checks against Keras (02), shapes and parameter counts and the
# generated dataset's split summary (03, 04).
MUST_CHECK = ("01", "02", "03", "04")


def _cells(path):
    return json.loads(path.read_text())["cells"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_marked_cell_is_committed_with_its_output_count_and_tag(path):
    for i, cell in enumerate(_cells(path)):
        tags = cell.get("metadata", {}).get("tags", [])
        if not is_marked(cell):
            assert KEEP_TAG not in tags, f"{path.name} cell {i}: tagged {KEEP_TAG} but not marked; make refresh-outputs"
            continue
        where = f"{path.name} cell {i} ({cell.get('id')})"
        # nbval silently compares nothing when the count is missing, and fails 'Unrun reference
        # cell has outputs' when only the count is: both come from one refresh.
        assert cell["execution_count"] is not None and cell["outputs"], f"{where}: run make refresh-outputs"
        assert KEEP_TAG in tags and cell["metadata"].get(KEEP_TAG) is True, (
            f"{where}: without the {KEEP_TAG} tag and metadata key nbstripout would drop the expected output")
        kinds = {o["output_type"] for o in cell["outputs"]}
        assert "error" not in kinds, f"{where}: the expected output is an error"
        data = {k for o in cell["outputs"] for k in o.get("data", {})}
        assert not data & set(refresh_outputs.DROPPED_DATA), f"{where}: images are not compared; leave them out"


def test_the_promised_notebooks_have_checked_cells():
    marked = {p.name[:2]: sum(map(is_marked, _cells(p))) for p in NOTEBOOKS}
    missing = [n for n in MUST_CHECK if not marked.get(n)]
    assert not missing, f"no # NBVAL_CHECK_OUTPUT cell in notebooks {missing}: {marked}"


def test_solutions_carry_no_expected_outputs():
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        assert not any(map(is_marked, _cells(path))), f"{path.name}: nbval does not run solutions/"


def _patterns():
    return get_sanitize_patterns(SANITIZE_FILE.read_text())


def _sanitize(text):
    for regex, replace in _patterns():  # in order, as nbval applies them
        text = re.sub(regex, replace, text)
    return text


def test_nbval_reads_every_sanitizer_pair_of_the_file():
    lines = [ln for ln in SANITIZE_FILE.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(_patterns()) * 2 == len(lines) == 2 * sum(ln.startswith("regex: ") for ln in lines), (
        "each pair must be a 'regex: ' line followed by a 'replace: ' line (nbval ignores any other form)")
    for regex, _ in _patterns():
        re.compile(regex)


@pytest.mark.parametrize(("a", "b"), [
    ("<Functional object at 0x7f3a2c1d0e50>", "<Functional object at 0x55d0c0ffee00>"),
    ("4 seeds in 1.2 s; 30 ms/step", "4 seeds in 13.75 s; 9 ms/step"),
    ("saved /tmp/course-test-outputs-ab12_x/models/03.keras", "saved /var/tmp/course-test-outputs-zz9/models/03.keras"),
    ("split folders: /home/ann/course/data/cache/shapes", "split folders: /work/ci/clone/data/cache/shapes"),
    ("dataset 'shapes' at /work/clone/data/cache/shapes", "dataset 'shapes' at /home/ann/mydata/cache/shapes"),
    ("split fingerprint: a2a0bbcd95be (seed 0)", "split fingerprint: 7067dd460a69 (seed 0)"),
    ("split folders: /a/data/cache/splits/shapes-a2a0bbcd95be-32px", "split folders: /b/data/cache/splits/shapes-7067dd460a69-32px"),
])
def test_sanitizers_hide_addresses_times_and_paths(a, b):
    assert a != b and _sanitize(a) == _sanitize(b)


@pytest.mark.parametrize(("a", "b"), [
    ("accuracy 0.912", "accuracy 0.913"), ("14,714,688 parameters", "14,714,689 parameters"),
    ("(None, 2, 2, 512)", "(None, 2, 2, 256)"), ("12 samples", "13 samples"), ("train: 40 images", "train: 41 images"),
])
def test_sanitizers_keep_the_numbers_that_matter(a, b):
    assert _sanitize(a) != _sanitize(b)


def _nbval(path):
    """nbval on one notebook in a pytest of its own (none of this project's options or conftest)."""
    (path.parent / "pytest.ini").write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "--nbval-lax", "--nbval-current-env",
         f"--nbval-sanitize-with={SANITIZE_FILE}", "-c", str(path.parent / "pytest.ini"),
         "--rootdir", str(path.parent), str(path)],
        cwd=path.parent, env=env, capture_output=True, text=True, timeout=300, check=False)
    outcome = {int(cell): result for result, cell in re.findall(r"^(PASSED|FAILED) \S+::Cell (\d+)", done.stdout, re.M)}
    return done, outcome


@pytest.mark.slow
def test_refreshed_outputs_pass_nbval_and_a_deliberate_change_fails_it(tmp_path):
    cells = [
        nbformat.v4.new_code_cell(f"{CHECK_MARKER}\nprint('parameters:', f'{{6 * 7:,}}')"),
        nbformat.v4.new_code_cell(f"{CHECK_MARKER}\nprint([1, 2, 3])"),
        nbformat.v4.new_code_cell(f"{CHECK_MARKER}\nprint(object())  # a new address each run"),
        nbformat.v4.new_code_cell("import random\nprint(random.random())  # not marked: never compared"),
    ]
    path = tmp_path / "convention.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)

    assert refresh_outputs.refresh(path) == [c.id for c in cells[:3]]
    refreshed = nbformat.read(path, as_version=4)
    assert all(KEEP_TAG in c.metadata.tags and c.execution_count for c in refreshed.cells[:3])
    assert refreshed.cells[3].outputs == [] and "tags" not in refreshed.cells[3].metadata

    # The deliberate change: one expected output edited as if the code had printed something else.
    refreshed.cells[1].outputs[0].text = "[1, 2, 4]\n"
    nbformat.write(refreshed, path)
    done, outcome = _nbval(path)
    assert outcome == {0: "PASSED", 1: "FAILED", 2: "PASSED", 3: "PASSED"}, done.stdout + done.stderr
    assert "Cell outputs differ" in done.stdout and "[1, 2, 4]" in done.stdout
    assert done.returncode == 1
