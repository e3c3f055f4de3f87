"""Small ipywidgets front-ends for the notebooks' experiments.

The logic lives in plain functions (tested without a browser); a widget only collects the
values and shows what the function returns. Headless runs (papermill, nbval, CI) display
the widget's text form and do not break.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = [
    "Explorer", "show", "Upload", "uploaded_files",
]


class Explorer:
    """Controls + an optional Run button + an output area showing `fn(**values)`.

    Without a button, every change of a control re-runs `fn`. `fn` may return a matplotlib
    Figure, any object IPython can display, or None (when it prints).

    Used in notebook 01, section 4 (and in notebook 02).
    """

    def __init__(self, fn: Callable, controls: Mapping[str, object], button: str | None = "Run",
                 run_now: bool = True):
        import ipywidgets as w

        self.fn = fn
        self.controls = dict(controls)
        self.output = w.Output()
        self.calls = 0
        self.last = None
        children = list(self.controls.values())
        if button:
            self.button = w.Button(description=button, button_style="primary")
            self.button.on_click(lambda _: self.update())
            children.append(self.button)
        else:
            self.button = None
            for control in self.controls.values():
                control.observe(lambda change: self.update(), names="value")
        self.widget = w.VBox([w.HBox(children), self.output])
        if run_now:
            self.update()

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def update(self):
        """Run `fn` on the current values and show the result in the output area (see ``show``)."""
        self.calls += 1
        self.last = show(self.output, self.fn, **self.values())
        return self.last

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def show(output, fn: Callable, *args, **kwargs):
    """Run `fn` and show what it prints and returns in `output` (an ipywidgets Output); return it.

    `fn` runs with pyplot's interactive mode off and its prints captured, and the result is
    appended to the output widget directly (``append_stdout``/``append_display_data``), never
    through ``with output:``. Under ipykernel 7 that context's echo runs on another thread and
    flushes the inline backend's open figures, which raced with a figure still being drawn
    (matplotlib's tight_layout failed in JupyterLab). A figure is closed once shown.
    """
    import contextlib
    import io

    import matplotlib.pyplot as plt

    printed = io.StringIO()
    with plt.ioff(), contextlib.redirect_stdout(printed):
        result = fn(*args, **kwargs)
    output.outputs = ()
    if printed.getvalue():
        output.append_stdout(printed.getvalue())
    if result is not None:
        output.append_display_data(result)
    if hasattr(result, "savefig"):
        plt.close(result)  # shown once, in the output area
    return result


def uploaded_files(value) -> list[tuple[str, bytes]]:
    """(name, content) of each file in a ``FileUpload``'s value.

    ipywidgets 8 gives a tuple of dicts with ``name`` and ``content`` (a memoryview);
    ipywidgets 7 gave a dict name -> {"content": ...}. Both are read.
    """
    if isinstance(value, dict):
        items = [{"name": name, **entry} for name, entry in value.items()]
    else:
        items = list(value or ())
    return [(str(item["name"]), bytes(item["content"])) for item in items]


class Upload:
    """A ``FileUpload`` button and an output area showing `fn(name, content)` for each uploaded file.

    `fn` receives the file's name and its bytes and returns what to show (a Figure, text, ...);
    an exception it raises is shown as one line, so a bad file does not break the widget.

    Used in notebook 08, section 7.
    """

    def __init__(self, fn: Callable[[str, bytes], object], accept: str = "image/*",
                 description: str = "Upload an image"):
        import ipywidgets as w

        self.fn = fn
        self.upload = w.FileUpload(accept=accept, multiple=False, description=description)
        self.output = w.Output()
        self.calls = 0
        self.last = None
        self.upload.observe(lambda change: self.update(), names="value")
        self.widget = w.VBox([self.upload, self.output])

    def update(self):
        files = uploaded_files(self.upload.value)
        if not files:
            return None
        self.calls += 1
        name, content = files[-1]
        try:
            self.last = show(self.output, self.fn, name, content)
        except Exception as err:  # an unreadable upload: say so in the output area
            self.output.outputs = ()
            self.output.append_stdout(f"{name}: {type(err).__name__}: {err}\n")
            self.last = err
        return self.last

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
