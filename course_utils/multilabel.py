"""Multi-label data and metrics: multi-hot targets, per-class AP and mAP, thresholds, F1.

An image may hold several classes at once (a person on a horse). Its target is a
**multi-hot** vector: one 0/1 entry per class. Notebook 06 teaches the model (sigmoid outputs
and binary cross-entropy) inline; this module holds what it measures with:

- ``MultiLabelData``: images and multi-hot targets per split (built by ``mosaics.build`` from
  any single-label folder, or by ``voc.load`` from Pascal VOC 2007);
- ``average_precision`` / ``mean_average_precision``: scikit-learn's
  ``average_precision_score`` per class, and their mean (mAP). A target of -1 marks "ignore
  this image for this class" (VOC's *difficult*-only objects) and is left out of that class;
- ``choose_thresholds``: one threshold per class, chosen on the **validation** split
  (never on test) to maximise that class's F1;
- ``f1_at`` and ``labels_recovered``: F1 at given thresholds, and how many of the true labels of
  images with two or more labels a model names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "ROLES", "average_precision", "choose_thresholds", "f1_at", "labels_recovered",
    "mean_average_precision", "MultiLabelData", "predict_labels", "top_k_labels",
]

ROLES = ("train", "val", "test")


@dataclass
class MultiLabelData:
    """Images (uint8 [n, s, s, 3]) and multi-hot targets (float32 [n, K]) for each split."""

    name: str
    class_names: list[str]
    images: dict[str, np.ndarray]
    targets: dict[str, np.ndarray]
    sources: dict[str, list] = field(default_factory=dict)  # what each image was made from
    note: str = ""  # how the data was made, for the summary

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def frequencies(self, role: str = "train") -> np.ndarray:
        """The fraction of images of `role` that carry each label."""
        return (self.targets[role] == 1).mean(axis=0)

    def label_counts(self, role: str = "train") -> np.ndarray:
        """How many images of `role` carry 0, 1, 2, ... labels (index = number of labels)."""
        per_image = (self.targets[role] == 1).sum(axis=1).astype(int)
        return np.bincount(per_image, minlength=self.num_classes + 1)

    def summary(self) -> str:
        """Sizes, labels per image and label frequencies of every split."""
        lines = [f"multi-label data {self.name!r}: {self.num_classes} classes ({', '.join(self.class_names)})"]
        if self.note:
            lines.append(self.note)
        for role in ROLES:
            counts = self.label_counts(role)
            spread = ", ".join(f"{k} label{'s' * (k != 1)}: {c}" for k, c in enumerate(counts) if c)
            lines.append(f"{role:>5}: {len(self.targets[role]):5d} images {self.images[role].shape[1:3]} px; {spread}")
        return "\n".join(lines)


def _as_arrays(y_true, scores) -> tuple[np.ndarray, np.ndarray]:
    y, s = np.asarray(y_true, dtype=float), np.asarray(scores, dtype=float)
    if y.ndim != 2 or y.shape != s.shape:
        raise ValueError(f"targets {y.shape} and scores {s.shape} must both be [images, classes].")
    return y, s


def average_precision(y_true, scores) -> np.ndarray:
    """Per-class average precision (scikit-learn); NaN for a class with no positive image.

    Entries of `y_true` equal to -1 are left out of their class (ignored, not negatives).

    Used in notebook 06, section 5.
    """
    from sklearn.metrics import average_precision_score

    y, s = _as_arrays(y_true, scores)
    out = np.full(y.shape[1], np.nan)
    for k in range(y.shape[1]):
        keep = y[:, k] >= 0
        positives = y[keep, k] == 1
        if positives.any():
            out[k] = average_precision_score(positives.astype(int), s[keep, k])
    return out


def mean_average_precision(y_true, scores) -> float:
    """mAP: the mean of the per-class APs over the classes that have a positive image."""
    ap = average_precision(y_true, scores)
    if np.isnan(ap).all():
        raise ValueError("No class has a positive image: mAP is undefined. Use a larger split.")
    return float(np.nanmean(ap))


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denom = 2 * tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def choose_thresholds(y_val, scores_val, default: float = 0.5) -> np.ndarray:
    """One threshold per class maximising its F1 on the validation split (predict: score >= t).

    A class with no positive validation image keeps `default`. Among equally good thresholds
    the one halfway to the next lower score is taken, so a test score just below a validation
    score is not decided by rounding.

    Used in notebook 06, section 6.
    """
    y, s = _as_arrays(y_val, scores_val)
    thresholds = np.full(y.shape[1], float(default))
    for k in range(y.shape[1]):
        keep = y[:, k] >= 0
        truth, score = y[keep, k] == 1, s[keep, k]
        if not truth.any():
            continue
        order = np.argsort(-score, kind="stable")
        truth, score = truth[order], score[order]
        tp = np.cumsum(truth)
        fp = np.cumsum(~truth)
        fn = truth.sum() - tp
        f1 = _f1(tp, fp, fn)
        # Only the last of equal scores is a valid cut (all of them are predicted together).
        last = np.r_[score[1:] != score[:-1], True]
        best = int(np.flatnonzero(last)[np.argmax(f1[last])])
        below = score[best + 1] if best + 1 < len(score) else score[best] - 1e-3
        thresholds[k] = float((score[best] + below) / 2)
    return thresholds


def predict_labels(scores, thresholds: float | Sequence[float] = 0.5) -> np.ndarray:
    """0/1 predictions: score >= threshold (one for all classes, or one per class).

    Used in notebook 06, section 2.
    """
    s = np.asarray(scores, dtype=float)
    return (s >= np.broadcast_to(np.asarray(thresholds, dtype=float), s.shape[1:])).astype(int)


def f1_at(y_true, scores, thresholds: float | Sequence[float] = 0.5) -> dict:
    """Micro F1, macro F1 and per-class F1 of the predictions score >= threshold.

    Used in notebook 06, section 5.
    """
    y, s = _as_arrays(y_true, scores)
    pred = predict_labels(s, thresholds) == 1
    keep = y >= 0
    truth = y == 1
    tp = (pred & truth & keep).sum(axis=0)
    fp = (pred & ~truth & keep).sum(axis=0)
    fn = (~pred & truth & keep).sum(axis=0)
    per_class = _f1(tp, fp, fn)
    micro = float(_f1(np.array(tp.sum()), np.array(fp.sum()), np.array(fn.sum())))
    return {"micro": micro, "macro": float(per_class.mean()), "per_class": per_class}


def labels_recovered(y_true, predicted, min_labels: int = 2) -> tuple[float, int]:
    """(fraction of the true labels named, number of images) over images with >= min_labels labels.

    `predicted` is 0/1 per class (``predict_labels``); a label counts as recovered when the
    model names it.

    Used in notebook 06, section 5.
    """
    truth = np.asarray(y_true) == 1
    pred = np.asarray(predicted) == 1
    many = truth.sum(axis=1) >= min_labels
    if not many.any():
        return float("nan"), 0
    return float((truth[many] & pred[many]).sum() / truth[many].sum()), int(many.sum())


def top_k_labels(scores, k: Sequence[int] | np.ndarray) -> np.ndarray:
    """0/1 predictions naming each image's k[i] highest-scoring classes (k given per image).

    Used in notebook 06, section 5.
    """
    s = np.asarray(scores, dtype=float)
    order = np.argsort(-s, axis=1, kind="stable")
    pred = np.zeros(s.shape, dtype=int)
    for i, ki in enumerate(np.asarray(k, dtype=int)):
        pred[i, order[i, :ki]] = 1
    return pred
