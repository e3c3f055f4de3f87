"""Decoding one image file: checks, EXIF orientation, modes to RGB, animated files, bombs.

Every file the course decodes is opened by `open_image`, which checks the pixel count from
the file's header before any pixel is decoded: a "decompression bomb" (a small file that
unpacks into gigabytes, or simply a huge scan) is refused with the file and the limit named,
instead of Pillow's warning or traceback.
"""

from __future__ import annotations

import os
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from .errors import DatasetError

__all__ = [
    "IMAGE_EXTENSIONS", "ImageCheck", "ImageError", "check_image", "dhash", "image_size", "inspect_image",
    "load_image", "open_image", "problem", "to_rgb",
]

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".jfif", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}

# Photo formats Pillow cannot open without a plug-in: named, with the way to convert them.
HEIC_HOW = ("HEIC/HEIF photo (an iPhone's format), which the course cannot read: convert it to JPEG (on a Mac: "
            "open it in Preview, File > Export as JPEG, or `sips -s format jpeg IMG.heic --out IMG.jpg`; on "
            "the iPhone: Settings > Camera > Formats > Most Compatible; elsewhere: any image editor)")
UNSUPPORTED = {".heic": HEIC_HOW, ".heif": HEIC_HOW,
               ".pdf": "PDF document, not an image: export the page as PNG or JPEG",
               ".svg": "SVG drawing, not a photo: export it as PNG"}

# 64 megapixels (8000 x 8000). Above what cameras and phones save by default (12-50 MP), and
# below Pillow's own warning limit (~89.5 MP), so Pillow never warns about an image we accept.
# Decoded as 8-bit RGB such an image takes 192 MB; the four a folder scan checks at once stay
# under 1 GB, which a 2 GB Binder survives.
MAX_PIXELS = 64_000_000

# EXIF orientations 5-8 turn the picture by 90 degrees: width and height swap on display.
_SWAPS_SIDES = {5, 6, 7, 8}

# warnings filters are process-wide: the lock keeps two of our threads from saving and
# restoring them out of order (which would leave Pillow's warning switched to an error).
_OPEN_LOCK = threading.Lock()


class ImageError(DatasetError):
    """An image file the course cannot use; `reason` says why, the message names the file."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"Cannot use {path}: {reason}.")
        self.path, self.reason = str(path), reason


@dataclass(frozen=True)
class ImageCheck:
    """What a full decode of one file found: usable or not, and what loading it will do."""

    ok: bool
    reason: str = ""  # why the file cannot be used (empty when ok)
    mode: str = ""  # Pillow mode before conversion to RGB
    size: tuple[int, int] = (0, 0)  # (width, height) as displayed: EXIF orientation applied
    frames: int = 1  # more than 1: an animation, of which the first frame is used
    orientation: int = 1  # the EXIF orientation tag; 1 is upright


def _too_large(pixels: int, size: tuple[int, int] | None = None) -> str:
    sides = f"{size[0]}x{size[1]} = " if size else ""
    return (
        f"too large: {sides}{pixels:,} pixels, over the pixel limit of {MAX_PIXELS:,} "
        "(a possible decompression bomb). Downscale it, or raise course_utils.images.MAX_PIXELS"
    )


@contextmanager
def _pixel_guard(path: Path | str) -> Iterator[None]:
    """Pillow's own bomb warning and error, turned into an ImageError naming the file."""
    with _OPEN_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as err:
            found = re.search(r"\((\d+) pixels\)", str(err))
            reason = _too_large(int(found.group(1))) if found else f"too large ({err})"
            raise ImageError(path, reason) from None


def open_image(path: Path | str) -> Image.Image:
    """The file opened lazily (header only) once its pixel count is within MAX_PIXELS."""
    with _pixel_guard(path):
        img = Image.open(path)
    width, height = img.size
    if width * height > MAX_PIXELS:
        img.close()
        raise ImageError(path, _too_large(width * height, img.size))
    return img


def _orientation(img: Image.Image) -> int:
    value = img.getexif().get(ExifTags.Base.Orientation, 1)
    return value if value in range(1, 9) else 1


