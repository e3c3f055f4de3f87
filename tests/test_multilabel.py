"""Multi-label pieces of notebook 06: VOC XML to multi-hot, AP/mAP, thresholds, mosaics."""

import numpy as np
import pytest
from PIL import Image

from course_utils import data, mosaics, multilabel, voc

VOC_XML = """<annotation>
  <folder>VOC2007</folder><filename>000005.jpg</filename>
  <object><name>chair</name><difficult>0</difficult></object>
  <object><name>person</name><difficult>1</difficult></object>
  <object><name>chair</name><difficult>1</difficult></object>
  <object><name>dog</name><difficult>1</difficult></object>
  <object><name>dog</name><difficult>0</difficult></object>
</annotation>"""


def test_voc_xml_becomes_multi_hot_with_difficult_objects_handled(tmp_path):
    path = tmp_path / "000005.xml"
    path.write_text(VOC_XML)
    ann = voc.parse_annotation(path)
    assert ann.filename == "000005.jpg"
    assert ann.objects == (("chair", False), ("person", True), ("chair", True), ("dog", True), ("dog", False))
    chair, person, dog = (voc.CLASSES.index(c) for c in ("chair", "person", "dog"))
    ignore = voc.multi_hot(ann.objects)
    # chair and dog have a non-difficult object: present; person only a difficult one: ignored (-1)
    assert ignore[chair] == 1 and ignore[dog] == 1 and ignore[person] == -1
    assert (np.delete(ignore, [chair, person, dog]) == 0).all()
    assert voc.multi_hot(ann.objects, difficult="positive")[person] == 1
    assert voc.multi_hot(ann.objects, difficult="negative")[person] == 0
    assert voc.training_targets(ignore, ignored_as=0.0)[person] == 0
    with pytest.raises(ValueError, match="difficult must be one of"):
        voc.multi_hot(ann.objects, difficult="maybe")
    with pytest.raises(ValueError, match="Unknown class 'unicorn'"):
        voc.multi_hot([("unicorn", False)])


def _fake_voc(folder, ids, objects_of):
    for sub in ("Annotations", "JPEGImages", "ImageSets/Main"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for i in ids:
        objs = "".join(f"<object><name>{n}</name><difficult>{int(d)}</difficult></object>" for n, d in objects_of(i))
        (folder / "Annotations" / f"{i}.xml").write_text(f"<annotation><filename>{i}.jpg</filename>{objs}</annotation>")
        Image.new("RGB", (40, 30), (int(i) % 256, 0, 0)).save(folder / "JPEGImages" / f"{i}.jpg")
    (folder / "ImageSets" / "Main" / f"{folder.name}.txt").write_text("\n".join(ids) + "\n")
    (folder / ".complete").write_text("test\n")


def test_voc_load_reads_a_voc_tree_into_splits_with_multi_hot_targets(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    _fake_voc(voc.root() / "trainval", [f"{i:06d}" for i in range(10)],
              lambda i: [("cat", False), ("person", int(i) % 2 == 1)])
    _fake_voc(voc.root() / "test", [f"{i:06d}" for i in range(100, 104)], lambda i: [("horse", False)])
    ml = voc.load(16, per_split={"train": 5}, seed=0, fetch_if_missing=False)
    assert {r: len(ml.targets[r]) for r in multilabel.ROLES} == {"train": 5, "val": 2, "test": 4}
    assert ml.images["train"].shape == (5, 16, 16, 3) and ml.class_names == list(voc.CLASSES)
    assert not set(ml.sources["train"]) & set(ml.sources["val"])
    for role in ("train", "val"):
        for src, y in zip(ml.sources[role], ml.targets[role]):
            odd = int(src[-8:-4]) % 2 == 1  # odd ids: a difficult person only (ignored), even: a person
            assert y[voc.CLASSES.index("cat")] == 1 and y[voc.CLASSES.index("person")] == (-1 if odd else 1)
    assert (ml.targets["test"][:, voc.CLASSES.index("horse")] == 1).all()


def test_voc_load_offline_without_the_data_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(data.DatasetError, match=r"voc\.fetch\(\)"):
        voc.load(16, fetch_if_missing=False)


def test_average_precision_matches_a_hand_computed_case():
    y = np.array([[1, 0], [0, 1], [1, 0], [0, 0]])
    s = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.9], [0.1, 0.3]])
    # class 0 ranked: P, N, P, N -> precision at the positives 1/1 and 2/3 -> AP = (1 + 2/3) / 2
    # class 1 ranked: N (0.9), N (0.3), P (0.2) -> AP = 1/3
    ap = multilabel.average_precision(y, s)
    np.testing.assert_allclose(ap, [(1 + 2 / 3) / 2, 1 / 3])
    assert multilabel.mean_average_precision(y, s) == pytest.approx(((1 + 2 / 3) / 2 + 1 / 3) / 2)
    # -1 leaves that image out of its class: the negative ranked second disappears -> AP 1
    y_ignore = y.copy()
    y_ignore[1, 0] = -1
    assert multilabel.average_precision(y_ignore, s)[0] == pytest.approx(1.0)
    # a class without positives has no AP and is left out of the mean
    y_none = np.array([[1, 0], [0, 0], [1, 0], [0, 0]])
    assert np.isnan(multilabel.average_precision(y_none, s)[1])
    assert multilabel.mean_average_precision(y_none, s) == pytest.approx((1 + 2 / 3) / 2)


