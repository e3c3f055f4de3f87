import io
import json
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from builders import make_folder, write_image
from course_utils import data, downloads

SHAPES_PIXELS_SHA256 = "b0c4948ccf3e6cc298ea702f88b14dd652ca99b5d0a6c6367472409605b6df61"


# --------------------------------------------------------------------------- bad files


@pytest.fixture
def messy_folder(tmp_path):
    root = make_folder(tmp_path / "messy", per_class=6)
    write_image(root / "cat" / "gray.png", mode="L")
    write_image(root / "cat" / "rgba.png", mode="RGBA")
    write_image(root / "dog" / "cmyk.jpg", mode="CMYK", fmt="JPEG")
    good = write_image(tmp_path / "whole.jpg", size=(200, 200), fmt="JPEG")
    (root / "dog" / "truncated.jpg").write_bytes(good.read_bytes()[:600])
    (root / "dog" / "random.jpg").write_bytes(b"\xff\x00 this is not a jpeg" * 20)
    (root / "cat" / "empty.png").write_bytes(b"")
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / "cat" / ".DS_Store").write_bytes(b"\x00\x01")
    return root


def test_inspect_image_tells_each_bad_file_case(messy_folder):
    assert data.inspect_image(messy_folder / "cat" / "gray.png") == (True, "L")
    assert data.inspect_image(messy_folder / "cat" / "rgba.png") == (True, "RGBA")
    assert data.inspect_image(messy_folder / "dog" / "cmyk.jpg") == (True, "CMYK")
    ok, why = data.inspect_image(messy_folder / "dog" / "truncated.jpg")
    assert not ok and "truncated" in why
    assert data.inspect_image(messy_folder / "dog" / "random.jpg") == (False, "not an image")
    assert data.inspect_image(messy_folder / "cat" / "empty.png") == (False, "empty file")


def test_bad_files_are_skipped_and_counted_and_odd_modes_converted(messy_folder):
    ds = data.load_folder(messy_folder, val_fraction=0.25, test_fraction=0.25)
    used = set(ds.train.paths + ds.val.paths + ds.test.paths)
    skipped = {Path(p).name: why for p, why in ds.report.skipped}
    assert set(skipped) == {"truncated.jpg", "random.jpg", "empty.png", "notes.txt", ".DS_Store"}
    assert "not an image file (extension .txt)" == skipped["notes.txt"]
    assert not any(Path(p).name in skipped for p in used)
    assert ds.report.converted == {"L": 1, "RGBA": 1, "CMYK": 1}
    assert ds.report.used == len(used) == 6 * 2 + 3
    assert "skipped: 5" in ds.report.summary()


@pytest.mark.parametrize("mode", ["L", "RGBA", "CMYK", "P", "LA", "I;16"])
def test_every_mode_loads_as_rgb_uint8(tmp_path, mode):
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    path = write_image(tmp_path / f"x.{fmt.lower()}", mode=mode, fmt=fmt)
    arr = data.load_image(path, 16)
    assert arr.shape == (16, 16, 3) and arr.dtype == np.uint8


def test_transparent_pixels_become_white(tmp_path):
    img = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    img.save(tmp_path / "clear.png")
    assert (data.load_image(tmp_path / "clear.png", 4) == 255).all()


# --------------------------------------------------------------------------- folder errors


def test_missing_folder_error_names_it(tmp_path):
    with pytest.raises(data.DatasetError, match=str(tmp_path / "nope")):
        data.load_folder(tmp_path / "nope")


def test_folder_without_class_folders_is_an_error(tmp_path):
    write_image(tmp_path / "flat" / "a.png")
    with pytest.raises(data.DatasetError, match="No class sub-folders in .*flat"):
        data.load_folder(tmp_path / "flat")


def test_empty_class_folder_error_names_it(tmp_path):
    root = make_folder(tmp_path / "ds")
    (root / "bird").mkdir()
    with pytest.raises(data.DatasetError, match=r"ds/bird holds no image files"):
        data.load_folder(root)


def test_train_and_val_with_different_classes_is_an_error(tmp_path):
    make_folder(tmp_path / "ds" / "train", classes=("cat", "dog"))
    make_folder(tmp_path / "ds" / "val", classes=("cat", "fox"))
    with pytest.raises(data.DatasetError) as info:
        data.load_folder(tmp_path / "ds")
    msg = str(info.value)
    assert "ds/train" in msg and "ds/val" in msg and "dog" in msg and "fox" in msg


# --------------------------------------------------------------------------- splits


