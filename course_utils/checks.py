"""'Check your answer' helpers for the exercises of the notebooks (docs/teaching.md, "Exercises").

``EXERCISE.check(answer, ...)`` shows *correct*, *incorrect* (with a hint a student can act on) or
*not attempted*, and never raises, so a notebook with unsolved exercises still runs top to
bottom (and in CI). ``EXERCISE.evaluate(answer, ...)`` returns the same verdict as a Result.
The kinds of exercise (function, choice, judged answer) are in ``checking``.
"""

from __future__ import annotations

import numpy as np

from . import losses
from .checking import ChoiceExercise, Exercise, Judged, Result, _close, _show  # noqa: F401

__all__ = [
    "BCE_GRADIENT", "DROPOUT_HEAD", "EARLY_FEATURES", "ECE", "EXTRACTION_TIME",
    "FEATURE_MAP_SIDE", "HEAD_PARAMS", "NORMALISED_TARGETS", "PREDICT_AT_HALF", "RULE_OF_THUMB",
    "SOFTMAX_AT_HALF", "SOFTMAX_CROSS_ENTROPY", "TOP_K", "UNFREEZE_LATER", "WEIGHT_DECAY_STEP",
    "WHY_FLAT",
]


def _softmax_ce_cases():
    rng = np.random.default_rng(0)
    return [
        ((np.array([[2.0, 1.0, 0.1]]), np.array([0])), "Use −log softmax(z)[label]."),
        ((rng.normal(size=(5, 4)), rng.integers(0, 4, 5)),
         "Return one loss per example (shape [n]), not the mean."),
        ((np.array([[1000.0, 0.0], [0.0, -1000.0]]), np.array([1, 0])),
         "Large logits overflow exp(): subtract each row's max logit before exponentiating."),
    ]


def _bce_grad_cases():
    rng = np.random.default_rng(1)
    return [
        ((np.array([1.0, 0.0]), np.array([0.0, 0.0])), "At z = 0, σ(z) = 0.5."),
        ((rng.integers(0, 2, 6).astype(float), rng.normal(0, 3, 6)),
         "The derivative of BCE with respect to the logit is σ(z) − y: no extra σ'(z) factor."),
    ]


def _wd_cases():
    return [
        ((np.array([1.0, -2.0]), np.array([0.5, 0.5]), 0.1, 0.0), "Without decay: θ − η g."),
        ((np.array([1.0, -2.0]), np.array([0.5, 0.5]), 0.1, 0.01),
         "The decay term is −η λ θ: it shrinks θ towards 0, scaled by the learning rate too."),
    ]


def _top_k_cases():
    rng = np.random.default_rng(2)
    return [
        ((np.array([0.1, 0.7, 0.2]), 1), "The index of the largest probability (np.argmax)."),
        ((np.array([0.1, 0.7, 0.2]), 2), "Most probable first: sort by probability, descending."),
        ((rng.dirichlet(np.ones(6)), 3), "Indices, not probabilities: np.argsort(-p)[:k]."),
        ((np.array([0.5, 0.3, 0.2]), 5), "k larger than the number of classes: return every class."),
    ]


SOFTMAX_CROSS_ENTROPY = Exercise(
    "SOFTMAX_CROSS_ENTROPY",
    lambda logits, labels: losses.sparse_categorical_cross_entropy_from_logits(labels, logits),
    _softmax_ce_cases)
BCE_GRADIENT = Exercise("BCE_GRADIENT", losses.bce_grad_logit, _bce_grad_cases)
WEIGHT_DECAY_STEP = Exercise("WEIGHT_DECAY_STEP", losses.sgd_weight_decay_step, _wd_cases)
# Notebook 08: the indices of the k most probable classes, most probable first.
TOP_K = Exercise("TOP_K", lambda p, k: np.argsort(-p, kind="stable")[:k], _top_k_cases)


