# Two commands set everything up on a fresh machine: `make quickstart` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: quickstart test lint clean

$(BIN)/disreid: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0  # the CPU wheel: install it before anything that needs torch
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

quickstart: $(BIN)/disreid
	$(BIN)/disreid quickstart

test: $(BIN)/disreid
	$(BIN)/python -m pytest

lint: $(BIN)/disreid
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) runs
