# Flightpath — the two commands are `make run` and `make test`; the rest are parts of them.
#
# Everything runs through .venv/bin/... (no activated virtualenv needed). The environment
# is passed through as it is: DATABASE_URL, CELERY_BROKER_URL, DJANGO_* and the rest reach
# manage.py and pytest unchanged. See README.md and docs/settings.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
RUFF   := $(VENV)/bin/ruff
NPM    ?= npm
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-k planning -x"`.
PYTEST_ARGS ?=
# Extra arguments for seed_demo, e.g. `make seed SEED_ARGS="--scale 10 --reset"`.
SEED_ARGS ?=
# The browser the browser tests drive (tests/browser/conftest.py reads the same variable).
export FLIGHTPATH_CHROMIUM ?= /usr/bin/chromium

# Stamp files: pip runs again only when pyproject.toml or constraints.txt change, npm only
# when package.json or package-lock.json change, the copy into static/vendor/ only when
# node_modules or the copy script change.
PIP_STAMP    := $(VENV)/.flightpath-installed
NPM_STAMP    := node_modules/.flightpath-installed
VENDOR_STAMP := static/vendor/.vendored

# System packages (Debian/Ubuntu) are installed only when missing, with apt-get as root,
# or through sudo when there is one. Never a test tool's own browser download.
APT_GET = if [ "$$(id -u)" = 0 ]; then apt=(apt-get); \
	elif command -v sudo >/dev/null; then apt=(sudo apt-get); \
	else echo "error: $(1) is missing; install it (apt-get install $(1)) as root, then run make again" >&2; exit 1; fi; \
	echo "Installing the Debian package(s) $(1) ..."; \
	DEBIAN_FRONTEND=noninteractive "$${apt[@]}" update -qq; \
	DEBIAN_FRONTEND=noninteractive "$${apt[@]}" install -y -qq $(1)

# The first-look targets debug unless the environment says otherwise (an empty or unset
# DJANGO_DEBUG means 1 here); settings.py refuses to start without a secret key otherwise.
DEV_ENV = DJANGO_DEBUG="$${DJANGO_DEBUG:-1}"

.PHONY: help install run seed test lint format check-python clean distclean

help: ## list the targets
	@echo "Flightpath: make run (set up, load the demo bank, serve) and make test (lint, checks, tests)."
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: $(PIP_STAMP) $(VENDOR_STAMP) ## create .venv, install pinned Python and npm packages, vendor assets

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null \
		|| { echo "error: Flightpath needs Python 3.11 or newer as '$(PYTHON)' (make PYTHON=python3.12 ...)" >&2; exit 1; }

$(PY): | check-python
	@if ! $(PYTHON) -m venv $(VENV); then \
		rm -rf $(VENV); \
		$(call APT_GET,python3-venv); \
		$(PYTHON) -m venv $(VENV); \
	fi
	$(PIP) install --quiet --upgrade pip

$(PIP_STAMP): pyproject.toml constraints.txt | $(PY)
	$(PIP) install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	@if ! command -v $(NPM) >/dev/null || ! command -v node >/dev/null; then $(call APT_GET,nodejs npm); fi
	$(NPM) ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

$(VENDOR_STAMP): $(NPM_STAMP) scripts/vendor_assets.py
	$(PYTHON) scripts/vendor_assets.py

run: install ## install, migrate, load the demo bank if empty, serve on http://127.0.0.1:8000 (PORT=...)
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py seed_demo --if-empty
	@echo
	@echo "  Flightpath is starting on http://$(HOST):$(PORT)  (Ctrl-C stops it)"
	@echo
	@echo "  Demo logins (password: flightpath — demo data only, never in production):"
	@echo "    admin            back office (Django admin at /admin/)"
	@echo "    exec1            sales executive"
	@echo "    leader1..leader3 team leaders"
	@echo "    rm1..rm30        relationship managers"
	@echo
	$(DEV_ENV) exec $(PY) manage.py runserver $(HOST):$(PORT)

seed: install ## migrate and load the demo bank (SEED_ARGS="--scale 10 --reset" for more)
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py seed_demo $(SEED_ARGS)

test: install ## ruff, migration check, then the whole pytest suite (browser tests use Debian's chromium)
	@if [ ! -x $(FLIGHTPATH_CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ] || command -v sudo >/dev/null; then $(call APT_GET,chromium); \
		else echo "warning: $(FLIGHTPATH_CHROMIUM) is missing (apt-get install chromium as root); browser tests will fail" >&2; fi; \
	fi
	$(RUFF) check .
	$(RUFF) format --check .
	$(DEV_ENV) $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(PIP_STAMP) ## ruff check and ruff format --check
	$(RUFF) check .
	$(RUFF) format --check .

format: $(PIP_STAMP) ## let ruff fix what it can and format the code
	$(RUFF) check --fix .
	$(RUFF) format .

clean: ## remove generated files (keeps .venv and db.sqlite3)
	rm -rf node_modules static/vendor staticfiles .pytest_cache .ruff_cache test-artifacts *.egg-info
	find . -path ./.venv -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf

distclean: clean ## clean, and remove .venv too (db.sqlite3 stays: it holds your data)
	rm -rf $(VENV)
