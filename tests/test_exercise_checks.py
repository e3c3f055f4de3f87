"""The exercise checkers of notebooks 00-08: a right answer passes, a typical wrong one fails with
a message that says what to change. (02's function checkers are in test_checks.py.)"""

import numpy as np
import pytest

from course_utils import checks, evaluate


def test_every_checker_shows_not_attempted_for_the_notebooks_blank_answers():
    assert checks.EXTRACTION_TIME.evaluate(None, rate=10.0).status == "not attempted"
    assert checks.PREDICT_AT_HALF.evaluate(None, labels_per_class=5, seeds=[0]).status == "not attempted"
    assert checks.WHY_FLAT.evaluate({"why_flat": "?"}).status == "not attempted"
    assert checks.SOFTMAX_AT_HALF.evaluate("?").status == "not attempted"
    assert checks.ECE.evaluate(None).status == "not attempted"
    for judged in (checks.DROPOUT_HEAD, checks.EARLY_FEATURES, checks.UNFREEZE_LATER, checks.NORMALISED_TARGETS,
                   checks.FEATURE_MAP_SIDE, checks.HEAD_PARAMS):
        assert judged.evaluate(None).status == "not attempted"


def test_an_answer_of_the_wrong_kind_is_reported_not_raised():
    result = checks.EXTRACTION_TIME.evaluate("two minutes", rate=10.0)
    assert result.status == "incorrect" and "EXTRACTION_TIME.check(seconds, rate=rate)" in result.message


def test_extraction_time_is_images_over_rate_and_names_the_usual_slips():
    assert checks.EXTRACTION_TIME.evaluate(200, rate=10.0).status == "correct"
    assert checks.EXTRACTION_TIME.evaluate(190, rate=10.0).status == "correct"  # an estimate: 15 % slack
    multiplied = checks.EXTRACTION_TIME.evaluate(20_000, rate=10.0)
    assert multiplied.status == "incorrect" and "divide" in multiplied.message
    assert "minutes" in checks.EXTRACTION_TIME.evaluate(200 / 60, rate=10.0).message
    assert "seconds = number of images" in checks.EXTRACTION_TIME.evaluate(1, rate=10.0).message


@pytest.mark.slow
def test_prediction_at_half_similarity_is_judged_on_the_labs_own_numbers():
    from course_utils import transfer_lab

    seeds = [0, 1]
    gain = np.mean([transfer_lab.run_point(s, 5, 0.5).gain for s in seeds])
    truth = bool(gain > 0)
    right = checks.PREDICT_AT_HALF.evaluate(truth, labels_per_class=5, seeds=seeds)
    wrong = checks.PREDICT_AT_HALF.evaluate(not truth, labels_per_class=5, seeds=seeds)
    assert right.status == "correct" and f"{gain:+.3f}" in right.message
    assert wrong.status == "incorrect" and "explorer" in wrong.message
    assert "True" in checks.PREDICT_AT_HALF.evaluate("yes", labels_per_class=5, seeds=seeds).message


def test_why_flat_accepts_only_the_reason_that_holds():
    assert checks.WHY_FLAT.evaluate({"why_flat": "a"}).status == "correct"
    wrong = checks.WHY_FLAT.evaluate({"why_flat": "B"})
    assert wrong.status == "incorrect" and "never used the source" in wrong.message


@pytest.fixture(scope="module")
def keras():
    import keras

    return keras


def _head(keras, *layers):
    return keras.Sequential([keras.layers.Flatten(), *layers])


