"""Scanning a folder of class sub-folders: which files may be images, and what was set aside.

A learner's folder is read, never written. Everything the scan does not use is listed in
the report with its reason: hidden and non-image files, broken links, a file reachable
twice (through a link it would land in two classes or two splits: it is used once),
folders beside the split folders, images outside any class folder. Images in nested
sub-folders of a class are used as that class and listed per sub-folder.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DatasetError
from .images import IMAGE_EXTENSIONS, UNSUPPORTED

__all__ = ["FolderScan", "ScanReport", "SPLITS", "scan_folder", "unpack_zip"]

SPLITS = ("train", "val", "test")
# Folder names accepted for each split when a dataset comes with its own split folders,
# compared in lower case (Train/ and VAL/ are split folders too, not classes).
SPLIT_DIR_NAMES = {
    "train": ("train", "training"),
    "val": ("val", "valid", "validation"),
    "test": ("test", "testing"),
}
# Folders that zip tools add and that are never a class.
_NOT_CLASSES = {"__MACOSX"}
SUMMARY_LINES = 30  # skipped files listed by ScanReport.summary(); the report keeps them all


def _few(names: list[str], n: int = 5) -> str:
    more = f" and {len(names) - n} more" if len(names) > n else ""
    return ", ".join(names[:n]) + more


@dataclass
class ScanReport:
    """What happened to the files: used, converted, rotated, animated, nested, skipped (why)."""

    used: int = 0
    converted: Counter = field(default_factory=Counter)  # original mode -> count
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    rotated: int = 0  # images turned upright by their EXIF orientation tag
    animated: list[str] = field(default_factory=list)  # several frames: the first is used
    nested: Counter = field(default_factory=Counter)  # nested sub-folder -> image files used
    root: Path | None = None  # paths in the summary are shown relative to it

    def skip(self, path: Path | str, reason: str) -> None:
        self.skipped.append((str(path), reason))

    def short(self, path: Path | str) -> str:
        """`path` relative to the scanned folder, when it is inside it."""
        if self.root is not None:
            try:
                return str(Path(path).relative_to(self.root))
            except ValueError:
                pass
        return str(path)

    def summary(self) -> str:
        conv = ", ".join(f"{n} from {m}" for m, n in sorted(self.converted.items())) or "none"
        lines = [f"{self.used} images used; converted to RGB: {conv}; skipped: {len(self.skipped)}"]
        if self.rotated:
            lines.append(f"turned upright by their EXIF orientation: {self.rotated}")
        if self.animated:
            # Pillow also opens a phone's photo with a second picture (depth, HDR gain map)
            # as two frames: the first is the photo.
            names = _few([self.short(p) for p in self.animated])
            lines.append(f"several frames (an animation, pages, or a phone's extra picture), "
                         f"first frame used: {len(self.animated)} ({names})")
        if self.nested:
            where = _few([f"{self.short(d)}/ ({n} file{'s' * (n != 1)})"
                          for d, n in sorted(self.nested.items())])
            lines.append(f"nested sub-folders, included as their class: {where}")
        for path, reason in self.skipped[:SUMMARY_LINES]:
            lines.append(f"  skipped {self.short(path)}: {reason}")
        if len(self.skipped) > SUMMARY_LINES:
            lines.append(f"  ... and {len(self.skipped) - SUMMARY_LINES} more (report.skipped)")
        return "\n".join(lines)


@dataclass
class FolderScan:
    """The classes of a folder and, per split folder ("all" when flat), each class's files."""

    root: Path
    classes: list[str]
    folders: dict[str, Path]  # role ("train", "val", "test" or "all") -> its folder
    files: dict[str, dict[str, list[Path]]]  # role -> class -> candidate image files
    report: ScanReport


def _visible_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _class_files(class_dir: Path, report: ScanReport) -> list[Path]:
    """Candidate images of a class folder, nested sub-folders included; the rest is reported."""
    files: list[Path] = []

    def visit(folder: Path, above: frozenset[Path]) -> None:
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith("."):
                hidden = "hidden folder, not searched" if entry.is_dir() else "hidden file"
                report.skip(entry, hidden)
            elif entry.is_symlink() and not entry.exists():
                report.skip(entry, f"broken link (to {os.readlink(entry)})")
            elif entry.is_dir():
                real = entry.resolve()
                if real in above:  # a link to a folder above it would loop for ever
                    report.skip(entry, f"link to a folder above it ({real}), not followed")
                else:
                    visit(entry, above | {real})
            elif not entry.is_file():
                report.skip(entry, "not a regular file")
            elif entry.suffix.lower() in UNSUPPORTED:
                report.skip(entry, UNSUPPORTED[entry.suffix.lower()])
            elif entry.suffix.lower() not in IMAGE_EXTENSIONS:
                report.skip(entry, f"not an image file (extension {entry.suffix or 'none'})")
            else:
                if folder != class_dir:
                    report.nested[str(folder)] += 1
                files.append(entry)

    visit(class_dir, frozenset({class_dir.resolve()}))
    return files


