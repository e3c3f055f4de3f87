"""Each method of the course as one function, for repeated runs (notebook 05's comparison).

Notebooks 03 and 04 write every step out, one Keras call at a time; each recipe here runs the
same method so that notebook 05 can train it for several seeds and label counts. The
docstrings say where each method is taught and how the recipe differs (fine-tuning runs on
cached features, without augmentation: the cheap form of notebook 04, section 4). Methods are
keyed by an identifier (``METHODS``); the labels are for display. Every recipe returns a
``Trained``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from . import data, features, models
from ._quiet import keras as _load_keras
from .training import (
    FINE_TUNE_EPOCHS_FACTOR,
    FINE_TUNE_LR,
    FINE_TUNE_PATIENCE,
    FROZEN_HEAD_LR,
    HEAD_EPOCHS_FACTOR,
    HEAD_LR,
    HEAD_MOMENTUM,
    HEAD_PATIENCE,
    L2_SP,
    PATIENCE,
)

__all__ = [
    "METHODS", "Context", "fine_tuned", "frozen_augmented", "head_on_features", "scratch",
    "subset", "Trained",
]

keras = _load_keras()  # TensorFlow's C++ start-up lines kept out of notebooks

METHODS = {
    "scratch": "scratch convnet",
    "head_articles": "Flatten+Dense(1024) head on features (articles)",
    "head_gap": "GAP head on features",
    "frozen_aug": "frozen base + augmentation",
    "fine_tune": "fine-tuned last block",
    "fine_tune_l2sp": f"fine-tuned last block + L2-SP {L2_SP:g}",
}


@dataclass
class Context:
    """A run (``runs.Run``), a seed, and the base every method of that seed starts from.

    Its steps are taught in notebook 03, sections 4-6 and notebook 04, sections 2-4.
    """

    run: object
    seed: int
    base: object = None
    start_weights: list = field(default_factory=list)

    def __post_init__(self):
        if self.base is None:
            keras.utils.set_random_seed(self.seed)  # random weights differ by seed
            self.base = self.run.build_base()
        if not self.start_weights:  # a shared base comes with the weights it starts from
            self.start_weights = [w.copy() for w in self.base.get_weights()]

    def with_seed(self, seed: int) -> Context:
        """The same run with another seed: pretrained weights are shared, random ones redrawn."""
        if self.run.pretrained:
            return Context(self.run, seed, self.base, self.start_weights)
        return Context(self.run, seed)

    def fresh_base(self):
        """The base with its starting weights, frozen (notebook 03, section 5)."""
        self.base.set_weights(self.start_weights)
        self.base.trainable = False
        return self.base

    def features(self, split: data.Split, role: str, layer: str | None = None):
        """Features of a split; a subset of the training split is cut from the whole one's."""
        whole = self.run.data.splits()[role]
        x, y, _ = features.extract_run(self.run, self.base, role, layer)
        if split is whole:
            return x, y
        position = {p: i for i, p in enumerate(whole.paths)}
        idx = [position[p] for p in split.paths]
        return x[idx], y[idx]

    def pipeline(self, split: data.Split, shuffle: bool = False):
        return data.to_dataset(split, self.run.image_size, self.run.profile.batch_size,
                               shuffle=shuffle, seed=self.seed)


@dataclass
class Trained:
    """One method trained by a recipe: its chain, training seconds and test probabilities.

    Used in notebook 05, section 1.
    """

    key: str  # an identifier of METHODS
    chain: models.Chain
    seconds: float
    test_proba: np.ndarray
    weights: list | None = None  # a snapshot, when the chain shares its base with later runs

    def restore(self) -> models.Chain:
        """The chain with this result's weights back in place (the base is shared between runs)."""
        if self.weights is not None:
            self.chain.model.set_weights(self.weights)
        return self.chain


