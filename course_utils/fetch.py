"""Fetch once what the course downloads: ImageNet weights of a backbone and the datasets.

    python -m course_utils.fetch                          # fast's default backbone's weights + cats_vs_dogs
    python -m course_utils.fetch --all                    # every backbone's weights + every dataset
    python -m course_utils.fetch --backbones mobilenet_0.25 resnet50 --datasets flowers
    python -m course_utils.fetch --no-weights --datasets voc2007   # Pascal VOC 2007 (~870 MB; not in --all)

Everything lands under the data folder ($COURSE_DATA_DIR, default <repo>/data), which an
instructor can then copy to every machine of an offline classroom.
"""

from __future__ import annotations

import argparse
import sys

from . import backbones, data, paths, profiles, voc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["cats_vs_dogs"],
                        help=f"datasets to fetch (known: {', '.join([*data.REGISTRY, voc.SPEC.name])})")
    parser.add_argument("--backbones", nargs="*", default=[profiles.get("fast").backbone],
                        help=f"backbones whose ImageNet weights to fetch (known: {', '.join(backbones.REGISTRY)})")
    parser.add_argument("--all", action="store_true", help="every backbone and every dataset")
    parser.add_argument("--no-weights", action="store_true", help="no weights at all")
    args = parser.parse_args(argv)
    names = list(data.REGISTRY) if args.all else args.datasets
    nets = [] if args.no_weights else list(backbones.REGISTRY) if args.all else args.backbones
    failures = 0
    print(f"data folder: {paths.data_dir()}")
    for net in nets:
        try:
            w = backbones.resolve_weights(net, "imagenet", progress=True)
            print(f"ok   {net} ImageNet weights -> {w.path} ({w.source})")
        except (backbones.UnknownBackboneError, backbones.WeightsUnavailableError,
                data.DownloadError, data.ChecksumError) as err:
            failures += 1
            print(f"FAIL {net} ImageNet weights: {err}", file=sys.stderr)
    for name in names:
        try:
            root = voc.fetch(progress=True) if name == voc.SPEC.name else data.fetch(name, progress=True)
            print(f"ok   dataset {name} -> {root}")
        except (KeyError, data.DownloadError, data.ChecksumError, data.DatasetError) as err:
            failures += 1
            print(f"FAIL dataset {name}: {err}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
