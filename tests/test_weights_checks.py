"""Weights are verified every time they are used, and a wrong file is refused before anything is built."""

import json
from pathlib import Path

import h5py
import pytest

import builders
from builders import write_image
from course_utils import backbones, data, runs


def fake_weights(path, backbone: str, filters: int | None = None):
    """A small HDF5 file laid out like Keras' weight files: `backbone`'s first convolution only."""
    b = backbones.get(backbone)
    return builders.fake_weights(path, b.first_conv, filters or b.first_filters, b.first_kernel)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("COURSE_WEIGHTS_DIR", raising=False)
    return tmp_path


def test_a_replaced_hashless_weight_file_is_refused_against_the_digest_recorded_at_first_use(home):
    b = backbones.get("mobilenet_0.5")  # Keras publishes no hash for it
    path = fake_weights(home / "data" / "weights" / b.weights_file, b.name)
    assert backbones.resolve_weights(b, "imagenet").path == path  # first use: its digest is recorded
    assert b.weights_file in json.loads((path.parent / "checksums.json").read_text())
    assert backbones.resolve_weights(b, "imagenet").pretrained  # the same file again: fine
    with h5py.File(path, "a") as f:  # someone replaces it (another download, another variant)
        f.attrs["keras_version"] = "another"
    with pytest.raises(data.ChecksumError, match=r"differs from .* recorded when it was first used.*make fetch"):
        backbones.resolve_weights(b, "imagenet")


def test_a_truncated_hashless_weight_file_is_one_clear_line_not_an_h5py_error(home):
    b = backbones.get("mobilenet_0.5")
    path = fake_weights(home / "data" / "weights" / b.weights_file, b.name)
    path.write_bytes(path.read_bytes()[:600])
    with pytest.raises(backbones.WeightsFileError, match="damaged HDF5 file"):
        backbones.resolve_weights(b, "imagenet")


def test_a_jpeg_given_as_weights_is_refused_before_anything_is_built(home):
    photo = write_image(home / "cat.jpg")
    with pytest.raises(backbones.WeightsFileError, match=r"WEIGHTS='.*cat\.jpg' is not a Keras weight file"):
        backbones.resolve_weights("mobilenet_0.25", str(photo))


def test_another_backbones_weight_file_is_refused(home):
    vgg_file = fake_weights(home / "vgg16_notop.h5", "vgg16")
    with pytest.raises(backbones.WeightsFileError, match="holds no layer 'conv1'.*not MobileNet"):
        backbones.resolve_weights("mobilenet_0.25", str(vgg_file))
    half = fake_weights(home / "mobilenet_half.h5", "mobilenet_0.5")
    with pytest.raises(backbones.WeightsFileError, match="of 16 filters, MobileNet \\(alpha 0.25\\) with 3×3 and 8 filters"):
        backbones.resolve_weights("mobilenet_0.25", str(half))
    assert backbones.resolve_weights("mobilenet_0.5", str(half)).pretrained  # its own backbone takes it


def test_runs_start_refuses_a_wrong_weights_file_before_printing_a_banner(home, capsys):
    photo = write_image(home / "cat.jpg")
    with pytest.raises(backbones.WeightsFileError, match="not a Keras weight file"):
        runs.start("03", "smoke", backbone="mobilenet_0.25", weights=str(photo), progress=False)
    assert "ImageNet" not in capsys.readouterr().out


def test_weights_saved_by_keras_pass_the_check_of_their_backbone_only(home):
    base = backbones.get("mobilenet_0.25").build(None, (32, 32, 3))
    path = home / "mine.weights.h5"
    base.save_weights(path)  # Keras 3's own layout, not the applications' legacy one
    backbones.check_weight_file(backbones.get("mobilenet_0.25"), path)
    with pytest.raises(backbones.WeightsFileError):
        backbones.check_weight_file(backbones.get("mobilenet_0.5"), path)
    with pytest.raises(backbones.WeightsFileError):
        backbones.check_weight_file(backbones.get("vgg16"), path)


SHARED = Path(__file__).resolve().parents[2] / "shared" / "assets" / "weights" / "mobilenet_2_5_224_tf_no_top.h5"


@pytest.mark.skipif(not SHARED.is_file(), reason="the real MobileNet 0.25 file is not in ../shared/assets")
def test_the_published_mobilenet_file_passes_and_is_refused_for_another_variant():
    backbones.check_weight_file(backbones.get("mobilenet_0.25"), SHARED)
    with pytest.raises(backbones.WeightsFileError, match="convolution of 8 filters"):
        backbones.check_weight_file(backbones.get("mobilenet_1"), SHARED)
