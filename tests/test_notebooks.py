"""Every notebook in notebooks/ runs under papermill with PROFILE=smoke, and is well formed.

Notebooks are found by glob: a notebook added to notebooks/ is tested without editing this
file. nbval validates the same notebooks separately (pytest collects notebooks/ with
--nbval-lax, see pyproject.toml).
"""

import hashlib
import json

import papermill as pm
import pytest

from conftest import NOTEBOOKS

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
        if cell["cell_type"] != "code" or cell.get("metadata", {}).get("keep_output"):
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_runs_under_papermill_in_smoke(path, tmp_path):
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    out = tmp_path / path.name
    pm.execute_notebook(str(path), str(out), parameters={"PROFILE": "smoke"},
                        cwd=str(path.parent), kernel_name="python3", progress_bar=False)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before, "source notebook was modified"
    executed = json.loads(out.read_text())
    errors = [o for c in executed["cells"] for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    text = "".join("".join(o.get("text", "")) for c in executed["cells"]
                   for o in c.get("outputs", []))
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
    import re

    path = next(p for p in NOTEBOOKS if p.name.startswith(number))
    code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
    missing = [pattern for pattern in TAUGHT[number] if not re.search(pattern, code)]
    assert not missing, f"{path.name} never shows: {missing}"
    assert not re.search(r"\blr\s*=", code) and "ImageDataGenerator" not in code


VGG16_PATH = [p for p in NOTEBOOKS if p.name[:2] in ("03", "04", "05")]


@pytest.mark.parametrize("path", VGG16_PATH, ids=[p.stem for p in VGG16_PATH])
def test_notebook_runs_with_vgg16_the_fast_profile_backbone(path, tmp_path):
    """smoke's own backbone is MobileNet (memory: README, 'Binder'); fast and full use VGG16, so
    the notebooks that build and fine-tune it run with it here too, in smoke's sizes."""
    out = tmp_path / path.name
    pm.execute_notebook(str(path), str(out), parameters={"PROFILE": "smoke", "BACKBONE": "vgg16"},
                        cwd=str(path.parent), kernel_name="python3", progress_bar=False)
    executed = json.loads(out.read_text())
    assert not [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    text = "".join("".join(o.get("text", "")) for c in executed["cells"] for o in c.get("outputs", []))
    assert "VGG16" in text and "MobileNet" not in text.split("\n\n")[0], "the run says it uses VGG16"
