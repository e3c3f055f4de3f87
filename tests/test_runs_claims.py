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


# resolution = 2 * sqrt(SE_a^2 + SE_b^2), SE^2 = sample variance / repeats + p(1 - p) / n (unpaired accuracies)
@pytest.mark.parametrize("a, b, kind, n, verdict", [
    ([0.80, 0.82], [0.60, 0.62], "beats", None, "holds"),  # margin 0.20, resolution 0.028
    ([0.70, 0.90], [0.74, 0.70], "beats", None, "inconclusive"),  # margin 0.08, resolution 0.204
    ([0.60, 0.61], [0.80, 0.81], "beats", None, "does not hold"),  # margin -0.20
    (0.74, 0.70, "beats", 100, "inconclusive"),  # margin 0.04, resolution 0.127
    (0.80, 0.70, "beats", 100, "inconclusive"),  # margin 0.10, resolution 0.122
    (0.90, 0.70, "beats", 100, "holds"),  # margin 0.20, resolution 0.110
    ([0.80, 0.81], [0.80, 0.80], "at least", None, "holds"),  # +0.005, resolution 0.010: low end -0.005 >= -0.02
    ([0.72, 0.76], [0.74, 0.76], "at least", None, "inconclusive"),  # -0.01 ± 0.045 straddles -0.02
    ([0.70, 0.72], [0.82, 0.84], "at least", None, "does not hold"),  # -0.12 ± 0.028: all below -0.02
    (0.76, 0.80, "at least", 100, "inconclusive"),  # -0.04 ± 0.117: 100 images cannot decide a 0.02 margin
    (0.60, 0.80, "at least", 100, "does not hold"),  # -0.20 ± 0.126
])
def test_verdicts_follow_the_interval_difference_plus_minus_resolution(a, b, kind, n, verdict, home):
    within = 0.02 if kind == "at least" else None
    c = claims.compare("nb", f"claim {a} {b} {kind}", a, b, kind=kind, within=within, n=n, pretrained=True,
                       run={"backbone": "x"})
    assert c.verdict == verdict, c.detail
    assert c.run == {"backbone": "x"} and claims.load()[-1] == c
    assert c.resolution == pytest.approx(claims.evidence(a, b, n).resolution, abs=1e-4)


def test_resolution_is_twice_the_standard_error_of_the_difference():
    assert claims.evidence([0.8, 0.8], [0.6, 0.6], n=100).resolution == pytest.approx(2 * np.sqrt(0.0016 + 0.0024))
    assert claims.evidence([0.9, 0.5], [0.6, 0.6]).resolution == pytest.approx(0.4)  # sample variance 0.08 / 2


def _nested(right_a: int, right_b: int, n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Per-image correctness where B is right on its first `right_b` images and A on its first `right_a`."""
    return np.arange(n) < right_a, np.arange(n) < right_b


def test_paired_correctness_resolves_what_accuracies_alone_cannot():
    a, b = _nested(85, 80)  # A right wherever B is, and on 5 more of 100 images
    paired = claims.evidence(a, b)
    # per-image differences: five 1s and 95 0s; 2 × their standard error
    assert paired.paired and paired.n == 100
    assert paired.resolution == pytest.approx(2 * np.sqrt(np.var([1] * 5 + [0] * 95, ddof=1) / 100))
    assert claims.verdict(paired) == "holds"
    unpaired = claims.evidence(0.85, 0.80, n=100)
    assert unpaired.resolution > 2 * paired.resolution and claims.verdict(unpaired) == "inconclusive"


def test_paired_repeats_add_their_variation_between_repeats():
    a1, b1 = _nested(85, 80)
    a2, b2 = _nested(95, 80)
    one = claims.evidence(a1, b1)
    two = claims.evidence(np.stack([a1, a2]), np.stack([b1, b1]))
    assert two.repeats == (2, 2) and two.std_a == pytest.approx(np.std([0.85, 0.95], ddof=1))
    assert two.resolution > one.resolution  # the repeats disagree: 0.85 and 0.95


def test_paired_sides_must_be_measured_on_the_same_images():
    with pytest.raises(ValueError, match="same test images"):
        claims.evidence(np.ones(10, bool), np.ones(12, bool))


def test_an_at_least_claim_states_its_margin_in_advance(home):
    with pytest.raises(ValueError, match="its margin, stated in advance"):
        claims.compare("nb", "x", 0.8, 0.8, kind="at least", n=100, pretrained=True)


def test_an_inconclusive_verdict_says_what_the_test_split_can_resolve(home):
    a, b = np.arange(49) < 30, np.arange(49) < 28  # 49 test images: the folder of issue 17
    c = claims.compare("05", "x beats y", a, b, pretrained=True)
    assert c.verdict == "inconclusive"
    assert f"49 test images can only resolve differences above {c.resolution:.2f}" in c.detail
    low = c.margin - c.resolution
    assert f"interval {low:+.3f}" in c.detail


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


def test_a_sanity_bar_is_judged_on_the_difference_itself_and_never_inconclusive(home):
    head, probe = np.arange(400) < 362, np.arange(400) < 369  # 0.905 vs 0.9225: 0.0175 below
    ok = claims.compare("03", "head vs probe", head, probe, kind="no worse than", within=0.02, pretrained=True)
    assert ok.verdict == "holds" and "sanity bar: no more than 0.02 below" in ok.detail
    worse = claims.compare("03", "head vs probe 2", np.arange(400) < 350, probe, kind="no worse than", within=0.02,
                           pretrained=True)
    assert worse.verdict == "does not hold"  # 0.0475 below
    with pytest.raises(ValueError, match="margin"):
        claims.compare("03", "x", head, probe, kind="no worse than", pretrained=True)
