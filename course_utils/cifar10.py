"""CIFAR-10 as a folder of class sub-folders: Keras' download, written out once as PNG files.

``keras.datasets.cifar10.load_data()`` downloads the 163 MB archive into Keras' cache
(``~/.keras/datasets``, SHA-256 checked by Keras) and returns uint8 arrays. ``fetch`` writes
them, once, as ``<data>/cache/cifar10/{train,test}/<class>/<index>.png`` (lossless, 32×32),
so the course reads CIFAR-10 like any other folder, with
``keras.utils.image_dataset_from_directory``. Offline, any folder of class sub-folders of
CIFAR-10 images does the same (notebook 07's ``DATA_FOLDER``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from . import progress
from .errors import DatasetError, DownloadError
from .integrity import is_complete, mark_complete

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"  # what Keras downloads
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"  # the hash Keras checks
SIZE = 32


def _checked(x, y, role: str, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x), np.asarray(y).reshape(-1)  # Keras gives labels as (n, 1)
    if x.ndim != 4 or x.shape[-1] != 3 or x.dtype != np.uint8:
        raise DatasetError(f"CIFAR-10 {role} images must be uint8 of shape (n, height, width, 3), "
                           f"not {x.dtype} {x.shape}.")
    if len(x) != len(y):
        raise DatasetError(f"CIFAR-10 {role}: {len(x)} images but {len(y)} labels.")
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise DatasetError(f"CIFAR-10 {role} labels must lie in 0..{num_classes - 1}, "
                           f"not {y.min()}..{y.max()}.")
    return x, y.astype(int)


def write_folders(root: Path | str, arrays, class_names=CLASSES) -> Path:
    """Write ``((x_train, y_train), (x_test, y_test))`` as ``root/{train,test}/<class>/NNNNN.png``.

    Written beside `root` and renamed into place at the end, with a ``.complete`` marker: an
    interrupted run leaves no half dataset. A complete `root` is reused; any other existing
    `root` is refused, never overwritten.
    """
    root = Path(root)
    if is_complete(root):
        return root
    if root.exists():
        raise DatasetError(f"{root} exists but is not a complete CIFAR-10 folder written by the course: "
                           "it is left as it is. Move it away (or delete it) and fetch again.")
    (x_train, y_train), (x_test, y_test) = arrays
    splits = {"train": _checked(x_train, y_train, "train", len(class_names)),
              "test": _checked(x_test, y_test, "test", len(class_names))}
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root.parent, prefix=".cifar10-"))
    try:
        for role, (x, y) in splits.items():
            for name in class_names:
                (tmp / role / name).mkdir(parents=True)
            for i, (image, label) in enumerate(progress.bar(zip(x, y), total=len(x), desc=f"writing CIFAR-10 {role}",
                                                            unit="image")):
                Image.fromarray(image).save(tmp / role / class_names[label] / f"{i:05d}.png", compress_level=1)  # fast
        mark_complete(tmp, f"{URL} via keras.datasets.cifar10.load_data()")
        os.replace(tmp, root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def fetch(root: Path | str, load_data=None) -> Path:
    """Keras' CIFAR-10 download, written as class folders at `root` (once); returns `root`."""
    root = Path(root)
    if is_complete(root):
        return root
    if load_data is None:
        import keras

        load_data = keras.datasets.cifar10.load_data
    try:
        arrays = load_data()
    except Exception as err:  # Keras raises plain Exceptions for network and checksum failures
        raise DownloadError(
            f"keras.datasets.cifar10.load_data() could not get {URL}: {err}. Without a working "
            "connection here: run `make fetch` (or `python -m course_utils.fetch --datasets cifar10`) "
            "on a machine that has one and copy its data folder here, or point notebook 07's "
            "DATA_FOLDER at a folder of CIFAR-10 class sub-folders.") from err
    return write_folders(root, arrays)
