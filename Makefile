# Madhur: `make run` serves the API on the embedded database; `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
WEB_STAMP := web/node_modules/.package-lock.json
ARIADNE := $(VENV)/tools/ariadne-codegen/bin/ariadne-codegen

.PHONY: install run test lint format schema bench clean web node chromium wrk

install: $(STAMP) web $(ARIADNE)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# GraphiQL's assets (served at /graphiql-assets/) and the Node tools the ecosystem tests
# drive, at web/package-lock.json's versions.
web: $(WEB_STAMP)

$(WEB_STAMP): web/package.json web/package-lock.json | node
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node:
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm; }

# ariadne-codegen pins graphql-core < 3.3 and Strawberry needs 3.3: it gets its own venv.
$(ARIADNE): | $(STAMP)
	$(BIN)/python -m venv $(VENV)/tools/ariadne-codegen
	$(VENV)/tools/ariadne-codegen/bin/pip install --quiet --disable-pip-version-check ariadne-codegen==0.19.0

# Debian's Chromium for the GraphiQL browser test, which is skipped where this fails.
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } || echo "warning: chromium could not be installed: the browser test will be skipped"

# Debian's wrk for bench/wrk_bench.py (throughput against the `{ __typename }` floor).
wrk:
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk; }

bench: install wrk
	$(BIN)/python bench/wrk_bench.py

run: install
	$(BIN)/madhur-gql serve

test: install chromium
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m tools.schema_check

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: install
	$(BIN)/madhur-gql export-schema --output schema.graphql

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
