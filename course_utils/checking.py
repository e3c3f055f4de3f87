"""The machinery of the exercise checkers: verdicts, and three kinds of exercise.

``Exercise`` compares a learner's function with a reference on test cases; ``ChoiceExercise``
takes a letter per case; ``Judged`` judges any answer with a function of the answer and of the
notebook's own objects. Each ``check`` displays *correct*, *incorrect* (with a hint a student
can act on) or *not attempted*, and never raises. The exercises themselves are in ``checks``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


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


@dataclass
class ChoiceExercise:
    """Pick an option for each case; several options may be accepted for one case."""

    name: str
    options: dict[str, str]  # letter -> what it means
    accepted: dict[str, set[str]]  # case -> accepted letters
    why: dict[str, str]  # case -> the reason, shown when the answer is wrong
    praise: str = "every case matches the rule of thumb."

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
        return Result("correct", self.praise)

    def check(self, answer: dict | None) -> None:
        """Evaluate and display the verdict; never raises."""
        _show(self.evaluate(answer))


# --------------------------------------------------------------------------- judged answers


def _blank(answer) -> bool:
    return answer is None or answer is Ellipsis or (isinstance(answer, str) and answer.strip() in {"", "?"})


@dataclass
class Judged:
    """An answer judged by a function of the answer and the notebook's own objects.

    `judge(answer, **context)` returns a Result; context is what the notebook passes (its
    measured rate, its conv_base, ...), so the expected answer is computed from this run.
    """

    name: str
    judge: Callable[..., Result]
    usage: str  # how to call the check, shown when nothing was attempted

    def evaluate(self, answer, **context) -> Result:
        """The verdict; never raises."""
        if _blank(answer):
            return Result("not attempted", f"fill in your answer, then {self.usage}.")
        try:
            return self.judge(answer, **context)
        except Exception as err:  # an answer of the wrong kind: say so, do not crash the notebook
            return Result("incorrect", f"checking your answer raised {type(err).__name__}: {err}. "
                          f"Call it as {self.usage}.")

    def check(self, answer, **context) -> None:
        """Evaluate and display the verdict; never raises."""
        _show(self.evaluate(answer, **context))


def _close(a: float, b: float, rtol: float) -> bool:
    return abs(a - b) <= rtol * abs(b)