RULE_OF_THUMB = ChoiceExercise(
    "RULE_OF_THUMB",
    options={
        "A": "feature extraction: freeze the whole base, train a new head",
        "B": "fine-tune the top blocks (and the head) at a low learning rate",
        "C": "fine-tune the whole network, or train from scratch if data is plentiful",
        "D": "train a head on features from earlier, more generic layers",
    },
    accepted={
        "small_similar": {"A"},
        "large_similar": {"B", "C"},
        "small_different": {"D"},
        "large_different": {"C"},
    },
    why={
        "small_similar": "few labels overfit if many weights move; the top features already fit.",
        "large_similar": "enough data to adapt the top features safely without forgetting.",
        "small_different": "top features are specific to the source; early ones (edges, textures) "
                           "still transfer, and few labels cannot retrain deep blocks.",
        "large_different": "plenty of data and features that do not fit: adapt everything.",
    },
)


def _extraction_time(seconds, *, rate: float, images: int = 2000) -> Result:
    seconds, expected = float(seconds), images / rate
    if _close(seconds, expected, 0.15):
        return Result("correct", f"{images:,} images at {rate:.1f} images/s take about {expected:.0f} s "
                      "(plus reading and decoding the files, which notebook 03's extraction line includes).")
    for wrong, hint in ((images * rate, "you multiplied: the rate is images *per second*, so divide."),
                        (rate / images, "you divided the wrong way round: seconds = images / rate."),
                        (expected / 60, "that looks like minutes: give the estimate in seconds.")):
        if _close(seconds, wrong, 0.15):
            return Result("incorrect", f"{seconds:g} s: {hint}")
    return Result("incorrect", f"{seconds:g} s is not what the measured rate gives. Use the rate printed "
                  "in section 6: seconds = number of images / (images per second).")


EXTRACTION_TIME = Judged("EXTRACTION_TIME", _extraction_time,
                         "checks.EXTRACTION_TIME.check(seconds, rate=rate)")


def _predict_at_half(transfer_helps, *, labels_per_class: int, seeds, similarity: float = 0.5) -> Result:
    from . import transfer_lab

    if not isinstance(transfer_helps, bool):
        return Result("incorrect", "answer True (transfer helps) or False (it does not).")
    gains = np.array([transfer_lab.run_point(s, int(labels_per_class), similarity).gain for s in seeds])
    spread = gains.std(ddof=1) if len(gains) > 1 else 0.0  # sample standard deviation, as everywhere in the course
    measured = f"gain {gains.mean():+.3f} ± {spread:.3f} over {len(gains)} seeds"
    helps = bool(gains.mean() > 0)
    where = f"at {labels_per_class} labels per class and similarity {similarity}"
    if helps == transfer_helps:
        return Result("correct", f"{where} transfer {'helps' if helps else 'does not help'}: {measured}. "
                      "Now try other label counts in the explorer: does the answer ever change?")
    why = ("the frozen body was trained on a source this far from the target, and with fixed features "
           "a new head cannot undo that; scratch adapts all its layers to the target."
           if not helps else "even half-similar source features beat what scratch learns from these few labels.")
    return Result("incorrect", f"{where} transfer {'helps' if helps else 'does not help'} ({measured}): {why} "
                  "Check with the explorer.")


PREDICT_AT_HALF = Judged("PREDICT_AT_HALF", _predict_at_half,
                         "checks.PREDICT_AT_HALF.check(transfer_helps, labels_per_class=n, seeds=SEEDS)")

WHY_FLAT = ChoiceExercise(
    "WHY_FLAT",
    options={
        "A": "scratch never sees the source task: it starts from random weights at every similarity",
        "B": "the similarity changes only the labels of the target, never its inputs",
        "C": "scratch trains for more steps than transfer, so it always converges",
        "D": "the similarity sweep uses too few seeds to show a trend",
    },
    accepted={"why_flat": {"A"}},
    why={"why_flat": "similarity measures how close the target is to the *source*; a network that never "
                     "used the source cannot depend on it. (B: the renderer of the inputs is blended too; "
                     "C: both train the same number of steps; D: the transfer curve does move with them.)"},
    praise="scratch does not use the source, so how close the source is cannot matter to it.",
)


