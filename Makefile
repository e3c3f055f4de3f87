# The two commands of the README:
#   make course   executes the whole course headless into outputs/
#   make test     runs every test (unit tests, papermill and nbval on every notebook)
# and a third tier, not part of `make test`:
#   make test-browser  every notebook in JupyterLab, driven in headless Chromium
# Both create .venv and install requirements.txt first if needed.
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

.PHONY: course test test-browser chromium fetch kit lab setup clean-outputs help

help:
	@echo "make course   run every notebook headless into outputs/ (PROFILE=auto|smoke|fast|binder|full, BACKBONE=vgg16|...; empty: the profile's)"
	@echo "make test     unit tests + every notebook through papermill and nbval"
	@echo "make test-browser  every notebook in JupyterLab in headless Chromium (installs Playwright; Chromium via apt-get as root)"
	@echo "make fetch    download ImageNet weights (BACKBONE=..., default: fast's) and cats_vs_dogs once (needs internet)"
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

test: $(STAMP)
	$(PY) -m pytest

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

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

clean-outputs:
	rm -rf outputs/
