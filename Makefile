# dashsite — the two commands a new user needs are `make build` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.test-installed
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: build test lint serve bench clean install

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -e '.[s3]'
	touch $@

install: $(STAMP)

build: $(STAMP)
	$(BIN)/dashsite build

$(TEST_STAMP): $(STAMP)
	$(PIP) -e '.[test]'
	touch $@

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests dashboards
	$(BIN)/ruff format --check src
	$(BIN)/mypy src

test: lint
	$(BIN)/python -m pytest

serve: $(STAMP)
	$(BIN)/dashsite serve --watch

bench: $(TEST_STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf site .site.* .dashsite-build.lock build dist src/*.egg-info .mypy_cache .ruff_cache .pytest_cache
