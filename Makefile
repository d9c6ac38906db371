# The README's two commands: `make run` and `make test`.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
ARGS    ?=

.PHONY: run test lint unit integration docs bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: scan the local Docker engine and print the report (pass flags with ARGS="--all -o report.json")
run: $(STAMP)
	$(BIN)/runbench $(ARGS)

## test: lint, type-check, unit tests, then integration tests against a real dockerd (started if none is reachable)
test: $(STAMP) lint
	scripts/with-engine.sh $(BIN)/python -m pytest tests

lint: $(STAMP)
	$(BIN)/ruff check runbench checks tests bench
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

integration: $(STAMP)
	scripts/with-engine.sh $(BIN)/python -m pytest tests/integration

docs: $(STAMP)
	$(BIN)/runbench checks --format markdown > docs/checks.md

bench: $(STAMP)
	scripts/with-engine.sh $(BIN)/python bench/bench.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
