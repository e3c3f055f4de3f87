import json

import keras
import numpy as np
import pytest

from course_utils import backbones, data, evaluate, models, recipes


def test_report_matches_hand_counts():
    y = np.array([0, 0, 1, 1, 2, 2])
    proba = np.eye(3)[[0, 1, 1, 1, 2, 0]] * 0.7 + 0.1
    r = evaluate.report(y, proba, ["a", "b", "c"])
    assert r.accuracy == pytest.approx(4 / 6)
    assert r.confusion.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    # per class precision: a 1/2, b 2/3, c 1/1 -> macro 0.7222; recall: 1/2, 1, 1/2 -> 0.6667
    assert r.precision == pytest.approx((0.5 + 2 / 3 + 1) / 3)
    assert r.recall == pytest.approx((0.5 + 1 + 0.5) / 3)
    assert r.per_class["b"]["recall"] == 1.0


def test_expected_calibration_error_on_a_hand_computed_case():
    # Two bins used (n_bins=2: [0, 0.5], (0.5, 1]).
    # Bin 2: confidences 0.9, 0.9, 0.7, 0.7 -> mean 0.8; correct 1, 1, 1, 0 -> accuracy 0.75; gap 0.05
    # Bin 1: confidences 0.5, 0.5 (3-class rows) -> mean 0.5; correct 0, 1 -> accuracy 0.5; gap 0
    # ECE = 4/6 * 0.05 + 2/6 * 0 = 0.0333...
    proba = np.array([[0.9, 0.1, 0.0], [0.1, 0.9, 0.0], [0.7, 0.3, 0.0], [0.3, 0.7, 0.0],
                      [0.5, 0.3, 0.2], [0.3, 0.5, 0.2]])
    y = np.array([0, 1, 0, 0, 1, 1])
    assert evaluate.expected_calibration_error(y, proba, n_bins=2) == pytest.approx(4 / 6 * 0.05)
    bins = evaluate.reliability_bins(y, proba, n_bins=2)
    assert bins["count"] == [2, 4] and bins["accuracy"][1] == pytest.approx(0.75)


def test_perfect_calibration_has_zero_ece():
    y = np.array([0] * 8 + [1] * 2)
    proba = np.tile([0.8, 0.2], (10, 1))  # 80% confident, right 80% of the time
    assert evaluate.expected_calibration_error(y, proba) == pytest.approx(0.0)


def test_curves_are_one_vs_rest_with_aucs():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    proba = np.eye(3)[y] * 2 + rng.uniform(0, 1, (60, 3))
    proba /= proba.sum(1, keepdims=True)
    cv = evaluate.curves(y, proba)
    assert sorted(cv) == [0, 1, 2] and all(c["roc_auc"] == 1.0 for c in cv.values())
    binary = evaluate.curves(np.array([0, 1, 0, 1]), np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.4, 0.6]]))
    assert list(binary) == [1]


