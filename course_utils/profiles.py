"""Named run sizes: ``smoke`` (CI), ``fast`` (a 2-core laptop), ``binder`` (mybinder.org) and ``full`` (a GPU).

A profile fixes how big a run is, so that the same notebook serves a CI check in seconds,
a laptop session in minutes and the real experiment on a GPU. ``auto`` picks ``fast`` when
the pretrained weights and the default dataset can be had (``binder`` on Binder, whose
kernels are killed above 2 GB), and ``smoke`` otherwise, with a banner saying that the
numbers are then not meaningful.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace

from . import sizes

__all__ = [
    "ENV_VAR", "PROFILES", "first_choice", "for_backbone", "get", "markdown", "names", "Profile", "resolve",
    "Resolved", "UnknownProfileError",
]

ENV_VAR = "COURSE_PROFILE"


@dataclass(frozen=True)
class Profile:
    """How big a run is. ``None`` for a count means 'all available'.

    ``image_size`` and ``images_per_class`` are those of ``backbone``; ``for_backbone`` gives the
    same profile sized for another backbone (``sizes``: measured per backbone, see ``sizes.py``).
    """

    name: str
    image_size: int  # square side in pixels fed to the backbone
    images_per_class: int | None  # training images per class (a cap: fewer when the data has fewer)
    eval_images_per_class: int | None  # a cap on the validation and test images per class (each)
    epochs: int  # epochs for training a head
    fine_tune_epochs: int  # epochs for fine-tuning
    batch_size: int
    repeats: int  # independent seeds for mean ± standard deviation
    dataset: str  # default dataset of this profile
    weights: str | None  # default weights: "imagenet" or None (random)
    description: str
    # The backbone a notebook gets when its BACKBONE is empty.
    backbone: str = "vgg16"
    # Validation and test images wanted in all (split evenly over the classes), and the largest share
    # of a class either may take: a test split large enough to decide a comparison (README, "Profiles").
    val_images: int | None = None
    test_images: int | None = None
    val_fraction: float = 0.2
    test_fraction: float = 0.2
    # backbone -> (image side, training images per class, why): measured per backbone (sizes.py).
    sizes: Mapping[str, tuple[int, int | None, str]] = field(default_factory=dict)
    why: str = ""  # why these sizes, for a profile not sized per backbone

    def as_dict(self) -> dict:
        """The profile as a plain dict (for reports and results files)."""
        return asdict(self)

    def for_backbone(self, name: str) -> Profile:
        """This profile sized for backbone `name` (its image size and training images)."""
        if name not in self.sizes:
            return replace(self, backbone=name)
        px, cap, _ = self.sizes[name]
        return replace(self, backbone=name, image_size=px, images_per_class=cap)

    def reason(self, name: str | None = None) -> str:
        """Why this profile uses its image size and training images for backbone `name`."""
        name = name or self.backbone
        return self.sizes[name][2] if name in self.sizes else self.why


# Binder kills a kernel above 2 GB. At fast's 224 px, in batches of 16, notebook 05 peaked at 2.01 GB and 04 at
# 1.85 GB (benchmarks/results/notebook_memory_binder_224px.log, 2026-12-03): binder caps the image side here.
BINDER_MAX_SIDE = 160


def _cpu_profile(name: str, *, batch_size: int, description: str, backbone: str | None = None,
                 max_side: int | None = None) -> Profile:
    """A profile sized from the build machine's cost table (``sizes.py``, ``benchmarks/derive_profiles.py``).

    `max_side`: an image side no backbone exceeds in this profile (binder: memory, not time)."""
    table = dict(sizes.SIZES["fast"])  # binder: fast's sizes, its side capped for memory
    if max_side is not None:
        table = {k: (min(px, max_side), cap, why if px <= max_side else
                     f"{why}; binder: at most {max_side} px, for Binder's 2 GB of memory (05 peaked at 2.01 GB at {px} px)")
                 for k, (px, cap, why) in table.items()}
    default = backbone or sizes.DEFAULT_BACKBONE["fast"]
    px, cap, _ = table[default]
    return Profile(
        name=name, image_size=px, images_per_class=cap, eval_images_per_class=None,
        epochs=sizes.EPOCHS, fine_tune_epochs=sizes.FINE_TUNE_EPOCHS, batch_size=batch_size, repeats=2,
        dataset="cats_vs_dogs", weights="imagenet", description=description, backbone=default,
        val_images=sizes.VAL_IMAGES, test_images=sizes.TEST_IMAGES, val_fraction=sizes.VAL_FRACTION,
        test_fraction=sizes.TEST_FRACTION, sizes=dict(table))


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
        # MobileNet alpha 0.25: the lightest backbone; smoke's numbers mean nothing with any backbone.
        backbone="mobilenet_0.25",
        why="a check that the code runs: 32 px and 8 training images per class for every backbone",
    ),
    # A 2-core CPU laptop: sizes per backbone from the measured cost table, the default backbone the
    # best published ImageNet accuracy that runs at its native size within the budget.
    "fast": _cpu_profile("fast", batch_size=32,
                         description="2-core CPU laptop: the whole course in minutes, at the sizes the "
                                     "measured cost table allows"),
    # Binder: fast's sizes in smaller batches, with the 2 MB MobileNet alpha 0.25 (every notebook measured
    # within Binder's 2 GB of memory: README, 'Binder').
    "binder": _cpu_profile("binder", batch_size=16, backbone="mobilenet_0.25", max_side=BINDER_MAX_SIDE,
                           description=f"mybinder.org: fast's sizes at most {BINDER_MAX_SIDE} px, in smaller "
                                       "batches, every notebook within Binder's 2 GB of memory (measured: README, "
                                       "'Binder')"),
    "full": Profile(
        name="full",
        image_size=224,
        images_per_class=None,
        eval_images_per_class=None,
        epochs=15,
        fine_tune_epochs=10,
        batch_size=32,
        repeats=3,
        dataset="cats_vs_dogs",
        weights="imagenet",
        description="GPU: every image at the native 224 px, the real numbers",
        why="a GPU: every backbone at its native 224 px on every image",
    ),
}

_FOR = {"smoke": "CI, and any machine without the downloads", "fast": "a laptop CPU (2 cores), minutes",
        "binder": "mybinder.org (2 GB of memory, shared CPUs)", "full": "a GPU"}


def markdown() -> str:
    """README's profiles tables, generated from PROFILES and the measured sizes (benchmarks/derive_profiles.py)."""
    from . import backbones

    def n(v):
        return "all" if v is None else f"{v:,}"

    lines = ["| profile | for | data | weights | default backbone | image size, training images per class | "
             "validation / test images | batch, epochs (head, fine-tuning), repeats |", "|---|---|---|---|---|---|---|---|"]
    for p in PROFILES.values():
        if p.eval_images_per_class:
            evals = f"{p.eval_images_per_class} / {p.eval_images_per_class} per class"
        elif p.val_images is None:
            evals = f"{p.val_fraction:.0%} / {p.test_fraction:.0%} of each class"
        else:
            evals = (f"{n(p.val_images)} / {n(p.test_images)} in all (at most {p.val_fraction:.0%} / "
                     f"{p.test_fraction:.0%} of a class)")
        lines.append(f"| `{p.name}` | {_FOR[p.name]} | `{p.dataset}` | {'ImageNet' if p.weights else 'random'} | "
                     f"{backbones.get(p.backbone).title} | {p.image_size} px, {n(p.images_per_class)}"
                     f"{' (per backbone: below)' if p.sizes else ''} | {evals} | {p.batch_size}, "
                     f"{p.epochs} / {p.fine_tune_epochs}, {p.repeats} |")
    fast = PROFILES["fast"]
    lines += ["", f"Per backbone in `fast` (measured: `benchmarks/results/cost_table.md`, {sizes.SOURCE}); `binder` takes "
              f"the same, at most {BINDER_MAX_SIDE} px (memory):", "",
              "| backbone | image size | training images per class | why |", "|---|---|---|---|"]
    for name, (px, cap, why) in fast.sizes.items():
        lines.append(f"| `{name}` | {px} px | {n(cap)} | {why} |")
    lines += ["", f"`smoke`: {PROFILES['smoke'].why}. `full`: {PROFILES['full'].why}."]
    return "\n".join(lines)


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
        from .env import binder_note  # on Binder: shut down the other notebooks' kernels

        head = f"PROFILE = {self.name!r} (asked for {self.requested!r}): {self.reason}"
        if not needs_pretrained:
            return (f"PROFILE = {self.name!r} (asked for {self.requested!r})\nThis notebook needs no downloads or pretrained weights: every number "
                    "in it is computed from data generated here, and is real in every profile." + binder_note())
        if self.meaningful:
            return head + binder_note()
        return (
            head + "\n*** Random weights and a tiny synthetic dataset: every number below checks "
            "that the code runs; none of them is a result. See README, 'Offline classroom'. ***" + binder_note()
        )


