"""One call at the top of a notebook resolves the whole run: ``run = runs.start(...)``.

It settles, once: the profile (``auto`` looks at what is on disk or downloadable), the
backbone and its weights (a file, or random), the dataset (a registered one, your folder, or
the generated shapes), the seed; it loads and splits the data, writes the split folders that
``keras.utils.image_dataset_from_directory`` reads, and prints one banner saying what the
run really uses and whether its numbers are results. ``run.pretrained`` is the single truth
for "are these numbers real?". Models saved by one notebook carry the run's provenance next
to them, so the next notebook reuses a model only when data, split, backbone and weights
match, and says which models it loaded or retrained, and why.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from . import (
    backbones,
    claims,
    data,
    env,
    features,
    folder_report,
    paths,
    profiles,
    split_folders,
    storage,
)
from .integrity import file_digest

__all__ = [
    "file_id", "Run", "start",
]


@dataclass
class Run:
    """What one notebook run uses. Build it with ``start``."""

    notebook: str
    resolved: profiles.Resolved
    backbone: backbones.Backbone
    weights: backbones.Weights
    data: data.Dataset
    data_origin: str  # "generated", "registered", "folder"
    seed: int
    split_dir: Path
    # groups of (split, file): the same picture (or a resized, re-encoded copy) in two splits
    duplicates: list = field(default_factory=list)

    # ------------------------------------------------------------------ what the run is
    @property
    def profile(self) -> profiles.Profile:
        return self.resolved.profile

    @property
    def image_size(self) -> int:
        return self.profile.image_size

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.image_size, self.image_size, 3)

    @property
    def pretrained(self) -> bool:
        """True when the base starts from pretrained weights (a weight file was loaded)."""
        return self.weights.pretrained

    @property
    def synthetic(self) -> bool:
        return self.data_origin == "generated"

    @property
    def models_dir(self) -> Path:
        return paths.outputs_dir() / "models"

    def describe(self) -> dict:
        """Profile, backbone and dataset: recorded with every claim of the run."""
        return {"profile": self.profile.name, "backbone": self.backbone.name, "dataset": self.data.name,
                "pretrained": self.pretrained, "image_size": self.image_size}

    def banner(self) -> str:
        """What this run uses, and what its numbers mean."""
        where = {"generated": "a synthetic dataset generated here (coloured shapes)",
                 "registered": f"the {self.data.name!r} photos", "folder": f"your folder {self.data.root}"}
        lines = [
            f"PROFILE = {self.profile.name!r} (asked for {self.resolved.requested!r}): {self.resolved.reason}",
            f"backbone: {self.backbone.title}; weights: {self.weights.describe()}",
            f"data: {where[self.data_origin]}, {self.data.num_classes} classes, "
            f"{len(self.data.train)} train / {len(self.data.val)} val / {len(self.data.test)} test images, "
            f"{self.image_size}×{self.image_size} px ({self.profile.reason()}); seed {self.seed}",
        ]
        if self.duplicates:
            shown = "; ".join(" ≈ ".join(f"{role}: {Path(p).name}" for role, p in g) for g in self.duplicates[:3])
            more = f" and {len(self.duplicates) - 3} more" if len(self.duplicates) > 3 else ""
            lines.append(f"WARNING: {len(self.duplicates)} picture(s) sit in two splits (the same photo, or a "
                         f"resized or re-encoded copy): {shown}{more} (run.duplicates lists them). A test "
                         "image also seen in training makes the test score too good: remove the extra copies.")
        if not self.pretrained:
            lines.append("*** Random weights: every number below checks that the code runs; none of them "
                         "is a result (claims about transfer are recorded as not checked). ***")
        elif self.synthetic:
            lines.append("Pretrained weights on synthetic shapes: the numbers are real, but about shapes, "
                         "not photos.")
        else:
            n_test = len(self.data.test)
            lines.append(f"Pretrained weights on real photos: the numbers below are results. Comparisons are "
                         f"judged on {n_test} test images: a single accuracy there is known to about "
                         f"±{2 * (0.25 / max(n_test, 1)) ** 0.5:.2f} at worst (twice its standard error at 50 %).")
        return "\n".join(lines) + env.binder_note()

    # ------------------------------------------------------------------ data
    def image_dataset(self, role: str, *, shuffle: bool = False, batch_size: int | None = None):
        """``keras.utils.image_dataset_from_directory`` on one split folder, prefetched.

        Written out in notebook 03, section 1; this is the same call for later cells.
        """
        import keras
        import tensorflow as tf

        ds = keras.utils.image_dataset_from_directory(
            self.split_dir / role, image_size=(self.image_size, self.image_size),
            batch_size=batch_size or self.profile.batch_size, shuffle=shuffle, seed=self.seed,
            verbose=False)
        return ds.prefetch(tf.data.AUTOTUNE)

    def other_dataset(self, name_or_folder: str, images_per_class: int | None = None):
        """Another dataset (a registered name or a folder) with this run's sizes: (Dataset, split folders).

        `images_per_class`: fewer training images than the profile's (and as many validation images per class).
        """
        caps = {} if images_per_class is None else {
            "images_per_class": min(images_per_class, self.profile.images_per_class or images_per_class),
            "eval_images_per_class": images_per_class}
        if Path(name_or_folder).expanduser().is_dir():
            ds = data.load("folder", path=Path(name_or_folder).expanduser(), profile=self.profile, seed=self.seed,
                           **caps)
        else:
            ds = data.load(name_or_folder, profile=self.profile, seed=self.seed, **caps)
        return ds, split_folders.write(ds, self.image_size)

    def build_base(self):
        """The backbone with this run's weights (the call written out in notebook 03, section 2)."""
        return self.backbone.build(self.weights.keras_argument, self.input_shape)

    # ------------------------------------------------------------------ saved models
    @functools.cached_property
    def _weights_id(self) -> str:
        return "random" if self.weights.path is None else file_id(self.weights.path)

    def provenance(self) -> dict:
        """What a model trained in this run depends on: data, split, backbone, weights, size."""
        return {"dataset": self.data.name, "root": str(Path(self.data.root).resolve()),
                "split": self.data.fingerprint(), "backbone": self.backbone.name,
                "weights": self._weights_id, "image_size": self.image_size, "pretrained": self.pretrained}

    def remember(self, path: Path | str, base=None) -> Path:
        """Write the run's provenance beside a model file just saved (``<name>.json``).

        `base`: for a head trained on features, the base that made them. Random weights differ
        from base to base, so their values are recorded too. The model file's own digest is
        recorded as well: a file changed or cut short since is never taken for this one.
        """
        path = Path(path)
        info = self.provenance()
        if base is not None and not self.pretrained:
            info["base"] = features.weights_fingerprint(base)
        info["model_sha256"] = data.file_digest(path)
        sidecar = path.with_suffix(".json")
        storage.write_text(sidecar, json.dumps(info, indent=2) + "\n")
        return sidecar

    def reusable(self, path: Path | str, base=None) -> tuple[bool, str]:
        """(True, why) when the model file was made by a run with this data, split, backbone and weights.

        The file must also be the one saved then (its digest, recorded by ``remember``) and a
        whole ``.keras`` archive. `base`: the base this notebook would feed the model's
        features from (see ``remember``).
        """
        path = Path(path)
        if not path.exists():
            return False, f"{path.name} not found (run the notebook that saves it first)"
        sidecar = path.with_suffix(".json")
        try:
            saved = json.loads(sidecar.read_text())
            if not isinstance(saved, dict):
                raise ValueError("not a provenance record")
        except (OSError, ValueError):
            return False, f"{path.name} has no readable provenance file {sidecar.name}"
        recorded = saved.get("model_sha256")
        if recorded is None:
            return False, f"{sidecar.name} records no digest of {path.name} (an older course version made it)"
        if data.file_digest(path) != recorded:
            return False, (f"{path.name} is not the file its provenance describes (changed, replaced or cut "
                           "short since it was saved)")
        if path.suffix == ".keras" and not _whole_archive(path):
            return False, f"{path.name} is not a whole .keras archive"
        now = self.provenance()
        if "base" in saved:
            now["base"] = features.weights_fingerprint(base) if base is not None else "unknown"
        differ = [k for k in now if saved.get(k) != now[k]]
        if differ:
            return False, (f"{path.name} was made with another " + ", ".join(
                f"{k} ({saved.get(k)!r}, now {now[k]!r})" for k in differ))
        return True, f"{path.name} was made with this run's data, split, backbone and weights"

    # ------------------------------------------------------------------ claims
    def claim(self, claim: str, a, b, *, kind: str = "beats", within: float | None = None, n: int | None = None,
              names: tuple[str, str] = ("A", "B"), pretrained: bool | None = None) -> claims.Claim:
        """Record a claim judged on this run's numbers (see ``claims.compare``)."""
        return claims.compare(self.notebook, claim, a, b, kind=kind, within=within, n=n, names=names,
                              run=self.describe(), pretrained=self.pretrained if pretrained is None else pretrained)


