"""Write a checked, split dataset as folders that ``keras.utils.image_dataset_from_directory`` reads.

The course's loader scans a folder, skips and counts bad files, converts odd image modes to
RGB and splits train / val / test once and deterministically. This module writes the result
as ``<root>/{train,val,test}/<class>/NNNNN_<name>.png`` (resized, lossless), so a notebook
loads each split with Keras' own ``image_dataset_from_directory``, exactly as a learner would
in their own project. The learner's folder is only read; the copies live in the cache.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from PIL import Image

from . import data, paths
from .integrity import is_complete, mark_complete

__all__ = [
    "folder_for", "write",
]


def folder_for(ds: data.Dataset, image_size: int) -> Path:
    """Where the split folders of `ds` at `image_size` live (in the cache, keyed by the split)."""
    return paths.cache_dir() / "splits" / f"{ds.name}-{ds.fingerprint()}-{image_size}px"


def write(ds: data.Dataset, image_size: int) -> Path:
    """The split folders of `ds`, written once (atomically) and reused; returns their root.

    File names start with the position in the split, so Keras' sorted listing keeps the
    split's order and labels line up with ``ds.train.labels`` etc.
    """
    root = folder_for(ds, image_size)
    if is_complete(root):
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root.parent, prefix=".partial-"))
    try:
        manifest = {}
        for role, split in ds.splits().items():
            for name in ds.class_names:  # every class folder, even an empty one: same class indices
                (tmp / role / name).mkdir(parents=True, exist_ok=True)
            files = []
            for i, (src, label) in enumerate(zip(split.paths, split.labels)):
                out = tmp / role / ds.class_names[label] / f"{i:05d}_{Path(src).stem}.png"
                Image.fromarray(data.load_image(src, image_size)).save(out)
                files.append([str(src), str(out.relative_to(tmp))])
            manifest[role] = files
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        mark_complete(tmp, f"{ds.name} {ds.fingerprint()} {image_size}px")
        if root.exists():
            shutil.rmtree(root)
        os.replace(tmp, root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root
