# Telemetry: `make run` serves the app on demo data; `make test` runs every test, browser included.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8050
WORKERS ?= 1
THREADS ?= 8
ALERTS_EVERY ?= 300
SCHEDULES_EVERY ?= 60
DATA_DIR := $(or $(TELEMETRY_DATA_DIR),var)
DEMO_USERS ?= 1000
DEMO_DAYS ?= 180
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export TELEMETRY_DATA_DIR := $(DATA_DIR)

.PHONY: run test test-long test-clickhouse clickhouse-fixture lint lock browser-deps pdf-deps poppler-deps axe-deps demo bench clean-data

## uv installs the locks: in a clean clone pip took more than twice as long (one wheel at a time). Bytecode compiled
## at install: PYTHONDONTWRITEBYTECODE=1 here would make every process compile the packages again. uv itself comes
## from its own hashed lock, installed by the venv's pip.
UV := $(BIN)/uv
UV_BOOTSTRAP := $(BIN)/pip install --quiet --disable-pip-version-check --require-hashes
PIP_INSTALL := $(UV) pip install --quiet --require-hashes --compile-bytecode --python $(BIN)/python

$(UV): requirements-uv.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(UV_BOOTSTRAP) -r requirements-uv.lock
	touch $@

## Installs come from the lock files: every package, transitive ones included, at a pinned version and hash.
$(VENV)/.installed: requirements.lock $(UV)
	$(PIP_INSTALL) -r requirements.lock
	touch $@

## The dev lock holds every package of the runtime lock at the same version (tests/test_setup.py checks it), so
## one install of it installs both.
$(VENV)/.installed-dev: requirements-dev.lock requirements.lock $(UV)
	$(PIP_INSTALL) -r requirements-dev.lock
	touch $(VENV)/.installed $@

## The lock files again from requirements*.txt (after changing a pin there), by uv (requirements-uv.lock) in a
## throwaway venv. The dev and bench locks are constrained to the runtime one, so one venv can take them in turn.
LOCK_TOOLS := .tmp/lock-tools
UV_COMPILE = $(LOCK_TOOLS)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 \
	--python-platform x86_64-unknown-linux-gnu --custom-compile-command "make lock" $(LOCK_FLAGS)
lock:
	test -x $(LOCK_TOOLS)/bin/uv || { $(PYTHON) -m venv $(LOCK_TOOLS) && $(LOCK_TOOLS)/bin/pip install --quiet --require-hashes -r requirements-uv.lock; }
	$(UV_COMPILE) requirements-uv.txt -o requirements-uv.lock
	$(UV_COMPILE) requirements.txt -o requirements.lock
	$(UV_COMPILE) requirements-dev.txt -c requirements.lock -o requirements-dev.lock
	$(UV_COMPILE) requirements-bench.txt -c requirements.lock -o requirements-bench.lock

