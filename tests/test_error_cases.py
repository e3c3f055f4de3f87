"""A skeptical learner's and a classroom's odd inputs: each is handled, or stopped by an error that
names the parameter or path and what to do."""

import json
import os

import nbformat
import pytest
from PIL import Image

from builders import garbage, make_folder, write_image
from course_utils import (
    data,
    folder_report,
    folders,
    images,
    paths,
    predict,
    run_course,
    runs,
    split_folders,
)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("COURSE_WEIGHTS_DIR", raising=False)
    return tmp_path


def test_a_255_byte_file_name_makes_split_folders(home):
    folder = make_folder(home / "photos", per_class=10)
    long = folder / "cat" / ("é" * 125 + "x.png")  # 251 bytes + ".png": the longest a file system allows
    assert len(long.name.encode()) == 255
    write_image(long, seed=99)
    ds = data.load_folder(folder)
    root = split_folders.write(ds, 16)
    copies = [p for p in root.rglob("*.png") if "é" in p.name]
    assert copies and all(len(p.name.encode()) < 255 for p in copies)


def test_a_damaged_tiff_is_skipped_and_the_scan_goes_on(tmp_path):
    folder = make_folder(tmp_path / "photos", per_class=10)
    tiff = folder / "cat" / "scan.tif"
    pages = [Image.new("RGB", (20, 20), c) for c in ("red", "blue")]
    pages[0].save(tiff, format="TIFF", save_all=True, append_images=pages[1:])
    raw = bytearray(tiff.read_bytes())
    # the second page loses its ImageWidth / ImageLength tags: Pillow raises TypeError("Missing
    # dimensions") when it counts the pages, not the errors a damaged image usually gives
    first = int.from_bytes(raw[4:8], "little")
    count = int.from_bytes(raw[first:first + 2], "little")
    second = int.from_bytes(raw[first + 2 + 12 * count:first + 6 + 12 * count], "little")
    for i in range(int.from_bytes(raw[second:second + 2], "little")):
        at = second + 2 + 12 * i
        if int.from_bytes(raw[at:at + 2], "little") in (256, 257):
            raw[at:at + 2] = (65000 + i).to_bytes(2, "little")  # an unknown tag instead
    tiff.write_bytes(bytes(raw))
    with pytest.raises(TypeError, match="Missing dimensions"), Image.open(tiff) as img:
        img.seek(1)
    found = images.check_image(tiff)
    assert not found.ok and "corrupt or truncated (TypeError: Missing dimensions)" in found.reason
    report = folder_report.check(folder)
    assert report.per_class == {"cat": 10, "dog": 10}
    assert [p for p, _ in report.skipped] == [str(tiff)]


def test_a_read_only_shared_data_folder_writes_the_runs_files_to_the_outputs(home, monkeypatch):
    shared = str(paths.cache_dir())
    real = paths.writable
    monkeypatch.setattr(paths, "writable", lambda folder: not str(folder).startswith(shared) and real(folder))
    folder = make_folder(home / "photos", per_class=10)
    run = runs.start("03", "smoke", folder=str(folder), progress=False)
    assert run.split_dir.is_relative_to(home / "out" / "cache" / "splits")
    assert not (paths.cache_dir() / "splits").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_really_read_only_data_folder_is_used(home):
    folder = make_folder(home / "photos", per_class=10)
    paths.cache_dir().mkdir(parents=True)
    paths.cache_dir().chmod(0o555)
    try:
        run = runs.start("03", "smoke", folder=str(folder), progress=False)
        assert run.split_dir.is_relative_to(home / "out")
    finally:
        paths.cache_dir().chmod(0o755)


def test_course_output_dir_pointing_at_a_file_names_the_variable(home, monkeypatch):
    target = home / "results.txt"
    target.write_text("mine")
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(target))
    with pytest.raises(NotADirectoryError, match="COURSE_OUTPUT_DIR=.*results.txt' is a file"):
        paths.outputs_dir()
    assert target.read_text() == "mine"


def test_an_unwritable_outputs_folder_stops_the_run_at_its_start_naming_course_output_dir(home, monkeypatch):
    out = str(paths.outputs_dir())
    real = paths.writable
    monkeypatch.setattr(paths, "writable", lambda folder: not str(folder).startswith(out) and real(folder))
    with pytest.raises(PermissionError, match="COURSE_OUTPUT_DIR"):
        runs.start("03", "smoke", progress=False)


