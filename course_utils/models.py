"""The parts of a course model, and the few model helpers the notebooks reuse.

Notebook 03 writes the whole chain out with the Functional API:
``keras.Input -> augmentation -> preprocessing -> conv_base(x, training=False) -> head``.
The preprocessing is made of Keras' own layers (``preprocessing``), so a saved course model
loads with plain ``keras.models.load_model``, without course_utils.
``Chain`` is that chain's one owner: it holds each part by attribute, builds it the same
way for the repeated runs of notebook 05 (``Chain.build``), and recovers the parts of a model
loaded from a ``.keras`` file (``Chain.of``), using the layer names notebook 03 gives them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import backbones
from ._quiet import keras as _load_keras

__all__ = [
    "HEAD_MIN_EPOCH_STEPS", "HEAD_MIN_STEPS", "HeadSchedule", "L2SP", "apply_l2_sp", "articles_head", "augmentation", "Chain", "count_params",
    "data_loss", "gap_head", "head_schedule", "Preprocess", "preprocessing", "remove_regularizers", "small_convnet",
    "top_of_base", "trainable_summary", "unfreeze_from",
]

keras = _load_keras()  # TensorFlow's C++ start-up lines kept out of notebooks

# The names notebook 03 gives the parts of the chain; Chain.of finds them by these names.
BASE, HEAD, PREPROCESS, AUGMENTATION = "conv_base", "head", "preprocess", "augmentation"


# keras.applications' two preprocessing modes, in Keras' own layers. "caffe" (VGG16, ResNet50):
# RGB -> BGR, then minus the ImageNet mean pixel (in BGR order), no scaling; "tf" (MobileNet):
# [0, 255] -> [-1, 1]. See keras.applications.imagenet_utils.preprocess_input.
_MODES = {"vgg16": "caffe", "resnet50": "caffe", "mobilenet": "tf"}
IMAGENET_MEAN_BGR = (103.939, 116.779, 123.68)


def preprocessing(backbone: str, name: str = PREPROCESS) -> keras.Model:
    """The backbone's own ``preprocess_input`` as a small model of Keras' own layers.

    Inside the course's models, so a saved model takes raw [0, 255] RGB images and nobody has
    to remember to preprocess at prediction time; built only from Keras' layers and ops, so
    ``keras.models.load_model`` reads a saved model without course_utils, and ``model.export``
    (SavedModel, TFLite) converts it. Taught in notebook 03, section 2:

    - VGG16, ResNet50 ("caffe"): ``keras.ops.flip(x, axis=-1)`` (RGB -> BGR), then
      ``keras.layers.Normalization(mean=IMAGENET_MEAN_BGR, variance=[1, 1, 1])``: x - mean,
      divided by sqrt(1) = 1 exactly;
    - MobileNet ("tf"): ``keras.layers.Rescaling(1 / 127.5, offset=-1)``.

    Equal to ``keras.applications.<module>.preprocess_input`` within float32 rounding (tested
    to 1e-4). ``keras.ops.flip`` rather than ``x[..., ::-1]``: a negative slice step breaks
    the PyTorch backend. The input takes any image size.
    """
    b = backbones.get(backbone)
    mode = _MODES.get(b.module)
    if mode is None:
        raise ValueError(f"No preprocessing known for {b.title} (keras.applications.{b.module}); "
                         f"known: {', '.join(sorted(_MODES))}. Add its mode to models._MODES.")
    inputs = keras.Input(shape=(None, None, 3), name=f"{name}_rgb")
    if mode == "tf":
        outputs = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name=f"{name}_to_pm1")(inputs)
    else:
        bgr = keras.ops.flip(inputs, axis=-1)
        outputs = keras.layers.Normalization(mean=list(IMAGENET_MEAN_BGR), variance=[1.0, 1.0, 1.0],
                                             name=f"{name}_minus_mean")(bgr)
    return keras.Model(inputs, outputs, name=name)


@keras.saving.register_keras_serializable(package="course_utils")
class Preprocess(keras.layers.Layer):
    """The course's former preprocessing layer, kept only so that older saved models still load.

    New models use ``preprocessing`` (Keras' own layers): a model holding this layer needs
    course_utils to load. Do not use it for new models.
    """

    def __init__(self, backbone: str, **kwargs):
        super().__init__(**kwargs)
        self.backbone = backbones.get(backbone).name
        self._fn = backbones.get(backbone).preprocess_input()

    def call(self, inputs):
        return self._fn(keras.ops.copy(keras.ops.cast(inputs, self.compute_dtype)))

    def get_config(self):
        return {**super().get_config(), "backbone": self.backbone}


def augmentation(seed: int = 0, name: str = AUGMENTATION):
    """Random flip, rotation and zoom, active only in training (notebook 03, section 5)."""
    return keras.Sequential([keras.layers.RandomFlip("horizontal", seed=seed),
                             keras.layers.RandomRotation(0.1, seed=seed),
                             keras.layers.RandomZoom(0.1, seed=seed)], name=name)


def gap_head(num_classes: int, dropout: float = 0.2, name: str = HEAD):
    """GlobalAveragePooling2D -> Dropout -> Dense(softmax) (notebook 03, section 4)."""
    return keras.Sequential([keras.layers.GlobalAveragePooling2D(),
                             keras.layers.Dropout(dropout),
                             keras.layers.Dense(num_classes, activation="softmax", dtype="float32")],
                            name=name)


# A head on cached features learns by optimizer steps, not epochs: with 10 images per class an epoch
# is one step, and 20 epochs of SGD(1e-3) left the head at its random start (feature extraction
# below chance on 2 classes, benchmarks/results/transfer_study.md). Heads get at least this many
# Adam steps before early stopping may end them (notebook 03, section 4).
HEAD_MIN_STEPS = 300
# Every epoch ends with a validation pass and the callbacks: on cached features that costs more than
# the steps (measured on 2 cores: 40-100 ms an epoch against a few ms a step), so 300 one-step epochs
# spent 20 s in it. A training set smaller than this many full batches is repeated within an epoch.
HEAD_MIN_EPOCH_STEPS = 8


class HeadSchedule(NamedTuple):
    """How a head on cached features is fit: `repeat` copies of the training set per epoch, for `epochs`
    epochs, EarlyStopping allowed to end it from epoch `start_from_epoch`."""

    epochs: int
    start_from_epoch: int
    repeat: int


def head_schedule(n_train: int, batch_size: int, min_epochs: int = 20) -> HeadSchedule:
    """(epochs, start_from_epoch, repeat) giving a head at least ``HEAD_MIN_STEPS`` optimizer steps.

    EarlyStopping's ``start_from_epoch`` keeps it from stopping before half of those steps. A training
    set smaller than ``HEAD_MIN_EPOCH_STEPS`` full batches is repeated `repeat` times within an epoch, so
    that the steps are not spent mostly in per-epoch validation. Written out in notebook 03, section 4.
    """
    if n_train < 1:
        raise ValueError(f"a head needs training images: got {n_train}")
    repeat = max(1, -(-HEAD_MIN_EPOCH_STEPS * batch_size // n_train))
    steps = -(-n_train * repeat // batch_size)  # batches per epoch
    needed = -(-HEAD_MIN_STEPS // steps)
    return HeadSchedule(max(min_epochs, needed), needed // 2, repeat)


def articles_head(num_classes: int, name: str = HEAD):
    """The articles' Flatten -> Dense(1024, relu) -> Dense(softmax) (notebook 03, section 4)."""
    return keras.Sequential([keras.layers.Flatten(),
                             keras.layers.Dense(1024, activation="relu"),
                             keras.layers.Dense(num_classes, activation="softmax", dtype="float32")],
                            name=name)


@dataclass
class Chain:
    """A course model and its parts: augmentation (or None), preprocess, base, head.

    The chain is written out in notebook 03, section 5; used in notebook 04, section 1.
    """

    model: keras.Model
    base: keras.Model | None  # None for a head trained on cached features
    head: keras.layers.Layer
    preprocess: keras.layers.Layer | None = None  # models.preprocessing (a small model)
    augmentation: keras.layers.Layer | None = None

    @classmethod
    def build(cls, backbone: str, base, head, *, augment: keras.layers.Layer | None = None,
              base_training: bool = False, name: str = "classifier") -> Chain:
        """Input -> [augmentation] -> preprocessing -> base(training=...) -> head.

        Written out in notebook 03, section 5; this is the same chain for the repeated runs.
        """
        inputs = keras.Input(shape=base.input_shape[1:], name="image")
        preprocess = preprocessing(backbone, name=PREPROCESS)
        x = augment(inputs) if augment is not None else inputs
        outputs = head(base(preprocess(x), training=base_training))
        return cls(keras.Model(inputs, outputs, name=name), base, head, preprocess, augment)

    @classmethod
    def on_features(cls, head, feature_shape, name: str = "head_on_features") -> Chain:
        """A head as a model of its own, taking cached feature maps (notebook 03, section 4)."""
        inputs = keras.Input(shape=tuple(feature_shape), name="features")
        return cls(keras.Model(inputs, head(inputs), name=name), None, head)

    @classmethod
    def of(cls, model: keras.Model) -> Chain:
        """The parts of a course model, e.g. one loaded from a ``.keras`` file."""
        names = {layer.name for layer in model.layers}
        if HEAD not in names:
            raise ValueError(f"{model.name} is not a course model: no layer named {HEAD!r} "
                             f"(layers: {', '.join(sorted(names))}). Build it as notebook 03 does.")

        def part(name):
            return model.get_layer(name) if name in names else None

        return cls(model, part(BASE), part(HEAD), part(PREPROCESS), part(AUGMENTATION))

    def without_augmentation(self, name: str = "no_augmentation") -> Chain:
        """The same layers (shared weights) without the augmentation, e.g. for Grad-CAM."""
        inputs = keras.Input(shape=self.model.input_shape[1:], name="image")
        outputs = self.head(self.base(self.preprocess(inputs), training=False))
        return Chain(keras.Model(inputs, outputs, name=name), self.base, self.head, self.preprocess)


def top_of_base(base, cache_at: str):
    """The part of `base` after layer `cache_at`, as a model on that layer's output.

    Its layers are *shared* with `base` (the same objects and weights): training it trains the
    real network. Fine-tuning the last block can then run on cached `cache_at` outputs instead
    of pushing every image through the frozen blocks each epoch (notebook 04, section 4). Valid
    without augmentation and with the frozen part in inference mode.
    """
    return keras.Model(base.get_layer(cache_at).output, base.output, name=f"{base.name}_after_{cache_at}")


def unfreeze_from(base, first: str) -> list[str]:
    """Freeze every layer before `first`, unfreeze it and every later one; returns their names.

    Taught in notebook 04, section 2 (a loop over ``base.layers``, by name). Compile again
    afterwards: ``trainable`` is read when the training step is built.
    """
    names = [layer.name for layer in base.layers]
    if first not in names:
        raise ValueError(f"No layer named {first!r} in {base.name}. Layers: {', '.join(names)}.")
    base.trainable = True
    reached = False
    for layer in base.layers:
        reached = reached or layer.name == first
        layer.trainable = reached
    return [layer.name for layer in base.layers if layer.trainable]


def count_params(model, trainable: bool | None = None) -> int:
    """Parameter count: all (None), trainable (True) or frozen (False).

    Used in notebook 01, section 2 (and in notebooks 04, 08).
    """
    if trainable is None:
        weights = model.weights
    else:
        weights = model.trainable_weights if trainable else model.non_trainable_weights
    return int(sum(np.prod(w.shape) for w in weights))


def trainable_summary(base, first: str | None = None) -> str:
    """One line per group of layers (before / from `first`) with trainable and frozen counts.

    Used in notebook 04, section 2.
    """
    names = [layer.name for layer in base.layers]
    cut = names.index(first) if first else len(names)
    groups = {f"layers before {first}" if first else "all layers": base.layers[:cut]}
    if first:
        groups[f"{first} and later"] = base.layers[cut:]
    lines = [f"{'':<34} {'layers':>6} {'trainable params':>17} {'frozen params':>14}"]
    for label, layers in groups.items():
        t = sum(count_params(layer, trainable=True) for layer in layers)
        f = sum(count_params(layer, trainable=False) for layer in layers)
        lines.append(f"{label:<34} {len(layers):>6} {t:>17,} {f:>14,}")
    return "\n".join(lines)


# The scratch baseline works on images of at most this side: a convnet from random weights has no
# ImageNet-scale filters to feed, and at 224 px its epochs (augmentation included) cost about 5 times
# those at 96 px, which the fast profile's budget cannot pay (README, "Profiles").
SCRATCH_SIDE = 96


def small_convnet(input_shape: Sequence[int], num_classes: int, *, augment=None, name: str = "scratch"):
    """The from-scratch baseline of notebook 03, section 6: three conv layers, GAP, softmax.

    Images larger than ``SCRATCH_SIDE`` are resized to it first, inside the model.
    """
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = inputs
    if max(input_shape[:2]) > SCRATCH_SIDE:
        x = keras.layers.Resizing(SCRATCH_SIDE, SCRATCH_SIDE, name="downsize")(x)
    x = augment(x) if augment is not None else x
    x = keras.layers.Rescaling(1 / 255.0)(x)
    # A strided first convolution: a quarter of the compute on a laptop CPU, same depth.
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
    for filters in (64, 128):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.3)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name=HEAD)(x)
    return keras.Model(inputs, outputs, name=name)


