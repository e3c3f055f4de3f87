"""A learner's folder can't silently go wrong (issue 10): each case is an error or is listed."""

import os
import re
from pathlib import Path

import pytest

from builders import (
    animated_gif,
    garbage,
    make_folder,
    png_header_only,
    sideways_jpeg,
    snapshot,
    write_image,
)
from course_utils import data


def used_paths(ds):
    return [p for split in ds.splits().values() for p in split.paths]


def reasons(ds):
    return {Path(p).relative_to(ds.root).as_posix(): why for p, why in ds.report.skipped}


# --------------------------------------------------------------------------- links


def test_a_link_to_a_photo_of_another_class_is_used_once_and_reported(tmp_path):
    root = make_folder(tmp_path / "ds", classes=("ants", "bees"), per_class=10)
    target = root / "ants" / "ants_03.png"
    (root / "bees" / "zz_link.png").symlink_to(target)
    ds = data.load_folder(root)
    real = [os.path.realpath(p) for p in used_paths(ds)]
    assert real.count(str(target.resolve())) == 1, "one photo in two classes and two splits"
    labels = dict(zip(used_paths(ds), [y for s in ds.splits().values() for y in s.labels]))
    assert ds.class_names[labels[str(target)]] == "ants", "kept as the class of the real file"
    why = reasons(ds)["bees/zz_link.png"]
    assert "the same file as ants/ants_03.png" in why and "used once" in why
    assert "skipped bees/zz_link.png: the same file as ants/ants_03.png" in ds.summary()


def test_a_link_or_hard_link_to_a_file_of_the_same_class_does_not_duplicate_it(tmp_path):
    root = make_folder(tmp_path / "ds", per_class=10)
    (root / "cat" / "again.png").symlink_to(root / "cat" / "cat_00.png")
    os.link(root / "cat" / "cat_01.png", root / "cat" / "hard.png")
    ds = data.load_folder(root)
    real = [os.path.realpath(p) for p in used_paths(ds)]
    assert len(real) == len(set(real)) == 20
    skipped = reasons(ds)
    assert "cat/cat_00.png" in skipped["cat/again.png"]
    assert "cat/cat_01.png" in skipped["cat/hard.png"]


def test_a_broken_link_is_reported(tmp_path):
    root = make_folder(tmp_path / "ds")
    (root / "dog" / "gone.jpg").symlink_to(tmp_path / "deleted.jpg")
    (root / "bird").symlink_to(tmp_path / "unplugged" / "bird")  # a class folder's link
    ds = data.load_folder(root)
    assert reasons(ds)["dog/gone.jpg"] == f"broken link (to {tmp_path / 'deleted.jpg'})"
    assert reasons(ds)["bird"] == f"broken link (to {tmp_path / 'unplugged' / 'bird'})"


# --------------------------------------------------------------------------- classes


def test_a_folder_with_one_class_is_an_error(tmp_path):
    root = make_folder(tmp_path / "ds", classes=("cat",))
    with pytest.raises(data.DatasetError, match=r"one class folder \(cat/\).*at least two"):
        data.load_folder(root)


def test_a_class_too_small_for_every_split_says_how_many_images_it_needs(tmp_path):
    root = make_folder(tmp_path / "ds", per_class=10)
    for i in range(2):
        write_image(root / "bird" / f"bird_{i}.png")
    with pytest.raises(data.DatasetError) as info:
        data.load_folder(root)
    msg = str(info.value)
    assert "Class 'bird' has 2 image file(s)" in msg and "at least 3: add 1 more" in msg


def test_a_class_of_two_with_a_val_folder_gets_a_test_image(tmp_path):
    # Only test is carved here: two images are enough, one to train on and one to test.
    make_folder(tmp_path / "ds" / "train", per_class=2)
    make_folder(tmp_path / "ds" / "val", per_class=2)
    ds = data.load_folder(tmp_path / "ds")
    assert ds.test.counts(2) == [1, 1] and ds.train.counts(2) == [1, 1]


def test_a_class_whose_images_are_all_unreadable_is_an_error_naming_it(tmp_path):
    root = make_folder(tmp_path / "ds", classes=("ants",), per_class=10)
    for i in range(5):
        garbage(root / "bees" / f"bee_{i}.jpg")
    with pytest.raises(data.DatasetError) as info:
        data.load_folder(root)
    msg = str(info.value)
    assert "Class 'bees': none of its 5 image files could be read" in msg
    assert re.search(r"bees/bee_\d\.jpg: not an image", msg) and "'ants'" not in msg


def test_a_class_unreadable_in_one_split_is_an_error_naming_the_split(tmp_path):
    make_folder(tmp_path / "ds" / "train", per_class=6)
    make_folder(tmp_path / "ds" / "val", classes=("cat",), per_class=2)
    garbage(tmp_path / "ds" / "val" / "dog" / "dog.png")
    with pytest.raises(data.DatasetError, match=r"Class 'dog' has no readable image in the val "
                                                r"split \(folder val/\)"):
        data.load_folder(tmp_path / "ds")


def test_a_folder_of_only_unreadable_images_says_they_were_unreadable(tmp_path):
    for c in ("cat", "dog"):
        for i in range(4):
            garbage(tmp_path / "ds" / c / f"{c}_{i}.jpg")
    with pytest.raises(data.DatasetError, match=r"None of the 8 image files in .*ds could be read"):
        data.load_folder(tmp_path / "ds")


# --------------------------------------------------------------------------- layout