def all_splits(ds):
    return {k: set(v.paths) for k, v in ds.splits().items()}


def test_same_seed_gives_the_same_splits_and_no_file_is_in_two(tmp_path):
    root = make_folder(tmp_path / "ds", per_class=20)
    a, b = data.load_folder(root, seed=3), data.load_folder(root, seed=3)
    assert all_splits(a) == all_splits(b) and a.fingerprint() == b.fingerprint()
    s = all_splits(a)
    assert not (s["train"] & s["val"]) and not (s["train"] & s["test"]) and not (s["val"] & s["test"])
    assert len(s["train"]) + len(s["val"]) + len(s["test"]) == 40
    assert a.train.counts(2) == [12, 12] and a.val.counts(2) == [4, 4]


def test_another_seed_gives_other_splits(tmp_path):
    root = make_folder(tmp_path / "ds", per_class=20)
    assert data.load_folder(root, seed=1).fingerprint() != data.load_folder(root, seed=2).fingerprint()


def test_caps_take_a_prefix_so_test_images_never_move(tmp_path):
    root = make_folder(tmp_path / "ds", per_class=20)
    small = data.load_folder(root, images_per_class=3, eval_images_per_class=2)
    whole = data.load_folder(root)
    assert small.train.counts(2) == [3, 3] and small.test.counts(2) == [2, 2]
    assert set(small.test.paths) <= set(whole.test.paths)
    assert set(small.train.paths) <= set(whole.train.paths)


def test_split_folders_on_disk_are_used_and_test_is_carved_from_train(tmp_path):
    make_folder(tmp_path / "ds" / "train", per_class=10)
    make_folder(tmp_path / "ds" / "val", per_class=4)
    ds = data.load_folder(tmp_path / "ds")
    assert all("/val/" in p for p in ds.val.paths) and len(ds.val) == 8
    assert all("/train/" in p for p in ds.test.paths) and all("/train/" in p for p in ds.train.paths)


def test_registry_split_dirs_map_the_archive_validation_folder_to_test(tmp_path):
    make_folder(tmp_path / "ds" / "train", per_class=10)
    make_folder(tmp_path / "ds" / "validation", per_class=5)
    ds = data.load_folder(tmp_path / "ds", split_dirs={"train": "train", "test": "validation"})
    assert all("/validation/" in p for p in ds.test.paths) and len(ds.test) == 10
    assert all("/train/" in p for p in ds.val.paths)


def test_to_dataset_yields_float_batches_with_int_labels(tmp_path):
    ds = data.load_folder(make_folder(tmp_path / "ds", per_class=10))
    pipeline = data.to_dataset(ds.train, image_size=16, batch_size=4, shuffle=True)
    batches = list(pipeline)
    assert sum(len(y) for _, y in batches) == len(ds.train)
    x, y = batches[0]
    assert x.shape[1:] == (16, 16, 3) and x.dtype.name == "float32" and y.dtype.name == "int32"
    images, labels = data.load_arrays(ds.train, 16)
    assert images.dtype == np.uint8 and sorted(labels.tolist()) == sorted(ds.train.labels)


# --------------------------------------------------------------------------- shapes


def test_shapes_are_generated_deterministically(tmp_path):
    x1, y1 = data.shapes_arrays()
    assert data.shapes_fingerprint(x1) == SHAPES_PIXELS_SHA256, (
        "The offline dataset changed: update data/README.md and this checksum only on purpose.")
    root = data.generate_shapes(tmp_path / "shapes")
    ds = data.load_folder(root)
    assert ds.class_names == list(data.SHAPES_CLASSES) and ds.report.used == 120
    assert np.bincount(y1).tolist() == [40, 40, 40]


def test_load_generates_the_offline_default_when_missing(data_home):
    assert not data.is_present("shapes") and data.availability("shapes").available
    ds = data.load("shapes", images_per_class=5, eval_images_per_class=2)
    assert data.is_present("shapes") and ds.train.counts(3) == [5, 5, 5]


def test_unknown_dataset_error_lists_known_ones():
    with pytest.raises(KeyError, match="cats_vs_dogs, flowers, shapes"):
        data.spec("mnist")


def test_offline_registered_dataset_is_not_available(data_home):
    a = data.availability("cats_vs_dogs")
    assert not a.present and not a.downloadable and not a.available


# --------------------------------------------------------------------------- downloads


def file_url(path: Path) -> str:
    return path.resolve().as_uri()


def sha256_of(b: bytes) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(b).hexdigest()


