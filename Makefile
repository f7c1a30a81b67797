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

DEMO := demo

demo: $(STAMP)
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN)/ir ingest sample_logs/ --case $(DEMO)/case.duckdb
	$(BIN)/ir stats --case $(DEMO)/case.duckdb
	$(BIN)/ir trace --token-file sample_logs/leaked_token.txt --case $(DEMO)/case.duckdb
	$(BIN)/ir trace --token-file sample_logs/leaked_token.txt --case $(DEMO)/case.duckdb --format csv > $(DEMO)/timeline.csv
	@echo "timeline: $(DEMO)/timeline.csv"

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
	rm -rf $(VENV) $(DEMO) *.duckdb .pytest_cache