def test_split_folders_are_matched_whatever_their_case(tmp_path):
    make_folder(tmp_path / "ds" / "Train", per_class=10)
    make_folder(tmp_path / "ds" / "Val", per_class=3)
    ds = data.load_folder(tmp_path / "ds")
    assert ds.class_names == ["cat", "dog"]
    assert ds.sources["val"] == "folder Val/" and len(ds.val) == 6


def test_two_folders_for_one_split_are_an_error(tmp_path):
    make_folder(tmp_path / "ds" / "train")
    make_folder(tmp_path / "ds" / "val")
    make_folder(tmp_path / "ds" / "Validation")
    with pytest.raises(data.DatasetError, match=r"2 folders for the val split \(Validation, val\)"):
        data.load_folder(tmp_path / "ds")


def test_images_in_nested_sub_folders_are_included_and_listed(tmp_path):
    root = make_folder(tmp_path / "ds", per_class=10)
    for i in range(3):
        write_image(root / "cat" / "2019" / f"old_{i}.png")
    ds = data.load_folder(root)
    assert sum("/cat/2019/" in p for p in used_paths(ds)) == 3
    assert ds.report.nested == {str(root / "cat" / "2019"): 3}
    assert "nested sub-folders, included as their class: cat/2019/ (3 files)" in ds.summary()


def test_a_file_given_instead_of_a_folder_is_named_as_a_file(tmp_path):
    path = write_image(tmp_path / "photo.jpg")
    with pytest.raises(data.DatasetError, match=rf"{path} is a file, not a folder.*{tmp_path}"):
        data.load_folder(path)


def test_the_summary_says_where_each_split_came_from(tmp_path):
    make_folder(tmp_path / "ds" / "train", per_class=10)
    make_folder(tmp_path / "ds" / "val", per_class=4)
    summary = data.load_folder(tmp_path / "ds").summary()
    assert "train:    16 images  per class [8, 8]  <- folder train/ less what was carved for test" \
        in summary
    assert "  val:     8 images  per class [4, 4]  <- folder val/" in summary
    assert " test:     4 images  per class [2, 2]  <- carved from train/ (20% per class)" in summary


def test_images_and_folders_beside_the_split_folders_are_reported(tmp_path):
    make_folder(tmp_path / "ds" / "train")
    make_folder(tmp_path / "ds" / "val", per_class=3)
    write_image(tmp_path / "ds" / "stray.png")
    write_image(tmp_path / "ds" / "extra" / "x.png")
    skipped = reasons(data.load_folder(tmp_path / "ds"))
    assert skipped["stray.png"].startswith("image outside any class folder")
    assert skipped["extra"].startswith("folder beside the split folders")


# --------------------------------------------------------------------------- all at once


def every_bad_case(root: Path) -> dict[str, str]:
    """A folder with every case of issue 10; returns {path: what its summary line says}."""
    make_folder(root, classes=("ants", "bees"), per_class=10)
    good = write_image(root.parent / "whole.jpg", size=(200, 200), fmt="JPEG")
    (root / "ants" / "truncated.jpg").write_bytes(good.read_bytes()[:600])
    garbage(root / "ants" / "text.png")
    (root / "ants" / "empty.png").write_bytes(b"")
    garbage(root / "ants" / "notes.txt")
    garbage(root / "ants" / ".DS_Store")
    write_image(root / "ants" / ".thumbs" / "t.png")
    (root / "bees" / "link.png").symlink_to(root / "ants" / "ants_00.png")
    (root / "bees" / "gone.png").symlink_to(root / "nowhere.png")
    png_header_only(root / "bees" / "huge.png", 14000, 14000)
    write_image(root / "stray.png")
    return {
        "ants/truncated.jpg": "corrupt or truncated",
        "ants/text.png": "not an image",
        "ants/empty.png": "empty file",
        "ants/notes.txt": "not an image file (extension .txt)",
        "ants/.DS_Store": "hidden file",
        "ants/.thumbs": "hidden folder, not searched",
        "bees/link.png": "the same file as ants/ants_00.png (through a link): used once",
        "bees/gone.png": "broken link",
        "bees/huge.png": "too large: 196,000,000 pixels, over the pixel limit of",
        "stray.png": "image outside any class folder",
    }


def test_a_folder_with_every_bad_case_lists_each_in_the_summary(tmp_path):
    root = tmp_path / "ds"
    expected = every_bad_case(root)
    sideways_jpeg(root / "ants" / "portrait.jpg")
    animated_gif(root / "bees" / "blink.gif")
    write_image(root / "bees" / "2020" / "nested.png")
    write_image(root / "bees" / "gray.png", mode="L")
    ds = data.load_folder(root, val_fraction=0.25, test_fraction=0.25)
    summary = ds.summary()
    for path, why in expected.items():
        assert f"skipped {path}: {why}" in summary, path
    assert f"skipped: {len(expected)}" in summary
    assert "turned upright by their EXIF orientation: 1" in summary
    assert "several frames (an animation, pages, or a phone's extra picture), first frame " \
        "used: 1 (bees/blink.gif)" in summary
    assert "nested sub-folders, included as their class: bees/2020/ (1 file)" in summary
    assert "converted to RGB: 1 from L, 1 from P" in summary
    assert ds.report.used == 10 + 10 + 4


def test_loading_never_changes_a_learner_folder(tmp_path):
    # Tests run as root, so a read-only folder would prove nothing: compare every byte.
    root = tmp_path / "ds"
    every_bad_case(root)
    before = snapshot(tmp_path)
    ds = data.load_folder(root)
    data.load_arrays(ds.train, 16)
    ds.summary()
    assert snapshot(tmp_path) == before
