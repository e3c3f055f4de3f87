"""A generated folder of many classes, to measure notebook 08's memory with them (issue 20).

    python benchmarks/many_classes.py /tmp/classes200 --classes 200 --per-class 16
    python benchmarks/notebook_memory.py --profile smoke --only 08 \\
        --param DATA_FOLDER=/tmp/classes200 --label 200_classes

Each picture is its own smooth blob of colours (a 5×5 random image upscaled to 64×64, JPEG):
no two are near-duplicates, so the run's duplicate check stays quiet. 16 per class is what
``smoke`` takes (8 to train, 4 to validate, 4 to test).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--classes", type=int, default=200)
    parser.add_argument("--per-class", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.folder.exists() and any(args.folder.iterdir()):
        parser.error(f"{args.folder} is not empty: give a new folder")
    rng = np.random.default_rng(args.seed)
    for c in range(args.classes):
        folder = args.folder / f"class_{c:03d}"
        folder.mkdir(parents=True)
        for i in range(args.per_class):
            small = rng.integers(0, 256, (5, 5, 3), dtype=np.uint8)
            Image.fromarray(small).resize((64, 64), Image.BICUBIC).save(folder / f"{i:02d}.jpg", quality=90)
    print(f"{args.classes} classes x {args.per_class} images in {args.folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
