"""The backbone registry, weight resolution, the in-model preprocessing and the model chain."""

import json

import keras
import numpy as np
import pytest

from builders import fake_weights
from course_utils import backbones, data, models

SIZE = 32


@pytest.fixture(scope="module")
def vgg():
    keras.utils.set_random_seed(0)
    return backbones.get("vgg16").build(None, (SIZE, SIZE, 3))


@pytest.mark.parametrize("name", list(backbones.REGISTRY))
def test_every_backbone_builds_and_its_fine_tuning_part_is_exactly_the_layers_from_its_first_layer(name):
    b = backbones.get(name)
    base = b.build(None, (SIZE, SIZE, 3))
    names = [layer.name for layer in base.layers]
    assert b.last_conv in names and b.cache_at in names
    top = models.top_of_base(base, b.cache_at)
    # The part fine-tuned on cached features is the part unfreeze_from makes trainable: no more, no less.
    unfrozen = set(models.unfreeze_from(base, b.fine_tune_from))
    assert {layer.name for layer in top.layers[1:]} == unfrozen
    has_bn = any(isinstance(layer, keras.layers.BatchNormalization) for layer in base.layers)
    assert has_bn == b.batchnorm
    x = np.random.default_rng(0).uniform(0, 255, (2, SIZE, SIZE, 3)).astype("float32")
    inner = keras.Model(base.inputs, base.get_layer(b.cache_at).output)
    np.testing.assert_allclose(top(inner(x)), base(x), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", list(backbones.REGISTRY))
def test_preprocessing_is_the_backbones_own_preprocess_input_to_1e_4(name):
    images = np.random.default_rng(1).uniform(0, 255, (4, 9, 7, 3)).astype("float32")
    fn = backbones.get(name).preprocess_input()
    expected = np.asarray(fn(images.copy()))
    np.testing.assert_allclose(models.preprocessing(name)(images), expected, rtol=0, atol=1e-4)
    assert not np.allclose(expected, images / 255.0, atol=1e-2), "not a plain rescale=1./255"


@pytest.mark.parametrize("name", ["vgg16", "mobilenet_0.25"])
def test_preprocessing_holds_only_keras_own_layers(name):
    pre = models.preprocessing(name)
    for layer in pre.layers:
        assert type(layer).__module__.startswith("keras."), f"{layer.name}: {type(layer)} is not Keras' own"
    assert "course_utils" not in json.dumps(pre.get_config())


def test_vgg16_and_mobilenet_preprocess_differently():
    x = np.full((1, 2, 2, 3), 128.0, "float32")
    assert not np.allclose(models.preprocessing("vgg16")(x), models.preprocessing("mobilenet_0.25")(x))


def test_the_channel_flip_is_rgb_to_bgr():
    x = np.zeros((1, 1, 1, 3), "float32")
    x[..., 0] = 255.0  # pure red
    bgr = np.asarray(models.preprocessing("vgg16")(x))[0, 0, 0]
    np.testing.assert_allclose(bgr, [-103.939, -116.779, 255.0 - 123.68], atol=1e-4)


def test_unknown_backbone_lists_the_valid_names():
    with pytest.raises(backbones.UnknownBackboneError, match="Valid backbones: vgg16, resnet50"):
        backbones.get("inception")


def test_too_small_an_image_is_a_clear_error():
    with pytest.raises(ValueError, match="at least 32"):
        backbones.get("vgg16").build(None, (16, 16, 3))


def test_offline_without_weights_the_error_names_the_three_ways_out(data_home):
    with pytest.raises(backbones.WeightsUnavailableError) as err:
        backbones.resolve_weights("resnet50", "imagenet")
    text = str(err.value)
    assert backbones.get("resnet50").weights_file in text
    assert "COURSE_WEIGHTS_DIR" in text and "keras" in text.lower() and "make fetch BACKBONE=resnet50" in text


def test_local_folder_comes_before_keras_cache_and_random_needs_no_file(data_home, tmp_path, monkeypatch):
    b = backbones.get("mobilenet_0.5")  # no published hash: a small file laid out like its own stands in
    cache = tmp_path / "keras" / "models"
    fake_weights(cache / b.weights_file, b.first_conv, b.first_filters)
    assert backbones.resolve_weights(b, "imagenet").source == "keras cache"
    local = tmp_path / "mine"
    local.mkdir()
    (local / b.weights_file).write_bytes((cache / b.weights_file).read_bytes())
    monkeypatch.setenv("COURSE_WEIGHTS_DIR", str(local))
    found = backbones.resolve_weights(b, "imagenet")
    assert found.source == "local file" and found.path == local / b.weights_file and found.pretrained
    random = backbones.resolve_weights(b, "random")
    assert not random.pretrained and random.keras_argument is None


def test_a_found_weight_file_that_is_not_the_published_one_is_refused(data_home, tmp_path, monkeypatch):
    b = backbones.get("vgg16")
    monkeypatch.setenv("COURSE_WEIGHTS_DIR", str(tmp_path))
    (tmp_path / b.weights_file).write_bytes(b"half a file")
    with pytest.raises(data.ChecksumError, match="make fetch BACKBONE=vgg16"):
        backbones.resolve_weights(b, "imagenet")


def test_a_weights_file_that_does_not_exist_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        backbones.resolve_weights("vgg16", str(tmp_path / "nope.h5"))


def test_weights_from_a_file_are_loaded_into_the_base(vgg, tmp_path):
    path = tmp_path / "w.weights.h5"
    vgg.save_weights(path)
    again = backbones.get("vgg16").build(str(path), (SIZE, SIZE, 3))
    for a, b in zip(vgg.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_hashless_download_records_its_digest_and_refuses_a_changed_file(data_home, monkeypatch):
    b = backbones.get("mobilenet_0.5")
    assert b.weights_hash is None
    contents = iter([b"first", b"second"])

    def fake_download(url, dest, **kw):
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(next(contents))
        return dest

    monkeypatch.setattr(data, "download", fake_download)
    path = backbones.fetch_weights(b, progress=False)
    recorded = json.loads((path.parent / "checksums.json").read_text())
    assert recorded[b.weights_file].startswith("sha256:")
    with pytest.raises(data.ChecksumError, match="differs"):
        backbones.fetch_weights(b, progress=False)
    assert not path.exists()


def test_unfreezing_by_name_inside_a_chain_grows_the_trainable_count_by_the_last_block(vgg):
    vgg.trainable = False
    chain = models.Chain.build("vgg16", vgg, models.gap_head(3), augment=models.augmentation())
    head_only = models.count_params(chain.model, trainable=True)
    models.unfreeze_from(vgg, "block5_conv1")
    block5 = sum(models.count_params(layer) for layer in vgg.layers if layer.name.startswith("block5_"))
    assert models.count_params(chain.model, trainable=True) - head_only == block5
    vgg.trainable = False


def test_unknown_layer_name_lists_the_layers(vgg):
    with pytest.raises(ValueError, match="block1_conv1"):
        models.unfreeze_from(vgg, "block9_conv1")


def test_a_saved_chain_loads_back_with_its_parts_by_attribute(vgg, tmp_path):
    vgg.trainable = False
    chain = models.Chain.build("vgg16", vgg, models.gap_head(2), augment=models.augmentation())
    path = tmp_path / "m.keras"
    chain.model.save(path)
    loaded = models.Chain.of(keras.models.load_model(path))
    assert loaded.base.name == models.BASE and loaded.head.name == models.HEAD
    assert loaded.augmentation is not None
    # VGG16's "caffe" preprocessing, as Keras' own layers: the BGR mean subtracted by a Normalization
    assert f"{models.PREPROCESS}_minus_mean" in [layer.name for layer in loaded.preprocess.layers]
    x = np.random.default_rng(0).uniform(0, 255, (2, SIZE, SIZE, 3)).astype("float32")
    np.testing.assert_allclose(loaded.model.predict(x, verbose=0), chain.model.predict(x, verbose=0), rtol=1e-5)
    plain = loaded.without_augmentation()
    np.testing.assert_allclose(plain.model.predict(x, verbose=0), chain.model.predict(x, verbose=0), rtol=1e-5)


def test_a_model_that_is_not_a_course_model_is_refused_with_its_layers():
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="dense")])
    with pytest.raises(ValueError, match="no layer named 'head'.*dense"):
        models.Chain.of(m)


def test_l2_sp_penalty_is_zero_at_the_anchor_and_data_loss_leaves_it_out():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    assert models.apply_l2_sp(model, 1.0) == 2
    assert float(sum(model.losses)) == 0.0
    model.layers[0].kernel.assign(model.layers[0].kernel + 1.0)
    assert float(sum(model.losses)) == pytest.approx(0.5 * 6)
    x, y = np.ones((4, 3), "float32"), np.array([0, 1, 0, 1])
    model.compile(loss="sparse_categorical_crossentropy")
    with_penalty = model.evaluate(x, y, verbose=0)
    assert with_penalty > models.data_loss(model, x, y) + 2.9  # Keras adds the penalty, data_loss does not
    models.remove_regularizers(model)
    assert not model.losses
