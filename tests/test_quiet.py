"""TensorFlow's C++ start-up lines stay out of a notebook's stderr (they go to descriptor 2)."""

import os
import subprocess
import sys

import pytest

from conftest import ROOT


def test_writes_to_descriptor_2_are_dropped_inside_the_context_and_kept_after():
    code = ("import os; from course_utils import _quiet\n"
            "with _quiet.stderr_descriptor_silenced():\n    os.write(2, b'hidden\\n')\n"
            "os.write(2, b'shown\\n')\n")
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stderr
    assert err == "shown\n"


@pytest.mark.slow
def test_importing_the_model_helpers_prints_no_tensorflow_start_up_lines():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", "import course_utils.models, keras; print(keras.__version__)"],
                          capture_output=True, text=True, cwd=ROOT, env=env, check=True, timeout=300)
    assert done.stdout.strip().startswith("3.")
    assert "absl" not in done.stderr and "cuda" not in done.stderr.lower(), done.stderr


def _imports_of_first_course_utils_cell(name: str) -> str:
    """The import lines of a notebook's first cell that imports course_utils."""
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "from course_utils import" in c.source)
    return "\n".join(line for line in cell.source.splitlines() if line.startswith(("import ", "from ")))


def test_notebook_01s_imports_do_not_load_tensorflow():
    # 01 uses Keras in one cell only (the workflow's calls): its imports must not start TensorFlow.
    imports = _imports_of_first_course_utils_cell("01_concepts.ipynb")
    assert "course_utils" in imports
    code = f"import sys\n{imports}\nprint(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          check=True, timeout=300)
    assert done.stdout.strip() == "[]", f"01's imports loaded {done.stdout.strip()}:\n{imports}"


def test_the_numpy_only_helpers_do_not_load_tensorflow():
    code = ("import sys\nfrom course_utils import checks, losses, plots, profiles, transfer_lab, widgets\n"
            "print('tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          check=True, timeout=300)
    assert done.stdout.strip() == "False"


@pytest.mark.slow
def test_a_notebooks_own_import_keras_after_course_utils_is_quiet():
    # A learner's `import keras` in a cell of their own: course_utils' import hook silences it.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = ("import sys, course_utils\nassert 'tensorflow' not in sys.modules\n"
            "import keras, tensorflow as tf\ntf.config.list_physical_devices()\n"
            "print(keras.__version__, tf.constant(2.0).numpy())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env=env, check=True, timeout=300)
    assert done.stdout.split()[1] == "2.0"
    assert done.stderr == "", done.stderr


@pytest.mark.slow
def test_without_the_hook_the_same_import_is_noisy():
    # The check above can fail: the same import without course_utils writes TensorFlow's lines.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", "import keras"], capture_output=True, text=True,
                          cwd=ROOT, env=env, check=True, timeout=300)
    if not done.stderr:
        pytest.skip("this TensorFlow build writes nothing at start-up: nothing to silence here")
    assert "absl" in done.stderr or "cuda" in done.stderr.lower() or "cpu_feature" in done.stderr
