"""The folder report of notebook 08: what it counts, and each case that stops a run."""

import shutil

import numpy as np
import pytest

from builders import garbage, make_folder, snapshot, write_image
from course_utils import data, folder_report
from course_utils.errors import DatasetError


def test_a_good_folder_is_counted_per_class_with_sizes_and_is_left_untouched(tmp_path):
    root = make_folder(tmp_path / "ds", per_class=10)
    write_image(root / "dog" / "big.png", size=(60, 40), seed=7)
    garbage(root / "cat" / "notes.txt")
    garbage(root / "cat" / "broken.jpg")
    before = snapshot(root)
    report = folder_report.check(root)
    assert report.classes == ["cat", "dog"] and report.per_class == {"cat": 10, "dog": 11}
    assert report.counts == {"all": {"cat": 10, "dog": 11}}
    why = dict((p.split("/")[-1], r) for p, r in report.skipped)
    assert why["broken.jpg"] == "not an image" and "not an image file (extension .txt)" in why["notes.txt"]
    assert report.sizes.shape == (21, 2) and report.sizes[:, 0].max() == 60 and report.sizes[:, 1].min() == 20
    text = report.summary()
    assert "width min 24 / median 24 / max 60" in text and "cat/broken.jpg: not an image" in text
    assert "largest / smallest = 1.1" in text and not report.warnings
    assert snapshot(root) == before, "the report only reads the folder"


def test_exact_duplicates_are_grouped_and_those_across_classes_and_split_folders_warned(tmp_path):
    root = tmp_path / "ds"
    for k, role in enumerate(("train", "val", "test")):  # other pixels in each split folder
        for c in ("cat", "dog"):
            for i in range(10 if role == "train" else 3):
                write_image(root / role / c / f"{c}_{i:02d}.png", seed=1000 * k + 100 * (c == "dog") + i)
    shutil.copy(root / "train" / "cat" / "cat_00.png", root / "train" / "cat" / "copy.png")  # same class
    shutil.copy(root / "train" / "cat" / "cat_01.png", root / "train" / "dog" / "cat_as_dog.png")  # two classes
    shutil.copy(root / "train" / "dog" / "dog_02.png", root / "test" / "dog" / "seen.png")  # train and test
    report = folder_report.check(root)
    assert list(report.counts) == ["train", "val", "test"]
    assert len(report.duplicates) == 3
    assert len(report.duplicates_across("class")) == 1 and len(report.duplicates_across("split")) == 1
    leak = report.duplicates_across("split")[0]
    assert {role for role, _, _ in leak} == {"train", "test"}
    assert any("two classes" in w for w in report.warnings)
    assert any("two split folders" in w for w in report.warnings)
    assert "3 group(s), 1 across classes, 1 across split folders" in report.summary()


def test_unbalanced_classes_are_warned_with_the_ratio(tmp_path):
    root = make_folder(tmp_path / "ds", classes=("rare",), per_class=10)
    make_folder(root, classes=("common",), per_class=35)
    report = folder_report.check(root)
    assert report.balance == pytest.approx(3.5)
    assert len(report.warnings) == 1 and "'common' has 35 images, 'rare' 10 (3.5x" in report.warnings[0]
    assert "WARNING: classes are unbalanced" in report.summary()


def test_duplicates_that_the_split_put_in_two_splits_are_found(tmp_path):
    root = make_folder(tmp_path / "ds", per_class=10)
    for i in range(5):  # five copies of one photo: the 20 % carves put some in val or test
        shutil.copy(root / "cat" / "cat_00.png", root / "cat" / f"again_{i}.png")
    ds = data.load_folder(root)
    groups = folder_report.across_splits(ds)
    assert len(groups) == 1 and len({role for role, _ in groups[0]}) > 1
    assert all(p.endswith(("cat_00.png",)) or "again_" in p for _, p in groups[0])


# --------------------------------------------------------------------------- what stops a run


def test_a_missing_folder_stops_with_its_path(tmp_path):
    with pytest.raises(DatasetError, match=r"Dataset folder not found: .*nowhere. Check the path"):
        folder_report.check(tmp_path / "nowhere")


def test_one_class_stops_and_says_a_classifier_needs_two(tmp_path):
    root = make_folder(tmp_path / "ds", classes=("cat",), per_class=12)
    with pytest.raises(DatasetError, match="one class folder \\(cat/\\): a classifier needs at least two"):
        folder_report.check(root)


def test_a_folder_without_class_folders_stops(tmp_path):
    write_image(tmp_path / "ds" / "loose.png")
    with pytest.raises(DatasetError, match="No class sub-folders in .*ds. Expected one folder per class"):
        folder_report.check(tmp_path / "ds")


def test_no_readable_image_at_all_stops_with_examples(tmp_path):
    for c in ("cat", "dog"):
        for i in range(3):
            garbage(tmp_path / "ds" / c / f"{i}.jpg")
    with pytest.raises(DatasetError, match=r"None of the 6 image files .* could be read \(cat/0.jpg: not an image"):
        folder_report.check(tmp_path / "ds")


def test_too_few_images_in_a_class_names_it_the_minimum_and_why(tmp_path):
    root = make_folder(tmp_path / "ds", per_class=10)
    for i in range(4, 10):  # dog keeps 4
        (root / "dog" / f"dog_{i:02d}.png").unlink()
    garbage(root / "dog" / "unreadable.png")  # not counted: only usable images count
    with pytest.raises(DatasetError) as err:
        folder_report.check(root)
    message = str(err.value)
    assert "'dog' has 4" in message and "'cat'" not in message
    assert f"at least {folder_report.MIN_IMAGES_PER_CLASS}" in message
    assert "20% of each class for validation and 20% for test" in message and "6 to train on" in message
    assert folder_report.check(root, min_per_class=4).per_class["dog"] == 4  # a lower minimum is the caller's choice


def test_a_split_folder_without_a_readable_image_of_a_class_stops(tmp_path):
    root = tmp_path / "ds"
    make_folder(root / "train", per_class=12)
    make_folder(root / "val", per_class=2)
    for p in (root / "val" / "dog").iterdir():
        p.unlink()
    garbage(root / "val" / "dog" / "bad.jpg")
    with pytest.raises(DatasetError, match=r"ds/val: no readable image of 'dog'. Every class needs at least one"):
        folder_report.check(root)


def test_sizes_are_those_displayed(tmp_path):
    from builders import sideways_jpeg

    root = make_folder(tmp_path / "ds", per_class=10)
    sideways_jpeg(root / "cat" / "phone.jpg")  # 40x20 stored, 20x40 displayed
    report = folder_report.check(root)
    assert [20, 40] in report.sizes.tolist() and [40, 20] not in report.sizes.tolist()
    assert np.median(report.sizes[:, 0]) == 24
