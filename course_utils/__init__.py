"""Helpers shared by the notebooks of the transfer-learning course.

One module per concern: ``env`` (versions, devices, GPU set-up), ``profiles`` (run sizes),
``data`` (datasets, splits, tf.data pipelines), ``models`` (VGG16 base, heads, freezing),
``plots`` (figures). Importing the package is cheap: TensorFlow is imported by the modules
that need it, when they need it. Nothing here prints or plots unless asked.

``data`` is the public face of the data modules, one concern each: ``images`` (decoding
one file: EXIF, modes, bombs), ``folders`` (scanning a folder), ``splits`` (deterministic
splits, ``Dataset``), ``generated`` (the shapes dataset), ``downloads`` (download, verify,
extract), ``pipeline`` (tf.data) and ``errors``.
"""

__version__ = "0.1.0"

# Where the course lives; the Colab set-up cell installs the package from this repository
# at the tag matching __version__.
REPO_URL = "https://github.com/tl-course/transfer-learning-keras"

# The first `import tensorflow` (a notebook's own `import keras` included) happens with
# TensorFlow's C++ start-up lines kept out of the notebook; TensorFlow itself is not imported here.
from . import _quiet  # noqa: E402

_quiet.install()
