"""Deterministic train / validation / test splits of a scanned folder, and the Dataset.

Split folders on disk are used as they are; missing ones are carved from the training
files, per class. Every class must reach every split with at least one readable image, or
the error names the class and how many images it needs. The test split is for the final
evaluation only, never for model selection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import DatasetError
from .folders import SPLITS, FolderScan, ScanReport, scan_folder
from .images import check_image

DEFAULT_VAL_FRACTION = 0.2
DEFAULT_TEST_FRACTION = 0.2


@dataclass(frozen=True)
class Split:
    """One split: image paths and integer labels, in a fixed order."""

    paths: tuple[str, ...]
    labels: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.paths)

    def counts(self, num_classes: int) -> list[int]:
        """The number of images of each class."""
        return np.bincount(np.asarray(self.labels, dtype=int), minlength=num_classes).tolist()


@dataclass
class Dataset:
    """A split dataset: class names, train/val/test splits and the report of skipped files."""

    name: str
    root: Path
    class_names: list[str]
    train: Split
    val: Split
    test: Split
    report: ScanReport
    seed: int
    sources: dict[str, str] = field(default_factory=dict)  # split -> where it came from

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def splits(self) -> dict[str, Split]:
        """The three splits by name."""
        return {"train": self.train, "val": self.val, "test": self.test}

    def fingerprint(self) -> str:
        """A short hash of which file is in which split, and of each file's size and age.

        Equal fingerprints, equal splits of the same files: a photo edited in place, or another
        folder with the same file names, gives another fingerprint (saved models and cached
        split folders are then not reused).
        """
        h = hashlib.sha256()
        for role, split in self.splits().items():
            for p, y in zip(split.paths, split.labels):
                st = Path(p).stat()
                name = Path(p).relative_to(self.root)
                h.update(f"{role}\t{name}\t{y}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
        return h.hexdigest()[:12]

    def summary(self) -> str:
        """Classes, split sizes and where each split came from, then the file report."""
        lines = [f"dataset {self.name!r} at {self.root}", f"classes: {', '.join(self.class_names)}"]
        for role, split in self.splits().items():
            source = f"  <- {self.sources[role]}" if role in self.sources else ""
            lines.append(f"{role:>5}: {len(split):5d} images  per class "
                         f"{split.counts(self.num_classes)}{source}")
        lines.append(f"split fingerprint: {self.fingerprint()} (seed {self.seed})")
        lines.append(self.report.summary())
        return "\n".join(lines)


def _permute(files: Sequence[Path], seed: int, class_index: int, role: str) -> list[Path]:
    order = sorted(files)
    salt = int.from_bytes(hashlib.sha256(role.encode()).digest()[:4], "little")
    rng = np.random.default_rng([seed, class_index, salt])
    return [order[i] for i in rng.permutation(len(order))]


def _take_valid(
    files: Iterable[Path], limit: int | None, report: ScanReport, workers: int = 4
) -> tuple[list[Path], list[tuple[str, str]]]:
    """The first `limit` usable images of `files` (all when None), in order, and the bad ones.

    Bad files met on the way are skipped and reported; files beyond what is needed are not
    opened at all, so a small profile stays fast on a big dataset.
    """
    files = list(files)
    kept: list[Path] = []
    bad: list[tuple[str, str]] = []
    pos = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while pos < len(files) and (limit is None or len(kept) < limit):
            want = len(files) - pos if limit is None else max(limit - len(kept), workers)
            batch = files[pos: pos + want]
            pos += len(batch)
            for path, check in zip(batch, pool.map(check_image, batch)):
                if limit is not None and len(kept) >= limit:
                    break
                if not check.ok:
                    bad.append((str(path), check.reason))
                    report.skip(path, check.reason)
                    continue
                kept.append(path)
                if check.mode != "RGB":
                    report.converted[check.mode] += 1
                if check.orientation != 1:
                    report.rotated += 1
                if check.frames > 1:
                    report.animated.append(str(path))
    return kept, bad


def _sources(scan: FolderScan, carve: list[str], fractions: dict[str, float]) -> dict[str, str]:
    """Where each split comes from, in words, for the summary and the error messages."""
    base = scan.folders.get("train", scan.root)
    base_name = f"{base.name}/"
    sources = {s: f"folder {scan.folders[s].name}/" for s in SPLITS if s in scan.folders}
    for s in carve:
        sources[s] = f"carved from {base_name} ({fractions[s]:.0%} per class)"
    sources["train"] = f"folder {base_name}" + (
        f" less what was carved for {' and '.join(carve)}" if carve else "")
    return sources


def _examples(bad: list[tuple[str, str]], report: ScanReport, n: int = 2) -> str:
    return "; ".join(f"{report.short(p)}: {why}" for p, why in bad[:n])


def _class_problems(cname: str, taken: dict[str, tuple[int, int, list]], n_base: int,
                    carve: list[str], sources: dict[str, str], report: ScanReport) -> list[str]:
    """Why class `cname` is missing from a split (one line), or [] when it is in every split."""
    if all(kept == 0 for _, kept, _ in taken.values()):
        files = sum(n for n, _, _ in taken.values())
        bad = [b for _, _, bs in taken.values() for b in bs]
        return [f"Class {cname!r}: none of its {files} image files could be read "
                f"(e.g. {_examples(bad, report)}). Replace them with readable images, or "
                "remove the class folder."]
    for s in SPLITS:
        n, kept, bad = taken[s]
        if kept:
            continue
        if n == 0:  # too few files to give one to each carved split and keep one to train on
            need = len(carve) + 1
            return [f"Class {cname!r} has {n_base} image file(s): too few for one in train and "
                    f"one in each split carved from them ({', '.join(carve)}). Each class needs "
                    f"at least {need}: add {need - n_base} more."]
        return [f"Class {cname!r} has no readable image in the {s} split ({sources[s]}): its "
                f"{n} file(s) there could not be read (e.g. {_examples(bad, report)}). "
                f"Replace them, or add more images of {cname}."]
    return []


def _cap(per_class: int | None, total: int | None, classes: int) -> int | None:
    """The per-class cap of a validation or test split: the smaller of the two asked for."""
    from_total = None if total is None else -(-total // classes)  # ceil: at least `total` in all
    given = [c for c in (per_class, from_total) if c is not None]
    return min(given) if given else None


def load_folder(
    root: Path | str,
    *,
    name: str | None = None,
    images_per_class: int | None = None,
    eval_images_per_class: int | None = None,
    val_images: int | None = None,
    test_images: int | None = None,
    val_fraction: float = DEFAULT_VAL_FRACTION,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    seed: int = 0,
    split_dirs: dict[str, str] | None = None,
) -> Dataset:
    """Split a folder of class sub-folders into train / val / test, deterministically.

    Split folders present on disk are used as they are; missing ones are carved from the
    training files (val_fraction, test_fraction of each class). The same files and seed
    always give the same splits, and no file is in two splits. `images_per_class` caps the
    training split and `eval_images_per_class` the validation and test splits, per class.
    `val_images` and `test_images` ask for that many images in all, split evenly over the
    classes, from the carved pools (each its fraction of a class): caps only ever take a prefix
    of a pool, so an image is in the same split whatever the sizes asked for.
    """
    root = Path(root)
    scan = scan_folder(root, split_dirs)
    report = scan.report
    if not 0 <= val_fraction < 1 or not 0 <= test_fraction < 1 or val_fraction + test_fraction >= 1:
        raise ValueError("val_fraction and test_fraction must be in [0, 1) and sum to less than 1.")
    k = max(1, len(scan.classes))
    caps = {"train": images_per_class, "val": _cap(eval_images_per_class, val_images, k),
            "test": _cap(eval_images_per_class, test_images, k)}
    fractions = {"val": val_fraction, "test": test_fraction}
    base_role = "train" if "train" in scan.files else "all"
    carve = [s for s in ("test", "val") if s not in scan.files]
    sources = _sources(scan, carve, fractions)
    chosen: dict[str, list[tuple[Path, int]]] = {s: [] for s in SPLITS}
    problems: list[str] = []
    all_bad: list[tuple[str, str]] = []
    for ci, cname in enumerate(scan.classes):
        pools = {s: _permute(scan.files[s][cname], seed, ci, s) for s in SPLITS if s in scan.files}
        base = _permute(scan.files[base_role][cname], seed, ci, base_role)
        start = 0
        for s in carve:
            # At least one file for each carved split, as long as one is left to train on.
            n = max(1, round(len(base) * fractions[s])) if len(base) > len(carve) else 0
            pools[s] = base[start: start + n]
            start += n
        pools["train"] = base[start:]
        taken = {}
        for s in SPLITS:
            kept, bad = _take_valid(pools[s], caps[s], report)
            chosen[s] += [(p, ci) for p in kept]
            taken[s] = (len(pools[s]), len(kept), bad)
            all_bad += bad
        if all(caps[s] != 0 for s in SPLITS):
            problems += _class_problems(cname, taken, len(base), carve, sources, report)
    if not any(chosen.values()):
        raise DatasetError(
            f"None of the {len(all_bad)} image files in {root} could be read "
            f"(e.g. {_examples(all_bad, report, 3)}). Check that they are photos (JPEG, PNG, ...) "
            "that open in an image viewer."
        )
    if problems:
        raise DatasetError(f"{root} cannot be split so that every class is in every split:\n"
                           + "\n".join(problems))
    report.used = sum(len(v) for v in chosen.values())
    split_objs = {
        s: Split(tuple(str(p) for p, _ in chosen[s]), tuple(int(y) for _, y in chosen[s]))
        for s in SPLITS
    }
    return Dataset(name or root.name, root, scan.classes, split_objs["train"], split_objs["val"],
                   split_objs["test"], report, seed, sources)
