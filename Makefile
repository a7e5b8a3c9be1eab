# The two commands in the README: `make demo` and `make test`. Both create the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_OUT ?= demo-out

.PHONY: demo test browser lint bench clean

$(BIN)/presswatch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

demo: $(BIN)/presswatch
	$(BIN)/presswatch demo --out $(DEMO_OUT)

test: $(BIN)/presswatch browser
	$(BIN)/python -m pytest -q

# tests/test_briefing_render.py renders the briefing in Debian's headless `chromium`. Install it when it is missing
# (as root, or through password-less sudo). When that is impossible the tests still run and that one FAILS with
# the command to run: a skipped rendering check would look like a passed one.
APT_INSTALL_CHROMIUM := DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium (headless rendering tests)"; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then sh -c '$(APT_INSTALL_CHROMIUM)'; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n sh -c '$(APT_INSTALL_CHROMIUM)'; \
	  fi; \
	  command -v chromium >/dev/null 2>&1 || echo "could not install chromium (needs root and apt-get):" \
	    "tests/test_briefing_render.py will fail" >&2; }

lint: $(BIN)/presswatch
	$(BIN)/ruff check .
	$(BIN)/mypy pipeline crawlers enrich index digest web

bench: $(BIN)/presswatch
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) demo-out test-artifacts presswatch.db presswatch.db-wal presswatch.db-shm
