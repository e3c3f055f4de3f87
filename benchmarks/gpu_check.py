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
from course_utils import models  # noqa: E402


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


def extraction_rate(policy: str, size: int = 224, batch: int = 64, repeats: int = 5) -> float:
    keras.mixed_precision.set_global_policy(policy)
    base = models.vgg16_base(None, (size, size, 3), quiet=True)
    extractor = keras.Sequential([keras.Input((size, size, 3)), models.vgg16_preprocess(), base])
    x = np.random.default_rng(0).uniform(0, 255, (batch, size, size, 3)).astype("float32")
    extractor.predict(x, batch_size=batch, verbose=0)  # compile
    start = time.perf_counter()
    for _ in range(repeats):
        out = extractor.predict(x, batch_size=batch, verbose=0)
    seconds = time.perf_counter() - start
    assert np.isfinite(out).all()
    return batch * repeats / seconds


def mixed_precision_training(size: int = 96, n: int = 64) -> dict:
    keras.mixed_precision.set_global_policy("mixed_float16")
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (n, size, size, 3)).astype("float32")
    y = rng.integers(0, 2, n)
    base = models.vgg16_base(None, (size, size, 3), quiet=True)
    models.freeze(base)
    head = models.gap_head(2, dropout=0.0)
    model = models.build_classifier(base, head, augmentation=models.augmentation_layers())
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=2, batch_size=16, verbose=0).history
    out = model.predict(x[:4], verbose=0)
    conv_dtype = base.get_layer("block1_conv1").compute_dtype
    var_dtype = base.get_layer("block1_conv1").kernel.dtype

    # Fine-tune block5 with L2-SP, then the cached-block4 path against the full model.
    models.unfreeze_from(base, "block5_conv1")
    models.apply_l2_sp(model, 0.1)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-5),
                  loss="sparse_categorical_crossentropy")
    ft_loss = model.fit(x, y, epochs=1, batch_size=16, verbose=0).history["loss"][-1]
    models.remove_regularizers(model)
    plain = models.build_classifier(base, head)
    top = models.top_of_base(base, head, "block5_conv1")
    to_block4 = keras.Sequential([keras.Input((size, size, 3)), models.vgg16_preprocess(),
                                  keras.Model(base.inputs, base.get_layer("block4_pool").output)])
    loss = keras.losses.SparseCategoricalCrossentropy()
    full_loss = float(loss(y[:16], plain.predict(x[:16], verbose=0)))
    top_loss = float(loss(y[:16], top.predict(to_block4.predict(x[:16], verbose=0), verbose=0)))
    keras.mixed_precision.set_global_policy("float32")
    return {
        "losses": hist["loss"], "output_dtype": str(out.dtype), "conv_compute_dtype": conv_dtype,
        "conv_variable_dtype": str(var_dtype), "output_rows_sum_to_1": bool(np.allclose(out.sum(1), 1, atol=1e-3)),
        "fine_tune_l2sp_loss": ft_loss, "full_vs_cached_block4_loss": [full_loss, top_loss],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path(os.environ.get("OUT", "outputs")))
    args = parser.parse_args(argv)
    result = {"backend": keras.backend.backend(), "keras": keras.__version__, "gpu": gpu_name(),
              "python": platform.python_version()}
    result["training"] = mixed_precision_training()
    t = result["training"]
    checks = {
        "losses finite": bool(np.isfinite(t["losses"]).all() and np.isfinite(t["fine_tune_l2sp_loss"])),
        "float16 compute, float32 variables": t["conv_compute_dtype"] == "float16"
        and t["conv_variable_dtype"] == "float32",
        "float32 softmax output": t["output_dtype"] == "float32" and t["output_rows_sum_to_1"],
        "cached block4 = full model (loss, fp16 tolerance)":
            abs(t["full_vs_cached_block4_loss"][0] - t["full_vs_cached_block4_loss"][1]) < 1e-2,
    }
    result["checks"] = checks
    result["extraction_images_per_s_224px"] = {p: extraction_rate(p) for p in
                                               ("float32", "mixed_float16", "mixed_bfloat16")}
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "gpu_check.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