def test_download_verifies_and_keeps_a_good_file(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"x" * 5000)
    dest = data.download(file_url(src), tmp_path / "out" / "f.bin",
                         checksum=sha256_of(src.read_bytes()), size=5000)
    assert dest.read_bytes() == src.read_bytes()
    assert not (tmp_path / "out" / "f.bin.part").exists()


def test_checksum_mismatch_deletes_the_file_and_says_so(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"tampered")
    with pytest.raises(data.ChecksumError, match="expected 0000"):
        data.download(file_url(src), tmp_path / "f.bin", checksum="sha256:" + "0" * 64)
    assert list(tmp_path.glob("f.bin*")) == []


def test_size_mismatch_is_a_checksum_error(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"short")
    with pytest.raises(data.ChecksumError, match="expected 10"):
        data.download(file_url(src), tmp_path / "f.bin", size=10)
    assert list(tmp_path.glob("f.bin*")) == []


def test_interrupted_download_leaves_nothing_and_a_retry_works(tmp_path, monkeypatch):
    payload = b"y" * (3 << 20)
    src = tmp_path / "src.bin"
    src.write_bytes(payload)
    real_urlopen = urllib.request.urlopen

    class Broken(io.BytesIO):
        headers = {"Content-Length": str(len(payload))}

        def read(self, n=-1):
            if self.tell() >= 1 << 20:
                raise ConnectionResetError("connection reset by peer")
            return super().read(n)

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: Broken(payload))
    with pytest.raises(data.DownloadError, match="Nothing was kept"):
        data.download("https://example.invalid/f.bin", tmp_path / "f.bin",
                      checksum=sha256_of(payload))
    assert list(tmp_path.glob("f.bin*")) == []
    monkeypatch.setattr(urllib.request, "urlopen", real_urlopen)
    data.download(file_url(src), tmp_path / "f.bin", checksum=sha256_of(payload))
    assert (tmp_path / "f.bin").read_bytes() == payload


def test_offline_download_error_says_where_to_put_the_file(tmp_path):
    with pytest.raises(data.DownloadError, match=r"put it at .*f\.zip"):
        data.download(file_url(tmp_path / "missing.zip"), tmp_path / "f.zip")


def _zip_dataset(tmp_path, name, classes=("a", "b"), per_class=4):
    folder = make_folder(tmp_path / "build" / name, classes=classes, per_class=per_class)
    archive = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in folder.rglob("*.png"):
            zf.write(p, p.relative_to(folder.parent))
    return archive


def test_fetch_downloads_extracts_and_verifies_a_registered_dataset(data_home, tmp_path, monkeypatch):
    archive = _zip_dataset(tmp_path, "toy")
    spec = data.DatasetSpec("toy", "toy", file_url(archive), "toy.zip", archive.stat().st_size,
                            sha256_of(archive.read_bytes()), "CC0", root="toy")
    monkeypatch.setitem(data.REGISTRY, "toy", spec)
    root = data.fetch("toy", progress=False)
    assert data.is_present("toy") and sorted(p.name for p in root.iterdir() if p.is_dir()) == ["a", "b"]
    ds = data.load("toy")
    assert ds.report.used == 8 and not ds.report.skipped


def test_first_download_records_a_checksum_and_a_changed_file_is_refused(data_home, tmp_path,
                                                                            monkeypatch):
    archive = _zip_dataset(tmp_path, "toy")
    spec = data.DatasetSpec("toy", "toy", file_url(archive), "toy.zip", None, None, "CC0", root="toy")
    monkeypatch.setitem(data.REGISTRY, "toy", spec)
    data.fetch("toy", progress=False)
    recorded = json.loads((data_home / "cache" / "checksums.json").read_text())
    assert recorded["toy"] == sha256_of(archive.read_bytes())
    # Upstream changes the file: the next fresh download must not be trusted silently.
    other = _zip_dataset(tmp_path / "v2", "toy", classes=("a", "b", "c"))
    archive.write_bytes(other.read_bytes())
    (data_home / "cache" / "toy" / ".complete").unlink()
    (data_home / "cache" / "downloads" / "toy.zip").unlink()
    with pytest.raises(data.ChecksumError, match="recorded at the first download"):
        data.fetch("toy", progress=False)


def test_archive_with_an_escaping_path_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../escape.txt", "x")
    with pytest.raises(data.DatasetError, match="unsafe path"):
        downloads.extract_archive(archive, tmp_path / "target")
    assert not (tmp_path / "escape.txt").exists()
