"""Learning claims ("feature extraction beats scratch") checked on the numbers of the run.

A claim compares two methods' accuracies. The **spread** is twice the standard error of
their difference: each method's error combines the variation between repeats (sample
standard deviation / √repeats) and the sampling noise of an accuracy measured on `n` test
images (√(p(1−p)/n): the same images in every repeat, so that part does not shrink). "A
beats B" **holds** only when the margin is larger than the spread, is **inconclusive** within
it, and **does not hold** beyond it the other way. "A is at least as good as B" is a
non-inferiority claim: it holds unless A is worse than B by more than the spread. A claim with
no way to measure its noise (one run, no image count) is refused. A claim about what pretrained weights
achieve is **not checked** when the model evaluated has random weights: those numbers say
nothing about transfer. Every verdict is appended to outputs/claims.json, with the profile,
backbone and dataset of the run, so the whole-course run (and the real test tier) counts them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import paths

__all__ = [
    "VERDICTS", "Claim", "compare", "Evidence", "evidence", "keep_only", "ledger_path", "load",
    "summary", "verdict",
]

VERDICTS = ("holds", "inconclusive", "does not hold", "not checked")


@dataclass(frozen=True)
class Claim:
    notebook: str
    claim: str
    verdict: str  # one of VERDICTS
    detail: str
    run: dict = field(default_factory=dict)  # profile, backbone, dataset

    @property
    def checked(self) -> bool:
        return self.verdict != "not checked"

    def __str__(self) -> str:
        return f"{self.verdict.upper()}: {self.claim} ({self.detail})"


@dataclass(frozen=True)
class Evidence:
    """Two methods' accuracies, their margin and the spread it is judged against."""

    mean_a: float
    std_a: float
    mean_b: float
    std_b: float
    spread: float

    @property
    def margin(self) -> float:
        return self.mean_a - self.mean_b


def _standard_error(values: np.ndarray, n: int | None) -> float:
    variance = values.var(ddof=1) / len(values) if len(values) > 1 else 0.0
    if n:
        p = float(np.clip(values.mean(), 0.0, 1.0))
        variance += p * (1 - p) / n
    return math.sqrt(variance)


def evidence(a: float | Sequence[float], b: float | Sequence[float], n: int | None = None) -> Evidence:
    """Means, sample standard deviations and the spread: 2 × the standard error of the difference."""
    a, b = np.atleast_1d(np.asarray(a, dtype=float)), np.atleast_1d(np.asarray(b, dtype=float))
    if not n and (len(a) < 2 or len(b) < 2):
        raise ValueError("A claim on single numbers needs n (the images they were measured on) to "
                         "know their noise; give n, or repeat the runs.")
    spread = 2 * math.sqrt(_standard_error(a, n) ** 2 + _standard_error(b, n) ** 2)
    std = lambda v: float(v.std(ddof=1)) if len(v) > 1 else 0.0  # noqa: E731
    return Evidence(float(a.mean()), std(a), float(b.mean()), std(b), spread)


def verdict(ev: Evidence, kind: str = "beats") -> str:
    """'beats': A > B beyond the spread. 'at least': A is not below B by more than the spread."""
    if kind == "beats":
        if ev.margin > ev.spread:
            return "holds"
        return "does not hold" if ev.margin < -ev.spread else "inconclusive"
    if kind == "at least":
        return "holds" if ev.margin >= -ev.spread else "does not hold"
    raise ValueError(f"kind must be 'beats' or 'at least', not {kind!r}")


def ledger_path() -> Path:
    return paths.outputs_dir() / "claims.json"


def _save(claim: Claim) -> None:
    path = ledger_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = [e for e in load() if (e.notebook, e.claim) != (claim.notebook, claim.claim)]
    entries.append(claim)
    path.write_text(json.dumps([asdict(e) for e in entries], indent=2) + "\n")


def keep_only(run: dict) -> None:
    """Drop recorded claims of other runs (another profile, backbone or dataset) from the ledger."""
    path = ledger_path()
    entries = load()
    kept = [e for e in entries if e.run == run]
    if len(kept) != len(entries):
        path.write_text(json.dumps([asdict(e) for e in kept], indent=2) + "\n")


def load() -> list[Claim]:
    """The claims recorded so far in this outputs folder."""
    path = ledger_path()
    if not path.exists():
        return []
    try:
        return [Claim(**e) for e in json.loads(path.read_text())]
    except (ValueError, TypeError):
        return []


def compare(notebook: str, claim: str, a, b, *, pretrained: bool, kind: str = "beats",
            n: int | None = None, names: tuple[str, str] = ("A", "B"), run: dict | None = None) -> Claim:
    """Judge "A beats B" (or "A is at least as good as B") on accuracies a, b; record it.

    `a`, `b`: one accuracy or one per repeat. `n`: images each accuracy was measured on.
    `pretrained`: whether the models compared start from pretrained weights (the models
    actually evaluated); without them the claim is recorded as not checked.
    """
    if not pretrained:
        result = Claim(notebook, claim, "not checked",
                       "random weights: these numbers say nothing about transfer", dict(run or {}))
    else:
        ev = evidence(a, b, n)
        detail = (f"{names[0]} {ev.mean_a:.3f} ± {ev.std_a:.3f} vs {names[1]} {ev.mean_b:.3f} ± "
                  f"{ev.std_b:.3f}: margin {ev.margin:+.3f}, spread {ev.spread:.3f}"
                  + (f" over {len(np.atleast_1d(a))} repeats" if np.ndim(a) else "")
                  + (f", {n} images" if n else ""))
        result = Claim(notebook, claim, verdict(ev, kind), detail, dict(run or {}))
    _save(result)
    return result


def summary(entries: list[Claim] | None = None) -> str:
    """'claims checked: 5 of 7 (4 hold, 1 inconclusive, 0 do not hold); 2 not checked: ...'."""
    entries = load() if entries is None else entries
    checked = [e for e in entries if e.checked]
    count = {v: sum(1 for e in checked if e.verdict == v) for v in VERDICTS[:3]}
    text = (f"claims checked: {len(checked)} of {len(entries)} ({count['holds']} hold, "
            f"{count['inconclusive']} inconclusive, {count['does not hold']} do not hold)")
    if len(checked) < len(entries):
        text += (f"; {len(entries) - len(checked)} not checked: random weights "
                 "(README, 'Offline classroom', says how to get the pretrained ones)")
    return text
