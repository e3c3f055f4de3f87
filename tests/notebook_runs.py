"""Each notebook executed once per test run; nbval's run is the one the notebook tests read.

pytest collects notebooks/ with nbval (``--nbval-lax``, see pyproject.toml): every code cell is
a test item, the cells of a notebook run in one kernel, and the cells marked
``# NBVAL_CHECK_OUTPUT`` are compared with their committed outputs (docs/testing.md). The
tests that look at what a notebook printed (tests/test_notebooks.py) take ``executed(path)``:
nbval's run of that notebook when nbval ran it in this session, otherwise (e.g.
``pytest tests/test_notebooks.py`` alone) one papermill run with ``PROFILE=smoke``, kept for
the session. ``order_items`` puts nbval's cells before the tests that read them.

The solutions (not collected by nbval) run once each through ``papermill_run``. The end of the
test report says how each notebook was executed and how many marked cells nbval compared.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import papermill as pm
import pytest
from nbval.plugin import IPyNbCell

CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"  # nbval's own comment marker (the whole comment line)
KEEP_TAG = "keep_output"  # nbstripout keeps the outputs of cells tagged so
SANITIZE_FILE = Path(__file__).with_name("nbval_sanitize.cfg")

# How each notebook ran in this session: {"notebooks/03_....ipynb": "nbval"}; printed at the end.
RUNS: dict[str, str] = {}


def smoke_environment(output_dir: str | os.PathLike) -> dict[str, str]:
    """The variables every test-run notebook sees: smoke profile, offline, its own outputs folder.

    The kernels that nbval and papermill start inherit them, so both run the notebooks in the
    same smoke mode (the parameters cell reads ``COURSE_PROFILE``).
    """
    return {
        "COURSE_PROFILE": "smoke",
        "COURSE_OFFLINE": "1",  # never probe the network in tests
        # Executed notebooks save models, results and claims here: away from a learner's outputs/.
        "COURSE_OUTPUT_DIR": str(output_dir),
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"),
        "MPLBACKEND": os.environ.get("MPLBACKEND", "Agg"),
    }


def is_marked(cell) -> bool:
    """Whether nbval compares this code cell's output with the committed one."""
    return cell.get("cell_type") == "code" and any(
        line.strip() == CHECK_MARKER for line in "".join(cell.get("source", "")).splitlines())


def _label(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _nbval_cells(session: pytest.Session, path: Path) -> list[IPyNbCell]:
    return [item for item in session.items
            if isinstance(item, IPyNbCell) and Path(item.parent.path).resolve() == path.resolve()]


def papermill_run(path: Path, out_dir: Path, parameters: dict | None = None) -> nbformat.NotebookNode:
    """Execute one notebook with papermill into ``out_dir`` (``PROFILE=smoke`` unless given)."""
    out = out_dir / path.name
    pm.execute_notebook(str(path), str(out), parameters={"PROFILE": "smoke", **(parameters or {})},
                        cwd=str(path.parent), kernel_name="python3", progress_bar=False)
    RUNS[_label(path)] = "papermill"
    return nbformat.read(out, as_version=4)


class Executions:
    """The executed notebooks of one test session (the ``executed_notebooks`` fixture)."""

    def __init__(self, session: pytest.Session, out_dir: Path):
        self.session, self.out_dir = session, out_dir
        self._done: dict[Path, nbformat.NotebookNode] = {}

    def executed(self, path: Path) -> nbformat.NotebookNode:
        """The notebook with the outputs of this session's one run of it."""
        if path not in self._done:
            cells = _nbval_cells(self.session, path)
            self._done[path] = self._from_nbval(path, cells) if cells else papermill_run(path, self.out_dir)
        return self._done[path]

    @staticmethod
    def _from_nbval(path: Path, cells: list[IPyNbCell]) -> nbformat.NotebookNode:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        unrun = [item.name for item in cells if item.test_outputs is None]
        if unrun or len(cells) != len(code):
            pytest.fail(f"{path.name}: nbval collected it but did not run every cell ({', '.join(unrun)}); "
                        "see its failures above, or run the notebook's cells without deselecting any")
        for item in cells:
            code[item.cell_num].outputs = item.test_outputs
        RUNS[_label(path)] = "nbval"
        return nb


def order_items(items: list[pytest.Item]) -> None:
    """nbval's cells before the tests that read executed notebooks, each group in its own order."""
    nbval = [i for i in items if isinstance(i, IPyNbCell)]
    readers = [i for i in items if "executed_notebooks" in getattr(i, "fixturenames", ())]
    later = {id(i) for i in nbval + readers}
    first = [i for i in items if id(i) not in later]
    items[:] = first + nbval + readers


def summary(session: pytest.Session, failed_ids: set[str]) -> list[str]:
    """The report's closing lines: how each notebook ran, and what nbval compared."""
    cells = [i for i in session.items if isinstance(i, IPyNbCell) and i.test_outputs is not None]
    by_nbval = sorted({_label(Path(i.parent.path)) for i in cells})
    by_papermill = sorted(name for name, how in RUNS.items() if how == "papermill")
    lines = [f"executed once by {how}: {len(names)}: {', '.join(names)}"
             for how, names in (("nbval", by_nbval), ("papermill", by_papermill)) if names]
    twice = sorted(set(by_nbval) & set(by_papermill))
    if twice:
        lines.append(f"WARNING: executed twice in this session: {', '.join(twice)}")
    compared = [i for i in cells if i.options["check"] and i.cell.execution_count is not None]
    if compared:
        failed = [i for i in compared if i.nodeid in failed_ids]
        notebooks = {i.parent.path.name for i in compared}
        lines.append(f"nbval compared the outputs of {len(compared)} marked cells in {len(notebooks)} notebooks: "
                     f"{len(compared) - len(failed)} equal, {len(failed)} differ or failed")
    return lines
