"""Each exercise can be done as its solution does, in the notebook it is asked in.

The exercise texts name variables of the notebook (`my_ece(y_test, best_proba)` in 05): a name
a later cell deletes gives the learner a NameError (issue 18), so the names are checked against
the notebook's `del` statements, and 05's exercise 1 is run for real in `smoke`, its answer taken
from solutions/.
"""

import ast
import json
import re

import papermill as pm
import pytest

from conftest import NOTEBOOKS, ROOT


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _exercise_text(path):
    markdown = [c for c in _cells(path) if c["cell_type"] == "markdown"]
    return "".join(markdown[-1]["source"]).split("## Exercises")[-1]


def _tree(cell) -> ast.Module:
    """A code cell's Python: a timing magic's code kept (`%time rep = ...` binds rep), other line magics as
    `pass`, cell-magic and shell lines dropped. A SyntaxError left after that is raised: a check that skipped the cell would be blind to it."""
    lines, continued = [], False
    for line in "".join(cell["source"]).splitlines():
        stripped = line.lstrip()
        if continued or stripped.startswith(("%%", "!")) or stripped.startswith("%") and stripped.endswith("\\"):
            continued = stripped.endswith("\\")  # a magic continued over lines (`%tensorboard \` ...): not Python
            continue
        if stripped.startswith("%"):  # IPython runs it as a call: `pass` in Python, the timed code for %time
            magic, _, code = stripped.partition(" ")
            line = line[:len(line) - len(stripped)] + (code if magic in ("%time", "%timeit", "%prun") and code else "pass")
        lines.append(line)
    return ast.parse("\n".join(lines))


def _stores(node) -> set[str]:
    """Names a statement (or a whole cell) binds: assignments, loop targets, defs, imports."""
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    names |= {n.name for n in ast.walk(node) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    return names | {(a.asname or a.name).split(".")[0] for n in ast.walk(node)
                    if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}


def _deleted_at_the_end(path) -> set[str]:
    """Names a `del` removed and no later statement bound again (top-level statements, in order)."""
    deleted: set[str] = set()
    for cell in _cells(path):
        if cell["cell_type"] != "code":
            continue
        for stmt in _tree(cell).body:
            if isinstance(stmt, ast.Delete):
                deleted |= {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}
            else:
                deleted -= _stores(stmt)
    return deleted


def _names_in_code_spans(text) -> set[str]:
    names = set()
    for span in re.findall(r"`([^`]+)`", text):
        try:
            tree = ast.parse(" ".join(span.split()), mode="eval")
        except SyntaxError:
            continue
        names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_exercises_name_no_variable_the_notebook_deleted(path):
    gone = _names_in_code_spans(_exercise_text(path)) & _deleted_at_the_end(path)
    assert not gone, f"{path.name}: the exercises use {sorted(gone)}, which a cell deletes (`del`): keep what they need"


def test_the_deleted_name_check_sees_a_deleted_variable():
    text = "compare `my_ece(y_test, best.test_proba)` with `rep.ece`"
    assert {"best", "y_test", "rep", "my_ece"} <= _names_in_code_spans(text)


def _bound(cell) -> set[str]:
    """Names a code cell binds or deletes at any depth."""
    tree = _tree(cell)
    return _stores(tree) | {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Del)}


def _prefix_for(cells: list, names: set[str], exercise_index: int) -> int:
    """The index of the last cell that binds one of `names` before the exercise cell. No cell after it may
    bind or delete them again (checked), so their values there are those the learner has at the end."""
    binding = [i for i, c in enumerate(cells[:exercise_index]) if c["cell_type"] == "code" and _bound(c) & names]
    assert binding, f"no cell binds {sorted(names)}"
    later = {i: sorted(_bound(c) & names) for i, c in enumerate(cells) if i > binding[-1] and i != exercise_index
             and c["cell_type"] == "code" and _bound(c) & names}
    assert not later, f"cells after {binding[-1]} bind or delete the exercise's names again: {later}"
    return binding[-1]


def test_the_prefix_check_sees_a_later_rebinding():
    code = [{"cell_type": "code", "source": s} for s in ("y = 1", "z = y", "y = 2", "ex()", "del y")]
    assert _prefix_for(code[:4], {"y"}, 3) == 2  # the last binding before the exercise
    with pytest.raises(AssertionError, match="bind or delete"):
        _prefix_for(code, {"y"}, 3)  # a cell after the exercise deletes y: the prefix would not be the end state
    assert _bound({"source": "for k in range(3):\n    del q\nimport numpy as np"}) == {"k", "q", "np"}
    assert _bound({"source": "%time rep = 1\n!ls\n%%capture\nx = 2"}) == {"rep", "x"}
    assert _bound({"source": "%tensorboard \\\n  --logdir {d}\ny = 3"}) == {"y"}
    assert _bound({"source": "if y:\n    %tensorboard --logdir {d}\nz = 1"}) == {"z"}


@pytest.mark.slow  # several seconds: run by make test, skipped by make test-unit
def test_05_exercise_1_done_as_its_solution_runs_in_smoke_and_matches_rep_ece(tmp_path):
    """The exercise's call, on the names 05 leaves for it, with the solution's function: equal to `rep.ece`.

    Runs 05 in smoke only up to the last cell that binds those names (no later cell binds or deletes them:
    checked), then the exercise cell: the whole notebook runs once, in the smoke tier (nbval)."""
    nb_path = next(p for p in NOTEBOOKS if p.name.startswith("05"))
    solution = ROOT / "solutions" / nb_path.name.replace(".ipynb", "_solutions.ipynb")
    answer = next("".join(c["source"]) for c in _cells(solution)
                  if c["cell_type"] == "code" and "def my_ece" in "".join(c["source"]))
    asked = re.search(r"compare\s+`(my_ece\([^`]+\))`\s+with\s+`([^`]+)`", _exercise_text(nb_path))
    assert asked, "05's exercise 1 no longer says `compare my_ece(...) with ...`: update this test"
    call, reference = asked.groups()
    nb = json.loads(nb_path.read_text())
    at = next(i for i, c in enumerate(nb["cells"])
              if c["cell_type"] == "code" and "checks.ECE.check(my_ece)" in "".join(c["source"]))
    needed = _names_in_code_spans(f"`{call}` `{reference}`") - {"my_ece"}
    cell = nb["cells"][at]
    cell["source"] = (f"from course_utils import checks\n\n{answer}\n\nours, reference = {' '.join(call.split())}, {reference}\n"
                      "print(f'EXERCISE-1 {ours!r} {reference!r}')\n")
    nb["cells"] = nb["cells"][:_prefix_for(nb["cells"], needed, at) + 1] + [cell]
    done = tmp_path / "05_done.ipynb"
    done.write_text(json.dumps(nb))
    out = tmp_path / "05_out.ipynb"
    pm.execute_notebook(str(done), str(out), parameters={"PROFILE": "smoke"}, cwd=str(nb_path.parent),
                        kernel_name="python3", progress_bar=False)
    text = "".join("".join(o.get("text", "")) for c in json.loads(out.read_text())["cells"] for o in c.get("outputs", []))
    ours, reference = map(float, re.search(r"EXERCISE-1 (\S+) (\S+)", text).groups())
    assert ours == pytest.approx(reference, abs=1e-12)
    assert "✅ **correct**" in "".join("".join(o.get("data", {}).get("text/markdown", ""))
                                      for c in json.loads(out.read_text())["cells"] for o in c.get("outputs", []))
