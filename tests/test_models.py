import h5py
import keras
import numpy as np
import pytest

from course_utils import models, network

SHAPE = (32, 32, 3)


@pytest.fixture(scope="module")
def random_base():
    return models.vgg16_base(None, SHAPE, quiet=True)


def write_legacy_weights(model, path):
    """Write weights in the format of Keras' downloaded .h5 files (layer-name groups)."""
    from keras.src.legacy.saving import legacy_h5_format

    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    return path


def test_random_weights_print_a_banner_saying_results_are_not_meaningful(capsys):
    base = models.vgg16_base(None, SHAPE)
    out = capsys.readouterr().out
    assert out.strip() == models.RANDOM_WEIGHTS_BANNER and "is a meaningful result" in out
    assert base.course_weights.source == "random" and not base.course_weights.pretrained


def test_missing_weights_offline_error_names_the_three_ways_out(data_home):
    with pytest.raises(models.WeightsUnavailableError) as info:
        models.vgg16_base("imagenet", SHAPE)
    msg = str(info.value)
    assert str(data_home / "weights") in msg  # (1) the course's weights folder
    assert str(data_home.parent / "keras" / "models") in msg  # (2) Keras' cache
    assert "make fetch" in msg and models.VGG16_NOTOP_URL in msg  # (3) download elsewhere
    assert "weights=None" in msg


def test_local_weights_file_is_found_first_and_loaded(data_home, random_base):
    reference = models.vgg16_base(None, SHAPE, quiet=True)
    write_legacy_weights(reference, data_home / "weights" / models.VGG16_NOTOP_FILE)
    status = models.imagenet_weights_status()
    assert status.source == "local file" and status.available
    loaded = models.vgg16_base("imagenet", SHAPE)
    assert loaded.course_weights.pretrained
    for a, b in zip(loaded.weights, reference.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.allclose(loaded.weights[0].numpy(), random_base.weights[0].numpy())


def test_keras_cache_is_used_when_there_is_no_local_file(data_home, random_base):
    write_legacy_weights(random_base, data_home.parent / "keras" / "models" / models.VGG16_NOTOP_FILE)
    assert models.imagenet_weights_status().source == "keras cache"


def test_weights_dir_can_be_set_by_environment(data_home, tmp_path, monkeypatch, random_base):
    write_legacy_weights(random_base, tmp_path / "shared" / models.VGG16_NOTOP_FILE)
    monkeypatch.setenv("COURSE_WEIGHTS_DIR", str(tmp_path / "shared"))
    assert models.imagenet_weights_status().path == tmp_path / "shared" / models.VGG16_NOTOP_FILE


def test_failed_download_becomes_the_same_clear_error(data_home, monkeypatch):
    monkeypatch.setattr(network, "can_reach", lambda url, timeout=2.0: True)

    def fail(**kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: 403")

    monkeypatch.setattr(keras.applications, "VGG16", fail)
    assert models.imagenet_weights_status().source == "download"
    with pytest.raises(models.WeightsUnavailableError, match="Downloading the VGG16 weights failed"):
        models.vgg16_base("imagenet", SHAPE)


def test_a_weights_path_that_does_not_exist_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        models.vgg16_base(tmp_path / "nope.h5", SHAPE)


def block5_conv_params(base):
    return sum(models.count_params(l) for l in base.layers if l.name.startswith("block5_conv"))


def test_unfreezing_from_block5_conv1_trains_exactly_block5(random_base):
    models.freeze(random_base)
    assert models.count_params(random_base, trainable=True) == 0
    trainable = models.unfreeze_from(random_base, "block5_conv1")
    assert trainable == ["block5_conv1", "block5_conv2", "block5_conv3", "block5_pool"]
    rows = models.trainable_table(random_base)
    assert sum(r.trainable_params for r in rows) == block5_conv_params(random_base) == 7_079_424
    assert sum(r.params for r in rows) == models.VGG16_NOTOP_PARAMS
    assert {r.layer for r in rows if r.trainable} == set(trainable)
    text = models.format_table(rows)
    assert "7,079,424" in text and "14,714,688" in text


def test_unfreezing_inside_a_classifier_grows_the_trainable_count_by_block5():
    base = models.vgg16_base(None, SHAPE, quiet=True)
    models.freeze(base)
    model = models.build_classifier(base, models.gap_head(3))
    before = models.count_params(model, trainable=True)
    assert before == 512 * 3 + 3  # only the head
    models.unfreeze_from(base, "block5_conv1")
    assert models.count_params(model, trainable=True) - before == 7_079_424


def test_unknown_layer_name_lists_the_layers(random_base):
    with pytest.raises(ValueError, match="block5_conv1"):
        models.unfreeze_from(random_base, "block6_conv1")


def test_flatten_dense_head_is_the_articles_head():
    head = models.flatten_dense_head(2)
    out = head(np.ones((4, 1, 1, 512), "float32"))
    assert out.shape == (4, 2)
    np.testing.assert_allclose(out.numpy().sum(axis=1), 1.0, rtol=1e-5)
    assert models.count_params(head) == 512 * 1024 + 1024 + 1024 * 2 + 2
    assert [l.name for l in head.layers] == ["flatten", "fc", "predictions"]


def test_gap_head_is_much_smaller_than_the_flatten_head():
    x = np.ones((2, 3, 3, 512), "float32")
    flat, gap = models.flatten_dense_head(5), models.gap_head(5)
    flat(x), gap(x)
    assert models.count_params(gap) == 512 * 5 + 5
    assert models.count_params(flat) > 100 * models.count_params(gap)


def test_preprocessing_layer_matches_keras_preprocess_input():
    x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    expected = keras.applications.vgg16.preprocess_input(x.copy())
    np.testing.assert_allclose(models.vgg16_preprocess()(x).numpy(), expected, rtol=1e-5, atol=1e-4)


def test_classifier_saves_and_loads_as_keras_file(tmp_path):
    base = models.vgg16_base(None, SHAPE, quiet=True)
    model = models.build_classifier(base, models.gap_head(3),
                                    augmentation=models.augmentation_layers())
    x = np.random.default_rng(1).uniform(0, 255, (2, *SHAPE)).astype("float32")
    path = tmp_path / "model.keras"
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5)
