"""JupyterLab in a real browser: the server, a page per notebook, and what a learner would see.

Used by tests/browser/test_lab.py (``make test-browser``). The server runs on 127.0.0.1 on a
free port with a random token, in a temporary folder holding a COPY of notebooks/ (a learner's
notebooks are never opened, executed or saved), with ``course_utils`` importable through
PYTHONPATH, ``COURSE_PROFILE=smoke`` and ``COURSE_OFFLINE=1``. The browser is Debian's Chromium
driven by Playwright's Python package (``executable_path``; Playwright downloads nothing).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
WIDGET_VIEW = ".jp-OutputArea-output:has(> .jupyter-widgets)"  # a widget drawn as a control
# What a widget shows when no control could be drawn: the loading placeholder of the widget
# manager, or the text form of the model (a kernel with no front-end for it).
FALLBACK = re.compile(r"Loading widget|Error displaying widget|^(VBox|HBox|Output|Button|\w*Slider)\(", re.M)

_SETTINGS = {
    # Every cell in the DOM (the default windowing detaches cells out of view).
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none",
                                                                    "autoStartDefaultKernel": True},
    # No news or update pop-ups over the notebook (and no network request for them).
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
    "@jupyterlab/extensionmanager-extension/plugin.jupyterlab-settings": {"enabled": False},
}


def chromium_path() -> str | None:
    """Debian's Chromium: $COURSE_CHROMIUM, else `chromium` on PATH, else None."""
    path = os.environ.get("COURSE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return path if path and Path(path).exists() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A JupyterLab server on a copy of the notebooks; stopped by `close()`."""

    def __init__(self, root: Path, notebooks: list[Path], workdir: Path, startup_s: float = 120,
                 serve: Path | None = None, default_url: str | None = None):
        """`serve`: a folder to root the server at as it is (``make lab`` serves the repository), instead
        of a copy of `notebooks`; `default_url`: the page Lab opens first (``--LabApp.default_url``)."""
        if serve is None:
            self.dir = workdir / "course" / "notebooks"
            self.dir.mkdir(parents=True)
            for nb in notebooks:
                shutil.copy2(nb, self.dir / nb.name)
        else:
            self.dir = serve
        settings = workdir / "settings"
        for rel, values in _SETTINGS.items():
            path = settings / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        self.port, self.token = _free_port(), secrets.token_hex(16)
        env = {**os.environ, "COURSE_PROFILE": "smoke", "COURSE_OFFLINE": "1",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
               "JUPYTERLAB_SETTINGS_DIR": str(settings),
               "JUPYTERLAB_WORKSPACES_DIR": str(workdir / "workspaces"),
               "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
               "COURSE_OUTPUT_DIR": str(workdir / "outputs")}
        # Lab's kernels must meet TensorFlow's start-up lines exactly as a learner's do.
        env.pop("TF_CPP_MIN_LOG_LEVEL", None)
        env.pop("MPLBACKEND", None)
        self.log_path = workdir / "jupyter-lab.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.dir}",
             "--LabApp.news_url=", "--ServerApp.terminals_enabled=False"]
            + ([f"--LabApp.default_url={default_url}"] if default_url else [])
            + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
            cwd=self.dir, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + startup_s
        while True:
            try:
                self.api("GET", "status")
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"JupyterLab did not start:\n{self.log_path.read_text()[-3000:]}")
                time.sleep(0.5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, method: str, path: str):
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self):
        for kernel in self.api("GET", "kernels"):
            self.api("DELETE", f"kernels/{kernel['id']}")

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


# --- one notebook page --------------------------------------------------------------------

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in the current tab
PROMPTS = f"[...document.querySelectorAll('{PANEL} .jp-CodeCell .jp-InputArea-prompt')]"


def open_notebook(page, lab: Lab, name: str, timeout_ms: float):
    # A workspace of its own, reset: Lab would otherwise reopen the notebooks opened before
    # (one more kernel each) and Run All could land on another tab.
    workspace = re.sub(r"[^A-Za-z0-9_-]", "-", Path(name).stem)
    page.goto(f"{lab.url}/lab/workspaces/{workspace}/tree/{name}?reset&token={lab.token}")
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=timeout_ms)
    select = page.locator(".jp-Dialog button.jp-mod-accept")  # "Select Kernel", if still asked
    try:
        select.wait_for(timeout=3000)
        select.click()
    except Exception:  # noqa: BLE001 - no dialog: the default kernel started by itself
        pass
    deadline = time.monotonic() + timeout_ms / 1000
    while not any(s.get("path", "").endswith(name) and s.get("kernel", {}).get("execution_state") == "idle"
                  for s in lab.api("GET", "sessions")):  # the server sees the kernel started
        if time.monotonic() > deadline:
            raise TimeoutError(f"no idle kernel for {name}")
        time.sleep(0.5)
    page.wait_for_selector("#jp-main-statusbar :text('| Idle')", timeout=timeout_ms)  # Lab does too
    wait_idle(page, timeout_ms)


