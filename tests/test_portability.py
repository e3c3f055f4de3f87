"""Works where learners are: nothing Unix-only on the import path (Windows has no `resource`
or `fcntl`), and the models the course saves load with plain Keras, without course_utils."""

import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import ROOT

# A sys.meta_path finder that makes the named modules unimportable, as they are on Windows.
BLOCKER = textwrap.dedent('''
    import importlib.abc
    import sys

    class Blocker(importlib.abc.MetaPathFinder):
        def __init__(self, names):
            self.names = set(names)

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.names:
                raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
            return None

    def block(*names):
        for name in names:
            sys.modules.pop(name, None)
        sys.meta_path.insert(0, Blocker(names))
''')


def run_python(code: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter started in the repository root (course_utils importable)."""
    return subprocess.run([sys.executable, "-c", BLOCKER + textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow  # several seconds: run by make test, skipped by make test-unit
def test_every_course_utils_module_imports_without_resource_and_fcntl():
    result = run_python('''
        block("resource", "fcntl")
        import pkgutil, importlib
        import course_utils
        names = [m.name for m in pkgutil.iter_modules(course_utils.__path__)]
        failed = []
        for name in names:
            try:
                importlib.import_module(f"course_utils.{name}")
            except ImportError as err:
                failed.append(f"course_utils.{name}: {err}")
        print("\\n".join(failed) or f"imported {len(names)} modules")
        sys.exit(1 if failed else 0)
    ''')
    assert result.returncode == 0, result.stdout + result.stderr
    assert "imported" in result.stdout


def test_the_blocker_really_blocks_resource():
    """The test above cannot pass vacuously: with the blocker, `import resource` fails."""
    result = run_python('''
        block("resource", "fcntl")
        try:
            import resource
        except ModuleNotFoundError as err:
            print("blocked:", err)
    ''')
    assert "blocked:" in result.stdout, result.stdout + result.stderr


def test_peak_memory_and_cpu_time_work_without_resource():
    result = run_python('''
        block("resource")
        import math
        from course_utils import compare
        peak = compare.peak_memory_mb()
        print("peak", peak, "cpu", compare.cpu_seconds())
        assert math.isnan(peak) or peak > 1, peak
        assert compare.cpu_seconds() > 0
    ''')
    assert result.returncode == 0, result.stdout + result.stderr


def _tiny_course_model(backbone: str, size: int = 24):
    """A course chain (Input -> preprocessing -> base(training=False) -> head) on a tiny base."""
    import keras

    from course_utils import models

    keras.utils.set_random_seed(0)
    inputs = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)
    base = keras.Model(inputs, x, name=models.BASE)
    return models.Chain.build(backbone, base, models.gap_head(3)).model


# Loads the three exports with Keras and TensorFlow only, course_utils unimportable, and prints
# the top-1 class of each image for each of them.
LOAD_WITHOUT_COURSE_UTILS = '''
    block("course_utils")
    import json, sys, warnings
    import numpy as np
    import keras
    import tensorflow as tf

    folder = sys.argv[1]
    x = np.load(f"{folder}/images.npy")
    model = keras.models.load_model(f"{folder}/m.keras")
    assert model.get_layer("preprocess") is not None
    serve = tf.saved_model.load(f"{folder}/m.savedmodel").signatures["serving_default"]
    (name, _), = serve.structured_input_signature[1].items()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lite = tf.lite.Interpreter(model_path=f"{folder}/m.tflite")
    lite.allocate_tensors()
    inp, out = lite.get_input_details()[0], lite.get_output_details()[0]
    tflite = []
    for image in x:
        lite.set_tensor(inp["index"], image[None])
        lite.invoke()
        tflite.append(lite.get_tensor(out["index"])[0].copy())
    proba = {"keras": model.predict(x, verbose=0),
             "savedmodel": list(serve(**{name: tf.constant(x)}).values())[0].numpy(),
             "tflite": np.stack(tflite)}
    print(json.dumps({k: {"top1": p.argmax(1).tolist(), "proba": p.tolist()} for k, p in proba.items()}))
'''


@pytest.mark.slow  # several seconds: run by make test, skipped by make test-unit
@pytest.mark.parametrize("backbone", ["vgg16", "mobilenet_0.25"])  # both preprocessing modes
def test_keras_savedmodel_and_tflite_exports_give_the_same_top1_without_course_utils(backbone, tmp_path):
    import json

    import tensorflow as tf

    model = _tiny_course_model(backbone)
    model.save(tmp_path / "m.keras")
    model.export(tmp_path / "m.savedmodel")  # notebook 08, section 9
    (tmp_path / "m.tflite").write_bytes(tf.lite.TFLiteConverter.from_saved_model(str(tmp_path / "m.savedmodel")).convert())
    images = np.random.default_rng(3).uniform(0, 255, (10, 24, 24, 3)).astype("float32")
    np.save(tmp_path / "images.npy", images)
    expected = model.predict(images, verbose=0)

    done = subprocess.run([sys.executable, "-c", BLOCKER + textwrap.dedent(LOAD_WITHOUT_COURSE_UTILS), str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    for kind, got in results.items():
        assert got["top1"] == expected.argmax(1).tolist(), kind
        np.testing.assert_allclose(got["proba"], expected, atol=1e-4, err_msg=kind)


@pytest.mark.slow  # several seconds: run by make test, skipped by make test-unit
def test_a_model_with_the_former_course_layer_does_not_load_without_course_utils(tmp_path):
    """The reason for the change, and the check that the blocker works on course_utils: a model
    holding the course's own Preprocess layer fails to load when course_utils is missing."""
    import keras

    from course_utils import models

    inputs = keras.Input((8, 8, 3))
    old = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(models.Preprocess("vgg16")(inputs)))
    old.save(tmp_path / "old.keras")
    assert keras.models.load_model(tmp_path / "old.keras") is not None  # with course_utils: older models still load
    done = subprocess.run([sys.executable, "-c", BLOCKER + textwrap.dedent(f'''
        block("course_utils")
        import keras
        keras.models.load_model({str(tmp_path / "old.keras")!r})
    ''')], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "Preprocess" in done.stderr


def _fake_python(folder, name: str, version: str, has_venv: bool = True):
    """A stand-in interpreter on PATH: reports `version`; `import venv, ensurepip` fails unless has_venv."""
    path = folder / name
    path.write_text("#!/bin/sh\n"
                    f'case "$*" in *version_info*) echo {version};; *venv*) exit {0 if has_venv else 1};; *) exit 0;; esac\n')
    path.chmod(0o755)
    return path


def _make_setup(tmp_path, python: str):
    """`make -n setup` (prints the commands, runs none) with a venv that does not exist yet."""
    import os
    import shutil

    if shutil.which("make") is None:
        pytest.skip("no make here (Windows: README's PowerShell commands)")
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["make", "-n", "--no-print-directory", "setup", f"PYTHON={python}",
                           f"VENV={tmp_path / 'venv'}"], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=60)


