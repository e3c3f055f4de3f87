"""tests/run_tests.py (``make test``): the real tier's halves beside the rest, every failure counted,
every report printed, the halves' real-tier reports merged in order. Fake pytest commands: no notebook runs."""

import json
import sys

import pytest

import run_tests

# A stand-in for `python -m pytest ARGS`: says which part it is, writes a report entry when asked to, and
# exits with the status the test chose for that part.
FAKE = """
import json, os, sys
args = sys.argv[1:]
part = args[args.index("-k") + 1] if "-k" in args else "rest"
print("FAKE-PYTEST", part)
report = os.environ.get("COURSE_REAL_TIER_REPORT")
if report and part != "rest":
    with open(report, "w") as f:
        json.dump([{"part": part}], f)
sys.exit(int(os.environ.get("FAKE_EXIT_" + part.replace(" ", "_"), "0")))
"""


@pytest.fixture
def fake_pytest(monkeypatch, tmp_path):
    script = tmp_path / "fake_pytest.py"
    script.write_text(FAKE)
    monkeypatch.setattr(run_tests, "_pytest", lambda *args: [sys.executable, str(script), *args])
    report = tmp_path / "real_tier.json"
    monkeypatch.setenv("COURSE_REAL_TIER_REPORT", str(report))
    return report


def test_all_three_parts_run_and_the_halves_reports_are_merged_in_order(fake_pytest, capfd):
    assert run_tests.main([]) == 0
    out = capfd.readouterr().out
    assert out.count("FAKE-PYTEST") == 3, out
    assert "real tier 03-05 (ran beside the rest)" in out and "real tier 06-08 (ran beside the rest)" in out
    assert [e["part"] for e in json.loads(fake_pytest.read_text())] == ["03_to_05", "not 03_to_05"]
    assert "the rest passed" in out


@pytest.mark.parametrize("failing", ["rest", "03_to_05", "not_03_to_05"])
def test_a_failure_in_any_part_fails_the_run_and_is_named(fake_pytest, monkeypatch, capfd, failing):
    monkeypatch.setenv(f"FAKE_EXIT_{failing}", "1")
    assert run_tests.main([]) == 1
    out = capfd.readouterr().out
    assert "FAILED (exit 1)" in out
    assert out.count("FAKE-PYTEST") == 3, "every part still runs and its report is shown"


def test_serial_runs_one_pytest_with_every_test(fake_pytest, capfd):
    assert run_tests.main(["--serial"]) == 0
    out = capfd.readouterr().out
    assert out.count("FAKE-PYTEST") == 1 and "FAKE-PYTEST rest" in out


def test_without_a_report_file_nothing_is_written(fake_pytest, monkeypatch):
    monkeypatch.delenv("COURSE_REAL_TIER_REPORT")
    assert run_tests.main([]) == 0
    assert not fake_pytest.exists()
