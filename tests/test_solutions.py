"""The solutions/ notebooks: one per course notebook, every checked exercise answered, and every
check in them says *correct* when run in `smoke` (the checkers' wrong-answer tests are in
test_exercise_checks.py and test_checks.py, so a checker that accepts anything fails there).
"""

import json
import re

import pytest

from conftest import NOTEBOOKS, ROOT
from notebook_runs import papermill_run

SOLUTIONS = sorted((ROOT / "solutions").glob("*_solutions.ipynb"))
CHECK = re.compile(r"checks\.([A-Z_]+)\.check\(")


def _code(path):
    return "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")


def _exercises(path):
    nb = json.loads(path.read_text())
    return "".join([c for c in nb["cells"] if c["cell_type"] == "markdown"][-1]["source"]).split("## Exercises")[-1]


def test_every_notebook_has_a_solutions_notebook_and_each_checker_is_used_in_both():
    stems = [p.name.replace("_solutions", "") for p in SOLUTIONS]
    missing = [p.name for p in NOTEBOOKS if p.name not in stems]
    assert not missing, f"no solutions/<name>_solutions.ipynb for {missing}"
    for nb in NOTEBOOKS:
        asked = set(CHECK.findall(_code(nb)))
        answered = set(CHECK.findall(_code(ROOT / "solutions" / nb.name.replace(".ipynb", "_solutions.ipynb"))))
        assert asked == answered, f"{nb.name}: checked in the notebook {sorted(asked)}, in its solutions {sorted(answered)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_exercise_is_checked_or_marked_discussion(path):
    items = re.split(r"^\d+\. ", _exercises(path), flags=re.M)[1:]  # each item, all its lines
    assert items, f"{path.name}: no numbered exercises"
    unmarked = [i.splitlines()[0] for i in items if "[checked]" not in i and "(discussion" not in i]
    assert not unmarked, f"{path.name}: mark each exercise **[checked]** or *(discussion)*: {unmarked}"
    marked = sum(i.count("[checked]") for i in items)
    assert marked == len(CHECK.findall(_code(path))), f"{path.name}: {marked} [checked] marks, check cells differ"


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solutions_are_committed_without_outputs(path):
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            assert not cell["outputs"] and cell["execution_count"] is None, f"{path.name}: strip the outputs"


@pytest.mark.notebook
@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solutions_run_in_smoke_and_every_check_says_correct(path, tmp_path):
    """Each solution's one run in a test session (papermill: nbval does not collect solutions/)."""
    cells = papermill_run(path, tmp_path)["cells"]
    outputs = [o for c in cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    verdicts = ["".join(o["data"]["text/markdown"]) for o in outputs if "text/markdown" in o.get("data", {})]
    checks_run = len(CHECK.findall(_code(path)))
    assert len(verdicts) == checks_run and all(v.startswith("✅ **correct**") for v in verdicts), verdicts
