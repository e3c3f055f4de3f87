"""VGG16 convolutional base with honest weight resolution, classifier heads, freezing by name.

``vgg16_base(weights=...)`` resolves ImageNet weights from, in order: a local file in the
course's weights folder, Keras' own cache, or Keras' download. Offline with none of them it
raises ``WeightsUnavailableError`` naming the three ways out. ``weights=None`` builds random
weights and prints a one-line banner saying that results are then not meaningful.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import keras
import numpy as np

from . import network, paths

VGG16_NOTOP_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG16_NOTOP_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/" + VGG16_NOTOP_FILE
)
VGG16_NOTOP_MD5 = "6d6bbae143d832006294945121d1f1fc"  # the hash keras.applications checks
VGG16_NOTOP_PARAMS = 14_714_688
RANDOM_WEIGHTS_BANNER = (
    "NOTE: VGG16 has RANDOM weights (weights=None): the code runs, but no accuracy or loss "
    "from this model is a meaningful result."
)


class WeightsUnavailableError(RuntimeError):
    """ImageNet weights are neither on disk nor downloadable."""


@dataclass(frozen=True)
class WeightsStatus:
    """Where VGG16's ImageNet weights would come from."""

    source: str  # "local file", "keras cache", "download", "unavailable", "random", "file"
    path: Path | None
    available: bool

    @property
    def pretrained(self) -> bool:
        return self.available and self.source != "random"


def _local_candidates() -> list[Path]:
    return [paths.weights_dir() / VGG16_NOTOP_FILE, paths.keras_cache_dir() / VGG16_NOTOP_FILE]


def imagenet_weights_status() -> WeightsStatus:
    """Where the ImageNet weights of the VGG16 base are, or whether they can be downloaded."""
    local, cached = _local_candidates()
    if local.is_file():
        return WeightsStatus("local file", local, True)
    if cached.is_file():
        return WeightsStatus("keras cache", cached, True)
    if network.can_reach(VGG16_NOTOP_URL):
        return WeightsStatus("download", None, True)
    return WeightsStatus("unavailable", None, False)


def weights_unavailable_message() -> str:
    local, cached = _local_candidates()
    return (
        "VGG16 ImageNet weights are not on this machine and cannot be downloaded (offline). "
        f"Three ways out: (1) put {VGG16_NOTOP_FILE} in {local.parent} "
        "(or point $COURSE_WEIGHTS_DIR at a folder holding it); "
        f"(2) copy it into Keras' cache, {cached.parent}; "
        f"(3) on a machine with internet run `make fetch` (it downloads {VGG16_NOTOP_URL}). "
        "Or pass weights=None to run with random weights (results are then not meaningful)."
    )


def resolve_vgg16_weights(weights: str | Path | None) -> WeightsStatus:
    """What `weights` means for vgg16_base: 'imagenet', None (random) or a file path."""
    if weights is None:
        return WeightsStatus("random", None, True)
    if isinstance(weights, str) and weights == "imagenet":
        status = imagenet_weights_status()
        if not status.available:
            raise WeightsUnavailableError(weights_unavailable_message())
        return status
    path = Path(weights).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"Weights file {path} not found. Pass weights='imagenet', None, or the path of an "
            f"existing file such as {paths.weights_dir() / VGG16_NOTOP_FILE}."
        )
    return WeightsStatus("file", path, True)


def vgg16_base(
    weights: str | Path | None = "imagenet",
    input_shape: tuple[int, int, int] = (224, 224, 3),
    *,
    quiet: bool = False,
):
    """VGG16 without its classifier (``include_top=False``), weights resolved as documented.

    The returned model carries ``course_weights`` (a WeightsStatus) saying where its
    weights came from.
    """
    status = resolve_vgg16_weights(weights)
    if status.source == "random":
        keras_weights = None
        if not quiet:
            print(RANDOM_WEIGHTS_BANNER)
    elif status.source == "download":
        keras_weights = "imagenet"
    else:
        keras_weights = str(status.path)
    try:
        base = keras.applications.VGG16(
            include_top=False, weights=keras_weights, input_shape=tuple(input_shape)
        )
    except Exception as err:  # Keras raises a bare Exception for a failed URL fetch
        if status.source == "download":
            raise WeightsUnavailableError(
                f"Downloading the VGG16 weights failed ({err}). " + weights_unavailable_message()
            ) from err
        raise
    base.course_weights = status
    return base


def fetch_imagenet_weights(progress: bool = True) -> Path:
    """Download the VGG16 no-top weights into the course's weights folder (md5-verified)."""
    from . import data

    dest = paths.weights_dir() / VGG16_NOTOP_FILE
    return data.download(VGG16_NOTOP_URL, dest, checksum=f"md5:{VGG16_NOTOP_MD5}",
                         progress=progress)


# --------------------------------------------------------------------------- building blocks


