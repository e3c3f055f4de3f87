"""Figures the notebooks show. Each function draws and returns a matplotlib Figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .preview import augmented_grid, per_class_grid  # noqa: F401  (the data previews live in preview.py)

__all__ = [
    "RANDOM_CAVEAT", "augmented_grid", "compare_histories", "confusion_matrix",
    "data_efficiency", "filters_grid", "gradcam_overlay", "image_grid", "method_comparison",
    "metric_names", "multilabel_gallery", "per_class_grid", "plot_gd", "plot_history",
    "plot_sweep", "plot_tradeoff", "reliability_diagram", "roc_pr_curves",
]

RANDOM_CAVEAT = "random weights: checks the code, not a result"


def _caveat(fig, caveat: str | None) -> None:
    """A red line on the figure itself, so a copied plot keeps its warning (compare.py's plots too)."""
    if caveat:
        fig.text(0.5, 1.0, caveat, ha="center", va="bottom", color="red", fontsize=9)


def _whole_epochs(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _history_dict(history) -> tuple[dict[str, list[float]], list[int]]:
    """(metrics, epochs) from a keras History or a plain {metric: values} dict."""
    hist = getattr(history, "history", history)
    if not isinstance(hist, Mapping) or not hist:
        raise ValueError("Expected a keras History or a non-empty {metric: [values]} dict.")
    n = len(next(iter(hist.values())))
    epochs = list(getattr(history, "epoch", None) or range(n))
    return dict(hist), [e + 1 for e in epochs]


def metric_names(history) -> list[str]:
    """The base metric names a History holds ('loss', 'accuracy', 'auc', ...), val_ stripped."""
    hist, _ = _history_dict(history)
    names = []
    for key in hist:
        base = key[4:] if key.startswith("val_") else key
        if base not in names and base != "learning_rate":
            names.append(base)
    return names


def plot_history(history, title: str | None = None, metrics: Sequence[str] | None = None,
                 caveat: str | None = None):
    """Learning curves: one panel per metric, training and validation, epochs (from 1) on the x axis.

    Used in notebook 03, section 5.
    """
    import matplotlib.pyplot as plt

    hist, epochs = _history_dict(history)
    metrics = list(metrics or metric_names(history))
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.4), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for key, label, style in ((metric, "train", "-o"), (f"val_{metric}", "validation", "-s")):
            if key in hist:
                ax.plot(epochs, hist[key], style, label=label, markersize=3)
        ax.set_title(metric)
        ax.set_xlabel("epoch")
        _whole_epochs(ax)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    _caveat(fig, caveat)
    return fig


def compare_histories(histories: Mapping[str, object], metrics: Sequence[str] | None = None,
                      caveat: str | None = None):
    """Several runs on shared axes: validation solid, training dashed, one panel per metric.

    Used in notebook 03, section 4 (and in notebooks 04, 06, 08).
    """
    import matplotlib.pyplot as plt

    if not histories:
        raise ValueError("compare_histories needs at least one history.")
    if metrics is None:
        metrics = []
        for h in histories.values():
            metrics += [m for m in metric_names(h) if m not in metrics]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.4), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, h) in enumerate(histories.items()):
        hist, epochs = _history_dict(h)
        colour = colours[i % len(colours)]
        for ax, metric in zip(axes[0], metrics):
            if f"val_{metric}" in hist:
                ax.plot(epochs, hist[f"val_{metric}"], "-", color=colour, label=f"{label} (val)")
            if metric in hist:
                ax.plot(epochs, hist[metric], "--", color=colour, alpha=0.6, label=f"{label} (train)")
    for ax, metric in zip(axes[0], metrics):
        ax.set_title(metric)
        ax.set_xlabel("epoch")
        _whole_epochs(ax)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    _caveat(fig, caveat)
    return fig


