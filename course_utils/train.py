"""A thin wrapper over ``model.fit``: the usual callbacks and per-epoch timing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import keras


class EpochTimer(keras.callbacks.Callback):
    """Records the wall-clock seconds of every epoch."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


@dataclass
class FitResult:
    history: keras.callbacks.History
    epoch_seconds: list[float] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return float(sum(self.epoch_seconds))

    @property
    def seconds_per_epoch(self) -> float:
        return self.seconds / max(1, len(self.epoch_seconds))

    def best(self, metric: str = "val_loss") -> float:
        """The best value of `metric` over the epochs (min for losses, max otherwise)."""
        values = self.history.history[metric]
        return min(values) if "loss" in metric else max(values)

    def last(self, metric: str) -> float:
        return float(self.history.history[metric][-1])


def compile_classifier(model, optimizer, metrics=("accuracy",)) -> None:
    """Compile for integer labels and a softmax output (keyword arguments, as Keras 3 wants)."""
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=list(metrics))


def fit(
    model,
    train,
    validation=None,
    *,
    epochs: int,
    initial_epoch: int = 0,
    early_stopping: int | None = None,
    checkpoint: Path | str | None = None,
    verbose: int = 0,
    callbacks: list | None = None,
    **kwargs,
) -> FitResult:
    """model.fit with optional EarlyStopping on val_loss and a best-model .keras checkpoint.

    `train` is a tf.data.Dataset of (x, y) batches or an (x, y) tuple of arrays; so is
    `validation`.
    """
    if isinstance(train, tuple):
        train, kwargs["y"] = train
    else:
        kwargs.setdefault("shuffle", False)  # a tf.data pipeline shuffles itself (data.to_dataset)
    timer = EpochTimer()
    cbs = [timer, *(callbacks or [])]
    if early_stopping is not None:
        cbs.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=early_stopping,
                                                 restore_best_weights=True))
    if checkpoint is not None:
        checkpoint = Path(checkpoint)
        if checkpoint.suffix != ".keras":
            raise ValueError(f"Checkpoint {checkpoint} must end in .keras (a whole model).")
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        cbs.append(keras.callbacks.ModelCheckpoint(str(checkpoint), monitor="val_loss",
                                                   save_best_only=validation is not None))
    history = model.fit(train, validation_data=validation, epochs=epochs, initial_epoch=initial_epoch,
                        callbacks=cbs, verbose=verbose, **kwargs)
    return FitResult(history, timer.seconds)
