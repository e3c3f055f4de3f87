"""The browser tier: every notebook as a learner meets it in JupyterLab (``make test-browser``).

For each notebooks/*.ipynb (found by glob), in headless Chromium: open it in JupyterLab, Run All
Cells in `smoke`, and check that every code cell ran, no output is an error or a stderr box
(TensorFlow's start-up lines included), every widget is drawn as a control, and every widget
reacts: each of N_INTERACTIONS interactions (move the first slider a step, click the button)
changes its output, never shows an error, and a widget that draws a plot draws one every time.
Screenshots go to outputs/browser/. Not part of `make test` (pytest's addopts deselect the
`browser` marker); it skips when Playwright or Chromium is missing.

COURSE_BROWSER_NOTEBOOKS=02,03 runs only the notebooks whose names start with those prefixes.
"""

from __future__ import annotations

import json
import os
import time

import pytest

import lab_driver as labmod
from conftest import NOTEBOOKS, ROOT

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install -r requirements-browser.txt")

N_INTERACTIONS = 5
NOTEBOOK_TIMEOUT_MS = 15 * 60_000
INTERACTION_TIMEOUT_MS = 3 * 60_000
SHOTS = ROOT / "outputs" / "browser"

_only = [p for p in os.environ.get("COURSE_BROWSER_NOTEBOOKS", "").split(",") if p]
SELECTED = [p for p in NOTEBOOKS if not _only or any(p.name.startswith(o) for o in _only)]
TIMES: dict[str, float] = {}
UNDRIVEN: list[str] = []  # widgets drawn but not interacted with (printed at the end)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if labmod.chromium_path() is None:
        pytest.skip("no Chromium: apt-get install chromium (or set COURSE_CHROMIUM)")
    server = labmod.Lab(ROOT, NOTEBOOKS, tmp_path_factory.mktemp("lab"))
    yield server
    server.close()


@pytest.fixture(scope="module")
def browser(lab):
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=labmod.chromium_path(), headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module", autouse=True)
def report_times():
    yield
    if TIMES:
        print("\nbrowser tier, seconds per notebook: "
              + ", ".join(f"{k} {v:.0f}" for k, v in TIMES.items()))
    if UNDRIVEN:
        print("drawn but not driven: " + ", ".join(UNDRIVEN))


@pytest.mark.parametrize("path", SELECTED, ids=[p.stem for p in SELECTED])
def test_notebook_in_jupyterlab(path, lab, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        labmod.open_notebook(page, lab, path.name, NOTEBOOK_TIMEOUT_MS)
        labmod.run_all(page, NOTEBOOK_TIMEOUT_MS)
        page.screenshot(path=str(SHOTS / f"{path.stem}.png"))  # the end of the notebook
        page.locator(f"{labmod.PANEL} .jp-Cell").first.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"{path.stem}-top.png"))  # title, set-up cell, first outputs

        not_run = [i for i, p in enumerate(labmod.prompts(page)) if not p.strip("[]: ").isdigit()]
        assert not not_run, f"code cells {not_run} did not run (an error stopped Run All?)"
        errors = labmod.stderr_boxes(page)
        assert not errors, f"{len(errors)} error/stderr output(s); the first:\n{errors[0]}"
        assert not labmod.widget_fallbacks(page), labmod.widget_fallbacks(page)

        views = page.locator(labmod.WIDGET_VIEW)
        cells = json.loads(path.read_text())["cells"]
        explorers = sum("".join(c["source"]).count("Explorer(") for c in cells if c["cell_type"] == "code")
        assert views.count() >= explorers, f"{explorers} explorers built, {views.count()} widgets drawn"
        for k in range(views.count()):
            view = views.nth(k)
            assert view.locator(".jupyter-widgets").count(), f"widget {k} is not drawn as a control"
            view.scroll_into_view_if_needed()
            first = labmod.output_state(view)
            states = []
            for i in range(N_INTERACTIONS):
                before = states[-1] if states else first
                state = labmod.interact(page, view, INTERACTION_TIMEOUT_MS)
                view.screenshot(path=str(SHOTS / f"{path.stem}-widget{k}-{i + 1}.png"))
                assert not state["errors"], f"widget {k}, interaction {i + 1}: {state['errors'][0]}"
                assert state != before, f"widget {k}, interaction {i + 1}: the output did not change"
                states.append(state)
            drew = [bool(s["images"]) for s in [first, *states]]
            if any(drew):
                assert all(drew[1:]), f"widget {k}: a plot after interactions {drew[1:]} (True = drawn)"
                # A figure rendered while still being drawn (the inline backend's flush racing
                # the callback) is a PNG of empty or half-empty axes: far smaller than the full
                # plot the same widget draws on other interactions.
                sizes = [len(src) for s in [first, *states] for src in s["images"]]
                assert min(sizes) >= 0.5 * max(sizes), (
                    f"widget {k}: a plot far smaller than the others (half-drawn?): PNG sizes {sizes}")
        errors = labmod.stderr_boxes(page)
        assert not errors, f"after the interactions, an error/stderr output:\n{errors[0]}"
    except BaseException as error:
        outcome = f"FAILED: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        raise
    else:
        outcome = "passed"
    finally:
        page.screenshot(path=str(SHOTS / f"{path.stem}-end.png"))
        page.close()
        lab.shutdown_kernels()
        TIMES[path.stem] = time.monotonic() - start
        with (SHOTS / "results.txt").open("a") as log:  # written as it goes: a long run's progress
            log.write(f"{time.strftime('%H:%M:%S')} {path.stem}: {outcome} ({TIMES[path.stem]:.0f} s)\n")


def test_make_lab_opens_the_repository_root_with_00_shown(tmp_path, browser):
    """`make lab` serves the repository: the file browser shows notebooks/, solutions/, docs/ and the index,
    and 00_setup is the notebook open first. Served here from a copy of those, with make lab's own options."""
    import re
    import shutil

    if labmod.chromium_path() is None:
        pytest.skip("no Chromium: apt-get install chromium (or set COURSE_CHROMIUM)")
    makefile = (ROOT / "Makefile").read_text()
    found = re.search(r"^lab:.*\n\t.*--LabApp\.default_url=(\S+)", makefile, re.M)
    assert found and "--ServerApp.root_dir=." in makefile, "make lab serves the repository root"
    default_url = found.group(1)
    repo = tmp_path / "repo"
    for name in ("notebooks", "solutions", "docs"):
        shutil.copytree(ROOT / name, repo / name)
    for name in ("index.ipynb", "README.md"):
        shutil.copy2(ROOT / name, repo / name)
    server = labmod.Lab(ROOT, [], tmp_path / "lab", serve=repo, default_url=default_url)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{server.url}/?token={server.token}")  # what a learner's browser opens: "/" -> default_url
        page.wait_for_selector(".jp-Notebook", timeout=120_000)  # the default URL's notebook is open
        assert page.locator(".lm-TabBar-tab.lm-mod-current", has_text="00_setup.ipynb").count() >= 1
        page.locator(".jp-BreadCrumbs-home").first.click()  # the file browser at the server's root
        for entry in ("notebooks", "solutions", "docs", "index.ipynb"):
            page.locator(".jp-DirListing-itemText", has_text=entry).first.wait_for(timeout=30_000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "make-lab-root.png"))
        page.close()
    finally:
        server.shutdown_kernels()
        server.close()
