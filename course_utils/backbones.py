"""The pretrained backbones the course can use, and where their ImageNet weights come from.

``REGISTRY`` names each backbone with what a notebook needs to know about it: its Keras
constructor, **its own** ``preprocess_input`` (VGG16 and ResNet50 want BGR minus the ImageNet
mean; MobileNet wants pixels scaled to [-1, 1]: a plain ``rescale=1./255`` is right for
neither), the layer fine-tuning starts from, whether it has BatchNormalization, and its
weight file (name, checksum, URL).

``resolve_weights(backbone, "imagenet")`` finds the weight file in, in order:
``$COURSE_WEIGHTS_DIR`` (default ``data/weights/``), Keras' own cache (``~/.keras/models``),
or downloads it (checksum verified, progress bar) into the weights folder. Offline with none
of them it raises ``WeightsUnavailableError`` naming the three ways out. The constructor is
then called with ``weights=<that file>``: the same weights Keras' ``weights="imagenet"``
would load, found the way an offline classroom needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import network, paths

__all__ = [
    "DEFAULT", "REGISTRY", "Backbone", "fetch_weights", "get", "locate", "resolve_weights",
    "unavailable_message", "UnknownBackboneError", "Weights", "WeightsUnavailableError",
]

_KERAS_WEIGHTS = "https://storage.googleapis.com/tensorflow/keras-applications/"


@dataclass(frozen=True)
class Backbone:
    """One pretrained convolutional base the course knows."""

    name: str  # registry key, the BACKBONE parameter of the notebooks
    title: str  # for prose and tables
    constructor: str  # attribute of keras.applications: "VGG16", "ResNet50", "MobileNet"
    module: str  # keras.applications.<module>.preprocess_input is its preprocessing
    preprocessing: str  # what that function does, in words
    fine_tune_from: str  # the first layer unfrozen for fine-tuning (the last block)
    cache_at: str  # the layer whose output feeds that last block (cached for fast fine-tuning)
    last_block: str  # the last block in words, for the notebooks' prose
    last_conv: str  # the last convolutional layer (Grad-CAM)
    batchnorm: bool
    weights_file: str
    weights_url: str
    weights_hash: str | None  # "md5:<hex>" / "sha256:<hex>"; None: recorded at the first download
    kwargs: dict = field(default_factory=dict)  # extra constructor arguments (MobileNet's alpha)
    min_size: int = 32  # smallest input side Keras accepts with include_top=False

    def keras_class(self):
        """The Keras constructor, e.g. ``keras.applications.VGG16``."""
        import keras

        return getattr(keras.applications, self.constructor)

    def preprocess_input(self):
        """This backbone's own ``keras.applications.<module>.preprocess_input`` function."""
        import keras

        return getattr(keras.applications, self.module).preprocess_input

    def build(self, weights: str | None, input_shape: tuple[int, int, int], name: str = "conv_base"):
        """The base without its classifier (``include_top=False``).

        Taught in notebook 03, section 2, where the constructor call is written out; this is
        the same call for notebooks that rebuild a base (04 and 05, through ``runs.Run.build_base``).
        """
        if min(input_shape[:2]) < self.min_size:
            raise ValueError(f"{self.title} needs images of at least {self.min_size}×{self.min_size} "
                             f"pixels, not {input_shape[0]}×{input_shape[1]}: resize them first.")
        return self.keras_class()(include_top=False, weights=weights, input_shape=tuple(input_shape),
                                  name=name, **self.kwargs)


def _mobilenet(alpha: float, text: str, sha256: str | None) -> Backbone:
    file = f"mobilenet_{text}_224_tf_no_top.h5"
    return Backbone(
        name=f"mobilenet_{alpha:g}", title=f"MobileNet (alpha {alpha:g})", constructor="MobileNet",
        module="mobilenet", preprocessing="scale pixels from [0, 255] to [-1, 1]",
        fine_tune_from="conv_pad_12", cache_at="conv_pw_11_relu",
        last_block="the last two depthwise-separable blocks (12-13)", last_conv="conv_pw_13",
        batchnorm=True, weights_file=file, weights_url=_KERAS_WEIGHTS + "mobilenet/" + file,
        weights_hash=f"sha256:{sha256}" if sha256 else None, kwargs={"alpha": alpha},
    )


REGISTRY: dict[str, Backbone] = {
    "vgg16": Backbone(
        name="vgg16", title="VGG16", constructor="VGG16", module="vgg16",
        preprocessing="RGB to BGR, then subtract the ImageNet mean pixel (no scaling)",
        fine_tune_from="block5_conv1", cache_at="block4_pool", last_block="block5",
        last_conv="block5_conv3", batchnorm=False,
        weights_file="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_url=_KERAS_WEIGHTS + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_hash="md5:6d6bbae143d832006294945121d1f1fc",  # the hash keras.applications checks
    ),
    "resnet50": Backbone(
        name="resnet50", title="ResNet50", constructor="ResNet50", module="resnet50",
        preprocessing="RGB to BGR, then subtract the ImageNet mean pixel (no scaling)",
        fine_tune_from="conv5_block1_1_conv", cache_at="conv4_block6_out",
        last_block="stage conv5 (three residual blocks)", last_conv="conv5_block3_3_conv",
        batchnorm=True, weights_file="resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_url=_KERAS_WEIGHTS + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_hash="md5:4d473c1dd8becc155b73f8504c6f6626",  # the hash keras.applications checks
    ),
    # Keras checks no hash for MobileNet's files; the 0.25 one was measured on the real file.
    "mobilenet_0.25": _mobilenet(0.25, "2_5", "dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf"),
    "mobilenet_0.5": _mobilenet(0.5, "5_0", None),
    "mobilenet_1": _mobilenet(1.0, "1_0", None),
}
DEFAULT = "vgg16"


