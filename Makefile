# The two commands of the README. Both work on a fresh clone with python3 >= 3.11.
#   make demo : install, load the seed-facts graph and serve it at http://127.0.0.1:8000
#   make test : install with test extras (+ chromium and the Cypher linter when possible) and run the tests
# Both installs compile the query hot path (make native, graph.native); without a C compiler
# the sources run instead, with the same answers.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DB ?= $(CURDIR)/.demo/graph.lbdb

.PHONY: demo test install install-test native system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@$(MAKE) --no-print-directory native

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	@$(MAKE) --no-print-directory native

# mypyc-compiled copies of the hot query modules into build/native, used while current
native:
	@$(BIN)/python -m graph.native_build || true

# Browser tests need Debian's chromium + chromedriver; the Cypher lint needs the npm package.
# Both are optional: their tests skip with a clear reason when these are missing.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	      || echo "note: could not install chromium; browser tests will skip"; \
	  else echo "note: chromium not installed; browser tests will skip"; fi; fi
	@if [ -f tools/cypher-lint/package.json ] && command -v npm >/dev/null 2>&1; then \
	  npm ci --silent --no-audit --no-fund --prefix tools/cypher-lint \
	    || echo "note: npm ci failed; the Cypher lint test will skip"; fi

demo: install
	$(BIN)/accgraph --db "$(DB)" serve --demo --host 127.0.0.1 --port 8000

test: install-test system-deps
	$(BIN)/python -m pytest
