"""The words of the course: one definition of ± and of a comparison's resolution (docs/glossary.md),
used everywhere; exercises that speak to learners, not in the course's internal names."""

import json
import re

import pytest

from conftest import NOTEBOOKS, ROOT

GLOSSARY = ROOT / "docs" / "glossary.md"


def _exercises(path):
    markdown = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown"]
    return "".join(markdown[-1]["source"]).split("## Exercises")[-1]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_exercises_say_what_to_do_in_any_profile_without_internal_names(path):
    text = _exercises(path)
    for word in ("smoke", "recipes", "provenance", "this course's review"):
        assert word not in text, (f"{path.name}: the exercises say {word!r}; say what to do in any profile "
                                  "(e.g. 'with random weights ...'), see docs/glossary.md")


def _std_calls_without_ddof(text):
    return [m for m in re.findall(r"(?:np\.std|\.std)\([^()]*(?:\([^()]*\)[^()]*)*\)", text) if "ddof=1" not in m]


def test_every_standard_deviation_is_the_sample_one():
    """'±' after a mean is np.std(x, ddof=1) everywhere (05 used ddof 0, claims.py ddof 1: issue 18)."""
    found = {}
    for path in sorted((ROOT / "course_utils").glob("*.py")) + NOTEBOOKS + sorted((ROOT / "solutions").glob("*.ipynb")):
        text = path.read_text()
        if path.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"] if c["cell_type"] == "code")
        if bad := _std_calls_without_ddof(text):
            found[path.name] = bad
    assert not found, f"use the sample standard deviation, std(..., ddof=1): {found}"


def test_the_std_pattern_sees_a_population_std():
    assert _std_calls_without_ddof("np.std([a for a in v]) + x.std(0) + np.std(v, ddof=1)") == [
        "np.std([a for a in v])", ".std(0)"]


def test_the_glossary_defines_the_words_the_course_keeps():
    text = GLOSSARY.read_text()
    for word in ("profile", "repeat", "resolution", "equivalence margin", "claim", "not checked", "inconclusive",
                 "ddof=1", "feature extraction", "fine-tuning", "random weights"):
        assert f"**{word}" in text or word in text, f"docs/glossary.md does not define {word!r}"
    setup = "".join("".join(c["source"]) for c in json.loads(NOTEBOOKS[0].read_text())["cells"])
    assert "docs/glossary.md" in setup and "docs/articles.md" in setup, "notebook 00 points learners to both pages"
