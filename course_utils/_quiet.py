"""Import Keras (and TensorFlow, its backend) without their C++ start-up lines in a notebook.

TensorFlow's C++ side writes lines such as "Could not find cuda drivers" and CPU-feature notes
straight to file descriptor 2 while it loads, some of them before ``TF_CPP_MIN_LOG_LEVEL``
applies. In Jupyter they land in a red stderr box above the first output a learner sees. The
first import goes through here with descriptor 2 pointed at /dev/null; Python errors still
propagate as exceptions. Later ``import keras`` statements find the module already loaded.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys


@contextlib.contextmanager
def stderr_descriptor_silenced():
    """Point file descriptor 2 at /dev/null for the duration (C/C++ writes included)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def keras():
    """The ``keras`` module, imported quietly the first time."""
    if "keras" not in sys.modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        with stderr_descriptor_silenced():
            if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
                importlib.import_module("tensorflow")
            importlib.import_module("keras")
    return sys.modules["keras"]