# --------------------------------------------------------------------------- L2-SP


class L2SP(keras.regularizers.Regularizer):
    """L2-SP penalty λ/2 ‖w − w0‖²: stay near the pretrained weights w0, not near zero.

    Plain weight decay pulls every weight towards 0, which forgets what pretraining learnt;
    L2-SP (Li, Grandvalet & Davoine, 2018) pulls towards the starting point instead.

    Used in notebook 02, section 7.
    """

    def __init__(self, reference, lam: float):
        # A tensor, not a NumPy array: every traced train/test step would embed an array as a
        # constant of its graph (several copies of the weights each), a tensor is captured by
        # reference. With VGG16 that was about 1 GB per fine-tuning run, beyond Binder's 2 GB.
        self.reference = keras.ops.convert_to_tensor(np.array(reference, dtype="float32"))
        self.lam = float(lam)

    def __call__(self, x):
        return 0.5 * self.lam * keras.ops.sum(keras.ops.square(x - self.reference))


def apply_l2_sp(model, lam: float) -> int:
    """Attach an L2-SP penalty, anchored at the current values, to every trainable weight.

    Call it once the layers to fine-tune are unfrozen; frozen weights are skipped. The
    penalties are added to the training loss by ``fit`` (and to ``val_loss`` too: compare
    data losses with ``data_loss``). Returns the number of weights penalised.

    Used in notebook 04, section 4.
    """
    count = 0
    for variable in model.trainable_weights:
        variable.regularizer = L2SP(keras.ops.convert_to_numpy(variable), lam)
        count += 1
    return count


def remove_regularizers(model) -> None:
    """Take every weight penalty off `model` (before saving, or comparing with weight decay).

    Used in notebook 04, section 4.
    """
    for variable in model.weights:
        variable.regularizer = None


def data_loss(model, x, y, batch_size: int = 64) -> float:
    """Mean cross-entropy of `model` on (x, y), without any regularisation term.

    Used in notebook 04, section 4.
    """
    proba = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(keras.losses.sparse_categorical_crossentropy(y, proba)))