def _skip_strays(folder: Path, report: ScanReport, keep: list[Path]) -> None:
    """Report what sits beside the class (or split) folders: it is not used."""
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry in keep:
            continue
        if entry.is_symlink() and not entry.exists():  # a class folder on an unplugged disk?
            report.skip(entry, f"broken link (to {os.readlink(entry)})")
        elif entry.is_dir():
            reason = ("not a class folder (zip metadata)" if entry.name in _NOT_CLASSES else
                      "folder beside the split folders, not used: class folders go inside "
                      "train/, val/ and test/")
            report.skip(entry, reason)
        elif entry.suffix.lower() in IMAGE_EXTENSIONS:
            report.skip(entry, "image outside any class folder, not used: move it into the "
                               "folder of its class")
        # Other files here (README, LICENSE.txt, a script) are not candidates: nothing to say.


def _find_split_dirs(root: Path) -> dict[str, Path]:
    """Split folders of `root`, names matched in lower case; {} for a flat folder."""
    found: dict[str, list[Path]] = defaultdict(list)
    for d in _visible_dirs(root):
        for split, names in SPLIT_DIR_NAMES.items():
            if d.name.lower() in names:
                found[split].append(d)
    # A folder named like a split that holds images, not class folders, is a class ("train" the
    # locomotive, "test" the cricket match): with no real split folder beside it the folder is flat.
    as_classes = [d for dirs in found.values() for d in dirs if not _holds_classes(d)]
    if as_classes and len(as_classes) == sum(len(dirs) for dirs in found.values()):
        return {}
    if as_classes:
        names = ", ".join(f"{d.name}/" for d in as_classes)
        raise DatasetError(
            f"{root}: {names} holds images, not class folders, but its name is a split folder's name and "
            f"other split folders sit beside it. If it is a class, rename it (e.g. {as_classes[0].name}_class/) "
            f"and put it inside each split folder; if it is a split folder, put its images in class sub-folders.")
    for split, dirs in found.items():
        if len(dirs) > 1:
            raise DatasetError(
                f"{root} has {len(dirs)} folders for the {split} split "
                f"({', '.join(d.name for d in dirs)}): keep one, merge or rename the others."
            )
    if found and "train" not in found:
        names = ", ".join(f"{d[0].name}/" for d in found.values())
        raise DatasetError(
            f"{root} has split folders ({names}) but no training folder beside them. Add "
            f"{root}/train/ with one sub-folder per class, or rename the folder that is one."
        )
    return {s: found[s][0] for s in SPLITS if s in found}


def _holds_classes(folder: Path) -> bool:
    """True when `folder` holds at least one visible sub-folder (class folders, for a split folder)."""
    return any(d.name not in _NOT_CLASSES for d in _visible_dirs(folder))


def _check_path(root: Path) -> None:
    if root.is_file():
        hint = " It looks like an archive: extract it first." if root.suffix.lower() in {
            ".zip", ".tar", ".tgz", ".gz"} else ""
        raise DatasetError(
            f"{root} is a file, not a folder. Give the folder that holds one sub-folder per "
            f"class (perhaps {root.parent}).{hint}"
        )
    if not root.is_dir():
        raise DatasetError(
            f"Dataset folder not found: {root}. Check the path, or fetch the dataset first "
            "(make fetch, or course_utils.data.fetch(name))."
        )


def _drop_repeats(files: dict[str, dict[str, list[Path]]], report: ScanReport) -> None:
    """A file reachable twice (a link, a hard link) is used once; the others are reported.

    Without this a link in bees/ to a photo in ants/ puts one photo in two classes, and
    possibly in train and in test: a leak that makes the test score a lie.
    """
    places: dict[object, list[tuple[str, str, Path]]] = defaultdict(list)
    for role, per_class in files.items():
        for cname, paths in per_class.items():
            for p in paths:
                st = p.stat()
                # Some network file systems report inode 0 for every file: use the real path.
                key = (st.st_dev, st.st_ino) if st.st_ino else os.path.realpath(p)
                places[key].append((role, cname, p))
    dropped: set[Path] = set()
    for group in places.values():
        if len(group) < 2:
            continue
        # Keep the file itself rather than a link to it; otherwise the first in scan order.
        keep = next((g for g in group if not g[2].is_symlink()), group[0])
        where = f"class {keep[1]!r}" + (f" of {keep[0]}" if keep[0] != "all" else "")
        for g in group:
            if g is not keep:
                dropped.add(g[2])
                report.skip(g[2], f"the same file as {report.short(keep[2])} (through a link): "
                                  f"used once, as {where}")
    if dropped:
        for per_class in files.values():
            for cname in per_class:
                per_class[cname] = [p for p in per_class[cname] if p not in dropped]


