"""The set-up cell every notebook and solutions notebook starts with (its first code cell, below the title).

In a clone it puts the repository folder on ``sys.path``. On Colab it makes ``course_utils``
importable, in this order: already importable; a copy of the course in ``/content`` or on a
mounted Drive (a zip of the course uploaded to ``/content`` is unpacked first, safely: no path
leaving its folder, nothing existing overwritten); else ``pip install`` from the course
repository at the tag of this version. When that fails it stops with one message saying why and
the two ways out (upload a zip of the course, or ``pip install`` a path), not a traceback. With
Drive mounted (opt-in: ``from google.colab import drive; drive.mount("/content/drive")``)
weights and data go to ``MyDrive/tl-course`` and survive the session.

The repository URL and the version come from one place, ``course_utils.REPO_URL`` and
``course_utils.__version__`` (pyproject.toml reads its version from there too). The cell is
generated, never edited by hand:

    python -m course_utils.notebook_setup --write   # rewrite the cell in notebooks/ and solutions/
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
# Placeholders @TITLE@, @URL@ and @VERSION@ (not str.format: the cell's own code has braces).
TEMPLATE = r'''@TITLE@
import os
import subprocess
import sys
from pathlib import Path

if "google.colab" in sys.modules:
    import importlib.util
    import zipfile

    content, drive = Path("/content"), Path("/content/drive/MyDrive")
    if "COURSE_DATA_DIR" not in os.environ and drive.is_dir():  # Drive mounted: downloads outlive the session
        os.environ["COURSE_DATA_DIR"] = str(drive / "tl-course" / "data")
        os.environ["KERAS_HOME"] = str(drive / "tl-course" / "keras")
        print(f"Weights and data are kept on your Drive, in {drive / 'tl-course'}")
    elif "COURSE_DATA_DIR" not in os.environ:
        print("Weights and data vanish with this runtime. To keep them: "
              "from google.colab import drive; drive.mount('/content/drive'), then run this cell again.")
    for archive in sorted(content.glob("*.zip")):  # an uploaded zip of the course, unpacked once
        target = content / archive.stem
        with zipfile.ZipFile(archive) as z:
            names = z.namelist()
            if target.exists() or not any(n.endswith("course_utils/__init__.py") for n in names):
                continue
            if any(n.startswith("/") or ".." in n.split("/") for n in names):  # refused, not repaired
                print(f"{archive.name}: not unpacked, it holds paths outside its folder")
                continue
            z.extractall(target)
    copies = [p.parent for pattern in ("*/course_utils", "*/*/course_utils") for base in (content, drive)
              for p in sorted(base.glob(pattern)) if (p / "__init__.py").is_file()]
    if importlib.util.find_spec("course_utils") is None and copies:
        sys.path.insert(0, str(copies[0]))
        print(f"course_utils from {copies[0]}")
    if importlib.util.find_spec("course_utils") is None:
        done = subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                               "git+@URL@@v@VERSION@"], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            why = ([line for line in done.stderr.splitlines() if line.strip()] or ["pip failed"])[-1]
            raise SystemExit(
                f"course_utils could not be installed from @URL@ at tag v@VERSION@: {why}\n"
                "Two ways out: (1) upload a zip of the course (Files pane on the left) into /content and run "
                "this cell again: it is unpacked there; (2) pip install a copy you have, e.g. "
                "!pip install /content/drive/MyDrive/transfer-learning-keras, then run this cell again.")
elif (Path.cwd().parent / "course_utils").is_dir():
    sys.path.insert(0, str(Path.cwd().parent))'''
METADATA = {"cellView": "form", "jupyter": {"source_hidden": True}}
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOLUTIONS = NOTEBOOKS.parent / "solutions"


def source(url: str = REPO_URL, version: str = __version__) -> str:
    """The set-up cell's source for this repository and version."""
    return TEMPLATE.replace("@TITLE@", TITLE).replace("@URL@", url).replace("@VERSION@", version)


INDEX = NOTEBOOKS.parent / "index.ipynb"


def _title(path: Path) -> str:
    """A notebook's title: the first line of its first markdown cell, without the '#'."""
    import json

    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            return "".join(cell["source"]).splitlines()[0].lstrip("# ").strip()
    return path.stem


def index_source(root: Path | None = None) -> str:
    """The markdown of index.ipynb: every notebook with its solutions, and every document, linked."""
    root = root or NOTEBOOKS.parent
    lines = ["# Transfer Learning and Fine-tuning with TensorFlow/Keras: start here", "",
             ("Work through the notebooks in order, from 00; each one's exercises have their solutions in "
              "`solutions/` (try first). Executed copies of a run land in `outputs/`."), "",
             "| notebook | solutions |", "|---|---|"]
    for nb in sorted((root / "notebooks").glob("*.ipynb")):
        sol = root / "solutions" / f"{nb.stem}_solutions.ipynb"
        solved = f"[solutions](solutions/{sol.name})" if sol.exists() else ""
        lines.append(f"| [{_title(nb)}](notebooks/{nb.name}) | {solved} |")
    lines += ["", "Documents:", ""]
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        if doc.exists():
            rel = doc.relative_to(root).as_posix()
            first = next((line.lstrip("# ").strip() for line in doc.read_text(encoding="utf-8").splitlines()
                          if line.startswith("#")), rel)
            lines.append(f"- [{rel}]({rel}): {first}")
    lines += ["", "*Generated by `python -m course_utils.notebook_setup --write`; a test fails while it is stale.*"]
    return "\n".join(lines)


def write_index(path: Path = INDEX) -> bool:
    """Write index.ipynb (a single markdown cell) if it differs; True when the file changed."""
    import nbformat

    text = index_source(path.parent)
    if path.exists():
        nb = nbformat.read(path, as_version=4)
        if len(nb.cells) == 1 and nb.cells[0].source == text:
            return False
        nb.cells[0].source = text
    else:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text, id="index")])
        nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nbformat.write(nb, path)
    return True


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
    if "google.colab" not in cell.source and '"course_utils"' not in cell.source:
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
                        help="notebooks (default: every notebooks/*.ipynb and solutions/*.ipynb)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb")) + sorted(SOLUTIONS.glob("*.ipynb"))
    if args.write:
        for path in paths:
            print(f"{path.name}: {'updated' if update(path) else 'already current'}")
        if not args.notebooks:
            print(f"{INDEX.name}: {'updated' if write_index() else 'already current'}")
        return 0
    import nbformat

    stale = [p.name for p in paths if not is_current(setup_cell(nbformat.read(p, as_version=4)))]
    if not args.notebooks and (not INDEX.exists() or nbformat.read(INDEX, as_version=4).cells[0].source
                               != index_source()):
        stale.append(INDEX.name)
    for name in stale:
        print(f"{name}: set-up cell is stale; run python -m course_utils.notebook_setup --write")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
