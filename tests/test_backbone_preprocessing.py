"""Preprocessing always comes from the backbone actually built, whatever BACKBONE says (empty included)."""

import dataclasses
import io
import json
import re
import tokenize

import numpy as np
import pytest

from conftest import NOTEBOOKS, each_backbone
from course_utils import backbones, features, models, profiles, runs


@pytest.mark.parametrize("name", each_backbone(backbones.REGISTRY))
def test_with_an_empty_backbone_the_features_use_the_preprocessing_of_the_base_built(name, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setitem(profiles.PROFILES, "smoke", dataclasses.replace(profiles.PROFILES["smoke"], backbone=name))
    run = runs.start("06", "smoke", backbone="", progress=False)  # BACKBONE = "" in the notebook
    assert run.backbone.name == name
    base = run.build_base()
    extractor = features.extractor(base, run.backbone.name)
    x = np.random.default_rng(0).uniform(0, 255, (2, *run.input_shape)).astype("float32")
    own = base.predict(run.backbone.preprocess_input()(x.copy()), verbose=0)
    np.testing.assert_allclose(extractor.predict(x, verbose=0), own, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(models.preprocessing(run.backbone.name)(x), run.backbone.preprocess_input()(x.copy()),
                               rtol=1e-5, atol=1e-5)
    other = next(b for b in backbones.REGISTRY.values() if b.name != name)
    with pytest.raises(ValueError, match=f"not {re.escape(other.title)}.*run.backbone.name"):
        features.extractor(base, other.name)


@pytest.mark.parametrize("profile", [p for p in profiles.PROFILES if p != "smoke"])
@pytest.mark.parametrize("name", each_backbone(backbones.REGISTRY))
def test_every_profile_builds_each_backbone_with_an_empty_backbone_and_pairs_its_own_preprocessing(
        profile, name, tmp_path, monkeypatch):
    """fast, binder and full (random weights, the shapes: offline) with each registry backbone as the default."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setitem(profiles.PROFILES, profile, dataclasses.replace(profiles.PROFILES[profile], backbone=name))
    run = runs.start("08", profile, backbone="", dataset="shapes", weights="random", progress=False)
    assert run.backbone.name == name and run.profile.name == profile
    base = run.build_base()
    assert features.extractor(base, run.backbone.name).input_shape[1:] == run.input_shape
    other = next(b for b in backbones.REGISTRY.values() if b.name != name)
    with pytest.raises(ValueError, match="run.backbone.name"):
        features.extractor(base, other.name)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_pass_the_backbone_built_never_the_raw_parameter(path):
    """BACKBONE may be empty (the profile's): after runs.start only run.backbone says which was built."""
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or "parameters" in cell["metadata"].get("tags", []):
            continue
        source = "".join(cell["source"])
        lines = source.splitlines()
        # the name BACKBONE as code (not in a string or a comment), on the line of each use
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.NAME and token.string == "BACKBONE":
                line = lines[token.start[0] - 1]
                assert "runs.start(" in line, f"{path.name}: {line.strip()}"
