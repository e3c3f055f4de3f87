"""A report on a learner's folder of photos, before any training: can it make a course run?

``check(folder)`` scans the folder as the course's loader does (``folders.scan_folder``: class
sub-folders, or train/val/test folders of class sub-folders; links used once, hidden and
non-image files listed), then decodes every candidate file once (``images.check_image``) and
reports: usable files per class (and per split folder), skipped files and why, exact duplicates
(the same bytes under two names: within a class, across classes, across split folders), image
sizes and class balance. It raises a ``DatasetError`` saying what to fix when the folder cannot
make a run: no folder, no class folders, one class, no readable image, or fewer than
``MIN_IMAGES_PER_CLASS`` usable images in a class. ``across_splits(dataset)`` lists the
duplicates that ended up in two splits of the run (a leak: the test score counts them).

The folder is only read.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import progress
from .errors import DatasetError
from .folders import scan_folder
from .images import check_image
from .integrity import file_digest

__all__ = [
    "BALANCE_WARNING", "LISTED", "MIN_IMAGES_PER_CLASS", "across_splits", "check",
    "FolderReport",
]

# The course carves 20 % of each class for validation and 20 % for test (splits.py). With 10
# images a class gives 6 to train on and 2 to each check; below that one image more or less
# right moves a class's validation or test accuracy by 50 points or more, and with 3 or fewer
# there is nothing left to train on once each split has its one image.
MIN_IMAGES_PER_CLASS = 10
BALANCE_WARNING = 3.0  # largest class / smallest class above this: a warning
LISTED = 10  # duplicate groups printed by summary(); the report keeps all
# Kinds of skipped files that need no action: summary() counts them and names a few; every
# file skipped for another reason (damaged, unsupported, too large) is listed.
_HARMLESS = {"hidden file", "hidden folder, not searched", "not an image file"}


@dataclass
class FolderReport:
    """What ``check`` found in a folder (the summary prints it)."""

    root: Path
    classes: list[str]
    counts: dict[str, dict[str, int]]  # role ("all", or train/val/test) -> class -> usable files
    skipped: list[tuple[str, str]]  # (path, reason)
    duplicates: list[list[tuple[str, str, str]]]  # groups of (role, class, path) with equal bytes
    sizes: np.ndarray  # [n, 2] (width, height) of the usable images, as displayed
    warnings: list[str] = field(default_factory=list)

    @property
    def per_class(self) -> dict[str, int]:
        """Usable images of each class, all split folders together."""
        return {c: sum(per.get(c, 0) for per in self.counts.values()) for c in self.classes}

    @property
    def balance(self) -> float:
        """Largest class / smallest class (1.0: balanced)."""
        n = list(self.per_class.values())
        return max(n) / max(1, min(n))

    def duplicates_across(self, what: str = "split") -> list[list[tuple[str, str, str]]]:
        """Duplicate groups whose copies sit in more than one split folder (`what`="split") or class."""
        i = 0 if what == "split" else 1
        return [g for g in self.duplicates if len({place[i] for place in g}) > 1]

    def _short(self, path: str) -> str:
        try:
            return str(Path(path).relative_to(self.root))
        except ValueError:
            return path

    def skipped_by_reason(self) -> dict[str, list[tuple[str, str]]]:
        """The skipped files grouped by kind of reason ("hidden file", "corrupt or truncated", ...)."""
        groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for path, why in self.skipped:
            groups[why.split(" (")[0].split(":")[0]].append((path, why))
        return dict(groups)

    def _skipped_by_reason(self) -> list[str]:
        """Harmless kinds (hidden, not an image) counted with a few names; every other file listed.

        Ten .DS_Store files never hide a broken photo.
        """
        lines = []
        for kind, entries in sorted(self.skipped_by_reason().items(), key=lambda kv: kv[0] in _HARMLESS):
            if kind in _HARMLESS:
                names = ", ".join(self._short(p) for p, _ in entries[:3])
                more = f" and {len(entries) - 3} more" if len(entries) > 3 else ""
                lines.append(f"  {kind}: {len(entries)} ({names}{more})")
            else:
                lines.append(f"  {kind}: {len(entries)}")
                lines += [f"    {self._short(p)}: {why}" for p, why in entries]
        return lines

    def summary(self) -> str:
        roles = list(self.counts)
        lines = [f"folder {self.root}: {len(self.classes)} classes, {sum(self.per_class.values())} usable images"
                 + ("" if roles == ["all"] else f" in split folders {', '.join(r + '/' for r in roles)}")]
        width = max(len(c) for c in self.classes)
        head = "" if roles == ["all"] else "   (" + ", ".join(roles) + ")"
        lines.append(f"  {'class':<{width}} images{head}")
        for c in self.classes:
            split = "" if roles == ["all"] else "   (" + ", ".join(str(self.counts[r].get(c, 0)) for r in roles) + ")"
            lines.append(f"  {c:<{width}} {self.per_class[c]:>6}{split}")
        lines.append(f"class balance: largest / smallest = {self.balance:.1f}")
        if len(self.sizes):
            w, h = self.sizes[:, 0], self.sizes[:, 1]
            lines.append(f"image sizes (pixels): width min {w.min()} / median {np.median(w):g} / max {w.max()}, "
                         f"height min {h.min()} / median {np.median(h):g} / max {h.max()}")
        lines.append(f"skipped files: {len(self.skipped)}")
        lines += self._skipped_by_reason()
        lines.append(f"exact duplicates (the same bytes under two names): {len(self.duplicates)} group(s), "
                     f"{len(self.duplicates_across('class'))} across classes, "
                     f"{len(self.duplicates_across('split'))} across split folders")
        for group in self.duplicates[:LISTED]:
            lines.append("  " + " = ".join(self._short(p) for _, _, p in group))
        if len(self.duplicates) > LISTED:
            lines.append(f"  ... and {len(self.duplicates) - LISTED} more groups (report.duplicates)")
        lines += [f"WARNING: {w}" for w in self.warnings]
        return "\n".join(lines)


def _inspect(path: Path):
    check = check_image(path)
    return check, file_digest(path) if check.ok else ""


def check(root: Path | str, split_dirs: dict[str, str] | None = None, *,
          min_per_class: int = MIN_IMAGES_PER_CLASS, workers: int = 4) -> FolderReport:
    """Scan and decode every file of `root`; the report, or a DatasetError saying what to fix.

    Used in notebook 08, section 1.
    """
    root = Path(root).expanduser()
    scan = scan_folder(root, split_dirs)  # missing path, no class folders, one class: DatasetError
    skipped = list(scan.report.skipped)
    counts: dict[str, dict[str, int]] = {role: {} for role in scan.files}
    by_digest: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    sizes = []
    places = [(role, c, p) for role, per in scan.files.items() for c, paths in per.items() for p in paths]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        inspected = progress.bar(pool.map(lambda t: _inspect(t[2]), places), total=len(places), desc="checking images",
                                 unit="file")
        for (role, c, p), (found, digest) in zip(places, inspected):
            if not found.ok:
                skipped.append((str(p), found.reason))
                continue
            counts[role][c] = counts[role].get(c, 0) + 1
            by_digest[digest].append((role, c, str(p)))
            sizes.append(found.size)
    duplicates = [g for g in by_digest.values() if len(g) > 1]
    report = FolderReport(root, scan.classes, counts, skipped, duplicates,
                          np.asarray(sizes, dtype=int).reshape(-1, 2))
    _raise_problems(report, len(places), min_per_class)
    _warn(report)
    return report


def _raise_problems(report: FolderReport, files: int, min_per_class: int) -> None:
    if not report.sizes.size:
        examples = "; ".join(f"{report._short(p)}: {why}" for p, why in report.skipped[:3])
        raise DatasetError(f"None of the {files} image files in {report.root} could be read ({examples}). "
                           "Check that they are photos (JPEG, PNG, ...) that open in an image viewer.")
    few = {c: n for c, n in report.per_class.items() if n < min_per_class}
    if few:
        listed = ", ".join(f"{c!r} has {n}" for c, n in few.items())
        raise DatasetError(
            f"{report.root}: too few usable images: {listed} (each class needs at least {min_per_class}). "
            "The course keeps 20% of each class for validation and 20% for test: with "
            f"{min_per_class} images a class gives {min_per_class - 2 * round(0.2 * min_per_class)} to train "
            f"on and {round(0.2 * min_per_class)} to each check; with fewer, one image decides a class's "
            "accuracy. Add photos to those classes (or remove the classes).")
    for role, per in report.counts.items():
        empty = [c for c in report.classes if not per.get(c)]
        if empty:
            raise DatasetError(f"{report.root / role}: no readable image of {', '.join(map(repr, empty))}. "
                               f"Every class needs at least one image in {role}/: add some.")


def _warn(report: FolderReport) -> None:
    if report.balance > BALANCE_WARNING:
        n = report.per_class
        big, small = max(n, key=n.get), min(n, key=n.get)
        report.warnings.append(
            f"classes are unbalanced: {big!r} has {n[big]} images, {small!r} {n[small]} "
            f"({report.balance:.1f}x, over {BALANCE_WARNING:g}x). Accuracy then mostly measures the large "
            "classes: read the per-class report, and add photos of the small classes if you can.")
    if report.duplicates_across("class"):
        report.warnings.append(
            f"{len(report.duplicates_across('class'))} photo(s) are in two classes at once: the model is "
            "taught two answers for one image. Keep each in its one right class.")
    if report.duplicates_across("split"):
        report.warnings.append(
            f"{len(report.duplicates_across('split'))} photo(s) are in two split folders: a test image also "
            "seen in training makes the test score too good. Delete the copies from val/ or test/.")


def across_splits(dataset) -> list[list[tuple[str, str]]]:
    """Groups of files with equal bytes that sit in two splits of `dataset` (a splits.Dataset).

    Each group lists (split, path). Such a photo, seen in training and counted in the test,
    makes the test score too good; the run prints how many there are.

    Used in notebook 08, section 1.
    """
    by_digest: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for role, split in dataset.splits().items():
        for p in split.paths:
            by_digest[file_digest(p)].append((role, p))
    return [g for g in by_digest.values() if len({role for role, _ in g}) > 1]


NEAR = 3  # bits (of 64) two difference hashes may differ by for the same photo resized or re-encoded


def near_across_splits(dataset, hashes: dict[str, int], max_distance: int = NEAR) -> list[list[tuple[str, str]]]:
    """Groups of files in two splits of `dataset` whose pictures are the same or nearly (resized, re-encoded).

    `hashes`: file -> ``images.dhash`` (``split_folders.hashes`` of the run's split folders). Each
    group lists (split, path), first by split order. Pairs are found through 4 bands of 16 bits:
    two hashes within 3 bits of each other agree exactly on at least one band.
    """
    role_of = {str(p): role for role, split in dataset.splits().items() for p in split.paths}
    files = [f for f in role_of if f in hashes]
    buckets: dict[tuple[int, int], list[str]] = defaultdict(list)
    for f in files:
        for band in range(4):
            buckets[band, (hashes[f] >> (16 * band)) & 0xFFFF].append(f)
    parent = {f: f for f in files}

    def root(f: str) -> str:
        while parent[f] != f:
            parent[f] = parent[parent[f]]
            f = parent[f]
        return f

    for members in buckets.values():
        # A band shared by hundreds of files is a flat one (blank skies, plain backgrounds): the
        # other three bands still pair real copies.
        if len(members) > 500 or len({role_of[f] for f in members}) < 2:
            continue
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                if role_of[a] != role_of[b] and (hashes[a] ^ hashes[b]).bit_count() <= max_distance:
                    parent[root(a)] = root(b)
    groups: dict[str, list[str]] = defaultdict(list)
    for f in files:
        groups[root(f)].append(f)
    order = {role: i for i, role in enumerate(dataset.splits())}
    return [sorted(((role_of[f], f) for f in g), key=lambda rf: (order[rf[0]], rf[1]))
            for g in groups.values() if len({role_of[f] for f in g}) > 1]