def _layers_of(head) -> list:
    head = head() if callable(head) and not hasattr(head, "layers") else head
    return [layer for layer in head.layers if type(layer).__name__ != "InputLayer"]


def _dropout_head(head, *, num_classes: int) -> Result:
    layers = _layers_of(head)
    kinds = [type(layer).__name__ for layer in layers]
    dense = [i for i, k in enumerate(kinds) if k == "Dense"]
    drops = [i for i, k in enumerate(kinds) if k == "Dropout"]
    if len(dense) != 2 or kinds[0] != "Flatten":
        return Result("incorrect", f"layers {kinds}: keep the articles' head (Flatten, Dense(1024), Dense("
                      f"{num_classes})) and add only the Dropout layer.")
    if layers[dense[1]].units != num_classes or layers[dense[0]].units != 1024:
        return Result("incorrect", f"Dense sizes {[layers[i].units for i in dense]}: keep Dense(1024) and "
                      f"the output Dense(num_classes={num_classes}).")
    if not drops:
        return Result("incorrect", "no Dropout layer: add keras.layers.Dropout(0.5) after Dense(1024).")
    if len(drops) > 1:
        return Result("incorrect", f"{len(drops)} Dropout layers: the exercise asks for one, after Dense(1024).")
    if drops[0] > dense[1]:
        return Result("incorrect", "the Dropout comes after the output layer: it would zero class probabilities. "
                      "Put it between Dense(1024) and the output Dense.")
    if drops[0] < dense[0]:
        return Result("incorrect", "the Dropout comes before Dense(1024): it drops input features, not the "
                      "1,024 hidden units the exercise regularises. Move it after Dense(1024).")
    if abs(layers[drops[0]].rate - 0.5) > 1e-9:
        return Result("incorrect", f"rate {layers[drops[0]].rate:g}: the rate is the fraction of units dropped "
                      "in training; use 0.5.")
    return Result("correct", "Flatten → Dense(1024) → Dropout(0.5) → Dense: dropout is active in fit only.")


DROPOUT_HEAD = Judged("DROPOUT_HEAD", _dropout_head,
                      "checks.DROPOUT_HEAD.check(articles_head_with_dropout, num_classes=num_classes)")


def _early_features(x, *, conv_base, layer: str) -> Result:
    if isinstance(x, tuple):
        return Result("incorrect", "extract_run returns (features, labels, info): pass the features only, "
                      "the first item.")
    got = tuple(np.shape(x)[1:])
    expected = tuple(conv_base.get_layer(layer).output.shape[1:])
    last = tuple(conv_base.output.shape[1:])
    if got == expected:
        gain = float(np.prod(expected)) / float(np.prod(last))
        return Result("correct", f"features of {layer}, {expected} per image ({gain:g}× the values of the last "
                      "layer's). Earlier layers hold more generic features (edges, textures): they help when "
                      "the target is *unlike* ImageNet and labels are few (notebook 01's case D).")
    if got == last:
        return Result("incorrect", f"shape {got} is the last layer's output: pass layer=run.backbone.cache_at "
                      "to features.extract_run.")
    return Result("incorrect", f"features of shape {got}, expected {expected} (the output of {layer}): "
                  "features.extract_run(run, conv_base, 'train', layer=run.backbone.cache_at)[0].")


EARLY_FEATURES = Judged("EARLY_FEATURES", _early_features,
                        "checks.EARLY_FEATURES.check(x_early, conv_base=conv_base, layer=run.backbone.cache_at)")


def _trainable_from(base, first: str) -> int:
    """Trainable parameters of `base` when unfrozen from `first`; the layers' flags are restored."""
    from . import models

    flags = [(layer, layer.trainable) for layer in base.layers]
    base_flag = base.trainable
    try:
        models.unfreeze_from(base, first)
        return models.count_params(base, trainable=True)
    finally:
        base.trainable = base_flag
        for layer, flag in flags:
            layer.trainable = flag


