"""The machine the course runs on: versions, devices, GPU set-up and seeding.

``describe()`` returns a report (a dict; ``format_report`` turns it into text).
``setup()`` seeds every generator and configures the GPUs: memory growth, mixed precision
where the GPU supports it (compute capability 7.0 or newer), optional XLA.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import warnings
from dataclasses import asdict, dataclass, field

from ._quiet import keras as _keras

__all__ = [
    "BINDER_VARIABLES", "GPU", "MIN_MIXED_PRECISION_CC", "describe", "format_report",
    "is_binder", "is_colab", "list_gpus", "memory_limit_gb", "mixed_precision_available",
    "seed_everything", "setup", "SetupReport",
]

# Mixed precision (float16 compute, float32 variables) pays off on Tensor Cores: Volta (7.0)
# and newer. Older GPUs run it, but slower than float32.
MIN_MIXED_PRECISION_CC = (7, 0)


@dataclass(frozen=True)
class GPU:
    """One GPU as TensorFlow sees it."""

    device: str  # e.g. "/physical_device:GPU:0"
    name: str  # e.g. "NVIDIA A100-SXM4-40GB", or "unknown"
    compute_capability: tuple[int, int] | None
    memory_mib: int | None  # total memory, from nvidia-smi when available

    @property
    def supports_mixed_precision(self) -> bool:
        cc = self.compute_capability
        return cc is not None and tuple(cc) >= MIN_MIXED_PRECISION_CC


@dataclass
class SetupReport:
    """What ``setup()`` did."""

    seed: int | None
    gpus: list[GPU]
    memory_growth: list[str] = field(default_factory=list)
    precision_policy: str = "float32"
    precision_reason: str = ""
    xla: bool = False
    deterministic: bool = False
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"seed: {self.seed}",
            f"GPUs: {len(self.gpus)}" + "".join(f"\n  - {g.name} ({g.device})" for g in self.gpus),
            f"memory growth: {', '.join(self.memory_growth) or 'not set (no GPU)'}",
            f"precision policy: {self.precision_policy} ({self.precision_reason})",
            f"XLA: {'on' if self.xla else 'off'}; op determinism: "
            f"{'on' if self.deterministic else 'off'}",
        ]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _tf():
    _keras()  # TensorFlow's first import, without its C++ start-up lines
    import tensorflow as tf

    return tf


def is_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


# The variables BinderHub's spawner sets in every server it launches (mybinder.org and other
# BinderHubs); JUPYTERHUB_* alone would also match any JupyterHub.
BINDER_VARIABLES = ("BINDER_LAUNCH_HOST", "BINDER_REPO_URL", "BINDER_REF_URL", "BINDER_REQUEST",
                    "BINDER_PERSISTENT_REQUEST")


def is_binder() -> bool:
    """True on mybinder.org or another BinderHub (its spawner sets BINDER_* variables)."""
    return any(os.environ.get(k) for k in BINDER_VARIABLES)


BINDER_MEMORY_GB = 2.0  # mybinder.org's memory limit per server: a kernel above it is killed


def binder_note() -> str:
    """On Binder, the line every notebook's banner adds (with a leading newline); elsewhere ''."""
    if not is_binder():
        return ""
    return ("\nOn Binder: one notebook at a time. Shut down the kernel of every other open notebook (Running "
            "panel on the left, or Kernel > Shut Down Kernel): each keeps TensorFlow in memory, and Binder stops "
            f"the whole session above {BINDER_MEMORY_GB:g} GB.")


def memory_limit_gb() -> float | None:
    """The server's memory limit in GB where JupyterHub says it (``MEM_LIMIT``, bytes), else None."""
    try:
        return int(os.environ["MEM_LIMIT"]) / 1024**3
    except (KeyError, ValueError):
        return None


