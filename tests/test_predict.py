"""The predict command of notebook 08: a good image, a bad file, a wrong model path, on a tiny model."""

import hashlib
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from builders import garbage, write_image
from conftest import ROOT
from course_utils import predict

CLASSES = ["circle", "square", "triangle"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A tiny model (Input 16x16 RGB -> rescale -> pool -> softmax over 3) saved with its class names."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    folder = tmp_path_factory.mktemp("model")
    path = folder / "tiny.keras"
    model.save(path)
    predict.write_class_names(path, CLASSES)
    return path, model


def test_the_class_names_travel_beside_the_model(saved):
    path, _ = saved
    assert predict.classes_path(path).name == "tiny.classes.json"
    assert json.loads(predict.classes_path(path).read_text()) == {
        "class_names": CLASSES, "model_sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    model, names = predict.load(path)
    assert names == CLASSES and predict.input_size(model) == (16, 16)


def test_top_k_is_sorted_and_matches_the_model(saved, tmp_path):
    path, model = saved
    image = write_image(tmp_path / "a.png", size=(30, 20), seed=3)
    top = predict.predict_file(model, CLASSES, image, k=2)
    x = predict.load_image(image, (16, 16)).astype("float32")[None]
    probs = model.predict(x, verbose=0)[0]
    assert [n for n, _ in top] == [CLASSES[i] for i in np.argsort(-probs)[:2]]
    assert [p for _, p in top] == pytest.approx(sorted(probs)[::-1][:2], rel=1e-6)
    assert predict.top_k([0.1, 0.7, 0.2], CLASSES, k=9) == [("square", 0.7), ("triangle", 0.2), ("circle", 0.1)]


def test_good_image_prints_its_top_classes_and_exits_0(saved, tmp_path, capsys):
    path, _ = saved
    image = write_image(tmp_path / "photo.jpg", size=(40, 40), seed=1)
    assert predict.main([str(path), str(image), "--top", "2"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert re.fullmatch(rf"{re.escape(str(image))}: (circle|square|triangle) 0\.\d{{3}}, "
                        r"(circle|square|triangle) 0\.\d{3}", out[0]), out


def test_a_bad_image_file_is_one_line_and_the_others_still_run(saved, tmp_path, capsys):
    path, _ = saved
    good = write_image(tmp_path / "good.png", seed=2)
    bad = garbage(tmp_path / "bad.jpg")
    missing = tmp_path / "missing.png"
    assert predict.main([str(path), str(bad), str(good), str(missing)]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith(f"{good}: ") and len(captured.out.strip().splitlines()) == 1
    errors = captured.err.strip().splitlines()
    assert errors[0].startswith(f"error: {bad}: unreadable") and errors[1].startswith(f"error: {missing}: ")
    assert errors[-1] == "2 of 3 image(s) could not be read"


def test_a_wrong_model_path_exits_2_with_one_line(tmp_path, capsys):
    image = write_image(tmp_path / "a.png")
    assert predict.main([str(tmp_path / "nope.keras"), str(image)]) == 2
    assert capsys.readouterr().err.strip() == f"error: model file not found: {tmp_path / 'nope.keras'}"
    h5 = garbage(tmp_path / "old.h5")
    assert predict.main([str(h5), str(image)]) == 2
    assert "is not a model this command reads: give it a .keras file, a SavedModel folder" in capsys.readouterr().err
    assert predict.main([str(tmp_path), str(image)]) == 2  # a folder that is not a SavedModel
    assert "is not a model this command reads" in capsys.readouterr().err


def test_a_model_without_its_class_names_or_a_corrupt_model_exits_2(saved, tmp_path, capsys):
    path, _ = saved
    alone = tmp_path / "alone.keras"
    alone.write_bytes(path.read_bytes())
    image = write_image(tmp_path / "a.png")
    assert predict.main([str(alone), str(image)]) == 2
    assert "alone.classes.json is missing" in capsys.readouterr().err
    corrupt = garbage(tmp_path / "corrupt.keras")
    predict.write_class_names(corrupt, CLASSES)
    assert predict.main([str(corrupt), str(image)]) == 2
    assert "could not be loaded as a Keras model" in capsys.readouterr().err
    predict.write_class_names(alone, CLASSES[:2])
    assert predict.main([str(alone), str(image)]) == 2
    assert "names 2 classes but the model has 3 outputs" in capsys.readouterr().err


@pytest.mark.slow
def test_the_module_runs_from_a_shell(saved, tmp_path):
    path, _ = saved
    good, bad = write_image(tmp_path / "good.png"), garbage(tmp_path / "bad.png")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-m", "course_utils.predict", str(path), str(good), str(bad), "--top", "1"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 1, done.stderr
    assert re.fullmatch(rf"{re.escape(str(good))}: (circle|square|triangle) \d\.\d{{3}}\n", done.stdout)
    assert f"error: {bad}: unreadable" in done.stderr and "1 of 2 image(s) could not be read" in done.stderr


def test_the_savedmodel_and_tflite_exports_predict_like_the_keras_file(saved, tmp_path, capsys):
    """Notebook 08, section 9: model.export (SavedModel) and a TFLite file, through the same command."""
    import tensorflow as tf

    path, model = saved
    savedmodel = path.with_suffix(".savedmodel")
    model.export(savedmodel)
    tflite = path.with_suffix(".tflite")
    tflite.write_bytes(tf.lite.TFLiteConverter.from_saved_model(str(savedmodel)).convert())
    capsys.readouterr()  # model.export prints where it wrote the folder
    assert predict.classes_path(savedmodel) == predict.classes_path(tflite) == predict.classes_path(path)
    images = [write_image(tmp_path / f"{i}.png", seed=i) for i in range(3)]
    lines = {}
    for form in (path, savedmodel, tflite):
        loaded, names = predict.load(form)
        assert names == CLASSES and predict.input_size(loaded) == (16, 16)
        x = np.stack([predict.load_image(p, (16, 16)).astype("float32") for p in images])
        np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)
        assert predict.main([str(form), *map(str, images), "--top", "2"]) == 0
        lines[form.suffix] = capsys.readouterr().out
    assert lines[".keras"] == lines[".savedmodel"] == lines[".tflite"]
