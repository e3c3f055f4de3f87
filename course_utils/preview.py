"""Data previews: a few images of every class, one row per class, each image titled with its class.

A preview of "the first 8 training images" shows one class when the images are stored class
by class (image_dataset_from_directory without shuffling, a split read in folder order). These
previews pick the first ``per_class`` images **of each class** instead, for any number of
classes, and load only those images.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pick(labels: Sequence[int], num_classes: int, per_class: int) -> list[list[int]]:
    """Positions of the first `per_class` images of each class, one list per class."""
    picked: list[list[int]] = [[] for _ in range(num_classes)]
    for i, label in enumerate(np.asarray(labels, dtype=int)):
        if 0 <= label < num_classes and len(picked[label]) < per_class:
            picked[label].append(i)
    return picked


def _collect(source, num_classes: int, per_class: int, image_size: int | None) -> list[list[np.ndarray]]:
    """The images to show, per class, from a ``data.Split`` or batches of (images, labels)."""
    if hasattr(source, "paths") and hasattr(source, "labels"):  # a data.Split: read only the picked files
        if image_size is None:
            raise ValueError("A split's images are read from disk: give image_size.")
        from .images import load_image

        return [[load_image(source.paths[i], image_size) for i in row]
                for row in pick(source.labels, num_classes, per_class)]
    picked: list[list[np.ndarray]] = [[] for _ in range(num_classes)]
    for images, labels in source:  # a batched tf.data dataset, or a list of (images, labels) arrays
        images, labels = np.asarray(images), np.asarray(labels, dtype=int)
        for row, positions in zip(picked, pick(labels, num_classes, per_class)):
            row.extend(images[i] for i in positions[:per_class - len(row)])
        if all(len(row) == per_class for row in picked):
            break
    return picked


MAX_GRID_ROWS = 20  # classes shown by per_class_grid (a row each)


def per_class_grid(source, class_names: Sequence[str], per_class: int = 4, size: float = 1.6,
                   image_size: int | None = None):
    """`per_class` images of every class, a row per class, each image titled with its class name.

    `source`: a ``data.Split`` (give `image_size`; only the shown files are read) or batches of
    (images, labels), e.g. a dataset from ``keras.utils.image_dataset_from_directory``.
    A class with no image in the source says so in its row. Past ``MAX_GRID_ROWS`` classes the
    first ones are shown (the title says how many).
    """
    import matplotlib.pyplot as plt

    if not class_names:
        raise ValueError("per_class_grid needs at least one class name.")
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, not {per_class}.")
    shown = list(class_names)[:MAX_GRID_ROWS]  # 200 classes would make a 30,000-pixel-high figure
    picked = _collect(source, len(shown), per_class, image_size)  # only the shown classes' images
    fig, axes = plt.subplots(len(shown), per_class, figsize=(size * per_class, size * len(shown) + 0.2),
                             squeeze=False)
    if len(shown) < len(class_names):
        fig.suptitle(f"the first {len(shown)} of {len(class_names)} classes", fontsize=9)
    for name, row, images in zip(shown, axes, picked):
        for k, ax in enumerate(row):
            ax.axis("off")
            if k < len(images):
                ax.imshow(np.clip(images[k], 0, 255).astype(np.uint8))
                ax.set_title(name, fontsize=8)
        if not images:
            row[0].set_title(f"{name}: no image in this split", fontsize=8, loc="left", color="red")
    fig.tight_layout()
    return fig


def augmented_grid(augment, image, n: int = 8, size: float = 1.6):
    """One image and `n - 1` random augmentations of it (the layers called with training=True)."""
    import matplotlib.pyplot as plt

    batch = np.repeat(np.asarray(image, dtype="float32")[None], n - 1, axis=0)
    variants = np.asarray(augment(batch, training=True))
    fig, axes = plt.subplots(1, n, figsize=(size * n, size + 0.3), squeeze=False)
    for k, ax in enumerate(axes[0]):
        ax.axis("off")
        ax.imshow(np.clip(image if k == 0 else variants[k - 1], 0, 255).astype(np.uint8))
        ax.set_title("original" if k == 0 else f"augmented {k}", fontsize=8)
    fig.tight_layout()
    return fig
