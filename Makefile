# The two commands of the README: `make run` and `make test`. Each installs what it needs first, exactly
# as locked in requirements/*.txt (versions and hashes; `make lock` refreshes them from pyproject.toml).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LOCK_CHECK := $(PYTHON) requirements/lock.py check
INSTALL_LOCKED := $(BIN)/pip install --quiet --require-hashes --no-deps -r
INSTALL_DESK := $(BIN)/pip install --quiet --no-deps --no-build-isolation -e .

.PHONY: run test test-postgres lint bench clean lock sbom licences

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml requirements/runtime.txt | $(BIN)/python
	$(LOCK_CHECK)
	$(INSTALL_LOCKED) requirements/runtime.txt
	$(INSTALL_DESK)
	touch $@

$(VENV)/.installed-dev: pyproject.toml requirements/dev.txt | $(BIN)/python
	$(LOCK_CHECK)
	$(INSTALL_LOCKED) requirements/dev.txt
	$(INSTALL_DESK)
	touch $@ $(VENV)/.installed

## make run: with SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP) set, migrate the
## SQLite database, sync playbooks/ and start the Slack app: Socket Mode with SLACK_APP_TOKEN (and /healthz, /metrics,
## the council API and report pages on $PORT), else HTTP on $PORT. Without them: `desk sandbox`, the real desk
## against a local Slack with a web console on http://127.0.0.1:$PORT/ (its own sandbox.db).
run: $(VENV)/.installed
	@if [ -n "$$SLACK_BOT_TOKEN" ] && { [ -n "$$SLACK_APP_TOKEN" ] || [ -n "$$SLACK_SIGNING_SECRET" ]; }; then \
	  $(BIN)/desk db upgrade && $(BIN)/desk playbooks sync && $(BIN)/desk status || exit 1; \
	  if [ -n "$$SLACK_APP_TOKEN" ]; then exec $(BIN)/desk serve --port $${PORT:-3000}; \
	  else exec $(BIN)/desk serve --http --port $${PORT:-3000}; fi; \
	else \
	  echo "No Slack credentials (SLACK_BOT_TOKEN with SLACK_APP_TOKEN or SLACK_SIGNING_SECRET): starting the sandbox, a local Slack to try desk in."; \
	  echo "To connect desk to your Slack instead, see docs/slack-setup.md."; \
	  exec $(BIN)/desk sandbox --port $${PORT:-3000} $(SANDBOX_ARGS); \
	fi

## make test: install dev dependencies, lint, run the tests on SQLite (and on PostgreSQL when
## DESK_TEST_DATABASE_URL names a server; .ci/run starts one)
test: $(VENV)/.installed-dev
	$(LOCK_CHECK)
	$(BIN)/ruff check desk tests bench
	$(BIN)/python -m pytest -q

## make test-postgres: the same suite on a throwaway local PostgreSQL (installed if missing)
test-postgres: $(VENV)/.installed-dev
	bash .ci/postgres.sh run $(BIN)/python -m pytest -q

## make bench: every benchmark beside its baseline (SQLite, and PostgreSQL started as in CI), 10-15 minutes;
## writes docs/benchmarks.md. `$(BIN)/python bench/run_all.py --quick` is the one-minute version.
bench: $(VENV)/.installed-dev
	bash .ci/postgres.sh run $(BIN)/python bench/run_all.py --write docs/benchmarks.md

## make lock: resolve pyproject.toml's dependencies again (newest allowed versions, from PyPI) into
## requirements/runtime.txt and requirements/dev.txt with hashes. Run it after changing any dependency
## (`$(BIN)/python requirements/lock.py lock --keep` resolves only what is new, keeping every other pin).
lock: | $(BIN)/python
	$(BIN)/pip install --quiet 'pip-tools>=7.4'
	$(BIN)/python requirements/lock.py lock

## make sbom: a CycloneDX SBOM of the runtime lock (docs/supply-chain/sbom.cdx.json)
sbom: $(VENV)/.installed-dev
	$(BIN)/python requirements/supply_chain.py sbom docs/supply-chain/sbom.cdx.json

## make licences: every locked package's licence (docs/supply-chain/licences.md); fails on one not OSI-approved
licences: $(VENV)/.installed-dev
	$(BIN)/python requirements/supply_chain.py licences docs/supply-chain/licences.md

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache .hypothesis
