"""A small, fast, offline experiment on *when* transfer learning helps (notebook 01).

A toy world: K hidden factors z are rendered into D observed features by a fixed random,
strongly nonlinear map (think of a camera rendering a scene into pixels). A task is a
classification of z (argmax of a linear readout). The *source* task has plenty of labels;
the *target* task has few. The similarity knob s ∈ [0, 1] blends the target's renderer and
readout from the source's (s = 1) to independent ones (s = 0).

Transfer = the body of a network trained on the source, frozen, with a new head trained on
the target labels (feature extraction, as notebook 03 does with VGG16). Scratch = the same
network trained from random weights on the target labels alone. Everything is NumPy: a
network trains in milliseconds, so dozens of runs fit in seconds on a laptop CPU.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from . import threads
from .losses import softmax

__all__ = [
    "FACTORS", "FEATURES", "GAIN", "HIDDEN", "N_POOL", "N_SOURCE", "N_TEST", "SOURCE_CLASSES",
    "TARGET_CLASSES", "accuracy", "describe", "init_mlp", "keras_mlp", "keras_pretrained",
    "l2_sp_finetune", "L2SPResult", "mlp_logits", "Point", "run_point", "Sweep", "sweep_labels",
    "sweep_similarity", "target_task", "train_mlp", "World", "world",
]

FACTORS = 4  # K hidden factors
FEATURES = 64  # D observed features
HIDDEN = 64  # network width
GAIN = 3.0  # how nonlinear the renderer is
SOURCE_CLASSES = 8
TARGET_CLASSES = 4
N_SOURCE = 2000
N_TEST = 1000
N_POOL = 500  # target examples labels are drawn from


def describe() -> str:
    """The experiment's sizes, read from the constants that set them.

    Used in notebook 01, section 4.
    """
    return (f"hidden factors: {FACTORS}; observed features: {FEATURES}; network: {FEATURES} -> "
            f"{HIDDEN} -> {HIDDEN} -> classes (ReLU)\n"
            f"source task: {SOURCE_CLASSES} classes, {N_SOURCE:,} labelled examples\n"
            f"target task: {TARGET_CLASSES} classes, labels drawn from {N_POOL} examples, "
            f"tested on {N_TEST:,} held-out examples")


# --------------------------------------------------------------------------- a NumPy MLP


def init_mlp(rng: np.random.Generator, sizes: list[int]) -> list[list[np.ndarray]]:
    """He-initialised weights [[W, b], ...] of a ReLU MLP with the given layer sizes."""
    return [[rng.normal(0, np.sqrt(2 / a), (a, b)), np.zeros(b)] for a, b in zip(sizes[:-1], sizes[1:])]


def mlp_logits(params, x: np.ndarray) -> np.ndarray:
    a = x
    for i, (w, b) in enumerate(params):
        a = a @ w + b
        if i < len(params) - 1:
            a = np.maximum(a, 0)
    return a


def train_mlp(params, x, y, n_classes: int, steps: int, learning_rate: float = 1e-2,
              first_trainable: int = 0, weight_decay: float = 1e-4):
    """Full-batch Adam on softmax cross-entropy; layers before `first_trainable` stay frozen."""
    params = [[w.copy(), b.copy()] for w, b in params]
    m = [[np.zeros_like(p) for p in layer] for layer in params]
    v = [[np.zeros_like(p) for p in layer] for layer in params]
    onehot = np.eye(n_classes)[y]
    for t in range(1, steps + 1):
        acts = [x]
        for i, (w, b) in enumerate(params):
            z = acts[-1] @ w + b
            acts.append(np.maximum(z, 0) if i < len(params) - 1 else z)
        g = (softmax(acts[-1]) - onehot) / len(x)  # ∂L/∂logits, derived in notebook 02
        for i in reversed(range(first_trainable, len(params))):
            w, b = params[i]
            grads = [acts[i].T @ g + weight_decay * w, g.sum(0)]
            if i > first_trainable:
                g = (g @ w.T) * (acts[i] > 0)
            for j in range(2):
                m[i][j] = 0.9 * m[i][j] + 0.1 * grads[j]
                v[i][j] = 0.999 * v[i][j] + 0.001 * grads[j] ** 2
                step = (m[i][j] / (1 - 0.9**t)) / (np.sqrt(v[i][j] / (1 - 0.999**t)) + 1e-8)
                params[i][j] -= learning_rate * step
    return params


def accuracy(params, x, y) -> float:
    return float((mlp_logits(params, x).argmax(1) == y).mean())


# --------------------------------------------------------------------------- the toy world


def _renderer(rng):
    return [rng.normal(0, GAIN / np.sqrt(FACTORS), (FACTORS, 64)),
            rng.normal(0, GAIN / np.sqrt(64), (64, FEATURES))]


def _blend(a, b, s: float):
    return [s * x + np.sqrt(1 - s * s) * y for x, y in zip(a, b)]


def _render(renderer, z, rng, noise: float = 0.05):
    return np.tanh(np.tanh(z @ renderer[0]) @ renderer[1]) + noise * rng.normal(size=(len(z), FEATURES))


@dataclass(frozen=True)
class World:
    """One seed's source task, pretrained network and target ingredients."""

    seed: int
    source_renderer: list
    other_renderer: list
    source_readout: np.ndarray
    other_readout: np.ndarray
    pretrained: list
    source_accuracy: float


