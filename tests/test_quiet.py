"""TensorFlow's C++ start-up lines stay out of a notebook's stderr (they go to descriptor 2)."""

import os
import subprocess
import sys

from conftest import ROOT


def test_writes_to_descriptor_2_are_dropped_inside_the_context_and_kept_after():
    code = ("import os; from course_utils import _quiet\n"
            "with _quiet.stderr_descriptor_silenced():\n    os.write(2, b'hidden\\n')\n"
            "os.write(2, b'shown\\n')\n")
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stderr
    assert err == "shown\n"


def test_importing_the_model_helpers_prints_no_tensorflow_start_up_lines():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", "import course_utils.models, keras; print(keras.__version__)"],
                          capture_output=True, text=True, cwd=ROOT, env=env, check=True, timeout=300)
    assert done.stdout.strip().startswith("3.")
    assert "absl" not in done.stderr and "cuda" not in done.stderr.lower(), done.stderr