def test_make_setup_with_python_3_14_stops_with_one_line_naming_the_fix(tmp_path):
    _fake_python(tmp_path, "python3.14", "3.14")
    done = _make_setup(tmp_path, "python3.14")
    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0 and len(lines) == 1, done.stderr
    assert "Python 3.14" in lines[0] and "3.10-3.13" in lines[0] and "make setup PYTHON=" in lines[0]
    assert "venv" not in done.stdout and not (tmp_path / "venv").exists()


def test_make_setup_without_venv_names_the_package_to_install(tmp_path):
    _fake_python(tmp_path, "python3.12", "3.12", has_venv=False)
    done = _make_setup(tmp_path, "python3.12")
    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0 and len(lines) == 1, done.stderr
    assert "apt install python3.12-venv" in lines[0]


def test_make_setup_with_a_missing_python_says_so_and_a_good_one_passes(tmp_path):
    done = _make_setup(tmp_path, "python3.99-not-here")
    assert done.returncode != 0 and "python3.99-not-here not found" in done.stderr
    _fake_python(tmp_path, "python3.11", "3.11")
    done = _make_setup(tmp_path, "python3.11")
    assert done.returncode == 0, done.stderr
    assert f"python3.11 -m venv {tmp_path / 'venv'}" in done.stdout


def test_binder_folder_installs_what_the_root_does_and_prefetches_the_binder_profile():
    import yaml

    from course_utils import profiles

    root = yaml.safe_load((ROOT / "environment.yml").read_text())
    binder = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())
    pip_root = next(d["pip"] for d in root["dependencies"] if isinstance(d, dict))
    pip_binder = next(d["pip"] for d in binder["dependencies"] if isinstance(d, dict))
    assert pip_binder == [line.replace("requirements.txt", "../requirements.txt").replace("-e .", "-e ..")
                          for line in pip_root]
    assert [d for d in binder["dependencies"] if isinstance(d, str)] == [
        d for d in root["dependencies"] if isinstance(d, str)]
    post = ROOT / "binder" / "postBuild"
    assert post.stat().st_mode & 0o111, "postBuild must be executable"
    text = post.read_text()
    assert text.startswith("#!/bin/bash") and "set -euo pipefail" in text
    assert 'profiles.PROFILES["binder"]' in text and "fetch.main" in text
    assert profiles.PROFILES["binder"].backbone and profiles.PROFILES["binder"].dataset


def test_on_binder_every_banner_says_to_shut_down_the_other_kernels(monkeypatch):
    from course_utils import env, profiles

    for k in env.BINDER_VARIABLES:
        monkeypatch.delenv(k, raising=False)
    resolved = profiles.resolve("smoke")
    assert "Shut down" not in resolved.banner()
    monkeypatch.setenv("BINDER_REPO_URL", "https://github.com/tl-course/transfer-learning-keras")
    for text in (resolved.banner(), resolved.banner(needs_pretrained=False)):
        assert "On Binder: one notebook at a time. Shut down the kernel of every other open notebook" in text


