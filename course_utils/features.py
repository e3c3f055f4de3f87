"""Extract convolutional features once and cache them on disk, keyed by what produced them.

The key covers the model's weights (a hash of their values, so random and ImageNet weights
never mix), the layer, the image size, the dataset and the exact files of the split. A cache
file that cannot be read is recomputed; files are written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from . import data, models, paths


@dataclass(frozen=True)
class CacheInfo:
    hit: bool
    path: Path
    seconds: float  # extraction time (0 on a hit)
    images_per_second: float | None


def weights_fingerprint(model, upto: str | None = None) -> str:
    """A hash of the weight values of `model`'s layers (up to and including `upto`)."""
    h = hashlib.sha256()
    for layer in model.layers:
        for w in layer.weights:
            h.update(np.ascontiguousarray(keras.ops.convert_to_numpy(w)).tobytes())
        if layer.name == upto:
            break
    return h.hexdigest()[:16]


def extractor(base, layer: str | None = None):
    """A model mapping raw [0, 255] RGB images to the output of `layer` (default: the base's).

    Built once per base and layer and kept on the base itself (so it lives and dies with the
    base), and Keras traces its predict function once.
    """
    cache = base.__dict__.get("_course_extractors")
    if cache is None:
        cache = {}
        object.__setattr__(base, "_course_extractors", cache)  # not a tracked Keras attribute
    if layer not in cache:
        cache[layer] = _build_extractor(base, layer)
    return cache[layer]


def _build_extractor(base, layer):
    inputs = keras.Input(base.input_shape[1:], name="image")
    x = models.vgg16_preprocess()(inputs)
    if layer is None:
        outputs = base(x, training=False)
    else:
        if layer not in models.layer_names(base):
            raise ValueError(f"No layer {layer!r} in {base.name}: {', '.join(models.layer_names(base))}.")
        truncated = keras.Model(base.inputs, base.get_layer(layer).output, name=f"{base.name}_to_{layer}")
        outputs = truncated(x, training=False)
    return keras.Model(inputs, outputs, name="feature_extractor")


def cache_key(base, split: data.Split, image_size: int, layer: str | None, dataset_name: str,
              role: str) -> str:
    """The cache key: weights, layer, image size, dataset, split role and its exact files."""
    files = hashlib.sha256("\n".join(f"{p}\t{y}" for p, y in zip(split.paths, split.labels)).encode())
    parts = {
        "weights": weights_fingerprint(base, layer),
        "layer": layer or f"{base.name}_output",
        "image_size": image_size,
        "dataset": dataset_name,
        "split": role,
        "files": files.hexdigest()[:16],
        "format": 1,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def _load(path: Path, n: int):
    try:
        with np.load(path) as f:
            feats, labels = f["features"], f["labels"]
        if len(feats) != n or len(labels) != n:
            return None
        return feats, labels
    except Exception:  # truncated, corrupt, not an npz: recompute
        return None


def extract(
    base,
    split: data.Split,
    image_size: int,
    *,
    dataset_name: str,
    role: str,
    layer: str | None = None,
    batch_size: int = 32,
    cache_dir: Path | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray, CacheInfo]:
    """Features and labels of a split, from the cache when present; returns (x, y, info)."""
    folder = Path(cache_dir) if cache_dir else paths.cache_dir() / "features"
    folder.mkdir(parents=True, exist_ok=True)
    key = cache_key(base, split, image_size, layer, dataset_name, role)
    path = folder / f"{dataset_name}-{role}-{image_size}px-{layer or 'base'}-{key}.npz"
    if path.exists():
        loaded = _load(path, len(split))
        if loaded is not None:
            return loaded[0], loaded[1], CacheInfo(True, path, 0.0, None)
    model = extractor(base, layer)
    ds = data.to_dataset(split, image_size, batch_size, cache=False)
    start = time.perf_counter()
    feats = model.predict(ds, verbose=1 if progress else 0)
    seconds = time.perf_counter() - start
    labels = np.asarray(split.labels, dtype=np.int32)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, features=feats, labels=labels)
    os.replace(tmp, path)
    return feats, labels, CacheInfo(False, path, seconds, len(split) / seconds if seconds else None)
