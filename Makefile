# Two commands for a fresh clone (see README): `make up` starts the whole system, `make test` runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: up test system-deps

$(BIN)/ioc: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/ioc

tests/timescale/node_modules: tests/timescale/package-lock.json
	cd tests/timescale && npm ci --no-audit --no-fund --silent
	touch tests/timescale/node_modules

# Debian packages the tests use: PostgreSQL binaries, Chromium, Node.js (installed when running as root).
system-deps:
	@bash .ci/system-deps

# Options pass through: make up ARGS="--web-port 8060 --speed 60"
up: $(BIN)/ioc
	$(BIN)/ioc up $(ARGS)

test: system-deps $(BIN)/ioc tests/timescale/node_modules
	$(BIN)/python -m pytest $(PYTEST_ARGS)
