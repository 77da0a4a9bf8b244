# Two commands for a fresh clone (see README): `make up` starts the whole system, `make test` runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: up test lint lock audit-deps system-deps

# Dependencies come only from the lock file, each checked against its hash; then the project itself.
$(BIN)/ioc: pyproject.toml requirements.lock
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(BIN)/ioc

# Regenerate the lock after a change to pyproject.toml's dependencies (uv is in the dev extra).
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --no-header --annotation-style line -o requirements.lock

# The static security check (ruff's flake8-bandit rules; accepted findings: security/accepted-findings.md).
lint: $(BIN)/ioc
	$(BIN)/ruff check .

# For operators, on a machine that reaches the vulnerability databases (CI cannot): see SECURITY.md.
audit-deps:
	$(BIN)/pip install --quiet pip-audit && $(BIN)/pip-audit -r requirements.lock --require-hashes

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
