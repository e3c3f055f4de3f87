# The two commands of the README:
#   make course   executes the whole course headless into outputs/
#   make test     runs every test: ruff, unit tests, every notebook and solution executed once
#                 (nbval compares the marked outputs), the real tier when its assets are there, in four
#                 pytest processes, the real tier's two halves first (tests/run_tests.py; SERIAL=1: one pytest)
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
# empty BACKBONE: the fast profile's default backbone (course_utils/sizes.py)
FETCHED  := $(if $(BACKBONE),--backbones $(BACKBONE),)
BIN     := $(VENV)/bin
PY      := $(BIN)/python
STAMP   := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
export TF_CPP_MIN_LOG_LEVEL ?= 3

BROWSER_STAMP := $(VENV)/.browser-installed
DEV_STAMP := $(VENV)/.dev-installed
NOTEBOOKS ?=

.PHONY: course test test-unit test-oldest refresh-outputs test-browser chromium fetch kit lab setup clean-outputs help

help:
	@echo "make course   run every notebook headless into outputs/ (PROFILE=auto|smoke|fast|binder|full, BACKBONE=vgg16|...; empty: the profile's)"
	@echo "make test     ruff, unit tests, every notebook (nbval) and solution (papermill) once, real tier if its assets are there (four processes; SERIAL=1: one)"
	@echo "make test-unit  the unit tests alone, without those marked slow (make test runs them)"
	@echo "make refresh-outputs  rewrite the expected outputs of # NBVAL_CHECK_OUTPUT cells (NOTEBOOKS=... to limit)"
	@echo "make test-browser  every notebook in JupyterLab in headless Chromium (installs Playwright; Chromium via apt-get as root)"
	@echo "make fetch    download ImageNet weights (BACKBONE=..., default: fast's) and cats_vs_dogs once (needs internet)"
	@echo "make kit      build an offline classroom kit in KIT=... (BACKBONE=..., needs internet; docs/teaching.md)"
	@echo "make lab      open JupyterLab on the repository, 00_setup.ipynb first"
	@echo "make test-oldest  unit tests again with the oldest TensorFlow/Keras/NumPy requirements.txt allows (a second venv)"

# Empty when $(PYTHON) can create the course's venv; otherwise one line: what is wrong and the fix.
# Checked only when .venv does not exist yet (an existing .venv keeps working).
PYTHON_PROBLEM = $(shell v=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	if [ -z "$$v" ]; then \
		echo "$(PYTHON) not found: install Python 3.10-3.13 (python.org or your package manager) and run make setup PYTHON=/path/to/python3.12"; \
	else case "$$v" in \
		(3.1[0-3]) $(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || echo "$(PYTHON) (Python $$v) cannot create a virtual environment (no venv/ensurepip): on Debian/Ubuntu run sudo apt install python$$v-venv, then make setup again"; ;; \
		(*) echo "$(PYTHON) is Python $$v but the course needs Python 3.10-3.13 (TensorFlow publishes no wheels for $$v): install one and run make setup PYTHON=python3.12"; ;; \
	esac; fi)

$(STAMP): requirements.txt pyproject.toml
	$(if $(wildcard $(PY)),,$(if $(PYTHON_PROBLEM),$(error $(PYTHON_PROBLEM))))
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

# One pytest keeps about one of two cores busy: four processes, the real tier's halves first (tests/run_tests.py).
SERIAL ?=
test: $(DEV_STAMP)
	$(PY) tests/run_tests.py $(if $(SERIAL),--serial,)

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
	$(PY) -m course_utils.fetch $(FETCHED)

KIT ?= kit
kit: $(STAMP)
	$(PY) -m course_utils.kit build $(KIT) --wheels $(FETCHED)

# The repository root, so notebooks/, solutions/, docs/ and outputs/ are all in the file browser; 00 opens first.
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks/00_setup.ipynb

# The unit tests (no notebooks) once more against the oldest TensorFlow/Keras/NumPy that requirements.txt
# allows, in a second venv: the lower bounds are tested, not hoped. TF 2.16.2 with NumPy 1.26 is also what
# pip resolves on an Intel Mac (TF's last Intel-Mac wheel). .ci/run runs it beside `make test` (own temporary folder).
OLDEST_VENV ?= .venv-oldest
OLDEST_PINS ?= tensorflow==2.16.2 keras==3.4.1 numpy==1.26.4
OLDEST_STAMP := $(OLDEST_VENV)/.installed
UNIT_TESTS_ONLY := --ignore=tests/browser --ignore=tests/test_notebooks.py --ignore=tests/test_solutions.py \
	--ignore=tests/test_real_tier.py --ignore=tests/test_benchmark.py --ignore=tests/test_notebook_memory.py

$(OLDEST_STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(if $(wildcard $(OLDEST_VENV)/bin/python),,$(if $(PYTHON_PROBLEM),$(error $(PYTHON_PROBLEM))))
	test -x $(OLDEST_VENV)/bin/python || $(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(OLDEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt -e . $(OLDEST_PINS)
	touch $(OLDEST_STAMP)

test-oldest: $(OLDEST_STAMP)
	$(OLDEST_VENV)/bin/python -c 'import tensorflow as tf, keras, numpy; print("oldest pair: TensorFlow", tf.__version__, "Keras", keras.__version__, "NumPy", numpy.__version__)'
	$(OLDEST_VENV)/bin/python -m pytest tests $(UNIT_TESTS_ONLY) -p no:cacheprovider -q --basetemp=$(OLDEST_VENV)/pytest-tmp

clean-outputs:
	rm -rf outputs/
