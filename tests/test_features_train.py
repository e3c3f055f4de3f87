"""Feature cache, training wrapper, checkpoint resume and the cached-block4 equivalence."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import claims, data, features, models, train

SIZE = 32


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    root = data.generate_shapes(tmp_path_factory.mktemp("shapes") / "shapes", per_class=8)
    return data.load_folder(root, images_per_class=4, eval_images_per_class=2)


@pytest.fixture(scope="module")
def base():
    keras.utils.set_random_seed(0)
    return models.vgg16_base(None, (SIZE, SIZE, 3), quiet=True)


def extract(base, split, cache_dir, **kw):
    kw.setdefault("image_size", SIZE)
    return features.extract(base, split, dataset_name="shapes", role="train", cache_dir=cache_dir,
                            batch_size=4, **kw)


def test_second_extraction_is_a_cache_hit_with_the_same_arrays(shapes, base, tmp_path):
    x1, y1, miss = extract(base, shapes.train, tmp_path)
    x2, y2, hit = extract(base, shapes.train, tmp_path)
    assert not miss.hit and hit.hit and miss.path == hit.path
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y2, shapes.train.labels)
    assert x1.shape == (len(shapes.train), 1, 1, 512) and miss.images_per_second > 0


def test_features_equal_a_direct_forward_pass(shapes, base, tmp_path):
    x, _, _ = extract(base, shapes.train, tmp_path)
    images, _ = data.load_arrays(shapes.train, SIZE)
    direct = base.predict(keras.applications.vgg16.preprocess_input(images.astype("float32")), verbose=0)
    np.testing.assert_allclose(x, direct, rtol=1e-4, atol=1e-4)


def test_other_weights_size_layer_or_split_miss_the_cache(shapes, base, tmp_path):
    _, _, first = extract(base, shapes.train, tmp_path)
    other_weights = models.vgg16_base(None, (SIZE, SIZE, 3), quiet=True)  # new random weights
    assert not extract(other_weights, shapes.train, tmp_path)[2].hit
    bigger = models.vgg16_base(None, (48, 48, 3), quiet=True)
    bigger.set_weights(base.get_weights())
    assert not extract(bigger, shapes.train, tmp_path, image_size=48)[2].hit
    assert not extract(base, shapes.train, tmp_path, layer="block4_pool")[2].hit
    assert not extract(base, shapes.val, tmp_path)[2].hit
    assert extract(base, shapes.train, tmp_path)[2].hit  # the first is still there
    assert len(list(tmp_path.glob("*.npz"))) == 5


def test_a_damaged_cache_file_is_recomputed(shapes, base, tmp_path):
    x, _, info = extract(base, shapes.train, tmp_path)
    info.path.write_bytes(info.path.read_bytes()[:100])  # truncated
    x2, _, again = extract(base, shapes.train, tmp_path)
    assert not again.hit
    np.testing.assert_allclose(x, x2, rtol=1e-5)
    assert extract(base, shapes.train, tmp_path)[2].hit


def test_unknown_layer_is_a_clear_error(base):
    with pytest.raises(ValueError, match="block9_pool"):
        features.extractor(base, "block9_pool")


def test_cached_block4_training_gives_the_same_loss_and_update(shapes, base):
    models.unfreeze_from(base, "block5_conv1")
    head = models.gap_head(shapes.num_classes, dropout=0.0)
    full = models.build_classifier(base, head)
    top = models.top_of_base(base, head, "block5_conv1")
    images, labels = data.load_arrays(shapes.train, SIZE)
    x = images.astype("float32")
    feats = features.extractor(base, "block4_pool")(x)
    assert [w.name for w in top.trainable_weights] == [w.name for w in full.trainable_weights]

    def step(model, inputs):
        with tf.GradientTape() as tape:
            loss = keras.losses.SparseCategoricalCrossentropy()(labels, model(inputs))
        return float(loss), tape.gradient(loss, model.trainable_weights)

    loss_full, g_full = step(full, x)
    loss_top, g_top = step(top, feats)
    assert loss_full == pytest.approx(loss_top, abs=1e-5)
    for a, b in zip(g_full, g_top):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


def test_cached_layer_for_picks_the_layer_before(base):
    assert models.cached_layer_for(base, "block5_conv1") == "block4_pool"
    assert models.cached_layer_for(base, "block4_conv1") == "block3_pool"
    with pytest.raises(ValueError, match="nothing to cache"):
        models.cached_layer_for(base, "block1_conv1")


def small_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    train.compile_classifier(model, keras.optimizers.Adam(learning_rate=1e-2))
    return model


def test_fit_times_epochs_and_writes_a_keras_checkpoint(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)).astype("float32"), rng.integers(0, 3, 32)
    result = train.fit(small_model(), (x, y), (x, y), epochs=3, checkpoint=tmp_path / "ck.keras",
                       early_stopping=5)
    assert len(result.epoch_seconds) == 3 and result.seconds > 0
    assert (tmp_path / "ck.keras").exists()
    assert result.best("val_loss") == min(result.history.history["val_loss"])
    with pytest.raises(ValueError, match=".keras"):
        train.fit(small_model(), (x, y), epochs=1, checkpoint=tmp_path / "ck.h5")


def test_resuming_from_a_checkpoint_continues_the_epoch_count_and_the_weights(tmp_path):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(32, 4)).astype("float32"), rng.integers(0, 3, 32)
    model = small_model()
    train.fit(model, (x, y), epochs=2, checkpoint=tmp_path / "ck.keras")
    resumed = keras.models.load_model(tmp_path / "ck.keras")
    for a, b in zip(resumed.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(resumed.optimizer.iterations) == int(model.optimizer.iterations)
    result = train.fit(resumed, (x, y), epochs=4, initial_epoch=2)
    assert result.history.epoch == [2, 3]


def test_claims_are_checked_only_with_pretrained_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path))
    c1 = claims.check("03", "A beats B", pretrained=False, holds=True, detail="0.9 vs 0.5")
    assert not c1.checked and c1.holds is None and "not checked" in str(c1)
    claims.check("04", "C beats D", pretrained=True, holds=False, detail="0.4 vs 0.6")
    claims.check("03", "A beats B", pretrained=True, holds=True)  # replaces the first verdict
    entries = json.loads((tmp_path / "claims.json").read_text())
    assert len(entries) == 2
    assert claims.summary() == "claims checked: 2 of 2 (1 hold)"
    claims.check("05", "E", pretrained=False)
    assert claims.summary().startswith("claims checked: 2 of 3 (1 hold); 1 not checked")


def test_a_training_subset_reuses_the_whole_splits_cached_features(shapes, tmp_path, monkeypatch):
    from course_utils import profiles, recipes

    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    ctx = recipes.Context(shapes, profiles.get("smoke"), 0, None)
    calls = []
    real = features.extract
    monkeypatch.setattr(features, "extract", lambda *a, **k: calls.append(k["role"]) or real(*a, **k))
    whole_x, whole_y = ctx.extract(shapes.train, "train")
    part = recipes.subset(shapes.train, 2)
    part_x, part_y = ctx.extract(part, "train")
    assert calls == ["train", "train"]  # the subset asked for the whole split (a cache hit), nothing new
    assert len(list((tmp_path / "cache" / "features").glob("*.npz"))) == 1
    rows = [shapes.train.paths.index(p) for p in part.paths]
    np.testing.assert_array_equal(part_x, whole_x[rows])
    np.testing.assert_array_equal(part_y, list(part.labels))


def test_an_extractor_is_built_once_per_base_and_layer(base):
    assert features.extractor(base) is features.extractor(base)
    assert features.extractor(base, "block4_pool") is not features.extractor(base)
    other = models.vgg16_base(None, (SIZE, SIZE, 3), quiet=True)
    assert features.extractor(other) is not features.extractor(base)
