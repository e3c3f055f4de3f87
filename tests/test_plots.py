import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils import plots  # noqa: E402


class FakeHistory:
    def __init__(self, history, epoch=None):
        self.history = history
        self.epoch = epoch or list(range(len(next(iter(history.values())))))


def test_metric_names_come_from_the_history_not_a_fixed_list():
    h = {"loss": [1, 0.5], "auc": [0.6, 0.7], "val_loss": [1.1, 0.9], "val_auc": [0.5, 0.6],
         "learning_rate": [1e-3, 1e-3]}
    assert plots.metric_names(h) == ["loss", "auc"]


def test_plot_history_draws_one_panel_per_metric_with_train_and_validation():
    h = FakeHistory({"loss": [1, 0.8, 0.6], "val_loss": [1, 0.9, 0.8],
                     "sparse_categorical_accuracy": [0.4, 0.5, 0.7]})
    fig = plots.plot_history(h, title="run")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "sparse_categorical_accuracy"]
    assert [line.get_label() for line in fig.axes[0].lines] == ["train", "validation"]
    assert len(fig.axes[1].lines) == 1  # no validation values for that metric


def test_resumed_history_is_plotted_at_its_real_epochs():
    h = FakeHistory({"loss": [0.5, 0.4]}, epoch=[3, 4])
    fig = plots.plot_history(h)
    assert list(fig.axes[0].lines[0].get_xdata()) == [4, 5]


def test_compare_histories_puts_every_run_on_each_panel():
    runs = {"scratch": {"loss": [1, 0.9], "val_loss": [1, 1], "accuracy": [0.5, 0.6]},
            "transfer": {"loss": [0.7, 0.4], "val_loss": [0.6, 0.5]}}
    fig = plots.compare_histories(runs)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels == ["scratch (val)", "scratch (train)", "transfer (val)", "transfer (train)"]


def test_image_grid_titles_wrong_predictions_in_red():
    imgs = np.zeros((3, 8, 8, 3), np.uint8)
    fig = plots.image_grid(imgs, [0, 1, 1], ["cat", "dog"], predictions=[0, 0, 1], ncols=3)
    titles = [(ax.get_title(), ax.title.get_color()) for ax in fig.axes]
    assert titles[1] == ("cat\n(true: dog)", "red") and titles[0][1] == "black"


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError):
        plots.plot_history({})
    with pytest.raises(ValueError):
        plots.image_grid(np.zeros((0, 4, 4, 3)))


@pytest.mark.parametrize("n", [8, 64])
def test_filters_grid_lays_out_one_short_row_without_a_warning(n):
    """MobileNet 0.25 has 8 first-layer filters: a one-row grid once left no room for its title,
    and tight_layout's warning was a red stderr box in JupyterLab (the browser tier saw it)."""
    import warnings

    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.filters_grid(np.random.default_rng(0).random((3, 3, 3, n)))
    assert len([ax for ax in fig.axes if ax.images]) == n
    plt.close(fig)


def test_a_confusion_matrix_of_200_classes_shows_the_most_confused_within_a_fixed_size():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    n = 200
    cm = np.diag(rng.integers(5, 10, n))
    cm[17, 140] = cm[140, 17] = 9  # the pair a learner must see
    cm[3, 4] = 2
    names = [f"class_{i:03d}" for i in range(n)]
    fig = plots.confusion_matrix(cm, names, title="test")
    try:
        width, height = fig.get_size_inches() * fig.dpi
        assert width <= 1400 and height <= 1400
        ax = fig.axes[0]
        shown = [t.get_text() for t in ax.get_xticklabels()]
        assert len(shown) == plots.MAX_MATRIX_CLASSES
        assert {"class_017", "class_140", "class_003", "class_004"} <= set(shown)
        assert "30 most confused of 200 classes" in ax.get_title()
    finally:
        plt.close(fig)


def test_a_grid_of_200_classes_shows_the_first_rows_only():
    import matplotlib.pyplot as plt

    from course_utils import preview

    images = np.zeros((400, 8, 8, 3), "uint8")
    labels = np.repeat(np.arange(200), 2)
    fig = preview.per_class_grid([(images, labels)], [f"c{i}" for i in range(200)], per_class=2)
    try:
        assert fig.get_size_inches()[1] * fig.dpi < 4000
        assert "first 20 of 200 classes" in fig._suptitle.get_text()
    finally:
        plt.close(fig)
