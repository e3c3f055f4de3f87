"""Pascal VOC 2007 as a multi-label image dataset: download, XML annotations to multi-hot.

Article 003's example, for learners with internet: ``voc.fetch()`` downloads the official
trainval and test archives (MD5-checked, progress bar, atomic; see data/README.md) into the
cache, and ``voc.load(...)`` reads each image's XML annotation into a multi-hot vector over
the 20 classes. Our train and validation splits are carved from VOC's ``trainval`` list
(deterministically), our test split is VOC's own ``test`` list.

**Difficult objects.** VOC marks objects that are hard to recognise (tiny, heavily
occluded) with ``<difficult>1</difficult>``. The official classification evaluation ignores
an image for a class whose only objects of that class are difficult: neither a positive nor
a negative. ``multi_hot(..., difficult="ignore")`` (the default) writes -1 there, which the
metrics in ``course_utils.multilabel`` leave out; ``difficult="positive"`` counts them as
present (the object *is* in the picture) and ``"negative"`` as absent. For training,
``training_targets`` turns -1 into the policy you choose.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import data, paths
from .downloads import install_archive
from .integrity import is_complete
from .multilabel import MultiLabelData

CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
           "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
           "train", "tvmonitor")
_HOST = "http://host.robots.ox.ac.uk/pascal/VOC/voc2007/"
MEMBER = "VOCdevkit/VOC2007"  # the folder both archives extract into
SPEC = data.DatasetSpec(
    name="voc2007",
    description="Pascal VOC 2007: 5,011 trainval + 4,952 test photos, 20 classes, several per image",
    url=_HOST + "VOCtrainval_06-Nov-2007.tar",
    filename="VOCtrainval_06-Nov-2007.tar",
    size_bytes=None,  # verified by its MD5 instead (the hash torchvision checks)
    checksum="md5:c52e279531787c972589f7e41ab4ae64",
    license="Flickr photos under their owners' terms; annotations for research (PASCAL VOC licence)",
    root="voc2007",
    num_classes=20,
)
TEST_ARCHIVE = (_HOST + "VOCtest_06-Nov-2007.tar", "VOCtest_06-Nov-2007.tar", "md5:b6e924de25625d8de591ea690078ad9f")
DIFFICULT = ("ignore", "positive", "negative")


@dataclass(frozen=True)
class Annotation:
    """One VOC annotation file: the image's file name and its objects as (class, difficult)."""

    filename: str
    objects: tuple[tuple[str, bool], ...]


def parse_annotation(xml: str | Path) -> Annotation:
    """Read a VOC XML annotation (a path, or the XML text itself)."""
    text = Path(xml).read_text() if isinstance(xml, Path) or not str(xml).lstrip().startswith("<") else str(xml)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        raise data.DatasetError(f"Not a readable VOC annotation ({err}): re-extract the archive.") from err
    objects = []
    for obj in root.iter("object"):
        name = (obj.findtext("name") or "").strip()
        difficult = (obj.findtext("difficult") or "0").strip() == "1"
        objects.append((name, difficult))
    return Annotation((root.findtext("filename") or "").strip(), tuple(objects))


def multi_hot(objects: Sequence[tuple[str, bool]], classes: Sequence[str] = CLASSES,
              difficult: str = "ignore") -> np.ndarray:
    """The multi-hot vector of an image's objects: 1 present, 0 absent, -1 ignored (difficult only)."""
    if difficult not in DIFFICULT:
        raise ValueError(f"difficult must be one of {DIFFICULT}, not {difficult!r}.")
    index = {c: i for i, c in enumerate(classes)}
    y = np.zeros(len(classes), dtype=np.float32)
    only_difficult = np.zeros(len(classes), dtype=bool)
    for name, hard in objects:
        if name not in index:
            raise ValueError(f"Unknown class {name!r} in an annotation; the classes are {', '.join(classes)}.")
        k = index[name]
        if not hard:
            y[k], only_difficult[k] = 1.0, False
        elif y[k] != 1.0:
            only_difficult[k] = True
    if difficult == "positive":
        y[only_difficult] = 1.0
    elif difficult == "ignore":
        y[only_difficult] = -1.0
    return y


