# The two commands of the README:
#   make course   executes the whole course headless into outputs/
#   make test     runs every test: ruff, unit tests, every notebook and solution executed once
#                 (nbval compares the marked outputs), the real tier when its assets are there
# and, for maintainers (CONTRIBUTING.md):
#   make test-unit        the unit tests alone, without the slow ones (no notebook, no real tier)
#   make refresh-outputs  rewrite the expected outputs of the cells marked # NBVAL_CHECK_OUTPUT
#   make test-browser     every notebook in JupyterLab, driven in headless Chromium
# They create .venv and install requirements.txt first if needed (the test targets also
# requirements-dev.txt).
PYTHON  ?= python3
VENV    ?= .venv
PROFILE ?= auto
BACKBONE ?=
FETCHED  := $(or $(BACKBONE),vgg16)
BIN     := $(VENV)/bin
PY      := $(BIN)/python
STAMP   := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
export TF_CPP_MIN_LOG_LEVEL ?= 3

BROWSER_STAMP := $(VENV)/.browser-installed
DEV_STAMP := $(VENV)/.dev-installed
NOTEBOOKS ?=

.PHONY: course test test-unit refresh-outputs test-browser chromium fetch kit lab setup clean-outputs help

help:
	@echo "make course   run every notebook headless into outputs/ (PROFILE=auto|smoke|fast|binder|full, BACKBONE=vgg16|...; empty: the profile's)"
	@echo "make test     ruff, unit tests, every notebook (nbval) and solution (papermill) once, real tier if its assets are there"
	@echo "make test-unit  the unit tests alone, without those marked slow (make test runs them)"
	@echo "make refresh-outputs  rewrite the expected outputs of # NBVAL_CHECK_OUTPUT cells (NOTEBOOKS=... to limit)"
	@echo "make test-browser  every notebook in JupyterLab in headless Chromium (installs Playwright; Chromium via apt-get as root)"
	@echo "make fetch    download ImageNet weights (BACKBONE=...) and cats_vs_dogs once (needs internet)"
	@echo "make kit      build an offline classroom kit in KIT=... (BACKBONE=..., needs internet; docs/teaching.md)"
	@echo "make lab      open the notebooks in JupyterLab"

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	touch $(STAMP)

setup: $(STAMP)

course: $(STAMP)
	$(PY) -m course_utils.run_course --profile $(PROFILE) --backbone "$(BACKBONE)"

# Test tools (ruff, PyYAML, packaging): kept out of learners' installs.
$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(DEV_STAMP)

test: $(DEV_STAMP)
	$(PY) -m pytest

test-unit: $(DEV_STAMP)
	$(PY) -m pytest tests -m "not notebook and not real and not browser and not slow"

refresh-outputs: $(DEV_STAMP)
	$(PY) tests/refresh_outputs.py $(NOTEBOOKS)

# Playwright's Python package only: it drives the system's Chromium, it downloads no browser.
$(BROWSER_STAMP): $(STAMP) requirements-browser.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-browser.txt
	touch $(BROWSER_STAMP)

# Debian's Chromium (COURSE_CHROMIUM=/path/to/chromium to use another); apt-get only as root.
chromium:
	@if [ -n "$$COURSE_CHROMIUM" ] || command -v chromium >/dev/null; then exit 0; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "make test-browser needs Chromium: sudo apt-get install chromium" \
		"(or set COURSE_CHROMIUM=/path/to/chromium)" >&2; exit 1; fi

test-browser: $(BROWSER_STAMP) chromium
	$(PY) -m pytest tests/browser -m browser -p no:cacheprovider

fetch: $(STAMP)
	$(PY) -m course_utils.fetch --backbones $(FETCHED)

KIT ?= kit
kit: $(STAMP)
	$(PY) -m course_utils.kit build $(KIT) --wheels --backbones $(FETCHED)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

clean-outputs:
	rm -rf outputs/
