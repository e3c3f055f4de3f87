"""Progress bars for the steps that take more than a few seconds: a sign of life, not a log.

Feature extraction, the folder report, writing PNG folders (CIFAR-10, split folders) and
notebook 05's repeat loops show a tqdm bar: a widget in a notebook, a text bar in a
terminal. Quiet where nobody watches: with ``COURSE_PROGRESS=0`` in the environment (the tests
set it, so CI logs stay readable) and when the output is neither a notebook nor a terminal.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterable

__all__ = ["bar", "enabled", "in_kernel", "predict_callback", "tqdm_class"]

ENV = "COURSE_PROGRESS"


def enabled() -> bool:
    """True when a bar is worth drawing: ``$COURSE_PROGRESS`` decides if set, else a notebook or a terminal."""
    value = os.environ.get(ENV)
    if value is not None:
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    if in_kernel():  # a Jupyter kernel: tqdm.notebook draws a widget
        return True
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


def in_kernel() -> bool:
    """True inside a running Jupyter kernel (IPython's shell started by IPKernelApp), as tqdm decides it.

    Not "ipykernel is imported": a test run or a script may import it without being a kernel.
    """
    ipython = sys.modules.get("IPython")
    try:
        shell = ipython.get_ipython() if ipython is not None else None
    except Exception:  # an IPython too old or half-imported: not a kernel we can draw in
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def tqdm_class():
    """``tqdm.notebook.tqdm`` (a widget) in a Jupyter kernel, else ``tqdm.tqdm`` (a text bar).

    Chosen here rather than by ``tqdm.auto``, whose import prints a TqdmExperimentalWarning into
    the notebook (the browser tier saw it in JupyterLab).
    """
    if in_kernel():
        from tqdm.notebook import tqdm
    else:
        from tqdm import tqdm
    return tqdm


def bar(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "", unit: str = "it",
        show: bool | None = None):
    """A tqdm bar over `iterable` (or to ``update`` by hand); disabled unless ``enabled()``.

    Shown in notebook 05, sections 4 and 5, over their repeated runs. In a Jupyter kernel it is
    ``tqdm.notebook``'s widget, elsewhere tqdm's text bar (``tqdm_class``).
    """
    tqdm = tqdm_class()
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
