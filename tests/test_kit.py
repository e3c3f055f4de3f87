"""The classroom kit (`python -m course_utils.kit build`): built offline from data already on
disk, then notebook 00 runs from the kit's own copy of the course with the network off.

No download happens: a small fake weight file and generated images stand in for the VGG16 file
and cats_vs_dogs, placed where an earlier `make fetch` would have put them (--from-data). The
notebook's kernel gets a sitecustomize that refuses every connection off this machine, so
"offline" is enforced, not assumed.
"""

import dataclasses
import hashlib
import json
import subprocess
import sys
import textwrap

import papermill as pm
import pytest

from builders import make_folder
from conftest import ROOT
from course_utils import backbones, data, kit, profiles

NO_NETWORK = textwrap.dedent('''
    """Installed by tests/test_kit.py: no connection leaves this machine; what tried is logged."""
    import ipaddress, os, socket, sys

    _LOG = os.environ["KIT_TEST_LOG"]

    def _log(line):
        with open(_LOG, "a") as f:
            f.write(line + "\\n")

    def _local(host):
        if host in ("localhost", "", None):
            return True
        try:
            return ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            return False

    def _guard(address):
        if isinstance(address, tuple) and not _local(address[0]):
            _log(f"blocked {address!r}")
            raise OSError(101, f"network is off (tests/test_kit.py): {address!r}")

    _connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def connect(self, address):
        _guard(address)
        return _connect(self, address)

    def connect_ex(self, address):
        _guard(address)
        return _connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        _guard((host, 0))
        return _getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo

    class _WhereCourseUtilsComesFrom:
        """Logs where `import course_utils` resolves, as it is imported (an atexit hook would not run
        when papermill has to kill the kernel at shutdown, as it did on a slow machine)."""

        def find_spec(self, name, path=None, target=None):
            if name != "course_utils":
                return None
            for finder in sys.meta_path:  # the finders that really resolve it (an editable install's included)
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    _log(f"course_utils from {os.path.dirname(spec.origin)}")
                    return spec
            return None

    sys.meta_path.insert(0, _WhereCourseUtilsComesFrom())
''')


NET = profiles.get("fast").backbone  # the backbone `make fetch` gets by default, what `auto` looks for


@pytest.fixture
def fetched(tmp_path):
    """A data folder as `make fetch` leaves it, with stand-ins: a fake weight file, generated photos."""
    src = tmp_path / "fetched"
    weights = src / "weights" / backbones.get(NET).weights_file
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"stand-in for the weight file " * 100)
    root = src / "cache" / data.spec("cats_vs_dogs").root
    make_folder(root / "train", classes=("cats", "dogs"), per_class=6, ext="jpg")
    make_folder(root / "validation", classes=("cats", "dogs"), per_class=3, ext="jpg")
    (root / ".complete").write_text("stand-in\n")
    return src


@pytest.fixture
def stand_in_checksum(fetched, monkeypatch):
    """The builder verifies weights against the registry: register the stand-in's checksum."""
    path = fetched / "weights" / backbones.get(NET).weights_file
    digest = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    fake = dataclasses.replace(backbones.REGISTRY[NET], weights_hash=digest)
    monkeypatch.setitem(backbones.REGISTRY, NET, fake)


def _build(tmp_path, fetched):
    target = tmp_path / "kit"
    code = kit.main(["build", str(target), "--backbones", NET, "--datasets", "cats_vs_dogs", "shapes",
                     "--from-data", str(fetched)])
    return target, code


