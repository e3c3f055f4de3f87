"""GPU logic tested with mocked device lists: no GPU is needed to run these."""

import keras
import pytest
import tensorflow as tf

from course_utils import env


@pytest.fixture
def fake_gpus(monkeypatch):
    """Install a fake list of GPUs: call with [(name, (major, minor)), ...]."""
    state = {"growth": []}

    def install(specs, initialised=False):
        devices = [tf.config.PhysicalDevice(name=f"/physical_device:GPU:{i}", device_type="GPU")
                   for i in range(len(specs))]
        details = {d.name: {"device_name": n, "compute_capability": cc}
                   for d, (n, cc) in zip(devices, specs)}

        def list_devices(kind=None):
            return devices if kind == "GPU" else []

        def set_growth(dev, enable):
            if initialised:
                raise RuntimeError("Physical devices cannot be modified after being initialized")
            state["growth"].append(dev.name)

        monkeypatch.setattr(tf.config, "list_physical_devices", list_devices)
        monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda d: details[d.name])
        monkeypatch.setattr(tf.config.experimental, "set_memory_growth", set_growth)
        monkeypatch.setattr(env, "_nvidia_smi_memory", lambda: [40960] * len(specs))
        return state

    yield install
    keras.mixed_precision.set_global_policy("float32")


def test_no_gpu_keeps_float32_and_sets_no_memory_growth(fake_gpus):
    state = fake_gpus([])
    report = env.setup(seed=1)
    assert report.gpus == [] and state["growth"] == []
    assert report.precision_policy == "float32" and report.precision_reason == "no GPU"
    assert keras.mixed_precision.global_policy().name == "float32"


def test_one_modern_gpu_gets_memory_growth_and_mixed_precision(fake_gpus):
    state = fake_gpus([("NVIDIA A100", (8, 0))])
    report = env.setup(seed=1)
    assert state["growth"] == ["/physical_device:GPU:0"]
    assert report.precision_policy == "mixed_float16"
    assert keras.mixed_precision.global_policy().name == "mixed_float16"
    assert report.gpus[0].name == "NVIDIA A100" and report.gpus[0].memory_mib == 40960


def test_two_gpus_both_get_memory_growth(fake_gpus):
    state = fake_gpus([("NVIDIA T4", (7, 5)), ("NVIDIA T4", (7, 5))])
    report = env.setup(seed=1)
    assert len(report.gpus) == 2 and len(state["growth"]) == 2
    assert report.precision_policy == "mixed_float16"


def test_a_gpu_too_old_for_mixed_precision_keeps_float32(fake_gpus):
    fake_gpus([("Tesla K80", (3, 7))])
    report = env.setup(seed=1)
    assert report.precision_policy == "float32"
    assert "older than compute capability 7.0" in report.precision_reason
    assert not env.mixed_precision_available()


def test_one_old_gpu_among_new_ones_disables_auto_mixed_precision(fake_gpus):
    fake_gpus([("NVIDIA A100", (8, 0)), ("Tesla P100", (6, 0))])
    assert env.setup(seed=1).precision_policy == "float32"


def test_insisting_on_mixed_precision_without_a_capable_gpu_is_an_error(fake_gpus):
    fake_gpus([("Tesla K80", (3, 7))])
    with pytest.raises(RuntimeError, match="compute capability >= 7.0"):
        env.setup(mixed_precision=True)


def test_mixed_precision_can_be_turned_off_on_a_capable_gpu(fake_gpus):
    fake_gpus([("NVIDIA A100", (8, 0))])
    assert env.setup(mixed_precision=False).precision_policy == "float32"


def test_memory_growth_after_initialisation_is_noted_not_fatal(fake_gpus):
    fake_gpus([("NVIDIA A100", (8, 0))], initialised=True)
    report = env.setup(seed=1)
    assert report.memory_growth == []
    assert any("memory growth not set" in n for n in report.notes)


def test_describe_reports_versions_and_fake_gpus(fake_gpus):
    fake_gpus([("NVIDIA L4", (8, 9))])
    report = env.describe()
    assert report["tensorflow"] == tf.__version__ and report["keras"] == keras.__version__
    assert report["gpus"][0]["compute_capability"] == (8, 9)
    assert report["mixed_precision_available"] is True
    text = env.format_report(report)
    assert "NVIDIA L4" in text and "compute capability 8.9" in text and "40960 MiB" in text


def test_seeding_makes_random_draws_repeat():
    import numpy as np

    def draws():
        # What the course relies on: NumPy's draws and the initial weights of a new layer (a head, a scratch
        # convnet). Unseeded keras.random calls repeat only from Keras 3.5 on, so they are not asked for here.
        layer = keras.layers.Dense(4)
        layer.build((None, 3))
        return np.random.rand(3), np.asarray(layer.kernel)

    env.seed_everything(7)
    a = draws()
    env.seed_everything(7)
    b = draws()
    assert (a[0] == b[0]).all() and (a[1] == b[1]).all()


def test_colab_and_binder_detection(monkeypatch):
    import sys
    import types

    assert not env.is_colab()
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert env.is_colab()
    for key in env.BINDER_VARIABLES:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("JUPYTERHUB_USER", "someone")  # any JupyterHub sets it: not Binder
    assert not env.is_binder()
    monkeypatch.setenv("BINDER_LAUNCH_HOST", "https://mybinder.org/")
    assert env.is_binder()


@pytest.mark.parametrize("variable", ["BINDER_REPO_URL", "BINDER_REF_URL", "BINDER_REQUEST",
                                      "BINDER_PERSISTENT_REQUEST"])
def test_binder_detected_from_any_variable_binderhub_sets(monkeypatch, variable):
    for key in env.BINDER_VARIABLES:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv(variable, "")
    assert not env.is_binder(), "an empty variable is not Binder"
    monkeypatch.setenv(variable, "v2/gh/tl-course/transfer-learning-keras/main")
    assert env.is_binder() and env.describe()["binder"]


def test_memory_limit_from_jupyterhub(monkeypatch):
    monkeypatch.setenv("MEM_LIMIT", str(2 * 1024**3))
    assert env.memory_limit_gb() == 2.0
    monkeypatch.delenv("MEM_LIMIT")
    assert env.memory_limit_gb() is None
