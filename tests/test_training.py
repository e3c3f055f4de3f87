"""The training settings are written once (course_utils/training.py) and the notebooks say the same.

Notebooks write the numbers out in their Keras calls, where a learner reads them; recipes (notebook
05's repeats) import them. A notebook that changes one without training.py fails here.
"""

import json
import re

from conftest import NOTEBOOKS
from course_utils import recipes, training

NUMBER = r"([0-9][0-9.]*(?:e-?[0-9]+)?)"


def _code(prefix):
    path = next(p for p in NOTEBOOKS if p.name.startswith(prefix))
    return "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")


def _numbers(pattern, code):
    found = {float(n) for n in re.findall(pattern.replace("NUMBER", NUMBER), code)}
    assert found, f"pattern {pattern!r} not found: the notebook changed; update this test and training.py together"
    return found


def test_notebook_03_trains_heads_with_the_course_settings():
    code = _code("03")
    assert _numbers(r"learning_rate=NUMBER", code) == {training.HEAD_LR, training.FROZEN_HEAD_LR}
    assert _numbers(r"SGD\(learning_rate=[^,]+, momentum=NUMBER\)", code) == {training.HEAD_MOMENTUM}
    assert _numbers(r"ARTICLE_EPOCHS = NUMBER \* run\.profile\.epochs", code) == {training.HEAD_EPOCHS_FACTOR}
    assert _numbers(r"patience=NUMBER", code) == {training.HEAD_PATIENCE, training.PATIENCE}


def test_notebooks_04_and_05_fine_tune_with_the_course_settings():
    assert _numbers(r"(?m)^FINE_TUNE_LR = NUMBER", _code("04")) == {training.FINE_TUNE_LR}
    assert _numbers(r"l2_sp=NUMBER", _code("04")) == {training.L2_SP}
    code_05 = _code("05")
    assert _numbers(r"l2_sp=NUMBER", code_05) | _numbers(r"\"fine_tune_l2sp\", NUMBER", code_05) == {training.L2_SP}


def test_recipes_use_the_course_settings():
    assert recipes.FINE_TUNE_LR == training.FINE_TUNE_LR
    assert recipes.METHODS["fine_tune_l2sp"].endswith(f"L2-SP {training.L2_SP:g}")


def test_notebook_05_writes_out_the_gap_head_as_the_recipe_trains_it():
    """05's written-out head says it runs the same steps as recipes.head_on_features: the same settings."""
    cell = next("".join(c["source"]) for c in json.loads(next(p for p in NOTEBOOKS if p.name.startswith("05"))
                                                      .read_text())["cells"] if c.get("id") == "cell-14-written-out-code")
    assert _numbers(r"Adam\(learning_rate=NUMBER\)", cell) == {training.HEAD_LR}
    assert _numbers(r"patience=NUMBER", cell) == {training.HEAD_PATIENCE}
    assert "models.head_schedule(" in cell and "start_from_epoch=first_stop" in cell and "SGD" not in cell
