"""Files the data tests build: images, class folders, crafted headers, folder snapshots."""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def write_image(path: Path, mode: str = "RGB", size=(24, 20), fmt=None, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    img = Image.fromarray(arr, "RGB")
    if mode != "RGB":
        img = img.convert(mode)
    img.save(path, format=fmt)
    return path


def make_folder(root: Path, classes=("cat", "dog"), per_class=10, ext="png"):
    for c in classes:
        for i in range(per_class):
            # A stable seed per (class, index): str hashes change per process, and 1000 seeds collided
            # (two identical photos, an unexpected duplicate) in about half the runs.
            write_image(root / c / f"{c}_{i:02d}.{ext}", seed=zlib.crc32(f"{c}/{i}".encode()))
    return root


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(
        ">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that announces width x height pixels but holds one row of data: a bomb's header.

    The file is a few hundred bytes whatever the size it announces, so a test can hand the
    course a 14000 x 14000 image without writing or decoding one.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grey
    row = zlib.compress(b"\x00" + b"\x00" * ((width + 7) // 8))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", row)
                     + _chunk(b"IEND", b""))
    return path


def sideways_jpeg(path: Path, orientation: int = 6) -> Path:
    """A 40x20 JPEG, red on its left half and blue on its right, tagged with `orientation`.

    With orientation 6 (a phone held upright) it displays 20 wide and 40 high: red on top.
    """
    img = Image.new("RGB", (40, 20), BLUE)
    img.paste(RED, (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = orientation
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "JPEG", exif=exif, quality=95)
    return path


def animated_gif(path: Path, colours=(RED, GREEN, BLUE)) -> Path:
    """A 16x16 GIF with one frame per colour, the first one red."""
    frames = [Image.new("RGB", (16, 16), c) for c in colours]
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def garbage(path: Path, text: str = "not an image") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under `root` (links not followed): its kind and content digest or target."""
    seen: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            p = Path(folder) / name
            rel = str(p.relative_to(root))
            st = p.lstat()
            if p.is_symlink():
                seen[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                seen[rel] = ("dir", tuple(sorted(os.listdir(p))), st.st_mtime_ns)
            else:
                seen[rel] = ("file", hashlib.sha256(p.read_bytes()).hexdigest(), st.st_size,
                             st.st_mtime_ns)
    return seen


def fake_weights(path: Path, first_conv: str, filters: int, kernel: int = 3) -> Path:
    """A small HDF5 file laid out like a Keras applications weight file: one first convolution only."""
    import h5py

    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [first_conv.encode()]
        group = f.create_group(first_conv)
        group.attrs["weight_names"] = [f"{first_conv}/kernel:0".encode()]
        group.create_dataset(f"{first_conv}/kernel:0", data=np.zeros((kernel, kernel, 3, filters), "float32"))
    return path