@functools.lru_cache(maxsize=16)
@threads.small_problem  # 64-wide matrices: one BLAS thread is fastest, and immune to a busy machine
def world(seed: int, pretrain_steps: int = 300) -> World:
    """Build the source task of `seed` and pretrain a network on it (cached per seed).

    Used in notebook 01, section 4.
    """
    rng = np.random.default_rng(seed)
    src_r, other_r = _renderer(rng), _renderer(rng)
    src_readout = rng.normal(size=(FACTORS, SOURCE_CLASSES))
    other_readout = rng.normal(size=(FACTORS, TARGET_CLASSES))
    z = rng.normal(size=(N_SOURCE, FACTORS))
    x, y = _render(src_r, z, rng), (z @ src_readout).argmax(1)
    net = train_mlp(init_mlp(rng, [FEATURES, HIDDEN, HIDDEN, SOURCE_CLASSES]), x, y,
                    SOURCE_CLASSES, pretrain_steps)
    return World(seed, src_r, other_r, src_readout, other_readout, net, accuracy(net, x, y))


def target_task(w: World, similarity: float):
    """The target data (x_test, y_test, x_pool, y_pool) at the given similarity to the source."""
    if not 0.0 <= similarity <= 1.0:
        raise ValueError(f"similarity must be in [0, 1], not {similarity}.")
    rng = np.random.default_rng([w.seed, 1])
    renderer = _blend(w.source_renderer, w.other_renderer, similarity)
    readout = _blend([w.source_readout[:, :TARGET_CLASSES]], [w.other_readout], similarity)[0]
    z = rng.normal(size=(N_TEST + N_POOL, FACTORS))
    x, y = _render(renderer, z, rng), (z @ readout).argmax(1)
    return x[:N_TEST], y[:N_TEST], x[N_TEST:], y[N_TEST:]


@dataclass(frozen=True)
class Point:
    transfer: float
    scratch: float

    @property
    def gain(self) -> float:
        return self.transfer - self.scratch


@threads.small_problem
def run_point(seed: int, labels_per_class: int, similarity: float = 1.0, steps: int = 150) -> Point:
    """Test accuracy of transfer and scratch for one seed, label count and similarity.

    Used in notebook 01, section 4.
    """
    w = world(seed)
    x_test, y_test, x_pool, y_pool = target_task(w, similarity)
    picks = [np.flatnonzero(y_pool == c)[:labels_per_class] for c in range(TARGET_CLASSES)]
    idx = np.concatenate(picks)
    rng = np.random.default_rng([seed, 2, labels_per_class])
    scratch = train_mlp(init_mlp(rng, [FEATURES, HIDDEN, HIDDEN, TARGET_CLASSES]),
                        x_pool[idx], y_pool[idx], TARGET_CLASSES, steps)
    body = [[wt.copy(), b.copy()] for wt, b in w.pretrained[:-1]]
    transfer = train_mlp(body + init_mlp(rng, [HIDDEN, TARGET_CLASSES]), x_pool[idx], y_pool[idx],
                         TARGET_CLASSES, steps, first_trainable=len(body))
    return Point(accuracy(transfer, x_test, y_test), accuracy(scratch, x_test, y_test))


@dataclass(frozen=True)
class Sweep:
    """Accuracies over seeds (rows) and settings (columns)."""

    name: str
    values: tuple
    transfer: np.ndarray
    scratch: np.ndarray

    @property
    def gain(self) -> np.ndarray:
        return self.transfer - self.scratch

    def table(self) -> str:
        lines = [f"{self.name:>18} {'transfer':>16} {'scratch':>16} {'gain':>16}"]
        for j, v in enumerate(self.values):
            cells = [f"{a[:, j].mean():.3f} ± {a[:, j].std(ddof=1) if len(a) > 1 else 0.0:.3f}"  # sample std (ddof=1)
                     for a in (self.transfer, self.scratch, self.gain)]
            lines.append(f"{v:>18} " + " ".join(f"{c:>16}" for c in cells))
        return "\n".join(lines)