class UnknownBackboneError(KeyError):
    """A backbone name that is not in the registry."""

    def __str__(self) -> str:  # KeyError would print the message with quotes around it
        return str(self.args[0])


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights that are neither on disk nor downloadable."""


def get(name: str) -> Backbone:
    """The registry entry for `name`; a clear error lists the valid names."""
    key = (name or DEFAULT).strip().lower()
    if key not in REGISTRY:
        raise UnknownBackboneError(f"Unknown backbone {name!r}. Valid backbones: {', '.join(REGISTRY)}.")
    return REGISTRY[key]


@dataclass(frozen=True)
class Weights:
    """Which weights a base gets, and from where."""

    backbone: str
    source: str  # "random", "local file", "keras cache", "downloaded", "download", "unavailable", "file"
    path: Path | None

    @property
    def pretrained(self) -> bool:
        """True when the weights are a file of trained weights (not random, not missing)."""
        return self.path is not None

    @property
    def keras_argument(self) -> str | None:
        """What to pass as the constructor's ``weights=``: the file's path, or None (random)."""
        return str(self.path) if self.path is not None else None

    def describe(self) -> str:
        if self.source == "random":
            return "random (weights=None)"
        if self.path is None:
            return self.source
        return f"ImageNet, {self.source} {self.path}"


def _candidates(b: Backbone) -> list[tuple[str, Path]]:
    return [("local file", paths.weights_dir() / b.weights_file),
            ("keras cache", paths.keras_cache_dir() / b.weights_file)]


def locate(backbone: str | Backbone) -> Weights:
    """Where the ImageNet weights would come from, without downloading anything."""
    b = backbone if isinstance(backbone, Backbone) else get(backbone)
    for source, path in _candidates(b):
        if path.is_file():
            return Weights(b.name, source, path)
    if network.can_reach(b.weights_url):
        return Weights(b.name, "download", None)
    return Weights(b.name, "unavailable", None)


def unavailable_message(backbone: str | Backbone) -> str:
    """Why the weights cannot be had here, and the three ways out."""
    b = backbone if isinstance(backbone, Backbone) else get(backbone)
    (_, local), (_, cached) = _candidates(b)
    return (
        f"{b.title}'s ImageNet weights are not on this machine and cannot be downloaded (offline). "
        f"Three ways out: (1) put {b.weights_file} in {local.parent} (or point $COURSE_WEIGHTS_DIR "
        f"at a folder holding it); (2) copy it into Keras' cache, {cached.parent}; (3) on a machine "
        f"with internet run `make fetch BACKBONE={b.name}` (it downloads {b.weights_url}) and copy "
        "the data/ folder here. Or set WEIGHTS='random' to run with random weights (the numbers "
        "then check the code, they are not results)."
    )


def fetch_weights(backbone: str | Backbone, progress: bool = True) -> Path:
    """Download the weight file into the weights folder, verified; returns its path."""
    from . import data

    b = backbone if isinstance(backbone, Backbone) else get(backbone)
    dest = paths.weights_dir() / b.weights_file
    try:
        path = data.download(b.weights_url, dest, checksum=b.weights_hash, progress=progress)
    except data.DownloadError as err:
        raise WeightsUnavailableError(f"{err} {unavailable_message(b)}") from err
    if b.weights_hash is None:
        _record_first_digest(b, path)
    return path


def _record_first_digest(b: Backbone, path: Path) -> None:
    """Keras publishes no hash for this file: keep the first one seen, refuse a later change."""
    from .integrity import first_seen_digest, record_digest

    ledger = paths.weights_dir() / "checksums.json"
    digest = first_seen_digest(ledger, b.weights_file, path, retry=f"fetch it again (`make fetch BACKBONE={b.name}`).")
    record_digest(ledger, b.weights_file, digest)


def _verify_found(b: Backbone, path: Path) -> None:
    """A weight file found on disk must be the published one (a truncated copy is not)."""
    from . import data

    if b.weights_hash is None:
        return
    try:
        data.verify_file(path, checksum=b.weights_hash)
    except data.ChecksumError as err:
        raise data.ChecksumError(f"{err} It is not {b.title}'s published ImageNet file (a partial "
                                 f"copy?): delete it and fetch it again (`make fetch BACKBONE={b.name}`).") from None


def resolve_weights(backbone: str | Backbone, weights: str | Path | None = "imagenet",
                    progress: bool = True) -> Weights:
    """Turn WEIGHTS ('imagenet', 'random'/None, or a file path) into a Weights with a file.

    'imagenet' looks in the weights folder, then Keras' cache, then downloads; offline with
    none of them it raises WeightsUnavailableError naming the three ways out.
    """
    b = backbone if isinstance(backbone, Backbone) else get(backbone)
    if weights is None or weights == "random":
        return Weights(b.name, "random", None)
    if weights == "imagenet":
        found = locate(b)
        if found.source == "download":
            return Weights(b.name, "downloaded", fetch_weights(b, progress=progress))
        if found.source == "unavailable":
            raise WeightsUnavailableError(unavailable_message(b))
        _verify_found(b, found.path)
        return found
    path = Path(weights).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"Weights file {path} not found. Set WEIGHTS to 'imagenet', 'random' "
                                f"or the path of an existing {b.weights_file}.")
    return Weights(b.name, "file", path)
