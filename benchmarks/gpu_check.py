"""Check the course's model code on a real GPU, on any Keras 3 backend (JAX, PyTorch, TF).

    KERAS_BACKEND=jax python benchmarks/gpu_check.py [--output DIR]

CI has no GPU: there, the GPU logic of course_utils.env is tested with mocked device lists.
This script is what we run when a GPU machine is at hand. It checks that the models the
notebooks build train and agree under mixed precision (float16 compute, float32 variables and
outputs), that the cached-block4 path gives the full model's loss, and it measures VGG16
extraction speed in float32, mixed_float16 and mixed_bfloat16 at 224 px. It needs only Keras
and NumPy (no TensorFlow, no tf.data), so it runs where TensorFlow is not installed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import keras
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from course_utils import backbones, models  # noqa: E402


def gpu_name() -> str:
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return ", ".join(d.device_kind for d in jax.devices() if d.platform == "gpu") or "none"
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    import tensorflow as tf

    return ", ".join(d.name for d in tf.config.list_physical_devices("GPU")) or "none"


def extraction_rate(policy: str, backbone: str = "vgg16", size: int = 224, batch: int = 64,
                    repeats: int = 5) -> float:
    keras.mixed_precision.set_global_policy(policy)
    base = backbones.get(backbone).build(None, (size, size, 3))
    extractor = keras.Sequential([keras.Input((size, size, 3)), models.preprocessing(backbone), base])
    x = np.random.default_rng(0).uniform(0, 255, (batch, size, size, 3)).astype("float32")
    extractor.predict(x, batch_size=batch, verbose=0)  # compile
    start = time.perf_counter()
    for _ in range(repeats):
        out = extractor.predict(x, batch_size=batch, verbose=0)
    seconds = time.perf_counter() - start
    assert np.isfinite(out).all()
    keras.mixed_precision.set_global_policy("float32")
    return batch * repeats / seconds


def mixed_precision_training(backbone: str = "vgg16", size: int = 96, n: int = 64) -> dict:
    """Notebook 03-05's model code under mixed_float16: train, fine-tune with L2-SP, cached path."""
    b = backbones.get(backbone)
    keras.mixed_precision.set_global_policy("mixed_float16")
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (n, size, size, 3)).astype("float32")
    y = rng.integers(0, 2, n)
    before = x.copy()
    base = b.build(None, (size, size, 3))
    base.trainable = False
    head = models.gap_head(2, dropout=0.0)
    chain = models.Chain.build(backbone, base, head, augment=models.augmentation())
    model = chain.model
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=2, batch_size=16, verbose=0).history
    out = model.predict(x[:4], verbose=0)
    first_conv = next(layer for layer in base.layers if isinstance(layer, keras.layers.Conv2D))

    # Fine-tune the last block with L2-SP, then the cached-input path against the full model.
    models.unfreeze_from(base, b.fine_tune_from)
    models.apply_l2_sp(model, 0.1)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-5), loss="sparse_categorical_crossentropy")
    ft_loss = model.fit(x, y, epochs=1, batch_size=16, verbose=0).history["loss"][-1]
    models.remove_regularizers(model)
    plain = chain.without_augmentation().model
    top = models.top_of_base(base, b.cache_at)
    inp = keras.Input(top.input_shape[1:])
    on_cache = keras.Model(inp, head(top(inp, training=False)))
    to_block = keras.Sequential([keras.Input((size, size, 3)), models.preprocessing(backbone),
                                 keras.Model(base.inputs, base.get_layer(b.cache_at).output)])
    loss = keras.losses.SparseCategoricalCrossentropy()
    full_loss = float(loss(y[:16], plain.predict(x[:16], verbose=0)))
    top_loss = float(loss(y[:16], on_cache.predict(to_block.predict(x[:16], verbose=0), verbose=0)))
    keras.mixed_precision.set_global_policy("float32")
    return {
        "losses": hist["loss"], "output_dtype": str(out.dtype), "conv_compute_dtype": first_conv.compute_dtype,
        "conv_variable_dtype": str(first_conv.kernel.dtype),
        "output_rows_sum_to_1": bool(np.allclose(out.sum(1), 1, atol=1e-3)),
        "fine_tune_l2sp_loss": ft_loss, "full_vs_cached_loss": [full_loss, top_loss],
        "inputs_unchanged": bool(np.array_equal(before, x)),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path(os.environ.get("OUT", "outputs")))
    parser.add_argument("--backbones", nargs="*", default=["vgg16", "mobilenet_0.25", "resnet50"])
    args = parser.parse_args(argv)
    result = {"backend": keras.backend.backend(), "keras": keras.__version__, "gpu": gpu_name(),
              "python": platform.python_version()}
    checks, result["training"], result["extraction_images_per_s_224px"] = {}, {}, {}
    for net in args.backbones:
        t = result["training"][net] = mixed_precision_training(net)
        checks.update({
            f"{net}: losses finite": bool(np.isfinite(t["losses"]).all() and np.isfinite(t["fine_tune_l2sp_loss"])),
            f"{net}: float16 compute, float32 variables": t["conv_compute_dtype"] == "float16"
            and t["conv_variable_dtype"] == "float32",
            f"{net}: float32 softmax output": t["output_dtype"] == "float32" and t["output_rows_sum_to_1"],
            f"{net}: cached block input = full model (loss, fp16 tolerance)":
                abs(t["full_vs_cached_loss"][0] - t["full_vs_cached_loss"][1]) < 1e-2,
            f"{net}: preprocessing leaves the input untouched": t["inputs_unchanged"],
        })
        result["extraction_images_per_s_224px"][net] = {p: extraction_rate(p, net) for p in
                                                        ("float32", "mixed_float16", "mixed_bfloat16")}
    result["checks"] = checks
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "gpu_check.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
