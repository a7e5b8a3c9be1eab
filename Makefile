# The two commands in the README: `make demo` and `make test`. Both create the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_OUT ?= demo-out

.PHONY: demo test lint bench clean

$(BIN)/presswatch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

demo: $(BIN)/presswatch
	$(BIN)/presswatch demo --out $(DEMO_OUT)

test: $(BIN)/presswatch
	$(BIN)/python -m pytest -q

lint: $(BIN)/presswatch
	$(BIN)/ruff check .
	$(BIN)/mypy pipeline crawlers enrich index digest

bench: $(BIN)/presswatch
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) demo-out presswatch.db presswatch.db-wal presswatch.db-shm
