"""Print what the real tier ran (written by tests/test_real_tier.py): `.ci/run` shows it.

    python tests/real_tier_report.py REPORT.json
"""

import json
import sys


def main(path: str) -> int:
    runs = json.loads(open(path).read())
    for run in runs:
        print(f"\nreal tier: backbone {run['backbone']}, dataset {run['dataset']}; notebook seconds {run['seconds']}")
        print(f"  {'method':<50} {'test accuracy':>16}")
        for m in run["methods"]:
            print(f"  {m['name']:<50} {m['accuracy_mean']:.3f} ± {m['accuracy_std']:.3f} ({m['repeats']} repeats)")
        for c in run["claims"]:
            print(f"  [{c['notebook']}] {c['verdict'].upper()}: {c['claim']} ({c['detail']})")
        print(f"  {run['summary']}")
    return 0 if runs else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