def wait_idle(page, timeout_ms: float):
    """The kernel is started and idle (the notebook toolbar's execution indicator)."""
    page.wait_for_function(
        f"() => {{ const e = document.querySelector('{PANEL} .jp-Notebook-ExecutionIndicator'); return e && e.getAttribute('data-status') === 'idle'; }}",
        timeout=timeout_ms)


def run_all(page, timeout_ms: float):
    """Run > Run All Cells, then wait until no cell is queued or running and the kernel is idle."""
    started = (f"() => {PROMPTS}.some(p => p.textContent.includes('*'))"
               f" || {PROMPTS}.every(p => /\\d/.test(p.textContent))")
    for attempt in range(3):  # a Run All sent while the kernel's connection settles can be lost
        page.locator(f"{PANEL} .jp-Cell").first.click()  # the notebook has the focus
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        try:
            page.wait_for_function(started, timeout=60_000)
            break
        except Exception:  # noqa: BLE001 - retried, then raised
            if attempt == 2:
                raise
    page.wait_for_function(f"() => {PROMPTS}.every(p => !p.textContent.includes('*'))", timeout=timeout_ms)
    wait_idle(page, timeout_ms)


def prompts(page) -> list[str]:
    return page.evaluate(f"() => {PROMPTS}.map(p => p.textContent.trim())")


def stderr_boxes(scope) -> list[str]:
    """Text of every stderr/error output (tracebacks included) under `scope`."""
    boxes = scope.locator(STDERR)
    return [boxes.nth(i).inner_text()[:2000] for i in range(boxes.count())]


def widget_fallbacks(page) -> list[str]:
    outputs = page.locator(".jp-OutputArea-output")
    texts = [outputs.nth(i).inner_text() for i in range(outputs.count())]
    return [t[:300] for t in texts if FALLBACK.search(t)]


def output_state(view) -> dict:
    """What a widget's output area shows: its text, the sources of its images, its errors."""
    out = view.locator(".widget-output")
    imgs = out.locator("img")
    return {"text": out.inner_text() if out.count() else "",
            "images": [imgs.nth(i).get_attribute("src") for i in range(imgs.count())],
            "errors": stderr_boxes(out) if out.count() else []}


_uploads = itertools.count(1)


def _an_image() -> str:
    """A new small PNG (its own name and colour) for a FileUpload widget to receive."""
    from PIL import Image

    n = next(_uploads)
    path = Path(tempfile.gettempdir()) / f"browser-tier-upload-{os.getpid()}-{n}.png"
    Image.new("RGB", (64, 48), ((40 * n) % 256, 120, 200)).save(path)
    return str(path)


def interact(page, view, timeout_ms: float) -> dict:
    """Move the first slider one step and click the button, if the widget has them.

    Returns the output's state once it has changed and the kernel is idle again.
    """
    before = output_state(view)
    handle = view.locator(".noUi-handle").first
    if handle.count():
        handle.focus()
        now = handle.get_attribute("aria-valuenow")
        page.keyboard.press("ArrowLeft" if now == handle.get_attribute("aria-valuemax") else "ArrowRight")
    button = view.locator("button.jupyter-button")
    upload = view.locator(".widget-upload")  # a FileUpload: its button opens a file chooser
    if upload.count():
        with page.expect_file_chooser(timeout=timeout_ms) as chooser:
            upload.first.click()
        chooser.value.set_files(_an_image())  # the file a learner would pick
    elif button.count():
        button.first.click()
    deadline = time.monotonic() + timeout_ms / 1000
    state = before
    while time.monotonic() < deadline:
        time.sleep(0.5)
        wait_idle(page, timeout_ms)
        state = output_state(view)
        if state != before and (state["text"] or state["images"] or state["errors"]):
            time.sleep(0.5)  # an append that follows the clear
            wait_idle(page, timeout_ms)
            return output_state(view)
    return state
