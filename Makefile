# The two commands of the README: `make run` and `make test`. Each installs what it needs first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test test-postgres lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

## make run: with SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET set, migrate the SQLite database, sync playbooks/ and
## start the Slack app (Socket Mode with SLACK_APP_TOKEN, else HTTP on $PORT). Without them: `desk sandbox`,
## the real desk against a local Slack with a web console on http://127.0.0.1:$PORT/ (its own sandbox.db).
run: $(VENV)/.installed
	@if [ -n "$$SLACK_BOT_TOKEN" ] && [ -n "$$SLACK_SIGNING_SECRET" ]; then \
	  $(BIN)/desk db upgrade && $(BIN)/desk playbooks sync && $(BIN)/desk status || exit 1; \
	  if [ -n "$$SLACK_APP_TOKEN" ]; then exec $(BIN)/desk serve; \
	  else exec $(BIN)/desk serve --http --port $${PORT:-3000}; fi; \
	else \
	  echo "No Slack credentials (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET): starting the sandbox, a local Slack to try desk in."; \
	  echo "To connect desk to your Slack instead, see docs/slack-setup.md."; \
	  exec $(BIN)/desk sandbox --port $${PORT:-3000} $(SANDBOX_ARGS); \
	fi

## make test: install dev dependencies, lint, run the tests on SQLite (and on PostgreSQL when
## DESK_TEST_DATABASE_URL names a server; .ci/run starts one)
test: $(VENV)/.installed-dev
	$(BIN)/ruff check desk tests bench
	$(BIN)/python -m pytest -q

## make test-postgres: the same suite on a throwaway local PostgreSQL (installed if missing)
test-postgres: $(VENV)/.installed-dev
	bash .ci/postgres.sh run $(BIN)/python -m pytest -q

## make bench: every benchmark beside its baseline (SQLite, and PostgreSQL started as in CI), under 10 minutes;
## writes docs/benchmarks.md. `$(BIN)/python bench/run_all.py --quick` is the one-minute version.
bench: $(VENV)/.installed-dev
	bash .ci/postgres.sh run $(BIN)/python bench/run_all.py --write docs/benchmarks.md

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache .hypothesis
