# Threadline: `make run` serves on the embedded SQLite default, `make test` runs the whole suite,
# `make cli ARGS="..."` runs any `threadline` command (the same as .venv/bin/threadline ...).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Front-end libraries (Chart.js for /app/reports) from the npm registry, pinned in package-lock.json and served
# from node_modules by the static files (config/settings.py STATICFILES_DIRS).
NODE_STAMP := node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
ARGS ?= help
SYSTEM_DEPS ?= 1

.PHONY: run demo test install system-deps cli doctor lint bench clean distclean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

# `serve` records the URL it answers on in var/public_url, so `make cli` and .venv/bin/threadline run
# beside it print links on $(PORT) (THREADLINE_PUBLIC_URL, when set, wins).
run: install
	$(BIN)/threadline serve --host $(HOST) --port $(PORT)

demo: install
	$(BIN)/threadline serve --host $(HOST) --port $(PORT) --demo

cli: install
	$(BIN)/threadline $(ARGS)

doctor: install
	$(BIN)/threadline doctor

# Dovecot, Chromium, fonts and flufl.bounce's sample bounces (apt, as root or with sudo); SYSTEM_DEPS=0 skips.
system-deps:
	@if [ "$(SYSTEM_DEPS)" != "0" ]; then .ci/system-deps; fi

test: install system-deps
	$(BIN)/python -m pytest -n auto --dist loadgroup -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench

bench: install
	$(BIN)/python bench/ingest.py

# `clean` keeps your data (var/: the database, attachments, the secret key); `distclean` deletes it too.
clean:
	rm -rf $(VENV) node_modules .pytest_cache

distclean: clean
	rm -rf var