def subset(split: data.Split, per_class: int | None) -> data.Split:
    """The first `per_class` images of each class of a split (splits are already shuffled).

    Used in notebook 05, section 5.
    """
    if per_class is None:
        return split
    taken, counts = [], {}
    for p, y in zip(split.paths, split.labels):
        if counts.get(y, 0) < per_class:
            taken.append((p, y))
            counts[y] = counts.get(y, 0) + 1
    return data.Split(tuple(p for p, _ in taken), tuple(y for _, y in taken))


def _compile(model, optimizer) -> None:
    # "xent" is the data loss alone: val_loss would include an L2-SP penalty (notebook 04, section 6).
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", keras.metrics.SparseCategoricalCrossentropy(name="xent")])


def _stop(patience: int, start_from_epoch: int = 0):
    """EarlyStopping on the validation data loss, keeping the best epoch (as notebooks 03 and 04 do)."""
    return keras.callbacks.EarlyStopping(monitor="val_xent", patience=patience, restore_best_weights=True,
                                         start_from_epoch=start_from_epoch)


def _timed_fit(model, *args, patience: int = PATIENCE, **kwargs) -> float:
    start = time.perf_counter()
    model.fit(*args, verbose=0, callbacks=[_stop(patience)], **kwargs)
    return time.perf_counter() - start


def scratch(ctx: Context, part: data.Split | None = None) -> Trained:
    """A small convnet from random weights, with augmentation (notebook 03, section 6)."""
    run, part = ctx.run, part or ctx.run.data.train
    keras.utils.set_random_seed(ctx.seed)
    model = models.small_convnet(run.input_shape, run.data.num_classes, augment=models.augmentation(ctx.seed))
    _compile(model, keras.optimizers.Adam(learning_rate=HEAD_LR))
    secs = _timed_fit(model, ctx.pipeline(part, shuffle=True), validation_data=ctx.pipeline(run.data.val),
                      epochs=run.profile.epochs)
    chain = models.Chain.of(model)  # its last layer is named 'head'
    return Trained("scratch", chain, secs, model.predict(ctx.pipeline(run.data.test), verbose=0))


def head_on_features(ctx: Context, kind: str = "head_gap", part: data.Split | None = None) -> Trained:
    """Workflow A: a head on cached features, trained as notebook 03, section 4 trains it.

    The GAP head with Adam(1e-3) for at least ``models.HEAD_MIN_STEPS`` steps (a small training set repeated
    within an epoch: ``models.head_schedule``); the articles' head with
    article 000's SGD(1e-3, momentum 0.9) for 4 × the profile's epochs.
    """
    run, part = ctx.run, part or ctx.run.data.train
    ctx.fresh_base()
    start = time.perf_counter()
    x_tr, y_tr = ctx.features(part, "train")
    x_va, y_va = ctx.features(run.data.val, "val")
    x_te, _ = ctx.features(run.data.test, "test")
    keras.utils.set_random_seed(ctx.seed)
    head = models.gap_head(run.data.num_classes) if kind == "head_gap" else models.articles_head(run.data.num_classes)
    chain = models.Chain.on_features(head, x_tr.shape[1:])
    if kind == "head_gap":  # the course's recipe: Adam, at least models.HEAD_MIN_STEPS steps
        _compile(chain.model, keras.optimizers.Adam(learning_rate=HEAD_LR))
        epochs, first_stop, repeat = models.head_schedule(len(x_tr), run.profile.batch_size)
    else:  # article 000's: SGD(1e-3, momentum 0.9) for a fixed number of epochs
        _compile(chain.model, keras.optimizers.SGD(learning_rate=HEAD_LR, momentum=HEAD_MOMENTUM))
        epochs, first_stop, repeat = HEAD_EPOCHS_FACTOR * run.profile.epochs, 0, 1
    if repeat > 1:  # a small training set, repeated within an epoch (models.head_schedule)
        x_tr, y_tr = np.concatenate([x_tr] * repeat), np.concatenate([y_tr] * repeat)
    chain.model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=epochs,
                    batch_size=run.profile.batch_size, callbacks=[_stop(HEAD_PATIENCE, first_stop)], verbose=0)
    return Trained(kind, chain, time.perf_counter() - start, chain.model.predict(x_te, verbose=0))