def _displayed(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation in _SWAPS_SIDES else size


def image_size(path: Path | str) -> tuple[int, int]:
    """(width, height) as the image is displayed (EXIF orientation applied), from the header."""
    with open_image(path) as img:
        return _displayed(img.size, _orientation(img))


def check_image(path: Path | str) -> ImageCheck:
    """Decode the whole file once: what loading it will give, or why it cannot be used."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            return ImageCheck(False, "empty file")
        with open_image(path) as img:
            with _pixel_guard(path):  # counting frames seeks through them: Pillow checks each
                frames = getattr(img, "n_frames", 1)
            orientation = _orientation(img)
            img.load()  # a full decode: catches truncated files that verify() lets through
            return ImageCheck(True, mode=img.mode, size=_displayed(img.size, orientation),
                              frames=frames, orientation=orientation)
    except ImageError as err:
        return ImageCheck(False, err.reason)
    except UnidentifiedImageError:
        return ImageCheck(False, UNSUPPORTED.get(path.suffix.lower(), "not an image"))
    except Exception as err:  # noqa: BLE001  a damaged file makes Pillow raise anything (TypeError for a
        # TIFF without dimensions, struct.error, ...): one bad file must never stop a folder scan
        return ImageCheck(False, f"corrupt or truncated ({type(err).__name__}: {err})")


def inspect_image(path: Path | str) -> tuple[bool, str]:
    """Decode the whole file: (True, mode) for a usable image, (False, reason) otherwise."""
    check = check_image(path)
    return (True, check.mode) if check.ok else (False, check.reason)


def to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode as 8-bit RGB: alpha composited on white, 16-bit and float rescaled."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        arr = (arr - lo) / (hi - lo) * 255 if hi > lo else np.zeros_like(arr)
        return Image.fromarray(arr.astype(np.uint8), "L").convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV


def load_image(path: Path | str, image_size: int | tuple[int, int]) -> np.ndarray:
    """One image as uint8 RGB [h, w, 3], upright (EXIF), first frame, resized (bilinear).

    Used in notebook 08, section 7: the images it predicts are read with it, exactly as training read its own.

    `path`: a file, or a file-like object (the bytes of an upload).
    """
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    # a file path, or the bytes of an upload (io.BytesIO: named by its .name if it has one)
    label = path if isinstance(path, (str, os.PathLike)) else getattr(path, "name", "the uploaded image")
    try:
        with open_image(path) as img:
            # Phones store a portrait photo as landscape pixels plus an orientation tag:
            # without this the model would learn from sideways pictures.
            ImageOps.exif_transpose(img, in_place=True)
            rgb = to_rgb(img).resize((size[1], size[0]), Image.BILINEAR)
            return np.asarray(rgb, dtype=np.uint8)
    except ImageError:
        raise
    except UnidentifiedImageError as err:
        why = UNSUPPORTED.get(Path(str(label)).suffix.lower()) or (HEIC_HOW if _is_heic(path) else "not an image")
        raise ImageError(label, f"unreadable ({why}); replace or remove the file") from err
    except Exception as err:  # damaged files make Pillow raise many kinds (see check_image)
        raise ImageError(label, f"unreadable ({type(err).__name__}: {err}); replace or remove the file") from err


def _is_heic(source) -> bool:
    """True when the bytes start like a HEIC/HEIF photo (an ISO box 'ftyp' with an HEIF brand)."""
    try:
        if hasattr(source, "getvalue"):
            head = source.getvalue()[:12]
        else:
            with open(source, "rb") as f:
                head = f.read(12)
    except (OSError, TypeError, ValueError):
        return False
    return head[4:8] == b"ftyp" and head[8:12] in {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"}


def problem(path: Path | str, parameter: str = "IMAGE_FILE") -> str:
    """Why the image file `path` cannot be used, in one line naming `parameter`; "" when it can.

    Checked before any training, so a wrong path costs nothing (notebook 08, section 1 checks
    ``IMAGE_FILE`` with it).
    """
    p = Path(path).expanduser()
    if not p.exists():
        return (f"{parameter}={str(path)!r}: no such file (paths are relative to {Path.cwd()}). Give the path "
                "of an image file: JPEG, PNG, ...")
    if p.is_dir():
        return f"{parameter}={str(path)!r} is a folder: give one image file in it."
    found = check_image(p)
    if not found.ok:
        return f"{parameter}={str(path)!r} cannot be used: {found.reason}."
    return ""


def dhash(pixels: np.ndarray) -> int:
    """A 64-bit difference hash of an image array: equal or close for the same photo resized or re-encoded.

    The image in grey, shrunk to 9×8, and one bit per pair of horizontal neighbours (left
    brighter than right). Two copies of one photo differ in a few bits at most; two different
    photos in about half of them.
    """
    grey = Image.fromarray(np.asarray(pixels, dtype=np.uint8)).convert("L").resize((9, 8), Image.BILINEAR)
    a = np.asarray(grey, dtype=np.int16)
    bits = (a[:, :-1] > a[:, 1:]).ravel()
    return int(np.packbits(bits).view(">u8")[0])