def test_kit_holds_the_course_its_data_and_the_scripts_that_point_at_it(tmp_path, data_home, fetched,
                                                                       stand_in_checksum, capsys):
    target, code = _build(tmp_path, fetched)
    assert code == 0, capsys.readouterr().err
    course = target / "course"
    assert (course / "notebooks" / "00_setup.ipynb").is_file() and (course / "course_utils" / "kit.py").is_file()
    assert (course / "requirements.txt").is_file() and not (course / ".git").exists()
    assert not (course / "data" / "cache").exists() and not (course / ".venv").exists()
    assert (target / "data" / "weights" / backbones.get(NET).weights_file).is_file()
    assert (target / "data" / "cache" / "cats_and_dogs_filtered" / ".complete").exists()
    assert (target / "data" / "cache" / "shapes" / ".complete").exists()  # generated, no download
    manifest = json.loads((target / "kit.json").read_text())
    assert [r["origin"].split()[0] for r in manifest["weights"] + manifest["datasets"]] == ["copied", "copied",
                                                                                            "generated"]
    # env.sh, sourced from anywhere, sets what kit.environment says
    shown = subprocess.run(["bash", "-c", f"cd / && source {target / 'env.sh'} && env"], capture_output=True,
                           text=True, check=True).stdout
    for key, value in kit.environment(target).items():
        assert f"{key}={value}\n" in shown
    assert not any(data_home.rglob("*.h5")), "the builder wrote outside the kit"


def test_building_again_keeps_the_kits_data_and_refuses_a_folder_that_is_not_a_kit(tmp_path, data_home, fetched,
                                                                                  stand_in_checksum, capsys):
    target, _ = _build(tmp_path, fetched)
    _, code = _build(tmp_path, fetched)
    assert code == 0
    manifest = json.loads((target / "kit.json").read_text())
    assert {r["origin"] for r in manifest["weights"] + manifest["datasets"]} == {"already in the kit"}
    other = tmp_path / "documents"
    (other / "course").mkdir(parents=True)
    (other / "course" / "thesis.txt").write_text("mine")
    assert kit.main(["build", str(other), "--datasets", "shapes", "--backbones"]) == 1
    assert "not a kit built by this command" in capsys.readouterr().err
    assert (other / "course" / "thesis.txt").read_text() == "mine"


def test_a_weight_file_that_is_not_the_published_one_is_refused(tmp_path, data_home, fetched, capsys):
    _, code = _build(tmp_path, fetched)  # no stand-in checksum: the registry's MD5 applies
    assert code == 1 and "kit: FAILED" in capsys.readouterr().err


# The pip platform tags TensorFlow 2.21 publishes wheels under, checked with `pip install --dry-run
# --only-binary=:all: --platform TAG --python-version 3.12 tensorflow==2.21.0` (Intel Macs: 2.16.2, its last).
TF_WHEEL_TAGS = {"manylinux_2_27_x86_64", "manylinux_2_27_aarch64", "macosx_12_0_arm64", "macosx_10_15_x86_64",
                 "win_amd64"}
NO_TF_WHEEL = {"macosx_11_0_arm64", "manylinux_2_28_x86_64"}  # pip finds no TF 2.21 under these alone


def test_wheels_are_downloaded_per_learner_laptop_with_all_its_tags():
    cmds = kit.wheel_commands(kit.Path("req.txt"), kit.Path("w"), ["windows-x86_64", "linux-x86_64"], "3.12")
    assert len(cmds) == 2 and all(c[1:4] == ["-m", "pip", "download"] for c in cmds)
    assert ["--platform", "win_amd64"] == cmds[0][cmds[0].index("--platform"):][:2]
    linux = [cmds[1][i + 1] for i, a in enumerate(cmds[1]) if a == "--platform"]
    assert linux[0] == "manylinux_2_27_x86_64" and "manylinux2014_x86_64" in linux  # grpcio, h5py need the older tags
    assert "--only-binary=:all:" in cmds[1] and "setuptools>=77" in cmds[0]
    assert "--platform" not in kit.wheel_commands(kit.Path("req.txt"), kit.Path("w"))[0]


def test_every_laptop_starts_with_a_tag_tensorflow_publishes_and_others_are_refused():
    assert {tags[0] for tags in kit.LAPTOPS.values()} == TF_WHEEL_TAGS
    for bad in NO_TF_WHEEL | {"manylinux2014_armv7l"}:
        with pytest.raises(kit.KitError, match="no TensorFlow wheel"):
            kit.platform_tags(bad)
    assert kit.platform_tags("macosx_12_0_arm64") == ("macosx_12_0_arm64",)
    with pytest.raises(SystemExit):
        kit.main(["build", "k", "--wheels", "--platform", "macosx_11_0_arm64"])


