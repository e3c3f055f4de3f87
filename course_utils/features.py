"""Extract convolutional features once and cache them on disk, keyed by what produced them.

Notebook 03 (section 4) shows the idea inline: ``conv_base.predict`` on preprocessed images.
``extract`` is that call for whole splits, with a cache: the key covers the backbone, the
weight values (a hash, so random and ImageNet weights never mix), the layer, the image size,
the dataset and the exact files of the split. A cache file that cannot be read is
recomputed; files are written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import backbones, data, models, paths, progress
from ._quiet import keras as _load_keras

__all__ = [
    "CacheInfo", "extract", "extract_run", "extractor", "weights_fingerprint",
]

keras = _load_keras()  # TensorFlow's C++ start-up lines kept out of notebooks


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


def extractor(base, backbone: str, layer: str | None = None):
    """A model mapping raw [0, 255] RGB images to the output of `layer` (default: the base's).

    Built once per base and layer and kept on the base itself (so it lives and dies with
    the base), and Keras traces its predict function once. `backbone` must be the one `base`
    was built as (``run.backbone.name``): another's preprocessing is refused.

    Used in notebook 04, section 4 (and in notebook 06).
    """
    b = backbones.get(backbone)
    if not b.matches(base):
        raise ValueError(f"features.extractor(conv_base, {backbone!r}): this base is not {b.title} (no layer "
                         f"{b.first_conv!r} with {b.first_filters} filters), so {b.title}'s preprocessing would "
                         "feed it wrong pixels. Pass the backbone the base was built as: run.backbone.name.")
    cache = base.__dict__.get("_course_extractors")
    if cache is None:
        cache = {}
        object.__setattr__(base, "_course_extractors", cache)  # not a tracked Keras attribute
    if layer not in cache:
        inputs = keras.Input(base.input_shape[1:], name="image")
        x = models.preprocessing(backbone)(inputs)
        source = base if layer is None else keras.Model(base.inputs, base.get_layer(layer).output)
        cache[layer] = keras.Model(inputs, source(x, training=False), name="feature_extractor")
    return cache[layer]


# (path, size, inode, mtime, ctime) -> digest of the file's bytes, for this process: a split is
# hashed once per kernel, and a file rewritten since is hashed again (its ctime changes on every
# write, even when its size stays and its mtime is set back).
_DIGESTS: dict[tuple, str] = {}


def content_digest(path: Path | str) -> str:
    """A short digest of a file's bytes (remembered while the file is not written to)."""
    st = os.stat(path)
    memo = (str(Path(path).resolve()), st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
    if memo not in _DIGESTS:
        h = hashlib.blake2b(digest_size=16)
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                h.update(block)
        _DIGESTS[memo] = h.hexdigest()
    return _DIGESTS[memo]


def _key(base, backbone: str, split: data.Split, image_size: int, layer: str | None,
         dataset_name: str, role: str) -> str:
    files = hashlib.sha256("\n".join(f"{p}\t{y}\t{content_digest(p)}"
                                      for p, y in zip(split.paths, split.labels)).encode())
    parts = {"backbone": backbone, "weights": weights_fingerprint(base, layer), "layer": layer or "output",
             "image_size": image_size, "dataset": dataset_name, "split": role,
             "files": files.hexdigest()[:16], "format": 3}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def _load(path: Path, n: int):
    try:
        with np.load(path) as f:
            feats, labels = f["features"], f["labels"]
        return (feats, labels) if len(feats) == n and len(labels) == n else None
    except Exception:  # truncated, corrupt, not an npz: recompute
        return None


def extract(base, backbone: str, split: data.Split, image_size: int, *, dataset_name: str, role: str,
            layer: str | None = None, batch_size: int = 32, cache_dir: Path | None = None,
            ) -> tuple[np.ndarray, np.ndarray, CacheInfo]:
    """Features and labels of a split, from the cache when present; returns (x, y, info)."""
    key = _key(base, backbone, split, image_size, layer, dataset_name, role)
    name = f"{dataset_name}-{backbone}-{role}-{image_size}px-{layer or 'output'}-{key}.npz"
    # A read-only shared data folder is still read; new files then go where the course can write.
    folders = [Path(cache_dir)] if cache_dir else [paths.cache_dir() / "features", paths.work_dir("features")]
    for folder in dict.fromkeys(folders):
        if (folder / name).exists():
            loaded = _load(folder / name, len(split))
            if loaded is not None:
                return loaded[0], loaded[1], CacheInfo(True, folder / name, 0.0, None)
    path = folders[-1] / name
    path.parent.mkdir(parents=True, exist_ok=True)
    model = extractor(base, backbone, layer)
    ds = data.to_dataset(split, image_size, batch_size, cache=False)
    start = time.perf_counter()
    bar = progress.predict_callback(len(split), batch_size, f"features ({role})")
    feats = model.predict(ds, verbose=0, callbacks=[bar])
    seconds = time.perf_counter() - start
    labels = np.asarray(split.labels, dtype=np.int32)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp.npz")  # per process: two runs may fill one cache
    np.savez(tmp, features=feats, labels=labels)
    os.replace(tmp, path)
    return feats, labels, CacheInfo(False, path, seconds, len(split) / seconds if seconds else None)


def extract_run(run, base, role: str, layer: str | None = None):
    """``extract`` for one split of a ``runs.Run`` (its backbone, size, dataset and batch size).

    Used in notebook 03, section 4 (and in notebook 04).
    """
    return extract(base, run.backbone.name, run.data.splits()[role], run.image_size,
                   dataset_name=run.data.name, role=role, layer=layer, batch_size=run.profile.batch_size)
