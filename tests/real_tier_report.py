"""Print what the real tier ran (written by tests/test_real_tier.py): `.ci/run` shows it.

    python tests/real_tier_report.py REPORT.json
"""

import json
import statistics
import sys


def main(path: str) -> int:
    runs = json.loads(open(path).read())
    for run in runs:
        print(f"\nreal tier: backbone {run['backbone']}, dataset {run['dataset']}; notebook seconds {run['seconds']}")
        print(f"  {'method':<50} {'test accuracy':>16}")
        for m in run["methods"]:
            print(f"  {m['name']:<50} {m['accuracy_mean']:.3f} ± {m['accuracy_std']:.3f} ({m['repeats']} repeats)")
        for row in run.get("table", []):  # notebook 07: every backbone, the same recipe
            acc = row["accuracy"] if isinstance(row["accuracy"], str) else f"{row['accuracy']:.3f}"
            print(f"  {row['backbone']:<16} {row['params']:>11,} params  {row['extract_images_per_second']:8.1f} img/s "
                  f"extraction  {row['train_step_images_per_second']:7.1f} img/s training step  accuracy {acc}")
        for method, points in run.get("few_shot", {}).items():  # notebook 07: labels per class -> accuracies
            curve = ", ".join(f"{k}: {statistics.mean(v):.3f} ± {(statistics.stdev(v) if len(v) > 1 else 0.0):.3f}"
                              for k, v in sorted(points.items(), key=lambda kv: int(kv[0])))
            print(f"  few-shot, {method}: {curve}")
        for c in run["claims"]:
            print(f"  [{c['notebook']}] {c['verdict'].upper()}: {c['claim']} ({c['detail']})")
        print(f"  {run['summary']}")
    return 0 if runs else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
