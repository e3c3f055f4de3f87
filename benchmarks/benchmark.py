"""Speed and memory of the course's expensive steps, measured on this machine.

    python benchmarks/benchmark.py              # the fast profile's sizes (what a laptop runs)
    python benchmarks/benchmark.py --tiny       # seconds: checks the script itself (used by the tests)

Writes outputs/benchmark.md and outputs/benchmark.json. The targets below are goals, reported
as met or not; they are not assertions (timings depend on the machine).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from course_utils import backbones, env, features, models, paths, profiles  # noqa: E402

TARGETS = {
    "cached_vs_frozen_speedup": 10.0,  # cached-feature epochs at least 10x faster than in-model
    "extraction_fraction_of_matmul": 0.60,  # VGG16 extraction reaches 60% of the matmul GFLOP/s
    "peak_rss_gb": 2.0,  # Binder's memory limit
}


def best_time(fn, repeats: int = 3) -> float:
    fn()  # warm-up: tracing, allocation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def matmul_gflops(n: int) -> float:
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    matmul = tf.function(lambda: tf.matmul(a, b))
    seconds = best_time(lambda: matmul().numpy())
    return 2 * n**3 / seconds / 1e9


def conv_flops(model) -> int:
    """Floating-point operations of one forward pass: 2 per multiply-add of every Conv2D."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            h, w, c_out = layer.output.shape[1:]
            k1, k2, c_in, _ = layer.kernel.shape
            total += 2 * h * w * k1 * k2 * c_in * c_out
    return int(total)


def extraction(size: int, batch: int, batches: int, backbone: str = "vgg16") -> dict:
    base = backbones.get(backbone).build(None, (size, size, 3))
    x = np.random.default_rng(0).uniform(0, 255, (batch, size, size, 3)).astype("float32")
    predict = tf.function(lambda t: base(t, training=False))
    seconds = best_time(lambda: [predict(x).numpy() for _ in range(batches)], repeats=2)
    rate = batch * batches / seconds
    flops = conv_flops(base)
    return {"size": size, "images_per_s": rate, "gflop_per_image": flops / 1e9,
            "gflops": rate * flops / 1e9}


def _epoch_seconds(model, *args, **kwargs) -> float:
    """Seconds of one epoch of model.fit, after a first epoch that traces the graph."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-4), loss="sparse_categorical_crossentropy")
    model.fit(*args, epochs=1, verbose=0, **kwargs)
    start = time.perf_counter()
    model.fit(*args, epochs=1, verbose=0, **kwargs)
    return time.perf_counter() - start


def epochs(profile, n_train: int, backbone: str = "vgg16") -> dict:
    b = backbones.get(backbone)
    size, bs = profile.image_size, profile.batch_size
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (n_train, size, size, 3)).astype("float32")
    y = rng.integers(0, 2, n_train)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(bs).prefetch(2)
    base = b.build(None, (size, size, 3))
    base.trainable = False
    head = models.gap_head(2)
    frozen = models.Chain.build(backbone, base, head, augment=models.augmentation()).model
    t_frozen = _epoch_seconds(frozen, ds)

    feats = features.extractor(base, backbone).predict(x, batch_size=bs, verbose=0)
    t_cached = _epoch_seconds(models.Chain.on_features(models.gap_head(2), feats.shape[1:]).model, feats, y,
                              batch_size=bs)

    models.unfreeze_from(base, b.fine_tune_from)
    block_in = features.extractor(base, backbone, b.cache_at).predict(x, batch_size=bs, verbose=0)
    top = models.top_of_base(base, b.cache_at)
    inp = keras.Input(block_in.shape[1:])
    t_block = _epoch_seconds(keras.Model(inp, head(top(inp, training=False))), block_in, y, batch_size=bs)
    t_full_ft = _epoch_seconds(models.Chain.build(backbone, base, head).model, ds)
    return {"images": n_train, "size": size, "backbone": backbone, "frozen_in_model_s": t_frozen,
            "cached_features_s": t_cached, "fine_tune_full_s": t_full_ft, "fine_tune_cached_block_s": t_block}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: checks the script, not speed")
    parser.add_argument("--backbone", default="vgg16", help=f"one of {', '.join(backbones.REGISTRY)}")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    out = args.output or paths.outputs_dir()
    out.mkdir(parents=True, exist_ok=True)
    env.setup(seed=0)
    profile = profiles.get("smoke" if args.tiny else "fast")
    n_train = 16 if args.tiny else 2 * profile.images_per_class

    gflops = matmul_gflops(256 if args.tiny else 2048)
    sizes = (32,) if args.tiny else (224, 160)
    extract = [extraction(s, 4 if args.tiny else 16, 1 if args.tiny else 3, args.backbone) for s in sizes]
    ep = epochs(profile, n_train, args.backbone)
    title = backbones.get(args.backbone).title
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB on Linux

    results = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                    "processor": platform.processor() or platform.machine(),
                    "gpus": [g.name for g in env.list_gpus()], "tensorflow": tf.__version__,
                    "keras": keras.__version__},
        "profile": profile.name,
        "backbone": args.backbone,
        "matmul_gflops": gflops,
        "extraction": extract,
        "epochs": ep,
        "peak_rss_gb": peak_gb,
    }
    speedup = ep["frozen_in_model_s"] / ep["cached_features_s"]
    fraction = max(e["gflops"] for e in extract) / gflops
    results["targets"] = {
        "cached_vs_frozen_speedup": {"value": speedup, "target": TARGETS["cached_vs_frozen_speedup"],
                                     "met": speedup >= TARGETS["cached_vs_frozen_speedup"]},
        "extraction_fraction_of_matmul": {"value": fraction, "target": TARGETS["extraction_fraction_of_matmul"],
                                          "met": fraction >= TARGETS["extraction_fraction_of_matmul"]},
        "peak_rss_gb": {"value": peak_gb, "target": TARGETS["peak_rss_gb"],
                        "met": peak_gb <= TARGETS["peak_rss_gb"]},
    }
    (out / "benchmark.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        f"# Benchmark ({results['date']}, profile {profile.name}, backbone {args.backbone})",
        "",
        f"Machine: {results['machine']['processor']}, {os.cpu_count()} CPU cores, "
        f"GPUs: {', '.join(results['machine']['gpus']) or 'none'}; TF {tf.__version__}, Keras {keras.__version__}.",
        "",
        "| measurement | value |",
        "|---|---|",
        f"| fp32 matmul | {gflops:.1f} GFLOP/s |",
    ]
    for e in extract:
        lines.append(f"| {title} extraction at {e['size']} px | {e['images_per_s']:.1f} images/s "
                     f"({e['gflops']:.1f} GFLOP/s, {e['gflops'] / gflops:.0%} of matmul) |")
    lines += [
        f"| epoch, frozen base in the model + augmentation ({ep['images']} images, {ep['size']} px) | {ep['frozen_in_model_s']:.2f} s |",
        f"| epoch, GAP head on cached features | {ep['cached_features_s']:.3f} s |",
        f"| epoch, fine-tuning the last block, full model | {ep['fine_tune_full_s']:.2f} s |",
        f"| epoch, fine-tuning the last block on its cached input | {ep['fine_tune_cached_block_s']:.3f} s |",
        f"| peak RSS | {peak_gb:.2f} GB |",
        "",
        "| target | value | goal | met |",
        "|---|---|---|---|",
    ]
    for name, t in results["targets"].items():
        lines.append(f"| {name} | {t['value']:.2f} | {t['target']} | {'yes' if t['met'] else 'no'} |")
    (out / "benchmark.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten: {out / 'benchmark.md'}, {out / 'benchmark.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