## The demo organization, made once: only when the data folder has no events yet.
demo: $(VENV)/.installed
	@if ls $(DATA_DIR)/events/*/*.parquet >/dev/null 2>&1; then \
		echo "Data found in $(DATA_DIR); not generating the demo organization."; \
	else \
		$(BIN)/flask --app app seed-demo --users $(DEMO_USERS) --days $(DEMO_DAYS) --seed 42; \
	fi
	@$(BIN)/flask --app app rollup --if-stale
	@$(BIN)/flask --app app create-demo-accounts

run: demo pdf-deps
	@echo "Telemetry on http://$(HOST):$(PORT)/telemetry (data: $(DATA_DIR))"
	TELEMETRY_ALERTS_EVERY=$(ALERTS_EVERY) TELEMETRY_SCHEDULES_EVERY=$(SCHEDULES_EVERY) $(BIN)/gunicorn "app:create_app()" --bind $(HOST):$(PORT) --workers $(WORKERS) --threads $(THREADS) --access-logfile -

## Debian's Chromium and ChromeDriver, for the browser tests.
browser-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; else \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

## Debian's fonts for the PDF report (reports/pdf.py): DejaVu Sans, and for what it lacks Droid Sans Fallback
## (Chinese, Japanese, Korean) and Symbola (emoji).
PDF_FONTS := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf /usr/share/fonts-droid-fallback/truetype/DroidSansFallback.ttf \
	/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf
pdf-deps:
	@if ls $(PDF_FONTS) >/dev/null 2>&1; then :; else \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			fonts-dejavu-core fonts-droid-fallback fonts-symbola; \
	fi

## Poppler's pdftoppm and pdftotext, with which the tests draw and read the PDF report.
poppler-deps:
	@if command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null; then :; else \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils; \
	fi

## axe-core for the accessibility tests, from the npm registry at the version and hash in tests/axe/package-lock.json.
axe-deps: tests/axe/node_modules/.installed
tests/axe/node_modules/.installed: tests/axe/package-lock.json
	npm ci --prefix tests/axe --no-audit --no-fund --loglevel=error
	touch $@

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

## The tests' temporary folders (each test's data folder, accounts database and Chromium profile) on /dev/shm when
## it has 2 GiB free: a RAM disk, where the writer's and SQLite's fsyncs cost nothing (1-2 ms each on a disk, some
## 30 a test). Each run has its own folder there, removed after it; elsewhere pytest's own, under /tmp.
TEST_TMP_ROOT := $(shell [ "$$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $$4}')" -ge 2097152 ] 2>/dev/null && echo /dev/shm)
PYTEST := $(if $(TEST_TMP_ROOT),tmp=$$(mktemp -d -p $(TEST_TMP_ROOT) telemetry-tests.XXXXXX) && trap 'rm -rf "$$tmp"' EXIT HUP INT TERM && \
	$(BIN)/python -m pytest --basetemp="$$tmp",$(BIN)/python -m pytest)

## Two workers; `worksteal`: one that runs out of tests takes half of what the other has left. xdist's `load` sent
## a worker a quarter of the suite at a time, and once all the browser tests in one go: the other then sat idle for
## the last 2-3 minutes.
test: $(VENV)/.installed-dev browser-deps pdf-deps poppler-deps axe-deps lint
	unset CLICKHOUSE_URL CLICKHOUSE_PASSWORD TELEMETRY_BACKEND; $(PYTEST) -n 2 --dist worksteal -q

## The long variants of tests that `make test` runs shorter (CI runs both).
test-long: $(VENV)/.installed-dev
	unset CLICKHOUSE_URL CLICKHOUSE_PASSWORD TELEMETRY_BACKEND; $(PYTEST) -n 2 --dist worksteal -q -m long

## tests/test_clickhouse.py on a ClickHouse server rather than chDB: CLICKHOUSE_URL=http(s)://USER:PASSWORD@HOST:PORT
## make test-clickhouse (its long variants too). Its databases are named telemetry_test_* and dropped first; one
## process (they are shared).
test-clickhouse: $(VENV)/.installed-dev
	@if [ -z "$$CLICKHOUSE_URL" ]; then \
		echo "test-clickhouse: set CLICKHOUSE_URL=http(s)://USER:PASSWORD@HOST:PORT, a ClickHouse server's HTTP interface (make test runs these tests on chDB)." >&2; exit 2; \
	else \
		export TELEMETRY_TEST_CLICKHOUSE_URL="$$CLICKHOUSE_URL"; unset CLICKHOUSE_URL; \
		$(PYTEST) -n 0 -q -m "long or not long" tests/test_clickhouse.py; \
	fi

## tests/fixtures/clickhouse_http.json recorded again after a change to the DDL or a question: chDB served over HTTP
## answers, or a real server with CLICKHOUSE_HTTP_UPSTREAM=http(s)://USER:PASSWORD@HOST:PORT.
clickhouse-fixture: $(VENV)/.installed-dev
	CLICKHOUSE_HTTP_RECORD=1 $(BIN)/python -m pytest -n 0 -q tests/test_clickhouse_http.py -k recorded_requests

## Tab response times at about EVENTS demo events (generated once into benchmarks/out/); needs pandas.
EVENTS ?= 1000000
SAMPLES ?= 20
RAW_SAMPLES ?= 5
bench: $(VENV)/.installed
	$(PIP_INSTALL) -r requirements-bench.lock
	$(BIN)/python benchmarks/bench.py --events $(EVENTS) --samples $(SAMPLES) --raw-samples $(RAW_SAMPLES)

## Everything in the data folder goes: events, directory, rollups, accounts, the cookie key, quarantine, caches
## and locks (DRY_RUN=1 lists them). A folder that holds code, the repository, one of its parents, / or the home
## folder is refused: the data folder is only ever data.
clean-data:
	@dir="$$TELEMETRY_DATA_DIR"; \
	refuse() { echo "clean-data: not removing $$dir: $$1. Set DATA_DIR to the data folder." >&2; exit 1; }; \
	[ -n "$$dir" ] || refuse "DATA_DIR is empty"; \
	[ -e "$$dir" ] || { echo "clean-data: $$dir does not exist; nothing to remove."; exit 0; }; \
	[ -d "$$dir" ] || refuse "it is not a folder"; \
	real=$$(realpath -- "$$dir"); \
	[ "$$real" != / ] || refuse "it is /"; \
	[ "$$real" != "$$(realpath -- ~ 2>/dev/null)" ] || refuse "it is the home folder"; \
	case "$$(realpath -- "$(CURDIR)")/" in "$$real"/*) refuse "it holds this repository";; esac; \
	for code in app.py pyproject.toml Makefile .git __init__.py; do \
		[ ! -e "$$real/$$code" ] || refuse "it holds $$code (source code)"; \
	done; \
	! ls "$$real"/*.py >/dev/null 2>&1 || refuse "it holds Python files"; \
	if [ -n "$(DRY_RUN)" ]; then find "$$real" -mindepth 1 -maxdepth 1 -exec echo "would remove" {} \; ; \
	else find "$$real" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} + && echo "Emptied the data folder $$real."; fi
