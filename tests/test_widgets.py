"""Widget logic without a browser: changing a control or clicking Run re-runs the function."""

import ipywidgets as w

from course_utils import widgets


def test_button_runs_the_function_with_the_current_values():
    seen = []
    explorer = widgets.Explorer(lambda n, s: seen.append((n, s)) or f"{n}-{s}",
                                {"n": w.IntSlider(value=5), "s": w.FloatSlider(value=0.5)})
    assert seen == [(5, 0.5)]  # run once when shown
    explorer.controls["n"].value = 7
    assert len(seen) == 1  # with a button, changing a slider alone does not run
    explorer.button.click()
    assert seen[-1] == (7, 0.5) and explorer.last == "7-0.5" and explorer.calls == 2


def test_without_a_button_every_change_reruns():
    seen = []
    explorer = widgets.Explorer(lambda eta: seen.append(eta), {"eta": w.FloatLogSlider(value=0.1, min=-2, max=0)},
                                button=None, run_now=False)
    assert seen == [] and explorer.button is None
    explorer.controls["eta"].value = 0.5
    assert seen == [0.5]


def test_a_callback_that_prints_and_draws_shows_both_and_leaves_no_figure_open():
    import matplotlib.pyplot as plt

    def draw(n):
        print(f"drawing {n}")
        fig, ax = plt.subplots()
        ax.plot(range(n))
        fig.tight_layout()
        return fig

    plt.close("all")
    explorer = widgets.Explorer(draw, {"n": w.IntSlider(value=3)})
    explorer.button.click()
    outputs = explorer.output.outputs
    assert any("drawing 3" in o.get("text", "") for o in outputs), outputs
    assert any("image/png" in o.get("data", {}) or "text/plain" in o.get("data", {}) for o in outputs)
    assert plt.get_fignums() == [] and explorer.calls == 2


def test_the_function_runs_with_pyplot_interactive_mode_off_and_it_is_restored():
    # Interactive mode off: the inline backend has no figure of the callback's to flush on
    # another thread while it is still being drawn (the race JupyterLab showed in 02).
    import matplotlib
    import matplotlib.pyplot as plt

    seen = []
    plt.ion()
    try:
        explorer = widgets.Explorer(lambda n: seen.append(matplotlib.is_interactive()), {"n": w.IntSlider(value=1)})
        explorer.button.click()
        assert seen == [False, False] and matplotlib.is_interactive()
    finally:
        plt.ioff()
