# The README's two commands: `make run` and `make test`.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
ARGS    ?=
PYTEST  := $(BIN)/python -m pytest
# The integration suite, run once per engine generation (scripts/engine.sh: RUNBENCH_ENGINE=default|current).
INTEGRATION := $(PYTEST) tests/integration $(PYTEST_ARGS)

.PHONY: run test lint unit integration integration-default integration-current fetch-current engine-down docs bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: scan the local Docker engine and print the report (pass flags with ARGS="--all -o report.json")
run: $(STAMP)
	$(BIN)/runbench $(ARGS)

## test: lint, type-check, unit tests, then the integration tests on a real dockerd of each engine generation:
## Debian bookworm's docker.io 20.10 (started if none is reachable), then docker.io 28.x (a second daemon).
## In this order, also under `make -j`.
test: $(STAMP)
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory integration-default
	$(MAKE) --no-print-directory integration-current

lint: $(STAMP)
	$(BIN)/ruff check runbench checks tests bench
	$(BIN)/mypy

## unit: every test that needs no engine (tests/ but tests/integration)
unit: $(STAMP)
	$(PYTEST) tests --ignore=tests/integration

## integration: the integration tests on the default engine (DOCKER_HOST, or the local docker.io 20.10)
integration integration-default: $(STAMP)
	@echo "== integration tests: default engine (Debian bookworm docker.io 20.10; DOCKER_HOST=$${DOCKER_HOST:-unset}) =="
	RUNBENCH_ENGINE=default scripts/with-engine.sh $(INTEGRATION)

## integration-current: the integration tests on the current engine (docker.io 28.x from Debian unstable,
## fetched once into RUNBENCH_ENGINES_DIR, run as a second isolated daemon)
integration-current: $(STAMP)
	@echo "== integration tests: current engine (Debian unstable docker.io 28.x, second daemon) =="
	RUNBENCH_ENGINE=current scripts/with-engine.sh $(INTEGRATION)

## fetch-current: download the current engine now (later runs use the cached copy)
fetch-current:
	scripts/engine.sh fetch-current

## engine-down: stop the engines `make test` started (if a run was interrupted)
engine-down:
	RUNBENCH_ENGINE=default scripts/engine.sh down
	RUNBENCH_ENGINE=current scripts/engine.sh down

docs: $(STAMP)
	$(BIN)/runbench checks --format markdown > docs/checks.md

bench: $(STAMP)
	scripts/with-engine.sh $(BIN)/python bench/bench.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
