"""Nothing stale: caches keyed by the images' contents, models reused only when they are the file saved,
kits rebuilt without losing an instructor's edits."""

import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from builders import make_folder, write_image
from course_utils import backbones, data, features, kit, runs

SIZE = 32


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("COURSE_WEIGHTS_DIR", raising=False)
    return tmp_path


def test_a_folder_refilled_with_other_photos_under_the_same_names_misses_the_feature_cache(tmp_path):
    folder = make_folder(tmp_path / "photos", per_class=10)
    ds = data.load_folder(folder, images_per_class=4, eval_images_per_class=2)
    base = backbones.get("mobilenet_0.25").build(None, (SIZE, SIZE, 3))

    def extract():
        return features.extract(base, "mobilenet_0.25", ds.train, SIZE, dataset_name="mine", role="train",
                                cache_dir=tmp_path / "cache", batch_size=4)

    first, _, miss = extract()
    assert not miss.hit and extract()[2].hit
    for i, p in enumerate(ds.train.paths):  # the same names, other photos (and a touch-up of the times)
        stat = os.stat(p)
        write_image(Path(p), seed=1000 + i)
        os.utime(p, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again, _, info = extract()
    assert not info.hit, "features of the old photos were reused"
    assert np.abs(again - first).max() > 0


def _saved_model(run, tmp_path):
    """A small real .keras file saved and remembered as a notebook does."""
    import keras

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(inputs))
    path = run.models_dir / "03_head.keras"
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    run.remember(path)
    return path


def test_a_truncated_model_with_an_intact_provenance_file_is_not_reused(home):
    run = runs.start("03", "smoke", backbone="mobilenet_0.25", progress=False)
    path = _saved_model(run, home)
    assert run.reusable(path)[0]
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # a copy cut short; its .json is untouched
    ok, why = run.reusable(path)
    assert not ok and "not the file its provenance describes" in why


def test_a_model_replaced_by_another_file_is_not_reused(home):
    run = runs.start("03", "smoke", backbone="mobilenet_0.25", progress=False)
    path = _saved_model(run, home)
    with zipfile.ZipFile(path, "a") as z:  # still a valid archive, but not the model remembered
        z.writestr("extra.txt", "changed")
    assert not run.reusable(path)[0]
    sidecar = path.with_suffix(".json")
    old = json.loads(sidecar.read_text())
    del old["model_sha256"]  # a provenance file written before digests were recorded
    sidecar.write_text(json.dumps(old))
    assert "records no digest" in run.reusable(path)[1]


# --------------------------------------------------------------------------- kits


@pytest.fixture
def tiny_repo(tmp_path, monkeypatch):
    """A stand-in repository (notebooks/, data/, a few files) that kit.build copies."""
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    (repo / "data").mkdir()
    (repo / "notebooks" / "03.ipynb").write_text("course version 1\n")
    (repo / "README.md").write_text("readme\n")
    monkeypatch.setattr(kit.paths, "repo_root", lambda: repo)
    monkeypatch.setattr(kit, "course_files", lambda root: sorted(
        p.relative_to(root) for p in root.rglob("*") if p.is_file() and "data" not in p.relative_to(root).parts))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "machine-data"))
    return repo


def test_building_a_kit_again_keeps_an_instructors_edits_and_added_worksheets(tiny_repo, tmp_path, capsys):
    target = tmp_path / "kit"
    assert kit.main(["build", str(target), "--backbones", "--datasets"]) == 0
    course = target / "course"
    (course / "notebooks" / "03.ipynb").write_text("instructor's version\n")
    (course / "notebooks" / "worksheet.ipynb").write_text("added by the instructor\n")
    (tiny_repo / "README.md").write_text("readme, updated\n")  # the course moves on
    (tiny_repo / "notebooks" / "03.ipynb").write_text("course version 2\n")
    capsys.readouterr()
    assert kit.main(["build", str(target), "--backbones", "--datasets"]) == 0
    out = capsys.readouterr().out
    assert (course / "notebooks" / "03.ipynb").read_text() == "instructor's version\n"
    assert (course / "notebooks" / "worksheet.ipynb").read_text() == "added by the instructor\n"
    assert (course / "README.md").read_text() == "readme, updated\n"  # untouched by anyone: updated
    assert "kept course/notebooks/03.ipynb" in out
    assert json.loads((target / "kit.json").read_text())["kept_as_edited"] == ["notebooks/03.ipynb"]
    shutil.rmtree(course / "notebooks")  # deleted on purpose: the course's files come back
    assert kit.main(["build", str(target), "--backbones", "--datasets"]) == 0
    assert (course / "notebooks" / "03.ipynb").read_text() == "course version 2\n"


def test_building_a_kit_onto_a_file_is_a_clear_error(tiny_repo, tmp_path, capsys):
    target = tmp_path / "kit.zip"
    target.write_bytes(b"an archive")
    assert kit.main(["build", str(target), "--backbones", "--datasets"]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err and target.read_bytes() == b"an archive"