def _unfreeze_later(count, *, base, first: str) -> Result:
    from . import models

    names = [layer.name for layer in base.layers]
    later = names[names.index(first) + 1]
    count = int(count)
    expected, from_first = _trainable_from(base, later), _trainable_from(base, first)
    if count == expected:
        return Result("correct", f"from {later}: {expected:,} trainable parameters, {from_first - expected:,} "
                      f"fewer than from {first} (the parameters of {first} itself"
                      + (": it has none, so nothing changes)." if from_first == expected else ")."))
    if count == from_first:
        return Result("incorrect", f"{count:,} is the count from {first} itself; one layer later ({later}) "
                      f"leaves {first} frozen too.")
    if count == from_first - expected:
        return Result("incorrect", f"{count:,} is the difference between the two: give the trainable count "
                      f"of the base when unfreezing from {later}.")
    if count == models.count_params(base):
        return Result("incorrect", "that is every parameter of the base: count only the layers from "
                      f"{later} on (models.trainable_summary(conv_base, {later!r})).")
    return Result("incorrect", f"{count:,} is not it. Unfreeze from {later!r} with the loop of section 2 (or "
                  f"models.unfreeze_from), then models.count_params(conv_base, trainable=True).")


UNFREEZE_LATER = Judged("UNFREEZE_LATER", _unfreeze_later,
                        "checks.UNFREEZE_LATER.check(count, base=conv_base, first=run.backbone.fine_tune_from)")


def _ece_reference(y_true, proba):
    from . import evaluate

    return evaluate.expected_calibration_error(y_true, proba)


def _ece_cases():
    # Binary problems: confidence is >= 0.5, so bins 0-4 are always empty (NaN accuracy).
    one_per_bin = (np.array([1, 1, 0, 0]),
                   np.array([[0.45, 0.55], [0.25, 0.75], [0.95, 0.05], [0.65, 0.35]]))
    over_under = (np.array([0, 0, 0, 1, 1, 0]),  # under-confident bin 5, over-confident bin 9
                  np.array([[0.55, 0.45], [0.52, 0.48], [0.58, 0.42], [0.05, 0.95], [0.02, 0.98], [0.08, 0.92]]))
    rng = np.random.default_rng(3)
    p1 = rng.uniform(0, 1, 200)
    uneven = (rng.integers(0, 2, 200), np.stack([1 - p1, p1], axis=1))
    return [(one_per_bin, "Skip empty bins (count 0): their accuracy and confidence are NaN."),
            (over_under, "Take |accuracy_b − confidence_b|: over- and under-confidence must not cancel."),
            (uneven, "Weight each bin by its share of the examples, n_b / n, not 1 / number of bins.")]


ECE = Exercise("ECE", _ece_reference, _ece_cases)


def _normalised_targets(y_soft, *, y_multi) -> Result:
    y_soft, y_multi = np.asarray(y_soft, float), np.asarray(y_multi, float)
    if y_soft.shape != y_multi.shape:
        return Result("incorrect", f"shape {y_soft.shape}, expected {y_multi.shape}: one row per image, "
                      "one column per class.")
    if not np.isfinite(y_soft).all():
        return Result("incorrect", "NaN or inf values: a row summing to 0 was divided by 0.")
    expected = y_multi / y_multi.sum(axis=1, keepdims=True)
    if np.allclose(y_soft, y_multi / y_multi.sum(axis=0, keepdims=True)):
        return Result("incorrect", "each *class column* sums to 1: normalise each image's row instead, "
                      ".sum(axis=1, keepdims=True).")
    if not np.allclose(y_soft, expected):
        return Result("incorrect", "each row must be the multi-hot row divided by its number of labels "
                      "(rows sum to 1, equal shares for the labels present).")
    return Result("correct", f"rows sum to 1; an image with k labels gives each 1/k (here k from "
                  f"{int(y_multi.sum(1).min())} to {int(y_multi.sum(1).max())}).")


NORMALISED_TARGETS = Judged("NORMALISED_TARGETS", _normalised_targets,
                            "checks.NORMALISED_TARGETS.check(y_soft, y_multi=y['train'])")


