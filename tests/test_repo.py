"""Project-level contracts: dependencies agree and are bounded, CI runs the README's command, ruff is clean."""

import re
import subprocess
import sys

import pytest
import yaml
from packaging.requirements import Requirement

from conftest import ROOT


def requirements(name="requirements.txt"):
    lines = [line.split("#")[0].strip() for line in (ROOT / name).read_text().splitlines()]
    return [Requirement(line) for line in lines if line and not line.startswith("-r ")]


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-dev.txt"])
def test_every_requirement_has_a_bounded_range(name):
    for req in requirements(name):
        ops = {s.operator for s in req.specifier}
        assert "==" in ops or ({">=", "<"} <= ops), f"{req}: give a lower and an upper bound"


def test_test_tools_are_declared_apart_from_the_learners_requirements():
    dev = (ROOT / "requirements-dev.txt").read_text()
    assert re.search(r"^-r requirements\.txt$", dev, re.M), "the dev set installs the runtime set too"
    names = {r.name.lower() for r in requirements("requirements-dev.txt")}
    assert {"pyyaml", "packaging", "ruff"} <= names
    assert not names & {r.name.lower() for r in requirements()}, "one file per requirement"
    makefile = (ROOT / "Makefile").read_text()
    for target in ("test", "test-unit", "refresh-outputs"):
        assert re.search(rf"^{target}: \$\(DEV_STAMP\)", makefile, re.M), f"make {target} must install requirements-dev.txt"
    assert "requirements-dev" not in (ROOT / "environment.yml").read_text()


def test_ruff_finds_nothing():
    """The rules are ruff's defaults for the version pinned in requirements-dev.txt (pyproject.toml)."""
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert "No module named ruff" not in done.stderr, "pip install -r requirements-dev.txt (or make test)"
    assert done.returncode == 0, done.stdout + done.stderr


def test_citation_names_this_version_repository_and_licence():
    import course_utils

    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["version"] == course_utils.__version__
    assert cff["repository-code"] == course_utils.REPO_URL
    assert cff["license"] == "MIT" and cff["authors"][0]["name"] in (ROOT / "LICENSE").read_text()


def test_requirements_hold_the_brief_packages():
    names = {r.name.lower().replace("_", "-") for r in requirements()}
    for needed in ("tensorflow", "jupyterlab", "ipywidgets", "matplotlib", "nbval", "papermill"):
        assert needed in names
    tf = next(r for r in requirements() if r.name == "tensorflow")
    assert tf.specifier.contains("2.16") and not tf.specifier.contains("2.15"), "Keras 3 needs TF>=2.16"


def test_environment_yml_installs_requirements_txt_and_pins_python():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    assert "-r requirements.txt" in pip_section
    conda_pkgs = [d for d in deps if isinstance(d, str)]
    python = [d for d in conda_pkgs if d.startswith("python")]
    assert python and re.fullmatch(r"python=3\.\d+", python[0]), "pin Python's minor version"
    # Any other conda package would be a second source of truth for a version.
    assert set(conda_pkgs) - set(python) == {"pip"}, "install packages via requirements.txt"


def test_package_dependencies_agree_with_requirements():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = {r.name.lower(): r.specifier for r in requirements()}
    for dep in map(Requirement, project["dependencies"]):
        assert dep.name.lower() in pinned, f"{dep.name} is not in requirements.txt"
        assert dep.specifier == pinned[dep.name.lower()], f"{dep.name}: ranges differ"


def readme_commands():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", text, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()
            and not line.startswith("#")]


def test_readme_has_exactly_two_commands_and_ci_runs_the_test_one():
    commands = readme_commands()
    assert len(commands) == 2, commands
    test_command = next(c for c in commands if "test" in c)
    ci = (ROOT / ".ci" / "run").read_text()
    # The command itself, its status kept for the end (the real tier's report is printed first), its output
    # copied to a file through tee (pipefail: the status is make's).
    tee = r'(\s+2>&1\s*\|\s*tee\s+"\$test_log")?'
    assert re.search(rf"^\s*{re.escape(test_command)}{tee}(\s*\|\|\s*status=\$\?)?\s*(#.*)?$", ci, re.M), ci
    assert re.search(r'^exit "\$status"$', ci, re.M), "CI must exit with the tests' status"
    assert "set -euo pipefail" in ci


def test_generated_folders_are_ignored_by_git():
    ignored = (ROOT / ".gitignore").read_text().split()
    for folder in ("outputs/", "data/cache/", "data/weights/", ".venv/"):
        assert folder in ignored


def test_ci_passes_the_real_assets_by_environment_and_fails_when_the_real_tier_did_not_run():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "export COURSE_REAL_ASSETS=" in ci and "export COURSE_REAL_TIER_REPORT=" in ci
    # status=1, not exit: the oldest-pair tests still running beside make test are waited for and shown first
    assert re.search(r'if \[ ! -s "\$COURSE_REAL_TIER_REPORT" \]; then[^f]*?status=1', ci, re.S)
    assert ci.rstrip().endswith('exit "$status"')


def test_the_course_never_points_at_the_test_assets():
    files = [*ROOT.glob("course_utils/*.py"), *ROOT.glob("notebooks/*.ipynb"), ROOT / "Makefile"]
    for path in files:
        assert "shared/assets" not in path.read_text(), f"{path.name} depends on the test assets"
