"""Datasets: a registry of named datasets, any folder of class sub-folders, and splits.

The public face of the data modules, which notebooks use as ``data.<name>``:

- ``REGISTRY`` names the datasets the course knows: ``cats_vs_dogs`` and ``flowers``
  (downloaded with a checksum and a progress bar), ``cifar10`` (Keras' download, written out
  once as class folders by the ``cifar10`` module) and ``shapes`` (generated on this
  machine, deterministically: the offline default, used by CI).
- ``load(name)`` / ``load_folder(path)`` scan the images, split them into train /
  validation / test once and deterministically, and skip or convert bad files, listing
  them in ``Dataset.summary()``. The test split is for the final evaluation only.
- ``to_dataset(split, ...)`` turns a split into a batched, cached, prefetched tf.data pipeline.

The work is done by modules with one concern each (plumbing first):
``errors``, ``images`` (decoding one file), ``folders`` (scanning a folder), ``splits``
(deterministic splits, ``Dataset``), ``generated`` (the shapes dataset), ``downloads``
(download, verify, extract) and ``pipeline`` (tf.data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import cifar10, network, paths
from .downloads import download, extract_archive, file_digest, install_archive, verify_file
from .errors import ChecksumError, DatasetError, DownloadError
from .folders import SPLIT_DIR_NAMES, SPLITS, ScanReport, scan_folder
from .generated import (
    SHAPES_CLASSES,
    SHAPES_PER_CLASS,
    SHAPES_SEED,
    SHAPES_SIZE,
    generate_shapes,
    shapes_arrays,
    shapes_fingerprint,
)
from .images import (
    IMAGE_EXTENSIONS,
    MAX_PIXELS,
    ImageError,
    check_image,
    image_size,
    inspect_image,
    load_image,
    to_rgb,
)
from .pipeline import load_arrays, to_dataset
from .splits import DEFAULT_TEST_FRACTION, DEFAULT_VAL_FRACTION, Dataset, Split, load_folder

# Names other modules and the notebooks reach through ``data.``; kept here on purpose.
__all__ = [
    "ChecksumError", "DEFAULT_TEST_FRACTION", "DEFAULT_VAL_FRACTION", "Dataset", "DatasetError",
    "DatasetSpec", "DownloadError", "IMAGE_EXTENSIONS", "ImageError", "MAX_PIXELS", "REGISTRY",
    "SHAPES_CLASSES", "SHAPES_PER_CLASS", "SHAPES_SEED", "SHAPES_SIZE", "SPLITS",
    "SPLIT_DIR_NAMES", "ScanReport", "Split", "availability", "check_image", "dataset_root",
    "download", "extract_archive", "fetch", "file_digest", "generate_shapes", "image_size",
    "inspect_image", "is_present", "load", "load_arrays", "load_folder",
    "load_image", "scan_folder", "shapes_arrays", "shapes_fingerprint", "spec", "to_dataset",
    "to_rgb", "verify_file",
]


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset the course knows by name: where it comes from and how it is laid out."""

    name: str
    description: str
    url: str | None  # None: generated locally
    filename: str | None  # archive name in the cache
    size_bytes: int | None
    checksum: str | None  # "sha256:<hex>" or "md5:<hex>"; None: recorded on first download
    license: str
    root: str  # folder (inside the cache) that holds the class sub-folders or split folders
    # Which folder of the archive plays which split. Splits not given are carved from train.
    split_dirs: dict[str, str] = field(default_factory=dict)
    num_classes: int | None = None


