"""The pretrained backbones the course can use, and where their ImageNet weights come from.

``REGISTRY`` names each backbone with what a notebook needs to know about it: its Keras
constructor, **its own** ``preprocess_input`` (VGG16 and ResNet50 want BGR minus the ImageNet
mean; MobileNet wants pixels scaled to [-1, 1]: a plain ``rescale=1./255`` is right for
neither), the layer fine-tuning starts from, whether it has BatchNormalization, and its
weight file (name, checksum, URL).

Every time weights are used they are checked first: the published checksum (or, where Keras
publishes none, the digest recorded at the first use), and for a file given as WEIGHTS, that it
is an HDF5 weight file of this very backbone (``check_weight_file``), before anything is built.

``resolve_weights(backbone, "imagenet")`` finds the weight file in, in order:
``$COURSE_WEIGHTS_DIR`` (default ``data/weights/``), Keras' own cache (``~/.keras/models``),
or downloads it (checksum verified, progress bar) into the weights folder. Offline with none
of them it raises ``WeightsUnavailableError`` naming the three ways out. The constructor is
then called with ``weights=<that file>``: the same weights Keras' ``weights="imagenet"``
would load, found the way an offline classroom needs.
"""

from __future__ import annotations

import json
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
    first_conv: str = ""  # its first convolution's layer name, filter count and kernel side: how a
    first_filters: int = 0  # weight file is told to be this backbone's (and not another's) before
    first_kernel: int = 3  # anything is built

    def keras_class(self):
        """The Keras constructor, e.g. ``keras.applications.VGG16``."""
        import keras

        return getattr(keras.applications, self.constructor)

    def preprocess_input(self):
        """This backbone's own ``keras.applications.<module>.preprocess_input`` function."""
        import keras

        return getattr(keras.applications, self.module).preprocess_input

    def matches(self, base) -> bool:
        """True when the Keras model `base` is this backbone (its first convolution, by name and width)."""
        if not self.first_conv:
            return True
        try:
            layer = base.get_layer(self.first_conv)
        except ValueError:
            return False
        return bool(layer.weights) and layer.weights[0].shape[-1] == self.first_filters

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
        first_conv="conv1", first_filters=int(32 * alpha),
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
        first_conv="block1_conv1", first_filters=64,
    ),
    "resnet50": Backbone(
        name="resnet50", title="ResNet50", constructor="ResNet50", module="resnet50",
        preprocessing="RGB to BGR, then subtract the ImageNet mean pixel (no scaling)",
        fine_tune_from="conv5_block1_1_conv", cache_at="conv4_block6_out",
        last_block="stage conv5 (three residual blocks)", last_conv="conv5_block3_3_conv",
        batchnorm=True, weights_file="resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_url=_KERAS_WEIGHTS + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_hash="md5:4d473c1dd8becc155b73f8504c6f6626",  # the hash keras.applications checks
        first_conv="conv1_conv", first_filters=64, first_kernel=7,
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
    """Pretrained weights that are neither on disk nor downloadable.

    Used in notebook 07, section 3.
    """


class WeightsFileError(ValueError):
    """A weight file that is not the backbone's: not HDF5, damaged, another network's, or changed."""


def get(name: str) -> Backbone:
    """The registry entry for `name`; a clear error lists the valid names.

    Used in notebook 07, section 2.
    """
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
    """Where the ImageNet weights would come from, without downloading anything.

    Used in notebook 00, section 4.
    """
    b = backbone if isinstance(backbone, Backbone) else get(backbone)
    for source, path in _candidates(b):
        if path.is_file():
            return Weights(b.name, source, path)
    if network.can_reach(b.weights_url):
        return Weights(b.name, "download", None)
    return Weights(b.name, "unavailable", None)


def unavailable_message(backbone: str | Backbone) -> str:
    """Why the weights cannot be had here, and the three ways out.

    Used in notebook 00, section 5.
    """
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


def _recorded_digests() -> tuple[Path, dict]:
    lock = paths.weights_dir() / "checksums.json"
    try:
        return lock, json.loads(lock.read_text()) if lock.exists() else {}
    except ValueError:
        raise WeightsFileError(f"{lock} is damaged (not JSON). Delete it: the weight files' digests "
                               "are recorded again at their next use.") from None


def _record_first_digest(b: Backbone, path: Path) -> None:
    """Keras publishes no hash for this file: keep the first one seen, refuse a later change."""
    from . import data

    lock, known = _recorded_digests()
    digest = "sha256:" + data.file_digest(path)
    if known.get(b.weights_file, digest) != digest:
        path.unlink()
        raise data.ChecksumError(f"{path.name}: {digest} differs from the {known[b.weights_file]} "
                                 f"recorded at its first download ({lock}). The file was deleted.")
    known[b.weights_file] = digest
    from . import storage

    storage.write_text(lock, json.dumps(known, indent=2) + "\n")


def check_weight_file(b: Backbone, path: Path | str, parameter: str = "WEIGHTS") -> None:
    """Refuse, in one line, a file that is not a Keras weight file of `b` (read before any model is built).

    It must be HDF5 (not a JPEG, not a truncated copy) and hold `b`'s first convolution with
    `b`'s filter count (VGG16's file is not MobileNet's; MobileNet 0.5's is not 0.25's).
    """
    path = Path(path)
    way_out = (f"Set {parameter} to 'imagenet', 'random', or the path of {b.title}'s weight file "
               f"({b.weights_file}).")
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic != b"\x89HDF\r\n\x1a\n":
        raise WeightsFileError(f"{parameter}={str(path)!r} is not a Keras weight file (.h5): {way_out}")
    import h5py

    kernels: list[tuple] = []

    def first_kernel(name: str, obj) -> None:
        # Keras' applications files keep it under the layer's name (conv1/conv1/kernel:0); Keras
        # 3's save_weights under the class's (layers/conv2d/vars/0: the first Conv2D).
        if kernels or not isinstance(obj, h5py.Dataset) or obj.ndim != 4:
            return
        groups = name.split("/")[:-1]
        if b.first_conv in groups or groups[-2:] == ["conv2d", "vars"]:
            kernels.append(tuple(obj.shape))

    try:
        with h5py.File(path, "r") as f:
            if b.first_conv:
                f.visititems(first_kernel)
    except (OSError, KeyError, RuntimeError, ValueError) as err:  # h5py's errors on a cut file
        raise WeightsFileError(f"{parameter}={str(path)!r} is a damaged HDF5 file ({err}; a partial "
                               f"copy?): {way_out}") from None
    if not b.first_conv:
        return
    if not kernels:
        raise WeightsFileError(f"{parameter}={str(path)!r} holds no layer {b.first_conv!r}: it is not "
                               f"{b.title}'s weight file (another network's?). {way_out}")
    found = kernels[0]
    expected = (b.first_kernel, b.first_kernel, 3, b.first_filters)
    if (found[0], found[-1]) != (expected[0], expected[-1]):
        raise WeightsFileError(f"{parameter}={str(path)!r} starts with a {found[0]}×{found[1]} convolution of "
                               f"{found[-1]} filters, {b.title} with {expected[0]}×{expected[1]} and "
                               f"{expected[-1]} filters: it is another network's or another variant's file. "
                               f"{way_out}")


def _verify_found(b: Backbone, path: Path) -> None:
    """A weight file found on disk must be the published one (a truncated or replaced copy is not).

    With no published hash (MobileNet 0.5 and 1.0), the digest recorded at its first use (the
    weights folder's checksums.json) is the reference.
    """
    from . import data

    if b.weights_hash is not None:
        try:
            data.verify_file(path, checksum=b.weights_hash)
        except data.ChecksumError as err:
            raise data.ChecksumError(f"{err} It is not {b.title}'s published ImageNet file (a partial "
                                     f"copy?): delete it and fetch it again (`make fetch BACKBONE={b.name}`)."
                                     ) from None
        return
    lock, known = _recorded_digests()
    digest = "sha256:" + data.file_digest(path)
    if b.weights_file not in known:
        check_weight_file(b, path, parameter=b.name)
        try:
            _record_first_digest(b, path)
        except OSError:  # a read-only shared weights folder: nothing to record, nothing lost
            pass
    elif known[b.weights_file] != digest:
        raise data.ChecksumError(
            f"{path}: {digest} differs from the {known[b.weights_file]} recorded when it was first used "
            f"({lock}): the file was replaced or damaged. Delete it and fetch it again (`make fetch "
            f"BACKBONE={b.name}`); if the new file is the one you want, delete its line from {lock.name}.")


def resolve_weights(backbone: str | Backbone, weights: str | Path | None = "imagenet",
                    progress: bool = True) -> Weights:
    """Turn WEIGHTS ('imagenet', 'random'/None, or a file path) into a Weights with a file.

    'imagenet' looks in the weights folder, then Keras' cache, then downloads; offline with
    none of them it raises WeightsUnavailableError naming the three ways out.

    Used in notebook 00, section 6 (and in notebook 07).
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
    check_weight_file(b, path)
    if path.name == b.weights_file:  # the published file under its own name: it must be that file
        _verify_found(b, path)
    return Weights(b.name, "file", path)
