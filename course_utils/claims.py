"""Learning claims ("feature extraction beats scratch") checked on the numbers of the run.

A claim compares two methods. Each side is given as accuracies (one, or one per repeat, with
`n`, the test images they were measured on) or, better, as **per-image correctness** (a boolean
array per repeat: which test images the model got right). The **resolution** of the comparison
is twice the standard error of the difference of the two accuracies (about a 95 % interval):

- per-image correctness on the same images is *paired*: what counts is how often the two models
  disagree, not each one's own noise, so a test split of a few hundred images can separate
  models that agree on most images; the variation between repeats (sample standard deviation,
  ddof=1, over √repeats) is added for each side;
- accuracies alone count each side's sampling noise √(p(1−p)/n) and its repeats, as if the two
  had been measured on different images (a wider, safe interval).

"A beats B" **holds** when the whole interval margin ± resolution is above 0, **does not hold**
when it is below 0, and is **inconclusive** otherwise ("inconclusive: 49 test images can only
resolve differences above 0.19"). "A is at least as good as B, within m" states its equivalence
margin m in advance: it holds when the lower end of the interval is at or above −m, does not
hold when the upper end is below −m, and is inconclusive in between. A **sanity bar** ("A is no
more than m below B", ``kind="no worse than"``) is not a learning claim but a check of a recipe:
it holds when the difference itself is at or above −m (used for a trained head against a
logistic-regression probe on the same features), and never is inconclusive. A claim with no way to
measure its noise (one accuracy without an image count) is refused. A claim about what
pretrained weights achieve is **not checked** when the model evaluated has random weights.
Every verdict is recorded in outputs/claims.json, with the profile, backbone and dataset of the
run, so the whole-course run (and the real test tier) counts them: written atomically under a
lock (notebooks may run at once), one verdict per notebook and claim; a notebook started with
another configuration drops only its own earlier claims.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from . import paths, storage

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
    margin: float | None = None  # mean of A minus mean of B (None: not checked)
    resolution: float | None = None  # twice the standard error of that difference

    @property
    def checked(self) -> bool:
        return self.verdict != "not checked"

    def __str__(self) -> str:
        return f"{self.verdict.upper()}: {self.claim} ({self.detail})"


@dataclass(frozen=True)
class Evidence:
    """Two methods' accuracies, their difference and the resolution it is judged against."""

    mean_a: float
    std_a: float  # sample standard deviation over repeats (ddof=1; 0 for one run)
    mean_b: float
    std_b: float
    resolution: float  # twice the standard error of mean_a - mean_b
    n: int | None = None  # images each accuracy was measured on
    paired: bool = False  # per-image correctness on the same images
    repeats: tuple[int, int] = (1, 1)

    @property
    def margin(self) -> float:
        return self.mean_a - self.mean_b

    @property
    def interval(self) -> tuple[float, float]:
        """margin ± resolution."""
        return self.margin - self.resolution, self.margin + self.resolution


def _sd(values: np.ndarray) -> float:
    """Sample standard deviation (ddof=1), the one definition of ± in the course; 0 for one value."""
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def _as_correct(x) -> np.ndarray | None:
    """Per-image correctness as a (repeats, n) bool array, or None for accuracies."""
    arr = np.asarray(x)
    if arr.dtype != bool:
        return None
    return arr.reshape(1, -1) if arr.ndim == 1 else arr


