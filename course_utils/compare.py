"""Choosing a backbone (notebook 07): measured speeds, the comparison table and its figures.

Notebook 07 writes the transfer recipe out with Keras calls (constructor, ``trainable =
False``, ``keras.layers.Resizing``, ``conv_base(x, training=False)``, ``compile``/``fit``);
this module only measures and reports: images per second of a model (warm-up first, same
batch shape, so tracing is not timed; the median call, so another busy process moves it little), the table of backbones, in which a backbone without
pretrained weights shows its accuracy as "not checked (random weights)", never as a number,
the accuracy-vs-cost and few-shot figures, and the kernel's peak memory.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import backbones, plots
from .plots import _caveat

__all__ = [
    "NOT_CHECKED", "RANDOM_CAVEAT", "best", "cpu_seconds", "extraction_speed", "few_shot_table",
    "last_feature_maps", "mean_std", "peak_memory_mb", "plot_accuracy_vs_cost", "plot_few_shot",
    "Row", "sample_per_class", "save", "table", "train_step_speed",
]

NOT_CHECKED = "not checked (random weights)"
RANDOM_CAVEAT = plots.RANDOM_CAVEAT  # one text for every figure of the course (notebook 07 uses this name)


def _speed(step, batch_size: int, repeats: int, min_seconds: float) -> float:
    """Batch size / the median time of one call: at least `repeats` calls and `min_seconds` in all.

    The median, not the mean: a call slowed down by another process on the machine does not
    move it much.
    """
    step()  # warm-up: traces the function for this batch shape (not timed)
    times: list[float] = []
    while len(times) < repeats or sum(times) < min_seconds:
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return batch_size / float(np.median(times))


def extraction_speed(model, images: np.ndarray, repeats: int = 3, min_seconds: float = 1.0) -> float:
    """Images per second of ``model.predict_on_batch`` on `images` (one batch), after a warm-up.

    Used in notebook 07, section 4.
    """
    return _speed(lambda: model.predict_on_batch(images), len(images), repeats, min_seconds)


def train_step_speed(model, images: np.ndarray, labels: np.ndarray, repeats: int = 3,
                     min_seconds: float = 1.0) -> float:
    """Images per second of ``model.train_on_batch`` (forward + backward + update), after a warm-up.

    The model must be compiled; compile it with a learning rate of 0 to time the step without
    changing the weights.

    Used in notebook 07, section 4.
    """
    return _speed(lambda: model.train_on_batch(images, labels), len(images), repeats, min_seconds)


def last_feature_maps(names: Sequence[str], sizes: Sequence[int]) -> dict[str, dict[int, tuple]]:
    """The output shape (height, width, channels) of each backbone's base at each input size.

    Built with ``weights=None``: shapes do not depend on the weights. Each model is freed
    before the next is built.

    Used in notebook 07, section 2.
    """
    import keras

    shapes: dict[str, dict[int, tuple]] = {}
    for name in names:
        b = backbones.get(name)
        shapes[name] = {}
        for size in sizes:
            base = b.build(None, (size, size, 3))
            shapes[name][size] = tuple(base.output.shape[1:])
            del base
            keras.backend.clear_session()
    return shapes


@dataclass
class Row:
    """One backbone of the comparison, every number measured in this run.

    Used in notebook 07, section 4.
    """

    backbone: str
    pretrained: bool
    params: int
    extract_ips: float  # images per second, extraction (frozen base, inference)
    train_ips: float  # images per second, one training step of the whole model
    accuracy: float | None  # test accuracy of the head on its features; None when not measured
    labels_per_class: int
    feature_shape: tuple = ()
    val_accuracy: float | None = None  # what the best backbone is chosen by (the test split only reports)
    image_size: int = 0  # the side images are upsampled to for this backbone
    probe: float | None = None  # a logistic regression's test accuracy on the same features (the sanity bar)

    @property
    def title(self) -> str:
        return backbones.get(self.backbone).title

    @property
    def checked(self) -> bool:
        """True when the accuracy is a result: pretrained weights and a measured accuracy."""
        return self.pretrained and self.accuracy is not None

    def accuracy_text(self) -> str:
        return f"{self.accuracy:.3f}" if self.checked else NOT_CHECKED


def table(rows: Sequence[Row]) -> str:
    """The comparison as a fixed-width text table (one line per backbone).

    Used in notebook 07, section 4.
    """
    head = (f"{'backbone':<24}{'weights':<10}{'px':>5}{'params':>9}{'extract img/s':>15}{'train-step img/s':>18}"
            f"{'labels/class':>14}  accuracy (probe)")
    lines = [head, "-" * len(head)]
    for r in rows:
        probe = f" ({r.probe:.3f})" if r.checked and r.probe is not None else ""
        lines.append(f"{r.title:<24}{'ImageNet' if r.pretrained else 'random':<10}{r.image_size or '':>5}"
                     f"{r.params / 1e6:>8.2f}M{r.extract_ips:>15.1f}{r.train_ips:>18.1f}{r.labels_per_class:>14}  "
                     f"{r.accuracy_text()}{probe}")
    return "\n".join(lines)


def best(rows: Sequence[Row]) -> Row | None:
    """The checked row with the highest *validation* accuracy; None when no accuracy is a result.

    Chosen on validation, so the test accuracy that reports the choice took no part in it.

    Used in notebook 07, section 4.
    """
    checked = [r for r in rows if r.checked and r.val_accuracy is not None]
    return max(checked, key=lambda r: r.val_accuracy) if checked else None


def save(path, rows: Sequence[Row], curves: Mapping[str, Mapping[int, Sequence[float]]], meta: dict) -> None:
    """The table and the few-shot curves as JSON (accuracies of unchecked rows written as NOT_CHECKED).

    Used in notebook 07, section 6.
    """
    import json
    from pathlib import Path

    table_rows = [{"backbone": r.backbone, "title": r.title, "pretrained": r.pretrained, "params": r.params,
                   "extract_images_per_second": round(r.extract_ips, 2),
                   "train_step_images_per_second": round(r.train_ips, 2), "labels_per_class": r.labels_per_class,
                   "accuracy": round(r.accuracy, 4) if r.checked else NOT_CHECKED,
                   "val_accuracy": round(r.val_accuracy, 4) if r.checked and r.val_accuracy is not None
                   else NOT_CHECKED, "image_size": r.image_size,
                   "probe": round(r.probe, 4) if r.checked and r.probe is not None else None} for r in rows]
    few = {m: {str(k): [round(float(a), 4) for a in v] for k, v in p.items()} for m, p in curves.items()}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps({**meta, "table": table_rows, "few_shot": few}, indent=2) + "\n")


def plot_accuracy_vs_cost(rows: Sequence[Row], caveat: str | None = None):
    """Accuracy against extraction cost (ms per image, measured); unchecked backbones on the axis.

    A backbone without pretrained weights has no accuracy to plot: it is marked on the cost
    axis with a hollow marker and the words "not checked".

    Used in notebook 07, section 4.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for r in rows:
        cost = 1000.0 / r.extract_ips
        label = f"{r.title}, {r.params / 1e6:.1f}M params"
        if r.checked:
            ax.plot(cost, r.accuracy, "o", markersize=4 + 2 * math.log10(max(r.params, 1e5) / 1e5), label=label)
            ax.annotate(r.title, (cost, r.accuracy), textcoords="offset points", xytext=(5, 4), fontsize=8)
        else:
            ax.plot(cost, 0.0, "o", mfc="none", color="grey", clip_on=False, label=f"{label}: {NOT_CHECKED}")
            ax.annotate(f"{r.title}\nnot checked", (cost, 0.0), textcoords="offset points", xytext=(4, 6),
                        fontsize=7, color="grey")
    ax.set_xscale("log")
    ax.set(xlabel="extraction cost (ms per image, measured here)", ylabel="test accuracy", ylim=(0, 1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    _caveat(fig, caveat)
    return fig


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def few_shot_table(curves: Mapping[str, Mapping[int, Sequence[float]]]) -> str:
    """Accuracy (mean ± std over seeds) per method and labels per class, as text.

    Used in notebook 07, section 6.
    """
    ks = sorted({k for c in curves.values() for k in c})
    width = max(len(m) for m in curves) + 2
    lines = [f"{'labels per class':<{width}}" + "".join(f"{k:>16}" for k in ks)]
    for method, points in curves.items():
        cells = []
        for k in ks:
            m, s = mean_std(points[k]) if k in points else (float("nan"), 0.0)
            cells.append(f"{m:>9.3f} ± {s:.3f}" if k in points else f"{'—':>16}")
        lines.append(f"{method:<{width}}" + "".join(cells))
    seeds = {len(v) for c in curves.values() for v in c.values()}
    lines.append(f"(mean ± std over {', '.join(map(str, sorted(seeds)))} seeds)")
    return "\n".join(lines)


def plot_few_shot(curves: Mapping[str, Mapping[int, Sequence[float]]], chance: float | None = None,
                  caveat: str | None = None):
    """Test accuracy against labels per class, mean ± std over seeds, one line per method.

    Used in notebook 07, section 6.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.8))
    for method, points in curves.items():
        ks = sorted(points)
        stats = [mean_std(points[k]) for k in ks]
        ax.errorbar(ks, [m for m, _ in stats], yerr=[s for _, s in stats], fmt="-o", capsize=3, label=method)
    if chance is not None:
        ax.axhline(chance, color="grey", lw=1, ls="--", label="chance")
    ks = sorted({k for p in curves.values() for k in p})
    ax.set_xscale("log")
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.minorticks_off()
    ax.set(xlabel="labelled training images per class", ylabel="test accuracy", ylim=(0, 1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    _caveat(fig, caveat)
    return fig


def sample_per_class(labels: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Indices of `k` images of each class, drawn at random (by `seed`) from `labels`.

    A class with fewer than `k` images raises ValueError (a budget the data cannot give).

    Used in notebook 07, section 4.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    picked = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) < k:
            raise ValueError(f"class {c} has {len(idx)} training images, fewer than {k}.")
        picked.append(rng.choice(idx, size=k, replace=False))
    return np.sort(np.concatenate(picked))


def cpu_seconds() -> float:
    """CPU time (user + system, all threads) this process has used so far.

    On a shared machine the wall time depends on the other processes; this does not, and on
    an idle machine with c cores the wall time lies between cpu_seconds() / c and cpu_seconds().
    ``time.process_time`` is the standard library's portable form (Linux, macOS, Windows).

    Used in notebook 07, section 6.
    """
    return time.process_time()


def peak_memory_mb() -> float:
    """This process's peak resident memory so far, in MB; NaN where the system cannot say.

    ``resource`` exists on Linux and macOS only (Linux reports KB, macOS bytes); on Windows the
    peak working set comes from psutil (installed with ipykernel, so with Jupyter). Imported
    here, not at the top, so that importing this module works everywhere. Used in notebook 07, section 6.
    """
    try:
        import resource  # guarded: Unix only; Windows takes psutil below (tests/test_portability.py)
    except ImportError:  # Windows
        try:
            import psutil
        except ImportError:
            return math.nan
        info = psutil.Process().memory_info()
        return getattr(info, "peak_wset", info.rss) / (1024 * 1024)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
