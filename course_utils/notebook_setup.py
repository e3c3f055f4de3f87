"""The set-up cell every notebook starts with (its first code cell, right below the title).

On Colab it installs ``course_utils`` from the course repository at the tag of this version;
in a clone it puts the repository folder on ``sys.path``. The repository URL and the version
come from one place, ``course_utils.REPO_URL`` and ``course_utils.__version__`` (pyproject.toml
reads its version from there too). The cell is generated, never edited by hand:

    python -m course_utils.notebook_setup --write   # rewrite the cell in notebooks/*.ipynb
    python -m course_utils.notebook_setup --check   # exit 1 if a notebook's cell is stale

The cell looks collapsed: JupyterLab hides its source (``jupyter.source_hidden``) and Colab
shows only its ``@title`` line (``cellView: form``). Only the cell's source and those two
metadata keys are touched; its id and every other cell stay as they are.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from . import REPO_URL, __version__

TITLE = "# @title Set-up: on Colab installs course_utils; in a clone puts it on the path"
TEMPLATE = '''{title}
import os
import subprocess
import sys
from pathlib import Path

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "git+{url}@v{version}"], check=True)
elif (Path.cwd().parent / "course_utils").is_dir():
    sys.path.insert(0, str(Path.cwd().parent))'''
METADATA = {"cellView": "form", "jupyter": {"source_hidden": True}}
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def source(url: str = REPO_URL, version: str = __version__) -> str:
    """The set-up cell's source for this repository and version."""
    return TEMPLATE.format(title=TITLE, url=url, version=version)


def installed_version(cell_source: str) -> str | None:
    """The version a set-up cell installs on Colab (the tag after '@v'), or None."""
    found = re.search(r"git\+\S+@v([0-9][^\"'\s]*)", cell_source)
    return found.group(1) if found else None


def setup_cell(nb):
    """The notebook's set-up cell: its first code cell."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            return cell
    raise ValueError("the notebook has no code cell")


def is_current(cell) -> bool:
    meta = cell.metadata
    return (cell.source == source() and meta.get("cellView") == "form"
            and meta.get("jupyter", {}).get("source_hidden") is True)


def update(path: Path) -> bool:
    """Rewrite `path`'s set-up cell if it is stale; True when the file changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cell = setup_cell(nb)
    if is_current(cell):
        return False
    if "google.colab" not in cell.source:
        raise ValueError(f"{path.name}: its first code cell is not the set-up cell:\n{cell.source[:200]}")
    cell.source = source()
    cell.metadata["cellView"] = METADATA["cellView"]
    cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
    nbformat.write(nb, path)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite stale set-up cells")
    mode.add_argument("--check", action="store_true", help="exit 1 if a set-up cell is stale")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks (default: every notebooks/*.ipynb)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.write:
        for path in paths:
            print(f"{path.name}: {'updated' if update(path) else 'already current'}")
        return 0
    import nbformat

    stale = [p.name for p in paths if not is_current(setup_cell(nbformat.read(p, as_version=4)))]
    for name in stale:
        print(f"{name}: set-up cell is stale; run python -m course_utils.notebook_setup --write")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
