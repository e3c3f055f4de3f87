"""Import Keras (and TensorFlow, its backend) without their C++ start-up lines in a notebook.

TensorFlow's C++ side writes lines such as "Could not find cuda drivers" and CPU-feature notes
straight to file descriptor 2 while it loads, some of them before ``TF_CPP_MIN_LOG_LEVEL``
applies. In Jupyter they land in a red stderr box above the first output a learner sees. The
first import goes through here with descriptor 2 pointed at /dev/null; Python errors still
propagate as exceptions. Later ``import keras`` statements find the module already loaded.

``import course_utils`` also installs a one-shot import hook (``install``): whichever import
loads TensorFlow first (``course_utils.models``, or a notebook's own ``import keras`` in a cell
that needs Keras) loads it the same quiet way, so a notebook imports TensorFlow only where it
uses it (01 imports none until its Keras cell) and still shows no start-up lines.
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


class _QuietTensorFlowFinder:
    """A meta-path finder that imports ``tensorflow`` (the first time) with descriptor 2 silenced.

    Installed by ``import course_utils``, so that a notebook's own ``import keras`` or
    ``import tensorflow`` in any later cell is as quiet as ``course_utils.models``' import. It
    only wraps the loading of the top-level ``tensorflow`` package, once, and then removes itself.
    """

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        _uninstall()
        import importlib.util

        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def quiet_exec_module(module):
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            with stderr_descriptor_silenced():
                exec_module(module)

        loader.exec_module = quiet_exec_module
        return spec


def _uninstall():
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietTensorFlowFinder)]


def install():
    """Make the first ``import tensorflow`` (also through ``import keras``) quiet; idempotent."""
    if "tensorflow" in sys.modules or any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietTensorFlowFinder())
