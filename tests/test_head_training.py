"""The cause of issue 17's "feature extraction below chance with 10 images per class", and its fix.

A head on cached features learns by optimizer steps. The old recipe trained it for a fixed 20
epochs of SGD(1e-3, momentum 0.9) with early stopping: with 10 images per class an epoch is one
step, and on features of small magnitude (what a pretrained base's pooled outputs look like)
20 small SGD steps leave the softmax layer at its random start. It then answers one class for
every image, and on a test split where that class is the smaller one, accuracy falls below
chance. ``models.head_schedule`` gives every head at least ``models.HEAD_MIN_STEPS`` Adam steps,
and EarlyStopping's ``start_from_epoch`` keeps it from stopping before half of them.
"""

import numpy as np
import pytest

from course_utils import models
from course_utils._quiet import keras as _load_keras

keras = _load_keras()


def _features(per_class: tuple[int, int], rng):
    """ReLU-like pooled-feature maps of small magnitude with a weak class signal on two channels."""
    y = np.repeat([0, 1], per_class)
    x = 0.1 * rng.gamma(2.0, 1.0, (len(y), 3, 3, 16)).astype("float32")
    x[y == 0, :, :, 0] += 0.2
    x[y == 1, :, :, 1] += 0.2
    return x, y


def _train(recipe: str, x, y, x_val, y_val):
    keras.utils.set_random_seed(0)
    inputs = keras.Input(x.shape[1:])
    model = keras.Model(inputs, models.gap_head(2)(inputs))
    if recipe == "old":
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e-3, momentum=0.9),
                      loss="sparse_categorical_crossentropy")
        epochs, repeat = 20, 1
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    else:
        epochs, first, repeat = models.head_schedule(len(x), 32)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy")
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True,
                                             start_from_epoch=first)
    history = model.fit(np.concatenate([x] * repeat), np.concatenate([y] * repeat), validation_data=(x_val, y_val),
                        epochs=epochs, batch_size=32, callbacks=[stop], verbose=0)
    return model, int(keras.ops.convert_to_numpy(model.optimizer.iterations)), len(history.epoch)


@pytest.fixture(scope="module")
def ten_per_class():
    rng = np.random.default_rng(0)
    return _features((10, 10), rng), _features((50, 50), rng), _features((100, 50), rng)  # test: class 1 is smaller


def test_the_old_head_recipe_with_ten_images_per_class_falls_below_chance(ten_per_class):
    (x, y), (x_val, y_val), (x_test, y_test) = ten_per_class
    model, steps, _ = _train("old", x, y, x_val, y_val)
    predicted = model.predict(x_test, verbose=0).argmax(1)
    assert steps <= 20, "one step per epoch: 20 images fit in one batch"
    assert len(set(predicted)) == 1, "the head still answers from its random start: one class for every image"
    assert (predicted == y_test).mean() < 0.5, "and on a split where that class is the smaller one, below chance"


def test_a_head_gets_enough_steps_whatever_the_number_of_images(ten_per_class):
    (x, y), (x_val, y_val), (x_test, y_test) = ten_per_class
    model, steps, epochs_run = _train("course", x, y, x_val, y_val)
    assert steps >= models.HEAD_MIN_STEPS // 2
    # 20 images are one batch: repeated within an epoch, the steps take tens of epochs (each with its
    # validation pass), not hundreds.
    assert epochs_run <= -(-models.HEAD_MIN_STEPS // models.HEAD_MIN_EPOCH_STEPS)
    assert (model.predict(x_test, verbose=0).argmax(1) == y_test).mean() > 0.85


@pytest.mark.parametrize("n_train, batch", [(20, 32), (255, 32), (256, 32), (300, 32), (1000, 32), (5000, 16),
                                            (1, 8)])
def test_head_schedule_gives_at_least_the_minimum_steps(n_train, batch):
    epochs, first, repeat = models.head_schedule(n_train, batch)
    steps_per_epoch = -(-n_train * repeat // batch)
    assert epochs * steps_per_epoch >= models.HEAD_MIN_STEPS and epochs >= 20
    assert 2 * first * steps_per_epoch <= models.HEAD_MIN_STEPS + 2 * steps_per_epoch
    # an epoch has at least HEAD_MIN_EPOCH_STEPS steps; a set that already has them is not repeated
    assert steps_per_epoch >= models.HEAD_MIN_EPOCH_STEPS
    assert (repeat == 1) == (n_train >= models.HEAD_MIN_EPOCH_STEPS * batch)
    assert repeat == 1 or (repeat - 1) * n_train < models.HEAD_MIN_EPOCH_STEPS * batch  # no more copies than needed


def test_a_head_without_training_images_is_refused():
    with pytest.raises(ValueError, match="training images"):
        models.head_schedule(0, 32)


def test_the_cpu_profiles_full_training_sets_are_repeated_at_most_twice():
    """Two classes at a profile's cap: the default backbone's (150 per class, the real tier's headline heads)
    train exactly as before the repeat; the heavier backbones' (100 per class: 200 images, under 8 full batches
    of 32) twice per epoch."""
    from course_utils import profiles

    for name in ("fast", "binder"):
        profile = profiles.get(name)
        assert models.head_schedule(2 * profile.images_per_class, profile.batch_size).repeat == 1, name
        for backbone, (_, cap, _) in profile.sizes.items():
            assert models.head_schedule(2 * cap, profile.batch_size).repeat <= 2, (name, backbone)


def test_the_scratch_baseline_works_at_most_at_scratch_side_whatever_the_input():
    big = models.small_convnet((224, 224, 3), 2)
    small = models.small_convnet((64, 64, 3), 2)
    assert big.get_layer("downsize").output.shape[1:3] == (models.SCRATCH_SIDE, models.SCRATCH_SIDE)
    assert "downsize" not in [layer.name for layer in small.layers]
    assert big.count_params() == small.count_params()  # the same network, fed 96 px images
    assert big.predict(np.zeros((1, 224, 224, 3), "float32"), verbose=0).shape == (1, 2)
