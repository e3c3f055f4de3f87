"""The same photo in two splits (a copy, or a resized or re-encoded one) is found by runs.start and reported."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from course_utils import folder_report, images, runs


def photo(seed: int, size=(96, 72)) -> Image.Image:
    """A picture with structure (smooth blobs of colour), as photos have, unlike pixel noise."""
    small = np.random.default_rng(seed).integers(0, 256, (5, 6, 3), dtype=np.uint8)
    return Image.fromarray(small).resize(size, Image.BICUBIC)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path


def test_a_resized_copy_keeps_its_hash_and_another_photo_does_not():
    a = np.asarray(photo(1))
    resized = np.asarray(photo(1).resize((60, 45)))
    other = np.asarray(photo(2))
    assert (images.dhash(a) ^ images.dhash(resized)).bit_count() <= folder_report.NEAR
    assert (images.dhash(a) ^ images.dhash(other)).bit_count() > 3 * folder_report.NEAR


def test_runs_start_reports_exact_and_near_duplicates_across_splits_with_their_files(home, capsys):
    root = home / "photos"
    seed = 0
    for role, n in (("train", 10), ("val", 3), ("test", 3)):
        for c in ("cat", "dog"):
            (root / role / c).mkdir(parents=True)
            for i in range(n):
                seed += 1
                photo(seed).save(root / role / c / f"{c}_{i}.png")
    # a train photo copied into test, and another re-encoded smaller into val
    (root / "test" / "cat" / "copy.png").write_bytes((root / "train" / "cat" / "cat_0.png").read_bytes())
    Image.open(root / "train" / "dog" / "dog_3.png").resize((64, 48)).save(root / "val" / "dog" / "again.jpg",
                                                                          quality=80)
    run = runs.start("08", "smoke", folder=str(root), progress=False)
    out = capsys.readouterr().out
    found = sorted(sorted(Path(p).name for _, p in g) for g in run.duplicates)
    assert found == [["again.jpg", "dog_3.png"], ["cat_0.png", "copy.png"]]
    assert "2 picture(s) sit in two splits" in out and "copy.png" in out


def test_a_folder_without_copies_reports_none(home, capsys):
    root = home / "photos"
    for c in ("cat", "dog"):
        (root / c).mkdir(parents=True)
        for i in range(12):
            photo(100 * (c == "dog") + i).save(root / c / f"{i}.png")
    run = runs.start("08", "smoke", folder=str(root), progress=False)
    assert run.duplicates == [] and "sit in two splits" not in capsys.readouterr().out