def evidence(a, b, n: int | None = None) -> Evidence:
    """Means, sample standard deviations and the resolution of "A minus B" (see the module docstring).

    `a`, `b`: per-image correctness (bool arrays, (n,) or (repeats, n), the same images on both
    sides) or accuracies (a float or one per repeat, with `n`). Used in notebook 05, section 5 (fine-tuning
    minus feature extraction at each label count).
    """
    ca, cb = _as_correct(a), _as_correct(b)
    if ca is not None and cb is not None:
        if ca.shape[1] != cb.shape[1]:
            raise ValueError(f"Paired correctness needs the same test images on both sides: "
                             f"{ca.shape[1]} vs {cb.shape[1]}.")
        acc_a, acc_b = ca.mean(1), cb.mean(1)
        per_image = ca.mean(0) - cb.mean(0)
        m = len(per_image)
        variance = (per_image.var(ddof=1) / m if m > 1 else 0.0)
        variance += _sd(acc_a) ** 2 / len(acc_a) + _sd(acc_b) ** 2 / len(acc_b)
        return Evidence(float(acc_a.mean()), _sd(acc_a), float(acc_b.mean()), _sd(acc_b),
                        2 * math.sqrt(variance), m, True, (len(acc_a), len(acc_b)))
    acc_a = ca.mean(1) if ca is not None else np.atleast_1d(np.asarray(a, dtype=float))
    acc_b = cb.mean(1) if cb is not None else np.atleast_1d(np.asarray(b, dtype=float))
    n = n or (ca.shape[1] if ca is not None else cb.shape[1] if cb is not None else None)
    if not n and (len(acc_a) < 2 or len(acc_b) < 2):
        raise ValueError("A claim on single numbers needs n (the images they were measured on) to "
                         "know their noise; give n, or repeat the runs.")

    def variance(values: np.ndarray) -> float:
        v = _sd(values) ** 2 / len(values)
        if n:
            p = float(np.clip(values.mean(), 0.0, 1.0))
            v += p * (1 - p) / n
        return v

    return Evidence(float(acc_a.mean()), _sd(acc_a), float(acc_b.mean()), _sd(acc_b),
                    2 * math.sqrt(variance(acc_a) + variance(acc_b)), n, False, (len(acc_a), len(acc_b)))


def verdict(ev: Evidence, kind: str = "beats", within: float = 0.0) -> str:
    """'beats': margin ± resolution above 0. 'at least': its lower end at or above −within.

    'no worse than' (a sanity bar): the difference itself at or above −within.
    """
    low, high = ev.interval
    if kind == "no worse than":
        return "holds" if ev.margin >= -within else "does not hold"
    if kind == "beats":
        within = 0.0
    elif kind != "at least":
        raise ValueError(f"kind must be 'beats', 'at least' or 'no worse than', not {kind!r}")
    if kind == "beats" and low > 0 or kind == "at least" and low >= -within:
        return "holds"
    return "does not hold" if high < -within else "inconclusive"


class LedgerError(RuntimeError):
    """The claims ledger cannot be read (the message names the file and what to do)."""


def ledger_path() -> Path:
    return paths.outputs_dir() / "claims.json"


def _unwritable(path: Path, err: OSError) -> LedgerError:
    return LedgerError(
        f"Cannot write the claims ledger {path} ({err.strerror or err}). Point COURSE_OUTPUT_DIR at a "
        "folder you can write to (or fix this one's permissions) and run the cell again.")


def _write(entries: list[Claim]) -> None:
    storage.write_text(ledger_path(), json.dumps([asdict(e) for e in entries], indent=2) + "\n")


def _save(claim: Claim) -> None:
    """Record `claim`, replacing the same notebook's earlier verdict on the same claim."""
    path = ledger_path()
    try:
        with storage.locked(path):
            entries = [e for e in load() if (e.notebook, e.claim) != (claim.notebook, claim.claim)]
            entries.append(claim)
            _write(entries)
    except OSError as err:
        raise _unwritable(path, err) from err


def keep_only(run: dict, notebook: str | None = None) -> None:
    """Drop `notebook`'s claims recorded by other runs (another profile, backbone or dataset).

    Other notebooks' claims stay, whatever configuration made them: a course run where 05
    uses VGG16 and 06 MobileNet ends with both notebooks' claims. `notebook=None` drops every
    claim of another configuration.
    """
    path = ledger_path()
    if not path.exists():
        return
    try:
        with storage.locked(path):
            entries = load()
            kept = [e for e in entries if e.run == run or (notebook is not None and e.notebook != notebook)]
            if len(kept) != len(entries):
                _write(kept)
    except OSError as err:
        raise _unwritable(path, err) from err


