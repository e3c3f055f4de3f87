"""The parts of a course model, and the few model helpers the notebooks reuse.

Notebook 03 writes the whole chain out with the Functional API:
``keras.Input -> augmentation -> Preprocess -> conv_base(x, training=False) -> head``.
``Chain`` is that chain's one owner: it holds each part by attribute, builds it the same
way for the repeated runs of notebook 05 (``Chain.build``), and recovers the parts of a model
loaded from a ``.keras`` file (``Chain.of``), using the layer names notebook 03 gives them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import backbones
from ._quiet import keras as _load_keras

__all__ = [
    "L2SP", "apply_l2_sp", "articles_head", "augmentation", "Chain", "count_params",
    "data_loss", "gap_head", "Preprocess", "remove_regularizers", "small_convnet",
    "top_of_base", "trainable_summary", "unfreeze_from",
]

keras = _load_keras()  # TensorFlow's C++ start-up lines kept out of notebooks

# The names notebook 03 gives the parts of the chain; Chain.of finds them by these names.
BASE, HEAD, PREPROCESS, AUGMENTATION = "conv_base", "head", "preprocess", "augmentation"


@keras.saving.register_keras_serializable(package="course_utils")
class Preprocess(keras.layers.Layer):
    """A backbone's own ``preprocess_input``, as a layer inside the model.

    Inside the model, a saved model takes raw [0, 255] RGB images and nobody has to remember
    to preprocess at prediction time. Taught in notebook 03, section 2.
    """

    def __init__(self, backbone: str, **kwargs):
        super().__init__(**kwargs)
        self.backbone = backbones.get(backbone).name
        self._fn = backbones.get(backbone).preprocess_input()

    def call(self, inputs):
        # Keras' function works on backend tensors with keras.ops (stack, not a negative
        # slice step, which the PyTorch backend rejects), so the layer runs on every backend.
        # It divides in place (x /= 127.5): on a copy, so a PyTorch caller's tensor is untouched.
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


def articles_head(num_classes: int, name: str = HEAD):
    """The articles' Flatten -> Dense(1024, relu) -> Dense(softmax) (notebook 03, section 4)."""
    return keras.Sequential([keras.layers.Flatten(),
                             keras.layers.Dense(1024, activation="relu"),
                             keras.layers.Dense(num_classes, activation="softmax", dtype="float32")],
                            name=name)


@dataclass
class Chain:
    """A course model and its parts: augmentation (or None), preprocess, base, head."""

    model: keras.Model
    base: keras.Model | None  # None for a head trained on cached features
    head: keras.layers.Layer
    preprocess: keras.layers.Layer | None = None
    augmentation: keras.layers.Layer | None = None

    @classmethod
    def build(cls, backbone: str, base, head, *, augment: keras.layers.Layer | None = None,
              base_training: bool = False, name: str = "classifier") -> Chain:
        """Input -> [augmentation] -> Preprocess -> base(training=...) -> head.

        Written out in notebook 03, section 5; this is the same chain for the repeated runs.
        """
        inputs = keras.Input(shape=base.input_shape[1:], name="image")
        preprocess = Preprocess(backbone, name=PREPROCESS)
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
    """Parameter count: all (None), trainable (True) or frozen (False)."""
    if trainable is None:
        weights = model.weights
    else:
        weights = model.trainable_weights if trainable else model.non_trainable_weights
    return int(sum(np.prod(w.shape) for w in weights))


def trainable_summary(base, first: str | None = None) -> str:
    """One line per group of layers (before / from `first`) with trainable and frozen counts."""
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


def small_convnet(input_shape: Sequence[int], num_classes: int, *, augment=None, name: str = "scratch"):
    """The from-scratch baseline of notebook 03, section 6: three conv layers, GAP, softmax."""
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = augment(inputs) if augment is not None else inputs
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
    """
    count = 0
    for variable in model.trainable_weights:
        variable.regularizer = L2SP(keras.ops.convert_to_numpy(variable), lam)
        count += 1
    return count


def remove_regularizers(model) -> None:
    """Take every weight penalty off `model` (before saving, or comparing with weight decay)."""
    for variable in model.weights:
        variable.regularizer = None


def data_loss(model, x, y, batch_size: int = 64) -> float:
    """Mean cross-entropy of `model` on (x, y), without any regularisation term."""
    proba = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(keras.losses.sparse_categorical_crossentropy(y, proba)))
