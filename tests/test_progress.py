"""Progress bars: shown in a notebook or a terminal, quiet in CI logs and when COURSE_PROGRESS=0."""

import io
import sys

import numpy as np

from course_utils import progress


def test_the_environment_variable_decides_first(monkeypatch):
    for value, shown in (("0", False), ("off", False), ("1", True)):
        monkeypatch.setenv(progress.ENV, value)
        assert progress.enabled() is shown
    monkeypatch.setenv(progress.ENV, "0")
    assert progress.bar(range(3)).disable


def test_without_the_variable_a_pipe_gets_no_bar_and_a_terminal_does(monkeypatch):
    monkeypatch.delenv(progress.ENV, raising=False)
    monkeypatch.delitem(sys.modules, "IPython", raising=False)  # not in a Jupyter kernel
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # CI: output to a log file, not a terminal
    assert progress.enabled() is False

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())
    assert progress.enabled() is True
    bar = progress.bar(range(4), desc="work")
    assert not bar.disable and list(bar) == [0, 1, 2, 3]
    assert "work" in sys.stderr.getvalue()


def test_feature_extraction_moves_its_bar_once_per_batch(monkeypatch):
    import keras

    monkeypatch.setenv(progress.ENV, "1")
    callback = progress.predict_callback(samples=10, batch_size=4, desc="features")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.predict(np.zeros((10, 2), "float32"), batch_size=4, verbose=0, callbacks=[callback])
    assert callback.bar.total == 3 and callback.bar.n == 3


def _kernel(monkeypatch):
    """Pretend to be inside a Jupyter kernel, the way tqdm and IPython tell: a shell started by IPKernelApp."""
    import types

    shell = types.SimpleNamespace(config={"IPKernelApp": {}})
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))


def test_a_kernel_gets_the_notebook_widget_without_tqdm_autos_experimental_warning(monkeypatch):
    import warnings

    monkeypatch.delenv(progress.ENV, raising=False)
    _kernel(monkeypatch)
    assert progress.in_kernel() and progress.enabled()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cls = progress.tqdm_class()
    assert cls.__module__ == "tqdm.notebook"
    assert not [w for w in caught if "tqdm" in str(w.message).lower()], [str(w.message) for w in caught]


def test_importing_ipykernel_does_not_make_a_script_a_kernel(monkeypatch):
    import types

    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: None))
    assert not progress.in_kernel()
    assert progress.tqdm_class().__module__ == "tqdm.std"  # a text bar on stderr, as a terminal expects
