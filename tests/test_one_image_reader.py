"""One image reader for training, prediction (08's cell, its upload widget, the predict command).

EXIF orientation, transparency and 16-bit pixels: the model must see at prediction time the
picture it would have been trained on.
"""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from builders import RED, sideways_jpeg
from course_utils import data, images, predict, split_folders
from course_utils.folders import ScanReport
from course_utils.splits import Dataset, Split

ROOT = Path(__file__).resolve().parents[1]
SIZE = 16


def transparent_png(path):
    """A PNG whose left half is opaque red and right half fully transparent (black underneath)."""
    rgba = np.zeros((SIZE, SIZE, 4), np.uint8)
    rgba[:, : SIZE // 2] = (*RED, 255)
    Image.fromarray(rgba, "RGBA").save(path)
    return path


def png_16bit(path):
    """A 16-bit grey PNG ramp from 0 to 65535 (an 8-bit reader that clips turns it all white)."""
    ramp = np.tile(np.linspace(0, 65535, SIZE).astype(np.uint16), (SIZE, 1))
    Image.fromarray(ramp.astype(np.int32), "I").convert("I;16").save(path)
    return path


@pytest.fixture
def odd_images(tmp_path):
    return {"exif": sideways_jpeg(tmp_path / "phone.jpg"), "alpha": transparent_png(tmp_path / "logo.png"),
            "16bit": png_16bit(tmp_path / "scan.png")}


def test_the_reader_turns_upright_composites_on_white_and_scales_16_bit(odd_images):
    upright = images.load_image(odd_images["exif"], (40, 20))  # displayed 20 wide, 40 high: red on top
    assert upright[5, 10, 0] > 200 and upright[5, 10, 2] < 60 and upright[35, 10, 2] > 200
    alpha = images.load_image(odd_images["alpha"], SIZE)
    assert tuple(alpha[8, 2]) == RED and tuple(alpha[8, -2]) == (255, 255, 255)  # white, not black
    ramp = images.load_image(odd_images["16bit"], SIZE)[0, :, 0].astype(int)
    assert ramp[0] < 10 and ramp[-1] > 245 and np.all(np.diff(ramp) >= 0) and len(set(ramp)) > 8


def test_training_copies_the_predict_command_and_uploads_see_the_same_pixels(odd_images, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    files = [str(p) for p in odd_images.values()]
    ds = Dataset("odd", tmp_path, ["only"], Split(tuple(files), (0,) * len(files)), Split((), ()), Split((), ()),
                 ScanReport(), seed=0)
    root = split_folders.write(ds, SIZE)  # what image_dataset_from_directory trains on
    written = json.loads((root / "manifest.json").read_text())["train"]

    seen = []

    class Model:  # records what predict_file feeds the model
        input_shape = (None, SIZE, SIZE, 3)

        def predict(self, x, verbose=0):
            seen.append(np.asarray(x))
            return np.ones((1, 1))

    for (src, out), path in zip(written, files):
        trained_on = np.asarray(Image.open(root / out).convert("RGB"))
        predict.predict_file(Model(), ["only"], path)  # the command-line tool
        np.testing.assert_array_equal(seen[-1][0].astype(np.uint8), trained_on)
        uploaded = images.load_image(io.BytesIO(Path(path).read_bytes()), SIZE)  # 08's upload widget
        np.testing.assert_array_equal(uploaded, trained_on)


def test_notebook_08_predicts_with_the_training_reader_not_keras_load_img():
    nb = json.loads((ROOT / "notebooks" / "08_your_own_images.ipynb").read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "load_img(" not in code and "img_to_array(" not in code
    assert "images.load_image(image_file, SIZE)" in code
    assert "widgets.Upload(lambda name, content: show_top_classes(io.BytesIO(content), name))" in code


def test_a_jfif_photo_is_an_image_and_heic_is_named_with_how_to_convert(tmp_path):
    from builders import write_image
    from course_utils import folders

    for c in ("cat", "dog"):
        write_image(tmp_path / c / f"{c}.jfif", fmt="JPEG")
        write_image(tmp_path / c / f"{c}2.jpg")
    (tmp_path / "cat" / "IMG_0001.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64)
    scan = folders.scan_folder(tmp_path)
    assert sorted(p.name for p in scan.files["all"]["cat"]) == ["cat.jfif", "cat2.jpg"]
    [(path, why)] = scan.report.skipped
    assert path.endswith("IMG_0001.HEIC") and "HEIC" in why and "convert it to JPEG" in why


def test_a_class_of_only_heic_photos_says_why_and_how_to_convert(tmp_path):
    from builders import write_image
    from course_utils import folders

    write_image(tmp_path / "cat" / "a.jpg")
    (tmp_path / "dog").mkdir()
    (tmp_path / "dog" / "IMG_1.heic").write_bytes(b"\x00" * 64)
    with pytest.raises(data.DatasetError, match=r"dog holds no image files the course can read.*HEIC.*JPEG"):
        folders.scan_folder(tmp_path)


def test_an_uploaded_heic_photo_is_named_with_how_to_convert_not_as_a_memory_address():
    heic = io.BytesIO(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64)  # what an iPhone upload starts with
    with pytest.raises(data.DatasetError) as err:
        images.load_image(heic, SIZE)
    text = str(err.value)
    assert text.startswith("Cannot use the uploaded image") and "HEIC" in text and "convert it to JPEG" in text
    assert "BytesIO" not in text