@keras.saving.register_keras_serializable(package="course_utils")
class VGG16Preprocess(keras.layers.Layer):
    """VGG16's ``preprocess_input`` as a layer: RGB -> BGR, minus the ImageNet channel means.

    Inside the model, so a saved model takes raw [0, 255] RGB images and nobody has to
    remember to preprocess at prediction time.
    """

    def call(self, inputs):
        # keras.ops.flip, not [..., ::-1]: negative slice steps fail on the PyTorch backend.
        x = keras.ops.flip(keras.ops.cast(inputs, self.compute_dtype), axis=-1)
        mean = keras.ops.convert_to_tensor([103.939, 116.779, 123.68], dtype=self.compute_dtype)
        return x - mean


def vgg16_preprocess(name: str = "vgg16_preprocess") -> VGG16Preprocess:
    """A layer doing what keras.applications.vgg16.preprocess_input does, inside the model."""
    return VGG16Preprocess(name=name)


def flatten_dense_head(num_classes: int, units: int = 1024, dropout: float = 0.0,
                       name: str = "flatten_dense_head"):
    """The articles' head: Flatten -> Dense(units, relu) -> Dense(num_classes, softmax)."""
    layers = [keras.layers.Flatten(name="flatten"), keras.layers.Dense(units, activation="relu",
                                                                        name="fc")]
    if dropout:
        layers.append(keras.layers.Dropout(dropout, name="dropout"))
    layers.append(keras.layers.Dense(num_classes, activation="softmax", name="predictions",
                                     dtype="float32"))
    return keras.Sequential(layers, name=name)


def gap_head(num_classes: int, dropout: float = 0.2, name: str = "gap_head"):
    """A small head: GlobalAveragePooling2D -> Dropout -> Dense(num_classes, softmax)."""
    return keras.Sequential(
        [
            keras.layers.GlobalAveragePooling2D(name="gap"),
            keras.layers.Dropout(dropout, name="dropout"),
            keras.layers.Dense(num_classes, activation="softmax", name="predictions",
                               dtype="float32"),
        ],
        name=name,
    )


def build_classifier(base, head, *, augmentation=None, name: str = "classifier"):
    """Input -> [augmentation] -> VGG16 preprocessing -> base(training=False) -> head.

    The base is called with training=False so that it stays in inference mode even when
    it is later unfrozen for fine-tuning (the Keras idiom; VGG16 has no BatchNorm, but
    bases that do would otherwise wreck their statistics).
    """
    inputs = keras.Input(shape=base.input_shape[1:], name="image")
    x = augmentation(inputs) if augmentation is not None else inputs
    x = vgg16_preprocess()(x)
    x = base(x, training=False)
    outputs = head(x)
    return keras.Model(inputs, outputs, name=name)


def augmentation_layers(seed: int = 0, flip: bool = True, rotation: float = 0.1,
                        zoom: float = 0.1, name: str = "augmentation"):
    """Random flip, rotation and zoom, active only during training."""
    layers = []
    if flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed))
    if rotation:
        layers.append(keras.layers.RandomRotation(rotation, seed=seed))
    if zoom:
        layers.append(keras.layers.RandomZoom(zoom, seed=seed))
    return keras.Sequential(layers, name=name)


# --------------------------------------------------------------------------- freezing


def layer_names(model) -> list[str]:
    return [layer.name for layer in model.layers]


def freeze(model) -> None:
    """Make every layer of `model` non-trainable."""
    model.trainable = False


def unfreeze_from(model, layer_name: str) -> list[str]:
    """Freeze every layer before `layer_name` and unfreeze it and every later layer.

    Layers are chosen by name (``block5_conv1``), never by index. Returns the names of
    the trainable layers. Remember to compile again afterwards.
    """
    names = layer_names(model)
    if layer_name not in names:
        raise ValueError(
            f"No layer named {layer_name!r} in {model.name}. Layers: {', '.join(names)}."
        )
    model.trainable = True
    start = names.index(layer_name)
    for i, layer in enumerate(model.layers):
        layer.trainable = i >= start
    return [layer.name for layer in model.layers if layer.trainable]


def count_params(model, trainable: bool | None = None) -> int:
    """Parameter count: all (None), trainable (True) or frozen (False)."""
    if trainable is None:
        weights = model.weights
    else:
        weights = model.trainable_weights if trainable else model.non_trainable_weights
    return int(sum(np.prod(w.shape) for w in weights))


@dataclass(frozen=True)
class LayerRow:
    layer: str
    kind: str
    trainable: bool
    params: int
    trainable_params: int


def trainable_table(model, layers: Sequence | None = None) -> list[LayerRow]:
    """One row per layer: name, type, trainable flag, parameters, trainable parameters."""
    rows = []
    for layer in layers if layers is not None else model.layers:
        rows.append(
            LayerRow(
                layer=layer.name,
                kind=type(layer).__name__,
                trainable=bool(layer.trainable),
                params=count_params(layer),
                trainable_params=count_params(layer, trainable=True),
            )
        )
    return rows


