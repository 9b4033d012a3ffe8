# aimscheck — the two commands of the README: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_AS_OF ?= 2026-11-30

.PHONY: demo test lint typecheck check services-start services-stop clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## demo: install and scan the bundled demo organisation (the scan exits 1: it has gaps)
demo: $(STAMP)
	@echo "== aimscheck scan of the demo organisation (fixtures/demo), as of $(DEMO_AS_OF)"
	@set +e; $(BIN)/aimscheck scan -c fixtures/demo/aimscheck.yaml --as-of $(DEMO_AS_OF) \
	    --format junit -o build/demo/report.xml --format json -o build/demo/findings.json \
	    --format text; rc=$$?; set -e; echo; \
	if [ $$rc -eq 1 ]; then echo "make demo: the scan exited 1, as expected — the demo organisation has deliberate accountability gaps (see 'Who must act' above)."; \
	elif [ $$rc -eq 0 ]; then echo "make demo: the scan passed (exit 0)."; \
	else echo "make demo: the scan exited $$rc (2 = config or rule error, 3 = evidence incomplete)"; exit $$rc; fi; \
	echo "Reports: build/demo/findings.json (JSON), build/demo/report.xml (JUnit)"

## test: install test deps, start the real services, run the whole suite, stop them
test: $(STAMP)
	@bash tests/services/services.sh start
	@set +e; set -a; . ./.services.env; set +a; \
	$(BIN)/python -m pytest -q -p no:cacheprovider; rc=$$?; \
	bash tests/services/services.sh stop; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure"; exit 1; fi; \
	exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

check: lint test

services-start:
	bash tests/services/services.sh start

services-stop:
	bash tests/services/services.sh stop

clean:
	rm -rf $(VENV) build .mypy_cache .ruff_cache .pytest_cache
