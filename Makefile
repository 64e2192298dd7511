# Telemetry: `make run` serves the app on demo data; `make test` runs every test, browser included.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8050
WORKERS ?= 1
THREADS ?= 8
DATA_DIR := $(or $(TELEMETRY_DATA_DIR),data)
DEMO_USERS ?= 1000
DEMO_DAYS ?= 180
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export TELEMETRY_DATA_DIR := $(DATA_DIR)

.PHONY: run test test-long lint browser-deps demo bench clean-data

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## The demo organization, made once: only when the data folder has no events yet.
demo: $(VENV)/.installed
	@if ls $(DATA_DIR)/events/*/*.parquet >/dev/null 2>&1; then \
		echo "Data found in $(DATA_DIR); not generating the demo organization."; \
	else \
		$(BIN)/flask --app app seed-demo --users $(DEMO_USERS) --days $(DEMO_DAYS) --seed 42; \
	fi
	@$(BIN)/flask --app app rollup --if-stale
	@$(BIN)/flask --app app create-demo-accounts

run: demo
	@echo "Telemetry on http://$(HOST):$(PORT)/telemetry (data: $(DATA_DIR))"
	$(BIN)/gunicorn "app:create_app()" --bind $(HOST):$(PORT) --workers $(WORKERS) --threads $(THREADS) --access-logfile -

## Debian's Chromium and ChromeDriver, for the browser tests.
browser-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; else \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

test: $(VENV)/.installed-dev browser-deps lint
	$(BIN)/python -m pytest -n 2 -q

## The long variants of tests that `make test` runs shorter (CI runs both).
test-long: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n 2 -q -m long

## Tab response times at about EVENTS demo events (generated once into benchmarks/out/); needs pandas.
EVENTS ?= 1000000
SAMPLES ?= 20
RAW_SAMPLES ?= 5
bench: $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(BIN)/python benchmarks/bench.py --events $(EVENTS) --samples $(SAMPLES) --raw-samples $(RAW_SAMPLES)

clean-data:
	rm -rf $(DATA_DIR)/events $(DATA_DIR)/directory $(DATA_DIR)/rollups $(DATA_DIR)/telemetry.sqlite* $(DATA_DIR)/.secret_key
