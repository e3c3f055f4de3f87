"""Each method of the course as one function, for repeated runs (notebook 05's comparison).

Notebooks 03 and 04 show these steps one call at a time; here the same course_utils calls
are wrapped so that notebook 05 can train every method for several seeds and label counts.
Every recipe returns a Trained: the model, its training time and its test probabilities.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import keras
import numpy as np

from . import data, features, models, train


@dataclass
class Context:
    """What every recipe needs: the data, the profile, a seed and the VGG16 base to start from."""

    ds: data.Dataset
    profile: object
    seed: int
    weights: str | None
    base: object = None
    start_weights: list = field(default_factory=list)

    def __post_init__(self):
        size = self.profile.image_size
        if self.base is None:
            keras.utils.set_random_seed(self.seed)
            self.base = models.vgg16_base(self.weights, (size, size, 3), quiet=True)
        self.start_weights = [w.copy() for w in self.base.get_weights()]

    def fresh_base(self):
        """The base with its starting (pretrained or random) weights, frozen."""
        self.base.set_weights(self.start_weights)
        models.freeze(self.base)
        return self.base

    def extract(self, split: data.Split, role: str, layer: str | None = None):
        """Features of a split; a subset of the training split is cut from the whole one's."""
        if role == "train" and split is not self.ds.train:
            position = {p: i for i, p in enumerate(self.ds.train.paths)}
            if all(p in position for p in split.paths):
                x, y = self.extract(self.ds.train, "train", layer)
                idx = [position[p] for p in split.paths]
                return x[idx], y[idx]
        return features.extract(self.base, split, self.profile.image_size, dataset_name=self.ds.name,
                                role=role, layer=layer, batch_size=self.profile.batch_size)[:2]


@dataclass
class Trained:
    name: str
    model: object
    seconds: float
    test_proba: np.ndarray


def subset(split: data.Split, per_class: int | None) -> data.Split:
    """The first `per_class` images of each class of a split (splits are already shuffled)."""
    if per_class is None:
        return split
    taken, counts = [], {}
    for p, y in zip(split.paths, split.labels):
        if counts.get(y, 0) < per_class:
            taken.append((p, y))
            counts[y] = counts.get(y, 0) + 1
    return data.Split(tuple(p for p, _ in taken), tuple(y for _, y in taken))


def _datasets(ctx: Context, train_split: data.Split):
    size, bs = ctx.profile.image_size, ctx.profile.batch_size
    return (data.to_dataset(train_split, size, bs, shuffle=True, seed=ctx.seed),
            data.to_dataset(ctx.ds.val, size, bs), data.to_dataset(ctx.ds.test, size, bs))


def scratch(ctx: Context, train_split: data.Split | None = None) -> Trained:
    """A small convnet trained from random weights, with augmentation."""
    train_split = train_split or ctx.ds.train
    keras.utils.set_random_seed(ctx.seed)
    size = ctx.profile.image_size
    model = models.small_convnet((size, size, 3), ctx.ds.num_classes,
                                 augmentation=models.augmentation_layers(seed=ctx.seed))
    train.compile_classifier(model, keras.optimizers.Adam(learning_rate=1e-3))
    tr, va, te = _datasets(ctx, train_split)
    fit = train.fit(model, tr, va, epochs=ctx.profile.epochs)
    return Trained("scratch convnet", model, fit.seconds, model.predict(te, verbose=0))


def feature_head(ctx: Context, kind: str = "gap", train_split: data.Split | None = None) -> Trained:
    """Workflow A: a head trained on cached block5 features (kind 'gap' or 'flatten_dense')."""
    train_split = train_split or ctx.ds.train
    ctx.fresh_base()
    start = time.perf_counter()
    x_tr, y_tr = ctx.extract(train_split, "train")
    x_va, y_va = ctx.extract(ctx.ds.val, "val")
    x_te, _ = ctx.extract(ctx.ds.test, "test")
    keras.utils.set_random_seed(ctx.seed)
    head = (models.gap_head(ctx.ds.num_classes) if kind == "gap"
            else models.flatten_dense_head(ctx.ds.num_classes))
    model = models.feature_head_model(head, x_tr.shape[1:], name=f"{kind}_on_features")
    train.compile_classifier(model, keras.optimizers.SGD(learning_rate=1e-3, momentum=0.9))
    train.fit(model, (x_tr, y_tr), (x_va, y_va), epochs=4 * ctx.profile.epochs,
              batch_size=ctx.profile.batch_size)
    name = "GAP head (features)" if kind == "gap" else "Flatten+Dense(1024) head (articles)"
    return Trained(name, model, time.perf_counter() - start, model.predict(x_te, verbose=0))


def frozen_augmented(ctx: Context, train_split: data.Split | None = None) -> Trained:
    """Workflow B: the frozen base inside the model, GAP head, augmentation."""
    train_split = train_split or ctx.ds.train
    base = ctx.fresh_base()
    keras.utils.set_random_seed(ctx.seed)
    model = models.build_classifier(base, models.gap_head(ctx.ds.num_classes),
                                    augmentation=models.augmentation_layers(seed=ctx.seed))
    train.compile_classifier(model, keras.optimizers.Adam(learning_rate=1e-3))
    tr, va, te = _datasets(ctx, train_split)
    fit = train.fit(model, tr, va, epochs=ctx.profile.epochs)
    return Trained("frozen base + augmentation", model, fit.seconds, model.predict(te, verbose=0))


def fine_tuned(ctx: Context, start: Trained, l2_sp: float | None = None,
               train_split: data.Split | None = None, learning_rate: float = 1e-5) -> Trained:
    """Fine-tune block5 (+ head) of `start`'s model on cached block4 features; optional L2-SP.

    `start` is a frozen-base model (workflow B) or a feature head (workflow A); its head is
    reused. Runs without augmentation (cached features), the CPU-friendly path of notebook 04.
    """
    train_split = train_split or ctx.ds.train
    base = ctx.base
    saved = [w.copy() for w in start.model.get_weights()]
    head = models.head_of(start.model)
    models.unfreeze_from(base, "block5_conv1")
    begin = time.perf_counter()
    x_tr, y_tr = ctx.extract(train_split, "train", layer="block4_pool")
    x_va, y_va = ctx.extract(ctx.ds.val, "val", layer="block4_pool")
    top = models.top_of_base(base, head, "block5_conv1")
    if l2_sp:
        models.apply_l2_sp(top, l2_sp)
    keras.utils.set_random_seed(ctx.seed)
    train.compile_classifier(top, keras.optimizers.Adam(learning_rate=learning_rate))
    train.fit(top, (x_tr, y_tr), (x_va, y_va), epochs=ctx.profile.fine_tune_epochs + 1,
              batch_size=ctx.profile.batch_size)
    models.remove_regularizers(top)
    seconds = time.perf_counter() - begin
    full = models.build_classifier(base, head, name="fine_tuned")
    proba = full.predict(data.to_dataset(ctx.ds.test, ctx.profile.image_size, ctx.profile.batch_size),
                         verbose=0)
    name = "fine-tuned block5" + (f" + L2-SP {l2_sp:g}" if l2_sp else "")
    result = Trained(name, full, start.seconds + seconds, proba)
    start.model.set_weights(saved)  # leave the starting model as it was
    ctx.base.set_weights(ctx.start_weights)
    return result
