"""Evaluation on the held-out test split: metrics, calibration, curves, Grad-CAM, results files."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._quiet import keras as _load_keras

__all__ = [
    "RESULTS_SCHEMA", "curves", "pooled", "probe", "expected_calibration_error", "grad_cam", "grad_cam_model",
    "reliability_bins", "Report", "report", "results_markdown", "write_results",
]

keras = _load_keras()  # TensorFlow's C++ start-up lines kept out of notebooks

RESULTS_SCHEMA = 2  # 2: method rows carry an identifier (method) and the run's backbone, dataset


@dataclass
class Report:
    """Metrics of one model on one split."""

    accuracy: float
    precision: float  # macro average
    recall: float
    f1: float
    ece: float
    confusion: np.ndarray
    per_class: dict  # sklearn's classification_report as a dict


@dataclass(frozen=True)
class Probe:
    """A linear probe's result on an evaluation split."""

    accuracy: float
    correct: np.ndarray  # per-image correctness (bool), for paired claims


def pooled(features: np.ndarray) -> np.ndarray:
    """Feature maps (n, h, w, c) averaged over their positions: (n, c). Vectors pass unchanged."""
    x = np.asarray(features, dtype=np.float32)
    return x.reshape(len(x), -1, x.shape[-1]).mean(axis=1) if x.ndim > 2 else x


def probe(x_train, y_train, x_eval, y_eval, *, C: float = 1.0) -> Probe:
    """A logistic regression (scikit-learn) on globally pooled features: the sanity bar of a head.

    The same features and splits as the Keras head beside it; a head well below it was trained
    badly (too few steps, a wrong learning rate), not limited by the features. Shown in
    notebook 03, section 7.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    model.fit(pooled(x_train), np.asarray(y_train))
    correct = model.predict(pooled(x_eval)) == np.asarray(y_eval)
    return Probe(float(correct.mean()), correct)


def reliability_bins(y_true, proba, n_bins: int = 10) -> dict:
    """Per-bin mean confidence, accuracy and count over equal-width confidence bins.

    Confidence is the top predicted probability; bins are (lo, hi], the first one [0, hi].

    Used in notebook 05, section 2.
    """
    proba = np.asarray(proba, dtype=np.float64)
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == np.asarray(y_true)).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    out = {"edges": edges, "confidence": [], "accuracy": [], "count": []}
    for b in range(n_bins):
        mask = bins == b
        out["count"].append(int(mask.sum()))
        out["confidence"].append(float(confidence[mask].mean()) if mask.any() else np.nan)
        out["accuracy"].append(float(correct[mask].mean()) if mask.any() else np.nan)
    return out


def expected_calibration_error(y_true, proba, n_bins: int = 10) -> float:
    """ECE = Σ_b (n_b / n) |accuracy_b − confidence_b| over the reliability bins."""
    bins = reliability_bins(y_true, proba, n_bins)
    n = sum(bins["count"])
    return float(sum(c / n * abs(a - f) for c, a, f in zip(bins["count"], bins["accuracy"],
                                                         bins["confidence"]) if c))


def report(y_true, proba, class_names: Sequence[str], n_bins: int = 10) -> Report:
    """Accuracy, macro precision/recall/F1, ECE, confusion matrix and per-class report.

    Used in notebook 05, section 1 (and in notebook 08).
    """
    from sklearn import metrics

    y_true = np.asarray(y_true)
    y_pred = np.asarray(proba).argmax(axis=1)
    labels = list(range(len(class_names)))
    p, r, f, _ = metrics.precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                         average="macro", zero_division=0)
    return Report(
        accuracy=float(metrics.accuracy_score(y_true, y_pred)),
        precision=float(p), recall=float(r), f1=float(f),
        ece=expected_calibration_error(y_true, proba, n_bins),
        confusion=metrics.confusion_matrix(y_true, y_pred, labels=labels),
        per_class=metrics.classification_report(y_true, y_pred, labels=labels, target_names=list(class_names),
                                                output_dict=True, zero_division=0),
    )


def curves(y_true, proba) -> dict:
    """ROC and precision-recall curves, one-vs-rest per class (one curve when binary).

    Used in notebook 05, section 2.
    """
    from sklearn import metrics

    y_true = np.asarray(y_true)
    proba = np.asarray(proba)
    k = proba.shape[1]
    classes = [1] if k == 2 else list(range(k))
    out = {}
    for c in classes:
        positive = (y_true == c).astype(int)
        if positive.min() == positive.max():  # one class absent: no curve
            continue
        fpr, tpr, _ = metrics.roc_curve(positive, proba[:, c])
        prec, rec, _ = metrics.precision_recall_curve(positive, proba[:, c])
        out[c] = {"fpr": fpr, "tpr": tpr, "roc_auc": float(metrics.auc(fpr, tpr)),
                  "precision": prec, "recall": rec,
                  "average_precision": float(metrics.average_precision_score(positive, proba[:, c]))}
    return out


# --------------------------------------------------------------------------- Grad-CAM


class _ScoresBeforeActivation(keras.layers.Layer):
    """A Dense layer's output *before* its activation: the class scores (logits) a softmax turns
    into probabilities. Shares the Dense layer's weights (keras.io's Grad-CAM example sets
    ``model.layers[-1].activation = None`` instead, which would change the course's model)."""

    def __init__(self, dense, **kwargs):
        super().__init__(**kwargs)
        self.dense = dense

    def call(self, x):
        z = keras.ops.matmul(keras.ops.cast(x, self.dense.kernel.dtype), self.dense.kernel)
        return z + self.dense.bias if self.dense.use_bias else z


