"""Each profile's image size and training images per backbone, derived from the measured cost table.

    python benchmarks/derive_profiles.py           # writes course_utils/sizes.py from benchmarks/results/cost_table.json
    python benchmarks/derive_profiles.py --check   # exits 1 when course_utils/sizes.py differs (a test runs this)

The rule, for the profiles a CPU runs (``fast``, ``binder``):

1. A notebook's **base work** is what the backbone itself computes: extracting features of every
   image of the three splits once, ``epochs`` epochs of the training split through the frozen base
   (workflow B, notebook 03), and ``fine_tune_epochs`` epochs of it through the base with the last
   block unfrozen (notebook 04). Its seconds follow from the cost table's images/s
   (``benchmarks/cost_table.py`` on the build machine, 2 cores). Heads on cached features are
   nearly free and are not counted.
2. The reference data are the profile's dataset, cats_vs_dogs: 2 classes of 1,000 photos, split
   as ``course_utils.profiles`` splits them (test and validation first, the rest to train).
3. Each backbone gets its **native resolution** (224 px) when its base work fits the profile's
   budget with at least ``MIN_TRAIN`` training images per class; otherwise the largest size of
   the table that fits. At that size the training split is as large as the budget allows, up to
   what the data offers (``TRAIN_CAPS``, largest first).
4. The profile's **default backbone** is the registry backbone with the best published ImageNet
   top-1 accuracy among those that get their native resolution and the full training split.

``smoke`` (a CI check on 32 px shapes) and ``full`` (a GPU: native size, every image) are not
derived from a CPU's table; ``course_utils/profiles.py`` says why.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "benchmarks" / "results" / "cost_table.json"
OUT = ROOT / "course_utils" / "sizes.py"

NATIVE = 224
# Base-work budget per notebook, seconds on the build machine: 9 notebooks, the course in <= 15 min
# with the default backbone, 03-05 repeating the base work (05: every method over repeats).
BUDGET_SECONDS = {"fast": 60.0}  # binder takes fast's sizes (course_utils/profiles.py)
EPOCHS, FINE_TUNE_EPOCHS = 5, 3  # the fast profile's (course_utils/profiles.py checks they agree)
REFERENCE = {"classes": 2, "per_class": 1000}  # cats_vs_dogs
VAL_FRACTION, TEST_FRACTION = 0.2, 0.3  # at most this share of a class goes to validation / test
VAL_IMAGES, TEST_IMAGES = 400, 1000  # wanted in all (split evenly over the classes)
TRAIN_CAPS = (1000, 500, 300, 200, 100)  # training images per class tried, largest first
MIN_TRAIN = 100


def split_sizes(classes: int, per_class: int, train_cap: int | None) -> tuple[int, int, int]:
    """(train, val, test) images in all for a dataset of `classes` × `per_class` images."""
    test = min(math.ceil(TEST_IMAGES / classes), round(per_class * TEST_FRACTION))
    val = min(math.ceil(VAL_IMAGES / classes), round(per_class * VAL_FRACTION))
    train = per_class - test - val
    if train_cap is not None:
        train = min(train, train_cap)
    return classes * train, classes * val, classes * test


def base_seconds(row: dict, train_cap: int | None) -> float:
    """Seconds of base work of one notebook at this row's backbone and size (rule 1)."""
    train, val, test = split_sizes(REFERENCE["classes"], REFERENCE["per_class"], train_cap)
    extract, step = row["extract_images_per_second"], row["train_step_images_per_second"]
    return (train + val + test) / extract + EPOCHS * train / extract + FINE_TUNE_EPOCHS * train / step