def image_grid(
    images,
    labels: Sequence[int] | None = None,
    class_names: Sequence[str] | None = None,
    predictions: Sequence[int] | None = None,
    ncols: int = 8,
    size: float = 1.6,
):
    """A grid of images with their labels; with predictions, wrong ones are titled in red.

    Used in notebook 05, section 3.
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    n = len(images)
    if n == 0:
        raise ValueError("image_grid needs at least one image.")
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3),
                             squeeze=False)

    def name(i):
        return class_names[i] if class_names is not None else str(i)

    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        img = images[k]
        ax.imshow(img.astype(np.uint8) if img.dtype != np.uint8 and img.max() > 1 else img)
        if labels is not None:
            title, colour = name(labels[k]), "black"
            if predictions is not None:
                title = f"{name(predictions[k])}\n(true: {name(labels[k])})"
                colour = "black" if predictions[k] == labels[k] else "red"
            ax.set_title(title, fontsize=8, color=colour)
    fig.tight_layout()
    return fig


def plot_sweep(sweep, xlabel: str | None = None, logx: bool = False):
    """Transfer vs scratch accuracy (mean ± std over seeds) and their difference, against a knob.

    Used in notebook 01, section 4.
    """
    import matplotlib.pyplot as plt

    x = np.asarray(sweep.values, dtype=float)

    def sd(a):  # the sample standard deviation over seeds (ddof=1), 0 with one seed
        return a.std(0, ddof=1) if len(a) > 1 else np.zeros(a.shape[1])

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    for label, acc, style in (("transfer (pretrained features)", sweep.transfer, "-o"),
                              ("scratch", sweep.scratch, "-s")):
        ax1.errorbar(x, acc.mean(0), yerr=sd(acc), fmt=style, capsize=3, label=label)
    ax1.set_ylabel("test accuracy")
    ax1.legend()
    gain = sweep.gain
    ax2.errorbar(x, gain.mean(0), yerr=sd(gain), fmt="-o", capsize=3, color="tab:green")
    ax2.axhline(0, color="grey", lw=1)
    ax2.set_ylabel("gain = transfer − scratch")
    for ax in (ax1, ax2):
        ax.set_xlabel(xlabel or sweep.name)
        ax.grid(alpha=0.3)
        if logx:
            ax.set_xscale("log")
            ax.set_xticks(x, [f"{v:g}" for v in x])
            ax.minorticks_off()
    ax2.set_title(f"mean ± std over {len(gain)} seeds", fontsize=9)
    fig.tight_layout()
    return fig


def plot_tradeoff(results, highlight=None):
    """L2-SP: new-task training loss against distance from the pretrained weights, one point per λ.

    Used in notebook 02, section 7.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    d = [r.distance for r in results]
    loss = [r.train_loss for r in results]
    ax.plot(d, loss, "-o")
    for r in results:
        ax.annotate(f"λ={r.lam:g}", (r.distance, r.train_loss), textcoords="offset points",
                    xytext=(5, 5), fontsize=8)
    if highlight is not None:
        ax.plot([highlight.distance], [highlight.train_loss], "r*", markersize=14,
                label=f"λ={highlight.lam:g}")
        ax.legend()
    ax.set_xlabel("‖w − w0‖ (distance from the pretrained weights)")
    ax.set_ylabel("new-task training loss")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_gd(trajectories: Mapping[str, np.ndarray], curvature: float):
    """Gradient-descent iterates θ_t on ½ a θ² for several learning rates.

    Used in notebook 02, section 6.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for label, theta in trajectories.items():
        ax.plot(np.arange(len(theta)), theta, "-o", markersize=3, label=label)
    ax.axhline(0, color="grey", lw=1)
    ax.set_xlabel("step t")
    ax.set_ylabel("θ_t")
    ax.set_yscale("symlog", linthresh=1e-2)
    ax.set_title(f"f(θ) = ½·{curvature:g}·θ²: converges for η < {2 / curvature:g}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def filters_grid(kernel, ncols: int = 16):
    """First-layer filters [k, k, 3, n] as n small RGB images, each scaled to [0, 1].

    Used in notebook 03, section 3.
    """
    import matplotlib.pyplot as plt

    kernel = np.asarray(kernel)
    n = kernel.shape[-1]
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    # Room for the title above the rows: MobileNet 0.25 has 8 filters, one short row.
    fig, axes = plt.subplots(nrows, ncols, figsize=(max(ncols * 0.6, 4.0), nrows * 0.6 + 0.5), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            f = kernel[..., i]
            ax.imshow((f - f.min()) / (np.ptp(f) or 1.0), interpolation="nearest")
    fig.suptitle(f"{n} first-layer filters ({kernel.shape[0]}×{kernel.shape[1]}×{kernel.shape[2]})")
    fig.tight_layout()
    return fig


MAX_MATRIX_CLASSES = 30  # a confusion matrix drawn with more classes than this shows the most confused
MAX_FIGURE_INCHES = 14.0  # its side at most (1,400 px at 100 dpi): Binder's 2 GB survive 200 classes


def most_confused(cm, k: int = MAX_MATRIX_CLASSES) -> np.ndarray:
    """Indices (sorted) of the `k` classes with the most errors, as true or as predicted class."""
    cm = np.asarray(cm)
    errors = cm.sum(axis=0) + cm.sum(axis=1) - 2 * np.diag(cm)
    order = np.argsort(-errors, kind="stable")[:k]
    return np.sort(order)


def confusion_matrix(cm, class_names: Sequence[str], title: str = ""):
    """A confusion matrix with counts in the cells (rows: true class, columns: predicted).

    Past ``MAX_MATRIX_CLASSES`` classes only the most confused ones are drawn (``most_confused``;
    the title says so), in a figure of at most ``MAX_FIGURE_INCHES`` a side: a 200-class matrix
    would otherwise be a 14,000-pixel image of unreadable cells.

    Used in notebook 05, section 2 (and in notebook 08).
    """
    import matplotlib.pyplot as plt

    cm = np.asarray(cm)
    names = list(class_names)
    if len(names) > MAX_MATRIX_CLASSES:
        keep = most_confused(cm)
        title = (f"{title}\n" if title else "") + (f"the {len(keep)} most confused of {len(names)} classes "
                                                   "(the full matrix is in the report)")
        cm, names = cm[np.ix_(keep, keep)], [names[i] for i in keep]
    side = min(MAX_FIGURE_INCHES, 1.2 + 0.7 * len(names))
    font = 10 if len(names) <= 12 else 7 if len(names) <= 20 else 5
    fig, ax = plt.subplots(figsize=(side, side - 0.2))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=font)
    ax.set_yticks(range(len(names)), names, fontsize=font)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=font,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def roc_pr_curves(curves: Mapping[int, dict], class_names: Sequence[str]):
    """ROC (left) and precision-recall (right) curves, one per class (one-vs-rest).

    Used in notebook 05, section 2.
    """
    import matplotlib.pyplot as plt

    fig, (roc, pr) = plt.subplots(1, 2, figsize=(10, 3.8))
    for c, cv in curves.items():
        roc.plot(cv["fpr"], cv["tpr"], label=f"{class_names[c]} (AUC {cv['roc_auc']:.2f})")
        pr.plot(cv["recall"], cv["precision"], label=f"{class_names[c]} (AP {cv['average_precision']:.2f})")
    roc.plot([0, 1], [0, 1], "--", color="grey", lw=1)
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    pr.set(xlabel="recall", ylabel="precision", title="precision-recall")
    for ax in (roc, pr):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def reliability_diagram(bins: dict, ece: float):
    """Accuracy against confidence per bin; the diagonal is perfect calibration.

    Used in notebook 05, section 2.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4))
    edges = bins["edges"]
    centres = (edges[:-1] + edges[1:]) / 2
    acc = np.nan_to_num(np.asarray(bins["accuracy"], dtype=float))
    ax.bar(centres, acc, width=edges[1] - edges[0], edgecolor="black", alpha=0.7, label="accuracy")
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    ax.set(xlabel="confidence", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1),
           title=f"reliability (ECE = {ece:.3f})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def gradcam_overlay(images, heatmaps, titles: Sequence[str] | None = None):
    """Each image with its Grad-CAM heat map laid over it.

    Used in notebook 05, section 3.
    """
    import matplotlib.pyplot as plt

    n = len(images)
    fig, axes = plt.subplots(1, n, figsize=(2.4 * n, 2.6), squeeze=False)
    for k, ax in enumerate(axes[0]):
        ax.imshow(np.asarray(images[k]).astype(np.uint8))
        ax.imshow(heatmaps[k], cmap="jet", alpha=0.4)
        ax.axis("off")
        if titles is not None:
            ax.set_title(titles[k], fontsize=8)
    fig.tight_layout()
    return fig


