"""'Check your answer' helpers for the exercises.

``EXERCISE.check(answer)`` shows *correct*, *incorrect* (with a hint a student can act on) or
*not attempted*, and never raises, so a notebook with unsolved exercises still runs top to
bottom (and in CI). ``EXERCISE.evaluate(answer)`` returns the same verdict as a Result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import losses


@dataclass(frozen=True)
class Result:
    status: str  # "correct", "incorrect" or "not attempted"
    message: str

    def _repr_markdown_(self) -> str:
        icon = {"correct": "✅", "incorrect": "❌", "not attempted": "✏️"}[self.status]
        return f"{icon} **{self.status}**: {self.message}"

    def __str__(self) -> str:
        return f"[{self.status}] {self.message}"


def _show(result: Result) -> None:
    try:
        from IPython.display import display

        display(result)
    except ImportError:  # plain Python: print instead
        print(result)


@dataclass
class Exercise:
    """A function-writing exercise checked against a reference on a list of test cases."""

    name: str
    reference: Callable
    cases: Callable[[], list[tuple]]  # () -> [(args tuple, hint if this case fails), ...]
    rtol: float = 1e-5
    atol: float = 1e-6

    def evaluate(self, answer: Callable | None) -> Result:
        """Compare `answer` with the reference; never raises."""
        if answer is None:
            return Result("not attempted", f"write your function and pass it to {self.name}.check().")
        for args, hint in self.cases():
            try:
                got = answer(*[np.copy(a) for a in args])
            except NotImplementedError:
                return Result("not attempted", "your function still raises NotImplementedError.")
            except Exception as err:  # a student's bug: report it, do not crash the notebook
                return Result("incorrect", f"your function raised {type(err).__name__}: {err}")
            if got is None:
                return Result("not attempted", "your function returns None: return the value.")
            expected = self.reference(*args)
            got = np.asarray(got, dtype=np.float64)
            if got.shape != np.shape(expected):
                return Result("incorrect", f"shape {got.shape}, expected {np.shape(expected)}. {hint}")
            if not np.allclose(got, expected, rtol=self.rtol, atol=self.atol):
                return Result("incorrect", f"for inputs {_short(args)} you returned {_short(got)}, "
                              f"expected {_short(expected)}. {hint}")
        return Result("correct", "matches the reference on every test case.")

    def check(self, answer: Callable | None) -> None:
        """Evaluate and display the verdict (correct / incorrect / not attempted); never raises."""
        _show(self.evaluate(answer))


def _short(value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    text = np.array2string(np.asarray(value), precision=4, threshold=6)
    return text if len(text) < 120 else text[:117] + "..."


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


@dataclass
class ChoiceExercise:
    """Pick an option for each case; several options may be accepted for one case."""

    name: str
    options: dict[str, str]  # letter -> what it means
    accepted: dict[str, set[str]]  # case -> accepted letters
    why: dict[str, str]  # case -> the reason, shown when the answer is wrong

    def evaluate(self, answer: dict | None) -> Result:
        if not answer or all(v in (None, "", "?") for v in answer.values()):
            return Result("not attempted", f"fill in a letter for each case, then {self.name}.check(answers).")
        missing = [c for c in self.accepted if c not in answer]
        if missing:
            return Result("incorrect", f"no answer for {', '.join(missing)}.")
        wrong = [c for c, ok in self.accepted.items() if str(answer[c]).strip().upper() not in ok]
        if wrong:
            hints = " ".join(f"{c}: {self.why[c]}" for c in wrong)
            return Result("incorrect", f"{len(wrong)} of {len(self.accepted)} cases wrong. {hints}")
        return Result("correct", "every case matches the rule of thumb.")

    def check(self, answer: dict | None) -> None:
        """Evaluate and display the verdict; never raises."""
        _show(self.evaluate(answer))


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
