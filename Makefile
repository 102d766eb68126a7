# dashsite — the two commands a new user needs are `make build` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.test-installed
DOCS_STAMP := $(VENV)/.docs-installed
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: build test test-fast test-calendar soak lint serve bench clean install docs docs-serve

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -e '.[s3,yaml]'
	touch $@

install: $(STAMP)

build: $(STAMP)
	$(BIN)/dashsite build

$(TEST_STAMP): $(STAMP)
	$(PIP) -e '.[test]'
	touch $@

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests dashboards bench scripts
	$(BIN)/ruff format --check src
	$(BIN)/mypy src
	$(BIN)/lint-imports

test: lint
	@sh scripts/ensure-system-packages
	$(BIN)/python -m pytest

# The quick loop while working: no browser, Java validator, S3 server, kill -9 or timeouts.
test-fast: lint
	$(BIN)/python -m pytest -m "not slow" -n auto   # one worker per core (pytest-xdist)

# The tests that read the real clock, with it 400 and then 800 days ahead (the injected
# clock of tests/conftest.py): a test tied to this week's date fails here first.
test-calendar: $(TEST_STAMP)
	DASHSITE_TEST_DAYS_AHEAD=400 $(BIN)/python -m pytest -m calendar -q
	DASHSITE_TEST_DAYS_AHEAD=800 $(BIN)/python -m pytest -m calendar -q

# A simulated year of scheduled builds (make test runs a short stretch of the same soak).
soak: $(TEST_STAMP)
	DASHSITE_SOAK_DAYS=365 $(BIN)/python -m pytest -m soak -q -o timeout=0

serve: $(STAMP)
	$(BIN)/dashsite serve --watch

$(DOCS_STAMP): $(STAMP)
	$(PIP) -e '.[docs]'
	touch $@

# The documentation site (mkdocs.yml, docs/) in strict mode, then the live demo beside it.
docs: $(DOCS_STAMP)
	$(BIN)/python scripts/docs_reference.py --check
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir build/docs-site
	$(BIN)/python scripts/docs_demo.py build/docs-site/demo

docs-serve: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

# The baselines (kstlib, mkdocs) live in their own venv, apart from dashsite's.
$(BENCH_STAMP): pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dask,s3]' \
		kstlib mkdocs playwright 'moto[server]'
	touch $@

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/run.py

clean:
	rm -rf site .site.* $(BENCH_VENV) .dashsite-build.lock build dist src/*.egg-info .mypy_cache .ruff_cache .pytest_cache
