"""Predicting with a saved model: the top classes of any image file, in Python or from a shell.

    python -m course_utils.predict MODEL IMAGE [IMAGE ...] [--top K]

prints, for each image, its K most probable classes with their probabilities. MODEL is any of
the three forms notebook 08, section 9 exports: a ``.keras`` file (``model.save``), a SavedModel
folder (``model.export``; the course names it ``<name>.savedmodel``) or a ``.tflite`` file
(TensorFlow Lite, converted from that SavedModel). The model takes raw [0, 255] RGB images: the
course's models carry the backbone's preprocessing inside them, in Keras' own layers (notebook 03,
section 2). Its **class names travel in a JSON file beside it**, ``<name>.classes.json``
(``{"class_names": [...]}``, in the order of the model's outputs: the order of the class folders),
written by notebook 08; the three forms of one model share it (``x.keras``, ``x.savedmodel/``
and ``x.tflite`` all read ``x.classes.json``). A sidecar rather than the model's own config: it
is readable without TensorFlow, editable by hand, and any model can be given one.
When the class-names file also records ``"model_sha256"`` (the ``.keras`` file's SHA-256; notebook
08 and ``write_class_names`` write it), a class-names file copied from another export, even one
with as many classes, is refused instead of printing wrong names. A model that does not take RGB
images (a head trained on features) is refused.

Images are read like the training images were (``images.load_image``: turned upright by their
EXIF orientation, converted to RGB, resized bilinearly to the model's input). A file that
cannot be read is reported on one line and the others are still predicted; the exit status is
1 when any image failed, 2 when the model cannot be used, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import DatasetError
from .images import load_image

__all__ = [
    "CLASSES_SUFFIX", "classes_path", "figure", "format_top", "input_size", "load", "main",
    "ModelFileError", "predict_file", "read_class_names", "top_k", "write_class_names",
]

CLASSES_SUFFIX = ".classes.json"


FORMATS = "a .keras file, a SavedModel folder (model.export) or a .tflite file"


class ModelFileError(RuntimeError):
    """A model path that cannot be used: missing, not a model file, unreadable, no class names."""


def classes_path(model_path: Path | str) -> Path:
    """The class-names file beside a model: ``flowers.keras``, ``flowers.savedmodel/`` and
    ``flowers.tflite`` -> ``flowers.classes.json``.

    Used in notebook 08, section 9.
    """
    p = Path(model_path)
    return p.with_name(p.stem + CLASSES_SUFFIX)


def write_class_names(model_path: Path | str, class_names: Sequence[str]) -> Path:
    """Write the class names (and the model file's digest) beside the saved model (as notebook 08 does)."""
    from .downloads import file_digest
    from .storage import write_text

    path = classes_path(model_path)
    write_text(path, json.dumps({"class_names": list(class_names), "model_sha256": file_digest(model_path)},
                                indent=1) + "\n")
    return path


def _recorded_model(model_path: Path) -> str | None:
    try:
        value = json.loads(classes_path(model_path).read_text()).get("model_sha256")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def read_class_names(model_path: Path | str) -> list[str]:
    """The class names stored beside the model; ModelFileError when absent or malformed."""
    path = classes_path(model_path)
    try:
        names = json.loads(path.read_text())["class_names"]
    except FileNotFoundError:
        raise ModelFileError(f"no class names beside the model: {path} is missing (write it as notebook 08, "
                             "section 7 does: {\"class_names\": [...]} in the model's output order)") from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelFileError(f"{path} is not a class-names file ({type(err).__name__}: {err})") from None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ModelFileError(f"{path}: 'class_names' must be a list of strings")
    return names


class SavedModelPredictor:
    """A SavedModel folder written by ``model.export``, with the ``predict``/``input_shape``/
    ``output_shape`` this module uses from a Keras model (its serving signature: one input, one output)."""

    def __init__(self, path: Path):
        from ._quiet import keras as _load_keras

        _load_keras()  # TensorFlow's start-up lines kept quiet
        import tensorflow as tf

        self._fn = tf.saved_model.load(str(path)).signatures["serving_default"]
        (self._input, spec), = self._fn.structured_input_signature[1].items()
        (self._output, out), = self._fn.structured_outputs.items()
        self.input_shape, self.output_shape = tuple(spec.shape), tuple(out.shape)

    def predict(self, x, verbose=0):
        return self._fn(**{self._input: np.asarray(x, "float32")})[self._output].numpy()


def tflite_interpreter(path: Path | str):
    """A TensorFlow Lite interpreter on `path`, tensors allocated: LiteRT's (``ai_edge_litert``,
    its successor) when installed, else ``tf.lite.Interpreter`` (deprecated in TF 2.20+, its
    warning silenced). Built-in kernels without the default XNNPACK delegate: the same results,
    and no "Created TensorFlow Lite XNNPACK delegate" line on stderr (notebook 08, section 9)."""
    try:
        from ai_edge_litert import interpreter as lite
    except ImportError:
        import warnings

        from ._quiet import keras as _load_keras

        _load_keras()
        import tensorflow as tf

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            interpreter = tf.lite.Interpreter(
                model_path=str(path),
                experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    else:
        interpreter = lite.Interpreter(
            model_path=str(path), experimental_op_resolver_type=lite.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    return interpreter


class TFLitePredictor:
    """A ``.tflite`` file, with the ``predict``/``input_shape``/``output_shape`` of a Keras model.

    The converted model takes one image per call (batch 1): ``predict`` runs them one by one.
    """

    def __init__(self, path: Path):
        self._it = tflite_interpreter(path)
        self._in, = self._it.get_input_details()
        self._out, = self._it.get_output_details()
        self.input_shape = (None, *map(int, self._in["shape"][1:]))
        self.output_shape = (None, *map(int, self._out["shape"][1:]))

    def predict(self, x, verbose=0):
        rows = []
        for image in np.asarray(x, "float32"):
            self._it.set_tensor(self._in["index"], image[None].astype(self._in["dtype"]))
            self._it.invoke()
            rows.append(self._it.get_tensor(self._out["index"])[0].copy())
        return np.stack(rows)


def model_format(path: Path) -> str | None:
    """"keras", "savedmodel" or "tflite" from the path's form; None for anything else."""
    if path.is_dir():
        return "savedmodel" if (path / "saved_model.pb").is_file() else None
    return {".keras": "keras", ".tflite": "tflite"}.get(path.suffix.lower())


def load(model_path: Path | str):
    """(model, class names) of a .keras file, SavedModel folder or .tflite file; ModelFileError
    names what is wrong. For the last two, `model` is a small predictor with ``predict``."""
    path = Path(model_path).expanduser()
    if not path.exists():
        raise ModelFileError(f"model file not found: {path}")
    kind = model_format(path)
    if kind is None:
        raise ModelFileError(f"{path} is not a model this command reads: give it {FORMATS} "
                             "(save one with model.save('name.keras'), notebook 08, section 9)")
    names = read_class_names(path)
    recorded = _recorded_model(path)
    if recorded is not None and kind == "keras":  # the digest is the .keras file's; the other forms share the names
        from .downloads import file_digest

        if file_digest(path) != recorded:
            raise ModelFileError(f"{classes_path(path).name} was written for another model file (the model digest "
                                 f"it records is not {path.name}'s): use the class-names file exported with this "
                                 "model, or save the model and its class names again (notebook 08, section 9)")
    try:
        if kind == "keras":
            from . import models  # noqa: F401  (registers the course's former Preprocess layer: older models load)
            from ._quiet import keras as _load_keras

            model = _load_keras().models.load_model(path)
        elif kind == "savedmodel":
            model = SavedModelPredictor(path)
        else:
            model = TFLitePredictor(path)
    except Exception as err:  # a corrupt or foreign file: Keras/TensorFlow raise many kinds
        what = {"keras": "Keras model", "savedmodel": "SavedModel", "tflite": "TensorFlow Lite model"}[kind]
        raise ModelFileError(f"{path} could not be loaded as a {what} ({type(err).__name__}: "
                             f"{str(err).splitlines()[0] if str(err) else ''})") from None
    shape = model.input_shape
    if not isinstance(shape, tuple) or len(shape) != 4 or shape[-1] != 3:
        raise ModelFileError(f"{path.name} takes inputs of shape {shape}, not images [height, width, 3]: it is "
                             "a head trained on features (like 03_head_gap.keras) or not an image model. Predict "
                             "with a model that takes images, e.g. 08_your_own_images.keras")
    outputs = model.output_shape[-1]
    if outputs != len(names):
        raise ModelFileError(f"{classes_path(path).name} names {len(names)} classes but the model has "
                             f"{outputs} outputs")
    return model, names


def input_size(model) -> tuple[int, int]:
    """(height, width) the model takes; 224 x 224 when its input accepts any size."""
    h, w = model.input_shape[1:3]
    return (h or 224, w or 224)


def top_k(probabilities, class_names: Sequence[str], k: int = 3) -> list[tuple[str, float]]:
    """The k most probable classes, most probable first, as (name, probability)."""
    p = np.asarray(probabilities, dtype=float).ravel()
    order = np.argsort(-p, kind="stable")[: max(1, min(k, len(p)))]
    return [(class_names[i], float(p[i])) for i in order]


def predict_file(model, class_names: Sequence[str], path: Path | str, k: int = 3) -> list[tuple[str, float]]:
    """Top-k of one image file; ImageError (a DatasetError) when the file cannot be read."""
    x = load_image(path, input_size(model)).astype("float32")[None]
    return top_k(model.predict(x, verbose=0)[0], class_names, k)


def format_top(top: list[tuple[str, float]]) -> str:
    return ", ".join(f"{name} {p:.3f}" for name, p in top)


def figure(image, top: list[tuple[str, float]], title: str = ""):
    """The image beside a bar chart of its top classes (built, not shown: display it yourself).

    Used in notebook 08, section 7.
    """
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(7, 2.8), gridspec_kw={"width_ratios": [1, 1.3]})
    left.imshow(np.asarray(image).astype("uint8"))
    left.set_axis_off()
    left.set_title(title[:40], fontsize=9)
    names = [n for n, _ in top][::-1]
    right.barh(names, [p for _, p in top][::-1], color="tab:blue")
    right.set_xlim(0, 1)
    right.set_xlabel("probability")
    for i, (_, p) in enumerate(top[::-1]):
        right.text(min(p + 0.02, 0.85), i, f"{p:.2f}", va="center", fontsize=8)
    fig.tight_layout()
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.predict",
                                     description="Top classes of image files, from a model (.keras, "
                                                 "SavedModel folder or .tflite) with its <name>.classes.json beside it.")
    parser.add_argument("model", help=f"the model: {FORMATS}")
    parser.add_argument("images", nargs="+", help="image files (JPEG, PNG, ...)")
    parser.add_argument("--top", type=int, default=3, metavar="K", help="classes shown per image (default 3)")
    args = parser.parse_args(argv)
    if args.top < 1:
        parser.error("--top must be at least 1")
    try:
        model, names = load(args.model)
    except ModelFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    failed = 0
    for image in args.images:
        try:
            top = predict_file(model, names, image, args.top)
        except (DatasetError, OSError) as err:  # ImageError says which file and why
            failed += 1
            print(f"error: {image}: {getattr(err, 'reason', err)}", file=sys.stderr)
            continue
        print(f"{image}: {format_top(top)}")
    if failed:
        print(f"{failed} of {len(args.images)} image(s) could not be read", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
