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
	$(BIN)/pytest -n 2 -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check mlc_assets mlc_assets_tests
	$(BIN)/ruff format --check mlc_assets mlc_assets_tests

# The Dagster UI on this data home's instance (pools configured); the sandbox starts itself.
# `make dev PORT=3001` serves the UI on another port. The instance is created first, under the
# data home's lock, so a demo started at the same moment cannot race to create its tables.
PORT ?= 3000
dev: $(STAMP)
	$(BIN)/python -c "from mlc_assets.instance import open_instance; open_instance('.mlc')"
	DAGSTER_HOME=$(CURDIR)/.mlc/dagster VIRTUAL_ENV=$(CURDIR)/$(VENV) PATH=$(CURDIR)/$(BIN):$$PATH \
		$(BIN)/dg dev --use-active-venv --port $(PORT)

bench: $(STAMP)
	$(BIN)/mlc bench

clean:
	rm -rf $(VENV) .mlc