def test_thresholds_chosen_on_validation_maximise_f1_per_class():
    # scores sorted: .9 P, .6 P, .55 N, .4 P, .2 N. Cutting below .4 gives tp 3, fp 1, fn 0: F1 6/7,
    # better than below .6 (4/5) or .9 (1/2). The threshold lies halfway to the next score: 0.3.
    y = np.array([[1, 0], [1, 0], [0, 0], [0, 0], [1, 0]])
    s = np.array([[0.9, 0.7], [0.6, 0.1], [0.55, 0.2], [0.2, 0.3], [0.4, 0.4]])
    t = multilabel.choose_thresholds(y, s)
    assert t[0] == pytest.approx(0.3)
    assert t[1] == 0.5  # no positive for class 1: the default stays
    tuned = multilabel.f1_at(y[:, :1], s[:, :1], t[:1])
    at_half = multilabel.f1_at(y[:, :1], s[:, :1], 0.5)
    assert tuned["micro"] == pytest.approx(6 / 7) and at_half["micro"] == pytest.approx(4 / 6)
    np.testing.assert_array_equal(multilabel.predict_labels(s, t)[:, 0], [1, 1, 1, 0, 1])


def test_f1_labels_recovered_and_top_k_on_hand_cases():
    y = np.array([[1, 1, 0], [1, 0, 1], [0, 1, 0]])
    pred = np.array([[1, 0, 0], [1, 0, 1], [1, 1, 0]])
    f1 = multilabel.f1_at(y, pred.astype(float), 0.5)
    # tp 4, fp 1, fn 1 -> micro F1 8/10; per class: 2*2/(4+1)=0.8, 2*1/(2+1)=2/3, 2*1/2=1
    assert f1["micro"] == pytest.approx(0.8)
    np.testing.assert_allclose(f1["per_class"], [0.8, 2 / 3, 1.0])
    # images with >= 2 labels: rows 0 and 1, 4 true labels, 3 named
    assert multilabel.labels_recovered(y, pred) == (pytest.approx(0.75), 2)
    scores = np.array([[0.1, 0.5, 0.4], [0.3, 0.2, 0.1]])
    np.testing.assert_array_equal(multilabel.top_k_labels(scores, [2, 1]), [[0, 1, 1], [1, 0, 0]])


@pytest.fixture
def photos(tmp_path):
    folder = data.generate_shapes(tmp_path / "shapes", per_class=12)
    return data.load_folder(folder, seed=0)


def test_mosaic_labels_match_their_tiles_and_no_photo_is_in_two_splits(photos):
    ml = mosaics.build(photos, 16, seed=3)
    assert ml.class_names == photos.class_names
    used = {}
    for role, split in photos.splits().items():
        label_of = dict(zip(split.paths, split.labels))
        for img, y, srcs in zip(ml.images[role], ml.targets[role], ml.sources[role]):
            assert img.shape == (32, 32, 3) and len(srcs) == 4
            tile_labels = [label_of[p] for p in srcs]  # KeyError if a photo came from another split
            assert set(np.flatnonzero(y)) == set(tile_labels) and 1 <= y.sum() <= 3
            for t, p in enumerate(srcs):  # the tile shows that photo
                r, c = divmod(t, 2)
                np.testing.assert_array_equal(img[r * 16:(r + 1) * 16, c * 16:(c + 1) * 16], data.load_image(p, 16))
        used[role] = {p for srcs in ml.sources[role] for p in srcs}
    assert not used["train"] & used["val"] and not used["train"] & used["test"] and not used["val"] & used["test"]
    assert ml.label_counts("train")[2:].sum() > 0, "some mosaics carry several labels"


def test_mosaics_are_deterministic_by_seed_and_imbalance_skews_label_frequencies(photos):
    a, b = mosaics.build(photos, 8, seed=1), mosaics.build(photos, 8, seed=1)
    np.testing.assert_array_equal(a.images["train"], b.images["train"])
    assert a.sources == b.sources
    c = mosaics.build(photos, 8, seed=2)
    assert a.sources["train"] != c.sources["train"]
    skewed = mosaics.build(photos, 8, seed=0, imbalance=2.0, counts={"train": 400, "val": 10, "test": 10})
    freq = skewed.frequencies("train")
    assert freq[0] > freq[1] > freq[2]
    np.testing.assert_allclose(mosaics.class_probabilities(3, 1.0), np.array([1, 1 / 2, 1 / 3]) / (11 / 6))
    with pytest.raises(ValueError, match="imbalance must be >= 0"):
        mosaics.class_probabilities(3, -1)


def test_gallery_titles_list_true_and_predicted_labels_green_only_when_the_sets_match():
    import matplotlib

    matplotlib.use("Agg")
    from course_utils import plots

    images = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    y = np.array([[1, 1, 0], [1, 0, 0]])
    s = np.array([[0.9, 0.6, 0.1], [0.8, 0.7, 0.2]])
    fig = plots.multilabel_gallery(images, y, s, ["cat", "dog", "sofa"], thresholds=[0.5, 0.5, 0.5], title="t")
    titles = [ax.title for ax in fig.axes[:2]]
    assert "true: cat, dog" in titles[0].get_text() and "cat 0.90, dog 0.60" in titles[0].get_text()
    assert titles[0].get_color() == "green" and titles[1].get_color() == "red"  # dog named, not there
