"""Decoding one file (issue 10): EXIF orientation, decompression bombs, animated images."""

import warnings

import numpy as np
import pytest
from PIL import Image, ImageFile

from builders import BLUE, RED, animated_gif, make_folder, png_header_only, sideways_jpeg
from course_utils import data, images

LIMIT = f"pixel limit of {images.MAX_PIXELS:,}"


def near(pixel, colour, tol=40):
    return bool(np.all(np.abs(np.asarray(pixel, dtype=int) - colour) <= tol))


# --------------------------------------------------------------------------- EXIF


def test_exif_orientation_6_is_applied_to_the_pixels(tmp_path):
    path = sideways_jpeg(tmp_path / "portrait.jpg", orientation=6)
    arr = data.load_image(path, (40, 20))  # (height, width) as displayed
    assert arr.shape == (40, 20, 3)
    assert near(arr[5, 10], RED) and near(arr[35, 10], BLUE), "loaded sideways"


def test_exif_orientation_6_is_applied_when_reading_sizes(tmp_path):
    path = sideways_jpeg(tmp_path / "portrait.jpg", orientation=6)
    assert data.image_size(path) == (20, 40)
    check = data.check_image(path)
    assert check.ok and check.size == (20, 40) and check.orientation == 6


def test_upright_photos_are_left_as_they_are(tmp_path):
    path = sideways_jpeg(tmp_path / "landscape.jpg", orientation=1)
    arr = data.load_image(path, (20, 40))
    assert near(arr[10, 5], RED) and near(arr[10, 35], BLUE)
    assert data.image_size(path) == (40, 20)


def test_rotated_photos_are_counted_in_the_load_summary(tmp_path):
    root = make_folder(tmp_path / "ds")
    sideways_jpeg(root / "cat" / "portrait.jpg")
    ds = data.load_folder(root)
    assert ds.report.rotated == 1
    assert "turned upright by their EXIF orientation: 1" in ds.summary()


# --------------------------------------------------------------------------- bombs


@pytest.mark.parametrize("side", [12000, 14000])
def test_a_bomb_sized_png_is_skipped_with_the_limit_and_no_pillow_warning(tmp_path, side):
    # 12000^2 is where Pillow only warns (without the file's name); 14000^2 where it raises.
    path = png_header_only(tmp_path / "huge.png", side, side)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ok, why = data.inspect_image(path)
    assert not ok and LIMIT in why and f"{side * side:,} pixels" in why
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]


def test_an_image_over_the_limit_is_refused_from_its_header_without_decoding(
        tmp_path, monkeypatch):
    path = make_folder(tmp_path / "ds", per_class=1) / "cat" / "cat_00.png"  # 24 x 20
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    decoded = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load",
                        lambda self: decoded.append(self) or real_load(self))
    check = data.check_image(path)
    assert not check.ok and "24x20 = 480 pixels" in check.reason and "limit of 100" in check.reason
    assert decoded == []


def test_a_bomb_in_a_folder_is_skipped_and_named_and_the_load_goes_on(tmp_path):
    root = make_folder(tmp_path / "ds")
    png_header_only(root / "dog" / "huge.png", 14000, 14000)
    ds = data.load_folder(root)
    skipped = dict(ds.report.skipped)
    assert LIMIT in skipped[str(root / "dog" / "huge.png")]
    assert "dog/huge.png: too large" in ds.summary() and ds.report.used == 20


def test_load_image_of_a_bomb_is_an_error_naming_the_file(tmp_path):
    path = png_header_only(tmp_path / "huge.png", 14000, 14000)
    with pytest.raises(data.DatasetError, match=rf"{path}: too large.*{LIMIT}"):
        data.load_image(path, 16)


# --------------------------------------------------------------------------- animations


def test_an_animated_gif_gives_its_first_frame(tmp_path):
    path = animated_gif(tmp_path / "blink.gif")
    assert near(data.load_image(path, 8)[4, 4], RED, tol=10)
    assert data.check_image(path).frames == 3


def test_an_animated_gif_in_a_folder_is_counted_as_such(tmp_path):
    root = make_folder(tmp_path / "ds")
    animated_gif(root / "cat" / "blink.gif")
    ds = data.load_folder(root)
    assert ds.report.animated == [str(root / "cat" / "blink.gif")]
    assert "first frame used: 1 (cat/blink.gif)" in ds.summary()
