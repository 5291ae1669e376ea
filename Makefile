# Touchpoint: `make run` to try it, `make test` to check it. Needs only Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TP := $(BIN)/touchpoint
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run install install-test translations test test-fast lint format bench messages clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Touchpoint needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed translations

install-test: $(VENV)/.installed-test translations

translations: $(VENV)/.installed
	@$(TP) compiletranslations

## make run: install, migrate, load the demo company into an empty database, serve on http://127.0.0.1:8000
run: install
	$(TP) migrate --no-input
	$(TP) demo --if-empty
	$(TP) serve --host $(HOST) --port $(PORT)

## make test: the whole suite on SQLite, then on PostgreSQL (browser tests included)
test: $(VENV)/.installed-test translations
	@scripts/ensure-system-packages.sh
	@scripts/run-tests.sh

## make test-fast: the edit-run loop: SQLite only, no browser, tests in parallel
test-fast: $(VENV)/.installed-test translations
	@scripts/run-tests.sh --fast

## make lint: ruff (lint and format check) and mypy with django-stubs on src/
lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

## make format: let ruff fix what it can and format the code
format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

## make bench: the benchmarks under bench/ (each prints its ratio against a baseline measured in the same run;
## health_truth.py the product's health AUCs against a reference model; companies.py is its generator, not a bench)
bench: $(VENV)/.installed-test
	@for b in bench/[!_]*.py; do [ -e "$$b" ] && [ "$$b" != bench/companies.py ] || continue; echo "== $$b"; $(BIN)/python "$$b" || exit 1; done

## make messages: refresh the .po catalogues from the code (needs GNU gettext's xgettext)
messages: $(VENV)/.installed
	cd src/touchpoint && ../../$(TP) makemessages --no-obsolete --no-location -l ja -l ru -l th

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
