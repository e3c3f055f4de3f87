"""The tf.data pipeline of a split, and a whole split as arrays in memory.

TensorFlow is imported inside `to_dataset`, so importing course_utils stays cheap.
"""

from __future__ import annotations

import numpy as np

from .images import load_image
from .splits import Split


def load_arrays(
    split: Split, image_size: int, progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """A whole split in memory: images uint8 [n, s, s, 3] and labels int32 [n]."""
    from .progress import tqdm_class

    tqdm = tqdm_class()

    images = np.empty((len(split), image_size, image_size, 3), dtype=np.uint8)
    for i, p in enumerate(tqdm(split.paths, desc="images", disable=not progress)):
        images[i] = load_image(p, image_size)
    return images, np.asarray(split.labels, dtype=np.int32)


def to_dataset(
    split: Split,
    image_size: int,
    batch_size: int,
    *,
    shuffle: bool = False,
    seed: int = 0,
    cache: bool | str = True,
):
    """A tf.data pipeline of (float32 images in [0, 255], int32 labels) batches.

    Images are decoded once and cached (in memory, or in the file named by `cache`) as
    uint8; shuffling, when asked, happens after the cache so each epoch sees a new order.
    """
    import tensorflow as tf

    paths_, labels = list(split.paths), np.asarray(split.labels, dtype=np.int32)

    def gen():
        for p, y in zip(paths_, labels):
            yield load_image(p, image_size), y

    ds = tf.data.Dataset.from_generator(
        gen,
        output_signature=(
            tf.TensorSpec((image_size, image_size, 3), tf.uint8),
            tf.TensorSpec((), tf.int32),
        ),
    )
    ds = ds.apply(tf.data.experimental.assert_cardinality(len(paths_)))  # Keras knows the steps
    if cache:
        ds = ds.cache(cache if isinstance(cache, str) else "")
    if shuffle:
        ds = ds.shuffle(len(paths_), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(lambda x, y: (tf.cast(x, tf.float32), y))
    return ds.prefetch(tf.data.AUTOTUNE)
