"""Small ipywidgets front-ends for the notebooks' experiments.

The logic lives in plain functions (tested without a browser); a widget only collects the
values and shows what the function returns. Headless runs (papermill, nbval, CI) display
the widget's text form and do not break.
"""

from __future__ import annotations

from typing import Callable, Mapping


class Explorer:
    """Controls + an optional Run button + an output area showing `fn(**values)`.

    Without a button, every change of a control re-runs `fn`. `fn` may return a matplotlib
    Figure, any object IPython can display, or None (when it prints).
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
        """Run `fn` on the current values and show the result in the output area.

        `fn` runs with pyplot's interactive mode off and its prints captured, and the result is
        appended to the output widget directly (``append_stdout``/``append_display_data``), never
        through ``with output:``. Under ipykernel 7 that context's echo runs on another thread
        and flushes the inline backend's open figures, which raced with a figure still being
        drawn (matplotlib's tight_layout failed in JupyterLab). A figure is closed once shown.
        """
        import contextlib
        import io

        import matplotlib.pyplot as plt

        self.calls += 1
        printed = io.StringIO()
        with plt.ioff(), contextlib.redirect_stdout(printed):
            result = self.fn(**self.values())
        self.last = result
        self.output.outputs = ()
        if printed.getvalue():
            self.output.append_stdout(printed.getvalue())
        if result is not None:
            self.output.append_display_data(result)
        if hasattr(result, "savefig"):
            plt.close(result)  # shown once, in the output area
        return result

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
