"""Every notebook in notebooks/ runs once in smoke and is well formed.

Notebooks are found by glob: a notebook added to notebooks/ is tested without editing this
file. The one execution per notebook is nbval's (pytest collects notebooks/ with --nbval-lax,
see pyproject.toml and tests/notebook_runs.py): it compares the cells marked
``# NBVAL_CHECK_OUTPUT`` with their committed outputs (tests/test_output_checks.py holds that
convention), and the tests here read what that run printed. Run alone, this file executes each
notebook once with papermill instead.
"""

import json
import re
import types

import papermill as pm
import pytest

from conftest import AS_COLLECTED, NOTEBOOKS
from notebook_runs import is_marked

ids = [p.stem for p in NOTEBOOKS]


def test_the_course_has_its_numbered_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no notebook"
    numbers = [p.name[:2] for p in NOTEBOOKS]
    assert numbers == sorted(numbers) and all(n.isdigit() for n in numbers)
    assert NOTEBOOKS[0].name == "00_setup.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_has_one_parameters_cell_with_profile(path):
    nb = json.loads(path.read_text())
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged 'parameters'"
    params = pm.inspect_notebook(str(path))
    assert "PROFILE" in params
    assert "COURSE_PROFILE" in params["PROFILE"]["default"]
    # Every assignment in the cell must be one papermill can read (it skips, with a mere
    # warning, lines it cannot parse, e.g. comments holding quotes).
    assigned = [line.split("=")[0].strip() for line in "".join(tagged[0]["source"]).splitlines()
                if "=" in line and not line.lstrip().startswith("#")]
    assert sorted(assigned) == sorted(params), f"papermill sees {sorted(params)}, the cell sets {assigned}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_is_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code" or is_marked(cell):  # nbval's expected outputs: test_output_checks.py
            continue
        assert not cell.get("outputs"), f"{path.name} cell {i} has outputs: strip them"
        assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_opens_with_objectives_and_ends_with_exercises(path):
    nb = json.loads(path.read_text())
    first = "".join(nb["cells"][0]["source"])
    markdown = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
    last = "".join(markdown[-1]["source"])
    assert nb["cells"][0]["cell_type"] == "markdown" and "Learning objectives" in first
    assert "**Time.**" in first, "state the time per profile at the top"
    assert "## Summary" in last and "## Exercises" in last


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_runs_in_smoke_and_says_whether_its_numbers_are_results(path, executed_notebooks):
    executed = executed_notebooks.executed(path)
    assert path.read_bytes() == AS_COLLECTED[path], "executing the notebook wrote to it"
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: {[(e['ename'], e['evalue']) for e in errors]}"
    text = "".join("".join(o.get("text", "")) for c in executed.cells for o in c.get("outputs", []))
    assert "PROFILE = 'smoke'" in text, "the notebook must print which profile it runs"
    # Either the numbers are not results (random weights) or they are real in every profile
    # (data generated in the notebook); the notebook must say which.
    assert "none of them is a result" in text or "real in every profile" in text


# The calls a learner writes in their own project must be in the notebooks themselves, not hidden
# in course_utils (issue "Show the Keras you teach").
TAUGHT = {
    "03": [r"keras\.utils\.image_dataset_from_directory\(", r"keras\.applications\.VGG16\(include_top=False",
           r"keras\.applications\.MobileNet\(", r"conv_base\.trainable = False", r"keras\.Input\(",
           r"conv_base\(x, training=False\)", r"keras\.layers\.GlobalAveragePooling2D\(\)", r"\.compile\(optimizer=",
           r"\.fit\(.*callbacks=", r"keras\.callbacks\.EarlyStopping\(", r"learning_rate=", r"\.save\("],
    "04": [r"keras\.models\.load_model\(", r"for layer in conv_base\.layers:", r"layer\.trainable = ",
           r"model\.compile\(optimizer=", r"keras\.callbacks\.EarlyStopping\(", r"keras\.callbacks\.ModelCheckpoint\(",
           r"initial_epoch=", r"keras\.layers\.Dense\(task_b\.num_classes", r"top\(feature_in, training=True\)",
           r"keras\.Model\(conv_base\.get_layer\("],
}


@pytest.mark.parametrize("number", sorted(TAUGHT))
def test_notebook_writes_out_the_keras_calls_it_teaches(number):
    path = next(p for p in NOTEBOOKS if p.name.startswith(number))
    code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
    missing = [pattern for pattern in TAUGHT[number] if not re.search(pattern, code)]
    assert not missing, f"{path.name} never shows: {missing}"
    assert not re.search(r"\blr\s*=", code) and "ImageDataGenerator" not in code


def _code_cell(path, pattern):
    cells = [c for c in json.loads(path.read_text())["cells"]
             if c["cell_type"] == "code" and re.search(pattern, "".join(c["source"]))]
    assert len(cells) == 1, f"{path.name}: {len(cells)} code cells match {pattern!r}"
    return "".join(cells[0]["source"])


@pytest.mark.slow
def test_notebook_03_builds_and_describes_every_registered_backbone(capsys):
    """03's cells that build the base and count ImageNet's top, run for every constructor the
    registry knows (smoke itself runs only MobileNet; fast and full run VGG16): cheaper than
    running 03-05 a second time with BACKBONE=vgg16, and it covers ResNet50's branch too."""
    import keras

    from course_utils import backbones

    path = next(p for p in NOTEBOOKS if p.name.startswith("03"))
    build = _code_cell(path, r"conv_base = keras\.applications\.")
    top = _code_cell(path, r"top = \{")
    weights = types.SimpleNamespace(keras_argument=None, describe=lambda: "random (test)")
    seen = set()
    for backbone in backbones.REGISTRY.values():
        if backbone.constructor in seen:
            continue
        seen.add(backbone.constructor)
        run = types.SimpleNamespace(backbone=backbone, weights=weights)
        scope = {"keras": keras, "run": run, "SIZE": 32}
        exec(build, scope)
        assert type(scope["conv_base"]).__name__ in ("Functional", "Model")
        assert scope["conv_base"].count_params() == backbone.build(None, (32, 32, 3)).count_params()
        exec(top, scope)
        printed = capsys.readouterr().out
        assert f"{backbone.title}: " in printed and "the top holds" in printed
        if backbone.name == "vgg16":
            assert "fc1" in printed and f"{(7 * 7 * 512 + 1) * 4096:,}" in printed
    assert seen == {"VGG16", "ResNet50", "MobileNet"}


@pytest.mark.notebook
def test_notebook_05s_written_out_head_gives_the_recipes_accuracy(executed_notebooks):
    """05 writes the GAP head out step by step and says the recipe runs the same steps: same seed, same numbers."""
    path = next(p for p in NOTEBOOKS if p.name.startswith("05"))
    text = "".join("".join(o.get("text", "")) for c in executed_notebooks.executed(path).cells
                   for o in c.get("outputs", []))
    found = re.search(r"test accuracy ([0-9.]+) written out, ([0-9.]+) through recipes\.head_on_features", text)
    assert found, "05 no longer prints its written-out head's accuracy beside the recipe's"
    assert found.group(1) == found.group(2), found.group(0)
