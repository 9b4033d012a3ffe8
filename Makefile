# aimscheck — the two commands of the README: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_AS_OF ?= 2026-11-30

.PHONY: demo test lint typecheck check services-start services-stop clean system-deps screenshot bench bench-startup

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)

# pip's notes about unreachable local package mirrors are noise here; real errors still show.
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "== installing aimscheck and its development tools into $(VENV)"
	@PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet -e '.[dev]' 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
	@touch $(STAMP)

DEMO_PREVIOUS ?= 2026-10-31
DEMO_HISTORY := sqlite:///$(CURDIR)/build/demo/history.sqlite

## demo: install and scan the bundled demo organisation (the scan exits 1: it has gaps)
demo: $(STAMP) system-deps
	@mkdir -p build/demo && rm -f build/demo/history.sqlite
	@echo "== last month's scan ($(DEMO_PREVIOUS)), recorded in build/demo/history.sqlite"
	@$(BIN)/aimscheck scan -c fixtures/demo/aimscheck.yaml --as-of $(DEMO_PREVIOUS) --quiet \
	    --record --history-url $(DEMO_HISTORY) -f json -o build/demo/findings-$(DEMO_PREVIOUS).json \
	    || [ $$? -eq 1 ]
	@# --quiet: the text report already ends with the summary line, which stderr would repeat
	@echo "== aimscheck scan of the demo organisation (fixtures/demo), as of $(DEMO_AS_OF)"
	@set +e; $(BIN)/aimscheck scan -c fixtures/demo/aimscheck.yaml --as-of $(DEMO_AS_OF) \
	    --record --history-url $(DEMO_HISTORY) \
	    --format junit -o build/demo/report.xml --format json -o build/demo/findings.json \
	    --format html -o build/demo/report.html \
	    --format text --quiet; rc=$$?; set -e; echo; \
	if [ $$rc -eq 1 ]; then echo "make demo: the scan exited 1, as expected — the demo organisation has deliberate accountability gaps (see 'Who must act' above)."; \
	elif [ $$rc -eq 0 ]; then echo "make demo: the scan passed (exit 0)."; \
	else echo "make demo: the scan exited $$rc (2 = config or rule error, 3 = evidence incomplete)"; exit $$rc; fi; \
	echo "Reports: build/demo/report.html (HTML self-assessment), build/demo/findings.json (JSON), build/demo/report.xml (JUnit)"
	@$(BIN)/aimscheck soa -c fixtures/demo/aimscheck.yaml --as-of $(DEMO_AS_OF) \
	    -f html -o build/demo/soa.html -f csv -o build/demo/soa.csv
	@$(BIN)/aimscheck review -c fixtures/demo/aimscheck.yaml --as-of $(DEMO_AS_OF) \
	    --history-url $(DEMO_HISTORY) -f html -o build/demo/review.html
	@for page in report soa review; do \
	  tmp=$$(mktemp -d); chromium --headless --no-sandbox --disable-gpu --no-first-run \
	    --disable-background-networking --disable-component-update --disable-sync \
	    --user-data-dir=$$tmp --no-pdf-header-footer --print-to-pdf=build/demo/$$page.pdf \
	    "file://$(CURDIR)/build/demo/$$page.html" >/dev/null 2>&1; rc=$$?; rm -rf $$tmp; \
	  [ $$rc -eq 0 ] || { echo "make demo: printing $$page.pdf with chromium failed"; exit 1; }; \
	done
	@echo "Certification pack: build/demo/soa.html, build/demo/soa.csv (Statement of Applicability), build/demo/report.pdf, build/demo/soa.pdf"
	@echo "Management review (9.3): build/demo/review.html, build/demo/review.pdf (trends from the scans recorded in build/demo/history.sqlite)"

## test: install test deps, start the real services, run the whole suite, stop them
test: $(STAMP) system-deps
	@bash tests/services/services.sh start
	@bash tests/services/postgres.sh start
	@set +e; set -a; . ./.services.env; set +a; \
	$(BIN)/python -m pytest -q -p no:cacheprovider; rc=$$?; \
	bash tests/services/postgres.sh stop; \
	bash tests/services/services.sh stop; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure"; exit 1; fi; \
	exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

check: lint test

## system-deps: Debian's chromium for the HTML report tests (installed only when missing)
system-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y chromium; \
	fi

## screenshot: regenerate docs/img/report.png from the demo organisation's HTML report
screenshot: $(STAMP) system-deps
	@mkdir -p build/demo docs/img
	@$(BIN)/aimscheck report -c fixtures/demo/aimscheck.yaml --as-of $(DEMO_AS_OF) \
	    --format html -o build/demo/report.html || [ $$? -eq 1 ]
	@tmp=$$(mktemp -d); chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	    --disable-background-networking --disable-component-update --disable-sync \
	    --no-first-run --user-data-dir=$$tmp --window-size=1200,1500 \
	    --screenshot=docs/img/report.png "file://$(CURDIR)/build/demo/report.html" \
	    >/dev/null 2>&1; rc=$$?; rm -rf $$tmp; exit $$rc
	@echo "wrote docs/img/report.png"

## bench: scale benchmark (1k/10k/100k employees): scan wall/RSS by phase, JSON and JUnit sizes,
## ratios to the indexed-Python floor, OPA (regopy, its own venv), the gate from a pulled
## snapshot, start-up CPU, scaling exponents; figures under benchmarks/results/. Never part of
## `make test`. Smaller: make bench BENCH_ARGS="--sizes 1000,10000 --gate-sizes 10000".
BENCH_VENV := .venv-bench
BENCH_ARGS ?=
$(BENCH_VENV)/.installed:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet 'regopy>=1.5.2'
	@touch $@

bench: $(STAMP) $(BENCH_VENV)/.installed
	$(BIN)/python benchmarks/bench.py --opa-python $(BENCH_VENV)/bin/python $(BENCH_ARGS)

## bench-startup: CPU and import time of `aimscheck --help` & co (budget 0.25 s for --help)
bench-startup: $(STAMP)
	$(BIN)/python benchmarks/startup.py

services-start:
	bash tests/services/services.sh start

services-stop:
	bash tests/services/services.sh stop

clean:
	rm -rf $(VENV) $(BENCH_VENV) build .mypy_cache .ruff_cache .pytest_cache