def _softmax_at_half(n) -> Result:
    if int(n) == 1:
        return Result("correct", "softmax outputs sum to 1, so at most one can exceed 0.5; the normalised "
                      "targets teach it to spread 1/k over k labels: exactly 0.5 each at k = 2 (a tie, not above; "
                      "a score ≥ 0.5 rule such as multilabel.predict_labels would name both), below 0.5 from k = 3.")
    return Result("incorrect", f"{n}: softmax outputs sum to 1. How many numbers strictly above 0.5 can a sum of 1 "
                  "hold?")


SOFTMAX_AT_HALF = Judged("SOFTMAX_AT_HALF", _softmax_at_half, "checks.SOFTMAX_AT_HALF.check(n)")


# --------------------------------------------------------------------------- notebook 07


def _feature_map_side(side, *, backbone: str, size: int) -> Result:
    from . import backbones

    b, size = backbones.get(backbone), int(size)
    shape = tuple(b.build(None, (size, size, 3)).output.shape[1:])  # weights=None: shapes only
    expected = int(shape[0])
    if isinstance(side, (tuple, list, np.ndarray)):
        if tuple(side)[:2] != (expected, expected):
            return Result("incorrect", f"{tuple(side)}: give the side (height = width) of {b.title}'s last "
                          f"feature map at {size} px, one number.")
        side = expected
    got = float(side)
    if got == expected:
        return Result("correct", f"{b.title} at {size} px ends with a {expected}×{expected}×{shape[2]} feature map: "
                      f"{expected * expected} position(s) for GlobalAveragePooling2D to average, one per "
                      "32-pixel stride of the input.")
    if got in (size / 32, size // 32, -(-size // 32)):
        way = "up" if expected > size / 32 else "down"
        return Result("incorrect", f"{got:g}: a feature map has a whole number of positions, and each of the five "
                      f"stride-2 steps rounds ({b.title} rounds {way} here): halve {size} five times, rounding "
                      "each time, or build the base with weights=None and read conv_base.output.shape.")
    if got in (size / 16, size // 16, -(-size // 16)):
        return Result("incorrect", f"{got:g} is the side after four halvings (VGG16's block5_conv3): the fifth "
                      "(block5_pool, or the last stride-2 convolution) halves it again.")
    if got == size:
        return Result("incorrect", f"{got:g} is the input's side: the backbone halves it five times (÷32).")
    if got == size * 32:
        return Result("incorrect", f"{got:g}: the backbone shrinks the image, it does not enlarge it: divide by 32.")
    return Result("incorrect", f"{got:g} is not it. The last feature map is the input's side halved five times "
                  "(2⁵ = 32, each halving rounded); section 2 prints it for 32 px and the run's SIZE.")


FEATURE_MAP_SIDE = Judged("FEATURE_MAP_SIDE", _feature_map_side,
                          "checks.FEATURE_MAP_SIDE.check(side, backbone=COMPARED[0], size=96)")


def _head_params(count, *, feature_shape, num_classes: int) -> Result:
    features, classes = int(np.prod(feature_shape)), int(num_classes)
    expected, count = features * classes + classes, int(count)
    if count == expected:
        return Result("correct", f"{features:,} features × {classes} classes + {classes} biases = {expected:,} "
                      "trainable parameters (Dropout has none): all that the few labels must fit, against the "
                      "frozen base's parameters in section 4's table.")
    if count == features * classes:
        return Result("incorrect", f"{count:,} counts the weights only: Dense adds one bias per class too.")
    if count == features * classes + features:
        return Result("incorrect", f"{count:,}: the biases are one per output unit (class), not one per feature.")
    if count in (features * (classes + 1) + classes, 2 * expected):
        return Result("incorrect", f"{count:,}: Dropout has no parameters; only the Dense layer counts.")
    return Result("incorrect", f"{count:,} is not it. The head is Dropout then Dense(num_classes) on the pooled "
                  f"features: features × classes + classes (check with new_head(...).count_params()).")


HEAD_PARAMS = Judged("HEAD_PARAMS", _head_params,
                     "checks.HEAD_PARAMS.check(count, feature_shape=f_pool.shape[1:], num_classes=num_classes)")