def test_run_course_output_pointing_at_a_file_exits_2_with_one_line(tmp_path, capsys):
    target = tmp_path / "out.txt"
    target.write_text("mine")
    assert run_course.main(["--output", str(target), "--profile", "smoke"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err and target.read_text() == "mine"


@pytest.mark.parametrize("seed", [-1, "abc", 2**32, 1.5, True])
def test_a_seed_that_numpy_or_keras_would_refuse_names_seed(home, seed):
    with pytest.raises(ValueError, match=r"SEED=.*whole number from 0 to 4294967295"):
        runs.start("03", "smoke", seed=seed, progress=False)


@pytest.mark.parametrize("make, expected", [
    (lambda d: d / "missing.jpg", "no such file"),
    (lambda d: garbage(d / "paper.pdf", "%PDF-1.4 not a picture"), "PDF document"),
    (lambda d: d, "is a folder"),
])
def test_image_file_problems_are_one_line_naming_image_file(tmp_path, make, expected):
    text = images.problem(make(tmp_path), "IMAGE_FILE")
    assert text.startswith("IMAGE_FILE=") and expected in text and "\n" not in text
    assert images.problem(write_image(tmp_path / "ok.jpg"), "IMAGE_FILE") == ""


def test_notebook_08_checks_image_file_before_training():
    nb = json.loads((paths.repo_root() / "notebooks" / "08_your_own_images.ipynb").read_text())
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    checked = next(i for i, c in enumerate(code) if "images.problem(IMAGE_FILE" in c)
    trained = next(i for i, c in enumerate(code) if "model.fit(" in c)
    exported = next(i for i, c in enumerate(code) if "model.save(" in c)
    assert checked < trained < exported
    assert not any("raise" in line for line in code[checked].splitlines() if "image_file_problem" in line)


@pytest.fixture
def features_head(tmp_path):
    import keras

    inputs = keras.Input((1, 1, 512), name="features")
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="head")(inputs))
    path = tmp_path / "03_head_gap.keras"
    model.save(path)
    predict.write_class_names(path, ["cat", "dog"])
    return path


def test_predict_on_a_model_that_takes_features_says_so(features_head, tmp_path, capsys):
    image = write_image(tmp_path / "cat.jpg")
    assert predict.main([str(features_head), str(image)]) == 2
    err = capsys.readouterr().err
    assert "not images" in err and "trained on features" in err and "Traceback" not in err


def test_predict_refuses_another_exports_class_names_of_the_same_length(tmp_path, capsys):
    import keras

    made = []
    for name, classes in (("flowers", ["daisy", "rose"]), ("pets", ["cat", "dog"])):
        inputs = keras.Input((8, 8, 3))
        x = keras.layers.GlobalAveragePooling2D()(inputs)
        model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
        path = tmp_path / name / "model.keras"
        path.parent.mkdir()
        model.save(path)
        predict.write_class_names(path, classes)
        made.append(path)
    image = write_image(tmp_path / "x.jpg")
    assert predict.main([str(made[0]), str(image)]) == 0
    predict.classes_path(made[1]).replace(predict.classes_path(made[0]))  # the pets' names beside the flowers
    capsys.readouterr()
    assert predict.main([str(made[0]), str(image)]) == 2
    assert "written for another model file" in capsys.readouterr().err


@pytest.mark.slow  # starts a notebook kernel (~4 s on 2 cores)
def test_run_course_resolves_a_relative_data_folder_against_the_callers_directory(tmp_path, monkeypatch, capsys):
    src = tmp_path / "notebooks"
    src.mkdir()
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('PROFILE = "auto"\nDATA_FOLDER = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(
        "from pathlib import Path\nassert Path(DATA_FOLDER).is_dir(), DATA_FOLDER\nprint('found', DATA_FOLDER)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, src / "00_a.ipynb")
    (tmp_path / "caller" / "photos").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "caller")
    code = run_course.main(["--profile", "smoke", "--notebooks", str(src), "--output", str(tmp_path / "out"),
                            "--data-folder", "photos", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    assert str(tmp_path / "caller" / "photos") in (tmp_path / "out" / "notebooks" / "00_a.ipynb").read_text()


def test_the_folder_report_groups_skipped_files_and_never_hides_a_broken_photo(tmp_path):
    folder = make_folder(tmp_path / "photos", per_class=10)
    for i in range(12):
        (folder / "cat" / f".DS_Store{i}").write_text("finder")
    garbage(folder / "dog" / "broken_1.jpg")
    garbage(folder / "dog" / "broken_2.jpg")
    text = folder_report.check(folder).summary()
    assert "hidden file: 12 (" in text and "and 9 more" in text
    assert "broken_1.jpg" in text and "broken_2.jpg" in text
    assert text.index("broken_1.jpg") < text.index("hidden file: 12")


@pytest.mark.parametrize("name", ["train", "test"])
def test_a_class_named_like_a_split_folder_is_a_class(tmp_path, name):
    folder = make_folder(tmp_path / "photos", classes=(name, "car"), per_class=10)
    scan = folders.scan_folder(folder)
    assert scan.classes == ["car", name] and list(scan.folders) == ["all"]


def test_a_class_named_train_beside_real_split_folders_is_explained(tmp_path):
    folder = tmp_path / "photos"
    make_folder(folder / "val", classes=("bus", "car"), per_class=3)
    for i in range(3):  # photos of trains, straight in train/
        write_image(folder / "train" / f"locomotive_{i}.png", seed=i)
    with pytest.raises(data.DatasetError, match="train/ holds images, not class folders.*rename it"):
        folders.scan_folder(folder)