def test_the_teaching_guide_names_only_platforms_the_kit_knows():
    import re

    text = (ROOT / "docs" / "teaching.md").read_text()
    named = re.findall(r"--platform[ =](\w[\w.-]*)", text)
    assert named, "docs/teaching.md shows --platform examples"
    known = set(kit.LAPTOPS) | {t for tags in kit.LAPTOPS.values() for t in tags}
    assert set(named) <= known, set(named) - known
    tags = set(re.findall(r"(?:manylinux\w*|macosx_\w+|win_amd64)", text))
    assert tags <= known and not tags & NO_TF_WHEEL, tags


@pytest.mark.slow
def test_notebook_00_runs_from_the_kit_with_the_network_off(tmp_path, data_home, fetched, stand_in_checksum,
                                                           monkeypatch, capsys):
    target, code = _build(tmp_path, fetched)
    assert code == 0, capsys.readouterr().err
    guard, log = tmp_path / "no_network", tmp_path / "network.log"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(NO_NETWORK)
    env = {**kit.environment(target), "KIT_TEST_LOG": str(log), "PYTHONPATH": str(guard)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    # The guard works: a connection off this machine fails in any Python started with it.
    probe = subprocess.run([sys.executable, "-c", "import socket; socket.create_connection(('192.0.2.1', 80), 1)"],
                           capture_output=True, text=True)
    assert probe.returncode != 0 and "network is off" in probe.stderr
    log.write_text("")

    # In this process, the kit's data makes `auto` choose the fast profile with no network.
    assert profiles.resolve("auto").name == "fast"

    notebook = target / "course" / "notebooks" / "00_setup.ipynb"
    out = tmp_path / "00_from_kit.ipynb"
    pm.execute_notebook(str(notebook), str(out), parameters={"PROFILE": "smoke"}, cwd=str(notebook.parent),
                        kernel_name="python3", progress_bar=False)
    cells = json.loads(out.read_text())["cells"]
    assert not [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    text = "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))
    kit_data = target.resolve() / "data"
    assert f"data folder: {kit_data}" in text
    assert any(line.split()[:3] == ["cats_vs_dogs", "True", "False"] and str(kit_data / "cache") in line
               for line in text.splitlines()), "00 does not list the kit's cats_vs_dogs as present"
    assert f"local file ({kit_data / 'weights' / backbones.get(NET).weights_file})" in text
    seen = log.read_text().splitlines()
    assert not [line for line in seen if line.startswith("blocked")], seen
    assert f"course_utils from {target.resolve() / 'course' / 'course_utils'}" in seen


def test_kit_gathers_cifar10_through_keras_loader_then_copies_it_instead_of_downloading(tmp_path, data_home,
                                                                                         monkeypatch):
    """Notebook 07's `--datasets cifar10`: Keras' arrays (faked here) become class folders in the kit's cache."""
    import keras
    import numpy as np

    calls = []

    def fake_load_data():
        calls.append(1)
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (40, 32, 32, 3), dtype=np.uint8)
        y = (np.arange(40) % 10).astype(np.uint8).reshape(-1, 1)
        return (x[:30], y[:30]), (x[30:], y[30:])

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", fake_load_data)
    first = tmp_path / "kit1" / "data"
    monkeypatch.setenv("COURSE_DATA_DIR", str(first))
    [row] = kit.gather_datasets(["cifar10"], [tmp_path / "empty"])
    assert calls == [1] and row["dataset"] == "cifar10" and "downloaded" in row["origin"]
    pngs = sorted((first / row["folder"]).rglob("*.png"))
    assert len(pngs) == 40 and {p.parent.parent.name for p in pngs} == {"train", "test"}
    second = tmp_path / "kit2" / "data"
    monkeypatch.setenv("COURSE_DATA_DIR", str(second))
    [copied] = kit.gather_datasets(["cifar10"], [first])
    assert calls == [1], "a CIFAR-10 already fetched is copied, not downloaded again"
    assert copied["origin"].startswith("copied from") and copied["files"] == row["files"]
    assert data.is_present("cifar10")
