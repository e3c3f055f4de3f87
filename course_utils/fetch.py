"""Fetch once what the course downloads: VGG16 ImageNet weights and the datasets.

    python -m course_utils.fetch                 # weights + cats_vs_dogs
    python -m course_utils.fetch --all           # weights + every registered dataset
    python -m course_utils.fetch --datasets flowers --no-weights

Everything lands under the data folder ($COURSE_DATA_DIR, default <repo>/data), which an
instructor can then copy to every machine of an offline classroom.
"""

from __future__ import annotations

import argparse
import sys

from . import data, models, paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["cats_vs_dogs"],
                        help=f"datasets to fetch (known: {', '.join(data.REGISTRY)})")
    parser.add_argument("--all", action="store_true", help="fetch every registered dataset")
    parser.add_argument("--no-weights", action="store_true", help="skip the VGG16 weights")
    args = parser.parse_args(argv)
    names = list(data.REGISTRY) if args.all else args.datasets
    failures = 0
    print(f"data folder: {paths.data_dir()}")
    if not args.no_weights:
        try:
            path = models.fetch_imagenet_weights(progress=True)
            print(f"ok   VGG16 ImageNet weights -> {path}")
        except (data.DownloadError, data.ChecksumError) as err:
            failures += 1
            print(f"FAIL VGG16 ImageNet weights: {err}", file=sys.stderr)
    for name in names:
        try:
            root = data.fetch(name, progress=True)
            print(f"ok   dataset {name} -> {root}")
        except (KeyError, data.DownloadError, data.ChecksumError, data.DatasetError) as err:
            failures += 1
            print(f"FAIL dataset {name}: {err}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