def _whole_archive(path: Path) -> bool:
    """True when `path` is a zip whose members all read back (a .keras file is one)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return z.testzip() is None
    except (OSError, zipfile.BadZipFile, EOFError):
        return False


def file_id(path: Path) -> str:
    """A short SHA-256 of a file (the identity of a weight file)."""
    return file_digest(path)[:16]


def _check_seed(seed) -> int:
    """SEED as an int from 0 to 2**32 - 1 (what NumPy and Keras accept); a clear error otherwise."""
    import numbers

    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= int(seed) < 2**32:
        raise ValueError(f"SEED={seed!r}: the seed must be a whole number from 0 to {2**32 - 1} "
                         "(for instance SEED = 0); another seed gives another split and other initial weights.")
    return int(seed)


def _choose_data(profile: profiles.Profile, dataset: str, folder: str):
    """(name or None, folder or None, origin) for the data the run uses."""
    if folder:
        return None, Path(folder).expanduser(), "folder"
    name = dataset or profile.dataset
    return name, None, "generated" if data.spec(name).url is None else "registered"


def start(notebook: str, profile: str | None = None, *, backbone: str = "", dataset: str = "",
          folder: str = "", weights: str = "", seed: int = 0, progress: bool = True) -> Run:
    """Resolve and load everything a notebook run uses; print its banner; return the Run.

    profile: 'auto' (default: $COURSE_PROFILE, else auto), 'smoke', 'fast' or 'full'.
    backbone: a name of ``backbones.REGISTRY``; empty: the profile's (``Profile.backbone``: MobileNet
    alpha 0.25, VGG16 in full), the profile then sized for it. dataset: a registered
    dataset (default: the profile's). folder: your folder of class sub-folders (wins over
    dataset). weights: '' (the profile's), 'imagenet', 'random' or a weight file's path.

    Called at the top of notebooks 03-08; the profiles it resolves are explained in notebook 00, section 1.
    """
    seed = _check_seed(seed)
    out = paths.outputs_dir()  # a file there: NotADirectoryError naming COURSE_OUTPUT_DIR
    if not paths.writable(out):
        raise PermissionError(f"The outputs folder {out} cannot be written (models, results and claims go there). "
                              "Point COURSE_OUTPUT_DIR at a folder you can write to, or fix this one's permissions.")
    asked = (weights or "").strip()
    if asked not in ("", "imagenet", "random") and not Path(asked).expanduser().is_file():
        raise FileNotFoundError(f"WEIGHTS={asked!r}: no such file. Use 'imagenet', 'random', '' or a path.")

    def weights_ready(b: backbones.Backbone) -> bool:
        if asked == "random":
            return False
        return asked not in ("", "imagenet") or backbones.locate(b).source != "unavailable"

    def dataset_ready(name: str) -> bool:
        return Path(folder).expanduser().is_dir() if folder else data.availability(dataset or name).available

    # The profile sized for this backbone: its image size and training images (README, "Profiles").
    b, resolved = profiles.for_backbone(profile, backbone, weights_ready=weights_ready, dataset_ready=dataset_ready)
    env.setup(seed=seed)
    if asked == "":
        asked = "imagenet" if resolved.profile.weights else "random"
    w = backbones.resolve_weights(b, asked, progress=progress)
    name, path, origin = _choose_data(resolved.profile, dataset, folder)
    if path is not None:
        ds = data.load("folder", path=path, profile=resolved.profile, seed=seed)
    else:
        ds = data.load(name, profile=resolved.profile, seed=seed, progress=progress)
    split_dir = split_folders.write(ds, resolved.profile.image_size)
    duplicates = folder_report.near_across_splits(ds, split_folders.hashes(split_dir))
    run = Run(notebook, resolved, b, w, ds, origin, seed, split_dir, duplicates)
    # This notebook's claims from another configuration are stale; other notebooks' claims stay.
    claims.keep_only(run.describe(), notebook=notebook)
    print(run.banner())
    return run
