"""Every notebook's set-up cell is the generated one, installing this version from the repository."""

import tomllib

import nbformat
import pytest

import course_utils
from conftest import NOTEBOOKS, ROOT
from course_utils import notebook_setup

SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
ALL = NOTEBOOKS + SOLUTIONS
ids = [p.stem for p in ALL]


@pytest.mark.parametrize("path", ALL, ids=ids)
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
    assert notebook_setup.main(["--check"]) == 0  # every notebook and solutions notebook is current
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


# ------------------------------------------------------------------ the cell on Colab


def _run_cell_as_on_colab(tmp_path, url="file:///no/such/course"):
    """The set-up cell in a bare interpreter (-I -S: no site-packages, so no course_utils and no pip),
    with google.colab faked and /content moved to tmp_path/content."""
    import subprocess
    import sys

    content = tmp_path / "content"
    content.mkdir(exist_ok=True)
    cell = notebook_setup.source(url=url).replace("/content", str(content))
    code = "import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')\n" + cell + (
        "\nimport course_utils, os\nprint('IMPORTED', course_utils.__file__)\n"
        "print('DATA', os.environ.get('COURSE_DATA_DIR'))")
    env = {"PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-I", "-S", "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=120, check=False), content


def _course_zip(path, extra=None):
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        z.writestr("transfer-learning-keras-main/course_utils/__init__.py", "MARK = 1\n")
        z.writestr("transfer-learning-keras-main/README.md", "course\n")
        for name, text in (extra or {}).items():
            z.writestr(name, text)
    return path


def test_on_colab_a_failed_install_stops_with_why_and_the_two_ways_out_not_a_traceback(tmp_path):
    done, _ = _run_cell_as_on_colab(tmp_path)
    assert done.returncode == 1
    assert "course_utils could not be installed from file:///no/such/course at tag v" in done.stderr
    assert "upload a zip of the course" in done.stderr and "!pip install " in done.stderr
    assert "Traceback" not in done.stderr
    assert "drive.mount(" in done.stdout  # without Drive: the one line that says how to keep the downloads


def test_on_colab_an_uploaded_zip_of_the_course_is_unpacked_and_used_and_drive_keeps_the_data(tmp_path):
    content = tmp_path / "content"
    (content / "drive" / "MyDrive").mkdir(parents=True)
    _course_zip(content / "course.zip")
    done, _ = _run_cell_as_on_colab(tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"IMPORTED {content / 'course' / 'transfer-learning-keras-main' / 'course_utils' / '__init__.py'}" in done.stdout
    assert f"DATA {content / 'drive' / 'MyDrive' / 'tl-course' / 'data'}" in done.stdout


def test_on_colab_a_zip_with_paths_outside_its_folder_or_a_folder_already_there_is_left_alone(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    _course_zip(content / "evil.zip", {"../outside.txt": "x"})
    mine = content / "course"
    mine.mkdir()
    (mine / "notes.txt").write_text("my work")
    _course_zip(content / "course.zip")
    done, _ = _run_cell_as_on_colab(tmp_path)
    assert "evil.zip: not unpacked" in done.stdout
    assert not (tmp_path / "outside.txt").exists() and not (content / "evil").exists()
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]  # the learner's folder is untouched
    assert done.returncode == 1  # nothing usable: the install was tried and failed


def test_index_links_every_notebook_solution_and_document_and_every_link_resolves():
    import re

    text = notebook_setup.index_source()
    targets = re.findall(r"\]\(([^)]+)\)", text)
    assert all((ROOT / t).exists() for t in targets), [t for t in targets if not (ROOT / t).exists()]
    expected = {p.relative_to(ROOT).as_posix() for p in ALL} | {"README.md"} | {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")}
    assert expected <= set(targets), expected - set(targets)
    nb = nbformat.read(ROOT / "index.ipynb", as_version=4)
    assert [c.cell_type for c in nb.cells] == ["markdown"] and nb.cells[0].source == text, (
        "index.ipynb is stale: run python -m course_utils.notebook_setup --write")
