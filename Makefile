# Everything a fresh machine needs comes from pyproject.toml through this file.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	rm -f demo.duckdb
	$(BIN)/ir ingest sample_logs/ --case demo.duckdb
	$(BIN)/ir stats --case demo.duckdb

test: $(STAMP)
	$(BIN)/ruff check ir parsers tests benchmarks
	$(BIN)/ruff format --check ir parsers tests benchmarks
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check --fix ir parsers tests benchmarks
	$(BIN)/ruff format ir parsers tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) *.duckdb .pytest_cache