@threads.small_problem
def _sweep(name, values, seeds, point) -> Sweep:
    results = [[point(s, v) for v in values] for s in seeds]
    transfer = np.array([[p.transfer for p in row] for row in results])
    scratch = np.array([[p.scratch for p in row] for row in results])
    return Sweep(name, tuple(values), transfer, scratch)


def sweep_labels(label_counts, seeds, similarity: float = 1.0) -> Sweep:
    """Transfer vs scratch as the number of target labels per class grows.

    Used in notebook 01, section 4.
    """
    return _sweep("labels per class", label_counts, seeds,
                  lambda s, n: run_point(s, n, similarity))


def sweep_similarity(similarities, seeds, labels_per_class: int = 5) -> Sweep:
    """Transfer vs scratch as the target drifts away from the source.

    Used in notebook 01, section 4.
    """
    return _sweep("similarity", similarities, seeds,
                  lambda s, sim: run_point(s, labels_per_class, sim))


# --------------------------------------------------------------------------- L2-SP in Keras


def keras_mlp(n_classes: int, seed: int):
    """The lab's network in Keras: Dense(64, relu) -> Dense(64, relu) -> Dense(n, softmax)."""
    import keras

    init = keras.initializers.HeNormal(seed=seed)
    return keras.Sequential([
        keras.Input((FEATURES,)),
        keras.layers.Dense(HIDDEN, activation="relu", kernel_initializer=init, name="body1"),
        keras.layers.Dense(HIDDEN, activation="relu", kernel_initializer=init, name="body2"),
        keras.layers.Dense(n_classes, activation="softmax", kernel_initializer=init, name="head"),
    ])


def _compile(model, learning_rate: float):
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=False)


@functools.lru_cache(maxsize=4)
def keras_pretrained(seed: int, epochs: int = 15):
    """A Keras network trained on the source task of `seed` (weights as a list of arrays)."""
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng([seed, 3])
    w = world(seed)
    z = rng.normal(size=(N_SOURCE, FACTORS))
    x, y = _render(w.source_renderer, z, rng), (z @ w.source_readout).argmax(1)
    model = keras_mlp(SOURCE_CLASSES, seed)
    _compile(model, 3e-3)
    model.fit(x, y, epochs=epochs, batch_size=128, verbose=0)
    return [v.copy() for v in model.get_weights()]


@dataclass(frozen=True)
class L2SPResult:
    lam: float
    train_loss: float  # new-task cross-entropy on its training labels (the penalty excluded)
    distance: float  # ‖w − w0‖ over the pretrained (body) weights
    test_accuracy: float


def l2_sp_finetune(seed: int, lam: float, labels_per_class: int = 5, similarity: float = 0.5,
                   epochs: int = 150) -> L2SPResult:
    """Fine-tune the pretrained Keras body plus a new head on few target labels with L2-SP(λ).

    Used in notebook 02, section 7.
    """
    import keras

    from . import models

    keras.utils.set_random_seed(seed)
    x_test, y_test, x_pool, y_pool = target_task(world(seed), similarity)
    idx = np.concatenate([np.flatnonzero(y_pool == c)[:labels_per_class]
                          for c in range(TARGET_CLASSES)])
    model = keras_mlp(TARGET_CLASSES, seed)
    pretrained = keras_pretrained(seed)
    for layer, (k, b) in zip(model.layers[:2], zip(pretrained[0:4:2], pretrained[1:4:2])):
        layer.set_weights([k, b])
    body = [v for layer in model.layers[:2] for v in layer.trainable_weights]
    w0 = [keras.ops.convert_to_numpy(v).copy() for v in body]
    if lam > 0:
        for v, ref in zip(body, w0):  # the new head starts from nothing: no anchor for it
            v.regularizer = models.L2SP(ref, lam)
    _compile(model, 1e-2)
    # Full-batch steps: the few examples repeated `epochs` times in one pass (one fit call
    # instead of `epochs` of them: the same updates, a fraction of Keras' per-epoch overhead).
    x_rep, y_rep = np.tile(x_pool[idx], (epochs, 1)), np.tile(y_pool[idx], epochs)
    model.fit(x_rep, y_rep, epochs=1, batch_size=len(idx), shuffle=False, verbose=0)
    probs = model.predict(x_pool[idx], verbose=0)
    train_loss = float(-np.log(probs[np.arange(len(idx)), y_pool[idx]] + 1e-12).mean())
    distance = float(np.sqrt(sum(((keras.ops.convert_to_numpy(v) - r) ** 2).sum()
                                 for v, r in zip(body, w0))))
    acc = float((model.predict(x_test, verbose=0).argmax(1) == y_test).mean())
    return L2SPResult(lam, train_loss, distance, acc)
