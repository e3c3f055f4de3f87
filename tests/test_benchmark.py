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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux autogroups")
def test_scheduling_share_times_the_halves_alone_and_beside_the_rest_and_run_tests_uses_the_lowest(tmp_path):
    """A tiny run writes its table (numbers not asserted); the committed run is what NICE is chosen from."""
    out = tmp_path / "share.md"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "scheduling_share.py"), "--rounds", "1",
                           "--loops", "100000", "--nice", "10", "19", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    if done.returncode == 2 and "autogroups only" in done.stderr:
        pytest.skip(done.stderr)
    assert done.returncode == 0, done.stderr
    table = out.read_text()
    assert "| nothing (the halves alone) |" in table and "| 4 busy processes at nice 19 |" in table
    committed = (ROOT / "benchmarks" / "results" / "scheduling_share.md").read_text()
    import run_tests

    assert f"| 4 busy processes at nice {run_tests.NICE} |" in committed, "the value in use was measured"
