"""The synthetic shapes dataset: generated on this machine, deterministically, offline.

Coloured circles, squares and triangles on noisy backgrounds; the same seed gives the same
pixels on every machine (``shapes_fingerprint`` checks it). It is the offline default that
CI and the ``smoke`` profile run on.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .integrity import mark_complete

SHAPES_CLASSES = ("circle", "square", "triangle")
SHAPES_PER_CLASS = 40
SHAPES_SIZE = 64
SHAPES_SEED = 1234


def _shape_image(rng: np.random.Generator, kind: str, size: int) -> Image.Image:
    background = rng.integers(0, 256, 3)
    pixels = np.clip(background + rng.normal(0, 25, (size, size, 3)), 0, 255).astype(np.uint8)
    img = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(img)
    # A colour far enough from the background to be visible.
    colour = (background + rng.integers(80, 176, 3)) % 256
    fill = tuple(int(c) for c in colour)
    r = rng.uniform(0.18, 0.34) * size
    cx, cy = rng.uniform(r + 2, size - r - 2, 2)
    if kind == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    else:
        corners = 4 if kind == "square" else 3
        angle0 = rng.uniform(0, 2 * np.pi)
        angles = angle0 + np.arange(corners) * 2 * np.pi / corners
        draw.polygon([(cx + r * np.cos(a), cy + r * np.sin(a)) for a in angles], fill=fill)
    return img


def shapes_arrays(
    per_class: int = SHAPES_PER_CLASS, size: int = SHAPES_SIZE, seed: int = SHAPES_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """The synthetic shapes as arrays (images uint8 [n, size, size, 3], labels int)."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for i in range(per_class):
        for label, kind in enumerate(SHAPES_CLASSES):
            images.append(np.asarray(_shape_image(rng, kind, size)))
            labels.append(label)
    return np.stack(images), np.asarray(labels)


def shapes_fingerprint(images: np.ndarray) -> str:
    """SHA-256 of the pixels (PNG bytes may differ between zlib versions; pixels do not)."""
    return hashlib.sha256(np.ascontiguousarray(images).tobytes()).hexdigest()


def generate_shapes(
    root: Path | str,
    per_class: int = SHAPES_PER_CLASS,
    size: int = SHAPES_SIZE,
    seed: int = SHAPES_SEED,
) -> Path:
    """Write the shapes dataset as PNGs in class sub-folders of `root`; returns `root`."""
    root = Path(root)
    images, labels = shapes_arrays(per_class, size, seed)
    counters = Counter()
    for img, label in zip(images, labels):
        kind = SHAPES_CLASSES[label]
        folder = root / kind
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(folder / f"{kind}_{counters[kind]:03d}.png")
        counters[kind] += 1
    mark_complete(root, f"pixels sha256:{shapes_fingerprint(images)}")
    return root
