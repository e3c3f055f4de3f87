"""The resolved run (runs.start) and claims judged against the spread."""

import json
import zipfile

import keras
import numpy as np
import pytest

from course_utils import claims, runs


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("COURSE_WEIGHTS_DIR", raising=False)
    return tmp_path


def test_smoke_run_says_its_numbers_are_not_results_and_writes_keras_readable_split_folders(home, capsys):
    run = runs.start("03", "smoke", backbone="vgg16", seed=0, progress=False)
    out = capsys.readouterr().out
    assert "PROFILE = 'smoke'" in out and "none of them is a result" in out and "synthetic" in out
    assert not run.pretrained and run.data_origin == "generated"
    ds = keras.utils.image_dataset_from_directory(run.split_dir / "val", image_size=(32, 32), shuffle=False,
                                                  batch_size=4, verbose=False)
    assert ds.class_names == run.data.class_names
    labels = np.concatenate([y.numpy() for _, y in ds])
    np.testing.assert_array_equal(labels, run.data.val.labels)  # same order as the course's split
    images = np.concatenate([x.numpy() for x, _ in ds])
    from course_utils import data
    np.testing.assert_array_equal(images, data.load_arrays(run.data.val, 32)[0])  # same pixels


def test_a_learners_folder_in_a_run_is_named_in_the_banner_and_never_written_to(home, capsys):
    from course_utils import data

    folder = data.generate_shapes(home / "mine", per_class=6)
    before = sorted((p.relative_to(folder), p.stat().st_mtime_ns) for p in folder.rglob("*"))
    run = runs.start("03", "smoke", folder=str(folder), progress=False)
    assert "your folder" in capsys.readouterr().out and run.data_origin == "folder"
    assert sorted((p.relative_to(folder), p.stat().st_mtime_ns) for p in folder.rglob("*")) == before
    assert folder not in run.split_dir.parents


def test_a_model_is_reused_only_with_matching_provenance(home):
    run = runs.start("03", "smoke", backbone="vgg16", seed=0, progress=False)
    path = home / "out" / "models" / "m.keras"
    ok, why = run.reusable(path)
    assert not ok and "not found" in why
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w") as z:  # a .keras file is a zip archive
        z.writestr("config.json", "{}")
    assert not run.reusable(path)[0]  # no provenance file
    run.remember(path)
    assert run.reusable(path) == (True, "m.keras was made with this run's data, split, backbone and weights")
    other = runs.start("03", "smoke", backbone="mobilenet_0.25", seed=0, progress=False)
    ok, why = other.reusable(path)
    assert not ok and "backbone ('vgg16', now 'mobilenet_0.25')" in why
    saved = json.loads(path.with_suffix(".json").read_text())
    saved["split"] = "another"
    path.with_suffix(".json").write_text(json.dumps(saved))
    assert "split" in run.reusable(path)[1]


def test_fast_offline_without_weights_stops_with_the_three_ways_out(home):
    with pytest.raises(Exception, match="Three ways out"):
        runs.start("03", "fast", backbone="resnet50", dataset="shapes", progress=False)


def test_auto_offline_falls_back_to_smoke_naming_the_chosen_backbone(home, monkeypatch, capsys):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    run = runs.start("03", "auto", backbone="mobilenet_0.25", dataset="shapes", progress=False)
    assert run.profile.name == "smoke" and "MobileNet (alpha 0.25) ImageNet weights" in run.resolved.reason


# --------------------------------------------------------------------------- claims


# spread = 2 * sqrt(SE_a^2 + SE_b^2), SE^2 = sample variance / repeats + p(1 - p) / n
@pytest.mark.parametrize("a, b, kind, n, verdict", [
    ([0.80, 0.82], [0.60, 0.62], "beats", None, "holds"),  # margin 0.20, spread 0.028
    ([0.70, 0.90], [0.74, 0.70], "beats", None, "inconclusive"),  # margin 0.08, spread 0.204
    ([0.60, 0.61], [0.80, 0.81], "beats", None, "does not hold"),  # margin -0.20
    (0.74, 0.70, "beats", 100, "inconclusive"),  # margin 0.04, spread 0.127
    (0.80, 0.70, "beats", 100, "inconclusive"),  # margin 0.10, spread 0.122
    (0.90, 0.70, "beats", 100, "holds"),  # margin 0.20, spread 0.110
    ([0.72, 0.76], [0.74, 0.76], "at least", None, "holds"),  # 0.01 below, spread 0.045
    ([0.70, 0.72], [0.82, 0.84], "at least", None, "does not hold"),  # 0.12 below, spread 0.028
    (0.76, 0.80, "at least", 100, "holds"),  # 0.04 below, spread 0.117
    (0.60, 0.80, "at least", 100, "does not hold"),  # 0.20 below, spread 0.126
])
def test_verdicts_follow_margin_and_spread(a, b, kind, n, verdict, home):
    c = claims.compare("nb", f"claim {a} {b} {kind}", a, b, kind=kind, n=n, pretrained=True, run={"backbone": "x"})
    assert c.verdict == verdict, c.detail
    assert c.run == {"backbone": "x"} and claims.load()[-1] == c


def test_spread_is_twice_the_standard_error_of_the_difference():
    assert claims.evidence([0.8, 0.8], [0.6, 0.6], n=100).spread == pytest.approx(2 * np.sqrt(0.0016 + 0.0024))
    assert claims.evidence([0.9, 0.5], [0.6, 0.6]).spread == pytest.approx(0.4)  # sample variance 0.08 / 2


def test_a_claim_on_single_numbers_without_an_image_count_is_refused():
    with pytest.raises(ValueError, match="needs n"):
        claims.evidence(0.8, 0.7)


def test_a_new_run_configuration_clears_the_claims_of_another(home):
    claims.compare("03", "a", 0.9, 0.5, n=100, pretrained=True, run={"profile": "smoke"})
    claims.compare("03", "b", 0.9, 0.5, n=100, pretrained=True, run={"profile": "fast"})
    claims.keep_only({"profile": "fast"})
    assert [c.claim for c in claims.load()] == ["b"]


def test_without_pretrained_weights_a_claim_is_not_checked_and_the_summary_counts_it(home):
    claims.compare("nb", "transfer helps", 0.9, 0.1, n=10, pretrained=False)
    claims.compare("nb", "it really does", [0.9, 0.91], [0.5, 0.52], pretrained=True)
    entries = claims.load()
    assert [e.verdict for e in entries] == ["not checked", "holds"]
    assert claims.summary().startswith("claims checked: 1 of 2 (1 hold, 0 inconclusive, 0 do not hold); 1 not checked")
