"""Data previews show every class (not the first n images, which can all be of one class)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from builders import make_folder  # noqa: E402
from course_utils import data, plots, preview  # noqa: E402


def sorted_by_class(num_classes, per_class=10, size=8):
    """Images stored class by class, as an unshuffled folder is: the first 8 are all class 0."""
    labels = np.repeat(np.arange(num_classes), per_class)
    images = np.stack([np.full((size, size, 3), 20 * c, np.uint8) for c in labels])
    return images, labels


def shown(fig, class_names):
    """{class name: number of images shown under that title}."""
    counts = dict.fromkeys(class_names, 0)
    for ax in fig.axes:
        if ax.images and ax.get_title() in counts:
            counts[ax.get_title()] += 1
    return counts


@pytest.mark.parametrize("num_classes", [2, 5])
def test_preview_shows_every_class_from_batches(num_classes):
    images, labels = sorted_by_class(num_classes)
    names = [f"class_{c}" for c in range(num_classes)]
    batches = [(images[i:i + 8], labels[i:i + 8]) for i in range(0, len(images), 8)]
    fig = preview.per_class_grid(batches, names, per_class=3)
    assert shown(fig, names) == dict.fromkeys(names, 3)
    # each row holds one class: the pixels of row c are class c's
    rows = np.array(fig.axes).reshape(num_classes, 3)
    for c, row in enumerate(rows):
        assert all(int(ax.images[0].get_array()[0, 0, 0]) == 20 * c for ax in row)


@pytest.mark.parametrize("num_classes", [2, 5])
def test_preview_of_a_split_reads_only_the_shown_files(tmp_path, num_classes, monkeypatch):
    names = [f"c{k}" for k in range(num_classes)]
    ds = data.load_folder(make_folder(tmp_path / "imgs", classes=names, per_class=6), seed=0)
    read = []
    original = data.load_image
    monkeypatch.setattr("course_utils.images.load_image", lambda p, s: read.append(p) or original(p, s))
    fig = plots.per_class_grid(ds.train, ds.class_names, per_class=2, image_size=16)
    assert shown(fig, ds.class_names) == {n: min(2, k) for n, k in zip(ds.class_names, ds.train.counts(num_classes))}
    assert all(v > 0 for v in shown(fig, ds.class_names).values())
    assert len(read) == sum(shown(fig, ds.class_names).values()) < len(ds.train)


def test_a_class_missing_from_the_source_says_so():
    images, labels = sorted_by_class(2)
    fig = preview.per_class_grid([(images, labels)], ["a", "b", "c"], per_class=2)
    assert shown(fig, ["a", "b", "c"]) == {"a": 2, "b": 2, "c": 0}
    assert any("c: no image" in ax.get_title(loc="left") for ax in fig.axes)


def test_pick_takes_the_first_of_each_class():
    assert preview.pick([1, 1, 0, 1, 0, 0], 3, 2) == [[2, 4], [0, 1], []]
    with pytest.raises(ValueError):
        preview.per_class_grid([], ["a"], per_class=0)