def _class_scores(head, x):
    """The head applied to `x` in inference mode, stopped before its last activation."""
    layers = list(head.layers) if isinstance(head, keras.Sequential) else [head]
    # By position, deliberately: a head's classifier is its last layer whatever its name (03's "predictions",
    # a learner's "dense_3"); it is checked to be a Dense layer below. Base layers are chosen by name.
    for layer in layers[:-1]:
        x = layer(x, training=False)
    last = layers[-1]
    if not isinstance(last, keras.layers.Dense):
        raise TypeError(f"Grad-CAM needs a head that ends in a Dense layer; {head.name!r} ends in "
                         f"{type(last).__name__} {last.name!r}. Build the head as notebook 03, section 4 does.")
    return _ScoresBeforeActivation(last, name="class_scores")(x)


def grad_cam_model(chain, last_conv: str):
    """A model image -> (last conv layer's maps, class scores before the softmax, probabilities).

    No augmentation, the base and the head in inference mode. `chain` is a ``models.Chain``
    (its parts by attribute); `last_conv` the backbone's ``last_conv`` layer from the registry.
    Used in notebook 05, section 3.
    """
    inner = keras.Model(chain.base.inputs, [chain.base.get_layer(last_conv).output, chain.base.output])
    inputs = keras.Input(chain.model.input_shape[1:])
    x = chain.preprocess(inputs) if chain.preprocess is not None else inputs
    conv_out, features = inner(x, training=False)
    return keras.Model(inputs, [conv_out, _class_scores(chain.head, features), chain.head(features, training=False)])


def grad_cam(cam_model, images, class_index: int | Sequence[int] | None = None) -> np.ndarray:
    """Grad-CAM heat maps [n, h, w] in [0, 1], at the input's resolution (notebook 05, section 3).

    As Selvaraju et al. (2017) define it: the class score y_c is taken *before* the softmax
    (a probability's gradient also carries every other class's score). Weights of each
    feature map A_k = the spatial mean of dy_c/dA_k; the map is the ReLU of Σ_k weight_k A_k,
    scaled to [0, 1] per image (all zeros when nothing is positive). The class is the
    predicted one unless `class_index` names it. `cam_model` comes from ``grad_cam_model``.
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(np.asarray(images, dtype="float32"))
    with tf.GradientTape() as tape:
        conv, scores, _ = cam_model(x, training=False)
        idx = np.asarray(scores).argmax(axis=1) if class_index is None else np.broadcast_to(class_index, (len(x),))
        score = tf.reduce_sum(tf.gather(scores, idx, axis=1, batch_dims=1))
    grads = tape.gradient(score, conv)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * conv, axis=-1))
    cam = tf.image.resize(cam[..., None], x.shape[1:3])[..., 0].numpy()
    peak = cam.reshape(len(cam), -1).max(axis=1)
    return np.where(peak[:, None, None] > 0, cam / np.maximum(peak[:, None, None], 1e-12), 0.0)


# --------------------------------------------------------------------------- results files


def write_results(results: dict, out_dir: Path | str) -> tuple[Path, Path]:
    """Write results.json (schema RESULTS_SCHEMA) and results.md; returns both paths.

    `results` holds: profile (name), meaningful (bool), methods (list of rows with method
    (an identifier), name (its label), accuracy_mean, accuracy_std, f1_mean, train_seconds_mean, repeats), data_efficiency
    ({method: {images_per_class: accuracy}}), claims (summary string).

    Used in notebook 05, section 6.
    """
    required = {"profile", "meaningful", "methods", "data_efficiency", "claims"}
    missing = required - set(results)
    if missing:
        raise ValueError(f"results lack {sorted(missing)}")
    row_keys = ("method", "name", "accuracy_mean", "accuracy_std", "f1_mean", "train_seconds_mean", "repeats")
    for row in results["methods"]:
        if set(row_keys) - set(row):
            raise ValueError(f"method row {row} lacks {sorted(set(row_keys) - set(row))}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {"schema": RESULTS_SCHEMA, **results}
    json_path = out_dir / "results.json"
    json_path.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    md_path = out_dir / "results.md"
    md_path.write_text(results_markdown(payload))
    return json_path, md_path


def results_markdown(results: dict) -> str:
    """The headline table (and the data-efficiency table) as Markdown."""
    about = ", ".join(f"{k} {results[k]}" for k in ("backbone", "dataset") if k in results)
    lines = [f"# Results (profile {results['profile']}{', ' + about if about else ''})", ""]
    if not results["meaningful"]:
        lines += ["**Random weights: these numbers check that the code runs; they are not results.**", ""]
    lines += ["| method | test accuracy | macro F1 | training time (s) | repeats |", "|---|---|---|---|---|"]
    for r in results["methods"]:
        lines.append(f"| {r['name']} | {r['accuracy_mean']:.3f} ± {r['accuracy_std']:.3f} | {r['f1_mean']:.3f} "
                     f"| {r['train_seconds_mean']:.1f} | {r['repeats']} |")
    eff = results["data_efficiency"]
    if eff:
        counts = sorted({int(c) for curve in eff.values() for c in curve})
        lines += ["", "| images per class | " + " | ".join(eff) + " |", "|---" * (len(eff) + 1) + "|"]
        for c in counts:
            cells = [f"{eff[m].get(c, eff[m].get(str(c), float('nan'))):.3f}" for m in eff]
            lines.append(f"| {c} | " + " | ".join(cells) + " |")
    lines += ["", results["claims"], ""]
    return "\n".join(lines)