def data_efficiency(curves: Mapping[str, Mapping[int, float]], caveat: str | None = None):
    """Test accuracy against training images per class, one line per method.

    Used in notebook 05, section 5.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.8))
    for method, points in curves.items():
        xs = sorted(points)
        ax.plot(xs, [points[x] for x in xs], "-o", label=method)
    ax.set_xscale("log")
    xs = sorted({x for p in curves.values() for x in p})
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.minorticks_off()
    ax.set(xlabel="training images per class", ylabel="test accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    _caveat(fig, caveat)
    return fig


def method_comparison(rows: Sequence[dict], caveat: str | None = None):
    """Test accuracy (mean ± std over repeats) of every method, as horizontal bars.

    Used in notebook 05, section 4.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.5 * len(rows) + 1))
    names = [r["name"] for r in rows]
    ax.barh(names, [r["accuracy_mean"] for r in rows], xerr=[r["accuracy_std"] for r in rows],
            capsize=3, color="tab:blue", alpha=0.8)
    ax.invert_yaxis()
    ax.set(xlabel="test accuracy (mean ± std over repeats)", xlim=(0, 1))
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    _caveat(fig, caveat)
    return fig


def multilabel_gallery(images, y_true, scores, class_names: Sequence[str], thresholds=0.5,
                       ncols: int = 4, size: float = 2.4, title: str | None = None,
                       caveat: str | None = None):
    """Images titled with all their true labels and the predicted ones with their scores.

    A title is green when the predicted set equals the true set, red otherwise; `thresholds`
    is one value or one per class (notebook 06, section 7).
    """
    import textwrap

    import matplotlib.pyplot as plt

    images, scores = np.asarray(images), np.asarray(scores, dtype=float)
    truth = np.asarray(y_true) == 1
    pred = scores >= np.broadcast_to(np.asarray(thresholds, dtype=float), scores.shape[1:])
    n = len(images)
    if n == 0:
        raise ValueError("multilabel_gallery needs at least one image.")
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    height = (size + 0.8) * nrows + 0.2  # room for three or four lines of title per image
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, height), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        ax.imshow(images[k].astype(np.uint8))
        named = sorted(np.flatnonzero(pred[k]), key=lambda c: -scores[k, c])
        true_text = ", ".join(class_names[c] for c in np.flatnonzero(truth[k]))
        pred_text = ", ".join(f"{class_names[c]} {scores[k, c]:.2f}" for c in named) or "(none)"
        colour = "green" if (pred[k] == truth[k]).all() else "red"
        text = textwrap.fill(f"true: {true_text}", 34) + "\n" + textwrap.fill(f"pred: {pred_text}", 34)
        ax.set_title(text, fontsize=7, color=colour)
    top = 1.0 - 0.3 / height * (bool(title) + bool(caveat))
    fig.tight_layout(rect=(0, 0, 1, top))
    if title:
        fig.suptitle(title, y=0.995, va="top")
    if caveat:
        fig.text(0.5, top, caveat, ha="center", va="bottom", color="red", fontsize=9)
    return fig
