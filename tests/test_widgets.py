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


import datetime  # noqa: E402


def _upload_value(name, content):
    """A FileUpload value as ipywidgets 8 sets it after a browser upload."""
    return ({"name": name, "type": "image/png", "size": len(content), "content": memoryview(content),
             "last_modified": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)},)


def test_an_upload_shows_the_function_s_figure_for_the_file_and_closes_it():
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (255, 0, 0)).save(buffer, "PNG")
    seen = []

    def describe(name, content):
        img = Image.open(io.BytesIO(content))
        seen.append((name, img.size))
        print(f"{name}: {img.size[0]}x{img.size[1]}")
        fig, ax = plt.subplots()
        ax.imshow(img)
        fig.tight_layout()
        return fig

    plt.close("all")
    upload = widgets.Upload(describe)
    assert upload.update() is None and seen == []  # nothing uploaded yet: nothing runs
    upload.upload.value = _upload_value("red.png", buffer.getvalue())  # what the browser does
    assert seen == [("red.png", (8, 6))] and upload.calls == 1
    outputs = upload.output.outputs
    assert any("red.png: 8x6" in o.get("text", "") for o in outputs)
    assert [o["output_type"] for o in outputs] == ["stream", "display_data"], outputs  # text, then the figure
    assert plt.get_fignums() == [], "the figure is shown once, in the output area, then closed"


def test_an_unreadable_upload_is_one_line_in_the_output_not_an_exception():
    import io

    from PIL import Image

    upload = widgets.Upload(lambda name, content: Image.open(io.BytesIO(content)).size)
    upload.upload.value = _upload_value("notes.txt", b"not an image")
    assert isinstance(upload.last, Exception)
    assert upload.output.outputs[0]["text"].startswith("notes.txt: UnidentifiedImageError")


def test_uploaded_files_reads_both_ipywidgets_value_forms():
    assert widgets.uploaded_files(_upload_value("a.png", b"xy")) == [("a.png", b"xy")]
    assert widgets.uploaded_files({"b.png": {"content": b"z", "metadata": {}}}) == [("b.png", b"z")]
    assert widgets.uploaded_files(()) == []


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
