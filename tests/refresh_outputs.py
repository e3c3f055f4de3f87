"""Refresh the expected outputs of the cells marked ``# NBVAL_CHECK_OUTPUT`` (make refresh-outputs).

    python tests/refresh_outputs.py                  # every notebook that has a marked cell
    python tests/refresh_outputs.py notebooks/02_loss_formulas.ipynb ...

Each notebook is executed once, as the tests execute it (smoke, offline, its own temporary
outputs folder, run from notebooks/), and only its marked cells change: their outputs, their
execution count, and the ``keep_output`` tag that keeps nbstripout off them. Every other cell,
and every other byte of the file, stays as it was. Images are not kept (nbval does not compare
them, and they would bloat the file). Marking a cell is adding the line ``# NBVAL_CHECK_OUTPUT``
to it and running this; unmarking is removing the line and running this (docs/testing.md).
Review the diff before committing it: a changed number is either a regression or an
intended change, and only a person can say which.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notebook_runs import KEEP_TAG, is_marked, smoke_environment  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DROPPED_DATA = ("image/png", "image/jpeg", "image/svg+xml")


def _expected(outputs: list) -> list:
    """The outputs to commit: text kept, images and output metadata left out."""
    kept = []
    for out in copy.deepcopy(outputs):
        if "data" in out:
            out["data"] = {k: v for k, v in out["data"].items() if k not in DROPPED_DATA}
            out["metadata"] = {}
            if not out["data"]:
                continue
        kept.append(out)
    return kept


def refresh(path: Path, timeout: int = 1800) -> list[str]:
    """Execute ``path`` once and write its marked cells' outputs back; returns what changed."""
    nb = nbformat.read(path, as_version=4)
    stale_tags = [c for c in nb.cells if not is_marked(c) and KEEP_TAG in c.get("metadata", {}).get("tags", [])]
    marked = [c for c in nb.cells if is_marked(c)]
    if not marked and not stale_tags:
        return []
    run = copy.deepcopy(nb)
    with tempfile.TemporaryDirectory(prefix="course-test-outputs-") as out_dir:
        saved = dict(os.environ)
        os.environ.update(smoke_environment(out_dir))
        try:
            NotebookClient(run, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
        except CellExecutionError as err:
            raise SystemExit(f"{path.name} failed, nothing written (fix the notebook first):\n{err}") from None
        finally:
            os.environ.clear()
            os.environ.update(saved)
    changed = []
    for cell, ran in zip(nb.cells, run.cells):
        tags = cell.metadata.get("tags", [])
        if is_marked(cell):
            outputs = _expected(ran.outputs)
            if cell.outputs != outputs or cell.execution_count is None or KEEP_TAG not in tags:
                changed.append(cell.get("id", "?"))
            cell.outputs, cell.execution_count = outputs, ran.execution_count
            if KEEP_TAG not in tags:
                cell.metadata["tags"] = [*tags, KEEP_TAG]
            cell.metadata[KEEP_TAG] = True  # nbstripout reads the metadata key, and the tag
        elif KEEP_TAG in tags:  # unmarked: back to a plain cell, committed without outputs
            cell.metadata.pop(KEEP_TAG, None)
            cell.metadata["tags"] = [t for t in tags if t != KEEP_TAG]
            if not cell.metadata["tags"]:
                del cell.metadata["tags"]
            cell.outputs, cell.execution_count = [], None
            changed.append(cell.get("id", "?"))
    if changed:
        nbformat.validate(nb)
        tmp = path.with_name(f".{path.name}.refresh")
        tmp.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        tmp.replace(path)  # atomic: a failed run never leaves half a notebook
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to refresh (default: every notebooks/*.ipynb with a marked cell)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if not any(is_marked(c) or KEEP_TAG in c.metadata.get("tags", []) for c in nb.cells):
            continue
        changed = refresh(path.resolve())
        print(f"{path.name}: {len(changed)} marked cell(s) rewritten {changed if changed else '(unchanged)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
