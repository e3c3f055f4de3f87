"""CIFAR-10: Keras' arrays written out as class folders, and CIFAR-10 folders loaded like any folder.

No network: Keras' loader is replaced by small fake arrays; folders are generated 32×32 images.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from course_utils import cifar10, data


def _arrays(n_train=30, n_test=20, seed=0):
    rng = np.random.default_rng(seed)
    x_tr = rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8)
    x_te = rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8)
    # Keras gives labels as (n, 1) uint8; every class present in both splits
    y_tr = (np.arange(n_train) % 10).astype(np.uint8).reshape(-1, 1)
    y_te = (np.arange(n_test) % 10).astype(np.uint8).reshape(-1, 1)
    return (x_tr, y_tr), (x_te, y_te)


def _class_folders(root, classes=cifar10.CLASSES[:3], per_class=10, seed=0):
    rng = np.random.default_rng(seed)
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(root / c / f"{i}.jpg")
    return root


def test_arrays_become_lossless_class_folders(tmp_path):
    arrays = _arrays()
    root = cifar10.write_folders(tmp_path / "cifar10", arrays)
    assert (root / ".complete").exists()
    (x_tr, y_tr), (x_te, y_te) = arrays
    for role, x, y in (("train", x_tr, y_tr), ("test", x_te, y_te)):
        assert sorted(p.name for p in (root / role).iterdir()) == sorted(cifar10.CLASSES)
        assert sum(1 for _ in (root / role).rglob("*.png")) == len(x)
        i = 13 if role == "train" else 7
        path = root / role / cifar10.CLASSES[int(y[i, 0])] / f"{i:05d}.png"
        assert np.array_equal(np.asarray(Image.open(path)), x[i]), "PNG keeps the pixels exactly"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cifar10-")], "no temporary folder left"


def test_a_complete_folder_is_reused_and_another_folder_is_never_overwritten(tmp_path):
    root = cifar10.write_folders(tmp_path / "cifar10", _arrays())
    marker = root / "train" / "cat" / "00003.png"
    before = marker.read_bytes()
    cifar10.write_folders(root, _arrays(seed=1))
    assert marker.read_bytes() == before, "a complete folder is reused, not rewritten"
    mine = tmp_path / "mine"
    (mine / "cat").mkdir(parents=True)
    (mine / "cat" / "photo.png").write_bytes(b"mine")
    with pytest.raises(data.DatasetError, match="left as it is"):
        cifar10.write_folders(mine, _arrays())
    assert (mine / "cat" / "photo.png").read_bytes() == b"mine"


@pytest.mark.parametrize("bad, match", [
    (lambda a: ((a[0][0][..., 0], a[0][1]), a[1]), "shape"),
    (lambda a: ((a[0][0].astype(np.float32), a[0][1]), a[1]), "uint8"),
    (lambda a: ((a[0][0], a[0][1][:-1]), a[1]), "labels"),
    (lambda a: (a[0], (a[1][0], a[1][1] + 10)), "0..9"),
])
def test_bad_arrays_are_refused_and_nothing_is_written(tmp_path, bad, match):
    with pytest.raises(data.DatasetError, match=match):
        cifar10.write_folders(tmp_path / "cifar10", bad(_arrays()))
    assert list(tmp_path.iterdir()) == []


def test_fetch_uses_keras_loader_once_then_load_reads_the_folders(data_home, monkeypatch):
    import keras

    calls = []

    def fake_load_data():
        calls.append(1)
        return _arrays(n_train=60, n_test=20)

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", fake_load_data)
    root = data.fetch("cifar10", progress=False)
    assert root == data.dataset_root("cifar10") and data.is_present("cifar10")
    data.fetch("cifar10", progress=False)
    assert calls == [1], "written once, then reused"
    ds = data.load("cifar10", images_per_class=4, eval_images_per_class=1)
    assert ds.class_names == list(cifar10.CLASSES) and ds.num_classes == data.spec("cifar10").num_classes
    assert ds.train.counts(10) == [4] * 10 and ds.test.counts(10) == [1] * 10 and ds.val.counts(10) == [1] * 10
    assert all("/test/" in p for p in ds.test.paths), "Keras' test set is the test split"
    assert not set(ds.val.paths) & set(ds.train.paths), "validation is carved from train, apart"


def test_a_failed_download_says_what_to_do_and_leaves_nothing(data_home, monkeypatch):
    import keras

    def offline():
        raise Exception("URL fetch failure: no network")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    with pytest.raises(data.DownloadError, match="DATA_FOLDER"):
        data.fetch("cifar10", progress=False)
    assert not data.dataset_root("cifar10").exists()


def test_a_folder_of_cifar_class_folders_loads_at_32_pixels(tmp_path):
    root = _class_folders(tmp_path / "cifar")
    ds = data.load("folder", path=root, seed=0)
    assert ds.class_names == list(cifar10.CLASSES[:3])
    assert len(ds.train) + len(ds.val) + len(ds.test) == 30
    assert min(ds.train.counts(3) + ds.val.counts(3) + ds.test.counts(3)) >= 1, "every class in every split"
    x, y = data.load_arrays(ds.test, 32)
    assert x.shape == (len(ds.test), 32, 32, 3) and x.dtype == np.uint8
    assert sorted(set(y.tolist())) == [0, 1, 2]
    again = data.load("folder", path=root, seed=0)
    assert again.fingerprint() == ds.fingerprint(), "the same folder and seed give the same split"