def derive(table: dict) -> dict:
    """{profile: {"budget": s, "default": name, "sizes": {backbone: [px, train cap, reason]}}}."""
    rows = [r for r in table["rows"] if r["in_registry"]]
    by = {}
    for r in rows:
        by.setdefault(r["backbone"], {})[r["image_size"]] = r
    offered = REFERENCE["per_class"] - sum(split_sizes(1, REFERENCE["per_class"], None)[1:])
    result = {}
    for profile, budget in BUDGET_SECONDS.items():
        sizes = {}
        for name, at in by.items():
            chosen = None
            for px in sorted(at, reverse=True):
                for cap in (c for c in TRAIN_CAPS if c >= MIN_TRAIN):
                    cap = min(cap, offered)
                    seconds = base_seconds(at[px], cap)
                    if seconds <= budget:
                        chosen = (px, cap, seconds)
                        break
                if chosen:
                    break
            if chosen is None:  # nothing fits: the smallest size and training split, said so
                px = min(at)
                seconds = base_seconds(at[px], MIN_TRAIN)
                sizes[name] = [px, MIN_TRAIN, f"nothing fits the {budget:.0f} s budget: the smallest size, {px} px, "
                                              f"with {MIN_TRAIN} training images per class needs {seconds:.0f} s "
                                              "of base work"]
                continue
            px, cap, seconds = chosen
            if px == NATIVE:
                why = f"native {NATIVE} px fits: {seconds:.0f} s of base work"
            else:
                above = min(s for s in at if s > px) if any(s > px for s in at) else None
                why = (f"{above} px would need {base_seconds(at[above], MIN_TRAIN):.0f} s of base work even with "
                       f"{MIN_TRAIN} training images per class; {px} px: {seconds:.0f} s" if above else
                       f"{seconds:.0f} s of base work")
            why += f" (budget {budget:.0f} s"
            why += ")" if cap == offered else f"; more than {cap} training images per class would not fit)"
            sizes[name] = [px, cap, why]
        full_size = [n for n, (px, cap, _) in sizes.items() if px == NATIVE and cap == offered]
        top1 = {r["backbone"]: r["published_imagenet_top1"] or 0 for r in rows}
        default = max(full_size, key=lambda n: top1[n]) if full_size else min(sizes, key=lambda n: sizes[n][0])
        result[profile] = {"budget": budget, "default": default, "sizes": sizes}
    return result


def render(derived: dict, table: dict) -> str:
    m = table["machine"]
    lines = [
        '"""Each CPU profile\'s image size and training images per backbone: GENERATED, do not edit.',
        "",
        "Made by `python benchmarks/derive_profiles.py` from benchmarks/results/cost_table.json",
        f"(measured {table['date']} with `{table['command']}` on {m['processor']}, {m['cpu_count']} cores,",
        f"TensorFlow {table['versions']['tensorflow']}, Keras {table['versions']['keras']}). The rule is in that",
        "script's docstring; course_utils/profiles.py reads these numbers. A test fails when this file",
        "differs from what the script derives from the committed table.",
        '"""',
        "",
        f"SOURCE = {('benchmarks/results/cost_table.json, ' + table['date'])!r}",
        f"VAL_FRACTION, TEST_FRACTION = {VAL_FRACTION}, {TEST_FRACTION}",
        f"VAL_IMAGES, TEST_IMAGES = {VAL_IMAGES}, {TEST_IMAGES}",
        f"EPOCHS, FINE_TUNE_EPOCHS = {EPOCHS}, {FINE_TUNE_EPOCHS}",
        "",
        "# profile -> default backbone",
        "DEFAULT_BACKBONE = {",
    ]
    lines += [f"    {p!r}: {d['default']!r}," for p, d in derived.items()]
    lines += ["}", "", "# profile -> backbone -> (image side in px, training images per class, why)", "SIZES = {"]
    for p, d in derived.items():
        lines.append(f"    {p!r}: {{")
        for name, (px, cap, why) in d["sizes"].items():
            lines.append(f"        {name!r}: ({px}, {cap},")
            lines.append(f"            {why!r}),")
        lines.append("    },")
    lines += ["}", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when course_utils/sizes.py is out of date")
    parser.add_argument("--table", type=Path, default=TABLE)
    args = parser.parse_args(argv)
    table = json.loads(args.table.read_text())
    text = render(derive(table), table)
    if args.check:
        if OUT.read_text() != text:
            print(f"{OUT} differs from what {Path(__file__).name} derives from {args.table}: "
                  "run python benchmarks/derive_profiles.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
