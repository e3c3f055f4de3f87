"""The benchmark script runs and writes its two tables (its numbers are not asserted: timing
targets live in benchmarks/, not in timed tests)."""

import json
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_benchmark_tiny_run_writes_markdown_and_json(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "benchmark.py"), "--tiny",
                    "--output", str(tmp_path)], check=True, capture_output=True, timeout=600)
    results = json.loads((tmp_path / "benchmark.json").read_text())
    assert results["matmul_gflops"] > 0 and results["peak_rss_gb"] > 0
    assert {"cached_vs_frozen_speedup", "extraction_fraction_of_matmul", "peak_rss_gb"} <= set(results["targets"])
    assert all(e["images_per_s"] > 0 for e in results["extraction"])
    table = (tmp_path / "benchmark.md").read_text()
    assert "| fp32 matmul |" in table and "| peak RSS |" in table
