"""Every notebook's set-up cell is the generated one, installing this version from the repository."""

import tomllib

import nbformat
import pytest

import course_utils
from conftest import NOTEBOOKS, ROOT
from course_utils import notebook_setup

ids = [p.stem for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_set_up_cell_is_the_generated_one_right_below_the_title(path):
    nb = nbformat.read(path, as_version=4)
    cell = notebook_setup.setup_cell(nb)
    assert notebook_setup.is_current(cell), (
        f"{path.name}: stale set-up cell; run python -m course_utils.notebook_setup --write")
    assert notebook_setup.installed_version(cell.source) == course_utils.__version__
    assert f"git+{course_utils.REPO_URL}@v{course_utils.__version__}" in cell.source
    before = nb.cells[:nb.cells.index(cell)]
    assert all(c.cell_type == "markdown" for c in before) and len(before) <= 2


def test_version_and_url_are_written_once():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["dynamic"] == ["version"]
    assert meta["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "course_utils.__version__"}
    assert meta["project"]["urls"]["Repository"] == course_utils.REPO_URL


def test_write_fixes_a_stale_cell_and_keeps_the_rest(tmp_path):
    src = NOTEBOOKS[-1]
    nb = nbformat.read(src, as_version=4)
    cell = notebook_setup.setup_cell(nb)
    cell.source = cell.source.replace(f"@v{course_utils.__version__}", "@v0.0.1")
    del cell.metadata["cellView"]
    stale = tmp_path / src.name
    nbformat.write(nb, stale)
    assert notebook_setup.installed_version(cell.source) == "0.0.1"
    assert notebook_setup.main(["--check", str(stale)]) == 1
    assert notebook_setup.main(["--write", str(stale)]) == 0
    fixed = nbformat.read(stale, as_version=4)
    assert notebook_setup.is_current(notebook_setup.setup_cell(fixed))
    assert notebook_setup.setup_cell(fixed).id == cell.id
    at = nb.cells.index(cell)
    others = [c.source for i, c in enumerate(fixed.cells) if i != at]
    assert others == [c.source for i, c in enumerate(nbformat.read(src, as_version=4).cells) if i != at]


def test_a_notebook_whose_first_code_cell_is_not_the_set_up_cell_is_refused(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("x = 1")])
    path = tmp_path / "09_other.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match="not the set-up cell"):
        notebook_setup.update(path)
    assert nbformat.read(path, as_version=4).cells[1].source == "x = 1"
