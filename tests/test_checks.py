from types import SimpleNamespace

import numpy as np

from course_utils import checks


def _softmax_cross_entropy(logits, labels):
    logits = np.asarray(logits, dtype=np.float64)
    m = logits.max(axis=1, keepdims=True)
    return m[:, 0] + np.log(np.exp(logits - m).sum(axis=1)) - logits[np.arange(len(logits)), labels]


# Right answers, written independently of the checkers' references (course_utils.losses); the
# solutions learners read are in solutions/02_loss_formulas_solutions.ipynb (tests/test_solutions.py).
solutions = SimpleNamespace(
    softmax_cross_entropy=_softmax_cross_entropy,
    bce_gradient=lambda y, z: 1.0 / (1.0 + np.exp(-z)) - y,
    weight_decay_step=lambda theta, grad, lr, wd: theta * (1 - lr * wd) - lr * grad,
)


def test_checkers_accept_the_solutions():
    assert checks.SOFTMAX_CROSS_ENTROPY.evaluate(solutions.softmax_cross_entropy).status == "correct"
    assert checks.BCE_GRADIENT.evaluate(solutions.bce_gradient).status == "correct"
    assert checks.WEIGHT_DECAY_STEP.evaluate(solutions.weight_decay_step).status == "correct"


def test_unstable_softmax_is_rejected_with_a_hint_about_overflow():
    def naive(logits, labels):
        e = np.exp(logits)
        return -np.log(e[np.arange(len(e)), labels] / e.sum(1))

    result = checks.SOFTMAX_CROSS_ENTROPY.evaluate(naive)
    assert result.status == "incorrect" and "subtract each row's max" in result.message


def test_returning_the_mean_is_rejected_with_a_shape_hint():
    result = checks.SOFTMAX_CROSS_ENTROPY.evaluate(
        lambda z, y: solutions.softmax_cross_entropy(z, y).mean())
    assert result.status == "incorrect" and "shape" in result.message


def test_extra_sigmoid_derivative_is_rejected():
    def wrong(y, z):
        s = 1 / (1 + np.exp(-z))
        return (s - y) * s * (1 - s)

    assert checks.BCE_GRADIENT.evaluate(wrong).status == "incorrect"


def test_decay_without_learning_rate_is_rejected():
    wrong = lambda theta, g, lr, wd: theta - lr * g - wd * theta  # noqa: E731
    result = checks.WEIGHT_DECAY_STEP.evaluate(wrong)
    assert result.status == "incorrect" and "scaled by the learning rate" in result.message


def test_unattempted_and_crashing_answers_never_raise(capsys):
    assert checks.BCE_GRADIENT.evaluate(None).status == "not attempted"
    assert checks.BCE_GRADIENT.evaluate(lambda y, z: None).status == "not attempted"

    def todo(y, z):
        raise NotImplementedError

    assert checks.BCE_GRADIENT.evaluate(todo).status == "not attempted"
    result = checks.BCE_GRADIENT.evaluate(lambda y, z: 1 / 0)
    assert result.status == "incorrect" and "ZeroDivisionError" in result.message
    assert checks.BCE_GRADIENT.check(lambda y, z: 1 / 0) is None  # displays, does not raise
    assert "incorrect" in capsys.readouterr().out


def test_rule_of_thumb_choice_exercise():
    right = {"small_similar": "A", "large_similar": "c", "small_different": "D", "large_different": "C"}
    assert checks.RULE_OF_THUMB.evaluate(right).status == "correct"
    wrong = dict(right, small_different="C")
    result = checks.RULE_OF_THUMB.evaluate(wrong)
    assert result.status == "incorrect" and "small_different" in result.message
    assert checks.RULE_OF_THUMB.evaluate({k: "?" for k in right}).status == "not attempted"
    assert checks.RULE_OF_THUMB.evaluate({"small_similar": "A"}).status == "incorrect"


def test_top_k_exercise_accepts_argsort_and_rejects_ascending_or_probabilities():
    import numpy as np

    assert checks.TOP_K.evaluate(lambda p, k: np.argsort(p)[::-1][:k]).status == "correct"
    ascending = checks.TOP_K.evaluate(lambda p, k: np.argsort(p)[:k])
    assert ascending.status == "incorrect" and "largest probability" in ascending.message
    probs = checks.TOP_K.evaluate(lambda p, k: np.sort(p)[::-1][:k])
    assert probs.status == "incorrect"
    assert checks.TOP_K.evaluate(None).status == "not attempted"