def test_make_lab_opens_the_repository_root_with_00_shown():
    import shutil

    if shutil.which("make") is None:
        pytest.skip("no make here")
    done = subprocess.run(["make", "-n", "--no-print-directory", "lab", f"VENV={sys.prefix}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    command = done.stdout.strip().splitlines()[-1]
    assert "jupyter lab" in command and "--ServerApp.root_dir=." in command, done.stdout + done.stderr
    assert "--LabApp.default_url=/lab/tree/notebooks/00_setup.ipynb" in command
    assert (ROOT / "notebooks" / "00_setup.ipynb").is_file()


@pytest.mark.skipif(sys.platform == "win32" or shutil.which("bash") is None, reason="CI's script is bash, on Linux")
def test_ci_starts_the_oldest_pair_once_the_real_tier_has_ended(tmp_path):
    """.ci/run's background job waits for the file tests/run_tests.py creates when the real tier's halves have
    ended (CI touches it after `make test` too); run here with `make test-oldest` replaced by an echo."""
    ci = (ROOT / ".ci" / "run").read_text()
    job = ci[ci.index('export COURSE_REAL_TIER_DONE'):ci.index("oldest_pid=$!")]
    assert job.count("make test-oldest") == 1
    assert re.search(r'^make test\b.*\|\| status=\$\?.*\ntouch "\$COURSE_REAL_TIER_DONE"', ci, re.M), "touched after it"
    log = tmp_path / "oldest.log"
    script = (f'set -euo pipefail\noldest_log="{log.as_posix()}"\n' + job.replace("make test-oldest", "echo oldest ran")
              + 'oldest_pid=$!\nsleep 3\n[ -s "$oldest_log" ] && exit 9\ntouch "$COURSE_REAL_TIER_DONE"\n'
              'wait "$oldest_pid"\n')
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)  # 9: it did not wait
    assert log.read_text().startswith("oldest ran\nci: oldest-pair unit tests took")


@pytest.mark.skipif(sys.platform == "win32" or shutil.which("bash") is None, reason="CI's script is bash, on Linux")
@pytest.mark.parametrize("summary", [
    "real tier 03-05 passed in 643 s; real tier 06-08 passed in 656 s; solutions, exercises and subprocess tests "
    "passed in 820 s; the rest passed in 981 s",  # (in the order they ended)
    "the rest passed in 0 s; real tier 03-05 FAILED (exit 1) in 0 s; real tier 06-08 FAILED (exit -15) in 1 s",
    None])
def test_ci_ends_its_log_with_how_long_the_real_tier_took(tmp_path, summary):
    """CI's log is read from its end: the last lines say what each part of `make test` took (run_tests' own
    summary line, from make test's output; not its other lines), or that there was none."""
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'make test 2>&1 | tee "$test_log"' in ci
    log = tmp_path / "make-test.log"
    other = "run_tests: 4 real-tier report entries in /tmp/x/real_tier.json\n"
    log.write_text(f"lots of pytest\nrun_tests: {summary}\n{other}" if summary else f"{other}make: *** Error 2\n")
    printed = summary is not None
    script = (f'set -euo pipefail\ntest_log="{log.as_posix()}"\nstart=$(( $(date +%s) - 70 ))\nelapsed=60\nstatus=1\n'
              + ci[ci.index("# Last, where CI's log shows its end"):])
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = done.stdout.splitlines()
    assert lines[0] == (f"ci: run_tests: {summary}" if printed else "ci: make test printed no summary"), done.stdout
    assert re.fullmatch(r"ci: 60s before the browser tier, 7\ds in all, exit 1", lines[1]), done.stdout


def test_ci_runs_the_oldest_pair_and_publishes_the_real_tier_notebooks_as_html():
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'wait "$oldest_pid" || oldest_rc=$?' in ci and "status=1" in ci
    assert 'export COURSE_REAL_TIER_NOTEBOOKS="$(mktemp -d)"' in ci
    assert "jupyter nbconvert --to html --output-dir outputs/artifacts" in ci
    assert "COURSE_REAL_TIER_NOTEBOOKS" in (ROOT / "tests" / "test_real_tier.py").read_text()
    makefile = (ROOT / "Makefile").read_text()
    pins = next(line for line in makefile.splitlines() if line.startswith("OLDEST_PINS"))
    from packaging.requirements import Requirement

    lower = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            lower[req.name] = next((s.version for s in req.specifier if s.operator == ">="), None)
    for pin in pins.split("=", 1)[1].split():
        name, version = pin.split("==")
        assert lower[name] is not None and version.startswith(lower[name]), (pin, lower[name])
