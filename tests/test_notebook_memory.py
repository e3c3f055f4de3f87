"""The notebook memory benchmark measures a kernel's peak RSS (its numbers are recorded in
benchmarks/results/, not asserted against the 2 GB limit here)."""

import json
import os
import subprocess
import sys

import nbformat
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import notebook_memory  # noqa: E402


def test_vm_hwm_reads_this_process_and_none_for_a_gone_one():
    assert notebook_memory.vm_hwm(os.getpid()) > 10 * 1024**2
    assert notebook_memory.vm_hwm(2**22 + 1) is None


@pytest.mark.slow
def test_a_kernel_holding_300_mb_is_measured_above_it(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell('PROFILE = "smoke"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(
        "import numpy as np\nblock = np.ones(300 * 2**20, dtype=np.uint8)\nassert PROFILE == 'binder'")]
    nbformat.write(nb, folder / "00_tiny.ipynb")
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "notebook_memory.py"), "--profile", "binder",
                           "--notebooks", str(folder), "--results", str(tmp_path / "results")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "results" / "notebook_memory_binder.json").read_text())
    row = results["notebooks"][0]
    assert row["notebook"] == "00_tiny.ipynb" and row["error"] is None and row["within_limit"]
    assert 0.3 < row["peak_rss_gb"] < 2.0
    table = (tmp_path / "results" / "notebook_memory_binder.md").read_text()
    assert "| 00_tiny.ipynb |" in table and "notebook_memory.py --profile binder" in table
