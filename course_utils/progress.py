"""Progress bars for the steps that take more than a few seconds: a sign of life, not a log.

Feature extraction, the folder report, writing PNG folders (CIFAR-10, split folders) and
notebook 05's repeat loops show a ``tqdm.auto`` bar: a widget in a notebook, a text bar in a
terminal. Quiet where nobody watches: with ``COURSE_PROGRESS=0`` in the environment (the tests
set it, so CI logs stay readable) and when the output is neither a notebook nor a terminal.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterable

ENV = "COURSE_PROGRESS"


def enabled() -> bool:
    """True when a bar is worth drawing: ``$COURSE_PROGRESS`` decides if set, else a notebook or a terminal."""
    value = os.environ.get(ENV)
    if value is not None:
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    if "ipykernel" in sys.modules:  # a Jupyter kernel: tqdm.auto draws a widget
        return True
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


def bar(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "", unit: str = "it",
        show: bool | None = None):
    """A ``tqdm.auto.tqdm`` over `iterable` (or to ``update`` by hand); disabled unless ``enabled()``."""
    from tqdm.auto import tqdm

    if total is None and iterable is not None and hasattr(iterable, "__len__"):
        total = len(iterable)
    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=False,
                disable=not (enabled() if show is None else show))


def predict_callback(samples: int, batch_size: int, desc: str = "features"):
    """A Keras callback that moves a bar by one batch per ``predict`` step (``model.predict(..., callbacks=[...])``)."""
    import keras

    class _Bar(keras.callbacks.Callback):
        def on_predict_begin(self, logs=None):
            self.bar = bar(total=math.ceil(samples / max(batch_size, 1)), desc=desc, unit="batch")

        def on_predict_batch_end(self, batch, logs=None):
            self.bar.update(1)

        def on_predict_end(self, logs=None):
            self.bar.close()

    return _Bar()
