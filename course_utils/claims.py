"""Learning claims ("feature extraction beats scratch") checked only when they can be.

A claim about what pretrained weights achieve is checked in a notebook when the weights are
present; otherwise it is recorded as *not checked*, with the reason, and no number from a
random-weight model is presented as its evidence. Every verdict is appended to
outputs/claims.json so the whole-course run can count them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from . import paths


@dataclass(frozen=True)
class Claim:
    notebook: str
    claim: str
    checked: bool
    holds: bool | None
    detail: str

    def __str__(self) -> str:
        if not self.checked:
            return f"not checked: {self.claim} ({self.detail})"
        return f"{'holds' if self.holds else 'DOES NOT HOLD'}: {self.claim} ({self.detail})"


def ledger_path() -> Path:
    return paths.outputs_dir() / "claims.json"


def _save(claim: Claim) -> None:
    path = ledger_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = [e for e in load() if (e.notebook, e.claim) != (claim.notebook, claim.claim)]
    entries.append(claim)
    path.write_text(json.dumps([asdict(e) for e in entries], indent=2) + "\n")


def load() -> list[Claim]:
    path = ledger_path()
    if not path.exists():
        return []
    try:
        return [Claim(**e) for e in json.loads(path.read_text())]
    except (ValueError, TypeError):
        return []


def check(notebook: str, claim: str, *, pretrained: bool, holds: bool | None = None,
          detail: str = "") -> Claim:
    """Record a claim: checked (holds or not) when `pretrained`, else not checked. Returns it."""
    if pretrained:
        result = Claim(notebook, claim, True, bool(holds), detail)
    else:
        result = Claim(notebook, claim, False, None, "no pretrained weights: random-weight numbers "
                       "say nothing about transfer")
    _save(result)
    return result


def summary(entries: list[Claim] | None = None) -> str:
    """'claims checked: 3 of 7 (3 hold); 4 not checked: no pretrained weights'."""
    entries = load() if entries is None else entries
    checked = [e for e in entries if e.checked]
    held = sum(1 for e in checked if e.holds)
    text = f"claims checked: {len(checked)} of {len(entries)} ({held} hold)"
    if len(checked) < len(entries):
        text += f"; {len(entries) - len(checked)} not checked: no pretrained weights (README, 'Offline classroom')"
    return text
