"""Feature cache, the cached-block equivalence, and the repeated-run recipes of notebook 05."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import backbones, data, features, models, recipes, runs

SIZE = 32


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    root = data.generate_shapes(tmp_path_factory.mktemp("shapes") / "shapes", per_class=8)
    return data.load_folder(root, images_per_class=4, eval_images_per_class=2)


@pytest.fixture(scope="module")
def base():
    keras.utils.set_random_seed(0)
    return backbones.get("vgg16").build(None, (SIZE, SIZE, 3))


def extract(base, split, cache_dir, backbone="vgg16", **kw):
    kw.setdefault("image_size", SIZE)
    return features.extract(base, backbone, split, dataset_name="shapes", role="train", cache_dir=cache_dir,
                            batch_size=4, **kw)


def test_second_extraction_is_a_cache_hit_with_the_same_arrays(shapes, base, tmp_path):
    x1, y1, miss = extract(base, shapes.train, tmp_path)
    x2, y2, hit = extract(base, shapes.train, tmp_path)
    assert not miss.hit and hit.hit and miss.path == hit.path
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y2, shapes.train.labels)
    assert x1.shape == (len(shapes.train), 1, 1, 512) and miss.images_per_second > 0


def test_features_equal_a_direct_forward_pass_on_preprocessed_images(shapes, base, tmp_path):
    x, _, _ = extract(base, shapes.train, tmp_path)
    images, _ = data.load_arrays(shapes.train, SIZE)
    direct = base.predict(keras.applications.vgg16.preprocess_input(images.astype("float32")), verbose=0)
    np.testing.assert_allclose(x, direct, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_other_weights_backbone_size_layer_or_split_miss_the_cache(shapes, base, tmp_path):
    extract(base, shapes.train, tmp_path)
    other_weights = backbones.get("vgg16").build(None, (SIZE, SIZE, 3))  # new random weights
    assert not extract(other_weights, shapes.train, tmp_path)[2].hit
    bigger = backbones.get("vgg16").build(None, (48, 48, 3))
    bigger.set_weights(base.get_weights())
    assert not extract(bigger, shapes.train, tmp_path, image_size=48)[2].hit
    assert not extract(base, shapes.train, tmp_path, layer="block4_pool")[2].hit
    assert not extract(base, shapes.val, tmp_path)[2].hit
    assert extract(base, shapes.train, tmp_path)[2].hit  # the first is still there
    assert len(list(tmp_path.glob("*.npz"))) == 5


def test_a_damaged_cache_file_is_recomputed(shapes, base, tmp_path):
    x, _, info = extract(base, shapes.train, tmp_path)
    info.path.write_bytes(b"not an npz")
    again, _, info2 = extract(base, shapes.train, tmp_path)
    assert not info2.hit
    np.testing.assert_array_equal(x, again)


def test_an_extractor_is_built_once_per_base_and_layer(base):
    assert features.extractor(base, "vgg16") is features.extractor(base, "vgg16")
    assert features.extractor(base, "vgg16", "block4_pool") is not features.extractor(base, "vgg16")


def test_training_on_cached_block_inputs_gives_the_full_models_loss_and_update(shapes, base):
    b = backbones.get("vgg16")
    keras.utils.set_random_seed(0)
    head = models.gap_head(3)
    full = models.Chain.build("vgg16", base, head).model
    models.unfreeze_from(base, b.fine_tune_from)
    top = models.top_of_base(base, b.cache_at)
    images, labels = data.load_arrays(shapes.train, SIZE)
    x = images.astype("float32")
    cached_in = features.extractor(base, "vgg16", b.cache_at)(x)
    inp = keras.Input(cached_in.shape[1:])
    on_cache = keras.Model(inp, head(top(inp, training=False)))
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    def grads(m, inputs):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, m(inputs, training=False))
        return float(loss), tape.gradient(loss, m.trainable_weights)

    l1, g1 = grads(full, x)
    l2, g2 = grads(on_cache, cached_in)
    assert l1 == pytest.approx(l2, abs=1e-5) and len(g1) == len(g2) == len(on_cache.trainable_weights)
    for a, c in zip(g1, g2):
        np.testing.assert_allclose(a, c, rtol=1e-3, atol=1e-6)
    base.trainable = False


def test_subset_takes_the_first_images_of_each_class(shapes):
    part = recipes.subset(shapes.train, 2)
    assert part.counts(3) == [2, 2, 2]
    assert recipes.subset(shapes.train, None) is shapes.train


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    home = tmp_path_factory.mktemp("runhome")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_DATA_DIR", str(home / "data"))
        mp.setenv("COURSE_OUTPUT_DIR", str(home / "out"))
        mp.setenv("KERAS_HOME", str(home / "keras"))
        run = runs.start("test", "smoke", backbone="mobilenet_0.25", seed=0, progress=False)
        yield run


@pytest.mark.slow
def test_fine_tuning_trains_a_copy_of_the_head_and_can_restore_its_weights(smoke_run, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(smoke_run.split_dir.parents[2]))
    ctx = recipes.Context(smoke_run, 0)
    head = recipes.head_on_features(ctx, "head_gap")
    head_weights = [w.copy() for w in head.chain.model.get_weights()]
    tuned = recipes.fine_tuned(ctx, head, learning_rate=1e-2)
    for a, b in zip(head_weights, head.chain.model.get_weights()):
        np.testing.assert_array_equal(a, b)  # the starting head is untouched
    assert tuned.key == "fine_tune" and tuned.test_proba.shape == (len(smoke_run.data.test), 3)
    recipes.frozen_augmented(ctx)  # another recipe resets the shared base ...
    x = data.load_arrays(smoke_run.data.test, smoke_run.image_size)[0].astype("float32")
    np.testing.assert_allclose(tuned.restore().model.predict(x, verbose=0), tuned.test_proba, rtol=1e-4, atol=1e-5)


def test_another_seed_shares_pretrained_weights_but_redraws_random_ones(smoke_run):
    ctx = recipes.Context(smoke_run, 0)
    other = ctx.with_seed(1)
    assert not smoke_run.pretrained and other.base is not ctx.base
    assert not np.allclose(other.start_weights[0], ctx.start_weights[0])
