"""Named run sizes: ``smoke`` (CI), ``fast`` (a 2-core laptop), ``binder`` (mybinder.org) and ``full`` (a GPU).

A profile fixes how big a run is, so that the same notebook serves a CI check in seconds,
a laptop session in minutes and the real experiment on a GPU. ``auto`` picks ``fast`` when
the pretrained weights and the default dataset can be had (``binder`` on Binder, whose
kernels are killed above 2 GB), and ``smoke`` otherwise, with a banner saying that the
numbers are then not meaningful.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

__all__ = [
    "ENV_VAR", "PROFILES", "first_choice", "for_backbone", "get", "names", "Profile", "resolve",
    "Resolved", "UnknownProfileError",
]

ENV_VAR = "COURSE_PROFILE"


@dataclass(frozen=True)
class Profile:
    """How big a run is. ``None`` for a count means 'all available'."""

    name: str
    image_size: int  # square side in pixels fed to VGG16
    images_per_class: int | None  # training images per class
    eval_images_per_class: int | None  # validation and test images per class (each)
    epochs: int  # epochs for training a head
    fine_tune_epochs: int  # epochs for fine-tuning
    batch_size: int
    repeats: int  # independent seeds for mean ± std
    dataset: str  # default dataset of this profile
    weights: str | None  # default weights: "imagenet" or None (random)
    description: str
    # The backbone a notebook gets when its BACKBONE is empty. MobileNet (alpha 0.25) where memory
    # is tight: VGG16's fine-tuning runs in 04 and 05 take a kernel past 2 GB (Binder's limit;
    # benchmarks/results/notebook_memory_*), and smoke's numbers mean nothing with any backbone.
    backbone: str = "vgg16"

    def as_dict(self) -> dict:
        """The profile as a plain dict (for reports and results files)."""
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        image_size=32,
        images_per_class=8,
        eval_images_per_class=4,
        epochs=1,
        fine_tune_epochs=1,
        batch_size=8,
        repeats=1,
        dataset="shapes",
        weights=None,
        description="CI check: tiny, offline, random weights; numbers are not meaningful",
        backbone="mobilenet_0.25",
    ),
    "fast": Profile(
        name="fast",
        image_size=96,
        images_per_class=100,
        eval_images_per_class=50,
        epochs=5,
        fine_tune_epochs=3,
        batch_size=32,
        repeats=2,
        dataset="cats_vs_dogs",
        weights="imagenet",
        description="2-core CPU laptop: the whole course in minutes, real but small numbers",
    ),
    "full": Profile(
        name="full",
        image_size=160,
        images_per_class=None,
        eval_images_per_class=None,
        epochs=15,
        fine_tune_epochs=10,
        batch_size=32,
        repeats=3,
        dataset="cats_vs_dogs",
        weights="imagenet",
        description="GPU: every image, the real numbers",
    ),
}
# Binder: fast's images and epochs, in smaller batches and with a smaller backbone, derived from
# fast so that the two cannot drift apart.
PROFILES["binder"] = replace(
    PROFILES["fast"],
    name="binder",
    batch_size=16,
    backbone="mobilenet_0.25",
    description="mybinder.org: fast's images and epochs in smaller batches, every notebook within "
                "Binder's 2 GB of memory (measured: README, 'Binder')",
)
PROFILES = {name: PROFILES[name] for name in ("smoke", "fast", "binder", "full")}  # listed small to large


class UnknownProfileError(ValueError):
    """Raised for a profile name that is neither a profile nor 'auto'."""


@dataclass(frozen=True)
class Resolved:
    """A profile together with how it was chosen."""

    profile: Profile
    requested: str
    reason: str

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def meaningful(self) -> bool:
        """False when the run cannot produce meaningful numbers (random weights)."""
        return self.profile.weights is not None

    def banner(self, needs_pretrained: bool = True) -> str:
        """One or two lines to print at the top of a notebook.

        needs_pretrained=False is for notebooks whose numbers come from data they generate
        themselves (01, 02): those numbers are real in every profile, and the banner says so.
        """
        head = f"PROFILE = {self.name!r} (asked for {self.requested!r}): {self.reason}"
        if not needs_pretrained:
            return (f"PROFILE = {self.name!r} (asked for {self.requested!r})\nThis notebook needs no downloads or pretrained weights: every number "
                    "in it is computed from data generated here, and is real in every profile.")
        if self.meaningful:
            return head
        return (
            head + "\n*** Random weights and a tiny synthetic dataset: every number below checks "
            "that the code runs; none of them is a result. See README, 'Offline classroom'. ***"
        )


def names() -> list[str]:
    """The valid profile names, 'auto' included."""
    return [*PROFILES, "auto"]


def get(name: str) -> Profile:
    """The profile called `name` (not 'auto'); a clear error lists the valid names."""
    try:
        return PROFILES[name]
    except KeyError:
        raise UnknownProfileError(
            f"Unknown profile {name!r}. Valid profiles: {', '.join(names())}."
        ) from None


def _pretrained_ready() -> bool:
    from . import backbones

    return backbones.locate(backbones.DEFAULT).source != "unavailable"


def _dataset_ready(name: str) -> bool:
    from . import data

    return data.availability(name).available


def _requested(name: str | None) -> str:
    """The profile name asked for: `name`, else $COURSE_PROFILE, else 'auto' (read in one place)."""
    return (name or os.environ.get(ENV_VAR) or "auto").strip().lower()


def first_choice(name: str | None = None, on_binder: Callable[[], bool] | None = None) -> Profile:
    """The profile `name` asks for; for 'auto', the one it tries first (binder on Binder, else fast).

    ``runs.start`` takes its default backbone from it, before knowing whether that backbone's
    weights can be had (auto falls back to smoke, with the same backbone, when they cannot).
    """
    requested = _requested(name)
    if requested != "auto":
        return get(requested)
    if on_binder is None:
        from .env import is_binder as on_binder
    return PROFILES["binder" if on_binder() else "fast"]


def resolve(
    name: str | None = None,
    *,
    weights_ready: Callable[[], bool] | None = None,
    dataset_ready: Callable[[str], bool] | None = None,
    weights_label: str = "VGG16 ImageNet weights",
    on_binder: Callable[[], bool] | None = None,
) -> Resolved:
    """Resolve a profile name (None: $COURSE_PROFILE, else 'auto') to a Profile.

    'auto' gives 'fast' when the ImageNet weights (VGG16's by default) and the dataset are
    present or downloadable ('binder' instead on Binder: ``env.is_binder()``), else 'smoke'.
    The checks can be replaced (``runs.start`` passes its backbone's and dataset's, tests
    pass their own).
    """
    requested = _requested(name)
    if requested != "auto":
        profile = get(requested)
        source = "given" if name else f"from ${ENV_VAR}"
        return Resolved(profile, requested, f"{profile.description} ({source})")

    weights_ready = weights_ready or _pretrained_ready
    dataset_ready = dataset_ready or _dataset_ready
    if on_binder is None:
        from .env import is_binder as on_binder
    binder = on_binder()
    fast = PROFILES["binder" if binder else "fast"]
    missing = []
    if not weights_ready():
        missing.append(weights_label)
    if not dataset_ready(fast.dataset):
        missing.append(f"the {fast.dataset!r} dataset")
    if not missing:
        if binder:
            return Resolved(fast, "auto", "pretrained weights and data are available; on Binder (BINDER_* "
                            "variables set), whose kernels are killed above 2 GB of memory, so the binder "
                            "profile: fast's images in smaller batches, measured within 2 GB")
        return Resolved(fast, "auto", "pretrained weights and data are available")
    return Resolved(
        PROFILES["smoke"],
        "auto",
        f"{' and '.join(missing)} neither present nor downloadable, so falling back to smoke",
    )


def for_backbone(name: str | None = None, backbone: str = "", *,
                 weights_ready: Callable[[object], bool] | None = None,
                 dataset_ready: Callable[[str], bool] | None = None) -> tuple[object, Resolved]:
    """(the backbone, the resolved profile) of a run: the one place ``runs.start`` and
    ``run_course`` resolve them.

    The backbone is `backbone`, else the first choice of the profile asked for; 'auto' then
    falls back to smoke unless that backbone's weights can be had (``weights_ready(backbone)``,
    by default: found on disk or downloadable) and the data is there.
    """
    from . import backbones

    b = backbones.get(backbone or first_choice(name).backbone)
    ready = weights_ready or (lambda net: backbones.locate(net).source != "unavailable")
    return b, resolve(name, weights_ready=lambda: ready(b), dataset_ready=dataset_ready,
                      weights_label=f"{b.title} ImageNet weights")
