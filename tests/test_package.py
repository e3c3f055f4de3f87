"""The package's public face: what the notebooks use is in each module's __all__, and the package
docstring maps every module to its job."""

import importlib
import json
import re

import pytest

import course_utils
from conftest import ROOT

MODULES = sorted(p.stem for p in (ROOT / "course_utils").glob("*.py") if p.stem != "__init__")
NOTEBOOK_FILES = sorted([*(ROOT / "notebooks").glob("*.ipynb"), *(ROOT / "solutions").glob("*.ipynb")])


def _notebook_code():
    return "\n".join("".join(c["source"]) for path in NOTEBOOK_FILES
                     for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")


def _notebook_modules():
    code = _notebook_code()
    imported = {name.strip() for group in re.findall(r"from course_utils import ([\w, ]+)", code)
                for name in group.split(",")}
    return sorted(imported), code


def test_the_notebooks_import_modules_that_exist():
    imported, _ = _notebook_modules()
    assert imported and set(imported) <= set(MODULES), set(imported) - set(MODULES)


@pytest.mark.parametrize("name", _notebook_modules()[0])
def test_every_name_a_notebook_uses_is_in_its_modules_all(name):
    module = importlib.import_module(f"course_utils.{name}")
    public = getattr(module, "__all__", None)
    assert public, f"course_utils/{name}.py is used by the notebooks: give it an __all__ at its top"
    assert not [n for n in public if not hasattr(module, n)], f"{name}.__all__ names what it does not define"
    used = set(re.findall(rf"(?<![\w.]){name}\.([A-Za-z]\w*)", _notebook_modules()[1]))
    # Attributes of a Run or other objects that happen to share a module's name are not ours to list.
    missing = sorted(n for n in used if hasattr(module, n) and n not in public)
    assert not missing, f"the notebooks use {name}.{missing}: add them to {name}.__all__"


def test_the_package_docstring_maps_every_module_to_its_job():
    doc = course_utils.__doc__
    for heading in ("For the notebooks", "Internal", "Command line"):
        assert heading in doc
    missing = [m for m in MODULES if f"``{m}``" not in doc]
    assert not missing, f"course_utils/__init__.py's docstring does not say what {missing} are for"
