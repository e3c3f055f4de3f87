"""d2l-style back-links: every course_utils function or class a notebook calls says in its docstring
where the course teaches or uses it ("notebook 05, section 3"), and every such link names a
numbered section heading ("## 3. ...") that exists in that notebook."""

import ast
import json
import re

from conftest import NOTEBOOKS, ROOT

LINK = re.compile(r"notebook (\d\d),? sections? (\d+)")
MODULES = sorted(p.stem for p in (ROOT / "course_utils").glob("*.py") if not p.stem.startswith("_"))


def _sections() -> dict[str, set[int]]:
    out = {}
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        out[path.name[:2]] = {int(n) for n in re.findall(r"^## (\d+)\. ", text, flags=re.MULTILINE)}
    return out


def _called() -> dict[tuple[str, str], set[str]]:
    """(module, name) of every course_utils function or class the notebooks' code names."""
    found: dict[tuple[str, str], set[str]] = {}
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            try:
                tree = ast.parse("".join(cell["source"]))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in MODULES:
                    found.setdefault((node.value.id, node.attr), set()).add(path.name[:2])
    return found


def _definitions(module: str) -> dict[str, str]:
    """Docstrings of the module-level functions and classes of course_utils/<module>.py (read, not imported)."""
    tree = ast.parse((ROOT / "course_utils" / f"{module}.py").read_text())
    return {n.name: ast.get_docstring(n) or "" for n in tree.body
            if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def _documented() -> dict[str, tuple[str, set[str]]]:
    out = {}
    for (module, name), where in sorted(_called().items()):
        defined = _definitions(module)
        if name in defined:  # constants, instances and names a notebook reuses for its own variables are skipped
            out[f"{module}.{name}"] = (defined[name], where)
    return out


def test_every_helper_a_notebook_calls_links_to_where_the_course_teaches_or_uses_it():
    missing = [f"{name} (called in {sorted(where)})" for name, (doc, where) in _documented().items()
               if not LINK.search(doc)]
    assert not missing, ("say in the docstring where the course teaches or uses it, as 'notebook NN, section N': "
                         + "; ".join(missing))


def test_every_back_link_names_an_existing_notebook_section():
    sections = _sections()
    broken = []
    for module in MODULES:
        source = (ROOT / "course_utils" / f"{module}.py").read_text()
        for docstring in (ast.get_docstring(n) for n in ast.walk(ast.parse(source))
                          if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Module))):
            for notebook, section in LINK.findall(docstring or ""):
                if int(section) not in sections.get(notebook, set()):
                    broken.append(f"{module}.py: notebook {notebook}, section {section}")
    assert not broken, f"back-links to sections that do not exist: {broken}"


def test_the_link_pattern_reads_the_course_spelling():
    assert LINK.findall("Written out in notebook 03, section 5; used in notebook 05, section 4.") == [
        ("03", "5"), ("05", "4")]