def frozen_augmented(ctx: Context, part: data.Split | None = None) -> Trained:
    """Workflow B: the frozen base inside the model, GAP head, augmentation (notebook 03, section 5)."""
    run, part = ctx.run, part or ctx.run.data.train
    base = ctx.fresh_base()
    keras.utils.set_random_seed(ctx.seed)
    chain = models.Chain.build(run.backbone.name, base, models.gap_head(run.data.num_classes),
                               augment=models.augmentation(ctx.seed), name="frozen_base_augmented")
    _compile(chain.model, keras.optimizers.Adam(learning_rate=FROZEN_HEAD_LR))  # a head alone, few steps per epoch (03, section 5)
    secs = _timed_fit(chain.model, ctx.pipeline(part, shuffle=True), validation_data=ctx.pipeline(run.data.val),
                      epochs=run.profile.epochs)
    return Trained("frozen_aug", chain, secs, chain.model.predict(ctx.pipeline(run.data.test), verbose=0))


def fine_tuned(ctx: Context, start: Trained, *, l2_sp: float | None = None, part: data.Split | None = None,
               learning_rate: float = FINE_TUNE_LR, base_training: bool = False) -> Trained:
    """Fine-tune the last block (+ head) of `start`'s model on cached features (notebook 04).

    Unfreezes from the backbone's ``fine_tune_from`` layer (section 2), trains on cached
    ``cache_at`` outputs (section 4, no augmentation), optionally with L2-SP (section 7).
    `start` is a frozen-base or feature-head result; a copy of its head is trained, so `start`
    stays as it was. The base is shared with the context: ``restore()`` puts this result's
    weights back before using its chain after another recipe ran.

    Its steps are taught in notebook 04, section 2 and section 4; used in notebook 05, section 4.
    """
    run, part = ctx.run, part or ctx.run.data.train
    head = keras.models.clone_model(start.chain.head)
    head.set_weights(start.chain.head.get_weights())
    base = ctx.fresh_base()
    models.unfreeze_from(base, run.backbone.fine_tune_from)
    begin = time.perf_counter()
    x_tr, y_tr = ctx.features(part, "train", run.backbone.cache_at)
    x_va, y_va = ctx.features(run.data.val, "val", run.backbone.cache_at)
    top = models.top_of_base(base, run.backbone.cache_at)
    inputs = keras.Input(shape=x_tr.shape[1:])
    model = keras.Model(inputs, head(top(inputs, training=base_training)), name="fine_tune_on_cached")
    keras.utils.set_random_seed(ctx.seed)
    _compile(model, keras.optimizers.Adam(learning_rate=learning_rate))
    try:
        if l2_sp:
            models.apply_l2_sp(model, l2_sp)
        # Cached features make an epoch cheap: more epochs than notebook 04's full-model fit, with
        # the best epoch on the validation data loss kept (notebook 04, section 3's EarlyStopping).
        model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=FINE_TUNE_EPOCHS_FACTOR * run.profile.fine_tune_epochs,
                  batch_size=run.profile.batch_size, callbacks=[_stop(FINE_TUNE_PATIENCE)], verbose=0)
    finally:  # the penalties live on variables shared with the context's base
        models.remove_regularizers(model)
    seconds = time.perf_counter() - begin
    # The test images through the same layers, from their cached block inputs: the layers below
    # cache_at are frozen, so this is the whole chain's prediction without running them again.
    x_te, _ = ctx.features(run.data.test, "test", run.backbone.cache_at)
    proba = keras.Model(inputs, head(top(inputs, training=False))).predict(x_te, verbose=0)
    base.trainable = False
    chain = models.Chain.build(run.backbone.name, base, head, name="fine_tuned")
    key = "fine_tune_l2sp" if l2_sp else "fine_tune"
    return Trained(key, chain, start.seconds + seconds, proba, weights=chain.model.get_weights())
