# Madhur: `make run` serves the API on the embedded database; `make test` runs the suite.
#
# `make run` installs only what the service needs (Python packages, no npm, no Chromium);
# `make lint` adds the Python dev tools, `make test` the Node tools, the codegen venv and Chromium.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-stamp
DEV_STAMP := $(VENV)/.dev-stamp
WEB_STAMP := web/node_modules/.package-lock.json
ARIADNE := $(VENV)/tools/ariadne-codegen/bin/ariadne-codegen
# uv installs from its cache in seconds where pip takes minutes; a uv on PATH is used as is.
UV := $(VENV)/tools/uv/bin/uv
UV_INSTALL := $(UV) pip install --quiet --python $(BIN)/python

.PHONY: install run test lint format schema bench clean web node chromium wrk assets trusted-documents

install: $(DEV_STAMP) web $(ARIADNE)

$(BIN)/python:
	$(PYTHON) -m venv --without-pip $(VENV)

$(UV): | $(BIN)/python
	@if command -v uv >/dev/null; then mkdir -p $(dir $(UV)) && ln -sf "$$(command -v uv)" $(UV); \
	else $(PYTHON) -m pip install -qq --disable-pip-version-check --target $(VENV)/tools/uv uv; fi

# The service's own dependencies only.
$(RUN_STAMP): pyproject.toml | $(UV)
	$(UV_INSTALL) -e .
	@touch $@

# Plus pytest, ruff, mypy and the stubs (and pip, for `.venv/bin/pip install ...`).
$(DEV_STAMP): pyproject.toml | $(UV)
	$(UV_INSTALL) -e '.[dev]' pip
	@touch $@ $(RUN_STAMP)

# The Node tools the ecosystem tests drive (codegen, tsc, graphql-http, Playwright), at
# web/package-lock.json's versions. GraphiQL's own assets ship in the package.
web: $(WEB_STAMP)

$(WEB_STAMP): web/package.json web/package-lock.json | node
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node:
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm; }

# ariadne-codegen pins graphql-core < 3.3 and Strawberry needs 3.3: it gets its own venv.
$(ARIADNE): | $(UV)
	$(UV) venv --quiet --python $(PYTHON) $(VENV)/tools/ariadne-codegen
	$(UV) pip install --quiet --python $(VENV)/tools/ariadne-codegen/bin/python ariadne-codegen==0.19.0

# Debian's Chromium for the GraphiQL browser test, which is skipped where this fails.
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } || echo "warning: chromium could not be installed: the browser test will be skipped"

# Debian's wrk for bench/wrk_bench.py (throughput against the `{ __typename }` floor).
wrk:
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk; }

bench: install wrk
	$(BIN)/python bench/wrk_bench.py

run: $(RUN_STAMP)
	$(BIN)/madhur-gql serve

test: install chromium
	$(BIN)/python -m pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m tools.schema_check

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: $(RUN_STAMP)
	$(BIN)/madhur-gql export-schema --output schema.graphql

# The manifest MADHUR_TRUSTED_DOCUMENTS may enforce: every file in examples/operations.
trusted-documents: $(RUN_STAMP)
	$(BIN)/python -m tools.trusted_documents

# Re-fetch the files the GraphiQL page and the dashboard load (after a Strawberry upgrade); needs npm.
assets: $(RUN_STAMP) | node
	$(BIN)/python tools/vendor_assets.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