def names() -> list[str]:
    """The valid profile names, 'auto' included."""
    return [*PROFILES, "auto"]


def get(name: str) -> Profile:
    """The profile called `name` (not 'auto'); a clear error lists the valid names.

    Explained in notebook 00, section 1.
    """
    try:
        return PROFILES[name]
    except KeyError:
        raise UnknownProfileError(
            f"Unknown profile {name!r}. Valid profiles: {', '.join(names())}."
        ) from None


def _pretrained_ready() -> bool:
    from . import backbones

    return backbones.locate(PROFILES["fast"].backbone).source != "unavailable"


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
    weights_label: str | None = None,
    on_binder: Callable[[], bool] | None = None,
) -> Resolved:
    """Resolve a profile name (None: $COURSE_PROFILE, else 'auto') to a Profile.

    'auto' gives 'fast' when the ImageNet weights (fast's default backbone's) and the dataset are
    present or downloadable ('binder' instead on Binder: ``env.is_binder()``), else 'smoke'.
    The checks can be replaced (``runs.start`` passes its backbone's and dataset's, tests
    pass their own).

    Explained in notebook 00, section 1.
    """
    requested = _requested(name)
    if requested != "auto":
        profile = get(requested)
        source = "given" if name else f"from ${ENV_VAR}"
        return Resolved(profile, requested, f"{profile.description} ({source})")

    weights_ready = weights_ready or _pretrained_ready
    if weights_label is None:
        from . import backbones

        weights_label = f"{backbones.get(PROFILES['fast'].backbone).title} ImageNet weights"
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
    by default: found on disk or downloadable) and the data is there. The profile comes back
    sized for that backbone (``Profile.for_backbone``: its image size and training images).
    """
    from . import backbones

    b = backbones.get(backbone or first_choice(name).backbone)
    ready = weights_ready or (lambda net: backbones.locate(net).source != "unavailable")
    resolved = resolve(name, weights_ready=lambda: ready(b), dataset_ready=dataset_ready,
                       weights_label=f"{b.title} ImageNet weights")
    return b, replace(resolved, profile=resolved.profile.for_backbone(b.name))
