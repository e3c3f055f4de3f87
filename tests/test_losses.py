"""The formulas of notebook 02, each checked against Keras or automatic differentiation."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import losses, models

rng = np.random.default_rng(0)
TOL = 1e-5


def test_empirical_risk_is_the_mean_keras_reports():
    y = rng.integers(0, 2, (10, 1)).astype("float32")
    p = rng.uniform(0.05, 0.95, (10, 1)).astype("float32")
    per = keras.losses.BinaryCrossentropy(reduction=None)(y, p).numpy()
    assert losses.empirical_risk(per) == pytest.approx(float(keras.losses.BinaryCrossentropy()(y, p)), abs=TOL)


@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_cross_entropy_matches_keras(from_logits):
    y = rng.integers(0, 2, 500).astype("float32")
    z = rng.normal(0, 4, 500).astype("float32")
    keras_loss = keras.losses.BinaryCrossentropy(from_logits=from_logits, reduction=None)
    if from_logits:
        ours, theirs = losses.binary_cross_entropy_from_logits(y, z), keras_loss(y[:, None], z[:, None])
    else:
        p = (1 / (1 + np.exp(-z))).astype("float32")
        ours, theirs = losses.binary_cross_entropy(y, p), keras_loss(y[:, None], p[:, None])
    np.testing.assert_allclose(ours, theirs.numpy(), atol=TOL)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("from_logits", [False, True])
def test_categorical_cross_entropy_matches_keras(sparse, from_logits):
    labels = rng.integers(0, 4, 300)
    onehot = np.eye(4, dtype="float32")[labels]
    z = rng.normal(0, 3, (300, 4)).astype("float32")
    p = losses.softmax(z).astype("float32")
    cls = keras.losses.SparseCategoricalCrossentropy if sparse else keras.losses.CategoricalCrossentropy
    theirs = cls(from_logits=from_logits, reduction=None)(labels if sparse else onehot,
                                                         z if from_logits else p)
    ours = (losses.categorical_cross_entropy_from_logits(onehot, z) if from_logits
            else losses.categorical_cross_entropy(onehot, p))
    np.testing.assert_allclose(ours, theirs.numpy(), atol=TOL)
    np.testing.assert_allclose(losses.sparse_categorical_cross_entropy_from_logits(labels, z),
                               losses.categorical_cross_entropy_from_logits(onehot, z), atol=1e-12)


def test_stable_formulas_survive_huge_logits():
    z = np.array([[1000.0, 0.0], [-1000.0, 0.0]])
    assert np.isfinite(losses.log_softmax(z)).all()
    assert np.isfinite(losses.binary_cross_entropy_from_logits([0, 1], [1000.0, -1000.0])).all()
    np.testing.assert_allclose(losses.sigmoid(np.array([-1000.0, 0.0, 1000.0])), [0, 0.5, 1])


def test_bce_gradient_is_prediction_minus_label():
    y = rng.integers(0, 2, 40).astype("float32")
    z = tf.constant(rng.normal(0, 3, (40, 1)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(z)
        total = tf.reduce_sum(keras.losses.BinaryCrossentropy(from_logits=True, reduction=None)(y[:, None], z))
    np.testing.assert_allclose(tape.gradient(total, z).numpy()[:, 0],
                               losses.bce_grad_logit(y, z.numpy()[:, 0]), atol=TOL)


def test_two_layer_chain_rule_matches_finite_differences():
    x = rng.normal(size=(7, 4))
    y = np.eye(3)[rng.integers(0, 3, 7)]
    params = {"W1": rng.normal(size=(4, 6)), "b1": rng.normal(size=6) * 0.1,
              "W2": rng.normal(size=(6, 3)), "b2": rng.normal(size=3) * 0.1}
    numeric = losses.numerical_grads(lambda p: losses.two_layer_loss(p, x, y), params)
    assert losses.max_relative_error(losses.two_layer_grads(params, x, y), numeric) < 1e-7
    wrong = {"W1": numeric["W1"] * 1.01}
    assert losses.max_relative_error(wrong, numeric) > 1e-3


def test_weight_decay_step_matches_keras_sgd():
    w = rng.normal(size=(3, 2)).astype("float32")
    g = rng.normal(size=(3, 2)).astype("float32")
    v = tf.Variable(w)
    keras.optimizers.SGD(learning_rate=0.1, weight_decay=0.05).apply([tf.constant(g)], [v])
    np.testing.assert_allclose(losses.sgd_weight_decay_step(w, g, 0.1, 0.05), v.numpy(), atol=1e-6)


def test_weight_decay_equals_half_l2_only_for_plain_sgd():
    x = rng.normal(size=(8, 3)).astype("float32")
    t = rng.normal(size=(8, 1)).astype("float32")
    w0 = rng.normal(size=(3, 1)).astype("float32")

    def run(opt, l2):
        layer = keras.layers.Dense(1, use_bias=False,
                                   kernel_regularizer=keras.regularizers.L2(0.05) if l2 else None)
        layer.build((None, 3))
        layer.kernel.assign(w0)
        for _ in range(4):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean((layer(x) - t) ** 2) + tf.add_n(layer.losses or [0.0])
            opt.apply(tape.gradient(loss, layer.trainable_weights), layer.trainable_weights)
        return layer.kernel.numpy()

    sgd = run(keras.optimizers.SGD(0.1, weight_decay=0.1), False)
    np.testing.assert_allclose(sgd, run(keras.optimizers.SGD(0.1), True), atol=1e-6)
    momentum = run(keras.optimizers.SGD(0.1, momentum=0.9, weight_decay=0.1), False)
    assert np.abs(momentum - run(keras.optimizers.SGD(0.1, momentum=0.9), True)).max() > 1e-4


def test_l2_sp_gradient_is_lambda_times_distance_from_w0():
    dense = keras.layers.Dense(3)
    dense.build((None, 4))
    w0 = dense.kernel.numpy().copy()
    dense.kernel.regularizer = models.L2SP(w0, lam=0.7)
    assert float(tf.add_n(dense.losses)) == 0.0
    moved = w0 + rng.normal(size=w0.shape).astype("float32")
    dense.kernel.assign(moved)
    with tf.GradientTape() as tape:
        penalty = tf.add_n(dense.losses)
    np.testing.assert_allclose(tape.gradient(penalty, dense.kernel).numpy(),
                               losses.l2_sp_grad(moved, w0, 0.7), atol=1e-5)
    assert float(penalty) == pytest.approx(losses.l2_sp_penalty(moved, w0, 0.7), rel=1e-5)


def test_apply_l2_sp_penalises_trainable_weights_only():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, name="a"),
                              keras.layers.Dense(2, name="b")])
    model.get_layer("a").trainable = False
    assert models.apply_l2_sp(model, 0.1) == 2  # b's kernel and bias
    assert float(tf.add_n(model.losses)) == 0.0
    for v in model.get_layer("b").trainable_weights:
        v.assign(v + 1.0)
    expected = 0.5 * 0.1 * (5 * 2 + 2)  # every entry moved by 1
    assert float(tf.add_n(model.losses)) == pytest.approx(expected, rel=1e-5)
    models.remove_regularizers(model)
    assert model.losses == []


def test_gd_regimes_follow_the_two_thresholds():
    a = 2.0
    assert losses.gd_regime(a, 0.25) == "converges" and abs(losses.gd_quadratic(a, 0.25)[-1]) < 1e-3
    path = losses.gd_quadratic(a, 0.75)
    assert losses.gd_regime(a, 0.75) == "oscillates" and np.all(np.sign(path[1:]) != np.sign(path[:-1]))
    assert abs(path[-1]) < 1
    assert losses.gd_regime(a, 1.2) == "diverges" and abs(losses.gd_quadratic(a, 1.2)[-1]) > 1


def test_lwf_is_plain_cross_entropy_at_lambda_zero_and_penalises_drift():
    labels, logits = np.array([0, 1]), rng.normal(size=(2, 2))
    old = rng.normal(size=(2, 3))
    plain = losses.sparse_categorical_cross_entropy_from_logits(labels, logits).mean()
    assert losses.lwf_loss(labels, logits, old, old * 5, 0.0) == pytest.approx(plain)
    assert losses.lwf_loss(labels, logits, old, -old, 1.0) > losses.lwf_loss(labels, logits, old, old, 1.0)