def load() -> list[Claim]:
    """The claims recorded so far in this outputs folder (raises ``LedgerError`` if it is damaged)."""
    path = ledger_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as err:
        raise LedgerError(f"Cannot read the claims ledger {path} ({err.strerror or err}).") from err
    known = {f.name for f in fields(Claim)}
    try:
        raw = json.loads(text)
        if not isinstance(raw, list):
            raise TypeError("not a list of claims")
        # Fields added since the file was written take their defaults; unknown ones are ignored.
        return [Claim(**{k: v for k, v in e.items() if k in known}) for e in raw]
    except (ValueError, TypeError, AttributeError) as err:
        raise LedgerError(
            f"The claims ledger {path} is damaged ({err}); nothing was written to it. Move it aside "
            "(or delete it), then run again the notebooks whose claims you want counted.") from err


def compare(notebook: str, claim: str, a, b, *, pretrained: bool, kind: str = "beats",
            within: float | None = None, n: int | None = None, names: tuple[str, str] = ("A", "B"),
            run: dict | None = None) -> Claim:
    """Judge "A beats B" (or "A is at least as good as B, within `within`") and record it.

    `a`, `b`: per-image correctness (bool arrays, one row per repeat) or accuracies (one, or one
    per repeat, with `n`: the images each was measured on). `within`: the equivalence margin of
    an "at least" claim, stated in advance (required for it). `pretrained`: whether the models
    compared start from pretrained weights; without them the claim is recorded as not checked.
    """
    if kind in ("at least", "no worse than") and within is None:
        raise ValueError(f"An {kind!r} claim needs its margin, stated in advance: within=0.02, say.")
    if not pretrained:
        result = Claim(notebook, claim, "not checked",
                       "random weights: these numbers say nothing about transfer", dict(run or {}))
    else:
        ev = evidence(a, b, n)
        judged = verdict(ev, kind, within or 0.0)
        repeats = max(ev.repeats)
        low, high = ev.interval
        detail = (f"{names[0]} {ev.mean_a:.3f} ± {ev.std_a:.3f} vs {names[1]} {ev.mean_b:.3f} ± {ev.std_b:.3f}: "
                  f"difference {ev.margin:+.3f}, resolution {ev.resolution:.3f} (interval {low:+.3f} to {high:+.3f})"
                  + (f", {'paired, ' if ev.paired else ''}{ev.n} images" if ev.n else "")
                  + (f", {repeats} repeats" if repeats > 1 else "")
                  + (f"; equivalence margin {within:.2f}" if kind == "at least" else "")
                  + (f"; sanity bar: no more than {within:.2f} below" if kind == "no worse than" else ""))
        if judged == "inconclusive":
            detail += (f"; inconclusive: {ev.n or 'these'} test images can only resolve differences above "
                       f"{ev.resolution:.2f}" + (f" (the margin is {within:.2f})" if kind == "at least" else ""))
        result = Claim(notebook, claim, judged, detail, dict(run or {}), round(ev.margin, 4), round(ev.resolution, 4))
    _save(result)
    return result


def summary(entries: list[Claim] | None = None) -> str:
    """'claims checked: 5 of 7 (4 hold, 1 inconclusive, 0 do not hold); 2 not checked: ...'.

    Used in notebook 05, section 6.
    """
    entries = load() if entries is None else entries
    checked = [e for e in entries if e.checked]
    count = {v: sum(1 for e in checked if e.verdict == v) for v in VERDICTS[:3]}
    text = (f"claims checked: {len(checked)} of {len(entries)} ({count['holds']} hold, "
            f"{count['inconclusive']} inconclusive, {count['does not hold']} do not hold)")
    if len(checked) < len(entries):
        text += (f"; {len(entries) - len(checked)} not checked: random weights "
                 "(README, 'Offline classroom', says how to get the pretrained ones)")
    return text
