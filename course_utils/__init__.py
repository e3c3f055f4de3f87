"""Helpers shared by the notebooks of the transfer-learning course.

The notebooks write out every Keras call they teach; this package carries the plumbing.
Importing it is cheap: TensorFlow is imported by the modules that need it, when they need it.
Nothing here prints or plots unless asked. Each module holds one concern; the ones a notebook
imports list their public names in ``__all__`` at their top.

For the notebooks (``from course_utils import ...``):

- ``runs``: ``runs.start(...)``, the one call that resolves a run (profile, data, backbone,
  weights, seed), prints its banner and says whether its numbers are real (03-08).
- ``profiles``: the run sizes ``smoke``, ``fast``, ``binder``, ``full`` and the choice of ``auto``.
- ``env``: versions, devices, GPU set-up, seeding, Colab/Binder detection (00).
- ``paths``: where downloads, weights and outputs live.
- ``backbones``: the registry (VGG16, ResNet50, MobileNet) and where ImageNet weights come from.
- ``data``: the datasets by name, any folder of class sub-folders, splits, tf.data.
- ``split_folders``: a split dataset written as folders ``image_dataset_from_directory`` reads.
- ``models``: the parts of a course model (``Chain``), heads, freezing, L2-SP.
- ``features``: convolutional features extracted once and cached on disk (03, 04).
- ``recipes``: each method of 03/04 as one function, for 05's repeated runs.
- ``evaluate``: test-split metrics, calibration, Grad-CAM, the results table (05, 08).
- ``claims``: learning claims judged on the run's numbers, or "not checked" with the reason.
- ``plots``: the figures; each function returns its Figure.
- ``losses``: NumPy reference implementations of notebook 02's formulas.
- ``transfer_lab``: notebook 01's small offline experiment on when transfer helps.
- ``widgets``: the ipywidgets front-ends of the experiments (01, 02, 08).
- ``checks``: the exercises' checkers (``checks.<NAME>.check(...)``).
- ``multilabel``, ``mosaics``: multi-label data, metrics and real-photo mosaics (06).
- ``compare``: the backbone comparison of 07 (speeds, table, figures).
- ``folder_report``: can a learner's folder of photos make a course run? (08).
- ``predict``: the top classes of image files from a saved model (08; also a command).

Internal (used by the modules above):

- ``downloads``: download, verify and extract, never leaving a partial file.
- ``integrity``: the one file digest, the first-seen checksum ledger, the ``.complete`` marker.
- ``errors``: the data errors, each naming the path and the fix.
- ``images``: decoding one image file (EXIF, modes, decompression bombs).
- ``folders``: scanning a folder of class sub-folders.
- ``splits``: deterministic train/validation/test splits, and ``Dataset``.
- ``generated``: the synthetic shapes dataset, generated offline.
- ``cifar10``, ``voc``: CIFAR-10 written out as class folders; Pascal VOC 2007 (06).
- ``pipeline``: the tf.data pipeline of a split.
- ``preview``: data previews (re-exported by ``plots``).
- ``checking``: the machinery behind ``checks``.
- ``training``: the training settings the methods share (learning rates, epochs, patience).
- ``network``: one cached probe of the internet.
- ``threads``: one BLAS thread for small NumPy problems.
- ``_quiet``: imports Keras without TensorFlow's C++ start-up lines.

Command line (``python -m course_utils.<module>``, or ``make``):

- ``run_course``: every notebook headless into outputs/ (``make course``).
- ``fetch``: download weights and datasets once (``make fetch``).
- ``kit``: an offline classroom kit (``make kit``; docs/teaching.md).
- ``notebook_setup``: writes and checks every notebook's set-up cell.
- ``predict``: see above.
"""

__version__ = "0.1.0"

# Where the course lives; the Colab set-up cell installs the package from this repository
# at the tag matching __version__.
REPO_URL = "https://github.com/tl-course/transfer-learning-keras"

# The first `import tensorflow` (a notebook's own `import keras` included) happens with
# TensorFlow's C++ start-up lines kept out of the notebook; TensorFlow itself is not imported here.
from . import _quiet  # noqa: E402

_quiet.install()
