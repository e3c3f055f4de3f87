"""Multi-label mosaics: any single-label folder becomes a real-photo multi-label dataset.

Each image is a 2×2 grid of photos drawn from the folder; its labels are the set of their
classes (1 to 4 distinct labels). The mosaics of a split are made only from that split's
photos, and the course's splits never share a photo, so no source photo is in two splits.
The same dataset, split and seed always give the same mosaics. With ``imbalance`` > 0 the
classes are drawn with probabilities ∝ 1 / (rank + 1) ** imbalance (the first class the most
common), as in real multi-label data (VOC: "person" in 40 % of the images, "sheep" in 2 %).
Used by notebook 06 (on the generated shapes in ``smoke``, on real photos in ``fast``).
"""

from __future__ import annotations

import hashlib

import numpy as np

from . import data
from .multilabel import ROLES, MultiLabelData

__all__ = [
    "GRID", "TILES", "build", "build_split", "class_probabilities", "draw_tiles",
]

GRID = 2  # tiles per side: 2×2 = 4 photos per mosaic
TILES = GRID * GRID


def class_probabilities(num_classes: int, imbalance: float = 0.0) -> np.ndarray:
    """How often each class is drawn: ∝ 1 / (index + 1) ** imbalance (0: all equal)."""
    if imbalance < 0:
        raise ValueError(f"imbalance must be >= 0 (0: balanced), not {imbalance}.")
    p = 1.0 / np.arange(1, num_classes + 1) ** float(imbalance)
    return p / p.sum()


def draw_tiles(rng: np.random.Generator, num_classes: int, p: np.ndarray, max_labels: int = TILES) -> np.ndarray:
    """The classes of the 4 tiles of one mosaic: k distinct classes (k uniform in 1..max), each used."""
    top = min(max_labels, num_classes, TILES)
    k = int(rng.integers(1, top + 1))
    chosen = rng.choice(num_classes, size=k, replace=False, p=p)
    tiles = np.concatenate([chosen, rng.choice(chosen, size=TILES - k)])
    return rng.permutation(tiles)


def _rng(seed: int, role: str) -> np.random.Generator:
    salt = int.from_bytes(hashlib.sha256(f"mosaics/{role}".encode()).digest()[:4], "little")
    return np.random.default_rng([seed, salt])


def build_split(split: data.Split, num_classes: int, n: int, tile_size: int, *, seed: int = 0,
                role: str = "train", imbalance: float = 0.0, max_labels: int = TILES,
                ) -> tuple[np.ndarray, np.ndarray, list[tuple[str, ...]], np.ndarray]:
    """`n` mosaics from one split's photos: (images, multi-hot targets, source paths, tile classes)."""
    by_class = [[p for p, y in zip(split.paths, split.labels) if y == c] for c in range(num_classes)]
    empty = [c for c, photos in enumerate(by_class) if not photos]
    if empty:
        raise ValueError(f"The {role} split has no photo of class(es) {empty}: every class needs one.")
    rng = _rng(seed, role)
    p = class_probabilities(num_classes, imbalance)
    side = GRID * tile_size
    images = np.empty((n, side, side, 3), dtype=np.uint8)
    targets = np.zeros((n, num_classes), dtype=np.float32)
    tile_classes = np.empty((n, TILES), dtype=int)
    sources: list[tuple[str, ...]] = []
    pixels: dict[str, np.ndarray] = {}
    for i in range(n):
        tiles = draw_tiles(rng, num_classes, p, max_labels)
        used: list[str] = []
        for t, c in enumerate(tiles):
            pool = [q for q in by_class[c] if q not in used] or by_class[c]  # no photo twice if avoidable
            path = pool[int(rng.integers(len(pool)))]
            used.append(path)
            if path not in pixels:
                pixels[path] = data.load_image(path, tile_size)
            r, col = divmod(t, GRID)
            images[i, r * tile_size:(r + 1) * tile_size, col * tile_size:(col + 1) * tile_size] = pixels[path]
        targets[i, tiles] = 1.0
        tile_classes[i] = tiles
        sources.append(tuple(used))
    return images, targets, sources, tile_classes


def build(ds: data.Dataset, tile_size: int, *, counts: dict[str, int] | None = None, seed: int = 0,
          imbalance: float = 0.0, max_labels: int = TILES) -> MultiLabelData:
    """Mosaics for train / val / test of a split single-label dataset (``data.load``, ``runs.start``).

    `counts`: mosaics per split (default: as many as the split has photos, so each photo is
    used about four times). Each split's mosaics use only that split's photos.

    Used in notebook 06, section 1.
    """
    if ds.num_classes < 2:
        raise ValueError(f"{ds.name} has {ds.num_classes} class: mosaics need at least 2 classes.")
    splits = ds.splits()
    counts = counts or {role: len(splits[role]) for role in ROLES}
    images, targets, sources = {}, {}, {}
    for role in ROLES:
        images[role], targets[role], sources[role], _ = build_split(
            splits[role], ds.num_classes, counts[role], tile_size, seed=seed, role=role,
            imbalance=imbalance, max_labels=max_labels)
    note = (f"2×2 mosaics of {tile_size}px photos from {ds.name!r} ({ds.root}), 1-{min(max_labels, ds.num_classes, TILES)} "
            f"labels each, class imbalance {imbalance:g}, seed {seed}; each split from its own photos")
    return MultiLabelData(f"{ds.name}-mosaics", list(ds.class_names), images, targets, sources, note)
