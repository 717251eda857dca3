# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates/refreshes the virtual environment from pyproject.toml when it changed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint dev bench clean browser

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mlc demo

# Debian's Chromium for the browser tests (pytest -m ui); apt-get only when missing.
browser:
	sh scripts/install-browser.sh

test: $(STAMP) browser
	$(BIN)/ruff check mlc_assets mlc_assets_tests
	$(BIN)/lint-imports
	$(BIN)/pytest -n 2 -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check mlc_assets mlc_assets_tests
	$(BIN)/lint-imports
	$(BIN)/ruff format --check mlc_assets mlc_assets_tests

# The Dagster UI (dg dev) on this data home's instance, with the sandbox it needs; Ctrl-C stops
# both. `make dev PORT=3001` serves the UI on another port.
PORT ?= 3000
dev: $(STAMP)
	$(BIN)/mlc dev --port $(PORT)

bench: $(STAMP)
	$(BIN)/mlc bench

clean:
	rm -rf $(VENV) .mlc