def scan_folder(root: Path | str, split_dirs: dict[str, str] | None = None) -> FolderScan:
    """Find the classes and candidate files of a folder; DatasetError names what is wrong.

    The folder holds class sub-folders (``root/cat/*.jpg``), or split folders that hold
    class sub-folders (``root/train/cat``, ``root/val/cat``, optionally ``root/test/cat``).
    """
    root = Path(root)
    _check_path(root)
    report = ScanReport(root=root)
    if split_dirs:
        folders = {role: root / sub for role, sub in split_dirs.items()}
    else:
        folders = _find_split_dirs(root) or {"all": root}
    if "all" not in folders:
        _skip_strays(root, report, keep=list(folders.values()))
    files: dict[str, dict[str, list[Path]]] = {}
    for role, folder in folders.items():
        if not folder.is_dir():
            raise DatasetError(f"Split folder {folder} is missing.")
        class_dirs = [d for d in _visible_dirs(folder) if d.name not in _NOT_CLASSES]
        _skip_strays(folder, report, keep=class_dirs)
        if not class_dirs:
            raise DatasetError(
                f"No class sub-folders in {folder}. Expected one folder per class, e.g. "
                f"{folder}/cat/*.jpg and {folder}/dog/*.jpg."
            )
        files[role] = {}
        for cdir in class_dirs:
            before = len(report.skipped)
            found = _class_files(cdir, report)
            if not found:
                set_aside = report.skipped[before:]
                why = "".join(f" {Path(p).name}: {reason}." for p, reason in set_aside[:3])
                more = f" ({len(set_aside)} files set aside, e.g.{why})" if set_aside else ""
                raise DatasetError(
                    f"Class folder {cdir} holds no image files the course can read{more} Add images "
                    "(JPEG, PNG, ...) or remove the folder."
                )
            files[role][cdir.name] = found
    classes = _same_classes(folders, files)
    if len(classes) < 2:
        raise DatasetError(
            f"{folders[next(iter(folders))]} has one class folder ({classes[0]}/): a classifier "
            "needs at least two. Add a folder per class beside it; if it holds the class "
            "folders itself, give that folder instead."
        )
    _drop_repeats(files, report)
    for role, per_class in files.items():
        for cname, paths in per_class.items():
            if not paths:
                raise DatasetError(
                    f"Class folder {folders[role] / cname} holds only links to images used "
                    "elsewhere (see the report). Copy its own images in, or remove the folder."
                )
    return FolderScan(root, classes, folders, files, report)


def _same_classes(folders: dict[str, Path], files: dict[str, dict[str, list[Path]]]) -> list[str]:
    """The class names, which every split folder must share; DatasetError otherwise."""
    roles = list(files)
    reference = list(files[roles[0]])
    for role in roles[1:]:
        names = list(files[role])
        if names != reference:
            raise DatasetError(
                f"Class folders differ between {folders[roles[0]]} ({', '.join(reference)}) "
                f"and {folders[role]} ({', '.join(names)}): "
                f"only in the first: {sorted(set(reference) - set(names)) or 'none'}, "
                f"only in the second: {sorted(set(names) - set(reference)) or 'none'}."
            )
    return reference


def unpack_zip(archive: Path | str) -> Path:
    """A zip of class folders (``photos.zip``) unpacked once beside it (``photos/``); returns that folder.

    Used in notebook 08, section 1, for ``DATA_FOLDER`` on Colab, where photos arrive as an uploaded zip. A zip
    whose only entry is one folder (what "compress" makes of ``photos/``) gives that folder's
    content. Safe: a member that would land outside the folder refuses the whole zip
    (``downloads.extract_archive``), and it is unpacked into a temporary folder first, then
    renamed, so a failure leaves nothing half-written. Nothing the learner has is overwritten: an
    existing ``photos/`` is used as it is when this function unpacked it from the same zip before
    (a note beside it, ``.photos.unpacked-from``, says so), and is otherwise refused with a
    DatasetError naming it.
    """
    import hashlib
    import shutil
    import tempfile

    from .downloads import extract_archive

    archive = Path(archive).expanduser()
    if not archive.is_file():
        raise DatasetError(f"DATA_FOLDER {archive} does not exist: give a folder of class sub-folders or a "
                           ".zip of one (on Colab: upload it with the Files pane, then give its path).")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    target = archive.with_suffix("")
    note = archive.parent / f".{target.name}.unpacked-from"
    if target.exists():
        if note.is_file() and note.read_text().split() == [archive.name, digest]:
            return target
        raise DatasetError(f"{target} already exists and was not unpacked from {archive.name}: it is left as it is. "
                           f"Rename the zip (or that folder), or set DATA_FOLDER to {target} to use the folder.")
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=archive.parent))
    try:
        extract_archive(archive, scratch)
        entries = [e for e in scratch.iterdir() if e.name not in _NOT_CLASSES and not e.name.startswith(".")]
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() else scratch
        root.rename(target)
        note.write_text(f"{archive.name} {digest}\n")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target