def test_grad_cam_maps_have_the_image_shape_and_lie_in_zero_one():
    keras.utils.set_random_seed(0)
    base = backbones.get("mobilenet_0.25").build(None, (32, 32, 3))
    chain = models.Chain.build("mobilenet_0.25", base, models.gap_head(3), augment=models.augmentation())
    model = chain.model
    cam_model = evaluate.grad_cam_model(chain, backbones.get("mobilenet_0.25").last_conv)
    images = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    heat = evaluate.grad_cam(cam_model, images)
    assert heat.shape == (4, 32, 32)
    assert heat.min() >= 0.0 and heat.max() <= 1.0
    _, scores, proba = cam_model(images)
    np.testing.assert_allclose(proba, model.predict(images, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(keras.ops.softmax(scores), proba, rtol=1e-4, atol=1e-6)  # scores: before the softmax


def _tiny_cam_chain():
    """Input -> identity -> 1x1 conv (2 -> 3 maps, the 'last conv') -> GAP -> Dense(3, softmax), known weights."""
    inputs = keras.Input((4, 4, 2))
    conv = keras.layers.Conv2D(3, 1, use_bias=False, name="last")
    base = keras.Model(inputs, conv(inputs), name="conv_base")
    conv.set_weights([np.array([[1.0, 0.0, 0.5], [0.0, 1.0, -0.5]]).reshape(1, 1, 2, 3)])
    head = keras.Sequential([keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3, activation="softmax")],
                            name="head")
    head.build((None, 4, 4, 3))
    dense_w, dense_b = np.array([[3.0, 0.0, 0.0], [1.0, 0.5, 0.0], [0.0, 2.0, -1.0]]), np.array([0.0, 0.2, -0.1])
    head.layers[-1].set_weights([dense_w, dense_b])
    preprocess = keras.layers.Identity(name="preprocess")
    x = keras.Input((4, 4, 2))
    chain = models.Chain(keras.Model(x, head(base(preprocess(x)))), base, head, preprocess)
    return chain, conv.get_weights()[0][0, 0], dense_w, dense_b


def test_grad_cam_differentiates_the_class_score_before_the_softmax_as_computed_by_hand():
    """Selvaraju et al. (2017) and keras.io's example: the gradient of the class *score* y_c.
    With y = mean_ij(A) @ W + b, dy_c/dA_ijk = W[k, c] / (h w): the map is relu(Σ_k W[k, c] A_k),
    scaled to [0, 1]. The softmax probability's gradient p_c (W[k, c] - Σ_j p_j W[k, j]) gives
    other maps (all zeros here for classes 1 and 2)."""
    chain, conv_w, dense_w, dense_b = _tiny_cam_chain()
    images = np.random.default_rng(0).uniform(0, 1, (2, 4, 4, 2)).astype("float32")
    maps = images @ conv_w  # the 1x1 convolution: [n, 4, 4, 3]
    scores = maps.mean(axis=(1, 2)) @ dense_w + dense_b
    cam_model = evaluate.grad_cam_model(chain, "last")

    def by_hand(classes):
        cam = np.maximum(np.einsum("nijk,nk->nij", maps, dense_w[:, classes].T / 16), 0)
        return cam / cam.reshape(len(cam), -1).max(axis=1)[:, None, None]

    np.testing.assert_allclose(evaluate.grad_cam(cam_model, images), by_hand(scores.argmax(1)), atol=1e-5)
    for c in (1, 2):
        np.testing.assert_allclose(evaluate.grad_cam(cam_model, images, class_index=c), by_hand([c, c]), atol=1e-5)


def results_fixture():
    return {"profile": "smoke", "meaningful": False, "claims": "claims checked: 0 of 2",
            "methods": [{"method": "scratch", "name": "scratch", "accuracy_mean": 0.5, "accuracy_std": 0.1,
                         "f1_mean": 0.4,
                         "train_seconds_mean": 1.5, "repeats": 2}],
            "data_efficiency": {"scratch": {2: 0.4, 10: 0.6}, "fine-tuning": {2: 0.5, 10: 0.7}}}


def test_results_writer_keeps_a_stable_schema_and_a_markdown_table(tmp_path):
    json_path, md_path = evaluate.write_results(results_fixture(), tmp_path)
    saved = json.loads(json_path.read_text())
    assert saved["schema"] == evaluate.RESULTS_SCHEMA == 2
    assert set(saved) == {"schema", "profile", "meaningful", "claims", "methods", "data_efficiency"}
    assert set(saved["methods"][0]) == {"method", "name", "accuracy_mean", "accuracy_std", "f1_mean",
                                        "train_seconds_mean", "repeats"}
    md = md_path.read_text()
    assert "| method | test accuracy | macro F1 | training time (s) | repeats |" in md
    assert "| scratch | 0.500 ± 0.100 | 0.400 | 1.5 | 2 |" in md
    assert "| 10 | 0.600 | 0.700 |" in md and "not results" in md


def test_results_writer_rejects_incomplete_results(tmp_path):
    broken = results_fixture()
    del broken["methods"][0]["repeats"]
    with pytest.raises(ValueError, match="repeats"):
        evaluate.write_results(broken, tmp_path)
    with pytest.raises(ValueError, match="claims"):
        evaluate.write_results({k: v for k, v in results_fixture().items() if k != "claims"}, tmp_path)


def test_subset_takes_the_first_images_of_each_class():
    split = data.Split(("a0", "b0", "a1", "a2", "b1"), (0, 1, 0, 0, 1))
    part = recipes.subset(split, 2)
    assert part.paths == ("a0", "b0", "a1", "b1") and recipes.subset(split, None) is split
