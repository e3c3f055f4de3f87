"""What each backbone costs per image on this machine, at the input sizes a profile can choose.

    python benchmarks/cost_table.py                  # every registry backbone (and candidates) at 96-224 px
    python benchmarks/cost_table.py --tiny           # seconds: checks the script itself (used by the tests)

For every backbone of ``course_utils.backbones.REGISTRY`` (and a few candidates the registry
could grow by: MobileNetV2, the TensorFlow tutorial's choice; EfficientNetB0, keras-io's) and
every input side in SIZES it measures, with random weights (the cost does not depend on their
values) and a batch of 32:

- **extraction images/s**: the base, called with ``training=False`` inside a compiled function,
  on a batch of preprocessed images (what caching features costs);
- **training step images/s**: one optimizer step of the whole model (base + pooled softmax head)
  with the backbone's last block unfrozen (``fine_tune_from``) and BatchNorm in inference mode:
  what fine-tuning through the base costs (notebook 04).

Each figure is the best of a few timed batches after a warm-up (tracing, allocation). The
results go to ``benchmarks/results/cost_table.{json,md}``; ``benchmarks/derive_profiles.py``
turns them into each profile's sizes (``course_utils/sizes.py``). Run it on an otherwise idle
machine: a second heavy process beside it halves every number.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from course_utils import backbones, models  # noqa: E402

SIZES = (96, 128, 160, 224)
BATCH = 32
RESULTS = ROOT / "benchmarks" / "results"
# Candidates the registry could grow by: (keras.applications constructor, first layer of the last block,
# ImageNet top-1 from Keras' published table, https://keras.io/api/applications/).
CANDIDATES = {
    "mobilenet_v2": ("MobileNetV2", "block_16_expand", 0.713),
    "efficientnet_b0": ("EfficientNetB0", "block7a_expand_conv", 0.771),
}
# ImageNet top-1 accuracy of the registry's backbones as published by Keras (keras.io/api/applications:
# VGG16 71.3 %, ResNet50 74.9 %, MobileNet 70.4 %) and, for MobileNet's narrower widths, by its paper
# (Howard et al. 2017, table 6: alpha 0.5 63.7 %, 0.25 50.6 % at 224 px). Quoted, not measured here.
PUBLISHED_TOP1 = {"vgg16": 0.713, "resnet50": 0.749, "mobilenet_1": 0.704, "mobilenet_0.5": 0.637,
                  "mobilenet_0.25": 0.506, **{k: v[2] for k, v in CANDIDATES.items()}}


def _base(name: str, size: int):
    """(base, first layer of its last block, parameter count) with random weights."""
    shape = (size, size, 3)
    if name in backbones.REGISTRY:
        b = backbones.REGISTRY[name]
        base = b.build(None, shape)
        return base, b.fine_tune_from
    constructor, first, _ = CANDIDATES[name]
    return getattr(keras.applications, constructor)(include_top=False, weights=None, input_shape=shape), first


def _best(fn, timed: int) -> float:
    fn()  # warm-up: tracing and allocation
    times = []
    for _ in range(timed):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(name: str, size: int, batch: int = BATCH, timed: int = 2) -> dict:
    """Extraction and training-step images/s of one backbone at one input side."""
    keras.backend.clear_session()
    base, first = _base(name, size)
    x = tf.constant(np.random.default_rng(0).uniform(0, 255, (batch, size, size, 3)).astype("float32"))
    y = tf.constant(np.arange(batch) % 2)

    base.trainable = False
    extract = tf.function(lambda t: base(t, training=False))
    extract_s = _best(lambda: extract(x).numpy(), timed)

    models.unfreeze_from(base, first)
    inputs = keras.Input((size, size, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(base(inputs, training=False))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(pooled))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-5), loss="sparse_categorical_crossentropy")
    step_s = _best(lambda: model.train_on_batch(x, y), timed)
    return {"backbone": name, "image_size": size, "params": int(base.count_params()),
            "extract_images_per_second": round(batch / extract_s, 1),
            "train_step_images_per_second": round(batch / step_s, 1),
            "published_imagenet_top1": PUBLISHED_TOP1.get(name),
            "in_registry": name in backbones.REGISTRY}


def write(rows: list[dict], out: Path, command: str, batch: int = BATCH) -> None:
    out.mkdir(parents=True, exist_ok=True)
    info = {"date": dt.date.today().isoformat(), "command": command, "batch": batch,
            "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                        "processor": platform.processor() or platform.machine()},
            "versions": {"tensorflow": tf.__version__, "keras": keras.__version__,
                         "python": platform.python_version()},
            "rows": rows}
    (out / "cost_table.json").write_text(json.dumps(info, indent=2) + "\n")
    lines = [f"# Cost per backbone and input size ({info['date']})", "",
             f"`{command}` on {info['machine']['processor']}, {os.cpu_count()} CPU cores; TF {tf.__version__}, "
             f"Keras {keras.__version__}; batch {batch}, random weights, best of the timed batches.", "",
             "| backbone | px | params | extraction img/s | training step img/s (last block unfrozen) | ImageNet top-1 (published) |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        top1 = f"{r['published_imagenet_top1']:.1%}" if r["published_imagenet_top1"] else "–"
        name = r["backbone"] + ("" if r["in_registry"] else " (candidate)")
        lines.append(f"| {name} | {r['image_size']} | {r['params']:,} | {r['extract_images_per_second']:,} | "
                     f"{r['train_step_images_per_second']:,} | {top1} |")
    (out / "cost_table.md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="one small backbone at 32 px, batch 4 (a check)")
    parser.add_argument("--backbones", nargs="*", default=None)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    names = args.backbones or [*backbones.REGISTRY, *CANDIDATES]
    sizes, batch, timed = ((32,), 4, 1) if args.tiny else (SIZES, BATCH, 2)
    if args.tiny:
        names = args.backbones or ["mobilenet_0.25"]
    rows = []
    for name in names:
        for size in sizes:
            row = measure(name, size, batch, timed)
            print(f"{name:>16} {size:>3} px: extraction {row['extract_images_per_second']:8.1f} img/s, "
                  f"training step {row['train_step_images_per_second']:8.1f} img/s", flush=True)
            rows.append(row)
    write(rows, args.out, "python benchmarks/cost_table.py" + (" --tiny" if args.tiny else ""), batch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