def _nvidia_smi_memory() -> list[int]:
    """Total memory (MiB) of each GPU as nvidia-smi reports it; [] when there is no nvidia-smi."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return []
    try:
        out = subprocess.run(
            [exe, "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
        return [int(line.strip()) for line in out.splitlines() if line.strip()]
    except (OSError, subprocess.SubprocessError, ValueError):
        return []


def list_gpus() -> list[GPU]:
    """The GPUs TensorFlow can use, with name, compute capability and memory where known."""
    tf = _tf()
    devices = tf.config.list_physical_devices("GPU")
    memory = _nvidia_smi_memory() if devices else []
    gpus = []
    for i, dev in enumerate(devices):
        try:
            details = tf.config.experimental.get_device_details(dev) or {}
        except (ValueError, RuntimeError):
            details = {}
        cc = details.get("compute_capability")
        gpus.append(
            GPU(
                device=dev.name,
                name=details.get("device_name", "unknown"),
                compute_capability=tuple(cc) if cc else None,
                memory_mib=memory[i] if i < len(memory) else None,
            )
        )
    return gpus


def mixed_precision_available(gpus: list[GPU] | None = None) -> bool:
    """True when there is at least one GPU and every GPU has compute capability >= 7.0."""
    gpus = list_gpus() if gpus is None else gpus
    return bool(gpus) and all(g.supports_mixed_precision for g in gpus)


def describe() -> dict:
    """Versions, devices and where we run, as a dict (``format_report`` prints it).

    Used in notebook 00, section 2.
    """
    keras = _keras()
    import numpy as np

    tf = _tf()
    gpus = list_gpus()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "gpus": [asdict(g) for g in gpus],
        "mixed_precision_available": mixed_precision_available(gpus),
        "colab": is_colab(),
        "binder": is_binder(),
    }


def format_report(report: dict) -> str:
    """The ``describe()`` dict as aligned text, one fact a line.

    Used in notebook 00, section 2.
    """
    lines = []
    for key, value in report.items():
        if key == "gpus":
            lines.append(f"{'gpus':<26} {len(value)}")
            for g in value:
                mem = f"{g['memory_mib']} MiB" if g["memory_mib"] else "memory unknown"
                cc = ".".join(map(str, g["compute_capability"])) if g["compute_capability"] else "?"
                lines.append(f"  - {g['name']} ({g['device']}), compute capability {cc}, {mem}")
        else:
            lines.append(f"{key:<26} {value}")
    return "\n".join(lines)


def seed_everything(seed: int) -> None:
    """Seed Python's random, NumPy and the Keras backend in one call."""
    keras = _keras()

    os.environ["PYTHONHASHSEED"] = str(seed)
    keras.utils.set_random_seed(seed)


def setup(
    seed: int | None = 0,
    mixed_precision: bool | str = "auto",
    memory_growth: bool = True,
    xla: bool = False,
    deterministic: bool = False,
    quiet: bool = True,
) -> SetupReport:
    """Seed, then configure the GPUs; returns a report of what was done.

    mixed_precision: "auto" turns it on when every GPU has compute capability >= 7.0,
    True insists (an error when no GPU qualifies), False keeps float32.
    Call it before building any model: memory growth can only be set before the GPUs
    are first used, and the precision policy applies to layers built afterwards.
    quiet=True silences TensorFlow's Python-side warnings (tf.function retracing notices).

    Explained in notebook 00, section 3.
    """
    keras = _keras()

    tf = _tf()
    if mixed_precision not in (True, False, "auto"):
        raise ValueError(f"mixed_precision must be True, False or 'auto', not {mixed_precision!r}.")
    if seed is not None:
        seed_everything(seed)
    if quiet:
        tf.get_logger().setLevel("ERROR")
        # Keras 3.15 warns on every fit() with a tf.data pipeline that its default shuffle=True
        # is ignored: the pipeline shuffles itself (image_dataset_from_directory does).
        warnings.filterwarnings("ignore", message="`shuffle=True` was passed")
    gpus = list_gpus()
    report = SetupReport(seed=seed, gpus=gpus)

    if memory_growth:
        for dev in tf.config.list_physical_devices("GPU"):
            try:
                tf.config.experimental.set_memory_growth(dev, True)
                report.memory_growth.append(dev.name)
            except (RuntimeError, ValueError) as err:
                # Raised when the GPU is already initialised (a model was built earlier).
                report.notes.append(f"memory growth not set on {dev.name}: {err}")

    capable = mixed_precision_available(gpus)
    if mixed_precision is True and not capable:
        found = ", ".join(f"{g.name} (cc {g.compute_capability})" for g in gpus) or "no GPU"
        raise RuntimeError(
            "mixed_precision=True needs a GPU with compute capability >= 7.0; found "
            f"{found}. Use mixed_precision='auto' or False."
        )
    if mixed_precision is False:
        policy, reason = "float32", "turned off"
    elif capable:
        policy, reason = "mixed_float16", "every GPU has compute capability >= 7.0"
    elif gpus:
        policy, reason = "float32", "a GPU older than compute capability 7.0 would run it slower"
    else:
        policy, reason = "float32", "no GPU"
    keras.mixed_precision.set_global_policy(policy)
    report.precision_policy, report.precision_reason = policy, reason

    if xla:
        tf.config.optimizer.set_jit(True)
        report.xla = True
    if deterministic:
        tf.config.experimental.enable_op_determinism()
        report.deterministic = True
    return report