def test_dropout_head_wants_dropout_half_between_the_two_dense_layers(keras):
    L = keras.layers
    right = _head(keras, L.Dense(1024, activation="relu"), L.Dropout(0.5), L.Dense(3, activation="softmax"))
    assert checks.DROPOUT_HEAD.evaluate(right, num_classes=3).status == "correct"
    assert checks.DROPOUT_HEAD.evaluate(lambda: right, num_classes=3).status == "correct"  # the function itself
    cases = {
        "no Dropout": _head(keras, L.Dense(1024), L.Dense(3)),
        "after the output": _head(keras, L.Dense(1024), L.Dense(3), L.Dropout(0.5)),
        "before Dense(1024)": _head(keras, L.Dropout(0.5), L.Dense(1024), L.Dense(3)),
        "rate 0.2": _head(keras, L.Dense(1024), L.Dropout(0.2), L.Dense(3)),
        "num_classes=3": _head(keras, L.Dense(1024), L.Dropout(0.5), L.Dense(2)),
    }
    for needle, head in cases.items():
        result = checks.DROPOUT_HEAD.evaluate(head, num_classes=3)
        assert result.status == "incorrect" and needle in result.message, (needle, result.message)


@pytest.fixture(scope="module")
def tiny_base(keras):
    """A base with the shape of a backbone: a padding layer without parameters, named blocks."""
    L = keras.layers
    inputs = keras.Input((16, 16, 3))
    x = L.Conv2D(4, 3, padding="same", name="block1_conv")(inputs)
    x = L.MaxPooling2D(name="block1_pool")(x)
    x = L.ZeroPadding2D(name="block2_pad")(x)
    x = L.Conv2D(8, 3, name="block2_conv")(x)
    x = L.BatchNormalization(name="block2_bn")(x)
    x = L.Conv2D(8, 3, padding="same", name="block3_conv")(x)
    x = L.MaxPooling2D(name="block3_pool")(x)
    base = keras.Model(inputs, x, name="conv_base")
    base.trainable = False
    return base


def test_early_features_must_come_from_the_named_layer(tiny_base):
    early = np.zeros((5, 8, 8, 4), "float32")  # block1_pool's output
    assert checks.EARLY_FEATURES.evaluate(early, conv_base=tiny_base, layer="block1_pool").status == "correct"
    last = checks.EARLY_FEATURES.evaluate(np.zeros((5, 4, 4, 8)), conv_base=tiny_base, layer="block1_pool")
    assert last.status == "incorrect" and "layer=run.backbone.cache_at" in last.message
    triple = checks.EARLY_FEATURES.evaluate((early, None, None), conv_base=tiny_base, layer="block1_pool")
    assert triple.status == "incorrect" and "first item" in triple.message


def test_unfreeze_later_counts_from_the_next_layer_and_leaves_the_base_as_it_was(tiny_base):
    from course_utils import models

    before = [layer.trainable for layer in tiny_base.layers]
    conv = 3 * 3 * 8 * 8 + 8
    bn = 2 * 8  # gamma and beta; the moving statistics never train
    right = checks.UNFREEZE_LATER.evaluate(bn + conv, base=tiny_base, first="block2_conv")
    assert right.status == "correct" and "block2_bn" in right.message
    from_first = 3 * 3 * 4 * 8 + 8 + bn + conv
    same = checks.UNFREEZE_LATER.evaluate(from_first, base=tiny_base, first="block2_conv")
    assert same.status == "incorrect" and "from block2_conv itself" in same.message
    no_params = checks.UNFREEZE_LATER.evaluate(from_first, base=tiny_base, first="block2_pad")
    assert no_params.status == "correct" and "it has none" in no_params.message  # a padding layer
    total = checks.UNFREEZE_LATER.evaluate(models.count_params(tiny_base), base=tiny_base, first="block2_conv")
    assert total.status == "incorrect" and "every parameter" in total.message
    assert [layer.trainable for layer in tiny_base.layers] == before and not tiny_base.trainable


def _ece_answer(y_true, proba, weighted=True, absolute=True, skip_empty=True):
    bins = evaluate.reliability_bins(y_true, proba)
    rows = [(c, a - f) for c, a, f in zip(bins["count"], bins["accuracy"], bins["confidence"])
            if c or not skip_empty]
    n = sum(c for c, _ in rows)
    gaps = [abs(d) if absolute else d for _, d in rows]
    value = sum(c / n * g for (c, _), g in zip(rows, gaps)) if weighted else np.mean(gaps)
    return abs(value)


