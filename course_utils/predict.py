"""Predicting with a saved model: the top classes of any image file, in Python or from a shell.

    python -m course_utils.predict MODEL.keras IMAGE [IMAGE ...] [--top K]

prints, for each image, its K most probable classes with their probabilities. The model is a
``.keras`` file whose first layer takes raw [0, 255] RGB images (the course's models carry the
backbone's preprocessing inside them, notebook 03, section 2). Its **class names travel in a
JSON file beside it**, ``<name>.classes.json`` (``{"class_names": [...]}``, in the order of
the model's outputs: the order of the class folders), written by notebook 08, section 7. A
sidecar rather than the model's own config: it is readable without TensorFlow, editable by
hand, and any Keras model can be given one.

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


class ModelFileError(RuntimeError):
    """A model path that cannot be used: missing, not a .keras file, unreadable, no class names."""


def classes_path(model_path: Path | str) -> Path:
    """The class-names file beside a model: ``flowers.keras`` -> ``flowers.classes.json``."""
    p = Path(model_path)
    return p.with_name(p.stem + CLASSES_SUFFIX)


def write_class_names(model_path: Path | str, class_names: Sequence[str]) -> Path:
    """Write the class names beside the model (notebook 08 writes the same file by hand)."""
    path = classes_path(model_path)
    path.write_text(json.dumps({"class_names": list(class_names)}, indent=1) + "\n")
    return path


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


def load(model_path: Path | str):
    """(model, class names) of a ``.keras`` file; ModelFileError names what is wrong."""
    path = Path(model_path).expanduser()
    if not path.exists():
        raise ModelFileError(f"model file not found: {path}")
    if path.is_dir() or path.suffix != ".keras":
        raise ModelFileError(f"{path} is not a .keras model file: save one with model.save('name.keras')")
    names = read_class_names(path)
    from . import models  # noqa: F401  (registers the course's Preprocess layer for loading)
    from ._quiet import keras as _load_keras

    keras = _load_keras()
    try:
        model = keras.models.load_model(path)
    except Exception as err:  # a corrupt or foreign file: Keras raises many kinds
        raise ModelFileError(f"{path} could not be loaded as a Keras model ({type(err).__name__}: "
                             f"{str(err).splitlines()[0] if str(err) else ''})") from None
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
    """The image beside a bar chart of its top classes (built, not shown: display it yourself)."""
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
                                     description="Top classes of image files, from a .keras model "
                                                 "with its <name>.classes.json beside it.")
    parser.add_argument("model", help="the .keras model file")
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
