"""Notebook 08's DATA_FOLDER as a zip (photos uploaded to Colab): unpacked once, safely, never over the learner's files."""

import zipfile

import pytest

from builders import make_folder, snapshot
from course_utils import folders
from course_utils.errors import DatasetError


def _zip(path, root, prefix=""):
    with zipfile.ZipFile(path, "w") as z:
        for f in sorted(root.rglob("*")):
            if f.is_file():
                z.write(f, prefix + f.relative_to(root).as_posix())
    return path


def test_a_zip_of_one_folder_is_unpacked_beside_it_once_and_scans_as_that_folder(tmp_path):
    photos = make_folder(tmp_path / "src", per_class=3)
    (tmp_path / "up").mkdir()
    archive = _zip(tmp_path / "up" / "photos.zip", photos, prefix="photos/")
    folder = folders.unpack_zip(archive)
    assert folder == tmp_path / "up" / "photos"
    assert sorted(p.name for p in folder.iterdir()) == ["cat", "dog"]
    assert folders.scan_folder(folder).classes == ["cat", "dog"]
    before = snapshot(tmp_path / "up")
    assert folders.unpack_zip(archive) == folder  # the second time: used as it is
    assert snapshot(tmp_path / "up") == before
    assert [p.name for p in (tmp_path / "up").iterdir() if p.name.startswith(".photos-")] == []  # no scratch left


def test_a_zip_with_a_path_outside_its_folder_is_refused_and_leaves_nothing(tmp_path):
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("cat/a.png", b"x")
        z.writestr("../escaped.txt", b"x")
    with pytest.raises(DatasetError, match="unsafe path"):
        folders.unpack_zip(archive)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos.zip"]


def test_an_existing_folder_of_the_same_name_is_never_overwritten(tmp_path):
    photos = make_folder(tmp_path / "src", per_class=2)
    archive = _zip(tmp_path / "photos.zip", photos)
    mine = tmp_path / "photos"
    mine.mkdir()
    (mine / "notes.txt").write_text("my work")
    with pytest.raises(DatasetError, match="already exists and was not unpacked from photos.zip"):
        folders.unpack_zip(archive)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"] and (mine / "notes.txt").read_text() == "my work"


def test_a_missing_zip_names_the_parameter(tmp_path):
    with pytest.raises(DatasetError, match="DATA_FOLDER .*nope.zip does not exist"):
        folders.unpack_zip(tmp_path / "nope.zip")