def format_table(rows: Sequence[LayerRow]) -> str:
    """The trainable table as fixed-width text, with a total line."""
    width = max([len(r.layer) for r in rows] + [5])
    lines = [f"{'layer':<{width}}  {'type':<22} {'trainable':>9} {'params':>12} {'trainable':>12}"]
    for r in rows:
        lines.append(f"{r.layer:<{width}}  {r.kind:<22} {str(r.trainable):>9} {r.params:>12,} "
                     f"{r.trainable_params:>12,}")
    total = sum(r.params for r in rows)
    total_t = sum(r.trainable_params for r in rows)
    lines.append(f"{'total':<{width}}  {'':<22} {'':>9} {total:>12,} {total_t:>12,}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- L2-SP


class L2SP(keras.regularizers.Regularizer):
    """L2-SP penalty λ/2 ‖w − w0‖²: stay near the pretrained weights w0, not near zero.

    Plain weight decay pulls every weight towards 0, which forgets what pretraining learnt;
    L2-SP (Li, Grandvalet & Davoine, 2018) pulls towards the starting point instead.
    """

    def __init__(self, reference, lam: float):
        self.reference = np.array(reference, dtype="float32")
        self.lam = float(lam)

    def __call__(self, x):
        return 0.5 * self.lam * keras.ops.sum(keras.ops.square(x - self.reference))


def apply_l2_sp(model, lam: float) -> int:
    """Attach an L2-SP penalty, anchored at the current values, to every trainable weight.

    Call it once the model holds its pretrained weights and the layers to fine-tune are
    unfrozen; frozen weights are skipped (they cannot move). The penalties appear in
    ``model.losses`` and are added to the training loss by ``fit``. They are a training-time
    term: a saved model does not carry them. Returns the number of weights penalised.
    """
    count = 0
    for variable in model.trainable_weights:
        variable.regularizer = L2SP(keras.ops.convert_to_numpy(variable), lam)
        count += 1
    return count


def remove_regularizers(model) -> None:
    """Take every weight penalty off `model` (for example before comparing with weight decay)."""
    for variable in model.weights:
        variable.regularizer = None


# --------------------------------------------------------------------------- baselines and splits


def small_convnet(input_shape: tuple[int, int, int], num_classes: int, *, augmentation=None,
                  name: str = "scratch_convnet"):
    """A from-scratch baseline: three conv blocks, global pooling, a softmax layer."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = augmentation(inputs) if augmentation is not None else inputs
    x = keras.layers.Rescaling(1 / 255.0)(x)
    for filters in (32, 64, 128):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.3)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def feature_head_model(head, feature_shape, name: str = "head_on_features"):
    """A head as a model of its own, taking cached feature maps as input."""
    inputs = keras.Input(shape=tuple(feature_shape), name="features")
    return keras.Model(inputs, head(inputs), name=name)


def cached_layer_for(base, first_trainable: str) -> str:
    """The layer whose output can be cached when fine-tuning from `first_trainable` on."""
    names = layer_names(base)
    if first_trainable not in names:
        raise ValueError(f"No layer named {first_trainable!r} in {base.name}. Layers: {', '.join(names)}.")
    index = names.index(first_trainable)
    if index <= 1:
        raise ValueError(f"Fine-tuning from {first_trainable!r} trains everything: nothing to cache.")
    return names[index - 1]


def top_of_base(base, head, first_trainable: str, name: str = "top_on_cached_features"):
    """The layers of `base` from `first_trainable` on, plus `head`, as a model on cached features.

    The layers are *shared* with `base` (the same objects, the same weights): training this
    model trains the real network, so fine-tuning block5 can run on cached block4_pool outputs
    instead of pushing every image through blocks 1-4 at every epoch. Valid without
    augmentation (cached features are fixed) and with layers that behave the same in training
    and inference (VGG16 has no BatchNorm or Dropout).
    """
    cached = cached_layer_for(base, first_trainable)
    names = layer_names(base)
    inputs = keras.Input(shape=base.get_layer(cached).output.shape[1:], name=f"{cached}_features")
    x = inputs
    for layer in base.layers[names.index(first_trainable):]:
        x = layer(x)
    return keras.Model(inputs, head(x), name=name)


def weights_for_profile(profile, override: str = "") -> str | None:
    """The VGG16 weights a notebook uses: the profile's, unless `override` is 'random',
    'imagenet' or a file path ('random' times the fast profile offline: same compute)."""
    if not override:
        return profile.weights
    return None if override == "random" else override


def head_of(model):
    """The classifier head of a course model: its layer whose name ends in '_head' (by name)."""
    heads = [layer for layer in model.layers if layer.name.endswith("_head")]
    if len(heads) != 1:
        raise ValueError(f"Expected one layer named '*_head' in {model.name}, found "
                         f"{[h.name for h in heads] or 'none'}. Layers: {', '.join(layer_names(model))}.")
    return heads[0]