def test_ece_checker_names_each_usual_slip():
    assert checks.ECE.evaluate(_ece_answer).status == "correct"
    slips = {"Skip empty bins": dict(skip_empty=False), "over- and under-confidence": dict(absolute=False),
             "n_b / n": dict(weighted=False)}
    for needle, slip in slips.items():
        result = checks.ECE.evaluate(lambda y, p, slip=slip: _ece_answer(y, p, **slip))
        assert result.status == "incorrect" and needle in result.message, (needle, result.message)


def test_normalised_targets_divide_each_row_by_its_label_count():
    y = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 1]], float)
    assert checks.NORMALISED_TARGETS.evaluate(y / y.sum(1, keepdims=True), y_multi=y).status == "correct"
    by_column = checks.NORMALISED_TARGETS.evaluate(y / y.sum(0, keepdims=True), y_multi=y)
    assert by_column.status == "incorrect" and "axis=1" in by_column.message
    assert "shape" in checks.NORMALISED_TARGETS.evaluate(y[:2], y_multi=y).message
    assert checks.NORMALISED_TARGETS.evaluate(y, y_multi=y).status == "incorrect"  # not normalised


def test_softmax_names_at_most_one_label_at_half():
    right = checks.SOFTMAX_AT_HALF.evaluate(1)
    assert right.status == "correct"
    # 1/k is exactly 0.5 at k = 2 (a tie that a score >= 0.5 rule names twice), below it only from k = 3
    assert "k = 2" in right.message and "k = 3" in right.message and "k ≥ 2" not in right.message
    wrong = checks.SOFTMAX_AT_HALF.evaluate(2)
    assert wrong.status == "incorrect" and "sum to 1" in wrong.message


def test_feature_map_side_is_read_from_the_backbone_and_names_the_usual_slips():
    # MobileNet (alpha 0.25) built with weights=None: 48 px -> 1×1, 96 px -> 3×3 (five halvings, rounded down)
    right = checks.FEATURE_MAP_SIDE.evaluate(3, backbone="mobilenet_0.25", size=96)
    assert right.status == "correct" and "3×3×256" in right.message
    assert checks.FEATURE_MAP_SIDE.evaluate((1, 1, 256), backbone="mobilenet_0.25", size=48).status == "correct"
    slips = {(6, 96): "four halvings", (1.5, 48): "whole number of positions", (96, 96): "input's side",
             (3, 48): "four halvings", (2, 48): "rounds down", (5, 96): "not it"}
    for (side, size), needle in slips.items():
        result = checks.FEATURE_MAP_SIDE.evaluate(side, backbone="mobilenet_0.25", size=size)
        assert result.status == "incorrect" and needle in result.message, (side, size, result.message)
    assert checks.FEATURE_MAP_SIDE.evaluate("a lot", backbone="mobilenet_0.25", size=96).status == "incorrect"


def test_head_params_count_the_dense_weights_and_biases_only(keras):
    head = keras.Sequential([keras.Input(shape=(256,)), keras.layers.Dropout(0.2),
                             keras.layers.Dense(10, activation="softmax")])
    right = checks.HEAD_PARAMS.evaluate(head.count_params(), feature_shape=(256,), num_classes=10)
    assert right.status == "correct" and "2,570" in right.message
    slips = {256 * 10: "bias per class", 256 * 10 + 256: "one per output unit", 2 * 2570: "Dropout has no"}
    for count, needle in slips.items():
        result = checks.HEAD_PARAMS.evaluate(count, feature_shape=(256,), num_classes=10)
        assert result.status == "incorrect" and needle in result.message, (count, result.message)


def test_every_checker_is_exercised_by_a_unit_test():
    """A new checker without a test of a wrong answer would let a check that accepts anything through."""
    from pathlib import Path

    from course_utils import checking

    here = Path(__file__).parent
    text = (here / "test_exercise_checks.py").read_text() + (here / "test_checks.py").read_text()
    kinds = (checking.Exercise, checking.ChoiceExercise, checking.Judged)
    names = [name for name, value in vars(checks).items() if isinstance(value, kinds)]
    assert len(names) >= 13
    assert not [n for n in names if f"checks.{n}.evaluate(" not in text]