def training_targets(y: np.ndarray, ignored_as: float = 1.0) -> np.ndarray:
    """Targets for a loss, which needs 0/1: the ignored entries (-1) become `ignored_as`."""
    y = np.array(y, dtype=np.float32)
    y[y < 0] = ignored_as
    return y


def root() -> Path:
    """Where VOC 2007 lives in the cache: <cache>/voc2007/{trainval,test}/."""
    return paths.cache_dir() / SPEC.root


def is_present() -> bool:
    """True when both archives are downloaded and extracted."""
    return all(is_complete(root() / part) for part in ("trainval", "test"))


def fetch(progress: bool = True, timeout: float = 60.0) -> Path:
    """Download (MD5-checked) and extract both VOC 2007 archives once; returns the dataset root."""
    for part, (url, filename, checksum) in {"trainval": (SPEC.url, SPEC.filename, SPEC.checksum),
                                            "test": TEST_ARCHIVE}.items():
        if not is_complete(root() / part):
            install_archive(f"voc2007-{part}", url, filename, MEMBER, root() / part,
                            checksum=checksum, progress=progress, timeout=timeout)
    return root()


def _ids(folder: Path, image_set: str) -> list[str]:
    listing = folder / "ImageSets" / "Main" / f"{image_set}.txt"
    if not listing.exists():
        raise data.DatasetError(f"{listing} is missing: VOC 2007 is incomplete. Delete {folder} and run voc.fetch().")
    return [line.split()[0] for line in listing.read_text().splitlines() if line.strip()]


def read_split(folder: Path, image_set: str, difficult: str = "ignore") -> tuple[list[Path], np.ndarray]:
    """Image paths and multi-hot targets of one VOC image set ('trainval' or 'test')."""
    ids = _ids(folder, image_set)
    targets = np.stack([multi_hot(parse_annotation(folder / "Annotations" / f"{i}.xml").objects,
                                  difficult=difficult) for i in ids]) if ids else np.zeros((0, len(CLASSES)))
    return [folder / "JPEGImages" / f"{i}.jpg" for i in ids], targets


def load(image_size: int, *, per_split: dict[str, int | None] | None = None, seed: int = 0,
         val_fraction: float = 0.2, difficult: str = "ignore", fetch_if_missing: bool = True) -> MultiLabelData:
    """VOC 2007 as MultiLabelData: train/val carved from trainval, test from test; images resized.

    `per_split` caps each split (e.g. {"train": 400, "val": 200, "test": 200}: a subset a laptop
    CPU can run); None or a missing key means all its images.
    """
    if not is_present():
        if not fetch_if_missing:
            raise data.DatasetError(f"VOC 2007 is not present at {root()}: run voc.fetch() (needs internet).")
        fetch()
    per_split = per_split or {}
    rng = np.random.default_rng([seed, 2007])
    paths_tv, y_tv = read_split(root() / "trainval", "trainval", difficult)
    order = rng.permutation(len(paths_tv))
    n_val = int(round(len(order) * val_fraction))
    chosen = {"val": order[:n_val], "train": order[n_val:]}
    paths_test, y_test = read_split(root() / "test", "test", difficult)
    chosen["test"] = rng.permutation(len(paths_test))
    images, targets, sources = {}, {}, {}
    for role in ("train", "val", "test"):
        idx = chosen[role][: per_split.get(role)]
        files, y = (paths_test, y_test) if role == "test" else (paths_tv, y_tv)
        sources[role] = [str(files[i]) for i in idx]
        images[role] = np.stack([data.load_image(p, image_size) for p in sources[role]])
        targets[role] = y[idx]
    note = f"Pascal VOC 2007 at {root()}; difficult-only objects: {difficult}; seed {seed}"
    return MultiLabelData("voc2007", list(CLASSES), images, targets, sources, note)