REGISTRY: dict[str, DatasetSpec] = {
    "cats_vs_dogs": DatasetSpec(
        name="cats_vs_dogs",
        description="Cats vs dogs, the 'filtered' subset: 2,000 train and 1,000 validation JPEGs",
        url="https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip",
        filename="cats_and_dogs_filtered.zip",
        size_bytes=68_606_236,
        checksum=None,  # see data/README.md: recorded on the first verified download
        license="Subset of the Kaggle/Microsoft Asirra 'Dogs vs. Cats' data; research use",
        root="cats_and_dogs_filtered",
        # The archive's validation/ folder is our held-out TEST split; validation is carved
        # from train, so the test images never take part in model selection.
        split_dirs={"train": "train", "test": "validation"},
        num_classes=2,
    ),
    "flowers": DatasetSpec(
        name="flowers",
        description="TensorFlow flower photos: 3,670 JPEGs of 5 classes",
        url="https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz",
        filename="flower_photos.tgz",
        size_bytes=228_813_984,
        checksum="sha256:4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c",
        license="CC-BY 2.0 (photographers credited in LICENSE.txt inside the archive)",
        root="flower_photos",
        num_classes=5,
    ),
    "shapes": DatasetSpec(
        name="shapes",
        description="Synthetic coloured circles, squares and triangles on noisy backgrounds "
        "(generated here, deterministically; the offline default)",
        url=None,
        filename=None,
        size_bytes=None,
        checksum=None,
        license="CC0 (generated by course_utils.data.generate_shapes)",
        root="shapes",
        num_classes=3,
    ),
    "cifar10": DatasetSpec(
        name="cifar10",
        description="CIFAR-10: 50,000 train and 10,000 test images, 32×32, 10 classes "
        "(Keras' download, written out once as PNG class folders)",
        url=cifar10.URL,
        filename=None,  # Keras keeps the archive in its own cache (~/.keras/datasets)
        size_bytes=170_498_071,
        checksum=f"sha256:{cifar10.SHA256}",  # checked by keras.datasets.cifar10.load_data()
        license="CIFAR-10 (Krizhevsky, 2009), freely used for research and teaching",
        root="cifar10",
        split_dirs={"train": "train", "test": "test"},  # the official test set is our test split
        num_classes=10,
    ),
}


def spec(name: str) -> DatasetSpec:
    """The registry entry for `name`; a clear error lists the known datasets.

    Used in notebook 08, section 1.
    """
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"Unknown dataset {name!r}. Known datasets: {', '.join(REGISTRY)}; "
            "for your own images use load_folder(path) (a folder of class sub-folders)."
        ) from None


def dataset_root(name: str) -> Path:
    """Where the dataset's images live (or will live) in the cache."""
    return paths.cache_dir() / spec(name).root


def is_present(name: str) -> bool:
    """True when the dataset is already on disk, complete.

    Used in notebook 04, section 9.
    """
    return (dataset_root(name) / ".complete").exists()


@dataclass(frozen=True)
class Availability:
    name: str
    present: bool
    downloadable: bool
    where: Path

    @property
    def available(self) -> bool:
        return self.present or self.downloadable


def availability(name: str) -> Availability:
    """Whether the dataset is on disk, or can be fetched (generated, or its host reachable).

    Used in notebook 00, section 4.
    """
    s = spec(name)
    present = is_present(name)
    downloadable = s.url is None or (not present and network.can_reach(s.url))
    return Availability(name, present, downloadable, dataset_root(name))


def fetch(name: str, *, progress: bool = True, timeout: float = 60.0) -> Path:
    """Make the dataset present (download + verify + extract, or generate); returns its root."""
    s = spec(name)
    root = dataset_root(name)
    if is_present(name):
        return root
    if s.url is None:
        return generate_shapes(root)
    if name == "cifar10":  # Keras downloads it as arrays: written out as class folders
        return cifar10.fetch(root)
    return install_archive(name, s.url, s.filename, s.root, root, checksum=s.checksum,
                           size=s.size_bytes, progress=progress, timeout=timeout)


def load(
    name: str = "shapes",
    *,
    path: Path | str | None = None,
    profile=None,
    seed: int = 0,
    fetch_if_missing: bool = True,
    progress: bool = False,
    **kwargs,
) -> Dataset:
    """Load a registered dataset (fetching it when allowed) or, with name='folder', any folder.

    `profile` (a profiles.Profile) caps the images per class; explicit keyword arguments
    (images_per_class, eval_images_per_class, ...) win over it.

    Used in notebook 00, section 6.
    """
    if profile is not None:
        kwargs.setdefault("images_per_class", profile.images_per_class)
        kwargs.setdefault("eval_images_per_class", profile.eval_images_per_class)
        for key in ("val_images", "test_images", "val_fraction", "test_fraction"):
            kwargs.setdefault(key, getattr(profile, key))
    if name == "folder":
        if path is None:
            raise ValueError("load('folder') needs path=, the folder of class sub-folders.")
        return load_folder(path, seed=seed, **kwargs)
    s = spec(name)
    if not is_present(name):
        if not fetch_if_missing:
            raise DatasetError(f"Dataset {name!r} is not present at {dataset_root(name)}.")
        fetch(name, progress=progress)
    return load_folder(dataset_root(name), name=name, seed=seed,
                       split_dirs=s.split_dirs or None, **kwargs)

