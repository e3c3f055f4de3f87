"""README's results section is generated from the committed real-tier record, never typed."""

import json
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tests"))
import real_tier_report  # noqa: E402


def test_readmes_results_are_the_committed_real_tier_run():
    data = json.loads(real_tier_report.RECORD.read_text())
    assert data["runs"], "benchmarks/results/real_tier.json holds at least one real-tier run"
    readme = (ROOT / "README.md").read_text()
    assert real_tier_report.START in readme and real_tier_report.END in readme
    section = readme[readme.index(real_tier_report.START):readme.index(real_tier_report.END) + len(real_tier_report.END)]
    assert section == real_tier_report.markdown(data), (
        "README's results section is stale: python tests/real_tier_report.py benchmarks/results/real_tier.json --readme")


def test_every_recorded_headline_claim_was_decided_finely():
    """The record is what the real tier asserts: every claim decisive, headlines to 0.05 or better."""
    import test_real_tier

    for run in json.loads(real_tier_report.RECORD.read_text())["runs"]:
        for claim in run["claims"]:
            assert claim["verdict"] in ("holds", "does not hold"), claim
            if claim["claim"].startswith(test_real_tier.HEADLINE):
                assert claim["verdict"] == "holds", claim
                if test_real_tier.on_test_split(claim["claim"]):
                    assert claim["resolution"] <= test_real_tier.MAX_RESOLUTION, claim


def test_the_times_line_says_when_the_tier_ran_beside_the_rest_of_the_suite():
    data = json.loads(real_tier_report.RECORD.read_text())
    alone = real_tier_report.markdown({**data, "runs": [{k: v for k, v in run.items() if k != "beside"}
                                                       for run in data["runs"]]})
    runs = [{**run, "beside": "ran beside the rest"} for run in data["runs"]]
    shared = real_tier_report.markdown({**data, "runs": runs})
    assert "(ran beside the rest)" in shared and "(ran beside the rest)" not in alone
    assert "at the same time (their sum is not a wall time)" in shared and "min for notebooks 03–08" in alone
