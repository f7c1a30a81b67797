# Everything a fresh machine needs comes from pyproject.toml through this file.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean browser

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
	$(BIN)/ir hunt --top 8 --case $(DEMO)/case.duckdb
	$(BIN)/ir coverage --case $(DEMO)/case.duckdb
	$(BIN)/ir trace --token-file sample_logs/leaked_token.txt --case $(DEMO)/case.duckdb
	$(BIN)/ir impact --token-file sample_logs/leaked_token.txt --case $(DEMO)/case.duckdb
	$(BIN)/ir timeline --token-file sample_logs/leaked_token.txt --case $(DEMO)/case.duckdb --format csv --out $(DEMO)/timeline.csv
	$(BIN)/ir timeline --token-file sample_logs/leaked_token.txt --case $(DEMO)/case.duckdb --format md --out $(DEMO)/report.md
	$(BIN)/ir timeline --token-file sample_logs/leaked_token.txt --case $(DEMO)/case.duckdb --format html --out $(DEMO)/report.html
	@echo "--- the hijacked Entra session, across sign-ins, M365 audit, Graph activity and directory audit:"
	$(BIN)/ir trace entra_session:d9d016e1-56a6-449c-a1ef-c6d76183a272 --case $(DEMO)/case.duckdb
	$(BIN)/ir timeline --root entra_session:d9d016e1-56a6-449c-a1ef-c6d76183a272 --case $(DEMO)/case.duckdb --format html --out $(DEMO)/entra_report.html
	@echo "timeline (Timesketch CSV): $(DEMO)/timeline.csv; breach reports: $(DEMO)/report.html, $(DEMO)/report.md, $(DEMO)/entra_report.html"

# The HTML report's screenshot test needs a headless browser: Debian's chromium,
# installed when missing and we may (root with apt-get, as CI is); otherwise the
# test skips and says why.
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium (headless browser for the report screenshot test)"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
		|| echo "chromium could not be installed: the screenshot test will skip"; \
	else echo "no chromium and cannot install it (not root or no apt-get): the screenshot test will skip"; fi

test: $(STAMP) browser
	$(BIN)/ruff check ir parsers tests benchmarks
	$(BIN)/ruff format --check ir parsers tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check --fix ir parsers tests benchmarks
	$(BIN)/ruff format ir parsers tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --events 1000000 --events 10000000

clean:
	rm -rf $(VENV) $(DEMO) *.duckdb .pytest_cache
